//! The `oversight` command: a thin layer that parses arguments and calls the library.

mod bench;
mod bench_evaluation;
mod bench_history;
mod bench_hotline;
mod bench_photos;
mod bench_tasks;
mod soak;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use oversight_app::exchange::{TextEncoding, Upload};
use oversight_app::network::ImportReport;
use std::io::IsTerminal;

use oversight_app::{Actor, App, AppError, Config, accounts, calendar, cases, demo, network};
use oversight_domain::access::KeyPurposes;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "oversight", version, about = "效能监察平台：政务服务效能电子监察、效能投诉、督察督办与绩效考评")]
struct Cli {
    /// Database: sqlite://PATH (created when missing) or postgres://…; default: the embedded
    /// SQLite database in the data directory.
    #[arg(long, global = true, env = "OVERSIGHT_DATABASE_URL")]
    db: Option<String>,
    /// How log lines are written on standard error: `text` for people, `json` (one object a
    /// line) for a log collector.
    #[arg(long, global = true, env = "OVERSIGHT_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web interface and the API.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080, or `listen` in the configuration).
        #[arg(long)]
        listen: Option<String>,
        /// Load the Haikou demo network into an empty database first.
        #[arg(long)]
        demo: bool,
    },
    /// Apply the database migrations (also done by every other command).
    Migrate,
    /// Import an exchange file (docs/exchange.md).
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Reports (JSON per docs/figures.md).
    Report {
        #[command(subcommand)]
        what: ReportWhat,
    },
    /// Performance evaluation (docs/evaluation.md).
    Evaluation {
        #[command(subcommand)]
        what: EvaluationWhat,
    },
    /// The official working-day calendar.
    Calendar {
        #[command(subcommand)]
        what: CalendarWhat,
    },
    /// User accounts.
    User {
        #[command(subcommand)]
        what: UserWhat,
    },
    /// API keys for department systems and Open311 clients.
    ApiKey {
        #[command(subcommand)]
        what: ApiKeyWhat,
    },
    /// A consistent copy of the SQLite database while the server runs (on PostgreSQL: use
    /// pg_dump). Restore: stop the server and put the copy in the database file's place.
    Backup {
        /// The file to write; it must not exist yet.
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        what: AuditWhat,
    },
    /// Benchmarks at province scale, printing figures (docs/performance.md). Uses a new SQLite
    /// file in a temporary directory unless `--db` names an empty database.
    Bench {
        /// Cases imported from a file (about 5 events each).
        #[arg(long, default_value_t = 100_000)]
        import_cases: u64,
        /// Cases sent over HTTP.
        #[arg(long, default_value_t = 20_000)]
        http_cases: u64,
        /// Open cases for the monitor and the dashboard.
        #[arg(long, default_value_t = 1_000_000)]
        open_cases: u64,
        /// Settled cases for the report.
        #[arg(long, default_value_t = 10_000_000)]
        report_cases: u64,
        /// Hotline orders created through each of the JSON API and Open311.
        #[arg(long, default_value_t = 20_000)]
        api_orders: u64,
        /// Legacy hotline orders imported from a file.
        #[arg(long, default_value_t = 200_000)]
        import_orders: u64,
        /// Hotline orders of the year the KPI report runs over (Beijing: about 20M).
        #[arg(long, default_value_t = 20_000_000)]
        year_orders: u64,
        /// Key tasks imported from a file (about ten events each).
        #[arg(long, default_value_t = 100_000)]
        tasks: u64,
        /// Only the key tasks' figures (import, report, monitor).
        #[arg(long)]
        tasks_only: bool,
        /// Only the ratings report over `--report-cases` completed cases.
        #[arg(long)]
        ratings_only: bool,
        /// Only inspectors' photos: a camera's JPEG uploaded alone and four at once.
        #[arg(long)]
        photos_only: bool,
        /// Only the evaluation over `--report-cases` settled cases: a year's run by the command,
        /// publication, and a draft scheme beside the published result.
        #[arg(long)]
        evaluation_only: bool,
        /// Cases of a year's archive loaded by `import case-events --historical` as a new
        /// process (about 5.8 events each), beside a plain script storing the same rows.
        #[arg(long, default_value_t = 150_000)]
        history_cases: u64,
        /// Only the historical import and its floor.
        #[arg(long)]
        history_only: bool,
        /// Instead of the figures above: the server under a steady mixed load (case events,
        /// orders through the API and Open311, page views) for this many minutes, its memory
        /// and errors printed each minute.
        #[arg(long, default_value_t = 0)]
        soak_minutes: u64,
    },
}

#[derive(Subcommand)]
enum ImportWhat {
    /// Organisations CSV or XLSX: code,parent_code,kind,name (applied whole or not at all).
    Orgs(ImportArgs),
    /// Service items CSV or XLSX: code,name,department_code,legal_days,promised_days,fee_cents.
    Items(ImportArgs),
    /// Case events NDJSON (docs/exchange.md §3): each event answered on its own.
    CaseEvents {
        file: PathBuf,
        /// The file is history being loaded: each event is judged as reported when it happened
        /// (no late-report anomaly), and only cases still open afterwards raise alerts.
        #[arg(long)]
        historical: bool,
        /// Output: text (default) or json.
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// Key-task events NDJSON (docs/exchange.md §5): each event answered on its own.
    TaskEvents {
        file: PathBuf,
        /// Output: text (default) or json.
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// Legacy work orders NDJSON (docs/exchange.md §4): each order answered on its own; a
    /// ticket_no already stored is a duplicate.
    Tickets {
        file: PathBuf,
        /// Output: text (default) or json.
        #[arg(long, default_value = "text")]
        format: String,
    },
}

#[derive(Subcommand)]
enum EvaluationWhat {
    /// Runs a scheme (TOML) over a period and prints every department's points, rank and tier.
    Run {
        #[arg(long)]
        scheme: PathBuf,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        /// Only json is defined.
        #[arg(long, default_value = "json")]
        format: String,
    },
}

#[derive(Subcommand)]
enum ReportWhat {
    /// The overdue-rate report of approval cases (docs/figures.md).
    Cases {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        /// Levels to keep, e.g. city,district.
        #[arg(long, default_value = "")]
        level: String,
        /// level, venue, department or item.
        #[arg(long = "group-by", default_value = "")]
        group_by: String,
        /// Only json is defined.
        #[arg(long, default_value = "json")]
        format: String,
    },
    /// Citizens' ratings of the cases completed in the period (docs/figures.md).
    Ratings {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        /// venue, department, item or window (a department's windows at a venue: key VENUE/DEPARTMENT).
        #[arg(long = "group-by", default_value = "")]
        group_by: String,
        /// Only json is defined.
        #[arg(long, default_value = "json")]
        format: String,
    },
    /// Key tasks as of the period's last day (docs/figures.md).
    Tasks {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        /// lead_department or origin.
        #[arg(long = "group-by", default_value = "")]
        group_by: String,
        /// Only json is defined.
        #[arg(long, default_value = "json")]
        format: String,
    },
    /// The hotline's work-order KPIs (docs/figures.md).
    Tickets {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        /// type, channel or department.
        #[arg(long = "group-by", default_value = "")]
        group_by: String,
        /// Only json is defined.
        #[arg(long, default_value = "json")]
        format: String,
    },
}

#[derive(clap::Args)]
struct ImportArgs {
    file: PathBuf,
    /// Text encoding of a CSV file: auto (default), utf-8, gb18030, gbk.
    #[arg(long, default_value = "auto")]
    encoding: String,
    /// Output: text (default) or json.
    #[arg(long, default_value = "text")]
    format: String,
}

#[derive(Subcommand)]
enum CalendarWhat {
    /// Print the deadline date of N working days starting at TIMESTAMP (RFC 3339 with offset).
    Deadline {
        #[arg(long)]
        start: String,
        #[arg(long)]
        days: u32,
    },
    /// Print a year's schedule as stored.
    Show {
        #[arg(long)]
        year: i32,
    },
    /// Add or correct a year from a file in the schedule format (see data/calendar/).
    Set {
        #[arg(long)]
        year: i32,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum UserWhat {
    /// Create a user with one role bound to an org unit; prints a generated password if none is given.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        /// admin, supervisor, liaison, window_staff, operator, inspector, leader
        #[arg(long)]
        role: String,
        /// The org unit whose subtree the role covers (e.g. 460100, 460105, 460100-D01).
        #[arg(long)]
        org: String,
        #[arg(long, env = "OVERSIGHT_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Set a user's password (prints a generated one if none is given).
    Password {
        #[arg(long)]
        username: String,
        #[arg(long, env = "OVERSIGHT_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

#[derive(Subcommand)]
enum ApiKeyWhat {
    /// Create a key; it is printed once and stored hashed.
    Create {
        #[arg(long)]
        name: String,
        /// The org unit whose subtree the key may see (default: the whole city).
        #[arg(long)]
        scope: Option<String>,
        /// What the key is for, comma-separated: case_events, task_events, orders, open311,
        /// reports (default: all of them).
        #[arg(long)]
        purpose: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditWhat {
    /// Check the hash chain; reports the first broken link.
    Verify,
}

/// The counts and rejections of an import, as docs/exchange.md asks.
fn print_counts(accepted: usize, duplicate: usize, rejected: &[oversight_domain::RowError]) {
    println!("accepted: {accepted}");
    println!("duplicate: {duplicate}");
    println!("rejected: {}", rejected.len());
    for e in rejected {
        println!("  {e}");
    }
}

fn print_report(report: &ImportReport, format: &str) -> Result<ExitCode> {
    if format == "json" {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        print_counts(report.accepted, report.duplicate, &report.rejected);
        if !report.applied() {
            println!("文件未导入（整个文件要么全部导入，要么不导入）");
        }
    }
    Ok(if report.unreadable { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

async fn run(cli: Cli) -> Result<ExitCode> {
    if let Command::Bench {
        import_cases,
        http_cases,
        open_cases,
        report_cases,
        api_orders,
        import_orders,
        year_orders,
        tasks,
        tasks_only,
        ratings_only,
        photos_only,
        evaluation_only,
        history_cases,
        history_only,
        soak_minutes,
    } = cli.command
    {
        let dir = tempfile::tempdir()?;
        let url = cli.db.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
        if soak_minutes > 0 {
            soak::run(url, soak_minutes).await?;
            return Ok(ExitCode::SUCCESS);
        }
        let hotline = bench_hotline::HotlineArgs { api_orders, import_orders, year_orders };
        let args = bench::BenchArgs {
            import_cases,
            http_cases,
            open_cases,
            report_cases,
            hotline,
            tasks,
            tasks_only,
            ratings_only,
            photos_only,
            evaluation_only,
            history_cases,
            history_only,
        };
        bench::run(url, args).await?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut config = Config::load().context("reading the configuration")?;
    if let Some(db) = cli.db {
        config.database_url = Some(db);
    }
    let listen_default = config.listen.clone();
    // A server says at start what it runs with; a command prints its answer and nothing else.
    if matches!(cli.command, Command::Serve { .. }) {
        tracing::info!(config = ?config, "configuration");
    } else {
        tracing::debug!(config = ?config, "configuration");
    }
    let app = App::open(config).await.context("opening the database")?;
    match cli.command {
        Command::Migrate => {
            println!("migrations applied");
        }
        Command::Serve { listen, demo } => serve(app, listen.unwrap_or(listen_default), demo).await?,
        Command::Import { what } => return import(&app, what).await,
        Command::Report { what } => report(&app, what).await?,
        Command::Calendar { what } => match what {
            CalendarWhat::Deadline { start, days } => {
                println!("{}", calendar::deadline(&app, &start, days).await?);
            }
            CalendarWhat::Show { year } => match oversight_store::calendar::year(&app.db, year).await? {
                Some(y) => print!("{}", y.body),
                None => bail!("{year} 年的节假日安排尚未录入"),
            },
            CalendarWhat::Set { year, file } => {
                let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
                let schedule = calendar::set_year(&app, &Actor::cli(), year, &text).await?;
                println!("{year} 年已保存：{} 条安排", schedule.entries.len());
            }
        },
        Command::User { what } => match what {
            UserWhat::Create { username, name, role, org, password } => {
                let (password, shown) = match password {
                    Some(p) => (p, false),
                    None => (accounts::random_password(), true),
                };
                let new = accounts::NewUser {
                    username: &username,
                    display_name: &name,
                    password: &password,
                    role: &role,
                    org_code: &org,
                };
                let user = accounts::create_user(&app, &Actor::cli(), new).await?;
                println!("用户 {} 已创建", user.username);
                if shown {
                    println!("初始密码：{password}");
                }
            }
            UserWhat::Password { username, password } => {
                let user = oversight_store::access::user_by_name(&app.db, &username)
                    .await?
                    .with_context(|| format!("用户 {username} 不存在"))?;
                let (password, shown) = match password {
                    Some(p) => (p, false),
                    None => (accounts::random_password(), true),
                };
                accounts::set_password(&app, &Actor::cli(), &user.id, &password).await?;
                println!("用户 {username} 的密码已重设");
                if shown {
                    println!("新密码：{password}");
                }
            }
        },
        Command::ApiKey { what: ApiKeyWhat::Create { name, scope, purpose } } => {
            let purposes = match purpose {
                Some(words) => KeyPurposes::parse(&words).map_err(|e| AppError::field("purpose", e))?,
                None => KeyPurposes::all(),
            };
            let (key, secret) =
                accounts::create_api_key(&app, &Actor::cli(), &name, scope.as_deref(), &purposes).await?;
            println!(
                "API 密钥“{}”（范围 {}，用途：{}）已创建，只显示这一次：",
                key.name,
                key.org_code,
                purposes.labels()
            );
            println!("{secret}");
        }
        Command::Bench { .. } => unreachable!("handled before the database is opened"),
        Command::Evaluation { what: EvaluationWhat::Run { scheme, from, to, format } } => {
            json_only(&format)?;
            let text = std::fs::read_to_string(&scheme).with_context(|| format!("cannot read {}", scheme.display()))?;
            let scheme = oversight_app::evaluation::parse_scheme(&text)?;
            let result = oversight_app::evaluation::run(
                &app,
                &Actor::cli(),
                &scheme,
                cases::parse_date(&from, "from")?,
                cases::parse_date(&to, "to")?,
            )
            .await?;
            println!("{}", serde_json::to_string_pretty(&result)?);
        }
        Command::Backup { to } => {
            if to.exists() {
                bail!("{} exists already: a backup never overwrites a file", to.display());
            }
            match oversight_store::backup(&app.db, &to).await.context("writing the backup")? {
                oversight_store::Backup::Written => println!("已备份到 {}", to.display()),
                oversight_store::Backup::UsePgDump => {
                    println!(
                        "PostgreSQL 数据库请用 pg_dump 备份（如 pg_dump -Fc -f oversight.dump 数据库名），用 pg_restore 恢复。"
                    );
                    return Ok(ExitCode::from(2));
                }
            }
        }
        Command::Audit { what: AuditWhat::Verify } => {
            let report = oversight_app::accounts::verify_audit(&app, &Actor::cli()).await?;
            match report.first_break {
                None => println!("审计日志完整：{} 条记录，哈希链无断裂", report.rows),
                Some(b) => {
                    println!("审计日志哈希链断裂：{b}");
                    return Ok(ExitCode::from(1));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `serve`: the demo loaded first when asked and the database is empty, then the server and its
/// jobs until Ctrl-C.
async fn serve(app: App, listen: String, load_demo: bool) -> Result<()> {
    if load_demo {
        if demo::is_empty(&app).await? {
            let loaded = demo::load_all(&app).await?;
            println!(
                "已载入海口演示网络（1 个市政务服务中心、4 个区政务服务中心、41 个便民服务中心、407 个代办点）：近 {} 天逐日报送的 {} 件办件（{} 件差评整改）和 {} 件效能投诉工单，此前两年档案中的 {} 件办件和 {} 件工单，{} 项督办任务、{} 次联席会议、{} 轮明察暗访及其通报，去年已发布的绩效考评结果（一件申诉成立）和今年的考评方案草案。",
                demo::LIVE_DAYS,
                loaded.cases,
                loaded.follow_ups,
                loaded.orders,
                loaded.history_cases,
                loaded.history_orders,
                loaded.tasks,
                loaded.meetings,
                loaded.rounds
            );
            let accounts = loaded.accounts;
            println!("演示账号（密码只显示这一次）：");
            for a in &accounts {
                println!("  {:<10} {:<22} {}（{}）", a.username, a.password, a.role.label(), a.display_name);
            }
        } else {
            println!("数据库中已有服务网络，未重复载入演示数据。");
        }
    }
    // The monitor, the hotline watch and the outbox run beside the server; with several
    // instances their leases pick one.
    let application =
        oversight_web::Application::build(app, &listen).await.with_context(|| format!("listening on {listen}"))?;
    println!("Oversight 已启动：http://{}", application.local_addr());
    application.run_until(shutdown_signal()).await?;
    Ok(())
}

/// Ctrl-C, or SIGTERM as systemd and container runtimes send it: either stops the server
/// gracefully (requests in flight answered, jobs' leases let go).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(e) => {
                tracing::warn!(error = %e, "SIGTERM cannot be caught; only Ctrl-C stops the server gracefully");
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `import …`: the network and the catalogue (whole files), case events (streamed), legacy
/// orders and task events.
async fn import(app: &App, what: ImportWhat) -> Result<ExitCode> {
    match what {
        ImportWhat::CaseEvents { file, historical, format } => {
            // The file is streamed, never held: a first pass counts its lines (for the progress
            // bar) and refuses it whole if a line is not UTF-8, the second feeds the ingestion.
            let total = count_utf8_lines(&file)?;
            let terminal = std::io::stderr().is_terminal();
            let reporting = if historical { cases::Reporting::Historical } else { cases::Reporting::Live };
            let opened =
                tokio::fs::File::open(&file).await.with_context(|| format!("cannot read {}", file.display()))?;
            let reader = tokio::io::BufReader::with_capacity(1 << 20, opened);
            let lines = futures_util::stream::unfold(
                (tokio::io::AsyncBufReadExt::lines(reader), 0),
                |(mut lines, n)| async move {
                    match lines.next_line().await {
                        Ok(Some(line)) => Some((Ok((n + 1, line)), (lines, n + 1))),
                        Ok(None) => None,
                        Err(e) => Some((Err(AppError::internal("reading the events file failed", e)), (lines, n + 1))),
                    }
                },
            );
            let report = cases::ingest_stream(&app, &Actor::cli(), reporting, Box::pin(lines), |done| {
                if terminal {
                    eprint!("\r{done}/{total} 行");
                }
            })
            .await?;
            if terminal {
                eprintln!();
            }
            if format == "json" {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_counts(report.accepted, report.duplicate, &report.rejected);
            }
        }
        ImportWhat::Tickets { file, format } => {
            let text = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let text = String::from_utf8(text).with_context(|| format!("{} is not UTF-8", file.display()))?;
            let lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
            let report = oversight_app::tickets::import_tickets(&app, &Actor::cli(), lines).await?;
            if format == "json" {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_counts(report.accepted, report.duplicate, &report.rejected);
            }
        }
        ImportWhat::TaskEvents { file, format } => {
            // Streamed like case events: refused whole if a line is not UTF-8, then read a
            // line at a time (the ingestion holds one chunk of them).
            count_utf8_lines(&file)?;
            let opened = std::fs::File::open(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let lines = std::io::BufRead::lines(std::io::BufReader::with_capacity(1 << 20, opened))
                .map_while(Result::ok)
                .enumerate()
                .map(|(i, l)| (i + 1, l));
            let report = oversight_app::tasks::ingest(&app, &Actor::cli(), lines).await?;
            if format == "json" {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_counts(report.accepted, report.duplicate, &report.rejected);
            }
        }
        ImportWhat::Orgs(args) => return import_table(app, args, false).await,
        ImportWhat::Items(args) => return import_table(app, args, true).await,
    }
    Ok(ExitCode::SUCCESS)
}

/// `import orgs|items`: a table applied whole or not at all.
async fn import_table(app: &App, args: ImportArgs, items: bool) -> Result<ExitCode> {
    let bytes = std::fs::read(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let name = args.file.file_name().map_or("file".into(), |n| n.to_string_lossy().to_string());
    let upload = Upload { name: &name, bytes: &bytes, encoding: TextEncoding::parse(&args.encoding)? };
    let cli_actor = Actor::cli();
    let report = if items {
        network::import_items(&app, &cli_actor, &upload).await?
    } else {
        network::import_orgs(&app, &cli_actor, &upload).await?
    };
    print_report(&report, &args.format)
}

/// `report …`: the figures of a period, as JSON.
async fn report(app: &App, what: ReportWhat) -> Result<()> {
    match what {
        ReportWhat::Cases { from, to, level, group_by, format } => {
            json_only(&format)?;
            let report = cases::case_report(
                &app,
                &Actor::cli(),
                cases::parse_date(&from, "from")?,
                cases::parse_date(&to, "to")?,
                &cases::parse_levels(&level)?,
                cases::parse_group_by(&group_by)?,
            )
            .await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        ReportWhat::Tickets { from, to, group_by, format } => {
            json_only(&format)?;
            let report = oversight_app::tickets::ticket_report(
                &app,
                &Actor::cli(),
                cases::parse_date(&from, "from")?,
                cases::parse_date(&to, "to")?,
                oversight_app::tickets::parse_group_by(&group_by)?,
            )
            .await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        ReportWhat::Ratings { from, to, group_by, format } => {
            json_only(&format)?;
            let report = oversight_app::ratings::rating_report(
                &app,
                &Actor::cli(),
                cases::parse_date(&from, "from")?,
                cases::parse_date(&to, "to")?,
                oversight_app::ratings::parse_group_by(&group_by)?,
            )
            .await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        ReportWhat::Tasks { from, to, group_by, format } => {
            json_only(&format)?;
            let report = oversight_app::tasks::task_report(
                &app,
                &Actor::cli(),
                cases::parse_date(&from, "from")?,
                cases::parse_date(&to, "to")?,
                oversight_app::tasks::parse_group_by(&group_by)?,
            )
            .await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
    }
    Ok(())
}

/// Reports print JSON, the only format the exchange formats define.
fn json_only(format: &str) -> anyhow::Result<()> {
    if format != "json" {
        bail!("--format: only json is supported");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The server logs one line per request (`oversight::request`) and its configuration at
    // start; a command logs nothing but warnings: it prints its answer.
    let filter = tracing_subscriber::EnvFilter::try_from_env("OVERSIGHT_LOG")
        .unwrap_or_else(|_| "warn,oversight=info,oversight_app=info,oversight_web=info".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if cli.log_format == "json" {
        logs.json().flatten_event(true).init();
    } else {
        logs.init();
    }
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("错误：{e:#}");
            ExitCode::from(2)
        }
    }
}

/// The lines of a file, read a megabyte at a time; an error names the first line that is not
/// UTF-8 (the file is then refused whole, before anything is applied).
fn count_utf8_lines(file: &std::path::Path) -> Result<usize> {
    use std::io::BufRead;
    let opened = std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, opened);
    let mut line = Vec::new();
    let mut n = 0;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).with_context(|| format!("cannot read {}", file.display()))? == 0 {
            return Ok(n);
        }
        n += 1;
        if std::str::from_utf8(&line).is_err() {
            bail!("{}: line {n} is not UTF-8", file.display());
        }
    }
}

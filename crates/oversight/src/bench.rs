//! `oversight bench`: a province-scale load on the real use cases, printing figures (never
//! asserting them). See docs/performance.md for what each figure means and the last results.
//!
//! 1. file import: NDJSON of generated case lives, through the same `ingest` as the CLI;
//! 2. HTTP ingestion: the same kind of events POSTed to `/api/v1/case-events` with an API key;
//! 3. the monitor: open cases whose signals change on one day, handled by one monitor pass;
//! 4. the overdue-rate report over many settled cases;
//! 5. the hotline: orders through the API and Open311, a legacy import, KPIs over a year
//!    (bench_hotline.rs);
//! 6. key tasks: an import by the real command, the tasks report as of past days, the monitor
//!    (bench_tasks.rs);
//! 7. peak memory of the process (VmHWM).

use std::io::Write as _;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::{Days, NaiveDate, TimeZone, Utc};
use oversight_app::{Actor, App, ManualClock, accounts, cases, demo, supervision};
use oversight_domain::org::OrgKind;
use oversight_store::Db;
use serde_json::json;

pub struct BenchArgs {
    pub import_cases: u64,
    pub http_cases: u64,
    pub open_cases: u64,
    pub report_cases: u64,
    pub hotline: crate::bench_hotline::HotlineArgs,
    /// Key tasks imported (about ten events each).
    pub tasks: u64,
    /// Only the key tasks' figures.
    pub tasks_only: bool,
    /// Only the ratings report over `report_cases` completed cases.
    pub ratings_only: bool,
    /// Only inspectors' photos.
    pub photos_only: bool,
    /// Only the evaluation over `report_cases` settled cases.
    pub evaluation_only: bool,
    /// Cases of the archive loaded by a historical import (about 5.8 events each).
    pub history_cases: u64,
    /// Only the historical import and its floor.
    pub history_only: bool,
}

/// A small deterministic generator: the same load on every run.
pub(crate) struct Lcg(pub(crate) u64);

impl Lcg {
    pub(crate) fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

/// A memory figure (`VmRSS:`, `VmHWM:`) of a `/proc/PID/status` text, in MB.
pub(crate) fn status_mb(status: &str, field: &str) -> f64 {
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

pub(crate) fn own_mb(field: &str) -> f64 {
    status_mb(&std::fs::read_to_string("/proc/self/status").unwrap_or_default(), field)
}

/// The events of `n` case lives starting at case number `from`: received, accepted, an internal
/// step, a supplement round trip for some, a forwarding for cases from agent points, completed.
pub(crate) fn generate(
    app_venues: &[(String, OrgKind, Option<String>)],
    items: &[(String, u32)],
    from: u64,
    n: u64,
) -> Vec<String> {
    let mut rng = Lcg(from + 2025);
    let mut lines = Vec::with_capacity(n as usize * 5);
    let start = NaiveDate::from_ymd_opt(2025, 1, 2).unwrap_or_default();
    for k in from..from + n {
        let (venue, kind, centre) = &app_venues[rng.next(app_venues.len() as u64) as usize];
        let (item, days) = &items[rng.next(items.len() as u64) as usize];
        let day = start + Days::new(rng.next(330));
        let case_no = format!("B{k:09}");
        let at = |d: NaiveDate, h: u32| format!("{d}T{h:02}:{:02}:00+08:00", (k % 60));
        let mut push = |n: u32, body: serde_json::Value| {
            let mut v = body;
            v["event_id"] = json!(format!("{case_no}-{n}"));
            v["case_no"] = json!(case_no);
            lines.push(v.to_string());
        };
        push(
            1,
            json!({"type": "received", "at": at(day, 9), "item_code": item, "venue_code": venue,
            "applicant": {"kind": "person", "name": "申请人"}}),
        );
        let mut d = day;
        if *kind == OrgKind::AgentPoint
            && let Some(c) = centre
        {
            push(2, json!({"type": "forwarded", "at": at(day, 11), "to_venue_code": c}));
            d = d + Days::new(1);
        }
        push(3, json!({"type": "accepted", "at": at(d, 10)}));
        if rng.next(5) == 0 {
            push(4, json!({"type": "supplement_requested", "at": at(d + Days::new(1), 10)}));
            push(5, json!({"type": "supplement_received", "at": at(d + Days::new(4), 10)}));
        }
        push(6, json!({"type": "step", "at": at(d + Days::new(1), 15), "name": "审核"}));
        let end = d + Days::new(rng.next(*days as u64 * 2 + 2));
        push(7, json!({"type": "completed", "at": at(end, 16), "result": "approved"}));
    }
    lines
}

async fn network(app: &App) -> Result<(Vec<(String, OrgKind, Option<String>)>, Vec<(String, u32)>)> {
    let units = oversight_store::network::all_units(&app.db).await?;
    let centre_of = |code: &str| -> Option<String> {
        // An agent point forwards to the venue of its village's town.
        let unit = units.iter().find(|u| u.code.as_str() == code)?;
        let village = unit.parent.as_ref()?;
        let town = units.iter().find(|u| &u.code == village)?.parent.clone()?;
        units
            .iter()
            .find(|u| u.parent.as_ref() == Some(&town) && u.kind.is_venue())
            .map(|u| u.code.as_str().to_string())
    };
    let venues = units
        .iter()
        .filter(|u| u.kind.is_venue())
        .map(|u| {
            let centre = if u.kind == OrgKind::AgentPoint { centre_of(u.code.as_str()) } else { None };
            (u.code.as_str().to_string(), u.kind, centre)
        })
        .collect();
    let items = oversight_store::network::catalogue(&app.db, &oversight_domain::access::Scope::All, None, None)
        .await?
        .into_iter()
        .map(|e| (e.item.code.as_str().to_string(), e.item.promised_days as u32))
        .collect();
    Ok((venues, items))
}

pub(crate) fn rate(n: u64, secs: f64) -> String {
    format!("{:.0}", n as f64 / secs.max(1e-9))
}

pub async fn run(url: String, args: BenchArgs) -> Result<()> {
    let mut config = oversight_app::Config { database_url: Some(url.clone()), ..Default::default() };
    // The generated lives are history, imported at the end of the year: late-report checks
    // would flag every event and turn the import into an alert benchmark.
    config.supervision.late_report_hours = None;
    let base = App::open(config).await.context("opening the benchmark database")?;
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2025, 12, 31, 10, 0, 0).single().unwrap_or_else(Utc::now));
    let app = base.with_clock(clock.clone());
    println!("oversight bench on {} ({})", oversight_app::config::redact_url(&url), backend_name(&app.db));
    if demo::is_empty(&app).await? {
        demo::load(&app).await?;
    }
    let (venues, items) = network(&app).await?;
    println!("network: {} venues, {} items", venues.len(), items.len());
    if args.history_only {
        return crate::bench_history::run(&venues, &items, args.history_cases).await;
    }
    if args.tasks_only {
        return crate::bench_tasks::run(&app, &url, &clock, args.tasks).await;
    }
    if args.photos_only {
        return crate::bench_photos::run(&app, &url).await;
    }
    if args.evaluation_only {
        let t = Instant::now();
        bulk_settled_cases(&app.db, args.report_cases).await?;
        oversight_store::cases::rebuild_tally(&app.db).await?;
        println!("settled cases:    {} generated in {:.1} s", args.report_cases, t.elapsed().as_secs_f64());
        return crate::bench_evaluation::run(&app, &url).await;
    }
    if args.ratings_only {
        let t = Instant::now();
        bulk_settled_cases(&app.db, args.report_cases).await?;
        oversight_store::cases::rebuild_tally(&app.db).await?;
        println!("completed cases:  {} generated in {:.1} s", args.report_cases, t.elapsed().as_secs_f64());
        return rating_figures(&app, &url).await;
    }

    // 1. File import.
    let lines = generate(&venues, &items, 0, args.import_cases);
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("events.ndjson");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&file)?);
        for l in &lines {
            writeln!(f, "{l}")?;
        }
    }
    let events = lines.len() as u64;
    drop(lines);
    let t = Instant::now();
    let text = std::fs::read_to_string(&file)?;
    let report = cases::ingest(&app, &Actor::cli(), text.lines().enumerate().map(|(i, l)| (i + 1, l)), |_| {}).await?;
    let secs = t.elapsed().as_secs_f64();
    drop(text);
    println!(
        "file import:      {events} events of {} cases in {secs:.2} s = {} events/s (accepted {}, rejected {})",
        args.import_cases,
        rate(events, secs),
        report.accepted,
        report.rejected.len()
    );

    // 1b. An archive loaded by the real command, beside the plain-store floor.
    crate::bench_history::run(&venues, &items, args.history_cases).await?;

    // 2. HTTP ingestion through the real server.
    let (_, secret) =
        accounts::create_api_key(&app, &Actor::cli(), "压测系统", None, &oversight_domain::access::KeyPurposes::all())
            .await?;
    // The monitor is measured on its own below, so the server runs without its jobs here.
    let running = oversight_web::Application::build(app.clone(), "127.0.0.1:0").await?.without_jobs().spawn();
    let addr = running.local_addr();
    let lines = generate(&venues, &items, 10_000_000, args.http_cases);
    let events = lines.len() as u64;
    let batches: Vec<String> = lines.chunks(5000).map(|c| c.join("\n")).collect();
    drop(lines);
    let client = reqwest::Client::new();
    let t = Instant::now();
    let secret = Arc::new(secret);
    let mut accepted = 0u64;
    let mut first_rejection = None;
    // Two department systems sending at once.
    for pair in batches.chunks(2) {
        let sends = pair.iter().map(|body| {
            client
                .post(format!("http://{addr}/api/v1/case-events"))
                .header("authorization", format!("Bearer {secret}"))
                .header("content-type", "application/x-ndjson")
                .body(body.clone())
                .send()
        });
        for res in futures_join(sends).await {
            let answer: serde_json::Value = res?.json().await?;
            accepted += answer["accepted"].as_u64().unwrap_or(0);
            if let Some(first) = answer["rejected"].as_array().and_then(|r| r.first()) {
                first_rejection.get_or_insert_with(|| first.to_string());
            }
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "HTTP ingestion:   {events} events of {} cases in {secs:.2} s = {} events/s (accepted {accepted})",
        args.http_cases,
        rate(events, secs)
    );
    if let Some(r) = first_rejection {
        println!("                  first rejection: {r}");
    }

    // 3. The monitor over many open cases, a twentieth of which change on the day.
    let t = Instant::now();
    bulk_open_cases(&app.db, args.open_cases).await?;
    println!("open cases:       {} generated in {:.1} s", args.open_cases, t.elapsed().as_secs_f64());
    clock.set(Utc.with_ymd_and_hms(2026, 3, 2, 0, 30, 0).single().unwrap_or_else(Utc::now));
    let t = Instant::now();
    let pass = supervision::monitor_pass(&app, "bench").await?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "monitor:          one day's changes: {} due, {} changed colour, {} alerts in {secs:.2} s ({} cases/s)",
        pass.due,
        pass.changed,
        pass.alerts,
        rate(pass.due as u64, secs)
    );
    let t = Instant::now();
    let idle = supervision::monitor_pass(&app, "bench").await?;
    println!("monitor (idle):   {} due in {:.1} ms", idle.due, t.elapsed().as_secs_f64() * 1000.0);
    let t = Instant::now();
    let dash = supervision::dashboard(&app, &Actor::cli()).await?;
    println!(
        "dashboard:        {} open cases counted in {:.0} ms; memory now {:.0} MB",
        dash.total.open(),
        t.elapsed().as_secs_f64() * 1000.0,
        own_mb("VmRSS:")
    );

    // The server alone, as an office runs it, over those open cases: its memory after the
    // dashboard and a report were asked for.
    match server_memory(&url, &secret).await {
        Ok((rss, peak)) => {
            println!("server process:   {rss:.0} MB resident, {peak:.0} MB peak after dashboard and report")
        }
        Err(e) => println!("server process:   not measured ({e})"),
    }

    // 4. The report over many settled cases.
    let t = Instant::now();
    bulk_settled_cases(&app.db, args.report_cases).await?;
    oversight_store::cases::rebuild_tally(&app.db).await?;
    println!("settled cases:    {} generated in {:.1} s", args.report_cases, t.elapsed().as_secs_f64());
    let from = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default();
    let to = NaiveDate::from_ymd_opt(2024, 12, 31).unwrap_or_default();
    for (label, group) in [
        ("total", None),
        ("by level", Some(oversight_store::cases::GroupBy::Level)),
        ("by venue", Some(oversight_store::cases::GroupBy::Venue)),
        ("by item", Some(oversight_store::cases::GroupBy::Item)),
    ] {
        let mut times = Vec::new();
        let mut settled = 0;
        for _ in 0..3 {
            let t = Instant::now();
            let r = cases::case_report(&app, &Actor::cli(), from, to, &[], group).await?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            settled = r.total.settled;
        }
        times.sort_by(f64::total_cmp);
        println!("report {label:<9} a year, {settled} settled: median {:.1} ms", times[1]);
    }
    let q1 = (
        NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default(),
        NaiveDate::from_ymd_opt(2024, 3, 31).unwrap_or_default(),
    );
    let t = Instant::now();
    let r = cases::case_report(&app, &Actor::cli(), q1.0, q1.1, &[], None).await?;
    println!("report Q1 total:  {} settled in {:.1} ms", r.total.settled, t.elapsed().as_secs_f64() * 1000.0);
    // Parts of months at both ends are counted from the cases themselves.
    let odd = (
        NaiveDate::from_ymd_opt(2024, 1, 15).unwrap_or_default(),
        NaiveDate::from_ymd_opt(2024, 6, 20).unwrap_or_default(),
    );
    let t = Instant::now();
    let r = cases::case_report(&app, &Actor::cli(), odd.0, odd.1, &[], Some(oversight_store::cases::GroupBy::Venue))
        .await?;
    println!(
        "report 01-15..06-20 by venue: {} settled in {:.0} ms (17 + 20 days from the daily tallies)",
        r.total.settled,
        t.elapsed().as_secs_f64() * 1000.0
    );

    rating_figures(&app, &url).await?;
    crate::bench_evaluation::run(&app, &url).await?;

    // 5. The hotline.
    crate::bench_hotline::run(&app, addr, &secret, &args.hotline).await?;
    match server_memory(&url, &secret).await {
        Ok((rss, peak)) => {
            println!("server process:   {rss:.0} MB resident, {peak:.0} MB peak with the hotline's year")
        }
        Err(e) => println!("server process:   not measured ({e})"),
    }

    running.stop().await?;
    crate::bench_photos::run(&app, &url).await?;

    // 6. Key tasks.
    crate::bench_tasks::run(&app, &url, &clock, args.tasks).await?;
    println!("peak memory:      {:.0} MB (whole process, generated data included)", own_mb("VmHWM:"));
    Ok(())
}

fn backend_name(db: &Db) -> &'static str {
    match db.backend() {
        oversight_store::Backend::Sqlite => "SQLite",
        oversight_store::Backend::Postgres => "PostgreSQL",
    }
}

async fn futures_join<F: Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<F> = futures.collect();
    let mut out = Vec::with_capacity(handles.len());
    // Two at a time at most: poll them together.
    let mut iter = handles.into_iter();
    match (iter.next(), iter.next()) {
        (Some(a), Some(b)) => {
            let (x, y) = tokio::join!(a, b);
            out.push(x);
            out.push(y);
        }
        (Some(a), None) => out.push(a.await),
        _ => {}
    }
    out
}

/// Open accepted cases straight into the projection, generated by the database itself:
/// deadlines spread over 20 days from 2026-03-02, so a twentieth turns yellow or red each day.
async fn bulk_open_cases(db: &Db, n: u64) -> Result<()> {
    let sql = match db.backend() {
        oversight_store::Backend::Sqlite => format!(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n})
             INSERT INTO case_record (case_no, status, item_code, department_code, venue_code, level, path, received_on,
               accepted_on, deadline, limit_days, stopped_days, outcome, outcome_date, anomalies, updated_at,
               department_path, time_signal, yellow_on, red_on, plan_target, signal_due)
             SELECT 'OPEN' || i, 'accepted', 'SX001', '460100-D01', '460100-V', 1, '/460100/460100-V/', '2026-02-01',
               '2026-02-01', date('2026-03-01', '+' || (i % 20) || ' days'), 10, 0, 'running',
               date('2026-03-01', '+' || (i % 20) || ' days'), 0, '2026-02-01T00:00:00+00:00',
               '/460100/460100-D01/', 'green', date('2026-03-01', '+' || (i % 20) || ' days'),
               date('2026-03-02', '+' || (i % 20) || ' days'), 'decision',
               strftime('%Y-%m-%dT%H:%M:%S+00:00', date('2026-03-01', '+' || (i % 20) || ' days'), '-8 hours')
             FROM s"
        ),
        oversight_store::Backend::Postgres => format!(
            "INSERT INTO case_record (case_no, status, item_code, department_code, venue_code, level, path, received_on,
               accepted_on, deadline, limit_days, stopped_days, outcome, outcome_date, anomalies, updated_at,
               department_path, time_signal, yellow_on, red_on, plan_target, signal_due)
             SELECT 'OPEN' || i, 'accepted', 'SX001', '460100-D01', '460100-V', 1, '/460100/460100-V/', DATE '2026-02-01',
               DATE '2026-02-01', DATE '2026-03-01' + (i % 20), 10, 0, 'running', DATE '2026-03-01' + (i % 20), 0,
               now(), '/460100/460100-D01/', 'green', DATE '2026-03-01' + (i % 20), DATE '2026-03-02' + (i % 20),
               'decision', (DATE '2026-03-01' + (i % 20))::timestamp AT TIME ZONE 'Asia/Shanghai'
             FROM generate_series(1, {n}) AS i"
        ),
    };
    oversight_store::execute_raw(db, &sql).await?;
    Ok(())
}

/// The ratings report over the completed cases of `bulk_settled_cases` (three in four rated):
/// a year, a quarter and odd dates, in each grouping, then the command as a user runs it.
async fn rating_figures(app: &App, url: &str) -> Result<()> {
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    for (label, group) in [
        ("total", None),
        ("by venue", Some(oversight_store::cases::GroupBy::Venue)),
        ("by dept", Some(oversight_store::cases::GroupBy::Department)),
        ("by item", Some(oversight_store::cases::GroupBy::Item)),
    ] {
        for (from, to) in [(day(2024, 1, 1), day(2024, 12, 31)), (day(2024, 1, 15), day(2024, 6, 20))] {
            let mut times = Vec::new();
            let mut counts = (0, 0);
            for _ in 0..3 {
                let t = Instant::now();
                let r = oversight_app::ratings::rating_report(app, &Actor::cli(), from, to, group).await?;
                times.push(t.elapsed().as_secs_f64() * 1000.0);
                counts = (r.total.counts.completed, r.total.counts.rated);
            }
            times.sort_by(f64::total_cmp);
            println!(
                "ratings {label:<9} {from}..{to}, {} completed, {} rated: median {:.1} ms",
                counts.0, counts.1, times[1]
            );
        }
    }
    let t = Instant::now();
    let out = std::process::Command::new(std::env::current_exe()?)
        .args(["--db", url, "report", "ratings", "--from", "2024-01-01", "--to", "2024-12-31", "--group-by", "venue"])
        .env("OVERSIGHT_LOG", "warn")
        .output()?;
    anyhow::ensure!(out.status.success(), "oversight report ratings: {}", String::from_utf8_lossy(&out.stderr));
    println!(
        "ratings report by `oversight report ratings` a year by venue (process start included): {:.0} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}

/// Settled cases over 2023–2025 across the venues and items, generated by the database, each
/// completed on its settlement day, three in four rated the next day.
async fn bulk_settled_cases(db: &Db, n: u64) -> Result<()> {
    let sql = match db.backend() {
        oversight_store::Backend::Sqlite => format!(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n})
             INSERT INTO case_record (case_no, status, item_code, department_code, venue_code, level, path, received_on,
               accepted_on, deadline, limit_days, stopped_days, outcome, outcome_date, anomalies, updated_at,
               department_path, plan_target, ended_on, rating_level, rating_default, rated_on)
             SELECT 'SET' || i, 'approved', 'SX' || printf('%03d', 1 + i % 40), '460100-D' || printf('%02d', 1 + i % 20),
               CASE i % 5 WHEN 0 THEN '460100-V' ELSE '4601' || printf('%02d', 5 + i % 4) || '-V' END,
               CASE i % 5 WHEN 0 THEN 1 ELSE 2 END,
               CASE i % 5 WHEN 0 THEN '/460100/460100-V/' ELSE '/460100/4601' || printf('%02d', 5 + i % 4) || '/' END,
               date('2023-01-01', '+' || (i % 1095) || ' days'), date('2023-01-01', '+' || (i % 1095) || ' days'),
               date('2023-01-01', '+' || (i % 1095) || ' days'), 10, 0,
               CASE WHEN i % 17 = 0 THEN 'overdue' ELSE 'on_time' END,
               date('2023-01-01', '+' || (i % 1095) || ' days'), 0, '2026-01-01T00:00:00+00:00',
               '/460100/460100-D' || printf('%02d', 1 + i % 20) || '/', 'decision',
               date('2023-01-01', '+' || (i % 1095) || ' days'),
               CASE WHEN i % 4 = 0 THEN NULL ELSE 1 + (i * 7) % 5 END, i % 13 = 0,
               CASE WHEN i % 4 = 0 THEN NULL ELSE date('2023-01-01', '+' || (1 + i % 1095) || ' days') END
             FROM s"
        ),
        oversight_store::Backend::Postgres => format!(
            "INSERT INTO case_record (case_no, status, item_code, department_code, venue_code, level, path, received_on,
               accepted_on, deadline, limit_days, stopped_days, outcome, outcome_date, anomalies, updated_at,
               department_path, plan_target, ended_on, rating_level, rating_default, rated_on)
             SELECT 'SET' || i, 'approved', 'SX' || lpad((1 + i % 40)::text, 3, '0'),
               '460100-D' || lpad((1 + i % 20)::text, 2, '0'),
               CASE i % 5 WHEN 0 THEN '460100-V' ELSE '4601' || lpad((5 + i % 4)::text, 2, '0') || '-V' END,
               CASE i % 5 WHEN 0 THEN 1 ELSE 2 END,
               CASE i % 5 WHEN 0 THEN '/460100/460100-V/' ELSE '/460100/4601' || lpad((5 + i % 4)::text, 2, '0') || '/' END,
               DATE '2023-01-01' + (i % 1095), DATE '2023-01-01' + (i % 1095), DATE '2023-01-01' + (i % 1095), 10, 0,
               CASE WHEN i % 17 = 0 THEN 'overdue' ELSE 'on_time' END, DATE '2023-01-01' + (i % 1095), 0, now(),
               '/460100/460100-D' || lpad((1 + i % 20)::text, 2, '0') || '/', 'decision',
               DATE '2023-01-01' + (i % 1095),
               CASE WHEN i % 4 = 0 THEN NULL ELSE 1 + (i * 7) % 5 END, i % 13 = 0,
               CASE WHEN i % 4 = 0 THEN NULL ELSE DATE '2023-01-01' + (1 + i % 1095) END
             FROM generate_series(1, {n}) AS i"
        ),
    };
    oversight_store::execute_raw(db, &sql).await?;
    Ok(())
}

/// `oversight serve` on a benchmark database, as a child process that is stopped when dropped.
pub(crate) struct ServerProcess {
    child: std::process::Child,
    pub pid: u32,
    pub base: String,
}

impl ServerProcess {
    /// Starts the server on a free port and waits (up to 20 s) until it answers `/healthz`;
    /// its warnings go to `stderr` when `warnings` is set.
    pub(crate) async fn start(url: &str, warnings: bool) -> Result<ServerProcess> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let stderr = if warnings { std::process::Stdio::inherit() } else { std::process::Stdio::null() };
        let child = std::process::Command::new(std::env::current_exe()?)
            .args(["serve", "--db", url, "--listen", &format!("127.0.0.1:{port}")])
            .env("OVERSIGHT_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(stderr)
            .spawn()?;
        let server = ServerProcess { pid: child.id(), child, base: format!("http://127.0.0.1:{port}") };
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if client.get(format!("{}/healthz", server.base)).send().await.is_ok_and(|r| r.status().is_success()) {
                return Ok(server);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        anyhow::bail!("the server did not start")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `oversight serve` on the benchmark database as a child process, asks it for the
/// dashboard and a report over the API, and reads its memory (VmRSS, VmHWM) in MB.
async fn server_memory(url: &str, secret: &str) -> Result<(f64, f64)> {
    let server = ServerProcess::start(url, false).await?;
    let (pid, base) = (server.pid, &server.base);
    let client = reqwest::Client::new();
    let result = async {
        for path in [
            "/api/v1/dashboard",
            "/api/v1/reports/cases?from=2025-01-01&to=2025-12-31&group_by=venue",
            "/api/v1/reports/tickets?from=2025-01-01&to=2025-12-31&group_by=department",
        ] {
            let res = client.get(format!("{base}{path}")).bearer_auth(secret).send().await?;
            anyhow::ensure!(res.status().is_success(), "{path}: {}", res.status());
            res.bytes().await?;
        }
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        Ok((status_mb(&status, "VmRSS:"), status_mb(&status, "VmHWM:")))
    }
    .await;
    drop(server);
    result
}

//! The Haikou demo network (2011): the city, 4 districts, 41 towns and streets, 407 villages
//! and communities with their venues, the departments, a catalogue of 40 items, windows and
//! staff, and one account per role. Loaded through the same imports a real office uses.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use oversight_domain::access::Role;
use oversight_domain::org::{OrgKind, OrgUnit};
use oversight_store::audit::{self, NewAudit};
use oversight_store::network as store;
use serde_json::json;

use crate::accounts::{self, NewUser};
use crate::exchange::{TextEncoding, Upload};
use crate::network::{self, ImportReport};
use crate::{Actor, App, AppError, cases, new_id};

pub const ORGS_CSV: &[u8] = include_bytes!("../../../data/demo/haikou-orgs.csv");
pub const ITEMS_CSV: &[u8] = include_bytes!("../../../data/demo/haikou-items.csv");

/// A demo account and its password (printed once, when the demo is loaded).
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub username: String,
    pub password: String,
    pub role: Role,
    pub org_code: String,
    pub display_name: String,
}

/// The accounts of the demo: one per role, and a district supervisor to show scoping.
const ACCOUNTS: [(&str, &str, Role, &str); 9] = [
    ("admin", "系统管理员", Role::Admin, "460100"),
    ("xiaoneng", "市效能办 王督查", Role::Supervisor, "460100"),
    ("xiuying", "秀英区效能办 陈督查", Role::Supervisor, "460105"),
    ("fgw", "市发改委联络员 李明", Role::Liaison, "460100-D01"),
    ("chuangkou", "市政务服务中心 林窗口", Role::WindowStaff, "460100-V"),
    ("rexian", "963333 热线 吴话务", Role::Operator, "460100"),
    ("jiancha", "特邀监察员 符监察", Role::Inspector, "460100"),
    ("lingdao", "市领导 周领导", Role::Leader, "460100"),
    ("lhadmin", "龙华区系统管理员", Role::Admin, "460106"),
];

const SURNAMES: [&str; 12] = ["王", "李", "陈", "林", "吴", "符", "黄", "张", "周", "郑", "冯", "邢"];
const GIVEN: [&str; 12] =
    ["海燕", "志强", "丽娟", "建华", "晓明", "秀英", "国平", "春梅", "文博", "小琴", "永福", "雅婷"];

/// The demo's generator: a small linear congruential one, so every demo is the same.
struct Lcg(u64);

impl Lcg {
    /// A number in `0..n` (0 when `n` is 0).
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

fn demo_password(username: &str) -> String {
    let mut buf = [0u8; 6];
    rand::fill(&mut buf[..]);
    format!("{username}-{}", hex::encode(buf))
}

/// Whether the database holds no network yet (the demo only loads into an empty one).
pub async fn is_empty(app: &App) -> Result<bool, AppError> {
    Ok(store::root(&app.db).await?.is_none())
}

/// Loads the demo into an empty database; returns the accounts with their passwords.
pub async fn load(app: &App) -> Result<Vec<DemoAccount>, AppError> {
    if !is_empty(app).await? {
        return Err(AppError::Conflict("数据库中已有服务网络，演示数据只载入空数据库".into()));
    }
    let cli = Actor::cli();
    let check = |what: &str, r: ImportReport| -> Result<(), AppError> {
        if r.applied() {
            Ok(())
        } else {
            Err(AppError::Conflict(format!("演示{what}数据有误：{:?}", r.rejected)))
        }
    };
    let orgs = Upload { name: "haikou-orgs.csv", bytes: ORGS_CSV, encoding: TextEncoding::Auto };
    check("网络", network::import_orgs(app, &cli, &orgs).await?)?;
    let items = Upload { name: "haikou-items.csv", bytes: ITEMS_CSV, encoding: TextEncoding::Auto };
    check("事项", network::import_items(app, &cli, &items).await?)?;
    add_windows_and_staff(app).await?;
    let mut accounts = Vec::new();
    for (username, display_name, role, org_code) in ACCOUNTS {
        let password = demo_password(username);
        accounts::create_user(
            app,
            &cli,
            NewUser { username, display_name, password: &password, role: role.as_str(), org_code },
        )
        .await?;
        accounts.push(DemoAccount {
            username: username.into(),
            password,
            role,
            org_code: org_code.into(),
            display_name: display_name.into(),
        });
    }
    Ok(accounts)
}

/// Every department gets a window in its jurisdiction's centre, with two members of staff.
async fn add_windows_and_staff(app: &App) -> Result<(), AppError> {
    let units = store::all_units(&app.db).await?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut windows = 0;
    let mut n = 0usize;
    for dept in units.iter().filter(|u| u.kind == OrgKind::Department) {
        let Some(parent) = &dept.parent else { continue };
        let Some(venue) = units.iter().find(|u| u.parent.as_ref() == Some(parent) && u.kind.is_venue()) else {
            continue;
        };
        let short = dept.name.trim_start_matches("市").trim_start_matches("秀英区").trim_start_matches("龙华区");
        let short = short.trim_start_matches("琼山区").trim_start_matches("美兰区");
        let window_id = new_id();
        store::insert_window(&mut tx, &window_id, venue, dept.code.as_str(), &format!("{short}窗口"), now).await?;
        windows += 1;
        for position in ["窗口负责人", "窗口工作人员"] {
            let name = format!("{}{}", SURNAMES[n % SURNAMES.len()], GIVEN[(n / SURNAMES.len() + n) % GIVEN.len()]);
            n += 1;
            store::insert_staff(&mut tx, &new_id(), dept, Some(&window_id), &name, position, now).await?;
        }
    }
    audit::append(
        &mut tx,
        NewAudit {
            actor: "cli",
            action: "demo.load",
            target: "haikou",
            path: "/",
            detail: json!({ "windows": windows, "staff": n }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A month of approval cases up to today, reported day by day as the department systems
/// would, so that the dashboard, the alerts and the report have something to show: most cases
/// settled on time, some late, some open and nearing or past their deadline, a few anomalies.
/// Returns the number of cases.
pub async fn load_cases(app: &App, days: u32, per_day: u32) -> Result<usize, AppError> {
    let today = app.today();
    let first = today - chrono::Days::new(days as u64);
    let (by_day, cases) = plan_cases(app, (first, today), per_day, 0x2011, Ending::SomeOpen).await?;
    let tz = app.config.tz();
    let clock = crate::ManualClock::new(app.now());
    let at_day = app.with_clock(clock.clone());
    // Each day's events are reported that evening, as the department systems would.
    for (d, lines) in by_day {
        let evening = d.and_hms_opt(18, 0, 0).unwrap_or_default();
        let Some(at) = tz.from_local_datetime(&evening).earliest() else { continue };
        clock.set(at.with_timezone(&Utc));
        cases::ingest(&at_day, &Actor::cli(), lines.iter().enumerate().map(|(i, l)| (i + 1, l.as_str())), |_| {})
            .await?;
        // The monitor watched that day too, so alerts carry the day they were raised.
        crate::supervision::monitor_pass(&at_day, "demo").await?;
    }
    Ok(cases)
}

/// The cases of the days `from..until` before the demo's live month, every one settled, loaded
/// as a city connecting its departments' archives would: one historical import (no late-report
/// alerts for closed cases). Gives the report's comparison with last year, the trends and last
/// year's evaluation their records. Returns the number of cases.
pub async fn load_case_history(app: &App, from: NaiveDate, until: NaiveDate, per_day: u32) -> Result<usize, AppError> {
    let (by_day, cases) = plan_cases(app, (from, until), per_day, 0x2010, Ending::AllSettled).await?;
    let lines: Vec<String> = by_day.into_values().flatten().collect();
    let report = cases::ingest_as(
        app,
        &Actor::cli(),
        cases::Reporting::Historical,
        lines.iter().enumerate().map(|(i, l)| (i + 1, l.as_str())),
        |_| {},
    )
    .await?;
    if let Some(r) = report.rejected.first() {
        return Err(AppError::fault(format!("演示历史办件有误：{r:?}")));
    }
    Ok(cases)
}

/// How the cases of a demo span end.
#[derive(Clone, Copy, PartialEq)]
enum Ending {
    /// As a live month: the newest may still be open, nearing or past their deadline.
    SomeOpen,
    /// As an archive: every case settled (on time or late) before the span ends.
    AllSettled,
}

/// The events of `per_day` cases on every working day of `span` (end excluded), by the day
/// each event happens. Settlements and ratings fall before today, wherever the span ends.
async fn plan_cases(
    app: &App,
    span: (NaiveDate, NaiveDate),
    per_day: u32,
    seed: u64,
    ending: Ending,
) -> Result<(BTreeMap<NaiveDate, Vec<String>>, usize), AppError> {
    let units = store::all_units(&app.db).await?;
    let venues: Vec<&OrgUnit> =
        units.iter().filter(|u| matches!(u.kind, OrgKind::ServiceCenter | OrgKind::ConvenienceCenter)).collect();
    let items = store::catalogue(&app.db, &oversight_domain::access::Scope::All, None, None).await?;
    if venues.is_empty() || items.is_empty() {
        return Err(AppError::Conflict("演示办件需要先载入服务网络和事项目录".into()));
    }
    let calendar = app.calendar().await?;
    let tz = app.config.tz();
    let today = app.today();
    let mut rng = Lcg(seed);
    let mut by_day: BTreeMap<NaiveDate, Vec<String>> = BTreeMap::new();
    let mut cases = 0;
    let (first, until) = span;
    let mut day = first;
    while day < until {
        if !calendar.is_working_day(day)? {
            day = day.succ_opt().unwrap_or(day);
            continue;
        }
        for k in 0..per_day {
            let venue = venues[rng.next(venues.len() as u64) as usize];
            let entry = &items[rng.next(items.len() as u64) as usize];
            let item = &entry.item;
            let case_no = format!("DEMO{}{:03}", day.format("%Y%m%d"), k);
            let stamp = |d: NaiveDate, minute: u64| {
                let local = d.and_hms_opt(9, 0, 0).unwrap_or_default() + chrono::Duration::minutes(minute as i64);
                tz.from_local_datetime(&local).earliest().map(|t| t.to_rfc3339()).unwrap_or_default()
            };
            let mut push = |d: NaiveDate, minute: u64, n: u32, body: serde_json::Value| {
                let mut v = body;
                v["event_id"] = json!(format!("{case_no}-{n}"));
                v["case_no"] = json!(case_no);
                v["at"] = json!(stamp(d, minute));
                by_day.entry(d).or_default().push(v.to_string());
            };
            let name = format!("{}{}", SURNAMES[rng.next(12) as usize], GIVEN[rng.next(12) as usize]);
            push(
                day,
                k as u64,
                1,
                json!({ "type": "received", "item_code": item.code.as_str(), "venue_code": venue.code.as_str(),
                "applicant": { "kind": "person", "name": name } }),
            );
            push(day, k as u64 + 30, 2, json!({ "type": "accepted" }));
            // Near the year's end a deadline may fall in a year not yet in the calendar: such a
            // case stays open, showing its calendar error, as it would in production.
            let deadline = calendar.deadline(day, item.promised_days as u32).ok();
            let roll = rng.next(100);
            if roll < 4 && item.fee_cents == 0 {
                push(day, k as u64 + 40, 3, json!({ "type": "fee", "amount_cents": 2000 }));
            }
            // Settled: on time (most), or a few working days late.
            let end = if roll < 70 {
                calendar.deadline(day, rng.next(item.promised_days.max(1) as u64) as u32).ok()
            } else if roll < 78 {
                deadline.and_then(|d| calendar.deadline(d, 1 + rng.next(3) as u32).ok())
            } else if ending == Ending::AllSettled || deadline.is_some_and(|d| d + chrono::Days::new(5) < until) {
                // Left open long ago: settled on its deadline, as most are.
                deadline
            } else {
                None
            };
            // An archive ends with its cases settled, the last ones on its last day at latest.
            let end = match ending {
                Ending::AllSettled => end.map(|e| e.min(until.pred_opt().unwrap_or(until)).max(day)),
                Ending::SomeOpen => end,
            };
            if let Some(end) = end.filter(|e| *e < today) {
                push(end, 400, 9, json!({ "type": "completed", "result": "approved" }));
                // Most applicants rate the service (好差评) by the next day, at the window's
                // device or by SMS; the platform records a default for some who do not.
                let rating = rng.next(100);
                if rating < 75 {
                    let rated_on = end.succ_opt().unwrap_or(end).min(today);
                    let level = match rng.next(100) {
                        0..=54 => 5,
                        55..=79 => 4,
                        80..=89 => 3,
                        90..=95 => 2,
                        _ => 1,
                    };
                    let channel = ["window", "device", "sms", "app", "web"][rng.next(5) as usize];
                    let mut body = json!({ "type": "rated", "level": level, "channel": channel });
                    if rating < 8 {
                        body = json!({ "type": "rated", "level": 5, "channel": "web", "default": true });
                    } else if level <= 2 {
                        body["comment"] = json!(BAD_COMMENTS[rng.next(BAD_COMMENTS.len() as u64) as usize]);
                    }
                    push(rated_on, 420 + rng.next(120), 10, body);
                }
            }
            cases += 1;
        }
        day = day.succ_opt().unwrap_or(day);
    }
    Ok((by_day, cases))
}

/// The demo's inspection rounds of this month: an open one over district and town centres,
/// with visits, findings and their rectifications in every state, already ended (its seed
/// shown, the draw re-checkable); and a covert one under way whose venues only its inspector
/// sees. Returns how many rounds.
pub async fn load_inspections(app: &App, accounts: &[DemoAccount]) -> Result<usize, AppError> {
    use crate::inspections::{NewRound, end_round, plan_round};
    let office =
        accounts::actor_of(app, "xiaoneng").await?.ok_or_else(|| AppError::fault("演示账号 xiaoneng 不存在"))?;
    if !accounts.iter().any(|a| a.username == "jiancha") {
        return Ok(0);
    }
    let month = app.today().format("%Y-%m").to_string();
    let plan = |kind: &str, quotas: [(&str, &str); 2]| NewRound {
        month: month.clone(),
        kind: kind.into(),
        inspectors: vec!["jiancha".into()],
        quotas: quotas.into_iter().map(|(l, n)| (l.to_string(), n.to_string())).collect(),
    };
    let open = plan_round(app, &office, &plan("open", [("district", "2"), ("town", "4")])).await?;
    // The inspector visits three of its venues; their findings go through rectification into
    // every state (still to rectify, awaiting verification, returned, verified).
    let inspector =
        accounts::actor_of(app, "jiancha").await?.ok_or_else(|| AppError::fault("演示账号 jiancha 不存在"))?;
    let cli = Actor::cli();
    let targets = crate::inspections::round_view(app, &inspector, &open).await?.targets.unwrap_or_default();
    let found = [
        ("duty", "serious", "上午 10:20 不动产登记窗口无人，工作人员在休息区玩手机"),
        ("one_time", "minor", "申请人补正材料第二次被退回，前次未一次性告知"),
        ("posting", "minor", "公示的收费标准为 2019 年版本"),
        ("dress", "minor", "两名窗口人员未佩戴工作牌"),
    ];
    let mut n = 0;
    for (venue, _, _) in targets.iter().take(3) {
        let visit = crate::inspections::start_visit(app, &inspector, &open, venue).await?;
        let view = crate::inspections::visit_view(app, &inspector, &visit).await?;
        let Some((department, _)) = view.departments.first().cloned() else { continue };
        let mut ids = Vec::new();
        for (item, severity, note) in found.iter().skip(n % 2).take(2) {
            let f = crate::inspections::NewFinding {
                item_code: item.to_string(),
                severity: severity.to_string(),
                department_code: department.clone(),
                window_name: "综合受理窗口".into(),
                staff_name: if *item == "duty" { DEMO_STAFF.into() } else { String::new() },
                note: note.to_string(),
            };
            ids.push(crate::inspections::record_finding(app, &inspector, &visit, &f).await?.id);
        }
        if let Some(first) = ids.first() {
            crate::inspections::add_photo(app, &inspector, first, demo_photo(n as u32)?).await?;
        }
        crate::inspections::close_visit(app, &inspector, &visit).await?;
        for id in ids {
            let step = |s: &'static str, note: &'static str, method: &'static str| {
                crate::inspections::rectification_step(app, &cli, &id, s, note, "", method)
            };
            match n % 4 {
                0 => {}
                1 => {
                    step("reply", "已调整窗口排班并通报批评", "").await?;
                }
                2 => {
                    step("reply", "已更新公示内容", "").await?;
                    step("return", "现场复查仍有旧版公示", "").await?;
                }
                _ => {
                    step("reply", "已组织全员培训一次性告知制度", "").await?;
                    step("verify", "复查时窗口已整改", "reinspection").await?;
                }
            }
            n += 1;
        }
    }
    end_round(app, &office, &open).await?;
    plan_round(app, &office, &plan("covert", [("district", "1"), ("town", "3")])).await?;
    Ok(2)
}

/// A picture standing in for an inspector's photo of a service hall: a wall, a counter and a
/// window, in a shade that differs by `n`; as a JPEG.
fn demo_photo(n: u32) -> Result<Vec<u8>, AppError> {
    let tint = (n * 37 % 60) as u8;
    let picture = image::RgbImage::from_fn(1200, 900, |x, y| {
        if y > 620 {
            image::Rgb([120 + tint, 90, 60]) // the counter
        } else if (380..820).contains(&x) && (180..520).contains(&y) {
            image::Rgb([40, 70 + tint, 110]) // the window's screen
        } else {
            let shade = 200 - (y / 8) as u8;
            image::Rgb([shade, shade, shade - tint / 2]) // the wall
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut out, image::ImageFormat::Jpeg).map_err(|e| AppError::internal("the demo's photo", e))?;
    Ok(out.into_inner())
}

/// The member of staff one of the demo's findings names: on the office's bulletin, never on the
/// public one.
const DEMO_STAFF: &str = "陈晓东";

/// This month's inspection bulletin, drafted from the demo's findings, with two of their photos
/// and the office's words of criticism naming the member of staff, approved and published.
/// Returns its id.
pub async fn load_bulletin(app: &App) -> Result<String, AppError> {
    use crate::bulletins::{BulletinEdit, bulletin_step, bulletin_view, draft_bulletin, save_bulletin};
    let office =
        accounts::actor_of(app, "xiaoneng").await?.ok_or_else(|| AppError::fault("演示账号 xiaoneng 不存在"))?;
    let id = draft_bulletin(app, &office, &app.today().format("%Y-%m").to_string()).await?;
    let v = bulletin_view(app, &office, &id).await?;
    let edit = BulletinEdit {
        title: v.row.title.clone(),
        intro: format!("{}\n对综合受理窗口{DEMO_STAFF}上班时间在休息区玩手机的问题予以通报批评。", v.row.intro),
        closing: v.row.closing.clone(),
        findings: v.candidates.iter().map(|(l, _)| l.finding_id.clone()).collect(),
        photos: v.photos.iter().take(2).map(|(p, _)| p.id.clone()).collect(),
        redraft: false,
    };
    save_bulletin(app, &office, &id, &edit).await?;
    for step in [oversight_domain::bulletin::BulletinStep::Approve, oversight_domain::bulletin::BulletinStep::Publish] {
        bulletin_step(app, &office, &id, step).await?;
    }
    Ok(id)
}

/// The example scheme saved by the office, its result over last year published, and an appeal
/// of 市发改委's upheld (when it has an overdue case), which publishes it again. Returns the id
/// of the result in force.
pub async fn load_evaluation(app: &App) -> Result<String, AppError> {
    let office =
        accounts::actor_of(app, "xiaoneng").await?.ok_or_else(|| AppError::fault("演示账号 xiaoneng 不存在"))?;
    let last_year = app.today().year() - 1;
    let body = crate::evaluation::EXAMPLE_SCHEME.replace("年度机关效能考评", &format!("{last_year} 年度机关效能考评"));
    let scheme = crate::evaluation::save_scheme(app, &office, None, &body).await?;
    let (from, to) = (
        NaiveDate::from_ymd_opt(last_year, 1, 1).unwrap_or_default(),
        NaiveDate::from_ymd_opt(last_year, 12, 31).unwrap_or_default(),
    );
    let published = crate::evaluation::publish(app, &office, &scheme.id, from, to).await?;
    // 市发改委 contests one of its overdue cases, and the office upholds it: the result is
    // published again without it.
    let Some(liaison) = accounts::actor_of(app, "fgw").await? else { return Ok(published) };
    let v = crate::evaluation::department_view(app, &liaison, &published, "460100-D01").await?;
    let Some(case_no) = v.overdue_cases.first() else { return Ok(published) };
    let appeal = crate::evaluation::NewAppeal {
        kind: crate::evaluation::OVERDUE_CASE.into(),
        record: case_no.clone(),
        reason: "申请人逾期提交补正材料，超期并非本部门原因".into(),
        evidence: "补正通知书及申请人签收记录".into(),
    };
    let id = crate::evaluation::file_appeal(app, &liaison, &published, "460100-D01", &appeal).await?;
    let again = crate::evaluation::decide_appeal(app, &office, &id, true, "补正通知书证实申请人延误，申诉成立").await?;
    load_draft_scheme(app, &office, &liaison).await?;
    Ok(again.unwrap_or(published))
}

/// This year's draft scheme: the example with the leaders' evaluation added, assessed by each
/// department first; the office has asked for the year's self-assessments and 市发改委 has
/// answered, so both sides of the review have something to show.
async fn load_draft_scheme(app: &App, office: &Actor, liaison: &Actor) -> Result<(), AppError> {
    use crate::evaluation::self_assessment;
    let year = app.today().year();
    let body = format!(
        "{}\n[[indicator]]\ncode = \"C1\"\nname = \"领导评价\"\nsource = \"manual\"\nweight = 10\nscore = {{ kind = \"manual\" }}\nself_assessment = true\n",
        crate::evaluation::EXAMPLE_SCHEME.replace("年度机关效能考评", &format!("{year} 年度机关效能考评（草案）"))
    );
    let scheme = crate::evaluation::save_scheme(app, office, None, &body).await?;
    let (from, to) = (
        NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default(),
        NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default(),
    );
    self_assessment::request(app, office, &scheme.id, from, to).await?;
    if let Some(asked) = self_assessment::asked_of(app, liaison).await?.into_iter().next() {
        let entry = self_assessment::SelfEntry {
            points: "9".into(),
            reason: "全年重点项目审批均按期办结，领导批示件全部落实".into(),
            evidence: "年度工作总结；重点项目审批台账".into(),
        };
        self_assessment::enter(app, liaison, &asked.row.id, &entry).await?;
    }
    Ok(())
}

/// What applicants write beside a bad rating in the demo.
const BAD_COMMENTS: [&str; 5] = [
    "窗口人员态度生硬，问两句就不耐烦",
    "材料要求前后不一，跑了三趟才受理",
    "排队一个多小时，叫号窗口只开了一个",
    "超过承诺时限没有任何告知",
    "一次性告知不到位，补正材料又退回",
];

/// The follow-ups of the demo's bad ratings worked as the departments and the office would
/// have: the oldest verified (some in time, some late), one set aside on appeal and one appeal
/// rejected, others returned, awaiting verification, rectification or the first call, and one
/// appeal waiting for the office. Returns how many follow-ups there are.
pub async fn work_rating_follow_ups(app: &App) -> Result<usize, AppError> {
    use crate::ratings::take_step;
    let today = app.today();
    let all = oversight_store::ratings::follow_ups(
        &app.db,
        &oversight_domain::access::Scope::All,
        &Default::default(),
        10_000,
    )
    .await?;
    let tz = app.config.tz();
    let clock = crate::ManualClock::new(app.now());
    let at_day = app.with_clock(clock.clone());
    let cli = Actor::cli();
    for (i, f) in all.iter().enumerate() {
        // Each step at 10:00 on its day, never after today.
        let step = |kind: &'static str, on: NaiveDate, note: &'static str| {
            let on = on.min(today);
            let at = tz.from_local_datetime(&on.and_hms_opt(10, 0, 0).unwrap_or_default()).earliest();
            if let Some(at) = at {
                clock.set(at.with_timezone(&Utc));
            }
            let (at_day, cli, case_no) = (at_day.clone(), cli.clone(), f.case_no.clone());
            async move { take_step(&at_day, &cli, &case_no, kind, note, "").await }
        };
        let age = (today - f.rated_on).num_days();
        let contacted = f.rated_on.succ_opt().unwrap_or(f.rated_on);
        let rectified = f.rectify_due.pred_opt().unwrap_or(f.rectify_due).max(contacted);
        if age < 2 {
            continue;
        }
        if age < 8 {
            step("contact", contacted, "已电话回访申请人，致歉并了解情况").await?;
            if i % 2 == 0 {
                step("reply", rectified, "已对窗口人员批评教育，调整叫号安排").await?;
            }
            if i % 5 == 1 {
                step("appeal", contacted, "申请人评价的是其他部门窗口，非本部门办件").await?;
            }
            continue;
        }
        match i % 6 {
            0 => {
                step("appeal", contacted, "经核实申请人评价时误点，已电话确认并留存录音").await?;
                step("uphold", contacted + chrono::Days::new(1), "录音证实为误评，申诉成立").await?;
            }
            1 => {
                step("appeal", contacted, "申请人对法定收费标准不满，非服务问题").await?;
                step("reject", contacted + chrono::Days::new(1), "申请人反映的是告知不到位，属服务问题").await?;
                step("contact", contacted + chrono::Days::new(1), "已回访申请人并致歉").await?;
            }
            2 => {
                step("contact", contacted, "已电话回访申请人，致歉并了解情况").await?;
                step("reply", rectified, "已对窗口人员批评教育，重新培训一次性告知").await?;
                step("return", rectified + chrono::Days::new(1), "整改措施未落实到人，请补充").await?;
            }
            3 => {
                step("contact", f.contact_due + chrono::Days::new(2), "已回访申请人").await?;
            }
            _ => {
                step("contact", contacted, "已电话回访申请人，致歉并了解情况").await?;
                // One in two rectified in time; the others reported after the limit.
                let reported = if i % 2 == 0 { rectified } else { f.rectify_due + chrono::Days::new(3) };
                step("reply", reported, "已调整窗口排班，公示一次性告知清单").await?;
                step("verify", reported + chrono::Days::new(1), "回访申请人确认已整改").await?;
            }
        }
    }
    Ok(all.len())
}

/// What citizens bring to the hotline in the demo: (type, summary, department).
const ORDERS: [(&str, &str, &str); 8] = [
    ("complaint", "市政务服务中心企业投资项目核准窗口材料交了三次仍未受理", "460100-D01"),
    ("consultation", "机动车驾驶证换证需要带哪些材料，可以在区中心办吗", "460100-D02"),
    ("help", "低保申请已过承诺时限仍未答复，请求协调", "460100-D03"),
    ("complaint", "社保窗口工作人员上班时间玩手机，排队一个小时无人办理", "460100-D04"),
    ("suggestion", "建议政务服务中心中午安排轮班窗口，方便上班族办事", "460100-D01"),
    ("report", "举报某窗口工作人员收取材料审查“加急费”", "460100-D07"),
    ("praise", "表扬地税窗口工作人员耐心细致，一次办结", "460100-D14"),
    ("complaint", "住房公积金提取要求提供网上已有的证明材料", "460100-D07"),
];

/// A month of hotline orders through the real workflow, as the demo's accounts would have
/// worked them: most answered, visited and closed; some late; the newest waiting to be
/// dispatched, signed, answered or visited; an extension waiting for the office. Returns the
/// number of orders. A step the calendar cannot date (a deadline in a year not yet entered) is
/// left undone, as it would wait in production.
pub async fn load_orders(app: &App, days: u32) -> Result<usize, AppError> {
    use crate::hotline::{self, Intake, NewOrder, StepInput};
    let actor = |name: &'static str| async move {
        crate::accounts::actor_of(app, name).await?.ok_or_else(|| AppError::Conflict(format!("演示账号 {name} 不存在")))
    };
    let (operator, liaison) = (actor("rexian").await?, actor("fgw").await?);
    let calendar = app.calendar().await?;
    let tz = app.config.tz();
    let clock = crate::ManualClock::new(app.now());
    let at = app.with_clock(clock.clone());
    let today = app.today();
    let mut rng = Lcg(963_333);
    let moment = |d: NaiveDate, h: u32, m: u32| {
        tz.from_local_datetime(&d.and_hms_opt(h, m, 0).unwrap_or_default()).earliest().map(|t| t.with_timezone(&Utc))
    };
    let step = |word: &str, note: &str| StepInput { step: word.into(), note: note.into(), ..Default::default() };
    let mut count = 0;
    let now = app.now();
    let mut extension_asked = false;
    let mut day = today - chrono::Days::new(days as u64);
    while day <= today {
        if !calendar.is_working_day(day)? {
            day = day.succ_opt().unwrap_or(day);
            continue;
        }
        let age = calendar.working_days_between(day, today)?;
        for k in 0..3u32 {
            let (kind, summary, department) = ORDERS[rng.next(ORDERS.len() as u64) as usize];
            // Orders a liaison of another department would handle go to 市发改委 in the demo, so
            // that the demo's liaison account has work to show.
            let department = if rng.next(3) == 0 { "460100-D01" } else { department };
            let Some(t) = moment(day, 9, 10 + 13 * k).filter(|t| *t <= now) else { continue };
            clock.set(t);
            let phone = format!("13{:09}", rng.next(1_000_000_000));
            let name = format!("{}{}", SURNAMES[rng.next(12) as usize], GIVEN[rng.next(12) as usize]);
            let anonymous = rng.next(6) == 0;
            let new = NewOrder {
                kind: kind.into(),
                summary: summary.into(),
                caller_name: name,
                caller_phone: phone,
                anonymous,
                ..Default::default()
            };
            let intake = if k == 0 {
                Intake::Citizen
            } else {
                Intake::Operator(&operator, oversight_domain::ticket::Channel::Phone)
            };
            let no = hotline::create_order(&at, intake, &hotline::parse_order(&new)?).await?.ticket_no;
            count += 1;
            if age == 0 && k == 0 {
                continue; // today's first: waiting to be dispatched
            }
            if kind == "consultation" {
                clock.set(t + chrono::Duration::minutes(5));
                if hotline::order_step(&at, &operator, &no, &step("answer", "已电话告知所需材料和办理地点"))
                    .await
                    .is_err()
                {
                    continue;
                }
                continue;
            }
            let Some(t) = moment(day, 10, 0).filter(|t| *t <= now) else { continue };
            clock.set(t);
            let dispatch = StepInput { department_code: department.into(), ..step("dispatch", "") };
            if hotline::order_step(&at, &operator, &no, &dispatch).await.is_err() {
                continue;
            }
            // Only 市发改委 has a liaison account in the demo; the others' orders are worked
            // by the office on their behalf only up to dispatch.
            if department != "460100-D01" || (age <= 1 && k == 1) {
                continue;
            }
            let late_sign = rng.next(6) == 0;
            let Some(t) = moment(day, if late_sign { 16 } else { 11 }, 0).filter(|t| *t <= now) else { continue };
            clock.set(t);
            if hotline::order_step(&at, &liaison, &no, &step("sign", "")).await.is_err() {
                continue;
            }
            if age <= 2 {
                if !extension_asked {
                    extension_asked = true;
                    let ext = StepInput {
                        days: Some(5), ..step("request_extension", "需现场核查并征求相关部门意见")
                    };
                    if hotline::order_step(&at, &liaison, &no, &ext).await.is_err() {
                        continue;
                    }
                }
                continue; // in hand
            }
            let limit = app.config.hotline.limit_days(
                oversight_domain::ticket::TicketType::parse(kind)
                    .unwrap_or(oversight_domain::ticket::TicketType::Complaint),
            );
            let reply_in = if rng.next(8) == 0 { limit + 2 } else { 1 + rng.next(limit.max(2) as u64 - 1) as u32 };
            let Ok(reply_day) = calendar.deadline(day, reply_in) else { continue };
            if reply_day >= today {
                continue; // still being handled
            }
            let Some(t) = moment(reply_day, 15, 0) else { continue };
            clock.set(t);
            if hotline::order_step(&at, &liaison, &no, &step("reply", "已核实情况并当面答复，相关窗口已整改"))
                .await
                .is_err()
            {
                continue;
            }
            let Ok(visit_day) = calendar.deadline(reply_day, 1) else { continue };
            if visit_day >= today || anonymous {
                continue; // waiting for the return visit (or none possible)
            }
            let Some(t) = moment(visit_day, 10, 30) else { continue };
            clock.set(t);
            let result = match rng.next(10) {
                0 => "unsatisfied",
                1 => "basically_satisfied",
                2 => "unreachable",
                _ => "satisfied",
            };
            let visit = StepInput { satisfaction: result.into(), ..step("visit", "") };
            if hotline::order_step(&at, &operator, &no, &visit).await.is_err() {
                continue;
            }
        }
        day = day.succ_opt().unwrap_or(day);
    }
    Ok(count)
}

/// The hotline's orders of the days `from..until` before the demo's live month, as the legacy
/// hotline system exports them (spec: work orders, historical import): every one closed, most
/// with a return visit's satisfaction. Returns the number of orders.
pub async fn load_order_history(app: &App, from: NaiveDate, until: NaiveDate, per_day: u32) -> Result<usize, AppError> {
    let calendar = app.calendar().await?;
    let mut rng = Lcg(12_345);
    let at = |d: NaiveDate, h: u32, m: u32| format!("{d}T{h:02}:{m:02}:00+08:00");
    let mut lines = Vec::new();
    let mut day = from;
    while day < until {
        if !calendar.is_working_day(day)? {
            day = day.succ_opt().unwrap_or(day);
            continue;
        }
        for k in 0..per_day {
            let (kind, summary, department) = ORDERS[rng.next(ORDERS.len() as u64) as usize];
            let department = if rng.next(3) == 0 { "460100-D01" } else { department };
            let limit = app.config.hotline.limit_days(
                oversight_domain::ticket::TicketType::parse(kind)
                    .unwrap_or(oversight_domain::ticket::TicketType::Complaint),
            );
            // Answered within the limit mostly, a few two working days late.
            let answer_in = if rng.next(8) == 0 { limit + 2 } else { 1 + rng.next(limit.max(2) as u64 - 1) as u32 };
            let closed = calendar.deadline(day, answer_in).ok().filter(|d| *d < app.today());
            let satisfaction = match (kind, rng.next(10)) {
                ("consultation", _) => None,
                (_, 0) => Some("unsatisfied"),
                (_, 1) => Some("basically_satisfied"),
                (_, 2) => Some("unreachable"),
                _ => Some("satisfied"),
            };
            let channel = ["phone", "phone", "web", "mobile", "visit"][rng.next(5) as usize];
            lines.push(
                json!({
                    "ticket_no": format!("LS{}{:02}", day.format("%Y%m%d"), k),
                    "channel": channel,
                    "type": kind,
                    "received_at": at(day, 9, 10 + 13 * k),
                    "subject_department_code": department,
                    "summary": summary,
                    "closed_at": closed.map(|d| at(d, 16, 0)),
                    "satisfaction": closed.and(satisfaction),
                })
                .to_string(),
            );
        }
        day = day.succ_opt().unwrap_or(day);
    }
    let report =
        crate::tickets::import_tickets(app, &Actor::cli(), lines.iter().enumerate().map(|(i, l)| (i + 1, l.as_str())))
            .await?;
    if let Some(r) = report.rejected.first() {
        return Err(AppError::fault(format!("演示历史工单有误：{r:?}")));
    }
    Ok(report.accepted)
}

/// What `serve --demo` loaded, for the message that lists it.
#[derive(Debug)]
pub struct Loaded {
    pub accounts: Vec<DemoAccount>,
    /// Cases of the live month, and of the two years before it (the archive).
    pub cases: usize,
    pub history_cases: usize,
    pub follow_ups: usize,
    pub orders: usize,
    pub history_orders: usize,
    pub tasks: usize,
    pub meetings: usize,
    pub rounds: usize,
}

/// The whole demo into an empty database, as `serve --demo` shows it: the network and the
/// accounts; two years of history before the live month (cases and orders from the archives,
/// so that last year can be compared and evaluated), the live month reported day by day and
/// worked through the real workflows; key tasks, meetings, inspections; last year's evaluation
/// published with an appeal upheld, and this year's draft scheme.
pub async fn load_all(app: &App) -> Result<Loaded, AppError> {
    let accounts = load(app).await?;
    let today = app.today();
    let live = today - chrono::Days::new(LIVE_DAYS as u64);
    let archive = live - chrono::Days::new(2 * 365);
    let history_cases = load_case_history(app, archive, live, 8).await?;
    let cases = load_cases(app, LIVE_DAYS, 20).await?;
    let follow_ups = work_rating_follow_ups(app).await?;
    let history_orders = load_order_history(app, archive, live, 4).await?;
    let orders = load_orders(app, LIVE_DAYS).await?;
    let tasks = load_tasks(app).await?;
    let meetings = load_meetings(app).await?;
    let rounds = load_inspections(app, &accounts).await?;
    if rounds > 0 {
        load_bulletin(app).await?;
    }
    load_evaluation(app).await?;
    Ok(Loaded { accounts, cases, history_cases, follow_ups, orders, history_orders, tasks, meetings, rounds })
}

/// The days reported one by one and worked through the workflows; the archive lies before.
pub const LIVE_DAYS: u32 = 30;

/// The demo's key tasks over the last year: what the city's plan and meetings asked of
/// departments in the last months, in every state a board shows (unsigned, on track, a
/// milestone late, due within days, quiet for a month, reported done, verified), and the year
/// before them worked to a close, reported as they happened. Returns how many.
pub async fn load_tasks(app: &App) -> Result<usize, AppError> {
    const TASKS: [(&str, &str, &str); 12] = [
        ("推行并联审批，企业开办压缩至 5 个工作日", "annual_plan", "460100-D01"),
        ("居民身份证办理窗口延时服务", "leader_instruction", "460100-D02"),
        ("低保审批材料一次性告知清单上墙", "meeting_decision", "460100-D03"),
        ("社保关系转移网上办理", "annual_plan", "460100-D04"),
        ("土地登记积案清理", "major_project", "460100-D05"),
        ("秀英区便民服务中心标准化建设", "annual_plan", "460105-D01"),
        ("龙华区代办点代办事项目录公开", "proposal", "460106-D01"),
        ("琼山区审批事项网上预审", "meeting_decision", "460107-D01"),
        ("美兰区窗口服务好差评全覆盖", "leader_instruction", "460108-D01"),
        ("效能投诉热线回访满意度提升", "annual_plan", "460100-D01"),
        ("重大项目审批“绿色通道”", "major_project", "460100-D02"),
        ("行政审批收费公示与清理", "meeting_decision", "460100-D03"),
    ];
    let today = app.today();
    let cal = app.calendar().await?;
    let day = |n: i64| today - chrono::Days::new(n as u64);
    let at = |d: NaiveDate, hour: u32| format!("{d}T{hour:02}:00:00+08:00");
    let mut lines: Vec<serde_json::Value> = Vec::new();
    for (i, (title, origin, lead)) in TASKS.iter().enumerate() {
        let no = format!("DB{}{:03}", today.format("%Y"), i + 1);
        let id = |kind: &str| format!("{no}-{kind}");
        let assigned = day(15 + 11 * i as i64);
        // Due dates: a few within three working days, the others weeks or months ahead.
        let due = match i % 4 {
            1 => cal.deadline(today, 2).unwrap_or(today),
            _ => assigned + chrono::Days::new(60 + 20 * (i as u64 % 5)),
        };
        let m1_due = assigned + chrono::Days::new(20);
        lines.push(json!({"event_id": id("a"), "task_no": no, "type": "assigned", "at": at(assigned, 9),
            "title": title, "origin": origin, "lead_department_code": lead, "co_department_codes": ["460100-D04"],
            "due": due.to_string(), "assigned_by": "市政府办公厅",
            "milestones": [{"code": "M1", "name": "制定方案", "due": m1_due.to_string()},
                           {"code": "M2", "name": "组织实施", "due": (m1_due + chrono::Days::new(25)).to_string()}]}));
        let state = i % 6;
        if state == 0 {
            continue; // never signed: red once the sign limit passed
        }
        lines.push(
            json!({"event_id": id("s"), "task_no": no, "type": "signed", "at": at(assigned + chrono::Days::new(1), 10),
            "department_code": lead}),
        );
        let mut last = assigned + chrono::Days::new(1);
        // The milestones on time (state 3 misses its first), then progress every fortnight
        // (state 2 falls quiet).
        if state != 3 {
            for (code, due) in [("M1", m1_due), ("M2", m1_due + chrono::Days::new(25))] {
                if due <= today {
                    lines
                        .push(json!({"event_id": id(code), "task_no": no, "type": "milestone_done", "at": at(due, 16),
                        "milestone_code": code}));
                    last = due;
                }
            }
        }
        let mut k = 0;
        while state != 2 && last + chrono::Days::new(14) < today {
            last = last + chrono::Days::new(14);
            k += 1;
            lines.push(json!({"event_id": id(&format!("p{k}")), "task_no": no, "type": "progress", "at": at(last, 15),
                "department_code": lead, "note": format!("第 {k} 次进展：按方案推进，已完成阶段工作。")}));
        }
        match state {
            4 => lines.push(json!({"event_id": id("d"), "task_no": no, "type": "reported_done", "at": at(day(3), 11),
                "note": "已全部完成，请核实销号。"})),
            5 => {
                lines.push(json!({"event_id": id("d"), "task_no": no, "type": "reported_done", "at": at(day(9), 11),
                    "note": "已完成。"}));
                lines.push(json!({"event_id": id("v"), "task_no": no, "type": "verified", "at": at(day(5), 16)}));
            }
            _ => {}
        }
    }
    // The year before them: tasks worked to their close, most on time, a third late, so the
    // tasks report has a year to show and to compare with.
    const CLOSED: [(&str, &str, &str); 12] = [
        ("政务服务中心进驻事项清理", "annual_plan", "460100-D01"),
        ("出入境证件办理预约服务", "leader_instruction", "460100-D02"),
        ("医保报销窗口合并", "meeting_decision", "460100-D04"),
        ("不动产登记一窗受理", "major_project", "460100-D05"),
        ("秀英区代办员培训", "annual_plan", "460105-D01"),
        ("龙华区窗口人员着装与胸牌规范", "proposal", "460106-D01"),
        ("琼山区审批时限承诺公开", "annual_plan", "460107-D01"),
        ("美兰区便民服务中心延时服务", "leader_instruction", "460108-D01"),
        ("企业投资项目审批流程再造", "major_project", "460100-D01"),
        ("户籍业务一次性告知单", "meeting_decision", "460100-D02"),
        ("救助审批材料精简", "annual_plan", "460100-D03"),
        ("效能监察电子档案建设", "annual_plan", "460100-D04"),
    ];
    for (j, (title, origin, lead)) in CLOSED.iter().enumerate() {
        let no = format!("DB{}{:03}", today.format("%Y"), TASKS.len() + j + 1);
        let id = |kind: &str| format!("{no}-{kind}");
        let assigned = day(170 + 16 * j as i64);
        let due = assigned + chrono::Days::new(45 + 5 * (j as u64 % 6));
        let m1_due = assigned + chrono::Days::new(20);
        lines.push(json!({"event_id": id("a"), "task_no": no, "type": "assigned", "at": at(assigned, 9),
            "title": title, "origin": origin, "lead_department_code": lead, "co_department_codes": [],
            "due": due.to_string(), "assigned_by": "市政府办公厅",
            "milestones": [{"code": "M1", "name": "制定方案", "due": m1_due.to_string()}]}));
        lines.push(
            json!({"event_id": id("s"), "task_no": no, "type": "signed", "at": at(assigned + chrono::Days::new(1), 10),
            "department_code": lead}),
        );
        lines.push(json!({"event_id": id("M1"), "task_no": no, "type": "milestone_done", "at": at(m1_due, 16),
            "milestone_code": "M1"}));
        lines.push(json!({"event_id": id("p1"), "task_no": no, "type": "progress", "at": at(m1_due + chrono::Days::new(12), 15),
            "department_code": lead, "note": "按方案推进，已完成过半。"}));
        let done = if j % 3 == 0 { due + chrono::Days::new(8) } else { due - chrono::Days::new(4) };
        lines.push(json!({"event_id": id("d"), "task_no": no, "type": "reported_done", "at": at(done, 11),
            "note": "已全部完成，请核实销号。"}));
        lines.push(
            json!({"event_id": id("v"), "task_no": no, "type": "verified", "at": at(done + chrono::Days::new(3), 16)}),
        );
    }
    let texts: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let report =
        crate::tasks::ingest(app, &Actor::cli(), texts.iter().enumerate().map(|(i, l)| (i + 1, l.as_str()))).await?;
    if !report.rejected.is_empty() {
        return Err(AppError::Conflict(format!("演示督办数据有误：{:?}", report.rejected)));
    }
    Ok(TASKS.len() + CLOSED.len())
}

/// Two held joint meetings of the city's office (about five and one weeks ago), each with its
/// minutes and a decision that became a key task, and the next one scheduled; returns how many
/// meetings.
pub async fn load_meetings(app: &App) -> Result<usize, AppError> {
    use crate::meetings::{MeetingEdit, NewDecision};
    let office = crate::accounts::actor_of(app, "xiaoneng")
        .await?
        .ok_or_else(|| AppError::Conflict("演示账号 xiaoneng 不存在".into()))?;
    let clock = crate::ManualClock::new(app.now());
    let at = app.with_clock(clock.clone());
    let today = app.today();
    let held = [
        (35, "一、通报一季度重点工作进展；二、部署窗口服务好差评全覆盖。", "窗口服务好差评评价器全覆盖", "460100-D02"),
        (
            7,
            "一、通报上次会议议定事项落实情况；二、研究超期办件较多部门的整改。",
            "超期办件较多的部门提交整改报告",
            "460100-D05",
        ),
    ];
    let invited = vec!["460100-D01".to_string(), "460100-D02".to_string(), "460100-D05".to_string()];
    for (ago, minutes, decision, lead) in held {
        let day = today - chrono::Days::new(ago);
        clock.set(app.now() - chrono::Duration::days(ago as i64));
        let m = crate::meetings::schedule(&at, &office, &day.to_string(), "", &invited).await?;
        crate::meetings::edit(&at, &office, &m.id, MeetingEdit::Minutes(minutes)).await?;
        let due = (day + chrono::Days::new(45)).to_string();
        let d =
            NewDecision { text: decision.into(), lead_department_code: lead.into(), co_department_codes: vec![], due };
        crate::meetings::decide(&at, &office, &m.id, &d).await?;
    }
    clock.set(app.now());
    let next = today + chrono::Days::new(21);
    crate::meetings::schedule(&at, &office, &next.to_string(), "", &invited).await?;
    Ok(held.len() + 1)
}

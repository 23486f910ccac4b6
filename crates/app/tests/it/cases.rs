//! Case ingestion and the overdue-rate report, on both backends, against the independent
//! day-by-day model: a generated year of cases around the 2011 holidays and make-up days, with
//! suspensions, supplements, late extensions, forwarding, withdrawals, open cases, duplicates and
//! bad lines; then the same events in another order.

use std::collections::{BTreeMap, HashMap};

use chrono::{Days, NaiveDate, TimeZone, Utc};
use oversight_app::cases::{self, CaseReport};
use oversight_app::{Actor, App, ManualClock, demo, ratings};
use oversight_domain::case::Outcome;
use oversight_domain::org::Level;
use oversight_domain::rating::Standing;
use oversight_domain::supervision::{Subject, SubjectKind};
use oversight_store::cases::GroupBy;
use oversight_testkit::model::{self, Action, Life, Step};
use oversight_testkit::on_both_backends;
use serde_json::json;

on_both_backends!(
    report_matches_the_model_in_any_arrival_order,
    each_event_is_answered_on_its_own,
    a_department_system_may_send_a_case_before_its_receipt,
    cases_waiting_for_a_calendar_year_are_projected_when_it_is_entered,
    concurrent_batches_of_the_same_cases_give_the_same_figures,
    ratings_are_taken_like_any_event_and_move_nothing,
    a_historical_import_alerts_only_on_cases_still_open,
    a_system_cannot_add_to_or_take_over_another_systems_case,
    a_new_calendar_year_projects_every_waiting_case_even_if_the_request_is_cut,
    lines_before_a_fault_of_the_body_are_stored,
    the_ratings_report_matches_a_recount
);

/// A small deterministic generator (no seed files, same data on every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// Where a generated case is received, where it ends up, and that venue's level.
const VENUES: [(&str, Option<&str>, Level); 5] = [
    ("460100-V", None, Level::City),
    ("460105-V", None, Level::District),
    ("460106-V", None, Level::District),
    ("460107001-V", None, Level::Town),
    ("460105100201-V", Some("460105100-V"), Level::Town),
];

struct GenCase {
    item: String,
    level: Level,
    venue: String,
    life: Life,
    lines: Vec<String>,
}

fn at(date: NaiveDate, minute: u64) -> String {
    format!("{date}T{:02}:{:02}:00+08:00", 9 + minute / 60, minute % 60)
}

fn generate(items: &[(String, u32)]) -> Vec<GenCase> {
    let mut rng = Lcg(2011);
    let mut out = Vec::new();
    for n in 0..240 {
        let (first_venue, forward_to, level) = VENUES[rng.next(VENUES.len() as u64) as usize];
        let (item, item_days) = items[rng.next(items.len() as u64) as usize].clone();
        let explicit = rng.next(3) == 0;
        let promised = if explicit { 1 + rng.next(12) as u32 } else { item_days };
        // Acceptances from December 2010 to October 2011: Spring Festival, Qingming, May Day,
        // Dragon Boat, Mid-Autumn and National Day, with their make-up working days.
        let accepted = NaiveDate::from_ymd_opt(2010, 12, 1).unwrap() + Days::new(rng.next(320));
        let mut steps = Vec::new();
        for _ in 0..rng.next(3) {
            steps.push(if rng.next(2) == 0 {
                Step::Stop { after: rng.next(10), length: rng.next(9), supplement: rng.next(2) == 0 }
            } else {
                Step::Extend { after: rng.next(25), days: 1 + rng.next(8) as u32 }
            });
        }
        let end = match rng.next(10) {
            0..=6 => Some((rng.next(40), true)),
            7 => Some((rng.next(30), false)),
            _ => None,
        };
        let life = Life { accepted, promised, steps, end };
        let case_no = format!("HK2011-{n:04}");
        let mut lines = Vec::new();
        let mut k = 0;
        let mut event = |date: NaiveDate, kind: &str, extra: serde_json::Value| {
            let mut v =
                json!({ "event_id": format!("{case_no}-{k}"), "case_no": case_no, "type": kind, "at": at(date, k) });
            for (key, value) in extra.as_object().unwrap() {
                v[key] = value.clone();
            }
            k += 1;
            v.to_string()
        };
        let applicant = json!({ "kind": "person", "name": "王海", "id_no": "460100198001011234" });
        let received = accepted - Days::new(if forward_to.is_some() { 2 } else { 1 });
        lines.push(event(
            received,
            "received",
            json!({ "item_code": item, "venue_code": first_venue, "applicant": applicant }),
        ));
        if let Some(to) = forward_to {
            lines.push(event(accepted - Days::new(1), "forwarded", json!({ "to_venue_code": to })));
        }
        let accepted_extra = if explicit { json!({ "promised_days": promised }) } else { json!({}) };
        lines.push(event(accepted, "accepted", accepted_extra));
        lines.push(event(accepted, "step", json!({ "name": "承办" })));
        for (date, action) in life.actions() {
            lines.push(match action {
                Action::Stop { supplement: true } => {
                    event(date, "supplement_requested", json!({ "note": "缺营业执照副本" }))
                }
                Action::Resume { supplement: true } => event(date, "supplement_received", json!({})),
                Action::Stop { supplement: false } => event(date, "suspended", json!({ "reason": "expert_review" })),
                Action::Resume { supplement: false } => event(date, "resumed", json!({})),
                Action::Extend(days) => event(date, "extended", json!({ "days": days, "approved_by": "局长" })),
                Action::Complete => event(date, "completed", json!({ "result": "approved" })),
                Action::Withdraw => event(date, "withdrawn", json!({})),
            });
        }
        let venue = forward_to.unwrap_or(first_venue).to_string();
        out.push(GenCase { item, level, venue, life, lines });
    }
    out
}

/// The report recomputed from the model alone.
fn expected(
    cases: &[GenCase],
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
    key: impl Fn(&GenCase) -> String,
) -> (i64, i64, BTreeMap<String, (i64, i64)>) {
    let cal = oversight_domain::calendar::WorkCalendar::official();
    let (mut on_time, mut overdue) = (0, 0);
    let mut groups: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for c in cases {
        let (late, date) = match model::outcome(&c.life, &cal).as_of(today) {
            Outcome::OnTime(d) => (false, d),
            Outcome::Overdue(d) => (true, d),
            _ => continue,
        };
        if date < from || date > to {
            continue;
        }
        let g = groups.entry(key(c)).or_default();
        if late {
            overdue += 1;
            g.1 += 1;
        } else {
            on_time += 1;
            g.0 += 1;
        }
    }
    (on_time, overdue, groups)
}

fn check(report: &CaseReport, want: &(i64, i64, BTreeMap<String, (i64, i64)>), grouped: bool) {
    assert_eq!(
        (report.total.on_time, report.total.overdue),
        (want.0, want.1),
        "totals {} – {}",
        report.from,
        report.to
    );
    assert_eq!(report.total.settled, want.0 + want.1);
    if want.0 + want.1 > 0 {
        assert_eq!(report.total.overdue_rate, Some(want.1 as f64 / (want.0 + want.1) as f64));
    } else {
        assert_eq!(report.total.overdue_rate, None);
    }
    if grouped {
        let got: BTreeMap<String, (i64, i64)> =
            report.groups.iter().map(|g| (g.key.clone(), (g.on_time, g.overdue))).collect();
        assert_eq!(&got, &want.2);
    } else {
        assert!(report.groups.is_empty());
    }
}

async fn items(app: &App) -> Vec<(String, u32)> {
    oversight_store::network::catalogue(&app.db, &oversight_domain::access::Scope::All, None, None)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.item.code.as_str().to_string(), e.item.promised_days as u32))
        .collect()
}

async fn ingest_all(app: &App, lines: &[String]) -> cases::IngestReport {
    let numbered: Vec<(usize, &str)> = lines.iter().enumerate().map(|(i, l)| (i + 1, l.as_str())).collect();
    cases::ingest(app, &Actor::cli(), numbered, |_| {}).await.unwrap()
}

async fn all_reports(app: &App) -> Vec<CaseReport> {
    let mut out = Vec::new();
    let periods = [
        ("2010-12-01", "2011-03-31"),
        ("2011-04-01", "2011-06-30"),
        ("2011-01-01", "2011-12-31"),
        ("2010-01-01", "2012-12-31"),
        // Parts of months: counted from the cases themselves, beside the monthly tallies.
        ("2011-02-10", "2011-05-20"),
        ("2011-03-05", "2011-03-25"),
        ("2011-09-30", "2011-10-31"),
    ];
    for (from, to) in periods {
        let (from, to) = (cases::parse_date(from, "from").unwrap(), cases::parse_date(to, "to").unwrap());
        for g in [None, Some(GroupBy::Level), Some(GroupBy::Venue), Some(GroupBy::Department), Some(GroupBy::Item)] {
            out.push(cases::case_report(app, &Actor::cli(), from, to, &[], g).await.unwrap());
        }
        out.push(
            cases::case_report(app, &Actor::cli(), from, to, &[Level::City, Level::District], Some(GroupBy::Level))
                .await
                .unwrap(),
        );
    }
    out
}

async fn report_matches_the_model_in_any_arrival_order(app: App) {
    let accounts = demo::load(&app).await.unwrap();
    let items = items(&app).await;
    let generated = generate(&items);
    let lines: Vec<String> = generated.iter().flat_map(|c| c.lines.clone()).collect();
    let report = ingest_all(&app, &lines).await;
    assert_eq!(
        (report.accepted, report.duplicate, report.rejected.len()),
        (lines.len(), 0, 0),
        "{:?}",
        report.rejected
    );

    let today = app.now().with_timezone(&app.config.tz()).date_naive();
    let department = |c: &GenCase| {
        format!("460100-D{:02}", {
            let row = String::from_utf8_lossy(demo::ITEMS_CSV)
                .lines()
                .find(|l| l.starts_with(&format!("{},", c.item)))
                .unwrap()
                .to_string();
            row.split(',').nth(2).unwrap().rsplit('D').next().unwrap().parse::<u32>().unwrap()
        })
    };
    // Whole months (from the monthly tallies) and parts of months (from the cases themselves).
    let periods = [
        ("2010-12-01", "2011-03-31"),
        ("2011-04-01", "2011-06-30"),
        ("2011-01-01", "2011-12-31"),
        ("2011-02-10", "2011-05-20"),
        ("2011-03-05", "2011-03-25"),
        ("2011-09-30", "2011-10-31"),
    ];
    for (from, to) in periods {
        let (from, to) = (cases::parse_date(from, "from").unwrap(), cases::parse_date(to, "to").unwrap());
        let r = cases::case_report(&app, &Actor::cli(), from, to, &[], None).await.unwrap();
        check(&r, &expected(&generated, from, to, today, |_| String::new()), false);
        let r = cases::case_report(&app, &Actor::cli(), from, to, &[], Some(GroupBy::Level)).await.unwrap();
        check(&r, &expected(&generated, from, to, today, |c| c.level.as_str().to_string()), true);
        let r = cases::case_report(&app, &Actor::cli(), from, to, &[], Some(GroupBy::Venue)).await.unwrap();
        check(&r, &expected(&generated, from, to, today, |c| c.venue.clone()), true);
        let r = cases::case_report(&app, &Actor::cli(), from, to, &[], Some(GroupBy::Item)).await.unwrap();
        check(&r, &expected(&generated, from, to, today, |c| c.item.clone()), true);
        let r = cases::case_report(&app, &Actor::cli(), from, to, &[], Some(GroupBy::Department)).await.unwrap();
        check(&r, &expected(&generated, from, to, today, department), true);
        let r = cases::case_report(&app, &Actor::cli(), from, to, &[Level::Town], None).await.unwrap();
        let town: Vec<GenCase> = generate(&items).into_iter().filter(|c| c.level == Level::Town).collect();
        check(&r, &expected(&town, from, to, today, |_| String::new()), false);
    }
    // A district sees the cases of its venues; a department those of its items, at any venue.
    let district = oversight_testkit::login(&app, &accounts, "xiuying").await;
    let liaison = oversight_testkit::login(&app, &accounts, "fgw").await;
    let (from, to) = (cases::parse_date("2011-01-01", "from").unwrap(), cases::parse_date("2011-12-31", "to").unwrap());
    let theirs: Vec<GenCase> = generate(&items).into_iter().filter(|c| c.venue.starts_with("460105")).collect();
    let r = cases::case_report(&app, &district, from, to, &[], Some(GroupBy::Venue)).await.unwrap();
    check(&r, &expected(&theirs, from, to, today, |c| c.venue.clone()), true);
    assert!(r.total.settled > 10 && r.groups.len() == 2, "{r:?}");
    let theirs: Vec<GenCase> = generate(&items).into_iter().filter(|c| department(c) == "460100-D01").collect();
    let r = cases::case_report(&app, &liaison, from, to, &[], Some(GroupBy::Item)).await.unwrap();
    check(&r, &expected(&theirs, from, to, today, |c| c.item.clone()), true);
    assert!(r.total.settled > 0, "{r:?}");

    // The data really exercises both outcomes.
    let year = all_reports(&app).await;
    assert!(year.iter().any(|r| r.total.overdue > 10 && r.total.on_time > 10), "{:?}", year[15].total);

    // Sending everything again changes nothing.
    let again = ingest_all(&app, &lines).await;
    assert_eq!((again.accepted, again.duplicate), (0, lines.len()));
    assert_eq!(all_reports(&app).await, year);

    // The same events in another order, into another database: the same figures.
    let other = oversight_testkit::sqlite().await;
    demo::load(&other.app).await.unwrap();
    let mut shuffled = lines.clone();
    let mut rng = Lcg(7);
    for i in (1..shuffled.len()).rev() {
        shuffled.swap(i, rng.next(i as u64 + 1) as usize);
    }
    // In small batches, so that many events wait for their case's receipt.
    for chunk in shuffled.chunks(37) {
        ingest_all(&other.app, chunk).await;
    }
    let theirs = all_reports(&other.app).await;
    for (a, b) in theirs.iter().zip(&year) {
        assert_eq!(a, b, "shuffled arrival gives other figures for {} to {}", b.from, b.to);
    }

    // One batch longer than the ingestion's first chunk (4,096 lines): ids repeated within a
    // chunk and across chunks, and cases whose events fall into both chunks.
    let third = oversight_testkit::sqlite().await;
    demo::load(&third.app).await.unwrap();
    let half = shuffled.len() / 2;
    let prefix = 4096 - half - (shuffled.len() - half) / 2;
    let mut batch: Vec<String> = shuffled[..half].iter().cycle().take(prefix).cloned().collect();
    batch.extend_from_slice(&shuffled);
    // Enough lines after the first chunk that they are not taken into it as a short rest.
    batch.extend(shuffled.iter().cycle().take(4096).cloned());
    let r = ingest_all(&third.app, &batch).await;
    assert_eq!((r.accepted, r.duplicate, r.rejected.len()), (lines.len(), batch.len() - lines.len(), 0));
    let theirs = all_reports(&third.app).await;
    for (a, b) in theirs.iter().zip(&year) {
        assert_eq!(a, b, "one long batch gives other figures for {} to {}", b.from, b.to);
    }
    assert_eq!(ingest_transactions(&third.app).await, 2);

    // A batch a little longer than the first chunk is written in one transaction.
    let fourth = oversight_testkit::sqlite().await;
    demo::load(&fourth.app).await.unwrap();
    let mut batch: Vec<String> = shuffled[..half].iter().cycle().take(4096).cloned().collect();
    batch.extend_from_slice(&shuffled[half..]);
    let r = ingest_all(&fourth.app, &batch).await;
    assert_eq!((r.accepted, r.duplicate), (lines.len(), batch.len() - lines.len()));
    assert_eq!(ingest_transactions(&fourth.app).await, 1);
    assert_eq!(all_reports(&fourth.app).await, year);
}

/// How many transactions ingestion wrote (each writes one audit entry).
async fn ingest_transactions(app: &App) -> usize {
    let all = oversight_store::audit::recent(&app.db, &oversight_domain::access::Scope::All, None, 1000).await.unwrap();
    all.iter().filter(|a| a.action == "case_events.ingest").count()
}

async fn each_event_is_answered_on_its_own(app: App) {
    demo::load(&app).await.unwrap();
    let lines = [
        r#"{"event_id":"a1","case_no":"C1","type":"received","at":"2011-03-01T09:00:00+08:00","item_code":"SX001","venue_code":"460100-V","applicant":{"kind":"organization","name":"海口某公司"}}"#,
        r#"{"event_id":"a2","case_no":"C1","type":"accepted","at":"2011-03-02T09:00:00+08:00"}"#,
        "{broken json",
        r#"{"event_id":"a3","case_no":"C1","type":"extended","at":"2011-03-03T09:00:00+08:00","days":-1,"approved_by":"局长"}"#,
        r#"{"event_id":"a4","case_no":"C2","type":"received","at":"2011-03-01T09:00:00+08:00","item_code":"SX999","venue_code":"460100-V","applicant":{"kind":"person","name":"李"}}"#,
        r#"{"event_id":"a5","case_no":"C2","type":"received","at":"2011-03-01T09:00:00+08:00","item_code":"SX001","venue_code":"469999-V","applicant":{"kind":"person","name":"李"}}"#,
        r#"{"event_id":"a6","case_no":"C1","type":"completed","at":"2011-03-10T09:00:00"}"#,
        r#"{"event_id":"a2","case_no":"C1","type":"accepted","at":"2011-03-02T09:00:00+08:00"}"#,
        r#"{"event_id":"a2","case_no":"C1","type":"accepted","at":"2011-03-05T09:00:00+08:00"}"#,
        "",
        r#"{"event_id":"a7","case_no":"C1","type":"accepted","at":"2011-03-04T09:00:00+08:00"}"#,
        r#"{"event_id":"a8","case_no":"C3","type":"accepted","at":"2011-03-04T09:00:00+08:00"}"#,
    ];
    let numbered: Vec<(usize, &str)> = lines.iter().enumerate().map(|(i, l)| (i + 1, *l)).collect();
    let report = cases::ingest(&app, &Actor::cli(), numbered, |_| {}).await.unwrap();
    let rejected: Vec<(usize, &str)> = report.rejected.iter().map(|e| (e.line, e.field.as_str())).collect();
    assert_eq!(rejected, vec![(3, ""), (4, "days"), (5, "item_code"), (6, "venue_code"), (7, "at"), (9, "event_id")]);
    assert_eq!((report.accepted, report.duplicate), (4, 1));
    // The second acceptance is kept but ignored by the state, and flagged.
    let c1 = oversight_store::cases::case(&app.db, "C1").await.unwrap().unwrap();
    assert_eq!(c1.accepted_on, Some(NaiveDate::from_ymd_opt(2011, 3, 2).unwrap()));
    let view = cases::case_view(&app, &Actor::cli(), "C1").await.unwrap();
    assert_eq!(view.record.anomalies as usize, view.state.anomalies.len());
    let out_of_order: Vec<&str> = view
        .state
        .anomalies
        .iter()
        .filter(|a| a.kind == oversight_domain::case::AnomalyKind::OutOfOrder)
        .filter_map(|a| a.event_id.as_deref())
        .collect();
    assert_eq!(out_of_order, vec!["a7"]);
    assert_eq!(c1.level, Some(Level::City as i32));
    assert_eq!(c1.department_code.as_deref(), Some("460100-D01"));
    // A case without its receipt waits, seen only city-wide.
    let c3 = oversight_store::cases::case(&app.db, "C3").await.unwrap().unwrap();
    assert_eq!((c3.status.as_str(), c3.path.as_str()), ("awaiting_receipt", "/"));
    let late = r#"{"event_id":"a9","case_no":"C3","type":"received","at":"2011-03-03T09:00:00+08:00","item_code":"SX002","venue_code":"460105-V","applicant":{"kind":"person","name":"陈"}}"#;
    cases::ingest(&app, &Actor::cli(), vec![(1, late)], |_| {}).await.unwrap();
    let c3 = oversight_store::cases::case(&app.db, "C3").await.unwrap().unwrap();
    assert_eq!(c3.status, "accepted");
    assert_eq!(c3.deadline, Some(NaiveDate::from_ymd_opt(2011, 3, 9).unwrap()), "SX002 promises 3 working days");
    assert_eq!(c3.path, "/460100/460105/460105-V/");
}

async fn a_department_system_may_send_a_case_before_its_receipt(app: App) {
    demo::load(&app).await.unwrap();
    let (_, secret) = oversight_app::accounts::create_api_key(
        &app,
        &Actor::cli(),
        "秀英区审批系统",
        Some("460105"),
        &oversight_domain::access::KeyPurposes::all(),
    )
    .await
    .unwrap();
    let key = oversight_app::accounts::api_key_actor(&app, &secret).await.unwrap().unwrap();
    let send = |lines: Vec<String>| {
        let app = app.clone();
        let key = key.clone();
        async move {
            let numbered: Vec<(usize, &str)> = lines.iter().enumerate().map(|(i, l)| (i + 1, l.as_str())).collect();
            cases::ingest(&app, &key, numbered, |_| {}).await.unwrap()
        }
    };
    // The acceptance arrives first (a case with no venue yet), then the receipt.
    let accepted = json!({"event_id": "k2", "case_no": "K-1", "type": "accepted", "at": "2011-03-02T09:00:00+08:00"});
    let r = send(vec![accepted.to_string()]).await;
    assert_eq!(r.accepted, 1, "{:?}", r.rejected);
    let received = json!({"event_id": "k1", "case_no": "K-1", "type": "received", "at": "2011-03-01T09:00:00+08:00",
        "item_code": "SX002", "venue_code": "460105-V", "applicant": {"kind": "person", "name": "王"}});
    let r = send(vec![received.to_string()]).await;
    assert_eq!(r.accepted, 1, "{:?}", r.rejected);
    let case = oversight_store::cases::case(&app.db, "K-1").await.unwrap().unwrap();
    assert_eq!((case.status.as_str(), case.path.as_str()), ("accepted", "/460100/460105/460105-V/"));
    // Once received elsewhere, the case is out of reach of this key.
    let other = json!({"event_id": "m1", "case_no": "M-1", "type": "received", "at": "2011-03-01T09:00:00+08:00",
        "item_code": "SX002", "venue_code": "460106-V", "applicant": {"kind": "person", "name": "李"}});
    ingest_all(&app, &[other.to_string()]).await;
    let late = json!({"event_id": "m2", "case_no": "M-1", "type": "accepted", "at": "2011-03-02T09:00:00+08:00"});
    let r = send(vec![late.to_string()]).await;
    assert_eq!((r.accepted, r.rejected.len()), (0, 1));
    // In one batch, each line on its own: a foreign case's lines are refused, a later line of a
    // refused id for a case of the key's own is a new event, an exact repeat a duplicate.
    let step = |id: &str, case_no: &str, day: u32| {
        json!({"event_id": id, "case_no": case_no, "type": "step", "at": format!("2011-03-{day:02}T09:00:00+08:00"),
            "name": "审核"})
        .to_string()
    };
    let r = send(vec![
        step("m3", "M-1", 3),
        step("k3", "K-1", 3),
        step("m3", "M-1", 3),
        step("m3", "K-1", 4),
        step("k3", "K-1", 3),
        step("m3", "K-1", 5),
    ])
    .await;
    let rejected: Vec<(usize, &str)> = r.rejected.iter().map(|e| (e.line, e.field.as_str())).collect();
    assert_eq!(rejected, vec![(1, "case_no"), (3, "case_no"), (6, "event_id")]);
    assert_eq!((r.accepted, r.duplicate), (2, 1));
    let view = cases::case_view(&app, &Actor::cli(), "K-1").await.unwrap();
    let ids: Vec<&str> = view.events.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(ids, vec!["k1", "k2", "k3", "m3"]);
    assert_eq!(oversight_store::cases::events_of_case(&app.db, "M-1").await.unwrap().len(), 1);
}

/// Hardening: events of a case not yet received wait whatever system sends them; when the
/// `received` shows whose the case is, a system that may not report there has added nothing —
/// not a step, not a completion, not a rating — and its events are flagged on the case.
async fn a_system_cannot_add_to_or_take_over_another_systems_case(app: App) {
    demo::load(&app).await.unwrap();
    let key = |name: &'static str, org: &'static str| {
        let app = app.clone();
        async move {
            let (_, secret) = oversight_app::accounts::create_api_key(
                &app,
                &Actor::cli(),
                name,
                Some(org),
                &oversight_domain::access::KeyPurposes::all(),
            )
            .await
            .unwrap();
            oversight_app::accounts::api_key_actor(&app, &secret).await.unwrap().unwrap()
        }
    };
    let xiuying = key("秀英区审批系统", "460105").await;
    let longhua = key("龙华区审批系统", "460106").await;
    let send = |actor: &Actor, lines: Vec<serde_json::Value>| {
        let (app, actor) = (app.clone(), actor.clone());
        async move {
            let texts: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            let numbered: Vec<(usize, &str)> = texts.iter().enumerate().map(|(i, l)| (i + 1, l.as_str())).collect();
            cases::ingest(&app, &actor, numbered, |_| {}).await.unwrap()
        }
    };
    // 龙华's system sends, before the receipt, an acceptance, a completion and a rating of a
    // case that turns out to be 秀英's: all accepted for now (nobody knows whose case it is).
    let early = send(
        &longhua,
        vec![
            json!({"event_id": "L1", "case_no": "XY-1", "type": "accepted", "at": "2011-03-01T10:00:00+08:00"}),
            json!({"event_id": "L2", "case_no": "XY-1", "type": "completed", "at": "2011-03-02T10:00:00+08:00", "result": "approved"}),
            json!({"event_id": "L3", "case_no": "XY-1", "type": "rated", "at": "2011-03-02T11:00:00+08:00", "level": 1, "channel": "web"}),
        ],
    )
    .await;
    assert_eq!(early.accepted, 3, "{:?}", early.rejected);
    // 秀英 receives it at its own hall, and accepts it the next day.
    let own = send(
        &xiuying,
        vec![
            json!({"event_id": "X1", "case_no": "XY-1", "type": "received", "at": "2011-03-01T09:00:00+08:00",
                "item_code": "SX002", "venue_code": "460105-V", "applicant": {"kind": "person", "name": "王"}}),
            json!({"event_id": "X2", "case_no": "XY-1", "type": "accepted", "at": "2011-03-02T09:00:00+08:00"}),
        ],
    )
    .await;
    assert_eq!(own.accepted, 2, "{:?}", own.rejected);
    let case = oversight_store::cases::case(&app.db, "XY-1").await.unwrap().unwrap();
    assert_eq!(case.status.as_str(), "accepted", "龙华's acceptance and completion count for nothing");
    assert_eq!(case.accepted_on, Some(NaiveDate::from_ymd_opt(2011, 3, 2).unwrap()));
    let view = cases::case_view(&app, &Actor::cli(), "XY-1").await.unwrap();
    let flagged: Vec<&str> = view
        .state
        .anomalies
        .iter()
        .filter(|a| a.kind == oversight_domain::case::AnomalyKind::OutOfScope)
        .filter_map(|a| a.event_id.as_deref())
        .collect();
    assert_eq!(flagged, ["L1", "L2", "L3"]);
    assert!(view.state.rating.is_none(), "a rating sent by another district's system is not the case's");
    // 秀英 completes it; the ratings report counts no rating from 龙华 either.
    let done = send(
        &xiuying,
        vec![json!({"event_id": "X3", "case_no": "XY-1", "type": "completed", "at": "2011-03-04T09:00:00+08:00", "result": "approved"})],
    )
    .await;
    assert_eq!(done.accepted, 1, "{:?}", done.rejected);
    let from = NaiveDate::from_ymd_opt(2011, 3, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2011, 3, 31).unwrap();
    let ratings = oversight_app::ratings::rating_report(&app, &Actor::cli(), from, to, None).await.unwrap();
    let total = serde_json::to_value(&ratings).unwrap()["total"].clone();
    assert_eq!((total["completed"].as_i64(), total["rated"].as_i64()), (Some(1), Some(0)), "{total}");
    // And once the case is 秀英's, 龙华's system cannot reach it at all.
    let late = send(
        &longhua,
        vec![json!({"event_id": "L4", "case_no": "XY-1", "type": "step", "at": "2011-03-03T09:00:00+08:00", "name": "审核"})],
    )
    .await;
    assert_eq!((late.accepted, late.rejected[0].field.as_str()), (0, "case_no"));
}

/// Hardening: entering a year re-projects the cases waiting for it, in chunks, after the year
/// is stored. A request cut then (a client gone, a timeout) left the rest without a deadline for
/// good; the re-projection now runs to its end on a task of its own.
async fn a_new_calendar_year_projects_every_waiting_case_even_if_the_request_is_cut(app: App) {
    let accounts = demo::load(&app).await.unwrap();
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 30, 2, 0, 0).unwrap());
    let app = app.with_clock(clock.clone());
    let waiting = 5_000;
    let lines: Vec<String> = (0..waiting)
        .flat_map(|i| {
            [
                json!({"event_id": format!("w{i}r"), "case_no": format!("W-{i}"), "type": "received",
                    "at": "2026-12-28T09:00:00+08:00", "item_code": "SX002", "venue_code": "460100-V",
                    "applicant": {"kind": "person", "name": "周"}}),
                json!({"event_id": format!("w{i}a"), "case_no": format!("W-{i}"), "type": "accepted",
                    "at": "2026-12-29T09:00:00+08:00", "promised_days": 10}),
            ]
        })
        .map(|l| l.to_string())
        .collect();
    ingest_all(&app, &lines).await;
    let admin = oversight_testkit::login(&app, &accounts, "admin").await;
    let entering = oversight_app::calendar::set_year(&app, &admin, 2027, "holiday 2027-01-01..2027-01-01  元旦\n");
    let mut entering = Box::pin(entering);
    // Cut the request as soon as the year is stored, while its cases are being projected.
    let stored = async {
        while oversight_store::calendar::year(&app.db, 2027).await.unwrap().is_none() {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    };
    tokio::select! {
        _ = &mut entering => {}
        () = stored => {}
    }
    drop(entering);
    let deadline = NaiveDate::from_ymd_opt(2027, 1, 13);
    let mut projected = 0;
    // (Up to a minute: a loaded machine takes its time over 5,000 cases; done is done at once.)
    for _ in 0..1_200 {
        let all = oversight_domain::access::Scope::All;
        let cases =
            oversight_store::cases::list_cases(&app.db, &all, &Default::default(), app.today(), 20_000).await.unwrap();
        projected = cases.iter().filter(|c| c.case_no.starts_with("W-") && c.deadline == deadline).count();
        if projected == waiting {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(projected, waiting, "every waiting case has its deadline in the new year");
}

/// A body that fails half-way (a line too long, not UTF-8, past the size limit) ends the
/// request with that error, but every line before it is stored — the chunk being parsed when
/// the fault came included — so resending the body is answered `duplicate` up to the fault.
async fn lines_before_a_fault_of_the_body_are_stored(app: App) {
    use futures_util::StreamExt;
    demo::load(&app).await.unwrap();
    let good = (1..=9_000).map(|i| {
        Ok((
            i,
            json!({"event_id": format!("f{i}"), "case_no": format!("F-{i}"), "type": "received",
                "at": "2011-03-01T09:00:00+08:00", "item_code": "SX001", "venue_code": "460100-V",
                "applicant": {"kind": "person", "name": "李"}})
            .to_string(),
        ))
    });
    let fault = futures_util::stream::iter([Err(oversight_app::AppError::field("body", "第 9001 行不是 UTF-8 文本"))]);
    let body = futures_util::stream::iter(good).chain(fault);
    let cli = Actor::cli();
    let answer = cases::ingest_stream(&app, &cli, cases::Reporting::Live, Box::pin(body), |_| {}).await;
    assert!(matches!(answer, Err(oversight_app::AppError::Invalid(_))), "the fault is the answer");
    for case_no in ["F-1", "F-4096", "F-9000"] {
        assert!(oversight_store::cases::case(&app.db, case_no).await.unwrap().is_some(), "{case_no} stored");
    }
}

async fn cases_waiting_for_a_calendar_year_are_projected_when_it_is_entered(app: App) {
    let accounts = demo::load(&app).await.unwrap();
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 30, 2, 0, 0).unwrap());
    let app = app.with_clock(clock.clone());
    // Accepted on 29 December 2026 with 10 working days: the deadline falls in 2027, which the
    // calendar does not have yet.
    let lines = [
        json!({"event_id": "y1", "case_no": "Y-1", "type": "received", "at": "2026-12-28T09:00:00+08:00",
            "item_code": "SX002", "venue_code": "460100-V", "applicant": {"kind": "person", "name": "周"}}),
        json!({"event_id": "y2", "case_no": "Y-1", "type": "accepted", "at": "2026-12-29T09:00:00+08:00",
            "promised_days": 10}),
    ]
    .map(|l| l.to_string());
    ingest_all(&app, &lines).await;
    let before = oversight_store::cases::case(&app.db, "Y-1").await.unwrap().unwrap();
    assert_eq!((before.deadline, before.outcome.as_str()), (None, "unsettled"));
    let view = cases::case_view(&app, &Actor::cli(), "Y-1").await.unwrap();
    assert!(view.state.calendar_error.is_some());

    let admin = oversight_testkit::login(&app, &accounts, "admin").await;
    oversight_app::calendar::set_year(&app, &admin, 2027, "holiday 2027-01-01..2027-01-01  元旦\n").await.unwrap();
    let after = oversight_store::cases::case(&app.db, "Y-1").await.unwrap().unwrap();
    // 30, 31 December; New Year's Day is a holiday; 4–8 and 11–13 January.
    assert_eq!(after.deadline, NaiveDate::from_ymd_opt(2027, 1, 13));
    assert_eq!((after.outcome.as_str(), after.time_signal.as_deref()), ("running", Some("green")));
    assert!(after.signal_due.is_some(), "the monitor knows when it turns yellow");
    let view = cases::case_view(&app, &Actor::cli(), "Y-1").await.unwrap();
    assert_eq!((view.state.calendar_error.as_deref(), view.state.deadline), (None, after.deadline));
}

/// Two systems sending events of the same cases at the same time (on PostgreSQL each batch has
/// a connection of its own): every case must end up projected from all its events, and the
/// tallies counted once, exactly as when the batches come one after the other.
async fn concurrent_batches_of_the_same_cases_give_the_same_figures(app: App) {
    demo::load(&app).await.unwrap();
    let items = items(&app).await;
    let lines: Vec<String> = generate(&items).into_iter().flat_map(|c| c.lines).collect();

    let reference = oversight_testkit::sqlite().await;
    demo::load(&reference.app).await.unwrap();
    ingest_all(&reference.app, &lines).await;
    let want = all_reports(&reference.app).await;

    // Each case's events alternate between the two senders, in small batches, so that one
    // sender's batch keeps finding cases the other is writing.
    let a: Vec<String> = lines.iter().step_by(2).cloned().collect();
    let b: Vec<String> = lines.iter().skip(1).step_by(2).cloned().collect();
    let send = |part: Vec<String>| {
        let app = app.clone();
        async move {
            let mut accepted = 0;
            for batch in part.chunks(25) {
                accepted += ingest_all(&app, batch).await.accepted;
            }
            accepted
        }
    };
    let (sent_a, sent_b) = tokio::join!(tokio::spawn(send(a)), tokio::spawn(send(b)));
    assert_eq!(sent_a.unwrap() + sent_b.unwrap(), lines.len());
    let got = all_reports(&app).await;
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w, "concurrent batches give other figures for {} to {}", w.from, w.to);
    }
}

async fn ratings_are_taken_like_any_event_and_move_nothing(app: App) {
    demo::load(&app).await.unwrap();
    let lines = [
        r#"{"event_id":"r1","case_no":"R1","type":"received","at":"2011-03-01T09:00:00+08:00","item_code":"SX001","venue_code":"460100-V","applicant":{"kind":"person","name":"王"}}"#,
        r#"{"event_id":"r2","case_no":"R1","type":"accepted","at":"2011-03-01T10:00:00+08:00"}"#,
        r#"{"event_id":"r3","case_no":"R1","type":"completed","at":"2011-03-03T09:00:00+08:00","result":"approved"}"#,
        r#"{"event_id":"r4","case_no":"R1","type":"rated","at":"2011-03-03T09:05:00+08:00","level":1,"channel":"window","comment":"态度差"}"#,
        r#"{"event_id":"r5","case_no":"R1","type":"rated","at":"2011-03-03T09:06:00+08:00","level":7,"channel":"window"}"#,
        r#"{"event_id":"r6","case_no":"R1","type":"rated","at":"2011-03-03T09:07:00+08:00","level":4}"#,
    ];
    let numbered: Vec<(usize, &str)> = lines.iter().enumerate().map(|(i, l)| (i + 1, *l)).collect();
    let report = cases::ingest(&app, &Actor::cli(), numbered, |_| {}).await.unwrap();
    let rejected: Vec<(usize, &str)> = report.rejected.iter().map(|e| (e.line, e.field.as_str())).collect();
    assert_eq!(rejected, vec![(5, "level"), (6, "channel")]);
    assert_eq!(report.accepted, 4);
    // The rating after completion is no anomaly (the others, sent years late, are late reports)
    // and leaves the outcome as it was.
    let record = oversight_store::cases::case(&app.db, "R1").await.unwrap().unwrap();
    assert_eq!((record.status.as_str(), record.outcome.as_str()), ("approved", "on_time"));
    let view = cases::case_view(&app, &Actor::cli(), "R1").await.unwrap();
    let flagged: Vec<&str> = view.state.anomalies.iter().filter_map(|a| a.event_id.as_deref()).collect();
    assert_eq!(flagged, vec!["r1", "r2", "r3"]);
    assert_eq!(view.state.rating.as_ref().map(|r| (r.level, r.comment.as_deref())), Some((1, Some("态度差"))));
}

async fn a_historical_import_alerts_only_on_cases_still_open(app: App) {
    demo::load(&app).await.unwrap();
    // Two cases of 2011, loaded in 2026: H1 closed (with a repeated supplement request, an
    // anomaly), H2 still open and long overdue. The same lines live: every event a late report.
    let lives = |prefix: &str| {
        let e = |id: &str, case: &str, rest: &str| {
            format!(r#"{{"event_id":"{prefix}{id}","case_no":"{prefix}{case}",{rest}}}"#)
        };
        let received = r#""type":"received","at":"2011-03-01T09:00:00+08:00","item_code":"SX001","venue_code":"460100-V","applicant":{"kind":"person","name":"王"}"#;
        vec![
            e("1", "H1", received),
            e("2", "H1", r#""type":"accepted","at":"2011-03-01T10:00:00+08:00""#),
            e("3", "H1", r#""type":"supplement_requested","at":"2011-03-02T10:00:00+08:00""#),
            e("4", "H1", r#""type":"supplement_received","at":"2011-03-03T10:00:00+08:00""#),
            e("5", "H1", r#""type":"supplement_requested","at":"2011-03-04T10:00:00+08:00""#),
            e("6", "H1", r#""type":"supplement_received","at":"2011-03-07T10:00:00+08:00""#),
            e("7", "H1", r#""type":"completed","at":"2011-03-08T10:00:00+08:00","result":"approved""#),
            e("8", "H2", received),
            e("9", "H2", r#""type":"accepted","at":"2011-03-01T10:00:00+08:00""#),
        ]
    };
    let run = |prefix: &'static str, reporting| {
        let app = app.clone();
        async move {
            let mut lines = lives(prefix);
            if prefix == "S" {
                // H1’s completion read in a later chunk than its receipt: open at the end of
                // the first chunk, closed by the import (the filler lines are refused).
                lines.splice(6..6, std::iter::repeat_n("{}".to_string(), 10_000));
            }
            let numbered: Vec<(usize, &str)> = lines.iter().enumerate().map(|(i, l)| (i + 1, l.as_str())).collect();
            let report = cases::ingest_as(&app, &Actor::cli(), reporting, numbered, |_| {}).await.unwrap();
            assert_eq!(report.accepted, 9);
            let mut out = Vec::new();
            for case in ["H1", "H2"] {
                let case_no = format!("{prefix}{case}");
                let view = cases::case_view(&app, &Actor::cli(), &case_no).await.unwrap();
                let anomalies: Vec<&str> = view.state.anomalies.iter().map(|a| a.kind.as_str()).collect();
                let subject = Subject::new(SubjectKind::Case, &case_no);
                let mut alerts: Vec<String> =
                    oversight_app::supervision::alerts(&app, &Actor::cli(), None, Some(&subject))
                        .await
                        .unwrap()
                        .into_iter()
                        .map(|a| a.kind)
                        .collect();
                alerts.sort();
                alerts.dedup();
                out.push((anomalies.iter().map(|a| a.to_string()).collect::<Vec<_>>(), alerts, view.record.outcome));
            }
            out
        }
    };
    let past = run("P", cases::Reporting::Historical).await;
    assert_eq!(past[0], (vec!["repeated_supplement".to_string()], vec![], "on_time".to_string()));
    assert_eq!(past[1], (vec![], vec!["overdue".to_string()], "running".to_string()));
    let split = run("S", cases::Reporting::Historical).await;
    assert_eq!(split, past, "a case closed by a later chunk of the import raises no alert");
    let live = run("L", cases::Reporting::Live).await;
    assert!(live[0].0.iter().filter(|a| *a == "late_report").count() == 7, "{:?}", live[0]);
    assert!(live[0].1.contains(&"repeated_supplement".to_string()), "{:?}", live[0]);
}

async fn the_ratings_report_matches_a_recount(app: App) {
    demo::load(&app).await.unwrap();
    // Cases received and accepted in March 2011 at two venues on four items; most completed over
    // March and April, some never; each rated 0–3 times (the last in `at` order counts, some
    // sent before an earlier one), some ratings defaults.
    let venues = ["460100-V", "460105-V"];
    let items = ["SX001", "SX002", "SX004", "SX005"];
    let mut r = Lcg(42);
    let mut lines = Vec::new();
    // Per case: (venue, item, completion date, last rating (level, default)).
    type Truth<'a> = (&'a str, &'a str, Option<NaiveDate>, Option<(u8, bool)>);
    let mut truth: Vec<Truth> = Vec::new();
    for n in 0..300 {
        let (venue, item) = (venues[r.next(2) as usize], items[r.next(4) as usize]);
        let no = format!("RT-{n}");
        let day = NaiveDate::from_ymd_opt(2011, 3, 1).unwrap() + Days::new(r.next(20));
        let ev = |id: String, kind: &str, date: NaiveDate, minute: u64, extra: serde_json::Value| {
            let mut v = json!({"event_id": id, "case_no": no, "type": kind, "at": at(date, minute)});
            for (k, x) in extra.as_object().unwrap() {
                v[k] = x.clone();
            }
            v.to_string()
        };
        lines.push(ev(
            format!("{no}-r"),
            "received",
            day,
            0,
            json!({"item_code": item, "venue_code": venue,
            "applicant": {"kind": "person", "name": "王"}}),
        ));
        lines.push(ev(format!("{no}-a"), "accepted", day, 1, json!({})));
        let done = (r.next(5) > 0).then(|| day + Days::new(r.next(45)));
        if let Some(done) = done {
            lines.push(ev(format!("{no}-c"), "completed", done, 2, json!({"result": "approved"})));
        }
        let mut last: Option<(u64, u8, bool)> = None;
        for k in 0..r.next(4) {
            // Distinct instants (4a + k): ties in `at` would be taken in arrival order.
            let minute = 10 + 4 * r.next(12) + k;
            let (level, default) = (1 + r.next(5) as u8, r.next(4) == 0);
            let date = done.unwrap_or(day) + Days::new(1);
            lines.push(ev(
                format!("{no}-s{k}"),
                "rated",
                date,
                minute,
                json!({"level": level, "channel": "sms",
                "default": default}),
            ));
            if last.is_none_or(|(m, ..)| minute >= m) {
                last = Some((minute, level, default));
            }
        }
        truth.push((venue, item, done, last.map(|(_, l, d)| (l, d))));
    }
    for i in (1..lines.len()).rev() {
        lines.swap(i, r.next(i as u64 + 1) as usize);
    }
    let report = ingest_all(&app, &lines).await;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    // Every bad rating opened a follow-up; the office and the departments work some of them:
    // appeals upheld (set aside), rectifications reported in time or late, then verified.
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2011, 6, 1, 2, 0, 0).unwrap());
    let worked = app.with_clock(clock.clone());
    let cli = Actor::cli();
    let noon = |d: NaiveDate| Utc.from_utc_datetime(&d.and_hms_opt(4, 0, 0).unwrap());
    // Per case: what its follow-up made of the rating.
    let mut standing: HashMap<String, Standing> = HashMap::new();
    let mut opened = 0;
    for (n, t) in truth.iter().enumerate() {
        let case_no = format!("RT-{n}");
        let follow_up = oversight_store::ratings::follow_up(&app.db, &case_no).await.unwrap();
        assert_eq!(follow_up.is_some(), t.3.is_some_and(|(l, _)| l <= 2), "{case_no}: a follow-up for a bad rating");
        let Some(f) = follow_up else { continue };
        opened += 1;
        let take = |step: &'static str, on: NaiveDate| {
            clock.set(noon(on));
            let (worked, cli, case_no) = (worked.clone(), cli.clone(), case_no.clone());
            async move { ratings::take_step(&worked, &cli, &case_no, step, "已办", "").await.unwrap() }
        };
        match r.next(4) {
            0 => {}
            1 => {
                take("appeal", f.rated_on).await;
                take("uphold", f.rated_on + Days::new(1)).await;
                standing.insert(case_no, Standing::SetAside);
            }
            k => {
                take("contact", f.rated_on).await;
                let reply = if k == 2 { f.rectify_due } else { f.rectify_due + Days::new(1) };
                take("reply", reply).await;
                take("verify", reply + Days::new(7)).await;
                if k == 2 {
                    standing.insert(case_no, Standing::RectifiedOnTime);
                }
            }
        }
    }
    assert!(opened > 20 && standing.values().filter(|s| **s == Standing::SetAside).count() > 3, "{opened}");
    let department_of: HashMap<String, String> =
        oversight_store::network::catalogue(&app.db, &oversight_domain::access::Scope::All, None, None)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.item.code.as_str().to_string(), e.item.department_code.as_str().to_string()))
            .collect();
    for (from, to) in [("2011-03-01", "2011-03-31"), ("2011-04-01", "2011-04-15"), ("2011-03-10", "2011-05-31")] {
        let (from, to) = (cases::parse_date(from, "from").unwrap(), cases::parse_date(to, "to").unwrap());
        let got =
            oversight_app::ratings::rating_report(&app, &Actor::cli(), from, to, Some(GroupBy::Item)).await.unwrap();
        let got = serde_json::to_value(&got).unwrap();
        // The recount: plain filters over what was generated.
        let recount = |keep: &dyn Fn(&str, &str) -> bool| {
            let done: Vec<_> = truth
                .iter()
                .enumerate()
                .filter(|(_, t)| t.2.is_some_and(|d| from <= d && d <= to) && keep(t.0, t.1))
                .map(|(n, t)| (standing.get(&format!("RT-{n}")).copied().unwrap_or_default(), t))
                .collect();
            let set_aside = done.iter().filter(|(s, _)| *s == Standing::SetAside).count();
            let rated: Vec<(u8, bool, Standing)> = done
                .iter()
                .filter(|(s, _)| *s != Standing::SetAside)
                .filter_map(|(s, t)| t.3.map(|r| (r.0, r.1, *s)))
                .collect();
            let level = |l: u8| rated.iter().filter(|r| r.0 == l).count();
            json!({
                "completed": done.len(), "rated": rated.len(), "active": rated.iter().filter(|r| !r.1).count(),
                "by_level": {"1": level(1), "2": level(2), "3": level(3), "4": level(4), "5": level(5)},
                "good": level(4) + level(5), "fair": level(3), "bad": level(1) + level(2),
                "set_aside": set_aside,
                "bad_rectified_on_time": rated.iter().filter(|r| r.2 == Standing::RectifiedOnTime).count(),
            })
        };
        let fields =
            ["completed", "rated", "active", "by_level", "good", "fair", "bad", "set_aside", "bad_rectified_on_time"];
        let pick = |v: &serde_json::Value| fields.iter().map(|f| v[*f].clone()).collect::<Vec<_>>();
        let want = recount(&|_, _| true);
        assert_eq!(pick(&got["total"]), pick(&want), "{from}..{to}");
        let good_rate = want["good"].as_f64().unwrap() / want["rated"].as_f64().unwrap();
        assert_eq!(got["total"]["good_rate"].as_f64(), Some(good_rate));
        for g in got["groups"].as_array().unwrap() {
            let key = g["key"].as_str().unwrap().to_string();
            assert_eq!(pick(g), pick(&recount(&|_, item| item == key)), "{key} {from}..{to}");
        }
        assert_eq!(got["groups"].as_array().unwrap().len(), 4);
        // By window: a department's windows at a venue, the item's department at the case's venue.
        let by_window =
            oversight_app::ratings::rating_report(&app, &Actor::cli(), from, to, Some(GroupBy::Window)).await.unwrap();
        let mut completed = 0;
        for g in &by_window.groups {
            let (venue, department) = g.key.split_once('/').unwrap();
            let want = recount(&|v, item| v == venue && department_of[item] == department);
            assert_eq!(pick(&serde_json::to_value(g).unwrap()), pick(&want), "{} {from}..{to}", g.key);
            let venue_name =
                if venue == "460100-V" { "海口市政务服务中心" } else { "秀英区政务服务中心" };
            assert!(g.name.starts_with(&format!("{venue_name} · ")), "{}", g.name);
            completed += g.figures.counts.completed;
        }
        assert_eq!(completed, by_window.total.counts.completed, "every case in one window's group");
        // Window staff of the city centre see their own windows' ratings, and no one else's.
        let staff = oversight_app::accounts::actor_of(&app, "chuangkou").await.unwrap().unwrap();
        let own = oversight_app::ratings::rating_report(&app, &staff, from, to, Some(GroupBy::Window)).await.unwrap();
        let city: Vec<_> = by_window.groups.iter().filter(|g| g.key.starts_with("460100-V/")).cloned().collect();
        assert!(!city.is_empty());
        assert_eq!(own.groups, city, "the centre's windows, as the office counts them");
    }
}

/// Bulk mode (a bigger page cache, checkpoints off) is SQLite's alone: an ingestion cut short —
/// a client gone, a request timed out — must leave the writer with checkpoints on, or the WAL
/// grows without end. The body here stalls after a first chunk has been written (the writer is
/// in bulk mode then), and the request is dropped while it waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_ingestion_leaves_the_sqlite_writer_out_of_bulk_mode() {
    use futures_util::StreamExt;
    let t = oversight_testkit::sqlite().await;
    let app = t.app.clone();
    demo::load(&app).await.unwrap();
    let oversight_store::Db::Sqlite { write, .. } = &app.db else { unreachable!() };
    let lines = (1..=20_000).map(|i| {
        Ok((
            i,
            format!(
                r#"{{"event_id":"x{i}","case_no":"X{i}","type":"received","at":"2011-03-01T09:00:00+08:00","item_code":"SX001","venue_code":"460100-V","applicant":{{"kind":"person","name":"李"}}}}"#
            ),
        ))
    });
    let stalled = futures_util::stream::iter(lines).chain(futures_util::stream::pending());
    let written = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = written.clone();
    let cli = Actor::cli();
    let ingestion = cases::ingest_stream(&app, &cli, cases::Reporting::Live, Box::pin(stalled), move |n| {
        seen.store(n, std::sync::atomic::Ordering::SeqCst)
    });
    let first_chunk_written = async {
        while written.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    };
    tokio::select! {
        _ = ingestion => panic!("a stalled body never ends"),
        () = first_chunk_written => {}
    }
    // The ingestion is dropped. The writer's one connection, once the release spawned on drop
    // has had it (given two seconds; without the release the writer stays as it is).
    let mut settings = (0, 0);
    for _ in 0..40 {
        let autocheckpoint: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint").fetch_one(write).await.unwrap();
        let cache: i64 = sqlx::query_scalar("PRAGMA cache_size").fetch_one(write).await.unwrap();
        settings = (autocheckpoint, cache);
        if settings == (1000, -2000) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(settings, (1000, -2000), "checkpoints back on, the page cache back to 2 MiB");
    let stored = oversight_store::cases::case(&app.db, "X1").await.unwrap();
    assert!(stored.is_some(), "the chunk written before the cut stays");
}

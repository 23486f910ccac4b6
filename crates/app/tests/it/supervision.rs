//! The monitor, alerts and supervision notices, on both backends: signals move as the clock
//! passes the yellow and red days (and only then), each alert is raised once even with two
//! monitor instances racing, and a notice runs its whole life with every step checked.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use oversight_app::supervision::{self, MonitorPass};
use oversight_app::{Actor, App, AppError, ManualClock, cases, demo};
use oversight_domain::supervision::{AlertStatus, Card, NoticeStatus, NoticeStep, Subject, SubjectKind};
use oversight_store::Db;
use oversight_store::cases::CaseQuery;
use oversight_testkit::login;
use oversight_testkit::on_both_backends;
use serde_json::json;

on_both_backends!(
    monitor_moves_signals_when_their_day_comes,
    two_monitors_never_raise_an_alert_twice,
    a_notice_runs_its_life_within_scope,
    a_task_turning_red_runs_the_same_notice_flow,
    a_task_turning_yellow_reminds_its_lead_department_once
);

/// A key task turning yellow sends its lead department a reminder (催办) through the outbox, by
/// e-mail and SMS, once per spell of yellow however often the monitor looks.
async fn a_task_turning_yellow_reminds_its_lead_department_once(app: App) {
    let (app, clock, _) = setup(&app, local(2026, 3, 2, 11)).await;
    let mut tx = app.db.begin().await.unwrap();
    oversight_store::outbox::set_contacts(&mut tx, "460100-D01", Some("fgw@haikou.example"), Some("13900000001"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // Assigned and signed on Monday 03-02, due Tuesday 03-10: yellow three working days ahead.
    let lines = [
        json!({"event_id": "YT-a", "task_no": "YT-1", "type": "assigned", "at": "2026-03-02T09:00:00+08:00",
            "title": "一网通办上线", "origin": "annual_plan", "lead_department_code": "460100-D01",
            "co_department_codes": [], "due": "2026-03-10", "milestones": []}),
        json!({"event_id": "YT-s", "task_no": "YT-1", "type": "signed", "at": "2026-03-02T10:00:00+08:00",
            "department_code": "460100-D01"}),
    ]
    .map(|l| l.to_string());
    let numbered: Vec<(usize, &str)> = lines.iter().enumerate().map(|(i, l)| (i + 1, l.as_str())).collect();
    oversight_app::tasks::ingest(&app, &Actor::cli(), numbered).await.unwrap();
    let reminders = |app: App| async move {
        let all = oversight_store::outbox::messages(&app.db, None, 1000).await.unwrap();
        all.into_iter().filter(|m| m.kind == "task_reminder").collect::<Vec<_>>()
    };
    assert!(reminders(app.clone()).await.is_empty(), "green: nothing to remind");
    clock.set(local(2026, 3, 5, 9));
    supervision::monitor_pass(&app, "m").await.unwrap();
    supervision::monitor_pass(&app, "m").await.unwrap();
    let record = oversight_store::tasks::record(&app.db, "YT-1").await.unwrap().unwrap();
    assert_eq!(record.light.as_deref(), Some("yellow"));
    let sent = reminders(app.clone()).await;
    let mut channels: Vec<(&str, &str)> = sent.iter().map(|m| (m.channel.as_str(), m.recipient.as_str())).collect();
    channels.sort();
    assert_eq!(channels, [("email", "fgw@haikou.example"), ("sms", "13900000001")]);
    assert!(sent.iter().all(|m| m.subject.contains("YT-1") && m.body.contains("2026-03-10") && m.ticket_no.is_none()));
    // A progress report on the next day changes nothing: the same spell of yellow.
    clock.set(local(2026, 3, 6, 9));
    let progress = json!({"event_id": "YT-p", "task_no": "YT-1", "type": "progress", "at": "2026-03-06T09:00:00+08:00",
        "department_code": "460100-D01", "note": "系统联调中"})
    .to_string();
    oversight_app::tasks::ingest(&app, &Actor::cli(), [(1, progress.as_str())]).await.unwrap();
    supervision::monitor_pass(&app, "m").await.unwrap();
    assert_eq!(reminders(app.clone()).await.len(), 2);
}

/// A local (Asia/Shanghai) instant.
fn local(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600).unwrap().with_ymd_and_hms(y, m, d, h, 0, 0).unwrap().with_timezone(&Utc)
}

/// The demo network, and the application on a clock the test moves.
async fn setup(app: &App, at: DateTime<Utc>) -> (App, Arc<ManualClock>, Vec<demo::DemoAccount>) {
    let accounts = demo::load(app).await.unwrap();
    let clock = ManualClock::new(at);
    (app.with_clock(clock.clone()), clock, accounts)
}

/// Lines of a case received and accepted at the city centre on a day of March 2026, for item
/// SX001 (promised 10 working days, free, department 460100-D01).
fn accepted_case(case_no: &str, day: u32) -> Vec<String> {
    vec![
        json!({"event_id": format!("{case_no}-r"), "case_no": case_no, "type": "received",
            "at": format!("2026-03-{day:02}T09:00:00+08:00"), "item_code": "SX001", "venue_code": "460100-V",
            "applicant": {"kind": "organization", "name": "海口某某公司"}})
        .to_string(),
        json!({"event_id": format!("{case_no}-a"), "case_no": case_no, "type": "accepted",
            "at": format!("2026-03-{day:02}T10:00:00+08:00")})
        .to_string(),
    ]
}

async fn ingest(app: &App, lines: &[String]) -> cases::IngestReport {
    cases::ingest(app, &Actor::cli(), lines.iter().enumerate().map(|(i, l)| (i + 1, l.as_str())), |_| {}).await.unwrap()
}

async fn signal_of(app: &App, case_no: &str) -> Option<String> {
    oversight_store::cases::case(&app.db, case_no).await.unwrap().unwrap().time_signal
}

async fn alert_kinds(app: &App, case_no: &str) -> Vec<String> {
    let mut kinds: Vec<String> =
        supervision::alerts(app, &Actor::cli(), None, Some(&Subject::new(SubjectKind::Case, case_no)))
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.kind)
            .collect();
    kinds.sort();
    kinds
}

async fn monitor_moves_signals_when_their_day_comes(app: App) {
    // Accepted Mon 2026-03-02 with 10 working days: deadline Mon 03-16; yellow on the last two
    // working days (Fri 03-13 and Mon 03-16), red from Tue 03-17.
    let (app, clock, _) = setup(&app, local(2026, 3, 2, 11)).await;
    let report = ingest(&app, &accepted_case("SV-1", 2)).await;
    assert_eq!(report.accepted, 2, "{:?}", report.rejected);
    assert_eq!(signal_of(&app, "SV-1").await.as_deref(), Some("green"));
    assert!(alert_kinds(&app, "SV-1").await.is_empty());

    let pass = supervision::monitor_pass(&app, "a").await.unwrap();
    assert_eq!((pass.leased, pass.due), (true, 0), "nothing is due on the first day");

    clock.set(local(2026, 3, 12, 23));
    assert_eq!(supervision::monitor_pass(&app, "a").await.unwrap().due, 0, "Thursday evening: still green");

    clock.set(local(2026, 3, 13, 8));
    let pass = supervision::monitor_pass(&app, "a").await.unwrap();
    assert_eq!(pass, MonitorPass { leased: true, due: 1, changed: 1, alerts: 1, tasks: 0 });
    assert_eq!(signal_of(&app, "SV-1").await.as_deref(), Some("yellow"));
    assert_eq!(alert_kinds(&app, "SV-1").await, ["yellow"]);
    let again = supervision::monitor_pass(&app, "a").await.unwrap();
    assert_eq!((again.due, again.alerts), (0, 0), "a second pass finds nothing to do");

    // Another instance cannot run while the lease holds.
    let other = supervision::monitor_pass(&app, "b").await.unwrap();
    assert!(!other.leased);

    // Monday the 16th is the deadline itself: still yellow; from Tuesday, red. By then the
    // lease of "a" has expired and "b" takes over.
    clock.set(local(2026, 3, 16, 17));
    assert_eq!(supervision::monitor_pass(&app, "b").await.unwrap().due, 0);
    clock.set(local(2026, 3, 17, 0));
    let pass = supervision::monitor_pass(&app, "b").await.unwrap();
    assert_eq!(pass, MonitorPass { leased: true, due: 1, changed: 1, alerts: 1, tasks: 0 });
    assert_eq!(alert_kinds(&app, "SV-1").await, ["overdue", "yellow"]);
    let dash = supervision::dashboard(&app, &Actor::cli()).await.unwrap();
    assert_eq!((dash.total.green, dash.total.yellow, dash.total.red), (0, 0, 1));
    assert_eq!(dash.open_alerts, 2);
    let red = cases::list(&app, &Actor::cli(), &CaseQuery { signal: Some("red".into()), ..CaseQuery::default() })
        .await
        .unwrap();
    assert_eq!(red.len(), 1);

    // Completion arrives: the case leaves the dashboard, and nothing is left for the monitor.
    let done = json!({"event_id": "SV-1-c", "case_no": "SV-1", "type": "completed",
        "at": "2026-03-16T16:00:00+08:00", "result": "approved"});
    ingest(&app, &[done.to_string()]).await;
    let record = oversight_store::cases::case(&app.db, "SV-1").await.unwrap().unwrap();
    assert_eq!((record.time_signal, record.signal_due), (None, None));
    let dash = supervision::dashboard(&app, &Actor::cli()).await.unwrap();
    assert_eq!(dash.total.open(), 0);

    // A case still not accepted 5 working days after receipt turns red on its acceptance limit.
    clock.set(local(2026, 3, 18, 9));
    let received = json!({"event_id": "SV-2-r", "case_no": "SV-2", "type": "received",
        "at": "2026-03-18T09:00:00+08:00", "item_code": "SX001", "venue_code": "460100-V",
        "applicant": {"kind": "person", "name": "王某"}});
    ingest(&app, &[received.to_string()]).await;
    // 5 working days after Wed 03-18 is Wed 03-25: yellow on that day (its last), red after.
    clock.set(local(2026, 3, 25, 8));
    supervision::monitor_pass(&app, "b").await.unwrap();
    assert_eq!(signal_of(&app, "SV-2").await.as_deref(), Some("yellow"));
    assert_eq!(alert_kinds(&app, "SV-2").await, ["acceptance_yellow"]);
    clock.set(local(2026, 3, 26, 0));
    supervision::monitor_pass(&app, "b").await.unwrap();
    assert_eq!(signal_of(&app, "SV-2").await.as_deref(), Some("red"));
    assert_eq!(alert_kinds(&app, "SV-2").await, ["acceptance_overdue", "acceptance_yellow"]);
}

async fn two_monitors_never_raise_an_alert_twice(app: App) {
    let (app, clock, _) = setup(&app, local(2026, 3, 2, 11)).await;
    let lines: Vec<String> = (0..150).flat_map(|n| accepted_case(&format!("RACE-{n:03}"), 2)).collect();
    assert_eq!(ingest(&app, &lines).await.accepted, 300);
    // A second instance: its own connection pool to the same database.
    let second_db = Db::connect(&app.config.database_url()).await.unwrap();
    let second = App::with_db(second_db, (*app.config).clone(), app.clock.clone());
    clock.set(local(2026, 3, 17, 9));
    let (a, b) =
        tokio::join!(supervision::monitor_pass(&app, "instance-a"), supervision::monitor_pass(&second, "instance-b"));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.leased ^ b.leased, "exactly one instance holds the lease: {a:?} {b:?}");
    assert_eq!(a.alerts + b.alerts, 150, "one overdue alert per case (yellow was skipped while nobody watched)");
    let all = supervision::alerts(&app, &Actor::cli(), Some(AlertStatus::Open), None).await.unwrap();
    assert_eq!(all.len(), 150);
    // Even passes that ignore the lease (a stale instance) cannot raise them again.
    clock.set(local(2026, 3, 18, 9));
    let late = supervision::monitor_pass(&second, "instance-b").await.unwrap();
    assert_eq!(late.alerts, 0);
}

async fn a_notice_runs_its_life_within_scope(app: App) {
    let (app, clock, accounts) = setup(&app, local(2026, 3, 2, 11)).await;
    // Received on the 2nd, accepted on the 12th: 8 working days, beyond the 5 allowed.
    let lines = [
        json!({"event_id": "N-r", "case_no": "N-1", "type": "received", "at": "2026-03-02T09:00:00+08:00",
            "item_code": "SX001", "venue_code": "460100-V", "applicant": {"kind": "person", "name": "李某"}})
        .to_string(),
        json!({"event_id": "N-a", "case_no": "N-1", "type": "accepted", "at": "2026-03-12T09:00:00+08:00"}).to_string(),
    ];
    clock.set(local(2026, 3, 12, 10));
    ingest(&app, &lines).await;
    let office = login(&app, &accounts, "xiaoneng").await;
    let department = login(&app, &accounts, "fgw").await;
    let district = login(&app, &accounts, "xiuying").await;
    let leader = login(&app, &accounts, "lingdao").await;

    let queues = supervision::queues(&app, &office).await.unwrap();
    let alert = queues.open_alerts.iter().find(|a| a.kind == "late_acceptance").expect("late acceptance alert").clone();
    assert_eq!(alert.department_code.as_deref(), Some("460100-D01"));
    // The department sees the case (it is responsible for the item) but cannot send notices;
    // the district office does not see a city case at all; a leader only reads.
    cases::case_view(&app, &department, "N-1").await.unwrap();
    let err = supervision::issue_notice(&app, &department, &alert.id, "请整改", 3).await.unwrap_err();
    assert!(matches!(err, AppError::Forbidden(_)), "{err:?}");
    let err = supervision::issue_notice(&app, &district, &alert.id, "请整改", 3).await.unwrap_err();
    assert!(matches!(err, AppError::NotFound(_)), "{err:?}");
    assert!(supervision::issue_notice(&app, &leader, &alert.id, "请整改", 3).await.is_err());
    let err = supervision::issue_notice(&app, &office, &alert.id, "  ", 3).await.unwrap_err();
    assert!(matches!(err, AppError::Invalid(_)));

    // Thu 03-12 + 3 working days = Tue 03-17.
    let notice = supervision::issue_notice(&app, &office, &alert.id, "请说明受理超时原因并整改", 3).await.unwrap();
    assert_eq!(notice.reply_by.to_string(), "2026-03-17");
    assert!(notice.number.starts_with("督办〔2026〕"));
    assert!(supervision::issue_notice(&app, &office, &alert.id, "再发一次", 3).await.is_err(), "one notice per alert");
    let mine = supervision::queues(&app, &department).await.unwrap();
    assert_eq!(mine.mine.len(), 1, "the notice waits for the department");
    assert!(supervision::queues(&app, &office).await.unwrap().theirs.iter().any(|n| n.id == notice.id));

    // Before the reply date the office cannot card an unanswered notice; nobody but the
    // department replies; a reply needs words.
    let card = NoticeStep::GiveCard(Card::Yellow);
    assert!(matches!(supervision::notice_step(&app, &office, &notice.id, card, "").await, Err(AppError::Invalid(_))));
    assert!(matches!(
        supervision::notice_step(&app, &office, &notice.id, NoticeStep::Reply, "我替他们回复").await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        supervision::notice_step(&app, &department, &notice.id, NoticeStep::Reply, "").await,
        Err(AppError::Invalid(_))
    ));
    let s = supervision::notice_step(&app, &department, &notice.id, NoticeStep::Reply, "窗口人员请假，已调整排班")
        .await
        .unwrap();
    assert_eq!(s, NoticeStatus::Replied);
    assert!(matches!(
        supervision::notice_step(&app, &department, &notice.id, NoticeStep::Close, "").await,
        Err(AppError::Forbidden(_))
    ));
    let s = supervision::notice_step(&app, &office, &notice.id, card, "理由不成立").await.unwrap();
    assert_eq!(s, NoticeStatus::Carded(Card::Yellow));
    let s =
        supervision::notice_step(&app, &department, &notice.id, NoticeStep::Appeal, "系统故障，有记录").await.unwrap();
    assert_eq!(s, NoticeStatus::Appealed(Card::Yellow));
    assert!(supervision::queues(&app, &office).await.unwrap().mine.iter().any(|n| n.id == notice.id));
    let s =
        supervision::notice_step(&app, &office, &notice.id, NoticeStep::DecideAppeal(false), "故障记录不涉及该时段")
            .await
            .unwrap();
    assert_eq!(s, NoticeStatus::CardUpheld(Card::Yellow));
    assert!(
        supervision::notice_step(&app, &department, &notice.id, NoticeStep::Appeal, "再申诉").await.is_err(),
        "a decided appeal is final"
    );

    let view = supervision::notice_view(&app, &department, &notice.id).await.unwrap();
    let steps: Vec<&str> = view.steps.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(steps, ["issue", "reply", "yellow_card", "appeal", "appeal_refused"]);
    assert!(view.next_steps.is_empty());
    assert_eq!(view.alert.unwrap().status.as_str(), "resolved");
    assert!(matches!(supervision::notice_view(&app, &district, &notice.id).await, Err(AppError::NotFound(_))));
    let case = cases::case_view(&app, &office, "N-1").await.unwrap();
    assert_eq!(case.steps.len(), 5, "the steps are on the case's timeline");
    let audit = oversight_store::audit::verify(&app.db).await.unwrap();
    assert_eq!(audit.first_break, None);

    // Overdue replies may be carded without a reply; a dismissed alert cannot be noticed.
    let second = supervision::queues(&app, &office).await.unwrap().open_alerts;
    if let Some(other) = second.first() {
        supervision::dismiss_alert(&app, &office, &other.id, "数据补录造成").await.unwrap();
        assert!(supervision::issue_notice(&app, &office, &other.id, "x", 3).await.is_err());
    }
    let lines2 = [
        json!({"event_id": "N2-r", "case_no": "N-2", "type": "received", "at": "2026-03-12T09:00:00+08:00",
            "item_code": "SX001", "venue_code": "460100-V", "applicant": {"kind": "person", "name": "张某"}})
        .to_string(),
        json!({"event_id": "N2-f", "case_no": "N-2", "type": "fee", "at": "2026-03-12T09:30:00+08:00", "amount_cents": 500})
            .to_string(),
    ];
    ingest(&app, &lines2).await;
    let fee =
        supervision::alerts(&app, &office, Some(AlertStatus::Open), Some(&Subject::new(SubjectKind::Case, "N-2")))
            .await
            .unwrap();
    let fee = fee.iter().find(|a| a.kind == "fee_on_free_item").expect("fee alert");
    let n2 = supervision::issue_notice(&app, &office, &fee.id, "退还费用", 1).await.unwrap();
    clock.set(local(2026, 3, 16, 9));
    let s =
        supervision::notice_step(&app, &office, &n2.id, NoticeStep::GiveCard(Card::Red), "逾期未回复").await.unwrap();
    assert_eq!(s, NoticeStatus::Carded(Card::Red));
}

async fn a_task_turning_red_runs_the_same_notice_flow(app: App) {
    let (app, clock, accounts) = setup(&app, local(2026, 3, 2, 11)).await;
    // Assigned on Monday 03-02 to 市发改委: it must sign by Wednesday 03-04 (2 working days).
    let assigned = json!({"event_id": "RT-a", "task_no": "RT-1", "type": "assigned", "at": "2026-03-02T09:00:00+08:00",
        "title": "企业开办提速", "origin": "annual_plan", "lead_department_code": "460100-D01",
        "co_department_codes": [], "due": "2026-06-30", "milestones": []})
    .to_string();
    oversight_app::tasks::ingest(&app, &Actor::cli(), [(1, assigned.as_str())]).await.unwrap();
    let record = oversight_store::tasks::record(&app.db, "RT-1").await.unwrap().unwrap();
    assert_eq!(
        (record.light.as_deref(), record.light_due.map(|d| d.to_string())),
        (Some("green"), Some("2026-03-05".into()))
    );
    let task_alerts = |app: App| async move {
        let subject = Subject::new(SubjectKind::Task, "RT-1");
        supervision::alerts(&app, &Actor::cli(), None, Some(&subject)).await.unwrap()
    };
    clock.set(local(2026, 3, 4, 23));
    supervision::monitor_pass(&app, "m").await.unwrap();
    assert!(task_alerts(app.clone()).await.is_empty(), "still within the sign limit");
    // Thursday: unsigned past the limit, red; the monitor raises one alert, however often it looks.
    clock.set(local(2026, 3, 5, 9));
    supervision::monitor_pass(&app, "m").await.unwrap();
    supervision::monitor_pass(&app, "m").await.unwrap();
    let alerts = task_alerts(app.clone()).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!((alerts[0].kind.as_str(), alerts[0].department_code.as_deref()), ("task_red", Some("460100-D01")));
    let record = oversight_store::tasks::record(&app.db, "RT-1").await.unwrap().unwrap();
    assert_eq!((record.light.as_deref(), record.light_due), (Some("red"), None), "red lasts until an event");

    // The office's queue, the notice, the department's reply: the flow of cases, unchanged.
    let office = login(&app, &accounts, "xiaoneng").await;
    let department = login(&app, &accounts, "fgw").await;
    let queued = supervision::queues(&app, &office).await.unwrap();
    assert!(queued.open_alerts.iter().any(|a| a.id == alerts[0].id));
    let notice = supervision::issue_notice(&app, &office, &alerts[0].id, "请立即签收并报送进展", 3).await.unwrap();
    assert_eq!((notice.subject_kind, notice.subject_id.as_str()), (SubjectKind::Task, "RT-1"));
    assert!(supervision::queues(&app, &department).await.unwrap().mine.iter().any(|n| n.id == notice.id));
    supervision::notice_step(&app, &department, &notice.id, NoticeStep::Reply, "已签收，补报进展").await.unwrap();
    let s = supervision::notice_step(&app, &office, &notice.id, NoticeStep::Close, "").await.unwrap();
    assert_eq!(s, NoticeStatus::Closed);
    let view = oversight_app::tasks::task_view(&app, &department, "RT-1").await.unwrap();
    assert_eq!((view.alerts.len(), view.notices.len()), (1, 1), "on the task's page");
}

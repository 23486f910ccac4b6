//! The live hotline on both backends: an order's whole life by the roles of the demo, what each
//! role may do and see, the citizen's query code, and bad input that changes nothing.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use oversight_app::hotline::{self, Intake, NewOrder, StepInput};
use oversight_app::{Actor, App, AppError, ManualClock, demo};
use oversight_domain::ticket::Channel;
use oversight_domain::workorder::OrderStatus;
use oversight_store::orders;
use oversight_testkit::login as actor;
use oversight_testkit::on_both_backends;

on_both_backends!(
    an_order_runs_from_the_web_to_a_rated_close,
    bad_orders_and_illegal_steps_change_nothing,
    orders_filed_at_once_are_numbered_and_audited_in_order,
    the_demo_has_a_living_hotline,
    deadlines_in_a_year_not_entered_are_estimated_then_recomputed,
    pages_of_orders_go_through_every_order_once,
    who_called_is_shown_order_by_order
);

/// Hardening: one person can be the hotline's operator in one district and a department's
/// liaison in another. Lists decided once for all rows (may the viewer see callers anywhere?),
/// so the liaison saw who complained about their own department. Now each order decides.
async fn who_called_is_shown_order_by_order(app: App) {
    use oversight_domain::access::{Grant, Grants, Role};
    use oversight_domain::org::OrgPath;
    let (app, _clock, accounts) = setup(&app).await;
    let operator = actor(&app, &accounts, "rexian").await;
    let path = async |code: &str| {
        let unit = oversight_store::network::unit(&app.db, code).await.unwrap().unwrap();
        OrgPath::from_stored(unit.path.as_str().to_string())
    };
    let both = Actor {
        user_id: Some("two-hats".into()),
        label: "user:two-hats".into(),
        display_name: "身兼两职".into(),
        grants: Grants(vec![
            Grant { role: Role::Operator, path: path("460105").await },
            Grant { role: Role::Liaison, path: path("460106-D01").await },
        ]),
        everything: false,
        key_purposes: None,
    };
    let mut numbers = Vec::new();
    for department in ["460105-D01", "460106-D01"] {
        let new = NewOrder {
            kind: "complaint".into(),
            summary: "窗口态度差".into(),
            caller_name: "投诉人".into(),
            caller_phone: "13812345678".into(),
            ..Default::default()
        };
        let c = hotline::create_order(&app, Intake::Operator(&operator, Channel::Phone), &new.parse().unwrap())
            .await
            .unwrap();
        let dispatch = StepInput { step: "dispatch".into(), department_code: department.into(), ..Default::default() };
        hotline::order_step(&app, &operator, &c.ticket_no, &dispatch).await.unwrap();
        numbers.push(c.ticket_no);
    }
    let lines = hotline::list_orders(&app, &both, &Default::default()).await.unwrap();
    let phone = |no: &str| lines.iter().find(|l| l.ticket_no == no).map(|l| l.phone.clone());
    assert_eq!(phone(&numbers[0]), Some(Some("138****5678".into())), "the operator's district: masked phone");
    assert_eq!(phone(&numbers[1]), Some(None), "the liaison's department: listed, but never who called");
}

/// Hardening: scans of every late or open order (the hotline's watch, the calendar's
/// re-scheduling) went through the newest 10,000 only, so the oldest, latest orders were never
/// alerted. They now go page by page; a page starts after the last order of the one before,
/// and orders received at the same instant are told apart by their numbers.
async fn pages_of_orders_go_through_every_order_once(app: App) {
    let (app, _clock, _) = setup(&app).await;
    let mut filed = Vec::new();
    for i in 0..7 {
        let new = NewOrder {
            kind: "complaint".into(),
            summary: format!("窗口办事拖沓 {i}"),
            anonymous: true,
            ..Default::default()
        };
        filed.push(hotline::create_order(&app, Intake::Citizen, &new.parse().unwrap()).await.unwrap().ticket_no);
    }
    let mut filter = Some(orders::OrderFilter { limit: 3, ..Default::default() });
    let mut seen = Vec::new();
    let mut pages = 0;
    while let Some(page) = filter {
        let part =
            orders::list(&app.db, &oversight_domain::access::Scope::All, &page, app.now(), app.today()).await.unwrap();
        filter = page.next_page(&part);
        seen.extend(part.into_iter().map(|o| o.ticket.ticket_no));
        pages += 1;
    }
    filed.reverse();
    assert_eq!(seen, filed, "newest first, each once, all received at the same instant");
    assert_eq!(pages, 3);
}

fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600).unwrap().with_ymd_and_hms(y, m, d, h, min, 0).unwrap().with_timezone(&Utc)
}

async fn setup(app: &App) -> (App, Arc<ManualClock>, Vec<demo::DemoAccount>) {
    let accounts = demo::load(app).await.unwrap();
    let clock = ManualClock::new(local(2026, 11, 2, 10, 0));
    (app.with_clock(clock.clone()), clock, accounts)
}

fn step(step: &str, note: &str) -> StepInput {
    StepInput { step: step.into(), note: note.into(), ..Default::default() }
}

async fn audit_actions(app: &App, action: &str) -> usize {
    oversight_store::audit::recent(&app.db, &oversight_domain::access::Scope::All, None, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == action)
        .count()
}

async fn an_order_runs_from_the_web_to_a_rated_close(app: App) {
    let (app, clock, accounts) = setup(&app).await;
    let operator = actor(&app, &accounts, "rexian").await;
    let office = actor(&app, &accounts, "xiaoneng").await;
    let liaison = actor(&app, &accounts, "fgw").await;
    let window = actor(&app, &accounts, "chuangkou").await;

    // A citizen files a complaint on the web and keeps the query code.
    let new = NewOrder {
        kind: "complaint".into(),
        summary: "企业投资项目核准材料交了三次还没受理，窗口说要找发改委".into(),
        caller_name: "王小明".into(),
        caller_phone: "138 1234 5678".into(),
        venue_code: "460100-V".into(),
        ..Default::default()
    };
    let created = hotline::create_order(&app, Intake::Citizen, &new.parse().unwrap()).await.unwrap();
    assert_eq!(created.ticket_no, "H2026110200001");
    assert_eq!(created.query_code.len(), 8);
    let seen = hotline::public_view(&app, &created.ticket_no, &created.query_code.to_lowercase()).await.unwrap();
    assert_eq!(seen.status, OrderStatus::Received);
    assert!(matches!(hotline::public_view(&app, &created.ticket_no, "WRONGCOD").await, Err(AppError::NotFound(_))));

    // The operator sees it to dispatch, with the phone masked, and the suggested department
    // (the catalogue item named in the summary belongs to 460100-D01).
    let queues = hotline::queues(&app, &operator).await.unwrap();
    let to_dispatch = queues.iter().find(|q| q.key == "dispatch").unwrap();
    assert_eq!(to_dispatch.orders.len(), 1);
    assert_eq!(to_dispatch.orders[0].phone.as_deref(), Some("138****5678"));
    let view = hotline::order_view(&app, &operator, &created.ticket_no, false).await.unwrap();
    assert_eq!(view.suggested.as_deref(), Some("460100-D01"));
    assert_eq!(view.departments[0].0, "460100-D01");
    assert_eq!((view.caller.name.as_deref(), view.caller.revealed), (Some("王**"), false));
    let before = audit_actions(&app, "order.caller_view").await;
    let revealed = hotline::order_view(&app, &operator, &created.ticket_no, true).await.unwrap();
    assert_eq!(revealed.caller.phone.as_deref(), Some("13812345678"));
    assert_eq!(audit_actions(&app, "order.caller_view").await, before + 1);

    // Dispatch at 11:00 on Monday 2 November: signing due at 15:30 (lunch 12:00–14:30).
    clock.set(local(2026, 11, 2, 11, 0));
    let dispatch = StepInput { department_code: "460100-D01".into(), ..step("dispatch", "") };
    hotline::order_step(&app, &operator, &created.ticket_no, &dispatch).await.unwrap();
    let row = orders::order(&app.db, &created.ticket_no).await.unwrap().unwrap();
    assert_eq!(row.sign_due, Some(local(2026, 11, 2, 15, 30)));
    assert_eq!(row.reply_due.unwrap().to_string(), "2026-11-23");

    // The department sees it, but never who called; the window (complained about) neither.
    for who in [&liaison, &window] {
        let v = hotline::order_view(&app, who, &created.ticket_no, true).await.unwrap();
        assert!(!v.caller.may_see);
        assert_eq!((v.caller.name.clone(), v.caller.phone.clone()), (None, None));
        assert_eq!((v.order.caller_name.clone(), v.order.caller_phone.clone()), (None, None));
        assert!(v.history.is_empty());
    }
    assert!(hotline::caller_history(&app, &liaison, "13812345678").await.is_err());
    let queues = hotline::queues(&app, &liaison).await.unwrap();
    let to_sign = queues.iter().find(|q| q.key == "sign").unwrap();
    assert_eq!(to_sign.orders.len(), 1);
    assert_eq!(to_sign.orders[0].phone, None);

    // Signing late is late: at 15:31 the queue of what is late holds it.
    clock.set(local(2026, 11, 2, 15, 31));
    let late = hotline::queues(&app, &office).await.unwrap();
    assert_eq!(late.iter().find(|q| q.key == "late").unwrap().orders.len(), 1);
    // The operator cannot sign for the department; the department signs, asks for 5 more days.
    assert!(matches!(
        hotline::order_step(&app, &operator, &created.ticket_no, &step("sign", "")).await,
        Err(AppError::Forbidden(_))
    ));
    hotline::order_step(&app, &liaison, &created.ticket_no, &step("sign", "")).await.unwrap();
    let ext = StepInput { days: Some(5), ..step("request_extension", "需现场核查") };
    hotline::order_step(&app, &liaison, &created.ticket_no, &ext).await.unwrap();
    let office_queues = hotline::queues(&app, &office).await.unwrap();
    assert_eq!(office_queues.iter().find(|q| q.key == "extensions").unwrap().orders.len(), 1);
    hotline::order_step(&app, &office, &created.ticket_no, &step("approve_extension", "")).await.unwrap();
    let row = orders::order(&app.db, &created.ticket_no).await.unwrap().unwrap();
    assert_eq!(row.reply_due.unwrap().to_string(), "2026-11-30");

    // Reply, then two unsatisfied visits (two redos) and a satisfied one.
    for round in 1..=3 {
        clock.set(local(2026, 11, 3 + round, 10, 0));
        hotline::order_step(&app, &liaison, &created.ticket_no, &step("reply", "已受理并办结核准")).await.unwrap();
        let visit =
            StepInput { satisfaction: if round < 3 { "unsatisfied" } else { "satisfied" }.into(), ..step("visit", "") };
        let status = hotline::order_step(&app, &operator, &created.ticket_no, &visit).await.unwrap();
        assert_eq!(status, if round < 3 { OrderStatus::Signed } else { OrderStatus::Closed });
    }
    let row = orders::order(&app.db, &created.ticket_no).await.unwrap().unwrap();
    assert_eq!((row.redo_count, row.escalated, row.satisfaction.as_deref()), (2, false, Some("satisfied")));
    assert_eq!(row.closed_on.unwrap().to_string(), "2026-11-06");

    // The citizen sees the result and the reply; the timeline holds every step.
    let seen = hotline::public_view(&app, &created.ticket_no, &created.query_code).await.unwrap();
    assert_eq!(seen.status, OrderStatus::Closed);
    assert_eq!(seen.reply.as_deref(), Some("已受理并办结核准"));
    let view = hotline::order_view(&app, &office, &created.ticket_no, false).await.unwrap();
    let words: Vec<&str> = view.steps.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(
        words,
        [
            "create",
            "dispatch",
            "sign",
            "request_extension",
            "approve_extension",
            "reply",
            "visit",
            "redo",
            "reply",
            "visit",
            "redo",
            "reply",
            "visit"
        ]
    );
    assert!(view.next_steps.is_empty());

    // The office looks the caller up by phone (audited) and finds the order.
    let before = audit_actions(&app, "caller.lookup").await;
    let history = hotline::caller_history(&app, &operator, "13812345678").await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(audit_actions(&app, "caller.lookup").await, before + 1);

    // A consultation taken on the phone is answered at once; an anonymous one keeps no identity.
    let consult = NewOrder {
        kind: "consultation".into(),
        summary: "办理驾驶证换证需要带什么材料".into(),
        caller_name: "李四".into(),
        caller_phone: "13900000000".into(),
        anonymous: true,
        ..Default::default()
    };
    let c = hotline::create_order(&app, Intake::Operator(&operator, Channel::Phone), &consult.parse().unwrap())
        .await
        .unwrap();
    let row = orders::order(&app.db, &c.ticket_no).await.unwrap().unwrap();
    assert!(row.anonymous && row.caller_name.is_none() && row.caller_phone.is_none());
    assert_eq!(row.channel.as_str(), "phone");
    let status = hotline::order_step(&app, &operator, &c.ticket_no, &step("answer", "身份证、原驾驶证、体检证明"))
        .await
        .unwrap();
    assert_eq!(status, OrderStatus::Closed);
}

async fn bad_orders_and_illegal_steps_change_nothing(app: App) {
    let (app, clock, accounts) = setup(&app).await;
    let operator = actor(&app, &accounts, "rexian").await;
    let liaison = actor(&app, &accounts, "fgw").await;
    let leader = actor(&app, &accounts, "lingdao").await;

    let bad = NewOrder {
        kind: "rant".into(),
        summary: "字".repeat(hotline::MAX_SUMMARY + 1),
        caller_phone: "12ab".into(),
        ..Default::default()
    };
    let Err(AppError::Invalid(errors)) = hotline::parse_order(&bad) else {
        panic!("a bad order must be refused");
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["type", "summary", "caller_phone"]);
    let unknown = NewOrder {
        kind: "complaint".into(),
        summary: "窗口态度差".into(),
        department_code: "460100-D99".into(),
        ..Default::default()
    };
    assert!(matches!(
        hotline::create_order(&app, Intake::Citizen, &unknown.parse().unwrap()).await,
        Err(AppError::Invalid(_))
    ));
    // A leader reads; it does not take orders.
    let ok = NewOrder { kind: "help".into(), summary: "低保申请进度查询".into(), ..Default::default() };
    assert!(matches!(
        hotline::create_order(&app, Intake::Operator(&leader, Channel::Phone), &ok.parse().unwrap()).await,
        Err(AppError::Forbidden(_))
    ));
    let all = |app: App| async move {
        orders::list(
            &app.db,
            &oversight_domain::access::Scope::All,
            &orders::OrderFilter { limit: 100, ..Default::default() },
            app.now(),
            app.today(),
        )
        .await
        .unwrap()
        .len()
    };
    assert_eq!(all(app.clone()).await, 0);

    let created = hotline::create_order(&app, Intake::Citizen, &ok.parse().unwrap()).await.unwrap();
    // A reply before dispatch and signing, a visit on an open order, a dispatch to a venue.
    for (who, input) in [
        (&operator, step("visit", "")),
        (&operator, StepInput { department_code: "460100-V".into(), ..step("dispatch", "") }),
        (&operator, StepInput { department_code: "".into(), ..step("dispatch", "") }),
        (&operator, step("fly", "")),
    ] {
        assert!(hotline::order_step(&app, who, &created.ticket_no, &input).await.is_err());
    }
    // The department cannot act on an order not sent to it.
    assert!(hotline::order_step(&app, &liaison, &created.ticket_no, &step("sign", "")).await.is_err());
    let dispatch = StepInput { department_code: "460100-D01".into(), ..step("dispatch", "") };
    hotline::order_step(&app, &operator, &created.ticket_no, &dispatch).await.unwrap();
    assert!(hotline::order_step(&app, &liaison, &created.ticket_no, &step("reply", "已办")).await.is_err());
    // 退单 needs a reason and must come within two working days (Monday → Wednesday).
    assert!(hotline::order_step(&app, &liaison, &created.ticket_no, &step("return", "  ")).await.is_err());
    clock.set(local(2026, 11, 5, 9, 0));
    let Err(AppError::Invalid(e)) =
        hotline::order_step(&app, &liaison, &created.ticket_no, &step("return", "非本部门职责")).await
    else {
        panic!("a late return must be refused");
    };
    assert!(e[0].reason.contains("2026-11-04"), "{}", e[0].reason);
    let row = orders::order(&app.db, &created.ticket_no).await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.version), ("dispatched", 1));
    clock.set(local(2026, 11, 4, 9, 0));
    hotline::order_step(&app, &liaison, &created.ticket_no, &step("return", "非本部门职责，应由民政局办理"))
        .await
        .unwrap();
    let row = orders::order(&app.db, &created.ticket_no).await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.returned_count, row.subject_department_code.clone()), ("received", 1, None));
    // Returned, it left the department's sight.
    assert!(hotline::order_view(&app, &liaison, &created.ticket_no, false).await.is_err());
}

async fn orders_filed_at_once_are_numbered_and_audited_in_order(app: App) {
    let (app, _clock, _) = setup(&app).await;
    let files = (0..60).map(|i| {
        let app = app.clone();
        tokio::spawn(async move {
            let new = NewOrder { kind: "help".into(), summary: format!("求助 {i}"), ..Default::default() };
            hotline::create_order(&app, Intake::Citizen, &new.parse().unwrap()).await.unwrap().ticket_no
        })
    });
    let mut numbers = Vec::new();
    for f in files.collect::<Vec<_>>() {
        numbers.push(f.await.unwrap());
    }
    numbers.sort();
    let expected: Vec<String> = (1..=60).map(|n| format!("H20261102{n:05}")).collect();
    assert_eq!(numbers, expected, "one number each, none skipped");
    let report = oversight_store::audit::verify(&app.db).await.unwrap();
    assert!(report.first_break.is_none(), "the audit chain holds: {report:?}");
    let steps = orders::steps(&app.db, "H2026110200060").await.unwrap();
    assert_eq!(steps.len(), 1);
}

async fn the_demo_has_a_living_hotline(app: App) {
    let (app, clock, accounts) = setup(&app).await;
    clock.set(local(2026, 11, 27, 18, 0));
    let orders = oversight_app::demo::load_orders(&app, 30).await.unwrap();
    assert!(orders > 50, "{orders}");
    let operator = actor(&app, &accounts, "rexian").await;
    let liaison = actor(&app, &accounts, "fgw").await;
    let office = actor(&app, &accounts, "xiaoneng").await;
    let count =
        |queues: &[hotline::Queue], key: &str| queues.iter().find(|q| q.key == key).map_or(0, |q| q.orders.len());
    let q = hotline::queues(&app, &operator).await.unwrap();
    assert!(count(&q, "dispatch") >= 1 && count(&q, "visit") >= 1, "the operator has work");
    let q = hotline::queues(&app, &liaison).await.unwrap();
    assert!(count(&q, "sign") + count(&q, "handle") >= 1, "the department has work");
    let q = hotline::queues(&app, &office).await.unwrap();
    assert!(count(&q, "extensions") >= 1, "an extension waits for the office");
    let r = oversight_app::tickets::ticket_report(
        &app,
        &Actor::cli(),
        chrono::NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
        chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(r.received, orders as i64);
    assert!(r.closed > 0 && r.satisfaction_rate.is_some() && r.rates.on_time_sign_rate.is_some(), "{r:?}");
}

async fn deadlines_in_a_year_not_entered_are_estimated_then_recomputed(app: App) {
    let (app, clock, accounts) = setup(&app).await;
    let operator = actor(&app, &accounts, "rexian").await;
    let admin = actor(&app, &accounts, "admin").await;
    clock.set(local(2026, 12, 21, 9, 0));
    let new = NewOrder { kind: "complaint".into(), summary: "年底投诉".into(), ..Default::default() };
    let no = hotline::create_order(&app, Intake::Citizen, &new.parse().unwrap()).await.unwrap().ticket_no;
    clock.set(local(2026, 12, 21, 10, 0));
    let dispatch = StepInput { department_code: "460100-D01".into(), ..step("dispatch", "") };
    hotline::order_step(&app, &operator, &no, &dispatch).await.unwrap();
    let row = orders::order(&app.db, &no).await.unwrap().unwrap();
    assert!(row.deadline_estimated, "2027 is not entered: the deadline is an estimate");
    assert_eq!(row.reply_due.unwrap().to_string(), "2027-01-11");
    // The administrator enters 2027 (New Year's Day a holiday): the deadline moves, the estimate
    // is gone, and the timeline says why.
    assert_eq!(oversight_app::calendar::next_year_missing(&app).await.unwrap(), Some(2027), "the home page warns");
    oversight_app::calendar::set_year(&app, &admin, 2027, "holiday 2027-01-01..2027-01-01  元旦\n").await.unwrap();
    assert_eq!(oversight_app::calendar::next_year_missing(&app).await.unwrap(), None);
    let row = orders::order(&app.db, &no).await.unwrap().unwrap();
    assert!(!row.deadline_estimated);
    assert_eq!(row.reply_due.unwrap().to_string(), "2027-01-12");
    let steps = orders::steps(&app.db, &no).await.unwrap();
    let last = steps.last().unwrap();
    assert_eq!(last.step, "reschedule");
    assert!(last.note.contains("2027-01-11 → 2027-01-12"), "{}", last.note);
}

mod rates {
    use super::*;
    use chrono::{Days, NaiveDate};
    use oversight_app::tickets;
    use oversight_domain::calendar::WorkCalendar;

    on_both_backends!(live_orders_give_the_recomputed_rates);

    /// What the test did to one order, kept apart from what the system stored.
    #[derive(Default)]
    struct Plan {
        dispatched: bool,
        signed_on_time: Option<bool>,
        /// The deadline and the date of the reply of the current round, if replied.
        reply_due: Option<NaiveDate>,
        replied_on: Option<NaiveDate>,
        visited: bool,
        redone: bool,
    }

    async fn live_orders_give_the_recomputed_rates(app: App) {
        let (app, clock, accounts) = setup(&app).await;
        let operator = actor(&app, &accounts, "rexian").await;
        let liaison = actor(&app, &accounts, "fgw").await;
        let cal = WorkCalendar::official();
        let mut seed = 311u64;
        let mut next = move |n: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let days: Vec<NaiveDate> = (2..=13)
            .map(|d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap())
            .filter(|d| cal.is_working_day(*d).unwrap())
            .collect();
        let at = |d: NaiveDate, h: u32| local(2026, d.month0() + 1, d.day0() + 1, h, 0);
        use chrono::Datelike;
        let mut plans = Vec::new();
        for _ in 0..60 {
            let day = days[next(days.len() as u64) as usize];
            clock.set(at(day, 9));
            let new = NewOrder { kind: "complaint".into(), summary: "投诉".into(), ..Default::default() };
            let no = hotline::create_order(&app, Intake::Citizen, &new.parse().unwrap()).await.unwrap().ticket_no;
            let mut plan = Plan::default();
            if next(10) == 0 {
                plans.push(plan);
                continue;
            }
            let dispatch = StepInput { department_code: "460100-D01".into(), ..step("dispatch", "") };
            hotline::order_step(&app, &operator, &no, &dispatch).await.unwrap();
            plan.dispatched = true;
            plan.reply_due = Some(cal.deadline(day, 15).unwrap());
            // Signing is due at 11:00 of the same day.
            match next(3) {
                0 => {
                    plans.push(plan);
                    continue;
                }
                choice => {
                    clock.set(at(day, if choice == 1 { 10 } else { 15 }));
                    hotline::order_step(&app, &liaison, &no, &step("sign", "")).await.unwrap();
                    plan.signed_on_time = Some(choice == 1);
                }
            }
            let mut round_start = day;
            for round in 0..2 {
                if next(4) == 0 {
                    break;
                }
                let replied = round_start + Days::new(1 + next(if round == 0 { 24 } else { 9 }));
                clock.set(at(replied, 10));
                hotline::order_step(&app, &liaison, &no, &step("reply", "已办")).await.unwrap();
                plan.replied_on = Some(replied);
                let visit = match next(3) {
                    0 => break,
                    1 => "satisfied",
                    _ if round == 0 => "unsatisfied",
                    _ => "satisfied",
                };
                let visited = replied + Days::new(1);
                clock.set(at(visited, 11));
                let input = StepInput { satisfaction: visit.into(), ..step("visit", "") };
                hotline::order_step(&app, &operator, &no, &input).await.unwrap();
                plan.visited = true;
                if visit == "satisfied" {
                    break;
                }
                plan.redone = true;
                plan.replied_on = None;
                plan.reply_due = Some(cal.deadline(visited, 15).unwrap());
                round_start = visited;
            }
            plans.push(plan);
        }
        // Some replies are still due after today, some were missed.
        clock.set(local(2026, 12, 10, 12, 0));
        let today = NaiveDate::from_ymd_opt(2026, 12, 10).unwrap();
        let count = |f: &dyn Fn(&Plan) -> bool| plans.iter().filter(|p| f(p)).count() as i64;
        let r = tickets::ticket_report(
            &app,
            &Actor::cli(),
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            None,
        )
        .await
        .unwrap();
        assert_eq!(r.received, 60);
        let expected = (
            count(&|p| p.dispatched),
            count(&|p| p.signed_on_time == Some(true)),
            count(&|p| p.dispatched && (p.replied_on.is_some() || p.reply_due.is_some_and(|d| d < today))),
            count(&|p| p.replied_on.is_some_and(|r| p.reply_due.is_some_and(|d| r <= d))),
            count(&|p| p.replied_on.is_some() || p.visited),
            count(&|p| p.visited),
            count(&|p| p.visited && p.redone),
        );
        let got = (
            r.rates.sign_settled,
            r.rates.signed_on_time,
            r.rates.reply_settled,
            r.rates.replied_on_time,
            r.rates.replied,
            r.rates.visited,
            r.rates.redone,
        );
        assert_eq!(got, expected);
        assert!(expected.1 > 0 && expected.1 < expected.0, "the data has both outcomes: {expected:?}");
        assert!(expected.3 > 0 && expected.3 < expected.2, "the data has both outcomes: {expected:?}");
        assert!(expected.6 > 0, "{expected:?}");
        assert_eq!(r.rates.redo_rate, Some(expected.6 as f64 / expected.5 as f64));
    }
}

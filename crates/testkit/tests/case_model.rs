//! The case engine against an independent, day-by-day model of spec/metrics.md.
//!
//! The model walks the calendar one day at a time from acceptance: each working day on which
//! the clock runs uses up one day of the limit; the deadline is the day the limit is used up.
//! The model (`oversight_testkit::model`) shares nothing with the engine but the calendar's
//! yes/no per day.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use oversight_domain::calendar::WorkCalendar;
use oversight_domain::case::{
    AnomalyKind, CaseContext, CaseStatus, Decision, EventBody, Outcome, Rating, RatingChannel, StoredEvent,
    SupervisionRules, SuspendReason, parse_event, project, same_content,
};
use oversight_domain::org::OrgKind;
use oversight_testkit::model::{self, Action, Life, Step};
use proptest::prelude::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn at(date: NaiveDate) -> DateTime<Utc> {
    // 10:00 in Haikou.
    Utc.from_utc_datetime(&date.and_hms_opt(2, 0, 0).unwrap())
}

fn ev(n: i64, date: NaiveDate, body: EventBody) -> StoredEvent {
    StoredEvent {
        event_id: format!("e{n}"),
        at: at(date) + chrono::Duration::seconds(n),
        date,
        arrival: n,
        reported_at: at(date) + chrono::Duration::seconds(n + 60),
        sender_scope: None,
        body,
    }
}

fn received(date: NaiveDate) -> StoredEvent {
    ev(
        0,
        date,
        EventBody::Received {
            item_code: "SX001".into(),
            venue_code: "V1".into(),
            applicant_kind: "person".into(),
            applicant_name: "张三".into(),
            id_no: None,
        },
    )
}

fn run(events: &[StoredEvent], cal: &WorkCalendar) -> oversight_domain::case::CaseState {
    let item = |code: &str| (code == "SX001").then_some((10u32, 0i64));
    let venue = |code: &str| match code {
        "AP1" => Some(OrgKind::AgentPoint),
        _ => Some(OrgKind::ServiceCenter),
    };
    let rules = SupervisionRules::default();
    project(
        events,
        &CaseContext { item: &item, venue_kind: &venue, covers: &|_, _| true, calendar: cal, rules: &rules },
    )
}

/// The events of a generated life, received the day before acceptance.
fn events_of(life: &Life) -> Vec<StoredEvent> {
    let mut out = vec![received(life.accepted - Days::new(1))];
    out.push(ev(1, life.accepted, EventBody::Accepted { promised_days: Some(life.promised) }));
    for (n, (date, action)) in life.actions().into_iter().enumerate() {
        let body = match action {
            Action::Stop { supplement: true } => EventBody::SupplementRequested,
            Action::Resume { supplement: true } => EventBody::SupplementReceived,
            Action::Stop { supplement: false } => EventBody::Suspended { reason: SuspendReason::ExpertReview },
            Action::Resume { supplement: false } => EventBody::Resumed,
            Action::Extend(days) => EventBody::Extended { days },
            Action::Complete => EventBody::Completed { result: Decision::Approved },
            Action::Withdraw => EventBody::Withdrawn,
        };
        out.push(ev(n as i64 + 2, date, body));
    }
    out
}

fn life() -> impl Strategy<Value = Life> {
    let step = prop_oneof![
        (0u64..15, 0u64..12, any::<bool>()).prop_map(|(after, length, supplement)| Step::Stop {
            after,
            length,
            supplement
        }),
        (0u64..20, 1u32..10).prop_map(|(after, days)| Step::Extend { after, days }),
    ];
    (0i64..(365 * 16), 1u32..25, proptest::collection::vec(step, 0..4), proptest::option::of((0u64..80, any::<bool>())))
        .prop_map(|(offset, promised, steps, end)| Life {
            accepted: d("2008-01-02") + chrono::Duration::days(offset),
            promised,
            steps,
            end,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn engine_agrees_with_the_day_by_day_model(life in life()) {
        let cal = WorkCalendar::official();
        let mut events = events_of(&life);
        let expected = model::outcome(&life, &cal);
        let state = run(&events, &cal);
        prop_assert!(state.anomalies.iter().all(|a| a.kind != AnomalyKind::OutOfOrder), "{:?}", state.anomalies);
        prop_assert_eq!(state.outcome, expected, "life {:?}", life);
        // Arrival order never matters.
        events.reverse();
        for (i, e) in events.iter_mut().enumerate() {
            e.arrival = i as i64;
        }
        prop_assert_eq!(run(&events, &cal).outcome, expected);
    }
}

#[test]
fn qingming_2011_case() {
    let cal = WorkCalendar::official();
    // Accepted Friday 2011-04-01 with 2 days: Saturday 04-02 (made a working day) and Wednesday 04-06.
    let events = vec![
        received(d("2011-03-31")),
        ev(1, d("2011-04-01"), EventBody::Accepted { promised_days: Some(2) }),
        ev(2, d("2011-04-06"), EventBody::Completed { result: Decision::Approved }),
    ];
    let st = run(&events, &cal);
    assert_eq!(st.deadline, Some(d("2011-04-06")));
    assert_eq!(st.outcome, Outcome::OnTime(d("2011-04-06")));
    let late = vec![
        events[0].clone(),
        events[1].clone(),
        ev(2, d("2011-04-07"), EventBody::Completed { result: Decision::Approved }),
    ];
    assert_eq!(run(&late, &cal).outcome, Outcome::Overdue(d("2011-04-06")));
}

#[test]
fn a_stop_on_the_acceptance_day_costs_nothing_for_that_day() {
    let cal = WorkCalendar::official();
    // spec/metrics.md's worked example, in an ordinary week (2011-03-07..11), limit 2: accepted
    // and stopped on Wednesday, running again on Friday. Wednesday and Thursday stand still,
    // Friday counts 1, Monday 2: the deadline is Monday 03-14, not Tuesday.
    for (stop, resume) in [
        (EventBody::SupplementRequested, EventBody::SupplementReceived),
        (EventBody::Suspended { reason: SuspendReason::Inspection }, EventBody::Resumed),
    ] {
        let events = vec![
            received(d("2011-03-08")),
            ev(1, d("2011-03-09"), EventBody::Accepted { promised_days: Some(2) }),
            ev(2, d("2011-03-09"), stop),
            ev(3, d("2011-03-11"), resume),
        ];
        let st = run(&events, &cal);
        assert_eq!((st.stopped_days, st.deadline), (1, Some(d("2011-03-14"))));
        let life = Life {
            accepted: d("2011-03-09"),
            promised: 2,
            steps: vec![Step::Stop { after: 0, length: 2, supplement: true }],
            end: None,
        };
        assert_eq!(model::outcome(&life, &cal), Outcome::Running { deadline: d("2011-03-14") });
    }
    // A supplement still awaited at acceptance: the clock starts stopped on the acceptance date,
    // which costs nothing either.
    let events = vec![
        received(d("2011-03-07")),
        ev(1, d("2011-03-08"), EventBody::SupplementRequested),
        ev(2, d("2011-03-09"), EventBody::Accepted { promised_days: Some(2) }),
        ev(3, d("2011-03-11"), EventBody::SupplementReceived),
    ];
    assert_eq!(run(&events, &cal).deadline, Some(d("2011-03-14")));
}

#[test]
fn stops_extensions_and_late_events() {
    let cal = WorkCalendar::official();
    // Accepted Mon 2011-03-07, 5 days: deadline Mon 03-14.
    let base = vec![received(d("2011-03-07")), ev(1, d("2011-03-07"), EventBody::Accepted { promised_days: Some(5) })];
    assert_eq!(run(&base, &cal).deadline, Some(d("2011-03-14")));
    // Supplement requested Wed 03-09, received Fri 03-11: 03-09 and 03-10 stood still (2 days).
    let mut e = base.clone();
    e.push(ev(2, d("2011-03-09"), EventBody::SupplementRequested));
    e.push(ev(3, d("2011-03-11"), EventBody::SupplementReceived));
    let st = run(&e, &cal);
    assert_eq!((st.stopped_days, st.deadline), (2, Some(d("2011-03-16"))));
    // Stopped and restarted on the same day costs nothing.
    let mut e = base.clone();
    e.push(ev(2, d("2011-03-09"), EventBody::Suspended { reason: SuspendReason::Hearing }));
    e.push(ev(3, d("2011-03-09"), EventBody::Resumed));
    assert_eq!(run(&e, &cal).deadline, Some(d("2011-03-14")));
    // While stopped there is no deadline and the case cannot be overdue.
    let mut e = base.clone();
    e.push(ev(2, d("2011-03-09"), EventBody::Suspended { reason: SuspendReason::Testing }));
    let st = run(&e, &cal);
    assert_eq!((st.deadline, st.outcome, st.stopped_since), (None, Outcome::Unsettled, Some(d("2011-03-09"))));
    // An extension on the deadline date counts; one after it does not.
    let mut e = base.clone();
    e.push(ev(2, d("2011-03-14"), EventBody::Extended { days: 3 }));
    assert_eq!(run(&e, &cal).deadline, Some(d("2011-03-17")));
    let mut e = base.clone();
    e.push(ev(2, d("2011-03-15"), EventBody::Extended { days: 3 }));
    assert_eq!(run(&e, &cal).deadline, Some(d("2011-03-14")));
    // A stop after the deadline is ignored, and so is the restart that matches it.
    let mut e = base.clone();
    e.push(ev(2, d("2011-03-15"), EventBody::SupplementRequested));
    e.push(ev(3, d("2011-03-20"), EventBody::SupplementReceived));
    let st = run(&e, &cal);
    assert_eq!(st.deadline, Some(d("2011-03-14")));
    assert!(st.anomalies.iter().all(|a| a.kind != AnomalyKind::OutOfOrder));
    // Withdrawn before the deadline passed: never settled; after: overdue.
    let mut e = base.clone();
    e.push(ev(2, d("2011-03-14"), EventBody::Withdrawn));
    assert_eq!(run(&e, &cal).outcome, Outcome::Unsettled);
    let mut e = base.clone();
    e.push(ev(2, d("2011-03-15"), EventBody::Withdrawn));
    assert_eq!(run(&e, &cal).outcome, Outcome::Overdue(d("2011-03-14")));
    // Open: running, and overdue once the deadline has fully passed.
    let st = run(&base, &cal);
    assert_eq!(st.outcome, Outcome::Running { deadline: d("2011-03-14") });
    assert_eq!(st.outcome.as_of(d("2011-03-14")), Outcome::Running { deadline: d("2011-03-14") });
    assert_eq!(st.outcome.as_of(d("2011-03-15")), Outcome::Overdue(d("2011-03-14")));
}

#[test]
fn events_that_break_the_life_are_kept_out_of_the_state() {
    let cal = WorkCalendar::official();
    let base = vec![received(d("2011-03-07")), ev(1, d("2011-03-07"), EventBody::Accepted { promised_days: Some(5) })];
    let mut e = base.clone();
    e.push(ev(2, d("2011-03-08"), EventBody::Accepted { promised_days: Some(50) }));
    e.push(ev(3, d("2011-03-08"), EventBody::Resumed));
    e.push(ev(4, d("2011-03-09"), EventBody::SupplementRequested));
    e.push(ev(5, d("2011-03-09"), EventBody::Suspended { reason: SuspendReason::Hearing }));
    e.push(ev(6, d("2011-03-10"), EventBody::Resumed));
    e.push(ev(7, d("2011-03-10"), EventBody::SupplementReceived));
    e.push(ev(8, d("2011-03-16"), EventBody::Completed { result: Decision::Approved }));
    e.push(ev(9, d("2011-03-17"), EventBody::Extended { days: 9 }));
    let st = run(&e, &cal);
    let out_of_order: Vec<&str> = st
        .anomalies
        .iter()
        .filter(|a| a.kind == AnomalyKind::OutOfOrder)
        .map(|a| a.event_id.as_deref().unwrap())
        .collect();
    assert_eq!(out_of_order, vec!["e2", "e3", "e5", "e6", "e9"]);
    // Only the supplement 03-09..03-10 (1 working day) counted: deadline 03-15, completed 03-16.
    assert_eq!(st.deadline, Some(d("2011-03-15")));
    assert_eq!(st.outcome, Outcome::Overdue(d("2011-03-15")));
    // Anything before receipt is out of the life too, and an extension before acceptance.
    let e = vec![
        ev(5, d("2011-03-01"), EventBody::Accepted { promised_days: None }),
        received(d("2011-03-02")),
        ev(6, d("2011-03-03"), EventBody::Extended { days: 2 }),
    ];
    let st = run(&e, &cal);
    assert_eq!(st.status, CaseStatus::Received);
    assert_eq!(st.anomalies.len(), 2);
    // Without its receipt a case waits.
    let st = run(&[ev(1, d("2011-03-07"), EventBody::Accepted { promised_days: None })], &cal);
    assert_eq!(st.status, CaseStatus::AwaitingReceipt);
}

#[test]
fn supervision_rules() {
    let cal = WorkCalendar::official();
    // Received Mon 2011-03-07, accepted Tue 03-15 (6 working days later): late.
    let mut e = vec![received(d("2011-03-07")), ev(1, d("2011-03-15"), EventBody::Accepted { promised_days: None })];
    e.push(ev(2, d("2011-03-16"), EventBody::SupplementRequested));
    e.push(ev(3, d("2011-03-17"), EventBody::SupplementReceived));
    e.push(ev(4, d("2011-03-18"), EventBody::SupplementRequested));
    e.push(ev(5, d("2011-03-18"), EventBody::SupplementReceived));
    e.push(ev(6, d("2011-03-21"), EventBody::Fee { amount_cents: 500 }));
    e.push(ev(7, d("2011-03-22"), EventBody::Suspended { reason: SuspendReason::Other }));
    e.push(ev(8, d("2011-03-22"), EventBody::Resumed));
    let st = run(&e, &cal);
    let kinds: Vec<AnomalyKind> = st.anomalies.iter().map(|a| a.kind).collect();
    assert_eq!(
        kinds,
        vec![
            AnomalyKind::LateAcceptance,
            AnomalyKind::RepeatedSupplement,
            AnomalyKind::FeeOnFreeItem,
            AnomalyKind::UnlawfulSuspension
        ]
    );
    assert_eq!(st.limit_days, 10, "the item's promised days by default");
    // Reported two days after it happened.
    let mut late = received(d("2011-03-07"));
    late.reported_at = late.at + chrono::Duration::hours(49);
    assert_eq!(run(&[late], &cal).anomalies[0].kind, AnomalyKind::LateReport);
    // An agent point that forwards two working days after receipt.
    let e = vec![
        ev(
            0,
            d("2011-03-07"),
            EventBody::Received {
                item_code: "SX001".into(),
                venue_code: "AP1".into(),
                applicant_kind: "person".into(),
                applicant_name: "李".into(),
                id_no: None,
            },
        ),
        ev(1, d("2011-03-09"), EventBody::Forwarded { to_venue_code: "V2".into() }),
    ];
    let st = run(&e, &cal);
    assert_eq!(st.anomalies[0].kind, AnomalyKind::LateForwarding);
    assert_eq!(st.venue_code.as_deref(), Some("V2"));
}

#[test]
fn parsing_rejects_with_field_and_reason() {
    let ok = r#"{"event_id":"e1","case_no":"C1","type":"received","at":"2011-03-02T09:15:00+08:00","item_code":"SX001","venue_code":"460100-V","applicant":{"kind":"person","name":"张三","id_no":"460100198001011234"}}"#;
    let e = parse_event(1, ok).unwrap();
    assert_eq!(e.body.type_name(), "received");
    let reordered = r#"{"type":"received","case_no":"C1","event_id":"e1","at":"2011-03-02T09:15:00+08:00","venue_code":"460100-V","item_code":"SX001","applicant":{"name":"张三","kind":"person","id_no":"460100198001011234"}}"#;
    assert!(same_content(&parse_event(1, reordered).unwrap().content, &e.content), "same content, other key order");
    let spaced = reordered.replace(",", ", ").replace("\"kind\":\"person\"", "\"kind\" : \"person\"");
    assert!(same_content(&spaced, ok), "same content, other spacing");
    assert!(!same_content(&reordered.replace("张三", "李四"), ok), "a nested value differs");
    assert!(!same_content(&reordered.replace("SX001", "SX002"), ok), "a value differs");
    let cases = [
        ("{not json", ""),
        (r#"{"case_no":"C1","type":"accepted","at":"2011-03-02T09:15:00+08:00"}"#, "event_id"),
        (r#"{"event_id":"e","case_no":"C1","type":"accepted","at":"2011-03-02T09:15:00"}"#, "at"),
        (r#"{"event_id":"e","case_no":"C1","type":"teleported","at":"2011-03-02T09:15:00+08:00"}"#, "type"),
        (
            r#"{"event_id":"e","case_no":"C1","type":"extended","at":"2011-03-02T09:15:00+08:00","days":-2,"approved_by":"x"}"#,
            "days",
        ),
        (
            r#"{"event_id":"e","case_no":"C1","type":"extended","at":"2011-03-02T09:15:00+08:00","days":0,"approved_by":"x"}"#,
            "days",
        ),
        (
            r#"{"event_id":"e","case_no":"C1","type":"suspended","at":"2011-03-02T09:15:00+08:00","reason":"lunch"}"#,
            "reason",
        ),
        (
            r#"{"event_id":"e","case_no":"C1","type":"received","at":"2011-03-02T09:15:00+08:00","item_code":"SX001","venue_code":"V","applicant":{"kind":"alien","name":"x"}}"#,
            "applicant.kind",
        ),
        (
            r#"{"event_id":"e","case_no":"C1","type":"fee","at":"2011-03-02T09:15:00+08:00","amount_cents":-1}"#,
            "amount_cents",
        ),
        (
            r#"{"event_id":"e","case_no":"C1","type":"completed","at":"2011-03-02T09:15:00+08:00","result":"maybe"}"#,
            "result",
        ),
        (r#"[1,2]"#, ""),
    ];
    for (text, field) in cases {
        let err = parse_event(7, text).unwrap_err();
        assert_eq!((err.line, err.field.as_str()), (7, field), "{text}: {err}");
        assert!(!err.reason.is_empty());
    }
}

#[test]
fn rules_switch_off() {
    let cal = WorkCalendar::official();
    let e = vec![received(d("2011-03-07")), ev(1, d("2011-03-15"), EventBody::Accepted { promised_days: None })];
    assert_eq!(run(&e, &cal).anomalies[0].kind, AnomalyKind::LateAcceptance);
    let item = |code: &str| (code == "SX001").then_some((10u32, 0i64));
    let venue = |_: &str| Some(OrgKind::ServiceCenter);
    let rules = SupervisionRules { acceptance_days: Some(0), ..SupervisionRules::default() };
    let st = project(
        &e,
        &CaseContext { item: &item, venue_kind: &venue, covers: &|_, _| true, calendar: &cal, rules: &rules },
    );
    assert!(st.anomalies.is_empty(), "{:?}", st.anomalies);
}

#[test]
fn ratings_never_move_the_clock_nor_break_the_life() {
    let cal = WorkCalendar::official();
    let rated = |n: i64, date: &str, level: u8| {
        let rating = Rating { level, channel: RatingChannel::Sms, default: false, comment: None };
        let mut e = ev(n, d(date), EventBody::Rated(rating));
        // Reported a week after it happened: a rating is no sign of work outside the system.
        e.reported_at = e.at + chrono::Duration::days(7);
        e
    };
    let life = vec![
        received(d("2011-03-07")),
        ev(1, d("2011-03-07"), EventBody::Accepted { promised_days: Some(5) }),
        ev(2, d("2011-03-10"), EventBody::Completed { result: Decision::Approved }),
    ];
    let plain = run(&life, &cal);
    // After completion, and even one dated before receipt: no anomaly, the same outcome; the
    // last rating in `at` order counts, whatever the arrival order.
    let mut e = life.clone();
    e.push(rated(9, "2011-03-12", 2));
    e.push(rated(8, "2011-03-11", 5));
    e.push(rated(7, "2011-03-01", 4));
    let st = run(&e, &cal);
    assert!(st.anomalies.is_empty(), "{:?}", st.anomalies);
    assert_eq!((st.outcome, st.deadline, st.status), (plain.outcome, plain.deadline, plain.status));
    let rating = st.rating.expect("rated");
    assert_eq!((rating.level, rating.is_bad()), (2, true));
    assert_eq!(plain.rating, None);
}

#[test]
fn a_rating_is_refused_outside_its_levels_and_channels() {
    let line = |extra: &str| {
        format!(r#"{{"event_id":"r","case_no":"C1","type":"rated","at":"2011-03-02T09:15:00+08:00"{extra}}}"#)
    };
    let e = parse_event(1, &line(r#","level":3,"channel":"window","default":true,"comment":"还行""#)).unwrap();
    assert_eq!(
        e.body,
        EventBody::Rated(Rating {
            level: 3,
            channel: RatingChannel::Window,
            default: true,
            comment: Some("还行".into())
        })
    );
    for (extra, field) in [
        (r#","level":0,"channel":"web""#, "level"),
        (r#","level":6,"channel":"web""#, "level"),
        (r#","level":"5","channel":"web""#, "level"),
        (r#","channel":"web""#, "level"),
        (r#","level":5"#, "channel"),
        (r#","level":5,"channel":"pigeon""#, "channel"),
        (r#","level":5,"channel":"web","default":"yes""#, "default"),
    ] {
        let err = parse_event(4, &line(extra)).unwrap_err();
        assert_eq!((err.line, err.field.as_str()), (4, field), "{extra}: {}", err.reason);
    }
}

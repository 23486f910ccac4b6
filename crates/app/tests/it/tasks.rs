//! Key tasks on both backends against an independent recomputation of the figures
//! (`oversight_testkit::task_model`): generated task histories with holidays, reschedules,
//! returns, events before the assignment or after the close, milestones the task does not
//! have, resends and shuffled arrival; the report at many dates, in total and by lead department.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use oversight_app::tasks::{self, TaskGroupBy, TaskReport};
use oversight_app::{Actor, App, demo};
use oversight_domain::calendar::WorkCalendar;
use oversight_testkit::on_both_backends;
use oversight_testkit::task_model::{self, Ev, Figures, Kind};
use serde_json::json;

on_both_backends!(
    report_matches_the_model_at_any_date,
    each_task_event_is_answered_on_its_own,
    a_co_operating_department_sees_the_task_and_others_do_not,
);

/// A small deterministic generator (same data on every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

const DEPARTMENTS: [&str; 5] = ["460100-D01", "460100-D02", "460100-D03", "460105-D01", "460105-D02"];
const ORIGINS: [&str; 5] = ["annual_plan", "meeting_decision", "leader_instruction", "major_project", "proposal"];

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn generate(tasks: usize) -> Vec<Ev> {
    let mut r = Lcg(20110401);
    let mut out = Vec::new();
    for t in 0..tasks {
        let task = format!("RW-{t:03}");
        let mut seq = 0;
        let mut ev = |date: NaiveDate, kind: Kind, out: &mut Vec<Ev>| {
            seq += 1;
            out.push(Ev { id: format!("{task}-{seq}"), task: task.clone(), date, seq, kind });
        };
        let assigned = d("2011-01-03") + Days::new(r.next(300));
        let lead = DEPARTMENTS[r.next(5) as usize].to_string();
        let due = assigned + Days::new(5 + r.next(120));
        let milestones: Vec<(String, NaiveDate)> = (1..=r.next(4))
            .map(|m| (format!("M{m}"), assigned + Days::new(1 + r.next((due - assigned).num_days() as u64))))
            .collect();
        let origin = ORIGINS[r.next(5) as usize];
        ev(assigned, Kind::Assigned { lead: lead.clone(), origin, due, milestones: milestones.clone() }, &mut out);
        // Most leads sign within days (around the 2-working-day limit), some never.
        if r.next(5) > 0 {
            ev(assigned + Days::new(r.next(5)), Kind::Signed(lead.clone()), &mut out);
        }
        // Progress now and then, so that some tasks stay green and some fall quiet.
        for _ in 0..r.next(4) {
            ev(assigned + Days::new(r.next(100)), Kind::Progress(lead.clone()), &mut out);
        }
        for _ in 0..r.next(9) {
            // Mostly after the assignment; now and then before it (kept out of the life).
            let date = assigned + Days::new(r.next(160)) - Days::new(if r.next(10) == 0 { 8 } else { 0 });
            let other = DEPARTMENTS[r.next(5) as usize].to_string();
            let who = if r.next(3) == 0 { other } else { lead.clone() };
            let milestone = format!("M{}", 1 + r.next(4));
            let kind = match r.next(20) {
                0..=2 => Kind::Signed(who),
                3..=6 => Kind::Progress(who),
                7..=9 => Kind::MilestoneDone(milestone),
                10..=11 => Kind::Rescheduled {
                    due: due + Days::new(r.next(40)) - Days::new(10),
                    milestone: (r.next(2) == 0).then_some(milestone),
                },
                12..=14 => Kind::ReportedDone,
                15 => Kind::Returned,
                16..=17 => Kind::Verified,
                18 => Kind::Cancelled,
                _ => Kind::Assigned { lead: who, origin, due: due + Days::new(9), milestones: vec![] },
            };
            ev(date, kind, &mut out);
        }
    }
    out
}

fn line(e: &Ev) -> String {
    let at = format!("{}T09:{:02}:{:02}+08:00", e.date, e.seq / 60, e.seq % 60);
    let mut v = json!({"event_id": e.id, "task_no": e.task, "at": at});
    let extra = match &e.kind {
        Kind::Assigned { lead, origin, due, milestones } => json!({
            "type": "assigned", "title": format!("{} 任务", e.task), "origin": origin,
            "lead_department_code": lead, "co_department_codes": ["460100-D04"], "due": due.to_string(),
            "milestones": milestones.iter().map(|(c, due)| json!({"code": c, "name": format!("节点{c}"), "due": due.to_string()})).collect::<Vec<_>>(),
        }),
        Kind::Signed(dept) => json!({"type": "signed", "department_code": dept}),
        Kind::Progress(dept) => json!({"type": "progress", "department_code": dept, "note": "推进中"}),
        Kind::MilestoneDone(m) => json!({"type": "milestone_done", "milestone_code": m}),
        Kind::Rescheduled { due, milestone } => {
            let mut v = json!({"type": "rescheduled", "due": due.to_string(), "approved_by": "效能办"});
            if let Some(m) = milestone {
                v["milestone_code"] = json!(m);
            }
            v
        }
        Kind::ReportedDone => json!({"type": "reported_done", "note": "已完成"}),
        Kind::Returned => json!({"type": "returned", "reason": "材料不全"}),
        Kind::Verified => json!({"type": "verified"}),
        Kind::Cancelled => json!({"type": "cancelled", "reason": "不再需要"}),
    };
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v.to_string()
}

fn expected(events: &[Ev], from: NaiveDate, to: NaiveDate) -> (Figures, BTreeMap<String, Figures>) {
    let cal = WorkCalendar::official();
    let mut by_task: BTreeMap<&str, Vec<Ev>> = BTreeMap::new();
    for e in events {
        by_task.entry(&e.task).or_default().push(e.clone());
    }
    let mut total = Figures::default();
    let mut groups: BTreeMap<String, Figures> = BTreeMap::new();
    for evs in by_task.values() {
        let f = task_model::figures(evs, from, to, &cal);
        total += f;
        if let Some(Kind::Assigned { lead, .. }) = task_model::counting(evs, to).first().map(|e| &e.kind)
            && (f.open > 0 || f.verified > 0)
        {
            *groups.entry(lead.clone()).or_default() += f;
        }
    }
    (total, groups)
}

fn figures_of(v: &serde_json::Value) -> Figures {
    let n = |k: &str| v[k].as_i64().unwrap_or_else(|| panic!("{k} in {v}"));
    Figures {
        open: n("open"),
        green: n("green"),
        yellow: n("yellow"),
        red: n("red"),
        awaiting_verification: n("awaiting_verification"),
        verified: n("verified"),
        verified_on_time: n("verified_on_time"),
    }
}

async fn report(app: &App, from: NaiveDate, to: NaiveDate) -> TaskReport {
    tasks::task_report(app, &Actor::cli(), from, to, Some(TaskGroupBy::LeadDepartment)).await.unwrap()
}

async fn report_matches_the_model_at_any_date(app: App) {
    demo::load(&app).await.unwrap();
    let events = generate(160);
    let mut lines: Vec<String> = events.iter().map(line).collect();
    // Shuffled arrival, with a tenth sent twice.
    let mut r = Lcg(7);
    for i in (1..lines.len()).rev() {
        lines.swap(i, r.next(i as u64 + 1) as usize);
    }
    let resends: Vec<String> = lines.iter().step_by(10).cloned().collect();
    let (first, second) = lines.split_at(lines.len() / 2);
    for part in [first.to_vec(), second.to_vec(), resends.clone()] {
        let numbered: Vec<(usize, &str)> = part.iter().enumerate().map(|(i, l)| (i + 1, l.as_str())).collect();
        let answer = tasks::ingest(&app, &Actor::cli(), numbered).await.unwrap();
        assert!(answer.rejected.is_empty(), "{:?}", answer.rejected);
    }
    // Periods ending every 5 days through 2011 and into 2012 (holidays and make-up days among
    // them), each a month long, and the whole year.
    let mut periods: Vec<(NaiveDate, NaiveDate)> =
        (0..80).map(|k| d("2011-01-06") + Days::new(5 * k)).map(|to| (to - Days::new(30), to)).collect();
    periods.push((d("2011-01-01"), d("2011-12-31")));
    let mut checked = Figures::default();
    for (from, to) in periods {
        let got = report(&app, from, to).await;
        let got = serde_json::to_value(&got).unwrap();
        // Ungrouped and by origin, the same total.
        for group in [None, Some(TaskGroupBy::Origin)] {
            let other = tasks::task_report(&app, &Actor::cli(), from, to, group).await.unwrap();
            assert_eq!(serde_json::to_value(&other.total).unwrap(), got["total"], "{group:?} {from}..{to}");
        }
        let (total, groups) = expected(&events, from, to);
        assert_eq!(figures_of(&got["total"]), total, "total {from}..{to}");
        let got_groups: BTreeMap<String, Figures> = got["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| (g["key"].as_str().unwrap().to_string(), figures_of(g)))
            .collect();
        assert_eq!(got_groups, groups, "groups {from}..{to}");
        let rate = got["total"]["on_time_rate"].as_f64();
        assert_eq!(rate, (total.verified > 0).then(|| total.verified_on_time as f64 / total.verified as f64));
        checked += total;
    }
    // The generated histories reach every figure.
    for (name, n) in [
        ("green", checked.green),
        ("yellow", checked.yellow),
        ("red", checked.red),
        ("awaiting", checked.awaiting_verification),
        ("verified", checked.verified),
        ("on time", checked.verified_on_time),
    ] {
        assert!(n > 0, "no {name} task in any period: {checked:?}");
    }
    assert!(checked.verified_on_time < checked.verified, "some verified late: {checked:?}");
}

async fn each_task_event_is_answered_on_its_own(app: App) {
    demo::load(&app).await.unwrap();
    let lines = [
        r#"{"event_id":"t1","task_no":"T1","type":"assigned","at":"2011-03-01T09:00:00+08:00","title":"优化审批","origin":"annual_plan","lead_department_code":"460100-D01","co_department_codes":["460100-D02"],"due":"2011-06-30","milestones":[{"code":"M1","name":"方案","due":"2011-03-31"}]}"#,
        r#"{"event_id":"t2","task_no":"T2","type":"assigned","at":"2011-03-01T09:00:00+08:00","title":"x","origin":"annual_plan","lead_department_code":"469999-D01","co_department_codes":[],"due":"2011-06-30","milestones":[]}"#,
        r#"{"event_id":"t3","task_no":"T3","type":"assigned","at":"2011-03-01T09:00:00+08:00","title":"x","origin":"annual_plan","lead_department_code":"460100-D01","co_department_codes":[],"due":"2011-06-30","milestones":[{"code":"M1","name":"a","due":"2011-04-01"},{"code":"M1","name":"b","due":"2011-05-01"}]}"#,
        r#"{"event_id":"t4","task_no":"T1","type":"milestone_done","at":"2011-03-02T09:00:00+08:00","milestone_code":"M9"}"#,
        r#"{"event_id":"t5","task_no":"T1","type":"signed","at":"2011-03-01T10:00:00"}"#,
        r#"{"event_id":"t6","task_no":"T1","type":"rescheduled","at":"2011-03-02T09:00:00+08:00","due":"2011-13-01","approved_by":"x"}"#,
        r#"{"event_id":"t7","task_no":"T1","type":"teleported","at":"2011-03-02T09:00:00+08:00"}"#,
        r#"{"event_id":"t1","task_no":"T1","type":"assigned","at":"2011-03-01T09:00:00+08:00","title":"优化审批","origin":"annual_plan","lead_department_code":"460100-D01","co_department_codes":["460100-D02"],"due":"2011-06-30","milestones":[{"code":"M1","name":"方案","due":"2011-03-31"}]}"#,
        r#"{"event_id":"t1","task_no":"T1","type":"verified","at":"2011-03-01T09:00:00+08:00"}"#,
        r#"{"event_id":"t8","task_no":"T1","type":"signed","at":"2011-03-01T10:00:00+08:00","department_code":"460100-D01"}"#,
    ];
    let numbered: Vec<(usize, &str)> = lines.iter().enumerate().map(|(i, l)| (i + 1, *l)).collect();
    let answer = tasks::ingest(&app, &Actor::cli(), numbered).await.unwrap();
    let rejected: Vec<(usize, &str)> = answer.rejected.iter().map(|e| (e.line, e.field.as_str())).collect();
    assert_eq!(
        rejected,
        vec![
            (2, "lead_department_code"),
            (3, "milestones[1].code"),
            (5, "at"),
            (6, "due"),
            (7, "type"),
            (9, "event_id")
        ]
    );
    assert_eq!((answer.accepted, answer.duplicate), (3, 1));
    // The milestone the task does not have is kept, ignored and flagged on the task.
    let view = tasks::task_view(&app, &Actor::cli(), "T1").await.unwrap();
    assert_eq!(view.events.len(), 3);
    assert_eq!(view.state.anomalies.iter().map(|a| a.event_id.as_str()).collect::<Vec<_>>(), vec!["t4"]);
    assert_eq!(view.state.lead_signed_on, Some(d("2011-03-01")));
    assert_eq!(view.record.path, "/460100/460100-D01/");
}

/// A task is seen by its lead department and by the departments co-operating on it (the board
/// and its page), not by others; the co-departments read, the lead acts.
async fn a_co_operating_department_sees_the_task_and_others_do_not(app: App) {
    let accounts = demo::load(&app).await.unwrap();
    let assigned = |id: &str, co: &str| {
        format!(
            r#"{{"event_id":"{id}","task_no":"CO-1","type":"assigned","at":"2011-03-01T09:00:00+08:00","title":"并联审批","origin":"annual_plan","lead_department_code":"460100-D02","co_department_codes":[{co}],"due":"2011-06-30","milestones":[]}}"#
        )
    };
    let line = assigned("co1", r#""460100-D01""#);
    let answer = tasks::ingest(&app, &Actor::cli(), [(1, line.as_str())]).await.unwrap();
    assert_eq!(answer.accepted, 1, "{:?}", answer.rejected);
    // 市发改委 (460100-D01) co-operates; 秀英区's office is elsewhere.
    let liaison = oversight_testkit::login(&app, &accounts, "fgw").await;
    let district = oversight_testkit::login(&app, &accounts, "xiuying").await;
    let listed = tasks::task_list(&app, &liaison).await.unwrap();
    assert!(listed.iter().any(|(r, _)| r.task_no == "CO-1"), "on the co-department's board");
    let view = tasks::task_view(&app, &liaison, "CO-1").await.unwrap();
    assert_eq!(view.state.co_department_codes, ["460100-D01"]);
    assert!(tasks::steps_for(&app, &liaison, "CO-1").await.unwrap().is_empty(), "it reads, the lead acts");
    assert!(matches!(tasks::task_view(&app, &district, "CO-1").await, Err(oversight_app::AppError::NotFound(_))));
    assert!(tasks::task_list(&app, &district).await.unwrap().iter().all(|(r, _)| r.task_no != "CO-1"));

    // The migration that brought co-departments fills them for tasks stored before it: run its
    // fill again on emptied rows and the task is shared as it was.
    let backend = if matches!(app.db, oversight_store::Db::Sqlite { .. }) { "sqlite" } else { "postgres" };
    let migration = std::fs::read_to_string(format!(
        "{}/../../migrations/{backend}/0021_task_parties.sql",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let fill = &migration[migration.find("INSERT INTO task_party").unwrap()..];
    match &app.db {
        oversight_store::Db::Sqlite { write, .. } => {
            sqlx::query("DELETE FROM task_party").execute(write).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(fill)).execute(write).await.unwrap();
        }
        oversight_store::Db::Postgres(pool) => {
            sqlx::query("DELETE FROM task_party").execute(pool).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(fill)).execute(pool).await.unwrap();
        }
    }
    assert!(tasks::task_view(&app, &liaison, "CO-1").await.is_ok(), "filled from the first assignment");

    // An office assigns only to departments it supervises, whatever else it may see: a district
    // supervisor who also reads the city as a leader cannot assign to a city department.
    let mut both = district.clone();
    both.grants.0.push(oversight_domain::access::Grant {
        role: oversight_domain::access::Role::Leader,
        path: oversight_store::network::unit(&app.db, "460100").await.unwrap().unwrap().path,
    });
    let new = tasks::NewTask {
        title: "越级交办".into(),
        origin: oversight_domain::task::Origin::AnnualPlan,
        lead_department_code: "460100-D01".into(),
        co_department_codes: vec![],
        due: "2011-06-30".into(),
        milestones: String::new(),
    };
    let Err(oversight_app::AppError::Invalid(errors)) = tasks::assign_task(&app, &both, &new).await else {
        panic!("assigned outside its supervision");
    };
    assert_eq!(errors[0].field, "lead_department_code");
}

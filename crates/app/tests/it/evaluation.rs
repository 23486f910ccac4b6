//! The evaluation run on both backends, over records whose every figure is known by
//! construction; the points, ranks and tiers are recomputed here from spec/evaluation.md's
//! formulas, apart from the engine.

use oversight_app::cases::{self, Reporting};
use oversight_app::{Actor, App, demo, evaluation};
use oversight_testkit::on_both_backends;
use serde_json::json;

on_both_backends!(
    an_evaluation_scores_every_department_from_its_records,
    a_bad_scheme_is_refused_whole,
    the_inspection_sources_are_the_inspections_report_by_department,
    a_published_result_re_runs_to_the_same_bytes_until_the_records_change,
    the_office_enters_manual_points_with_a_reason,
    a_department_assesses_itself_before_the_office_reviews,
    a_group_ranks_its_departments_with_its_own_weights,
    the_public_headline_is_the_office_reports_of_the_year,
    an_upheld_appeal_excludes_the_record_and_republishes
);

const SCHEME: &str = r#"
name = "2011 年一季度效能考评（测试）"
departments = ["460100-D01", "460100-D02", "460100-D03"]

[[indicator]]
code = "A1"
name = "办件超期率"
source = "cases.overdue_rate"
weight = 40
score = { kind = "linear", best = 0.0, worst = 1.0 }

[[indicator]]
code = "A2"
name = "效能投诉"
source = "tickets.complaints"
weight = 20
score = { kind = "deduct", per = 5 }

[[indicator]]
code = "A3"
name = "重点工作红灯"
source = "tasks.red"
weight = 10
score = { kind = "deduct", per = 10 }

[[indicator]]
code = "A4"
name = "差评"
source = "ratings.bad"
weight = 10
score = { kind = "deduct", per = 3 }

[[indicator]]
code = "A5"
name = "办件异常"
source = "cases.anomalies"
weight = 10
score = { kind = "deduct", per = 2 }

[[indicator]]
code = "B1"
name = "按期销号"
source = "tasks.verified"
weight = 0
score = { kind = "bonus", per = 1, cap = 3 }

[[tier]]
name = "优秀"
min_score = 85
max_share = 0.34

[[tier]]
name = "合格"
min_score = 60
"#;

async fn load_records(app: &App) {
    demo::load(app).await.unwrap();
    // Cases of March 2011, loaded as history (no late reports): SX001 (市发改委, 10 days, free),
    // SX004 (市公安局, 1 day).
    let case = |no: &str, item: &str, done: &str| {
        vec![
            json!({"event_id": format!("{no}-r"), "case_no": no, "type": "received", "at": "2011-03-01T09:00:00+08:00",
                "item_code": item, "venue_code": "460100-V", "applicant": {"kind": "person", "name": "王"}}),
            json!({"event_id": format!("{no}-a"), "case_no": no, "type": "accepted", "at": "2011-03-01T10:00:00+08:00"}),
            json!({"event_id": format!("{no}-c"), "case_no": no, "type": "completed", "at": format!("{done}T10:00:00+08:00"),
                "result": "approved"}),
        ]
    };
    let mut lines = Vec::new();
    lines.extend(case("E1", "SX001", "2011-03-08")); // on time (deadline 03-15)
    lines.extend(case("E2", "SX001", "2011-03-25")); // overdue
    lines.extend(case("E3", "SX004", "2011-03-02")); // on time (deadline 03-02)
    lines.extend(case("E4", "SX004", "2011-03-10")); // overdue
    lines.extend(case("E5", "SX004", "2011-03-02")); // on time
    // A fee on the free item: an anomaly of 市发改委's.
    lines.push(json!({"event_id": "E1-f", "case_no": "E1", "type": "fee", "at": "2011-03-02T10:00:00+08:00", "amount_cents": 500}));
    lines.push(json!({"event_id": "E3-s", "case_no": "E3", "type": "rated", "at": "2011-03-03T10:00:00+08:00", "level": 1, "channel": "sms"}));
    lines.push(json!({"event_id": "E4-s", "case_no": "E4", "type": "rated", "at": "2011-03-11T10:00:00+08:00", "level": 5, "channel": "window"}));
    let texts: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let numbered: Vec<(usize, &str)> = texts.iter().enumerate().map(|(i, l)| (i + 1, l.as_str())).collect();
    let r = cases::ingest_as(app, &Actor::cli(), Reporting::Historical, numbered, |_| {}).await.unwrap();
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    // Orders of March 2011: two complaints about 市发改委 (one closed, satisfied), a consultation
    // to 市公安局 (closed, unsatisfied).
    let tickets = [
        r#"{"ticket_no":"Q1","channel":"phone","type":"complaint","received_at":"2011-03-02T09:00:00+08:00","subject_department_code":"460100-D01","summary":"推诿","closed_at":"2011-03-09T09:00:00+08:00","satisfaction":"satisfied"}"#,
        r#"{"ticket_no":"Q2","channel":"web","type":"complaint","received_at":"2011-03-03T09:00:00+08:00","subject_department_code":"460100-D01","summary":"慢"}"#,
        r#"{"ticket_no":"Q3","channel":"phone","type":"consultation","received_at":"2011-03-04T09:00:00+08:00","subject_department_code":"460100-D02","summary":"问","closed_at":"2011-03-04T10:00:00+08:00","satisfaction":"unsatisfied"}"#,
    ];
    let r = oversight_app::tickets::import_tickets(
        app,
        &Actor::cli(),
        tickets.iter().enumerate().map(|(i, l)| (i + 1, *l)),
    )
    .await
    .unwrap();
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    // Tasks: 市发改委's never signed (red by 03-31); 市公安局's verified on time.
    let tasks = [
        json!({"event_id": "K1-a", "task_no": "K1", "type": "assigned", "at": "2011-03-01T09:00:00+08:00", "title": "甲",
            "origin": "annual_plan", "lead_department_code": "460100-D01", "co_department_codes": [], "due": "2011-03-20", "milestones": []}),
        json!({"event_id": "K2-a", "task_no": "K2", "type": "assigned", "at": "2011-03-01T09:00:00+08:00", "title": "乙",
            "origin": "leader_instruction", "lead_department_code": "460100-D02", "co_department_codes": [], "due": "2011-03-31", "milestones": []}),
        json!({"event_id": "K2-s", "task_no": "K2", "type": "signed", "at": "2011-03-01T15:00:00+08:00", "department_code": "460100-D02"}),
        json!({"event_id": "K2-d", "task_no": "K2", "type": "reported_done", "at": "2011-03-10T09:00:00+08:00", "note": "完成"}),
        json!({"event_id": "K2-v", "task_no": "K2", "type": "verified", "at": "2011-03-15T09:00:00+08:00"}),
    ];
    let texts: Vec<String> = tasks.iter().map(|l| l.to_string()).collect();
    let r =
        oversight_app::tasks::ingest(app, &Actor::cli(), texts.iter().enumerate().map(|(i, l)| (i + 1, l.as_str())))
            .await
            .unwrap();
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
}

async fn an_evaluation_scores_every_department_from_its_records(app: App) {
    load_records(&app).await;
    let scheme = evaluation::parse_scheme(SCHEME).unwrap();
    let from = cases::parse_date("2011-03-01", "from").unwrap();
    let to = cases::parse_date("2011-03-31", "to").unwrap();
    let result = evaluation::run(&app, &Actor::cli(), &scheme, from, to).await.unwrap();
    let got = serde_json::to_value(&result).unwrap();

    // The values, known by construction: overdue rate, complaints, red tasks, bad ratings,
    // anomalies, verified tasks.
    let d01 = [Some(1.0 / 2.0), Some(2.0), Some(1.0), Some(0.0), Some(1.0), Some(0.0)];
    let d02 = [Some(1.0 / 3.0), Some(0.0), Some(0.0), Some(1.0), Some(0.0), Some(1.0)];
    let d03 = [None, Some(0.0), Some(0.0), Some(0.0), Some(0.0), Some(0.0)];
    // The formulas of the scheme, as spec/evaluation.md writes them.
    let points = |v: [Option<f64>; 6]| {
        let linear = |w: f64, best: f64, worst: f64, v: Option<f64>| {
            v.map_or(w, |v| w * ((v - worst) / (best - worst)).clamp(0.0, 1.0))
        };
        let deduct = |w: f64, per: f64, v: Option<f64>| (w - (per * v.unwrap()).min(w)).max(0.0);
        [
            linear(40.0, 0.0, 1.0, v[0]),
            deduct(20.0, 5.0, v[1]),
            deduct(10.0, 10.0, v[2]),
            deduct(10.0, 3.0, v[3]),
            deduct(10.0, 2.0, v[4]),
            (1.0 * v[5].unwrap()).min(3.0),
        ]
    };
    let expect = |code: &str, name: &str, v: [Option<f64>; 6], rank: usize, tier: Option<&str>| {
        let p = points(v);
        let indicators: Vec<serde_json::Value> = ["A1", "A2", "A3", "A4", "A5", "B1"]
            .iter()
            .zip(v)
            .zip(p)
            .map(|((c, v), p)| json!({"code": c, "value": v, "points": p}))
            .collect();
        json!({
            "code": code, "name": name, "score": p.iter().sum::<f64>(), "rank": rank, "tier": tier,
            "indicators": indicators,
        })
    };
    assert_eq!(
        got,
        json!({
            "scheme": "2011 年一季度效能考评（测试）", "from": "2011-03-01", "to": "2011-03-31",
            "departments": [
                expect("460100-D03", "市民政局", d03, 1, Some("优秀")),
                expect("460100-D02", "市公安局", d02, 2, Some("合格")),
                expect("460100-D01", "市发展和改革委员会", d01, 3, None),
            ]
        })
    );
}

async fn a_bad_scheme_is_refused_whole(app: App) {
    load_records(&app).await;
    let err = evaluation::parse_scheme("name = \"x\"\n[[indicator]]\ncode = \"A1\"").unwrap_err();
    assert!(err.to_string().contains("TOML"), "{err}");
    let bad = SCHEME.replace("tasks.red", "tasks.pink").replace("best = 0.0, worst = 1.0", "best = 0.5, worst = 0.5");
    match evaluation::parse_scheme(&bad).unwrap_err() {
        oversight_app::AppError::Invalid(errors) => {
            let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, vec!["indicator[0]（A1）.score", "indicator[2]（A3）.source"], "{errors:?}");
        }
        other => panic!("{other:?}"),
    }
    let unknown = SCHEME.replace("460100-D03", "460100-D99");
    let scheme = evaluation::parse_scheme(&unknown).unwrap();
    let (from, to) = (cases::parse_date("2011-03-01", "from").unwrap(), cases::parse_date("2011-03-31", "to").unwrap());
    let err = evaluation::run(&app, &Actor::cli(), &scheme, from, to).await.unwrap_err();
    assert!(err.to_string().contains("460100-D99"), "{err}");
}

async fn the_inspection_sources_are_the_inspections_report_by_department(app: App) {
    use oversight_store::cases::GroupBy;
    let accounts = demo::load(&app).await.unwrap();
    demo::load_inspections(&app, &accounts).await.unwrap();
    let scheme = evaluation::parse_scheme(
        r#"
name = "明察暗访"
departments = "all"
[[indicator]]
code = "I1"
name = "发现问题"
source = "inspections.findings"
weight = 10
score = { kind = "deduct", per = 1 }
[[indicator]]
code = "I2"
name = "严重问题"
source = "inspections.major_findings"
weight = 10
score = { kind = "deduct", per = 2 }
[[indicator]]
code = "I3"
name = "按期整改率"
source = "inspections.rectified_on_time_rate"
weight = 10
score = { kind = "linear", best = 1.0, worst = 0.0 }
"#,
    )
    .unwrap();
    let today = app.today();
    let result = evaluation::run(&app, &Actor::cli(), &scheme, today, today).await.unwrap();
    let report = oversight_app::inspection_report::inspection_report(
        &app,
        &Actor::cli(),
        today,
        today,
        Some(GroupBy::Department),
    )
    .await
    .unwrap();
    assert!(report.groups.len() >= 2, "the demo's findings name several departments");
    for d in &result.departments {
        let g = report.groups.iter().find(|g| g.key == d.code).map(|g| g.counts).unwrap_or_default();
        let values: Vec<Option<f64>> = d.indicators.iter().map(|i| i.value).collect();
        assert_eq!(values, [Some(g.findings as f64), Some(g.serious as f64), g.on_time_rate()], "{}", d.code);
    }
    let named: u64 = report.groups.iter().filter(|g| !g.key.is_empty()).map(|g| g.counts.findings).sum();
    let counted: f64 = result.departments.iter().filter_map(|d| d.indicators[0].value).sum();
    assert_eq!(counted, named as f64, "every finding that names a department is one of its");
}

async fn a_published_result_re_runs_to_the_same_bytes_until_the_records_change(app: App) {
    use oversight_app::AppError;
    load_records(&app).await;
    let office = oversight_app::accounts::actor_of(&app, "xiaoneng").await.unwrap().unwrap();
    let liaison = oversight_app::accounts::actor_of(&app, "fgw").await.unwrap().unwrap();
    // Saving: an invalid scheme is refused whole, a department writes none, each edit a version.
    let bad = evaluation::save_scheme(&app, &office, None, &SCHEME.replace("per = 5", "per = \"五\"")).await;
    assert!(matches!(bad, Err(AppError::Invalid(_))), "{bad:?}");
    assert!(evaluation::save_scheme(&app, &liaison, None, SCHEME).await.is_err());
    let v1 = evaluation::save_scheme(&app, &office, None, SCHEME).await.unwrap();
    let v2 = evaluation::save_scheme(&app, &office, Some(&v1.id), &SCHEME.replace("weight = 40", "weight = 45"))
        .await
        .unwrap();
    assert_eq!((v1.version, v2.version, &v2.family), (1, 2, &v1.id));
    assert!(evaluation::save_scheme(&app, &liaison, Some(&v1.id), SCHEME).await.is_err(), "nor edits the office's");
    let listed = evaluation::schemes(&app, &office).await.unwrap();
    assert_eq!(listed.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), [v2.id.as_str()], "the latest version");

    // Publishing keeps the run's bytes: the same as the command line's run of the scheme.
    let from = cases::parse_date("2011-03-01", "from").unwrap();
    let to = cases::parse_date("2011-03-31", "to").unwrap();
    let id = evaluation::publish(&app, &office, &v1.id, from, to).await.unwrap();
    let cli = evaluation::run(&app, &Actor::cli(), &evaluation::parse_scheme(SCHEME).unwrap(), from, to).await.unwrap();
    let v = evaluation::result_view(&app, Some(&office), &id).await.unwrap();
    assert_eq!(v.row.result, serde_json::to_string(&cli).unwrap());
    assert!(v.same_bytes && v.changes.is_empty());
    assert!(evaluation::result_view(&app, Some(&liaison), &id).await.is_err(), "the office's page, not a department's");
    assert!(evaluation::published(&app).await.unwrap().iter().any(|r| r.id == id));
    // What if version 2 (A1 weighs 45, not 40) had been published: each department beside its
    // published place, A1 the reason.
    let (draft, moves) = evaluation::what_if(&app, &office, &v2.id, &id).await.unwrap();
    assert_eq!((draft.from, draft.to), (from, to), "over the published result's period");
    assert_eq!(moves.len(), 3);
    for m in &moves {
        let before = v.result.departments.iter().find(|d| d.code == m.code).unwrap();
        assert_eq!((m.rank_before, m.score_before), (Some(before.rank), Some(before.score)));
        assert_eq!(m.reasons.len(), 1, "{m:?}");
        assert_eq!(m.reasons[0].0, "办件超期率");
    }
    let d03 = moves.iter().find(|m| m.code == "460100-D03").unwrap();
    assert_eq!(d03.reasons[0].1, 5.0, "no settled case: the whole weight, 45 instead of 40");
    let csv = evaluation::result_csv(&v);
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.lines().nth(1).unwrap().starts_with("1,460100-D03,市民政局,"), "{csv}");

    // A late case of March, overdue, for 市发改委: the published result does not change, its page
    // says what a re-run would change.
    let late = [
        json!({"event_id": "E6-r", "case_no": "E6", "type": "received", "at": "2011-03-01T09:00:00+08:00",
            "item_code": "SX001", "venue_code": "460100-V", "applicant": {"kind": "person", "name": "王"}}),
        json!({"event_id": "E6-a", "case_no": "E6", "type": "accepted", "at": "2011-03-01T10:00:00+08:00"}),
        json!({"event_id": "E6-c", "case_no": "E6", "type": "completed", "at": "2011-03-28T10:00:00+08:00", "result": "approved"}),
    ];
    let texts: Vec<String> = late.iter().map(|l| l.to_string()).collect();
    let numbered: Vec<(usize, &str)> = texts.iter().enumerate().map(|(i, l)| (i + 1, l.as_str())).collect();
    cases::ingest_as(&app, &Actor::cli(), Reporting::Historical, numbered, |_| {}).await.unwrap();
    let after = evaluation::result_view(&app, Some(&office), &id).await.unwrap();
    assert_eq!(after.result, v.result, "published, it stays");
    assert!(!after.same_bytes);
    let a1 = after.changes.iter().find(|c| c.department == "460100-D01" && c.indicator == "A1").unwrap();
    assert_eq!((a1.was, a1.now), (Some(1.0 / 2.0), Some(2.0 / 3.0)));
    assert!(after.changes.iter().all(|c| c.department == "460100-D01"), "{:?}", after.changes);
}

async fn the_office_enters_manual_points_with_a_reason(app: App) {
    use oversight_app::AppError;
    use oversight_app::evaluation::ManualEntry;
    load_records(&app).await;
    let office = oversight_app::accounts::actor_of(&app, "xiaoneng").await.unwrap().unwrap();
    let liaison = oversight_app::accounts::actor_of(&app, "fgw").await.unwrap().unwrap();
    let body = format!(
        "{SCHEME}\n[[indicator]]\ncode = \"M1\"\nname = \"领导评价\"\nsource = \"manual\"\nweight = 10\nscore = {{ kind = \"manual\" }}\n"
    );
    let scheme = evaluation::save_scheme(&app, &office, None, &body).await.unwrap();
    let from = cases::parse_date("2011-03-01", "from").unwrap();
    let to = cases::parse_date("2011-03-31", "to").unwrap();
    let entry = |department: &str, indicator: &str, points: &str, reason: &str| ManualEntry {
        department: department.into(),
        indicator: indicator.into(),
        points: points.into(),
        reason: reason.into(),
        evidence: "2011 年 4 月 2 日领导测评记录".into(),
    };
    // Refused field by field: an unknown department, an indicator that is not manual, points
    // above the weight, no reason; nothing stored.
    let refused =
        evaluation::enter_points(&app, &office, &scheme.id, from, to, &entry("460106-D01", "A1", "11", " ")).await;
    let Err(AppError::Invalid(errors)) = refused else { panic!("{refused:?}") };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["indicator", "department", "points", "reason"]);
    let over = entry("460100-D01", "M1", "10.5", "优");
    let refused = evaluation::enter_points(&app, &office, &scheme.id, from, to, &over).await;
    assert!(matches!(&refused, Err(AppError::Invalid(e)) if e[0].field == "points" && e[0].reason.contains("0 到 10")));
    assert!(evaluation::manual_entries(&app, &office, &scheme.id, from, to).await.unwrap().is_empty());
    let good = entry("460100-D01", "M1", "8.5", "年度领导测评良好");
    assert!(evaluation::enter_points(&app, &liaison, &scheme.id, from, to, &good).await.is_err(), "the office's");
    // Entered, the points count; unentered, 0; an entry again replaces the last.
    evaluation::enter_points(&app, &office, &scheme.id, from, to, &good).await.unwrap();
    let run = evaluation::run_saved(&app, &office, &scheme.id, from, to).await.unwrap();
    let m1 = |r: &evaluation::EvaluationResult, code: &str| {
        let d = r.departments.iter().find(|d| d.code == code).unwrap();
        (d.indicators.last().unwrap().value, d.indicators.last().unwrap().points)
    };
    assert_eq!(m1(&run, "460100-D01"), (None, 8.5));
    assert_eq!(m1(&run, "460100-D02"), (None, 0.0));
    let id = evaluation::publish(&app, &office, &scheme.id, from, to).await.unwrap();
    evaluation::enter_points(&app, &office, &scheme.id, from, to, &entry("460100-D01", "M1", "9", "复核后调整"))
        .await
        .unwrap();
    let entries = evaluation::manual_entries(&app, &office, &scheme.id, from, to).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0].points, entries[0].reason.as_str()), (9.0, "复核后调整"));
    // The published result keeps 8.5; its page says a re-run would give 9.
    let v = evaluation::result_view(&app, Some(&office), &id).await.unwrap();
    assert_eq!(m1(&v.result, "460100-D01"), (None, 8.5));
    let change = v.changes.iter().find(|c| c.indicator == "M1").unwrap();
    assert_eq!((change.points_was, change.points_now), (8.5, 9.0));
    // Another period has its own entries.
    let april = cases::parse_date("2011-04-30", "to").unwrap();
    let other = evaluation::run_saved(&app, &office, &scheme.id, from, april).await.unwrap();
    assert_eq!(m1(&other, "460100-D01"), (None, 0.0));
}

async fn a_department_assesses_itself_before_the_office_reviews(app: App) {
    use oversight_app::AppError;
    use oversight_app::evaluation::ManualEntry;
    use oversight_app::evaluation::self_assessment::{self, SelfEntry};
    load_records(&app).await;
    let office = oversight_app::accounts::actor_of(&app, "xiaoneng").await.unwrap().unwrap();
    let fgw = oversight_app::accounts::actor_of(&app, "fgw").await.unwrap().unwrap();
    let body = format!(
        "{SCHEME}\n[[indicator]]\ncode = \"M1\"\nname = \"领导评价\"\nsource = \"manual\"\nweight = 10\nscore = {{ kind = \"manual\" }}\nself_assessment = true\n"
    );
    let scheme = evaluation::save_scheme(&app, &office, None, &body).await.unwrap();
    let from = cases::parse_date("2011-03-01", "from").unwrap();
    let to = cases::parse_date("2011-03-31", "to").unwrap();
    let review = |points: &str| ManualEntry {
        department: "460100-D01".into(),
        indicator: "M1".into(),
        points: points.into(),
        reason: "复核领导测评记录".into(),
        evidence: String::new(),
    };
    // The office cannot review before the department has assessed itself.
    let early = evaluation::enter_points(&app, &office, &scheme.id, from, to, &review("8")).await;
    assert!(matches!(&early, Err(AppError::Invalid(e)) if e[0].field == "department" && e[0].reason.contains("自评")));
    // Only the office asks, and only a scheme with such an indicator; asking again adds nothing.
    assert!(self_assessment::request(&app, &fgw, &scheme.id, from, to).await.is_err());
    assert_eq!(self_assessment::request(&app, &office, &scheme.id, from, to).await.unwrap(), 3, "one per department");
    assert_eq!(self_assessment::request(&app, &office, &scheme.id, from, to).await.unwrap(), 0);
    // The liaison of 460100-D01 sees its own request only, and answers it.
    let asked = self_assessment::asked_of(&app, &fgw).await.unwrap();
    assert_eq!(asked.len(), 1);
    assert_eq!((asked[0].row.department_code.as_str(), asked[0].weight), ("460100-D01", 10.0));
    assert!(self_assessment::asked_of(&app, &office).await.unwrap().is_empty(), "the office reviews on the scheme");
    let id = asked[0].row.id.clone();
    let typed = |points: &str, reason: &str| SelfEntry {
        points: points.into(),
        reason: reason.into(),
        evidence: "台账".into(),
    };
    let refused = self_assessment::enter(&app, &fgw, &id, &typed("12", " ")).await;
    let Err(AppError::Invalid(errors)) = refused else { panic!("{refused:?}") };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["points", "reason"]);
    let others = self_assessment::of_scheme(&app, &office, &scheme.id, from, to).await.unwrap();
    let d02 = others.iter().find(|x| x.department_code == "460100-D02").unwrap();
    assert!(self_assessment::enter(&app, &fgw, &d02.id, &typed("9", "不是本部门")).await.is_err(), "another's");
    assert!(self_assessment::enter(&app, &office, &id, &typed("9", "效能办代填")).await.is_err(), "the liaison's");
    self_assessment::enter(&app, &fgw, &id, &typed("9.5", "全年无投诉")).await.unwrap();
    self_assessment::enter(&app, &fgw, &id, &typed("9", "更正：一件投诉")).await.unwrap();
    // The office reviews; the department's figure stays beside, and can no longer change.
    evaluation::enter_points(&app, &office, &scheme.id, from, to, &review("8")).await.unwrap();
    let selves = self_assessment::of_scheme(&app, &office, &scheme.id, from, to).await.unwrap();
    let mine = selves.iter().find(|x| x.id == id).unwrap();
    assert_eq!((mine.points, mine.reason.as_deref()), (Some(9.0), Some("更正：一件投诉")));
    let asked = self_assessment::asked_of(&app, &fgw).await.unwrap();
    assert_eq!((asked[0].row.points, asked[0].reviewed), (Some(9.0), Some(8.0)));
    let late = self_assessment::enter(&app, &fgw, &id, &typed("10", "再改")).await;
    assert!(matches!(late, Err(AppError::Conflict(_))), "{late:?}");
    let run = evaluation::run_saved(&app, &office, &scheme.id, from, to).await.unwrap();
    let d01 = run.departments.iter().find(|d| d.code == "460100-D01").unwrap();
    assert_eq!(d01.indicators.last().unwrap().points, 8.0, "the office's points count");
}

async fn a_group_ranks_its_departments_with_its_own_weights(app: App) {
    load_records(&app).await;
    let (from, to) = (cases::parse_date("2011-03-01", "from").unwrap(), cases::parse_date("2011-03-31", "to").unwrap());
    let plain = evaluation::parse_scheme(SCHEME).unwrap();
    let whole = evaluation::run(&app, &Actor::cli(), &plain, from, to).await.unwrap();
    let grouped_text = format!(
        "{SCHEME}\n[[group]]\nname = \"委办局\"\ndepartments = [\"460100-D01\", \"460100-D02\"]\nweights = {{ A1 = 60, A2 = 0 }}\n"
    );
    let grouped = evaluation::parse_scheme(&grouped_text).unwrap();
    let split = evaluation::run(&app, &Actor::cli(), &grouped, from, to).await.unwrap();
    let find =
        |r: &evaluation::EvaluationResult, code: &str| r.departments.iter().find(|d| d.code == code).cloned().unwrap();
    for code in ["460100-D01", "460100-D02", "460100-D03"] {
        let (a, b) = (find(&whole, code), find(&split, code));
        assert!(a.group.is_none());
        // The same values; points recomputed here with the group's weights: a linear indicator
        // scales with its weight, a deduction against weight 0 gives nothing.
        let in_group = code != "460100-D03";
        for (x, y) in a.indicators.iter().zip(&b.indicators) {
            assert_eq!(x.value, y.value, "{code} {}", x.code);
            let expected = match (in_group, x.code.as_str()) {
                (true, "A1") => x.points * 60.0 / 40.0,
                (true, "A2") => 0.0,
                _ => x.points,
            };
            assert!((y.points - expected).abs() < 1e-9, "{code} {}: {} vs {expected}", x.code, y.points);
        }
        assert_eq!(b.group.as_deref(), Some(if in_group { "委办局" } else { "其他部门" }));
    }
    // Ranked within each group: 460100-D03 is alone in its own and first there; the group comes
    // first in the result.
    assert_eq!(find(&split, "460100-D03").rank, 1);
    let ranks: Vec<usize> = split.departments.iter().take(2).map(|d| d.rank).collect();
    assert!(ranks == [1, 2] || ranks == [1, 1], "{ranks:?}");
    assert_eq!(split.departments[2].code, "460100-D03");
    let json = serde_json::to_string(&whole).unwrap();
    assert!(!json.contains("\"group\""), "a scheme without groups prints the format's result");
}

async fn the_public_headline_is_the_office_reports_of_the_year(app: App) {
    use oversight_store::cases::GroupBy;
    load_records(&app).await;
    let h = oversight_app::headline::headline(&app, 2011).await.unwrap();
    let (from, to) = (h.from, h.to);
    assert_eq!((from.to_string(), to.to_string()), ("2011-01-01".to_string(), "2011-12-31".to_string()));
    let cases = cases::case_report(&app, &Actor::cli(), from, to, &[], Some(GroupBy::Department)).await.unwrap();
    assert_eq!(h.cases, cases.total);
    assert_eq!((h.cases.settled, h.cases.overdue), (5, 2), "the five cases of March, two overdue");
    assert_eq!(h.cases_by_department.len(), cases.groups.len());
    let tickets = oversight_app::tickets::ticket_report(&app, &Actor::cli(), from, to, None).await.unwrap();
    assert_eq!((h.hotline.received, h.hotline.closed), (tickets.received, tickets.closed));
    assert_eq!(h.hotline.received, 3);
    assert_eq!(h.ratings.counts.rated, 2);
    let csv = oversight_app::headline::headline_csv(&h);
    assert!(csv.contains("cases.overdue_rate,,,0.4\n"), "{csv}");
    assert!(csv.contains("hotline.received,,,3\n"), "{csv}");
    assert!(oversight_app::headline::headline(&app, 1999).await.is_err());
}

async fn an_upheld_appeal_excludes_the_record_and_republishes(app: App) {
    use oversight_app::AppError;
    use oversight_app::evaluation::NewAppeal;
    load_records(&app).await;
    let office = oversight_app::accounts::actor_of(&app, "xiaoneng").await.unwrap().unwrap();
    let liaison = oversight_app::accounts::actor_of(&app, "fgw").await.unwrap().unwrap();
    let scheme = evaluation::save_scheme(&app, &office, None, SCHEME).await.unwrap();
    let from = cases::parse_date("2011-03-01", "from").unwrap();
    let to = cases::parse_date("2011-03-31", "to").unwrap();
    let first = evaluation::publish(&app, &office, &scheme.id, from, to).await.unwrap();
    // The department sees its own result and the overdue cases it counted: E2 for 市发改委.
    let v = evaluation::department_view(&app, &liaison, &first, "460100-D01").await.unwrap();
    assert_eq!(v.overdue_cases, ["E2"]);
    assert!(v.may_appeal && !v.may_decide);
    assert!(evaluation::department_view(&app, &liaison, &first, "460100-D02").await.is_err(), "not another's");
    let appeal = |record: &str, reason: &str, evidence: &str| NewAppeal {
        kind: String::new(),
        record: record.into(),
        reason: reason.into(),
        evidence: evidence.into(),
    };
    // Refused: a record not counted for the department, no reason or evidence.
    let refused = evaluation::file_appeal(&app, &liaison, &first, "460100-D01", &appeal("E4", "", "")).await;
    let Err(AppError::Invalid(errors)) = refused else { panic!("{refused:?}") };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["record", "reason", "evidence"]);
    // After the limit (10 working days after publication), refused too.
    let later = app.with_clock(oversight_app::ManualClock::new(app.now() + chrono::Days::new(30)));
    let late =
        evaluation::file_appeal(&later, &liaison, &first, "460100-D01", &appeal("E2", "申请人延误", "补正记录")).await;
    assert!(matches!(late, Err(AppError::Conflict(ref m)) if m.contains("申诉期限已过")), "{late:?}");
    let filed =
        evaluation::file_appeal(&app, &liaison, &first, "460100-D01", &appeal("E2", "申请人延误补正", "补正通知书"))
            .await
            .unwrap();
    let again = evaluation::file_appeal(&app, &liaison, &first, "460100-D01", &appeal("E2", "再诉", "同上")).await;
    assert!(matches!(again, Err(AppError::Invalid(ref e)) if e[0].reason.contains("已申诉")), "{again:?}");
    assert!(evaluation::decide_appeal(&app, &liaison, &filed, true, "成立").await.is_err(), "the office decides");
    assert!(matches!(evaluation::decide_appeal(&app, &office, &filed, true, " ").await, Err(AppError::Invalid(_))));

    // Upheld: E2 no longer counts; the result is published again, superseding the first.
    let second =
        evaluation::decide_appeal(&app, &office, &filed, true, "补正通知书证实申请人延误").await.unwrap().unwrap();
    let before = evaluation::result_view(&app, Some(&office), &first).await.unwrap();
    let after = evaluation::result_view(&app, Some(&office), &second).await.unwrap();
    assert_eq!(before.successor.as_deref(), Some(second.as_str()));
    assert_eq!(after.row.supersedes.as_deref(), Some(first.as_str()));
    let d01 = |r: &evaluation::EvaluationResult| r.departments.iter().find(|d| d.code == "460100-D01").unwrap().clone();
    assert_eq!(d01(&before.result).indicators[0].value, Some(0.5));
    assert_eq!(d01(&after.result).indicators[0].value, Some(0.0), "E1 alone: on time");
    assert_eq!(d01(&after.result).score, d01(&before.result).score + 20.0);
    assert!(after.same_bytes, "a re-run excludes the record too");
    let public: Vec<String> = evaluation::published(&app).await.unwrap().into_iter().map(|r| r.id).collect();
    assert!(public.contains(&second) && !public.contains(&first));
    let v = evaluation::department_view(&app, &liaison, &second, "460100-D01").await.unwrap();
    assert!(v.overdue_cases.is_empty());
    assert_eq!((v.appeals.len(), v.appeals[0].state.as_str()), (1, "upheld"));
    assert!(matches!(evaluation::decide_appeal(&app, &office, &filed, false, "x").await, Err(AppError::Conflict(_))));

    // A complaint about another department: 市发改委's two complaints (Q1, Q2) were counted and
    // kept; Q3 (市公安局's consultation) is none of its records.
    assert_eq!(v.complaints, ["Q1", "Q2"]);
    let complaint = |record: &str| NewAppeal {
        kind: evaluation::COMPLAINT.into(),
        record: record.into(),
        reason: "投诉反映的是市公安局窗口的问题".into(),
        evidence: "工单录音及受理记录".into(),
    };
    let refused = evaluation::file_appeal(&app, &liaison, &second, "460100-D01", &complaint("Q3")).await;
    assert!(matches!(refused, Err(AppError::Invalid(ref e)) if e[0].field == "record"), "{refused:?}");
    let as_case = NewAppeal { kind: evaluation::OVERDUE_CASE.into(), ..complaint("Q2") };
    let refused = evaluation::file_appeal(&app, &liaison, &second, "460100-D01", &as_case).await;
    assert!(matches!(refused, Err(AppError::Invalid(_))), "Q2 is a complaint, not an overdue case: {refused:?}");
    let filed = evaluation::file_appeal(&app, &liaison, &second, "460100-D01", &complaint("Q2")).await.unwrap();
    let third =
        evaluation::decide_appeal(&app, &office, &filed, true, "经核实投诉对象为市公安局").await.unwrap().unwrap();
    let after_complaint = evaluation::result_view(&app, Some(&office), &third).await.unwrap();
    assert_eq!(d01(&after.result).indicators[1].value, Some(2.0));
    assert_eq!(d01(&after_complaint.result).indicators[1].value, Some(1.0), "Q1 alone");
    assert_eq!(d01(&after_complaint.result).score, d01(&after.result).score + 5.0, "one deduction of 5 fewer");
    assert!(after_complaint.same_bytes, "a re-run excludes the complaint too");
    let v = evaluation::department_view(&app, &liaison, &third, "460100-D01").await.unwrap();
    assert_eq!(v.complaints, ["Q1"]);
    let kinds: Vec<(&str, &str, &str)> =
        v.appeals.iter().map(|a| (a.kind.as_str(), a.record_id.as_str(), a.state.as_str())).collect();
    assert_eq!(kinds, [("overdue_case", "E2", "upheld"), ("complaint", "Q2", "upheld")]);
}

//! Inspection rounds: the draw by lot re-run from its revealed seed, covert targets hidden from
//! all but the round's inspectors, bad plans refused field by field; checklists versioned.

use std::collections::BTreeMap;

use chrono::Datelike;

use oversight_app::inspections::{self, NewFinding, NewRound};
use oversight_app::{App, AppError, demo};
use oversight_domain::inspection;
use oversight_testkit::{login, on_both_backends};

on_both_backends!(
    a_round_is_drawn_by_lot_and_anyone_can_re_run_it_once_it_ends,
    a_bad_plan_is_refused_beside_each_field,
    a_checklist_change_is_a_new_version,
    an_inspector_records_findings_step_by_step_and_a_repeat_says_so,
    a_photo_is_shrunk_stored_by_its_hash_and_shown_to_who_sees_the_finding,
    a_late_rectification_or_follow_up_raises_one_alert_into_the_notice_flow,
    the_inspections_report_counts_what_its_links_list,
    a_bulletin_is_frozen_at_approval_and_published_without_a_staff_name
);

fn round(month: &str, kind: &str, inspectors: &[&str], quotas: &[(&str, &str)]) -> NewRound {
    NewRound {
        month: month.into(),
        kind: kind.into(),
        inspectors: inspectors.iter().map(|s| s.to_string()).collect(),
        quotas: quotas.iter().map(|(l, n)| (l.to_string(), n.to_string())).collect::<BTreeMap<_, _>>(),
    }
}

fn this_month(app: &App) -> String {
    app.today().format("%Y-%m").to_string()
}

async fn a_round_is_drawn_by_lot_and_anyone_can_re_run_it_once_it_ends(app: App) {
    let accounts = demo::load(&app).await.unwrap();
    let office = login(&app, &accounts, "xiaoneng").await;
    let inspector = login(&app, &accounts, "jiancha").await;
    let district = login(&app, &accounts, "xiuying").await;
    let plan = round(&this_month(&app), "covert", &["jiancha"], &[("district", "2"), ("town", "3")]);
    let id = inspections::plan_round(&app, &office, &plan).await.unwrap();

    // The inspector sees the five venues; the office that planned the covert round does not,
    // and no seed shows before the round ends.
    let seen = inspections::round_view(&app, &inspector, &id).await.unwrap();
    let targets: Vec<String> = seen.targets.clone().unwrap().into_iter().map(|(code, _, _)| code).collect();
    assert_eq!(targets.len(), 5, "{targets:?}");
    let levels: Vec<_> = seen.targets.unwrap().into_iter().map(|(_, _, l)| l.unwrap().as_str()).collect();
    assert_eq!(levels, ["district", "district", "town", "town", "town"]);
    assert!(seen.seed.is_none() && seen.verified.is_none());
    let planner = inspections::round_view(&app, &office, &id).await.unwrap();
    assert!(planner.targets.is_none(), "covert: only the round's inspectors");
    assert!(planner.candidates.len() > 40, "every district and town centre of the city: {}", planner.candidates.len());
    // A district office does not see the city's round at all.
    assert!(matches!(inspections::round_view(&app, &district, &id).await, Err(AppError::NotFound(_))));
    assert!(matches!(
        inspections::end_round(&app, &inspector, &id).await,
        Err(AppError::NotFound(_) | AppError::Forbidden(_))
    ));

    inspections::end_round(&app, &office, &id).await.unwrap();
    let ended = inspections::round_view(&app, &district.clone(), &id).await;
    assert!(ended.is_err(), "ending shows the seed, not the round to other districts");
    let after = inspections::round_view(&app, &office, &id).await.unwrap();
    let seed = after.seed.clone().expect("the seed once ended");
    assert_eq!(after.verified, Some(true));
    // Re-run from what was published: the seed matches the commitment, and the rule over the
    // published candidates gives the venues drawn.
    assert_eq!(inspection::commitment(&seed), after.row.commitment);
    let (candidates, quotas) = inspections::published(&after.row).unwrap();
    assert_eq!(inspection::draw(&seed, &candidates, &quotas).unwrap(), targets);
    let shown: Vec<String> = after.targets.unwrap().into_iter().map(|(code, _, _)| code).collect();
    assert_eq!(shown, targets, "the targets show to all once the round ends");
    assert!(matches!(inspections::end_round(&app, &office, &id).await, Err(AppError::Conflict(_))));
    // The plan and its commitment are in the audit log before anyone could see the seed.
    let audit = oversight_store::audit::recent(&app.db, &oversight_domain::access::Scope::All, None, 50).await.unwrap();
    let planned = audit.iter().find(|e| e.action == "inspection.plan").expect("the plan audited");
    assert!(planned.detail.contains(&after.row.commitment));
    // A second round draws with its own seed.
    let other = inspections::plan_round(&app, &office, &plan).await.unwrap();
    let other = inspections::round_view(&app, &inspector, &other).await.unwrap();
    assert_ne!(other.row.commitment, after.row.commitment);
}

async fn a_bad_plan_is_refused_beside_each_field(app: App) {
    let accounts = demo::load(&app).await.unwrap();
    let office = login(&app, &accounts, "xiaoneng").await;
    let fields = |e: AppError| match e {
        AppError::Invalid(errors) => errors.into_iter().map(|e| (e.field, e.reason)).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    let bad = round("2011-01", "loud", &["nobody"], &[("town", "many")]);
    let got = fields(inspections::plan_round(&app, &office, &bad).await.unwrap_err());
    let names: Vec<&str> = got.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(names, ["month", "kind", "inspectors", "quota_town"], "{got:?}");
    assert!(got[2].1.contains("nobody"), "{got:?}");
    // More district centres than the city has.
    let too_many = round(&this_month(&app), "open", &["jiancha"], &[("district", "9")]);
    let got = fields(inspections::plan_round(&app, &office, &too_many).await.unwrap_err());
    assert_eq!(got[0].0, "quota_district");
    assert!(got[0].1.contains("少于要抽取的 9 个"), "{got:?}");
    let none = round(&this_month(&app), "open", &["jiancha"], &[]);
    assert_eq!(fields(inspections::plan_round(&app, &office, &none).await.unwrap_err())[0].0, "quota_district");
    assert!(inspections::rounds(&app, &office).await.unwrap().is_empty(), "nothing stored");
    // Only the office plans.
    let inspector = login(&app, &accounts, "jiancha").await;
    let fine = round(&this_month(&app), "open", &["jiancha"], &[("district", "1")]);
    assert!(matches!(inspections::plan_round(&app, &inspector, &fine).await, Err(AppError::Forbidden(_))));
}

async fn a_checklist_change_is_a_new_version(app: App) {
    let accounts = demo::load(&app).await.unwrap();
    let office = login(&app, &accounts, "xiaoneng").await;
    let (version, shipped) = inspections::checklist(&app, "service_hall").await.unwrap();
    assert_eq!((version, shipped.items.len()), (0, 10));
    let body = "name = \"便民服务中心检查表\"\n[[item]]\ncode = \"duty\"\nname = \"在岗在位\"\n";
    assert_eq!(inspections::save_checklist(&app, &office, "service_hall", body).await.unwrap(), 1);
    assert_eq!(inspections::save_checklist(&app, &office, "service_hall", body).await.unwrap(), 2);
    let (version, list) = inspections::checklist(&app, "service_hall").await.unwrap();
    assert_eq!((version, list.name.as_str()), (2, "便民服务中心检查表"));
    let refused = inspections::save_checklist(&app, &office, "service_hall", "name = \"x\"\n").await.unwrap_err();
    assert!(
        matches!(&refused, AppError::Invalid(e) if e[0].field == "body" && e[0].reason.contains("[[item]]")),
        "{refused:?}"
    );
    assert_eq!(inspections::checklist(&app, "service_hall").await.unwrap().0, 2, "nothing stored");
}

async fn an_inspector_records_findings_step_by_step_and_a_repeat_says_so(app: App) {
    let accounts = demo::load(&app).await.unwrap();
    let office = login(&app, &accounts, "xiaoneng").await;
    let inspector = login(&app, &accounts, "jiancha").await;
    let plan = round(&this_month(&app), "covert", &["jiancha"], &[("city", "1")]);
    let id = inspections::plan_round(&app, &office, &plan).await.unwrap();
    // Only a venue of the round, only by its inspector.
    let refused = inspections::start_visit(&app, &inspector, &id, "460105-V").await.unwrap_err();
    assert!(matches!(&refused, AppError::Invalid(e) if e[0].field == "venue_code"), "{refused:?}");
    assert!(matches!(inspections::start_visit(&app, &office, &id, "460100-V").await, Err(AppError::Forbidden(_))));
    let visit = inspections::start_visit(&app, &inspector, &id, "460100-V").await.unwrap();
    assert_eq!(
        inspections::start_visit(&app, &inspector, &id, "460100-V").await.unwrap(),
        visit,
        "the same visit again"
    );
    // The office changes the checklist now: the visit keeps the version it began with.
    let body = "name = \"新表\"\n[[item]]\ncode = \"new\"\nname = \"新项\"\n";
    inspections::save_checklist(&app, &office, "service_hall", body).await.unwrap();
    let finding = |item: &str, severity: &str, note: &str| NewFinding {
        item_code: item.into(),
        severity: severity.into(),
        department_code: "460100-D01".into(),
        window_name: "社保窗口".into(),
        staff_name: "王某".into(),
        note: note.into(),
    };
    let bad = inspections::record_finding(&app, &inspector, &visit, &finding("new", "grave", "")).await.unwrap_err();
    let AppError::Invalid(errors) = bad else { panic!("{bad:?}") };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["item_code", "severity", "note"], "the visit's own checklist: {errors:?}");
    let first = inspections::record_finding(&app, &inspector, &visit, &finding("duty", "minor", "工作时间玩手机"))
        .await
        .unwrap();
    assert_eq!((first.repeat_of.as_deref(), first.department_path.as_str()), (None, "/460100/460100-D01/"));
    let again =
        inspections::record_finding(&app, &inspector, &visit, &finding("duty", "serious", "再次玩手机")).await.unwrap();
    assert_eq!(again.repeat_of.as_deref(), Some(first.id.as_str()), "the same item at the same venue within 90 days");
    // The office sees the covert round's visit only once the round ends.
    assert!(matches!(inspections::visit_view(&app, &office, &visit).await, Err(AppError::NotFound(_))));
    let seen = inspections::visit_view(&app, &inspector, &visit).await.unwrap();
    assert_eq!((seen.findings.len(), seen.checklist.items.len(), seen.may_record), (2, 10, true));
    oversight_app::network::set_contacts(&app, &oversight_app::Actor::cli(), "460100-D01", "fgw@haikou.example", "")
        .await
        .unwrap();
    inspections::close_visit(&app, &inspector, &visit).await.unwrap();
    // 市发改委 is told once of both notices, by e-mail (it has no phone on record).
    let told: Vec<_> = oversight_store::outbox::messages(&app.db, None, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == inspections::RECTIFICATION_NOTICE)
        .collect();
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].subject.contains("检查发现 2 个问题") && told[0].body.contains("再次玩手机"), "{}", told[0].body);
    assert_eq!(told[0].recipient, "fgw@haikou.example");
    let late = inspections::record_finding(&app, &inspector, &visit, &finding("dress", "minor", "未佩戴工牌")).await;
    assert!(matches!(late, Err(AppError::Conflict(_))), "a finding on a closed visit");
    inspections::end_round(&app, &office, &id).await.unwrap();
    let office_view = inspections::visit_view(&app, &office, &visit).await.unwrap();
    assert_eq!((office_view.findings.len(), office_view.may_record), (2, false));

    // Closing the visit sent each finding to 市发改委 for rectification: 10 working days for a
    // minor one, 5 for a serious one.
    let calendar = app.calendar().await.unwrap();
    let sent = inspections::finding_view(&app, &office, &first.id).await.unwrap();
    assert_eq!(sent.finding.rect_due, Some(calendar.deadline(app.today(), 10).unwrap()));
    let serious = inspections::finding_view(&app, &office, &again.id).await.unwrap();
    assert_eq!(serious.finding.rect_due, Some(calendar.deadline(app.today(), 5).unwrap()));
    let liaison = login(&app, &accounts, "fgw").await;
    let step = |who: &oversight_app::Actor, step: &str, note: &str, method: &str| {
        let (app, who, id, step, note, method) =
            (app.clone(), who.clone(), first.id.clone(), step.to_string(), note.to_string(), method.to_string());
        async move { inspections::rectification_step(&app, &who, &id, &step, &note, "整改照片.jpg", &method).await }
    };
    assert!(matches!(step(&office, "verify", "", "call").await, Err(AppError::Conflict(_))), "nothing to verify yet");
    assert!(
        matches!(step(&office, "reply", "x", "").await, Err(AppError::Forbidden(_))),
        "the reply is the department's"
    );
    step(&liaison, "reply", "已对当事人批评教育并调整排班", "").await.unwrap();
    step(&office, "return", "未见排班表", "").await.unwrap();
    step(&liaison, "reply", "补充排班表", "").await.unwrap();
    let missing = step(&office, "verify", "", "").await.unwrap_err();
    assert!(matches!(&missing, AppError::Invalid(e) if e[0].field == "method"), "{missing:?}");
    assert_eq!(step(&office, "verify", "复查已整改", "reinspection").await.unwrap().as_str(), "verified");
    let done = inspections::finding_view(&app, &liaison, &first.id).await.unwrap();
    assert_eq!((done.finding.verify_method.as_deref(), done.steps.len()), (Some("reinspection"), 4));
    assert!(done.may.is_empty());
    let open = inspections::rectifications(&app, &liaison, &Default::default()).await.unwrap();
    assert_eq!(open.len(), 2, "both findings are the department's");
    // A district office does not see the city's visit.
    let district = login(&app, &accounts, "xiuying").await;
    assert!(matches!(inspections::visit_view(&app, &district, &visit).await, Err(AppError::NotFound(_))));
}

async fn a_photo_is_shrunk_stored_by_its_hash_and_shown_to_who_sees_the_finding(app: App) {
    let accounts = demo::load(&app).await.unwrap();
    let office = login(&app, &accounts, "xiaoneng").await;
    let inspector = login(&app, &accounts, "jiancha").await;
    let liaison = login(&app, &accounts, "fgw").await;
    let id =
        inspections::plan_round(&app, &office, &round(&this_month(&app), "covert", &["jiancha"], &[("city", "1")]))
            .await
            .unwrap();
    let visit = inspections::start_visit(&app, &inspector, &id, "460100-V").await.unwrap();
    let finding = NewFinding {
        item_code: "environment".into(),
        severity: "minor".into(),
        department_code: "460100-D01".into(),
        note: "填单台缺笔".into(),
        ..Default::default()
    };
    let f = inspections::record_finding(&app, &inspector, &visit, &finding).await.unwrap();
    let camera = {
        let picture = image::RgbImage::from_fn(3000, 4000, |x, y| image::Rgb([(x % 200) as u8, (y % 180) as u8, 70]));
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92).encode_image(&picture).unwrap();
        out
    };
    let refused = inspections::add_photo(&app, &inspector, &f.id, b"GIF89a not really".to_vec()).await.unwrap_err();
    assert!(matches!(&refused, AppError::Invalid(e) if e[0].field == "photo"), "{refused:?}");
    let too_big = inspections::add_photo(&app, &inspector, &f.id, vec![0xFF; inspections::MAX_PHOTO_BYTES + 1]).await;
    assert!(matches!(&too_big, Err(AppError::Invalid(e)) if e[0].reason.contains("MB")), "{too_big:?}");
    assert!(matches!(
        inspections::add_photo(&app, &office, &f.id, camera.clone()).await,
        Err(AppError::NotFound(_) | AppError::Forbidden(_))
    ));
    let meta = inspections::add_photo(&app, &inspector, &f.id, camera).await.unwrap();
    assert_eq!((meta.width, meta.height), (1200, 1600));
    let stored = inspections::photo(&app, &inspector, &meta.id).await.unwrap();
    assert_eq!(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&stored)), meta.sha256);
    // Before the visit ends the department knows nothing of it; after, it sees the photo.
    assert!(matches!(inspections::photo(&app, &liaison, &meta.id).await, Err(AppError::NotFound(_))));
    inspections::close_visit(&app, &inspector, &visit).await.unwrap();
    assert_eq!(inspections::photo(&app, &liaison, &meta.id).await.unwrap(), stored);
    assert_eq!(inspections::finding_view(&app, &liaison, &f.id).await.unwrap().photos.len(), 1);
    let late = inspections::add_photo(&app, &inspector, &f.id, stored.clone()).await;
    assert!(matches!(late, Err(AppError::Conflict(_))), "a closed visit takes no photo");
    let district = login(&app, &accounts, "xiuying").await;
    assert!(matches!(inspections::photo(&app, &district, &meta.id).await, Err(AppError::NotFound(_))));
}

async fn a_late_rectification_or_follow_up_raises_one_alert_into_the_notice_flow(app: App) {
    use chrono::{Days, TimeZone, Utc};
    use oversight_app::{Actor, ManualClock, cases, ratings, supervision};
    use oversight_domain::supervision::SubjectKind;

    // Tuesday 2026-12-01, 10:00 in Haikou.
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap());
    let app = app.with_clock(clock.clone());
    let at = |day: chrono::NaiveDate| clock.set(app.start_of(day) + chrono::Duration::hours(10));
    let accounts = demo::load(&app).await.unwrap();
    let office = login(&app, &accounts, "xiaoneng").await;
    let inspector = login(&app, &accounts, "jiancha").await;
    let liaison = login(&app, &accounts, "fgw").await;
    let id = inspections::plan_round(&app, &office, &round("2026-12", "open", &["jiancha"], &[("city", "1")]))
        .await
        .unwrap();
    let visit = inspections::start_visit(&app, &inspector, &id, "460100-V").await.unwrap();
    let finding = |item: &str, severity: &str| NewFinding {
        item_code: item.into(),
        severity: severity.into(),
        department_code: "460100-D01".into(),
        window_name: String::new(),
        staff_name: String::new(),
        note: "未按规定公示".into(),
    };
    let serious = inspections::record_finding(&app, &inspector, &visit, &finding("signage", "serious")).await.unwrap();
    let minor = inspections::record_finding(&app, &inspector, &visit, &finding("dress", "minor")).await.unwrap();
    inspections::close_visit(&app, &inspector, &visit).await.unwrap();
    let due = inspections::finding_view(&app, &office, &serious.id).await.unwrap().finding.rect_due.unwrap();

    let late = |kind: &'static str| {
        let app = app.clone();
        async move {
            let all = supervision::alerts(&app, &Actor::cli(), None, None).await.unwrap();
            all.into_iter().filter(|a| a.kind == kind).collect::<Vec<_>>()
        }
    };
    // On the due day nothing is late; the day after, the serious finding is (the minor one has
    // 10 working days), and a second pass raises nothing more.
    at(due);
    supervision::monitor_pass(&app, "m").await.unwrap();
    assert!(late(inspections::RECTIFICATION_LATE).await.is_empty());
    at(due + Days::new(1));
    supervision::monitor_pass(&app, "m").await.unwrap();
    supervision::monitor_pass(&app, "m").await.unwrap();
    let alerts = late(inspections::RECTIFICATION_LATE).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!((alerts[0].subject_kind, alerts[0].subject_id.as_str()), (SubjectKind::Finding, serious.id.as_str()));
    assert_eq!(alerts[0].department_code.as_deref(), Some("460100-D01"));
    assert!(alerts[0].subject_id != minor.id);
    // A reply returned after its due day raises no second alert for the same due day.
    let step = |who: &Actor, step: &str| {
        let (app, who, id, step) = (app.clone(), who.clone(), serious.id.clone(), step.to_string());
        async move { inspections::rectification_step(&app, &who, &id, &step, "说明", "", "").await.unwrap() }
    };
    step(&liaison, "reply").await;
    step(&office, "return").await;
    supervision::monitor_pass(&app, "m").await.unwrap();
    assert_eq!(late(inspections::RECTIFICATION_LATE).await.len(), 1);
    // The office turns the alert into a supervision notice to the department, as for a case.
    let notice = supervision::issue_notice(&app, &office, &alerts[0].id, "请立即整改并反馈", 3).await.unwrap();
    assert_eq!((notice.subject_kind, notice.subject_id.as_str()), (SubjectKind::Finding, serious.id.as_str()));
    let seen = supervision::notice_view(&app, &liaison, &notice.id).await;
    assert!(seen.is_ok(), "the department sees the notice on its finding: {:?}", seen.err());

    // A bad rating on a case of 市发改委's item: contact owed within 2 working days.
    let today = app.today();
    let line = |id: &str, rest: &str| format!(r#"{{"event_id":"{id}","case_no":"LATE1",{rest}}}"#);
    let events = [
        line(
            "l1",
            &format!(
                r#""type":"received","at":"{today}T09:00:00+08:00","item_code":"SX001","venue_code":"460100-V","applicant":{{"kind":"person","name":"王"}}"#
            ),
        ),
        line("l2", &format!(r#""type":"accepted","at":"{today}T09:10:00+08:00""#)),
        line("l3", &format!(r#""type":"completed","at":"{today}T09:20:00+08:00","result":"approved""#)),
        line("l4", &format!(r#""type":"rated","at":"{today}T09:30:00+08:00","level":1,"channel":"window""#)),
    ];
    let numbered: Vec<(usize, &str)> = events.iter().enumerate().map(|(i, l)| (i + 1, l.as_str())).collect();
    let report = cases::ingest(&app, &Actor::cli(), numbered, |_| {}).await.unwrap();
    assert_eq!(report.accepted, 4, "{:?}", report.rejected);
    let follow_up = oversight_store::ratings::follow_up(&app.db, "LATE1").await.unwrap().unwrap();
    at(follow_up.contact_due);
    supervision::monitor_pass(&app, "m").await.unwrap();
    assert!(late(ratings::CONTACT_LATE).await.is_empty(), "not before the day after the due day");
    at(follow_up.contact_due + Days::new(1));
    supervision::monitor_pass(&app, "m").await.unwrap();
    let contact = late(ratings::CONTACT_LATE).await;
    assert_eq!(contact.len(), 1);
    assert_eq!((contact[0].subject_kind, contact[0].subject_id.as_str()), (SubjectKind::Review, "LATE1"));
    // Contacted late; the rectification's report is owed next, and late in its turn.
    let department = login(&app, &accounts, "fgw").await;
    ratings::take_step(&app, &department, "LATE1", "contact", "已电话联系申请人", "").await.unwrap();
    at(follow_up.rectify_due + Days::new(1));
    supervision::monitor_pass(&app, "m").await.unwrap();
    assert_eq!(late(ratings::REPLY_LATE).await.len(), 1);
    assert_eq!(late(ratings::CONTACT_LATE).await.len(), 1);
}

async fn the_inspections_report_counts_what_its_links_list(app: App) {
    use oversight_app::Actor;
    use oversight_app::cases::Compare;
    use oversight_app::inspection_report::{self as report, inspection_figures};
    use oversight_domain::inspection::FindingFigure;
    use oversight_store::cases::GroupBy;

    let accounts = demo::load(&app).await.unwrap();
    demo::load_inspections(&app, &accounts).await.unwrap();
    let office = login(&app, &accounts, "xiaoneng").await;
    let today = app.today();
    let from = today.with_day(1).unwrap();
    // One more finding verified on time, so that every figure has something to count.
    let all = inspections::rectifications(&app, &office, &Default::default()).await.unwrap();
    let open = all.iter().find(|f| f.rect_state == "open").expect("the demo leaves some to rectify");
    for (step, method) in [("reply", ""), ("verify", "call")] {
        inspections::rectification_step(&app, &Actor::cli(), &open.id, step, "已整改", "", method).await.unwrap();
    }

    // The recount: the rules of the report's definition, written out again on the stored rows.
    let rows = inspections::rectifications(&app, &office, &Default::default()).await.unwrap();
    let count = |rule: &dyn Fn(&oversight_store::inspections::FindingRow) -> bool| {
        rows.iter().filter(|f| f.found_on >= from && f.found_on <= today && rule(f)).count() as u64
    };
    let r = report::compared_inspection_report(&app, &office, from, today, Some(GroupBy::Department), Compare::None)
        .await
        .unwrap();
    let t = r.current.total;
    assert_eq!(t.visits, 3, "three venues visited in the demo's open round");
    assert_eq!(t.findings, count(&|_| true));
    assert_eq!(t.findings, 6);
    assert_eq!(t.serious, count(&|f| f.severity == "serious"));
    assert_eq!(t.repeats, count(&|f| f.repeat_of.is_some()));
    assert_eq!(t.verified, count(&|f| f.rect_state == "verified"));
    assert!(t.verified >= 1);
    assert_eq!(t.on_time, count(&|f| f.rect_state == "verified" && f.replied_on <= f.rect_due));
    assert_eq!(t.overdue, count(&|f| f.rect_state == "open" && f.rect_due.is_some_and(|d| d < today)));
    // Each figure's list holds exactly what it counts, in total and per department.
    let groups: u64 = r.current.groups.iter().map(|g| g.counts.findings).sum();
    assert_eq!(groups, t.findings, "every finding in one department's group");
    for figure in FindingFigure::ALL {
        let listed = report::figure_findings(&app, &office, from, today, None, figure).await.unwrap();
        assert_eq!(listed.len() as u64, t.count(figure), "{figure:?}");
        for g in &r.current.groups {
            let listed =
                report::figure_findings(&app, &office, from, today, Some((GroupBy::Department, &g.key)), figure)
                    .await
                    .unwrap();
            assert_eq!(listed.len() as u64, g.counts.count(figure), "{figure:?} of {}", g.key);
        }
    }
    assert_eq!(inspection_figures(&t).len(), 9);
    // A department sees only its own findings.
    let department = &r.current.groups[0];
    let liaison = oversight_app::accounts::actor_of(&app, "fgw").await.unwrap().unwrap();
    let theirs = report::inspection_report(&app, &liaison, from, today, None).await.unwrap();
    let fgw = r.current.groups.iter().find(|g| g.key == "460100-D01").map_or(0, |g| g.counts.findings);
    assert_eq!(theirs.total.findings, fgw, "{department:?}");
    // The export is a workbook, and audited.
    let bytes = report::export_inspections_xlsx(&app, &office, &r).await.unwrap();
    assert_eq!(&bytes[..2], b"PK");
    let refused = report::inspection_report(&app, &office, today, from - chrono::Days::new(1), None).await;
    assert!(matches!(refused, Err(AppError::Invalid(e)) if e[0].field == "to"));
}

async fn a_bulletin_is_frozen_at_approval_and_published_without_a_staff_name(app: App) {
    use oversight_app::Actor;
    use oversight_app::bulletins::{self, BulletinEdit};
    use oversight_domain::bulletin::{BulletinState, BulletinStep};
    use oversight_domain::inspection::RectState;

    let accounts = demo::load(&app).await.unwrap();
    demo::load_inspections(&app, &accounts).await.unwrap();
    let office = login(&app, &accounts, "xiaoneng").await;
    let inspector = login(&app, &accounts, "jiancha").await;
    let liaison = login(&app, &accounts, "fgw").await;
    let month = this_month(&app);
    // One more finding this month that names a member of staff, with a photo.
    let id =
        inspections::plan_round(&app, &office, &round(&month, "open", &["jiancha"], &[("city", "1")])).await.unwrap();
    let visit = inspections::start_visit(&app, &inspector, &id, "460100-V").await.unwrap();
    let named = NewFinding {
        item_code: "duty".into(),
        severity: "serious".into(),
        department_code: "460100-D01".into(),
        window_name: "投资项目窗口".into(),
        staff_name: "王小明".into(),
        note: "王小明上班时间玩手机".into(),
    };
    let named = inspections::record_finding(&app, &inspector, &visit, &named).await.unwrap();
    let jpeg = {
        let mut out = std::io::Cursor::new(Vec::new());
        image::RgbImage::from_pixel(64, 48, image::Rgb([90, 90, 90]))
            .write_to(&mut out, image::ImageFormat::Jpeg)
            .unwrap();
        out.into_inner()
    };
    let photo = inspections::add_photo(&app, &inspector, &named.id, jpeg).await.unwrap();
    inspections::close_visit(&app, &inspector, &visit).await.unwrap();

    // The draft names every finding of the month in the office's area and counts them.
    let b = bulletins::draft_bulletin(&app, &office, &month).await.unwrap();
    let v = bulletins::bulletin_view(&app, &office, &b).await.unwrap();
    assert_eq!(v.state, BulletinState::Draft);
    assert_eq!(v.candidates.len(), 7, "the demo's six and this one");
    assert!(v.candidates.iter().all(|(_, chosen)| *chosen));
    assert_eq!(v.visits, 4, "three venues of the demo's round and this one");
    assert!(v.row.intro.contains("对 4 个服务场所") && v.row.intro.contains("发现问题 7 个"), "{}", v.row.intro);
    assert_eq!(v.photos.len(), 4, "one of each of the demo's visits, and this one");
    assert!(v.photos.iter().all(|(_, shown)| !shown), "no photo is shown until the office chooses it");
    let again = bulletins::draft_bulletin(&app, &office, &month).await;
    assert!(matches!(&again, Err(AppError::Invalid(e)) if e[0].field == "month"), "{again:?}");
    let next = (app.today().with_day(1).unwrap() + chrono::Months::new(1)).format("%Y-%m").to_string();
    assert!(matches!(bulletins::draft_bulletin(&app, &office, &next).await, Err(AppError::Invalid(_))));
    assert!(bulletins::draft_bulletin(&app, &liaison, "2011-03").await.is_err(), "a department drafts none");
    assert!(bulletins::bulletin_view(&app, &liaison, &b).await.is_err(), "nor reads the office's draft");

    // A bad edit is refused field by field, and nothing of it is kept.
    let edit = |findings: Vec<String>, photos: Vec<String>, intro: &str| BulletinEdit {
        title: v.row.title.clone(),
        intro: intro.to_string(),
        closing: v.row.closing.clone(),
        findings,
        photos,
        redraft: false,
    };
    let refused =
        bulletins::save_bulletin(&app, &office, &b, &edit(vec!["nope".into()], vec!["nope".into()], "")).await;
    let Err(AppError::Invalid(errors)) = refused else { panic!("{refused:?}") };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["findings", "photos", "intro"]);
    assert_eq!(bulletins::bulletin_view(&app, &office, &b).await.unwrap().lines.len(), 7, "unchanged");
    assert!(matches!(
        bulletins::bulletin_step(&app, &office, &b, BulletinStep::Publish).await,
        Err(AppError::Conflict(_))
    ));

    // The office names two findings and the photo, redrafts the opening, and names the staff
    // member in its own words.
    let open = v.candidates.iter().find(|(l, _)| l.finding_id != named.id && l.state == RectState::Open).unwrap();
    let two = vec![named.id.clone(), open.0.finding_id.clone()];
    let redraft = BulletinEdit { redraft: true, ..edit(two.clone(), vec![photo.id.clone()], "") };
    bulletins::save_bulletin(&app, &office, &b, &redraft).await.unwrap();
    let v = bulletins::bulletin_view(&app, &office, &b).await.unwrap();
    assert!(v.row.intro.contains("发现问题 2 个"), "{}", v.row.intro);
    let intro = format!("{}对王小明予以通报批评。", v.row.intro);
    bulletins::save_bulletin(&app, &office, &b, &edit(two, vec![photo.id.clone()], &intro)).await.unwrap();
    assert!(matches!(bulletins::public_bulletin(&app, &b).await, Err(AppError::NotFound(_))), "not yet published");

    // Approval freezes the findings as they stand: a later reply changes the rectification,
    // not the bulletin; and an approved bulletin is not edited.
    bulletins::bulletin_step(&app, &office, &b, BulletinStep::Approve).await.unwrap();
    inspections::rectification_step(&app, &Actor::cli(), &open.0.finding_id, "reply", "已整改", "", "").await.unwrap();
    let v = bulletins::bulletin_view(&app, &office, &b).await.unwrap();
    assert_eq!(v.state, BulletinState::Approved);
    let frozen = v.lines.iter().find(|l| l.finding_id == open.0.finding_id).unwrap();
    assert_eq!(frozen.state, RectState::Open, "as it stood when approved");
    assert_eq!(v.lines.len(), 2);
    let refused = bulletins::save_bulletin(&app, &office, &b, &edit(vec![], vec![], "x")).await;
    assert!(matches!(refused, Err(AppError::Conflict(_))), "{refused:?}");
    let docx = bulletins::bulletin_docx(&v).unwrap();
    assert_eq!(&docx[..2], b"PK");
    bulletins::bulletin_step(&app, &office, &b, BulletinStep::Publish).await.unwrap();

    // The public reads it without the staff member's name anywhere, and sees the chosen photo.
    let public = bulletins::public_bulletin(&app, &b).await.unwrap();
    let text = format!("{}{}{}{:?}", public.title, public.intro, public.closing, public.lines);
    assert!(!text.contains("王小明"), "{text}");
    assert!(public.intro.contains("对某工作人员予以通报批评"), "{}", public.intro);
    assert!(public.lines.iter().any(|l| l.note == "某工作人员上班时间玩手机" && l.window == "投资项目窗口"));
    assert_eq!(
        bulletins::public_photo(&app, &b, &photo.id).await.unwrap(),
        inspections::photo(&app, &office, &photo.id).await.unwrap()
    );
    assert!(bulletins::published(&app).await.unwrap().iter().any(|r| r.id == b));
    // The office's own copy still names them; nothing changes a published bulletin.
    assert!(bulletins::bulletin_view(&app, &office, &b).await.unwrap().lines.iter().any(|l| l.staff == "王小明"));
    for step in BulletinStep::ALL {
        assert!(matches!(bulletins::bulletin_step(&app, &office, &b, step).await, Err(AppError::Conflict(_))));
    }
}

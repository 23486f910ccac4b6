//! Key tasks: task events through the API, the task report, the board and a task's page.

use super::{Check, Ctx, assert_no_outside};
use oversight_app::Actor;

pub(super) async fn key_tasks(k: &mut Check<'_>, c: &Ctx<'_>) {
    let Ctx { s, app, xy, xy_csrf, api, .. } = c;
    // Key tasks: a district's system assigns tasks to its own departments only, touches no
    // city task, and its report counts only its district's.
    let task = |id: &str, no: &str, kind: &str, extra: &str| {
        format!(r#"{{"event_id":"{id}","task_no":"{no}","type":"{kind}","at":"2011-03-01T09:00:00+08:00"{extra}}}"#)
    };
    let assigned = |lead: &str| {
        format!(
            r#","title":"优化审批流程","origin":"annual_plan","lead_department_code":"{lead}","co_department_codes":[],"due":"2011-06-30","milestones":[]"#
        )
    };
    let city_task = task("ct1", "RW-CITY", "assigned", &assigned("460100-D01"));
    oversight_app::tasks::ingest(app, &Actor::cli(), [(1, city_task.as_str())]).await.unwrap();
    let body = [
        task("xt1", "RW-XY", "assigned", &assigned("460105-D01")),
        task("xt2", "RW-XY2", "assigned", &assigned("460100-D02")),
        task("xt3", "RW-CITY", "signed", r#","department_code":"460100-D01""#),
    ]
    .join("\n");
    k.cover("POST", "/api/v1/task-events");
    let res = c.key(api.post(format!("{}/api/v1/task-events", s.base))).body(body).send().await.unwrap();
    let answer: serde_json::Value = res.json().await.unwrap();
    assert_eq!(answer["accepted"], 1, "{answer}");
    let rejected: Vec<(u64, &str)> = answer["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(rejected, vec![(2, "lead_department_code"), (3, "task_no")], "{answer}");
    let (st, body) = c
        .api_get(
            k,
            "/api/v1/reports/tasks",
            "/api/v1/reports/tasks?from=2011-03-01&to=2011-03-31&group_by=lead_department",
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["total"]["open"], 1, "only 秀英区's task: {report}");
    assert_eq!(report["groups"][0]["key"], "460105-D01");
    assert_no_outside("task report", &body);
    // The report page and its export count the district's task only, by its lead's name.
    let page = "/reports/tasks?from=2011-03-01&to=2011-03-31&group_by=lead_department&compare=previous";
    let (st, body) = k.get(xy, "/reports/tasks", page).await;
    assert_eq!(st, 200);
    assert!(body.contains("秀英区发展和改革局") && !body.contains("460100-D01"), "{body}");
    assert_no_outside("task report page", &body);
    let export = "/reports/tasks.xlsx?from=2011-03-01&to=2011-03-31&group_by=lead_department";
    let (st, body) = k.post(xy, "/reports/tasks.xlsx", export, &[("csrf", xy_csrf.as_str())]).await;
    assert_eq!(st, 200);
    assert!(body.starts_with("PK"));
    let (st, body) = k.get(xy, "/tasks", "/tasks").await;
    assert_eq!(st, 200);
    assert!(body.contains("RW-XY") && !body.contains("RW-CITY"), "{body}");
    // 挂牌督办: the board lists no flag outside the district, and only a leader flags.
    let (st, body) = k.get(xy, "/tasks/flagged", "/tasks/flagged").await;
    assert_eq!(st, 200);
    assert_no_outside("flagged tasks", &body);
    let form = [("csrf", xy_csrf.as_str()), ("action", "flag"), ("note", "督办")];
    assert_eq!(k.post(xy, "/tasks/{task_no}/flag", "/tasks/RW-CITY/flag", &form).await.0, 404);
    assert_eq!(k.post(xy, "/tasks/{task_no}/flag", "/tasks/RW-XY/flag", &form).await.0, 403);
    assert_no_outside("task board", &body);
    assert_eq!(k.get(xy, "/tasks/{task_no}", "/tasks/RW-CITY").await.0, 404);
    let (st, body) = k.get(xy, "/tasks/{task_no}", "/tasks/RW-XY").await;
    assert_eq!(st, 200);
    assert!(body.contains("秀英区发展和改革局"), "the lead by name: {body}");

    // Tasks worked in pages: the district's office assigns to its own departments only, and no
    // step reaches a city task.
    assert_eq!(k.get(xy, "/tasks/new", "/tasks/new").await.0, 200);
    let form = [
        ("csrf", xy_csrf.as_str()),
        ("title", "越权交办"),
        ("origin", "annual_plan"),
        ("lead_department_code", "460100-D01"),
        ("due", "2011-06-30"),
    ];
    let (st, body) = k.post(xy, "/tasks", "/tasks", &form).await;
    assert_eq!(st, 422, "{body}");
    assert!(body.contains("不在您的范围内") && body.contains("lead-error"), "the reason beside the field: {body}");
    let form = [("csrf", xy_csrf.as_str()), ("step", "cancel"), ("note", "越权撤销")];
    assert_eq!(k.post(xy, "/tasks/{task_no}/steps", "/tasks/RW-CITY/steps", &form).await.0, 404);
    let city = oversight_app::tasks::task_view(app, &Actor::cli(), "RW-CITY").await.unwrap();
    assert_eq!(city.state.status.as_str(), "open", "the city task is untouched");
    let form = [("csrf", xy_csrf.as_str()), ("step", "verify")];
    let (st, body) = k.post(xy, "/tasks/{task_no}/steps", "/tasks/RW-XY/steps", &form).await;
    assert_eq!(st, 422, "an open task cannot be verified: {body}");
    assert!(body.contains("step-refused"), "{body}");

    // Joint meetings: the city's is not the district's; the district's agenda names nothing
    // outside it.
    let office = crate::common::actor(s, "xiaoneng").await;
    let city_meeting = oversight_app::meetings::schedule(app, &office, "2011-03-28", "", &[]).await.unwrap();
    let (st, body) = k.get(xy, "/tasks/meetings", "/tasks/meetings").await;
    assert_eq!(st, 200);
    assert!(!body.contains(&city_meeting.id), "{body}");
    let url = format!("/tasks/meetings/{}", city_meeting.id);
    assert_eq!(k.get(xy, "/tasks/meetings/{id}", &url).await.0, 404);
    assert_eq!(k.get(xy, "/tasks/meetings/{id}/print", &format!("{url}/print")).await.0, 404);
    assert_eq!(k.get(xy, "/tasks/meetings/{id}/docx", &format!("{url}/docx")).await.0, 404);
    let form = [("csrf", xy_csrf.as_str()), ("agenda", "越权议程")];
    assert_eq!(k.post(xy, "/tasks/meetings/{id}/agenda", &format!("{url}/agenda"), &form).await.0, 404);
    let form = [("csrf", xy_csrf.as_str()), ("minutes", "越权纪要")];
    assert_eq!(k.post(xy, "/tasks/meetings/{id}/minutes", &format!("{url}/minutes"), &form).await.0, 404);
    let form = [
        ("csrf", xy_csrf.as_str()),
        ("text", "越权议定"),
        ("lead_department_code", "460105-D01"),
        ("due", "2011-06-30"),
    ];
    assert_eq!(k.post(xy, "/tasks/meetings/{id}/decisions", &format!("{url}/decisions"), &form).await.0, 404);
    let untouched = oversight_app::meetings::meeting_view(app, &office, &city_meeting.id).await.unwrap();
    assert!(untouched.decisions.is_empty() && untouched.meeting.agenda == city_meeting.agenda, "nothing changed");
    let form = [("csrf", xy_csrf.as_str()), ("held_on", "2011-03-29"), ("department", "460105-D01")];
    let (st, _) = k.post(xy, "/tasks/meetings", "/tasks/meetings", &form).await;
    assert_eq!(st, 303);
    let own = oversight_app::meetings::meetings(app, &crate::common::actor(s, "xiuying").await).await.unwrap();
    assert_eq!(own.len(), 1, "the district sees its own meeting only");
    assert!(own[0].path.starts_with("/460100/460105"), "{}", own[0].path);
    assert_no_outside("district agenda", &own[0].agenda);
    let (st, body) = k.get(xy, "/tasks/meetings/{id}/docx", &format!("/tasks/meetings/{}/docx", own[0].id)).await;
    assert_eq!(st, 200);
    assert!(body.starts_with("PK"), "a Word file (a zip)");
    // Redrafted by the city's office, the district's agenda still reads only the district.
    oversight_app::meetings::edit(app, &office, &own[0].id, oversight_app::meetings::MeetingEdit::Redraft)
        .await
        .unwrap();
    let redrafted = oversight_app::meetings::meeting_view(app, &office, &own[0].id).await.unwrap();
    assert_no_outside("district agenda redrafted by the city", &redrafted.meeting.agenda);
    assert!(!redrafted.meeting.agenda.contains("RW-CITY"), "{}", redrafted.meeting.agenda);
}

//! Key tasks: task events through the API, the task report, the board and a task's page.

use super::{Check, Ctx, assert_no_outside};
use oversight_app::Actor;

pub(super) async fn key_tasks(k: &mut Check<'_>, c: &Ctx<'_>) {
    let Ctx { s, app, xy, api, .. } = c;
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
    let (st, body) = k.get(xy, "/tasks", "/tasks").await;
    assert_eq!(st, 200);
    assert!(body.contains("RW-XY") && !body.contains("RW-CITY"), "{body}");
    assert_no_outside("task board", &body);
    assert_eq!(k.get(xy, "/tasks/{task_no}", "/tasks/RW-CITY").await.0, 404);
    let (st, body) = k.get(xy, "/tasks/{task_no}", "/tasks/RW-XY").await;
    assert_eq!(st, 200);
    assert!(body.contains("秀英区发展和改革局"), "the lead by name: {body}");
}

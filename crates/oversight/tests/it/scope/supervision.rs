//! Supervision: the dashboard (API and page), the late reports, alerts and notices, the case
//! report page and its export.

use super::{Check, Ctx, assert_no_outside};
use oversight_app::Actor;
use oversight_domain::supervision::{Subject, SubjectKind};

pub(super) async fn dashboard_api(k: &mut Check<'_>, c: &Ctx<'_>) {
    let (st, body) = c.api_get(k, "/api/v1/dashboard", "/api/v1/dashboard").await;
    assert_eq!(st, 200, "{body}");
    assert_no_outside("dashboard API", &body);
    // Objects with keys, levels in the exchange words: `{"level": "city", "lights": {…}}`.
    let dashboard: serde_json::Value = serde_json::from_str(&body).unwrap();
    let levels: Vec<&str> =
        dashboard["levels"].as_array().unwrap().iter().map(|l| l["level"].as_str().unwrap()).collect();
    assert_eq!(levels, ["city", "district", "town", "village"], "{body}");
    assert!(dashboard["levels"][0]["lights"]["green"].is_i64(), "{body}");
}

pub(super) async fn pages_and_alerts(k: &mut Check<'_>, c: &Ctx<'_>) {
    let Ctx { s, app, xy, xy_csrf, .. } = c;
    // The dashboard, the alerts and the report: only the district's venues and cases.
    let (st, body) = k.get(xy, "/dashboard", "/dashboard").await;
    assert_eq!(st, 200);
    assert_no_outside("dashboard", &body);
    let (st, body) = k.get(xy, "/supervision", "/supervision").await;
    assert_eq!(st, 200);
    assert!(body.contains("XY-1") && !body.contains("LH-1"), "the late reports of XY-1 only: {body}");
    let (st, body) = k.get(xy, "/supervision/alerts", "/supervision/alerts").await;
    assert_eq!(st, 200);
    assert!(body.contains("XY-1") && !body.contains("LH-1"));
    assert!(body.contains("<td>市发展和改革委员会</td>"), "the responsible department by name: {body}");
    let (st, body) = k.get(xy, "/reports", "/reports?from=2011-01-01&to=2011-12-31&group_by=venue").await;
    assert_eq!(st, 200);
    assert!(body.contains("460105-V"), "{body}");
    assert_no_outside("report page", &body);
    // An export is audited: asked for with the form token only, never by a link.
    let export = "/reports/cases.xlsx?from=2011-01-01&to=2011-12-31";
    assert_eq!(xy.get(format!("{}{export}", s.base)).send().await.unwrap().status(), 405);
    let (st, body) = k.post(xy, "/reports/cases.xlsx", export, &[("csrf", xy_csrf)]).await;
    assert_eq!(st, 200);
    assert!(body.starts_with("PK"), "an XLSX (zip) file");
    let outside =
        oversight_app::supervision::alerts(app, &Actor::cli(), None, Some(&Subject::new(SubjectKind::Case, "LH-1")))
            .await
            .unwrap();
    let lh_alert = outside[0].id.clone();
    let lh_notice =
        oversight_app::supervision::issue_notice(app, &Actor::cli(), &outside[1].id, "请说明", 3).await.unwrap().id;
    let url = format!("/supervision/alerts/{lh_alert}/notice");
    let form = [("csrf", xy_csrf.as_str()), ("instruction", "越权督办"), ("reply_days", "3")];
    assert_eq!(k.post(xy, "/supervision/alerts/{id}/notice", &url, &form).await.0, 404);
    let url = format!("/supervision/alerts/{lh_alert}/dismiss");
    let form = [("csrf", xy_csrf.as_str()), ("reason", "越权核销")];
    assert_eq!(k.post(xy, "/supervision/alerts/{id}/dismiss", &url, &form).await.0, 404);
    assert_eq!(k.get(xy, "/supervision/notices/{id}", &format!("/supervision/notices/{lh_notice}")).await.0, 404);
    let url = format!("/supervision/notices/{lh_notice}/steps");
    let form = [("csrf", xy_csrf.as_str()), ("step", "close"), ("note", "")];
    assert_eq!(k.post(xy, "/supervision/notices/{id}/steps", &url, &form).await.0, 404);
    let untouched =
        oversight_app::supervision::alerts(app, &Actor::cli(), None, Some(&Subject::new(SubjectKind::Case, "LH-1")))
            .await
            .unwrap();
    assert_eq!(untouched.iter().filter(|a| a.status.as_str() == "open").count(), outside.len() - 1, "nothing changed");
}

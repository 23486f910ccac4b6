//! The public routes, the network (reads, writes, import), the catalogue and the calendar.

use super::{Check, Ctx, assert_no_outside};

pub(super) async fn public_routes(k: &mut Check<'_>, c: &Ctx<'_>) {
    let Ctx { xy, xy_csrf, anon, .. } = c;
    // Public routes.
    assert_eq!(k.get(anon, "/healthz", "/healthz").await.0, 200);
    assert_eq!(k.get(anon, "/login", "/login").await.0, 200);
    let css = crate::common::csrf_of(&k.get(xy, "/", "/").await.1);
    assert_eq!(&css, xy_csrf);
    assert_eq!(k.get(anon, "/assets/{*file}", "/assets/app.css").await.0, 200);
    // The metrics are counts by route template, names of no record: public unless
    // `metrics_listen` moves them to an address of their own.
    let (st, body) = k.get(anon, "/metrics", "/metrics").await;
    assert_eq!(st, 200);
    assert!(body.contains("oversight_http_requests_count{route=\"/login\""), "{body}");
}

pub(super) async fn home_and_network(k: &mut Check<'_>, c: &Ctx<'_>) {
    let Ctx { xy, .. } = c;
    // Home and the network: counts and lists only of 秀英区.
    let (st, body) = k.get(xy, "/", "/").await;
    assert_eq!(st, 200);
    assert_no_outside("home", &body);
    let (st, body) = k.get(xy, "/network", "/network?q=区").await;
    assert_eq!(st, 200);
    assert_no_outside("network search", &body);
    assert!(body.contains("秀英区"));
    let (st, body) = k.get(xy, "/network/{code}", "/network/460105").await;
    assert_eq!(st, 200);
    assert_no_outside("own district", &body);
    for code in ["460106", "460106-V", "460107001", "460100-D01", "460100-V"] {
        let (st, body) = k.get(xy, "/network/{code}", &format!("/network/{code}")).await;
        assert_eq!(st, 404, "{code}");
        // The answer repeats the code asked for, and nothing about the unit.
        for name in ["龙华区", "琼山区", "美兰区", "市发展和改革委员会", "海口市政务服务中心"]
        {
            assert!(!body.contains(name), "{code} shows {name}");
        }
    }
    // The city itself shows only the district beneath it.
    let (st, body) = k.get(xy, "/network/{code}", "/network/460100").await;
    assert_eq!(st, 404, "the city is above the district's subtree: {body}");
}

pub(super) async fn writes_outside(k: &mut Check<'_>, c: &Ctx<'_>) {
    let Ctx { app, xy, xy_csrf, .. } = c;
    // Writes outside: refused as not found, nothing changed.
    let (st, _) =
        k.post(xy, "/network/{code}/rename", "/network/460106/rename", &[("csrf", xy_csrf), ("name", "改名")]).await;
    assert_eq!(st, 404);
    let (st, _) = k
        .post(
            xy,
            "/network/{code}/windows",
            "/network/460106-V/windows",
            &[("csrf", xy_csrf), ("department", "460106-D01"), ("name", "越权窗口")],
        )
        .await;
    assert_eq!(st, 404);
    let (st, _) = k
        .post(
            xy,
            "/network/{code}/windows",
            "/network/460105-V/windows",
            &[("csrf", xy_csrf), ("department", "460106-D01"), ("name", "借用外区部门")],
        )
        .await;
    assert_eq!(st, 422, "a department of another district cannot be stationed here");
    let (st, _) = k
        .post(
            xy,
            "/network/{code}/staff",
            "/network/460106-D01/staff",
            &[("csrf", xy_csrf), ("name", "越权人员"), ("position", "x")],
        )
        .await;
    assert_eq!(st, 404);
    assert_eq!(oversight_store::network::unit(&app.db, "460106").await.unwrap().unwrap().name, "龙华区");
    assert!(
        oversight_store::network::windows(&app.db, &oversight_domain::access::Scope::All, "460106-V")
            .await
            .unwrap()
            .iter()
            .all(|w| w.name != "越权窗口")
    );
}

pub(super) async fn import(k: &mut Check<'_>, c: &Ctx<'_>) {
    let Ctx { s, app, xy, xy_csrf, .. } = c;
    // Import: rows outside the district are refused, the file is not applied.
    assert_eq!(k.get(xy, "/network/import", "/network/import").await.0, 200);
    k.cover("POST", "/network/import");
    let file = "code,parent_code,kind,name\n460105901,460105,town,新镇\n460106901,460106,town,外区新镇\n";
    let form = reqwest::multipart::Form::new()
        .text("kind", "orgs")
        .part("file", reqwest::multipart::Part::bytes(file.as_bytes().to_vec()).file_name("o.csv"));
    let body = xy
        .post(format!("{}/network/import?csrf={xy_csrf}", s.base))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("超出您的管辖范围") && body.contains("文件未导入"), "{body}");
    assert!(oversight_store::network::unit(&app.db, "460105901").await.unwrap().is_none());
}

pub(super) async fn catalogue(k: &mut Check<'_>, c: &Ctx<'_>) {
    let Ctx { xy, .. } = c;
    // The catalogue: the demo's items belong to city departments, outside the district.
    let (st, body) = k.get(xy, "/catalogue", "/catalogue").await;
    assert_eq!(st, 200);
    assert!(!body.contains("SX001"));
    let (_, body) = k.get(xy, "/catalogue", "/catalogue?department=460100-D01").await;
    assert!(!body.contains("SX0"));
}

pub(super) async fn calendar(k: &mut Check<'_>, c: &Ctx<'_>) {
    let Ctx { app, xy, lh, lh_csrf, .. } = c;
    // The calendar is city-wide data: all may read it, only a city administrator may change it.
    assert_eq!(k.get(xy, "/calendar", "/calendar?year=2011").await.0, 200);
    assert_eq!(k.get(lh, "/calendar/{year}/edit", "/calendar/2011/edit").await.0, 403);
    assert_eq!(
        k.post(lh, "/calendar/{year}", "/calendar/2011", &[("csrf", lh_csrf), ("body", "year 2011\n")]).await.0,
        403
    );
    assert!(
        app.calendar().await.unwrap().is_working_day(chrono::NaiveDate::from_ymd_opt(2011, 4, 2).unwrap()).unwrap()
    );
}

//! A user of one district can neither see nor change anything outside it, on any route.
//!
//! The test takes the routes from the router as it is built (`oversight_web::routes_served`) and
//! asks the server which methods each serves, so a route added without a case here fails it. Each case acts as the 秀英区 supervisor, the 龙华区 administrator, or an API key
//! of 秀英区, against records of other districts and of the city.

use crate::common;

use std::collections::BTreeSet;

use common::{Spawned, client, login};
use oversight_app::{Actor, accounts};
use oversight_domain::supervision::{Subject, SubjectKind};
use oversight_testkit::on_both_backends;

on_both_backends!(with crate::common::spawn; no_route_leaks_outside_the_district, a_key_serves_only_its_purposes);

/// Hardening: an API key is made for some purposes (case events, task events, orders, Open311,
/// reports) and every route that takes keys refuses a key made for something else; reference
/// data (`/me`, the network, the calendar) takes any key.
async fn a_key_serves_only_its_purposes(s: Spawned) {
    use oversight_domain::access::{KeyPurpose, KeyPurposes};
    let make = async |purposes: &[KeyPurpose]| {
        let purposes = KeyPurposes::from(purposes.to_vec());
        accounts::create_api_key(&s.app, &Actor::cli(), "某系统", Some("460105"), &purposes).await.unwrap().1
    };
    let events_only = make(&[KeyPurpose::CaseEvents]).await;
    let reports_and_orders = make(&[KeyPurpose::Reports, KeyPurpose::Orders]).await;
    let api = client();
    let call = async |secret: &str, method: &str, url: &str, body: &str| -> (u16, String) {
        let url = format!("{}{url}", s.base);
        let rb = if method == "GET" { api.get(url) } else { api.post(url).body(body.to_string()) };
        let res = rb.header("authorization", format!("Bearer {secret}")).send().await.unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    };
    let event = r#"{"event_id":"p1","case_no":"P-1","type":"received","at":"2011-03-01T09:00:00+08:00","item_code":"SX002","venue_code":"460105-V","applicant":{"kind":"person","name":"王"}}"#;
    let order = r#"{"type":"complaint","summary":"窗口办事拖沓","caller":{"anonymous":true}}"#;
    let report = "/api/v1/reports/cases?from=2011-01-01&to=2011-12-31";
    // Reference data: any key.
    for secret in [&events_only, &reports_and_orders] {
        assert_eq!(call(secret, "GET", "/api/v1/me", "").await.0, 200);
        assert_eq!(call(secret, "GET", "/api/v1/orgs", "").await.0, 200);
    }
    // Each key on its own routes, refused elsewhere with the reason.
    let (st, body) = call(&events_only, "POST", "/api/v1/case-events", event).await;
    assert_eq!(st, 200, "{body}");
    for (method, url, body) in [
        ("GET", report, ""),
        ("GET", "/api/v1/dashboard", ""),
        ("POST", "/api/v1/orders", order),
        ("POST", "/api/v1/task-events", "{}"),
    ] {
        let (st, answer) = call(&events_only, method, url, body).await;
        assert_eq!(st, 403, "{method} {url}: {answer}");
        assert!(answer.contains("报送办件事件"), "{answer}");
    }
    assert_eq!(call(&reports_and_orders, "GET", report, "").await.0, 200);
    assert_eq!(call(&reports_and_orders, "POST", "/api/v1/case-events", event).await.0, 403);
    // Open311 takes only its own keys, to file and to read the citizen's words.
    let form = [("api_key", reports_and_orders.as_str()), ("service_code", "complaint"), ("description", "窗口拖沓")];
    let res = api.post(format!("{}/open311/v2/requests.json", s.base)).form(&form).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let url = format!("{}/open311/v2/requests.json?api_key={events_only}", s.base);
    assert_eq!(api.get(url).send().await.unwrap().status(), 403);

    // The administrator's page asks for at least one purpose and lists each key's in Chinese.
    let (admin, csrf) = login(&s, "admin").await;
    let page = format!("{}/admin/api-keys", s.base);
    let none = [("csrf", csrf.as_str()), ("name", "无用途"), ("scope", "460105")];
    let res = admin.post(&page).form(&none).send().await.unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("至少选择一项用途"));
    let two = [
        ("csrf", csrf.as_str()),
        ("name", "海口 12345 平台"),
        ("scope", ""),
        ("purpose", "orders"),
        ("purpose", "open311"),
    ];
    let res = admin.post(&page).form(&two).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    assert!(body.contains("提交热线工单、Open311 客户端"), "{body}");
}

/// Every (method, path) the site serves, as the router itself tells.
async fn routes(s: &Spawned) -> BTreeSet<(String, String)> {
    let out: BTreeSet<_> = oversight_web::routes_served(s.app.clone()).await.into_iter().collect();
    assert!(out.len() > 70 && out.contains(&("POST".to_string(), "/api/v1/case-events".to_string())), "{out:?}");
    out
}

struct Check<'a> {
    s: &'a Spawned,
    covered: BTreeSet<(String, String)>,
}

impl Check<'_> {
    fn cover(&mut self, method: &str, route: &str) {
        self.covered.insert((method.to_string(), route.to_string()));
    }

    async fn get(&mut self, c: &reqwest::Client, route: &str, url: &str) -> (u16, String) {
        self.cover("GET", route);
        let res = c.get(format!("{}{url}", self.s.base)).send().await.unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }

    async fn post(&mut self, c: &reqwest::Client, route: &str, url: &str, form: &[(&str, &str)]) -> (u16, String) {
        self.cover("POST", route);
        let res = c.post(format!("{}{url}", self.s.base)).form(form).send().await.unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }
}

/// Names of the other districts, and a code of each, that must never show to 秀英区.
const OUTSIDE: [&str; 6] = ["龙华区", "琼山区", "美兰区", "460106", "460107", "460108"];

fn assert_no_outside(what: &str, body: &str) {
    for o in OUTSIDE {
        assert!(!body.contains(o), "{what} shows {o}");
    }
}

async fn no_route_leaks_outside_the_district(s: Spawned) {
    let app = &s.app;
    let (xy, xy_csrf) = login(&s, "xiuying").await;
    let (lh, lh_csrf) = login(&s, "lhadmin").await;
    let mut k = Check { s: &s, covered: BTreeSet::new() };
    let xiuying_id = oversight_store::access::user_by_name(&app.db, "xiuying").await.unwrap().unwrap().id;
    let xiuying_grant = oversight_store::access::grants(&app.db, &xiuying_id).await.unwrap()[0].id.clone();
    let (xy_key, xy_secret) = accounts::create_api_key(
        app,
        &Actor::cli(),
        "秀英区审批系统",
        Some("460105"),
        &oversight_domain::access::KeyPurposes::all(),
    )
    .await
    .unwrap();

    // Public routes.
    let anon = client();
    assert_eq!(k.get(&anon, "/healthz", "/healthz").await.0, 200);
    assert_eq!(k.get(&anon, "/login", "/login").await.0, 200);
    let css = crate::common::csrf_of(&k.get(&xy, "/", "/").await.1);
    assert_eq!(css, xy_csrf);
    assert_eq!(k.get(&anon, "/assets/{*file}", "/assets/app.css").await.0, 200);

    // Home and the network: counts and lists only of 秀英区.
    let (st, body) = k.get(&xy, "/", "/").await;
    assert_eq!(st, 200);
    assert_no_outside("home", &body);
    let (st, body) = k.get(&xy, "/network", "/network?q=区").await;
    assert_eq!(st, 200);
    assert_no_outside("network search", &body);
    assert!(body.contains("秀英区"));
    let (st, body) = k.get(&xy, "/network/{code}", "/network/460105").await;
    assert_eq!(st, 200);
    assert_no_outside("own district", &body);
    for code in ["460106", "460106-V", "460107001", "460100-D01", "460100-V"] {
        let (st, body) = k.get(&xy, "/network/{code}", &format!("/network/{code}")).await;
        assert_eq!(st, 404, "{code}");
        // The answer repeats the code asked for, and nothing about the unit.
        for name in ["龙华区", "琼山区", "美兰区", "市发展和改革委员会", "海口市政务服务中心"]
        {
            assert!(!body.contains(name), "{code} shows {name}");
        }
    }
    // The city itself shows only the district beneath it.
    let (st, body) = k.get(&xy, "/network/{code}", "/network/460100").await;
    assert_eq!(st, 404, "the city is above the district's subtree: {body}");

    // Writes outside: refused as not found, nothing changed.
    let (st, _) =
        k.post(&xy, "/network/{code}/rename", "/network/460106/rename", &[("csrf", &xy_csrf), ("name", "改名")]).await;
    assert_eq!(st, 404);
    let (st, _) = k
        .post(
            &xy,
            "/network/{code}/windows",
            "/network/460106-V/windows",
            &[("csrf", &xy_csrf), ("department", "460106-D01"), ("name", "越权窗口")],
        )
        .await;
    assert_eq!(st, 404);
    let (st, _) = k
        .post(
            &xy,
            "/network/{code}/windows",
            "/network/460105-V/windows",
            &[("csrf", &xy_csrf), ("department", "460106-D01"), ("name", "借用外区部门")],
        )
        .await;
    assert_eq!(st, 422, "a department of another district cannot be stationed here");
    let (st, _) = k
        .post(
            &xy,
            "/network/{code}/staff",
            "/network/460106-D01/staff",
            &[("csrf", &xy_csrf), ("name", "越权人员"), ("position", "x")],
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

    // Import: rows outside the district are refused, the file is not applied.
    assert_eq!(k.get(&xy, "/network/import", "/network/import").await.0, 200);
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

    // The catalogue: the demo's items belong to city departments, outside the district.
    let (st, body) = k.get(&xy, "/catalogue", "/catalogue").await;
    assert_eq!(st, 200);
    assert!(!body.contains("SX001"));
    let (_, body) = k.get(&xy, "/catalogue", "/catalogue?department=460100-D01").await;
    assert!(!body.contains("SX0"));

    // The calendar is city-wide data: all may read it, only a city administrator may change it.
    assert_eq!(k.get(&xy, "/calendar", "/calendar?year=2011").await.0, 200);
    assert_eq!(k.get(&lh, "/calendar/{year}/edit", "/calendar/2011/edit").await.0, 403);
    assert_eq!(
        k.post(&lh, "/calendar/{year}", "/calendar/2011", &[("csrf", &lh_csrf), ("body", "year 2011\n")]).await.0,
        403
    );
    assert!(
        app.calendar().await.unwrap().is_working_day(chrono::NaiveDate::from_ymd_opt(2011, 4, 2).unwrap()).unwrap()
    );

    // Administration: the 龙华区 administrator sees and manages only 龙华区.
    assert_eq!(k.get(&xy, "/admin/users", "/admin/users").await.0, 403, "a supervisor manages no users");
    let (st, body) = k.get(&lh, "/admin/users", "/admin/users").await;
    assert_eq!(st, 200);
    assert!(body.contains("lhadmin") && !body.contains("xiuying") && !body.contains("xiaoneng"), "{body}");
    assert_eq!(k.get(&xy, "/admin/users/new", "/admin/users/new").await.0, 403);
    assert_eq!(k.get(&lh, "/admin/users/new", "/admin/users/new").await.0, 200);
    let (st, _) = k
        .post(
            &lh,
            "/admin/users",
            "/admin/users",
            &[
                ("csrf", &lh_csrf),
                ("username", "xy_new"),
                ("display_name", "越权"),
                ("password", "abcdefgh1"),
                ("role", "admin"),
                ("org_code", "460105"),
            ],
        )
        .await;
    assert_eq!(st, 422);
    assert!(oversight_store::access::user_by_name(&app.db, "xy_new").await.unwrap().is_none());
    let user_url = format!("/admin/users/{xiuying_id}");
    assert_eq!(k.get(&lh, "/admin/users/{id}", &user_url).await.0, 404);
    assert_eq!(
        k.post(
            &lh,
            "/admin/users/{id}/grants",
            &format!("{user_url}/grants"),
            &[("csrf", &lh_csrf), ("role", "leader"), ("org_code", "460106")]
        )
        .await
        .0,
        404
    );
    assert_eq!(
        k.post(
            &lh,
            "/admin/users/{id}/grants/{grant}/delete",
            &format!("{user_url}/grants/{xiuying_grant}/delete"),
            &[("csrf", &lh_csrf)]
        )
        .await
        .0,
        404
    );
    assert_eq!(
        k.post(
            &lh,
            "/admin/users/{id}/password",
            &format!("{user_url}/password"),
            &[("csrf", &lh_csrf), ("password", "hijacked-1")]
        )
        .await
        .0,
        404
    );
    assert_eq!(
        k.post(
            &lh,
            "/admin/users/{id}/active",
            &format!("{user_url}/active"),
            &[("csrf", &lh_csrf), ("active", "false")]
        )
        .await
        .0,
        404
    );
    assert_eq!(oversight_store::access::grants(&app.db, &xiuying_id).await.unwrap().len(), 1);
    assert!(oversight_store::access::user(&app.db, &xiuying_id).await.unwrap().unwrap().active);
    assert!(accounts::login(app, "xiuying", &common::password(&s, "xiuying"), "t").await.is_ok(), "password unchanged");

    let (st, body) = k.get(&lh, "/admin/api-keys", "/admin/api-keys").await;
    assert_eq!(st, 200);
    assert!(!body.contains(&xy_key.prefix), "another district's key is not listed");
    assert_eq!(
        k.post(
            &lh,
            "/admin/api-keys",
            "/admin/api-keys",
            &[("csrf", &lh_csrf), ("name", "越权"), ("scope", "460105"), ("purpose", "case_events")]
        )
        .await
        .0,
        422
    );
    assert_eq!(
        k.post(
            &lh,
            "/admin/api-keys/{id}/revoke",
            &format!("/admin/api-keys/{}/revoke", xy_key.id),
            &[("csrf", &lh_csrf)]
        )
        .await
        .0,
        404
    );
    assert!(accounts::api_key_actor(app, &xy_secret).await.unwrap().is_some(), "still valid");

    // The audit log: only rows filed under the district.
    let (st, body) = k.get(&xy, "/audit", "/audit").await;
    assert_eq!(st, 200);
    assert_no_outside("audit", &body);
    assert!(!body.contains("demo.load"), "city-wide rows stay hidden");
    // Verifying reads the whole chain: a district's auditor may not start it.
    assert!(!body.contains("verify=1"), "no button to verify for a district");
    assert_eq!(k.get(&xy, "/audit", "/audit?verify=1").await.0, 403);

    // The coming capabilities show no data yet, and need a login.
    assert_eq!(k.get(&anon, "/cases", "/cases").await.0, 303);
    for route in ["/hotline", "/tasks", "/inspections", "/evaluation"] {
        assert_eq!(k.get(&xy, route, route).await.0, 200);
        assert_eq!(k.get(&anon, route, route).await.0, 303);
    }

    // The API with the district's key.
    let key = |rb: reqwest::RequestBuilder| rb.header("authorization", format!("Bearer {xy_secret}"));
    let api = client();
    let api_get = async |k: &mut Check<'_>, route: &str, url: &str| -> (u16, String) {
        k.cover("GET", route);
        let res = key(api.get(format!("{}{url}", s.base))).send().await.unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    };
    // The API's description is public: it holds no data.
    let (st, body) = k.get(&client(), "/api/v1/openapi.yaml", "/api/v1/openapi.yaml").await;
    assert!(st == 200 && body.starts_with("openapi: 3"), "{st}");
    let (st, body) = api_get(&mut k, "/api/v1/me", "/api/v1/me").await;
    assert!(st == 200 && body.contains("/460100/460105/"));
    let (st, body) = api_get(&mut k, "/api/v1/orgs", "/api/v1/orgs").await;
    assert_eq!(st, 200);
    let roots: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(roots["units"].as_array().unwrap().len(), 1);
    assert_eq!(roots["units"][0]["code"], "460105");
    assert_eq!(api_get(&mut k, "/api/v1/orgs", "/api/v1/orgs?parent=460106").await.0, 404);
    let (_, body) = api_get(&mut k, "/api/v1/orgs", "/api/v1/orgs?parent=460100").await;
    assert_no_outside("api children of the city", &body);
    assert_eq!(api_get(&mut k, "/api/v1/orgs/{code}", "/api/v1/orgs/460106-V").await.0, 404);
    assert_eq!(api_get(&mut k, "/api/v1/orgs/{code}", "/api/v1/orgs/460105-V").await.0, 200);
    let (_, body) = api_get(&mut k, "/api/v1/items", "/api/v1/items?department=460100-D01").await;
    assert_eq!(body, "{\"items\":[]}");
    assert_eq!(
        api_get(
            &mut k,
            "/api/v1/calendar/deadline",
            "/api/v1/calendar/deadline?start=2011-04-01T09:00:00%2B08:00&days=2"
        )
        .await
        .0,
        200
    );
    assert_eq!(api_get(&mut k, "/api/v1/calendar/years/{year}", "/api/v1/calendar/years/2011").await.0, 200);

    // Case events: a district's system reports only cases of its venues; reports count only them.
    let event = |id: &str, case: &str, kind: &str, day: &str, extra: &str| {
        format!(
            r#"{{"event_id":"{id}","case_no":"{case}","type":"{kind}","at":"2011-03-{day}T09:00:00+08:00"{extra}}}"#
        )
    };
    let received = |venue: &str| {
        format!(r#","item_code":"SX002","venue_code":"{venue}","applicant":{{"kind":"person","name":"王"}}"#)
    };
    let city_lines = [
        event("lh1", "LH-1", "received", "01", &received("460106-V")),
        event("lh2", "LH-1", "accepted", "01", ""),
        event("lh3", "LH-1", "completed", "25", r#","result":"approved""#),
    ];
    let numbered: Vec<(usize, &str)> = city_lines.iter().enumerate().map(|(i, l)| (i + 1, l.as_str())).collect();
    oversight_app::cases::ingest(app, &Actor::cli(), numbered, |_| {}).await.unwrap();
    let body = [
        event("xy1", "XY-1", "received", "01", &received("460105-V")),
        event("xy2", "XY-1", "accepted", "01", ""),
        event("xy3", "XY-1", "completed", "03", r#","result":"approved""#),
        event("xy4", "XY-2", "received", "01", &received("460106-V")),
        event("xy5", "LH-1", "withdrawn", "26", ""),
    ]
    .join("\n");
    k.cover("POST", "/api/v1/case-events");
    let res = key(api.post(format!("{}/api/v1/case-events", s.base))).body(body.clone()).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let answer: serde_json::Value = res.json().await.unwrap();
    assert_eq!(answer["accepted"], 3, "{answer}");
    let rejected: Vec<u64> =
        answer["rejected"].as_array().unwrap().iter().map(|e| e["line"].as_u64().unwrap()).collect();
    assert_eq!(rejected, vec![4, 5], "{answer}");
    assert_eq!(oversight_store::cases::case(&app.db, "LH-1").await.unwrap().unwrap().status, "approved", "untouched");
    // A signed-in browser cannot write through the API (no form token there).
    assert_eq!(xy.post(format!("{}/api/v1/case-events", s.base)).body(body).send().await.unwrap().status(), 401);
    let (st, body) =
        api_get(&mut k, "/api/v1/reports/cases", "/api/v1/reports/cases?from=2011-01-01&to=2011-12-31&group_by=venue")
            .await;
    assert_eq!(st, 200, "{body}");
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["total"]["settled"], 1, "only 秀英区's case: {report}");
    assert_eq!(report["groups"][0]["key"], "460105-V");
    assert_no_outside("case report", &body);

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
    let res = key(api.post(format!("{}/api/v1/task-events", s.base))).body(body).send().await.unwrap();
    let answer: serde_json::Value = res.json().await.unwrap();
    assert_eq!(answer["accepted"], 1, "{answer}");
    let rejected: Vec<(u64, &str)> = answer["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(rejected, vec![(2, "lead_department_code"), (3, "task_no")], "{answer}");
    let (st, body) = api_get(
        &mut k,
        "/api/v1/reports/tasks",
        "/api/v1/reports/tasks?from=2011-03-01&to=2011-03-31&group_by=lead_department",
    )
    .await;
    assert_eq!(st, 200, "{body}");
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["total"]["open"], 1, "only 秀英区's task: {report}");
    assert_eq!(report["groups"][0]["key"], "460105-D01");
    assert_no_outside("task report", &body);
    let (st, body) = k.get(&xy, "/tasks", "/tasks").await;
    assert_eq!(st, 200);
    assert!(body.contains("RW-XY") && !body.contains("RW-CITY"), "{body}");
    assert_no_outside("task board", &body);
    assert_eq!(k.get(&xy, "/tasks/{task_no}", "/tasks/RW-CITY").await.0, 404);
    let (st, body) = k.get(&xy, "/tasks/{task_no}", "/tasks/RW-XY").await;
    assert_eq!(st, 200);
    assert!(body.contains("秀英区发展和改革局"), "the lead by name: {body}");
    let (st, body) = api_get(
        &mut k,
        "/api/v1/reports/ratings",
        "/api/v1/reports/ratings?from=2011-03-01&to=2011-03-31&group_by=venue",
    )
    .await;
    assert_eq!(st, 200, "{body}");
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["total"]["completed"], 1, "only 秀英区's completed case: {report}");
    assert_no_outside("ratings report", &body);
    // An evaluation of "all" departments by a district's key evaluates the district's only.
    k.cover("POST", "/api/v1/evaluation/run");
    let scheme = "name = \"区考评\"\ndepartments = \"all\"\n[[indicator]]\ncode = \"A1\"\nname = \"超期率\"\nsource = \"cases.overdue_rate\"\nweight = 100\nscore = { kind = \"linear\", best = 0.0, worst = 0.2 }\n";
    let res = key(api.post(format!("{}/api/v1/evaluation/run?from=2011-01-01&to=2011-12-31", s.base)))
        .body(scheme)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    let result: serde_json::Value = serde_json::from_str(&body).unwrap();
    let codes: Vec<&str> =
        result["departments"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert!(!codes.is_empty() && codes.iter().all(|c| c.starts_with("460105")), "{codes:?}");
    assert_no_outside("evaluation", &body);

    // Case pages: only the district's cases.
    let (st, body) = k.get(&xy, "/cases", "/cases").await;
    assert_eq!(st, 200);
    assert!(body.contains("XY-1") && !body.contains("LH-1"), "{body}");
    assert_eq!(k.get(&xy, "/cases/{case_no}", "/cases/LH-1").await.0, 404);
    assert_eq!(k.get(&xy, "/cases/{case_no}", "/cases/XY-1").await.0, 200);

    // Work orders: the district's key counts only orders about the district.
    let tickets = [
        r#"{"ticket_no":"T-XY","channel":"phone","type":"complaint","received_at":"2011-03-01T09:00:00+08:00","subject_venue_code":"460105-V","summary":"排队太久"}"#,
        r#"{"ticket_no":"T-LH","channel":"web","type":"complaint","received_at":"2011-03-01T09:00:00+08:00","subject_venue_code":"460106-V","summary":"态度差"}"#,
    ];
    let numbered = tickets.iter().enumerate().map(|(i, l)| (i + 1, *l));
    oversight_app::tickets::import_tickets(app, &Actor::cli(), numbered).await.unwrap();
    let (st, body) =
        api_get(&mut k, "/api/v1/reports/tickets", "/api/v1/reports/tickets?from=2011-01-01&to=2011-12-31").await;
    assert_eq!(st, 200, "{body}");
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!((report["received"].as_i64(), report["venue_complaints"].as_i64()), (Some(1), Some(1)), "{report}");

    // Orders from a district's system belong to the district.
    k.cover("POST", "/api/v1/orders");
    let order = serde_json::json!({"type": "help", "summary": "低保办理进度", "channel": "mobile", "caller_phone": "13700000000"});
    let res = key(api.post(format!("{}/api/v1/orders", s.base))).json(&order).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let created: serde_json::Value = res.json().await.unwrap();
    let row = oversight_store::orders::order(&app.db, created["ticket_no"].as_str().unwrap()).await.unwrap().unwrap();
    assert!(row.office_path.contains("460105") && row.channel.as_str() == "mobile", "{row:?}");
    let res = key(api.post(format!("{}/api/v1/orders", s.base)))
        .json(&serde_json::json!({"type": "rant", "summary": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let e: serde_json::Value = res.json().await.unwrap();
    assert_eq!(e["error"]["errors"].as_array().unwrap().len(), 2, "{e}");
    assert_eq!(xy.post(format!("{}/api/v1/orders", s.base)).json(&order).send().await.unwrap().status(), 401);

    let (st, body) = api_get(&mut k, "/api/v1/dashboard", "/api/v1/dashboard").await;
    assert_eq!(st, 200, "{body}");
    assert_no_outside("dashboard API", &body);
    // Objects with keys, levels in the exchange words: `{"level": "city", "lights": {…}}`.
    let dashboard: serde_json::Value = serde_json::from_str(&body).unwrap();
    let levels: Vec<&str> =
        dashboard["levels"].as_array().unwrap().iter().map(|l| l["level"].as_str().unwrap()).collect();
    assert_eq!(levels, ["city", "district", "town", "village"], "{body}");
    assert!(dashboard["levels"][0]["lights"]["green"].is_i64(), "{body}");

    // The dashboard, the alerts and the report: only the district's venues and cases.
    let (st, body) = k.get(&xy, "/dashboard", "/dashboard").await;
    assert_eq!(st, 200);
    assert_no_outside("dashboard", &body);
    let (st, body) = k.get(&xy, "/supervision", "/supervision").await;
    assert_eq!(st, 200);
    assert!(body.contains("XY-1") && !body.contains("LH-1"), "the late reports of XY-1 only: {body}");
    let (st, body) = k.get(&xy, "/supervision/alerts", "/supervision/alerts").await;
    assert_eq!(st, 200);
    assert!(body.contains("XY-1") && !body.contains("LH-1"));
    assert!(body.contains("<td>市发展和改革委员会</td>"), "the responsible department by name: {body}");
    let (st, body) = k.get(&xy, "/reports", "/reports?from=2011-01-01&to=2011-12-31&group_by=venue").await;
    assert_eq!(st, 200);
    assert!(body.contains("460105-V"), "{body}");
    assert_no_outside("report page", &body);
    // An export is audited: asked for with the form token only, never by a link.
    let export = "/reports/cases.xlsx?from=2011-01-01&to=2011-12-31";
    assert_eq!(xy.get(format!("{}{export}", s.base)).send().await.unwrap().status(), 405);
    let (st, body) = k.post(&xy, "/reports/cases.xlsx", export, &[("csrf", &xy_csrf)]).await;
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
    assert_eq!(k.post(&xy, "/supervision/alerts/{id}/notice", &url, &form).await.0, 404);
    let url = format!("/supervision/alerts/{lh_alert}/dismiss");
    let form = [("csrf", xy_csrf.as_str()), ("reason", "越权核销")];
    assert_eq!(k.post(&xy, "/supervision/alerts/{id}/dismiss", &url, &form).await.0, 404);
    assert_eq!(k.get(&xy, "/supervision/notices/{id}", &format!("/supervision/notices/{lh_notice}")).await.0, 404);
    let url = format!("/supervision/notices/{lh_notice}/steps");
    let form = [("csrf", xy_csrf.as_str()), ("step", "close"), ("note", "")];
    assert_eq!(k.post(&xy, "/supervision/notices/{id}/steps", &url, &form).await.0, 404);
    let untouched =
        oversight_app::supervision::alerts(app, &Actor::cli(), None, Some(&Subject::new(SubjectKind::Case, "LH-1")))
            .await
            .unwrap();
    assert_eq!(untouched.iter().filter(|a| a.status == "open").count(), outside.len() - 1, "nothing changed");

    // Hotline orders: 秀英区's office sees and works only orders of its district; the caller
    // never shows to anyone outside the office, and public pages show no one's identity.
    use oversight_app::hotline::{self, Intake, NewOrder, StepInput};
    let operator = oversight_app::accounts::login(app, "rexian", &common::password(&s, "rexian"), "127.0.0.1")
        .await
        .unwrap()
        .actor;
    let order_to = async |department: &str, name: &str| {
        let new = NewOrder {
            kind: "complaint".into(),
            summary: "窗口态度差".into(),
            caller_name: name.into(),
            caller_phone: "13800000000".into(),
            ..Default::default()
        };
        let c = hotline::create_order(
            app,
            Intake::Operator(&operator, oversight_domain::ticket::Channel::Phone),
            &new.parse().unwrap(),
        )
        .await
        .unwrap();
        let dispatch = StepInput { step: "dispatch".into(), department_code: department.into(), ..Default::default() };
        hotline::order_step(app, &operator, &c.ticket_no, &dispatch).await.unwrap();
        c
    };
    let lh_order = order_to("460106-D01", "龙华某人").await;
    let xy_order = order_to("460105-D01", "秀英某人").await;
    let (st, body) = k.get(&xy, "/hotline", "/hotline").await;
    assert_eq!(st, 200);
    assert!(body.contains(&xy_order.ticket_no) && !body.contains(&lh_order.ticket_no), "{body}");
    assert_no_outside("hotline queues", &body);
    let lh_url = format!("/hotline/orders/{}", lh_order.ticket_no);
    assert_eq!(k.get(&xy, "/hotline/orders/{no}", &lh_url).await.0, 404);
    // Seeing the caller in full is audited: a link (`?caller=1`) shows nothing more, the form does.
    let (_, body) =
        k.get(&xy, "/hotline/orders/{no}", &format!("/hotline/orders/{}?caller=1", xy_order.ticket_no)).await;
    assert!(!body.contains("秀英某人"), "a link does not reveal the caller");
    let reveal = format!("/hotline/orders/{}/caller", xy_order.ticket_no);
    let (st, body) = k.post(&xy, "/hotline/orders/{no}/caller", &reveal, &[("csrf", &xy_csrf)]).await;
    assert_eq!(st, 200);
    assert!(body.contains("秀英某人"), "the district's office sees its caller when it asks");
    let lh_reveal = format!("/hotline/orders/{}/caller", lh_order.ticket_no);
    assert_eq!(k.post(&xy, "/hotline/orders/{no}/caller", &lh_reveal, &[("csrf", &xy_csrf)]).await.0, 404);
    let form = [("csrf", xy_csrf.as_str()), ("step", "close"), ("note", "越权办结")];
    assert_eq!(k.post(&xy, "/hotline/orders/{no}/steps", &format!("{lh_url}/steps"), &form).await.0, 404);
    assert_eq!(
        oversight_store::orders::order(&app.db, &lh_order.ticket_no).await.unwrap().unwrap().status.as_str(),
        "dispatched"
    );
    // The 龙华区 administrator takes no orders; the 秀英区 office does, and they stay its own.
    assert_eq!(k.get(&lh, "/hotline/new", "/hotline/new").await.0, 403);
    let form = [("csrf", lh_csrf.as_str()), ("type", "help"), ("summary", "求助")];
    assert_eq!(k.post(&lh, "/hotline/orders", "/hotline/orders", &form).await.0, 403);
    // The phone is looked up in the body, never in a URL.
    let lookup = [("csrf", xy_csrf.as_str()), ("phone", "13800000000")];
    let (st, body) = k.post(&xy, "/hotline/new", "/hotline/new", &lookup).await;
    assert_eq!(st, 200);
    assert!(body.contains(&xy_order.ticket_no) && !body.contains(&lh_order.ticket_no), "caller history in scope");
    let form = [("csrf", xy_csrf.as_str()), ("type", "help"), ("summary", "秀英区求助"), ("channel", "phone")];
    let (st, _) = k.post(&xy, "/hotline/orders", "/hotline/orders", &form).await;
    assert_eq!(st, 303);
    let (st, body) = k.get(&xy, "/hotline/list", "/hotline/list?from=2000-01-01&to=2100-01-01").await;
    assert_eq!(st, 200);
    assert!(body.contains(&xy_order.ticket_no) && !body.contains(&lh_order.ticket_no), "{body}");
    let (st, body) =
        k.get(&xy, "/reports/tickets", "/reports/tickets?from=2011-01-01&to=2011-12-31&group_by=department").await;
    assert_eq!(st, 200);
    assert_no_outside("hotline report", &body);
    let export = "/reports/tickets.xlsx?from=2011-01-01&to=2011-12-31";
    let (st, body) = k.post(&xy, "/reports/tickets.xlsx", export, &[("csrf", &xy_csrf)]).await;
    assert_eq!(st, 200);
    assert!(body.starts_with("PK"));
    // Contacts of a department outside the district cannot be set from it.
    let form = [("csrf", lh_csrf.as_str()), ("email", "x@example.com"), ("phone", "")];
    let st = k.post(&lh, "/network/{code}/contacts", "/network/460105-D01/contacts", &form).await.0;
    assert!(st == 404 || st == 403, "{st}");
    assert_eq!(oversight_store::outbox::contacts(&app.db, "460105-D01").await.unwrap().unwrap().0, None);
    // Public pages: a wrong code shows nothing; Open311 shows no caller.
    let public = client();
    let (st, page) = k.get(&public, "/public/hotline", "/public/hotline").await;
    assert_eq!(st, 200);
    let csrf = common::csrf_of(&page);
    let (st, _) = k
        .post(
            &public,
            "/public/hotline",
            "/public/hotline",
            &[("csrf", &csrf), ("type", "praise"), ("summary", "表扬窗口")],
        )
        .await;
    assert_eq!(st, 200);
    let (st, page) = k.get(&public, "/public/hotline/query", "/public/hotline/query").await;
    assert_eq!(st, 200);
    let csrf = common::csrf_of(&page);
    let form = [("csrf", csrf.as_str()), ("ticket_no", lh_order.ticket_no.as_str()), ("code", "AAAAAAAA")];
    let (st, body) = k.post(&public, "/public/hotline/query", "/public/hotline/query", &form).await;
    assert_eq!(st, 404);
    assert!(!body.contains("龙华某人"));
    for (route, url) in [
        ("/open311/{file}", "/open311/discovery.json".to_string()),
        ("/open311/v2/{resource}", "/open311/v2/requests.json".to_string()),
        ("/open311/v2/services/{code}", "/open311/v2/services/complaint.xml".to_string()),
        ("/open311/v2/requests/{id}", format!("/open311/v2/requests/{}.json", lh_order.ticket_no)),
        ("/open311/v2/tokens/{token}", format!("/open311/v2/tokens/{}.json", lh_order.token)),
    ] {
        let (st, body) = k.get(&public, route, &url).await;
        assert_eq!(st, 200, "{url}");
        assert!(!body.contains("龙华某人") && !body.contains("13800000000"), "{url}: {body}");
    }
    let (st, _) = k.post(&public, "/open311/v2/{resource}", "/open311/v2/requests.json", &[("api_key", "nope")]).await;
    assert_eq!(st, 403);
    // A district's key reads the citizen's words of its district's orders only.
    for (route, url) in [
        (
            "/open311/v2/{resource}",
            format!(
                "/open311/v2/requests.json?api_key={xy_secret}&service_request_id={},{}",
                lh_order.ticket_no, xy_order.ticket_no
            ),
        ),
        ("/open311/v2/requests/{id}", format!("/open311/v2/requests/{}.json?api_key={xy_secret}", lh_order.ticket_no)),
    ] {
        let (st, body) = k.get(&public, route, &url).await;
        assert_eq!(st, 200, "{url}");
        let list: serde_json::Value = serde_json::from_str(&body).unwrap();
        for r in list.as_array().unwrap() {
            let own = r["service_request_id"] == xy_order.ticket_no.as_str();
            assert_eq!(r["description"].is_string(), own, "{url}: {r}");
        }
    }

    // Signing out is the last thing a user does.
    assert_eq!(k.post(&xy, "/logout", "/logout", &[("csrf", &xy_csrf)]).await.0, 303);
    k.cover("POST", "/login");

    let missing: Vec<_> = routes(&s).await.difference(&k.covered).cloned().collect();
    assert!(missing.is_empty(), "routes without a scope case: {missing:?}");
}

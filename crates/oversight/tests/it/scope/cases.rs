//! Case events and the case report, the ratings report, evaluation, and the case pages.

use super::{Check, Ctx, assert_no_outside};
use oversight_app::Actor;

pub(super) async fn case_events(k: &mut Check<'_>, c: &Ctx<'_>) {
    let Ctx { s, app, xy, api, .. } = c;
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
    let res = c.key(api.post(format!("{}/api/v1/case-events", s.base))).body(body.clone()).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let answer: serde_json::Value = res.json().await.unwrap();
    assert_eq!(answer["accepted"], 3, "{answer}");
    let rejected: Vec<u64> =
        answer["rejected"].as_array().unwrap().iter().map(|e| e["line"].as_u64().unwrap()).collect();
    assert_eq!(rejected, vec![4, 5], "{answer}");
    assert_eq!(oversight_store::cases::case(&app.db, "LH-1").await.unwrap().unwrap().status, "approved", "untouched");
    // A signed-in browser cannot write through the API (no form token there).
    assert_eq!(xy.post(format!("{}/api/v1/case-events", s.base)).body(body).send().await.unwrap().status(), 401);
    let (st, body) = c
        .api_get(k, "/api/v1/reports/cases", "/api/v1/reports/cases?from=2011-01-01&to=2011-12-31&group_by=venue")
        .await;
    assert_eq!(st, 200, "{body}");
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["total"]["settled"], 1, "only 秀英区's case: {report}");
    assert_eq!(report["groups"][0]["key"], "460105-V");
    assert_no_outside("case report", &body);
}

pub(super) async fn ratings_report(k: &mut Check<'_>, c: &Ctx<'_>) {
    let (st, body) = c
        .api_get(k, "/api/v1/reports/ratings", "/api/v1/reports/ratings?from=2011-03-01&to=2011-03-31&group_by=venue")
        .await;
    assert_eq!(st, 200, "{body}");
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["total"]["completed"], 1, "only 秀英区's completed case: {report}");
    assert_no_outside("ratings report", &body);
    // Both completed cases are rated badly: each opens a follow-up, seen only in its district.
    let Ctx { app, xy, xy_csrf, .. } = c;
    let rated = |id: &str, case: &str| {
        format!(
            r#"{{"event_id":"{id}","case_no":"{case}","type":"rated","at":"2011-03-28T09:00:00+08:00","level":1,"channel":"sms"}}"#
        )
    };
    let lines = [rated("lhr", "LH-1"), rated("xyr", "XY-1")];
    let numbered: Vec<(usize, &str)> = lines.iter().enumerate().map(|(i, l)| (i + 1, l.as_str())).collect();
    oversight_app::cases::ingest(app, &Actor::cli(), numbered, |_| {}).await.unwrap();
    let (st, body) = k.get(xy, "/ratings", "/ratings").await;
    assert_eq!(st, 200);
    assert!(body.contains("XY-1") && !body.contains("LH-1"), "{body}");
    assert_no_outside("follow-ups", &body);
    assert_eq!(k.get(xy, "/ratings/{case_no}", "/ratings/LH-1").await.0, 404);
    let (st, body) = k.get(xy, "/ratings/{case_no}", "/ratings/XY-1").await;
    assert_eq!(st, 200, "{body}");
    let form = [("csrf", xy_csrf.as_str()), ("step", "contact"), ("note", "已回访")];
    assert_eq!(k.post(xy, "/ratings/{case_no}/steps", "/ratings/LH-1/steps", &form).await.0, 404);
    // A supervisor verifies; contacting the applicant is the department's.
    assert_eq!(k.post(xy, "/ratings/{case_no}/steps", "/ratings/XY-1/steps", &form).await.0, 403);
    let page = "/reports/ratings?from=2011-03-01&to=2011-03-31&group_by=venue&compare=previous";
    let (st, body) = k.get(xy, "/reports/ratings", page).await;
    assert_eq!(st, 200);
    assert!(body.contains("460105-V"), "{body}");
    assert_no_outside("ratings report page", &body);
    // The windows' ranking: the district's own windows only.
    let page = "/reports/ratings?from=2011-03-01&to=2011-03-31&group_by=window&compare=none";
    let (st, body) = k.get(xy, "/reports/ratings", page).await;
    assert_eq!(st, 200);
    assert!(body.contains("460105-V/") && body.contains("class=\"rank\""), "{body}");
    assert_no_outside("windows' ranking", &body);
    assert!(!body.contains("460100-V/"), "no city window: {body}");
    let export = "/reports/ratings.xlsx?from=2011-03-01&to=2011-03-31&group_by=venue";
    let (st, body) = k.post(xy, "/reports/ratings.xlsx", export, &[("csrf", xy_csrf.as_str())]).await;
    assert_eq!(st, 200);
    assert_no_outside("ratings export", &body);
}

pub(super) async fn evaluation(k: &mut Check<'_>, c: &Ctx<'_>) {
    let Ctx { s, api, .. } = c;
    // An evaluation of "all" departments by a district's key evaluates the district's only.
    k.cover("POST", "/api/v1/evaluation/run");
    let scheme = "name = \"区考评\"\ndepartments = \"all\"\n[[indicator]]\ncode = \"A1\"\nname = \"超期率\"\nsource = \"cases.overdue_rate\"\nweight = 100\nscore = { kind = \"linear\", best = 0.0, worst = 0.2 }\n";
    let res = c
        .key(api.post(format!("{}/api/v1/evaluation/run?from=2011-01-01&to=2011-12-31", s.base)))
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
    evaluation_pages(k, c, scheme).await;
}

/// The city's schemes and results are none of a district's business in the office's pages;
/// the district's own scheme runs over its own departments; the published result is public.
async fn evaluation_pages(k: &mut Check<'_>, c: &Ctx<'_>, scheme: &str) {
    let Ctx { s, app, xy, xy_csrf, anon, .. } = c;
    let office = oversight_testkit::login(app, &s.accounts, "xiaoneng").await;
    let city =
        oversight_app::evaluation::save_scheme(app, &office, None, &scheme.replace("区考评", "市考评")).await.unwrap();
    let (from, to) =
        (chrono::NaiveDate::from_ymd_opt(2011, 1, 1).unwrap(), chrono::NaiveDate::from_ymd_opt(2011, 12, 31).unwrap());
    let result = oversight_app::evaluation::publish(app, &office, &city.id, from, to).await.unwrap();
    let (st, body) = k.get(xy, "/evaluation", "/evaluation").await;
    assert_eq!(st, 200);
    assert!(!body.contains(&city.id), "not the city's scheme: {body}");
    // The city's result reaches the district only as its own departments' parts.
    assert!(!body.contains("市发展和改革委员会") && !body.contains("/departments/460100-"), "{body}");
    assert!(body.contains(&format!("/evaluation/results/{result}/departments/460105-")), "{body}");
    assert_eq!(k.get(anon, "/evaluation", "/evaluation").await.0, 303);
    let url = format!("/evaluation/schemes/{}", city.id);
    assert_eq!(k.get(xy, "/evaluation/schemes/{id}", &url).await.0, 404);
    let form = [("csrf", xy_csrf.as_str()), ("scheme", scheme)];
    assert_eq!(k.post(xy, "/evaluation/schemes/{id}", &url, &form).await.0, 404);
    let publish = [("csrf", xy_csrf.as_str()), ("from", "2011-01-01"), ("to", "2011-12-31")];
    let url = format!("/evaluation/schemes/{}/publish", city.id);
    assert_eq!(k.post(xy, "/evaluation/schemes/{id}/publish", &url, &publish).await.0, 404);
    let manual = [
        ("csrf", xy_csrf.as_str()),
        ("from", "2011-01-01"),
        ("to", "2011-12-31"),
        ("department", "460100-D01"),
        ("indicator", "A1"),
        ("points", "1"),
        ("reason", "x"),
    ];
    let url = format!("/evaluation/schemes/{}/manual", city.id);
    assert_eq!(k.post(xy, "/evaluation/schemes/{id}/manual", &url, &manual).await.0, 404);
    let url = format!("/evaluation/results/{result}");
    assert_eq!(k.get(xy, "/evaluation/results/{id}", &url).await.0, 404);
    let url = format!("/evaluation/results/{result}/departments/460100-D01");
    assert_eq!(k.get(xy, "/evaluation/results/{id}/departments/{code}", &url).await.0, 404);
    let appeal = [("csrf", xy_csrf.as_str()), ("record", "LH-1"), ("reason", "x"), ("evidence", "y")];
    let url = format!("/evaluation/results/{result}/departments/460100-D01/appeals");
    assert_eq!(k.post(xy, "/evaluation/results/{id}/departments/{code}/appeals", &url, &appeal).await.0, 404);
    let decision = [("csrf", xy_csrf.as_str()), ("decision", "uphold"), ("reason", "x")];
    assert_eq!(k.post(xy, "/evaluation/appeals/{id}", "/evaluation/appeals/nope", &decision).await.0, 404);
    // The city's self-assessments: neither asked for by the district nor answered for the
    // city's departments.
    let selfish = format!(
        "{}\n[[indicator]]\ncode = \"M1\"\nname = \"领导评价\"\nsource = \"manual\"\nweight = 5\nscore = {{ kind = \"manual\" }}\nself_assessment = true\n",
        scheme.replace("区考评", "市考评")
    );
    let asking = oversight_app::evaluation::save_scheme(app, &office, None, &selfish).await.unwrap();
    let url = format!("/evaluation/schemes/{}/self-request", asking.id);
    assert_eq!(k.post(xy, "/evaluation/schemes/{id}/self-request", &url, &publish).await.0, 404);
    use oversight_app::evaluation::self_assessment;
    assert!(self_assessment::request(app, &office, &asking.id, from, to).await.unwrap() > 0);
    let asked = self_assessment::of_scheme(app, &office, &asking.id, from, to).await.unwrap();
    let city_dept = asked.iter().find(|a| a.department_code.starts_with("460100-")).expect("a city department asked");
    let answer = [("csrf", xy_csrf.as_str()), ("points", "5"), ("reason", "x")];
    let url = format!("/evaluation/self/{}", city_dept.id);
    assert_eq!(k.post(xy, "/evaluation/self/{id}", &url, &answer).await.0, 404);
    // The district writes its own scheme; its draft run evaluates its own departments.
    let (st, body) = k.post(xy, "/evaluation/schemes", "/evaluation/schemes", &form).await;
    assert_eq!(st, 303, "{body}");
    let own = oversight_app::evaluation::schemes(app, &office).await.unwrap();
    let own = own.iter().find(|r| r.path.contains("460105")).expect("the district's scheme");
    let url = format!("/evaluation/schemes/{}?from=2011-01-01&to=2011-12-31", own.id);
    let (st, page) = k.get(xy, "/evaluation/schemes/{id}", &url).await;
    assert_eq!(st, 200);
    assert!(page.contains("id=\"draft\""), "{page}");
    assert_no_outside("a district's draft evaluation", &page);
    assert!(!page.contains("市发展和改革委员会"), "no city department in the district's run");
    // The city's published result is public, as a page and as open data.
    let public = crate::common::client();
    let (st, body) = k.get(&public, "/public/evaluation", "/public/evaluation").await;
    assert!(st == 200 && body.contains(&result), "{body}");
    for (route, url) in [
        ("/public/evaluation/{id}", format!("/public/evaluation/{result}")),
        ("/public/evaluation/{id}/result.json", format!("/public/evaluation/{result}/result.json")),
        ("/public/evaluation/{id}/result.csv", format!("/public/evaluation/{result}/result.csv")),
    ] {
        assert_eq!(k.get(&public, route, &url).await.0, 200, "{url}");
    }
    assert_eq!(k.get(&public, "/public/evaluation/{id}", "/public/evaluation/nope").await.0, 404);
}

pub(super) async fn case_pages(k: &mut Check<'_>, c: &Ctx<'_>) {
    let Ctx { xy, .. } = c;
    // Case pages: only the district's cases.
    let (st, body) = k.get(xy, "/cases", "/cases").await;
    assert_eq!(st, 200);
    assert!(body.contains("XY-1") && !body.contains("LH-1"), "{body}");
    assert_eq!(k.get(xy, "/cases/{case_no}", "/cases/LH-1").await.0, 404);
    assert_eq!(k.get(xy, "/cases/{case_no}", "/cases/XY-1").await.0, 200);
}

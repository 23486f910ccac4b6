//! Open311 GeoReport v2 against a real server: a client from PyPI files and follows a request
//! while staff work it through the ordinary workflow; errors come in the GeoReport format.

use crate::common;

use std::path::PathBuf;
use std::process::Command;

use oversight_app::hotline::{self, StepInput};
use oversight_app::{Actor, accounts};
use oversight_testkit::on_both_backends;
use serde_json::Value;

on_both_backends!(
    with crate::common::spawn;
    a_pypi_client_files_and_follows_a_request,
    errors_come_in_the_open311_format,
);

/// What Open311 clients read, recorded (`tests/it/snapshots/`): the service list, a service's
/// definition and a filed request, in JSON and in XML, with the request's number, token and
/// times replaced by placeholders. A change to either format shows as a difference to review.
#[tokio::test]
async fn the_open311_documents_read_as_recorded() {
    let t = oversight_testkit::sqlite().await;
    let s = common::spawn(&t).await;
    let purposes = oversight_domain::access::KeyPurposes::all();
    let (_, key) = accounts::create_api_key(&s.app, &Actor::cli(), "市民 App", None, &purposes).await.unwrap();
    let c = common::client();
    let root = format!("{}/open311/v2", s.base);
    let form = [
        ("api_key", key.as_str()),
        ("service_code", "complaint"),
        ("description", "市政务服务中心窗口工作人员上班时间玩手机"),
        ("last_name", "王"),
        ("first_name", "小明"),
        ("phone", "13812345678"),
        ("lat", "20.0442"),
        ("long", "110.1999"),
        ("address_string", "海口市国兴大道"),
    ];
    let filed: Value = c.post(format!("{root}/requests.json")).form(&form).send().await.unwrap().json().await.unwrap();
    let id = filed[0]["service_request_id"].as_str().unwrap().to_string();
    let token = filed[0]["token"].as_str().unwrap().to_string();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.add_filter(&id, "[service_request_id]");
    settings.add_filter(&token, "[token]");
    settings.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", "[datetime]");
    // The reply date counts working days from today; the query code is drawn at random.
    settings.add_filter(r"在 \d{4}-\d\d-\d\d 前后", "在 [date] 前后");
    settings.add_filter(r"查询码 [0-9A-Z]+", "查询码 [query code]");
    let _settings = settings.bind_to_scope();
    let text = |path: String| {
        let c = c.clone();
        async move { c.get(path).send().await.unwrap().text().await.unwrap() }
    };
    let pretty = |json: String| serde_json::to_string_pretty(&serde_json::from_str::<Value>(&json).unwrap()).unwrap();
    insta::assert_snapshot!("open311_filed.json", serde_json::to_string_pretty(&filed).unwrap());
    insta::assert_snapshot!("open311_services.json", pretty(text(format!("{root}/services.json")).await));
    insta::assert_snapshot!("open311_services.xml", text(format!("{root}/services.xml")).await);
    insta::assert_snapshot!("open311_complaint.json", pretty(text(format!("{root}/services/complaint.json")).await));
    insta::assert_snapshot!("open311_request.json", pretty(text(format!("{root}/requests/{id}.json")).await));
    insta::assert_snapshot!("open311_request.xml", text(format!("{root}/requests/{id}.xml")).await);
}

/// schemathesis (PyPI) fuzzes every operation of the GeoReport v2 description in
/// `spec/open311/`, filing requests with its `testkey`: no server error, and every answer in the
/// content type and the shape the description gives. (Status codes are not checked: the
/// description documents fewer error codes than the written specification uses.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conformance_fuzzer_finds_no_fault() {
    let t = oversight_testkit::sqlite().await;
    let s = common::spawn(&t).await;
    let key = oversight_store::access::ApiKey {
        id: "key-testkey".into(),
        name: "schemathesis".into(),
        prefix: "testkey".into(),
        org_code: "460100".into(),
        path: oversight_store::network::root(&s.app.db).await.unwrap().unwrap().path.as_str().to_string(),
        created_at: chrono::Utc::now(),
        revoked_at: None,
        purposes: oversight_domain::access::KeyPurposes::all().to_stored(),
    };
    let mut tx = s.app.db.begin().await.unwrap();
    oversight_store::access::insert_api_key(&mut tx, &key, &accounts::secret_hash("testkey")).await.unwrap();
    tx.commit().await.unwrap();
    let swagger = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/open311/georeport-v2.swagger.json");
    let args = [
        "--checks",
        "not_a_server_error,content_type_conformance,response_schema_conformance",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-time",
        "25",
        "-w",
        "2",
        "--seed",
        "311",
    ];
    let run = oversight_testkit::python::schemathesis(
        swagger,
        format!("{}/open311/v2", s.base),
        args.iter().map(|a| a.to_string()).collect(),
    )
    .await;
    let report = run.report;
    assert!(run.passed, "schemathesis found faults:\n{report}");
    assert!(report.contains("Tested: 6"), "every operation was exercised: {report}");
}

/// A Python with `georeport` installed.
fn python() -> PathBuf {
    oversight_testkit::python::venv("open311", &["georeport==0.3.1"])
}

fn run_client(base: &str, key: &str, args: &[&str]) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/open311/client.py");
    let out = Command::new(python()).arg(script).args([base, key]).args(args).output().expect("the client runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the Open311 client failed: {stderr}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("client output: {e}: {stderr}"))
}

async fn a_pypi_client_files_and_follows_a_request(s: common::Spawned) {
    let (_, key) = accounts::create_api_key(
        &s.app,
        &Actor::cli(),
        "市民 App",
        None,
        &oversight_domain::access::KeyPurposes::all(),
    )
    .await
    .unwrap();
    let base = s.base.clone();
    let key2 = key.clone();
    let filed = tokio::task::spawn_blocking(move || run_client(&base, &key2, &["file"])).await.unwrap();
    let id = filed["json"]["service_request_id"].as_str().unwrap().to_string();
    let token = filed["json"]["token"].as_str().unwrap().to_string();

    // The order is an ordinary order: the office sees the caller, the workflow runs.
    let operator = common::actor(&s, "rexian").await;
    let liaison = common::actor(&s, "fgw").await;
    let view = hotline::order_view(&s.app, &operator, &id, true).await.unwrap();
    assert_eq!(view.order.channel.as_str(), "open311");
    assert_eq!(view.caller.name.as_deref(), Some("王小明"));
    assert_eq!(view.order.subject_venue_code.as_deref(), Some("460100-V"));
    let step = |step: &str, note: &str| StepInput { step: step.into(), note: note.into(), ..Default::default() };
    let dispatch = StepInput { department_code: "460100-D01".into(), ..step("dispatch", "") };
    hotline::order_step(&s.app, &operator, &id, &dispatch).await.unwrap();
    hotline::order_step(&s.app, &liaison, &id, &step("sign", "")).await.unwrap();
    hotline::order_step(&s.app, &liaison, &id, &step("reply", "已约谈窗口负责人并通报批评")).await.unwrap();
    let visit = StepInput { satisfaction: "satisfied".into(), ..step("visit", "") };
    hotline::order_step(&s.app, &operator, &id, &visit).await.unwrap();

    let base = s.base.clone();
    let followed =
        tokio::task::spawn_blocking(move || run_client(&base, &key, &["follow", &id, &token])).await.unwrap();
    assert_eq!(followed["agency_responsible"], "市发展和改革委员会");
}

async fn errors_come_in_the_open311_format(s: common::Spawned) {
    let c = common::client();
    let (_, key) = accounts::create_api_key(
        &s.app,
        &Actor::cli(),
        "市民 App",
        None,
        &oversight_domain::access::KeyPurposes::all(),
    )
    .await
    .unwrap();
    let root = format!("{}/open311/v2", s.base);
    let post = |format: &'static str, form: Vec<(&'static str, String)>| {
        let c = c.clone();
        let url = format!("{root}/requests.{format}");
        async move { c.post(url).form(&form).send().await.unwrap() }
    };
    // A bad key: 403, nothing stored.
    let res = post("json", vec![("api_key", "ovk_nope".into()), ("service_code", "complaint".into())]).await;
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body[0]["code"], 403);
    assert!(body[0]["description"].as_str().unwrap().contains("api_key"));
    // An unknown service, in XML.
    let res = post("xml", vec![("api_key", key.clone()), ("service_code", "pothole".into())]).await;
    assert_eq!(res.status(), 400);
    let text = res.text().await.unwrap();
    assert!(text.contains("<errors><error><code>400</code><description>service_code pothole not found"), "{text}");
    // A missing description and a bad phone: both named, in Open311 words.
    let res =
        post("json", vec![("api_key", key.clone()), ("service_code", "complaint".into()), ("phone", "12ab".into())])
            .await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    let description = body[0]["description"].as_str().unwrap();
    assert!(description.contains("description:") && description.contains("phone:"), "{description}");
    // A control character (which XML cannot carry) is refused, named, and nothing is stored:
    // the feed stays well-formed.
    let res = post(
        "xml",
        vec![("api_key", key.clone()), ("service_code", "complaint".into()), ("description", "窗口\u{7}态度差".into())],
    )
    .await;
    assert_eq!(res.status(), 400);
    let text = res.text().await.unwrap();
    assert!(text.contains("description:"), "{text}");
    let feed = c.get(format!("{root}/requests.xml")).send().await.unwrap().text().await.unwrap();
    assert!(!feed.contains('\u{7}'), "{feed}");
    // Unknown things are 404s; a span of more than 90 days is a 400.
    for (url, status) in [
        (format!("{root}/requests/H000.json"), 404),
        (format!("{root}/services/pothole.xml"), 404),
        (format!("{root}/tokens/nope.json"), 404),
        (format!("{root}/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z"), 400),
        (format!("{root}/requests.json?status=pending"), 400),
        (format!("{root}/requests.csv"), 404),
    ] {
        let res = c.get(&url).send().await.unwrap();
        assert_eq!(res.status(), status, "{url}");
        let text = res.text().await.unwrap();
        assert!(text.starts_with("[{\"code\":") || text.contains("<errors>"), "{url}: {text}");
    }
    // Nothing was stored by any of it.
    let listed: Value = c.get(format!("{root}/requests.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed, serde_json::json!([]));
    // Discovery, both formats.
    let d: Value = c.get(format!("{}/open311/discovery.json", s.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(d["endpoints"][0]["url"], format!("{}/open311/v2", s.base));
    let x = c.get(format!("{}/open311/discovery.xml", s.base)).send().await.unwrap().text().await.unwrap();
    assert!(x.contains("<specification>http://wiki.open311.org/GeoReport_v2</specification>"));
}

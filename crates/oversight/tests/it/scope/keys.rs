//! An API key serves only the purposes it was made for.

use crate::common::{Spawned, client, login};
use oversight_app::{Actor, accounts};

/// Hardening: an API key is made for some purposes (case events, task events, orders, Open311,
/// reports) and every route that takes keys refuses a key made for something else; reference
/// data (`/me`, the network, the calendar) takes any key.
pub(super) async fn a_key_serves_only_its_purposes(s: Spawned) {
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

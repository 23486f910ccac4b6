//! Pages that need a login, the public hotline pages and Open311, and signing out.

use super::hotline::Orders;
use super::{Check, Ctx};
use crate::common::{self, client};

pub(super) async fn sections_need_a_login(k: &mut Check<'_>, c: &Ctx<'_>) {
    let Ctx { xy, anon, .. } = c;
    // The sections' front pages need a login.
    assert_eq!(k.get(anon, "/cases", "/cases").await.0, 303);
    for route in ["/hotline", "/tasks"] {
        assert_eq!(k.get(xy, route, route).await.0, 200);
        assert_eq!(k.get(anon, route, route).await.0, 303);
    }
}

pub(super) async fn public_pages(k: &mut Check<'_>, c: &Ctx<'_>, orders: &Orders) {
    let Ctx { xy_secret, .. } = c;
    let Orders { lh_order, xy_order } = orders;
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
    assert_eq!(st, 303, "filed, the citizen is sent on to the page that shows the ticket");
    // That page shows the number and code the answer left in its cookie, and nothing without it.
    let (st, page) = k.get(&public, "/public/hotline/filed", "/public/hotline/filed").await;
    assert_eq!(st, 200);
    assert!(page.contains("id=\"query-code\"") && page.contains("tel:963333"), "{page}");
    let (st, _) = k.get(&client(), "/public/hotline/filed", "/public/hotline/filed").await;
    assert_eq!(st, 303, "without the cookie: the query page");
    for route in ["/favicon.ico", "/favicon.svg"] {
        let (st, icon) = k.get(&public, route, route).await;
        assert!(st == 200 && icon.starts_with("<svg"), "{route}: {st}");
    }
    // The office's headline figures, as a page and open data: counts and rates, nobody named.
    for (route, url) in [
        ("/public", "/public"),
        ("/public/figures.json", "/public/figures.json"),
        ("/public/figures.csv", "/public/figures.csv?year=2011"),
    ] {
        let (st, body) = k.get(&public, route, url).await;
        assert_eq!(st, 200, "{url}");
        assert!(!body.contains("龙华某人") && !body.contains("13800000000"), "{url}: {body}");
    }
    let (st, body) = k.get(&public, "/public/figures.json", "/public/figures.json?year=1999").await;
    assert_eq!(st, 422, "{body}");
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
}

pub(super) async fn sign_out(k: &mut Check<'_>, c: &Ctx<'_>) {
    let Ctx { xy, xy_csrf, .. } = c;
    // Signing out is the last thing a user does.
    assert_eq!(k.post(xy, "/logout", "/logout", &[("csrf", xy_csrf)]).await.0, 303);
    k.cover("POST", "/login");
}

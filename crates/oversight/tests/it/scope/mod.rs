//! A user of one district can neither see nor change anything outside it, on any route.
//!
//! The test takes the routes from the router as it is built (`oversight_web::routes_served`) and
//! asks the server which methods each serves, so a route added without a case here fails it. Each case acts as the 秀英区 supervisor, the 龙华区 administrator, or an API key
//! of 秀英区, against records of other districts and of the city.

mod admin;
mod api;
mod cases;
mod hotline;
mod inspections;
mod keys;
mod network;
mod public;
mod supervision;
mod tasks;

use crate::common;

use std::collections::BTreeSet;

use common::{Spawned, client, login};
use keys::a_key_serves_only_its_purposes;
use oversight_app::{Actor, App, accounts};
use oversight_store::access::ApiKey;
use oversight_testkit::on_both_backends;

on_both_backends!(with crate::common::spawn; no_route_leaks_outside_the_district, a_key_serves_only_its_purposes);

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

/// What the sections of `no_route_leaks_outside_the_district` share: who is signed in, the
/// district's key, and the ids the cases aim at.
struct Ctx<'a> {
    s: &'a Spawned,
    app: &'a App,
    /// The 秀英区 supervisor and the session's form token.
    xy: reqwest::Client,
    xy_csrf: String,
    /// The 龙华区 administrator and the session's form token.
    lh: reqwest::Client,
    lh_csrf: String,
    /// A client signed in as no one.
    anon: reqwest::Client,
    /// The client that calls the API with the district's key.
    api: reqwest::Client,
    xiuying_id: String,
    xiuying_grant: String,
    /// An API key of 秀英区, for every purpose, and its secret.
    xy_key: ApiKey,
    xy_secret: String,
}

impl Ctx<'_> {
    /// The request with the district's key.
    fn key(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        rb.header("authorization", format!("Bearer {}", self.xy_secret))
    }

    /// A GET of the API with the district's key.
    async fn api_get(&self, k: &mut Check<'_>, route: &str, url: &str) -> (u16, String) {
        k.cover("GET", route);
        let res = self.key(self.api.get(format!("{}{url}", self.s.base))).send().await.unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
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
    let c = Ctx {
        s: &s,
        app,
        xy,
        xy_csrf,
        lh,
        lh_csrf,
        anon: client(),
        api: client(),
        xiuying_id,
        xiuying_grant,
        xy_key,
        xy_secret,
    };
    let k = &mut k;

    network::public_routes(k, &c).await;
    network::home_and_network(k, &c).await;
    network::writes_outside(k, &c).await;
    network::import(k, &c).await;
    network::catalogue(k, &c).await;
    network::calendar(k, &c).await;
    admin::users(k, &c).await;
    admin::api_keys(k, &c).await;
    admin::audit_log(k, &c).await;
    public::sections_need_a_login(k, &c).await;
    api::reference_data(k, &c).await;
    cases::case_events(k, &c).await;
    tasks::key_tasks(k, &c).await;
    cases::ratings_report(k, &c).await;
    inspections::rounds(k, &c).await;
    inspections::bulletins(k, &c).await;
    cases::evaluation(k, &c).await;
    cases::case_pages(k, &c).await;
    hotline::ticket_report(k, &c).await;
    hotline::orders_api(k, &c).await;
    supervision::dashboard_api(k, &c).await;
    supervision::pages_and_alerts(k, &c).await;
    let orders = hotline::hotline_orders(k, &c).await;
    public::public_pages(k, &c, &orders).await;
    public::sign_out(k, &c).await;

    let missing: Vec<_> = routes(&s).await.difference(&k.covered).cloned().collect();
    assert!(missing.is_empty(), "routes without a scope case: {missing:?}");
}

//! A real server on a free port, over a fresh database with the demo network loaded.
#![allow(dead_code)]

use oversight_app::App;
use oversight_app::demo::{self, DemoAccount};
use oversight_testkit::TestApp;

pub struct Spawned {
    pub base: String,
    pub accounts: Vec<DemoAccount>,
    pub app: App,
    /// The running application; dropping it shuts the server down.
    _running: oversight_web::Running,
}

/// Serves the test's application (which the test keeps alive) with the demo loaded.
pub async fn spawn(t: &TestApp) -> Spawned {
    let app = t.app.clone();
    let accounts = demo::load(&app).await.expect("demo loads");
    // The tests run the monitor's and the outbox's passes themselves, when they choose.
    let running =
        oversight_web::Application::build(app.clone(), "127.0.0.1:0").await.expect("bind").without_jobs().spawn();
    let base = format!("http://{}", running.local_addr());
    Spawned { base, accounts, app, _running: running }
}

pub fn password(s: &Spawned, username: &str) -> String {
    s.accounts.iter().find(|a| a.username == username).expect("demo account").password.clone()
}

/// The first form token on a page.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).map(|i| i + marker.len()).expect("a form token on the page");
    html[start..].split('"').next().unwrap().to_string()
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// A client signed in as `username`, and its session's form token.
pub async fn login(s: &Spawned, username: &str) -> (reqwest::Client, String) {
    let c = client();
    let page = c.get(format!("{}/login", s.base)).send().await.unwrap().text().await.unwrap();
    let pre = csrf_of(&page);
    let res = c
        .post(format!("{}/login", s.base))
        .form(&[("csrf", pre.as_str()), ("username", username), ("password", &password(s, username)), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "login of {username}");
    let home = c.get(format!("{}/", s.base)).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&home);
    (c, csrf)
}

/// The actor of a demo account, for driving use cases beside the server.
pub async fn actor(s: &Spawned, username: &str) -> oversight_app::Actor {
    oversight_app::accounts::login(&s.app, username, &password(s, username), "127.0.0.1").await.unwrap().actor
}

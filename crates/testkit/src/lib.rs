//! A fresh, migrated database for each test, on either backend.
//!
//! SQLite tests use a file in a temporary directory. PostgreSQL tests run when
//! `OVERSIGHT_TEST_PG` names a server (e.g. `postgres://postgres@127.0.0.1:5432/postgres`):
//! each test creates its own database there and drops it when done.

pub mod model;
pub mod python;
pub mod task_model;

use oversight_app::{App, Config};
use sqlx::Connection;

/// A test's application over its own database; the database goes away with it.
pub struct TestApp {
    pub app: App,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

/// The environment variable naming the PostgreSQL server for tests.
pub const PG_ENV: &str = "OVERSIGHT_TEST_PG";

pub fn test_config(url: String) -> Config {
    Config { database_url: Some(url), ..Config::default() }
}

pub async fn sqlite() -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let app = App::open(test_config(url)).await.expect("open sqlite test database");
    TestApp { app, _dir: Some(dir), pg: None }
}

/// The URL of a fresh database on the test server, or `None` when no server is named.
pub async fn fresh_postgres_url() -> Option<(String, String, String)> {
    let admin = std::env::var(PG_ENV).ok().filter(|v| !v.is_empty())?;
    let name = format!("ovt_{}", uuid::Uuid::now_v7().simple());
    let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect to OVERSIGHT_TEST_PG");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    conn.close().await.ok();
    let (no_query, query) = admin.split_once('?').unwrap_or((admin.as_str(), ""));
    let host_start = no_query.find("://").map_or(0, |i| i + 3);
    let base = match no_query[host_start..].find('/') {
        Some(i) => &no_query[..host_start + i],
        None => no_query,
    };
    let url = if query.is_empty() { format!("{base}/{name}") } else { format!("{base}/{name}?{query}") };
    Some((url, admin.clone(), name))
}

pub async fn postgres() -> Option<TestApp> {
    let (url, admin, name) = fresh_postgres_url().await?;
    let app = App::open(test_config(url)).await.expect("open postgres test database");
    Some(TestApp { app, _dir: None, pg: Some((admin, name)) })
}

/// Drops a test database (on its own thread and runtime: `Drop` cannot await).
pub fn drop_postgres(admin: String, name: String) {
    let _ = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                    .execute(&mut conn)
                    .await;
            }
        });
    })
    .join();
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            drop_postgres(admin, name);
        }
    }
}

/// The application of a test, for tests that take an [`App`].
pub async fn app(t: &TestApp) -> App {
    t.app.clone()
}

/// Runs each `async fn(X)` as two tests, `NAME::sqlite` and `NAME::postgres`, where `X` is made
/// from the test's [`TestApp`] by `with SETUP` (default: [`app`], giving the [`App`]). The
/// PostgreSQL one says it was skipped when `OVERSIGHT_TEST_PG` is not set (CI always sets it).
#[macro_export]
macro_rules! on_both_backends {
    (with $setup:path; $($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let t = $crate::sqlite().await;
                    super::$name($setup(&t).await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some(t) = $crate::postgres().await else {
                        eprintln!("{} not set: PostgreSQL variant skipped", $crate::PG_ENV);
                        return;
                    };
                    super::$name($setup(&t).await).await;
                }
            }
        )*
    };
    ($($name:ident),* $(,)?) => {
        $crate::on_both_backends!(with $crate::app; $($name),*);
    };
}

/// Signs in as one of the demo's accounts (from `demo::load`) and returns who that is.
pub async fn login(app: &App, accounts: &[oversight_app::demo::DemoAccount], username: &str) -> oversight_app::Actor {
    let a = accounts.iter().find(|a| a.username == username).unwrap_or_else(|| panic!("no demo account {username}"));
    oversight_app::accounts::login(app, username, &a.password, "127.0.0.1")
        .await
        .expect("the demo account signs in")
        .actor
}

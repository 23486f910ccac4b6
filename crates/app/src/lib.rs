//! The use cases of Oversight. The command line and the HTTP server are thin callers of these
//! functions, so an import from a file and the same import over HTTP cannot disagree. Each
//! write is one transaction that checks the actor's scope and appends its audit row.

pub mod accounts;
pub mod actor;
pub mod calendar;
pub mod cases;
pub mod config;
pub mod demo;
pub mod error;
pub mod exchange;
pub mod network;

use std::sync::Arc;

use chrono::{DateTime, Utc};
pub use oversight_store::Db;

pub use actor::Actor;
pub use config::Config;
pub use error::AppError;

/// Where the time comes from; tests move it.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// What every use case needs: the database, the configuration, the clock and the calendar.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    calendar: Arc<calendar::CalendarCache>,
}

impl App {
    /// Connects to the configured database, applies the migrations and loads the calendar
    /// years shipped with this release that the database does not have yet.
    pub async fn open(config: Config) -> Result<App, AppError> {
        let url = config.database_url();
        if let Some(path) = url.strip_prefix("sqlite://") {
            if let Some(dir) = std::path::Path::new(path.split('?').next().unwrap_or(path)).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| AppError::Unreadable(format!("无法创建数据目录 {}：{e}", dir.display())))?;
                }
            }
        }
        let db = Db::connect(&url).await?;
        db.migrate().await?;
        let app = App::with_db(db, config, Arc::new(SystemClock));
        calendar::seed_shipped(&app).await?;
        Ok(app)
    }

    pub fn with_db(db: Db, config: Config, clock: Arc<dyn Clock>) -> App {
        App { db, config: Arc::new(config), clock, calendar: Arc::new(calendar::CalendarCache::default()) }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

/// A new identifier: UUID v7, ordered by time, fit for distributed databases.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

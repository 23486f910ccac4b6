//! The use cases of Oversight. The command line and the HTTP server are thin callers of these
//! functions, so an import from a file and the same import over HTTP cannot disagree. Each
//! write is one transaction that checks the actor's scope and appends its audit row.

pub mod accounts;
pub mod actor;
pub mod bulletins;
pub mod calendar;
pub mod cases;
pub mod config;
pub mod demo;
pub mod error;
pub mod evaluation;
pub mod exchange;
pub mod export;
pub mod headline;
pub mod hotline;
pub mod inspection_report;
pub mod inspections;
mod intake;
pub mod meetings;
pub mod metrics;
pub mod network;
pub mod notify;
pub mod photos;
pub mod ratings;
pub mod supervision;
pub mod tasks;
pub mod tickets;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
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

/// A clock that stands still until moved: tests, the demo's history and the benchmarks use it
/// to run the real use cases at other times.
pub struct ManualClock(std::sync::Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Arc<ManualClock> {
        Arc::new(ManualClock(std::sync::Mutex::new(at)))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Event ingestions over HTTP at once: the writer is one, and each parses on a core of its own.
pub const INGESTIONS: usize = 2;

/// What every use case needs: the database, the configuration, the clock and the calendar.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    calendar: Arc<calendar::CalendarCache>,
    /// Woken when events arrive, so that the monitor looks at the new signal instants.
    pub monitor_wake: Arc<tokio::sync::Notify>,
    /// Woken when messages are queued, so that they go out at once.
    pub notify_wake: Arc<tokio::sync::Notify>,
    /// New work orders waiting to be written together (group commit).
    intake: Arc<intake::IntakeQueue>,
    /// Event ingestions running at once (each holds two chunks of lines and parses on a core).
    ingestions: Arc<tokio::sync::Semaphore>,
    /// What the server counts for its operators (`GET /metrics`).
    pub metrics: Arc<metrics::Metrics>,
}

impl App {
    /// Connects to the configured database, applies the migrations and loads the calendar
    /// years shipped with this release that the database does not have yet.
    pub async fn open(config: Config) -> Result<App, AppError> {
        let url = config.database_url();
        if let Some(path) = url.strip_prefix("sqlite://")
            && let Some(dir) = std::path::Path::new(path.split('?').next().unwrap_or(path)).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| AppError::internal(format!("无法创建数据目录 {}", dir.display()), e))?;
        }
        let db = Db::connect(&url).await?;
        db.migrate().await?;
        let app = App::with_db(db, config, Arc::new(SystemClock));
        calendar::seed_shipped(&app).await?;
        let phased = tasks::reproject(&app, tasks::Reproject::WithoutPhases).await?;
        if phased > 0 {
            tracing::info!(tasks = phased, "key tasks stored before their phases were kept now have them");
        }
        let rated = cases::reproject_unrated(&app).await?;
        if rated > 0 {
            tracing::info!(cases = rated, "cases rated before their records kept ratings now have them");
        }
        Ok(app)
    }

    pub fn with_db(db: Db, config: Config, clock: Arc<dyn Clock>) -> App {
        App {
            db,
            config: Arc::new(config),
            clock,
            calendar: Arc::new(calendar::CalendarCache::default()),
            monitor_wake: Arc::new(tokio::sync::Notify::new()),
            notify_wake: Arc::new(tokio::sync::Notify::new()),
            intake: Arc::new(intake::IntakeQueue::default()),
            ingestions: Arc::new(tokio::sync::Semaphore::new(INGESTIONS)),
            metrics: Arc::new(metrics::Metrics::default()),
        }
    }

    /// Waits for one of the [`INGESTIONS`] places of an event ingestion over HTTP: a flood of
    /// requests waits in line (its bodies unread) instead of each taking memory and a core.
    pub async fn ingestion_slot(&self) -> tokio::sync::SemaphorePermit<'_> {
        self.ingestions.acquire().await.expect("the ingestion semaphore is never closed")
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The same application (database, configuration, calendar) on another clock.
    pub fn with_clock(&self, clock: Arc<dyn Clock>) -> App {
        App { clock, ..self.clone() }
    }

    /// The city's local date of an instant: the business calendar works on these.
    pub fn local_date(&self, instant: DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&self.config.tz()).date_naive()
    }

    /// The city's local date now.
    pub fn today(&self) -> NaiveDate {
        self.local_date(self.now())
    }

    /// The instant a local date begins in the city.
    pub fn start_of(&self, date: NaiveDate) -> DateTime<Utc> {
        let midnight = date.and_time(NaiveTime::MIN);
        match self.config.tz().from_local_datetime(&midnight).earliest() {
            Some(t) => t.with_timezone(&Utc),
            None => midnight.and_utc(),
        }
    }
}

/// A new identifier: UUID v7, ordered by time, fit for distributed databases.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

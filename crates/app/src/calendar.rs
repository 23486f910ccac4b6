//! The official calendar: seeding the shipped years, loading the calendar, an administrator's
//! correction of a year, and the deadline of spec/metrics.md.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate};
use oversight_domain::RowError;
use oversight_domain::access::Action;
use oversight_domain::calendar::{OFFICIAL_SCHEDULES, WorkCalendar, YearSchedule};
use oversight_store::audit::{self, NewAudit};
use oversight_store::calendar as store;
use serde_json::json;

use crate::{Actor, App, AppError};

/// How long a loaded calendar is trusted before it is read again (other instances may have
/// changed a year).
const CACHE_TTL: Duration = Duration::from_secs(30);

#[derive(Default)]
pub(crate) struct CalendarCache(RwLock<Option<(Instant, Arc<WorkCalendar>)>>);

/// Stores the shipped years the database lacks, and refreshes shipped years that a new release
/// corrected; a year an administrator edited is left as it is.
pub async fn seed_shipped(app: &App) -> Result<usize, AppError> {
    let shipped = YearSchedule::parse_many(OFFICIAL_SCHEDULES)?;
    let stored = store::years(&app.db).await?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut changed = 0;
    for year in shipped {
        let text = year.to_text();
        match stored.iter().find(|s| s.year == year.year) {
            Some(s) if !s.shipped || s.body == text => {}
            _ => {
                store::put_year(&mut tx, year.year, &text, true, "release", now).await?;
                changed += 1;
            }
        }
    }
    tx.commit().await?;
    app.calendar.0.write().expect("calendar cache").take();
    Ok(changed)
}

impl App {
    /// The working-day calendar as stored (cached briefly).
    pub async fn calendar(&self) -> Result<Arc<WorkCalendar>, AppError> {
        if let Some((at, cal)) = self.calendar.0.read().expect("calendar cache").as_ref()
            && at.elapsed() < CACHE_TTL
        {
            return Ok(cal.clone());
        }
        let years = store::years(&self.db).await?;
        let mut schedules = Vec::with_capacity(years.len());
        for y in years {
            schedules.push(YearSchedule::parse_one(y.year, &y.body)?);
        }
        let cal = Arc::new(WorkCalendar::new(&schedules));
        *self.calendar.0.write().expect("calendar cache") = Some((Instant::now(), cal.clone()));
        Ok(cal)
    }
}

/// Adds or corrects one year of the calendar (an administrator of the whole city).
pub async fn set_year(app: &App, actor: &Actor, year: i32, text: &str) -> Result<YearSchedule, AppError> {
    if !actor.may_city_wide(Action::EditCalendar) {
        return Err(AppError::Forbidden("只有市级系统管理员可以修改工作日历".into()));
    }
    if !(2000..=2100).contains(&year) {
        return Err(AppError::field("year", format!("{year} 不是有效的年份")));
    }
    let schedule = YearSchedule::parse_one(year, text).map_err(|e| match e {
        oversight_domain::calendar::CalendarError::Syntax { line, reason } => {
            AppError::Invalid(vec![RowError::new(line, "body", reason)])
        }
        other => AppError::Calendar(other),
    })?;
    // Checked: from here the year is stored and what follows from it is done on a task of its
    // own, to its end even if the request is cut (a client gone, a timeout) — between the
    // commit and the re-projection too — so that no deadline is left counted on the old
    // calendar while others moved. The caller still waits for it.
    let stored = tokio::spawn(store_year(app.clone(), actor.label.clone(), year, schedule.to_text()));
    stored.await.map_err(|e| AppError::internal("entering the calendar year stopped", e))??;
    Ok(schedule)
}

/// Stores one year of the calendar, audited, and follows it through (see [`follow_new_year`]).
async fn store_year(app: App, actor: String, year: i32, body: String) -> Result<(), AppError> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let before = store::year_tx(&mut tx, year).await?;
    store::put_year(&mut tx, year, &body, false, &actor, now).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor,
            action: "calendar.set_year",
            target: &year.to_string(),
            path: "/",
            detail: json!({ "before": before.map(|b| b.body), "after": body }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    app.calendar.0.write().expect("calendar cache").take();
    follow_new_year(app, year).await
}

/// Recomputes, on the calendar with `year` as now stored, the deadlines of open hotline orders,
/// the unsettled approval cases (those waiting for this year among them) and the key tasks'
/// lights and phases (sign limits and horizons count working days).
async fn follow_new_year(app: App, year: i32) -> Result<(), AppError> {
    let moved = crate::hotline::reschedule_open(&app, &format!("{year} 年节假日安排已录入")).await?;
    if moved > 0 {
        tracing::info!(year, moved, "hotline deadlines recomputed on the new calendar");
    }
    let cases = crate::cases::reproject_unsettled(&app).await?;
    tracing::info!(year, cases, "unsettled approval cases projected again on the new calendar");
    let tasks = crate::tasks::reproject(&app, crate::tasks::Reproject::All).await?;
    tracing::info!(year, tasks, "key tasks' lights and phases projected again on the new calendar");
    Ok(())
}

/// Next year, from October on, when its official schedule is not entered yet: deadlines that
/// run into it are estimates (hotline) or errors (cases) until an administrator enters it.
pub async fn next_year_missing(app: &App) -> Result<Option<i32>, AppError> {
    use chrono::Datelike;
    let today = app.today();
    let next = today.year() + 1;
    let cal = app.calendar().await?;
    Ok((today.month() >= 10 && !cal.known_years().any(|y| y == next)).then_some(next))
}

/// Reads an RFC 3339 timestamp with its offset (spec/exchange.md) and gives its local date in
/// the city's time zone.
pub fn local_date(app: &App, timestamp: &str, field: &str) -> Result<NaiveDate, AppError> {
    let at = DateTime::parse_from_rfc3339(timestamp.trim()).map_err(|_| {
        AppError::field(field, format!("“{timestamp}”不是带时区偏移的 RFC 3339 时间（如 2011-03-02T09:15:00+08:00）"))
    })?;
    Ok(at.with_timezone(&app.config.tz()).date_naive())
}

/// The deadline date of a period of `days` working days that starts at `start` (spec/metrics.md).
pub async fn deadline(app: &App, start: &str, days: u32) -> Result<NaiveDate, AppError> {
    let date = local_date(app, start, "start")?;
    Ok(app.calendar().await?.deadline(date, days)?)
}

/// A year of the calendar as stored (its text, who changed it and when), if entered.
pub async fn stored_year(app: &App, year: i32) -> Result<Option<store::CalendarYear>, AppError> {
    Ok(store::year(&app.db, year).await?)
}

//! Key tasks: their append-only events and each task's record as of today.

use chrono::{DateTime, NaiveDate, Utc};
use oversight_domain::access::Scope;
use oversight_domain::task::TaskStatus;
use sqlx::AssertSqlSafe;

use crate::{Db, Result, ScopeFilter, Tx, on_db, on_tx};

/// Reserves `n` arrival numbers for task events; returns the first. Its row lock is held to
/// the end of the transaction, so it also makes this the only writer of tasks until then (a
/// writer projects a task from what it reads of its events).
pub async fn reserve_arrivals(tx: &mut Tx, n: i64) -> Result<i64> {
    let last: i64 = on_tx!(tx, |c| sqlx::query_scalar(
        "UPDATE sequence_counter SET value = value + $1 WHERE name = 'task_event_arrival' RETURNING value"
    )
    .bind(n)
    .fetch_one(c)
    .await?);
    Ok(last - n + 1)
}

/// A stored task event.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TaskEventRow {
    pub event_id: String,
    pub task_no: String,
    pub r#type: String,
    pub at: DateTime<Utc>,
    pub local_date: NaiveDate,
    pub arrival: i64,
    pub reported_at: DateTime<Utc>,
    pub content: String,
    pub source: String,
}

const EVENT_COLUMNS: &str = "event_id, task_no, type, at, local_date, arrival, reported_at, content, source";

/// Stores an event unless its id is stored already; then returns the stored content, to tell
/// a duplicate from a conflict.
pub async fn insert_event(tx: &mut Tx, e: &TaskEventRow) -> Result<Option<String>> {
    let sql = format!(
        "INSERT INTO task_event ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (event_id) DO NOTHING"
    );
    let inserted = on_tx!(tx, |c| sqlx::query(AssertSqlSafe(sql))
        .bind(&e.event_id)
        .bind(&e.task_no)
        .bind(&e.r#type)
        .bind(e.at)
        .bind(e.local_date)
        .bind(e.arrival)
        .bind(e.reported_at)
        .bind(&e.content)
        .bind(&e.source)
        .execute(c)
        .await?
        .rows_affected());
    if inserted == 1 {
        return Ok(None);
    }
    Ok(Some(on_tx!(tx, |c| sqlx::query_scalar("SELECT content FROM task_event WHERE event_id = $1")
        .bind(&e.event_id)
        .fetch_one(c)
        .await?)))
}

/// The events of one task, in arrival order.
pub async fn events_of_task_tx(tx: &mut Tx, task_no: &str) -> Result<Vec<TaskEventRow>> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM task_event WHERE task_no = $1 ORDER BY arrival");
    Ok(on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(task_no).fetch_all(c).await?))
}

pub async fn events_of_task(db: &Db, task_no: &str) -> Result<Vec<TaskEventRow>> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM task_event WHERE task_no = $1 ORDER BY arrival");
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(task_no).fetch_all(c).await?))
}

/// The events dated on or before `as_of` of the tasks assigned by then whose lead department
/// is in the scope, grouped by task (in arrival order within each).
pub async fn events_as_of(db: &Db, scope: &Scope, as_of: NaiveDate) -> Result<Vec<TaskEventRow>> {
    let filter = ScopeFilter::any(scope, &["r.path"], 2);
    let sql = format!(
        "SELECT e.event_id, e.task_no, e.type, e.at, e.local_date, e.arrival, e.reported_at, e.content, e.source
         FROM task_event e JOIN task_record r ON r.task_no = e.task_no
         WHERE r.assigned_on <= $1 AND e.local_date <= $1 AND {}
         ORDER BY e.task_no, e.arrival",
        filter.sql
    );
    Ok(on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(as_of);
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    }))
}

/// A task as it stands today: what lists show and what scope is checked on.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct TaskRecord {
    pub task_no: String,
    pub title: Option<String>,
    pub origin: Option<String>,
    pub lead_department_code: Option<String>,
    /// The lead department's path; `/` while the task waits for its assignment.
    pub path: String,
    #[sqlx(try_from = "String")]
    #[serde(serialize_with = "crate::as_word")]
    pub status: TaskStatus,
    pub assigned_on: Option<NaiveDate>,
    pub due: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
    pub anomalies: i64,
    /// Today's light of an open task (`green`, `yellow`, `red`), since when, and the next day
    /// it may change.
    pub light: Option<String>,
    pub light_since: Option<NaiveDate>,
    pub light_due: Option<NaiveDate>,
    pub updated_at: DateTime<Utc>,
}

const RECORD_COLUMNS: &str = "task_no, title, origin, lead_department_code, path, status, assigned_on, due, closed_on,
    anomalies, light, light_since, light_due, updated_at";

pub async fn upsert_record(tx: &mut Tx, r: &TaskRecord) -> Result<()> {
    let sql = format!(
        "INSERT INTO task_record ({RECORD_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (task_no) DO UPDATE SET title = $2, origin = $3, lead_department_code = $4, path = $5,
           status = $6, assigned_on = $7, due = $8, closed_on = $9, anomalies = $10, light = $11,
           light_since = $12, light_due = $13, updated_at = $14"
    );
    on_tx!(tx, |c| sqlx::query(AssertSqlSafe(sql))
        .bind(&r.task_no)
        .bind(&r.title)
        .bind(&r.origin)
        .bind(&r.lead_department_code)
        .bind(&r.path)
        .bind(r.status.as_str())
        .bind(r.assigned_on)
        .bind(r.due)
        .bind(r.closed_on)
        .bind(r.anomalies)
        .bind(&r.light)
        .bind(r.light_since)
        .bind(r.light_due)
        .bind(r.updated_at)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

/// The tasks whose light may change on or before `today`, at most `limit`.
pub async fn due_tasks(tx: &mut Tx, today: NaiveDate, limit: i64) -> Result<Vec<TaskRecord>> {
    let sql = format!("SELECT {RECORD_COLUMNS} FROM task_record WHERE light_due <= $1 ORDER BY light_due LIMIT $2");
    Ok(on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(today).bind(limit).fetch_all(c).await?))
}

pub async fn record_tx(tx: &mut Tx, task_no: &str) -> Result<Option<TaskRecord>> {
    let sql = format!("SELECT {RECORD_COLUMNS} FROM task_record WHERE task_no = $1");
    Ok(on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(task_no).fetch_optional(c).await?))
}

pub async fn record(db: &Db, task_no: &str) -> Result<Option<TaskRecord>> {
    let sql = format!("SELECT {RECORD_COLUMNS} FROM task_record WHERE task_no = $1");
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(task_no).fetch_optional(c).await?))
}

/// The tasks in the scope, led or co-operated by a department in it, the latest due first
/// among the open ones, at most `limit`.
pub async fn records(db: &Db, scope: &Scope, limit: i64) -> Result<Vec<TaskRecord>> {
    let led = ScopeFilter::any(scope, &["path"], 2);
    let shared = ScopeFilter::any(scope, &["p.path"], led.next_param(2));
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM task_record
         WHERE {} OR task_no IN (SELECT p.task_no FROM task_party p WHERE {})
         ORDER BY CASE WHEN status IN ('open', 'reported_done') THEN 0 ELSE 1 END, due, task_no LIMIT $1",
        led.sql, shared.sql
    );
    Ok(on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(limit);
        for b in led.binds.iter().chain(&shared.binds) {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    }))
}

/// The paths of the departments co-operating on a task.
pub async fn parties(db: &Db, task_no: &str) -> Result<Vec<String>> {
    let sql = "SELECT path FROM task_party WHERE task_no = $1 ORDER BY path";
    Ok(on_db!(db, |c| sqlx::query_scalar(sql).bind(task_no).fetch_all(c).await?))
}

/// Sets the departments co-operating on a task (their paths).
pub async fn set_parties(tx: &mut Tx, task_no: &str, paths: &[String]) -> Result<()> {
    on_tx!(tx, |c| sqlx::query("DELETE FROM task_party WHERE task_no = $1")
        .bind(task_no)
        .execute(&mut *c)
        .await?
        .rows_affected());
    for path in paths {
        on_tx!(tx, |c| sqlx::query("INSERT INTO task_party (task_no, path) VALUES ($1, $2)")
            .bind(task_no)
            .bind(path)
            .execute(c)
            .await?
            .rows_affected());
    }
    Ok(())
}

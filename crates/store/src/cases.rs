//! Case events (append-only) and the case records projected from them.

use chrono::{DateTime, NaiveDate, Utc};
use oversight_domain::access::Scope;
use sqlx::AssertSqlSafe;

use crate::{Db, Result, ScopeFilter, Tx, on_db, on_tx};

/// An event as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub event_id: String,
    pub case_no: String,
    pub r#type: String,
    pub at: DateTime<Utc>,
    pub local_date: NaiveDate,
    pub arrival: i64,
    pub reported_at: DateTime<Utc>,
    pub content: String,
    pub source: String,
}

/// The stored content of an event id, if any (to tell a duplicate from a conflict).
pub async fn event_content(tx: &mut Tx, event_id: &str) -> Result<Option<String>> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar("SELECT content FROM case_event WHERE event_id = $1")
        .bind(event_id)
        .fetch_optional(c)
        .await?))
}

/// Reserves `n` arrival numbers; returns the first. The counter row is locked until commit.
pub async fn reserve_arrivals(tx: &mut Tx, n: i64) -> Result<i64> {
    let last: i64 = on_tx!(tx, |c| sqlx::query_scalar(
        "UPDATE sequence_counter SET value = value + $1 WHERE name = 'case_event_arrival' RETURNING value"
    )
    .bind(n)
    .fetch_one(c)
    .await?);
    Ok(last - n + 1)
}

pub async fn insert_event(tx: &mut Tx, e: &EventRow) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO case_event (event_id, case_no, type, at, local_date, arrival, reported_at, content, source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    )
    .bind(&e.event_id)
    .bind(&e.case_no)
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
    Ok(())
}

const EVENT_COLUMNS: &str = "event_id, case_no, type, at, local_date, arrival, reported_at, content, source";

pub async fn events_of_case_tx(tx: &mut Tx, case_no: &str) -> Result<Vec<EventRow>> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM case_event WHERE case_no = $1 ORDER BY at, arrival");
    Ok(on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(case_no).fetch_all(c).await?))
}

pub async fn events_of_case(db: &Db, case_no: &str) -> Result<Vec<EventRow>> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM case_event WHERE case_no = $1 ORDER BY at, arrival");
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(case_no).fetch_all(c).await?))
}

/// The projected state of a case, as stored for lists and reports.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct CaseRecord {
    pub case_no: String,
    pub status: String,
    pub item_code: Option<String>,
    pub department_code: Option<String>,
    pub venue_code: Option<String>,
    pub level: Option<i32>,
    pub path: String,
    pub received_on: Option<NaiveDate>,
    pub accepted_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub deadline: Option<NaiveDate>,
    pub limit_days: i32,
    pub stopped_days: i32,
    pub stopped_since: Option<NaiveDate>,
    pub outcome: String,
    pub outcome_date: Option<NaiveDate>,
    pub anomalies: i32,
    /// The whole `CaseState` as JSON (timeline page).
    pub state: String,
    pub updated_at: DateTime<Utc>,
}

pub async fn upsert_case(tx: &mut Tx, r: &CaseRecord) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO case_record (case_no, status, item_code, department_code, venue_code, level, path, received_on,
           accepted_on, ended_on, deadline, limit_days, stopped_days, stopped_since, outcome, outcome_date, anomalies,
           state, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
         ON CONFLICT (case_no) DO UPDATE SET status = excluded.status, item_code = excluded.item_code,
           department_code = excluded.department_code, venue_code = excluded.venue_code, level = excluded.level,
           path = excluded.path, received_on = excluded.received_on, accepted_on = excluded.accepted_on,
           ended_on = excluded.ended_on, deadline = excluded.deadline, limit_days = excluded.limit_days,
           stopped_days = excluded.stopped_days, stopped_since = excluded.stopped_since, outcome = excluded.outcome,
           outcome_date = excluded.outcome_date, anomalies = excluded.anomalies, state = excluded.state,
           updated_at = excluded.updated_at"
    )
    .bind(&r.case_no)
    .bind(&r.status)
    .bind(&r.item_code)
    .bind(&r.department_code)
    .bind(&r.venue_code)
    .bind(r.level)
    .bind(&r.path)
    .bind(r.received_on)
    .bind(r.accepted_on)
    .bind(r.ended_on)
    .bind(r.deadline)
    .bind(r.limit_days)
    .bind(r.stopped_days)
    .bind(r.stopped_since)
    .bind(&r.outcome)
    .bind(r.outcome_date)
    .bind(r.anomalies)
    .bind(&r.state)
    .bind(r.updated_at)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

const CASE_COLUMNS: &str =
    "case_no, status, item_code, department_code, venue_code, level, path, received_on, accepted_on,
    ended_on, deadline, limit_days, stopped_days, stopped_since, outcome, outcome_date, anomalies, state, updated_at";

pub async fn case(db: &Db, case_no: &str) -> Result<Option<CaseRecord>> {
    let sql = format!("SELECT {CASE_COLUMNS} FROM case_record WHERE case_no = $1");
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(case_no).fetch_optional(c).await?))
}

pub async fn case_tx(tx: &mut Tx, case_no: &str) -> Result<Option<CaseRecord>> {
    let sql = format!("SELECT {CASE_COLUMNS} FROM case_record WHERE case_no = $1");
    Ok(on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(case_no).fetch_optional(c).await?))
}

/// What a report groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Level,
    Venue,
    Department,
    Item,
}

/// One row of a case report: a group key (empty without grouping) and its counts.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SettledCounts {
    pub key: Option<String>,
    pub on_time: i64,
    pub overdue: i64,
}

/// Counts of the cases settled between `from` and `to` (both included), as of the local date
/// `today` (a running case whose deadline is before today is overdue, settled on its deadline).
pub async fn settled_counts(
    db: &Db,
    scope: &Scope,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
    levels: &[i32],
    group: Option<GroupBy>,
) -> Result<Vec<SettledCounts>> {
    let key = match group {
        None => "CAST(NULL AS TEXT)",
        Some(GroupBy::Level) => "CAST(level AS TEXT)",
        Some(GroupBy::Venue) => "venue_code",
        Some(GroupBy::Department) => "department_code",
        Some(GroupBy::Item) => "item_code",
    };
    let group_clause = if group.is_some() { format!("GROUP BY {key}") } else { String::new() };
    let filter = ScopeFilter::new(scope, "path", 4);
    let level_filter = if levels.is_empty() {
        String::new()
    } else {
        format!(" AND level IN ({})", levels.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(", "))
    };
    let sql = format!(
        "SELECT {key} AS key,
           COALESCE(SUM(CASE WHEN outcome = 'on_time' THEN 1 ELSE 0 END), 0) AS on_time,
           COALESCE(SUM(CASE WHEN outcome = 'overdue' OR outcome = 'running' THEN 1 ELSE 0 END), 0) AS overdue
         FROM case_record
         WHERE outcome_date >= $1 AND outcome_date <= $2
           AND (outcome IN ('on_time', 'overdue') OR (outcome = 'running' AND outcome_date < $3))
           AND {}{level_filter}
         {group_clause}",
        filter.sql
    );
    let rows: Vec<SettledCounts> = on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(from).bind(to).bind(today);
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    });
    Ok(rows)
}

/// Cases within the scope, newest first, optionally only those of one venue.
pub async fn recent_cases(db: &Db, scope: &Scope, venue: Option<&str>, limit: i64) -> Result<Vec<CaseRecord>> {
    let filter = ScopeFilter::new(scope, "path", 3);
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM case_record WHERE ($1 = '' OR venue_code = $1) AND {}
         ORDER BY received_on DESC, case_no LIMIT $2",
        filter.sql
    );
    Ok(on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(venue.unwrap_or("")).bind(limit);
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    }))
}

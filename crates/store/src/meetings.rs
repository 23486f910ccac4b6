//! The joint meetings (联席会议) and their decisions.

use chrono::{DateTime, NaiveDate, Utc};
use oversight_domain::access::Scope;
use sqlx::AssertSqlSafe;

use crate::{Db, Result, ScopeFilter, Tx, on_db, on_tx};

/// A meeting as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MeetingRow {
    pub id: String,
    pub number: i64,
    pub title: String,
    pub held_on: NaiveDate,
    /// The departments invited, by code, separated by spaces.
    pub departments: String,
    pub agenda: String,
    pub minutes: String,
    /// `scheduled` or `held`.
    pub status: String,
    pub path: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, number, title, held_on, departments, agenda, minutes, status, path, created_by, created_at, updated_at";

/// A decision of a meeting and the task it became.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DecisionRow {
    pub id: String,
    pub meeting_id: String,
    pub seq: i64,
    pub text: String,
    pub task_no: String,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(tx: &mut Tx, m: &MeetingRow) -> Result<()> {
    let sql = format!("INSERT INTO meeting ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)");
    on_tx!(tx, |c| sqlx::query(AssertSqlSafe(sql))
        .bind(&m.id)
        .bind(m.number)
        .bind(&m.title)
        .bind(m.held_on)
        .bind(&m.departments)
        .bind(&m.agenda)
        .bind(&m.minutes)
        .bind(&m.status)
        .bind(&m.path)
        .bind(&m.created_by)
        .bind(m.created_at)
        .bind(m.updated_at)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn meeting(db: &Db, id: &str) -> Result<Option<MeetingRow>> {
    let sql = format!("SELECT {COLUMNS} FROM meeting WHERE id = $1");
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

/// The meetings in the scope, the latest first.
pub async fn meetings(db: &Db, scope: &Scope, limit: i64) -> Result<Vec<MeetingRow>> {
    let filter = ScopeFilter::any(scope, &["path"], 2);
    let sql = format!("SELECT {COLUMNS} FROM meeting WHERE {} ORDER BY held_on DESC, number DESC LIMIT $1", filter.sql);
    Ok(on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(limit);
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    }))
}

/// The last meeting of the office at `path` held before `day`.
pub async fn last_held_before(db: &Db, path: &str, day: NaiveDate) -> Result<Option<MeetingRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM meeting WHERE path = $1 AND status = 'held' AND held_on < $2
         ORDER BY held_on DESC, number DESC LIMIT 1"
    );
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(path).bind(day).fetch_optional(c).await?))
}

/// Writes the agenda, the minutes and the status.
pub async fn update(
    tx: &mut Tx,
    id: &str,
    agenda: &str,
    minutes: &str,
    status: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let sql = "UPDATE meeting SET agenda = $2, minutes = $3, status = $4, updated_at = $5 WHERE id = $1";
    on_tx!(tx, |c| sqlx::query(sql)
        .bind(id)
        .bind(agenda)
        .bind(minutes)
        .bind(status)
        .bind(now)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn insert_decision(tx: &mut Tx, d: &DecisionRow) -> Result<()> {
    let sql = "INSERT INTO meeting_decision (id, meeting_id, seq, text, task_no, created_at)
               VALUES ($1, $2, $3, $4, $5, $6)";
    on_tx!(tx, |c| sqlx::query(sql)
        .bind(&d.id)
        .bind(&d.meeting_id)
        .bind(d.seq)
        .bind(&d.text)
        .bind(&d.task_no)
        .bind(d.created_at)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn decisions(db: &Db, meeting_id: &str) -> Result<Vec<DecisionRow>> {
    let sql = "SELECT id, meeting_id, seq, text, task_no, created_at FROM meeting_decision
               WHERE meeting_id = $1 ORDER BY seq";
    Ok(on_db!(db, |c| sqlx::query_as(sql).bind(meeting_id).fetch_all(c).await?))
}

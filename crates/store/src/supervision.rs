//! The monitor's work list and lease, alerts, and supervision notices with their steps.

use chrono::{DateTime, NaiveDate, Utc};
use oversight_domain::access::Scope;
use oversight_domain::supervision::{AlertStatus, NoticeStatus, Subject, SubjectKind};
use sqlx::AssertSqlSafe;

use crate::cases::numbered_list;
use crate::{Db, Result, ScopeFilter, Tx, on_db, on_tx};

/// Claims the lease of job `name` for `owner` until `until`, if it is free, expired, or
/// already `owner`'s. Portable to every backend: no advisory locks, one conditional UPDATE.
pub async fn claim_lease(
    tx: &mut Tx,
    name: &str,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool> {
    let touched = on_tx!(tx, |c| sqlx::query(
        "UPDATE job_lease SET owner = $1, expires_at = $2 WHERE name = $3 AND (expires_at < $4 OR owner = $1)"
    )
    .bind(owner)
    .bind(until)
    .bind(name)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    Ok(touched == 1)
}

/// An open case whose time signal is due to change.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueCase {
    pub case_no: String,
    pub time_signal: Option<String>,
    pub yellow_on: Option<NaiveDate>,
    pub red_on: Option<NaiveDate>,
    pub plan_target: String,
    pub signal_due: Option<DateTime<Utc>>,
    pub venue_code: Option<String>,
    pub path: String,
    pub department_code: Option<String>,
    pub department_path: String,
}

/// The cases whose signal changes at or before `now`, earliest first.
pub async fn due_cases(tx: &mut Tx, now: DateTime<Utc>, limit: i64) -> Result<Vec<DueCase>> {
    Ok(on_tx!(tx, |c| sqlx::query_as(
        "SELECT case_no, time_signal, yellow_on, red_on, plan_target, signal_due, venue_code, path, department_code,
           department_path
         FROM case_record WHERE signal_due IS NOT NULL AND signal_due <= $1 ORDER BY signal_due LIMIT $2"
    )
    .bind(now)
    .bind(limit)
    .fetch_all(c)
    .await?))
}

/// The earliest instant a signal changes.
pub async fn next_signal_due(db: &Db) -> Result<Option<DateTime<Utc>>> {
    Ok(on_db!(db, |c| sqlx::query_scalar("SELECT MIN(signal_due) FROM case_record WHERE signal_due IS NOT NULL")
        .fetch_one(c)
        .await?))
}

/// Moves cases whose signal was due at `was_due` to a new signal and due instant, unless someone
/// else already did (their due instant moved). Returns the cases moved.
pub async fn set_signals(
    tx: &mut Tx,
    case_nos: &[&str],
    was_due: DateTime<Utc>,
    signal: &str,
    due: Option<DateTime<Utc>>,
) -> Result<u64> {
    let mut moved = 0;
    // Numbered parameters (bound out of textual order): kept few, see PARAMS_PER_STATEMENT.
    for part in case_nos.chunks(400) {
        // $1… are the case numbers; the three values follow.
        let n = part.len();
        let sql = format!(
            // COALESCE keeps the planner on the primary key: on the signal_due index, every
            // statement would scan all the cases due at that instant.
            "UPDATE case_record SET time_signal = ${}, signal_due = ${}
             WHERE case_no IN {} AND COALESCE(signal_due, signal_due) = ${}",
            n + 1,
            n + 2,
            numbered_list(n),
            n + 3
        );
        moved += on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for case_no in part {
                q = q.bind(*case_no);
            }
            q.bind(signal).bind(due).bind(was_due).execute(c).await?.rows_affected()
        });
    }
    Ok(moved)
}

/// Green, yellow and red counts of open cases per venue, within a scope.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignalCount {
    pub venue_code: Option<String>,
    pub signal: String,
    pub cases: i64,
}

/// Open cases per venue and light. The light is red for a case with anomalies whatever its time
/// signal says (supervision::displayed).
pub async fn signal_counts(db: &Db, scope: &Scope) -> Result<Vec<SignalCount>> {
    let filter = ScopeFilter::any(scope, crate::cases::CASE_OWNERS, 1);
    let sql = format!(
        "SELECT venue_code, CASE WHEN anomalies > 0 THEN 'red' ELSE time_signal END AS signal, COUNT(*) AS cases
         FROM case_record WHERE time_signal IS NOT NULL AND {}
         GROUP BY venue_code, CASE WHEN anomalies > 0 THEN 'red' ELSE time_signal END",
        filter.sql
    );
    Ok(on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql));
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    }))
}

/// An alert on the department responsible for a subject (a case, an order, a task…).
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct AlertRow {
    pub id: String,
    pub dedup_key: String,
    #[sqlx(try_from = "String")]
    pub subject_kind: SubjectKind,
    pub subject_id: String,
    pub kind: String,
    pub message: String,
    pub venue_code: Option<String>,
    pub venue_path: String,
    pub department_code: Option<String>,
    pub department_path: String,
    pub raised_at: DateTime<Utc>,
    #[sqlx(try_from = "String")]
    #[serde(serialize_with = "crate::as_word")]
    pub status: AlertStatus,
    pub note: Option<String>,
    pub updated_at: DateTime<Utc>,
}

const ALERT_COLUMNS: &str =
    "id, dedup_key, subject_kind, subject_id, kind, message, venue_code, venue_path, department_code,
    department_path, raised_at, status, note, updated_at";
const ALERT_OWNERS: &[&str] = &["venue_path", "department_path"];

/// Raises alerts, skipping those whose key exists; returns how many were new.
pub async fn insert_alerts(tx: &mut Tx, alerts: &[AlertRow]) -> Result<u64> {
    crate::bulk::write_rows(
        tx,
        &format!("alert ({ALERT_COLUMNS})"),
        "ON CONFLICT (dedup_key) DO NOTHING",
        alerts,
        |a| {
            use crate::bulk::Cell;
            [
                Cell::Text(Some(&a.id)),
                Cell::Text(Some(&a.dedup_key)),
                Cell::Text(Some(a.subject_kind.as_str())),
                Cell::Text(Some(&a.subject_id)),
                Cell::Text(Some(&a.kind)),
                Cell::Text(Some(&a.message)),
                Cell::Text(a.venue_code.as_deref()),
                Cell::Text(Some(&a.venue_path)),
                Cell::Text(a.department_code.as_deref()),
                Cell::Text(Some(&a.department_path)),
                Cell::Time(Some(a.raised_at)),
                Cell::Text(Some(a.status.as_str())),
                Cell::Text(a.note.as_deref()),
                Cell::Time(Some(a.updated_at)),
            ]
        },
    )
    .await
}

pub async fn alert(db: &Db, id: &str) -> Result<Option<AlertRow>> {
    let sql = format!("SELECT {ALERT_COLUMNS} FROM alert WHERE id = $1");
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

pub async fn alert_tx(tx: &mut Tx, id: &str) -> Result<Option<AlertRow>> {
    let sql = format!("SELECT {ALERT_COLUMNS} FROM alert WHERE id = $1");
    Ok(on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

pub async fn set_alert_status(
    tx: &mut Tx,
    id: &str,
    status: &str,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE alert SET status = $1, note = COALESCE($2, note), updated_at = $3 WHERE id = $4"
    )
    .bind(status)
    .bind(note)
    .bind(now)
    .bind(id)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// What to list of the alerts in a scope.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter<'a> {
    pub status: Option<&'a str>,
    pub subject: Option<&'a Subject>,
}

/// The kind and id of an optional subject as bound parameters ('' for none).
fn subject_binds(subject: Option<&Subject>) -> (&'static str, &str) {
    subject.map_or(("", ""), |s| (s.kind.as_str(), s.id.as_str()))
}

/// Alerts within the scope, newest first. The conditions are written only when given, so
/// that the database walks an index in `raised_at` order and stops at the limit (a condition
/// like `$1 = '' OR status = $1` hides the index: the queues took over a second once a few
/// hundred thousand alerts were stored).
pub async fn alerts(db: &Db, scope: &Scope, f: &AlertFilter<'_>, limit: i64) -> Result<Vec<AlertRow>> {
    let filter = ScopeFilter::any(scope, ALERT_OWNERS, 5);
    let status = if f.status.is_some() { "status = $1" } else { "$1 = ''" };
    let subject = if f.subject.is_some() { "subject_kind = $2 AND subject_id = $3" } else { "$2 = '' AND $3 = ''" };
    let sql = format!(
        "SELECT {ALERT_COLUMNS} FROM alert
         WHERE {status} AND {subject} AND {}
         ORDER BY raised_at DESC, id LIMIT $4",
        filter.sql
    );
    let (kind, id) = subject_binds(f.subject);
    Ok(on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(f.status.unwrap_or("")).bind(kind).bind(id).bind(limit);
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    }))
}

/// Alert counts per status within the scope.
pub async fn alert_counts(db: &Db, scope: &Scope) -> Result<Vec<(String, i64)>> {
    let filter = ScopeFilter::any(scope, ALERT_OWNERS, 1);
    let sql = format!("SELECT status, COUNT(*) FROM alert WHERE {} GROUP BY status", filter.sql);
    Ok(on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql));
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    }))
}

/// A supervision notice (督办通知) about a subject.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct NoticeRow {
    pub id: String,
    pub number: String,
    pub alert_id: String,
    #[sqlx(try_from = "String")]
    pub subject_kind: SubjectKind,
    pub subject_id: String,
    pub department_code: Option<String>,
    pub department_path: String,
    pub venue_path: String,
    pub instruction: String,
    pub reply_by: NaiveDate,
    pub issued_by: String,
    pub issued_at: DateTime<Utc>,
    #[sqlx(try_from = "String")]
    #[serde(serialize_with = "crate::as_word")]
    pub status: NoticeStatus,
    pub card: Option<String>,
    pub updated_at: DateTime<Utc>,
}

const NOTICE_COLUMNS: &str =
    "id, number, alert_id, subject_kind, subject_id, department_code, department_path, venue_path, instruction,
    reply_by, issued_by, issued_at, status, card, updated_at";
const NOTICE_OWNERS: &[&str] = &["venue_path", "department_path"];

pub async fn insert_notice(tx: &mut Tx, n: &NoticeRow) -> Result<()> {
    let sql = format!(
        "INSERT INTO supervision_notice ({NOTICE_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    );
    on_tx!(tx, |c| sqlx::query(AssertSqlSafe(sql))
        .bind(&n.id)
        .bind(&n.number)
        .bind(&n.alert_id)
        .bind(n.subject_kind.as_str())
        .bind(&n.subject_id)
        .bind(&n.department_code)
        .bind(&n.department_path)
        .bind(&n.venue_path)
        .bind(&n.instruction)
        .bind(n.reply_by)
        .bind(&n.issued_by)
        .bind(n.issued_at)
        .bind(n.status.as_str())
        .bind(&n.card)
        .bind(n.updated_at)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

/// The next notice number of a year: 督办〔2026〕N号.
pub async fn next_notice_number(tx: &mut Tx, year: i32) -> Result<i64> {
    let name = format!("notice_{year}");
    let value: i64 = on_tx!(tx, |c| sqlx::query_scalar(
        "INSERT INTO sequence_counter (name, value) VALUES ($1, 1)
         ON CONFLICT (name) DO UPDATE SET value = sequence_counter.value + 1 RETURNING value"
    )
    .bind(name)
    .fetch_one(c)
    .await?);
    Ok(value)
}

pub async fn notice(db: &Db, id: &str) -> Result<Option<NoticeRow>> {
    let sql = format!("SELECT {NOTICE_COLUMNS} FROM supervision_notice WHERE id = $1");
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

pub async fn notice_tx(tx: &mut Tx, id: &str) -> Result<Option<NoticeRow>> {
    let sql = format!("SELECT {NOTICE_COLUMNS} FROM supervision_notice WHERE id = $1");
    Ok(on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

/// Moves a notice from `from` to `to` (a conditional update: two clicks never step twice).
pub async fn set_notice_status(
    tx: &mut Tx,
    id: &str,
    from: &str,
    to: &str,
    card: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let touched = on_tx!(tx, |c| sqlx::query(
        "UPDATE supervision_notice SET status = $1, card = $2, updated_at = $3 WHERE id = $4 AND status = $5"
    )
    .bind(to)
    .bind(card)
    .bind(now)
    .bind(id)
    .bind(from)
    .execute(c)
    .await?
    .rows_affected());
    Ok(touched == 1)
}

/// Notices within the scope (newest first), optionally only those of a subject.
pub async fn notices(db: &Db, scope: &Scope, subject: Option<&Subject>, limit: i64) -> Result<Vec<NoticeRow>> {
    let filter = ScopeFilter::any(scope, NOTICE_OWNERS, 4);
    let of_subject = if subject.is_some() { "subject_kind = $1 AND subject_id = $2" } else { "$1 = '' AND $2 = ''" };
    let sql = format!(
        "SELECT {NOTICE_COLUMNS} FROM supervision_notice
         WHERE {of_subject} AND {}
         ORDER BY issued_at DESC, id LIMIT $3",
        filter.sql
    );
    let (kind, id) = subject_binds(subject);
    Ok(on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(kind).bind(id).bind(limit);
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    }))
}

/// A step of a notice's life.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct StepRow {
    pub id: String,
    pub notice_id: String,
    pub step: String,
    pub note: String,
    pub actor: String,
    pub actor_name: String,
    pub at: DateTime<Utc>,
}

pub async fn insert_step(tx: &mut Tx, s: &StepRow) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO supervision_step (id, notice_id, step, note, actor, actor_name, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(&s.id)
    .bind(&s.notice_id)
    .bind(&s.step)
    .bind(&s.note)
    .bind(&s.actor)
    .bind(&s.actor_name)
    .bind(s.at)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// The steps of the notices of a subject (or of one notice), in time order.
pub async fn steps(db: &Db, subject: Option<&Subject>, notice_id: Option<&str>) -> Result<Vec<StepRow>> {
    let (kind, id) = subject_binds(subject);
    Ok(on_db!(db, |c| sqlx::query_as(
        "SELECT s.id, s.notice_id, s.step, s.note, s.actor, s.actor_name, s.at
         FROM supervision_step s JOIN supervision_notice n ON n.id = s.notice_id
         WHERE ($1 = '' OR (n.subject_kind = $1 AND n.subject_id = $2)) AND ($3 = '' OR s.notice_id = $3)
         ORDER BY s.at, s.id"
    )
    .bind(kind)
    .bind(id)
    .bind(notice_id.unwrap_or(""))
    .fetch_all(c)
    .await?))
}

/// Per department: the notices issued to it from `from` (included) to `until` (excluded).
pub async fn notices_by_department(
    db: &Db,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<(Option<String>, i64)>> {
    Ok(on_db!(db, |c| sqlx::query_as(
        "SELECT department_code, COUNT(*) FROM supervision_notice WHERE issued_at >= $1 AND issued_at < $2
         GROUP BY department_code"
    )
    .bind(from)
    .bind(until)
    .fetch_all(c)
    .await?))
}

/// Per department and card step (`yellow_card`, `red_card`): the cards given from `from`
/// (included) to `until` (excluded), less those an upheld appeal revoked.
pub async fn cards_by_department(
    db: &Db,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<(Option<String>, String, i64)>> {
    Ok(on_db!(db, |c| sqlx::query_as(
        "SELECT n.department_code, s.step, COUNT(*) FROM supervision_step s
         JOIN supervision_notice n ON n.id = s.notice_id
         WHERE s.step IN ('yellow_card', 'red_card') AND s.at >= $1 AND s.at < $2 AND n.status NOT LIKE 'revoked%'
         GROUP BY n.department_code, s.step"
    )
    .bind(from)
    .bind(until)
    .fetch_all(c)
    .await?))
}

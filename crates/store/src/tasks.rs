//! Key tasks: their append-only events and each task's record as of today.

use chrono::{DateTime, NaiveDate, Utc};
use oversight_domain::access::Scope;
use oversight_domain::task::TaskStatus;
use sqlx::AssertSqlSafe;

use crate::bulk::{self, Cell, columns};
use crate::cases::{in_list, select_in};
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

columns! {
    fn event_cells(e: &TaskEventRow) -> EVENT_COLUMN_NAMES {
        "event_id" => Cell::Text(Some(&e.event_id)),
        "task_no" => Cell::Text(Some(&e.task_no)),
        "type" => Cell::Text(Some(&e.r#type)),
        "at" => Cell::Time(Some(e.at)),
        "local_date" => Cell::Date(Some(e.local_date)),
        "arrival" => Cell::Big(Some(e.arrival)),
        "reported_at" => Cell::Time(Some(e.reported_at)),
        "content" => Cell::Text(Some(&e.content)),
        "source" => Cell::Text(Some(&e.source)),
    }
}

const EVENT_COLUMNS: &str = "event_id, task_no, type, at, local_date, arrival, reported_at, content, source";

/// Stores the events whose id is new; returns the others (by their index in `events`) with
/// the stored content, to tell a duplicate from a conflict. The ids within `events` differ.
pub async fn insert_new_events(tx: &mut Tx, events: &[TaskEventRow]) -> Result<Vec<(usize, String)>> {
    debug_assert_eq!(EVENT_COLUMN_NAMES.join(", "), EVENT_COLUMNS);
    bulk::insert_new_events(tx, "task_event", EVENT_COLUMNS, events, event_cells, |e| &e.event_id).await
}

/// The events of several tasks, each task's in arrival order.
pub async fn events_of_tasks(tx: &mut Tx, task_nos: &[&str]) -> Result<Vec<TaskEventRow>> {
    select_in(tx, task_nos, |list| {
        format!("SELECT {EVENT_COLUMNS} FROM task_event WHERE task_no IN {list} ORDER BY task_no, arrival")
    })
    .await
}

/// The records of several tasks (those stored).
pub async fn records_of(tx: &mut Tx, task_nos: &[&str]) -> Result<Vec<TaskRecord>> {
    select_in(tx, task_nos, |list| format!("SELECT {RECORD_COLUMNS} FROM task_record WHERE task_no IN {list}")).await
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

columns! {
    fn record_cells(r: &TaskRecord) -> RECORD_COLUMN_NAMES {
        "task_no" => Cell::Text(Some(&r.task_no)),
        "title" => Cell::Text(r.title.as_deref()),
        "origin" => Cell::Text(r.origin.as_deref()),
        "lead_department_code" => Cell::Text(r.lead_department_code.as_deref()),
        "path" => Cell::Text(Some(&r.path)),
        "status" => Cell::Text(Some(r.status.as_str())),
        "assigned_on" => Cell::Date(r.assigned_on),
        "due" => Cell::Date(r.due),
        "closed_on" => Cell::Date(r.closed_on),
        "anomalies" => Cell::Big(Some(r.anomalies)),
        "light" => Cell::Text(r.light.as_deref()),
        "light_since" => Cell::Date(r.light_since),
        "light_due" => Cell::Date(r.light_due),
        "updated_at" => Cell::Time(Some(r.updated_at)),
    }
}

/// Stores tasks' records, new or again.
pub async fn upsert_records(tx: &mut Tx, records: &[TaskRecord]) -> Result<()> {
    let updates: Vec<String> = RECORD_COLUMN_NAMES[1..].iter().map(|c| format!("{c} = excluded.{c}")).collect();
    let tail = format!("ON CONFLICT (task_no) DO UPDATE SET {}", updates.join(", "));
    bulk::write_rows(tx, &format!("task_record ({})", RECORD_COLUMN_NAMES.join(", ")), &tail, records, record_cells)
        .await?;
    Ok(())
}

/// A span of days over which a task is in one phase (`oversight_domain::task::Phase`), with
/// what the tasks report groups it by.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PhaseRow {
    pub task_no: String,
    pub phase: String,
    pub from_day: NaiveDate,
    pub until_day: Option<NaiveDate>,
    pub path: String,
    pub lead_department_code: Option<String>,
    pub origin: Option<String>,
}

columns! {
    fn phase_cells(p: &PhaseRow) -> PHASE_COLUMNS {
        "task_no" => Cell::Text(Some(&p.task_no)),
        "phase" => Cell::Text(Some(&p.phase)),
        "from_day" => Cell::Date(Some(p.from_day)),
        "until_day" => Cell::Date(p.until_day),
        "path" => Cell::Text(Some(&p.path)),
        "lead_department_code" => Cell::Text(p.lead_department_code.as_deref()),
        "origin" => Cell::Text(p.origin.as_deref()),
    }
}

/// Replaces the phases and co-operating departments (task number, path) of the tasks
/// `task_nos` with `phases` and `parties`.
pub async fn replace_phases_and_parties(
    tx: &mut Tx,
    task_nos: &[&str],
    phases: &[PhaseRow],
    parties: &[(String, String)],
) -> Result<()> {
    for table in ["task_phase", "task_party"] {
        if let Tx::Postgres(t) = tx {
            // One statement for the whole chunk: an array is a single parameter.
            let sql = format!("DELETE FROM {table} WHERE task_no = ANY($1)");
            sqlx::query(AssertSqlSafe(sql)).bind(task_nos).execute(&mut **t).await?;
            continue;
        }
        for part in task_nos.chunks(crate::cases::PARAMS_PER_STATEMENT) {
            let sql = format!("DELETE FROM {table} WHERE task_no IN {}", in_list(tx, part.len()));
            on_tx!(tx, |c| {
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for k in part {
                    q = q.bind(*k);
                }
                q.execute(c).await?.rows_affected()
            });
        }
    }
    let pieces: Vec<PhaseRow> = phases.iter().flat_map(pieces).collect();
    bulk::write_rows(tx, &format!("task_phase ({})", PHASE_COLUMNS.join(", ")), "", &pieces, phase_cells).await?;
    bulk::write_rows(tx, "task_party (task_no, path)", "", parties, |(t, p)| {
        [Cell::Text(Some(t.as_str())), Cell::Text(Some(p.as_str()))]
    })
    .await?;
    Ok(())
}

/// After a large import on PostgreSQL: the planner's statistics and the visibility map of the
/// tasks' tables brought up to date at once (autovacuum would come later), so the report reads
/// the verifications from its index alone rather than from every row just written. Nothing to
/// do on SQLite.
pub async fn after_bulk_load(db: &Db) -> Result<()> {
    if let Db::Postgres(pool) = db {
        sqlx::query("VACUUM (ANALYZE) task_phase, task_record").execute(pool).await?;
    }
    Ok(())
}

/// For the benchmark, on PostgreSQL: how long the server itself takes to store the task
/// events and phase pieces now stored again, copied server-side (no parsing, no network, no
/// conflict checks) into empty tables with the same indexes, in one transaction that is rolled
/// back: the least any import of those rows can take. `None` on SQLite.
pub async fn storage_floor(db: &Db) -> Result<Option<std::time::Duration>> {
    let Db::Postgres(pool) = db else { return Ok(None) };
    let mut tx = pool.begin().await?;
    for table in ["task_event", "task_phase"] {
        // Not temporary: written to the WAL and through shared buffers as the real tables are.
        let sql = format!("CREATE TABLE floor_{table} (LIKE {table} INCLUDING ALL)");
        sqlx::query(AssertSqlSafe(sql)).execute(&mut *tx).await?;
    }
    let started = std::time::Instant::now();
    for table in ["task_event", "task_phase"] {
        let sql = format!("INSERT INTO floor_{table} SELECT * FROM {table}");
        sqlx::query(AssertSqlSafe(sql)).execute(&mut *tx).await?;
    }
    let took = started.elapsed();
    tx.rollback().await?;
    Ok(Some(took))
}

/// The longest piece of a span stored (migrations/*/0022_task_phases.sql).
const PIECE_DAYS: u64 = 31;

/// A span with an end, cut into pieces of at most [`PIECE_DAYS`] days.
fn pieces(p: &PhaseRow) -> Vec<PhaseRow> {
    let Some(until) = p.until_day else { return vec![p.clone()] };
    let mut out = Vec::new();
    let mut from = p.from_day;
    while from < until {
        let end = (from + chrono::Days::new(PIECE_DAYS)).min(until);
        out.push(PhaseRow { from_day: from, until_day: Some(end), ..p.clone() });
        from = end;
    }
    out
}

/// How many tasks of the scope (by their lead department) are in each phase, by `key` (the
/// lead department's code or the origin; none: one line): the phases of tasks not closed
/// holding on `to`, and the verifications dated `from`..=`to`. Three lookups: the pieces of
/// spans with an end that begin in the [`PIECE_DAYS`] days up to `to`, the spans without an
/// end, and the verifications.
pub async fn phase_counts(
    db: &Db,
    scope: &Scope,
    from: NaiveDate,
    to: NaiveDate,
    key: Option<PhaseKey>,
) -> Result<Vec<(Option<String>, String, i64)>> {
    // PostgreSQL refuses a constant in GROUP BY: with no key, the lines group by phase alone.
    let (key, group) = match key {
        Some(PhaseKey::LeadDepartment) => ("lead_department_code", "lead_department_code, phase"),
        Some(PhaseKey::Origin) => ("origin", "origin, phase"),
        None => ("CAST(NULL AS TEXT)", "phase"),
    };
    let earliest = to - chrono::Days::new(PIECE_DAYS - 1);
    let beginning = NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or(earliest);
    let open = "('green', 'yellow', 'red', 'awaiting_verification')";
    let mut out = Vec::new();
    for (condition, first, last) in [
        (format!("from_day >= $1 AND from_day <= $2 AND until_day > $2 AND phase IN {open}"), earliest, to),
        (format!("until_day IS NULL AND phase IN {open} AND from_day >= $1 AND from_day <= $2"), beginning, to),
        (
            "until_day IS NULL AND phase IN ('verified_on_time', 'verified_late') AND from_day >= $1 AND from_day <= $2"
                .to_string(),
            from,
            to,
        ),
    ] {
        let filter = ScopeFilter::new(scope, "path", 3);
        let sql = format!(
            "SELECT {key}, phase, COUNT(*) FROM task_phase WHERE {condition} AND {} GROUP BY {group}",
            filter.sql
        );
        let rows: Vec<(Option<String>, String, i64)> = on_db!(db, |c| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(first).bind(last);
            for b in &filter.binds {
                q = q.bind(b.clone());
            }
            q.fetch_all(c).await?
        });
        out.extend(rows);
    }
    Ok(out)
}

/// What the tasks report may group phases by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseKey {
    LeadDepartment,
    Origin,
}

/// The tasks with an assignment but no phase stored (stored before phases were kept).
pub async fn without_phases(db: &Db) -> Result<Vec<String>> {
    let sql = "SELECT r.task_no FROM task_record r
               WHERE r.assigned_on IS NOT NULL AND NOT EXISTS (SELECT 1 FROM task_phase p WHERE p.task_no = r.task_no)
               ORDER BY r.task_no";
    Ok(on_db!(db, |c| sqlx::query_scalar(sql).fetch_all(c).await?))
}

/// Every task's number.
pub async fn all_task_nos(db: &Db) -> Result<Vec<String>> {
    Ok(on_db!(db, |c| sqlx::query_scalar("SELECT task_no FROM task_record ORDER BY task_no").fetch_all(c).await?))
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

/// A leader's flag on a key task (挂牌督办), standing until lifted.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct FlagRow {
    pub id: String,
    pub task_no: String,
    /// The leader's audit label (`user:…`) and name.
    pub leader: String,
    pub leader_name: String,
    /// The leader's instruction (批示).
    pub note: String,
    pub flagged_at: DateTime<Utc>,
    pub lifted_at: Option<DateTime<Utc>>,
}

const FLAG_COLUMNS: &str = "id, task_no, leader, leader_name, note, flagged_at, lifted_at";

pub async fn insert_flag(tx: &mut Tx, f: &FlagRow) -> Result<()> {
    let sql = format!("INSERT INTO task_flag ({FLAG_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)");
    on_tx!(tx, |c| sqlx::query(AssertSqlSafe(sql))
        .bind(&f.id)
        .bind(&f.task_no)
        .bind(&f.leader)
        .bind(&f.leader_name)
        .bind(&f.note)
        .bind(f.flagged_at)
        .bind(f.lifted_at)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

/// Lifts `leader`'s standing flag on a task; whether there was one.
pub async fn lift_flag(tx: &mut Tx, task_no: &str, leader: &str, at: DateTime<Utc>) -> Result<bool> {
    let sql = "UPDATE task_flag SET lifted_at = $1 WHERE task_no = $2 AND leader = $3 AND lifted_at IS NULL";
    let n = on_tx!(tx, |c| sqlx::query(sql).bind(at).bind(task_no).bind(leader).execute(c).await?.rows_affected());
    Ok(n > 0)
}

/// Whether `leader` has a standing flag on the task (read in the transaction that adds one).
pub async fn has_flag(tx: &mut Tx, task_no: &str, leader: &str) -> Result<bool> {
    let sql = "SELECT COUNT(*) FROM task_flag WHERE task_no = $1 AND leader = $2 AND lifted_at IS NULL";
    let n: i64 = on_tx!(tx, |c| sqlx::query_scalar(sql).bind(task_no).bind(leader).fetch_one(c).await?);
    Ok(n > 0)
}

/// A task's flags, standing and lifted, the latest first.
pub async fn flags_of_task(db: &Db, task_no: &str) -> Result<Vec<FlagRow>> {
    let sql = format!("SELECT {FLAG_COLUMNS} FROM task_flag WHERE task_no = $1 ORDER BY flagged_at DESC, id");
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(task_no).fetch_all(c).await?))
}

/// The standing flags, of one leader or (`None`) of all, the latest first.
pub async fn standing_flags(db: &Db, leader: Option<&str>) -> Result<Vec<FlagRow>> {
    let sql = format!(
        "SELECT {FLAG_COLUMNS} FROM task_flag WHERE lifted_at IS NULL AND ($1 IS NULL OR leader = $1)
         ORDER BY flagged_at DESC, id"
    );
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(leader).fetch_all(c).await?))
}

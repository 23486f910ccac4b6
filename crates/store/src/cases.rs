//! Case events (append-only) and the case records projected from them.

use chrono::{DateTime, NaiveDate, Utc};
use oversight_domain::access::Scope;
use oversight_domain::rating::{RatingCounts, Standing};
use sqlx::AssertSqlSafe;

use crate::bulk::{self, Cell};
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
    /// The subtrees the sending system may report for (space-separated paths); `None`: anywhere.
    pub sender_scope: Option<String>,
}

/// `($1, $2, …), (…)`: placeholders of a multi-row statement of `rows` × `cols`, bound in order.
/// On SQLite they are anonymous (`?`): SQLite finds a named parameter by a linear scan of the
/// names and sqlx asks for every one, so named ones cost the square of their number.
pub(crate) fn placeholders(tx: &Tx, rows: usize, cols: usize) -> String {
    if tx.is_sqlite() {
        let row = format!("({})", vec!["?"; cols].join(", "));
        vec![row; rows].join(", ")
    } else {
        bulk::numbered_rows(rows, cols)
    }
}

/// Parameters per statement: each statement costs a round trip to the database, so bulk
/// statements are large. Numbered parameters on SQLite cost the square of their number (46 % of
/// an import's time at 1,800), hence anonymous ones there. Import measured: numbered 400 →
/// 25k events/s, anonymous 400 → 25k, anonymous 2,000 → 28k.
pub(crate) const PARAMS_PER_STATEMENT: usize = 2000;

/// `($1, $2, …, $n)`, the first parameters of a statement, bound in order (`?` on SQLite, as
/// for [`placeholders`]).
pub(crate) fn in_list(tx: &Tx, n: usize) -> String {
    placeholders(tx, 1, n)
}

/// Rows of a `… IN (keys)` query over any number of keys, in statements of
/// [`PARAMS_PER_STATEMENT`] keys; `sql` makes the statement around the parameter list.
pub(crate) async fn select_in<T>(tx: &mut Tx, keys: &[&str], sql: impl Fn(&str) -> String) -> Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    let mut out = Vec::new();
    for part in keys.chunks(PARAMS_PER_STATEMENT) {
        let sql = sql(&in_list(tx, part.len()));
        let rows: Vec<T> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql));
            for k in part {
                q = q.bind(*k);
            }
            q.fetch_all(c).await?
        });
        out.extend(rows);
    }
    Ok(out)
}

/// `($1, …, $n)` with numbered parameters, for statements that bind out of textual order.
pub(crate) fn numbered_list(n: usize) -> String {
    format!("({})", (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", "))
}

/// Makes `tx` the only transaction writing cases until it ends, before it reads any: a writer
/// projects a case from what it reads of it, so two at once (PostgreSQL: several connections
/// or instances; SQLite: another process) would each miss the other's events and count the
/// case's tallies twice. Takes the write lock of the arrival counter's row, which every
/// writer of cases takes; what the transaction reads afterwards includes everything committed
/// before it got the lock (a new snapshot per statement on PostgreSQL, the latest on SQLite).
pub async fn lock_case_writes(tx: &mut Tx) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query("UPDATE sequence_counter SET value = value WHERE name = 'case_event_arrival'").execute(c).await?;
    });
    Ok(())
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

/// An event to store; the time it was reported and its source are the whole batch's.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_id: String,
    pub case_no: String,
    pub r#type: &'static str,
    pub at: DateTime<Utc>,
    pub local_date: NaiveDate,
    pub arrival: i64,
    pub content: String,
}

/// Stores the events whose id is new, reported at `reported_at` (`None`: each as reported when
/// it happened, for a historical import) by `source`. Returns the
/// events whose id was stored already (by their index in `events`) with the stored content,
/// to tell a duplicate from a conflict. The ids within `events` must differ.
pub async fn insert_new_events(
    tx: &mut Tx,
    events: &[NewEvent],
    reported_at: Option<DateTime<Utc>>,
    source: Sender<'_>,
) -> Result<Vec<(usize, String)>> {
    let event_cells = |e| event_cells(e, reported_at, source);
    bulk::insert_new_events(tx, "case_event", EVENT_COLUMNS, events, event_cells, |e| &e.event_id).await
}

/// Who sent events: the audit label of the system, and the subtrees it may report for
/// (space-separated paths; `None`: anywhere).
#[derive(Debug, Clone, Copy)]
pub struct Sender<'a> {
    pub label: &'a str,
    pub scope: Option<&'a str>,
}

fn event_cells<'a>(e: &'a NewEvent, reported_at: Option<DateTime<Utc>>, source: Sender<'a>) -> [Cell<'a>; 10] {
    [
        Cell::Text(Some(&e.event_id)),
        Cell::Text(Some(&e.case_no)),
        Cell::Text(Some(e.r#type)),
        Cell::Time(Some(e.at)),
        Cell::Date(Some(e.local_date)),
        Cell::Big(Some(e.arrival)),
        Cell::Time(Some(reported_at.unwrap_or(e.at))),
        Cell::Text(Some(&e.content)),
        Cell::Text(Some(source.label)),
        Cell::Text(source.scope),
    ]
}

const EVENT_COLUMNS: &str =
    "event_id, case_no, type, at, local_date, arrival, reported_at, content, source, sender_scope";

/// The events of several cases, each case's in time order.
pub async fn events_of_cases(tx: &mut Tx, case_nos: &[&str]) -> Result<Vec<EventRow>> {
    select_in(tx, case_nos, |list| {
        format!("SELECT {EVENT_COLUMNS} FROM case_event WHERE case_no IN {list} ORDER BY case_no, at, arrival")
    })
    .await
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
    pub updated_at: DateTime<Utc>,
    /// The path of the department responsible for the item (it sees the case too).
    pub department_path: String,
    /// The time signal of an open case; none once closed.
    pub time_signal: Option<String>,
    pub yellow_on: Option<NaiveDate>,
    pub red_on: Option<NaiveDate>,
    /// What the plan's deadline is for (`decision`, `acceptance`, `receipt`).
    pub plan_target: String,
    /// When the time signal next changes.
    pub signal_due: Option<DateTime<Utc>>,
    /// The applicant's rating (1–5; −1 on a case rated before records kept ratings, until it
    /// is projected again), whether the platform recorded it as a default, and its day.
    pub rating_level: Option<i32>,
    pub rating_default: bool,
    pub rated_on: Option<NaiveDate>,
    /// What a bad rating's follow-up made of it (`Standing::as_str`): kept across projections.
    pub rating_standing: String,
}

impl CaseRecord {
    /// The rating's level and whether it was a default, if the case has a rating.
    pub fn rating(&self) -> Option<(u8, bool)> {
        let level = self.rating_level.filter(|l| (1..=5).contains(l))?;
        Some((level as u8, self.rating_default))
    }

    /// Whether the case's rating is a bad one (差评).
    pub fn has_bad_rating(&self) -> bool {
        self.rating().is_some_and(|(level, _)| oversight_domain::rating::is_bad(level))
    }
}

pub async fn upsert_cases(tx: &mut Tx, records: &[CaseRecord]) -> Result<()> {
    let updates: Vec<String> =
        CASE_COLUMNS.split(',').map(str::trim).skip(1).map(|c| format!("{c} = excluded.{c}")).collect();
    let tail = format!("ON CONFLICT (case_no) DO UPDATE SET {}", updates.join(", "));
    bulk::write_rows(tx, &format!("case_record ({CASE_COLUMNS})"), &tail, records, |r| {
        [
            Cell::Text(Some(&r.case_no)),
            Cell::Text(Some(&r.status)),
            Cell::Text(r.item_code.as_deref()),
            Cell::Text(r.department_code.as_deref()),
            Cell::Text(r.venue_code.as_deref()),
            Cell::Int(r.level),
            Cell::Text(Some(&r.path)),
            Cell::Date(r.received_on),
            Cell::Date(r.accepted_on),
            Cell::Date(r.ended_on),
            Cell::Date(r.deadline),
            Cell::Int(Some(r.limit_days)),
            Cell::Int(Some(r.stopped_days)),
            Cell::Date(r.stopped_since),
            Cell::Text(Some(&r.outcome)),
            Cell::Date(r.outcome_date),
            Cell::Int(Some(r.anomalies)),
            Cell::Time(Some(r.updated_at)),
            Cell::Text(Some(&r.department_path)),
            Cell::Text(r.time_signal.as_deref()),
            Cell::Date(r.yellow_on),
            Cell::Date(r.red_on),
            Cell::Text(Some(&r.plan_target)),
            Cell::Time(r.signal_due),
            Cell::Int(r.rating_level),
            Cell::Bool(Some(r.rating_default)),
            Cell::Date(r.rated_on),
            Cell::Text(Some(&r.rating_standing)),
        ]
    })
    .await?;
    Ok(())
}

/// A case belongs to its venue and to the department responsible for its item.
pub const CASE_OWNERS: &[&str] = &["path", "department_path"];

/// A tally row belongs to the same two, named by code.
const TALLY_OWNERS: &[&str] = &["venue_code", "department_code"];

const CASE_COLUMNS: &str =
    "case_no, status, item_code, department_code, venue_code, level, path, received_on, accepted_on,
    ended_on, deadline, limit_days, stopped_days, stopped_since, outcome, outcome_date, anomalies, updated_at,
    department_path, time_signal, yellow_on, red_on, plan_target, signal_due, rating_level, rating_default, rated_on,
    rating_standing";

pub async fn case(db: &Db, case_no: &str) -> Result<Option<CaseRecord>> {
    let sql = format!("SELECT {CASE_COLUMNS} FROM case_record WHERE case_no = $1");
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(case_no).fetch_optional(c).await?))
}

/// The stored records of those cases that exist: where each belongs (a department system may
/// only touch cases of its venues) and what it contributed to the tallies.
pub async fn prior_cases(tx: &mut Tx, case_nos: &[&str]) -> Result<Vec<CaseRecord>> {
    select_in(tx, case_nos, |list| format!("SELECT {CASE_COLUMNS} FROM case_record WHERE case_no IN {list}")).await
}

/// The cases whose outcome is not settled and may still be (`running`, or `unsettled` in a
/// status other than `ended_undecided`), in case order.
pub async fn unsettled_case_nos(db: &Db, ended_undecided: &[&str]) -> Result<Vec<String>> {
    let sql = format!(
        "SELECT case_no FROM case_record
         WHERE outcome = 'running' OR (outcome = 'unsettled' AND status NOT IN {})
         ORDER BY case_no",
        numbered_list(ended_undecided.len())
    );
    Ok(on_db!(db, |c| {
        let mut q = sqlx::query_scalar(AssertSqlSafe(sql));
        for status in ended_undecided {
            q = q.bind(*status);
        }
        q.fetch_all(c).await?
    }))
}

/// The cases rated before their records kept ratings (marked −1 by the migration).
pub async fn rated_without_rating(db: &Db) -> Result<Vec<String>> {
    Ok(on_db!(db, |c| sqlx::query_scalar("SELECT case_no FROM case_record WHERE rating_level = -1 ORDER BY case_no")
        .fetch_all(c)
        .await?))
}

/// A month's (`YYYY-MM`) or a day's (`YYYY-MM-DD`) count for one venue, department and item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TallyKey {
    pub period: String,
    pub venue_code: String,
    pub department_code: String,
    pub item_code: String,
}

/// A change to one tally row.
#[derive(Debug, Clone, Default)]
pub struct TallyDelta {
    pub level: i32,
    pub on_time: i64,
    pub overdue: i64,
}

/// A change to one row of the ratings' tally: the fields of [`RatingCounts`], flat.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RatingDelta {
    pub completed: i64,
    pub rated: i64,
    pub active: i64,
    pub levels: [i64; 5],
    pub set_aside: i64,
    pub bad_rectified_on_time: i64,
}

impl RatingDelta {
    fn add(&mut self, sign: i64, c: &RatingCounts) {
        self.completed += sign * c.completed;
        self.rated += sign * c.rated;
        self.active += sign * c.active;
        for (i, n) in self.levels.iter_mut().enumerate() {
            *n += sign * c.by_level.get(&(i + 1).to_string()).copied().unwrap_or(0);
        }
        self.set_aside += sign * c.set_aside;
        self.bad_rectified_on_time += sign * c.bad_rectified_on_time;
    }

    /// The counts this row holds, good / fair / bad derived from the levels.
    pub fn counts(&self) -> RatingCounts {
        RatingCounts {
            completed: self.completed,
            rated: self.rated,
            active: self.active,
            by_level: self.levels.iter().enumerate().map(|(i, n)| ((i + 1).to_string(), *n)).collect(),
            good: self.levels[3] + self.levels[4],
            fair: self.levels[2],
            bad: self.levels[0] + self.levels[1],
            set_aside: self.set_aside,
            bad_rectified_on_time: self.bad_rectified_on_time,
        }
    }
}

/// What a batch of projections changes in the tallies: settled cases (the overdue report) and
/// completed cases with their ratings (the ratings report).
#[derive(Debug, Default)]
pub struct Tally {
    pub cases: std::collections::BTreeMap<TallyKey, TallyDelta>,
    pub ratings: std::collections::BTreeMap<TallyKey, RatingDelta>,
}

impl Tally {
    pub fn new() -> Tally {
        Tally::default()
    }
}

fn tally_keys(case: &CaseRecord, date: NaiveDate) -> [TallyKey; 2] {
    [date.format("%Y-%m").to_string(), date.to_string()].map(|period| TallyKey {
        period,
        venue_code: case.venue_code.clone().unwrap_or_default(),
        department_code: case.department_code.clone().unwrap_or_default(),
        item_code: case.item_code.clone().unwrap_or_default(),
    })
}

/// Adds a case's contribution to the tallies (`sign` +1 for its new state, −1 for its old):
/// only settled cases (on time, overdue) count in the first (running ones are read from
/// case_record), and only completed ones, by the day they were completed, in the second.
pub fn add_to_tally(tally: &mut Tally, sign: i64, case: &CaseRecord) {
    if let Some(date) = case.ended_on
        && matches!(case.status.as_str(), "approved" | "rejected")
    {
        let mut one = RatingCounts::default();
        one.add(case.rating(), Standing::parse(&case.rating_standing));
        for key in tally_keys(case, date) {
            tally.ratings.entry(key).or_default().add(sign, &one);
        }
    }
    let Some(date) = case.outcome_date else { return };
    let (on_time, overdue) = match case.outcome.as_str() {
        "on_time" => (sign, 0),
        "overdue" => (0, sign),
        _ => return,
    };
    for key in tally_keys(case, date) {
        let d = tally
            .cases
            .entry(key)
            .or_insert_with(|| TallyDelta { level: case.level.unwrap_or(0), ..TallyDelta::default() });
        d.on_time += on_time;
        d.overdue += overdue;
    }
}

/// Applies tally changes (rows that net to zero are skipped).
pub async fn apply_tally(tx: &mut Tx, tally: &Tally) -> Result<()> {
    let rows: Vec<(&TallyKey, &TallyDelta)> =
        tally.cases.iter().filter(|(_, d)| d.on_time != 0 || d.overdue != 0).collect();
    bulk::write_rows(
        tx,
        "case_tally (period, venue_code, department_code, item_code, level, on_time, overdue)",
        "ON CONFLICT (period, venue_code, department_code, item_code) DO UPDATE SET
           on_time = case_tally.on_time + excluded.on_time, overdue = case_tally.overdue + excluded.overdue",
        &rows,
        |(k, d)| {
            [
                Cell::Text(Some(&k.period)),
                Cell::Text(Some(&k.venue_code)),
                Cell::Text(Some(&k.department_code)),
                Cell::Text(Some(&k.item_code)),
                Cell::Int(Some(d.level)),
                Cell::Big(Some(d.on_time)),
                Cell::Big(Some(d.overdue)),
            ]
        },
    )
    .await?;
    let zero = RatingDelta::default();
    let rows: Vec<(&TallyKey, &RatingDelta)> = tally.ratings.iter().filter(|(_, d)| **d != zero).collect();
    let sums: Vec<String> =
        RATING_TALLY_COUNTS.iter().map(|c| format!("{c} = rating_tally.{c} + excluded.{c}")).collect();
    bulk::write_rows(
        tx,
        &format!("rating_tally (period, venue_code, department_code, item_code, {})", RATING_TALLY_COUNTS.join(", ")),
        &format!("ON CONFLICT (period, venue_code, department_code, item_code) DO UPDATE SET {}", sums.join(", ")),
        &rows,
        |(k, d)| {
            [
                Cell::Text(Some(&k.period)),
                Cell::Text(Some(&k.venue_code)),
                Cell::Text(Some(&k.department_code)),
                Cell::Text(Some(&k.item_code)),
                Cell::Big(Some(d.completed)),
                Cell::Big(Some(d.rated)),
                Cell::Big(Some(d.active)),
                Cell::Big(Some(d.levels[0])),
                Cell::Big(Some(d.levels[1])),
                Cell::Big(Some(d.levels[2])),
                Cell::Big(Some(d.levels[3])),
                Cell::Big(Some(d.levels[4])),
                Cell::Big(Some(d.set_aside)),
                Cell::Big(Some(d.bad_rectified_on_time)),
            ]
        },
    )
    .await?;
    Ok(())
}

/// The count columns of `rating_tally`, in the order of [`RatingDelta`]'s fields.
const RATING_TALLY_COUNTS: [&str; 10] = [
    "completed",
    "rated",
    "active",
    "level1",
    "level2",
    "level3",
    "level4",
    "level5",
    "set_aside",
    "bad_rectified_on_time",
];

/// Recounts the tallies from case_record (after bulk loads that bypass ingestion).
pub async fn rebuild_tally(db: &Db) -> Result<()> {
    let (month, day) = match db.backend() {
        crate::Backend::Sqlite => ("substr(outcome_date, 1, 7)", "CAST(outcome_date AS TEXT)"),
        crate::Backend::Postgres => ("to_char(outcome_date, 'YYYY-MM')", "to_char(outcome_date, 'YYYY-MM-DD')"),
    };
    crate::execute_raw(db, "DELETE FROM case_tally").await?;
    for period in [month, day] {
        crate::execute_raw(
            db,
            &format!(
                "INSERT INTO case_tally (period, venue_code, department_code, item_code, level, on_time, overdue)
                 SELECT {period}, COALESCE(venue_code, ''), COALESCE(department_code, ''), COALESCE(item_code, ''),
                   COALESCE(MAX(level), 0),
                   SUM(CASE WHEN outcome = 'on_time' THEN 1 ELSE 0 END),
                   SUM(CASE WHEN outcome = 'overdue' THEN 1 ELSE 0 END)
                 FROM case_record WHERE outcome IN ('on_time', 'overdue')
                 GROUP BY {period}, COALESCE(venue_code, ''), COALESCE(department_code, ''), COALESCE(item_code, '')"
            ),
        )
        .await?;
    }
    let (month, day) = match db.backend() {
        crate::Backend::Sqlite => ("substr(ended_on, 1, 7)", "CAST(ended_on AS TEXT)"),
        crate::Backend::Postgres => ("to_char(ended_on, 'YYYY-MM')", "to_char(ended_on, 'YYYY-MM-DD')"),
    };
    crate::execute_raw(db, "DELETE FROM rating_tally").await?;
    // A bad rating set aside counts in set_aside alone (RatingCounts::add).
    let kept = "rating_level IS NOT NULL AND NOT (rating_level <= 2 AND rating_standing = 'set_aside')";
    for period in [month, day] {
        crate::execute_raw(
            db,
            &format!(
                "INSERT INTO rating_tally (period, venue_code, department_code, item_code, {counts})
                 SELECT {period}, COALESCE(venue_code, ''), COALESCE(department_code, ''), COALESCE(item_code, ''),
                   COUNT(*),
                   SUM(CASE WHEN {kept} THEN 1 ELSE 0 END),
                   SUM(CASE WHEN {kept} AND NOT rating_default THEN 1 ELSE 0 END),
                   SUM(CASE WHEN {kept} AND rating_level = 1 THEN 1 ELSE 0 END),
                   SUM(CASE WHEN {kept} AND rating_level = 2 THEN 1 ELSE 0 END),
                   SUM(CASE WHEN rating_level = 3 THEN 1 ELSE 0 END),
                   SUM(CASE WHEN rating_level = 4 THEN 1 ELSE 0 END),
                   SUM(CASE WHEN rating_level = 5 THEN 1 ELSE 0 END),
                   SUM(CASE WHEN rating_level <= 2 AND rating_standing = 'set_aside' THEN 1 ELSE 0 END),
                   SUM(CASE WHEN rating_level <= 2 AND rating_standing = 'rectified_on_time' THEN 1 ELSE 0 END)
                 FROM case_record WHERE status IN ('approved', 'rejected') AND ended_on IS NOT NULL
                 GROUP BY {period}, COALESCE(venue_code, ''), COALESCE(department_code, ''), COALESCE(item_code, '')",
                counts = RATING_TALLY_COUNTS.join(", ")
            ),
        )
        .await?;
    }
    Ok(())
}

/// The ratings of the cases completed between `from` and `to` (both included), per group (the
/// key empty without grouping): whole months from the monthly tally rows, the days at the ends
/// from the daily ones, as [`settled_counts`] does.
pub async fn rating_counts(
    db: &Db,
    scope: &Scope,
    from: NaiveDate,
    to: NaiveDate,
    group: Option<GroupBy>,
) -> Result<Vec<(Option<String>, RatingDelta)>> {
    let key = match group {
        None | Some(GroupBy::Level) => "CAST(NULL AS TEXT)",
        Some(GroupBy::Venue) => "NULLIF(venue_code, '')",
        Some(GroupBy::Department) => "NULLIF(department_code, '')",
        Some(GroupBy::Item) => "NULLIF(item_code, '')",
        Some(GroupBy::Window) => WINDOW_KEY_SQL,
    };
    let tally_scope = ScopeFilter::any_unit(scope, TALLY_OWNERS, 7);
    let (month_from, month_to, span_from, span_to) = match whole_months(from, to) {
        Some((a, b)) => (a.format("%Y-%m").to_string(), b.format("%Y-%m").to_string(), a, b),
        None => ("9999-99".to_string(), "0000-00".to_string(), to.succ_opt().unwrap_or(to), to),
    };
    let columns = RATING_TALLY_COUNTS.join(", ");
    let sums: Vec<String> =
        RATING_TALLY_COUNTS.iter().map(|c| format!("CAST(COALESCE(SUM({c}), 0) AS BIGINT) AS {c}")).collect();
    let sql = format!(
        "SELECT key, {sums}
         FROM (
           SELECT {key} AS key, {columns} FROM rating_tally
           WHERE period >= $1 AND period <= $2 AND length(period) = 7 AND {scope}
           UNION ALL
           SELECT {key} AS key, {columns} FROM rating_tally
           WHERE ((period >= $3 AND period < $4) OR (period > $5 AND period <= $6)) AND length(period) = 10 AND {scope}
         ) counted
         GROUP BY key",
        sums = sums.join(", "),
        scope = tally_scope.sql
    );
    type Row = (Option<String>, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64);
    let rows: Vec<Row> = on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql))
            .bind(month_from)
            .bind(month_to)
            .bind(from.to_string())
            .bind(span_from.to_string())
            .bind(span_to.to_string())
            .bind(to.to_string());
        for b in &tally_scope.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    });
    Ok(rows
        .into_iter()
        .map(|(key, completed, rated, active, l1, l2, l3, l4, l5, set_aside, rectified)| {
            let delta = RatingDelta {
                completed,
                rated,
                active,
                levels: [l1, l2, l3, l4, l5],
                set_aside,
                bad_rectified_on_time: rectified,
            };
            (key, delta)
        })
        .collect())
}

/// What a report groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    Level,
    Venue,
    Department,
    Item,
    /// A department's windows at a venue (窗口): key `VENUE/DEPARTMENT`. A case's window is its
    /// item's department's at its venue (docs/decisions/0031).
    Window,
}

/// The key of a department's windows at a venue: `VENUE/DEPARTMENT`.
pub fn window_key(venue_code: &str, department_code: &str) -> String {
    format!("{venue_code}/{department_code}")
}

/// The SQL of [`window_key`] over a row's `venue_code` and `department_code` (NULL without both).
const WINDOW_KEY_SQL: &str =
    "CASE WHEN venue_code = '' OR department_code = '' THEN NULL ELSE venue_code || '/' || department_code END";

/// One row of a case report: a group key (empty without grouping) and its counts.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SettledCounts {
    pub key: Option<String>,
    pub on_time: i64,
    pub overdue: i64,
}

/// The whole months within `from..=to`: (first day, last day), if any.
pub(crate) fn whole_months(from: NaiveDate, to: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    use chrono::Datelike;
    let first = if from.day() == 1 { from } else { from.with_day(1)?.checked_add_months(chrono::Months::new(1))? };
    let after = to.succ_opt()?;
    let last = if after.day() == 1 { to } else { to.with_day(1)?.pred_opt()? };
    (first <= last).then_some((first, last))
}

/// Counts of the cases settled between `from` and `to` (both included), as of the local date
/// `today` (a running case whose deadline is before today is overdue, settled on its deadline).
/// Whole months come from the monthly tallies, the remaining days from the daily ones, and the
/// running cases from case_record: the cost follows the periods and the groups, not the cases.
pub async fn settled_counts(
    db: &Db,
    scope: &Scope,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
    levels: &[i32],
    group: Option<GroupBy>,
) -> Result<Vec<SettledCounts>> {
    let (tally_key, record_key) = match group {
        None => ("CAST(NULL AS TEXT)", "CAST(NULL AS TEXT)"),
        Some(GroupBy::Level) => ("CAST(NULLIF(level, 0) AS TEXT)", "CAST(level AS TEXT)"),
        Some(GroupBy::Venue) => ("NULLIF(venue_code, '')", "venue_code"),
        Some(GroupBy::Department) => ("NULLIF(department_code, '')", "department_code"),
        Some(GroupBy::Item) => ("NULLIF(item_code, '')", "item_code"),
        Some(GroupBy::Window) => (WINDOW_KEY_SQL, WINDOW_KEY_SQL),
    };
    // Both filters bind the scope's roots from $10 on, so they share those parameters.
    let filter = ScopeFilter::any(scope, CASE_OWNERS, 10);
    let tally_scope = ScopeFilter::any_unit(scope, TALLY_OWNERS, 10);
    let level_filter = if levels.is_empty() {
        String::new()
    } else {
        format!(" AND level IN ({})", levels.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(", "))
    };
    // Whole months $4..=$5 from the monthly rows; the days before them ($6 ≤ day < $7) and after
    // them ($8 < day ≤ $9) from the daily rows; running cases past their deadline from case_record.
    let (month_from, month_to, span_from, span_to) = match whole_months(from, to) {
        Some((a, b)) => (a.format("%Y-%m").to_string(), b.format("%Y-%m").to_string(), a, b),
        None => ("9999-99".to_string(), "0000-00".to_string(), to.succ_opt().unwrap_or(to), to),
    };
    let sql = format!(
        "SELECT key, CAST(COALESCE(SUM(on_time), 0) AS BIGINT) AS on_time,
           CAST(COALESCE(SUM(overdue), 0) AS BIGINT) AS overdue
         FROM (
           SELECT {tally_key} AS key, on_time, overdue FROM case_tally
           WHERE period >= $4 AND period <= $5 AND length(period) = 7 AND {tally_scope}{level_filter}
           UNION ALL
           SELECT {tally_key} AS key, on_time, overdue FROM case_tally
           WHERE period >= $6 AND period < $7 AND length(period) = 10 AND {tally_scope}{level_filter}
           UNION ALL
           SELECT {tally_key} AS key, on_time, overdue FROM case_tally
           WHERE period > $8 AND period <= $9 AND length(period) = 10 AND {tally_scope}{level_filter}
           UNION ALL
           SELECT {record_key} AS key, 0 AS on_time, 1 AS overdue
           FROM case_record
           WHERE outcome = 'running' AND outcome_date >= $1 AND outcome_date <= $2 AND outcome_date < $3
             AND {scope}{level_filter}
         ) counted
         GROUP BY key",
        scope = filter.sql,
        tally_scope = tally_scope.sql
    );
    let rows: Vec<SettledCounts> = on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql))
            .bind(from)
            .bind(to)
            .bind(today)
            .bind(month_from)
            .bind(month_to)
            .bind(from.to_string())
            .bind(span_from.to_string())
            .bind(span_to.to_string())
            .bind(to.to_string());
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    });
    Ok(rows)
}

/// Which cases to list: every figure of the dashboard and the report links to such a list.
#[derive(Debug, Clone, Default)]
pub struct CaseQuery {
    pub venue: Option<String>,
    pub department: Option<String>,
    pub item: Option<String>,
    pub level: Option<i32>,
    /// Open cases showing this light (`green`, `yellow`, `red`).
    pub signal: Option<String>,
    /// Cases settled in this period (both days included), as the report counts them.
    pub settled: Option<(NaiveDate, NaiveDate)>,
    /// With `settled`: only `on_time` or only `overdue` ones.
    pub outcome: Option<String>,
}

/// Cases within the scope matching the query, newest first. `today` decides, as in the
/// report, whether a running case is already overdue.
pub async fn list_cases(
    db: &Db,
    scope: &Scope,
    q: &CaseQuery,
    today: NaiveDate,
    limit: i64,
) -> Result<Vec<CaseRecord>> {
    let mut conds: Vec<String> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let mut dates: Vec<NaiveDate> = Vec::new();
    // Text parameters first ($1…), then dates, then the scope's paths.
    let mut text = |conds: &mut Vec<String>, column: &str, value: &str| {
        texts.push(value.to_string());
        conds.push(format!("{column} = ${}", texts.len()));
    };
    if let Some(v) = &q.venue {
        text(&mut conds, "venue_code", v);
    }
    if let Some(v) = &q.department {
        text(&mut conds, "department_code", v);
    }
    if let Some(v) = &q.item {
        text(&mut conds, "item_code", v);
    }
    if let Some(v) = &q.signal {
        text(&mut conds, "(CASE WHEN anomalies > 0 AND time_signal IS NOT NULL THEN 'red' ELSE time_signal END)", v);
    }
    if let Some(l) = q.level {
        conds.push(format!("level = {l}"));
    }
    let n = texts.len();
    if let Some((from, to)) = q.settled {
        dates.extend([from, to, today]);
        let (a, b, t) = (n + 1, n + 2, n + 3);
        conds.push(format!("outcome_date >= ${a} AND outcome_date <= ${b}"));
        let overdue = format!("(outcome = 'overdue' OR (outcome = 'running' AND outcome_date < ${t}))");
        conds.push(match q.outcome.as_deref() {
            Some("on_time") => "outcome = 'on_time'".to_string(),
            Some("overdue") => overdue,
            _ => format!("(outcome = 'on_time' OR {overdue})"),
        });
    }
    let filter = ScopeFilter::any(scope, CASE_OWNERS, n + dates.len() + 1);
    conds.push(filter.sql.clone());
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM case_record WHERE {} ORDER BY received_on DESC, case_no LIMIT {limit}",
        conds.join(" AND ")
    );
    Ok(on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql));
        for t in &texts {
            q = q.bind(t.clone());
        }
        for d in &dates {
            q = q.bind(*d);
        }
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    }))
}

/// The overdue cases of a period in the scope, as the report counts them (settled late in it, or
/// still running past a deadline in it before `today`): (department code, case number), by
/// department and number. Read through the outcome index, a side of the OR each.
pub async fn overdue_case_numbers(
    db: &Db,
    scope: &Scope,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> Result<Vec<(Option<String>, String)>> {
    let filter = ScopeFilter::any(scope, CASE_OWNERS, 4);
    let sql = format!(
        "SELECT department_code, case_no FROM case_record
         WHERE ((outcome = 'overdue' AND outcome_date >= $1 AND outcome_date <= $2)
             OR (outcome = 'running' AND outcome_date >= $1 AND outcome_date <= $2 AND outcome_date < $3))
           AND {}
         ORDER BY department_code, case_no",
        filter.sql
    );
    Ok(on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(from).bind(to).bind(today);
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    }))
}

/// A case completed in a period, with what a ratings report groups it by.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CompletedCase {
    pub case_no: String,
    /// The receiving venue's path.
    pub path: String,
    pub venue_code: Option<String>,
    pub department_code: Option<String>,
    pub item_code: Option<String>,
}

/// The cases in the scope completed (decided: approved or rejected) from `from` to `to`.
pub async fn completed_cases(db: &Db, scope: &Scope, from: NaiveDate, to: NaiveDate) -> Result<Vec<CompletedCase>> {
    let filter = ScopeFilter::any(scope, CASE_OWNERS, 3);
    let sql = format!(
        "SELECT case_no, path, venue_code, department_code, item_code FROM case_record
         WHERE status IN ('approved', 'rejected') AND ended_on >= $1 AND ended_on <= $2 AND {}",
        filter.sql
    );
    Ok(on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(from).bind(to);
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    }))
}

/// The `rated` events of those cases, by case, in `at` then arrival order.
pub async fn ratings_of_completed(db: &Db, scope: &Scope, from: NaiveDate, to: NaiveDate) -> Result<Vec<EventRow>> {
    let filter = ScopeFilter::any(scope, &["r.path", "r.department_path"], 3);
    let sql = format!(
        "SELECT e.event_id, e.case_no, e.type, e.at, e.local_date, e.arrival, e.reported_at, e.content, e.source,
                e.sender_scope
         FROM case_event e JOIN case_record r ON r.case_no = e.case_no
         WHERE e.type = 'rated' AND r.status IN ('approved', 'rejected') AND r.ended_on >= $1 AND r.ended_on <= $2
           AND {}
         ORDER BY e.case_no, e.at, e.arrival",
        filter.sql
    );
    Ok(on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(from).bind(to);
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    }))
}

/// Per department: the cases settled from `from` to `to` (as known on `today`: a running case
/// past its deadline is settled on it) that carry at least one anomaly.
pub async fn settled_with_anomalies(
    db: &Db,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> Result<Vec<(Option<String>, i64)>> {
    Ok(on_db!(db, |c| sqlx::query_as(
        // `outcome || ''` keeps the planner off the outcome index (an OR of two ranges over every
        // settled case) and on the small index of the anomalous cases.
        "SELECT department_code, COUNT(*) FROM case_record
         WHERE anomalies > 0 AND outcome_date >= $1 AND outcome_date <= $2
           AND ((outcome || '') IN ('on_time', 'overdue') OR ((outcome || '') = 'running' AND outcome_date < $3))
         GROUP BY department_code"
    )
    .bind(from)
    .bind(to)
    .bind(today)
    .fetch_all(c)
    .await?))
}

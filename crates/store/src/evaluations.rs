//! Evaluation schemes (versioned) and the results published from them.

use chrono::{DateTime, NaiveDate, Utc};
use oversight_domain::access::Scope;
use sqlx::AssertSqlSafe;

use crate::bulk::{self, Cell, columns};
use crate::{Db, Result, ScopeFilter, Tx, on_db, on_tx};

/// A version of a scheme as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SchemeRow {
    pub id: String,
    /// The id of the family's first version: every edit is a new version of it.
    pub family: String,
    pub version: i64,
    pub name: String,
    /// The TOML as the office wrote it.
    pub body: String,
    /// The office's subtree.
    pub path: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

columns! {
    fn scheme_cells(r: &SchemeRow) -> SCHEME_COLUMN_NAMES {
        "id" => Cell::Text(Some(&r.id)),
        "family" => Cell::Text(Some(&r.family)),
        "version" => Cell::Big(Some(r.version)),
        "name" => Cell::Text(Some(&r.name)),
        "body" => Cell::Text(Some(&r.body)),
        "path" => Cell::Text(Some(&r.path)),
        "created_by" => Cell::Text(Some(&r.created_by)),
        "created_at" => Cell::Time(Some(r.created_at)),
    }
}

/// Stores a version; false when the family has that version already (a concurrent edit).
pub async fn insert_scheme(tx: &mut Tx, s: &SchemeRow) -> Result<bool> {
    let n = bulk::write_rows(
        tx,
        &format!("evaluation_scheme ({})", SCHEME_COLUMN_NAMES.join(", ")),
        "ON CONFLICT (family, version) DO NOTHING",
        &[s],
        |r| scheme_cells(r),
    )
    .await?;
    Ok(n > 0)
}

pub async fn scheme(db: &Db, id: &str) -> Result<Option<SchemeRow>> {
    let sql = format!("SELECT {} FROM evaluation_scheme WHERE id = $1", SCHEME_COLUMN_NAMES.join(", "));
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

/// The latest version of a family, read inside the transaction that adds the next.
pub async fn latest_version(tx: &mut Tx, family: &str) -> Result<Option<i64>> {
    let row: Option<(Option<i64>,)> =
        on_tx!(tx, |c| sqlx::query_as("SELECT MAX(version) FROM evaluation_scheme WHERE family = $1")
            .bind(family)
            .fetch_optional(c)
            .await?);
    Ok(row.and_then(|r| r.0))
}

/// The versions of a family, the latest first.
pub async fn versions(db: &Db, family: &str) -> Result<Vec<SchemeRow>> {
    let sql = format!(
        "SELECT {} FROM evaluation_scheme WHERE family = $1 ORDER BY version DESC",
        SCHEME_COLUMN_NAMES.join(", ")
    );
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(family).fetch_all(c).await?))
}

/// The latest version of every family of the offices within the scope, the newest first.
pub async fn schemes(db: &Db, scope: &Scope) -> Result<Vec<SchemeRow>> {
    let filter = ScopeFilter::any(scope, &["s.path"], 1);
    let columns: Vec<String> = SCHEME_COLUMN_NAMES.iter().map(|c| format!("s.{c}")).collect();
    let sql = format!(
        "SELECT {} FROM evaluation_scheme s
         WHERE s.version = (SELECT MAX(v.version) FROM evaluation_scheme v WHERE v.family = s.family) AND {}
         ORDER BY s.created_at DESC LIMIT 200",
        columns.join(", "),
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

/// A published result as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ResultRow {
    pub id: String,
    pub scheme_id: String,
    pub from_day: NaiveDate,
    pub to_day: NaiveDate,
    /// The office's subtree: the departments it evaluated are those it sees.
    pub path: String,
    /// The run's JSON, byte for byte as it was printed.
    pub result: String,
    /// The records each department's values counted, as they stood (JSON: department code →
    /// kind → ids).
    pub records: String,
    /// The result this one replaces (after an upheld appeal).
    pub supersedes: Option<String>,
    /// A later result replaces this one.
    pub superseded: bool,
    pub published_by: String,
    pub published_at: DateTime<Utc>,
}

columns! {
    fn result_cells(r: &ResultRow) -> RESULT_COLUMN_NAMES {
        "id" => Cell::Text(Some(&r.id)),
        "scheme_id" => Cell::Text(Some(&r.scheme_id)),
        "from_day" => Cell::Date(Some(r.from_day)),
        "to_day" => Cell::Date(Some(r.to_day)),
        "path" => Cell::Text(Some(&r.path)),
        "result" => Cell::Text(Some(&r.result)),
        "records" => Cell::Text(Some(&r.records)),
        "supersedes" => Cell::Text(r.supersedes.as_deref()),
        "superseded" => Cell::Bool(Some(r.superseded)),
        "published_by" => Cell::Text(Some(&r.published_by)),
        "published_at" => Cell::Time(Some(r.published_at)),
    }
}

pub async fn insert_result(tx: &mut Tx, r: &ResultRow) -> Result<()> {
    bulk::write_rows(tx, &format!("evaluation_result ({})", RESULT_COLUMN_NAMES.join(", ")), "", &[r], |r| {
        result_cells(r)
    })
    .await?;
    Ok(())
}

fn result_by_id() -> String {
    format!("SELECT {} FROM evaluation_result WHERE id = $1", RESULT_COLUMN_NAMES.join(", "))
}

pub async fn result(db: &Db, id: &str) -> Result<Option<ResultRow>> {
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(result_by_id())).bind(id).fetch_optional(c).await?))
}

/// The results in force (not superseded), the latest first; of the offices within the scope.
pub async fn results(db: &Db, scope: &Scope, limit: i64) -> Result<Vec<ResultRow>> {
    let filter = ScopeFilter::any(scope, &["path"], 2);
    let sql = format!(
        "SELECT {} FROM evaluation_result WHERE superseded = FALSE AND {} ORDER BY published_at DESC LIMIT $1",
        RESULT_COLUMN_NAMES.join(", "),
        filter.sql
    );
    Ok(on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(limit);
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    }))
}

/// Points the office entered for a manual indicator of a department, for a scheme's family over
/// a period.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ManualRow {
    pub family: String,
    pub from_day: NaiveDate,
    pub to_day: NaiveDate,
    pub department_code: String,
    pub indicator_code: String,
    pub points: f64,
    pub reason: String,
    pub evidence: String,
    pub entered_by: String,
    pub entered_at: DateTime<Utc>,
}

columns! {
    fn manual_cells(r: &ManualRow) -> MANUAL_COLUMN_NAMES {
        "family" => Cell::Text(Some(&r.family)),
        "from_day" => Cell::Date(Some(r.from_day)),
        "to_day" => Cell::Date(Some(r.to_day)),
        "department_code" => Cell::Text(Some(&r.department_code)),
        "indicator_code" => Cell::Text(Some(&r.indicator_code)),
        "points" => Cell::Float(Some(r.points)),
        "reason" => Cell::Text(Some(&r.reason)),
        "evidence" => Cell::Text(Some(&r.evidence)),
        "entered_by" => Cell::Text(Some(&r.entered_by)),
        "entered_at" => Cell::Time(Some(r.entered_at)),
    }
}

/// Stores an entry, replacing the one before for the same department and indicator.
pub async fn put_manual(tx: &mut Tx, r: &ManualRow) -> Result<()> {
    let updates: Vec<String> = MANUAL_COLUMN_NAMES[5..].iter().map(|c| format!("{c} = excluded.{c}")).collect();
    bulk::write_rows(
        tx,
        &format!("evaluation_manual ({})", MANUAL_COLUMN_NAMES.join(", ")),
        &format!(
            "ON CONFLICT (family, from_day, to_day, department_code, indicator_code) DO UPDATE SET {}",
            updates.join(", ")
        ),
        &[r],
        |r| manual_cells(r),
    )
    .await?;
    Ok(())
}

/// The entries of a family over a period, by department and indicator.
pub async fn manual(db: &Db, family: &str, from: NaiveDate, to: NaiveDate) -> Result<Vec<ManualRow>> {
    let sql = format!(
        "SELECT {} FROM evaluation_manual WHERE family = $1 AND from_day = $2 AND to_day = $3
         ORDER BY department_code, indicator_code",
        MANUAL_COLUMN_NAMES.join(", ")
    );
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(family).bind(from).bind(to).fetch_all(c).await?))
}

/// Marks a result superseded by a later publication.
pub async fn supersede(tx: &mut Tx, id: &str) -> Result<()> {
    on_tx!(tx, |c| sqlx::query("UPDATE evaluation_result SET superseded = TRUE WHERE id = $1")
        .bind(id)
        .execute(c)
        .await
        .map(|_| ())?);
    Ok(())
}

/// The result, read inside the transaction that will supersede it.
pub async fn result_in(tx: &mut Tx, id: &str) -> Result<Option<ResultRow>> {
    Ok(on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(result_by_id())).bind(id).fetch_optional(c).await?))
}

/// The result that superseded `id`, if any.
pub async fn successor(db: &Db, id: &str) -> Result<Option<String>> {
    let row: Option<(String,)> =
        on_db!(db, |c| sqlx::query_as("SELECT id FROM evaluation_result WHERE supersedes = $1")
            .bind(id)
            .fetch_optional(c)
            .await?);
    Ok(row.map(|r| r.0))
}

/// A department's appeal against one record of a published result.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AppealRow {
    pub id: String,
    pub result_id: String,
    pub family: String,
    pub from_day: NaiveDate,
    pub to_day: NaiveDate,
    pub department_code: String,
    /// What the record is (`overdue_case`).
    pub kind: String,
    pub record_id: String,
    pub reason: String,
    pub evidence: String,
    pub filed_by: String,
    pub filed_at: DateTime<Utc>,
    /// `filed`, `upheld` or `rejected`.
    pub state: String,
    /// The office's reason.
    pub decision: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The result published again after it was upheld.
    pub republished: Option<String>,
}

columns! {
    fn appeal_cells(r: &AppealRow) -> APPEAL_COLUMN_NAMES {
        "id" => Cell::Text(Some(&r.id)),
        "result_id" => Cell::Text(Some(&r.result_id)),
        "family" => Cell::Text(Some(&r.family)),
        "from_day" => Cell::Date(Some(r.from_day)),
        "to_day" => Cell::Date(Some(r.to_day)),
        "department_code" => Cell::Text(Some(&r.department_code)),
        "kind" => Cell::Text(Some(&r.kind)),
        "record_id" => Cell::Text(Some(&r.record_id)),
        "reason" => Cell::Text(Some(&r.reason)),
        "evidence" => Cell::Text(Some(&r.evidence)),
        "filed_by" => Cell::Text(Some(&r.filed_by)),
        "filed_at" => Cell::Time(Some(r.filed_at)),
        "state" => Cell::Text(Some(&r.state)),
        "decision" => Cell::Text(r.decision.as_deref()),
        "decided_by" => Cell::Text(r.decided_by.as_deref()),
        "decided_at" => Cell::Time(r.decided_at),
        "republished" => Cell::Text(r.republished.as_deref()),
    }
}

pub async fn insert_appeal(tx: &mut Tx, a: &AppealRow) -> Result<()> {
    bulk::write_rows(tx, &format!("evaluation_appeal ({})", APPEAL_COLUMN_NAMES.join(", ")), "", &[a], |r| {
        appeal_cells(r)
    })
    .await?;
    Ok(())
}

pub async fn save_appeal(tx: &mut Tx, a: &AppealRow) -> Result<()> {
    let cells = appeal_cells(a);
    bulk::update(tx, "evaluation_appeal", (&APPEAL_COLUMN_NAMES[1..], &cells[1..]), "", (&["id"], &cells[..1])).await?;
    Ok(())
}

fn appeal_by_id() -> String {
    format!("SELECT {} FROM evaluation_appeal WHERE id = $1", APPEAL_COLUMN_NAMES.join(", "))
}

pub async fn appeal(db: &Db, id: &str) -> Result<Option<AppealRow>> {
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(appeal_by_id())).bind(id).fetch_optional(c).await?))
}

/// The appeal, read inside the transaction that decides it.
pub async fn appeal_in(tx: &mut Tx, id: &str) -> Result<Option<AppealRow>> {
    Ok(on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(appeal_by_id())).bind(id).fetch_optional(c).await?))
}

/// The appeals of a scheme family over a period (every result of it), the oldest first.
pub async fn appeals(db: &Db, family: &str, from: NaiveDate, to: NaiveDate) -> Result<Vec<AppealRow>> {
    let sql = format!(
        "SELECT {} FROM evaluation_appeal WHERE family = $1 AND from_day = $2 AND to_day = $3 ORDER BY filed_at, id",
        APPEAL_COLUMN_NAMES.join(", ")
    );
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(family).bind(from).bind(to).fetch_all(c).await?))
}

/// A department's self-assessment (部门自评) of a manual indicator over a period: asked for by
/// the office, then the department's points, reason and evidence (none until entered).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SelfRow {
    pub id: String,
    pub family: String,
    pub from_day: NaiveDate,
    pub to_day: NaiveDate,
    pub department_code: String,
    pub indicator_code: String,
    /// The office's subtree (the scheme's).
    pub path: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub points: Option<f64>,
    pub reason: Option<String>,
    pub evidence: Option<String>,
    pub entered_by: Option<String>,
    pub entered_at: Option<DateTime<Utc>>,
}

columns! {
    fn self_cells(r: &SelfRow) -> SELF_COLUMN_NAMES {
        "id" => Cell::Text(Some(&r.id)),
        "family" => Cell::Text(Some(&r.family)),
        "from_day" => Cell::Date(Some(r.from_day)),
        "to_day" => Cell::Date(Some(r.to_day)),
        "department_code" => Cell::Text(Some(&r.department_code)),
        "indicator_code" => Cell::Text(Some(&r.indicator_code)),
        "path" => Cell::Text(Some(&r.path)),
        "requested_by" => Cell::Text(Some(&r.requested_by)),
        "requested_at" => Cell::Time(Some(r.requested_at)),
        "points" => Cell::Float(r.points),
        "reason" => Cell::Text(r.reason.as_deref()),
        "evidence" => Cell::Text(r.evidence.as_deref()),
        "entered_by" => Cell::Text(r.entered_by.as_deref()),
        "entered_at" => Cell::Time(r.entered_at),
    }
}

/// Stores the requests not made before (the same department, indicator and period asked
/// twice keeps the first); returns how many are new.
pub async fn request_self(tx: &mut Tx, rows: &[SelfRow]) -> Result<u64> {
    bulk::write_rows(
        tx,
        &format!("evaluation_self ({})", SELF_COLUMN_NAMES.join(", ")),
        "ON CONFLICT (family, from_day, to_day, department_code, indicator_code) DO NOTHING",
        rows,
        self_cells,
    )
    .await
}

/// The self-assessments of a family over a period, by department and indicator.
pub async fn self_assessments(db: &Db, family: &str, from: NaiveDate, to: NaiveDate) -> Result<Vec<SelfRow>> {
    let sql = format!(
        "SELECT {} FROM evaluation_self WHERE family = $1 AND from_day = $2 AND to_day = $3
         ORDER BY department_code, indicator_code",
        SELF_COLUMN_NAMES.join(", ")
    );
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(family).bind(from).bind(to).fetch_all(c).await?))
}

/// The self-assessments asked of a department, newest request first.
pub async fn self_assessments_of(db: &Db, department: &str) -> Result<Vec<SelfRow>> {
    let sql = format!(
        "SELECT {} FROM evaluation_self WHERE department_code = $1 ORDER BY requested_at DESC, indicator_code LIMIT 200",
        SELF_COLUMN_NAMES.join(", ")
    );
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(department).fetch_all(c).await?))
}

/// One self-assessment by its id.
pub async fn self_assessment(db: &Db, id: &str) -> Result<Option<SelfRow>> {
    let sql = format!("SELECT {} FROM evaluation_self WHERE id = $1", SELF_COLUMN_NAMES.join(", "));
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

/// Records the department's figure on a request.
pub async fn enter_self(tx: &mut Tx, r: &SelfRow) -> Result<()> {
    bulk::update(
        tx,
        "evaluation_self",
        (
            &["points", "reason", "evidence", "entered_by", "entered_at"],
            &[
                Cell::Float(r.points),
                Cell::Text(r.reason.as_deref()),
                Cell::Text(r.evidence.as_deref()),
                Cell::Text(r.entered_by.as_deref()),
                Cell::Time(r.entered_at),
            ],
        ),
        "",
        (&["id"], &[Cell::Text(Some(&r.id))]),
    )
    .await?;
    Ok(())
}

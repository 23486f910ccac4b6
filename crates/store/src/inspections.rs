//! Inspection rounds (明察暗访) with the venues drawn for them, and versioned checklists.

use chrono::{DateTime, Utc};
use oversight_domain::access::Scope;
use sqlx::AssertSqlSafe;

use crate::bulk::{self, Cell, columns};
use crate::{Db, Result, ScopeFilter, Tx, on_db, on_tx};

/// A round as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RoundRow {
    pub id: String,
    pub title: String,
    /// `YYYY-MM`.
    pub month: String,
    /// A `RoundKind` word.
    pub kind: String,
    /// The inspectors' user names, separated by spaces.
    pub inspectors: String,
    /// JSON object: level word → how many venues.
    pub quotas: String,
    /// JSON array of `{code, level}`: the published candidates.
    pub candidates: String,
    pub commitment: String,
    /// Secret until the round ends.
    pub seed: String,
    pub path: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

columns! {
    fn round_cells(r: &RoundRow) -> ROUND_COLUMN_NAMES {
        "id" => Cell::Text(Some(&r.id)),
        "title" => Cell::Text(Some(&r.title)),
        "month" => Cell::Text(Some(&r.month)),
        "kind" => Cell::Text(Some(&r.kind)),
        "inspectors" => Cell::Text(Some(&r.inspectors)),
        "quotas" => Cell::Text(Some(&r.quotas)),
        "candidates" => Cell::Text(Some(&r.candidates)),
        "commitment" => Cell::Text(Some(&r.commitment)),
        "seed" => Cell::Text(Some(&r.seed)),
        "path" => Cell::Text(Some(&r.path)),
        "created_by" => Cell::Text(Some(&r.created_by)),
        "created_at" => Cell::Time(Some(r.created_at)),
        "ended_at" => Cell::Time(r.ended_at),
    }
}

/// A venue drawn for a round, in the order drawn.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TargetRow {
    pub round_id: String,
    pub seq: i64,
    pub venue_code: String,
    pub path: String,
}

columns! {
    fn target_cells(r: &TargetRow) -> TARGET_COLUMN_NAMES {
        "round_id" => Cell::Text(Some(&r.round_id)),
        "seq" => Cell::Big(Some(r.seq)),
        "venue_code" => Cell::Text(Some(&r.venue_code)),
        "path" => Cell::Text(Some(&r.path)),
    }
}

pub async fn insert_round(tx: &mut Tx, round: &RoundRow, targets: &[TargetRow]) -> Result<()> {
    bulk::write_rows(tx, &format!("inspection_round ({})", ROUND_COLUMN_NAMES.join(", ")), "", &[round], |r| {
        round_cells(r)
    })
    .await?;
    bulk::write_rows(tx, &format!("inspection_target ({})", TARGET_COLUMN_NAMES.join(", ")), "", targets, target_cells)
        .await?;
    Ok(())
}

pub async fn round(db: &Db, id: &str) -> Result<Option<RoundRow>> {
    let sql = format!("SELECT {} FROM inspection_round WHERE id = $1", ROUND_COLUMN_NAMES.join(", "));
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

/// The rounds planned by offices within the scope, or covering venues within it, the latest
/// month first.
pub async fn rounds(db: &Db, scope: &Scope, limit: i64) -> Result<Vec<RoundRow>> {
    let filter = ScopeFilter::any(scope, &["path"], 2);
    let sql = format!(
        "SELECT {} FROM inspection_round WHERE {} ORDER BY month DESC, created_at DESC LIMIT $1",
        ROUND_COLUMN_NAMES.join(", "),
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

pub async fn targets(db: &Db, round_id: &str) -> Result<Vec<TargetRow>> {
    let sql =
        format!("SELECT {} FROM inspection_target WHERE round_id = $1 ORDER BY seq", TARGET_COLUMN_NAMES.join(", "));
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(round_id).fetch_all(c).await?))
}

/// Ends a round (its seed is then shown); false when it had ended already.
pub async fn end_round(tx: &mut Tx, id: &str, at: DateTime<Utc>) -> Result<bool> {
    let changed =
        on_tx!(tx, |c| sqlx::query("UPDATE inspection_round SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL")
            .bind(at)
            .bind(id)
            .execute(c)
            .await?
            .rows_affected());
    Ok(changed > 0)
}

/// The active users with an inspector's grant, with the path of that grant:
/// (username, display name, path).
pub async fn inspectors(db: &Db) -> Result<Vec<(String, String, String)>> {
    Ok(on_db!(db, |c| sqlx::query_as(
        "SELECT u.username, u.display_name, g.path FROM app_user u JOIN role_grant g ON g.user_id = u.id
         WHERE g.role = 'inspector' AND u.active ORDER BY u.username"
    )
    .fetch_all(c)
    .await?))
}

/// A version of a checklist.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChecklistRow {
    pub id: String,
    pub venue_type: String,
    pub version: i64,
    pub name: String,
    pub body: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

const CHECKLIST_COLUMNS: &str = "id, venue_type, version, name, body, created_by, created_at";

/// The latest version of the checklist for a venue type.
pub async fn current_checklist(db: &Db, venue_type: &str) -> Result<Option<ChecklistRow>> {
    let sql = format!("SELECT {CHECKLIST_COLUMNS} FROM checklist WHERE venue_type = $1 ORDER BY version DESC LIMIT 1");
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(venue_type).fetch_optional(c).await?))
}

/// Every version of the checklist for a venue type, the latest first.
pub async fn checklist_versions(db: &Db, venue_type: &str) -> Result<Vec<ChecklistRow>> {
    let sql = format!("SELECT {CHECKLIST_COLUMNS} FROM checklist WHERE venue_type = $1 ORDER BY version DESC");
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(venue_type).fetch_all(c).await?))
}

/// Stores the next version of a venue type's checklist; returns its version number.
pub async fn insert_checklist(tx: &mut Tx, row: &ChecklistRow) -> Result<i64> {
    let next: i64 = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(version), 0) + 1 AS BIGINT) FROM checklist WHERE venue_type = $1"
    )
    .bind(&row.venue_type)
    .fetch_one(c)
    .await?);
    let sql = format!("INSERT INTO checklist ({CHECKLIST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)");
    on_tx!(tx, |c| sqlx::query(AssertSqlSafe(sql))
        .bind(&row.id)
        .bind(&row.venue_type)
        .bind(next)
        .bind(&row.name)
        .bind(&row.body)
        .bind(&row.created_by)
        .bind(row.created_at)
        .execute(c)
        .await?
        .rows_affected());
    Ok(next)
}

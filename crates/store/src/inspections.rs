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

/// A visit to a venue of a round.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VisitRow {
    pub id: String,
    pub round_id: String,
    pub venue_code: String,
    pub path: String,
    /// The inspector's actor label, and name.
    pub inspector: String,
    pub inspector_name: String,
    pub checklist_version: i64,
    /// The checklist's TOML text as it stood when the visit began.
    pub checklist: String,
    pub started_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

columns! {
    fn visit_cells(r: &VisitRow) -> VISIT_COLUMN_NAMES {
        "id" => Cell::Text(Some(&r.id)),
        "round_id" => Cell::Text(Some(&r.round_id)),
        "venue_code" => Cell::Text(Some(&r.venue_code)),
        "path" => Cell::Text(Some(&r.path)),
        "inspector" => Cell::Text(Some(&r.inspector)),
        "inspector_name" => Cell::Text(Some(&r.inspector_name)),
        "checklist_version" => Cell::Big(Some(r.checklist_version)),
        "checklist" => Cell::Text(Some(&r.checklist)),
        "started_at" => Cell::Time(Some(r.started_at)),
        "closed_at" => Cell::Time(r.closed_at),
    }
}

/// Starts a visit unless the venue of that round has one; returns the round's visit there.
pub async fn start_visit(tx: &mut Tx, visit: &VisitRow) -> Result<VisitRow> {
    bulk::write_rows(
        tx,
        &format!("inspection_visit ({})", VISIT_COLUMN_NAMES.join(", ")),
        "ON CONFLICT (round_id, venue_code) DO NOTHING",
        &[visit],
        |r| visit_cells(r),
    )
    .await?;
    let sql = format!(
        "SELECT {} FROM inspection_visit WHERE round_id = $1 AND venue_code = $2",
        VISIT_COLUMN_NAMES.join(", ")
    );
    Ok(on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(&visit.round_id)
        .bind(&visit.venue_code)
        .fetch_one(c)
        .await?))
}

pub async fn visit(db: &Db, id: &str) -> Result<Option<VisitRow>> {
    let sql = format!("SELECT {} FROM inspection_visit WHERE id = $1", VISIT_COLUMN_NAMES.join(", "));
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

/// The visits of a round, by venue.
pub async fn visits_of_round(db: &Db, round_id: &str) -> Result<Vec<VisitRow>> {
    let sql = format!(
        "SELECT {} FROM inspection_visit WHERE round_id = $1 ORDER BY venue_code",
        VISIT_COLUMN_NAMES.join(", ")
    );
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(round_id).fetch_all(c).await?))
}

/// The venues of the visits ended in `[from, until)` at venues within the scope, one per
/// visit; a covert round's only once the round has ended.
pub async fn visits_ended(db: &Db, scope: &Scope, from: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<String>> {
    let filter = ScopeFilter::any(scope, &["v.path"], 3);
    let sql = format!(
        "SELECT v.venue_code FROM inspection_visit v JOIN inspection_round r ON r.id = v.round_id
         WHERE v.closed_at >= $1 AND v.closed_at < $2 AND (r.kind = 'open' OR r.ended_at IS NOT NULL) AND {}",
        filter.sql
    );
    let rows: Vec<(String,)> = on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(from).bind(until);
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    });
    Ok(rows.into_iter().map(|(v,)| v).collect())
}

/// Closes a visit; false when it was closed already.
pub async fn close_visit(tx: &mut Tx, id: &str, at: DateTime<Utc>) -> Result<bool> {
    let changed =
        on_tx!(tx, |c| sqlx::query("UPDATE inspection_visit SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL")
            .bind(at)
            .bind(id)
            .execute(c)
            .await?
            .rows_affected());
    Ok(changed > 0)
}

/// A finding of a visit.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FindingRow {
    pub id: String,
    pub visit_id: String,
    pub venue_code: String,
    pub path: String,
    pub item_code: String,
    pub item_name: String,
    /// A `Severity` word.
    pub severity: String,
    /// The department whose window or staff the finding names, if known; its path (or the
    /// venue's when none is named) decides who sees it.
    pub department_code: Option<String>,
    pub department_path: String,
    pub window_name: String,
    pub staff_name: String,
    pub note: String,
    pub found_on: chrono::NaiveDate,
    /// The earlier finding of the same item at the same venue this one repeats.
    pub repeat_of: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// A `RectState` word, the due day, and how far it got.
    pub rect_state: String,
    pub rect_due: Option<chrono::NaiveDate>,
    pub replied_on: Option<chrono::NaiveDate>,
    pub verified_on: Option<chrono::NaiveDate>,
    /// A `VerifyMethod` word, once verified.
    pub verify_method: Option<String>,
    /// The day the rectification becomes overdue and raises its alert (none when no reply is
    /// owed, or once its alert is raised).
    pub alert_on: Option<chrono::NaiveDate>,
}

columns! {
    fn finding_cells(r: &FindingRow) -> FINDING_COLUMN_NAMES {
        "id" => Cell::Text(Some(&r.id)),
        "visit_id" => Cell::Text(Some(&r.visit_id)),
        "venue_code" => Cell::Text(Some(&r.venue_code)),
        "path" => Cell::Text(Some(&r.path)),
        "item_code" => Cell::Text(Some(&r.item_code)),
        "item_name" => Cell::Text(Some(&r.item_name)),
        "severity" => Cell::Text(Some(&r.severity)),
        "department_code" => Cell::Text(r.department_code.as_deref()),
        "department_path" => Cell::Text(Some(&r.department_path)),
        "window_name" => Cell::Text(Some(&r.window_name)),
        "staff_name" => Cell::Text(Some(&r.staff_name)),
        "note" => Cell::Text(Some(&r.note)),
        "found_on" => Cell::Date(Some(r.found_on)),
        "repeat_of" => Cell::Text(r.repeat_of.as_deref()),
        "created_by" => Cell::Text(Some(&r.created_by)),
        "created_at" => Cell::Time(Some(r.created_at)),
        "rect_state" => Cell::Text(Some(&r.rect_state)),
        "rect_due" => Cell::Date(r.rect_due),
        "replied_on" => Cell::Date(r.replied_on),
        "verified_on" => Cell::Date(r.verified_on),
        "verify_method" => Cell::Text(r.verify_method.as_deref()),
        "alert_on" => Cell::Date(r.alert_on),
    }
}

pub async fn insert_finding(tx: &mut Tx, f: &FindingRow) -> Result<()> {
    bulk::write_rows(tx, &format!("inspection_finding ({})", FINDING_COLUMN_NAMES.join(", ")), "", &[f], |r| {
        finding_cells(r)
    })
    .await?;
    Ok(())
}

pub async fn findings_of_visit(db: &Db, visit_id: &str) -> Result<Vec<FindingRow>> {
    let sql = format!(
        "SELECT {} FROM inspection_finding WHERE visit_id = $1 ORDER BY created_at, id",
        FINDING_COLUMN_NAMES.join(", ")
    );
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(visit_id).fetch_all(c).await?))
}

/// The latest finding of `item_code` at `venue_code` found on or after `since`, if any.
pub async fn earlier_finding(
    tx: &mut Tx,
    venue_code: &str,
    item_code: &str,
    since: chrono::NaiveDate,
) -> Result<Option<String>> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT id FROM inspection_finding WHERE venue_code = $1 AND item_code = $2 AND found_on >= $3
         ORDER BY found_on DESC, created_at DESC LIMIT 1"
    )
    .bind(venue_code)
    .bind(item_code)
    .bind(since)
    .fetch_optional(c)
    .await?))
}

fn finding_by_id() -> String {
    format!("SELECT {} FROM inspection_finding WHERE id = $1", FINDING_COLUMN_NAMES.join(", "))
}

pub async fn finding(db: &Db, id: &str) -> Result<Option<FindingRow>> {
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(finding_by_id())).bind(id).fetch_optional(c).await?))
}

/// The finding, read inside a transaction that will change it.
pub async fn finding_in(tx: &mut Tx, id: &str) -> Result<Option<FindingRow>> {
    Ok(on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(finding_by_id())).bind(id).fetch_optional(c).await?))
}

/// Stores a finding's rectification (state, due day, reply, verification).
pub async fn save_rectification(tx: &mut Tx, f: &FindingRow) -> Result<()> {
    bulk::update(
        tx,
        "inspection_finding",
        (
            &["rect_state", "rect_due", "replied_on", "verified_on", "verify_method", "alert_on"],
            &[
                Cell::Text(Some(&f.rect_state)),
                Cell::Date(f.rect_due),
                Cell::Date(f.replied_on),
                Cell::Date(f.verified_on),
                Cell::Text(f.verify_method.as_deref()),
                Cell::Date(f.alert_on),
            ],
        ),
        "",
        (&["id"], &[Cell::Text(Some(&f.id))]),
    )
    .await?;
    Ok(())
}

/// The rectifications whose alert day has come by `today`, the earliest first, at most `limit`.
pub async fn due_rectifications(tx: &mut Tx, today: chrono::NaiveDate, limit: i64) -> Result<Vec<FindingRow>> {
    let sql = format!(
        "SELECT {} FROM inspection_finding WHERE alert_on <= $1 ORDER BY alert_on, id LIMIT $2",
        FINDING_COLUMN_NAMES.join(", ")
    );
    Ok(on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(today).bind(limit).fetch_all(c).await?))
}

/// Forgets the alert day of these findings: their alerts are raised.
pub async fn alerted_rectifications(tx: &mut Tx, ids: &[&str]) -> Result<()> {
    for id in ids {
        bulk::update(
            tx,
            "inspection_finding",
            (&["alert_on"], &[Cell::Date(None)]),
            "",
            (&["id"], &[Cell::Text(Some(id))]),
        )
        .await?;
    }
    Ok(())
}

/// Which rectifications to list: `RectState` words (empty: any sent), or those past due.
#[derive(Debug, Clone, Default)]
pub struct RectFilter {
    pub states: Vec<String>,
    pub overdue_on: Option<chrono::NaiveDate>,
    /// Only the findings made in this period (both days included).
    pub found: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
}

/// The rectifications sent to the departments or venues in the scope, the earliest due first.
pub async fn rectifications(db: &Db, scope: &Scope, filter: &RectFilter, limit: i64) -> Result<Vec<FindingRow>> {
    let mut conditions = vec!["rect_state <> 'draft'".to_string()];
    let mut next = 2;
    if !filter.states.is_empty() {
        let marks: Vec<String> = (0..filter.states.len()).map(|i| format!("${}", next + i)).collect();
        conditions.push(format!("rect_state IN ({})", marks.join(", ")));
        next += filter.states.len();
    }
    if filter.overdue_on.is_some() {
        conditions.push(format!("rect_state = 'open' AND rect_due < ${next}"));
        next += 1;
    }
    if filter.found.is_some() {
        conditions.push(format!("found_on >= ${next} AND found_on <= ${}", next + 1));
        next += 2;
    }
    let scope_filter = ScopeFilter::any(scope, &["department_path", "path"], next);
    conditions.push(scope_filter.sql.clone());
    let sql = format!(
        "SELECT {} FROM inspection_finding WHERE {} ORDER BY rect_due, id LIMIT $1",
        FINDING_COLUMN_NAMES.join(", "),
        conditions.join(" AND ")
    );
    Ok(on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(limit);
        for s in &filter.states {
            q = q.bind(s.clone());
        }
        if let Some(day) = filter.overdue_on {
            q = q.bind(day);
        }
        if let Some((from, to)) = filter.found {
            q = q.bind(from).bind(to);
        }
        for b in &scope_filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    }))
}

/// A step taken on a rectification.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StepRow {
    pub id: String,
    pub finding_id: String,
    /// A `RectStep` word.
    pub step: String,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub actor_name: String,
    pub note: String,
    /// The evidence's names, one per line.
    pub evidence: String,
}

columns! {
    fn step_cells(r: &StepRow) -> STEP_COLUMN_NAMES {
        "id" => Cell::Text(Some(&r.id)),
        "finding_id" => Cell::Text(Some(&r.finding_id)),
        "step" => Cell::Text(Some(&r.step)),
        "at" => Cell::Time(Some(r.at)),
        "actor" => Cell::Text(Some(&r.actor)),
        "actor_name" => Cell::Text(Some(&r.actor_name)),
        "note" => Cell::Text(Some(&r.note)),
        "evidence" => Cell::Text(Some(&r.evidence)),
    }
}

pub async fn insert_step(tx: &mut Tx, step: &StepRow) -> Result<()> {
    bulk::write_rows(tx, &format!("inspection_step ({})", STEP_COLUMN_NAMES.join(", ")), "", &[step], |r| {
        step_cells(r)
    })
    .await?;
    Ok(())
}

pub async fn steps(db: &Db, finding_id: &str) -> Result<Vec<StepRow>> {
    let sql =
        format!("SELECT {} FROM inspection_step WHERE finding_id = $1 ORDER BY at, id", STEP_COLUMN_NAMES.join(", "));
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(finding_id).fetch_all(c).await?))
}

/// A photo as listed (without its content).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PhotoMeta {
    pub id: String,
    pub finding_id: String,
    pub sha256: String,
    pub width: i64,
    pub height: i64,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_photo(tx: &mut Tx, meta: &PhotoMeta, content: &[u8], created_by: &str) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO inspection_photo (id, finding_id, sha256, content, width, height, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    )
    .bind(&meta.id)
    .bind(&meta.finding_id)
    .bind(&meta.sha256)
    .bind(content)
    .bind(meta.width)
    .bind(meta.height)
    .bind(created_by)
    .bind(meta.created_at)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// The photos of these findings, in the order taken.
pub async fn photos_of(db: &Db, finding_ids: &[String]) -> Result<Vec<PhotoMeta>> {
    if finding_ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=finding_ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT id, finding_id, sha256, width, height, created_at FROM inspection_photo
         WHERE finding_id IN ({}) ORDER BY created_at, id",
        marks.join(", ")
    );
    Ok(on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql));
        for id in finding_ids {
            q = q.bind(id.clone());
        }
        q.fetch_all(c).await?
    }))
}

/// A photo's finding and content.
pub async fn photo(db: &Db, id: &str) -> Result<Option<(String, Vec<u8>)>> {
    Ok(on_db!(db, |c| sqlx::query_as("SELECT finding_id, content FROM inspection_photo WHERE id = $1")
        .bind(id)
        .fetch_optional(c)
        .await?))
}

/// A monthly inspection bulletin as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BulletinRow {
    pub id: String,
    /// `YYYY-MM`.
    pub month: String,
    /// The office's subtree: the findings it names are those in it.
    pub path: String,
    pub title: String,
    pub intro: String,
    pub closing: String,
    /// A `BulletinState` word.
    pub state: String,
    /// The findings it names while a draft, space-separated.
    pub finding_ids: String,
    /// The photos it shows, space-separated.
    pub photo_ids: String,
    /// The findings as they stood when it was approved (JSON `BulletinLine`s); none while a draft.
    pub lines: Option<String>,
    /// Venues visited that month.
    pub visits: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

columns! {
    fn bulletin_cells(r: &BulletinRow) -> BULLETIN_COLUMN_NAMES {
        "id" => Cell::Text(Some(&r.id)),
        "month" => Cell::Text(Some(&r.month)),
        "path" => Cell::Text(Some(&r.path)),
        "title" => Cell::Text(Some(&r.title)),
        "intro" => Cell::Text(Some(&r.intro)),
        "closing" => Cell::Text(Some(&r.closing)),
        "state" => Cell::Text(Some(&r.state)),
        "finding_ids" => Cell::Text(Some(&r.finding_ids)),
        "photo_ids" => Cell::Text(Some(&r.photo_ids)),
        "lines" => Cell::Text(r.lines.as_deref()),
        "visits" => Cell::Big(Some(r.visits)),
        "created_by" => Cell::Text(Some(&r.created_by)),
        "created_at" => Cell::Time(Some(r.created_at)),
        "approved_by" => Cell::Text(r.approved_by.as_deref()),
        "approved_at" => Cell::Time(r.approved_at),
        "published_at" => Cell::Time(r.published_at),
        "updated_at" => Cell::Time(Some(r.updated_at)),
    }
}

/// Stores a new bulletin; false when the office has one for that month already.
pub async fn insert_bulletin(tx: &mut Tx, b: &BulletinRow) -> Result<bool> {
    let n = bulk::write_rows(
        tx,
        &format!("inspection_bulletin ({})", BULLETIN_COLUMN_NAMES.join(", ")),
        "ON CONFLICT (path, month) DO NOTHING",
        &[b],
        |r| bulletin_cells(r),
    )
    .await?;
    Ok(n > 0)
}

/// Stores a bulletin's new text, choices or state (every column but its id).
pub async fn save_bulletin(tx: &mut Tx, b: &BulletinRow) -> Result<()> {
    let cells = bulletin_cells(b);
    bulk::update(tx, "inspection_bulletin", (&BULLETIN_COLUMN_NAMES[1..], &cells[1..]), "", (&["id"], &cells[..1]))
        .await?;
    Ok(())
}

fn bulletin_by_id() -> String {
    format!("SELECT {} FROM inspection_bulletin WHERE id = $1", BULLETIN_COLUMN_NAMES.join(", "))
}

pub async fn bulletin(db: &Db, id: &str) -> Result<Option<BulletinRow>> {
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(bulletin_by_id())).bind(id).fetch_optional(c).await?))
}

/// The bulletin, read inside a transaction that will change it.
pub async fn bulletin_in(tx: &mut Tx, id: &str) -> Result<Option<BulletinRow>> {
    Ok(on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(bulletin_by_id())).bind(id).fetch_optional(c).await?))
}

/// The bulletins of offices within the scope, the latest month first.
pub async fn bulletins(db: &Db, scope: &Scope, limit: i64) -> Result<Vec<BulletinRow>> {
    let filter = ScopeFilter::any(scope, &["path"], 2);
    let sql = format!(
        "SELECT {} FROM inspection_bulletin WHERE {} ORDER BY month DESC, path LIMIT $1",
        BULLETIN_COLUMN_NAMES.join(", "),
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

/// The published bulletins, the latest first: the public page's.
pub async fn published_bulletins(db: &Db, limit: i64) -> Result<Vec<BulletinRow>> {
    let sql = format!(
        "SELECT {} FROM inspection_bulletin WHERE state = 'published' ORDER BY published_at DESC LIMIT $1",
        BULLETIN_COLUMN_NAMES.join(", ")
    );
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(limit).fetch_all(c).await?))
}

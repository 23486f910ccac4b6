//! The network (org units, windows, staff) and the service catalogue.

use chrono::{DateTime, Utc};
use oversight_domain::access::Scope;
use oversight_domain::item::ServiceItem;
use oversight_domain::org::{Level, OrgCode, OrgKind, OrgPath, OrgUnit};
use sqlx::AssertSqlSafe;

use crate::{Db, Result, ScopeFilter, StoreError, Tx, on_db, on_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
struct OrgRecord {
    code: String,
    parent_code: Option<String>,
    kind: String,
    name: String,
    path: String,
    level: Option<i32>,
}

impl TryFrom<OrgRecord> for OrgUnit {
    type Error = StoreError;
    fn try_from(r: OrgRecord) -> Result<OrgUnit> {
        let bad = |what: &str| StoreError::Corrupt(format!("org_unit {}: {what}", r.code));
        Ok(OrgUnit {
            code: OrgCode::parse(&r.code).map_err(|_| bad("code"))?,
            parent: r.parent_code.as_deref().map(OrgCode::parse).transpose().map_err(|_| bad("parent_code"))?,
            kind: OrgKind::parse(&r.kind).ok_or_else(|| bad("kind"))?,
            name: r.name.clone(),
            level: r.level.map(|l| Level::from_number(i64::from(l)).ok_or_else(|| bad("level"))).transpose()?,
            path: OrgPath::from_stored(r.path),
        })
    }
}

fn units(records: Vec<OrgRecord>) -> Result<Vec<OrgUnit>> {
    records.into_iter().map(OrgUnit::try_from).collect()
}

const ORG_COLUMNS: &str = "code, parent_code, kind, name, path, level";

/// Every unit (for planning an import, which needs the whole tree).
pub async fn all_units(db: &Db) -> Result<Vec<OrgUnit>> {
    let sql = format!("SELECT {ORG_COLUMNS} FROM org_unit ORDER BY path");
    let rows: Vec<OrgRecord> = on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).fetch_all(c).await?);
    units(rows)
}

/// Every unit, read inside a transaction (so that a plan and its application see the same tree).
pub async fn all_units_tx(tx: &mut Tx) -> Result<Vec<OrgUnit>> {
    let sql = format!("SELECT {ORG_COLUMNS} FROM org_unit ORDER BY path");
    let rows: Vec<OrgRecord> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).fetch_all(c).await?);
    units(rows)
}

pub async fn unit(db: &Db, code: &str) -> Result<Option<OrgUnit>> {
    let sql = format!("SELECT {ORG_COLUMNS} FROM org_unit WHERE code = $1");
    let row: Option<OrgRecord> =
        on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(code).fetch_optional(c).await?);
    row.map(OrgUnit::try_from).transpose()
}

/// The root of the network (the city), if any.
pub async fn root(db: &Db) -> Result<Option<OrgUnit>> {
    let sql = format!("SELECT {ORG_COLUMNS} FROM org_unit WHERE parent_code IS NULL");
    let row: Option<OrgRecord> = on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).fetch_optional(c).await?);
    row.map(OrgUnit::try_from).transpose()
}

/// The children of a unit, within the scope.
pub async fn children(db: &Db, scope: &Scope, parent: &str) -> Result<Vec<OrgUnit>> {
    let filter = ScopeFilter::new(scope, "path", 2);
    let sql = format!(
        "SELECT {ORG_COLUMNS} FROM org_unit WHERE parent_code = $1 AND {} ORDER BY kind <> 'service_center' AND kind <> 'convenience_center' AND kind <> 'agent_point', kind = 'department', code",
        filter.sql
    );
    let rows: Vec<OrgRecord> = on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(parent);
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    });
    units(rows)
}

/// The topmost units a scope can see (the roots of its subtrees, or the city).
pub async fn scope_roots(db: &Db, scope: &Scope) -> Result<Vec<OrgUnit>> {
    match scope {
        Scope::All => Ok(root(db).await?.into_iter().collect()),
        Scope::Subtrees(roots) => {
            let mut out = Vec::new();
            for r in roots {
                let sql = format!("SELECT {ORG_COLUMNS} FROM org_unit WHERE path = $1");
                let row: Option<OrgRecord> =
                    on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(r.as_str()).fetch_optional(c).await?);
                if let Some(row) = row {
                    out.push(OrgUnit::try_from(row)?);
                }
            }
            Ok(out)
        }
    }
}

/// How many units of each kind lie under `under` (itself included), within the scope.
pub async fn count_by_kind(db: &Db, scope: &Scope, under: &OrgPath) -> Result<Vec<(OrgKind, i64)>> {
    let filter = ScopeFilter::new(scope, "path", 2);
    let sql = format!(
        "SELECT kind, COUNT(*) FROM org_unit WHERE substr(path, 1, length($1)) = $1 AND {} GROUP BY kind",
        filter.sql
    );
    let rows: Vec<(String, i64)> = on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(under.as_str());
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    });
    let mut out: Vec<(OrgKind, i64)> =
        rows.into_iter().filter_map(|(k, n)| OrgKind::parse(&k).map(|k| (k, n))).collect();
    out.sort_by_key(|(k, _)| OrgKind::ALL.iter().position(|x| x == k));
    Ok(out)
}

/// Units whose code or name contains `text`, within the scope (at most `limit`).
pub async fn search_units(db: &Db, scope: &Scope, text: &str, limit: i64) -> Result<Vec<OrgUnit>> {
    let filter = ScopeFilter::new(scope, "path", 3);
    let sql = format!(
        "SELECT {ORG_COLUMNS} FROM org_unit WHERE (instr(code, $1) > 0 OR instr(name, $1) > 0) AND {} ORDER BY path LIMIT $2",
        filter.sql
    );
    let sql = match db {
        Db::Postgres(_) => {
            sql.replace("instr(code, $1)", "strpos(code, $1)").replace("instr(name, $1)", "strpos(name, $1)")
        }
        Db::Sqlite { .. } => sql,
    };
    let rows: Vec<OrgRecord> = on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(text).bind(limit);
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    });
    units(rows)
}

pub async fn insert_unit(tx: &mut Tx, u: &OrgUnit, now: DateTime<Utc>) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO org_unit (code, parent_code, kind, name, path, level, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)"
    )
    .bind(u.code.as_str())
    .bind(u.parent.as_ref().map(|p| p.as_str().to_string()))
    .bind(u.kind.as_str())
    .bind(&u.name)
    .bind(u.path.as_str())
    .bind(u.level.map(|l| l as i32))
    .bind(now)
    .execute(c).await?.rows_affected()
    });
    Ok(())
}

pub async fn rename_unit(tx: &mut Tx, code: &str, name: &str, now: DateTime<Utc>) -> Result<u64> {
    let done = on_tx!(tx, |c| sqlx::query("UPDATE org_unit SET name = $1, updated_at = $2 WHERE code = $3")
        .bind(name)
        .bind(now)
        .bind(code)
        .execute(c)
        .await?
        .rows_affected());
    Ok(done)
}

/// A window (窗口) a department keeps in a venue.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Window {
    pub id: String,
    pub venue_code: String,
    pub department_code: String,
    pub department_name: String,
    pub name: String,
    pub path: String,
}

/// Every window: (venue code, department code, name), by venue, department and name.
pub async fn all_windows(db: &Db) -> Result<Vec<(String, String, String)>> {
    Ok(on_db!(db, |c| sqlx::query_as(
        "SELECT venue_code, department_code, name FROM service_window ORDER BY venue_code, department_code, name"
    )
    .fetch_all(c)
    .await?))
}

/// Windows of a venue, or of a department in any venue, within the scope.
pub async fn windows(db: &Db, scope: &Scope, venue_or_department: &str) -> Result<Vec<Window>> {
    let filter = ScopeFilter::new(scope, "w.path", 2);
    let sql = format!(
        "SELECT w.id, w.venue_code, w.department_code, d.name AS department_name, w.name, w.path
         FROM service_window w JOIN org_unit d ON d.code = w.department_code
         WHERE (w.venue_code = $1 OR w.department_code = $1) AND {} ORDER BY w.name",
        filter.sql
    );
    let rows: Vec<Window> = on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(venue_or_department);
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    });
    Ok(rows)
}

pub async fn insert_window(
    tx: &mut Tx,
    id: &str,
    venue: &OrgUnit,
    department_code: &str,
    name: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO service_window (id, venue_code, department_code, name, path, created_at) VALUES ($1, $2, $3, $4, $5, $6)"
    )
    .bind(id)
    .bind(venue.code.as_str())
    .bind(department_code)
    .bind(name)
    .bind(venue.path.as_str())
    .bind(now)
    .execute(c).await?.rows_affected()
    });
    Ok(())
}

/// A member of staff of a department, possibly sitting at a window.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Staff {
    pub id: String,
    pub department_code: String,
    pub window_id: Option<String>,
    pub window_name: Option<String>,
    pub name: String,
    pub position: String,
}

pub async fn staff_of_department(db: &Db, scope: &Scope, department: &str) -> Result<Vec<Staff>> {
    let filter = ScopeFilter::new(scope, "s.path", 2);
    let sql = format!(
        "SELECT s.id, s.department_code, s.window_id, w.name AS window_name, s.name, s.position
         FROM staff s LEFT JOIN service_window w ON w.id = s.window_id
         WHERE s.department_code = $1 AND {} ORDER BY s.name",
        filter.sql
    );
    let rows: Vec<Staff> = on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(department);
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    });
    Ok(rows)
}

pub async fn insert_staff(
    tx: &mut Tx,
    id: &str,
    department: &OrgUnit,
    window_id: Option<&str>,
    name: &str,
    position: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO staff (id, department_code, window_id, name, position, path, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(id)
    .bind(department.code.as_str())
    .bind(window_id)
    .bind(name)
    .bind(position)
    .bind(department.path.as_str())
    .bind(now)
    .execute(c).await?.rows_affected()
    });
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct ItemRecord {
    code: String,
    name: String,
    department_code: String,
    legal_days: i32,
    promised_days: i32,
    fee_cents: i64,
}

impl TryFrom<ItemRecord> for ServiceItem {
    type Error = StoreError;
    fn try_from(r: ItemRecord) -> Result<ServiceItem> {
        let bad = || StoreError::Corrupt(format!("service_item {}", r.code));
        Ok(ServiceItem {
            code: OrgCode::parse(&r.code).map_err(|_| bad())?,
            department_code: OrgCode::parse(&r.department_code).map_err(|_| bad())?,
            name: r.name,
            legal_days: r.legal_days,
            promised_days: r.promised_days,
            fee_cents: r.fee_cents,
        })
    }
}

/// A catalogue entry with its department's name.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CatalogueEntry {
    pub item: ServiceItem,
    pub department_name: String,
}

const ITEM_COLUMNS: &str = "i.code, i.name, i.department_code, i.legal_days, i.promised_days, i.fee_cents";

pub async fn all_items_tx(tx: &mut Tx) -> Result<Vec<ServiceItem>> {
    let sql = format!("SELECT {ITEM_COLUMNS} FROM service_item i ORDER BY i.code");
    let rows: Vec<ItemRecord> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).fetch_all(c).await?);
    rows.into_iter().map(ServiceItem::try_from).collect()
}

/// The catalogue within the scope, optionally of one department or matching a text.
pub async fn catalogue(
    db: &Db,
    scope: &Scope,
    department: Option<&str>,
    text: Option<&str>,
) -> Result<Vec<CatalogueEntry>> {
    let filter = ScopeFilter::new(scope, "i.path", 3);
    let find = match db {
        Db::Postgres(_) => "strpos",
        Db::Sqlite { .. } => "instr",
    };
    let sql = format!(
        "SELECT {ITEM_COLUMNS}, d.name AS department_name FROM service_item i JOIN org_unit d ON d.code = i.department_code
         WHERE ($1 = '' OR i.department_code = $1) AND ($2 = '' OR {find}(i.name, $2) > 0 OR {find}(i.code, $2) > 0) AND {}
         ORDER BY i.code",
        filter.sql
    );
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        item: ItemRecord,
        department_name: String,
    }
    let rows: Vec<Row> = on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(department.unwrap_or("")).bind(text.unwrap_or(""));
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    });
    rows.into_iter()
        .map(|r| Ok(CatalogueEntry { item: ServiceItem::try_from(r.item)?, department_name: r.department_name }))
        .collect()
}

pub async fn upsert_item(tx: &mut Tx, item: &ServiceItem, department_path: &OrgPath, now: DateTime<Utc>) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO service_item (code, name, department_code, legal_days, promised_days, fee_cents, path, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, department_code = excluded.department_code,
           legal_days = excluded.legal_days, promised_days = excluded.promised_days, fee_cents = excluded.fee_cents,
           path = excluded.path, updated_at = excluded.updated_at"
    )
    .bind(item.code.as_str())
    .bind(&item.name)
    .bind(item.department_code.as_str())
    .bind(item.legal_days)
    .bind(item.promised_days)
    .bind(item.fee_cents)
    .bind(department_path.as_str())
    .bind(now)
    .execute(c).await?.rows_affected()
    });
    Ok(())
}

/// Jurisdictions and venues per level, and departments, within the scope:
/// `(level or None for departments, is_venue, count)`.
pub async fn count_by_level(db: &Db, scope: &Scope) -> Result<Vec<(Option<Level>, bool, i64)>> {
    let filter = ScopeFilter::new(scope, "path", 1);
    let sql = format!(
        "SELECT level, kind IN ('service_center', 'convenience_center', 'agent_point') AS venue, COUNT(*)
         FROM org_unit WHERE {} GROUP BY level, kind IN ('service_center', 'convenience_center', 'agent_point')",
        filter.sql
    );
    let rows: Vec<(Option<i32>, bool, i64)> = on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql));
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    });
    Ok(rows.into_iter().map(|(l, v, n)| (l.and_then(|l| Level::from_number(i64::from(l))), v, n)).collect())
}

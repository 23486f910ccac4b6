//! Users, their role grants, sessions, login failures and API keys.

use chrono::{DateTime, Utc};
use oversight_domain::access::{Grant, Grants, Role, Scope};
use oversight_domain::org::OrgPath;
use sqlx::AssertSqlSafe;

use crate::{Db, Result, ScopeFilter, StoreError, Tx, on_db, on_tx};

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: String,
    #[serde(skip)]
    pub password_hash: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct GrantRow {
    pub id: String,
    pub user_id: String,
    pub role: String,
    pub org_code: String,
    pub org_name: String,
    pub path: String,
}

impl GrantRow {
    pub fn grant(&self) -> Result<Grant> {
        Ok(Grant {
            role: Role::parse(&self.role)
                .ok_or_else(|| StoreError::Corrupt(format!("role_grant {}: role", self.id)))?,
            path: OrgPath::from_stored(self.path.clone()),
        })
    }
}

pub fn grants_of(rows: &[GrantRow]) -> Result<Grants> {
    Ok(Grants(rows.iter().map(GrantRow::grant).collect::<Result<_>>()?))
}

const USER_COLUMNS: &str = "id, username, display_name, password_hash, active, created_at";

pub async fn user_by_name(db: &Db, username: &str) -> Result<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM app_user WHERE username = $1");
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(username).fetch_optional(c).await?))
}

pub async fn user(db: &Db, id: &str) -> Result<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM app_user WHERE id = $1");
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

pub async fn user_tx(tx: &mut Tx, id: &str) -> Result<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM app_user WHERE id = $1");
    Ok(on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

const GRANTS_OF_USER: &str = "SELECT g.id, g.user_id, g.role, g.org_code, o.name AS org_name, g.path
    FROM role_grant g JOIN org_unit o ON o.code = g.org_code WHERE g.user_id = $1 ORDER BY g.path, g.role";

pub async fn grants(db: &Db, user_id: &str) -> Result<Vec<GrantRow>> {
    Ok(on_db!(db, |c| sqlx::query_as(GRANTS_OF_USER).bind(user_id).fetch_all(c).await?))
}

pub async fn grants_tx(tx: &mut Tx, user_id: &str) -> Result<Vec<GrantRow>> {
    Ok(on_tx!(tx, |c| sqlx::query_as(GRANTS_OF_USER).bind(user_id).fetch_all(c).await?))
}

/// A user with all grants, as listed for an administrator.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UserWithGrants {
    pub user: User,
    pub grants: Vec<GrantRow>,
}

/// The users an administrator of `scope` manages: those with a grant inside the scope, and
/// (for a city-wide scope) those with no grant yet.
pub async fn users_in_scope(db: &Db, scope: &Scope) -> Result<Vec<UserWithGrants>> {
    let filter = ScopeFilter::new(scope, "g.path", 1);
    let everyone =
        matches!(scope, Scope::All) || matches!(scope, Scope::Subtrees(r) if r.iter().any(|p| p.depth() == 1));
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM app_user u WHERE EXISTS (SELECT 1 FROM role_grant g WHERE g.user_id = u.id AND {})
         {} ORDER BY username",
        filter.sql,
        if everyone { "OR NOT EXISTS (SELECT 1 FROM role_grant g2 WHERE g2.user_id = u.id)" } else { "" }
    );
    let users: Vec<User> = on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql));
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    });
    let mut out = Vec::with_capacity(users.len());
    for user in users {
        let grants = grants(db, &user.id).await?;
        out.push(UserWithGrants { user, grants });
    }
    Ok(out)
}

pub async fn insert_user(tx: &mut Tx, u: &User) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO app_user (id, username, display_name, password_hash, active, created_at) VALUES ($1, $2, $3, $4, $5, $6)"
    )
    .bind(&u.id)
    .bind(&u.username)
    .bind(&u.display_name)
    .bind(&u.password_hash)
    .bind(u.active)
    .bind(u.created_at)
    .execute(c).await?.rows_affected()
    });
    Ok(())
}

pub async fn set_password(tx: &mut Tx, user_id: &str, hash: &str) -> Result<()> {
    on_tx!(tx, |c| sqlx::query("UPDATE app_user SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(user_id)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn set_active(tx: &mut Tx, user_id: &str, active: bool) -> Result<()> {
    on_tx!(tx, |c| sqlx::query("UPDATE app_user SET active = $1 WHERE id = $2")
        .bind(active)
        .bind(user_id)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn insert_grant(
    tx: &mut Tx,
    id: &str,
    user_id: &str,
    role: Role,
    org_code: &str,
    path: &OrgPath,
    now: DateTime<Utc>,
) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO role_grant (id, user_id, role, org_code, path, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(user_id)
        .bind(role.as_str())
        .bind(org_code)
        .bind(path.as_str())
        .bind(now)
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(())
}

pub async fn delete_grant(tx: &mut Tx, id: &str) -> Result<u64> {
    Ok(on_tx!(tx, |c| sqlx::query("DELETE FROM role_grant WHERE id = $1").bind(id).execute(c).await?.rows_affected()))
}

// ---- sessions -------------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    pub user_id: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_session(
    tx: &mut Tx,
    token_hash: &str,
    user_id: &str,
    csrf: &str,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO user_session (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(csrf)
    .bind(now)
    .bind(expires)
    .execute(c).await?.rows_affected()
    });
    Ok(())
}

pub async fn session(db: &Db, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>> {
    Ok(on_db!(db, |c| {
        sqlx::query_as(
            "SELECT user_id, csrf_token, expires_at FROM user_session WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(c)
        .await?
    }))
}

pub async fn delete_session(tx: &mut Tx, token_hash: &str) -> Result<()> {
    on_tx!(tx, |c| sqlx::query("DELETE FROM user_session WHERE token_hash = $1")
        .bind(token_hash)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn delete_sessions_of(tx: &mut Tx, user_id: &str) -> Result<()> {
    on_tx!(tx, |c| sqlx::query("DELETE FROM user_session WHERE user_id = $1")
        .bind(user_id)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

pub async fn delete_expired_sessions(tx: &mut Tx, now: DateTime<Utc>) -> Result<u64> {
    Ok(on_tx!(tx, |c| sqlx::query("DELETE FROM user_session WHERE expires_at <= $1")
        .bind(now)
        .execute(c)
        .await?
        .rows_affected()))
}

// ---- login throttling -----------------------------------------------------------------------

pub async fn record_login_failure(
    tx: &mut Tx,
    id: &str,
    username: &str,
    client: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    on_tx!(tx, |c| sqlx::query("INSERT INTO login_failure (id, username, client, at) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(username)
        .bind(client)
        .bind(now)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

/// Failures since `since` for this username and for this client address.
pub async fn login_failures_since(db: &Db, username: &str, client: &str, since: DateTime<Utc>) -> Result<(i64, i64)> {
    let by_user: i64 =
        on_db!(db, |c| sqlx::query_scalar("SELECT COUNT(*) FROM login_failure WHERE username = $1 AND at > $2")
            .bind(username)
            .bind(since)
            .fetch_one(c)
            .await?);
    let by_client: i64 =
        on_db!(db, |c| sqlx::query_scalar("SELECT COUNT(*) FROM login_failure WHERE client = $1 AND at > $2")
            .bind(client)
            .bind(since)
            .fetch_one(c)
            .await?);
    Ok((by_user, by_client))
}

/// Deletes the failures recorded before `before`: throttling looks back one window only.
pub async fn purge_login_failures(tx: &mut Tx, before: DateTime<Utc>) -> Result<u64> {
    Ok(on_tx!(tx, |c| sqlx::query("DELETE FROM login_failure WHERE at < $1")
        .bind(before)
        .execute(c)
        .await?
        .rows_affected()))
}

pub async fn clear_login_failures(tx: &mut Tx, username: &str) -> Result<()> {
    on_tx!(tx, |c| sqlx::query("DELETE FROM login_failure WHERE username = $1")
        .bind(username)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

// ---- API keys -------------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub org_code: String,
    pub path: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// What the key is for, as `KeyPurposes::to_stored` writes it.
    pub purposes: String,
}

pub async fn insert_api_key(tx: &mut Tx, key: &ApiKey, key_hash: &str) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO api_key (id, name, prefix, key_hash, org_code, path, created_at, purposes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&key.id)
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(key_hash)
        .bind(&key.org_code)
        .bind(&key.path)
        .bind(key.created_at)
        .bind(&key.purposes)
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(())
}

pub async fn api_key_by_hash(db: &Db, key_hash: &str) -> Result<Option<ApiKey>> {
    Ok(on_db!(db, |c| {
        sqlx::query_as(
        "SELECT id, name, prefix, org_code, path, created_at, revoked_at, purposes FROM api_key WHERE key_hash = $1 AND revoked_at IS NULL"
    )
    .bind(key_hash)
    .fetch_optional(c)
    .await?
    }))
}

pub async fn api_keys(db: &Db, scope: &Scope) -> Result<Vec<ApiKey>> {
    let filter = ScopeFilter::new(scope, "path", 1);
    let sql = format!(
        "SELECT id, name, prefix, org_code, path, created_at, revoked_at, purposes FROM api_key WHERE {} ORDER BY created_at DESC",
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

pub async fn api_key(db: &Db, id: &str) -> Result<Option<ApiKey>> {
    Ok(on_db!(db, |c| sqlx::query_as(
        "SELECT id, name, prefix, org_code, path, created_at, revoked_at, purposes FROM api_key WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await?))
}

pub async fn revoke_api_key(tx: &mut Tx, id: &str, now: DateTime<Utc>) -> Result<u64> {
    Ok(on_tx!(tx, |c| sqlx::query("UPDATE api_key SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(c)
        .await?
        .rows_affected()))
}

//! Accounts: users and their grants, login with throttling, sessions, and API keys.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::Duration;
use oversight_domain::access::{Action, Grant, Grants, KeyPurposes, Role};
use oversight_domain::org::OrgPath;
use oversight_store::access::{self as store, ApiKey, User};
use oversight_store::audit::{self, NewAudit};
use oversight_store::network as network_store;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{Actor, App, AppError, new_id};

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf[..]);
    hex::encode(buf)
}

/// A password for a new account or a reset, to be shown once (18 hex digits, 72 bits).
pub fn random_password() -> String {
    random_hex(9)
}

/// Compares two secrets (form tokens, hashed codes) in time that does not depend on where they
/// differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Sessions and API keys are stored as the SHA-256 of their secret, never the secret.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()))
        .await
        .map_err(|e| AppError::internal("the password-hashing task failed", e))?
        .map_err(|e| AppError::fault(format!("hashing a password failed: {e}")))
}

/// Password hashes checked at once: each takes ~19 MiB and a core for a while, so a burst of
/// logins waits here instead of taking the server's memory.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

async fn verify_password(password: String, hash: String) -> bool {
    let Ok(_permit) = HASHING.acquire().await else { return false };
    tokio::task::spawn_blocking(move || Argon2::default().verify_password(password.as_bytes(), hash.as_str()).is_ok())
        .await
        .unwrap_or(false)
}

fn parse_username(s: &str) -> Result<String, AppError> {
    let s = s.trim();
    let ok = (2..=MAX_USERNAME).contains(&s.len())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(s.to_string())
    } else {
        Err(AppError::field("username", "用户名须为 2–32 位小写字母、数字或 _ . -"))
    }
}

fn check_password(s: &str) -> Result<(), AppError> {
    let n = s.chars().count();
    if n < 8 {
        return Err(AppError::field("password", "密码至少 8 位"));
    }
    if n > 128 {
        return Err(AppError::field("password", "密码最多 128 位"));
    }
    Ok(())
}

fn parse_display_name(s: &str) -> Result<String, AppError> {
    let s = s.trim();
    match s.chars().count() {
        0 => Err(AppError::field("display_name", "姓名不能为空")),
        n if n > 50 => Err(AppError::field("display_name", "姓名过长（最多 50 个字）")),
        _ => Ok(s.to_string()),
    }
}

/// A new account, as an administrator types it.
pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
    pub role: &'a str,
    pub org_code: &'a str,
}

async fn grant_target(app: &App, actor: &Actor, role: &str, org_code: &str) -> Result<(Role, OrgPath), AppError> {
    let role = Role::parse(role.trim())
        .filter(|r| *r != Role::DepartmentSystem)
        .ok_or_else(|| AppError::field("role", format!("未知角色“{}”", role.trim())))?;
    let unit = network_store::unit(&app.db, org_code.trim())
        .await?
        .filter(|u| actor.may(Action::ManageUsers, &u.path))
        .ok_or_else(|| AppError::field("org_code", format!("单位 {} 不存在或超出您的管理范围", org_code.trim())))?;
    Ok((role, unit.path))
}

/// Creates an account with its first role.
pub async fn create_user(app: &App, actor: &Actor, new: NewUser<'_>) -> Result<User, AppError> {
    if !actor.may_somewhere(Action::ManageUsers) {
        return Err(AppError::Forbidden("您没有管理用户的权限".into()));
    }
    let username = parse_username(new.username)?;
    let display_name = parse_display_name(new.display_name)?;
    check_password(new.password)?;
    let (role, path) = grant_target(app, actor, new.role, new.org_code).await?;
    if store::user_by_name(&app.db, &username).await?.is_some() {
        return Err(AppError::field("username", format!("用户名 {username} 已被使用")));
    }
    let now = app.now();
    let user = User {
        id: new_id(),
        username,
        display_name,
        password_hash: hash_password(new.password.to_string()).await?,
        active: true,
        created_at: now,
    };
    let mut tx = app.db.begin().await?;
    store::insert_user(&mut tx, &user).await.map_err(|e| {
        if e.is_unique_violation() {
            AppError::field("username", format!("用户名 {} 已被使用", user.username))
        } else {
            e.into()
        }
    })?;
    store::insert_grant(&mut tx, &new_id(), &user.id, role, new.org_code.trim(), &path, now).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "user.create",
            target: &user.username,
            path: path.as_str(),
            detail: json!({ "display_name": user.display_name, "role": role.as_str(), "org": new.org_code.trim() }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// A user the actor may manage: every grant of the user lies where the actor manages users
/// (a user without grants only for a city-wide administrator).
async fn managed_user(app: &App, actor: &Actor, user_id: &str) -> Result<(User, Vec<store::GrantRow>), AppError> {
    let user = store::user(&app.db, user_id).await?.ok_or_else(|| AppError::NotFound("用户".into()))?;
    let grants = store::grants(&app.db, user_id).await?;
    let city_admin = actor.may_city_wide(Action::ManageUsers);
    let manages = if grants.is_empty() {
        city_admin
    } else {
        grants.iter().all(|g| actor.may(Action::ManageUsers, &OrgPath::from_stored(g.path.clone())))
    };
    if !manages {
        return Err(AppError::NotFound("用户".into()));
    }
    Ok((user, grants))
}

pub async fn user_detail(app: &App, actor: &Actor, user_id: &str) -> Result<store::UserWithGrants, AppError> {
    let (user, grants) = managed_user(app, actor, user_id).await?;
    Ok(store::UserWithGrants { user, grants })
}

pub async fn grant_role(app: &App, actor: &Actor, user_id: &str, role: &str, org_code: &str) -> Result<(), AppError> {
    let (user, grants) = managed_user(app, actor, user_id).await?;
    let (role, path) = grant_target(app, actor, role, org_code).await?;
    if grants.iter().any(|g| g.role == role.as_str() && g.org_code == org_code.trim()) {
        return Err(AppError::field("role", "该用户已有此角色"));
    }
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::insert_grant(&mut tx, &new_id(), &user.id, role, org_code.trim(), &path, now).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "user.grant",
            target: &user.username,
            path: path.as_str(),
            detail: json!({ "role": role.as_str(), "org": org_code.trim() }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn revoke_grant(app: &App, actor: &Actor, user_id: &str, grant_id: &str) -> Result<(), AppError> {
    let (user, grants) = managed_user(app, actor, user_id).await?;
    let grant = grants.iter().find(|g| g.id == grant_id).ok_or_else(|| AppError::NotFound("角色".into()))?;
    if actor.user_id.as_deref() == Some(user_id) && grant.role == Role::Admin.as_str() {
        return Err(AppError::Conflict("不能撤销自己的管理员角色".into()));
    }
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::delete_grant(&mut tx, grant_id).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "user.revoke",
            target: &user.username,
            path: &grant.path,
            detail: json!({ "role": grant.role, "org": grant.org_code }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_password(app: &App, actor: &Actor, user_id: &str, password: &str) -> Result<(), AppError> {
    let (user, grants) = managed_user(app, actor, user_id).await?;
    check_password(password)?;
    let hash = hash_password(password.to_string()).await?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::set_password(&mut tx, &user.id, &hash).await?;
    store::delete_sessions_of(&mut tx, &user.id).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "user.password",
            target: &user.username,
            path: grants.first().map_or("/", |g| g.path.as_str()),
            detail: json!({}),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_active(app: &App, actor: &Actor, user_id: &str, active: bool) -> Result<(), AppError> {
    let (user, grants) = managed_user(app, actor, user_id).await?;
    if !active && actor.user_id.as_deref() == Some(user_id) {
        return Err(AppError::Conflict("不能停用自己的账号".into()));
    }
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::set_active(&mut tx, &user.id, active).await?;
    if !active {
        store::delete_sessions_of(&mut tx, &user.id).await?;
    }
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: if active { "user.activate" } else { "user.deactivate" },
            target: &user.username,
            path: grants.first().map_or("/", |g| g.path.as_str()),
            detail: json!({ "before": user.active, "after": active }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A signed-in session: the cookie's secret and the form token that goes with it.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf: String,
    pub actor: Actor,
}

/// A hash that a missing user's login is checked against, so that a wrong user name takes as
/// long as a wrong password.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$5n2M0/2uN5mFJb0jJt4Nq6CjH0mDRcYp0Zk8c0s7f5k";

/// Checks a user name and password, throttled per user name and per client address.
/// The longest user name an account may have.
const MAX_USERNAME: usize = 32;

pub async fn login(app: &App, username: &str, password: &str, client: &str) -> Result<NewSession, AppError> {
    let username = username.trim().to_lowercase();
    let now = app.now();
    let window = Duration::minutes(app.config.login_window_minutes);
    // The attempt is stored as a failure, and committed, before it is judged; it is counted with
    // every attempt committed before the count. The k-th attempt to commit sees at least k, so
    // however many arrive at once, no more than the limit are judged (a burst of 40 judged 39
    // when failures were counted before the check and stored after it).
    // No account has a longer name (2–32 characters): such an attempt is counted under its first
    // characters and refused without a password check, so no row holds a megabyte of name.
    let too_long = username.chars().count() > MAX_USERNAME;
    let recorded: String = username.chars().take(MAX_USERNAME).collect();
    let attempt = new_id();
    let mut tx = app.db.begin().await?;
    // Failures older than the window count for nothing: they go, so the table stays small.
    store::purge_login_failures(&mut tx, now - window).await?;
    store::record_login_failure(&mut tx, &attempt, &recorded, client, now).await?;
    tx.commit().await?;
    if too_long {
        return Err(AppError::Forbidden("用户名或密码错误，或账号已停用".into()));
    }
    let (by_user, by_client) = store::login_failures_since(&app.db, &username, client, now - window).await?;
    if by_user > app.config.login_max_failures || by_client > app.config.login_max_failures * 5 {
        return Err(AppError::Throttled(app.config.login_window_minutes));
    }
    let user = store::user_by_name(&app.db, &username).await?;
    let hash = user.as_ref().map_or(DUMMY_HASH.to_string(), |u| u.password_hash.clone());
    let good = verify_password(password.to_string(), hash).await && user.as_ref().is_some_and(|u| u.active);
    let Some(user) = user.filter(|_| good) else {
        return Err(AppError::Forbidden("用户名或密码错误，或账号已停用".into()));
    };
    let mut tx = app.db.begin().await?;
    store::clear_login_failures(&mut tx, &username).await?;
    store::delete_expired_sessions(&mut tx, now).await?;
    let token = random_hex(32);
    let csrf = random_hex(32);
    store::insert_session(
        &mut tx,
        &secret_hash(&token),
        &user.id,
        &csrf,
        now,
        now + Duration::hours(app.config.session_hours),
    )
    .await?;
    let grants = store::grants_tx(&mut tx, &user.id).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &format!("user:{}", user.username),
            action: "login",
            target: &user.username,
            path: "/",
            detail: json!({}),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    let actor = user_actor(&user, store::grants_of(&grants)?);
    Ok(NewSession { token, csrf, actor })
}

fn user_actor(user: &User, grants: Grants) -> Actor {
    Actor {
        user_id: Some(user.id.clone()),
        label: format!("user:{}", user.username),
        display_name: user.display_name.clone(),
        grants,
        everything: false,
        key_purposes: None,
    }
}

/// The actor of a user by name, without a session: the demo acts as its accounts.
pub async fn actor_of(app: &App, username: &str) -> Result<Option<Actor>, AppError> {
    let Some(user) = store::user_by_name(&app.db, username).await?.filter(|u| u.active) else {
        return Ok(None);
    };
    let grants = store::grants_of(&store::grants(&app.db, &user.id).await?)?;
    Ok(Some(user_actor(&user, grants)))
}

/// The actor of a session cookie, with the session's form token; `None` when the session is
/// unknown, expired, or its user was deactivated.
pub async fn session_actor(app: &App, token: &str) -> Result<Option<(Actor, String)>, AppError> {
    let Some(session) = store::session(&app.db, &secret_hash(token), app.now()).await? else {
        return Ok(None);
    };
    let Some(user) = store::user(&app.db, &session.user_id).await?.filter(|u| u.active) else {
        return Ok(None);
    };
    let grants = store::grants_of(&store::grants(&app.db, &user.id).await?)?;
    Ok(Some((user_actor(&user, grants), session.csrf_token)))
}

pub async fn logout(app: &App, token: &str) -> Result<(), AppError> {
    let mut tx = app.db.begin().await?;
    store::delete_session(&mut tx, &secret_hash(token)).await?;
    tx.commit().await?;
    Ok(())
}

/// Creates an API key for a department system or an Open311 client, bound to a subtree (the
/// whole city when none is named) and to what it is for. The secret is returned once and
/// stored only as a hash.
pub async fn create_api_key(
    app: &App,
    actor: &Actor,
    name: &str,
    org_code: Option<&str>,
    purposes: &KeyPurposes,
) -> Result<(ApiKey, String), AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::field("name", "名称不能为空，最多 100 个字"));
    }
    if purposes.is_empty() {
        return Err(AppError::field("purposes", "至少选择一项用途"));
    }
    let unit = match org_code.map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => network_store::unit(&app.db, code).await?,
        None => network_store::root(&app.db).await?,
    }
    .filter(|u| actor.may(Action::ManageApiKeys, &u.path))
    .ok_or_else(|| {
        AppError::field("scope", format!("单位 {} 不存在或超出您的管理范围", org_code.unwrap_or("（根）")))
    })?;
    let secret = format!("ovk_{}", random_hex(24));
    let now = app.now();
    let key = ApiKey {
        id: new_id(),
        name: name.to_string(),
        prefix: secret[..12].to_string(),
        org_code: unit.code.as_str().to_string(),
        path: unit.path.as_str().to_string(),
        created_at: now,
        revoked_at: None,
        purposes: purposes.to_stored(),
    };
    let mut tx = app.db.begin().await?;
    store::insert_api_key(&mut tx, &key, &secret_hash(&secret)).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "api_key.create",
            target: &key.prefix,
            path: &key.path,
            detail: json!({ "name": key.name, "scope": key.org_code, "purposes": key.purposes }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok((key, secret))
}

pub async fn revoke_api_key(app: &App, actor: &Actor, id: &str) -> Result<(), AppError> {
    let key = store::api_key(&app.db, id)
        .await?
        .filter(|k| actor.may(Action::ManageApiKeys, &OrgPath::from_stored(k.path.clone())))
        .ok_or_else(|| AppError::NotFound("API 密钥".into()))?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::revoke_api_key(&mut tx, id, now).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "api_key.revoke",
            target: &key.prefix,
            path: &key.path,
            detail: json!({}),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The actor of an API key: a department system that sees its subtree.
pub async fn api_key_actor(app: &App, secret: &str) -> Result<Option<Actor>, AppError> {
    let Some(key) = store::api_key_by_hash(&app.db, &secret_hash(secret.trim())).await? else {
        return Ok(None);
    };
    let purposes = KeyPurposes::parse(&key.purposes)
        .map_err(|e| AppError::fault(format!("API key {}: stored purposes unreadable: {e}", key.prefix)))?;
    Ok(Some(Actor {
        user_id: None,
        label: format!("api-key:{}", key.prefix),
        display_name: key.name,
        grants: Grants(vec![Grant { role: Role::DepartmentSystem, path: OrgPath::from_stored(key.path) }]),
        everything: false,
        key_purposes: Some(purposes),
    }))
}

/// The users the actor may manage, with their grants.
pub async fn users(app: &App, actor: &Actor) -> Result<Vec<store::UserWithGrants>, AppError> {
    actor.require_somewhere(Action::ManageUsers, "管理用户")?;
    Ok(store::users_in_scope(&app.db, &actor.scope_for(Action::ManageUsers)).await?)
}

/// The API keys the actor may manage.
pub async fn api_keys(app: &App, actor: &Actor) -> Result<Vec<ApiKey>, AppError> {
    actor.require_somewhere(Action::ManageApiKeys, "管理接口密钥")?;
    Ok(store::api_keys(&app.db, &actor.scope_for(Action::ManageApiKeys)).await?)
}

/// Up to `limit` audit rows filed in the actor's scope, newest first, before `before` (a
/// sequence number) when given.
pub async fn audit_rows(
    app: &App,
    actor: &Actor,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<audit::AuditRow>, AppError> {
    actor.require_somewhere(Action::ViewAudit, "查看审计日志")?;
    Ok(audit::recent(&app.db, &actor.scope_for(Action::ViewAudit), before, limit).await?)
}

/// Checks the whole hash chain of the audit log. It reads every row, so only a city-wide
/// auditor may start it (a district's cannot read the rows it would be checking).
pub async fn verify_audit(app: &App, actor: &Actor) -> Result<audit::ChainReport, AppError> {
    if !actor.may_city_wide(Action::ViewAudit) {
        return Err(AppError::Forbidden("校验整条哈希链（须有全市范围的审计权限）".into()));
    }
    Ok(audit::verify(&app.db).await?)
}

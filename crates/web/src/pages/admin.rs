use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use oversight_app::accounts::{self, NewUser};
use oversight_app::{App, AppError};
use oversight_domain::access::{Action, KeyPurpose, KeyPurposes, Role};
use oversight_store::access::{ApiKey, UserWithGrants};
use oversight_store::audit::AuditRow;

use super::Done;
use crate::error::PageError;
use crate::session::{CurrentUser, SessionInfo};
use crate::view::Layout;

fn forbidden(what: &str) -> PageError {
    PageError::new(axum::http::StatusCode::FORBIDDEN, format!("您没有{what}的权限"))
}

fn roles() -> Vec<(&'static str, &'static str)> {
    Role::for_people().map(|r| (r.as_str(), r.label())).collect()
}

fn role_label(role: &str) -> &'static str {
    Role::parse(role).map_or("未知角色", |r| r.label())
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/users.html")]
struct UsersPage {
    l: Layout,
    users: Vec<UserWithGrants>,
}

impl UsersPage {
    fn role_label(&self, role: &str) -> &'static str {
        role_label(role)
    }
}

pub async fn users(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(d): Query<Done>,
) -> Result<impl IntoResponse, PageError> {
    if !s.actor.may_somewhere(Action::ManageUsers) {
        return Err(forbidden("管理用户"));
    }
    let users = accounts::users(&app, &s.actor).await?;
    Ok(UsersPage { l: Layout::new(&s, "/admin/users", "用户与角色").with_notice(d.done.as_deref()), users })
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/new_user.html")]
struct NewUserPage {
    l: Layout,
    roles: Vec<(&'static str, &'static str)>,
    username: String,
    display_name: String,
    role: String,
    org_code: String,
    error: Option<String>,
}

pub async fn new_user(CurrentUser(s): CurrentUser) -> Result<impl IntoResponse, PageError> {
    if !s.actor.may_somewhere(Action::ManageUsers) {
        return Err(forbidden("管理用户"));
    }
    Ok(NewUserPage {
        l: Layout::new(&s, "/admin/users", "新建用户"),
        roles: roles(),
        username: String::new(),
        display_name: String::new(),
        role: "liaison".into(),
        org_code: String::new(),
        error: None,
    })
}

#[derive(serde::Deserialize)]
pub struct NewUserForm {
    username: String,
    display_name: String,
    password: String,
    role: String,
    org_code: String,
}

fn messages(e: &AppError) -> String {
    match e {
        AppError::Invalid(errs) => errs.iter().map(|x| x.reason.clone()).collect::<Vec<_>>().join("；"),
        other => other.to_string(),
    }
}

pub async fn create_user(State(app): State<App>, CurrentUser(s): CurrentUser, Form(f): Form<NewUserForm>) -> Response {
    let new = NewUser {
        username: &f.username,
        display_name: &f.display_name,
        password: &f.password,
        role: &f.role,
        org_code: &f.org_code,
    };
    match accounts::create_user(&app, &s.actor, new).await {
        Ok(user) => Redirect::to(&format!("/admin/users/{}?done=user", user.id)).into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => (
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            NewUserPage {
                l: Layout::new(&s, "/admin/users", "新建用户"),
                roles: roles(),
                username: f.username,
                display_name: f.display_name,
                role: f.role,
                org_code: f.org_code,
                error: Some(messages(&e)),
            },
        )
            .into_response(),
        Err(e) => PageError::from(e).into_response(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/user.html")]
struct UserPage {
    l: Layout,
    u: UserWithGrants,
    roles: Vec<(&'static str, &'static str)>,
    error: Option<String>,
    is_self: bool,
}

impl UserPage {
    fn role_label(&self, role: &str) -> &'static str {
        role_label(role)
    }
}

async fn user_page(
    app: &App,
    s: &SessionInfo,
    id: &str,
    error: Option<String>,
    done: Option<&str>,
) -> Result<UserPage, PageError> {
    let u = accounts::user_detail(app, &s.actor, id).await?;
    Ok(UserPage {
        l: Layout::new(s, "/admin/users", format!("用户 {}", u.user.username)).with_notice(done),
        is_self: s.actor.user_id.as_deref() == Some(id),
        u,
        roles: roles(),
        error,
    })
}

pub async fn user(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Query(d): Query<Done>,
) -> Result<impl IntoResponse, PageError> {
    user_page(&app, &s, &id, None, d.done.as_deref()).await
}

async fn after(app: &App, s: &SessionInfo, id: &str, result: Result<(), AppError>, done: &str) -> Response {
    match result {
        Ok(()) => Redirect::to(&format!("/admin/users/{id}?done={done}")).into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            match user_page(app, s, id, Some(messages(&e)), None).await {
                Ok(page) => (axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response(),
                Err(pe) => pe.into_response(),
            }
        }
        Err(e) => PageError::from(e).into_response(),
    }
}

#[derive(serde::Deserialize)]
pub struct GrantForm {
    role: String,
    org_code: String,
}

pub async fn grant(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<GrantForm>,
) -> Response {
    let r = accounts::grant_role(&app, &s.actor, &id, &f.role, &f.org_code).await;
    after(&app, &s, &id, r, "grant").await
}

pub async fn revoke(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path((id, grant)): Path<(String, String)>,
) -> Response {
    let r = accounts::revoke_grant(&app, &s.actor, &id, &grant).await;
    after(&app, &s, &id, r, "revoked").await
}

#[derive(serde::Deserialize)]
pub struct PasswordForm {
    password: String,
}

pub async fn password(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<PasswordForm>,
) -> Response {
    let r = accounts::set_password(&app, &s.actor, &id, &f.password).await;
    after(&app, &s, &id, r, "password").await
}

#[derive(serde::Deserialize)]
pub struct ActiveForm {
    active: String,
}

pub async fn active(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<ActiveForm>,
) -> Response {
    let r = accounts::set_active(&app, &s.actor, &id, f.active == "true").await;
    after(&app, &s, &id, r, "active").await
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/api_keys.html")]
struct ApiKeysPage {
    l: Layout,
    keys: Vec<ApiKey>,
    created: Option<(ApiKey, String)>,
    name: String,
    scope: String,
    /// The purposes ticked on the form.
    purposes: KeyPurposes,
    error: Option<String>,
}

impl ApiKeysPage {
    fn all_purposes(&self) -> [KeyPurpose; 5] {
        KeyPurpose::ALL
    }

    /// A stored key's purposes in Chinese.
    fn purpose_labels(&self, key: &ApiKey) -> String {
        KeyPurposes::parse(&key.purposes).map(|p| p.labels()).unwrap_or_else(|_| key.purposes.clone())
    }
}

pub async fn api_keys(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(d): Query<Done>,
) -> Result<impl IntoResponse, PageError> {
    if !s.actor.may_somewhere(Action::ManageApiKeys) {
        return Err(forbidden("管理接口密钥"));
    }
    let keys = accounts::api_keys(&app, &s.actor).await?;
    Ok(ApiKeysPage {
        l: Layout::new(&s, "/admin/api-keys", "接口密钥").with_notice(d.done.as_deref()),
        keys,
        created: None,
        name: String::new(),
        scope: String::new(),
        purposes: KeyPurposes::default(),
        error: None,
    })
}

/// The form's fields: `name`, `scope` and one `purpose` per ticked box.
pub async fn create_api_key(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    if !s.actor.may_somewhere(Action::ManageApiKeys) {
        return Err(forbidden("管理接口密钥"));
    }
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let (name, scope) = (field("name"), field("scope"));
    let purposes = KeyPurposes::from(
        fields.iter().filter(|(k, _)| k == "purpose").filter_map(|(_, v)| KeyPurpose::parse(v)).collect::<Vec<_>>(),
    );
    let result = accounts::create_api_key(&app, &s.actor, &name, Some(scope.as_str()), &purposes).await;
    let keys = accounts::api_keys(&app, &s.actor).await?;
    let l = Layout::new(&s, "/admin/api-keys", "接口密钥");
    Ok(match result {
        // The secret is shown on this response only; it is never stored.
        Ok(created) => ApiKeysPage {
            l,
            keys,
            created: Some(created),
            name: String::new(),
            scope: String::new(),
            purposes: KeyPurposes::default(),
            error: None,
        }
        .into_response(),
        Err(e @ AppError::Invalid(_)) => (
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            ApiKeysPage { l, keys, created: None, name, scope, purposes, error: Some(messages(&e)) },
        )
            .into_response(),
        Err(e) => PageError::from(e).into_response(),
    })
}

pub async fn revoke_api_key(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    accounts::revoke_api_key(&app, &s.actor, &id).await?;
    Ok(Redirect::to("/admin/api-keys?done=key-revoked").into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    l: Layout,
    rows: Vec<AuditRow>,
    next: Option<i64>,
    chain: Option<String>,
    /// Whether the viewer may verify the whole chain (a city-wide auditor).
    may_verify: bool,
}

#[derive(serde::Deserialize, Default)]
pub struct AuditQuery {
    before: Option<i64>,
    verify: Option<String>,
}

pub async fn audit(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(q): Query<AuditQuery>,
) -> Result<impl IntoResponse, PageError> {
    if !s.actor.may_somewhere(Action::ViewAudit) {
        return Err(forbidden("查看审计日志"));
    }
    const PAGE: i64 = 100;
    let rows = accounts::audit_rows(&app, &s.actor, q.before, PAGE).await?;
    let next = if rows.len() as i64 == PAGE { rows.last().map(|r| r.seq) } else { None };
    // The whole chain is read to verify it: city-wide auditors only (a district's cannot read
    // the rows it would be checking, and should not be able to start the longest read there is).
    let may_verify = s.actor.may_city_wide(Action::ViewAudit);
    if q.verify.is_some() && !may_verify {
        return Err(forbidden("校验整条哈希链（须有全市范围的审计权限）"));
    }
    let chain = if q.verify.is_some() {
        let report = accounts::verify_audit(&app, &s.actor).await?;
        Some(match report.first_break {
            None => format!("哈希链完整：共 {} 条记录，未发现改动。", report.rows),
            Some(b) => format!("哈希链断裂：{b}"),
        })
    } else {
        None
    };
    Ok(AuditPage { l: Layout::new(&s, "/audit", "审计日志"), rows, next, chain, may_verify })
}

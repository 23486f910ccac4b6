//! Sessions and CSRF: one middleware loads the session of the cookie and checks the form token
//! of every state-changing page request; extractors hand the caller to handlers.

use std::collections::HashMap;

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use oversight_app::{Actor, App, accounts};
use oversight_domain::access::KeyPurpose;

use crate::error::{ApiError, PageError};

pub const SESSION_COOKIE: &str = "oversight_session";
/// Before login there is no session: the login form's token is checked against this cookie.
pub const PRE_SESSION_COOKIE: &str = "oversight_csrf";
/// Form bodies larger than this are refused before they are read (uploads use multipart).
const MAX_FORM_BYTES: usize = 2 * 1024 * 1024;

/// The signed-in user of a request.
#[derive(Clone)]
pub struct SessionInfo {
    pub actor: Actor,
    pub csrf: String,
    pub token: String,
    /// The office's time zone, in which pages show times.
    pub tz: chrono_tz::Tz,
}

#[derive(Clone)]
struct MaybeSession(Option<SessionInfo>);

pub fn cookies(headers: &HeaderMap) -> HashMap<String, String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query?)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

pub async fn session_layer(State(app): State<App>, req: Request, next: Next) -> Response {
    let jar = cookies(req.headers());
    let session = match jar.get(SESSION_COOKIE) {
        Some(token) => match accounts::session_actor(&app, token).await {
            Ok(found) => {
                found.map(|(actor, csrf)| SessionInfo { actor, csrf, token: token.clone(), tz: app.config.tz() })
            }
            Err(e) => return PageError::from(e).into_response(),
        },
        None => None,
    };
    let mut req = req;
    let path = req.uri().path().to_string();
    // The JSON API and Open311 authenticate each request with a key, not a cookie.
    if req.method() == Method::POST && !path.starts_with("/api/") && !path.starts_with("/open311/") {
        let expected = session.as_ref().map(|s| s.csrf.clone()).or_else(|| jar.get(PRE_SESSION_COOKIE).cloned());
        let (parts, body) = req.into_parts();
        let mut supplied = query_param(parts.uri.query(), "csrf")
            .or_else(|| parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_string));
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let body = if supplied.is_none() && is_form {
            let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
                return PageError::new(StatusCode::PAYLOAD_TOO_LARGE, "提交的内容过大").into_response();
            };
            supplied = query_param(std::str::from_utf8(&bytes).ok(), "csrf");
            Body::from(bytes)
        } else {
            body
        };
        let ok = matches!((&expected, &supplied), (Some(e), Some(s)) if accounts::constant_time_eq(e, s));
        if !ok {
            return PageError::new(StatusCode::FORBIDDEN, "页面已过期或来源不明（CSRF 校验失败），请刷新页面后重试")
                .into_response();
        }
        req = Request::from_parts(parts, body);
    }
    req.extensions_mut().insert(MaybeSession(session));
    next.run(req).await
}

/// The signed-in user; pages that need one redirect to the login page without it.
pub struct CurrentUser(pub SessionInfo);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<MaybeSession>().and_then(|s| s.0.clone()) {
            Some(s) => Ok(CurrentUser(s)),
            None => {
                let next = parts.uri.path_and_query().map_or("/".to_string(), |p| p.to_string());
                let target = if parts.method == Method::GET { next } else { "/".into() };
                let query = serde_urlencoded::to_string([("next", target)]).unwrap_or_default();
                Err(Redirect::to(&format!("/login?{query}")).into_response())
            }
        }
    }
}

/// The signed-in user, if any (the login page).
pub struct OptionalUser(pub Option<SessionInfo>);

impl<S: Send + Sync> FromRequestParts<S> for OptionalUser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(OptionalUser(parts.extensions.get::<MaybeSession>().and_then(|s| s.0.clone())))
    }
}

/// Which API keys a route of the JSON API takes, set on the route (`.layer(KeyUse::…)`): any
/// key (reference data), or only keys made for one purpose. A route without it takes no key.
#[derive(Debug, Clone, Copy)]
pub enum KeyUse {
    Any,
    For(KeyPurpose),
}

impl<S> tower::Layer<S> for KeyUse {
    type Service = axum::middleware::AddExtension<S, KeyUse>;

    fn layer(&self, inner: S) -> Self::Service {
        axum::Extension(*self).layer(inner)
    }
}

/// The caller of the JSON API: an API key (`Authorization: Bearer …` or `X-Api-Key`) made for
/// what the route does ([`KeyUse`]), or a signed-in user for reads (writes from a browser would
/// bypass the form token).
pub struct ApiCaller(pub Actor);

impl FromRequestParts<App> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let key = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .or_else(|| parts.headers.get("x-api-key").and_then(|v| v.to_str().ok()));
        if let Some(key) = key {
            let Some(actor) = accounts::api_key_actor(app, key).await? else {
                return Err(ApiError::new(StatusCode::UNAUTHORIZED, "API 密钥无效或已吊销"));
            };
            match parts.extensions.get::<KeyUse>() {
                Some(KeyUse::Any) => {}
                Some(KeyUse::For(purpose)) => actor.require_purpose(*purpose)?,
                None => return Err(ApiError::new(StatusCode::FORBIDDEN, "本接口不接受接口密钥，请登录后使用")),
            }
            return Ok(ApiCaller(actor));
        }
        match parts.extensions.get::<MaybeSession>().and_then(|s| s.0.clone()) {
            Some(s) if parts.method == Method::GET || parts.method == Method::HEAD => Ok(ApiCaller(s.actor)),
            Some(_) => Err(ApiError::new(StatusCode::UNAUTHORIZED, "写操作须使用 API 密钥")),
            None => Err(ApiError::new(StatusCode::UNAUTHORIZED, "需要 API 密钥（Authorization: Bearer …）或登录")),
        }
    }
}

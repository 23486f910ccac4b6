//! The citizen's pages: file an order on the web without an account, and follow it with its
//! number and query code. Plain forms, no script, no images; limited per client address so
//! that a flood from one address cannot bury the hotline.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use oversight_app::hotline::{self, Intake, PublicView};
use oversight_app::{App, AppError};
use oversight_domain::RowError;
use oversight_domain::ticket::TicketType;

use super::auth::{pre_session_cookie, random_token};
use super::hotline::OrderForm;
use crate::client::Client;
use crate::error::PageError;
use crate::session::OptionalUser;
use crate::view::{FieldErrors, LocalTime};

/// Counts requests per client address in fixed windows; memory stays bounded because expired
/// windows are dropped whenever the table grows large.
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    /// The most clients counted at once.
    capacity: usize,
    table: Mutex<Table>,
}

struct Table {
    hits: HashMap<String, (Instant, u32)>,
    /// When windows that ended were last dropped.
    swept: Instant,
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> RateLimiter {
        RateLimiter::with_capacity(limit, window, 100_000)
    }

    pub fn with_capacity(limit: u32, window: Duration, capacity: usize) -> RateLimiter {
        let table = Table { hits: HashMap::new(), swept: Instant::now() };
        RateLimiter { limit, window, capacity, table: Mutex::new(table) }
    }

    /// Whether `key` may make one more request now (and counts it). Memory is bounded: when the
    /// table is full, windows that ended are dropped (at most once a sixtieth of a window, so a
    /// flood does not sweep on every request); if every client in it is still within its
    /// window, a new client is refused until one ends (more distinct clients in one window than
    /// the capacity is a flood, not citizens; the page points to the phone line).
    pub fn allow(&self, key: &str) -> bool {
        let now = Instant::now();
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let Table { hits, swept } = &mut *table;
        if hits.len() >= self.capacity && !hits.contains_key(key) {
            if now.duration_since(*swept) >= self.window / 60 {
                hits.retain(|_, (start, _)| now.duration_since(*start) < self.window);
                *swept = now;
            }
            if hits.len() >= self.capacity {
                return false;
            }
        }
        let entry = hits.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.limit {
            return false;
        }
        entry.1 += 1;
        true
    }
}

/// The limits of the public pages: orders filed, and queries (which guess codes).
#[derive(Clone)]
pub struct PublicLimits {
    pub orders: Arc<RateLimiter>,
    pub queries: Arc<RateLimiter>,
}

impl PublicLimits {
    pub fn new(orders_per_hour: u32) -> PublicLimits {
        let hour = Duration::from_secs(3600);
        PublicLimits {
            orders: Arc::new(RateLimiter::new(orders_per_hour, hour)),
            queries: Arc::new(RateLimiter::new(orders_per_hour.saturating_mul(6).max(30), hour)),
        }
    }
}

fn too_many() -> Response {
    let e = PageError::new(StatusCode::TOO_MANY_REQUESTS, "提交过于频繁，请稍后再试，或拨打 963333 热线");
    ([(header::RETRY_AFTER, "3600")], e).into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "public/form.html")]
struct FormPage {
    css: String,
    js: String,
    csrf: String,
    f: OrderForm,
    errors: FieldErrors,
    types: [TicketType; 6],
    max: usize,
}

/// The form token of a public page: the session's when signed in, else a fresh pre-session one.
fn token(app: &App, client: &Client, user: &OptionalUser) -> (String, Option<String>) {
    match &user.0 {
        Some(s) => (s.csrf.clone(), None),
        None => {
            let t = random_token();
            (t.clone(), Some(pre_session_cookie(client.cookie_secure(app.config.secure_cookies), &t)))
        }
    }
}

fn with_cookie(cookie: Option<String>, page: impl IntoResponse) -> Response {
    match cookie {
        Some(c) => ([(header::SET_COOKIE, c)], page).into_response(),
        None => page.into_response(),
    }
}

fn form_page(csrf: String, f: OrderForm, errors: Vec<RowError>) -> FormPage {
    FormPage {
        css: crate::assets::url("app.css"),
        js: crate::assets::url("app.js"),
        csrf,
        f,
        errors: FieldErrors(errors),
        types: TicketType::ALL,
        max: hotline::MAX_SUMMARY,
    }
}

pub async fn form(State(app): State<App>, client: Client, user: OptionalUser) -> Response {
    let (csrf, cookie) = token(&app, &client, &user);
    with_cookie(cookie, form_page(csrf, OrderForm::default(), vec![]))
}

#[derive(Template, WebTemplate)]
#[template(path = "public/created.html")]
struct CreatedPage {
    css: String,
    csrf: String,
    ticket_no: String,
    query_code: String,
    expected: Option<chrono::NaiveDate>,
    department: Option<String>,
}

/// Carries a citizen's new ticket number and query code from the form's answer to the page
/// that shows them (post, redirect, get): a refresh shows them again and files nothing.
const FILED_COOKIE: &str = "oversight_filed";
const FILED_PAGE: &str = "/public/hotline/filed";

pub async fn create(
    State(app): State<App>,
    Extension(limits): Extension<PublicLimits>,
    client: Client,
    user: OptionalUser,
    Form(f): Form<OrderForm>,
) -> Result<Response, PageError> {
    if !limits.orders.allow(&client.key()) {
        return Ok(too_many());
    }
    let mut new = f.new_order();
    // Citizens do not name codes; the operator dispatches.
    new.venue_code.clear();
    new.department_code.clear();
    let created = async { hotline::create_order(&app, Intake::Citizen, &hotline::parse_order(&new)?).await };
    match created.await {
        Ok(c) => {
            let secure = client.cookie_secure(app.config.secure_cookies);
            let filed = format!(
                "{FILED_COOKIE}={}.{}; Path={FILED_PAGE}; Max-Age=1800; HttpOnly; SameSite=Lax{secure}",
                c.ticket_no, c.query_code
            );
            // The page it leads to hands out the next form token.
            Ok(([(header::SET_COOKIE, filed)], Redirect::to(FILED_PAGE)).into_response())
        }
        Err(AppError::Invalid(errors)) => {
            let (csrf, cookie) = token(&app, &client, &user);
            Ok(with_cookie(cookie, (StatusCode::UNPROCESSABLE_ENTITY, form_page(csrf, f, errors))))
        }
        Err(e) => Err(e.into()),
    }
}

/// The page after filing: the ticket number and query code the form's answer left in a
/// cookie of this page's own, with the department and due date as the query page gives them.
/// Without the cookie (or once the order's code no longer matches), the query page.
pub async fn filed(
    State(app): State<App>,
    Extension(limits): Extension<PublicLimits>,
    client: Client,
    user: OptionalUser,
    headers: axum::http::HeaderMap,
) -> Result<Response, PageError> {
    let jar = crate::session::cookies(&headers);
    let Some((ticket_no, code)) = jar.get(FILED_COOKIE).and_then(|v| v.split_once('.')) else {
        return Ok(Redirect::to("/public/hotline/query").into_response());
    };
    if !limits.queries.allow(&client.key()) {
        return Ok(too_many());
    }
    let v = match hotline::public_view(&app, ticket_no, code).await {
        Ok(v) => v,
        Err(AppError::NotFound(_)) => return Ok(Redirect::to("/public/hotline/query").into_response()),
        Err(e) => return Err(e.into()),
    };
    let (csrf, cookie) = token(&app, &client, &user);
    let page = CreatedPage {
        css: crate::assets::url("app.css"),
        csrf,
        ticket_no: v.ticket_no,
        query_code: code.to_string(),
        expected: v.expected,
        department: v.department_name,
    };
    Ok(with_cookie(cookie, page))
}

#[derive(Template, WebTemplate)]
#[template(path = "public/query.html")]
struct QueryPage {
    css: String,
    csrf: String,
    ticket_no: String,
    error: Option<String>,
    v: Option<PublicView>,
    time: LocalTime,
}

pub async fn query_form(State(app): State<App>, client: Client, user: OptionalUser) -> Response {
    let (csrf, cookie) = token(&app, &client, &user);
    let page = QueryPage {
        css: crate::assets::url("app.css"),
        csrf,
        ticket_no: String::new(),
        error: None,
        v: None,
        time: LocalTime(app.config.tz()),
    };
    with_cookie(cookie, page)
}

#[derive(serde::Deserialize)]
pub struct QueryForm {
    #[serde(default)]
    ticket_no: String,
    #[serde(default)]
    code: String,
}

pub async fn query(
    State(app): State<App>,
    Extension(limits): Extension<PublicLimits>,
    client: Client,
    user: OptionalUser,
    Form(q): Form<QueryForm>,
) -> Result<Response, PageError> {
    if !limits.queries.allow(&client.key()) {
        return Ok(too_many());
    }
    let (csrf, cookie) = token(&app, &client, &user);
    let (v, error) = match hotline::public_view(&app, &q.ticket_no, &q.code).await {
        Ok(v) => (Some(v), None),
        Err(AppError::NotFound(_)) => (None, Some("工单号或查询码不正确，请核对后再试".to_string())),
        Err(e) => return Err(e.into()),
    };
    let status = if v.is_some() { StatusCode::OK } else { StatusCode::NOT_FOUND };
    let page = QueryPage {
        css: crate::assets::url("app.css"),
        csrf,
        ticket_no: q.ticket_no,
        error,
        v,
        time: LocalTime(app.config.tz()),
    };
    Ok(with_cookie(cookie, (status, page)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_counts_each_client_and_holds_a_bounded_table() {
        let limiter = RateLimiter::with_capacity(2, Duration::from_secs(3600), 3);
        assert!(limiter.allow("a") && limiter.allow("a") && !limiter.allow("a"), "two per window");
        assert!(limiter.allow("b") && limiter.allow("c"));
        // Full of clients still within their window: a new one waits, the known ones go on.
        assert!(!limiter.allow("d"));
        assert!(limiter.allow("b"));
        assert_eq!(limiter.table.lock().unwrap().hits.len(), 3);
        // Once the windows end, new clients take their places.
        let short = RateLimiter::with_capacity(1, Duration::from_millis(30), 2);
        assert!(short.allow("a") && short.allow("b") && !short.allow("c"));
        std::thread::sleep(Duration::from_millis(40));
        assert!(short.allow("c") && short.allow("d"));
        assert_eq!(short.table.lock().unwrap().hits.len(), 2);
    }
}

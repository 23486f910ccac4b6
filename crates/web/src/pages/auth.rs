use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use oversight_app::{App, AppError, accounts, network};

use crate::client::Client;
use crate::error::PageError;
use crate::session::{CurrentUser, OptionalUser, PRE_SESSION_COOKIE, SESSION_COOKIE};
use crate::view::Layout;

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    css: String,
    csrf: String,
    next: String,
    username: String,
    error: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub struct LoginQuery {
    next: Option<String>,
}

/// Where to go after signing in: a path of this site, or the home page. Browsers drop tabs and
/// line breaks from a URL and read `\` as `/`, so `/<TAB>/evil.example` would become
/// `//evil.example`: a path with any of them (or any other control character or space) is
/// refused, like one that starts with `//`.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\') =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

pub(crate) fn random_token() -> String {
    let mut buf = [0u8; 32];
    rand::fill(&mut buf[..]);
    hex::encode(buf)
}

/// The cookie of the form token before signing in (`secure`: `; Secure` or nothing).
pub(crate) fn pre_session_cookie(secure: &str, token: &str) -> String {
    format!("{PRE_SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{secure}")
}

pub async fn login_form(
    State(app): State<App>,
    client: Client,
    OptionalUser(user): OptionalUser,
    Query(q): Query<LoginQuery>,
) -> Response {
    if user.is_some() {
        return Redirect::to(&safe_next(q.next.as_deref())).into_response();
    }
    let csrf = random_token();
    let page = LoginPage {
        css: crate::assets::url("app.css"),
        csrf: csrf.clone(),
        next: safe_next(q.next.as_deref()),
        username: String::new(),
        error: None,
    };
    ([(header::SET_COOKIE, pre_session_cookie(client.cookie_secure(app.config.secure_cookies), &csrf))], page)
        .into_response()
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

pub async fn login(State(app): State<App>, client: Client, Form(form): Form<LoginForm>) -> Response {
    let secure = client.cookie_secure(app.config.secure_cookies);
    match accounts::login(&app, &form.username, &form.password, &client.key()).await {
        Ok(session) => {
            let max_age = app.config.session_hours * 3600;
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
                session.token
            );
            let clear = format!("{PRE_SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}");
            let mut response = Redirect::to(&safe_next(form.next.as_deref())).into_response();
            response.headers_mut().append(header::SET_COOKIE, cookie.parse().expect("cookie header"));
            response.headers_mut().append(header::SET_COOKIE, clear.parse().expect("cookie header"));
            response
        }
        Err(e @ (AppError::Forbidden(_) | AppError::Throttled(_))) => {
            let csrf = random_token();
            let status = if matches!(e, AppError::Throttled(_)) {
                axum::http::StatusCode::TOO_MANY_REQUESTS
            } else {
                axum::http::StatusCode::UNAUTHORIZED
            };
            let page = LoginPage {
                css: crate::assets::url("app.css"),
                csrf: csrf.clone(),
                next: safe_next(form.next.as_deref()),
                username: form.username.trim().to_string(),
                error: Some(e.to_string()),
            };
            (status, [(header::SET_COOKIE, pre_session_cookie(secure, &csrf))], page).into_response()
        }
        Err(e) => PageError::from(e).into_response(),
    }
}

pub async fn logout(
    State(app): State<App>,
    client: Client,
    CurrentUser(s): CurrentUser,
) -> Result<Response, PageError> {
    accounts::logout(&app, &s.token).await?;
    let secure = client.cookie_secure(app.config.secure_cookies);
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}");
    Ok(([(header::SET_COOKIE, clear)], Redirect::to("/login")).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    l: Layout,
    levels: Vec<network::LevelCount>,
    departments: i64,
    /// Next year, when its holiday schedule is due (from October) and not entered yet.
    missing_year: Option<i32>,
}

pub async fn home(State(app): State<App>, CurrentUser(s): CurrentUser) -> Result<impl IntoResponse, PageError> {
    let (levels, departments) = network::level_counts(&app, &s.actor).await?;
    let missing_year = oversight_app::calendar::next_year_missing(&app).await?;
    Ok(HomePage { l: Layout::new(&s, "/", "首页"), levels, departments, missing_year })
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_a_path_of_this_site_is_a_place_to_go_next() {
        assert_eq!(safe_next(Some("/cases/C1?x=1")), "/cases/C1?x=1");
        for evil in [
            "//evil.example/",
            "/\t/evil.example/",
            "/\n/evil.example",
            "/\\evil.example",
            "https://evil.example",
            "/ /x",
            "/\u{7f}/x",
        ] {
            assert_eq!(safe_next(Some(evil)), "/", "{evil:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}

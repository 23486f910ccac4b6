//! Errors at the edge: pages answer with a Chinese error page, the API with a JSON body that
//! names each record, field and reason. Server faults are logged with their cause, never shown.

use askama::Template;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use oversight_app::AppError;
use oversight_domain::RowError;

fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::Invalid(_) | AppError::Calendar(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
        AppError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
        AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        AppError::Store(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Logs a server fault with its whole cause chain (the user sees only that it failed).
pub(crate) fn log_fault(e: &AppError) {
    if e.is_internal() {
        tracing::error!(error = %cause_chain(e), "internal fault");
    }
}

/// An error and each of its causes, joined by “: ”.
fn cause_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// An error page.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub message: String,
    pub errors: Vec<RowError>,
}

impl PageError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError { status, message: message.into(), errors: vec![] }
    }
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> PageError {
        log_fault(&e);
        let errors = match &e {
            AppError::Invalid(errs) => errs.clone(),
            _ => vec![],
        };
        let message = match &e {
            AppError::Invalid(_) => "输入有误".to_string(),
            other => other.to_string(),
        };
        PageError { status: status_of(&e), message, errors }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    message: &'a str,
    errors: &'a [RowError],
    css: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            status: self.status.as_u16(),
            message: &self.message,
            errors: &self.errors,
            css: crate::assets::url("app.css"),
        };
        match page.render() {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(_) => (self.status, self.message).into_response(),
        }
    }
}

/// A JSON error: `{"error": {"status", "message", "errors": [{"line", "field", "reason"}]}}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub errors: Vec<RowError>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into(), errors: vec![] }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        log_fault(&e);
        let errors = match &e {
            AppError::Invalid(errs) => errs.clone(),
            _ => vec![],
        };
        ApiError { status: status_of(&e), message: e.to_string(), errors }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": { "status": self.status.as_u16(), "message": self.message, "errors": self.errors }
        });
        (self.status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_faults_are_500s_whose_log_line_carries_the_cause() {
        let io = std::io::Error::other("disk full");
        let e = AppError::internal("building the XLSX file failed", io);
        assert_eq!(ApiError::from(AppError::fault("writer gone")).status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(cause_chain(&e), "服务器内部错误: building the XLSX file failed: disk full");
        let page = PageError::from(e);
        assert_eq!(page.status, StatusCode::INTERNAL_SERVER_ERROR);
        // The user is told it failed, not why.
        assert!(!page.message.contains("disk"), "{}", page.message);
        // A client's mistake stays a 4xx.
        assert_eq!(ApiError::from(AppError::field("x", "不能为空")).status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}

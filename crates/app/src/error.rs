use oversight_domain::RowError;
use oversight_domain::calendar::CalendarError;
use oversight_store::StoreError;

/// What can go wrong in a use case. Messages are for users, in Chinese; a store error is a
/// server fault whose details are logged, never shown.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Bad input: every record, field and reason.
    #[error("输入有误：{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("；"))]
    Invalid(Vec<RowError>),
    #[error("{0}不存在或您无权查看")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("请先登录")]
    Unauthenticated,
    #[error("登录失败次数过多，请 {0} 分钟后再试")]
    Throttled(i64),
    /// A request or file past a limit of its kind; the message names the limit.
    #[error("{0}")]
    TooLarge(String),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    /// A fault of the server, not of the request: a database error.
    #[error("服务器内部错误")]
    Store(#[from] StoreError),
    /// Any other fault of the server (a worker gone, a hash or a file builder failed, a stored
    /// value that cannot be read): a 500, logged with its cause chain, never shown in detail.
    #[error("服务器内部错误")]
    Internal(#[source] Fault),
}

/// What failed inside the server, and why.
#[derive(Debug)]
pub struct Fault {
    what: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.what)
    }
}

impl std::error::Error for Fault {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl AppError {
    /// An internal fault: `what` failed because of `cause`.
    pub fn internal(what: impl Into<String>, cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> AppError {
        AppError::Internal(Fault { what: what.into(), source: Some(cause.into()) })
    }

    /// An internal fault with no underlying error (a broken invariant, a worker gone).
    pub fn fault(what: impl Into<String>) -> AppError {
        AppError::Internal(Fault { what: what.into(), source: None })
    }

    /// Whether this is the server's fault (a 500) rather than the request's.
    pub fn is_internal(&self) -> bool {
        matches!(self, AppError::Store(_) | AppError::Internal(_))
    }

    /// One bad field of a form or request (line 0: not from a file).
    pub fn field(field: &str, reason: impl Into<String>) -> AppError {
        AppError::Invalid(vec![RowError::new(0, field, reason)])
    }
}

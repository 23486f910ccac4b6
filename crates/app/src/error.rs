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
    #[error("{0}")]
    Unreadable(String),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error("服务器内部错误")]
    Store(#[from] StoreError),
}

impl AppError {
    /// One bad field of a form or request (line 0: not from a file).
    pub fn field(field: &str, reason: impl Into<String>) -> AppError {
        AppError::Invalid(vec![RowError::new(0, field, reason)])
    }
}

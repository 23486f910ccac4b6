use std::fmt;

/// What is wrong with one record of an import or one field of a form: which record (its line in
/// the file, counting the header as line 1), which field, and why, in the users' language.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    pub line: usize,
    pub field: String,
    pub reason: String,
}

impl RowError {
    pub fn new(line: usize, field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { line, field: field.into(), reason: reason.into() }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "第 {} 行：{}", self.line, self.reason)
        } else {
            write!(f, "第 {} 行，字段 {}：{}", self.line, self.field, self.reason)
        }
    }
}

//! The rules of government service-efficiency supervision, free of I/O.
//!
//! Everything here is plain synchronous Rust: the official working-day calendar and deadline
//! arithmetic, the four-level service network and its import rules, the service catalogue,
//! roles and scopes, and the audit hash chain. The store and the server call into this crate;
//! it never calls out.

pub mod access;
pub mod audit;
pub mod bulletin;
pub mod calendar;
pub mod case;
pub mod evaluation;
pub mod inspection;
pub mod item;
pub mod meeting;
pub mod message;
pub mod new_order;
pub mod org;
pub mod rating;
pub mod row_error;
pub mod supervision;
pub mod task;
pub mod ticket;
pub mod words;
pub mod workorder;

pub use row_error::RowError;

/// Whether a text a person typed holds a control character other than a tab or a line break:
/// none belongs in a complaint or a note, and XML (Open311's `requests.xml`) cannot carry them,
/// so such a text is refused where it enters.
pub fn has_control_characters(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_found_but_tabs_and_line_breaks_pass() {
        assert!(super::has_control_characters("窗口\u{7}态度差"));
        assert!(super::has_control_characters("a\u{0}"));
        assert!(!super::has_control_characters("第一行\r\n第二行\t完"));
    }
}

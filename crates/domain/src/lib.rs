//! The rules of government service-efficiency supervision, free of I/O.
//!
//! Everything here is plain synchronous Rust: the official working-day calendar and deadline
//! arithmetic, the four-level service network and its import rules, the service catalogue,
//! roles and scopes, and the audit hash chain. The store and the server call into this crate;
//! it never calls out.

pub mod access;
pub mod audit;
pub mod calendar;
pub mod case;
pub mod evaluation;
pub mod item;
pub mod org;
pub mod rating;
pub mod row_error;
pub mod supervision;
pub mod task;
pub mod ticket;
pub mod workorder;

pub use row_error::RowError;

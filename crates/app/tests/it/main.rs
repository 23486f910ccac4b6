//! The app crate's integration tests, one binary (one link step) for all of them: the store
//! and use-case suite and each feature's tests, every one on SQLite and on PostgreSQL.

mod cases;
mod demo;
mod evaluation;
mod hotline;
mod inspections;
mod notify;
mod schema;
mod suite;
mod supervision;
mod tasks;
mod tickets;

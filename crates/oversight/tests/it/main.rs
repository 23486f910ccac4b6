//! The binary's integration tests, one test binary for all of them: the real server over HTTP,
//! the command line, Open311 clients, every route's scope, and pages in a real browser.

mod browser;
mod cli;
mod common;
mod deploy;
mod http;
mod open311;
mod scope;

//! Electronic supervision of approval cases: ingesting events (spec/exchange.md §3), projecting
//! cases from them, the overdue-rate report (spec/metrics.md) and the case pages' views. The CLI
//! import and `POST /api/v1/case-events` both call [`ingest`].

mod ingest;
mod project;
mod report;
mod view;

pub use ingest::{IngestReport, ingest, ingest_as, ingest_stream};
pub use project::{Reporting, reproject_unrated, reproject_unsettled};
pub use report::{
    CaseGroup, CaseReport, CaseTotals, Compare, ComparedReport, audit_export, case_report, compared_report,
    export_report_xlsx, parse_date, parse_group_by, parse_levels, side_by_side,
};
pub(crate) use report::{group_names, window_name};
pub use view::{CaseNames, CaseView, case_view, list};

//! A case as a page shows it, and the list of cases.

use chrono::NaiveDate;
use oversight_domain::access::{Action, Scope};
use oversight_domain::case::{Outcome, StoredEvent, TimeLeft};
use oversight_domain::org::OrgPath;
use oversight_domain::supervision::{Subject, SubjectKind};
use oversight_store::cases::{self as store, CaseQuery, CaseRecord, EventRow};
use oversight_store::network as network_store;

use super::project::{Lookup, project_record, stored_event};
use crate::{Actor, App, AppError};

/// A case the actor may see, with its state and its events in time order.
pub struct CaseView {
    pub record: CaseRecord,
    pub state: oversight_domain::case::CaseState,
    pub events: Vec<EventRow>,
    /// The deadline arithmetic day by day (after acceptance, while the clock runs).
    pub days: Vec<(NaiveDate, oversight_domain::calendar::DayStatus, u32)>,
    /// The outcome as of today.
    pub outcome: Outcome,
    /// An open case's distance to its deadline today (none while its clock is stopped).
    pub time_left: Option<TimeLeft>,
    /// The alerts raised on the case, its supervision notices and their steps.
    pub alerts: Vec<oversight_store::supervision::AlertRow>,
    pub notices: Vec<oversight_store::supervision::NoticeRow>,
    pub steps: Vec<oversight_store::supervision::StepRow>,
    /// The names of the case's item, responsible department and receiving venue (pages show
    /// names, codes only beside them).
    pub names: CaseNames,
}

/// What a page calls the codes of a case.
#[derive(Debug, Clone, Default)]
pub struct CaseNames {
    pub item: Option<String>,
    pub department: Option<String>,
    pub venue: Option<String>,
}

pub async fn case_view(app: &App, actor: &Actor, case_no: &str) -> Result<CaseView, AppError> {
    let what = format!("办件 {case_no}");
    let record = store::case(&app.db, case_no).await?.ok_or_else(|| AppError::NotFound(what.clone()))?;
    let owners = [OrgPath::from_stored(record.path.clone()), OrgPath::from_stored(record.department_path.clone())];
    actor.require_any(Action::View, &[&owners[0], &owners[1]], &what)?;
    // The state is projected again from the events shown beside it, so that the page's
    // arithmetic is always that of these events under today's calendar and rules.
    let events = store::events_of_case(&app.db, case_no).await?;
    let calendar = app.calendar().await?;
    let lookup = Lookup::load(app).await?;
    let lives: Vec<StoredEvent> = events.iter().filter_map(stored_event).collect();
    let (_, state) = project_record(app, &lookup, &calendar, case_no, &lives, app.now())?;
    let days = match (state.accepted_on, state.deadline) {
        (Some(start), Some(_)) => {
            calendar.explain_deadline(start, state.limit_days + state.stopped_days).unwrap_or_default()
        }
        _ => Vec::new(),
    };
    let today = app.today();
    let outcome = state.outcome.as_of(today);
    // An open case whose clock runs: how far it stands from its deadline.
    let time_left = match (state.ended_on, state.stopped_since, state.deadline) {
        (None, None, Some(deadline)) => TimeLeft::of(&calendar, deadline, today).ok(),
        _ => None,
    };
    let (alerts, notices, steps) =
        crate::supervision::subject_supervision(app, &Subject::new(SubjectKind::Case, case_no)).await?;
    // The responsible department is the item's: its catalogue entry names both.
    let entry = match record.item_code.as_deref() {
        Some(code) => network_store::catalogue(&app.db, &Scope::All, None, Some(code))
            .await?
            .into_iter()
            .find(|e| e.item.code.as_str() == code),
        None => None,
    };
    let names = CaseNames {
        department: entry.as_ref().map(|e| e.department_name.clone()),
        item: entry.map(|e| e.item.name),
        venue: record.venue_code.as_deref().and_then(|v| lookup.venues.get(v)).map(|u| u.name.clone()),
    };
    Ok(CaseView { record, state, events, days, outcome, time_left, alerts, notices, steps, names })
}

/// Cases in the actor's view matching the query (newest first, at most 500), with their
/// outcome today.
pub async fn list(app: &App, actor: &Actor, query: &CaseQuery) -> Result<Vec<(CaseRecord, Outcome)>, AppError> {
    let today = app.today();
    let rows = store::list_cases(&app.db, &actor.scope(), query, today, 500).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let outcome = Outcome::from_stored(&r.outcome, r.outcome_date).as_of(today);
            (r, outcome)
        })
        .collect())
}

//! Projecting cases from their events and storing what that gives: records, alerts and the
//! tallies' changes; and projecting again when the calendar changes.

use chrono::{DateTime, Utc};
use oversight_domain::access::Scope;
use oversight_domain::case::{CaseContext, CaseState, CaseStatus, StoredEvent, parse_event, project};
use oversight_domain::org::{OrgKind, OrgUnit};
use oversight_domain::supervision::SignalPlan;
use oversight_store::cases::{self as store, CaseRecord, EventRow};
use oversight_store::network as network_store;
use oversight_store::supervision as store_alerts;

use crate::{App, AppError};
use foldhash::HashMap;

/// What an ingestion needs to know of the network and the catalogue.
pub(super) struct Lookup {
    pub(super) venues: HashMap<String, OrgUnit>,
    /// The path of each department, by code.
    pub(super) departments: HashMap<String, String>,
    pub(super) items: HashMap<String, (u32, i64, String)>,
}

impl Lookup {
    pub(super) async fn load(app: &App) -> Result<Lookup, AppError> {
        let units = network_store::all_units(&app.db).await?;
        let departments = units
            .iter()
            .filter(|u| u.kind == OrgKind::Department)
            .map(|u| (u.code.as_str().to_string(), u.path.as_str().to_string()))
            .collect();
        let venues =
            units.into_iter().filter(|u| u.kind.is_venue()).map(|u| (u.code.as_str().to_string(), u)).collect();
        let items = network_store::catalogue(&app.db, &Scope::All, None, None)
            .await?
            .into_iter()
            .map(|e| {
                let i = e.item;
                (
                    i.code.as_str().to_string(),
                    (i.promised_days as u32, i.fee_cents, i.department_code.as_str().to_string()),
                )
            })
            .collect();
        Ok(Lookup { venues, departments, items })
    }
}

/// How the events of an ingestion were reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reporting {
    /// Pushed now by a department system (the API, an ordinary import): reported when they
    /// arrive, so a gap between `at` and arrival is a late report (体外循环).
    Live,
    /// The past being loaded (`import case-events --historical`): each event is judged as
    /// reported when it happened, so the gap raises no late report; anomalies stay on the cases,
    /// but only cases still open after the import raise alerts (a case closed years ago needs
    /// no action today).
    Historical,
}

pub(super) type Tally = store::Tally;
impl Reporting {
    /// When a batch arriving at `now` was reported (`None`: each event when it happened).
    pub(super) fn at(self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Reporting::Live => Some(now),
            Reporting::Historical => None,
        }
    }

    /// The alerts a case's projection raises: a historical import alerts on open cases only.
    pub(super) fn alerts(
        self,
        record: &CaseRecord,
        state: &CaseState,
        now: DateTime<Utc>,
    ) -> Vec<store_alerts::AlertRow> {
        match self {
            Reporting::Historical if state.ended_on.is_some() => Vec::new(),
            _ => crate::supervision::case_alerts(record, state, now),
        }
    }
}
/// Cases projected from their events (on one calendar, as of one instant), to be stored
/// together: their records, the alerts they raise and what they change in the tallies.
pub(super) struct Projection<'a> {
    app: &'a App,
    lookup: &'a Lookup,
    calendar: &'a oversight_domain::calendar::WorkCalendar,
    now: DateTime<Utc>,
    reporting: Reporting,
    pub(super) records: Vec<CaseRecord>,
    pub(super) alerts: Vec<oversight_store::supervision::AlertRow>,
    pub(super) tally: Tally,
    /// Cases whose bad rating a later one replaced: their follow-ups close.
    no_longer_bad: Vec<String>,
}

impl<'a> Projection<'a> {
    pub(super) fn new(
        app: &'a App,
        lookup: &'a Lookup,
        calendar: &'a oversight_domain::calendar::WorkCalendar,
        now: DateTime<Utc>,
        reporting: Reporting,
        tally: Tally,
    ) -> Projection<'a> {
        Projection {
            app,
            lookup,
            calendar,
            now,
            reporting,
            records: Vec::new(),
            alerts: Vec::new(),
            tally,
            no_longer_bad: Vec::new(),
        }
    }

    /// Projects one case; its stored record's contribution, if any, comes out of the tallies.
    pub(super) fn add(
        &mut self,
        case_no: &str,
        events: &[StoredEvent],
        stored: Option<&CaseRecord>,
    ) -> Result<(), AppError> {
        let (record, state) = project_record(self.app, self.lookup, self.calendar, case_no, events, self.now)?;
        self.alerts.extend(self.reporting.alerts(&record, &state, self.now));
        let mut record = record;
        if let Some(old) = stored {
            // What a bad rating's follow-up made of it is the office's, not the events'.
            record.rating_standing = old.rating_standing.clone();
            if old.has_bad_rating() && !record.has_bad_rating() {
                self.no_longer_bad.push(record.case_no.clone());
            }
            store::add_to_tally(&mut self.tally, -1, old);
        }
        store::add_to_tally(&mut self.tally, 1, &record);
        self.records.push(record);
        Ok(())
    }

    pub(super) async fn store(&mut self, tx: &mut oversight_store::Tx) -> Result<(), AppError> {
        // In key order, as the tallies are: each tree is written from one end to the other.
        self.records.sort_unstable_by(|a, b| a.case_no.cmp(&b.case_no));
        store::upsert_cases(tx, &self.records).await?;
        store::apply_tally(tx, &self.tally).await?;
        store_alerts::insert_alerts(tx, &self.alerts).await?;
        // Every bad rating has a follow-up; a history being loaded needs none.
        if self.reporting == Reporting::Live {
            let opened: Vec<_> = self
                .records
                .iter()
                .filter(|r| r.has_bad_rating())
                .filter_map(|r| crate::ratings::new_follow_up(self.app, r, self.calendar, self.now))
                .collect();
            oversight_store::ratings::open(tx, &opened).await?;
        }
        let closed: Vec<&str> = self.no_longer_bad.iter().map(String::as_str).collect();
        oversight_store::ratings::supersede(tx, &closed, self.now).await?;
        Ok(())
    }
}

/// Projects again, on the calendar as it is now, every case whose outcome is not settled
/// (running, or unsettled and neither refused nor withdrawn — which includes the cases whose
/// calendar year was missing): after a year
/// of the calendar is entered or corrected, their deadlines, signals, alerts and the report's
/// figures follow it. A settled case keeps the outcome it was settled with. Returns how many
/// cases were projected.
pub async fn reproject_unsettled(app: &App) -> Result<usize, AppError> {
    let ended = CaseStatus::ENDED_UNDECIDED.map(CaseStatus::as_str);
    let case_nos = store::unsettled_case_nos(&app.db, &ended).await?;
    reproject(app, &case_nos).await?;
    app.monitor_wake.notify_one();
    Ok(case_nos.len())
}

/// Projects again the cases stored before their records kept a rating (a database from before
/// ratings had tallies and follow-ups): those with a `rated` event and no rating. Cases whose
/// every rating came from a system outside their venue are among them, and are few.
pub async fn reproject_unrated(app: &App) -> Result<usize, AppError> {
    let case_nos = store::rated_without_rating(&app.db).await?;
    reproject(app, &case_nos).await?;
    Ok(case_nos.len())
}

/// Projects these cases again from their stored events, in transactions of 2,000.
async fn reproject(app: &App, case_nos: &[String]) -> Result<(), AppError> {
    if case_nos.is_empty() {
        return Ok(());
    }
    let lookup = Lookup::load(app).await?;
    let calendar = app.calendar().await?;
    let now = app.now();
    for part in case_nos.chunks(2_000) {
        let keys: Vec<&str> = part.iter().map(String::as_str).collect();
        let mut tx = app.db.begin().await?;
        store::lock_case_writes(&mut tx).await?;
        let prior: HashMap<String, CaseRecord> =
            store::prior_cases(&mut tx, &keys).await?.into_iter().map(|p| (p.case_no.clone(), p)).collect();
        let stored = store::events_of_cases(&mut tx, &keys).await?;
        let mut out = Projection::new(app, &lookup, &calendar, now, Reporting::Live, Tally::new());
        for rows in stored.chunk_by(|a, b| a.case_no == b.case_no) {
            let case_no = rows[0].case_no.as_str();
            let events: Vec<StoredEvent> = rows.iter().filter_map(stored_event).collect();
            out.add(case_no, &events, prior.get(case_no))?;
        }
        out.store(&mut tx).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Rebuilds a stored event into the domain's form (its content was checked when it arrived).
pub(super) fn stored_event(row: &EventRow) -> Option<StoredEvent> {
    let parsed = parse_event(0, &row.content).ok()?;
    Some(StoredEvent {
        event_id: row.event_id.clone(),
        at: row.at,
        date: row.local_date,
        arrival: row.arrival,
        reported_at: row.reported_at,
        sender_scope: row.sender_scope.clone(),
        body: parsed.body,
    })
}

pub(super) fn project_record(
    app: &App,
    lookup: &Lookup,
    calendar: &oversight_domain::calendar::WorkCalendar,
    case_no: &str,
    events: &[StoredEvent],
    now: DateTime<Utc>,
) -> Result<(CaseRecord, CaseState), AppError> {
    let item = |code: &str| lookup.items.get(code).map(|(p, f, _)| (*p, *f));
    let venue_kind = |code: &str| lookup.venues.get(code).map(|u| u.kind);
    let covers = |sender: &str, venue: &str| {
        lookup.venues.get(venue).is_some_and(|u| oversight_domain::case::sender_covers(sender, u.path.as_str()))
    };
    let rules = app.config.supervision.clone();
    let context = CaseContext { item: &item, venue_kind: &venue_kind, covers: &covers, calendar, rules: &rules };
    let state = project(events, &context);
    let venue = state.venue_code.as_deref().and_then(|v| lookup.venues.get(v));
    let (outcome, outcome_date) = state.outcome.stored();
    let department_code = state.item_code.as_deref().and_then(|c| lookup.items.get(c)).map(|(_, _, d)| d.clone());
    let department_path = department_code.as_deref().and_then(|d| lookup.departments.get(d)).cloned();
    let today = app.local_date(now);
    // A case whose calendar year is unknown has no plan; its calendar_error is shown instead.
    let first_event = events.iter().map(|e| e.date).min();
    let plan = SignalPlan::of(&state, first_event, calendar, &rules).unwrap_or_default();
    let open = matches!(state.status, CaseStatus::AwaitingReceipt | CaseStatus::Received | CaseStatus::Accepted);
    let record = CaseRecord {
        case_no: case_no.to_string(),
        status: state.status.as_str().to_string(),
        department_code,
        item_code: state.item_code.clone(),
        venue_code: state.venue_code.clone(),
        level: venue.and_then(|v| v.level).map(|l| l as i32),
        // A case not yet received belongs to no venue: only a city-wide view sees it.
        path: venue.map_or("/".to_string(), |v| v.path.as_str().to_string()),
        received_on: state.received_on,
        accepted_on: state.accepted_on,
        ended_on: state.ended_on,
        deadline: state.deadline,
        limit_days: state.limit_days as i32,
        stopped_days: state.stopped_days as i32,
        stopped_since: state.stopped_since,
        outcome: outcome.to_string(),
        outcome_date,
        anomalies: state.anomalies.len() as i32,
        updated_at: now,
        department_path: department_path.unwrap_or_else(|| "/".to_string()),
        time_signal: open.then(|| plan.signal_on(today).as_str().to_string()),
        yellow_on: plan.yellow_on,
        red_on: plan.red_on,
        plan_target: plan.target.as_str().to_string(),
        signal_due: if open { plan.next_change_after(today).map(|d| app.start_of(d)) } else { None },
        rating_level: state.rating.as_ref().map(|r| i32::from(r.level)),
        rating_default: state.rating.as_ref().is_some_and(|r| r.default),
        rated_on: state.rated_on,
        rating_standing: String::new(),
    };
    Ok((record, state))
}

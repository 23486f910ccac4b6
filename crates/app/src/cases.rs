//! Electronic supervision of approval cases: ingesting events (spec/exchange.md §3) and the
//! overdue-rate report (spec/metrics.md). The CLI import and `POST /api/v1/case-events` both
//! call [`ingest`].

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use oversight_domain::RowError;
use oversight_domain::access::{Action, Scope};
use oversight_domain::case::{
    CaseContext, CaseEvent, CaseState, CaseStatus, EventBody, Outcome, StoredEvent, parse_event, project, same_content,
};
use oversight_domain::org::{Level, OrgKind, OrgPath, OrgUnit};
use oversight_domain::supervision::{SignalPlan, Subject, SubjectKind};
use oversight_store::audit::{self, NewAudit};
use oversight_store::cases::{self as store, CaseQuery, CaseRecord, EventRow, GroupBy, NewEvent};
use oversight_store::network as network_store;
use oversight_store::supervision as store_alerts;
use serde_json::json;

use crate::{Actor, App, AppError};

// Ingestion hashes every event id and case number a few times: with SipHash that was a tenth
// of the parsing thread. The keys come from authenticated systems; foldhash is seeded per
// process, which is protection enough against crafted collisions there.
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

/// How each event of a batch was answered.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct IngestReport {
    pub accepted: usize,
    pub duplicate: usize,
    pub rejected: Vec<RowError>,
}

/// Events are applied in transactions of at most this many lines: large enough that a commit's
/// cost is spread thin, small enough that other writers wait at most about half a second. Each
/// chunk rewrites most pages of the trees its cases land in at random (the tallies, the index
/// by outcome date), so fewer, larger chunks write less: 100,000 against 50,000 cut the WAL
/// written by a sixth and an import's time by about a tenth (docs/performance.md).
const CHUNK: usize = 100_000;

/// The first chunk is this small, and each next one twice the last up to [`CHUNK`]: writing
/// cannot start before a chunk is parsed, so a small first one lets it start at once. The
/// lines left after a chunk go with it when they are fewer than this.
const FIRST_CHUNK: usize = 4_096;

/// What an ingestion needs to know of the network and the catalogue.
struct Lookup {
    venues: HashMap<String, OrgUnit>,
    /// The path of each department, by code.
    departments: HashMap<String, String>,
    items: HashMap<String, (u32, i64, String)>,
}

impl Lookup {
    async fn load(app: &App) -> Result<Lookup, AppError> {
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

/// Ingests lines of NDJSON (`(line number, text)`) pushed live; each event is answered on its
/// own and the rest of the batch is applied whatever happens to it. Lines are parsed and
/// checked on a blocking thread, one chunk ahead of the chunk being written, so that parsing
/// and writing share the machine's cores.
pub async fn ingest<'a>(
    app: &App,
    actor: &Actor,
    lines: impl IntoIterator<Item = (usize, &'a str)>,
    progress: impl FnMut(usize),
) -> Result<IngestReport, AppError> {
    ingest_as(app, actor, Reporting::Live, lines, progress).await
}

/// [`ingest`], with the events reported as `reporting` says.
pub async fn ingest_as<'a>(
    app: &App,
    actor: &Actor,
    reporting: Reporting,
    lines: impl IntoIterator<Item = (usize, &'a str)>,
    progress: impl FnMut(usize),
) -> Result<IngestReport, AppError> {
    let lines = futures_util::stream::iter(lines.into_iter().map(|(n, text)| Ok((n, text.to_string()))));
    ingest_stream(app, actor, reporting, lines, progress).await
}

/// [`ingest_as`], the lines read as they come (a request body being received): only the chunk
/// being parsed and the one being written are held. A line the source cannot give (not UTF-8,
/// too long, a body past its limit) ends the ingestion with that error; the chunks before it
/// are applied, and sending them again is answered `duplicate`.
pub async fn ingest_stream(
    app: &App,
    actor: &Actor,
    reporting: Reporting,
    lines: impl futures_util::Stream<Item = Result<(usize, String), AppError>> + Unpin,
    progress: impl FnMut(usize),
) -> Result<IngestReport, AppError> {
    let bulk = oversight_store::bulk::BulkMode::new(&app.db);
    let result = ingest_chunks(app, actor, reporting, lines, progress).await;
    // The cache goes back whatever happened (and if this future is dropped half-way, `bulk` does
    // it on drop); an error of the ingestion itself comes first.
    let released = bulk.end().await;
    let report = result?;
    released?;
    Ok(report)
}

async fn ingest_chunks(
    app: &App,
    actor: &Actor,
    reporting: Reporting,
    lines: impl futures_util::Stream<Item = Result<(usize, String), AppError>> + Unpin,
    mut progress: impl FnMut(usize),
) -> Result<IngestReport, AppError> {
    // Read again after its end when the last chunk is short.
    let mut lines = futures_util::StreamExt::fuse(lines);
    let lookup = Arc::new(Lookup::load(app).await?);
    let checker = Arc::new(actor.clone());
    let mut report = IngestReport::default();
    let mut seen = 0;
    let mut parsing: Option<(tokio::task::JoinHandle<Result<Parsed, AppError>>, usize)> = None;
    let mut size = FIRST_CHUNK;
    // Lines read past the last chunk, to see whether the rest of the batch is short.
    let mut ahead: Vec<(usize, String)> = Vec::new();
    // A line the source could not give ends the reading there: every line before it is still
    // applied (the chunk being parsed, and the lines read since), then the fault is returned.
    let mut fault = None;
    loop {
        let mut raw = std::mem::take(&mut ahead);
        take_lines(&mut raw, &mut lines, size, &mut fault).await;
        size = (size * 2).min(CHUNK);
        // A rest shorter than the first chunk goes with this one: a request a little longer
        // than the first chunk (5,000 lines, say) is one transaction, not two.
        take_lines(&mut ahead, &mut lines, FIRST_CHUNK, &mut fault).await;
        if ahead.len() < FIRST_CHUNK {
            raw.append(&mut ahead);
        }
        seen += raw.len();
        let next = if raw.is_empty() {
            None
        } else {
            let (app, lookup, actor) = (app.clone(), lookup.clone(), checker.clone());
            let calendar = app.calendar().await?;
            let prepare = move || prepare_chunk(&app, &lookup, &actor, reporting, calendar, raw);
            Some((tokio::task::spawn_blocking(prepare), seen))
        };
        if let Some((handle, upto)) = parsing.take() {
            let mut parsed = handle.await.map_err(|e| AppError::internal("the event-parsing thread failed", e))??;
            report.rejected.append(&mut parsed.rejected);
            if !parsed.rows.is_empty() {
                apply(app, actor, &lookup, parsed, &mut report).await?;
            }
            progress(upto);
        }
        match next {
            Some(next) => parsing = Some(next),
            None => break,
        }
    }
    if let Some(e) = fault {
        return Err(e);
    }
    report.rejected.sort_by_key(|e| e.line);
    Ok(report)
}

/// Moves non-blank lines from `lines` into `into` until it holds `limit` or `lines` ends; a
/// fault of the source is kept in `fault` and ends the reading.
async fn take_lines(
    into: &mut Vec<(usize, String)>,
    lines: &mut (impl futures_util::Stream<Item = Result<(usize, String), AppError>> + Unpin),
    limit: usize,
    fault: &mut Option<AppError>,
) {
    use futures_util::StreamExt;
    while into.len() < limit && fault.is_none() {
        match lines.next().await {
            None => return,
            Some(Ok((n, text))) => {
                if !text.trim().is_empty() {
                    into.push((n, text));
                }
            }
            Some(Err(e)) => *fault = Some(e),
        }
    }
}

/// A chunk of lines parsed and checked, in the form it is written in: its new events (the
/// first line of each event id), its repeated ids, its lines rejected, and the cases it
/// probably creates, already projected.
struct Parsed {
    /// When the chunk arrived: every live event's `reported_at`.
    now: DateTime<Utc>,
    reporting: Reporting,
    /// The calendar of every projection of the chunk, made here or when it is written.
    calendar: Arc<oversight_domain::calendar::WorkCalendar>,
    /// The first line of each event id, as stored; `arrival` counts from 0 within the chunk
    /// until numbers are reserved for it.
    rows: Vec<NewEvent>,
    /// Each row's line and event.
    lines: Vec<usize>,
    bodies: Vec<EventBody>,
    /// Later lines of an event id of the chunk: line, the id's row, the line's case and
    /// content (judged against whatever content the id ends up with).
    repeats: Vec<(usize, usize, String, String)>,
    rejected: Vec<RowError>,
    /// Cases whose `received` is in the chunk, projected from the chunk's events alone.
    /// Ingestion takes such a projection when the case turns out to be new and every one of
    /// its events is written; it projects again otherwise. This moves the projection of new
    /// cases off the writing thread.
    projected: HashMap<String, (CaseRecord, Vec<oversight_store::supervision::AlertRow>)>,
    /// What the projected cases add to the tallies.
    tally: Tally,
}

type Tally = std::collections::BTreeMap<store::TallyKey, store::TallyDelta>;

fn prepare_chunk(
    app: &App,
    lookup: &Lookup,
    actor: &Actor,
    reporting: Reporting,
    calendar: Arc<oversight_domain::calendar::WorkCalendar>,
    raw: Vec<(usize, String)>,
) -> Result<Parsed, AppError> {
    let now = app.now();
    let tz = app.config.tz();
    let mut parsed = Parsed {
        now,
        reporting,
        calendar: calendar.clone(),
        rows: Vec::with_capacity(raw.len()),
        lines: Vec::with_capacity(raw.len()),
        bodies: Vec::with_capacity(raw.len()),
        repeats: Vec::new(),
        rejected: Vec::new(),
        projected: HashMap::new(),
        tally: Tally::new(),
    };
    let mut index: HashMap<String, usize> = HashMap::with_capacity(raw.len());
    for (line, text) in raw {
        let e = match parse_event(line, &text).and_then(|e| check_codes(line, &e, lookup, actor).map(|()| e)) {
            Ok(e) => e,
            Err(err) => {
                parsed.rejected.push(err);
                continue;
            }
        };
        if let Some(&row) = index.get(&e.event_id) {
            parsed.repeats.push((line, row, e.case_no, e.content));
            continue;
        }
        index.insert(e.event_id.clone(), parsed.rows.len());
        let (row, body) = new_event(e, parsed.rows.len(), tz);
        parsed.rows.push(row);
        parsed.lines.push(line);
        parsed.bodies.push(body);
    }
    drop(index);
    // Repeated ids change no case: a repeat is a duplicate of its row or a conflict.
    let mut lives: HashMap<&str, Vec<StoredEvent>> = HashMap::new();
    let sender = actor.sender_scope();
    for (row, body) in parsed.rows.iter().zip(&parsed.bodies) {
        let event = stored(row, body.clone(), reporting.at(now), sender.as_deref());
        lives.entry(row.case_no.as_str()).or_default().push(event);
    }
    for (case_no, events) in lives {
        if events.iter().any(|e| matches!(e.body, EventBody::Received { .. })) {
            let (record, state) = project_record(app, lookup, &calendar, case_no, &events, now)?;
            let alerts = reporting.alerts(&record, &state, now);
            store::add_to_tally(&mut parsed.tally, 1, &record);
            parsed.projected.insert(case_no.to_string(), (record, alerts));
        }
    }
    Ok(parsed)
}

/// A parsed event as it is written (`arrival` its place in the chunk), and its body.
fn new_event(e: CaseEvent, arrival: usize, tz: chrono_tz::Tz) -> (NewEvent, EventBody) {
    let row = NewEvent {
        r#type: e.body.type_name(),
        at: e.at.with_timezone(&Utc),
        local_date: e.at.with_timezone(&tz).date_naive(),
        arrival: arrival as i64,
        event_id: e.event_id,
        case_no: e.case_no,
        content: e.content,
    };
    (row, e.body)
}

impl Reporting {
    /// When a batch arriving at `now` was reported (`None`: each event when it happened).
    fn at(self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Reporting::Live => Some(now),
            Reporting::Historical => None,
        }
    }

    /// The alerts a case's projection raises: a historical import alerts on open cases only.
    fn alerts(self, record: &CaseRecord, state: &CaseState, now: DateTime<Utc>) -> Vec<store_alerts::AlertRow> {
        match self {
            Reporting::Historical if state.ended_on.is_some() => Vec::new(),
            _ => crate::supervision::case_alerts(record, state, now),
        }
    }
}

/// An event about to be written, in the domain's form (`reported_at` `None`: when it happened).
fn stored(row: &NewEvent, body: EventBody, reported_at: Option<DateTime<Utc>>, sender: Option<&str>) -> StoredEvent {
    StoredEvent {
        event_id: row.event_id.clone(),
        at: row.at,
        date: row.local_date,
        arrival: row.arrival,
        reported_at: reported_at.unwrap_or(row.at),
        sender_scope: sender.map(str::to_string),
        body,
    }
}

/// Unknown item and venue codes, and venues outside a department system's scope.
fn check_codes(line: usize, e: &CaseEvent, lookup: &Lookup, actor: &Actor) -> Result<(), RowError> {
    if let EventBody::Received { item_code, .. } = &e.body
        && !lookup.items.contains_key(item_code)
    {
        return Err(RowError::new(line, "item_code", format!("事项编码 {item_code} 不在事项目录中")));
    }
    if let Some(venue) = e.body.venue_code() {
        let field = if matches!(e.body, EventBody::Received { .. }) { "venue_code" } else { "to_venue_code" };
        let unit = lookup
            .venues
            .get(venue)
            .ok_or_else(|| RowError::new(line, field, format!("服务场所编码 {venue} 不存在")))?;
        if !actor.may(Action::View, &unit.path) {
            return Err(RowError::new(line, field, format!("服务场所 {venue} 不在本接口密钥的范围内")));
        }
    }
    Ok(())
}

/// Applies one chunk in one transaction: the owners of its cases are read, its new events
/// written (an id already stored is a duplicate, or a conflict if its content differs), the
/// events of cases seen before read back, and every touched case projected and stored.
async fn apply(
    app: &App,
    actor: &Actor,
    lookup: &Lookup,
    parsed: Parsed,
    report: &mut IngestReport,
) -> Result<(), AppError> {
    let Parsed { now, reporting, calendar, mut rows, mut lines, mut bodies, mut repeats, mut projected, tally, .. } =
        parsed;
    let mut tx = app.db.begin().await?;
    store::lock_case_writes(&mut tx).await?;
    oversight_store::bulk::begin_bulk(&mut tx).await?;
    // Cases seen before: their stored events are read back; a new case is projected from the
    // chunk alone. A department system may only touch cases of its venues.
    let mut existing: HashMap<String, CaseRecord> = HashMap::new();
    let mut foreign: HashSet<String> = HashSet::new();
    {
        let mut case_nos: Vec<&str> = rows.iter().map(|r| r.case_no.as_str()).collect();
        case_nos.sort_unstable();
        case_nos.dedup();
        for prior in store::prior_cases(&mut tx, &case_nos).await? {
            // A case not yet received has no venue ("/"): its events wait for the `received`,
            // whose venue is checked against the caller's scope when it comes.
            if !actor.everything
                && prior.path != "/"
                && !actor.may(Action::View, &OrgPath::from_stored(prior.path.clone()))
            {
                foreign.insert(prior.case_no.clone());
            }
            existing.insert(prior.case_no.clone(), prior);
        }
    }
    // Rows added here (an id whose first line was refused): their cases are projected again.
    let mut adopted: Vec<usize> = Vec::new();
    if !foreign.is_empty() {
        let refuse = |line: usize, case_no: &str| {
            RowError::new(line, "case_no", format!("办件 {case_no} 不在本接口密钥的范围内"))
        };
        // Later lines of an id whose first line is refused stand on their own.
        let mut orphans = Vec::new();
        repeats.retain_mut(|(line, row, case_no, content)| {
            if foreign.contains(case_no.as_str()) {
                report.rejected.push(refuse(*line, case_no));
                false
            } else if foreign.contains(&rows[*row].case_no) {
                orphans.push((*line, *row, std::mem::take(content)));
                false
            } else {
                true
            }
        });
        let mut kept = (Vec::new(), Vec::new(), Vec::new());
        // Where each row kept moved to.
        let mut moved: Vec<Option<usize>> = Vec::with_capacity(rows.len());
        for ((row, line), body) in rows.into_iter().zip(lines).zip(bodies) {
            if foreign.contains(&row.case_no) {
                report.rejected.push(refuse(line, &row.case_no));
                moved.push(None);
            } else {
                moved.push(Some(kept.0.len()));
                kept.0.push(row);
                kept.1.push(line);
                kept.2.push(body);
            }
        }
        (rows, lines, bodies) = kept;
        for (i, row) in rows.iter_mut().enumerate() {
            row.arrival = i as i64;
        }
        for (_, row, ..) in &mut repeats {
            *row = moved[*row].expect("repeats of refused rows were set apart above");
        }
        // The first of them becomes the id's row, the others its repeats.
        let mut taken: HashMap<usize, usize> = HashMap::new();
        for (line, refused, content) in orphans {
            if let Some(&row) = taken.get(&refused) {
                repeats.push((line, row, String::new(), content));
                continue;
            }
            let e = parse_event(line, &content)
                .map_err(|e| AppError::fault(format!("line {line} parsed before no longer parses: {}", e.reason)))?;
            taken.insert(refused, rows.len());
            adopted.push(rows.len());
            let (row, body) = new_event(e, rows.len(), app.config.tz());
            rows.push(row);
            lines.push(line);
            bodies.push(body);
        }
    }
    let first = store::reserve_arrivals(&mut tx, rows.len() as i64).await?;
    for row in &mut rows {
        row.arrival += first;
    }
    let sender = actor.sender_scope();
    let source = store::Sender { label: &actor.label, scope: sender.as_deref() };
    let clashes = store::insert_new_events(&mut tx, &rows, reporting.at(now), source).await?;
    // Stored content of the ids stored before, by row.
    let mut stored_content: HashMap<usize, String> = HashMap::with_capacity(clashes.len());
    // Cases with an event not written: their projection from the whole chunk does not hold.
    let mut partial: HashSet<&str> = adopted.iter().map(|&i| rows[i].case_no.as_str()).collect();
    for (i, content) in clashes {
        partial.insert(&rows[i].case_no);
        if same_content(&content, &rows[i].content) {
            report.duplicate += 1;
        } else {
            report.rejected.push(RowError::new(
                lines[i],
                "event_id",
                format!("事件 {} 已存在且内容不同", rows[i].event_id),
            ));
        }
        stored_content.insert(i, content);
    }
    for (line, row, _, content) in &repeats {
        let against = stored_content.get(row).unwrap_or(&rows[*row].content);
        if same_content(against, content) {
            report.duplicate += 1;
        } else {
            report.rejected.push(RowError::new(
                *line,
                "event_id",
                format!("事件 {} 已存在且内容不同", rows[*row].event_id),
            ));
        }
    }
    let mut touched: HashSet<&str> = HashSet::new();
    let mut fresh: HashMap<&str, Vec<StoredEvent>> = HashMap::new();
    for (i, (row, body)) in rows.iter().zip(bodies).enumerate() {
        if stored_content.contains_key(&i) {
            continue;
        }
        let case_no = row.case_no.as_str();
        touched.insert(case_no);
        let whole = !partial.contains(case_no) && projected.contains_key(case_no);
        if !existing.contains_key(case_no) && !whole {
            fresh.entry(case_no).or_default().push(stored(row, body, reporting.at(now), sender.as_deref()));
        }
    }
    let accepted_here = rows.len() - stored_content.len();
    let seen: Vec<&str> = touched.iter().copied().filter(|c| existing.contains_key(*c)).collect();
    let before = store::events_of_cases(&mut tx, &seen).await?;
    let mut lives: Vec<(&str, Vec<StoredEvent>)> = before
        .chunk_by(|a, b| a.case_no == b.case_no)
        .map(|events| {
            let case_no = touched.get(events[0].case_no.as_str()).copied().unwrap_or_default();
            (case_no, events.iter().filter_map(stored_event).collect())
        })
        .collect();
    lives.extend(fresh);
    // The tallies: each touched case's old contribution out, its new one in (the projections
    // made while parsing are in already; those not taken come out again).
    let mut out = Projection::new(app, lookup, &calendar, now, reporting, tally);
    for (case_no, events) in &lives {
        out.add(case_no, events, existing.get(*case_no))?;
    }
    for case_no in &touched {
        if existing.contains_key(*case_no) || partial.contains(case_no) {
            continue;
        }
        if let Some((record, raised)) = projected.remove(*case_no) {
            out.records.push(record);
            out.alerts.extend(raised);
        }
    }
    for (record, _) in projected.values() {
        store::add_to_tally(&mut out.tally, -1, record);
    }
    out.store(&mut tx).await?;
    let cases = touched.len();
    drop((touched, partial, lives, stored_content));
    if accepted_here > 0 {
        audit::append(
            &mut tx,
            NewAudit {
                actor: &actor.label,
                action: "case_events.ingest",
                target: &format!("{cases} 件"),
                path: &actor.audit_path(),
                detail: json!({ "accepted": accepted_here, "cases": cases }),
            },
            now,
        )
        .await?;
    }
    tx.commit().await?;
    // The chunk is stored: a failed copy of the WAL is for the next commit to retry.
    let copied = oversight_store::bulk::checkpoint(&app.db, |copy| {
        tokio::spawn(copy);
    })
    .await;
    if let Err(e) = copied {
        tracing::warn!("copying the WAL into the database file after a chunk: {e}");
    }
    report.accepted += accepted_here;
    if accepted_here > 0 {
        app.monitor_wake.notify_one();
    }
    // Freeing millions of strings is left to another thread.
    let Projection { records, alerts, tally, .. } = out;
    tokio::task::spawn_blocking(move || drop((rows, lines, before, records, alerts, tally, existing)));
    Ok(())
}

/// Cases projected from their events (on one calendar, as of one instant), to be stored
/// together: their records, the alerts they raise and what they change in the tallies.
struct Projection<'a> {
    app: &'a App,
    lookup: &'a Lookup,
    calendar: &'a oversight_domain::calendar::WorkCalendar,
    now: DateTime<Utc>,
    reporting: Reporting,
    records: Vec<CaseRecord>,
    alerts: Vec<oversight_store::supervision::AlertRow>,
    tally: Tally,
}

impl<'a> Projection<'a> {
    fn new(
        app: &'a App,
        lookup: &'a Lookup,
        calendar: &'a oversight_domain::calendar::WorkCalendar,
        now: DateTime<Utc>,
        reporting: Reporting,
        tally: Tally,
    ) -> Projection<'a> {
        Projection { app, lookup, calendar, now, reporting, records: Vec::new(), alerts: Vec::new(), tally }
    }

    /// Projects one case; its stored record's contribution, if any, comes out of the tallies.
    fn add(&mut self, case_no: &str, events: &[StoredEvent], stored: Option<&CaseRecord>) -> Result<(), AppError> {
        let (record, state) = project_record(self.app, self.lookup, self.calendar, case_no, events, self.now)?;
        self.alerts.extend(self.reporting.alerts(&record, &state, self.now));
        store::add_to_tally(&mut self.tally, 1, &record);
        if let Some(old) = stored {
            store::add_to_tally(&mut self.tally, -1, old);
        }
        self.records.push(record);
        Ok(())
    }

    async fn store(&mut self, tx: &mut oversight_store::Tx) -> Result<(), AppError> {
        // In key order, as the tallies are: each tree is written from one end to the other.
        self.records.sort_unstable_by(|a, b| a.case_no.cmp(&b.case_no));
        store::upsert_cases(tx, &self.records).await?;
        store::apply_tally(tx, &self.tally).await?;
        store_alerts::insert_alerts(tx, &self.alerts).await?;
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
    let lookup = Lookup::load(app).await?;
    let calendar = app.calendar().await?;
    let now = app.now();
    let ended = CaseStatus::ENDED_UNDECIDED.map(CaseStatus::as_str);
    let case_nos = store::unsettled_case_nos(&app.db, &ended).await?;
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
    app.monitor_wake.notify_one();
    Ok(case_nos.len())
}

/// Rebuilds a stored event into the domain's form (its content was checked when it arrived).
fn stored_event(row: &EventRow) -> Option<StoredEvent> {
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

fn project_record(
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
    };
    Ok((record, state))
}

/// A group of the case report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CaseGroup {
    pub key: String,
    pub name: String,
    pub settled: i64,
    pub on_time: i64,
    pub overdue: i64,
    pub overdue_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CaseTotals {
    pub settled: i64,
    pub on_time: i64,
    pub overdue: i64,
    pub overdue_rate: Option<f64>,
}

/// The JSON of `report cases` (spec/metrics.md).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CaseReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub total: CaseTotals,
    pub groups: Vec<CaseGroup>,
}

fn rate(overdue: i64, settled: i64) -> Option<f64> {
    (settled > 0).then(|| overdue as f64 / settled as f64)
}

/// Parses the `--group-by` / `group_by` value.
pub fn parse_group_by(s: &str) -> Result<Option<GroupBy>, AppError> {
    Ok(match s.trim() {
        "" => None,
        "level" => Some(GroupBy::Level),
        "venue" => Some(GroupBy::Venue),
        "department" => Some(GroupBy::Department),
        "item" => Some(GroupBy::Item),
        other => {
            return Err(AppError::field("group_by", format!("“{other}”无效，应为 level、venue、department 或 item")));
        }
    })
}

/// Parses `--level city,district`.
pub fn parse_levels(s: &str) -> Result<Vec<Level>, AppError> {
    s.split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            Level::parse(l)
                .ok_or_else(|| AppError::field("level", format!("“{l}”无效，应为 city、district、town 或 village")))
        })
        .collect()
}

/// Parses a `YYYY-MM-DD` date of a report period.
pub fn parse_date(s: &str, field: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::field(field, format!("“{s}”不是 YYYY-MM-DD 格式的日期")))
}

/// The overdue-rate report over the cases the actor may see.
pub async fn case_report(
    app: &App,
    actor: &Actor,
    from: NaiveDate,
    to: NaiveDate,
    levels: &[Level],
    group_by: Option<GroupBy>,
) -> Result<CaseReport, AppError> {
    if to < from {
        return Err(AppError::field("to", "结束日期早于开始日期"));
    }
    let today = app.today();
    let levels: Vec<i32> = levels.iter().map(|l| *l as i32).collect();
    let scope = actor.scope();
    let total = store::settled_counts(&app.db, &scope, from, to, today, &levels, None).await?;
    let (on_time, overdue) = total.first().map_or((0, 0), |r| (r.on_time, r.overdue));
    let mut groups = Vec::new();
    if let Some(g) = group_by {
        let rows = store::settled_counts(&app.db, &scope, from, to, today, &levels, Some(g)).await?;
        let names = group_names(app, g).await?;
        for r in rows {
            let raw = r.key.unwrap_or_default();
            let key = match g {
                GroupBy::Level => {
                    raw.parse::<i64>().ok().and_then(Level::from_number).map_or(raw.clone(), |l| l.as_str().to_string())
                }
                _ => raw.clone(),
            };
            let settled = r.on_time + r.overdue;
            // A tally row can net to zero (a case forwarded after it settled): no group.
            if settled == 0 {
                continue;
            }
            groups.push(CaseGroup {
                name: names.get(&key).cloned().unwrap_or_default(),
                key,
                settled,
                on_time: r.on_time,
                overdue: r.overdue,
                overdue_rate: rate(r.overdue, settled),
            });
        }
        groups.sort_by(|a, b| a.key.cmp(&b.key));
    }
    Ok(CaseReport {
        from,
        to,
        total: CaseTotals {
            settled: on_time + overdue,
            on_time,
            overdue,
            overdue_rate: rate(overdue, on_time + overdue),
        },
        groups,
    })
}

/// What a report is set beside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    None,
    /// The period of the same length just before.
    PreviousPeriod,
    /// The same dates a year earlier (e.g. Q1 this year beside Q1 last year).
    LastYear,
}

impl Compare {
    pub fn parse(s: &str) -> Result<Compare, AppError> {
        Ok(match s.trim() {
            "" | "none" => Compare::None,
            "previous" => Compare::PreviousPeriod,
            "last_year" => Compare::LastYear,
            other => {
                return Err(AppError::field("compare", format!("“{other}”无效，应为 none、previous 或 last_year")));
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Compare::None => "none",
            Compare::PreviousPeriod => "previous",
            Compare::LastYear => "last_year",
        }
    }

    /// The period to compare `from..=to` with.
    pub fn period(self, from: NaiveDate, to: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        match self {
            Compare::None => None,
            Compare::PreviousPeriod => {
                let days = (to - from).num_days() + 1;
                let end = from.pred_opt()?;
                Some((end - chrono::Duration::days(days - 1), end))
            }
            Compare::LastYear => {
                let back = |d: NaiveDate| d.checked_sub_months(chrono::Months::new(12));
                Some((back(from)?, back(to)?))
            }
        }
    }
}

/// A report beside the one it is compared with, group by group.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ComparedReport {
    pub current: CaseReport,
    pub previous: Option<CaseReport>,
    /// Every group of either period, by key: (key, name, current, previous).
    pub rows: Vec<(String, String, Option<CaseGroup>, Option<CaseGroup>)>,
    pub group_by: Option<GroupBy>,
    pub levels: Vec<Level>,
}

pub async fn compared_report(
    app: &App,
    actor: &Actor,
    from: NaiveDate,
    to: NaiveDate,
    levels: &[Level],
    group_by: Option<GroupBy>,
    compare: Compare,
) -> Result<ComparedReport, AppError> {
    let current = case_report(app, actor, from, to, levels, group_by).await?;
    let previous = match compare.period(from, to) {
        Some((a, b)) => Some(case_report(app, actor, a, b, levels, group_by).await?),
        None => None,
    };
    let mut rows: std::collections::BTreeMap<String, (String, Option<CaseGroup>, Option<CaseGroup>)> =
        Default::default();
    for g in &current.groups {
        rows.entry(g.key.clone()).or_insert_with(|| (g.name.clone(), None, None)).1 = Some(g.clone());
    }
    for g in previous.iter().flat_map(|p| p.groups.iter()) {
        rows.entry(g.key.clone()).or_insert_with(|| (g.name.clone(), None, None)).2 = Some(g.clone());
    }
    Ok(ComparedReport {
        current,
        previous,
        rows: rows.into_iter().map(|(k, (n, c, p))| (k, n, c, p)).collect(),
        group_by,
        levels: levels.to_vec(),
    })
}

/// The report as an XLSX workbook; every export is audited.
pub async fn export_report_xlsx(app: &App, actor: &Actor, r: &ComparedReport) -> Result<Vec<u8>, AppError> {
    use rust_xlsxwriter::{Format, Workbook};
    let fail = |e: rust_xlsxwriter::XlsxError| AppError::internal("building the XLSX file failed", e);
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("超期率").map_err(fail)?;
    let bold = Format::new().set_bold();
    let percent = Format::new().set_num_format("0.0%");
    let period = |c: &CaseReport| format!("{} 至 {}", c.from, c.to);
    sheet.write_string_with_format(0, 0, "办件超期率统计", &bold).map_err(fail)?;
    sheet.write_string(1, 0, format!("统计期：{}", period(&r.current))).map_err(fail)?;
    if let Some(p) = &r.previous {
        sheet.write_string(2, 0, format!("对比期：{}", period(p))).map_err(fail)?;
    }
    let head = ["编码", "名称", "已定案", "按时", "超期", "超期率", "对比期已定案", "对比期超期", "对比期超期率"];
    for (i, h) in head.iter().enumerate() {
        sheet.write_string_with_format(4, i as u16, *h, &bold).map_err(fail)?;
    }
    let mut row = 5u32;
    let mut put = |key: &str,
                   name: &str,
                   c: Option<(i64, i64, i64, Option<f64>)>,
                   p: Option<(i64, i64, Option<f64>)>|
     -> Result<(), AppError> {
        sheet.write_string(row, 0, key).map_err(fail)?;
        sheet.write_string(row, 1, name).map_err(fail)?;
        if let Some((settled, on_time, overdue, rate)) = c {
            sheet.write_number(row, 2, settled as f64).map_err(fail)?;
            sheet.write_number(row, 3, on_time as f64).map_err(fail)?;
            sheet.write_number(row, 4, overdue as f64).map_err(fail)?;
            if let Some(x) = rate {
                sheet.write_number_with_format(row, 5, x, &percent).map_err(fail)?;
            }
        }
        if let Some((settled, overdue, rate)) = p {
            sheet.write_number(row, 6, settled as f64).map_err(fail)?;
            sheet.write_number(row, 7, overdue as f64).map_err(fail)?;
            if let Some(x) = rate {
                sheet.write_number_with_format(row, 8, x, &percent).map_err(fail)?;
            }
        }
        row += 1;
        Ok(())
    };
    let t = &r.current.total;
    put(
        "",
        "合计",
        Some((t.settled, t.on_time, t.overdue, t.overdue_rate)),
        r.previous.as_ref().map(|p| (p.total.settled, p.total.overdue, p.total.overdue_rate)),
    )?;
    for (key, name, c, p) in &r.rows {
        put(
            key,
            name,
            c.as_ref().map(|g| (g.settled, g.on_time, g.overdue, g.overdue_rate)),
            p.as_ref().map(|g| (g.settled, g.overdue, g.overdue_rate)),
        )?;
    }
    sheet.set_column_width(1, 28).map_err(fail)?;
    let bytes = book.save_to_buffer().map_err(fail)?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "report.export",
            target: &format!("办件超期率 {}", period(&r.current)),
            path: &actor.audit_path(),
            detail: json!({ "from": r.current.from, "to": r.current.to, "groups": r.rows.len(), "format": "xlsx" }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(bytes)
}

pub(crate) async fn group_names(app: &App, g: GroupBy) -> Result<HashMap<String, String>, AppError> {
    Ok(match g {
        GroupBy::Level => Level::ALL.iter().map(|l| (l.as_str().to_string(), l.label().to_string())).collect(),
        GroupBy::Venue | GroupBy::Department => network_store::all_units(&app.db)
            .await?
            .into_iter()
            .filter(|u| if g == GroupBy::Venue { u.kind.is_venue() } else { u.kind == OrgKind::Department })
            .map(|u| (u.code.as_str().to_string(), u.name))
            .collect(),
        GroupBy::Item => network_store::catalogue(&app.db, &Scope::All, None, None)
            .await?
            .into_iter()
            .map(|e| (e.item.code.as_str().to_string(), e.item.name))
            .collect(),
    })
}

/// A case the actor may see, with its state and its events in time order.
pub struct CaseView {
    pub record: CaseRecord,
    pub state: oversight_domain::case::CaseState,
    pub events: Vec<EventRow>,
    /// The deadline arithmetic day by day (after acceptance, while the clock runs).
    pub days: Vec<(NaiveDate, oversight_domain::calendar::DayStatus, u32)>,
    /// The outcome as of today.
    pub outcome: Outcome,
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
    Ok(CaseView { record, state, events, days, outcome, alerts, notices, steps, names })
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

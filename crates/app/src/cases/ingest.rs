//! Ingesting case events (spec/exchange.md §3): lines parsed and checked a chunk ahead of the
//! chunk being written, each chunk applied in one transaction.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use oversight_domain::RowError;
use oversight_domain::access::Action;
use oversight_domain::case::{CaseEvent, EventBody, StoredEvent, parse_event, same_content};
use oversight_domain::org::OrgPath;
use oversight_store::audit::{self, NewAudit};
use oversight_store::cases::{self as store, CaseRecord, NewEvent};
use serde_json::json;

use super::project::{Lookup, Projection, Reporting, Tally, project_record, stored_event};
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
#[tracing::instrument(skip_all, fields(actor = %actor.label, reporting = ?reporting))]
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
#[tracing::instrument(skip_all, fields(actor = %actor.label, reporting = ?reporting))]
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
    let mut held = HeldAlerts::default();
    let result = loop {
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
            let mut parsed = match handle.await {
                Ok(Ok(parsed)) => parsed,
                Ok(Err(e)) => break Err(e),
                Err(e) => break Err(AppError::internal("the event-parsing thread failed", e)),
            };
            report.rejected.append(&mut parsed.rejected);
            if !parsed.rows.is_empty()
                && let Err(e) = apply(app, actor, &lookup, parsed, &mut report, &mut held).await
            {
                break Err(e);
            }
            progress(upto);
        }
        match next {
            Some(next) => parsing = Some(next),
            None => break Ok(()),
        }
    };
    // The alerts of the cases a historical import left open, whatever happened after the
    // chunks that were stored.
    let raised = held.raise(app).await;
    result?;
    raised?;
    if let Some(e) = fault {
        return Err(e);
    }
    report.rejected.sort_by_key(|e| e.line);
    Ok(report)
}

/// The alerts of a historical import, held until its end: a case may be open at the end of one
/// chunk and closed by the next (its events are in the order they happened), and only the cases
/// still open after the import raise alerts. Keyed by case number, replaced whenever a chunk
/// projects the case again.
#[derive(Default)]
struct HeldAlerts(HashMap<String, Vec<oversight_store::supervision::AlertRow>>);

impl HeldAlerts {
    /// Takes a historical chunk's alerts: the cases it projected (`touched`) keep only the
    /// alerts of their new projection.
    fn hold<'a>(
        &mut self,
        touched: impl IntoIterator<Item = &'a str>,
        alerts: Vec<oversight_store::supervision::AlertRow>,
    ) {
        for case_no in touched {
            self.0.remove(case_no);
        }
        for a in alerts {
            self.0.entry(a.subject_id.clone()).or_default().push(a);
        }
    }

    async fn raise(self, app: &App) -> Result<(), AppError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let alerts: Vec<_> = self.0.into_values().flatten().collect();
        let mut tx = app.db.begin().await?;
        oversight_store::supervision::insert_alerts(&mut tx, &alerts).await?;
        tx.commit().await?;
        Ok(())
    }
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
    held: &mut HeldAlerts,
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
    let adopted = if foreign.is_empty() {
        Vec::new()
    } else {
        set_aside_foreign(app.config.tz(), &foreign, &mut rows, &mut lines, &mut bodies, &mut repeats, report)?
    };
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
    if reporting == Reporting::Historical {
        held.hold(touched.iter().copied(), std::mem::take(&mut out.alerts));
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
    app.metrics.case_events(accepted_here);
    if accepted_here > 0 {
        app.monitor_wake.notify_one();
    }
    // Freeing millions of strings is left to another thread.
    let Projection { records, alerts, tally, .. } = out;
    tokio::task::spawn_blocking(move || drop((rows, lines, before, records, alerts, tally, existing)));
    Ok(())
}

/// Refuses the events of cases a department system may not touch (`foreign`), each with its
/// line, and renumbers the rows kept. A later line of an id whose first line was refused stands
/// on its own: the first such line becomes the id's row, the others its repeats. Returns the
/// rows added so (their cases are projected again).
fn set_aside_foreign(
    tz: chrono_tz::Tz,
    foreign: &HashSet<String>,
    rows: &mut Vec<NewEvent>,
    lines: &mut Vec<usize>,
    bodies: &mut Vec<EventBody>,
    repeats: &mut Vec<(usize, usize, String, String)>,
    report: &mut IngestReport,
) -> Result<Vec<usize>, AppError> {
    let mut adopted = Vec::new();
    let refuse =
        |line: usize, case_no: &str| RowError::new(line, "case_no", format!("办件 {case_no} 不在本接口密钥的范围内"));
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
    for ((row, line), body) in std::mem::take(rows).into_iter().zip(std::mem::take(lines)).zip(std::mem::take(bodies)) {
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
    (*rows, *lines, *bodies) = kept;
    for (i, row) in rows.iter_mut().enumerate() {
        row.arrival = i as i64;
    }
    for (_, row, ..) in repeats.iter_mut() {
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
        let (row, body) = new_event(e, rows.len(), tz);
        rows.push(row);
        lines.push(line);
        bodies.push(body);
    }
    Ok(adopted)
}

//! Key tasks (重点工作): events in (the API, an import, the office's pages), each task's state
//! and light, and the tasks report as of any date (docs/figures.md, "Key tasks").

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use oversight_domain::RowError;
use oversight_domain::access::Action;
use oversight_domain::calendar::WorkCalendar;
use oversight_domain::case::same_content;
use oversight_domain::org::{OrgKind, OrgPath};
use oversight_domain::supervision::{Signal, Subject, SubjectKind};
use oversight_domain::task::{
    LightReason, Origin, Phase, StoredTaskEvent, TaskBody, TaskCounts, TaskEvent, TaskState, parse_task_event, phases,
    project_task,
};
use oversight_store::audit::{self, NewAudit};
use oversight_store::network as network_store;
use oversight_store::supervision::AlertRow;
use oversight_store::tasks::{self as store, PhaseKey, PhaseRow, TaskEventRow, TaskRecord};
use serde_json::json;

use crate::cases::IngestReport;
use crate::notify::Outgoing;
use crate::supervision::AlertOwner;
use crate::{Actor, App, AppError};

mod flags;
mod steps;

pub use flags::{flag_task, flagged, lift_flag};

pub use steps::{NewTask, StepInput, assign_task, steps_for, steps_of, task_actors, task_step};

/// Task events are written in transactions of at most this many lines.
const CHUNK: usize = 50_000;

/// The departments of the network: code → (path, name).
async fn departments(app: &App) -> Result<HashMap<String, (OrgPath, String)>, AppError> {
    Ok(network_store::all_units(&app.db)
        .await?
        .into_iter()
        .filter(|u| u.kind == OrgKind::Department)
        .map(|u| (u.code.as_str().to_string(), (u.path, u.name)))
        .collect())
}

/// Ingests lines of NDJSON task events (`(line number, text)`): each event is answered on its
/// own (accepted, duplicate, or rejected with line, field and reason) and the rest of the
/// batch is applied whatever happens to it. Every task touched is projected again from all its
/// stored events.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn ingest<S: AsRef<str>>(
    app: &App,
    actor: &Actor,
    lines: impl IntoIterator<Item = (usize, S)>,
) -> Result<IngestReport, AppError> {
    let bulk = oversight_store::bulk::BulkMode::new(&app.db);
    let result = ingest_chunks(app, actor, lines).await;
    // As for case events: the writer's cache goes back whatever happened, the ingestion's own
    // error first.
    let released = bulk.end().await;
    let report = result?;
    released?;
    if report.accepted >= CHUNK {
        oversight_store::tasks::after_bulk_load(&app.db).await?;
    }
    Ok(report)
}

async fn ingest_chunks<S: AsRef<str>>(
    app: &App,
    actor: &Actor,
    lines: impl IntoIterator<Item = (usize, S)>,
) -> Result<IngestReport, AppError> {
    let departments = Arc::new(departments(app).await?);
    let calendar = app.calendar().await?;
    let mut report = IngestReport::default();
    let mut lines = lines.into_iter();
    // A chunk at a time (a file of any size holds two chunks in memory): the next chunk is
    // parsed and its tasks projected on another thread while the last one is written.
    let mut pending: Option<tokio::task::JoinHandle<Result<Parsed, AppError>>> = None;
    loop {
        let batch: Vec<(usize, String)> = lines
            .by_ref()
            .filter(|(_, text)| !text.as_ref().trim().is_empty())
            .take(CHUNK)
            .map(|(line, text)| (line, text.as_ref().to_string()))
            .collect();
        let next = (!batch.is_empty()).then(|| {
            let (actor, departments, calendar) = (actor.clone(), departments.clone(), calendar.clone());
            let (now, tz) = (app.now(), app.config.tz());
            let today = app.local_date(now);
            tokio::task::spawn_blocking(move || parse_chunk(batch, &actor, &departments, &calendar, tz, today, now))
        });
        if let Some(parsed) = pending.take() {
            let parsed = parsed.await.map_err(|e| AppError::internal("parsing task events stopped", e))??;
            apply(app, actor, &departments, parsed, &mut report).await?;
        }
        match next {
            Some(next) => pending = Some(next),
            None => break,
        }
    }
    report.rejected.sort_by_key(|e| e.line);
    Ok(report)
}

/// A chunk of task events parsed and checked, with each of its tasks projected from the
/// chunk's events alone: what the task is if it was not stored before.
struct Parsed {
    now: chrono::DateTime<Utc>,
    events: Vec<(usize, TaskEvent)>,
    rejected: Vec<RowError>,
    alone: HashMap<String, Projected>,
}

fn parse_chunk(
    lines: Vec<(usize, String)>,
    actor: &Actor,
    departments: &HashMap<String, (OrgPath, String)>,
    calendar: &WorkCalendar,
    tz: chrono_tz::Tz,
    today: NaiveDate,
    now: chrono::DateTime<Utc>,
) -> Result<Parsed, AppError> {
    let mut events = Vec::with_capacity(lines.len());
    let mut rejected = Vec::new();
    for (line, text) in &lines {
        match parse_task_event(*line, text).and_then(|e| check_departments(*line, &e, departments, actor).map(|()| e)) {
            Ok(e) => events.push((*line, e)),
            Err(err) => rejected.push(err),
        }
    }
    // An id sent twice counts once (its first line), as the writer will take it.
    let mut ids = HashSet::new();
    let mut by_task: HashMap<&str, Vec<StoredTaskEvent>> = HashMap::new();
    for (i, (_, e)) in events.iter().enumerate() {
        if ids.insert(e.event_id.as_str()) {
            let at = e.at.with_timezone(&Utc);
            by_task.entry(e.task_no.as_str()).or_default().push(StoredTaskEvent {
                event_id: e.event_id.clone(),
                at,
                date: e.at.with_timezone(&tz).date_naive(),
                arrival: i as i64,
                body: e.body.clone(),
            });
        }
    }
    let mut alone = HashMap::with_capacity(by_task.len());
    for (task_no, history) in by_task {
        alone.insert(task_no.to_string(), project(task_no, &history, None, departments, calendar, today, now)?);
    }
    Ok(Parsed { now, events, rejected, alone })
}

/// Unknown departments, and (for an assignment) a lead department outside the caller's scope.
fn check_departments(
    line: usize,
    e: &TaskEvent,
    departments: &HashMap<String, (OrgPath, String)>,
    actor: &Actor,
) -> Result<(), RowError> {
    for (field, code) in e.body.departments() {
        if !departments.contains_key(code) {
            return Err(RowError::new(line, field, format!("部门编码 {code} 不存在")));
        }
    }
    if let TaskBody::Assigned { lead_department_code, .. } = &e.body
        && !actor.may(Action::View, &departments[lead_department_code].0)
    {
        return Err(RowError::new(
            line,
            "lead_department_code",
            format!("牵头单位 {lead_department_code} 不在您的范围内"),
        ));
    }
    Ok(())
}

async fn apply(
    app: &App,
    actor: &Actor,
    departments: &HashMap<String, (OrgPath, String)>,
    parsed: Parsed,
    report: &mut IngestReport,
) -> Result<(), AppError> {
    let Parsed { now, events: chunk, rejected, alone } = parsed;
    report.rejected.extend(rejected);
    let tz = app.config.tz();
    let mut tx = app.db.begin().await?;
    let first = store::reserve_arrivals(&mut tx, chunk.len() as i64).await?;
    oversight_store::bulk::begin_bulk(&mut tx).await?;
    let mut nos: Vec<&str> = chunk.iter().map(|(_, e)| e.task_no.as_str()).collect();
    nos.sort_unstable();
    nos.dedup();
    // Whether each task seen is in the caller's scope (a task not yet assigned is anyone's:
    // its events wait for the assignment, whose lead department was checked).
    let in_scope: HashMap<String, bool> = store::records_of(&mut tx, &nos)
        .await?
        .into_iter()
        .map(|r| {
            let ok = r.path == "/" || actor.may(Action::View, &OrgPath::from_stored(r.path));
            (r.task_no, ok)
        })
        .collect();
    let mut rows: Vec<TaskEventRow> = Vec::with_capacity(chunk.len());
    let mut lines: Vec<(usize, &TaskEvent)> = Vec::with_capacity(chunk.len());
    // An id sent twice in the batch is answered like an id stored before.
    let mut first_of: HashMap<&str, &TaskEvent> = HashMap::new();
    for (i, (line, e)) in chunk.iter().enumerate() {
        if !in_scope.get(&e.task_no).copied().unwrap_or(true) {
            report.rejected.push(RowError::new(*line, "task_no", format!("任务 {} 不在您的范围内", e.task_no)));
            continue;
        }
        if let Some(earlier) = first_of.get(e.event_id.as_str()) {
            answer_clash(report, *line, e, &earlier.content);
            continue;
        }
        first_of.insert(&e.event_id, e);
        rows.push(TaskEventRow {
            event_id: e.event_id.clone(),
            task_no: e.task_no.clone(),
            r#type: e.body.type_name().to_string(),
            at: e.at.with_timezone(&Utc),
            local_date: e.at.with_timezone(&tz).date_naive(),
            arrival: first + i as i64,
            reported_at: now,
            content: e.content.clone(),
            source: actor.label.clone(),
        });
        lines.push((*line, e));
    }
    let clashes = store::insert_new_events(&mut tx, &rows).await?;
    let clashed: HashSet<usize> = clashes.iter().map(|(i, _)| *i).collect();
    for (i, stored) in &clashes {
        let (line, e) = lines[*i];
        answer_clash(report, line, e, stored);
    }
    let mut touched: Vec<&str> =
        rows.iter().enumerate().filter(|(i, _)| !clashed.contains(i)).map(|(_, r)| r.task_no.as_str()).collect();
    touched.sort_unstable();
    touched.dedup();
    let accepted = rows.len() - clashes.len();
    project_tasks(app, &mut tx, &touched, alone, departments, now).await?;
    if accepted > 0 {
        audit::append(
            &mut tx,
            NewAudit {
                actor: &actor.label,
                action: "task_events.ingest",
                target: &format!("{} 项任务", touched.len()),
                path: &actor.audit_path(),
                detail: json!({ "accepted": accepted, "tasks": touched.len() }),
            },
            now,
        )
        .await?;
    }
    tx.commit().await?;
    // The chunk is stored: a failed copy of the WAL is for the next commit to retry.
    if let Err(e) = oversight_store::bulk::checkpoint(&app.db, |copy| {
        tokio::spawn(copy);
    })
    .await
    {
        tracing::warn!("copying the WAL into the database file after a chunk: {e}");
    }
    report.accepted += accepted;
    app.metrics.task_events(accepted);
    Ok(())
}

/// A resent event: a duplicate when it says what the stored one says, else refused.
fn answer_clash(report: &mut IngestReport, line: usize, e: &TaskEvent, stored: &str) {
    if same_content(stored, &e.content) {
        report.duplicate += 1;
    } else {
        report.rejected.push(RowError::new(line, "event_id", format!("事件 {} 已存在且内容不同", e.event_id)));
    }
}

/// Projects the tasks `task_nos` again from all their stored events, in `tx`: their records
/// (today's light and the day it next changes), their phases and co-operating departments; a
/// red light raises its alert and a yellow one sends its reminder. Returns the alerts raised.
async fn project_tasks(
    app: &App,
    tx: &mut oversight_store::Tx,
    task_nos: &[&str],
    mut alone: HashMap<String, Projected>,
    departments: &HashMap<String, (OrgPath, String)>,
    now: chrono::DateTime<Utc>,
) -> Result<usize, AppError> {
    if task_nos.is_empty() {
        return Ok(0);
    }
    let today = app.local_date(now);
    let calendar = app.calendar().await?;
    let mut prior: HashMap<String, TaskRecord> =
        store::records_of(tx, task_nos).await?.into_iter().map(|r| (r.task_no.clone(), r)).collect();
    // A task first seen in this chunk has no stored events but the chunk's: its projection
    // from them stands. The others are read whole and projected again.
    let mut done: Vec<Projected> = Vec::with_capacity(task_nos.len());
    let mut known: Vec<&str> = Vec::new();
    for t in task_nos {
        match alone.remove(*t) {
            Some(p) if !prior.contains_key(*t) => done.push(p),
            _ => known.push(t),
        }
    }
    let stored = store::events_of_tasks(tx, &known).await?;
    for rows in stored.chunk_by(|a, b| a.task_no == b.task_no) {
        let task_no = &rows[0].task_no;
        let events = stored_events(rows);
        done.push(project(task_no, &events, prior.remove(task_no).as_ref(), departments, &calendar, today, now)?);
    }
    let mut records = Vec::with_capacity(done.len());
    let mut phases = Vec::new();
    let mut parties = Vec::new();
    let mut alerts = Vec::new();
    let mut messages = Vec::new();
    for p in done {
        messages.extend(reminders(app, &p).await?);
        let task_no = p.record.task_no.clone();
        alerts.extend(p.alert);
        phases.extend(p.phases);
        parties.extend(p.parties.into_iter().map(|path| (task_no.clone(), path)));
        records.push(p.record);
    }
    store::upsert_records(tx, &records).await?;
    store::replace_phases_and_parties(tx, task_nos, &phases, &parties).await?;
    let raised = oversight_store::supervision::insert_alerts(tx, &alerts).await? as usize;
    if crate::notify::enqueue(tx, messages, now).await? > 0 {
        app.notify_wake.notify_one();
    }
    Ok(raised)
}

/// Rebuilds stored events into the domain's form (their content was checked when they came).
pub(crate) fn stored_events(rows: &[TaskEventRow]) -> Vec<StoredTaskEvent> {
    rows.iter()
        .filter_map(|r| {
            let e = parse_task_event(0, &r.content).ok()?;
            Some(StoredTaskEvent {
                event_id: r.event_id.clone(),
                at: r.at,
                date: r.local_date,
                arrival: r.arrival,
                body: e.body,
            })
        })
        .collect()
}

/// A task projected from its stored events: its record (the state with every event counted,
/// the light as of `today` with the day it next changes) and the alert a red light raises (one
/// per spell of red: the alert's occurrence is the day the light turned red).
fn project(
    task_no: &str,
    events: &[StoredTaskEvent],
    prior: Option<&TaskRecord>,
    departments: &HashMap<String, (OrgPath, String)>,
    calendar: &WorkCalendar,
    today: NaiveDate,
    now: chrono::DateTime<Utc>,
) -> Result<Projected, AppError> {
    let (light, light_due) = project_task(events, today).light_plan(calendar)?;
    let whole = project_task(events, NaiveDate::MAX);
    let parties = whole
        .co_department_codes
        .iter()
        .filter_map(|c| departments.get(c).map(|(path, _)| path.as_str().to_string()))
        .collect();
    let mut record = record_of(task_no, &whole, departments, now);
    let spans = phases(events, calendar)?;
    record.light = light.as_ref().map(|l| l.light.as_str().to_string());
    record.light_due = light_due;
    // Since the day its phase began (a light carried over from a day with events, too).
    let held = spans.iter().find(|s| s.holds_on(today)).filter(|s| Some(s.phase.as_str()) == record.light.as_deref());
    record.light_since = match (held, prior) {
        (Some(s), _) => Some(s.from),
        (None, Some(p)) if p.light == record.light => p.light_since,
        _ => light.as_ref().map(|_| today),
    };
    let phases = spans
        .iter()
        .map(|s| PhaseRow {
            task_no: task_no.to_string(),
            phase: s.phase.as_str().to_string(),
            from_day: s.from,
            until_day: s.until,
            path: record.path.clone(),
            lead_department_code: record.lead_department_code.clone(),
            origin: record.origin.clone(),
        })
        .collect();
    let alert = match (&light, record.light_since) {
        (Some(l), Some(since)) if l.light == Signal::Red => {
            let owner = AlertOwner {
                subject: Subject::new(SubjectKind::Task, task_no),
                venue_code: None,
                venue_path: &record.path,
                department_code: record.lead_department_code.as_deref(),
                department_path: &record.path,
            };
            Some(owner.alert(TASK_RED, &since.to_string(), &format!("重点工作红灯：{}", l.reason), now))
        }
        _ => None,
    };
    let yellow = light.filter(|l| l.light == Signal::Yellow).map(|l| l.reason.to_string());
    Ok(Projected { record, alert, yellow, parties, phases })
}

/// A task projected: its record, the alert of a red light, and the rule that gave a yellow one.
struct Projected {
    record: TaskRecord,
    alert: Option<AlertRow>,
    yellow: Option<String>,
    /// The paths of its co-operating departments, who see it too.
    parties: Vec<String>,
    phases: Vec<PhaseRow>,
}

/// The reminder (催办) a yellow light sends the lead department, by e-mail and SMS where it
/// has them: one per spell of yellow (the day it began is in the message's key).
async fn reminders(app: &App, p: &Projected) -> Result<Vec<Outgoing>, AppError> {
    let r = &p.record;
    let (Some(reason), Some(since), Some(department)) = (&p.yellow, r.light_since, r.lead_department_code.as_deref())
    else {
        return Ok(Vec::new());
    };
    let title = r.title.as_deref().unwrap_or("");
    let due = r.due.map_or_else(|| "—".to_string(), |d| d.to_string());
    let subject = format!("【督查督办】重点工作 {}《{title}》亮黄灯，请抓紧办理", r.task_no);
    let body = format!(
        "重点工作 {}《{title}》已亮黄灯（{reason}），办结时限 {due}。请抓紧推进并按时报送进展；逾期将亮红灯，由效能办督办。",
        r.task_no
    );
    let key = format!("task|{}|yellow|{since}", r.task_no);
    crate::notify::to_contacts(app, department, None, TASK_REMINDER, &key, subject, body).await
}

/// The kind of a reminder (催办) to a task's lead department.
pub const TASK_REMINDER: &str = "task_reminder";

/// The alert kind of a key task whose light turned red.
pub const TASK_RED: &str = "task_red";

/// The monitor's look at the tasks whose light may change today (their `light_due` has come):
/// each is projected again as of today, its light and next day stored, and a red light raises
/// its alert. Its cost is the tasks due, not the open ones. Returns (tasks looked at, alerts).
pub(crate) async fn monitor_tasks(app: &App, now: chrono::DateTime<Utc>) -> Result<(usize, usize), AppError> {
    let today = app.local_date(now);
    let mut looked = 0;
    let mut raised = 0;
    let mut departments = None;
    loop {
        let mut tx = app.db.begin().await?;
        store::reserve_arrivals(&mut tx, 0).await?;
        let due = store::due_tasks(&mut tx, today, 500).await?;
        if due.is_empty() {
            return Ok((looked, raised));
        }
        if departments.is_none() {
            departments = Some(self::departments(app).await?);
        }
        let nos: Vec<&str> = due.iter().map(|r| r.task_no.as_str()).collect();
        let departments = departments.as_ref().expect("loaded above");
        raised += project_tasks(app, &mut tx, &nos, HashMap::new(), departments, now).await?;
        tx.commit().await?;
        looked += due.len();
        if due.len() < 500 {
            return Ok((looked, raised));
        }
    }
}

/// Which tasks [`reproject`] projects again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reproject {
    /// All of them: the calendar changed, and with it sign limits, horizons and lights.
    All,
    /// Those stored before their phases were kept.
    WithoutPhases,
}

/// Projects tasks again from their events (their records, lights and phases), 1,000 a
/// transaction; returns how many.
pub async fn reproject(app: &App, which: Reproject) -> Result<usize, AppError> {
    let nos = match which {
        Reproject::All => store::all_task_nos(&app.db).await?,
        Reproject::WithoutPhases => store::without_phases(&app.db).await?,
    };
    if nos.is_empty() {
        return Ok(0);
    }
    let departments = departments(app).await?;
    let now = app.now();
    for part in nos.chunks(1_000) {
        let mut tx = app.db.begin().await?;
        store::reserve_arrivals(&mut tx, 0).await?;
        let part: Vec<&str> = part.iter().map(String::as_str).collect();
        project_tasks(app, &mut tx, &part, HashMap::new(), &departments, now).await?;
        tx.commit().await?;
    }
    Ok(nos.len())
}

/// The stored record of a task from its state with every event counted (its light is set by
/// [`project`]).
fn record_of(
    task_no: &str,
    st: &TaskState,
    departments: &HashMap<String, (OrgPath, String)>,
    now: chrono::DateTime<Utc>,
) -> TaskRecord {
    let path = st
        .lead_department_code
        .as_deref()
        .and_then(|d| departments.get(d))
        .map_or_else(|| "/".to_string(), |(p, _)| p.as_str().to_string());
    TaskRecord {
        task_no: task_no.to_string(),
        title: st.title.clone(),
        origin: st.origin.map(|o| o.as_str().to_string()),
        lead_department_code: st.lead_department_code.clone(),
        path,
        status: st.status,
        assigned_on: st.assigned_on,
        due: st.due,
        closed_on: st.closed_on,
        anomalies: st.anomalies.len() as i64,
        light: None,
        light_since: None,
        light_due: None,
        updated_at: now,
    }
}

/// How the tasks report may be split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskGroupBy {
    LeadDepartment,
    Origin,
}

pub fn parse_group_by(s: &str) -> Result<Option<TaskGroupBy>, AppError> {
    match s.trim() {
        "" => Ok(None),
        "lead_department" => Ok(Some(TaskGroupBy::LeadDepartment)),
        "origin" => Ok(Some(TaskGroupBy::Origin)),
        other => Err(AppError::field("group_by", format!("“{other}”无效，应为 lead_department 或 origin"))),
    }
}

/// The counts of a report line, with the rate.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TaskFigures {
    #[serde(flatten)]
    pub counts: TaskCounts,
    pub on_time_rate: Option<f64>,
}

impl From<TaskCounts> for TaskFigures {
    fn from(counts: TaskCounts) -> TaskFigures {
        TaskFigures { on_time_rate: counts.on_time_rate(), counts }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TaskGroup {
    pub key: String,
    pub name: String,
    #[serde(flatten)]
    pub figures: TaskFigures,
}

/// The tasks report (docs/figures.md, "Key tasks").
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TaskReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub total: TaskFigures,
    pub groups: Vec<TaskGroup>,
}

/// The tasks report over the tasks the actor may see (by their lead department), as of the
/// period's last day: only events dated on or before it count. Each task's phase on that day
/// is looked up in its stored spans of phases, not replayed from its events.
pub async fn task_report(
    app: &App,
    actor: &Actor,
    from: NaiveDate,
    to: NaiveDate,
    group_by: Option<TaskGroupBy>,
) -> Result<TaskReport, AppError> {
    if to < from {
        return Err(AppError::field("to", "结束日期早于开始日期"));
    }
    let key = group_by.map(|g| match g {
        TaskGroupBy::LeadDepartment => PhaseKey::LeadDepartment,
        TaskGroupBy::Origin => PhaseKey::Origin,
    });
    let mut total = TaskCounts::default();
    let mut groups: BTreeMap<String, TaskCounts> = BTreeMap::new();
    for (group, phase, n) in store::phase_counts(&app.db, &actor.scope(), from, to, key).await? {
        let phase = Phase::parse(&phase)
            .ok_or_else(|| AppError::internal("reading the tasks' phases", format!("unknown phase {phase}")))?;
        total.add_phase(phase, n);
        if let Some(group) = group {
            groups.entry(group).or_default().add_phase(phase, n);
        }
    }
    let names = match group_by {
        Some(TaskGroupBy::LeadDepartment) => departments(app).await?.into_iter().map(|(k, (_, n))| (k, n)).collect(),
        _ => HashMap::new(),
    };
    let groups = groups
        .into_iter()
        .filter(|(_, c)| !c.is_empty())
        .map(|(key, counts)| TaskGroup {
            name: match group_by {
                Some(TaskGroupBy::Origin) => Origin::parse(&key).map_or_else(|| key.clone(), |o| o.label().to_string()),
                _ => names.get(&key).cloned().unwrap_or_else(|| key.clone()),
            },
            key,
            figures: counts.into(),
        })
        .collect();
    Ok(TaskReport { from, to, total: total.into(), groups })
}

/// The tasks report of a period beside its comparison.
#[derive(Debug, Clone)]
pub struct ComparedTasks {
    pub current: TaskReport,
    pub previous: Option<TaskReport>,
    /// (key, name, current, previous) for every group of either period.
    pub rows: Vec<(String, String, Option<TaskGroup>, Option<TaskGroup>)>,
    pub group_by: Option<TaskGroupBy>,
}

pub async fn compared_task_report(
    app: &App,
    actor: &Actor,
    from: NaiveDate,
    to: NaiveDate,
    group_by: Option<TaskGroupBy>,
    compare: crate::cases::Compare,
) -> Result<ComparedTasks, AppError> {
    let current = task_report(app, actor, from, to, group_by).await?;
    let previous = match compare.period(from, to) {
        Some((a, b)) => Some(task_report(app, actor, a, b, group_by).await?),
        None => None,
    };
    let rows =
        crate::cases::side_by_side(&current.groups, previous.as_ref().map(|p| &p.groups[..]), |g| (&g.key, &g.name));
    Ok(ComparedTasks { current, previous, rows, group_by })
}

/// The figures of a report line in the order pages and exports show them: (label, count or
/// rate).
pub fn task_figures(f: &TaskFigures) -> [(&'static str, crate::tickets::Figure); 8] {
    use crate::tickets::Figure::{Count, Rate};
    let c = &f.counts;
    [
        ("在办", Count(c.open)),
        ("绿灯", Count(c.green)),
        ("黄灯", Count(c.yellow)),
        ("红灯", Count(c.red)),
        ("待核实销号", Count(c.awaiting_verification)),
        ("核实办结", Count(c.verified)),
        ("按期办结", Count(c.verified_on_time)),
        ("按期办结率", Rate(f.on_time_rate)),
    ]
}

/// The tasks report as an Excel workbook; the export is audited.
pub async fn export_tasks_xlsx(app: &App, actor: &Actor, r: &ComparedTasks) -> Result<Vec<u8>, AppError> {
    let period = |t: &TaskReport| format!("{} 至 {}", t.from, t.to);
    let header: Vec<&str> = task_figures(&r.current.total).iter().map(|(label, _)| *label).collect();
    let figures = |f: &TaskFigures| task_figures(f).into_iter().map(|(_, x)| x).collect::<Vec<_>>();
    let zero: TaskFigures = TaskCounts::default().into();
    let mut lines = vec![crate::export::Line {
        key: String::new(),
        name: "合计".into(),
        current: figures(&r.current.total),
        previous: r.previous.as_ref().map(|p| figures(&p.total)),
    }];
    lines.extend(r.rows.iter().map(|(key, name, c, p)| crate::export::Line {
        key: key.clone(),
        name: name.clone(),
        current: figures(c.as_ref().map_or(&zero, |g| &g.figures)),
        previous: r.previous.as_ref().map(|_| figures(p.as_ref().map_or(&zero, |g| &g.figures))),
    }));
    let bytes = crate::export::compared_xlsx(
        "重点工作",
        "重点工作督办统计",
        &format!("{}（在办与灯色为期末当日）", period(&r.current)),
        r.previous.as_ref().map(period).as_deref(),
        &header,
        &lines,
    )?;
    let detail = json!({ "from": r.current.from, "to": r.current.to, "format": "xlsx" });
    crate::cases::audit_export(app, actor, "tasks", detail).await?;
    Ok(bytes)
}

/// One task as the actor sees it today: its state, its light and why, and its history.
pub struct TaskView {
    pub record: TaskRecord,
    pub state: TaskState,
    pub light: Option<LightReason>,
    /// Since when it has had that light.
    pub light_since: Option<NaiveDate>,
    pub events: Vec<TaskEventRow>,
    /// Its alerts and the supervision notices about it.
    pub alerts: Vec<AlertRow>,
    pub notices: Vec<oversight_store::supervision::NoticeRow>,
    /// Leaders' flags on it (挂牌督办), standing and lifted, the latest first.
    pub flags: Vec<oversight_store::tasks::FlagRow>,
}

pub async fn task_view(app: &App, actor: &Actor, task_no: &str) -> Result<TaskView, AppError> {
    let what = format!("任务 {task_no}");
    let record = store::record(&app.db, task_no).await?.ok_or_else(|| AppError::NotFound(what.clone()))?;
    // Its lead department and its co-operating departments see it.
    let mut owners = vec![OrgPath::from_stored(record.path.clone())];
    owners.extend(store::parties(&app.db, task_no).await?.into_iter().map(OrgPath::from_stored));
    if !actor.may_any(Action::View, &owners.iter().collect::<Vec<_>>()) {
        return Err(AppError::NotFound(what));
    }
    let events = store::events_of_task(&app.db, task_no).await?;
    let stored = stored_events(&events);
    let today = app.today();
    let calendar = app.calendar().await?;
    let state = project_task(&stored, today);
    let light = state.light(&calendar)?;
    // The first day of the spell of this light (its phase holding today).
    let light_since = match &light {
        Some(l) => phases(&stored, &calendar)?
            .iter()
            .find(|s| s.holds_on(today) && s.phase.as_str() == l.light.as_str())
            .map(|s| s.from),
        None => None,
    };
    let (alerts, notices, _) =
        crate::supervision::subject_supervision(app, &Subject::new(SubjectKind::Task, task_no)).await?;
    let flags = store::flags_of_task(&app.db, task_no).await?;
    Ok(TaskView { record, state, light, light_since, events, alerts, notices, flags })
}

/// The tasks the actor may see, with today's light of each open one.
pub async fn task_list(app: &App, actor: &Actor) -> Result<Vec<(TaskRecord, Option<LightReason>)>, AppError> {
    let scope = actor.scope();
    let records = store::records(&app.db, &scope, 500).await?;
    let calendar = app.calendar().await?;
    let today = app.today();
    // The events of every task in scope in one read, not one read per open task.
    let rows = store::events_as_of(&app.db, &scope, today).await?;
    let events: HashMap<&str, &[TaskEventRow]> =
        rows.chunk_by(|a, b| a.task_no == b.task_no).map(|e| (e[0].task_no.as_str(), e)).collect();
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        let open = r.status == oversight_domain::task::TaskStatus::Open;
        let light = match events.get(r.task_no.as_str()) {
            Some(e) if open => project_task(&stored_events(e), today).light(&calendar)?,
            // A task the actor co-operates on: led outside the scope, so its events were not
            // read with the others.
            None if open => {
                let e = store::events_of_task(&app.db, &r.task_no).await?;
                project_task(&stored_events(&e), today).light(&calendar)?
            }
            _ => None,
        };
        out.push((r, light));
    }
    Ok(out)
}

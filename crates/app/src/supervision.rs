//! Live supervision: the monitor that moves case signals as time passes, the alerts raised on
//! departments, supervision notices (督办通知) with replies, cards and appeals, the queues of
//! each role, and the dashboard of the network.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use oversight_domain::RowError;
use oversight_domain::access::Action;
use oversight_domain::case::CaseState;
use oversight_domain::org::{Level, OrgPath};
use oversight_domain::supervision::{
    self as rules, AlertStatus, Card, NoticeStatus, NoticeStep, Signal, SignalPlan, Subject, SubjectKind, alert_label,
    signal_alert_kind,
};
use oversight_store::audit::{self, NewAudit};
use oversight_store::cases::CaseRecord;
use oversight_store::network as network_store;
use oversight_store::supervision::{self as store, AlertFilter, AlertRow, NoticeRow, StepRow};
use serde_json::json;

use crate::{Actor, App, AppError, new_id};

/// The monitor handles at most this many due cases per transaction.
const BATCH: i64 = 1000;
/// How long a monitor instance holds its lease; it renews it on every pass.
const LEASE: chrono::Duration = chrono::Duration::seconds(60);
/// The longest the monitor sleeps, so that another instance takes over a dead one's lease.
const MAX_SLEEP: Duration = Duration::from_secs(30);

/// The alerts a case's fresh projection calls for: one per anomaly, and one for a yellow or red
/// time signal. Inserting them skips any already raised (same case, kind and event).
pub fn case_alerts(record: &CaseRecord, state: &CaseState, now: DateTime<Utc>) -> Vec<AlertRow> {
    let owner = AlertOwner {
        subject: Subject::new(SubjectKind::Case, &record.case_no),
        venue_code: record.venue_code.as_deref(),
        venue_path: &record.path,
        department_code: record.department_code.as_deref(),
        department_path: &record.department_path,
    };
    let mut alerts: Vec<AlertRow> = state
        .anomalies
        .iter()
        .map(|a| owner.alert(a.kind.as_str(), a.event_id.as_deref().unwrap_or(""), &a.message, now))
        .collect();
    if let Some(signal) = record.time_signal.as_deref().and_then(Signal::parse) {
        let plan = SignalPlan::stored(record.yellow_on, record.red_on, &record.plan_target);
        if let Some(kind) = signal_alert_kind(signal, &plan) {
            alerts.push(owner.alert(kind, "", &signal_message(kind, &plan), now));
        }
    }
    alerts
}

fn signal_message(kind: &str, plan: &SignalPlan) -> String {
    let deadline = plan.red_on.and_then(|d| d.pred_opt());
    match deadline {
        Some(d) => format!("{}：期限 {d}", alert_label(kind)),
        None => alert_label(kind),
    }
}

/// The subject an alert is about and where it belongs: the venue it concerns (if any; else the
/// department's path stands in) and the department responsible. Every kind of subject raises its
/// alerts through this one constructor.
pub(crate) struct AlertOwner<'a> {
    pub subject: Subject,
    pub venue_code: Option<&'a str>,
    pub venue_path: &'a str,
    pub department_code: Option<&'a str>,
    pub department_path: &'a str,
}

impl AlertOwner<'_> {
    /// An open alert of `kind` on the subject; `occurrence` tells repeated alerts of one kind
    /// apart (the anomalous event, the missed due date), so none is raised twice.
    pub(crate) fn alert(&self, kind: &str, occurrence: &str, message: &str, now: DateTime<Utc>) -> AlertRow {
        AlertRow {
            id: new_id(),
            dedup_key: self.subject.alert_key(kind, occurrence),
            subject_kind: self.subject.kind,
            subject_id: self.subject.id.clone(),
            kind: kind.to_string(),
            message: message.to_string(),
            venue_code: self.venue_code.map(str::to_string),
            venue_path: self.venue_path.to_string(),
            department_code: self.department_code.map(str::to_string),
            department_path: self.department_path.to_string(),
            raised_at: now,
            status: AlertStatus::Open,
            note: None,
            updated_at: now,
        }
    }
}

/// What one pass of the monitor did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonitorPass {
    /// Whether this instance held the lease (else another instance is the monitor now).
    pub leased: bool,
    /// Cases whose signal was due.
    pub due: usize,
    /// Cases whose signal changed colour.
    pub changed: usize,
    pub alerts: usize,
    /// Key tasks whose light was due to change (counted in `due` too).
    pub tasks: usize,
}

/// Cases that move alike: the instant their signal was due, their new signal and next instant.
type Move = (DateTime<Utc>, &'static str, Option<DateTime<Utc>>);

/// One pass of the monitor as instance `owner`: claims the lease, then moves every case whose
/// signal is due (in batches) and raises the alerts. Its cost is the number of due cases.
#[tracing::instrument(skip_all)]
pub async fn monitor_pass(app: &App, owner: &str) -> Result<MonitorPass, AppError> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let leased = store::claim_lease(&mut tx, "monitor", owner, now, now + LEASE).await?;
    tx.commit().await?;
    let mut pass = MonitorPass { leased, ..MonitorPass::default() };
    if !leased {
        return Ok(pass);
    }
    let today = app.local_date(now);
    loop {
        let mut tx = app.db.begin().await?;
        let due = store::due_cases(&mut tx, now, BATCH).await?;
        // Cases that move alike (same old instant, same new signal and instant) move in one
        // statement; the alerts of those that changed colour go in multi-row inserts.
        let mut moves: BTreeMap<Move, Vec<&str>> = BTreeMap::new();
        let mut alerts = Vec::new();
        for c in &due {
            let Some(was_due) = c.signal_due else { continue };
            let plan = SignalPlan::stored(c.yellow_on, c.red_on, &c.plan_target);
            let signal = plan.signal_on(today);
            let next = plan.next_change_after(today).map(|d| app.start_of(d));
            moves.entry((was_due, signal.as_str(), next)).or_default().push(&c.case_no);
            if c.time_signal.as_deref() == Some(signal.as_str()) {
                continue;
            }
            pass.changed += 1;
            if let Some(kind) = signal_alert_kind(signal, &plan) {
                let owner = AlertOwner {
                    subject: Subject::new(SubjectKind::Case, &c.case_no),
                    venue_code: c.venue_code.as_deref(),
                    venue_path: &c.path,
                    department_code: c.department_code.as_deref(),
                    department_path: &c.department_path,
                };
                alerts.push(owner.alert(kind, "", &signal_message(kind, &plan), now));
            }
        }
        for ((was_due, signal, next), case_nos) in &moves {
            store::set_signals(&mut tx, case_nos, *was_due, signal, *next).await?;
        }
        pass.alerts += store::insert_alerts(&mut tx, &alerts).await? as usize;
        tx.commit().await?;
        pass.due += due.len();
        if (due.len() as i64) < BATCH {
            break;
        }
    }
    // Key tasks whose light may change today.
    let (tasks, alerts) = crate::tasks::monitor_tasks(app, now).await?;
    pass.due += tasks;
    pass.tasks = tasks;
    pass.alerts += alerts;
    // Rectifications and bad ratings' follow-ups whose department is late.
    pass.alerts += crate::inspections::monitor_rectifications(app, now).await?;
    pass.alerts += crate::ratings::monitor_follow_ups(app, now).await?;
    Ok(pass)
}

/// The monitor as a background task: a pass, then sleep until the next signal instant, a
/// wake-up from ingestion, or at most [`MAX_SLEEP`]; until `shutdown` resolves.
pub async fn run_monitor(app: App, shutdown: impl Future<Output = ()>) {
    let owner = new_id();
    tokio::pin!(shutdown);
    loop {
        let mut sleep = MAX_SLEEP;
        let started = std::time::Instant::now();
        let passed = monitor_pass(&app, &owner).await;
        app.metrics.monitor_pass(started.elapsed());
        match passed {
            Ok(pass) => {
                if pass.changed > 0 {
                    tracing::info!(due = pass.due, changed = pass.changed, alerts = pass.alerts, "monitor pass");
                }
                if pass.leased
                    && let Ok(Some(next)) = store::next_signal_due(&app.db).await
                {
                    let wait = (next - app.now()).to_std().unwrap_or(Duration::ZERO);
                    sleep = sleep.min(wait.max(Duration::from_millis(200)));
                }
            }
            Err(e) => tracing::warn!(error = %e, "monitor pass failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = app.monitor_wake.notified() => {}
            _ = &mut shutdown => return,
        }
    }
}

fn owners(venue_path: &str, department_path: &str) -> [OrgPath; 2] {
    [OrgPath::from_stored(venue_path.to_string()), OrgPath::from_stored(department_path.to_string())]
}

/// Alerts in the actor's view.
pub async fn alerts(
    app: &App,
    actor: &Actor,
    status: Option<AlertStatus>,
    subject: Option<&Subject>,
) -> Result<Vec<AlertRow>, AppError> {
    let filter = AlertFilter { status: status.map(|s| s.as_str()), subject };
    Ok(store::alerts(&app.db, &actor.scope(), &filter, 500).await?)
}

pub(crate) fn note_of(note: &str, field: &str, required: bool) -> Result<String, AppError> {
    let note = note.trim();
    if required && note.is_empty() {
        return Err(AppError::field(field, "不能为空"));
    }
    if note.chars().count() > 2000 {
        return Err(AppError::field(field, "不能超过 2000 字"));
    }
    if oversight_domain::has_control_characters(note) {
        return Err(AppError::field(field, crate::hotline::CONTROL_CHARACTERS));
    }
    Ok(note.to_string())
}

/// The office dismisses an open alert (核销), with a reason.
pub async fn dismiss_alert(app: &App, actor: &Actor, alert_id: &str, reason: &str) -> Result<(), AppError> {
    let what = format!("预警 {alert_id}");
    let reason = note_of(reason, "reason", true)?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let alert = store::alert_tx(&mut tx, alert_id).await?.ok_or_else(|| AppError::NotFound(what.clone()))?;
    let [v, d] = owners(&alert.venue_path, &alert.department_path);
    actor.require_any(Action::Supervise, &[&v, &d], &what)?;
    if alert.status != AlertStatus::Open {
        return Err(AppError::Conflict("只有待处置的预警可以核销".into()));
    }
    store::set_alert_status(&mut tx, alert_id, AlertStatus::Dismissed.as_str(), Some(&reason), now).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "alert.dismiss",
            target: &alert.subject_id,
            path: &alert.venue_path,
            detail: json!({ "alert": alert_id, "subject": alert.subject_kind, "kind": alert.kind, "reason": reason }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The office turns an alert into a supervision notice to the responsible department, which
/// must reply within `reply_days` working days.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn issue_notice(
    app: &App,
    actor: &Actor,
    alert_id: &str,
    instruction: &str,
    reply_days: u32,
) -> Result<NoticeRow, AppError> {
    let what = format!("预警 {alert_id}");
    let instruction = note_of(instruction, "instruction", true)?;
    if !(1..=30).contains(&reply_days) {
        return Err(AppError::field("reply_days", "回复期限应为 1 至 30 个工作日"));
    }
    let now = app.now();
    let today = app.local_date(now);
    let reply_by = app.calendar().await?.deadline(today, reply_days)?;
    let mut tx = app.db.begin().await?;
    let alert = store::alert_tx(&mut tx, alert_id).await?.ok_or_else(|| AppError::NotFound(what.clone()))?;
    let [v, d] = owners(&alert.venue_path, &alert.department_path);
    actor.require_any(Action::Supervise, &[&v, &d], &what)?;
    if alert.status != AlertStatus::Open {
        return Err(AppError::Conflict("该预警已督办或已核销".into()));
    }
    if alert.department_code.is_none() {
        return Err(AppError::Conflict(format!("该{}没有责任部门，无法督办", alert.subject_kind.label())));
    }
    let year = chrono::Datelike::year(&today);
    let seq = store::next_notice_number(&mut tx, year).await?;
    let notice = NoticeRow {
        id: new_id(),
        number: format!("督办〔{year}〕{seq}号"),
        alert_id: alert.id.clone(),
        subject_kind: alert.subject_kind,
        subject_id: alert.subject_id.clone(),
        department_code: alert.department_code.clone(),
        department_path: alert.department_path.clone(),
        venue_path: alert.venue_path.clone(),
        instruction: instruction.clone(),
        reply_by,
        issued_by: actor.display_name.clone(),
        issued_at: now,
        status: NoticeStatus::AwaitingReply,
        card: None,
        updated_at: now,
    };
    store::insert_notice(&mut tx, &notice).await?;
    store::insert_step(&mut tx, &step_row(&notice.id, "issue", &instruction, actor, now)).await?;
    store::set_alert_status(&mut tx, alert_id, AlertStatus::Noticed.as_str(), None, now).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "notice.issue",
            target: &notice.number,
            path: &notice.department_path,
            detail: json!({
                "subject": notice.subject_kind, "id": notice.subject_id, "alert": alert_id, "reply_by": reply_by
            }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(notice)
}

fn step_row(notice_id: &str, step: &str, note: &str, actor: &Actor, now: DateTime<Utc>) -> StepRow {
    StepRow {
        id: new_id(),
        notice_id: notice_id.to_string(),
        step: step.to_string(),
        note: note.to_string(),
        actor: actor.label.clone(),
        actor_name: actor.display_name.clone(),
        at: now,
    }
}

/// The words a page shows for a stored step of a notice's life.
pub fn step_label(word: &str) -> String {
    if word == "issue" {
        return "发出督办通知".into();
    }
    parse_step(word).map_or_else(|_| word.to_string(), |s| s.label().to_string())
}

/// Parses a step's word from a form.
pub fn parse_step(s: &str) -> Result<NoticeStep, AppError> {
    Ok(match s {
        "reply" => NoticeStep::Reply,
        "close" => NoticeStep::Close,
        "yellow_card" => NoticeStep::GiveCard(Card::Yellow),
        "red_card" => NoticeStep::GiveCard(Card::Red),
        "appeal" => NoticeStep::Appeal,
        "appeal_granted" => NoticeStep::DecideAppeal(true),
        "appeal_refused" => NoticeStep::DecideAppeal(false),
        other => return Err(AppError::field("step", format!("“{other}”不是督办环节"))),
    })
}

/// Takes a step of a notice: the department replies or appeals; the office closes, gives a
/// card or decides an appeal. Each step is checked against the notice's life and the actor's
/// role where the notice belongs, recorded on the timeline and audited.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn notice_step(
    app: &App,
    actor: &Actor,
    notice_id: &str,
    step: NoticeStep,
    note: &str,
) -> Result<NoticeStatus, AppError> {
    let what = format!("督办通知 {notice_id}");
    let note = note_of(note, "note", matches!(step, NoticeStep::Reply | NoticeStep::Appeal))?;
    let now = app.now();
    let today = app.local_date(now);
    let mut tx = app.db.begin().await?;
    let notice = store::notice_tx(&mut tx, notice_id).await?.ok_or_else(|| AppError::NotFound(what.clone()))?;
    let [v, d] = owners(&notice.venue_path, &notice.department_path);
    if step.by_office() {
        actor.require_any(Action::Supervise, &[&v, &d], &what)?;
    } else {
        // Only the department itself answers for the department.
        actor.require(Action::Respond, &d, &what)?;
    }
    let from = notice.status;
    let to = rules::next_status(from, step, rules::reply_overdue(notice.reply_by, today))
        .map_err(|e| AppError::Invalid(vec![RowError::new(0, "step", e.to_string())]))?;
    let card = to.card().or(match to {
        NoticeStatus::CardRevoked(c) => Some(c),
        _ => None,
    });
    if !store::set_notice_status(
        &mut tx,
        notice_id,
        &notice.status.as_str(),
        &to.as_str(),
        card.map(|c| c.as_str()),
        now,
    )
    .await?
    {
        return Err(AppError::Conflict("督办通知刚被他人处理，请刷新后再试".into()));
    }
    store::insert_step(&mut tx, &step_row(notice_id, step.as_str(), &note, actor, now)).await?;
    if to.waits_for_office().is_none() {
        store::set_alert_status(&mut tx, &notice.alert_id, AlertStatus::Resolved.as_str(), None, now).await?;
    }
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "notice.step",
            target: &notice.number,
            path: &notice.department_path,
            detail: json!({
                "subject": notice.subject_kind, "id": notice.subject_id, "step": step.as_str(), "status": to.as_str()
            }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(to)
}

/// A notice the actor may see, with its alert and steps.
pub struct NoticeView {
    pub notice: NoticeRow,
    pub status: NoticeStatus,
    pub alert: Option<AlertRow>,
    pub steps: Vec<StepRow>,
    /// The steps the actor may take now.
    pub next_steps: Vec<NoticeStep>,
    pub reply_overdue: bool,
}

pub async fn notice_view(app: &App, actor: &Actor, notice_id: &str) -> Result<NoticeView, AppError> {
    let what = format!("督办通知 {notice_id}");
    let notice = store::notice(&app.db, notice_id).await?.ok_or_else(|| AppError::NotFound(what.clone()))?;
    let [v, d] = owners(&notice.venue_path, &notice.department_path);
    actor.require_any(Action::View, &[&v, &d], &what)?;
    let status = notice.status;
    let reply_overdue = rules::reply_overdue(notice.reply_by, app.today());
    let next_steps = steps_for(actor, status, reply_overdue, &notice);
    let alert = store::alert(&app.db, &notice.alert_id).await?;
    let steps = store::steps(&app.db, None, Some(notice_id)).await?;
    Ok(NoticeView { notice, status, alert, steps, next_steps, reply_overdue })
}

/// The steps of a notice the actor may take now: those its life allows, by the office where the
/// actor supervises, by the department where the actor answers for it.
fn steps_for(actor: &Actor, status: NoticeStatus, reply_overdue: bool, n: &NoticeRow) -> Vec<NoticeStep> {
    let [v, d] = owners(&n.venue_path, &n.department_path);
    rules::possible_steps(status, reply_overdue)
        .into_iter()
        .filter(|s| {
            if s.by_office() { actor.may_any(Action::Supervise, &[&v, &d]) } else { actor.may(Action::Respond, &d) }
        })
        .collect()
}

/// What waits for the actor: the office's open alerts and the notices it must decide, the
/// department's notices to answer; and for both, what waits for the other side.
#[derive(Debug, Default)]
pub struct Queues {
    /// Alerts nobody has acted on (for the office).
    pub open_alerts: Vec<AlertRow>,
    /// Notices waiting for the actor.
    pub mine: Vec<NoticeRow>,
    /// Notices waiting for the other side.
    pub theirs: Vec<NoticeRow>,
    /// The last closed or decided notices.
    pub done: Vec<NoticeRow>,
}

pub async fn queues(app: &App, actor: &Actor) -> Result<Queues, AppError> {
    let scope = actor.scope();
    let office = actor.may_somewhere(Action::Supervise);
    let open_alerts = if office {
        store::alerts(
            &app.db,
            &actor.scope_for(Action::Supervise),
            &AlertFilter { status: Some("open"), subject: None },
            200,
        )
        .await?
    } else {
        Vec::new()
    };
    let notices = store::notices(&app.db, &scope, None, 500).await?;
    let today = app.today();
    let mut q = Queues { open_alerts, ..Queues::default() };
    for n in notices {
        let status = n.status;
        if status.waits_for_office().is_none() {
            if q.done.len() < 50 {
                q.done.push(n);
            }
            continue;
        }
        // Mine when I may take a step now (an overdue reply lets the office give a card).
        let mine = !steps_for(actor, status, rules::reply_overdue(n.reply_by, today), &n).is_empty();
        if mine { q.mine.push(n) } else { q.theirs.push(n) }
    }
    Ok(q)
}

/// One venue's lights.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Lights {
    pub green: i64,
    pub yellow: i64,
    pub red: i64,
}

impl Lights {
    fn add(&mut self, signal: &str, n: i64) {
        match signal {
            "green" => self.green += n,
            "yellow" => self.yellow += n,
            _ => self.red += n,
        }
    }

    pub fn open(&self) -> i64 {
        self.green + self.yellow + self.red
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct VenueLights {
    pub code: String,
    pub name: String,
    pub level: Option<Level>,
    pub lights: Lights,
}

/// The lights of one level of the network.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LevelLights {
    pub level: Level,
    pub lights: Lights,
}

/// The live picture of the network in the actor's view: lights per level and per venue.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Dashboard {
    pub as_of: DateTime<Utc>,
    pub total: Lights,
    pub levels: Vec<LevelLights>,
    /// Venues with open cases, the reddest first.
    pub venues: Vec<VenueLights>,
    pub open_alerts: i64,
    pub noticed_alerts: i64,
}

pub async fn dashboard(app: &App, actor: &Actor) -> Result<Dashboard, AppError> {
    let scope = actor.scope();
    let counts = store::signal_counts(&app.db, &scope).await?;
    let units: BTreeMap<String, _> = network_store::all_units(&app.db)
        .await?
        .into_iter()
        .filter(|u| u.kind.is_venue())
        .map(|u| (u.code.as_str().to_string(), u))
        .collect();
    let mut total = Lights::default();
    let mut levels: BTreeMap<Level, Lights> = Level::ALL.iter().map(|l| (*l, Lights::default())).collect();
    let mut venues: BTreeMap<String, VenueLights> = BTreeMap::new();
    for c in counts {
        total.add(&c.signal, c.cases);
        let code = c.venue_code.unwrap_or_default();
        let unit = units.get(&code);
        let level = unit.and_then(|u| u.level);
        if let Some(l) = level {
            levels.entry(l).or_default().add(&c.signal, c.cases);
        }
        venues
            .entry(code.clone())
            .or_insert_with(|| VenueLights {
                name: unit.map_or_else(|| "（未知场所）".to_string(), |u| u.name.clone()),
                code,
                level,
                lights: Lights::default(),
            })
            .lights
            .add(&c.signal, c.cases);
    }
    let mut venues: Vec<VenueLights> = venues.into_values().collect();
    venues.sort_by(|a, b| {
        (b.lights.red, b.lights.yellow, b.lights.open())
            .cmp(&(a.lights.red, a.lights.yellow, a.lights.open()))
            .then(a.code.cmp(&b.code))
    });
    let alert_counts: BTreeMap<String, i64> = store::alert_counts(&app.db, &scope).await?.into_iter().collect();
    Ok(Dashboard {
        as_of: app.now(),
        total,
        levels: levels.into_iter().map(|(level, lights)| LevelLights { level, lights }).collect(),
        venues,
        open_alerts: alert_counts.get("open").copied().unwrap_or(0),
        noticed_alerts: alert_counts.get("noticed").copied().unwrap_or(0),
    })
}

/// The alerts, notices and steps of one subject, for its timeline (the caller checked that the
/// actor may see the subject itself).
pub async fn subject_supervision(
    app: &App,
    subject: &Subject,
) -> Result<(Vec<AlertRow>, Vec<NoticeRow>, Vec<StepRow>), AppError> {
    let all = oversight_domain::access::Scope::All;
    let alerts = store::alerts(&app.db, &all, &AlertFilter { status: None, subject: Some(subject) }, 500).await?;
    let notices = store::notices(&app.db, &all, Some(subject), 100).await?;
    let steps = store::steps(&app.db, Some(subject), None).await?;
    Ok((alerts, notices, steps))
}

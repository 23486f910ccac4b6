//! Key tasks (重点工作, 督查督办): the events other systems and the office's pages report
//! (exchange format §5), the state a task's events project to as of any date, its light
//! (green, yellow, red) and the figures of the tasks report (docs/figures.md, "Key tasks").
//!
//! As for cases, the state is a pure function of the set of a task's events taken in `at`
//! order (ties in arrival order); as of a date D, only the events dated on or before D count,
//! so a report for a past date ignores whatever happened after it.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde_json::Value;

use crate::RowError;
use crate::calendar::{CalendarError, WorkCalendar};
use crate::case::Fields;
use crate::supervision::Signal;

crate::words! {
    /// Where a task comes from.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Origin as "任务来源" {
        AnnualPlan = "annual_plan" / "年度目标任务",
        MeetingDecision = "meeting_decision" / "会议议定事项",
        LeaderInstruction = "leader_instruction" / "领导批示",
        MajorProject = "major_project" / "重大项目",
        Proposal = "proposal" / "建议提案",
    }
}

/// A milestone as assigned.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Milestone {
    pub code: String,
    pub name: String,
    pub due: NaiveDate,
}

/// What happened to a task, with the fields of its type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum TaskBody {
    Assigned {
        title: String,
        origin: Origin,
        lead_department_code: String,
        co_department_codes: Vec<String>,
        due: NaiveDate,
        milestones: Vec<Milestone>,
    },
    Signed {
        department_code: String,
    },
    Progress {
        department_code: String,
        note: String,
        milestone_code: Option<String>,
    },
    MilestoneDone {
        milestone_code: String,
    },
    Rescheduled {
        due: NaiveDate,
        milestone_code: Option<String>,
    },
    ReportedDone {
        note: String,
    },
    Returned {
        reason: String,
    },
    Verified,
    Cancelled {
        reason: String,
    },
}

impl TaskBody {
    pub fn type_name(&self) -> &'static str {
        match self {
            TaskBody::Assigned { .. } => "assigned",
            TaskBody::Signed { .. } => "signed",
            TaskBody::Progress { .. } => "progress",
            TaskBody::MilestoneDone { .. } => "milestone_done",
            TaskBody::Rescheduled { .. } => "rescheduled",
            TaskBody::ReportedDone { .. } => "reported_done",
            TaskBody::Returned { .. } => "returned",
            TaskBody::Verified => "verified",
            TaskBody::Cancelled { .. } => "cancelled",
        }
    }

    /// The word a page shows for an event type.
    pub fn label_of(type_name: &str) -> &'static str {
        match type_name {
            "assigned" => "交办",
            "signed" => "签收",
            "progress" => "报送进展",
            "milestone_done" => "完成节点",
            "rescheduled" => "调整期限",
            "reported_done" => "报告办结",
            "returned" => "退回重办",
            "verified" => "核实销号",
            "cancelled" => "撤销",
            _ => "",
        }
    }

    /// The departments an event names, with the field that names each.
    pub fn departments(&self) -> Vec<(&'static str, &str)> {
        match self {
            TaskBody::Assigned { lead_department_code, co_department_codes, .. } => {
                let mut out = vec![("lead_department_code", lead_department_code.as_str())];
                out.extend(co_department_codes.iter().map(|c| ("co_department_codes", c.as_str())));
                out
            }
            TaskBody::Signed { department_code } | TaskBody::Progress { department_code, .. } => {
                vec![("department_code", department_code.as_str())]
            }
            _ => Vec::new(),
        }
    }
}

/// One reported task event, checked on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskEvent {
    pub event_id: String,
    pub task_no: String,
    pub at: DateTime<FixedOffset>,
    pub body: TaskBody,
    /// The line as sent (trimmed), stored as the event's content.
    pub content: String,
}

const MAX_ID: usize = 100;
const MAX_TEXT: usize = 2000;

impl Fields<'_> {
    fn date(&self, field: &str) -> Result<NaiveDate, RowError> {
        let text = self.text(field, 20)?;
        NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .map_err(|_| self.err(field, format!("“{text}”不是有效日期（应为 YYYY-MM-DD）")))
    }
}

/// Reads one line of a task-events file or request (`line` counts from 1).
pub fn parse_task_event(line: usize, text: &str) -> Result<TaskEvent, RowError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| RowError::new(line, "", format!("不是有效的 JSON：{e}")))?;
    let Value::Object(obj) = &value else {
        return Err(RowError::new(line, "", "每行应为一个 JSON 对象"));
    };
    let f = Fields { line, obj };
    let event_id = f.text("event_id", MAX_ID)?;
    let task_no = f.text("task_no", MAX_ID)?;
    let kind = f.text("type", 40)?;
    let at_text = f.text("at", 64)?;
    let at = DateTime::parse_from_rfc3339(&at_text).map_err(|_| {
        f.err("at", format!("“{at_text}”不是带时区偏移的 RFC 3339 时间（如 2011-03-02T09:15:00+08:00）"))
    })?;
    let body = match kind.as_str() {
        "assigned" => {
            let origin = f.text("origin", 40)?;
            let origin = Origin::parse(&origin).ok_or_else(|| {
                f.err(
                    "origin",
                    format!(
                        "“{origin}”无效，应为 annual_plan、meeting_decision、leader_instruction、major_project 或 proposal"
                    ),
                )
            })?;
            let co_department_codes = match obj.get("co_department_codes") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| match v {
                        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
                        _ => Err(f.err("co_department_codes", "应为部门编码（字符串）的数组")),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                Some(_) => return Err(f.err("co_department_codes", "应为部门编码（字符串）的数组")),
            };
            let milestones = match obj.get("milestones") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => {
                    let mut out: Vec<Milestone> = Vec::with_capacity(items.len());
                    for (i, item) in items.iter().enumerate() {
                        let field = format!("milestones[{i}]");
                        let Value::Object(m) = item else {
                            return Err(f.err(&field, "应为对象 {code, name, due}"));
                        };
                        let m = Fields { line, obj: m };
                        let code = m.text("code", MAX_ID).map_err(|e| f.err(&format!("{field}.code"), e.reason))?;
                        if out.iter().any(|x| x.code == code) {
                            return Err(f.err(&format!("{field}.code"), format!("节点编码 {code} 重复")));
                        }
                        out.push(Milestone {
                            code,
                            name: m.text("name", MAX_TEXT).map_err(|e| f.err(&format!("{field}.name"), e.reason))?,
                            due: m.date("due").map_err(|e| f.err(&format!("{field}.due"), e.reason))?,
                        });
                    }
                    out
                }
                Some(_) => return Err(f.err("milestones", "应为数组 [{code, name, due}]")),
            };
            f.opt_text("assigned_by", MAX_TEXT)?;
            TaskBody::Assigned {
                title: f.text("title", MAX_TEXT)?,
                origin,
                lead_department_code: f.text("lead_department_code", MAX_ID)?,
                co_department_codes,
                due: f.date("due")?,
                milestones,
            }
        }
        "signed" => TaskBody::Signed { department_code: f.text("department_code", MAX_ID)? },
        "progress" => TaskBody::Progress {
            department_code: f.text("department_code", MAX_ID)?,
            note: f.text("note", MAX_TEXT)?,
            milestone_code: f.opt_text("milestone_code", MAX_ID)?,
        },
        "milestone_done" => TaskBody::MilestoneDone { milestone_code: f.text("milestone_code", MAX_ID)? },
        "rescheduled" => {
            f.text("approved_by", MAX_TEXT)?;
            TaskBody::Rescheduled { due: f.date("due")?, milestone_code: f.opt_text("milestone_code", MAX_ID)? }
        }
        "reported_done" => TaskBody::ReportedDone { note: f.text("note", MAX_TEXT)? },
        "returned" => TaskBody::Returned { reason: f.text("reason", MAX_TEXT)? },
        "verified" => TaskBody::Verified,
        "cancelled" => TaskBody::Cancelled { reason: f.text("reason", MAX_TEXT)? },
        other => return Err(f.err("type", format!("未知的事件类型“{other}”"))),
    };
    Ok(TaskEvent { event_id, task_no, at, body, content: text.trim().to_string() })
}

/// A stored task event with what the projection needs beside it.
#[derive(Debug, Clone)]
pub struct StoredTaskEvent {
    pub event_id: String,
    pub at: DateTime<Utc>,
    /// The local (city time zone) date of `at`.
    pub date: NaiveDate,
    /// Arrival order (ties in `at` are taken in this order).
    pub arrival: i64,
    pub body: TaskBody,
}

crate::words! {
    /// Where a task stands.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
    pub enum TaskStatus as "任务状态" {
        /// Events arrived, but not yet its `assigned`.
        AwaitingAssignment = "awaiting_assignment" / "待交办",
        /// Being worked on.
        Open = "open" / "办理中",
        /// The lead department reported it done; the office's verification is awaited.
        ReportedDone = "reported_done" / "待核实",
        /// Verified and closed (销号).
        Verified = "verified" / "已销号",
        /// Withdrawn by whoever assigned it.
        Cancelled = "cancelled" / "已撤销",
    }
}

impl TaskStatus {
    pub fn is_closed(self) -> bool {
        matches!(self, TaskStatus::Verified | TaskStatus::Cancelled)
    }
}

/// A milestone as it stands.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MilestoneState {
    pub code: String,
    pub name: String,
    /// As assigned, moved by each `rescheduled` naming it.
    pub due: NaiveDate,
    pub done_on: Option<NaiveDate>,
}

/// An event kept but ignored because it breaks the task's life in `at` order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TaskAnomaly {
    pub event_id: String,
    pub message: String,
}

/// A task as of a date: a pure function of its events dated on or before that date.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TaskState {
    pub as_of: NaiveDate,
    pub status: TaskStatus,
    pub title: Option<String>,
    pub origin: Option<Origin>,
    pub lead_department_code: Option<String>,
    pub co_department_codes: Vec<String>,
    pub assigned_on: Option<NaiveDate>,
    /// The task's own due date, as assigned and rescheduled.
    pub due: Option<NaiveDate>,
    pub milestones: Vec<MilestoneState>,
    /// When the lead department signed for it.
    pub lead_signed_on: Option<NaiveDate>,
    /// The last date of a sign of life: progress from the lead, a milestone done, a report done.
    pub last_activity: Option<NaiveDate>,
    /// The date of the last `reported_done` (before a verification, if any).
    pub reported_done_on: Option<NaiveDate>,
    /// Verified or cancelled on that date.
    pub closed_on: Option<NaiveDate>,
    /// For a verified task: whether its last report of done before the verification was dated
    /// no later than its due date as it stood at the verification.
    pub verified_on_time: Option<bool>,
    pub anomalies: Vec<TaskAnomaly>,
}

/// Projects a task's events (in any order) as of `as_of`: events dated after it do not count.
pub fn project_task(events: &[StoredTaskEvent], as_of: NaiveDate) -> TaskState {
    let mut order: Vec<&StoredTaskEvent> = events.iter().filter(|e| e.date <= as_of).collect();
    order.sort_by_key(|e| (e.at, e.arrival));
    let mut st = TaskState {
        as_of,
        status: TaskStatus::AwaitingAssignment,
        title: None,
        origin: None,
        lead_department_code: None,
        co_department_codes: Vec::new(),
        assigned_on: None,
        due: None,
        milestones: Vec::new(),
        lead_signed_on: None,
        last_activity: None,
        reported_done_on: None,
        closed_on: None,
        verified_on_time: None,
        anomalies: Vec::new(),
    };
    let flag = |st: &mut TaskState, e: &StoredTaskEvent, message: String| {
        st.anomalies.push(TaskAnomaly { event_id: e.event_id.clone(), message });
    };
    for e in order {
        let name = TaskBody::label_of(e.body.type_name());
        if st.status == TaskStatus::AwaitingAssignment && !matches!(e.body, TaskBody::Assigned { .. }) {
            flag(&mut st, e, format!("交办之前的“{name}”事件"));
            continue;
        }
        if st.status.is_closed() {
            let message = format!("任务已{}后又报送“{name}”事件", st.status.label());
            flag(&mut st, e, message);
            continue;
        }
        // A milestone the task does not have breaks the life too.
        let milestone = match &e.body {
            TaskBody::Progress { milestone_code: Some(c), .. }
            | TaskBody::MilestoneDone { milestone_code: c }
            | TaskBody::Rescheduled { milestone_code: Some(c), .. } => Some(c),
            _ => None,
        };
        if let Some(code) = milestone
            && !st.milestones.iter().any(|m| &m.code == code)
        {
            flag(&mut st, e, format!("任务没有节点 {code}"));
            continue;
        }
        let lead = st.lead_department_code.clone();
        match &e.body {
            TaskBody::Assigned { title, origin, lead_department_code, co_department_codes, due, milestones } => {
                if st.status != TaskStatus::AwaitingAssignment {
                    flag(&mut st, e, "重复的交办事件".into());
                    continue;
                }
                st.status = TaskStatus::Open;
                st.title = Some(title.clone());
                st.origin = Some(*origin);
                st.lead_department_code = Some(lead_department_code.clone());
                st.co_department_codes = co_department_codes.clone();
                st.assigned_on = Some(e.date);
                st.due = Some(*due);
                st.milestones = milestones
                    .iter()
                    .map(|m| MilestoneState { code: m.code.clone(), name: m.name.clone(), due: m.due, done_on: None })
                    .collect();
            }
            TaskBody::Signed { department_code } => {
                if lead.as_deref() == Some(department_code) && st.lead_signed_on.is_none() {
                    st.lead_signed_on = Some(e.date);
                }
            }
            TaskBody::Progress { department_code, .. } => {
                if lead.as_deref() == Some(department_code) {
                    st.last_activity = Some(e.date);
                }
            }
            TaskBody::MilestoneDone { milestone_code } => {
                if let Some(m) = st.milestones.iter_mut().find(|m| &m.code == milestone_code)
                    && m.done_on.is_none()
                {
                    m.done_on = Some(e.date);
                }
                st.last_activity = Some(e.date);
            }
            TaskBody::Rescheduled { due, milestone_code } => match milestone_code {
                Some(code) => {
                    if let Some(m) = st.milestones.iter_mut().find(|m| &m.code == code) {
                        m.due = *due;
                    }
                }
                None => st.due = Some(*due),
            },
            TaskBody::ReportedDone { .. } => {
                st.status = TaskStatus::ReportedDone;
                st.reported_done_on = Some(e.date);
                st.last_activity = Some(e.date);
            }
            TaskBody::Returned { .. } => st.status = TaskStatus::Open,
            TaskBody::Verified => {
                st.verified_on_time = Some(match (st.reported_done_on, st.due) {
                    (Some(done), Some(due)) => done <= due,
                    _ => false,
                });
                st.status = TaskStatus::Verified;
                st.closed_on = Some(e.date);
            }
            TaskBody::Cancelled { .. } => {
                st.status = TaskStatus::Cancelled;
                st.closed_on = Some(e.date);
            }
        }
    }
    st
}

/// Why a task has its light, in words a supervisor reads.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LightReason {
    pub light: Signal,
    pub reason: String,
}

/// Days without a sign of life after which an old task turns yellow.
const QUIET_DAYS: i64 = 30;
/// Working days after assignment within which the lead department must sign.
const SIGN_DAYS: u32 = 2;
/// Working days ahead within which a due date turns a task yellow.
const NEAR_DAYS: u32 = 3;

impl TaskState {
    /// The light as of the state's date, with its reason: `None` unless the task is open and
    /// not reported done (a task awaiting verification, or closed, has no light).
    pub fn light(&self, cal: &WorkCalendar) -> Result<Option<LightReason>, CalendarError> {
        if self.status != TaskStatus::Open {
            return Ok(None);
        }
        let d = self.as_of;
        let (Some(assigned), Some(due)) = (self.assigned_on, self.due) else { return Ok(None) };
        let red = |reason: String| Ok(Some(LightReason { light: Signal::Red, reason }));
        if let Some(m) = self.milestones.iter().find(|m| m.done_on.is_none() && m.due < d) {
            return red(format!("节点“{}”应于 {} 完成，尚未完成", m.name, m.due));
        }
        if due < d {
            return red(format!("任务应于 {due} 完成，已逾期"));
        }
        // A limit that reaches a year whose schedule is not entered yet is estimated (Monday to
        // Friday): a light must not fail because next year's holidays are not published.
        let sign_limit = cal.deadline_or_estimate(assigned, SIGN_DAYS).0;
        if d > sign_limit && self.lead_signed_on.is_none() {
            return red(format!("牵头单位应于 {sign_limit} 前签收，尚未签收"));
        }
        let yellow = |reason: String| Ok(Some(LightReason { light: Signal::Yellow, reason }));
        let horizon = cal.deadline_or_estimate(d, NEAR_DAYS).0;
        if let Some(m) = self.milestones.iter().find(|m| m.done_on.is_none() && m.due <= horizon) {
            return yellow(format!("节点“{}”将于 {} 到期", m.name, m.due));
        }
        if due <= horizon {
            return yellow(format!("任务将于 {due} 到期"));
        }
        let quiet_since = d - chrono::Days::new(QUIET_DAYS as u64 - 1);
        if (d - assigned).num_days() > QUIET_DAYS && self.last_activity.is_none_or(|a| a < quiet_since) {
            return yellow(format!("{quiet_since} 以来 {QUIET_DAYS} 天没有进展报送"));
        }
        Ok(Some(LightReason { light: Signal::Green, reason: "按计划推进".into() }))
    }
}

impl TaskState {
    /// Today's light and the first later day on which it changes if nothing else happens (the
    /// day the monitor looks at the task again); `(None, None)` for a task with no light.
    pub fn light_plan(&self, cal: &WorkCalendar) -> Result<(Option<LightReason>, Option<NaiveDate>), CalendarError> {
        Ok((self.light(cal)?, self.next_light_change(cal)?))
    }
}

crate::words! {
    /// Where a task stands on a day, as the tasks report counts it: its light while it is open,
    /// awaiting verification, or closed (verified on time or late, cancelled).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Phase as "任务阶段" {
        Green = "green" / "绿灯",
        Yellow = "yellow" / "黄灯",
        Red = "red" / "红灯",
        AwaitingVerification = "awaiting_verification" / "待核实",
        VerifiedOnTime = "verified_on_time" / "按期办结",
        VerifiedLate = "verified_late" / "逾期办结",
        Cancelled = "cancelled" / "已撤销",
    }
}

/// A task's phase over the days `from` ..< `until` (`None`: from then on, unless an event
/// changes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PhaseSpan {
    pub phase: Phase,
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
}

impl PhaseSpan {
    pub fn holds_on(&self, day: NaiveDate) -> bool {
        self.from <= day && self.until.is_none_or(|u| day < u)
    }
}

impl Phase {
    fn of_light(light: Signal) -> Phase {
        match light {
            Signal::Red => Phase::Red,
            Signal::Yellow => Phase::Yellow,
            Signal::Green => Phase::Green,
        }
    }
}

impl TaskState {
    /// The phase of the state as of its date; `None` before the assignment.
    pub fn phase(&self, cal: &WorkCalendar) -> Result<Option<Phase>, CalendarError> {
        Ok(match self.status {
            TaskStatus::AwaitingAssignment => None,
            TaskStatus::Open => self.light(cal)?.map(|l| Phase::of_light(l.light)),
            TaskStatus::ReportedDone => Some(Phase::AwaitingVerification),
            TaskStatus::Verified if self.verified_on_time == Some(true) => Some(Phase::VerifiedOnTime),
            TaskStatus::Verified => Some(Phase::VerifiedLate),
            TaskStatus::Cancelled => Some(Phase::Cancelled),
        })
    }

    /// The first day after the state's date on which its light changes if no event comes, or
    /// `None` if it never does. Each rule of the light turns true on one day and stays true
    /// (a due date passed, the sign limit passed, a due date within reach, a quiet spell), so
    /// the light can change only on those days: they are found, not walked to day by day.
    pub fn next_light_change(&self, cal: &WorkCalendar) -> Result<Option<NaiveDate>, CalendarError> {
        let Some(now) = self.light(cal)?.map(|l| l.light) else { return Ok(None) };
        let (Some(assigned), Some(due)) = (self.assigned_on, self.due) else { return Ok(None) };
        let day = |d: NaiveDate, n: u64| d.checked_add_days(chrono::Days::new(n));
        // The earliest due date not met: the task's or an undone milestone's.
        let first_due = self.milestones.iter().filter(|m| m.done_on.is_none()).map(|m| m.due).fold(due, NaiveDate::min);
        let mut candidates = vec![day(first_due, 1)];
        if self.lead_signed_on.is_none() {
            candidates.push(day(cal.deadline_or_estimate(assigned, SIGN_DAYS).0, 1));
        }
        // The first day whose horizon (the NEAR_DAYS-th working day after it) reaches the due
        // date; the horizon never moves back, so a binary search finds it.
        let (mut lo, mut hi) = (first_due.checked_sub_days(chrono::Days::new(60)).unwrap_or(NaiveDate::MIN), first_due);
        while lo < hi {
            let mid = lo + chrono::Days::new(((hi - lo).num_days() / 2) as u64);
            if cal.deadline_or_estimate(mid, NEAR_DAYS).0 >= first_due {
                hi = mid;
            } else {
                lo = mid + chrono::Days::new(1);
            }
        }
        candidates.push(Some(lo));
        let quiet = self.last_activity.and_then(|a| day(a, QUIET_DAYS as u64)).into_iter();
        candidates.push(quiet.chain(day(assigned, QUIET_DAYS as u64 + 1)).max());
        let mut candidates: Vec<NaiveDate> = candidates.into_iter().flatten().filter(|c| *c > self.as_of).collect();
        candidates.sort();
        candidates.dedup();
        let mut later = self.clone();
        for c in candidates {
            later.as_of = c;
            if later.light(cal)?.map(|l| l.light) != Some(now) {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }
}

/// A task's phases from its assignment on, given its events (in any order): the spans of days
/// over which, with the events dated up to each day, it is green, yellow, red, awaiting
/// verification or closed. The tasks report as of a day looks up the span holding that day
/// instead of replaying the events (docs/performance.md).
pub fn phases(events: &[StoredTaskEvent], cal: &WorkCalendar) -> Result<Vec<PhaseSpan>, CalendarError> {
    let mut dates: Vec<NaiveDate> = events.iter().map(|e| e.date).collect();
    dates.sort();
    dates.dedup();
    let mut out: Vec<PhaseSpan> = Vec::new();
    let mut push = |phase: Phase, from: NaiveDate, until: Option<NaiveDate>| match out.last_mut() {
        Some(last) if last.phase == phase && last.until == Some(from) => last.until = until,
        _ => out.push(PhaseSpan { phase, from, until }),
    };
    for (i, &date) in dates.iter().enumerate() {
        let next_event = dates.get(i + 1).copied();
        let mut st = project_task(events, date);
        let Some(phase) = st.phase(cal)? else { continue };
        if st.status != TaskStatus::Open {
            push(phase, date, if st.status.is_closed() { None } else { next_event });
            if st.status.is_closed() {
                break;
            }
            continue;
        }
        let mut phase = phase;
        loop {
            let change = st.next_light_change(cal)?;
            let until = match (change, next_event) {
                (Some(c), Some(n)) => Some(c.min(n)),
                (c, n) => c.or(n),
            };
            push(phase, st.as_of, until);
            match change {
                Some(c) if next_event.is_none_or(|n| c < n) => {
                    st.as_of = c;
                    let Some(p) = st.phase(cal)? else { break };
                    phase = p;
                }
                _ => break,
            }
        }
    }
    Ok(out)
}

/// The counts of the tasks report for a period (docs/figures.md, "Key tasks").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TaskCounts {
    pub open: i64,
    pub green: i64,
    pub yellow: i64,
    pub red: i64,
    pub awaiting_verification: i64,
    pub verified: i64,
    pub verified_on_time: i64,
}

impl TaskCounts {
    /// Adds `n` tasks in `phase`: as of the period's last day for the phases of a task not
    /// closed; verified within the period for the verified ones. Cancelled tasks count nowhere.
    pub fn add_phase(&mut self, phase: Phase, n: i64) {
        match phase {
            Phase::Green => self.green += n,
            Phase::Yellow => self.yellow += n,
            Phase::Red => self.red += n,
            Phase::AwaitingVerification => self.awaiting_verification += n,
            Phase::VerifiedOnTime => self.verified_on_time += n,
            Phase::VerifiedLate | Phase::Cancelled => {}
        }
        match phase {
            Phase::Green | Phase::Yellow | Phase::Red | Phase::AwaitingVerification => self.open += n,
            Phase::VerifiedOnTime | Phase::VerifiedLate => self.verified += n,
            Phase::Cancelled => {}
        }
    }

    pub fn on_time_rate(&self) -> Option<f64> {
        (self.verified > 0).then(|| self.verified_on_time as f64 / self.verified as f64)
    }

    /// Whether the task counts anywhere (a group without any is not listed).
    pub fn is_empty(&self) -> bool {
        self.open == 0 && self.verified == 0
    }
}

crate::words! {
    /// A step a person takes on a task in the pages; each is recorded as the task event of the
    /// same meaning (exchange formats §5), so a task's history reads the same whichever way it came.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum TaskStep as "督办步骤" {
        /// 签收: the lead department signs for the task.
        Sign = "sign" / "签收",
        /// 报送进展
        Progress = "progress" / "报送进展",
        /// 节点完成
        MilestoneDone = "milestone_done" / "节点完成",
        /// 报告完成: the lead department reports the task done.
        ReportDone = "report_done" / "报告完成",
        /// 调整期限: the office moves a due date (the task's or a milestone's).
        Reschedule = "reschedule" / "调整期限",
        /// 退回: the office finds it not done.
        Return = "return" / "退回重办",
        /// 核实销号
        Verify = "verify" / "核实销号",
        /// 撤销
        Cancel = "cancel" / "撤销任务",
    }
}

/// Who acts on a task: its lead department, or the office that supervises it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskActor {
    Lead,
    Office,
}

impl TaskStep {
    /// The task event's type this step is recorded as.
    pub fn event_type(self) -> &'static str {
        match self {
            TaskStep::Sign => "signed",
            TaskStep::Progress => "progress",
            TaskStep::MilestoneDone => "milestone_done",
            TaskStep::ReportDone => "reported_done",
            TaskStep::Reschedule => "rescheduled",
            TaskStep::Return => "returned",
            TaskStep::Verify => "verified",
            TaskStep::Cancel => "cancelled",
        }
    }
}

/// The steps `by` may take on a task as it stands: the lead department signs once, reports
/// progress and milestones and reports the task done while it is open; the office moves due
/// dates, returns or verifies a task reported done, and cancels a task not closed.
pub fn possible_steps(st: &TaskState, by: TaskActor) -> Vec<TaskStep> {
    let open = st.status == TaskStatus::Open;
    let mut steps = Vec::new();
    match by {
        TaskActor::Lead if open => {
            if st.lead_signed_on.is_none() {
                steps.push(TaskStep::Sign);
            }
            steps.push(TaskStep::Progress);
            if st.milestones.iter().any(|m| m.done_on.is_none()) {
                steps.push(TaskStep::MilestoneDone);
            }
            steps.push(TaskStep::ReportDone);
        }
        TaskActor::Lead => {}
        TaskActor::Office => {
            if open {
                steps.push(TaskStep::Reschedule);
            }
            if st.status == TaskStatus::ReportedDone {
                steps.extend([TaskStep::Return, TaskStep::Verify]);
            }
            if !st.status.is_closed() && st.status != TaskStatus::AwaitingAssignment {
                steps.push(TaskStep::Cancel);
            }
        }
    }
    steps
}

#[cfg(test)]
mod step_tests {
    use super::*;

    fn line(kind: &str, extra: &str, day: u32) -> StoredTaskEvent {
        let text = format!(
            r#"{{"event_id":"e{kind}{day}","task_no":"T1","type":"{kind}","at":"2011-03-{day:02}T09:00:00+08:00"{extra}}}"#
        );
        let e = parse_task_event(1, &text).unwrap();
        StoredTaskEvent {
            event_id: e.event_id,
            at: e.at.with_timezone(&chrono::Utc),
            date: e.at.date_naive(),
            arrival: i64::from(day),
            body: e.body,
        }
    }

    #[test]
    fn who_may_take_which_step_follows_the_task() {
        let assigned = line(
            "assigned",
            r#","title":"t","origin":"annual_plan","lead_department_code":"D1","co_department_codes":[],"due":"2011-06-30","milestones":[{"code":"M1","name":"方案","due":"2011-04-30"}]"#,
            1,
        );
        let st = project_task(std::slice::from_ref(&assigned), NaiveDate::from_ymd_opt(2011, 3, 31).unwrap());
        use TaskStep::*;
        assert_eq!(possible_steps(&st, TaskActor::Lead), [Sign, Progress, MilestoneDone, ReportDone]);
        assert_eq!(possible_steps(&st, TaskActor::Office), [Reschedule, Cancel]);
        let signed = line("signed", r#","department_code":"D1""#, 2);
        let done = line("reported_done", r#","note":"完成""#, 3);
        let st = project_task(&[assigned.clone(), signed, done], NaiveDate::from_ymd_opt(2011, 3, 31).unwrap());
        assert!(possible_steps(&st, TaskActor::Lead).is_empty(), "reported done: the office acts");
        assert_eq!(possible_steps(&st, TaskActor::Office), [Return, Verify, Cancel]);
    }

    #[test]
    fn a_light_reaching_a_year_not_entered_is_estimated_not_refused() {
        // The official calendar ends with the last year shipped; a task signed in its last
        // December and due the next spring must still have a light and a next change.
        let cal = WorkCalendar::official();
        let last = (1990..2200).rev().find(|y| cal.is_working_day(NaiveDate::from_ymd_opt(*y, 6, 1).unwrap()).is_ok());
        let year = last.expect("a shipped year");
        let extra = format!(
            r#","title":"t","origin":"annual_plan","lead_department_code":"D1","co_department_codes":[],"due":"{}-03-31","milestones":[]"#,
            year + 1
        );
        let text =
            format!(r#"{{"event_id":"a","task_no":"T1","type":"assigned","at":"{year}-12-01T09:00:00+08:00"{extra}}}"#);
        let e = parse_task_event(1, &text).unwrap();
        let assigned = StoredTaskEvent {
            event_id: e.event_id,
            at: e.at.with_timezone(&chrono::Utc),
            date: e.at.date_naive(),
            arrival: 1,
            body: e.body,
        };
        let mut signed = line("signed", r#","department_code":"D1""#, 2);
        signed.date = NaiveDate::from_ymd_opt(year, 12, 2).unwrap();
        signed.at = assigned.at + chrono::Duration::days(1);
        let st = project_task(&[assigned, signed], NaiveDate::from_ymd_opt(year, 12, 20).unwrap());
        let (light, next) = st.light_plan(&cal).expect("no calendar error");
        assert_eq!(light.map(|l| l.light), Some(Signal::Green));
        assert!(next.is_some_and(|d| chrono::Datelike::year(&d) == year + 1), "the next change is next year: {next:?}");
    }
}

#[cfg(test)]
mod phase_tests {
    use chrono::Days;

    use super::*;

    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self, n: u64) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    fn event(seq: i64, date: NaiveDate, kind: &str, extra: &str) -> StoredTaskEvent {
        let text =
            format!(r#"{{"event_id":"e{seq}","task_no":"T1","type":"{kind}","at":"{date}T09:00:00+08:00"{extra}}}"#);
        let e = parse_task_event(1, &text).unwrap();
        StoredTaskEvent { event_id: e.event_id, at: e.at.with_timezone(&Utc), date, arrival: seq, body: e.body }
    }

    /// A random history: an assignment with milestones, signing (or not), progress, milestones
    /// done, reschedules, reports returned or verified, a cancellation, events out of turn.
    fn history(r: &mut Lcg) -> Vec<StoredTaskEvent> {
        let start = NaiveDate::from_ymd_opt(2011, 1, 3).unwrap() + Days::new(r.next(330));
        let due = start + Days::new(3 + r.next(90));
        let milestones: Vec<String> = (1..=r.next(3))
            .map(|m| format!(r#"{{"code":"M{m}","name":"节点{m}","due":"{}"}}"#, start + Days::new(1 + r.next(60))))
            .collect();
        let mut out = vec![event(
            0,
            start,
            "assigned",
            &format!(
                r#","title":"t","origin":"annual_plan","lead_department_code":"D1","co_department_codes":[],"due":"{due}","milestones":[{}]"#,
                milestones.join(",")
            ),
        )];
        let mut day = start;
        for seq in 1..=r.next(9) as i64 {
            day = day + Days::new(r.next(25));
            let (kind, extra) = match r.next(9) {
                0 => ("signed", r#","department_code":"D1""#.to_string()),
                1 => ("signed", r#","department_code":"D2""#.to_string()),
                2 | 3 => ("progress", r#","department_code":"D1","note":"进展""#.to_string()),
                4 => ("milestone_done", format!(r#","milestone_code":"M{}""#, 1 + r.next(3))),
                8 if r.next(2) == 0 => (
                    "rescheduled",
                    format!(r#","due":"{}","approved_by":"市领导","milestone_code":"M1""#, day + Days::new(r.next(30))),
                ),
                5 => ("rescheduled", format!(r#","due":"{}","approved_by":"市领导""#, day + Days::new(r.next(40)))),
                6 => ("reported_done", r#","note":"完成""#.to_string()),
                7 => ("returned", r#","reason":"未完成""#.to_string()),
                _ => (["verified", "cancelled"][r.next(2) as usize], r#","reason":"撤销""#.to_string()),
            };
            out.push(event(seq, day, kind, &extra));
        }
        out
    }

    #[test]
    fn phases_agree_with_the_state_of_every_day() {
        let cal = WorkCalendar::official();
        let mut r = Lcg(2011);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..400 {
            let events = history(&mut r);
            let spans = phases(&events, &cal).unwrap();
            for pair in spans.windows(2) {
                assert!(pair[0].until.is_some_and(|u| u <= pair[1].from), "spans in order: {spans:?}");
            }
            let first = events[0].date;
            for n in 0..400 {
                let day = first - Days::new(3) + Days::new(n);
                let want = project_task(&events, day).phase(&cal).unwrap();
                let got = spans.iter().find(|s| s.holds_on(day)).map(|s| s.phase);
                assert_eq!(got, want, "{day}: {spans:?}");
                seen.extend(want);
            }
        }
        assert_eq!(seen.len(), Phase::ALL.len(), "every phase reached: {seen:?}");
    }
}

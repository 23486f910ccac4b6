//! The life of a hotline work order (工单), DOMAIN.md §3: received → dispatched to the responsible
//! department → signed for within working hours → replied within the handling limit of its type
//! → return visit by the office → closed; or returned by the department (退单, within its window)
//! and dispatched again; or extended on request approved by the office; or handled again (重办)
//! after an unsatisfied visit, the third time under the office's direct supervision.
//!
//! Everything here is a pure function of an order's flow, the step, the time and the calendar:
//! the use case loads the order, asks [`apply`] for the next flow and stores it.

use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::{CalendarError, WorkCalendar};
use crate::ticket::{Satisfaction, TicketType};

crate::words! {
    /// Where an order stands.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
    pub enum OrderStatus as "工单状态" {
        /// 待派单: taken, or returned by a department; the hotline dispatches it.
        Received = "received" / "待派单",
        /// 待签收: sent to a department, which signs for it within working hours.
        Dispatched = "dispatched" / "待签收",
        /// 办理中: the department handles it and replies within the limit.
        Signed = "signed" / "办理中",
        /// 待回访: replied; the office calls the citizen back.
        Replied = "replied" / "待回访",
        /// 已办结
        Closed = "closed" / "已办结",
    }
}

/// Who takes a step: the hotline (operators and the office), the office alone (decisions), or
/// the department the order was sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepBy {
    Hotline,
    Office,
    Department,
}

/// A step of an order's life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderStep {
    /// 派单 to a department (given by its code; the use case resolves it).
    Dispatch,
    /// 签收
    Sign,
    /// 退单: not ours, with the reason.
    Return,
    /// 申请延期 by this many working days.
    RequestExtension(u32),
    /// 同意延期 / 不同意延期
    DecideExtension(bool),
    /// 答复 the citizen (the department's reply).
    Reply,
    /// 回访 with its result.
    Visit(Satisfaction),
    /// 直接答复办结: a consultation answered by the operator at once.
    Answer,
    /// 办结 by the office (an escalated or unresolvable order), with the reason.
    Close,
}

impl OrderStep {
    pub fn as_str(&self) -> &'static str {
        match self {
            OrderStep::Dispatch => "dispatch",
            OrderStep::Sign => "sign",
            OrderStep::Return => "return",
            OrderStep::RequestExtension(_) => "request_extension",
            OrderStep::DecideExtension(true) => "approve_extension",
            OrderStep::DecideExtension(false) => "refuse_extension",
            OrderStep::Reply => "reply",
            OrderStep::Visit(_) => "visit",
            OrderStep::Answer => "answer",
            OrderStep::Close => "close",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            OrderStep::Dispatch => "派单",
            OrderStep::Sign => "签收",
            OrderStep::Return => "退单",
            OrderStep::RequestExtension(_) => "申请延期",
            OrderStep::DecideExtension(true) => "同意延期",
            OrderStep::DecideExtension(false) => "不同意延期",
            OrderStep::Reply => "答复",
            OrderStep::Visit(_) => "回访",
            OrderStep::Answer => "直接答复办结",
            OrderStep::Close => "办结",
        }
    }

    /// The label of a stored step word (the timeline), or the word itself.
    pub fn label_of(word: &str) -> &str {
        match word {
            "create" => "受理",
            "dispatch" => "派单",
            "sign" => "签收",
            "return" => "退单",
            "request_extension" => "申请延期",
            "approve_extension" => "同意延期",
            "refuse_extension" => "不同意延期",
            "reply" => "答复",
            "visit" => "回访",
            "redo" => "重办",
            "reschedule" => "期限重算",
            "escalate" => "效能办直接督办",
            "answer" => "直接答复办结",
            "close" => "办结",
            other => other,
        }
    }

    pub fn by(&self) -> StepBy {
        match self {
            OrderStep::Dispatch | OrderStep::Visit(_) | OrderStep::Answer => StepBy::Hotline,
            OrderStep::DecideExtension(_) | OrderStep::Close => StepBy::Office,
            OrderStep::Sign | OrderStep::Return | OrderStep::RequestExtension(_) | OrderStep::Reply => {
                StepBy::Department
            }
        }
    }

    /// Whether the step must say why (a reason, the reply, what the citizen said).
    pub fn needs_note(&self) -> bool {
        matches!(
            self,
            OrderStep::Return
                | OrderStep::RequestExtension(_)
                | OrderStep::Reply
                | OrderStep::Answer
                | OrderStep::Close
                | OrderStep::DecideExtension(false)
        )
    }
}

/// The limits of the hotline (`[hotline]` in the configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HotlineRules {
    /// The department signs for an order within this many working hours of dispatch.
    pub sign_hours: u32,
    /// Working hours of a working day, as `HH:MM-HH:MM` spans in local time.
    pub working_hours: Vec<String>,
    /// Handling limits in working days, counted from dispatch.
    pub consultation_days: u32,
    pub help_days: u32,
    pub suggestion_days: u32,
    pub complaint_days: u32,
    pub report_days: u32,
    pub praise_days: u32,
    /// A department may return an order within this many working days of dispatch.
    pub return_days: u32,
    /// The office visits the citizen within this many working days of the reply.
    pub visit_days: u32,
    /// The longest extension a department may ask for at once.
    pub max_extension_days: u32,
    /// At this redo the office supervises the order directly.
    pub escalate_at_redo: u32,
}

impl Default for HotlineRules {
    fn default() -> Self {
        HotlineRules {
            sign_hours: 2,
            working_hours: vec!["08:00-12:00".into(), "14:30-17:30".into()],
            consultation_days: 2,
            help_days: 10,
            suggestion_days: 10,
            complaint_days: 15,
            report_days: 15,
            praise_days: 5,
            return_days: 2,
            visit_days: 3,
            max_extension_days: 15,
            escalate_at_redo: 3,
        }
    }
}

impl HotlineRules {
    pub fn limit_days(&self, t: TicketType) -> u32 {
        match t {
            TicketType::Consultation => self.consultation_days,
            TicketType::Help => self.help_days,
            TicketType::Suggestion => self.suggestion_days,
            TicketType::Complaint => self.complaint_days,
            TicketType::Report => self.report_days,
            TicketType::Praise => self.praise_days,
        }
    }

    /// The working-hour spans, checked: each `HH:MM-HH:MM`, increasing, not overlapping.
    pub fn spans(&self) -> Result<Vec<(NaiveTime, NaiveTime)>, String> {
        let mut spans: Vec<(NaiveTime, NaiveTime)> = Vec::new();
        for s in &self.working_hours {
            let bad = || format!("工作时间“{s}”应写作 HH:MM-HH:MM");
            let (a, b) = s.split_once('-').ok_or_else(bad)?;
            let a = NaiveTime::parse_from_str(a.trim(), "%H:%M").map_err(|_| bad())?;
            let b = NaiveTime::parse_from_str(b.trim(), "%H:%M").map_err(|_| bad())?;
            if b <= a || spans.last().is_some_and(|(_, end)| *end > a) {
                return Err(format!("工作时间“{s}”须晚于上一段且结束晚于开始"));
            }
            spans.push((a, b));
        }
        if spans.is_empty() {
            return Err("至少需要一段工作时间".into());
        }
        Ok(spans)
    }
}

/// The instant `hours` working hours after `start`: time counts only within the working-hour
/// spans of working days. An order dispatched at 11:00 with 2 hours to sign, on a day worked
/// 08:00–12:00 and 14:30–17:30, must be signed by 15:30.
/// Days of years whose schedule is not entered count Monday to Friday; the flag says so.
pub fn add_working_hours<Tz: TimeZone>(
    cal: &WorkCalendar,
    tz: &Tz,
    start: DateTime<Utc>,
    hours: u32,
    spans: &[(NaiveTime, NaiveTime)],
) -> (DateTime<Utc>, bool) {
    let local = start.with_timezone(tz).naive_local();
    let mut left = chrono::Duration::hours(i64::from(hours));
    let mut day = local.date();
    let mut from = local.time();
    let mut estimated = false;
    let end: NaiveDateTime = 'days: loop {
        let (working, guess) = cal.is_working_day_or_estimate(day);
        estimated |= guess;
        if working {
            for (a, b) in spans {
                let begin = from.max(*a);
                if begin >= *b {
                    continue;
                }
                let available = *b - begin;
                if left <= available {
                    break 'days day.and_time(begin) + left;
                }
                left -= available;
            }
        }
        day = day + Days::new(1);
        from = NaiveTime::MIN;
    };
    (tz.from_local_datetime(&end).earliest().map_or(start, |t| t.with_timezone(&Utc)), estimated)
}

/// The workflow facts of an order: what [`apply`] reads and writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    pub status: OrderStatus,
    pub kind: TicketType,
    /// The department it is sent to, once dispatched.
    pub department: Option<String>,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub sign_due: Option<DateTime<Utc>>,
    pub signed_at: Option<DateTime<Utc>>,
    /// The day the handling limit counts from: dispatch, or the visit that ordered a redo.
    pub handle_from: Option<NaiveDate>,
    pub reply_due: Option<NaiveDate>,
    pub return_by: Option<NaiveDate>,
    pub extension_days: u32,
    /// Days asked for and not yet decided.
    pub extension_pending: Option<u32>,
    pub returned_count: u32,
    pub replied_at: Option<DateTime<Utc>>,
    pub visit_due: Option<NaiveDate>,
    pub redo_count: u32,
    pub escalated: bool,
    pub satisfaction: Option<Satisfaction>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Some deadline counted days of a year whose official schedule is not entered yet
    /// (Monday to Friday): shown as an estimate, recomputed when the year is entered.
    pub estimated: bool,
}

impl Flow {
    /// A new order, waiting to be dispatched.
    pub fn new(kind: TicketType) -> Flow {
        Flow {
            status: OrderStatus::Received,
            kind,
            department: None,
            dispatched_at: None,
            sign_due: None,
            signed_at: None,
            handle_from: None,
            reply_due: None,
            return_by: None,
            extension_days: 0,
            extension_pending: None,
            returned_count: 0,
            replied_at: None,
            visit_due: None,
            redo_count: 0,
            escalated: false,
            satisfaction: None,
            closed_at: None,
            estimated: false,
        }
    }
}

/// Recomputes every running deadline of `flow` from its anchors (dispatch instant, the day its
/// handling counts from, approved extensions, the reply), on `cal`: after a step, and when the
/// official calendar changes (a new year's schedule entered, a correction).
pub fn schedule<Tz: TimeZone>(flow: &mut Flow, tz: &Tz, cal: &WorkCalendar, rules: &HotlineRules) {
    let spans = rules.spans().unwrap_or_else(|_| HotlineRules::default().spans().expect("valid default hours"));
    let mut guesses = Vec::new();
    let mut date = |start: NaiveDate, days: u32| {
        let (d, guess) = cal.deadline_or_estimate(start, days);
        guesses.push(guess);
        d
    };
    let local = |t: DateTime<Utc>| t.with_timezone(tz).date_naive();
    let mut sign_guess = false;
    if let Some(at) = flow.dispatched_at {
        if flow.sign_due.is_some() {
            let (due, guess) = add_working_hours(cal, tz, at, rules.sign_hours, &spans);
            flow.sign_due = Some(due);
            sign_guess = guess;
        }
        if flow.return_by.is_some() {
            flow.return_by = Some(date(local(at), rules.return_days));
        }
    }
    if let Some(from) = flow.handle_from.filter(|_| flow.reply_due.is_some()) {
        flow.reply_due = Some(date(from, rules.limit_days(flow.kind) + flow.extension_days));
    }
    if let (Some(replied), Some(_)) = (flow.replied_at, flow.visit_due) {
        flow.visit_due = Some(date(local(replied), rules.visit_days));
    }
    flow.estimated = sign_guess || guesses.contains(&true);
}

/// Why a step cannot be taken now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("工单当前为“{}”，不能{}", .0.label(), .1)]
    WrongStatus(OrderStatus, &'static str),
    #[error("退单须在派单后 {0} 个工作日内（{1} 前）提出，已超过期限")]
    ReturnTooLate(u32, NaiveDate),
    #[error("已有一项延期申请待效能办决定")]
    ExtensionPending,
    #[error("没有待决定的延期申请")]
    NoExtensionPending,
    #[error("延期天数须为 1 至 {0} 个工作日")]
    ExtensionDays(u32),
    #[error("只有咨询类工单可由话务员直接答复办结")]
    NotConsultation,
    #[error("派单须指定承办部门")]
    NoDepartment,
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

/// What a step does besides moving the flow: a redo or an escalation, for the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consequence {
    Redo,
    Escalated,
}

/// Whether `step` may be taken on `flow` today (who takes it is checked by the use case).
pub fn allowed(flow: &Flow, step: &OrderStep, today: NaiveDate, rules: &HotlineRules) -> Result<(), StepError> {
    use OrderStatus::*;
    let wrong = |what| Err(StepError::WrongStatus(flow.status, what));
    match step {
        OrderStep::Dispatch if flow.status != Received => wrong("派单"),
        OrderStep::Sign if flow.status != Dispatched => wrong("签收"),
        OrderStep::Return if !matches!(flow.status, Dispatched | Signed) || flow.return_by.is_none() => wrong("退单"),
        OrderStep::Return => match flow.return_by {
            Some(by) if today > by => Err(StepError::ReturnTooLate(rules.return_days, by)),
            _ => Ok(()),
        },
        OrderStep::RequestExtension(_) if flow.status != Signed => wrong("申请延期"),
        OrderStep::RequestExtension(_) if flow.extension_pending.is_some() => Err(StepError::ExtensionPending),
        OrderStep::RequestExtension(d) if *d == 0 || *d > rules.max_extension_days => {
            Err(StepError::ExtensionDays(rules.max_extension_days))
        }
        OrderStep::DecideExtension(_) if flow.extension_pending.is_none() => Err(StepError::NoExtensionPending),
        OrderStep::Reply if flow.status != Signed => wrong("答复"),
        OrderStep::Visit(_) if flow.status != Replied => wrong("回访"),
        OrderStep::Answer if flow.kind != TicketType::Consultation => Err(StepError::NotConsultation),
        OrderStep::Answer if flow.status != Received => wrong("直接答复办结"),
        OrderStep::Close if flow.status == Closed => wrong("办结"),
        _ => Ok(()),
    }
}

/// The flow after `step`, taken at `now` (local date `today`). `department` is the target of a
/// dispatch.
#[allow(clippy::too_many_arguments)]
pub fn apply<Tz: TimeZone>(
    flow: &Flow,
    step: &OrderStep,
    department: Option<&str>,
    now: DateTime<Utc>,
    tz: &Tz,
    cal: &WorkCalendar,
    rules: &HotlineRules,
) -> Result<(Flow, Option<Consequence>), StepError> {
    let today = now.with_timezone(tz).date_naive();
    allowed(flow, step, today, rules)?;
    let mut f = flow.clone();
    let mut consequence = None;
    match step {
        OrderStep::Dispatch => {
            let department = department.filter(|d| !d.is_empty()).ok_or(StepError::NoDepartment)?;
            f.status = OrderStatus::Dispatched;
            f.department = Some(department.to_string());
            f.dispatched_at = Some(now);
            // Deadlines are marked here and computed by `schedule` below.
            f.sign_due = Some(now);
            f.signed_at = None;
            f.handle_from = Some(today);
            f.extension_days = 0;
            f.extension_pending = None;
            f.reply_due = Some(today);
            f.return_by = Some(today);
        }
        OrderStep::Sign => {
            f.status = OrderStatus::Signed;
            f.signed_at = Some(now);
        }
        OrderStep::Return => {
            f.status = OrderStatus::Received;
            f.returned_count += 1;
            f.department = None;
            f.dispatched_at = None;
            f.sign_due = None;
            f.signed_at = None;
            f.handle_from = None;
            f.reply_due = None;
            f.return_by = None;
            f.extension_days = 0;
            f.extension_pending = None;
        }
        OrderStep::RequestExtension(days) => f.extension_pending = Some(*days),
        OrderStep::DecideExtension(approved) => {
            let days = f.extension_pending.take().unwrap_or(0);
            if *approved {
                f.extension_days += days;
            }
        }
        OrderStep::Reply => {
            f.status = OrderStatus::Replied;
            f.replied_at = Some(now);
            f.extension_pending = None;
            f.visit_due = Some(today);
        }
        OrderStep::Visit(result) => {
            f.satisfaction = Some(*result);
            f.visit_due = None;
            if *result == Satisfaction::Unsatisfied {
                // 重办: the same department handles it again, with a fresh limit.
                f.status = OrderStatus::Signed;
                f.redo_count += 1;
                // The flow is the current round's; the timeline keeps the earlier replies.
                f.replied_at = None;
                f.handle_from = Some(today);
                f.extension_days = 0;
                f.reply_due = Some(today);
                f.return_by = None;
                consequence = Some(Consequence::Redo);
                if f.redo_count >= rules.escalate_at_redo && !f.escalated {
                    f.escalated = true;
                    consequence = Some(Consequence::Escalated);
                }
            } else {
                f.status = OrderStatus::Closed;
                f.closed_at = Some(now);
            }
        }
        OrderStep::Answer | OrderStep::Close => {
            f.status = OrderStatus::Closed;
            f.closed_at = Some(now);
            f.extension_pending = None;
            f.visit_due = None;
        }
    }
    schedule(&mut f, tz, cal, rules);
    Ok((f, consequence))
}

/// The steps that could be taken on `flow` by whoever holds `by`, today.
pub fn possible_steps(flow: &Flow, by: &[StepBy], today: NaiveDate, rules: &HotlineRules) -> Vec<OrderStep> {
    let candidates = vec![
        OrderStep::Dispatch,
        OrderStep::Answer,
        OrderStep::Sign,
        OrderStep::Reply,
        OrderStep::RequestExtension(1),
        OrderStep::Return,
        OrderStep::DecideExtension(true),
        OrderStep::DecideExtension(false),
        OrderStep::Visit(Satisfaction::Satisfied),
        OrderStep::Close,
    ];
    candidates.into_iter().filter(|s| by.contains(&s.by()) && allowed(flow, s, today, rules).is_ok()).collect()
}

/// What is late on an order at `now`: signing, replying or the return visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Late {
    Sign,
    Reply,
    Visit,
}

impl Late {
    /// The kind of the alert a late order raises.
    pub fn alert_kind(self) -> &'static str {
        match self {
            Late::Sign => "order_sign_late",
            Late::Reply => "order_reply_late",
            Late::Visit => "order_visit_late",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Late::Sign => "签收超时",
            Late::Reply => "办理超期",
            Late::Visit => "回访超期",
        }
    }
}

pub fn late(flow: &Flow, now: DateTime<Utc>, today: NaiveDate) -> Option<Late> {
    match flow.status {
        OrderStatus::Dispatched if flow.sign_due.is_some_and(|d| now > d) => Some(Late::Sign),
        OrderStatus::Signed if flow.reply_due.is_some_and(|d| today > d) => Some(Late::Reply),
        OrderStatus::Replied if flow.visit_due.is_some_and(|d| today > d) => Some(Late::Visit),
        _ => None,
    }
}

/// A phone number as typed, without spaces and dashes; `Ok(None)` when empty, `Err` when it is
/// not 5 to 20 digits.
pub fn parse_phone(typed: &str) -> Result<Option<String>, ()> {
    let phone: String = typed.trim().chars().filter(|c| *c != ' ' && *c != '-').collect();
    if phone.is_empty() {
        return Ok(None);
    }
    if phone.len() < 5 || phone.len() > 20 || !phone.chars().all(|c| c.is_ascii_digit()) {
        return Err(());
    }
    Ok(Some(phone))
}

/// A phone number as lists show it: the first three and last four digits, e.g. 138****5678.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

/// A name as lists show it: the family name, e.g. 王**.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => format!("{first}{}", "*".repeat(chars.count().max(1))),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::WorkCalendar;
    use chrono::FixedOffset;

    fn cal() -> WorkCalendar {
        WorkCalendar::official()
    }

    fn tz() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn step(flow: &Flow, s: OrderStep, when: &str) -> (Flow, Option<Consequence>) {
        apply(flow, &s, Some("DEPT"), at(when), &tz(), &cal(), &HotlineRules::default()).unwrap()
    }

    #[test]
    fn sign_hours_count_only_working_hours_of_working_days() {
        let spans = HotlineRules::default().spans().unwrap();
        let c = cal();
        // Within the morning span.
        assert_eq!(
            add_working_hours(&c, &tz(), at("2026-11-26T09:00:00+08:00"), 2, &spans).0,
            at("2026-11-26T11:00:00+08:00")
        );
        // Across lunch: 11:00 + 1 h in the morning + 1 h from 14:30.
        assert_eq!(
            add_working_hours(&c, &tz(), at("2026-11-26T11:00:00+08:00"), 2, &spans).0,
            at("2026-11-26T15:30:00+08:00")
        );
        // Friday evening → Monday morning.
        assert_eq!(
            add_working_hours(&c, &tz(), at("2026-11-27T17:00:00+08:00"), 2, &spans).0,
            at("2026-11-30T09:30:00+08:00")
        );
        // During the night: the next morning.
        assert_eq!(
            add_working_hours(&c, &tz(), at("2026-11-25T22:00:00+08:00"), 2, &spans).0,
            at("2026-11-26T10:00:00+08:00")
        );
        // National Day 2026 (1–7 October holiday): dispatched on 30 September at 17:00.
        assert_eq!(
            add_working_hours(&c, &tz(), at("2026-09-30T17:00:00+08:00"), 2, &spans).0,
            at("2026-10-08T09:30:00+08:00")
        );
    }

    #[test]
    fn a_complaint_runs_from_dispatch_to_a_satisfied_close() {
        let f = Flow::new(TicketType::Complaint);
        let (f, _) = step(&f, OrderStep::Dispatch, "2026-11-02T10:00:00+08:00");
        assert_eq!(f.status, OrderStatus::Dispatched);
        assert_eq!(f.sign_due, Some(at("2026-11-02T12:00:00+08:00")));
        // 15 working days from Monday 2 November: Monday 23 November.
        assert_eq!(f.reply_due, Some(d("2026-11-23")));
        assert_eq!(f.return_by, Some(d("2026-11-04")));
        assert_eq!(late(&f, at("2026-11-02T12:01:00+08:00"), d("2026-11-02")), Some(Late::Sign));
        let (f, _) = step(&f, OrderStep::Sign, "2026-11-02T11:00:00+08:00");
        assert_eq!(late(&f, at("2026-11-23T23:00:00+08:00"), d("2026-11-23")), None);
        assert_eq!(late(&f, at("2026-11-24T08:00:00+08:00"), d("2026-11-24")), Some(Late::Reply));
        let (f, _) = step(&f, OrderStep::Reply, "2026-11-20T10:00:00+08:00");
        assert_eq!(f.visit_due, Some(d("2026-11-25")));
        let (f, _) = step(&f, OrderStep::Visit(Satisfaction::Satisfied), "2026-11-23T10:00:00+08:00");
        assert_eq!(f.status, OrderStatus::Closed);
        assert_eq!(f.satisfaction, Some(Satisfaction::Satisfied));
    }

    #[test]
    fn illegal_steps_are_refused() {
        let rules = HotlineRules::default();
        let f = Flow::new(TicketType::Complaint);
        let today = d("2026-11-02");
        assert!(matches!(allowed(&f, &OrderStep::Reply, today, &rules), Err(StepError::WrongStatus(..))));
        assert!(allowed(&f, &OrderStep::Visit(Satisfaction::Satisfied), today, &rules).is_err());
        assert_eq!(allowed(&f, &OrderStep::Answer, today, &rules), Err(StepError::NotConsultation));
        let (f, _) = step(&f, OrderStep::Dispatch, "2026-11-02T10:00:00+08:00");
        // Reply before signing.
        assert!(allowed(&f, &OrderStep::Reply, today, &rules).is_err());
        // Return after its window (two working days: until Wednesday 4 November).
        assert!(allowed(&f, &OrderStep::Return, d("2026-11-04"), &rules).is_ok());
        assert_eq!(
            allowed(&f, &OrderStep::Return, d("2026-11-05"), &rules),
            Err(StepError::ReturnTooLate(2, d("2026-11-04")))
        );
        let (f, _) = step(&f, OrderStep::Sign, "2026-11-02T11:00:00+08:00");
        assert_eq!(allowed(&f, &OrderStep::RequestExtension(0), today, &rules), Err(StepError::ExtensionDays(15)));
        assert_eq!(allowed(&f, &OrderStep::DecideExtension(true), today, &rules), Err(StepError::NoExtensionPending));
    }

    #[test]
    fn a_return_sends_the_order_back_to_dispatch() {
        let f = Flow::new(TicketType::Help);
        let (f, _) = step(&f, OrderStep::Dispatch, "2026-11-02T10:00:00+08:00");
        let (f, _) = step(&f, OrderStep::Return, "2026-11-03T10:00:00+08:00");
        assert_eq!(f.status, OrderStatus::Received);
        assert_eq!((f.department.as_deref(), f.reply_due, f.returned_count), (None, None, 1));
        let (f, _) = apply(
            &f,
            &OrderStep::Dispatch,
            Some("OTHER"),
            at("2026-11-03T15:00:00+08:00"),
            &tz(),
            &cal(),
            &HotlineRules::default(),
        )
        .unwrap();
        assert_eq!(f.department.as_deref(), Some("OTHER"));
        // Help: 10 working days from Tuesday 3 November.
        assert_eq!(f.reply_due, Some(d("2026-11-17")));
    }

    #[test]
    fn an_approved_extension_moves_the_deadline_and_a_refused_one_does_not() {
        let f = Flow::new(TicketType::Complaint);
        let (f, _) = step(&f, OrderStep::Dispatch, "2026-11-02T10:00:00+08:00");
        let (f, _) = step(&f, OrderStep::Sign, "2026-11-02T11:00:00+08:00");
        let (g, _) = step(&f, OrderStep::RequestExtension(5), "2026-11-10T11:00:00+08:00");
        assert_eq!(g.extension_pending, Some(5));
        let (refused, _) = step(&g, OrderStep::DecideExtension(false), "2026-11-11T11:00:00+08:00");
        assert_eq!((refused.reply_due, refused.extension_pending), (Some(d("2026-11-23")), None));
        let (approved, _) = step(&g, OrderStep::DecideExtension(true), "2026-11-11T11:00:00+08:00");
        // 15 + 5 = 20 working days from 2 November: Monday 30 November.
        assert_eq!(approved.reply_due, Some(d("2026-11-30")));
    }

    #[test]
    fn the_third_redo_escalates() {
        let mut f = Flow::new(TicketType::Complaint);
        (f, _) = step(&f, OrderStep::Dispatch, "2026-11-02T10:00:00+08:00");
        (f, _) = step(&f, OrderStep::Sign, "2026-11-02T11:00:00+08:00");
        let mut consequences = Vec::new();
        for _ in 0..3 {
            (f, _) = step(&f, OrderStep::Reply, "2026-11-03T10:00:00+08:00");
            let c;
            (f, c) = step(&f, OrderStep::Visit(Satisfaction::Unsatisfied), "2026-11-04T10:00:00+08:00");
            consequences.push(c);
            assert_eq!(f.status, OrderStatus::Signed);
            assert_eq!(f.reply_due, Some(d("2026-11-25")));
        }
        assert_eq!(consequences, vec![Some(Consequence::Redo), Some(Consequence::Redo), Some(Consequence::Escalated)]);
        assert!(f.escalated);
        assert_eq!(f.redo_count, 3);
        assert_eq!(f.satisfaction, Some(Satisfaction::Unsatisfied));
    }

    #[test]
    fn consultations_close_at_once_and_steps_follow_the_role() {
        let rules = HotlineRules::default();
        let f = Flow::new(TicketType::Consultation);
        let today = d("2026-11-02");
        let hotline = possible_steps(&f, &[StepBy::Hotline], today, &rules);
        assert_eq!(hotline, vec![OrderStep::Dispatch, OrderStep::Answer]);
        assert!(possible_steps(&f, &[StepBy::Department], today, &rules).is_empty());
        let (f, _) = step(&f, OrderStep::Answer, "2026-11-02T10:00:00+08:00");
        assert_eq!(f.status, OrderStatus::Closed);
        assert!(possible_steps(&f, &[StepBy::Hotline, StepBy::Office, StepBy::Department], today, &rules).is_empty());
    }

    #[test]
    fn deadlines_in_a_year_not_entered_are_estimates_until_it_is() {
        use crate::calendar::{OFFICIAL_SCHEDULES, YearSchedule};
        let f = Flow::new(TicketType::Complaint);
        // Dispatched Monday 21 December 2026: 15 working days run into 2027, not yet entered.
        let (f, _) = step(&f, OrderStep::Dispatch, "2026-12-21T10:00:00+08:00");
        assert!(f.estimated);
        // Monday to Friday: 8 days in December, then 1 January 2027 counted as a working day.
        assert_eq!(f.reply_due, Some(d("2027-01-11")));
        // The schedule of 2027 is entered: New Year's Day is a holiday; the deadline moves.
        let mut years = YearSchedule::parse_many(OFFICIAL_SCHEDULES).unwrap();
        years.push(YearSchedule::parse_one(2027, "holiday 2027-01-01..2027-01-01  元旦").unwrap());
        let entered = WorkCalendar::new(&years);
        let mut g = f.clone();
        schedule(&mut g, &tz(), &entered, &HotlineRules::default());
        assert!(!g.estimated);
        assert_eq!(g.reply_due, Some(d("2027-01-12")));
        assert_eq!((g.sign_due, g.return_by), (f.sign_due, f.return_by), "December deadlines stay");
    }

    #[test]
    fn masks_keep_only_what_lists_need() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("66668888"), "666*8888");
        assert_eq!(mask_phone("12345"), "*****");
        assert_eq!(mask_name("王小明"), "王**");
        assert_eq!(mask_name("李"), "李*");
    }

    #[test]
    fn working_hours_are_checked() {
        let mut r = HotlineRules::default();
        assert_eq!(r.spans().unwrap().len(), 2);
        r.working_hours = vec!["14:00-12:00".into()];
        assert!(r.spans().is_err());
        r.working_hours = vec!["08:00-12:00".into(), "11:00-17:00".into()];
        assert!(r.spans().is_err());
        r.working_hours = vec!["8点到12点".into()];
        assert!(r.spans().is_err());
    }
}

//! Supervision signals of open cases (green, yellow, red), the alerts they raise, and the life
//! of a supervision notice (督办通知) from issue to close, card and appeal (DOMAIN.md §2).

use chrono::{Days, NaiveDate};

use crate::calendar::{CalendarError, WorkCalendar};
use crate::case::{CaseState, CaseStatus, Outcome, SupervisionRules};

crate::words! {
    /// The light of an open case on the dashboard.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
    pub enum Signal as "信号灯" {
        /// The clock runs (or stands still) with time to spare.
        Green = "green" / "绿灯",
        /// The case nears its deadline.
        Yellow = "yellow" / "黄灯（临近期限）",
        /// The case is overdue, or shows an anomaly.
        Red = "red" / "红灯（超期或异常）",
    }
}

/// The days on which an open case's time signal changes: yellow from `yellow_on`, red from
/// `red_on` (both local dates; the light changes at the start of the day). A case whose clock
/// stands still, or that is closed, has no plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct SignalPlan {
    pub yellow_on: Option<NaiveDate>,
    pub red_on: Option<NaiveDate>,
    /// What the deadline is for.
    pub target: PlanTarget,
}

/// What a signal plan's deadline is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum PlanTarget {
    /// The decision of an accepted case (its promised limit, stops and extensions).
    #[default]
    Decision,
    /// The acceptance decision of a received case.
    Acceptance,
    /// The `received` event of a case whose other events came first.
    Receipt,
}

impl PlanTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanTarget::Decision => "decision",
            PlanTarget::Acceptance => "acceptance",
            PlanTarget::Receipt => "receipt",
        }
    }

    pub fn parse(s: &str) -> PlanTarget {
        match s {
            "acceptance" => PlanTarget::Acceptance,
            "receipt" => PlanTarget::Receipt,
            _ => PlanTarget::Decision,
        }
    }
}

impl SignalPlan {
    /// The plan of a case's state. A running case turns yellow in the last `yellow_percent` of
    /// its limit (rounded up, at least its last working day) and red the day after its deadline.
    /// A case received but not yet accepted does the same against its acceptance limit.
    /// A case whose events came without their `received` (the first on `first_event`) turns red
    /// when `received` is still missing `missing_receipt_days` working days later.
    pub fn of(
        state: &CaseState,
        first_event: Option<NaiveDate>,
        calendar: &WorkCalendar,
        rules: &SupervisionRules,
    ) -> Result<SignalPlan, CalendarError> {
        let percent = rules.yellow_percent.unwrap_or(0);
        match (state.status, state.outcome) {
            (CaseStatus::Accepted, Outcome::Running { deadline }) => {
                Ok(SignalPlan::before(deadline, state.limit_days, percent, calendar, PlanTarget::Decision)?)
            }
            (CaseStatus::Received, _) => match (state.received_on, rules.acceptance_days.filter(|d| *d > 0)) {
                (Some(received), Some(days)) => {
                    let deadline = calendar.deadline(received, days)?;
                    Ok(SignalPlan::before(deadline, days, percent, calendar, PlanTarget::Acceptance)?)
                }
                _ => Ok(SignalPlan::default()),
            },
            (CaseStatus::AwaitingReceipt, _) => match (first_event, rules.missing_receipt_days.filter(|d| *d > 0)) {
                (Some(first), Some(days)) => {
                    let deadline = calendar.deadline(first, days)?;
                    Ok(SignalPlan::before(deadline, days, 0, calendar, PlanTarget::Receipt)?)
                }
                _ => Ok(SignalPlan::default()),
            },
            _ => Ok(SignalPlan::default()),
        }
    }

    /// The plan as stored beside a case.
    pub fn stored(yellow_on: Option<NaiveDate>, red_on: Option<NaiveDate>, target: &str) -> SignalPlan {
        SignalPlan { yellow_on, red_on, target: PlanTarget::parse(target) }
    }

    fn before(
        deadline: NaiveDate,
        limit: u32,
        percent: u32,
        calendar: &WorkCalendar,
        target: PlanTarget,
    ) -> Result<SignalPlan, CalendarError> {
        let yellow_on = if percent == 0 {
            None
        } else {
            // The last `n` working days of the limit, the deadline itself being the last.
            let n = (limit * percent).div_ceil(100).max(1);
            let mut day = deadline;
            let mut counted = 1;
            while counted < n {
                day = day - Days::new(1);
                if calendar.is_working_day(day)? {
                    counted += 1;
                }
            }
            Some(day)
        };
        Ok(SignalPlan { yellow_on, red_on: deadline.checked_add_days(Days::new(1)), target })
    }

    /// The time signal on the local date `today` (anomalies aside).
    pub fn signal_on(&self, today: NaiveDate) -> Signal {
        if self.red_on.is_some_and(|d| today >= d) {
            Signal::Red
        } else if self.yellow_on.is_some_and(|d| today >= d) {
            Signal::Yellow
        } else {
            Signal::Green
        }
    }

    /// The next day after `today` on which the time signal changes.
    pub fn next_change_after(&self, today: NaiveDate) -> Option<NaiveDate> {
        [self.yellow_on, self.red_on].into_iter().flatten().filter(|d| *d > today).min()
    }
}

/// The light shown for a case: red if its time signal is red or it has an anomaly.
pub fn displayed(time_signal: Signal, anomalies: usize) -> Signal {
    if anomalies > 0 { Signal::Red } else { time_signal }
}

/// What an alert is about: a time signal or one of the anomaly kinds (by its stored word).
pub fn alert_label(kind: &str) -> String {
    match kind {
        "yellow" => "临近办理期限".into(),
        "overdue" => "超过办理期限".into(),
        "acceptance_yellow" => "临近受理期限".into(),
        "acceptance_overdue" => "超过受理期限未作受理决定".into(),
        "missing_receipt" => "事件已上报但一直未收到收件事件".into(),
        "order_sign_late" => "工单签收超时".into(),
        "order_reply_late" => "工单办理超期".into(),
        "order_visit_late" => "工单回访超期".into(),
        "task_red" => "重点工作亮红灯".into(),
        "rectification_late" => "整改通知逾期未反馈".into(),
        "review_contact_late" => "差评逾期未回访".into(),
        "review_reply_late" => "差评逾期未报整改".into(),
        other => crate::case::AnomalyKind::parse(other).map_or_else(|| other.to_string(), |k| k.label().to_string()),
    }
}

crate::words! {
    /// What kind of thing the office supervises. Alerts, supervision notices, cards and appeals
    /// name their subject by kind and id, and run one flow whatever the kind: a new kind of subject
    /// is a variant here (its label and page), not a new set of queues or pages.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum SubjectKind as "督办对象的类别" {
        /// An approval case (办件), by its case number.
        Case = "case" / "办件",
        /// A hotline work order (工单), by its ticket number.
        Order = "order" / "工单",
        /// A key task (重点工作), by its task number.
        Task = "task" / "重点工作",
        /// An inspection finding (检查发现).
        Finding = "finding" / "检查发现",
        /// A citizen's bad review of a case (差评).
        Review = "review" / "差评",
    }
}

impl SubjectKind {
    /// The page of a subject of this kind.
    pub fn href(self, id: &str) -> String {
        match self {
            SubjectKind::Case => format!("/cases/{id}"),
            SubjectKind::Order => format!("/hotline/orders/{id}"),
            SubjectKind::Task => format!("/tasks/{id}"),
            SubjectKind::Finding => format!("/inspections/findings/{id}"),
            SubjectKind::Review => format!("/ratings/{id}"),
        }
    }
}

/// One thing the office supervises: its kind and its id (case number, ticket number, …).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Subject {
    pub kind: SubjectKind,
    pub id: String,
}

impl Subject {
    pub fn new(kind: SubjectKind, id: impl Into<String>) -> Subject {
        Subject { kind, id: id.into() }
    }

    pub fn href(&self) -> String {
        self.kind.href(&self.id)
    }

    /// The key that keeps an alert from being raised twice: the subject, the alert's kind and
    /// what makes this occurrence distinct (the anomalous event, the missed due date; empty for
    /// a signal, raised once). Alert kinds differ between subject kinds, so keys cannot clash.
    pub fn alert_key(&self, alert_kind: &str, occurrence: &str) -> String {
        format!("{}|{alert_kind}|{occurrence}", self.id)
    }
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind.label(), self.id)
    }
}

/// The alert kind a time signal raises.
pub fn signal_alert_kind(signal: Signal, plan: &SignalPlan) -> Option<&'static str> {
    match (signal, plan.target) {
        (Signal::Green, _) => None,
        (Signal::Yellow, PlanTarget::Decision) => Some("yellow"),
        (Signal::Red, PlanTarget::Decision) => Some("overdue"),
        (Signal::Yellow, PlanTarget::Acceptance) => Some("acceptance_yellow"),
        (Signal::Red, PlanTarget::Acceptance) => Some("acceptance_overdue"),
        (_, PlanTarget::Receipt) => Some("missing_receipt"),
    }
}

crate::words! {
    /// Where an alert stands.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
    pub enum AlertStatus as "预警状态" {
        /// Raised, nobody acted yet.
        Open = "open" / "待处置",
        /// A supervision notice was sent about it.
        Noticed = "noticed" / "督办中",
        /// The office looked and dismissed it (e.g. a known data fault).
        Dismissed = "dismissed" / "已核销",
        /// Its notice reached an end (closed, card decided).
        Resolved = "resolved" / "已办结",
    }
}

crate::words! {
    /// A card that counts in a department's evaluation.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
    pub enum Card as "牌" {
        Yellow = "yellow" / "黄牌",
        Red = "red" / "红牌",
    }
}

/// Where a supervision notice stands; each state says who acts next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum NoticeStatus {
    /// Sent; the department must reply (explain or rectify) by the reply date.
    AwaitingReply,
    /// The department replied; the office closes it or gives a card.
    Replied,
    /// The office accepted the reply. Final.
    Closed,
    /// The office gave a card; the department may appeal.
    Carded(Card),
    /// The department appealed the card; the office decides.
    Appealed(Card),
    /// The appeal was refused: the card stands. Final.
    CardUpheld(Card),
    /// The appeal was granted: the card is withdrawn. Final.
    CardRevoked(Card),
}

impl crate::words::Word for NoticeStatus {
    /// The stored word (`awaiting_reply`, `carded_yellow`, …).
    fn word(&self) -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Owned(self.as_str())
    }
}

impl TryFrom<String> for NoticeStatus {
    type Error = crate::words::UnknownWord;

    fn try_from(word: String) -> Result<Self, Self::Error> {
        NoticeStatus::parse(&word).ok_or(crate::words::UnknownWord { kind: "督办通知状态", word })
    }
}

impl NoticeStatus {
    pub fn as_str(self) -> String {
        match self {
            NoticeStatus::AwaitingReply => "awaiting_reply".into(),
            NoticeStatus::Replied => "replied".into(),
            NoticeStatus::Closed => "closed".into(),
            NoticeStatus::Carded(c) => format!("carded_{}", c.as_str()),
            NoticeStatus::Appealed(c) => format!("appealed_{}", c.as_str()),
            NoticeStatus::CardUpheld(c) => format!("upheld_{}", c.as_str()),
            NoticeStatus::CardRevoked(c) => format!("revoked_{}", c.as_str()),
        }
    }

    pub fn parse(s: &str) -> Option<NoticeStatus> {
        Some(match s {
            "awaiting_reply" => NoticeStatus::AwaitingReply,
            "replied" => NoticeStatus::Replied,
            "closed" => NoticeStatus::Closed,
            _ => {
                let (word, card) = s.rsplit_once('_')?;
                let card = Card::parse(card)?;
                match word {
                    "carded" => NoticeStatus::Carded(card),
                    "appealed" => NoticeStatus::Appealed(card),
                    "upheld" => NoticeStatus::CardUpheld(card),
                    "revoked" => NoticeStatus::CardRevoked(card),
                    _ => return None,
                }
            }
        })
    }

    pub fn label(self) -> String {
        match self {
            NoticeStatus::AwaitingReply => "待部门回复".into(),
            NoticeStatus::Replied => "待效能办审核".into(),
            NoticeStatus::Closed => "已办结".into(),
            NoticeStatus::Carded(c) => format!("已亮{}（可申诉）", c.label()),
            NoticeStatus::Appealed(c) => format!("{}申诉中", c.label()),
            NoticeStatus::CardUpheld(c) => format!("{}（申诉驳回）", c.label()),
            NoticeStatus::CardRevoked(c) => format!("{}已撤销", c.label()),
        }
    }

    /// Whether the notice waits for the department (`Some(false)`), the office (`Some(true)`),
    /// or nobody (final).
    pub fn waits_for_office(self) -> Option<bool> {
        match self {
            NoticeStatus::AwaitingReply | NoticeStatus::Carded(_) => Some(false),
            NoticeStatus::Replied | NoticeStatus::Appealed(_) => Some(true),
            NoticeStatus::Closed | NoticeStatus::CardUpheld(_) | NoticeStatus::CardRevoked(_) => None,
        }
    }

    /// The card that counts in the department's evaluation, if any.
    pub fn card(self) -> Option<Card> {
        match self {
            NoticeStatus::Carded(c) | NoticeStatus::Appealed(c) | NoticeStatus::CardUpheld(c) => Some(c),
            _ => None,
        }
    }
}

/// A step of a notice's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeStep {
    /// The department explains or reports its rectification.
    Reply,
    /// The office accepts the reply.
    Close,
    /// The office escalates to a card (after a reply, or when the reply date passed).
    GiveCard(Card),
    /// The department appeals a card.
    Appeal,
    /// The office decides an appeal: `true` grants it (the card is withdrawn).
    DecideAppeal(bool),
}

impl NoticeStep {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeStep::Reply => "reply",
            NoticeStep::Close => "close",
            NoticeStep::GiveCard(Card::Yellow) => "yellow_card",
            NoticeStep::GiveCard(Card::Red) => "red_card",
            NoticeStep::Appeal => "appeal",
            NoticeStep::DecideAppeal(true) => "appeal_granted",
            NoticeStep::DecideAppeal(false) => "appeal_refused",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            NoticeStep::Reply => "部门回复",
            NoticeStep::Close => "效能办办结",
            NoticeStep::GiveCard(Card::Yellow) => "亮黄牌",
            NoticeStep::GiveCard(Card::Red) => "亮红牌",
            NoticeStep::Appeal => "部门申诉",
            NoticeStep::DecideAppeal(true) => "申诉成立，撤销",
            NoticeStep::DecideAppeal(false) => "申诉驳回",
        }
    }

    /// Whether the office takes this step (else the department does).
    pub fn by_office(self) -> bool {
        !matches!(self, NoticeStep::Reply | NoticeStep::Appeal)
    }
}

/// Why a step cannot be taken now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("督办通知当前为“{from}”，不能“{step}”")]
pub struct IllegalStep {
    pub from: String,
    pub step: &'static str,
}

/// Whether a notice's reply date has passed on the local date `today` (the date itself counts).
pub fn reply_overdue(reply_by: NaiveDate, today: NaiveDate) -> bool {
    today > reply_by
}

/// The steps a notice in `status` allows now, whoever may take them.
pub fn possible_steps(status: NoticeStatus, reply_overdue: bool) -> Vec<NoticeStep> {
    [
        NoticeStep::Reply,
        NoticeStep::Close,
        NoticeStep::GiveCard(Card::Yellow),
        NoticeStep::GiveCard(Card::Red),
        NoticeStep::Appeal,
        NoticeStep::DecideAppeal(true),
        NoticeStep::DecideAppeal(false),
    ]
    .into_iter()
    .filter(|s| next_status(status, *s, reply_overdue).is_ok())
    .collect()
}

/// The notice's status after `step`, given whether its reply date has passed (`reply_overdue`):
/// a card may be given after a reply, or without one once the reply date passed.
pub fn next_status(from: NoticeStatus, step: NoticeStep, reply_overdue: bool) -> Result<NoticeStatus, IllegalStep> {
    use NoticeStatus as S;
    let to = match (from, step) {
        (S::AwaitingReply, NoticeStep::Reply) => Some(S::Replied),
        (S::Replied, NoticeStep::Close) => Some(S::Closed),
        (S::Replied, NoticeStep::GiveCard(c)) => Some(S::Carded(c)),
        (S::AwaitingReply, NoticeStep::GiveCard(c)) if reply_overdue => Some(S::Carded(c)),
        (S::Carded(c), NoticeStep::Appeal) => Some(S::Appealed(c)),
        (S::Appealed(c), NoticeStep::DecideAppeal(true)) => Some(S::CardRevoked(c)),
        (S::Appealed(c), NoticeStep::DecideAppeal(false)) => Some(S::CardUpheld(c)),
        _ => None,
    };
    to.ok_or(IllegalStep { from: from.label(), step: step.label() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::WorkCalendar;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn yellow_covers_the_last_fifth_of_the_limit_in_working_days() {
        let cal = WorkCalendar::official();
        // 10 working days → yellow on the last 2: the deadline and the working day before.
        // Deadline Mon 2011-10-10 (after the National Day week): the day before it that works
        // is Sun 2011-10-09 (调休 working Sunday), not Fri 2011-09-30.
        let plan = SignalPlan::before(d("2011-10-10"), 10, 20, &cal, PlanTarget::Decision).unwrap();
        assert_eq!(plan.yellow_on, Some(d("2011-10-09")));
        assert_eq!(plan.red_on, Some(d("2011-10-11")));
        assert_eq!(plan.signal_on(d("2011-10-08")), Signal::Green);
        assert_eq!(plan.signal_on(d("2011-10-09")), Signal::Yellow);
        assert_eq!(plan.signal_on(d("2011-10-10")), Signal::Yellow);
        assert_eq!(plan.signal_on(d("2011-10-11")), Signal::Red);
        assert_eq!(plan.next_change_after(d("2011-10-01")), Some(d("2011-10-09")));
        assert_eq!(plan.next_change_after(d("2011-10-09")), Some(d("2011-10-11")));
        assert_eq!(plan.next_change_after(d("2011-10-11")), None);
    }

    #[test]
    fn a_short_limit_is_yellow_at_least_on_its_last_day() {
        let cal = WorkCalendar::official();
        let plan = SignalPlan::before(d("2011-06-07"), 1, 20, &cal, PlanTarget::Decision).unwrap();
        assert_eq!(plan.yellow_on, Some(d("2011-06-07")));
        // 3 days × 20% = 0.6 → 1 day; 6 days → 1.2 → 2 days (rounded up).
        let plan = SignalPlan::before(d("2011-06-10"), 6, 20, &cal, PlanTarget::Decision).unwrap();
        assert_eq!(plan.yellow_on, Some(d("2011-06-09")));
        let off = SignalPlan::before(d("2011-06-10"), 6, 0, &cal, PlanTarget::Decision).unwrap();
        assert_eq!(off.yellow_on, None);
        assert_eq!(off.signal_on(d("2011-06-10")), Signal::Green);
    }

    #[test]
    fn anomalies_turn_the_light_red() {
        assert_eq!(displayed(Signal::Green, 1), Signal::Red);
        assert_eq!(displayed(Signal::Yellow, 0), Signal::Yellow);
    }

    #[test]
    fn notice_life() {
        use NoticeStatus as S;
        let s = next_status(S::AwaitingReply, NoticeStep::Reply, false).unwrap();
        assert_eq!(s, S::Replied);
        assert_eq!(next_status(s, NoticeStep::Close, false).unwrap(), S::Closed);
        let carded = next_status(s, NoticeStep::GiveCard(Card::Red), false).unwrap();
        let appealed = next_status(carded, NoticeStep::Appeal, false).unwrap();
        assert_eq!(next_status(appealed, NoticeStep::DecideAppeal(true), false).unwrap(), S::CardRevoked(Card::Red));
        assert_eq!(next_status(appealed, NoticeStep::DecideAppeal(false), false).unwrap().card(), Some(Card::Red));
        // A card before the reply date without a reply, a second appeal, a reply after close: refused.
        assert!(next_status(S::AwaitingReply, NoticeStep::GiveCard(Card::Yellow), false).is_err());
        assert!(next_status(S::AwaitingReply, NoticeStep::GiveCard(Card::Yellow), true).is_ok());
        assert!(next_status(appealed, NoticeStep::Appeal, false).is_err());
        assert!(next_status(S::Closed, NoticeStep::Reply, false).is_err());
        for s in [S::AwaitingReply, S::Replied, S::Closed, S::Carded(Card::Yellow), S::CardRevoked(Card::Red)] {
            assert_eq!(NoticeStatus::parse(&s.as_str()), Some(s));
        }
    }
}

//! Approval cases (办件): the events department systems report (spec/exchange.md §3), the state
//! a case's events project to, its deadline and its settlement (spec/metrics.md), and the
//! supervision rules that flag anomalies.
//!
//! The state is a pure function of the set of a case's events taken in `at` order (ties in
//! arrival order), never of the order they arrived in.

use chrono::{DateTime, Days, FixedOffset, NaiveDate, Utc};
use serde_json::{Map, Value};

use crate::RowError;
use crate::calendar::{CalendarError, WorkCalendar};
use crate::org::OrgKind;

crate::words! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
    pub enum SuspendReason as "暂停理由" {
        Hearing = "hearing" / "听证",
        Tender = "tender" / "招标",
        Auction = "auction" / "拍卖",
        Inspection = "inspection" / "检验",
        Testing = "testing" / "检测",
        Quarantine = "quarantine" / "检疫",
        Appraisal = "appraisal" / "鉴定",
        ExpertReview = "expert_review" / "专家评审",
        Other = "other" / "其他",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Decision {
    Approved,
    Rejected,
}

crate::words! {
    /// Where an applicant rated the service (好差评).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum RatingChannel as "评价渠道" {
        Window = "window" / "窗口评价器",
        Device = "device" / "自助终端",
        Web = "web" / "网站",
        App = "app" / "移动端",
        Sms = "sms" / "短信",
        Phone = "phone" / "电话",
    }
}

/// An applicant's rating of a case's service (好差评): 5 非常满意 … 1 非常不满意.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rating {
    /// 1–5.
    pub level: u8,
    pub channel: RatingChannel,
    /// Recorded by the platform because the applicant did not rate.
    pub default: bool,
    pub comment: Option<String>,
}

impl Rating {
    /// The word for a level.
    pub fn level_label(level: u8) -> &'static str {
        match level {
            5 => "非常满意",
            4 => "满意",
            3 => "基本满意",
            2 => "不满意",
            1 => "非常不满意",
            _ => "",
        }
    }

    /// A bad review (差评): levels 1 and 2.
    pub fn is_bad(&self) -> bool {
        self.level <= 2
    }
}

/// What happened, with the fields of its type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum EventBody {
    Received {
        item_code: String,
        venue_code: String,
        applicant_kind: String,
        applicant_name: String,
        id_no: Option<String>,
    },
    Accepted {
        promised_days: Option<u32>,
    },
    NotAccepted {
        reason: String,
    },
    SupplementRequested,
    SupplementReceived,
    Suspended {
        reason: SuspendReason,
    },
    Resumed,
    Extended {
        days: u32,
    },
    Step {
        name: String,
    },
    Forwarded {
        to_venue_code: String,
    },
    Fee {
        amount_cents: i64,
    },
    Completed {
        result: Decision,
    },
    Withdrawn,
    /// The applicant's rating: never moves the clock, never breaks the case's life.
    Rated(Rating),
}

impl EventBody {
    pub fn type_name(&self) -> &'static str {
        match self {
            EventBody::Received { .. } => "received",
            EventBody::Accepted { .. } => "accepted",
            EventBody::NotAccepted { .. } => "not_accepted",
            EventBody::SupplementRequested => "supplement_requested",
            EventBody::SupplementReceived => "supplement_received",
            EventBody::Suspended { .. } => "suspended",
            EventBody::Resumed => "resumed",
            EventBody::Extended { .. } => "extended",
            EventBody::Step { .. } => "step",
            EventBody::Forwarded { .. } => "forwarded",
            EventBody::Fee { .. } => "fee",
            EventBody::Completed { .. } => "completed",
            EventBody::Withdrawn => "withdrawn",
            EventBody::Rated(_) => "rated",
        }
    }

    /// What the event is called on a page.
    pub fn label(&self) -> &'static str {
        event_label(self.type_name())
    }

    /// The venue an event names (where a case was received or forwarded to).
    pub fn venue_code(&self) -> Option<&str> {
        match self {
            EventBody::Received { venue_code, .. } => Some(venue_code),
            EventBody::Forwarded { to_venue_code } => Some(to_venue_code),
            _ => None,
        }
    }
}

/// One reported event, checked on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseEvent {
    pub event_id: String,
    pub case_no: String,
    pub at: DateTime<FixedOffset>,
    pub body: EventBody,
    /// The line as sent (trimmed), stored as the event's content; whether two lines of one
    /// `event_id` say the same is decided by [`same_content`].
    pub content: String,
}

const MAX_ID: usize = 100;
const MAX_TEXT: usize = 500;

/// Whether two events' contents say the same: the same JSON, whatever the order of keys or the
/// spacing (serde_json's objects are sorted maps, so equal values are equal content). Only a
/// repeated `event_id` asks this, so the comparison parses the texts then.
pub fn same_content(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (serde_json::from_str::<Value>(a), serde_json::from_str::<Value>(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

pub(crate) struct Fields<'a> {
    pub(crate) line: usize,
    pub(crate) obj: &'a Map<String, Value>,
}

impl Fields<'_> {
    pub(crate) fn err(&self, field: &str, reason: impl Into<String>) -> RowError {
        RowError::new(self.line, field, reason)
    }

    pub(crate) fn text(&self, field: &str, max: usize) -> Result<String, RowError> {
        match self.obj.get(field) {
            None | Some(Value::Null) => Err(self.err(field, "缺少该字段")),
            Some(Value::String(s)) if s.trim().is_empty() => Err(self.err(field, "不能为空")),
            Some(Value::String(s)) if s.chars().count() > max => {
                Err(self.err(field, format!("过长（最多 {max} 个字符）")))
            }
            Some(Value::String(s)) => Ok(s.trim().to_string()),
            Some(_) => Err(self.err(field, "应为字符串")),
        }
    }

    pub(crate) fn opt_text(&self, field: &str, max: usize) -> Result<Option<String>, RowError> {
        match self.obj.get(field) {
            None | Some(Value::Null) => Ok(None),
            _ => self.text(field, max).map(Some),
        }
    }

    pub(crate) fn int(&self, field: &str) -> Result<Option<i64>, RowError> {
        match self.obj.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| self.err(field, "应为整数")),
            Some(_) => Err(self.err(field, "应为整数")),
        }
    }
}

/// Reads one line of a case-events file or request (`line` counts from 1).
pub fn parse_event(line: usize, text: &str) -> Result<CaseEvent, RowError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| RowError::new(line, "", format!("不是有效的 JSON：{e}")))?;
    let Value::Object(obj) = &value else {
        return Err(RowError::new(line, "", "每行应为一个 JSON 对象"));
    };
    let f = Fields { line, obj };
    let event_id = f.text("event_id", MAX_ID)?;
    let case_no = f.text("case_no", MAX_ID)?;
    let kind = f.text("type", 40)?;
    let at_text = f.text("at", 64)?;
    let at = DateTime::parse_from_rfc3339(&at_text).map_err(|_| {
        f.err("at", format!("“{at_text}”不是带时区偏移的 RFC 3339 时间（如 2011-03-02T09:15:00+08:00）"))
    })?;
    let body = match kind.as_str() {
        "received" => {
            let applicant = match obj.get("applicant") {
                Some(Value::Object(a)) => a,
                None | Some(Value::Null) => return Err(f.err("applicant", "缺少该字段")),
                Some(_) => return Err(f.err("applicant", "应为对象 {kind, name, id_no?}")),
            };
            let a = Fields { line, obj: applicant };
            let applicant_kind = a.text("kind", 20).map_err(|e| f.err("applicant.kind", e.reason))?;
            if applicant_kind != "person" && applicant_kind != "organization" {
                return Err(f.err("applicant.kind", format!("“{applicant_kind}”无效，应为 person 或 organization")));
            }
            EventBody::Received {
                item_code: f.text("item_code", MAX_ID)?,
                venue_code: f.text("venue_code", MAX_ID)?,
                applicant_kind,
                applicant_name: a.text("name", MAX_TEXT).map_err(|e| f.err("applicant.name", e.reason))?,
                id_no: a.opt_text("id_no", 40).map_err(|e| f.err("applicant.id_no", e.reason))?,
            }
        }
        "accepted" => {
            let promised = match f.int("promised_days")? {
                None => None,
                Some(n) if (1..=250).contains(&n) => Some(n as u32),
                Some(n) => return Err(f.err("promised_days", format!("{n} 无效：应为 1–250 的工作日数"))),
            };
            EventBody::Accepted { promised_days: promised }
        }
        "not_accepted" => EventBody::NotAccepted { reason: f.text("reason", MAX_TEXT)? },
        "supplement_requested" => {
            f.opt_text("note", MAX_TEXT)?;
            EventBody::SupplementRequested
        }
        "supplement_received" => EventBody::SupplementReceived,
        "suspended" => {
            let reason = f.text("reason", 40)?;
            EventBody::Suspended {
                reason: SuspendReason::parse(&reason).ok_or_else(|| {
                    f.err("reason", format!("“{reason}”无效，应为 hearing、tender、auction、inspection、testing、quarantine、appraisal、expert_review 或 other"))
                })?,
            }
        }
        "resumed" => EventBody::Resumed,
        "extended" => {
            let days = f.int("days")?.ok_or_else(|| f.err("days", "缺少该字段"))?;
            if days <= 0 {
                return Err(f.err("days", format!("{days} 无效：延长的工作日数须为正数")));
            }
            if days > 250 {
                return Err(f.err("days", format!("{days} 超过上限 250 个工作日")));
            }
            f.text("approved_by", MAX_TEXT)?;
            EventBody::Extended { days: days as u32 }
        }
        "step" => {
            f.opt_text("staff", MAX_TEXT)?;
            f.opt_text("result", MAX_TEXT)?;
            EventBody::Step { name: f.text("name", MAX_TEXT)? }
        }
        "forwarded" => EventBody::Forwarded { to_venue_code: f.text("to_venue_code", MAX_ID)? },
        "fee" => {
            let amount = f.int("amount_cents")?.ok_or_else(|| f.err("amount_cents", "缺少该字段"))?;
            if amount < 0 {
                return Err(f.err("amount_cents", format!("{amount} 无效：收费不能为负数")));
            }
            EventBody::Fee { amount_cents: amount }
        }
        "completed" => {
            let result = f.text("result", 20)?;
            EventBody::Completed {
                result: match result.as_str() {
                    "approved" => Decision::Approved,
                    "rejected" => Decision::Rejected,
                    _ => return Err(f.err("result", format!("“{result}”无效，应为 approved 或 rejected"))),
                },
            }
        }
        "withdrawn" => EventBody::Withdrawn,
        "rated" => {
            let level = f.int("level")?.ok_or_else(|| f.err("level", "缺少该字段"))?;
            if !(1..=5).contains(&level) {
                return Err(f.err("level", format!("{level} 无效：评价等级应为 1–5")));
            }
            let channel = f.text("channel", 20)?;
            let channel = RatingChannel::parse(&channel).ok_or_else(|| {
                f.err("channel", format!("“{channel}”无效，应为 window、device、web、app、sms 或 phone"))
            })?;
            let default = match obj.get("default") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err(f.err("default", "应为 true 或 false")),
            };
            EventBody::Rated(Rating { level: level as u8, channel, default, comment: f.opt_text("comment", MAX_TEXT)? })
        }
        other => return Err(f.err("type", format!("未知的事件类型“{other}”"))),
    };
    Ok(CaseEvent { event_id, case_no, at, body, content: text.trim().to_string() })
}

/// A stored event with what the projection needs beside it.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub event_id: String,
    pub at: DateTime<Utc>,
    /// The local (city time zone) date of `at`.
    pub date: NaiveDate,
    /// Arrival order (ties in `at` are taken in this order).
    pub arrival: i64,
    /// When the event reached the system.
    pub reported_at: DateTime<Utc>,
    /// The subtrees of the network the sending system may report for (paths separated by
    /// spaces); `None` when it may report anywhere (the command line, a city-wide import).
    pub sender_scope: Option<String>,
    pub body: EventBody,
}

/// Thresholds of the supervision rules (DOMAIN.md §2); a number rule is off when `None` or 0
/// (TOML has no null), a yes/no rule when `false`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SupervisionRules {
    /// Acceptance must be decided within this many working days of receipt.
    pub acceptance_days: Option<u32>,
    /// A second supplement request on one case breaks one-time notification (一次性告知).
    pub repeated_supplement: bool,
    /// Fees on a free item, or above the standard.
    pub fees: bool,
    /// A suspension without a lawful reason (`other`).
    pub unlawful_suspension: bool,
    /// A suspension longer than this many working days.
    pub max_suspension_days: Option<u32>,
    /// An event reported this many hours or more after it happened (体外循环).
    pub late_report_hours: Option<i64>,
    /// An agent point must forward within this many working days of receipt.
    pub forwarding_days: Option<u32>,
    /// A case turns yellow in this last share of its limit, in percent (at least its last day).
    pub yellow_percent: Option<u32>,
    /// Events of a case without its `received` raise an alert after this many working days.
    pub missing_receipt_days: Option<u32>,
}

impl Default for SupervisionRules {
    fn default() -> Self {
        SupervisionRules {
            acceptance_days: Some(5),
            repeated_supplement: true,
            fees: true,
            unlawful_suspension: true,
            max_suspension_days: Some(60),
            late_report_hours: Some(24),
            forwarding_days: Some(1),
            yellow_percent: Some(20),
            missing_receipt_days: Some(3),
        }
    }
}

/// Something wrong with a case: an event out of the case's life (kept, ignored by the state),
/// or a breach of a supervision rule.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Anomaly {
    pub kind: AnomalyKind,
    pub event_id: Option<String>,
    pub message: String,
}

crate::words! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
    pub enum AnomalyKind as "异常类别" {
        /// An event that breaks the case's life in time order (data quality).
        OutOfOrder = "out_of_order" / "事件顺序异常",
        LateAcceptance = "late_acceptance" / "受理超时",
        RepeatedSupplement = "repeated_supplement" / "多次补正",
        FeeOnFreeItem = "fee_on_free_item" / "免费事项收费",
        FeeAboveStandard = "fee_above_standard" / "超标准收费",
        UnlawfulSuspension = "unlawful_suspension" / "无法定理由暂停",
        LongSuspension = "long_suspension" / "暂停过长",
        LateReport = "late_report" / "事件迟报（疑似体外循环）",
        LateForwarding = "late_forwarding" / "代办点转报超时",
        /// An event from a system whose scope does not cover the case's venue (sent before the
        /// case's `received` showed where it belongs).
        OutOfScope = "out_of_scope" / "范围外系统报送",
    }
}

/// What an event type (`type` of docs/exchange.md §3) is called on a page; an unknown word is
/// shown as it is.
pub fn event_label(type_name: &str) -> &str {
    match type_name {
        "received" => "收件",
        "accepted" => "受理",
        "not_accepted" => "不予受理",
        "supplement_requested" => "补正告知（停止计时）",
        "supplement_received" => "补正材料收齐（恢复计时）",
        "suspended" => "进入特别程序（停止计时）",
        "resumed" => "特别程序结束（恢复计时）",
        "extended" => "延长时限",
        "step" => "办理环节",
        "forwarded" => "代办点转报",
        "fee" => "收费",
        "completed" => "办结",
        "withdrawn" => "申请人撤回",
        "rated" => "好差评",
        other => other,
    }
}

/// Whether a sender's scope (space-separated subtree paths, as in
/// [`StoredEvent::sender_scope`]) covers the unit at `path`.
pub fn sender_covers(scope: &str, path: &str) -> bool {
    scope.split(' ').any(|root| !root.is_empty() && path.starts_with(root))
}

/// What the projection needs to know of the case's item and of venues.
pub struct CaseContext<'a> {
    /// The promised limit and fee standard of an item code.
    pub item: &'a dyn Fn(&str) -> Option<(u32, i64)>,
    /// The kind of a venue code.
    pub venue_kind: &'a dyn Fn(&str) -> Option<OrgKind>,
    /// Whether a sender's scope (as in [`StoredEvent::sender_scope`]) covers a venue code.
    pub covers: &'a dyn Fn(&str, &str) -> bool,
    pub calendar: &'a WorkCalendar,
    pub rules: &'a SupervisionRules,
}

/// How a case ended, as far as its events tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CaseStatus {
    /// Events arrived, but not yet its `received`.
    AwaitingReceipt,
    Received,
    Accepted,
    NotAccepted,
    Completed(Decision),
    Withdrawn,
}

impl CaseStatus {
    /// How a case ends without a decision: refused at the window or withdrawn. Such a case is
    /// never settled (on time or overdue), whatever the calendar says.
    pub const ENDED_UNDECIDED: [CaseStatus; 2] = [CaseStatus::NotAccepted, CaseStatus::Withdrawn];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::AwaitingReceipt => "awaiting_receipt",
            CaseStatus::Received => "received",
            CaseStatus::Accepted => "accepted",
            CaseStatus::NotAccepted => "not_accepted",
            CaseStatus::Completed(Decision::Approved) => "approved",
            CaseStatus::Completed(Decision::Rejected) => "rejected",
            CaseStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CaseStatus::AwaitingReceipt => "待收件",
            CaseStatus::Received => "已收件",
            CaseStatus::Accepted => "已受理",
            CaseStatus::NotAccepted => "不予受理",
            CaseStatus::Completed(Decision::Approved) => "办结（准予）",
            CaseStatus::Completed(Decision::Rejected) => "办结（不予许可）",
            CaseStatus::Withdrawn => "撤回",
        }
    }
}

/// Whether and when a case was settled (spec/metrics.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Outcome {
    /// Completed on or before its deadline date; settled on its completion date.
    OnTime(NaiveDate),
    /// Not completed by the end of its deadline date; settled on the deadline date.
    Overdue(NaiveDate),
    /// Still open with its clock running: overdue once `deadline` has fully passed.
    Running { deadline: NaiveDate },
    /// Open with the clock stopped, not yet accepted, or never settled (not accepted,
    /// withdrawn before the deadline passed).
    Unsettled,
}

impl Outcome {
    /// The stored form: a word (`on_time`, `overdue`, `running`, `unsettled`) and its date
    /// (completion date, deadline date, running deadline, none). Reports filter on it in SQL.
    pub fn stored(self) -> (&'static str, Option<NaiveDate>) {
        match self {
            Outcome::OnTime(d) => ("on_time", Some(d)),
            Outcome::Overdue(d) => ("overdue", Some(d)),
            Outcome::Running { deadline } => ("running", Some(deadline)),
            Outcome::Unsettled => ("unsettled", None),
        }
    }

    /// Reads back what [`Outcome::stored`] wrote.
    pub fn from_stored(word: &str, date: Option<NaiveDate>) -> Outcome {
        match (word, date) {
            ("on_time", Some(d)) => Outcome::OnTime(d),
            ("overdue", Some(d)) => Outcome::Overdue(d),
            ("running", Some(d)) => Outcome::Running { deadline: d },
            _ => Outcome::Unsettled,
        }
    }

    /// The outcome as of the local date `today`: a running case whose deadline passed is overdue.
    pub fn as_of(self, today: NaiveDate) -> Outcome {
        match self {
            Outcome::Running { deadline } if deadline < today => Outcome::Overdue(deadline),
            other => other,
        }
    }
}

/// A period during which the clock stood still.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StopInterval {
    /// 补正 (supplement) or 特别程序 (special procedure).
    pub supplement: bool,
    pub from: NaiveDate,
    /// The day the clock ran again (excluded); none while it still stands.
    pub until: Option<NaiveDate>,
    /// Working days from `from` (included) to `until` (excluded) that fall after the acceptance
    /// date, added to the limit: the acceptance date is never counted, stopped or not.
    pub working_days: u32,
}

/// The state of a case: a pure function of its events.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CaseState {
    pub status: CaseStatus,
    pub item_code: Option<String>,
    /// The venue of `received`, replaced by each `forwarded` target.
    pub venue_code: Option<String>,
    pub received_on: Option<NaiveDate>,
    pub accepted_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    /// Promised days plus the extensions that counted.
    pub limit_days: u32,
    /// Working days the clock stood still after acceptance.
    pub stopped_days: u32,
    /// The clock is stopped now (since that date).
    pub stopped_since: Option<NaiveDate>,
    /// The deadline date while the clock runs (or at the end, for an ended case).
    pub deadline: Option<NaiveDate>,
    pub outcome: Outcome,
    pub fees_cents: i64,
    /// The stops of the clock after acceptance, as they counted.
    pub stops: Vec<StopInterval>,
    /// Extensions: date, days, and whether they counted (not after the deadline).
    pub extensions: Vec<(NaiveDate, u32, bool)>,
    pub anomalies: Vec<Anomaly>,
    /// The applicant's rating: the last `rated` event in `at` order, whenever it arrived.
    pub rating: Option<Rating>,
    /// The local day of that rating (a bad one's follow-up counts its limits from it).
    pub rated_on: Option<NaiveDate>,
    /// Set when the calendar lacks a year the case needs: no deadline can be computed.
    pub calendar_error: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum StopKind {
    Supplement,
    Suspension,
}

/// Projects a case's events (in any order) to its state.
pub fn project(events: &[StoredEvent], ctx: &CaseContext) -> CaseState {
    let mut order: Vec<&StoredEvent> = events.iter().collect();
    order.sort_by_key(|e| (e.at, e.arrival));
    match project_sorted(&order, ctx) {
        Ok(state) => state,
        Err((mut state, e)) => {
            state.calendar_error = Some(e.to_string());
            state.deadline = None;
            state.outcome = Outcome::Unsettled;
            state
        }
    }
}

/// Whether `e` takes part in the case's life, judged before its type: an event from a system
/// outside the case's venue, an event after the case ended or before its receipt does not (each
/// noted as an anomaly), nor does a rating (kept as the case's rating); a late report is noted
/// and the event goes on.
fn takes_part(st: &mut CaseState, e: &StoredEvent, ctx: &CaseContext) -> bool {
    // Events wait for the `received` whatever system sends them; once it shows where the
    // case belongs, an event of a system that may not report there is kept but counts for
    // nothing (a system cannot add to, or take over, another's case).
    if let (Some(sender), Some(venue)) = (e.sender_scope.as_deref(), st.venue_code.as_deref())
        && !(ctx.covers)(sender, venue)
    {
        let message = format!("{} 事件由范围外的系统报送，办件属于服务场所 {venue}，未计入", e.body.type_name());
        anomaly(st, AnomalyKind::OutOfScope, e, message);
        return false;
    }
    // A rating is the applicant's act, not the department's work: it moves no clock, breaks
    // no life and is no sign of work done outside the system, whenever it comes.
    if let EventBody::Rated(rating) = &e.body {
        st.rating = Some(rating.clone());
        st.rated_on = Some(e.date);
        return false;
    }
    if let Some(hours) = ctx.rules.late_report_hours.filter(|h| *h > 0)
        && (e.reported_at - e.at).num_minutes() >= hours * 60
    {
        anomaly(
            st,
            AnomalyKind::LateReport,
            e,
            format!(
                "{} 事件发生于 {}，{} 小时后才上报",
                e.body.type_name(),
                e.at.format("%Y-%m-%d %H:%M UTC"),
                (e.reported_at - e.at).num_hours()
            ),
        );
    }
    if st.ended_on.is_some() {
        anomaly(st, AnomalyKind::OutOfOrder, e, format!("办件已终结后又报送 {} 事件", e.body.type_name()));
        return false;
    }
    if st.received_on.is_none() && !matches!(e.body, EventBody::Received { .. }) {
        anomaly(st, AnomalyKind::OutOfOrder, e, format!("收件之前的 {} 事件", e.body.type_name()));
        return false;
    }
    true
}

fn anomaly(st: &mut CaseState, kind: AnomalyKind, e: &StoredEvent, message: String) {
    st.anomalies.push(Anomaly { kind, event_id: Some(e.event_id.clone()), message });
}

fn project_sorted(order: &[&StoredEvent], ctx: &CaseContext) -> Result<CaseState, (CaseState, CalendarError)> {
    let mut life = Life::new(ctx);
    for e in order {
        if !takes_part(&mut life.st, e, ctx) {
            continue;
        }
        if let Err(err) = life.take(e) {
            return Err((life.st, err));
        }
    }
    life.finish()
}

/// A case's life as its events are taken in time order: the state pages and reports read, and
/// what the rules remember from one event to the next.
struct Life<'c> {
    ctx: &'c CaseContext<'c>,
    st: CaseState,
    /// The clock's stop, if it stands still: which kind, and since when.
    stop: Option<(StopKind, NaiveDate)>,
    /// A stop that came after the deadline: ignored, and so is the restart that matches it.
    late_stop: Option<StopKind>,
    supplements: u32,
    /// Working days stopped before acceptance (they do not count against acceptance).
    pre_acceptance_stopped: u32,
    /// The item's fee standard.
    item_fee: Option<i64>,
    received_venue_kind: Option<OrgKind>,
    forwarded: bool,
}

impl<'c> Life<'c> {
    fn new(ctx: &'c CaseContext<'c>) -> Life<'c> {
        let st = CaseState {
            status: CaseStatus::AwaitingReceipt,
            item_code: None,
            venue_code: None,
            received_on: None,
            accepted_on: None,
            ended_on: None,
            limit_days: 0,
            stopped_days: 0,
            stopped_since: None,
            deadline: None,
            outcome: Outcome::Unsettled,
            fees_cents: 0,
            stops: Vec::new(),
            extensions: Vec::new(),
            anomalies: Vec::new(),
            rating: None,
            rated_on: None,
            calendar_error: None,
        };
        Life {
            ctx,
            st,
            stop: None,
            late_stop: None,
            supplements: 0,
            pre_acceptance_stopped: 0,
            item_fee: None,
            received_venue_kind: None,
            forwarded: false,
        }
    }

    /// The deadline while the clock runs, as it stands now.
    fn running_deadline(&self) -> Result<Option<NaiveDate>, CalendarError> {
        match (self.st.accepted_on, self.stop) {
            (Some(start), None) => {
                Ok(Some(self.ctx.calendar.deadline(start, self.st.limit_days + self.st.stopped_days)?))
            }
            _ => Ok(None),
        }
    }

    /// Takes one event that takes part in the life ([`takes_part`]).
    fn take(&mut self, e: &StoredEvent) -> Result<(), CalendarError> {
        let current_deadline = self.running_deadline()?;
        let st = &mut self.st;
        match &e.body {
            EventBody::Received { item_code, venue_code, .. } => {
                if st.received_on.is_some() {
                    anomaly(st, AnomalyKind::OutOfOrder, e, "重复的收件事件".into());
                    return Ok(());
                }
                st.received_on = Some(e.date);
                st.status = CaseStatus::Received;
                st.item_code = Some(item_code.clone());
                st.venue_code = Some(venue_code.clone());
                self.item_fee = (self.ctx.item)(item_code).map(|(_, fee)| fee);
                self.received_venue_kind = (self.ctx.venue_kind)(venue_code);
            }
            EventBody::Accepted { promised_days } => self.accept(e, *promised_days)?,
            EventBody::NotAccepted { .. } => {
                if st.accepted_on.is_some() {
                    anomaly(st, AnomalyKind::OutOfOrder, e, "已受理的办件又报不予受理".into());
                    return Ok(());
                }
                st.status = CaseStatus::NotAccepted;
                st.ended_on = Some(e.date);
            }
            EventBody::SupplementRequested => self.stop_clock(e, StopKind::Supplement, current_deadline),
            EventBody::Suspended { .. } => self.stop_clock(e, StopKind::Suspension, current_deadline),
            EventBody::SupplementReceived => self.restart_clock(e, StopKind::Supplement)?,
            EventBody::Resumed => self.restart_clock(e, StopKind::Suspension)?,
            EventBody::Extended { days } => {
                if st.accepted_on.is_none() {
                    anomaly(st, AnomalyKind::OutOfOrder, e, "受理之前报延期".into());
                    return Ok(());
                }
                if current_deadline.is_some_and(|d| e.date > d) {
                    st.extensions.push((e.date, *days, false));
                    return Ok(());
                }
                st.extensions.push((e.date, *days, true));
                st.limit_days += days;
            }
            EventBody::Step { .. } => {}
            EventBody::Forwarded { to_venue_code } => self.forward(e, to_venue_code)?,
            EventBody::Fee { amount_cents } => self.fee(e, *amount_cents),
            EventBody::Completed { result } => {
                st.status = CaseStatus::Completed(*result);
                st.ended_on = Some(e.date);
            }
            EventBody::Withdrawn => {
                st.status = CaseStatus::Withdrawn;
                st.ended_on = Some(e.date);
            }
            // Taken before the life's checks ([`takes_part`]).
            EventBody::Rated(_) => {}
        }
        Ok(())
    }

    /// `accepted`: the decision clock starts (stopped, if a supplement is still awaited); an
    /// acceptance past the acceptance limit is noted.
    fn accept(&mut self, e: &StoredEvent, promised_days: Option<u32>) -> Result<(), CalendarError> {
        let (ctx, rules) = (self.ctx, self.ctx.rules);
        let st = &mut self.st;
        if st.accepted_on.is_some() {
            anomaly(st, AnomalyKind::OutOfOrder, e, "重复的受理事件".into());
            return Ok(());
        }
        let promised =
            promised_days.or_else(|| st.item_code.as_deref().and_then(|c| (ctx.item)(c)).map(|(p, _)| p)).unwrap_or(0);
        st.accepted_on = Some(e.date);
        st.status = CaseStatus::Accepted;
        st.limit_days = promised;
        if let (Some(days), Some(received)) = (rules.acceptance_days.filter(|d| *d > 0), st.received_on) {
            // Time waiting for the applicant's supplement does not count.
            let limit = ctx.calendar.deadline(received, days + self.pre_acceptance_stopped)?;
            if e.date > limit && self.stop.is_none() {
                anomaly(
                    st,
                    AnomalyKind::LateAcceptance,
                    e,
                    format!("收件 {received} 后超过 {days} 个工作日才受理（期限 {limit}，受理 {}）", e.date),
                );
            }
        }
        // A supplement still awaited at acceptance: the decision clock starts stopped.
        if let Some((kind, _)) = self.stop {
            self.stop = Some((kind, e.date));
        }
        Ok(())
    }

    /// `supplement_requested` or `suspended`: the clock stops, unless the deadline has passed
    /// (then the stop, and the restart that matches it, are ignored).
    fn stop_clock(&mut self, e: &StoredEvent, kind: StopKind, current_deadline: Option<NaiveDate>) {
        let rules = self.ctx.rules;
        let st = &mut self.st;
        if self.stop.is_some() {
            anomaly(st, AnomalyKind::OutOfOrder, e, "时钟已停止时再次停止".into());
            return;
        }
        if kind == StopKind::Supplement {
            self.supplements += 1;
            if self.supplements == 2 && rules.repeated_supplement {
                anomaly(st, AnomalyKind::RepeatedSupplement, e, "同一办件第二次要求补正材料（违反一次性告知）".into());
            }
        }
        if let EventBody::Suspended { reason: SuspendReason::Other } = e.body
            && rules.unlawful_suspension
        {
            anomaly(st, AnomalyKind::UnlawfulSuspension, e, "暂停计时没有法定理由（reason=other）".into());
        }
        if current_deadline.is_some_and(|d| e.date > d) {
            self.late_stop = Some(kind);
            return;
        }
        self.stop = Some((kind, e.date));
        st.stopped_since = Some(e.date);
    }

    /// `supplement_received` or `resumed`: the clock runs again; the days it stood still after
    /// acceptance are added to the deadline (spec/metrics.md), a long suspension is noted.
    fn restart_clock(&mut self, e: &StoredEvent, kind: StopKind) -> Result<(), CalendarError> {
        let (cal, rules) = (self.ctx.calendar, self.ctx.rules);
        let st = &mut self.st;
        match self.stop {
            Some((k, since)) if k == kind => {
                let stopped = cal.working_days_from_until(since, e.date)?;
                if let Some(accepted) = st.accepted_on {
                    // The clock counts only the days after acceptance: a stop on the
                    // acceptance date costs nothing for that day (spec/metrics.md).
                    let counted = cal.working_days_from_until(since.max(accepted + Days::new(1)), e.date)?;
                    st.stopped_days += counted;
                    st.stops.push(StopInterval {
                        supplement: kind == StopKind::Supplement,
                        from: since,
                        until: Some(e.date),
                        working_days: counted,
                    });
                } else {
                    self.pre_acceptance_stopped += stopped;
                }
                if kind == StopKind::Suspension
                    && let Some(max) = rules.max_suspension_days.filter(|m| *m > 0)
                    && stopped > max
                {
                    anomaly(
                        st,
                        AnomalyKind::LongSuspension,
                        e,
                        format!("暂停计时 {stopped} 个工作日，超过 {max} 个工作日"),
                    );
                }
                self.stop = None;
                st.stopped_since = None;
            }
            Some(_) => anomaly(st, AnomalyKind::OutOfOrder, e, "恢复计时的类型与停止的类型不符".into()),
            None if self.late_stop == Some(kind) => self.late_stop = None,
            None => anomaly(st, AnomalyKind::OutOfOrder, e, "时钟未停止却报恢复计时".into()),
        }
        Ok(())
    }

    /// `forwarded`: an agent point's first forwarding past its limit is noted; the case moves
    /// to the venue it was forwarded to.
    fn forward(&mut self, e: &StoredEvent, to_venue_code: &str) -> Result<(), CalendarError> {
        let rules = self.ctx.rules;
        let st = &mut self.st;
        if !self.forwarded
            && self.received_venue_kind == Some(OrgKind::AgentPoint)
            && let (Some(days), Some(received)) = (rules.forwarding_days.filter(|d| *d > 0), st.received_on)
        {
            let limit = self.ctx.calendar.deadline(received, days)?;
            if e.date > limit {
                anomaly(
                    st,
                    AnomalyKind::LateForwarding,
                    e,
                    format!("代办点收件 {received} 后超过 {days} 个工作日才转报（{}）", e.date),
                );
            }
        }
        self.forwarded = true;
        st.venue_code = Some(to_venue_code.to_string());
        Ok(())
    }

    /// `fee`: added up; a fee on a free item, or fees above the standard, are noted.
    fn fee(&mut self, e: &StoredEvent, amount_cents: i64) {
        let st = &mut self.st;
        st.fees_cents += amount_cents;
        if self.ctx.rules.fees {
            match self.item_fee {
                Some(0) if amount_cents > 0 => {
                    anomaly(st, AnomalyKind::FeeOnFreeItem, e, format!("免费事项收费 {} 分", amount_cents))
                }
                Some(standard) if standard > 0 && st.fees_cents > standard => {
                    let message = format!("累计收费 {} 分，超过标准 {standard} 分", st.fees_cents);
                    anomaly(st, AnomalyKind::FeeAboveStandard, e, message)
                }
                _ => {}
            }
        }
    }

    /// The state after the last event: a stop still open, the deadline as it stands, the outcome.
    fn finish(mut self) -> Result<CaseState, (CaseState, CalendarError)> {
        if let (Some((kind, since)), Some(_)) = (self.stop, self.st.accepted_on) {
            self.st.stops.push(StopInterval {
                supplement: kind == StopKind::Supplement,
                from: since,
                until: None,
                working_days: 0,
            });
        }
        let deadline = match self.running_deadline() {
            Ok(d) => d,
            Err(err) => return Err((self.st, err)),
        };
        let st = &mut self.st;
        st.deadline = deadline;
        st.outcome = match (st.accepted_on, st.status, st.deadline) {
            (None, _, _) => Outcome::Unsettled,
            // Completed while the clock stood still: it cannot have been late.
            (Some(_), CaseStatus::Completed(_), None) => Outcome::OnTime(st.ended_on.expect("ended")),
            (Some(_), CaseStatus::Completed(_), Some(d)) => {
                let done = st.ended_on.expect("ended");
                if done <= d { Outcome::OnTime(done) } else { Outcome::Overdue(d) }
            }
            (Some(_), CaseStatus::Withdrawn, Some(d)) if st.ended_on.expect("ended") > d => Outcome::Overdue(d),
            (Some(_), CaseStatus::Withdrawn, _) => Outcome::Unsettled,
            (Some(_), _, Some(d)) => Outcome::Running { deadline: d },
            (Some(_), _, None) => Outcome::Unsettled,
        };
        Ok(self.st)
    }
}

/// How far an open case stands from its deadline, in working days, as its page says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeLeft {
    /// Working days after today up to and including the deadline (0: due today).
    Remaining(u32),
    /// Working days after the deadline up to and including today (0: the deadline has passed
    /// but no working day has begun since, as on the weekend after a Friday deadline).
    Overdue(u32),
}

impl TimeLeft {
    pub fn of(calendar: &WorkCalendar, deadline: NaiveDate, today: NaiveDate) -> Result<TimeLeft, CalendarError> {
        if today <= deadline {
            Ok(TimeLeft::Remaining(calendar.working_days_between(today, deadline)?))
        } else {
            Ok(TimeLeft::Overdue(calendar.working_days_between(deadline, today)?))
        }
    }

    pub fn label(&self) -> String {
        match self {
            TimeLeft::Remaining(0) => "今日到期".into(),
            TimeLeft::Remaining(n) => format!("剩余 {n} 个工作日"),
            TimeLeft::Overdue(0) => "已超过期限".into(),
            TimeLeft::Overdue(n) => format!("已超期 {n} 个工作日"),
        }
    }

    pub fn is_overdue(&self) -> bool {
        matches!(self, TimeLeft::Overdue(_))
    }
}

#[cfg(test)]
mod time_left_tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn time_left_counts_working_days_between_today_and_the_deadline() {
        let cal = WorkCalendar::official();
        let at = |deadline: &str, today: &str| TimeLeft::of(&cal, d(deadline), d(today)).unwrap();
        // Deadline Friday 2011-03-04.
        assert_eq!(at("2011-03-04", "2011-03-02"), TimeLeft::Remaining(2), "Thursday and Friday");
        assert_eq!(at("2011-03-04", "2011-03-04").label(), "今日到期");
        assert_eq!(at("2011-03-04", "2011-03-05"), TimeLeft::Overdue(0), "Saturday: passed, no working day yet");
        assert_eq!(at("2011-03-04", "2011-03-05").label(), "已超过期限");
        assert_eq!(at("2011-03-04", "2011-03-08").label(), "已超期 2 个工作日");
        // 清明 2011: Saturday 04-02 a working day (调休), 04-03..05 off.
        assert_eq!(at("2011-04-01", "2011-04-06"), TimeLeft::Overdue(2), "04-02 and 04-06");
        assert_eq!(at("2011-04-06", "2011-04-01").label(), "剩余 2 个工作日");
        assert!(at("2011-04-01", "2011-04-06").is_overdue() && !at("2011-04-06", "2011-04-01").is_overdue());
    }
}

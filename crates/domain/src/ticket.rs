//! Work orders of the efficiency hotline (工单): the historical import of spec/exchange.md §4 and
//! the KPIs of spec/metrics.md ("report tickets").

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde_json::Value;

use crate::RowError;
use crate::case::Fields;

crate::words! {
    /// How an order came in.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
    pub enum Channel as "渠道" {
        Phone = "phone" / "电话（963333）",
        Web = "web" / "网上",
        Mobile = "mobile" / "手机",
        Letter = "letter" / "信件",
        Visit = "visit" / "来访",
        Open311 = "open311" / "Open311",
    }
}

crate::words! {
    /// What an order is.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
    pub enum TicketType as "工单类型" {
        Complaint = "complaint" / "投诉",
        Report = "report" / "举报",
        Consultation = "consultation" / "咨询",
        Suggestion = "suggestion" / "建议",
        Help = "help" / "求助",
        Praise = "praise" / "表扬",
    }
}

crate::words! {
    /// The result of the office's return visit (回访).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
    pub enum Satisfaction as "回访结果" {
        Satisfied = "satisfied" / "满意",
        BasicallySatisfied = "basically_satisfied" / "基本满意",
        Unsatisfied = "unsatisfied" / "不满意",
        Unreachable = "unreachable" / "联系不上",
    }
}

/// A work order as a legacy hotline system exports it (spec/exchange.md §4).
#[derive(Debug, Clone, PartialEq)]
pub struct LegacyTicket {
    pub ticket_no: String,
    pub channel: Channel,
    pub r#type: TicketType,
    pub received_at: DateTime<FixedOffset>,
    pub subject_department_code: Option<String>,
    pub subject_venue_code: Option<String>,
    pub summary: String,
    pub closed_at: Option<DateTime<FixedOffset>>,
    pub satisfaction: Option<Satisfaction>,
}

fn timestamp(f: &Fields, field: &str) -> Result<Option<DateTime<FixedOffset>>, RowError> {
    let Some(text) = f.opt_text(field, 64)? else { return Ok(None) };
    DateTime::parse_from_rfc3339(&text)
        .map(Some)
        .map_err(|_| f.err(field, format!("“{text}”不是带时区偏移的 RFC 3339 时间（如 2011-03-02T09:15:00+08:00）")))
}

/// Reads one line of a work-order file (`line` counts from 1).
pub fn parse_ticket(line: usize, text: &str) -> Result<LegacyTicket, RowError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| RowError::new(line, "", format!("不是有效的 JSON：{e}")))?;
    let Value::Object(obj) = &value else {
        return Err(RowError::new(line, "", "每行应为一个 JSON 对象"));
    };
    let f = Fields { line, obj };
    let ticket_no = f.text("ticket_no", 64)?;
    let channel_text = f.text("channel", 20)?;
    let channel = Channel::parse(&channel_text).ok_or_else(|| {
        f.err("channel", format!("“{channel_text}”无效，应为 phone、web、mobile、letter、visit 或 open311"))
    })?;
    let type_text = f.text("type", 20)?;
    let r#type = TicketType::parse(&type_text).ok_or_else(|| {
        f.err("type", format!("“{type_text}”无效，应为 complaint、report、consultation、suggestion、help 或 praise"))
    })?;
    let received_at = timestamp(&f, "received_at")?.ok_or_else(|| f.err("received_at", "缺少该字段"))?;
    let closed_at = timestamp(&f, "closed_at")?;
    if closed_at.is_some_and(|c| c < received_at) {
        return Err(f.err("closed_at", "早于受理时间 received_at"));
    }
    let satisfaction = match f.opt_text("satisfaction", 40)? {
        None => None,
        Some(s) => Some(Satisfaction::parse(&s).ok_or_else(|| {
            f.err("satisfaction", format!("“{s}”无效，应为 satisfied、basically_satisfied、unsatisfied 或 unreachable"))
        })?),
    };
    Ok(LegacyTicket {
        ticket_no,
        channel,
        r#type,
        received_at,
        subject_department_code: f.opt_text("subject_department_code", 64)?,
        subject_venue_code: f.opt_text("subject_venue_code", 64)?,
        summary: f.text("summary", 4000)?,
        closed_at,
        satisfaction,
    })
}

/// `(satisfied + basically satisfied) / (those + unsatisfied)`; none without such visits.
pub fn satisfaction_rate(satisfied: i64, basically: i64, unsatisfied: i64) -> Option<f64> {
    let n = satisfied + basically + unsatisfied;
    (n > 0).then(|| (satisfied + basically) as f64 / n as f64)
}

/// `closed / received`; none without orders.
pub fn completion_rate(closed: i64, received: i64) -> Option<f64> {
    rate(closed, received)
}

/// The counts a closed order adds to `report tickets`, by name, in the order
/// [`closed_counts`] gives them.
pub const CLOSED_COUNTS: [&str; 13] = [
    "received",
    "venue_complaints",
    "satisfied",
    "basically_satisfied",
    "unsatisfied",
    "unreachable",
    "sign_settled",
    "signed_on_time",
    "reply_settled",
    "replied_on_time",
    "replied",
    "visited",
    "redone",
];

/// What the figures read of a closed order (a legacy one has no deadlines).
pub struct ClosedFacts<'a> {
    pub kind: TicketType,
    pub venue_named: bool,
    /// The last return visit's result.
    pub satisfaction: Option<&'a str>,
    pub sign_due: Option<DateTime<Utc>>,
    pub signed_at: Option<DateTime<Utc>>,
    pub reply_due: Option<NaiveDate>,
    /// The reply of the current round.
    pub replied_on: Option<NaiveDate>,
    /// Handled again (重办) at least once.
    pub redone: bool,
}

/// The counts (1 or 0) a closed order adds, by spec/metrics.md and docs/metrics-hotline.md: a
/// closed order never changes, and its sign-in and reply are settled. The SQL of the open
/// orders' counts and the tally's fill statements (migrations 0008) say the same; the KPI tests
/// hold them together.
pub fn closed_counts(f: &ClosedFacts<'_>) -> [i64; 13] {
    let s = f.satisfaction;
    let b = |x: bool| i64::from(x);
    [
        1,
        b(f.kind == TicketType::Complaint && f.venue_named),
        b(s == Some("satisfied")),
        b(s == Some("basically_satisfied")),
        b(s == Some("unsatisfied")),
        b(s == Some("unreachable")),
        b(f.sign_due.is_some()),
        b(matches!((f.signed_at, f.sign_due), (Some(a), Some(d)) if a <= d)),
        b(f.reply_due.is_some()),
        b(matches!((f.replied_on, f.reply_due), (Some(r), Some(d)) if r <= d)),
        b(f.replied_on.is_some() || s.is_some()),
        b(s.is_some()),
        b(s.is_some() && f.redone),
    ]
}

/// A rate as the figures give it: a fraction, `None` when the denominator is 0.
pub fn rate(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_legacy_order_is_read_and_bad_ones_are_named() {
        let t = parse_ticket(
            1,
            r#"{"ticket_no":"2008-000001","channel":"phone","type":"complaint","received_at":"2008-05-04T10:00:00+08:00",
               "subject_venue_code":"460100-V","summary":"窗口人员态度差","closed_at":"2008-05-10T16:00:00+08:00",
               "satisfaction":"basically_satisfied"}"#,
        )
        .unwrap();
        assert_eq!(
            (t.channel, t.r#type, t.satisfaction),
            (Channel::Phone, TicketType::Complaint, Some(Satisfaction::BasicallySatisfied))
        );
        let bad = |text: &str, field: &str| {
            let e = parse_ticket(7, text).unwrap_err();
            assert_eq!((e.line, e.field.as_str()), (7, field), "{e}");
        };
        bad(
            r#"{"ticket_no":"x","channel":"fax","type":"complaint","received_at":"2008-05-04T10:00:00+08:00","summary":"s"}"#,
            "channel",
        );
        bad(
            r#"{"ticket_no":"x","channel":"web","type":"rant","received_at":"2008-05-04T10:00:00+08:00","summary":"s"}"#,
            "type",
        );
        bad(
            r#"{"ticket_no":"x","channel":"web","type":"help","received_at":"2008-05-04 10:00","summary":"s"}"#,
            "received_at",
        );
        bad(r#"{"ticket_no":"x","channel":"web","type":"help","received_at":"2008-05-04T10:00:00+08:00"}"#, "summary");
        bad(
            r#"{"ticket_no":"x","channel":"web","type":"help","received_at":"2008-05-04T10:00:00+08:00","summary":"s","closed_at":"2008-05-03T10:00:00+08:00"}"#,
            "closed_at",
        );
        bad(
            r#"{"ticket_no":"x","channel":"web","type":"help","received_at":"2008-05-04T10:00:00+08:00","summary":"s","satisfaction":"meh"}"#,
            "satisfaction",
        );
        bad("[1]", "");
    }

    #[test]
    fn rates() {
        assert_eq!(satisfaction_rate(3, 1, 4), Some(0.5));
        assert_eq!(satisfaction_rate(0, 0, 0), None);
        assert_eq!(completion_rate(0, 0), None);
        assert_eq!(completion_rate(1, 4), Some(0.25));
    }
}

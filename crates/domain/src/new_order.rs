//! A new hotline order as it arrives (a form, a JSON body, an Open311 post: texts) and as the
//! rest of the system takes it: parsed once, where it enters, into types that cannot hold a bad
//! value. A [`Summary`] is never empty nor too long, a [`PhoneNumber`] is digits, an anonymous
//! [`Caller`] has neither name nor phone.

use crate::RowError;
use crate::ticket::TicketType;

/// The answer to a text with a control character in it.
pub const CONTROL_CHARACTERS: &str = "含有不可见的控制字符，请删除后再提交";

/// Longest summary a citizen may write.
pub const MAX_SUMMARY: usize = 2000;
/// Longest caller's name.
pub const MAX_NAME: usize = 50;
/// Longest address.
pub const MAX_ADDRESS: usize = 200;

/// A new order as typed or sent: every field a text, nothing checked yet.
#[derive(Debug, Clone, Default)]
pub struct NewOrder {
    pub kind: String,
    pub summary: String,
    pub caller_name: String,
    pub caller_phone: String,
    pub anonymous: bool,
    /// The venue the order is about (a window service complaint), by code.
    pub venue_code: String,
    /// The department the order is about, by code, when the citizen or operator knows it.
    pub department_code: String,
    pub address: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

/// What the citizen asks: trimmed, not empty, at most [`MAX_SUMMARY`] characters, no control
/// characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary(String);

impl Summary {
    pub fn parse(typed: &str) -> Result<Summary, String> {
        let text = typed.trim();
        if text.is_empty() {
            return Err("请填写诉求内容".into());
        }
        if text.chars().count() > MAX_SUMMARY {
            return Err(format!("诉求内容不能超过 {MAX_SUMMARY} 字"));
        }
        if crate::has_control_characters(text) {
            return Err(CONTROL_CHARACTERS.into());
        }
        Ok(Summary(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A phone number: 5 to 20 digits, typed with or without spaces and dashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// `Ok(None)` when nothing was typed.
    pub fn parse(typed: &str) -> Result<Option<PhoneNumber>, &'static str> {
        crate::workorder::parse_phone(typed).map(|p| p.map(PhoneNumber)).map_err(|()| "电话号码应为 5 至 20 位数字")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who called: nobody known, or a citizen who may have left a name and a phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    Named { name: Option<String>, phone: Option<PhoneNumber> },
}

impl Caller {
    pub fn name(&self) -> Option<&str> {
        match self {
            Caller::Named { name, .. } => name.as_deref(),
            Caller::Anonymous => None,
        }
    }

    pub fn phone(&self) -> Option<&str> {
        match self {
            Caller::Named { phone, .. } => phone.as_ref().map(PhoneNumber::as_str),
            Caller::Anonymous => None,
        }
    }

    pub fn is_anonymous(&self) -> bool {
        matches!(self, Caller::Anonymous)
    }
}

/// A new order, parsed: what a use case takes.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRequest {
    pub kind: TicketType,
    pub summary: Summary,
    pub caller: Caller,
    /// The venue it is about, by code (checked against the network where it is stored).
    pub venue_code: Option<String>,
    /// The department it is about, by code (likewise).
    pub department_code: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

impl NewOrder {
    /// Parses every field; all faults come back together, each with its field.
    pub fn parse(&self) -> Result<OrderRequest, Vec<RowError>> {
        let mut errors = Vec::new();
        let mut fault = |field: &str, message: &str| errors.push(RowError::new(0, field, message));
        let kind = TicketType::parse(self.kind.trim());
        if kind.is_none() {
            fault("type", "请选择诉求类型（投诉、举报、咨询、建议、求助、表扬）");
        }
        let summary = Summary::parse(&self.summary).map_err(|m| fault("summary", &m)).ok();
        let caller = if self.anonymous {
            Caller::Anonymous
        } else {
            let name = self.caller_name.trim();
            if name.chars().count() > MAX_NAME {
                fault("caller_name", &format!("姓名不能超过 {MAX_NAME} 字"));
            }
            if crate::has_control_characters(name) {
                fault("caller_name", CONTROL_CHARACTERS);
            }
            let phone = PhoneNumber::parse(&self.caller_phone).unwrap_or_else(|m| {
                fault("caller_phone", m);
                None
            });
            Caller::Named { name: (!name.is_empty()).then(|| name.to_string()), phone }
        };
        let address = self.address.trim();
        if address.chars().count() > MAX_ADDRESS {
            fault("address", &format!("地址不能超过 {MAX_ADDRESS} 字"));
        }
        if crate::has_control_characters(address) {
            fault("address", CONTROL_CHARACTERS);
        }
        let code = |c: &str| Some(c.trim().to_string()).filter(|c| !c.is_empty());
        match (kind, summary) {
            (Some(kind), Some(summary)) if errors.is_empty() => Ok(OrderRequest {
                kind,
                summary,
                caller,
                venue_code: code(&self.venue_code),
                department_code: code(&self.department_code),
                address: code(address),
                lat: self.lat,
                lon: self.lon,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(e: &[RowError]) -> Vec<&str> {
        e.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn every_fault_is_named_at_once() {
        let raw = NewOrder {
            kind: "pothole".into(),
            summary: "  ".into(),
            caller_phone: "12ab".into(),
            address: "路".repeat(MAX_ADDRESS + 1),
            ..Default::default()
        };
        let errors = raw.parse().unwrap_err();
        assert_eq!(fields(&errors), ["type", "summary", "caller_phone", "address"]);
    }

    #[test]
    fn a_parsed_order_holds_only_good_values() {
        let raw = NewOrder {
            kind: " complaint ".into(),
            summary: " 窗口态度差 ".into(),
            caller_name: "王小明".into(),
            caller_phone: "138-1234 5678".into(),
            venue_code: " ".into(),
            ..Default::default()
        };
        let order = raw.parse().unwrap();
        assert_eq!(order.kind, TicketType::Complaint);
        assert_eq!(order.summary.as_str(), "窗口态度差");
        assert_eq!(order.caller.phone(), Some("13812345678"));
        assert_eq!(order.caller.name(), Some("王小明"));
        assert_eq!(order.venue_code, None);
        // Anonymous: whatever was typed in the caller's fields is dropped, not checked.
        let anonymous = NewOrder { anonymous: true, caller_phone: "bad".into(), ..raw }.parse().unwrap();
        assert!(anonymous.caller.is_anonymous() && anonymous.caller.phone().is_none());
    }

    #[test]
    fn summaries_are_bounded_and_clean() {
        assert!(Summary::parse(&"字".repeat(MAX_SUMMARY)).is_ok());
        assert!(Summary::parse(&"字".repeat(MAX_SUMMARY + 1)).is_err());
        assert_eq!(Summary::parse("窗口\u{7}态度差"), Err(CONTROL_CHARACTERS.to_string()));
    }
}

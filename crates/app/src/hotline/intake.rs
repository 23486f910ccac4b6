//! Taking a new order: checked field by field, numbered, its first step recorded and audited.

use chrono::{DateTime, NaiveDate, Utc};
use oversight_domain::access::Action;
use oversight_domain::org::OrgKind;
use oversight_domain::ticket::Channel;
use oversight_domain::workorder::OrderStatus;
use oversight_store::network as network_store;
use oversight_store::orders::{OrderRow, StepRow};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{Actor, App, AppError, new_id};

pub use oversight_domain::new_order::{CONTROL_CHARACTERS, MAX_SUMMARY, NewOrder, OrderRequest};

/// Who files an order.
#[derive(Debug, Clone, Copy)]
pub enum Intake<'a> {
    /// A citizen on the public web form: no account.
    Citizen,
    /// An operator (phone, letter, visit).
    Operator(&'a Actor, Channel),
    /// An Open311 client with an API key.
    Open311(&'a Actor),
    /// Another system with an API key (`POST /api/v1/orders`), by the channel it names.
    System(&'a Actor, Channel),
}

/// What the filer is given back: the order number, the citizen's query code (shown once) and
/// the Open311 token.
#[derive(Debug, Clone)]
pub struct Created {
    pub ticket_no: String,
    pub query_code: String,
    pub token: String,
    pub expected: Option<NaiveDate>,
}

pub(super) fn hash_code(code: &str) -> String {
    hex::encode(Sha256::digest(code.trim().to_uppercase().as_bytes()))
}

/// A query code citizens can read out on the phone: no 0/O or 1/I.
pub(super) fn new_query_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut buf = [0u8; 8];
    rand::fill(&mut buf[..]);
    buf.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect()
}

/// Parses a new order as typed or sent ([`NewOrder::parse`]): every faulty field named, as an
/// [`AppError::Invalid`].
pub fn parse_order(new: &NewOrder) -> Result<OrderRequest, AppError> {
    new.parse().map_err(AppError::Invalid)
}

/// Takes a new order (parsed where it entered, [`parse_order`]): checks the venue and the
/// department it names against the network, numbers it (H + date + sequence), records its first
/// step and audits it. Nothing is stored when a code is wrong.
#[tracing::instrument(skip_all)]
pub async fn create_order(app: &App, intake: Intake<'_>, order: &OrderRequest) -> Result<Created, AppError> {
    let kind = order.kind;
    let (channel, actor_label, actor_name) = match intake {
        Intake::Citizen => (Channel::Web, "citizen".to_string(), "市民（网上）".to_string()),
        Intake::Operator(actor, channel) => {
            if !actor.may_somewhere(Action::Hotline) {
                return Err(AppError::Forbidden("只有热线话务员或效能办可以受理工单".into()));
            }
            (channel, actor.label.clone(), actor.display_name.clone())
        }
        Intake::Open311(actor) => (Channel::Open311, actor.label.clone(), actor.display_name.clone()),
        Intake::System(actor, channel) => (channel, actor.label.clone(), actor.display_name.clone()),
    };
    let root = network_store::root(&app.db).await?.ok_or_else(|| AppError::Conflict("服务网络尚未导入".into()))?;
    let owner_path = match intake {
        Intake::Citizen => root.path.as_str().to_string(),
        Intake::Operator(actor, _) => {
            office_path(actor, Action::Hotline).unwrap_or_else(|| root.path.as_str().to_string())
        }
        Intake::Open311(actor) | Intake::System(actor, _) => {
            office_path(actor, Action::View).unwrap_or_else(|| root.path.as_str().to_string())
        }
    };
    let unit = |code: &Option<String>, field: &'static str, venue: bool| {
        let code = code.clone();
        let db = app.db.clone();
        async move {
            let Some(code) = code else { return Ok(None) };
            match network_store::unit(&db, &code).await? {
                Some(u) if u.kind.is_venue() == venue && (venue || u.kind == OrgKind::Department) => Ok(Some(u)),
                Some(_) => {
                    Err(AppError::field(field, format!("{code} 不是{}", if venue { "服务场所" } else { "部门" })))
                }
                None => Err(AppError::field(field, format!("编码 {code} 不存在"))),
            }
        }
    };
    let venue = unit(&order.venue_code, "venue_code", true).await?;
    let department = unit(&order.department_code, "department_code", false).await?;
    let now = app.now();
    let tz = app.config.tz();
    let today = app.local_date(now);
    let query_code = new_query_code();
    let token = new_id();
    let expected = {
        let cal = app.calendar().await?;
        cal.deadline(today, app.config.hotline.limit_days(kind)).ok()
    };
    let day = today.format("%Y%m%d").to_string();
    let ticket = oversight_store::tickets::TicketRow {
        // Numbered by the writer (crate::intake), in the order the orders are written.
        ticket_no: String::new(),
        channel,
        r#type: kind,
        received_at: now,
        received_on: now.with_timezone(&tz).date_naive(),
        subject_department_code: department.as_ref().map(|d| d.code.as_str().to_string()),
        subject_venue_code: venue.as_ref().map(|v| v.code.as_str().to_string()),
        // Until it is dispatched the order belongs to the office that took it: an operator's
        // or a key's subtree, the whole city for a citizen on the web.
        department_path: owner_path.clone(),
        venue_path: venue.as_ref().map_or("/".to_string(), |v| v.path.as_str().to_string()),
        summary: order.summary.as_str().to_string(),
        closed_at: None,
        closed_on: None,
        satisfaction: None,
        source: actor_label.clone(),
        created_at: now,
        status: OrderStatus::Received,
    };
    let row = OrderRow {
        office_path: owner_path,
        anonymous: order.caller.name().is_none() && order.caller.phone().is_none(),
        caller_name: order.caller.name().map(str::to_string),
        caller_phone: order.caller.phone().map(str::to_string),
        query_hash: Some(hash_code(&query_code)),
        token: Some(token.clone()),
        address: order.address.clone(),
        lat: order.lat,
        lon: order.lon,
        updated_at: Some(now),
        ..OrderRow::from_ticket(&ticket)
    };
    let step = step_row("", "create", "", json!({ "channel": channel.as_str() }), &actor_label, &actor_name, now);
    let prepared = crate::intake::Prepared {
        day,
        row,
        step,
        actor: actor_label,
        detail: json!({ "channel": channel.as_str(), "type": kind.as_str() }),
        at: now,
    };
    let ticket_no = app.intake.submit(&app.db, prepared).await?;
    app.metrics.orders(1);
    Ok(Created { ticket_no, query_code, token, expected })
}

/// The widest subtree where `actor` may do `action`: where the orders it takes belong.
pub(super) fn office_path(actor: &Actor, action: Action) -> Option<String> {
    actor.grants.0.iter().filter(|g| g.role.allows(action)).map(|g| g.path.as_str().to_string()).min_by_key(|p| p.len())
}

pub(super) fn step_row(
    ticket_no: &str,
    step: &str,
    note: &str,
    detail: serde_json::Value,
    actor: &str,
    actor_name: &str,
    at: DateTime<Utc>,
) -> StepRow {
    StepRow {
        id: new_id(),
        ticket_no: ticket_no.into(),
        step: step.into(),
        note: note.into(),
        detail: detail.to_string(),
        actor: actor.into(),
        actor_name: actor_name.into(),
        at,
    }
}

//! What anyone may see: a citizen's own order by its query code, and public listings
//! (Open311) without callers.

use chrono::{DateTime, NaiveDate, Utc};
use oversight_domain::access::Action;
use oversight_domain::org::OrgKind;
use oversight_domain::workorder::{OrderStatus, OrderStep};
use oversight_store::network as network_store;
use oversight_store::orders::{self as store, OrderFilter, OrderRow};

use crate::{Actor, App, AppError};

use super::intake::hash_code;
use super::view::paths;

/// What a citizen sees with the order number and query code: where the order stands, the
/// dates and the reply; never who handled it inside.
#[derive(Debug, Clone)]
pub struct PublicView {
    pub ticket_no: String,
    pub kind: &'static str,
    pub status: OrderStatus,
    pub received_at: DateTime<Utc>,
    pub expected: Option<NaiveDate>,
    pub department_name: Option<String>,
    pub reply: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub steps: Vec<(DateTime<Utc>, String)>,
}

/// The order `ticket_no` if `code` is its query code; the same answer for a wrong number and
/// a wrong code, so numbers cannot be probed.
pub async fn public_view(app: &App, ticket_no: &str, code: &str) -> Result<PublicView, AppError> {
    let unknown = || AppError::NotFound("该工单号与查询码不匹配；工单".into());
    // Numbers are read out and typed by hand: `h2011…` finds `H2011…` (an exact match first,
    // for a legacy system's numbers in lower case).
    let typed = ticket_no.trim();
    let order = match store::order(&app.db, typed).await? {
        Some(o) => o,
        None => store::order(&app.db, &typed.to_uppercase()).await?.ok_or_else(unknown)?,
    };
    let matches = order.query_hash.as_deref().is_some_and(|h| crate::accounts::constant_time_eq(h, &hash_code(code)));
    if !matches {
        return Err(unknown());
    }
    let department_name = match &order.subject_department_code {
        Some(c) => network_store::unit(&app.db, c).await?.map(|u| u.name),
        None => None,
    };
    let steps = store::steps(&app.db, &order.ticket_no)
        .await?
        .into_iter()
        .filter(|s| s.step != "request_extension" && s.step != "refuse_extension")
        .map(|s| (s.at, OrderStep::label_of(&s.step).to_string()))
        .collect();
    Ok(PublicView {
        ticket_no: order.ticket_no.clone(),
        kind: order.r#type.label(),
        status: order.status,
        received_at: order.received_at,
        expected: order.reply_due,
        department_name,
        reply: order.reply.clone(),
        closed_at: order.closed_at,
        steps,
    })
}

/// Which orders a public listing (Open311 `GET requests`) asks for.
#[derive(Debug, Clone, Default)]
pub struct PublicQuery {
    pub ticket_nos: Vec<String>,
    pub types: Vec<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// `open` and/or `closed`; empty for both.
    pub statuses: Vec<String>,
    pub limit: i64,
}

/// An order as anyone may see it: no caller, and the citizen's words only for a key holder.
#[derive(Debug, Clone)]
pub struct PublicOrder {
    pub order: OrderRow,
    pub department_name: Option<String>,
    /// The handling deadline (the end of that local day); before dispatch, the limit of its
    /// type counted from receipt.
    pub expected: Option<NaiveDate>,
}

impl PublicOrder {
    /// Whether `actor` may read what the public may not (the citizen's words, the reply): the
    /// order belongs to the actor's scope, exactly as in the actor's own lists.
    pub fn readable_by(&self, actor: &Actor) -> bool {
        let [d, v, o] = paths(&self.order);
        actor.may_any(Action::View, &[&d, &v, &o])
    }
}

/// Orders for public listings, newest first. Callers' identities are removed.
pub async fn public_orders(app: &App, q: &PublicQuery) -> Result<Vec<PublicOrder>, AppError> {
    let now = app.now();
    let today = app.local_date(now);
    let statuses: Vec<String> = q
        .statuses
        .iter()
        .flat_map(|s| match s.as_str() {
            "closed" => vec![OrderStatus::Closed],
            _ => vec![OrderStatus::Received, OrderStatus::Dispatched, OrderStatus::Signed, OrderStatus::Replied],
        })
        .map(|s| s.as_str().to_string())
        .collect();
    let filter = OrderFilter {
        ticket_nos: q.ticket_nos.clone(),
        types: q.types.clone(),
        statuses,
        received_from: q.from,
        received_before: q.to,
        limit: q.limit,
        ..Default::default()
    };
    let rows = store::list(&app.db, &oversight_domain::access::Scope::All, &filter, now, today).await?;
    let units: std::collections::HashMap<String, String> = network_store::all_units(&app.db)
        .await?
        .into_iter()
        .filter(|u| u.kind == OrgKind::Department)
        .map(|u| (u.code.as_str().to_string(), u.name))
        .collect();
    let cal = app.calendar().await?;
    Ok(rows
        .into_iter()
        .map(|mut o| {
            o.caller_name = None;
            o.caller_phone = None;
            let expected =
                o.reply_due.or_else(|| cal.deadline(o.received_on, app.config.hotline.limit_days(o.r#type)).ok());
            PublicOrder {
                department_name: o.subject_department_code.as_ref().and_then(|c| units.get(c).cloned()),
                expected,
                order: o,
            }
        })
        .collect())
}

/// The order a token stands for (Open311 `tokens/{token}`).
pub async fn order_of_token(app: &App, token: &str) -> Result<Option<String>, AppError> {
    Ok(store::by_token(&app.db, token.trim()).await?.map(|o| o.ticket.ticket_no))
}

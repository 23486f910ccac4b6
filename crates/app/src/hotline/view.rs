//! Orders as the office, the departments and the operators see them: one order with its
//! timeline, lists, queues and a caller's history. The caller is masked unless the viewer may
//! see callers, and every reveal is audited.

use chrono::{DateTime, NaiveDate, Utc};
use oversight_domain::access::Action;
use oversight_domain::org::{OrgKind, OrgPath, OrgUnit};
use oversight_domain::ticket::TicketType;
use oversight_domain::workorder::{self as rules, Flow, Late, OrderStatus, OrderStep, mask_name, mask_phone};
use oversight_store::audit::{self, NewAudit};
use oversight_store::network as network_store;
use oversight_store::orders::{self as store, OrderFilter, OrderRow, StepRow};
use serde_json::json;

use crate::{Actor, App, AppError};

use super::steps::{flow_of, roles_over};

/// Where an order belongs: its department, its venue, the office that took it.
pub(super) fn paths(o: &OrderRow) -> [OrgPath; 3] {
    [
        OrgPath::from_stored(o.department_path.clone()),
        OrgPath::from_stored(o.venue_path.clone()),
        OrgPath::from_stored(o.office_path.clone()),
    ]
}

/// The caller as a viewer sees them: masked, or nothing at all outside the office.
#[derive(Debug, Clone)]
pub struct CallerView {
    pub anonymous: bool,
    /// Whether the viewer may see who called (the office).
    pub may_see: bool,
    pub name: Option<String>,
    pub phone: Option<String>,
    /// The full identity: only when asked for by someone who may see it (audited).
    pub revealed: bool,
}

pub(super) fn caller_view(o: &OrderRow, may_see: bool, reveal: bool) -> CallerView {
    let revealed = may_see && reveal && !o.anonymous;
    CallerView {
        anonymous: o.anonymous,
        may_see,
        name: may_see
            .then(|| o.caller_name.as_deref().map(|n| if revealed { n.to_string() } else { mask_name(n) }))
            .flatten(),
        phone: may_see
            .then(|| o.caller_phone.as_deref().map(|p| if revealed { p.to_string() } else { mask_phone(p) }))
            .flatten(),
        revealed,
    }
}

/// An order as one viewer sees it.
pub struct OrderView {
    pub order: OrderRow,
    pub flow: Flow,
    pub caller: CallerView,
    pub steps: Vec<StepRow>,
    pub next_steps: Vec<OrderStep>,
    pub late: Option<Late>,
    pub department_name: Option<String>,
    pub venue_name: Option<String>,
    /// For a dispatch: the departments to choose from, the suggested one first.
    pub departments: Vec<(String, String)>,
    pub suggested: Option<String>,
    /// Other orders of the same caller (the office only).
    pub history: Vec<OrderRow>,
    /// The notifications about this order and how their delivery went (the office only;
    /// phone numbers masked).
    pub messages: Vec<oversight_store::outbox::MessageRow>,
}

/// An order with its timeline and what the viewer may do. The caller's identity is masked;
/// `reveal` shows it in full to the office, and that view is audited.
pub async fn order_view(app: &App, actor: &Actor, ticket_no: &str, reveal: bool) -> Result<OrderView, AppError> {
    let what = format!("工单 {ticket_no}");
    let mut order = store::order(&app.db, ticket_no).await?.ok_or_else(|| AppError::NotFound(what.clone()))?;
    let [d, v, office] = paths(&order);
    if !actor.may_any(Action::View, &[&d, &v, &office]) {
        return Err(AppError::NotFound(what));
    }
    let may_see = actor.may_any(Action::ViewCaller, &[&d, &v, &office]);
    let caller = caller_view(&order, may_see, reveal);
    let now = app.now();
    let today = app.local_date(now);
    if caller.revealed {
        let mut tx = app.db.begin().await?;
        audit::append(
            &mut tx,
            NewAudit {
                actor: &actor.label,
                action: "order.caller_view",
                target: ticket_no,
                path: &order.department_path,
                detail: json!({}),
            },
            now,
        )
        .await?;
        tx.commit().await?;
    }
    let history = match (&order.caller_phone, may_see) {
        (Some(phone), true) => {
            let filter = OrderFilter { caller_phone: Some(phone.clone()), limit: 20, ..Default::default() };
            store::list(&app.db, &actor.scope_for(Action::ViewCaller), &filter, now, today)
                .await?
                .into_iter()
                .filter(|o| o.ticket_no != order.ticket_no)
                .collect()
        }
        _ => Vec::new(),
    };
    let flow = flow_of(&order)?;
    let by = roles_over(actor, &order);
    let next_steps = rules::possible_steps(&flow, &by, today, &app.config.hotline);
    let name_of = |code: &Option<String>| {
        let code = code.clone();
        let db = app.db.clone();
        async move {
            Ok::<_, AppError>(match code {
                Some(c) => network_store::unit(&db, &c).await?.map(|u| u.name),
                None => None,
            })
        }
    };
    let department_name = name_of(&order.subject_department_code).await?;
    let venue_name = name_of(&order.subject_venue_code).await?;
    let (departments, suggested) = if next_steps.contains(&OrderStep::Dispatch) {
        let units = network_store::all_units(&app.db).await?;
        let mut departments: Vec<(String, String)> = units
            .iter()
            .filter(|u| u.kind == OrgKind::Department && actor.may(Action::Hotline, &u.path))
            .map(|u| (u.code.as_str().to_string(), u.name.clone()))
            .collect();
        let suggested = suggest_department(app, &order, &units).await?;
        if let Some(s) = &suggested
            && let Some(i) = departments.iter().position(|(c, _)| c == s)
        {
            let first = departments.remove(i);
            departments.insert(0, first);
        }
        (departments, suggested)
    } else {
        (Vec::new(), None)
    };
    let messages = if may_see {
        let mut messages = oversight_store::outbox::messages(&app.db, Some(ticket_no), 50).await?;
        for m in &mut messages {
            if m.channel == oversight_domain::message::MessageChannel::Sms {
                m.recipient = mask_phone(&m.recipient);
            }
        }
        messages
    } else {
        Vec::new()
    };
    if !may_see {
        order.caller_name = None;
        order.caller_phone = None;
    }
    Ok(OrderView {
        late: rules::late(&flow, now, today),
        order,
        flow,
        caller,
        steps: store::steps(&app.db, ticket_no).await?,
        next_steps,
        department_name,
        venue_name,
        departments,
        suggested,
        history,
        messages,
    })
}

/// The department an order most likely belongs to: the one it names, the one whose name its
/// summary mentions, or the one of a catalogue item its summary mentions (the longest match).
pub(super) async fn suggest_department(
    app: &App,
    order: &OrderRow,
    units: &[OrgUnit],
) -> Result<Option<String>, AppError> {
    if let Some(d) = &order.subject_department_code {
        return Ok(Some(d.clone()));
    }
    let text = &order.summary;
    let by_name = units
        .iter()
        .filter(|u| u.kind == OrgKind::Department && text.contains(u.name.as_str()))
        .max_by_key(|u| u.name.chars().count());
    if let Some(u) = by_name {
        return Ok(Some(u.code.as_str().to_string()));
    }
    let items = network_store::catalogue(&app.db, &oversight_domain::access::Scope::All, None, None).await?;
    Ok(items
        .iter()
        .filter(|e| text.contains(e.item.name.as_str()))
        .max_by_key(|e| e.item.name.chars().count())
        .map(|e| e.item.department_code.as_str().to_string()))
}

/// An order in a list: nothing of the caller but a masked phone, and that for the office only.
#[derive(Debug, Clone)]
pub struct OrderLine {
    pub ticket_no: String,
    pub kind: &'static str,
    pub channel: &'static str,
    pub status: &'static str,
    pub summary: String,
    pub department: Option<String>,
    pub received_at: DateTime<Utc>,
    pub due: Option<String>,
    pub late: Option<Late>,
    pub phone: Option<String>,
    pub escalated: bool,
}

/// An order as a list shows it to `actor`: the caller's phone, masked, only where the actor may
/// see callers — decided for each order, since one person may be the hotline's operator in one
/// place and a department's liaison (who never sees who complained) in another.
pub(super) fn line_of(
    o: &OrderRow,
    actor: &Actor,
    now: DateTime<Utc>,
    today: NaiveDate,
    tz: chrono_tz::Tz,
    names: &std::collections::HashMap<String, String>,
) -> OrderLine {
    let [d, v, office] = paths(o);
    let may_see_caller = actor.may_any(Action::ViewCaller, &[&d, &v, &office]);
    let flow = flow_of(o).ok();
    let due = match o.status {
        OrderStatus::Dispatched => o.sign_due.map(|d| d.with_timezone(&tz).format("%m-%d %H:%M").to_string()),
        OrderStatus::Signed => o.reply_due.map(|d| d.to_string()),
        OrderStatus::Replied => o.visit_due.map(|d| d.to_string()),
        _ => None,
    };
    let mut summary: String = o.summary.chars().take(40).collect();
    if o.summary.chars().count() > 40 {
        summary.push('…');
    }
    OrderLine {
        ticket_no: o.ticket_no.clone(),
        kind: o.r#type.label(),
        channel: o.channel.label(),
        status: o.status.label(),
        summary,
        // The department by name (its code only if the network no longer has it).
        department: o.subject_department_code.as_ref().map(|c| names.get(c).cloned().unwrap_or_else(|| c.clone())),
        received_at: o.received_at,
        due,
        late: flow.as_ref().and_then(|f| rules::late(f, now, today)),
        phone: if may_see_caller { o.caller_phone.as_deref().map(mask_phone) } else { None },
        escalated: o.escalated,
    }
}

/// One queue: what waits for whom.
pub struct Queue {
    pub key: &'static str,
    pub title: &'static str,
    pub orders: Vec<OrderLine>,
}

/// The queues of the actor's roles: the hotline's (to dispatch, to visit), the department's (to
/// sign, to handle), the office's (extensions, escalations, returns), and what is late.
pub async fn queues(app: &App, actor: &Actor) -> Result<Vec<Queue>, AppError> {
    let now = app.now();
    let today = app.local_date(now);
    let tz = app.config.tz();
    let status = |s: OrderStatus| OrderFilter { statuses: vec![s.as_str().into()], limit: 200, ..Default::default() };
    let mut wanted: Vec<(&'static str, &'static str, Action, OrderFilter)> = Vec::new();
    if actor.may_somewhere(Action::Hotline) {
        wanted.push(("dispatch", "待派单", Action::Hotline, status(OrderStatus::Received)));
        wanted.push(("visit", "待回访", Action::Hotline, status(OrderStatus::Replied)));
    }
    if actor.may_somewhere(Action::Respond) {
        wanted.push(("sign", "待签收", Action::Respond, status(OrderStatus::Dispatched)));
        wanted.push(("handle", "办理中", Action::Respond, status(OrderStatus::Signed)));
    }
    if actor.may_somewhere(Action::Supervise) {
        wanted.push((
            "extensions",
            "延期申请待决定",
            Action::Supervise,
            OrderFilter { extension_pending: true, limit: 200, ..Default::default() },
        ));
        wanted.push((
            "escalated",
            "效能办直接督办",
            Action::Supervise,
            OrderFilter { escalated: true, limit: 200, ..Default::default() },
        ));
        wanted.push((
            "returned",
            "退单待重新派单",
            Action::Supervise,
            OrderFilter { returned: true, statuses: vec!["received".into()], limit: 200, ..Default::default() },
        ));
    }
    if actor.may_somewhere(Action::Hotline) || actor.may_somewhere(Action::Supervise) {
        let in_hand = vec![OrderStatus::Dispatched.as_str().into(), OrderStatus::Signed.as_str().into()];
        wanted.push((
            "open",
            "部门在办",
            Action::View,
            OrderFilter { statuses: in_hand, limit: 200, ..Default::default() },
        ));
    }
    wanted.push(("late", "已超时", Action::View, OrderFilter { late: true, limit: 200, ..Default::default() }));
    let names = crate::network::department_names(app).await?;
    let mut out = Vec::new();
    for (key, title, action, filter) in wanted {
        let rows = store::list(&app.db, &actor.scope_for(action), &filter, now, today).await?;
        let orders = rows.iter().map(|o| line_of(o, actor, now, today, tz, &names)).collect();
        out.push(Queue { key, title, orders });
    }
    Ok(out)
}

/// Orders of a caller, found by phone: the office only; every lookup is audited.
pub async fn caller_history(app: &App, actor: &Actor, phone: &str) -> Result<Vec<OrderLine>, AppError> {
    if !actor.may_somewhere(Action::ViewCaller) {
        return Err(AppError::Forbidden("只有效能办（热线）可以查询来电人".into()));
    }
    let phone: String = phone.trim().chars().filter(|c| c.is_ascii_digit()).collect();
    if phone.len() < 5 {
        return Err(AppError::field("phone", "请输入完整的电话号码"));
    }
    let now = app.now();
    let today = app.local_date(now);
    let filter = OrderFilter { caller_phone: Some(phone.clone()), limit: 50, ..Default::default() };
    let rows = store::list(&app.db, &actor.scope_for(Action::ViewCaller), &filter, now, today).await?;
    let mut tx = app.db.begin().await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "caller.lookup",
            target: &mask_phone(&phone),
            path: &actor.audit_path(),
            detail: json!({ "found": rows.len() }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    let names = crate::network::department_names(app).await?;
    Ok(rows.iter().map(|o| line_of(o, actor, now, today, app.config.tz(), &names)).collect())
}

/// The orders behind a figure: received from `from` to `to` (local dates), of a type, channel
/// or department, closed by `to`, with a visit result, naming a venue.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub kind: Option<String>,
    pub channel: Option<String>,
    pub department: Option<String>,
    pub closed: bool,
    pub satisfaction: Option<String>,
    pub venue_named: bool,
    pub late: bool,
}

/// Up to 1,000 orders in the actor's scope, newest first.
pub async fn list_orders(app: &App, actor: &Actor, q: &ListQuery) -> Result<Vec<OrderLine>, AppError> {
    let now = app.now();
    let today = app.local_date(now);
    if let Some(t) = &q.kind
        && TicketType::parse(t).is_none()
    {
        return Err(AppError::field("type", format!("“{t}”不是工单类型")));
    }
    let filter = OrderFilter {
        types: q.kind.iter().cloned().collect(),
        channel: q.channel.clone(),
        department_code: q.department.clone(),
        satisfaction: q.satisfaction.clone(),
        venue_named: q.venue_named,
        late: q.late,
        received_from: q.from.map(|d| app.start_of(d)),
        received_before: q.to.map(|d| app.start_of(d + chrono::Days::new(1))),
        closed_by: if q.closed { Some(q.to.unwrap_or(today)) } else { None },
        limit: 1000,
        ..Default::default()
    };
    let rows = store::list(&app.db, &actor.scope(), &filter, now, today).await?;
    let names = crate::network::department_names(app).await?;
    Ok(rows.iter().map(|o| line_of(o, actor, now, today, app.config.tz(), &names)).collect())
}

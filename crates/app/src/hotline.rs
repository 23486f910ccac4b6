//! The live hotline (DOMAIN.md §3): orders taken by operators, filed by citizens on the web or by
//! Open311 clients, dispatched, signed for, returned, extended, replied, visited, redone and
//! closed (rules in `domain::workorder`); the citizen's query code; the caller's identity,
//! which only the office sees, each time audited; and the queues of each role.

use chrono::{DateTime, NaiveDate, Utc};
use oversight_domain::RowError;
use oversight_domain::access::Action;
use oversight_domain::org::{OrgKind, OrgPath, OrgUnit};
use oversight_domain::ticket::{Channel, Satisfaction, TicketType};
use oversight_domain::workorder::{
    self as rules, Consequence, Flow, Late, OrderStatus, OrderStep, StepBy, mask_name, mask_phone,
};
use oversight_store::audit::{self, NewAudit};
use oversight_store::network as network_store;
use oversight_store::orders::{self as store, OrderFilter, OrderRow, StepRow};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::supervision::note_of;
use crate::{Actor, App, AppError, new_id};

/// The answer to a text with a control character in it.
pub(crate) const CONTROL_CHARACTERS: &str = "含有不可见的控制字符，请删除后再提交";

/// Longest summary a citizen may write.
pub const MAX_SUMMARY: usize = 2000;

/// A new order, as taken on the phone, filed on the web or posted by an Open311 client.
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

fn hash_code(code: &str) -> String {
    hex::encode(Sha256::digest(code.trim().to_uppercase().as_bytes()))
}

/// A query code citizens can read out on the phone: no 0/O or 1/I.
fn new_query_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut buf = [0u8; 8];
    rand::fill(&mut buf[..]);
    buf.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect()
}

fn checked(new: &NewOrder) -> Result<(TicketType, String, Option<String>, Option<String>), AppError> {
    let mut errors = Vec::new();
    let kind = TicketType::parse(new.kind.trim());
    if kind.is_none() {
        errors.push(RowError::new(0, "type", "请选择诉求类型（投诉、举报、咨询、建议、求助、表扬）"));
    }
    let summary = new.summary.trim().to_string();
    if summary.is_empty() {
        errors.push(RowError::new(0, "summary", "请填写诉求内容"));
    } else if summary.chars().count() > MAX_SUMMARY {
        errors.push(RowError::new(0, "summary", format!("诉求内容不能超过 {MAX_SUMMARY} 字")));
    }
    let (name, phone) = if new.anonymous {
        (None, None)
    } else {
        let name = new.caller_name.trim();
        if name.chars().count() > 50 {
            errors.push(RowError::new(0, "caller_name", "姓名不能超过 50 字"));
        }
        let phone = rules::parse_phone(&new.caller_phone).unwrap_or_else(|()| {
            errors.push(RowError::new(0, "caller_phone", "电话号码应为 5 至 20 位数字"));
            None
        });
        ((!name.is_empty()).then(|| name.to_string()), phone)
    };
    if new.address.chars().count() > 200 {
        errors.push(RowError::new(0, "address", "地址不能超过 200 字"));
    }
    for (field, text) in [("summary", &new.summary), ("caller_name", &new.caller_name), ("address", &new.address)] {
        if oversight_domain::has_control_characters(text) {
            errors.push(RowError::new(0, field, CONTROL_CHARACTERS));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok((kind.expect("checked above"), summary, name, phone))
}

/// Takes a new order: checks every field, numbers it (H + date + sequence), records its first
/// step and audits it. Nothing is stored when a field is wrong.
pub async fn create_order(app: &App, intake: Intake<'_>, new: &NewOrder) -> Result<Created, AppError> {
    let (kind, summary, caller_name, caller_phone) = checked(new)?;
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
    let unit = |code: &str, field: &'static str, venue: bool| {
        let code = code.trim().to_string();
        let db = app.db.clone();
        async move {
            if code.is_empty() {
                return Ok(None);
            }
            match network_store::unit(&db, &code).await? {
                Some(u) if u.kind.is_venue() == venue && (venue || u.kind == OrgKind::Department) => Ok(Some(u)),
                Some(_) => {
                    Err(AppError::field(field, format!("{code} 不是{}", if venue { "服务场所" } else { "部门" })))
                }
                None => Err(AppError::field(field, format!("编码 {code} 不存在"))),
            }
        }
    };
    let venue = unit(&new.venue_code, "venue_code", true).await?;
    let department = unit(&new.department_code, "department_code", false).await?;
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
        channel: channel.as_str().into(),
        r#type: kind.as_str().into(),
        received_at: now,
        received_on: now.with_timezone(&tz).date_naive(),
        subject_department_code: department.as_ref().map(|d| d.code.as_str().to_string()),
        subject_venue_code: venue.as_ref().map(|v| v.code.as_str().to_string()),
        // Until it is dispatched the order belongs to the office that took it: an operator's
        // or a key's subtree, the whole city for a citizen on the web.
        department_path: owner_path.clone(),
        venue_path: venue.as_ref().map_or("/".to_string(), |v| v.path.as_str().to_string()),
        summary,
        closed_at: None,
        closed_on: None,
        satisfaction: None,
        source: actor_label.clone(),
        created_at: now,
        status: OrderStatus::Received.as_str().into(),
    };
    let row = OrderRow {
        office_path: owner_path,
        anonymous: caller_name.is_none() && caller_phone.is_none(),
        caller_name,
        caller_phone,
        query_hash: Some(hash_code(&query_code)),
        token: Some(token.clone()),
        address: Some(new.address.trim().to_string()).filter(|a| !a.is_empty()),
        lat: new.lat,
        lon: new.lon,
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
    Ok(Created { ticket_no, query_code, token, expected })
}

/// The widest subtree where `actor` may do `action`: where the orders it takes belong.
fn office_path(actor: &Actor, action: Action) -> Option<String> {
    actor.grants.0.iter().filter(|g| g.role.allows(action)).map(|g| g.path.as_str().to_string()).min_by_key(|p| p.len())
}

fn step_row(
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

/// The flow of a stored order.
pub fn flow_of(o: &OrderRow) -> Result<Flow, AppError> {
    let bad = |what: &str| AppError::fault(format!("work order {}: its stored {what} is not one of ours", o.ticket_no));
    Ok(Flow {
        status: OrderStatus::parse(&o.status).ok_or_else(|| bad("状态"))?,
        kind: TicketType::parse(&o.r#type).ok_or_else(|| bad("类型"))?,
        department: o.subject_department_code.clone(),
        dispatched_at: o.dispatched_at,
        sign_due: o.sign_due,
        signed_at: o.signed_at,
        handle_from: o.handle_from,
        reply_due: o.reply_due,
        return_by: o.return_by,
        extension_days: o.extension_days.max(0) as u32,
        extension_pending: o.extension_pending.map(|d| d.max(0) as u32),
        returned_count: o.returned_count.max(0) as u32,
        replied_at: o.replied_at,
        visit_due: o.visit_due,
        redo_count: o.redo_count.max(0) as u32,
        escalated: o.escalated,
        satisfaction: o.satisfaction.as_deref().and_then(Satisfaction::parse),
        closed_at: o.closed_at,
        estimated: o.deadline_estimated,
    })
}

/// Writes a flow's facts into the stored order (the department's path is the caller's to set).
fn set_flow(row: &mut OrderRow, f: &Flow, tz: &chrono_tz::Tz) {
    row.status = f.status.as_str().into();
    row.subject_department_code = f.department.clone();
    row.dispatched_at = f.dispatched_at;
    row.sign_due = f.sign_due;
    row.signed_at = f.signed_at;
    row.handle_from = f.handle_from;
    row.reply_due = f.reply_due;
    row.return_by = f.return_by;
    row.extension_days = f.extension_days as i32;
    row.extension_pending = f.extension_pending.map(|d| d as i32);
    row.returned_count = f.returned_count as i32;
    row.replied_at = f.replied_at;
    row.replied_on = f.replied_at.map(|r| r.with_timezone(tz).date_naive());
    row.visit_due = f.visit_due;
    row.redo_count = f.redo_count as i32;
    row.escalated = f.escalated;
    row.satisfaction = f.satisfaction.map(|s| s.as_str().to_string());
    row.closed_at = f.closed_at;
    row.closed_on = f.closed_at.map(|c| c.with_timezone(tz).date_naive());
    row.deadline_estimated = f.estimated;
}

/// Recomputes the deadlines of every open order on the calendar as it now stands (after an
/// administrator entered or corrected a year): an order whose deadlines move gets a line on its
/// timeline saying from what to what. Returns how many moved.
pub async fn reschedule_open(app: &App, reason: &str) -> Result<usize, AppError> {
    let now = app.now();
    let tz = app.config.tz();
    let cal = app.calendar().await?;
    let open = [OrderStatus::Dispatched, OrderStatus::Signed, OrderStatus::Replied];
    let mut filter = Some(OrderFilter {
        statuses: open.iter().map(|s| s.as_str().to_string()).collect(),
        limit: store::MAX_PAGE,
        ..Default::default()
    });
    let mut rows = Vec::new();
    // Every open order, a page at a time (the oldest too: they are the ones most likely late).
    while let Some(page) = filter {
        let part = store::list(&app.db, &oversight_domain::access::Scope::All, &page, now, app.local_date(now)).await?;
        filter = page.next_page(&part);
        rows.extend(part);
    }
    let mut moved = 0;
    for row in rows {
        let Ok(before) = flow_of(&row) else { continue };
        let mut after = before.clone();
        rules::schedule(&mut after, &tz, &cal, &app.config.hotline);
        if after == before {
            continue;
        }
        let mut updated = row.clone();
        set_flow(&mut updated, &after, &tz);
        updated.updated_at = Some(now);
        let show = |d: Option<NaiveDate>| d.map_or("—".to_string(), |d| d.to_string());
        let note = format!(
            "{reason}：办理时限 {} → {}{}",
            show(before.reply_due),
            show(after.reply_due),
            if after.estimated { "（仍含未录入年份，按周末推算）" } else { "" }
        );
        let mut tx = app.db.begin().await?;
        if store::update_flow(&mut tx, &updated).await? {
            store::insert_step(
                &mut tx,
                &step_row(&row.ticket_no, "reschedule", &note, json!({}), "system", "系统", now),
            )
            .await?;
            moved += 1;
        }
        tx.commit().await?;
    }
    Ok(moved)
}

/// The roles `actor` holds over `o`: hotline, office, department.
fn roles_over(actor: &Actor, o: &OrderRow) -> Vec<StepBy> {
    let [d, v, office] = paths(o);
    let mut by = Vec::new();
    if actor.may_any(Action::Hotline, &[&d, &v, &office]) {
        by.push(StepBy::Hotline);
    }
    if actor.may_any(Action::Supervise, &[&d, &v, &office]) {
        by.push(StepBy::Office);
    }
    // Only the department the order is sent to answers for it.
    if o.subject_department_code.is_some() && o.dispatched_at.is_some() && actor.may(Action::Respond, &d) {
        by.push(StepBy::Department);
    }
    by
}

/// A step as a form or API sends it.
#[derive(Debug, Clone, Default)]
pub struct StepInput {
    pub step: String,
    pub note: String,
    pub department_code: String,
    pub days: Option<u32>,
    pub satisfaction: String,
}

pub fn parse_step(input: &StepInput) -> Result<OrderStep, AppError> {
    Ok(match input.step.as_str() {
        "dispatch" => OrderStep::Dispatch,
        "sign" => OrderStep::Sign,
        "return" => OrderStep::Return,
        "request_extension" => {
            OrderStep::RequestExtension(input.days.ok_or_else(|| AppError::field("days", "请填写延期天数"))?)
        }
        "approve_extension" => OrderStep::DecideExtension(true),
        "refuse_extension" => OrderStep::DecideExtension(false),
        "reply" => OrderStep::Reply,
        "visit" => OrderStep::Visit(
            Satisfaction::parse(input.satisfaction.trim())
                .ok_or_else(|| AppError::field("satisfaction", "请选择回访结果"))?,
        ),
        "answer" => OrderStep::Answer,
        "close" => OrderStep::Close,
        other => return Err(AppError::field("step", format!("“{other}”不是工单环节"))),
    })
}

/// Takes a step of an order: who may take it follows from the step (hotline, office or the
/// department it is sent to), whether it may be taken now from its flow (`domain::workorder`).
/// The step is recorded on the timeline and audited; a redo or an escalation too.
pub async fn order_step(app: &App, actor: &Actor, ticket_no: &str, input: &StepInput) -> Result<OrderStatus, AppError> {
    let step = parse_step(input)?;
    let what = format!("工单 {ticket_no}");
    let note = note_of(&input.note, "note", step.needs_note())?;
    let order = store::order(&app.db, ticket_no).await?.ok_or_else(|| AppError::NotFound(what.clone()))?;
    let by = roles_over(actor, &order);
    if by.is_empty() && !actor.may_any(Action::View, &paths(&order).iter().collect::<Vec<_>>()) {
        return Err(AppError::NotFound(what));
    }
    if !by.contains(&step.by()) {
        return Err(AppError::Forbidden(match step.by() {
            StepBy::Hotline => format!("“{}”由热线话务员或效能办办理", step.label()),
            StepBy::Office => format!("“{}”由效能办决定", step.label()),
            StepBy::Department => format!("“{}”由工单的承办部门办理", step.label()),
        }));
    }
    let department: Option<OrgUnit> = match step {
        OrderStep::Dispatch => {
            let code = input.department_code.trim();
            if code.is_empty() {
                return Err(AppError::field("department_code", "请选择承办部门"));
            }
            match network_store::unit(&app.db, code).await? {
                Some(u) if u.kind == OrgKind::Department && actor.may(Action::Hotline, &u.path) => Some(u),
                Some(u) if u.kind == OrgKind::Department => {
                    return Err(AppError::field("department_code", format!("{code} 不在您的派单范围内")));
                }
                Some(_) => return Err(AppError::field("department_code", format!("{code} 不是部门"))),
                None => return Err(AppError::field("department_code", format!("部门编码 {code} 不存在"))),
            }
        }
        _ => None,
    };
    let now = app.now();
    let tz = app.config.tz();
    let cal = app.calendar().await?;
    let flow = flow_of(&order)?;
    let (next, consequence) =
        rules::apply(&flow, &step, department.as_ref().map(|d| d.code.as_str()), now, &tz, &cal, &app.config.hotline)
            .map_err(|e| AppError::Invalid(vec![RowError::new(0, "step", e.to_string())]))?;
    let mut updated = order.clone();
    // Where the order belongs now: its new department; back with the office that took it (or
    // the city's hotline, for a legacy order) when returned.
    updated.department_path = match (&department, next.department.is_some()) {
        (Some(d), _) => d.path.as_str().to_string(),
        (None, true) => order.department_path.clone(),
        (None, false) if order.office_path != "/" => order.office_path.clone(),
        (None, false) => network_store::root(&app.db)
            .await?
            .ok_or_else(|| AppError::Conflict("服务网络尚未导入".into()))?
            .path
            .as_str()
            .to_string(),
    };
    set_flow(&mut updated, &next, &tz);
    if matches!(step, OrderStep::Reply | OrderStep::Answer) {
        updated.reply = Some(note.clone());
    }
    updated.updated_at = Some(now);
    let detail = json!({
        "department": department.as_ref().map(|d| d.code.as_str()),
        "days": match step { OrderStep::RequestExtension(d) => Some(d), _ => None },
        "satisfaction": match step { OrderStep::Visit(s) => Some(s.as_str()), _ => None },
    });
    let step_key = format!("{ticket_no}|{}|{}", step.as_str(), updated.version + 1);
    let messages = match step {
        OrderStep::Dispatch => {
            let due = |d: Option<DateTime<Utc>>| {
                d.map_or(String::new(), |d| d.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
            };
            let subject = format!("【效能投诉】新工单 {ticket_no} 待签收");
            let body = format!(
                "效能办派来工单 {ticket_no}（{}），请于 {} 前签收，{} 前办理答复。请登录效能监察平台查看。",
                TicketType::parse(&updated.r#type).map_or("—", |t| t.label()),
                due(updated.sign_due),
                updated.reply_due.map_or(String::new(), |d| d.to_string())
            );
            crate::notify::to_department(app, &updated, "dispatched", &step_key, subject, body).await?
        }
        OrderStep::Reply => crate::notify::to_citizen(&order, &step_key).into_iter().collect(),
        _ => Vec::new(),
    };
    let mut tx = app.db.begin().await?;
    let queued = crate::notify::enqueue(&mut tx, messages, now).await?;
    if !store::update_flow(&mut tx, &updated).await? {
        return Err(AppError::Conflict("工单刚被他人办理，请刷新后再试".into()));
    }
    // A closed order never changes again: it is counted in the report's tallies now.
    if let Some(closed) = oversight_store::tickets::ClosedOrder::of(&updated) {
        oversight_store::tickets::tally_closed(&mut tx, &[closed]).await?;
    }
    store::insert_step(
        &mut tx,
        &step_row(ticket_no, step.as_str(), &note, detail, &actor.label, &actor.display_name, now),
    )
    .await?;
    if let Some(c) = consequence {
        let (word, text) = match c {
            Consequence::Redo => ("redo", format!("回访不满意，第 {} 次重办", next.redo_count)),
            Consequence::Escalated => ("escalate", format!("第 {} 次重办，转效能办直接督办", next.redo_count)),
        };
        store::insert_step(&mut tx, &step_row(ticket_no, word, &text, json!({}), "system", "系统", now)).await?;
    }
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "order.step",
            target: ticket_no,
            path: &updated.department_path,
            detail: json!({ "step": step.as_str(), "status": next.status.as_str() }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    if queued > 0 {
        app.notify_wake.notify_one();
    }
    Ok(next.status)
}

/// Where an order belongs: its department, its venue, the office that took it.
fn paths(o: &OrderRow) -> [OrgPath; 3] {
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

fn caller_view(o: &OrderRow, may_see: bool, reveal: bool) -> CallerView {
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
            if m.channel == "sms" {
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
async fn suggest_department(app: &App, order: &OrderRow, units: &[OrgUnit]) -> Result<Option<String>, AppError> {
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
fn line_of(o: &OrderRow, actor: &Actor, now: DateTime<Utc>, today: NaiveDate, tz: chrono_tz::Tz) -> OrderLine {
    let [d, v, office] = paths(o);
    let may_see_caller = actor.may_any(Action::ViewCaller, &[&d, &v, &office]);
    let flow = flow_of(o).ok();
    let status = OrderStatus::parse(&o.status);
    let due = match status {
        Some(OrderStatus::Dispatched) => o.sign_due.map(|d| d.with_timezone(&tz).format("%m-%d %H:%M").to_string()),
        Some(OrderStatus::Signed) => o.reply_due.map(|d| d.to_string()),
        Some(OrderStatus::Replied) => o.visit_due.map(|d| d.to_string()),
        _ => None,
    };
    let mut summary: String = o.summary.chars().take(40).collect();
    if o.summary.chars().count() > 40 {
        summary.push('…');
    }
    OrderLine {
        ticket_no: o.ticket_no.clone(),
        kind: TicketType::parse(&o.r#type).map_or("—", |t| t.label()),
        channel: Channel::parse(&o.channel).map_or("—", |c| c.label()),
        status: status.map_or("—", |s| s.label()),
        summary,
        department: o.subject_department_code.clone(),
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
    let mut out = Vec::new();
    for (key, title, action, filter) in wanted {
        let rows = store::list(&app.db, &actor.scope_for(action), &filter, now, today).await?;
        let orders = rows.iter().map(|o| line_of(o, actor, now, today, tz)).collect();
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
    Ok(rows.iter().map(|o| line_of(o, actor, now, today, app.config.tz())).collect())
}

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
    let order = store::order(&app.db, ticket_no.trim()).await?.ok_or_else(unknown)?;
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
        kind: TicketType::parse(&order.r#type).map_or("—", |t| t.label()),
        status: OrderStatus::parse(&order.status).unwrap_or(OrderStatus::Received),
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
            let expected = o.reply_due.or_else(|| {
                let kind = TicketType::parse(&o.r#type)?;
                cal.deadline(o.received_on, app.config.hotline.limit_days(kind)).ok()
            });
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
    Ok(store::by_token(&app.db, token.trim()).await?.map(|o| o.ticket_no))
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
    Ok(rows.iter().map(|o| line_of(o, actor, now, today, app.config.tz())).collect())
}

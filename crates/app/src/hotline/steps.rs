//! An order's flow as stored, the steps that move it, and deadlines moved by a new calendar.

use chrono::{DateTime, NaiveDate, Utc};
use oversight_domain::RowError;
use oversight_domain::access::Action;
use oversight_domain::org::{OrgKind, OrgUnit};
use oversight_domain::ticket::Satisfaction;
use oversight_domain::workorder::{self as rules, Consequence, Flow, OrderStatus, OrderStep, StepBy};
use oversight_store::audit::{self, NewAudit};
use oversight_store::network as network_store;
use oversight_store::orders::{self as store, OrderFilter, OrderRow};
use serde_json::json;

use crate::supervision::note_of;
use crate::{Actor, App, AppError};

use super::intake::step_row;
use super::view::paths;

/// The flow of a stored order.
pub fn flow_of(o: &OrderRow) -> Result<Flow, AppError> {
    let satisfaction = match o.satisfaction.as_deref() {
        None => None,
        Some(word) => Some(Satisfaction::parse(word).ok_or_else(|| {
            AppError::fault(format!("work order {}: its stored satisfaction “{word}” is not one of ours", o.ticket_no))
        })?),
    };
    Ok(Flow {
        status: o.status,
        kind: o.r#type,
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
        satisfaction,
        closed_at: o.closed_at,
        estimated: o.deadline_estimated,
    })
}

/// Writes a flow's facts into the stored order (the department's path is the caller's to set).
pub(super) fn set_flow(row: &mut OrderRow, f: &Flow, tz: &chrono_tz::Tz) {
    row.status = f.status;
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
pub(super) fn roles_over(actor: &Actor, o: &OrderRow) -> Vec<StepBy> {
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
#[tracing::instrument(skip_all, fields(actor = %actor.label, ticket_no = %ticket_no))]
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
                updated.r#type.label(),
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

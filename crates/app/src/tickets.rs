//! The efficiency hotline's work orders: the historical import of spec/exchange.md §4 (a
//! hotline running since 2008 keeps its numbers and dates) and `report tickets` (spec/metrics.md).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use oversight_domain::RowError;
use oversight_domain::access::Action;
use oversight_domain::org::{OrgKind, OrgPath};
use oversight_domain::ticket::{self as rules, TicketType, parse_ticket};
use oversight_domain::workorder::OrderStatus;
use oversight_store::audit::{self, NewAudit};
use oversight_store::network as network_store;
use oversight_store::tickets::{self as store, TicketCounts, TicketGroup, TicketRow};
use serde_json::json;

use crate::cases::IngestReport;
use crate::{Actor, App, AppError};

/// Imports legacy work orders, each answered on its own: accepted, duplicate (its `ticket_no` is
/// stored) or rejected with its line, field and reason. Codes must name a department or venue
/// within the actor's scope.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn import_tickets<'a>(
    app: &App,
    actor: &Actor,
    lines: impl IntoIterator<Item = (usize, &'a str)>,
) -> Result<IngestReport, AppError> {
    let units: HashMap<String, (OrgKind, OrgPath)> = network_store::all_units(&app.db)
        .await?
        .into_iter()
        .map(|u| (u.code.as_str().to_string(), (u.kind, u.path)))
        .collect();
    let tz = app.config.tz();
    let now = app.now();
    let mut report = IngestReport::default();
    let mut rows: Vec<(usize, TicketRow)> = Vec::new();
    for (line, text) in lines {
        if text.trim().is_empty() {
            continue;
        }
        let t = match parse_ticket(line, text) {
            Ok(t) => t,
            Err(e) => {
                report.rejected.push(e);
                continue;
            }
        };
        let place = |code: &Option<String>, field: &str, venue: bool| -> Result<String, RowError> {
            let Some(code) = code else { return Ok("/".to_string()) };
            match units.get(code) {
                Some((kind, path)) if kind.is_venue() == venue && (venue || *kind == OrgKind::Department) => {
                    if actor.may(Action::View, path) {
                        Ok(path.as_str().to_string())
                    } else {
                        Err(RowError::new(line, field, format!("{code} 不在您的范围内")))
                    }
                }
                Some(_) => {
                    Err(RowError::new(line, field, format!("{code} 不是{}", if venue { "服务场所" } else { "部门" })))
                }
                None => Err(RowError::new(line, field, format!("编码 {code} 不存在"))),
            }
        };
        let department_path = match place(&t.subject_department_code, "subject_department_code", false) {
            Ok(p) => p,
            Err(e) => {
                report.rejected.push(e);
                continue;
            }
        };
        let venue_path = match place(&t.subject_venue_code, "subject_venue_code", true) {
            Ok(p) => p,
            Err(e) => {
                report.rejected.push(e);
                continue;
            }
        };
        rows.push((
            line,
            TicketRow {
                ticket_no: t.ticket_no,
                channel: t.channel,
                r#type: t.r#type,
                received_at: t.received_at.with_timezone(&Utc),
                received_on: t.received_at.with_timezone(&tz).date_naive(),
                subject_department_code: t.subject_department_code,
                subject_venue_code: t.subject_venue_code,
                department_path,
                venue_path,
                summary: t.summary,
                closed_at: t.closed_at.map(|c| c.with_timezone(&Utc)),
                closed_on: t.closed_at.map(|c| c.with_timezone(&tz).date_naive()),
                satisfaction: t.satisfaction.map(|s| s.as_str().to_string()),
                source: actor.label.clone(),
                created_at: now,
                status: if t.closed_at.is_some() { OrderStatus::Closed } else { OrderStatus::Received },
            },
        ));
    }
    for chunk in rows.chunks(2000) {
        let mut tx = app.db.begin().await?;
        let nos: Vec<&str> = chunk.iter().map(|(_, t)| t.ticket_no.as_str()).collect();
        let mut seen: HashSet<String> = store::known(&mut tx, &nos).await?.into_iter().collect();
        let mut new = Vec::new();
        for (_, t) in chunk {
            if seen.insert(t.ticket_no.clone()) {
                new.push(t.clone());
            } else {
                report.duplicate += 1;
            }
        }
        store::insert(&mut tx, &new).await?;
        let closed: Vec<store::ClosedOrder> = new
            .iter()
            .filter_map(|t| store::ClosedOrder::of(&oversight_store::orders::OrderRow::from_ticket(t)))
            .collect();
        store::tally_closed(&mut tx, &closed).await?;
        if !new.is_empty() {
            audit::append(
                &mut tx,
                NewAudit {
                    actor: &actor.label,
                    action: "tickets.import",
                    target: &format!("{} 件工单", new.len()),
                    path: &actor.audit_path(),
                    detail: json!({ "accepted": new.len() }),
                },
                now,
            )
            .await?;
        }
        tx.commit().await?;
        report.accepted += new.len();
    }
    report.rejected.sort_by_key(|e| e.line);
    Ok(report)
}

/// A group of the ticket report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TicketGroupRow {
    pub key: String,
    pub name: String,
    pub received: i64,
    pub closed: i64,
    pub completion_rate: Option<f64>,
}

/// The JSON of `report tickets` (spec/metrics.md).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TicketReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub received: i64,
    pub closed: i64,
    pub completion_rate: Option<f64>,
    pub by_type: BTreeMap<String, i64>,
    pub venue_complaints: i64,
    pub satisfied: i64,
    pub basically_satisfied: i64,
    pub unsatisfied: i64,
    pub unreachable: i64,
    pub satisfaction_rate: Option<f64>,
    pub groups: Vec<TicketGroupRow>,
    /// The hotline's own rates (docs/metrics-hotline.md), beyond spec/metrics.md.
    #[serde(flatten)]
    pub rates: HotlineRates,
}

/// On-time sign-in and completion, return visits and redos (docs/metrics-hotline.md).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct HotlineRates {
    pub sign_settled: i64,
    pub signed_on_time: i64,
    pub on_time_sign_rate: Option<f64>,
    pub reply_settled: i64,
    pub replied_on_time: i64,
    pub on_time_completion_rate: Option<f64>,
    pub replied: i64,
    pub visited: i64,
    pub return_visit_rate: Option<f64>,
    pub redone: i64,
    pub redo_rate: Option<f64>,
}

impl HotlineRates {
    fn of(c: &TicketCounts) -> HotlineRates {
        HotlineRates {
            sign_settled: c.sign_settled,
            signed_on_time: c.signed_on_time,
            on_time_sign_rate: rules::rate(c.signed_on_time, c.sign_settled),
            reply_settled: c.reply_settled,
            replied_on_time: c.replied_on_time,
            on_time_completion_rate: rules::rate(c.replied_on_time, c.reply_settled),
            replied: c.replied,
            visited: c.visited,
            return_visit_rate: rules::rate(c.visited, c.replied),
            redone: c.redone,
            redo_rate: rules::rate(c.redone, c.visited),
        }
    }
}

/// Parses `--group-by` / `group_by` of the ticket report.
pub fn parse_group_by(s: &str) -> Result<Option<TicketGroup>, AppError> {
    Ok(match s.trim() {
        "" => None,
        "type" => Some(TicketGroup::Type),
        "channel" => Some(TicketGroup::Channel),
        "department" => Some(TicketGroup::Department),
        other => return Err(AppError::field("group_by", format!("“{other}”无效，应为 type、channel 或 department"))),
    })
}

pub async fn ticket_report(
    app: &App,
    actor: &Actor,
    from: NaiveDate,
    to: NaiveDate,
    group: Option<TicketGroup>,
) -> Result<TicketReport, AppError> {
    if to < from {
        return Err(AppError::field("to", "结束日期早于开始日期"));
    }
    let scope = actor.scope();
    // The hotline's rates are as known now: a deadline not met counts once it has passed.
    let until = app.now();
    let before = app.local_date(until);
    // One pass by type gives the total too.
    let by_type_rows = store::counts(&app.db, &scope, from, to, until, before, Some(TicketGroup::Type)).await?;
    let total = by_type_rows.iter().fold(TicketCounts::default(), |mut t, r| {
        t.add(r);
        t
    });
    let mut by_type: BTreeMap<String, i64> = TicketType::ALL.iter().map(|t| (t.as_str().to_string(), 0)).collect();
    for r in &by_type_rows {
        if let Some(k) = &r.key {
            by_type.insert(k.clone(), r.received);
        }
    }
    let mut groups = Vec::new();
    if let Some(g) = group {
        let rows = if g == TicketGroup::Type {
            by_type_rows.clone()
        } else {
            store::counts(&app.db, &scope, from, to, until, before, Some(g)).await?
        };
        let names: HashMap<String, String> = match g {
            TicketGroup::Type => {
                TicketType::ALL.iter().map(|t| (t.as_str().to_string(), t.label().to_string())).collect()
            }
            TicketGroup::Channel => oversight_domain::ticket::Channel::ALL
                .iter()
                .map(|c| (c.as_str().to_string(), c.label().to_string()))
                .collect(),
            TicketGroup::Department => network_store::all_units(&app.db)
                .await?
                .into_iter()
                .filter(|u| u.kind == OrgKind::Department)
                .map(|u| (u.code.as_str().to_string(), u.name))
                .collect(),
        };
        for r in rows {
            let key = r.key.clone().unwrap_or_default();
            groups.push(TicketGroupRow {
                name: names
                    .get(&key)
                    .cloned()
                    .unwrap_or_else(|| if key.is_empty() { "（未指明）".into() } else { String::new() }),
                key,
                received: r.received,
                closed: r.closed,
                completion_rate: rules::completion_rate(r.closed, r.received),
            });
        }
        groups.sort_by(|a, b| a.key.cmp(&b.key));
    }
    let rates = HotlineRates::of(&total);
    let TicketCounts {
        received,
        closed,
        venue_complaints,
        satisfied,
        basically_satisfied,
        unsatisfied,
        unreachable,
        ..
    } = total;
    Ok(TicketReport {
        from,
        to,
        received,
        closed,
        completion_rate: rules::completion_rate(closed, received),
        by_type,
        venue_complaints,
        satisfied,
        basically_satisfied,
        unsatisfied,
        unreachable,
        satisfaction_rate: rules::satisfaction_rate(satisfied, basically_satisfied, unsatisfied),
        groups,
        rates,
    })
}

/// The ticket report of a period beside its comparison period, groups side by side.
pub struct ComparedTickets {
    pub current: TicketReport,
    pub previous: Option<TicketReport>,
    /// (key, name, current, previous) for every group of either period.
    pub rows: Vec<(String, String, Option<TicketGroupRow>, Option<TicketGroupRow>)>,
}

pub async fn compared_ticket_report(
    app: &App,
    actor: &Actor,
    from: NaiveDate,
    to: NaiveDate,
    group: Option<TicketGroup>,
    compare: crate::cases::Compare,
) -> Result<ComparedTickets, AppError> {
    let current = ticket_report(app, actor, from, to, group).await?;
    let previous = match compare.period(from, to) {
        Some((f, t)) => Some(ticket_report(app, actor, f, t, group).await?),
        None => None,
    };
    let rows =
        crate::cases::side_by_side(&current.groups, previous.as_ref().map(|p| &p.groups[..]), |g| (&g.key, &g.name));
    Ok(ComparedTickets { current, previous, rows })
}

/// The report as an Excel workbook; the export is audited.
pub async fn export_tickets_xlsx(app: &App, actor: &Actor, r: &ComparedTickets) -> Result<Vec<u8>, AppError> {
    use rust_xlsxwriter::{Format, Workbook};
    let fail = |e: rust_xlsxwriter::XlsxError| AppError::internal("building the XLSX file failed", e);
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("热线统计").map_err(fail)?;
    let bold = Format::new().set_bold();
    let percent = Format::new().set_num_format("0.0%");
    let period = |t: &TicketReport| format!("{} 至 {}", t.from, t.to);
    sheet.write_string_with_format(0, 0, "效能投诉热线统计", &bold).map_err(fail)?;
    sheet.write_string(1, 0, format!("统计期：{}", period(&r.current))).map_err(fail)?;
    if let Some(p) = &r.previous {
        sheet.write_string(2, 0, format!("对比期：{}", period(p))).map_err(fail)?;
    }
    let mut row = 4u32;
    sheet.write_string_with_format(row, 0, "指标", &bold).map_err(fail)?;
    sheet.write_string_with_format(row, 1, "统计期", &bold).map_err(fail)?;
    sheet.write_string_with_format(row, 2, "对比期", &bold).map_err(fail)?;
    let current = headline(&r.current);
    let previous: Vec<Option<Figure>> = match &r.previous {
        Some(p) => headline(p).into_iter().map(|(_, f)| Some(f)).collect(),
        None => vec![None; current.len()],
    };
    for ((name, current), previous) in current.into_iter().zip(previous) {
        row += 1;
        sheet.write_string(row, 0, name).map_err(fail)?;
        for (col, v) in [(1u16, Some(current)), (2, previous)] {
            match v {
                Some(Figure::Count(n)) => sheet.write_number(row, col, n as f64).map(|_| ()).map_err(fail)?,
                Some(Figure::Rate(Some(x))) => {
                    sheet.write_number_with_format(row, col, x, &percent).map(|_| ()).map_err(fail)?
                }
                _ => {}
            }
        }
    }
    row += 2;
    for (i, h) in
        ["编码", "名称", "受理", "办结", "办结率", "对比期受理", "对比期办结", "对比期办结率"].iter().enumerate()
    {
        sheet.write_string_with_format(row, i as u16, *h, &bold).map_err(fail)?;
    }
    for (key, name, c, p) in &r.rows {
        row += 1;
        sheet.write_string(row, 0, key).map_err(fail)?;
        sheet.write_string(row, 1, name).map_err(fail)?;
        for (offset, g) in [(2u16, c), (5, p)] {
            if let Some(g) = g {
                sheet.write_number(row, offset, g.received as f64).map_err(fail)?;
                sheet.write_number(row, offset + 1, g.closed as f64).map_err(fail)?;
                if let Some(x) = g.completion_rate {
                    sheet.write_number_with_format(row, offset + 2, x, &percent).map_err(fail)?;
                }
            }
        }
    }
    sheet.set_column_width(0, 16).map_err(fail)?;
    sheet.set_column_width(1, 24).map_err(fail)?;
    let bytes = book.save_to_buffer().map_err(fail)?;
    let detail = json!({ "from": r.current.from, "to": r.current.to, "format": "xlsx" });
    crate::cases::audit_export(app, actor, "tickets", detail).await?;
    Ok(bytes)
}

/// One headline figure: a count or a rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Figure {
    Count(i64),
    Rate(Option<f64>),
}

/// The headline figures of a report, labelled, in the order pages and exports show them.
pub fn headline(r: &TicketReport) -> Vec<(&'static str, Figure)> {
    let x = &r.rates;
    vec![
        ("受理", Figure::Count(r.received)),
        ("办结", Figure::Count(r.closed)),
        ("办结率", Figure::Rate(r.completion_rate)),
        ("窗口服务投诉", Figure::Count(r.venue_complaints)),
        ("满意率", Figure::Rate(r.satisfaction_rate)),
        ("按时签收率", Figure::Rate(x.on_time_sign_rate)),
        ("按时办结率", Figure::Rate(x.on_time_completion_rate)),
        ("回访率", Figure::Rate(x.return_visit_rate)),
        ("重办率", Figure::Rate(x.redo_rate)),
        ("回访满意", Figure::Count(r.satisfied + r.basically_satisfied)),
        ("回访不满意", Figure::Count(r.unsatisfied)),
    ]
}

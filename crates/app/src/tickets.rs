//! The efficiency hotline's work orders: the historical import of spec/exchange.md §4 (a
//! hotline running since 2008 keeps its numbers and dates) and `report tickets` (spec/metrics.md).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use oversight_domain::RowError;
use oversight_domain::access::Action;
use oversight_domain::org::{OrgKind, OrgPath};
use oversight_domain::ticket::{self as rules, TicketType, parse_ticket};
use oversight_store::audit::{self, NewAudit};
use oversight_store::network as network_store;
use oversight_store::tickets::{self as store, TicketCounts, TicketGroup, TicketRow};
use serde_json::json;

use crate::cases::IngestReport;
use crate::{Actor, App, AppError};

/// Imports legacy work orders, each answered on its own: accepted, duplicate (its `ticket_no` is
/// stored) or rejected with its line, field and reason. Codes must name a department or venue
/// within the actor's scope.
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
                channel: t.channel.as_str().to_string(),
                r#type: t.r#type.as_str().to_string(),
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
                status: if t.closed_at.is_some() { "closed" } else { "received" }.to_string(),
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

fn ratio(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

impl HotlineRates {
    fn of(c: &TicketCounts) -> HotlineRates {
        HotlineRates {
            sign_settled: c.sign_settled,
            signed_on_time: c.signed_on_time,
            on_time_sign_rate: ratio(c.signed_on_time, c.sign_settled),
            reply_settled: c.reply_settled,
            replied_on_time: c.replied_on_time,
            on_time_completion_rate: ratio(c.replied_on_time, c.reply_settled),
            replied: c.replied,
            visited: c.visited,
            return_visit_rate: ratio(c.visited, c.replied),
            redone: c.redone,
            redo_rate: ratio(c.redone, c.visited),
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
    let total =
        store::counts(&app.db, &scope, from, to, until, before, None).await?.into_iter().next().unwrap_or_default();
    let by_type_rows = store::counts(&app.db, &scope, from, to, until, before, Some(TicketGroup::Type)).await?;
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

//! Performance evaluation (绩效考评): a scheme run over a period, every indicator's value taken
//! from the reports the system already gives (docs/evaluation.md).

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use oversight_domain::access::Scope;
use oversight_domain::evaluation::{DepartmentResult, Departments, Scheme, SchemeText, Source, evaluate};
use oversight_domain::org::{OrgKind, OrgPath};
use oversight_domain::ticket::{TicketType, completion_rate, satisfaction_rate};
use oversight_store::cases::GroupBy;
use oversight_store::tickets::TicketGroup;
use oversight_store::{cases as case_store, network as network_store, supervision as supervision_store};

use crate::tasks::TaskGroupBy;
use crate::{Actor, App, AppError};

/// Reads a scheme from its TOML text and checks it whole.
pub fn parse_scheme(text: &str) -> Result<Scheme, AppError> {
    let written: SchemeText =
        toml::from_str(text).map_err(|e| AppError::field("scheme", format!("不是有效的考评方案（TOML）：{e}")))?;
    Scheme::parse(written).map_err(AppError::Invalid)
}

/// The result of a run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EvaluationResult {
    pub scheme: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub departments: Vec<DepartmentResult>,
}

type Values = BTreeMap<String, BTreeMap<Source, Option<f64>>>;

/// Runs a scheme over the period for the departments it names (in the actor's scope).
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn run(
    app: &App,
    actor: &Actor,
    scheme: &Scheme,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<EvaluationResult, AppError> {
    if to < from {
        return Err(AppError::field("to", "结束日期早于开始日期"));
    }
    let units: Vec<(String, String, OrgPath)> = network_store::all_units(&app.db)
        .await?
        .into_iter()
        .filter(|u| u.kind == OrgKind::Department)
        .map(|u| (u.code.as_str().to_string(), u.name, u.path))
        .collect();
    let chosen: Vec<(String, String, OrgPath)> = match &scheme.departments {
        Departments::All => {
            units.into_iter().filter(|(_, _, p)| actor.may(oversight_domain::access::Action::View, p)).collect()
        }
        Departments::Listed(codes) => {
            let mut out = Vec::new();
            for code in codes {
                let unit = units
                    .iter()
                    .find(|(c, _, p)| c == code && actor.may(oversight_domain::access::Action::View, p))
                    .ok_or_else(|| AppError::field("departments", format!("部门 {code} 不存在或不在您的范围内")))?;
                out.push(unit.clone());
            }
            out
        }
    };
    let mut values: Values = chosen.iter().map(|(c, _, _)| (c.clone(), BTreeMap::new())).collect();
    let mut set = |code: &str, source: Source, value: Option<f64>| {
        if let Some(v) = values.get_mut(code) {
            v.insert(source, value);
        }
    };
    let count = |n: i64| Some(n as f64);

    // Every department starts at zero counts and rates without denominator.
    for (code, _, _) in &chosen {
        for (_, source) in Source::ALL {
            set(code, source, if is_rate(source) || source == Source::Manual { None } else { Some(0.0) });
        }
    }
    // Cases: the overdue report by the item's department.
    let cases = crate::cases::case_report(app, actor, from, to, &[], Some(GroupBy::Department)).await?;
    for g in &cases.groups {
        set(&g.key, Source::CasesSettled, count(g.settled));
        set(&g.key, Source::CasesOverdue, count(g.overdue));
        set(&g.key, Source::CasesOverdueRate, g.overdue_rate);
    }
    for (dept, n) in case_store::settled_with_anomalies(&app.db, from, to, app.today()).await? {
        set(dept.as_deref().unwrap_or_default(), Source::CasesAnomalies, count(n));
    }
    // Work orders whose subject department is the department.
    let until = app.now();
    let before = app.local_date(until);
    for (code, _, path) in &chosen {
        let scope = Scope::Subtrees(vec![path.clone()]);
        let rows =
            oversight_store::tickets::counts(&app.db, &scope, from, to, until, before, Some(TicketGroup::Type)).await?;
        let sum = |f: fn(&oversight_store::tickets::TicketCounts) -> i64| rows.iter().map(f).sum::<i64>();
        let (received, closed) = (sum(|r| r.received), sum(|r| r.closed));
        let complaints: i64 =
            rows.iter().filter(|r| r.key.as_deref() == Some(TicketType::Complaint.as_str())).map(|r| r.received).sum();
        set(code, Source::TicketsReceived, count(received));
        set(code, Source::TicketsClosed, count(closed));
        set(code, Source::TicketsCompletionRate, completion_rate(closed, received));
        set(code, Source::TicketsComplaints, count(complaints));
        set(
            code,
            Source::TicketsSatisfactionRate,
            satisfaction_rate(sum(|r| r.satisfied), sum(|r| r.basically_satisfied), sum(|r| r.unsatisfied)),
        );
    }
    // Key tasks led by the department.
    let tasks = crate::tasks::task_report(app, actor, from, to, Some(TaskGroupBy::LeadDepartment)).await?;
    for g in &tasks.groups {
        set(&g.key, Source::TasksVerified, count(g.figures.counts.verified));
        set(&g.key, Source::TasksOnTimeRate, g.figures.on_time_rate);
        set(&g.key, Source::TasksRed, count(g.figures.counts.red));
    }
    // Ratings of the cases completed in the period, by the item's department.
    let ratings = crate::ratings::rating_report(app, actor, from, to, Some(GroupBy::Department)).await?;
    for g in &ratings.groups {
        set(&g.key, Source::RatingsRated, count(g.figures.counts.rated));
        set(&g.key, Source::RatingsGoodRate, g.figures.good_rate);
        set(&g.key, Source::RatingsBad, count(g.figures.counts.bad));
        set(&g.key, Source::RatingsBadRectificationRate, g.figures.bad_rectification_rate);
    }
    // Supervision notices and cards in the period (local days from `from` to `to`).
    let (start, end) = (app.start_of(from), app.start_of(to + Days::new(1)));
    for (dept, n) in supervision_store::notices_by_department(&app.db, start, end).await? {
        set(dept.as_deref().unwrap_or_default(), Source::SupervisionNotices, count(n));
    }
    for (dept, step, n) in supervision_store::cards_by_department(&app.db, start, end).await? {
        let source = if step == "red_card" { Source::SupervisionRedCards } else { Source::SupervisionYellowCards };
        set(dept.as_deref().unwrap_or_default(), source, count(n));
    }
    // Findings naming the department, made in the period (the inspections report's).
    let inspections =
        crate::inspection_report::inspection_report(app, actor, from, to, Some(GroupBy::Department)).await?;
    for g in &inspections.groups {
        set(&g.key, Source::InspectionsFindings, count(g.counts.findings as i64));
        set(&g.key, Source::InspectionsMajorFindings, count(g.counts.serious as i64));
        set(&g.key, Source::InspectionsRectifiedOnTimeRate, g.counts.on_time_rate());
    }
    let departments: Vec<(String, String)> = chosen.into_iter().map(|(c, n, _)| (c, n)).collect();
    Ok(EvaluationResult { scheme: scheme.name.clone(), from, to, departments: evaluate(scheme, &departments, &values) })
}

/// Whether a source is a rate (null without a denominator).
fn is_rate(source: Source) -> bool {
    source.as_str().ends_with("_rate")
}

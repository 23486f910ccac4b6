//! The office's headline figures of a year, published without login (issue 14 §7): the overdue
//! rate in total, by level and by department; the hotline's orders received and closed and the
//! callers' satisfaction; the citizens' ratings. Counts and rates only: nothing personal.

use chrono::{Datelike, NaiveDate};
use oversight_store::cases::GroupBy;

use crate::cases::{CaseGroup, CaseTotals};
use crate::ratings::RatingFigures;
use crate::{Actor, App, AppError};

/// The hotline's figures of the year.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HotlineFigures {
    pub received: i64,
    pub closed: i64,
    pub completion_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
}

/// The headline figures of a year (to today, for the current year).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Headline {
    pub year: i32,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub cases: CaseTotals,
    pub cases_by_level: Vec<CaseGroup>,
    pub cases_by_department: Vec<CaseGroup>,
    pub hotline: HotlineFigures,
    pub ratings: RatingFigures,
}

/// The years a headline may be asked for: from 2000 to this one.
pub fn check_year(app: &App, year: i32) -> Result<(), AppError> {
    let this = app.today().year();
    if (2000..=this).contains(&year) {
        Ok(())
    } else {
        Err(AppError::field("year", format!("年份应在 2000 到 {this} 之间")))
    }
}

/// The headline figures of `year` over the whole network, from the same reports the office
/// reads (docs/figures.md).
pub async fn headline(app: &App, year: i32) -> Result<Headline, AppError> {
    check_year(app, year)?;
    let from = NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| AppError::field("year", "年份无效"))?;
    let end = NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(|| AppError::field("year", "年份无效"))?;
    let to = end.min(app.today());
    let all = Actor::cli();
    let by_level = crate::cases::case_report(app, &all, from, to, &[], Some(GroupBy::Level)).await?;
    let mut by_department = crate::cases::case_report(app, &all, from, to, &[], Some(GroupBy::Department)).await?;
    by_department.groups.sort_by(|a, b| {
        a.overdue_rate.unwrap_or(-1.0).total_cmp(&b.overdue_rate.unwrap_or(-1.0)).then_with(|| a.key.cmp(&b.key))
    });
    let tickets = crate::tickets::ticket_report(app, &all, from, to, None).await?;
    let ratings = crate::ratings::rating_report(app, &all, from, to, None).await?;
    Ok(Headline {
        year,
        from,
        to,
        cases: by_level.total,
        cases_by_level: by_level.groups,
        cases_by_department: by_department.groups,
        hotline: HotlineFigures {
            received: tickets.received,
            closed: tickets.closed,
            completion_rate: tickets.completion_rate,
            satisfaction_rate: tickets.satisfaction_rate,
        },
        ratings: ratings.total,
    })
}

/// The headline as open data: one line per figure (`figure,key,name,value`), UTF-8 with a
/// byte-order mark; a rate without a denominator is empty.
pub fn headline_csv(h: &Headline) -> String {
    let mut out = String::from("\u{feff}figure,key,name,value\n");
    let quote =
        |s: &str| if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() };
    let mut line = |figure: &str, key: &str, name: &str, value: Option<f64>| {
        let value = value.map(|v| v.to_string()).unwrap_or_default();
        out.push_str(&format!("{figure},{},{},{value}\n", quote(key), quote(name)));
    };
    let count = |n: i64| Some(n as f64);
    line("cases.settled", "", "", count(h.cases.settled));
    line("cases.overdue", "", "", count(h.cases.overdue));
    line("cases.overdue_rate", "", "", h.cases.overdue_rate);
    for (prefix, groups) in [("cases.level", &h.cases_by_level), ("cases.department", &h.cases_by_department)] {
        for g in groups {
            line(&format!("{prefix}.settled"), &g.key, &g.name, count(g.settled));
            line(&format!("{prefix}.overdue_rate"), &g.key, &g.name, g.overdue_rate);
        }
    }
    line("hotline.received", "", "", count(h.hotline.received));
    line("hotline.closed", "", "", count(h.hotline.closed));
    line("hotline.completion_rate", "", "", h.hotline.completion_rate);
    line("hotline.satisfaction_rate", "", "", h.hotline.satisfaction_rate);
    line("ratings.completed", "", "", count(h.ratings.counts.completed));
    line("ratings.rated", "", "", count(h.ratings.counts.rated));
    line("ratings.good_rate", "", "", h.ratings.good_rate);
    out
}

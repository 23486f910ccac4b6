//! Citizens' ratings of completed cases (好差评): the ratings report (docs/figures.md, "Ratings").

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use oversight_domain::case::{EventBody, Rating, parse_event};
use oversight_domain::rating::RatingCounts;
use oversight_store::cases::{self as store, GroupBy};

use crate::{Actor, App, AppError};

/// How the ratings report may be split: by the case's venue, its item's department, its item.
pub fn parse_group_by(s: &str) -> Result<Option<GroupBy>, AppError> {
    match s.trim() {
        "" => Ok(None),
        "venue" => Ok(Some(GroupBy::Venue)),
        "department" => Ok(Some(GroupBy::Department)),
        "item" => Ok(Some(GroupBy::Item)),
        other => Err(AppError::field("group_by", format!("“{other}”无效，应为 venue、department 或 item"))),
    }
}

/// The counts of a report line, with its rates.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RatingFigures {
    #[serde(flatten)]
    pub counts: RatingCounts,
    pub good_rate: Option<f64>,
    pub active_rate: Option<f64>,
    pub bad_rectification_rate: Option<f64>,
}

impl From<RatingCounts> for RatingFigures {
    fn from(counts: RatingCounts) -> RatingFigures {
        RatingFigures {
            good_rate: counts.good_rate(),
            active_rate: counts.active_rate(),
            bad_rectification_rate: counts.bad_rectification_rate(),
            counts,
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RatingGroup {
    pub key: String,
    pub name: String,
    #[serde(flatten)]
    pub figures: RatingFigures,
}

/// The ratings report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RatingReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub total: RatingFigures,
    pub groups: Vec<RatingGroup>,
}

/// The ratings of the cases completed in the period, over the cases the actor may see.
pub async fn rating_report(
    app: &App,
    actor: &Actor,
    from: NaiveDate,
    to: NaiveDate,
    group_by: Option<GroupBy>,
) -> Result<RatingReport, AppError> {
    if to < from {
        return Err(AppError::field("to", "结束日期早于开始日期"));
    }
    let scope = actor.scope();
    let cases = store::completed_cases(&app.db, &scope, from, to).await?;
    // A case's rating is its last `rated` event in `at` order (the rows come in that order),
    // among those of systems that may report for its venue (as its projection has it).
    let paths: HashMap<&str, &str> = cases.iter().map(|c| (c.case_no.as_str(), c.path.as_str())).collect();
    let mut ratings: HashMap<String, Rating> = HashMap::new();
    for e in store::ratings_of_completed(&app.db, &scope, from, to).await? {
        let in_scope = match (e.sender_scope.as_deref(), paths.get(e.case_no.as_str())) {
            (None, _) => true,
            (Some(sender), Some(path)) => oversight_domain::case::sender_covers(sender, path),
            (Some(_), None) => false,
        };
        if in_scope
            && let Ok(parsed) = parse_event(0, &e.content)
            && let EventBody::Rated(r) = parsed.body
        {
            ratings.insert(e.case_no, r);
        }
    }
    let mut total = RatingCounts::default();
    let mut groups: BTreeMap<String, RatingCounts> = BTreeMap::new();
    for c in &cases {
        let rating = ratings.get(&c.case_no);
        total.add(rating);
        let key = match group_by {
            None => continue,
            Some(GroupBy::Venue) => &c.venue_code,
            Some(GroupBy::Department) => &c.department_code,
            Some(GroupBy::Item) => &c.item_code,
            // Not offered by parse_group_by: a rating is not judged per level.
            Some(GroupBy::Level) => continue,
        };
        groups.entry(key.clone().unwrap_or_default()).or_default().add(rating);
    }
    let names = match group_by {
        Some(g) => crate::cases::group_names(app, g).await?,
        None => Default::default(),
    };
    let groups = groups
        .into_iter()
        .map(|(key, counts)| RatingGroup {
            name: names.get(&key).cloned().unwrap_or_else(|| key.clone()),
            key,
            figures: counts.into(),
        })
        .collect();
    Ok(RatingReport { from, to, total: total.into(), groups })
}

//! Citizens' ratings of completed cases (好差评): the ratings report (docs/figures.md, "Ratings")
//! and the follow-up of every bad rating (差评整改).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use oversight_domain::RowError;
use oversight_domain::access::Action;
use oversight_domain::calendar::WorkCalendar;
use oversight_domain::case::Rating;
use oversight_domain::org::OrgPath;
use oversight_domain::rating::{AppealState, FollowUp, FollowUpState, FollowUpStep, RatingCounts};
use oversight_store::audit::{self, NewAudit};
use oversight_store::cases::{self as store, CaseRecord, GroupBy};
use oversight_store::ratings::{self as rating_store, FollowUpFilter, FollowUpRow, StepRow};
use serde_json::json;

use crate::{Actor, App, AppError};

/// How the ratings report may be split: by the case's venue, its item's department, its item,
/// or the department's windows at the venue.
pub fn parse_group_by(s: &str) -> Result<Option<GroupBy>, AppError> {
    match s.trim() {
        "" => Ok(None),
        "venue" => Ok(Some(GroupBy::Venue)),
        "department" => Ok(Some(GroupBy::Department)),
        "item" => Ok(Some(GroupBy::Item)),
        "window" => Ok(Some(GroupBy::Window)),
        other => Err(AppError::field("group_by", format!("“{other}”无效，应为 venue、department、item 或 window"))),
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

/// The ratings of the cases completed in the period, over the cases the actor may see: read
/// from the tallies of completed cases (whole months, then the days at the ends), so its cost
/// follows the months and the groups, not the cases.
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
    let rows = store::rating_counts(&app.db, &actor.scope(), from, to, group_by).await?;
    let mut total = RatingCounts::default();
    let mut groups: BTreeMap<String, RatingCounts> = BTreeMap::new();
    for (key, delta) in rows {
        let counts = delta.counts();
        total.merge(&counts);
        if group_by.is_some() && counts.completed > 0 {
            groups.entry(key.unwrap_or_default()).or_default().merge(&counts);
        }
    }
    let names = match group_by {
        Some(g) => crate::cases::group_names(app, g).await?,
        None => Default::default(),
    };
    let groups = groups
        .into_iter()
        .map(|(key, counts)| RatingGroup {
            name: match group_by {
                Some(GroupBy::Window) => crate::cases::window_name(&names, &key),
                _ => names.get(&key).cloned().unwrap_or_else(|| key.clone()),
            },
            key,
            figures: counts.into(),
        })
        .collect();
    Ok(RatingReport { from, to, total: total.into(), groups })
}

/// The ratings report of a period beside its comparison.
#[derive(Debug, Clone)]
pub struct ComparedRatings {
    pub current: RatingReport,
    pub previous: Option<RatingReport>,
    /// (key, name, current, previous) for every group of either period.
    pub rows: Vec<(String, String, Option<RatingGroup>, Option<RatingGroup>)>,
    pub group_by: Option<GroupBy>,
}

pub async fn compared_rating_report(
    app: &App,
    actor: &Actor,
    from: NaiveDate,
    to: NaiveDate,
    group_by: Option<GroupBy>,
    compare: crate::cases::Compare,
) -> Result<ComparedRatings, AppError> {
    let current = rating_report(app, actor, from, to, group_by).await?;
    let previous = match compare.period(from, to) {
        Some((a, b)) => Some(rating_report(app, actor, a, b, group_by).await?),
        None => None,
    };
    let rows =
        crate::cases::side_by_side(&current.groups, previous.as_ref().map(|p| &p.groups[..]), |g| (&g.key, &g.name));
    Ok(ComparedRatings { current, previous, rows, group_by })
}

/// The figures of a report line in the order pages and exports show them.
pub fn rating_figures(f: &RatingFigures) -> [(&'static str, crate::tickets::Figure); 10] {
    use crate::tickets::Figure::{Count, Rate};
    let c = &f.counts;
    [
        ("办结", Count(c.completed)),
        ("已评价", Count(c.rated)),
        ("主动评价率", Rate(f.active_rate)),
        ("好评", Count(c.good)),
        ("一般", Count(c.fair)),
        ("差评", Count(c.bad)),
        ("好评率", Rate(f.good_rate)),
        ("差评按期整改", Count(c.bad_rectified_on_time)),
        ("差评整改率", Rate(f.bad_rectification_rate)),
        ("申诉撤销", Count(c.set_aside)),
    ]
}

/// The report as an XLSX workbook; every export is audited.
pub async fn export_ratings_xlsx(app: &App, actor: &Actor, r: &ComparedRatings) -> Result<Vec<u8>, AppError> {
    use crate::export::Line;
    let period = |t: &RatingReport| format!("{} 至 {}", t.from, t.to);
    let figures = |f: &RatingFigures| rating_figures(f).into_iter().map(|(_, x)| x).collect::<Vec<_>>();
    let header: Vec<&str> = rating_figures(&r.current.total).iter().map(|(label, _)| *label).collect();
    let zero: RatingFigures = RatingCounts::default().into();
    let mut lines = vec![Line {
        key: String::new(),
        name: "合计".into(),
        current: figures(&r.current.total),
        previous: r.previous.as_ref().map(|p| figures(&p.total)),
    }];
    lines.extend(r.rows.iter().map(|(key, name, c, p)| Line {
        key: key.clone(),
        name: name.clone(),
        current: figures(c.as_ref().map_or(&zero, |g| &g.figures)),
        previous: r.previous.as_ref().map(|_| figures(p.as_ref().map_or(&zero, |g| &g.figures))),
    }));
    let bytes = crate::export::compared_xlsx(
        "好差评",
        "政务服务好差评统计",
        &format!("{}（按办结日期）", period(&r.current)),
        r.previous.as_ref().map(period).as_deref(),
        &header,
        &lines,
    )?;
    let detail = json!({ "from": r.current.from, "to": r.current.to, "format": "xlsx" });
    crate::cases::audit_export(app, actor, "ratings", detail).await?;
    Ok(bytes)
}

/// The follow-up a case's bad rating opens, its limits counted on `calendar` from the day of
/// the rating (none for a case without one).
pub(crate) fn new_follow_up(
    app: &App,
    record: &CaseRecord,
    calendar: &WorkCalendar,
    now: DateTime<Utc>,
) -> Option<FollowUpRow> {
    let level = record.rating_level?;
    let rated_on = record.rated_on?;
    let f = FollowUp::open(rated_on, app.config.ratings, calendar);
    Some(FollowUpRow {
        case_no: record.case_no.clone(),
        level,
        rated_on,
        contact_due: f.contact_due,
        rectify_due: f.rectify_due,
        state: f.state.as_str().to_string(),
        contacted_on: None,
        replied_on: None,
        verified_on: None,
        appeal: None,
        item_code: record.item_code.clone(),
        department_code: record.department_code.clone(),
        venue_code: record.venue_code.clone(),
        path: record.path.clone(),
        department_path: record.department_path.clone(),
        opened_at: now,
        updated_at: now,
        alert_on: f.alert_on(),
    })
}

/// The domain's follow-up of a stored row.
pub fn follow_up_of(row: &FollowUpRow) -> Result<FollowUp, AppError> {
    let state = FollowUpState::parse(&row.state)
        .ok_or_else(|| AppError::fault(format!("差评整改 {} 的状态“{}”无法识别", row.case_no, row.state)))?;
    Ok(FollowUp {
        state,
        rated_on: row.rated_on,
        contact_due: row.contact_due,
        rectify_due: row.rectify_due,
        contacted_on: row.contacted_on,
        replied_on: row.replied_on,
        verified_on: row.verified_on,
        appeal: row.appeal.as_deref().and_then(AppealState::parse),
    })
}

/// A follow-up as its page shows it.
#[derive(Debug, Clone)]
pub struct FollowUpView {
    pub row: FollowUpRow,
    pub follow_up: FollowUp,
    pub steps: Vec<StepRow>,
    /// The rating as the case has it now (its channel and comment).
    pub rating: Option<Rating>,
    /// The names of the case's item, department and venue.
    pub names: crate::cases::CaseNames,
    /// The steps this viewer may take now.
    pub may: Vec<FollowUpStep>,
    pub today: NaiveDate,
}

fn owners(row: &FollowUpRow) -> [OrgPath; 2] {
    [OrgPath::from_stored(row.path.clone()), OrgPath::from_stored(row.department_path.clone())]
}

/// Whether the actor may take `step` on this follow-up (by role and place, whatever its state):
/// the department's steps are its liaison's, the office's a supervisor's over the venue or the
/// department.
fn may_take(actor: &Actor, row: &FollowUpRow, step: FollowUpStep) -> bool {
    let [venue, department] = owners(row);
    match step {
        FollowUpStep::Open | FollowUpStep::Supersede => false,
        s if s.by_office() => actor.may(Action::Supervise, &venue) || actor.may(Action::Supervise, &department),
        _ => actor.may(Action::Respond, &department),
    }
}

pub async fn follow_up_view(app: &App, actor: &Actor, case_no: &str) -> Result<FollowUpView, AppError> {
    let what = format!("办件 {case_no} 的差评整改");
    let row = rating_store::follow_up(&app.db, case_no).await?.ok_or_else(|| AppError::NotFound(what.clone()))?;
    let [venue, department] = owners(&row);
    actor.require_any(Action::View, &[&venue, &department], &what)?;
    let follow_up = follow_up_of(&row)?;
    let steps = rating_store::steps(&app.db, case_no).await?;
    let today = app.today();
    let may = [
        FollowUpStep::Contact,
        FollowUpStep::Reply,
        FollowUpStep::Appeal,
        FollowUpStep::Verify,
        FollowUpStep::Return,
        FollowUpStep::Uphold,
        FollowUpStep::Reject,
    ]
    .into_iter()
    .filter(|s| may_take(actor, &row, *s) && follow_up.clone().apply(*s, today).is_ok())
    .collect();
    let case = crate::cases::case_view(app, actor, case_no).await?;
    Ok(FollowUpView { row, follow_up, steps, rating: case.state.rating, names: case.names, may, today })
}

/// The follow-ups in the actor's scope that match `filter`, the oldest rating first.
pub async fn follow_ups(
    app: &App,
    actor: &Actor,
    filter: &FollowUpFilter,
    limit: i64,
) -> Result<Vec<FollowUpRow>, AppError> {
    Ok(rating_store::follow_ups(&app.db, &actor.scope(), filter, limit).await?)
}

/// How many follow-ups in the actor's scope stand in each state: (state, owed step past due
/// today, count).
pub async fn state_counts(app: &App, actor: &Actor) -> Result<Vec<(String, bool, i64)>, AppError> {
    Ok(rating_store::state_counts(&app.db, &actor.scope(), app.today()).await?)
}

/// The longest note a step takes, and the most evidence names.
const MAX_NOTE: usize = 2000;
const MAX_EVIDENCE: usize = 20;

/// Takes a step on a case's follow-up: the department contacts the applicant, reports the
/// rectification (with the names of its evidence) or appeals; the office verifies, returns, or
/// decides the appeal. Every step but a verification needs a note. When the step settles what
/// the rating counts as (verified in time, set aside), the ratings' tallies follow in the same
/// transaction.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn take_step(
    app: &App,
    actor: &Actor,
    case_no: &str,
    step: &str,
    note: &str,
    evidence: &str,
) -> Result<FollowUpState, AppError> {
    let step = FollowUpStep::parse(step.trim())
        .filter(|s| !matches!(s, FollowUpStep::Open | FollowUpStep::Supersede))
        .ok_or_else(|| AppError::field("step", format!("“{}”不是可办理的步骤", step.trim())))?;
    let what = format!("办件 {case_no} 的差评整改");
    let note = note.trim();
    let mut errors = Vec::new();
    if note.is_empty() && step != FollowUpStep::Verify {
        errors.push(RowError::new(0, "note", format!("请填写{}", note_label(step))));
    } else if note.chars().count() > MAX_NOTE {
        errors.push(RowError::new(0, "note", format!("不超过 {MAX_NOTE} 字")));
    }
    let evidence: Vec<&str> = evidence.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if evidence.len() > MAX_EVIDENCE || evidence.iter().any(|e| e.chars().count() > 200) {
        errors.push(RowError::new(0, "evidence", format!("至多 {MAX_EVIDENCE} 个附件名，每个不超过 200 字")));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = app.now();
    let today = app.local_date(now);
    let mut tx = app.db.begin().await?;
    let mut row =
        rating_store::follow_up_in(&mut tx, case_no).await?.ok_or_else(|| AppError::NotFound(what.clone()))?;
    let [venue, department] = owners(&row);
    actor.require_any(Action::View, &[&venue, &department], &what)?;
    if !may_take(actor, &row, step) {
        return Err(AppError::Forbidden(format!("您没有{}的权限", step.label())));
    }
    let mut follow_up = follow_up_of(&row)?;
    let before = follow_up.standing();
    follow_up.apply(step, today).map_err(|e| AppError::Conflict(e.to_string()))?;
    row.state = follow_up.state.as_str().to_string();
    row.contacted_on = follow_up.contacted_on;
    row.replied_on = follow_up.replied_on;
    row.verified_on = follow_up.verified_on;
    row.appeal = follow_up.appeal.map(|a| a.as_str().to_string());
    row.updated_at = now;
    row.alert_on = follow_up.alert_on();
    rating_store::save(&mut tx, &row).await?;
    rating_store::insert_steps(
        &mut tx,
        &[StepRow {
            id: crate::new_id(),
            case_no: case_no.to_string(),
            step: step.as_str().to_string(),
            on_date: today,
            at: now,
            actor: actor.label.clone(),
            actor_name: actor.display_name.clone(),
            note: note.to_string(),
            evidence: evidence.join("\n"),
        }],
    )
    .await?;
    let after = follow_up.standing();
    if after != before
        && let Some(mut record) = store::prior_cases(&mut tx, &[case_no]).await?.pop()
    {
        let mut tally = store::Tally::new();
        store::add_to_tally(&mut tally, -1, &record);
        record.rating_standing = after.as_str().to_string();
        store::add_to_tally(&mut tally, 1, &record);
        store::apply_tally(&mut tx, &tally).await?;
        rating_store::set_standing(&mut tx, case_no, after.as_str()).await?;
    }
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: &format!("rating_followup.{}", step.as_str()),
            target: case_no,
            path: &row.department_path,
            detail: json!({ "note": note, "evidence": evidence, "state": row.state }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(follow_up.state)
}

/// What the note of a step is called (its form label).
pub fn note_label(step: FollowUpStep) -> &'static str {
    match step {
        FollowUpStep::Contact => "回访情况",
        FollowUpStep::Reply => "整改情况",
        FollowUpStep::Appeal => "申诉理由",
        FollowUpStep::Return => "退回原因",
        FollowUpStep::Uphold | FollowUpStep::Reject => "裁定理由",
        _ => "核实意见",
    }
}

/// The alert kinds of a follow-up whose department did not contact the applicant, or did not
/// report its rectification, by the due day.
pub const CONTACT_LATE: &str = "review_contact_late";
pub const REPLY_LATE: &str = "review_reply_late";

/// The monitor's look at the follow-ups whose alert day has come: each still owing a step past
/// its due day raises its alert (once per step and due day), and its alert day is forgotten.
/// Its cost is the follow-ups due, not the open ones. Returns the alerts raised.
pub(crate) async fn monitor_follow_ups(app: &App, now: DateTime<Utc>) -> Result<usize, AppError> {
    use oversight_domain::supervision::{Subject, SubjectKind};
    let today = app.local_date(now);
    let mut raised = 0;
    loop {
        let mut tx = app.db.begin().await?;
        let due = rating_store::due_follow_ups(&mut tx, today, 500).await?;
        let mut alerts = Vec::new();
        for row in &due {
            let follow_up = follow_up_of(row)?;
            let Some((step, by)) = follow_up.owed().filter(|_| follow_up.is_overdue(today)) else { continue };
            let (kind, what) = match step {
                FollowUpStep::Contact => (CONTACT_LATE, "回访期限"),
                _ => (REPLY_LATE, "整改反馈期限"),
            };
            let owner = crate::supervision::AlertOwner {
                subject: Subject::new(SubjectKind::Review, &row.case_no),
                venue_code: row.venue_code.as_deref(),
                venue_path: &row.path,
                department_code: row.department_code.as_deref(),
                department_path: &row.department_path,
            };
            let label = oversight_domain::supervision::alert_label(kind);
            let message = format!("{label}：办件 {} 的差评（{} 星），{what} {by}", row.case_no, row.level);
            alerts.push(owner.alert(kind, &by.to_string(), &message, now));
        }
        raised += oversight_store::supervision::insert_alerts(&mut tx, &alerts).await? as usize;
        let case_nos: Vec<&str> = due.iter().map(|r| r.case_no.as_str()).collect();
        rating_store::alerted(&mut tx, &case_nos).await?;
        tx.commit().await?;
        if due.len() < 500 {
            return Ok(raised);
        }
    }
}

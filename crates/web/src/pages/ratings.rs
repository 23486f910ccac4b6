//! 好差评: the follow-ups of bad ratings (差评整改) — the queue of what waits, and a follow-up's
//! page where the department contacts, rectifies and appeals and the office verifies or decides.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use oversight_app::ratings::{self, FollowUpView};
use oversight_app::{App, AppError};
use oversight_domain::rating::{FollowUpState, FollowUpStep};
use oversight_store::ratings::{FollowUpFilter, FollowUpRow};

use super::Done;
use crate::error::PageError;
use crate::session::{CurrentUser, SessionInfo};
use crate::view::{FieldErrors, Layout};

/// The longest list a page shows.
const LIST_LIMIT: i64 = 500;

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ListQuery {
    /// A state word, `overdue` (owed step past due) or `appeal` (appeals to decide); empty: all
    /// not closed.
    #[serde(default)]
    show: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    venue: String,
    #[serde(default)]
    item: String,
}

/// One of the queue's tabs: its query word, label and count.
pub struct Tab {
    pub word: &'static str,
    pub label: &'static str,
    pub count: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "ratings/list.html")]
struct ListPage {
    l: Layout,
    tabs: Vec<Tab>,
    show: String,
    rows: Vec<FollowUpRow>,
    names: std::collections::HashMap<String, String>,
    today: chrono::NaiveDate,
    /// The group the list was narrowed to from the report, named.
    narrowed: Option<String>,
}

impl ListPage {
    fn name(&self, code: &Option<String>) -> String {
        match code {
            Some(c) => self.names.get(c).cloned().unwrap_or_else(|| c.clone()),
            None => "—".into(),
        }
    }
    fn state_label(&self, r: &FollowUpRow) -> &'static str {
        FollowUpState::parse(&r.state).map_or("—", |s| s.label())
    }
    /// What is owed and by when, with 逾期 once past (the domain's rule, on the stored row).
    fn owed(&self, r: &FollowUpRow) -> String {
        let Ok(f) = ratings::follow_up_of(r) else { return "—".into() };
        let what = |step: FollowUpStep| if step == FollowUpStep::Contact { "回访" } else { "整改反馈" };
        match f.owed() {
            Some((step, d)) if f.is_overdue(self.today) => format!("{}已逾期（期限 {d}）", what(step)),
            Some((step, d)) => format!("{}期限 {d}", what(step)),
            None if r.appeal.as_deref() == Some("pending") => "申诉待裁定".into(),
            None => "—".into(),
        }
    }
    fn level_label(&self, level: &i32) -> &'static str {
        level_label(*level)
    }
}

/// 1 非常不满意 … 5 非常满意.
fn level_label(level: i32) -> &'static str {
    match level {
        1 => "非常不满意",
        2 => "不满意",
        3 => "基本满意",
        4 => "满意",
        5 => "非常满意",
        _ => "—",
    }
}

/// The queue of follow-ups: what waits (by state, past due, appeals to decide), the oldest rating
/// first; narrowed to a department, venue or item when the report links here.
pub async fn list(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<impl IntoResponse, PageError> {
    let today = app.today();
    let counts = ratings::state_counts(&app, &s.actor).await?;
    let count = |keep: &dyn Fn(&str, bool) -> bool| counts.iter().filter(|(st, o, _)| keep(st, *o)).map(|c| c.2).sum();
    let open = |st: &str| matches!(st, "open" | "contacted" | "replied");
    let tabs = vec![
        Tab { word: "", label: "在办", count: count(&|st, _| open(st)) },
        Tab { word: "overdue", label: "已逾期", count: count(&|_, o| o) },
        Tab { word: "open", label: "待回访", count: count(&|st, _| st == "open") },
        Tab { word: "contacted", label: "待整改", count: count(&|st, _| st == "contacted") },
        Tab { word: "replied", label: "待核实", count: count(&|st, _| st == "replied") },
        Tab { word: "closed", label: "已办结", count: count(&|st, _| !open(st)) },
    ];
    let text = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    let mut filter = FollowUpFilter {
        department_code: text(&q.department),
        venue_code: text(&q.venue),
        item_code: text(&q.item),
        ..FollowUpFilter::default()
    };
    match q.show.as_str() {
        "" => filter.states = ["open", "contacted", "replied"].map(String::from).to_vec(),
        "overdue" => filter.overdue_on = Some(today),
        "appeal" => filter.appeal_pending = true,
        "closed" => filter.states = ["verified", "set_aside", "superseded"].map(String::from).to_vec(),
        word => {
            let state = FollowUpState::parse(word).ok_or_else(|| {
                AppError::field(
                    "show",
                    format!("“{word}”无效，应为 overdue、appeal、open、contacted、replied 或 closed"),
                )
            })?;
            filter.states = vec![state.as_str().to_string()];
        }
    }
    let rows = ratings::follow_ups(&app, &s.actor, &filter, LIST_LIMIT).await?;
    let names = oversight_app::network::unit_and_item_names(&app).await?;
    let narrowed = [&filter.department_code, &filter.venue_code, &filter.item_code]
        .into_iter()
        .find_map(|c| c.as_ref())
        .map(|c| names.get(c).cloned().unwrap_or_else(|| c.clone()));
    Ok(ListPage { l: Layout::new(&s, "/ratings", "差评整改"), tabs, show: q.show, rows, names, today, narrowed })
}

/// A step's form as submitted.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct StepForm {
    #[serde(default)]
    step: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    evidence: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "ratings/follow_up.html")]
struct FollowUpPage {
    l: Layout,
    v: FollowUpView,
    tried: StepForm,
    errors: FieldErrors,
    refused: Option<String>,
}

impl FollowUpPage {
    fn may(&self, step: &str) -> bool {
        self.v.may.iter().any(|s| s.as_str() == step)
    }
    fn tried(&self, step: &str) -> bool {
        self.tried.step == step
    }
    fn level_label(&self) -> &'static str {
        level_label(self.v.row.level)
    }
    /// The steps offered on this page, in the order of their forms.
    fn forms(&self) -> Vec<&'static str> {
        ["contact", "reply", "verify", "return", "appeal", "uphold", "reject"]
            .into_iter()
            .filter(|s| self.may(s))
            .collect()
    }
    /// Steps that take the names of evidence.
    fn takes_evidence(&self, step: &str) -> bool {
        matches!(step, "reply" | "appeal")
    }
    /// Steps that turn something down look secondary.
    fn secondary(&self, step: &str) -> bool {
        matches!(step, "return" | "reject")
    }
    fn optional_note(&self, step: &str) -> bool {
        step == "verify"
    }
    fn step_label(&self, step: &str) -> &'static str {
        FollowUpStep::parse(step).map_or("—", |s| s.label())
    }
    fn note_label(&self, step: &str) -> &'static str {
        FollowUpStep::parse(step).map_or("说明", ratings::note_label)
    }
}

pub async fn follow_up(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(case_no): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    page(&app, &s, &case_no, StepForm::default(), FieldErrors::default(), None, done.done.as_deref()).await
}

async fn page(
    app: &App,
    s: &SessionInfo,
    case_no: &str,
    tried: StepForm,
    errors: FieldErrors,
    refused: Option<String>,
    done: Option<&str>,
) -> Result<Response, PageError> {
    let v = ratings::follow_up_view(app, &s.actor, case_no).await?;
    let status = errors.status(refused.is_some());
    let l = Layout::new(s, "/ratings", format!("差评整改 {case_no}")).with_notice(done);
    Ok((status, FollowUpPage { l, v, tried, errors, refused }).into_response())
}

/// A step from the follow-up's page: done, back to the page with a note; refused, the same page
/// with the reason beside the field (or above the forms) and what was typed kept.
pub async fn step(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(case_no): Path<String>,
    Form(f): Form<StepForm>,
) -> Result<Response, PageError> {
    match ratings::take_step(&app, &s.actor, &case_no, &f.step, &f.note, &f.evidence).await {
        Ok(_) => Ok(Redirect::to(&format!("/ratings/{case_no}?done=step")).into_response()),
        Err(AppError::Invalid(errors)) => page(&app, &s, &case_no, f, FieldErrors(errors), None, None).await,
        Err(AppError::Conflict(reason)) => {
            page(&app, &s, &case_no, f, FieldErrors::default(), Some(reason), None).await
        }
        Err(e) => Err(e.into()),
    }
}

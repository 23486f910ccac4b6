//! Performance evaluation (绩效考评): the office's schemes (TOML, versioned), a draft run over a
//! period, publication, a published result with every point explained down to its records and
//! what has changed since; and the public pages and open data of the published results.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, NaiveDate};
use oversight_app::evaluation::self_assessment::{self, Asked, SelfEntry};
use oversight_app::evaluation::{
    self, DepartmentView, EvaluationResult, ManualEntry, NewAppeal, ResultView, SchemeView,
};
use oversight_app::headline::Headline;
use oversight_app::{App, AppError};
use oversight_domain::access::Action;
use oversight_domain::evaluation::{Indicator, Movement, Source};
use oversight_store::evaluations::{AppealRow, ManualRow, ResultRow, SchemeRow, SelfRow};

use super::Done;
use crate::error::PageError;
use crate::session::{CurrentUser, SessionInfo};
use crate::view::{FieldErrors, Layout, LocalTime};

/// A number as pages show it: two decimals.
fn two(x: f64) -> String {
    format!("{x:.2}")
}

/// An indicator's value as pages show it: a rate in per cent, a count as is, none as “—”.
fn value_text(source: Source, v: Option<f64>) -> String {
    match v {
        None => "—".into(),
        Some(x) if source.is_rate() => format!("{:.2}%", x * 100.0),
        Some(x) if x.fract() == 0.0 => format!("{x:.0}"),
        Some(x) => two(x),
    }
}

/// The list of records behind an indicator's value for a department over the period, where the
/// system has one.
fn records_href(source: Source, department: &str, from: NaiveDate, to: NaiveDate) -> Option<String> {
    let q = |pairs: &[(&str, &str)]| serde_urlencoded::to_string(pairs).unwrap_or_default();
    let (f, t) = (from.to_string(), to.to_string());
    let base = [("department", department), ("from", f.as_str()), ("to", t.as_str())];
    Some(match source {
        Source::CasesSettled => format!("/cases?{}", q(&base)),
        Source::CasesOverdue | Source::CasesOverdueRate => {
            format!("/cases?{}", q(&[base[0], base[1], base[2], ("outcome", "overdue")]))
        }
        Source::TicketsReceived | Source::TicketsCompletionRate | Source::TicketsSatisfactionRate => {
            format!("/hotline/list?{}", q(&base))
        }
        Source::TicketsClosed => format!("/hotline/list?{}", q(&[base[0], base[1], base[2], ("closed", "1")])),
        Source::TicketsComplaints => {
            format!("/hotline/list?{}", q(&[base[0], base[1], base[2], ("type", "complaint")]))
        }
        Source::TasksVerified | Source::TasksOnTimeRate | Source::TasksRed => {
            format!("/tasks?{}", q(&[("department", department)]))
        }
        Source::RatingsRated | Source::RatingsGoodRate => {
            format!(
                "/reports/ratings?{}",
                q(&[("from", &f), ("to", &t), ("group_by", "department"), ("compare", "none")])
            )
        }
        Source::RatingsBad | Source::RatingsBadRectificationRate => {
            format!("/ratings?{}", q(&[("department", department), ("show", "closed")]))
        }
        Source::InspectionsFindings | Source::InspectionsMajorFindings | Source::InspectionsRectifiedOnTimeRate => {
            let figure = match source {
                Source::InspectionsMajorFindings => "serious",
                Source::InspectionsRectifiedOnTimeRate => "on_time",
                _ => "findings",
            };
            format!(
                "/inspections/rectifications?{}",
                q(&[("from", &f), ("to", &t), ("figure", figure), ("group_by", "department"), ("key", department)])
            )
        }
        Source::CasesAnomalies
        | Source::SupervisionNotices
        | Source::SupervisionYellowCards
        | Source::SupervisionRedCards
        | Source::Manual => {
            return None;
        }
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "evaluation/list.html")]
struct ListPage {
    l: Layout,
    schemes: Vec<SchemeRow>,
    results: Vec<(ResultRow, String)>,
    /// The results of the viewer's own departments: (result, scheme name, department code, its
    /// name).
    own: Vec<(ResultRow, String, String, String)>,
    may_write: bool,
    body: String,
    errors: FieldErrors,
    /// The self-assessments asked of the viewer's departments, and one refused as typed (its id,
    /// the entry, its faults).
    asked: Vec<Asked>,
    refused_self: (String, SelfEntry, FieldErrors),
}

impl ListPage {
    fn points(&self, x: impl std::borrow::Borrow<f64>) -> String {
        two(*x.borrow())
    }
    /// What the form shows for a request: the refused entry as typed, else the figure stored.
    fn self_value(&self, a: &Asked, field: &str) -> String {
        let (id, entry, _) = &self.refused_self;
        if *id == a.row.id {
            return match field {
                "points" => entry.points.clone(),
                "reason" => entry.reason.clone(),
                _ => entry.evidence.clone(),
            };
        }
        match field {
            "points" => a.row.points.map(two).unwrap_or_default(),
            "reason" => a.row.reason.clone().unwrap_or_default(),
            _ => a.row.evidence.clone().unwrap_or_default(),
        }
    }
    /// Where a request stands, in a sentence.
    fn self_state(&self, a: &Asked) -> String {
        match (a.reviewed, a.row.points) {
            (Some(r), Some(p)) => format!("效能办已审核：{} 分（自评 {} 分）。", two(r), two(p)),
            (Some(r), None) => format!("效能办已审核：{} 分。", two(r)),
            (None, Some(p)) => format!("已自评 {} 分，待效能办审核。", two(p)),
            (None, None) => "待自评。".into(),
        }
    }
    /// A field's id in a request's form: `prefix` and the request's id.
    fn field_id(&self, prefix: &str, a: &Asked) -> String {
        format!("{prefix}{}", a.row.id)
    }
    /// The faults of the refused entry, for the request it was made on.
    fn self_errors(&self, a: &Asked) -> FieldErrors {
        if self.refused_self.0 == a.row.id { self.refused_self.2.clone() } else { FieldErrors::default() }
    }
}

/// The name of the scheme a result was published from.
async fn with_scheme_names(app: &App, rows: Vec<ResultRow>) -> Result<Vec<(ResultRow, String)>, AppError> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let name = oversight_store::evaluations::scheme(&app.db, &r.scheme_id)
            .await?
            .map_or_else(|| "—".to_string(), |s| format!("{}（第 {} 版）", s.name, s.version));
        out.push((r, name));
    }
    Ok(out)
}

async fn list_page(
    app: &App,
    s: &SessionInfo,
    body: String,
    errors: FieldErrors,
    notice: Option<&str>,
    refused_self: (String, SelfEntry, FieldErrors),
) -> Result<Response, PageError> {
    let schemes = evaluation::schemes(app, &s.actor).await?;
    let results = with_scheme_names(app, evaluation::results(app, &s.actor).await?).await?;
    let mut own = Vec::new();
    for (row, code, department) in evaluation::own_results(app, &s.actor).await? {
        let named = with_scheme_names(app, vec![row]).await?;
        own.extend(named.into_iter().map(|(row, name)| (row, name, code.clone(), department.clone())));
    }
    let asked = self_assessment::asked_of(app, &s.actor).await?;
    let status = if errors.is_empty() { refused_self.2.status(false) } else { errors.status(false) };
    let page = ListPage {
        l: Layout::new(s, "/evaluation", "绩效考评").with_notice(notice),
        schemes,
        results,
        own,
        may_write: s.actor.may_somewhere(Action::Supervise),
        body,
        errors,
        asked,
        refused_self,
    };
    Ok((status, page).into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

pub async fn list(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let example = evaluation::EXAMPLE_SCHEME.to_string();
    list_page(&app, &s, example, FieldErrors::default(), q.done.as_deref(), Default::default()).await
}

/// The department's liaison enters its own points on a self-assessment asked of it.
pub async fn enter_self(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<SelfEntry>,
) -> Result<Response, PageError> {
    match self_assessment::enter(&app, &s.actor, &id, &f).await {
        Ok(()) => Ok(Redirect::to(&format!("/evaluation?done=self#self-{id}")).into_response()),
        Err(AppError::Invalid(errors)) => {
            let example = evaluation::EXAMPLE_SCHEME.to_string();
            list_page(&app, &s, example, FieldErrors::default(), None, (id, f, FieldErrors(errors))).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The office asks the departments to assess themselves over the period.
pub async fn request_self(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<PeriodForm>,
) -> Result<Response, PageError> {
    let (from, to) = period(&app, &f.from, &f.to)?;
    self_assessment::request(&app, &s.actor, &id, from, to).await?;
    Ok(back_to_scheme(&id, from, to, "self-request", "self"))
}

/// Back to the scheme's page over the same period, with the notice of what was done and the
/// part of the page it concerns.
fn back_to_scheme(id: &str, from: NaiveDate, to: NaiveDate, done: &str, part: &str) -> Response {
    let q = serde_urlencoded::to_string([("from", from.to_string()), ("to", to.to_string()), ("done", done.into())])
        .unwrap_or_default();
    Redirect::to(&format!("/evaluation/schemes/{id}?{q}#{part}")).into_response()
}

#[derive(Debug, serde::Deserialize)]
pub struct SchemeForm {
    #[serde(default)]
    scheme: String,
}

pub async fn create(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Form(f): Form<SchemeForm>,
) -> Result<Response, PageError> {
    match evaluation::save_scheme(&app, &s.actor, None, &f.scheme).await {
        Ok(row) => Ok(Redirect::to(&format!("/evaluation/schemes/{}?done=scheme", row.id)).into_response()),
        Err(AppError::Invalid(errors)) => {
            list_page(&app, &s, f.scheme, FieldErrors(errors), None, Default::default()).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "evaluation/scheme.html")]
struct SchemePage {
    l: Layout,
    v: SchemeView,
    body: String,
    errors: FieldErrors,
    from: NaiveDate,
    to: NaiveDate,
    /// A draft run over the period, when asked for.
    draft: Option<EvaluationResult>,
    /// The published results a draft may be set beside (what if), with their scheme's name.
    published: Vec<(ResultRow, String)>,
    /// The one it is set beside, and each department's move.
    against: String,
    movements: Option<Vec<Movement>>,
    /// The points entered for the manual indicators over the period, and an entry refused, as
    /// typed, with its faults.
    manual: Vec<ManualRow>,
    entry: ManualEntry,
    entry_errors: FieldErrors,
    /// The departments' self-assessments over the period, where the scheme asks for them.
    selves: Vec<SelfRow>,
}

impl SchemePage {
    fn score_kind(&self, i: &Indicator) -> String {
        i.formula()
    }
    fn points(&self, x: impl std::borrow::Borrow<f64>) -> String {
        two(*x.borrow())
    }
    /// The scheme's manual indicators.
    fn manual_indicators(&self) -> Vec<&Indicator> {
        self.v.scheme.indicators.iter().filter(|i| i.source == Source::Manual).collect()
    }
    /// Whether the scheme has an indicator the departments assess first.
    fn asks_self(&self) -> bool {
        self.v.scheme.indicators.iter().any(|i| i.self_assessment)
    }
    /// The department's own figure for an indicator over the period, as the review shows it.
    fn self_figure(&self, department: &str, indicator: &str) -> String {
        match self.selves.iter().find(|x| x.department_code == department && x.indicator_code == indicator) {
            Some(SelfRow { points: Some(p), .. }) => format!("{} 分", two(*p)),
            Some(_) => "待自评".into(),
            None => "—".into(),
        }
    }
    /// The office's points for an indicator over the period, if entered.
    fn office_figure(&self, department: &str, indicator: &str) -> String {
        self.manual
            .iter()
            .find(|m| m.department_code == department && m.indicator_code == indicator)
            .map_or_else(|| "未审核".into(), |m| format!("{} 分", two(m.points)))
    }
    fn department_name(&self, code: &str) -> String {
        self.draft
            .as_ref()
            .and_then(|r| r.departments.iter().find(|d| d.code == code))
            .map_or_else(|| code.to_string(), |d| d.name.clone())
    }
    fn indicator_name(&self, code: &str) -> String {
        self.v.scheme.indicators.iter().find(|i| i.code == code).map_or_else(|| code.to_string(), |i| i.name.clone())
    }
    fn moved(&self, m: &Movement) -> String {
        match m.moved() {
            None => "新列入".into(),
            Some(0) => "—".into(),
            Some(n) if n > 0 => format!("↑ {n}"),
            Some(n) => format!("↓ {}", -n),
        }
    }
    /// `第 2 名，70.00 分，良好` of the published result, or “—”.
    fn before(&self, m: &Movement) -> String {
        let Some(rank) = m.rank_before else { return "—".into() };
        let mut out = format!("第 {rank} 名");
        if let Some(score) = m.score_before {
            out.push_str(&format!("，{} 分", two(score)));
        }
        if let Some(tier) = &m.tier_before {
            out.push_str(&format!("，{tier}"));
        }
        out
    }
    fn reasons(&self, m: &Movement) -> String {
        m.reasons.iter().map(|(name, d)| format!("{name} {d:+.2}")).collect::<Vec<_>>().join("；")
    }
    fn value(&self, i: impl std::borrow::Borrow<usize>, v: &Option<f64>) -> String {
        self.v.scheme.indicators.get(*i.borrow()).map_or_else(|| "—".into(), |ind| value_text(ind.source, *v))
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct PeriodQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    /// A published result to set the draft beside (what if).
    #[serde(default)]
    against: String,
    done: Option<String>,
}

/// Last year, the period a scheme is usually tried on.
fn last_year(app: &App) -> (NaiveDate, NaiveDate) {
    let year = app.today().year() - 1;
    (NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default(), NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default())
}

fn period(app: &App, from: &str, to: &str) -> Result<(NaiveDate, NaiveDate), AppError> {
    let (a, b) = last_year(app);
    let from = if from.trim().is_empty() { a } else { oversight_app::cases::parse_date(from, "from")? };
    let to = if to.trim().is_empty() { b } else { oversight_app::cases::parse_date(to, "to")? };
    Ok((from, to))
}

/// A refused edit of the scheme, or a refused entry of points, shown again.
#[derive(Default)]
struct Refused {
    body: Option<String>,
    errors: FieldErrors,
    entry: ManualEntry,
    entry_errors: FieldErrors,
}

async fn scheme_page(
    app: &App,
    s: &SessionInfo,
    id: &str,
    q: &PeriodQuery,
    refused: Refused,
) -> Result<Response, PageError> {
    let Refused { body, errors, entry, entry_errors } = refused;
    let v = evaluation::scheme_view(app, &s.actor, id).await?;
    let (mut from, mut to) = period(app, &q.from, &q.to)?;
    let published = with_scheme_names(app, evaluation::results(app, &s.actor).await?).await?;
    let (draft, movements) = if !q.against.is_empty() {
        let (draft, moves) = evaluation::what_if(app, &s.actor, id, &q.against).await?;
        (from, to) = (draft.from, draft.to);
        (Some(draft), Some(moves))
    } else if !q.from.is_empty() {
        (Some(evaluation::run_saved(app, &s.actor, id, from, to).await?), None)
    } else {
        (None, None)
    };
    let manual =
        if draft.is_some() { evaluation::manual_entries(app, &s.actor, id, from, to).await? } else { Vec::new() };
    let selves = if draft.is_some() && v.scheme.indicators.iter().any(|i| i.self_assessment) {
        self_assessment::of_scheme(app, &s.actor, id, from, to).await?
    } else {
        Vec::new()
    };
    let status = if errors.is_empty() { entry_errors.status(false) } else { errors.status(false) };
    let title = format!("{}（第 {} 版）", v.row.name, v.row.version);
    let l = Layout::new(s, "/evaluation", title).with_notice(q.done.as_deref());
    let body = body.unwrap_or_else(|| v.row.body.clone());
    let against = q.against.clone();
    let page = SchemePage {
        l,
        v,
        body,
        errors,
        from,
        to,
        draft,
        published,
        against,
        movements,
        manual,
        entry,
        entry_errors,
        selves,
    };
    Ok((status, page).into_response())
}

pub async fn scheme(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    scheme_page(&app, &s, &id, &q, Refused::default()).await
}

/// A new version of the scheme.
pub async fn save(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<SchemeForm>,
) -> Result<Response, PageError> {
    match evaluation::save_scheme(&app, &s.actor, Some(&id), &f.scheme).await {
        Ok(row) => Ok(Redirect::to(&format!("/evaluation/schemes/{}?done=scheme-version", row.id)).into_response()),
        Err(AppError::Invalid(errors)) => {
            let refused = Refused { body: Some(f.scheme), errors: FieldErrors(errors), ..Refused::default() };
            scheme_page(&app, &s, &id, &PeriodQuery::default(), refused).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct ManualForm {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(flatten)]
    entry: ManualEntry,
}

/// The office enters a department's points for a manual indicator over the period.
pub async fn enter_points(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<ManualForm>,
) -> Result<Response, PageError> {
    let (from, to) = period(&app, &f.from, &f.to)?;
    match evaluation::enter_points(&app, &s.actor, &id, from, to, &f.entry).await {
        Ok(()) => Ok(back_to_scheme(&id, from, to, "manual", "manual")),
        Err(AppError::Invalid(errors)) => {
            let q = PeriodQuery { from: from.to_string(), to: to.to_string(), ..PeriodQuery::default() };
            let refused = Refused { entry: f.entry, entry_errors: FieldErrors(errors), ..Refused::default() };
            scheme_page(&app, &s, &id, &q, refused).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct PeriodForm {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

pub async fn publish(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<PeriodForm>,
) -> Result<Response, PageError> {
    let (from, to) = period(&app, &f.from, &f.to)?;
    let result = evaluation::publish(&app, &s.actor, &id, from, to).await?;
    Ok(Redirect::to(&format!("/evaluation/results/{result}?done=published")).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "evaluation/result.html")]
struct ResultPage {
    l: Layout,
    v: ResultView,
}

impl ResultPage {
    fn points(&self, x: impl std::borrow::Borrow<f64>) -> String {
        two(*x.borrow())
    }
    fn indicator_name(&self, code: &str) -> String {
        if code.is_empty() {
            return "总分（排名）".into();
        }
        self.v.indicators.iter().find(|i| i.code == code).map_or_else(|| code.to_string(), |i| i.name.clone())
    }
    fn change_value(&self, code: &str, v: &Option<f64>) -> String {
        match self.v.indicators.iter().find(|i| i.code == code) {
            Some(i) => value_text(i.source, *v),
            None => v.map_or_else(|| "—".into(), |r| format!("第 {r:.0} 名")),
        }
    }
}

pub async fn result(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let v = evaluation::result_view(&app, Some(&s.actor), &id).await?;
    let l = Layout::new(&s, "/evaluation", format!("{}：{} 至 {}", v.scheme.name, v.row.from_day, v.row.to_day))
        .with_notice(done.done.as_deref());
    Ok(ResultPage { l, v }.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "evaluation/department.html")]
struct DepartmentPage {
    l: Layout,
    v: DepartmentView,
    /// An appeal refused, as typed, with its faults beside its fields.
    typed: NewAppeal,
    errors: FieldErrors,
}

impl DepartmentPage {
    /// Each indicator of the department: (indicator, its value as shown, points, records link).
    fn lines(&self) -> Vec<(&Indicator, String, String, Option<String>)> {
        self.v
            .indicators
            .iter()
            .zip(&self.v.department.indicators)
            .map(|(i, r)| {
                (
                    i,
                    value_text(i.source, r.value),
                    two(r.points),
                    records_href(i.source, &self.v.department.code, self.v.row.from_day, self.v.row.to_day),
                )
            })
            .collect()
    }
    fn score(&self) -> String {
        two(self.v.department.score)
    }
    fn state_label(&self, a: &AppealRow) -> &'static str {
        match a.state.as_str() {
            "upheld" => "申诉成立",
            "rejected" => "申诉不成立",
            _ => "待效能办处理",
        }
    }
    /// Whether the record may still be contested (no appeal pending or upheld on it).
    fn open_to_appeal(&self, kind: &str, record: &str) -> bool {
        !self.v.appeals.iter().any(|a| a.kind == kind && a.record_id == record && a.state != "rejected")
    }
    /// The records counted at publication that the department may contest, by kind.
    fn record_lists(&self) -> Vec<RecordList> {
        let until = self.v.appeal_until;
        let items = |kind: &str, list: &[String]| -> Vec<(String, String)> {
            list.iter().map(|r| (r.clone(), record_href(kind, r))).collect()
        };
        vec![
            RecordList {
                kind: evaluation::OVERDUE_CASE,
                panel_id: "records",
                table_id: "overdue-cases",
                title: "发布时计入的超期办件",
                column: "办件",
                hint: format!(
                    "部门认为某件超期并非本部门原因（如申请人延误），可在 {until} 前逐件申诉，并写明理由和证据；申诉成立的办件不再计入，结果重新计算并重新发布。"
                ),
                none: "没有计入超期办件。",
                items: items(evaluation::OVERDUE_CASE, &self.v.overdue_cases),
            },
            RecordList {
                kind: evaluation::COMPLAINT,
                panel_id: "complaint-records",
                table_id: "complaints",
                title: "发布时计入的效能投诉",
                column: "工单",
                hint: format!(
                    "投诉反映的是其他部门的问题时，可在 {until} 前逐件申诉；申诉成立的投诉不再计入本部门的工单数、投诉数和满意率。"
                ),
                none: "没有计入效能投诉。",
                items: items(evaluation::COMPLAINT, &self.v.complaints),
            },
        ]
    }
    /// The refused appeal's record is in `list`.
    fn typed_in(&self, list: &RecordList) -> bool {
        list.items.iter().any(|(r, _)| *r == self.typed.record)
    }
    fn kind_label(&self, a: &AppealRow) -> &'static str {
        if a.kind == evaluation::COMPLAINT { "投诉" } else { "办件" }
    }
    fn record_href(&self, kind: &str, record: &str) -> String {
        record_href(kind, record)
    }
}

/// A list of records a result counted for a department, as its page shows them.
struct RecordList {
    kind: &'static str,
    panel_id: &'static str,
    table_id: &'static str,
    title: &'static str,
    column: &'static str,
    hint: String,
    none: &'static str,
    /// (record, link to its page)
    items: Vec<(String, String)>,
}

/// The page of a record of a result: a case's, or a work order's.
fn record_href(kind: &str, record: &str) -> String {
    let path = if kind == evaluation::COMPLAINT { "/hotline/orders/" } else { "/cases/" };
    format!("{path}{record}")
}

async fn department_page(
    app: &App,
    s: &SessionInfo,
    id: &str,
    code: &str,
    typed: NewAppeal,
    errors: FieldErrors,
    done: Option<&str>,
) -> Result<Response, PageError> {
    let v = evaluation::department_view(app, &s.actor, id, code).await?;
    let status = errors.status(false);
    let l = Layout::new(s, "/evaluation", format!("{}：{}", v.scheme.name, v.department.name)).with_notice(done);
    Ok((status, DepartmentPage { l, v, typed, errors }).into_response())
}

/// A department's result: each indicator's value, formula and points, the records counted,
/// and its appeals; for the office and for the department itself.
pub async fn department(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path((id, code)): Path<(String, String)>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    department_page(&app, &s, &id, &code, NewAppeal::default(), FieldErrors::default(), done.done.as_deref()).await
}

/// The department's liaison contests an overdue case the result counted.
pub async fn appeal(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path((id, code)): Path<(String, String)>,
    Form(a): Form<NewAppeal>,
) -> Result<Response, PageError> {
    match evaluation::file_appeal(&app, &s.actor, &id, &code, &a).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/evaluation/results/{id}/departments/{code}?done=appeal#appeals"))
                .into_response())
        }
        Err(AppError::Invalid(errors)) => department_page(&app, &s, &id, &code, a, FieldErrors(errors), None).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

/// The office upholds or rejects an appeal; upheld, the result is published again.
pub async fn decide(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(appeal): Path<String>,
    Form(f): Form<DecisionForm>,
) -> Result<Response, PageError> {
    let uphold = match f.decision.as_str() {
        "uphold" => true,
        "reject" => false,
        _ => return Err(AppError::field("decision", "请选择申诉成立或不成立").into()),
    };
    match evaluation::decide_appeal(&app, &s.actor, &appeal, uphold, &f.reason).await? {
        Some(result) => Ok(Redirect::to(&format!("/evaluation/results/{result}?done=republished")).into_response()),
        None => Ok(Redirect::to("/evaluation?done=appeal-rejected").into_response()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "public/evaluations.html")]
struct PublicListPage {
    css: String,
    rows: Vec<(ResultRow, String)>,
    time: LocalTime,
}

/// The published results, for anyone.
pub async fn public_list(State(app): State<App>) -> Result<Response, PageError> {
    let rows = with_scheme_names(&app, evaluation::published(&app).await?).await?;
    Ok(PublicListPage { css: crate::assets::url("app.css"), rows, time: LocalTime(app.config.tz()) }.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "public/evaluation.html")]
struct PublicPage {
    css: String,
    v: ResultView,
    time: LocalTime,
}

impl PublicPage {
    fn points(&self, x: impl std::borrow::Borrow<f64>) -> String {
        two(*x.borrow())
    }
}

/// A published result, for anyone: scores, ranks, tiers and each indicator's points.
pub async fn public_result(State(app): State<App>, Path(id): Path<String>) -> Result<Response, PageError> {
    let v = public_view(&app, &id).await?;
    Ok(PublicPage { css: crate::assets::url("app.css"), v, time: LocalTime(app.config.tz()) }.into_response())
}

/// A result in force (a superseded one is not public any more).
async fn public_view(app: &App, id: &str) -> Result<ResultView, AppError> {
    let v = evaluation::result_view(app, None, id).await?;
    if v.row.superseded {
        return Err(AppError::NotFound("考评结果".into()));
    }
    Ok(v)
}

/// The result as open data: the JSON exactly as published.
pub async fn public_json(State(app): State<App>, Path(id): Path<String>) -> Result<Response, PageError> {
    let v = public_view(&app, &id).await?;
    Ok(([(header::CONTENT_TYPE, "application/json; charset=utf-8")], v.row.result).into_response())
}

/// The result as open data: CSV.
pub async fn public_csv(State(app): State<App>, Path(id): Path<String>) -> Result<Response, PageError> {
    let v = public_view(&app, &id).await?;
    let name = format!("attachment; filename=\"evaluation-{}-{}.csv\"", v.row.from_day, v.row.to_day);
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, name)],
        evaluation::result_csv(&v),
    )
        .into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct YearQuery {
    #[serde(default)]
    year: String,
}

/// The year asked for, this one by default.
fn year_of(app: &App, q: &YearQuery) -> Result<i32, AppError> {
    if q.year.trim().is_empty() {
        return Ok(app.today().year());
    }
    let year = q.year.trim().parse::<i32>().map_err(|_| AppError::field("year", "年份应为四位数字"))?;
    oversight_app::headline::check_year(app, year)?;
    Ok(year)
}

#[derive(Template, WebTemplate)]
#[template(path = "public/home.html")]
struct PublicHome {
    css: String,
    h: Headline,
    years: Vec<i32>,
    level_chart: String,
    department_chart: String,
    results: Vec<(ResultRow, String)>,
    bulletins: Vec<oversight_store::inspections::BulletinRow>,
}

impl PublicHome {
    fn rate(&self, r: &Option<f64>) -> String {
        r.map_or_else(|| "—".into(), |x| format!("{:.2}%", x * 100.0))
    }
}

/// The public front page: the office's headline figures of a year with charts, the published
/// evaluation results and bulletins, and the way to complain; no login.
pub async fn public_home(State(app): State<App>, Query(q): Query<YearQuery>) -> Result<Response, PageError> {
    let year = year_of(&app, &q)?;
    let h = oversight_app::headline::headline(&app, year).await?;
    let this = app.today().year();
    let bars = |groups: &[oversight_app::cases::CaseGroup]| -> Vec<crate::chart::Bar> {
        groups
            .iter()
            .map(|g| crate::chart::Bar {
                label: g.name.clone(),
                value: g.overdue_rate,
                href: "#figures".into(),
                compare: None,
                compare_href: None,
            })
            .collect()
    };
    let period = format!("{} 至 {}", h.from, h.to);
    let level_chart = crate::chart::rate_bars("各级超期率", "无办结", &period, None, &bars(&h.cases_by_level));
    let department_chart =
        crate::chart::rate_bars("各部门超期率", "无办结", &period, None, &bars(&h.cases_by_department));
    let results = with_scheme_names(&app, evaluation::published(&app).await?).await?;
    let bulletins = oversight_app::bulletins::published(&app).await?.into_iter().take(6).collect();
    let page = PublicHome {
        css: crate::assets::url("app.css"),
        years: (this - 4..=this).rev().collect(),
        h,
        level_chart,
        department_chart,
        results,
        bulletins,
    };
    Ok(page.into_response())
}

/// The headline figures as open data: JSON.
pub async fn public_figures_json(State(app): State<App>, Query(q): Query<YearQuery>) -> Result<Response, PageError> {
    let h = oversight_app::headline::headline(&app, year_of(&app, &q)?).await?;
    Ok(axum::Json(h).into_response())
}

/// The headline figures as open data: CSV.
pub async fn public_figures_csv(State(app): State<App>, Query(q): Query<YearQuery>) -> Result<Response, PageError> {
    let h = oversight_app::headline::headline(&app, year_of(&app, &q)?).await?;
    let name = format!("attachment; filename=\"figures-{}.csv\"", h.year);
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, name)],
        oversight_app::headline::headline_csv(&h),
    )
        .into_response())
}

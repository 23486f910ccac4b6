//! Inspections (明察暗访): the rounds with their fair draw, a round's page, and the checklists.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use oversight_app::inspection_report;
use oversight_app::inspections::{self, FindingView, NewFinding, NewRound, RoundView, VisitView};
use oversight_app::{App, AppError};
use oversight_domain::access::Action;
use oversight_domain::inspection::{Checklist, FindingFigure, RectState, RectStep, RoundKind, Severity, VerifyMethod};
use oversight_domain::org::Level;
use oversight_store::inspections::RoundRow;

use super::Done;
use crate::error::PageError;
use crate::session::{CurrentUser, SessionInfo};
use crate::view::{FieldErrors, Layout};

#[derive(Template, WebTemplate)]
#[template(path = "inspections/list.html")]
struct ListPage {
    l: Layout,
    rounds: Vec<(RoundRow, bool)>,
    may_plan: bool,
}

impl ListPage {
    fn kind_label(&self, r: &RoundRow) -> &'static str {
        RoundKind::parse(&r.kind).map_or("—", |k| k.label())
    }
}

/// The rounds the viewer may see, the latest month first.
pub async fn list(State(app): State<App>, CurrentUser(s): CurrentUser) -> Result<impl IntoResponse, PageError> {
    let rounds = inspections::rounds(&app, &s.actor).await?;
    let may_plan = s.actor.may_somewhere(Action::Supervise);
    Ok(ListPage { l: Layout::new(&s, "/inspections", "明察暗访"), rounds, may_plan })
}

/// The plan form as typed (quotas by level word, checked inspectors).
#[derive(Debug, Clone, Default)]
pub struct RoundForm {
    month: String,
    kind: String,
    inspectors: Vec<String>,
    quota_city: String,
    quota_district: String,
    quota_town: String,
    quota_village: String,
}

impl RoundForm {
    /// The form from its fields in order: `inspectors` repeats, one per box ticked.
    fn from_pairs(pairs: Vec<(String, String)>) -> RoundForm {
        let mut f = RoundForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "month" => f.month = v,
                "kind" => f.kind = v,
                "inspectors" => f.inspectors.push(v),
                "quota_city" => f.quota_city = v,
                "quota_district" => f.quota_district = v,
                "quota_town" => f.quota_town = v,
                "quota_village" => f.quota_village = v,
                _ => {}
            }
        }
        f
    }

    fn input(&self) -> NewRound {
        let quotas = [
            ("city", &self.quota_city),
            ("district", &self.quota_district),
            ("town", &self.quota_town),
            ("village", &self.quota_village),
        ]
        .into_iter()
        .map(|(l, v)| (l.to_string(), v.clone()))
        .collect();
        NewRound { month: self.month.clone(), kind: self.kind.clone(), inspectors: self.inspectors.clone(), quotas }
    }

    fn quota(&self, level: &Level) -> &str {
        match level {
            Level::City => &self.quota_city,
            Level::District => &self.quota_district,
            Level::Town => &self.quota_town,
            Level::Village => &self.quota_village,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "inspections/new.html")]
struct NewPage {
    l: Layout,
    f: RoundForm,
    errors: FieldErrors,
    inspectors: Vec<(String, String)>,
    kinds: [RoundKind; 2],
    levels: [Level; 4],
}

impl NewPage {
    fn checked(&self, username: &str) -> bool {
        self.f.inspectors.iter().any(|u| u == username)
    }
    fn quota_field(&self, level: &Level) -> String {
        format!("quota_{}", level.as_str())
    }
}

async fn new_page(app: &App, s: &SessionInfo, f: RoundForm, errors: FieldErrors) -> Result<Response, PageError> {
    s.actor.require_somewhere(Action::Supervise, "安排明察暗访")?;
    let inspectors = inspections::inspectors(app).await?;
    let status = errors.status(false);
    let page = NewPage {
        l: Layout::new(s, "/inspections", "安排检查轮次"),
        f,
        errors,
        inspectors,
        kinds: [RoundKind::Open, RoundKind::Covert],
        levels: Level::ALL,
    };
    Ok((status, page).into_response())
}

pub async fn new_round(State(app): State<App>, CurrentUser(s): CurrentUser) -> Result<Response, PageError> {
    use chrono::Datelike;
    let today = app.today();
    let f = RoundForm {
        month: format!("{}-{:02}", today.year(), today.month()),
        kind: "covert".into(),
        quota_district: "1".into(),
        quota_town: "3".into(),
        ..RoundForm::default()
    };
    new_page(&app, &s, f, FieldErrors::default()).await
}

/// Plans the round and draws it; refused, the form again with each message beside its field.
pub async fn plan(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = RoundForm::from_pairs(pairs);
    match inspections::plan_round(&app, &s.actor, &f.input()).await {
        Ok(id) => Ok(Redirect::to(&format!("/inspections/rounds/{id}?done=planned")).into_response()),
        Err(AppError::Invalid(errors)) => new_page(&app, &s, f, FieldErrors(errors)).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "inspections/round.html")]
struct RoundPage {
    l: Layout,
    v: RoundView,
    /// The visits made, by venue code: (venue code, visit id, closed).
    visits: Vec<(String, String, bool)>,
}

impl RoundPage {
    fn visit_of(&self, code: &str) -> Option<&(String, String, bool)> {
        self.visits.iter().find(|(c, _, _)| c == code)
    }
    fn level_label(&self, level: &Option<Level>) -> &'static str {
        level.map_or("—", |l| l.label())
    }
}

pub async fn round(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<impl IntoResponse, PageError> {
    let v = inspections::round_view(&app, &s.actor, &id).await?;
    let visits = inspections::visits_of_round(&app, &s.actor, &id)
        .await?
        .into_iter()
        .map(|v| (v.venue_code, v.id, v.closed_at.is_some()))
        .collect();
    let l = Layout::new(&s, "/inspections", v.row.title.clone()).with_notice(done.done.as_deref());
    Ok(RoundPage { l, v, visits })
}

/// The office ends the round now: its seed is shown.
pub async fn end(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    inspections::end_round(&app, &s.actor, &id).await?;
    Ok(Redirect::to(&format!("/inspections/rounds/{id}?done=ended")).into_response())
}

/// What anyone who may see the round needs to re-run its draw: the commitment, the quotas and
/// the published candidates; the seed and the venues once it has ended (or when visible).
pub async fn draw_json(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, PageError> {
    let v = inspections::round_view(&app, &s.actor, &id).await?;
    let quotas: serde_json::Map<String, serde_json::Value> =
        v.quotas.iter().map(|(l, n)| (l.as_str().to_string(), (*n).into())).collect();
    Ok(Json(serde_json::json!({
        "round": v.row.id,
        "title": v.row.title,
        "rule": "each level in the order city, district, town, village: the candidates of that level ranked by lower-case hex SHA-256 of seed + \":\" + code, the first as many as the quota",
        "commitment": v.row.commitment,
        "seed": v.seed,
        "quotas": quotas,
        "candidates": v.candidates.iter().map(|(c, _)| serde_json::json!({"code": c.code, "level": c.level.as_str()})).collect::<Vec<_>>(),
        "drawn": v.targets.as_ref().map(|t| t.iter().map(|(code, _, _)| code.clone()).collect::<Vec<_>>()),
    })))
}

#[derive(Template, WebTemplate)]
#[template(path = "inspections/checklist.html")]
struct ChecklistPage {
    l: Layout,
    version: i64,
    list: Checklist,
    body: String,
    errors: FieldErrors,
    may_edit: bool,
}

/// The service halls' checklist in use, and (for the office) a form for its next version.
pub async fn checklist(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    checklist_page(&app, &s, None, FieldErrors::default(), done.done.as_deref()).await
}

async fn checklist_page(
    app: &App,
    s: &SessionInfo,
    typed: Option<String>,
    errors: FieldErrors,
    done: Option<&str>,
) -> Result<Response, PageError> {
    let (version, list) = inspections::checklist(app, HALL).await?;
    let body = match typed {
        Some(t) => t,
        None => oversight_store::inspections::current_checklist(&app.db, HALL)
            .await
            .map_err(AppError::from)?
            .map_or_else(|| oversight_domain::inspection::SERVICE_HALL.to_string(), |r| r.body),
    };
    let status = errors.status(false);
    let may_edit = s.actor.may_city_wide(Action::Supervise);
    let l = Layout::new(s, "/inspections", "检查表").with_notice(done);
    Ok((status, ChecklistPage { l, version, list, body, errors, may_edit }).into_response())
}

/// The venue type the checklist pages edit: service halls (政务服务中心、便民服务中心).
const HALL: &str = inspections::HALL;

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ChecklistForm {
    #[serde(default)]
    body: String,
}

pub async fn save_checklist(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Form(f): Form<ChecklistForm>,
) -> Result<Response, PageError> {
    match inspections::save_checklist(&app, &s.actor, HALL, &f.body).await {
        Ok(_) => Ok(Redirect::to("/inspections/checklist?done=saved").into_response()),
        Err(AppError::Invalid(errors)) => checklist_page(&app, &s, Some(f.body), FieldErrors(errors), None).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct VisitForm {
    #[serde(default)]
    venue_code: String,
}

/// The inspector starts (or goes back to) the visit of a venue of the round.
pub async fn start_visit(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<VisitForm>,
) -> Result<Response, PageError> {
    let visit = inspections::start_visit(&app, &s.actor, &id, &f.venue_code).await?;
    Ok(Redirect::to(&format!("/inspections/visits/{visit}")).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "inspections/visit.html")]
struct VisitPage {
    l: Layout,
    v: VisitView,
    tried: NewFinding,
    errors: FieldErrors,
    refused: Option<String>,
    severities: [Severity; 2],
}

impl VisitPage {
    fn tried(&self, item: &str) -> bool {
        self.tried.item_code == item && !self.errors.is_empty()
    }
    fn severity_label(&self, word: &str) -> &'static str {
        Severity::parse(word).map_or("—", |s| s.label())
    }
    fn photos_of(&self, finding: &str) -> Vec<&oversight_store::inspections::PhotoMeta> {
        self.v.photos.iter().filter(|p| p.finding_id == finding).collect()
    }
    fn department_name(&self, code: &Option<String>) -> String {
        match code {
            Some(c) => self.v.departments.iter().find(|(k, _)| k == c).map_or_else(|| c.clone(), |(_, n)| n.clone()),
            None => "—".into(),
        }
    }
}

pub async fn visit(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    visit_page(&app, &s, &id, NewFinding::default(), FieldErrors::default(), None, done.done.as_deref()).await
}

async fn visit_page(
    app: &App,
    s: &SessionInfo,
    id: &str,
    tried: NewFinding,
    errors: FieldErrors,
    refused: Option<String>,
    done: Option<&str>,
) -> Result<Response, PageError> {
    let v = inspections::visit_view(app, &s.actor, id).await?;
    let status = errors.status(refused.is_some());
    let l = Layout::new(s, "/inspections", format!("检查记录：{}", v.venue_name)).with_notice(done);
    let page = VisitPage { l, v, tried, errors, refused, severities: [Severity::Minor, Severity::Serious] };
    Ok((status, page).into_response())
}

/// One finding, saved at once; refused, the visit's page again with the item's form open, what
/// was typed kept and each message beside its field.
pub async fn finding(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<NewFinding>,
) -> Result<Response, PageError> {
    match inspections::record_finding(&app, &s.actor, &id, &f).await {
        Ok(_) => Ok(Redirect::to(&format!("/inspections/visits/{id}?done=finding#findings")).into_response()),
        Err(AppError::Invalid(errors)) => visit_page(&app, &s, &id, f, FieldErrors(errors), None, None).await,
        Err(AppError::Conflict(reason)) => {
            visit_page(&app, &s, &id, f, FieldErrors::default(), Some(reason), None).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn close_visit(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    inspections::close_visit(&app, &s.actor, &id).await?;
    Ok(Redirect::to(&format!("/inspections/visits/{id}?done=visit-closed")).into_response())
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RectQuery {
    /// `open`, `replied`, `verified`, `overdue`; empty: those not verified.
    #[serde(default)]
    show: String,
    /// A figure of the inspections report (`FindingFigure`), with its period and group: the
    /// list shows exactly the findings the figure counts.
    #[serde(default)]
    figure: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    group_by: String,
    #[serde(default)]
    key: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "inspections/rectifications.html")]
struct RectPage {
    l: Layout,
    show: String,
    /// What the list is, when it is a figure of the inspections report.
    figure: Option<String>,
    rows: Vec<oversight_store::inspections::FindingRow>,
    names: std::collections::HashMap<String, String>,
    today: chrono::NaiveDate,
}

impl RectPage {
    fn name(&self, code: &Option<String>) -> String {
        code.as_ref().map_or_else(|| "—".into(), |c| self.code_name(c))
    }
    fn code_name(&self, code: &str) -> String {
        self.names.get(code).cloned().unwrap_or_else(|| code.to_string())
    }
    fn state_label(&self, word: &str) -> &'static str {
        RectState::parse(word).map_or("—", |s| s.label())
    }
    fn severity_label(&self, word: &str) -> &'static str {
        Severity::parse(word).map_or("—", |s| s.label())
    }
    fn overdue(&self, f: &oversight_store::inspections::FindingRow) -> bool {
        let state = RectState::parse(&f.rect_state).unwrap_or(RectState::Draft);
        oversight_domain::inspection::rectification_overdue(state, f.rect_due, self.today)
    }
}

/// The rectification notices of the departments and venues in the viewer's scope.
pub async fn rectifications(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(q): Query<RectQuery>,
) -> Result<impl IntoResponse, PageError> {
    let today = app.today();
    let names = oversight_app::network::unit_and_item_names(&app).await?;
    if !q.figure.is_empty() {
        let figure = FindingFigure::parse(q.figure.trim())
            .ok_or_else(|| AppError::field("figure", format!("“{}”不是明察暗访统计的指标", q.figure.trim())))?;
        let from = oversight_app::cases::parse_date(q.from.trim(), "from")?;
        let to = oversight_app::cases::parse_date(q.to.trim(), "to")?;
        let group = oversight_app::ratings::parse_group_by(&q.group_by)?;
        let key = q.key.trim();
        let rows =
            inspection_report::figure_findings(&app, &s.actor, from, to, group.map(|g| (g, key)), figure).await?;
        let of = match group {
            Some(_) if key.is_empty() => "，未指明部门".to_string(),
            Some(_) => format!("，{}", names.get(key).map_or(key, String::as_str)),
            None => String::new(),
        };
        let title = format!("明察暗访统计：{}（{from} 至 {to}{of}）", figure.label());
        return Ok(RectPage {
            l: Layout::new(&s, "/inspections", "整改通知"),
            show: q.show,
            figure: Some(title),
            rows,
            names,
            today,
        });
    }
    let mut filter = oversight_store::inspections::RectFilter::default();
    match q.show.as_str() {
        "" => filter.states = vec!["open".into(), "replied".into()],
        "overdue" => filter.overdue_on = Some(today),
        word => {
            let state = RectState::parse(word).filter(|s| *s != RectState::Draft).ok_or_else(|| {
                AppError::field("show", format!("“{word}”无效，应为 open、replied、verified 或 overdue"))
            })?;
            filter.states = vec![state.as_str().to_string()];
        }
    }
    let rows = inspections::rectifications(&app, &s.actor, &filter).await?;
    Ok(RectPage { l: Layout::new(&s, "/inspections", "整改通知"), show: q.show, figure: None, rows, names, today })
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RectForm {
    #[serde(default)]
    step: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    evidence: String,
    #[serde(default)]
    method: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "inspections/finding.html")]
struct FindingPage {
    l: Layout,
    v: FindingView,
    tried: RectForm,
    errors: FieldErrors,
    refused: Option<String>,
    methods: [VerifyMethod; 3],
}

impl FindingPage {
    fn may(&self, step: &str) -> bool {
        self.v.may.iter().any(|s| s.as_str() == step)
    }
    fn tried(&self, step: &str) -> bool {
        self.tried.step == step
    }
    fn severity_label(&self) -> &'static str {
        Severity::parse(&self.v.finding.severity).map_or("—", |s| s.label())
    }
    fn step_label(&self, word: &str) -> &'static str {
        RectStep::parse(word).map_or("—", |s| s.label())
    }
    fn overdue(&self) -> bool {
        oversight_domain::inspection::rectification_overdue(self.v.state, self.v.finding.rect_due, self.v.today)
    }
}

pub async fn finding_page_get(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    finding_page(&app, &s, &id, RectForm::default(), FieldErrors::default(), None, done.done.as_deref()).await
}

async fn finding_page(
    app: &App,
    s: &SessionInfo,
    id: &str,
    tried: RectForm,
    errors: FieldErrors,
    refused: Option<String>,
    done: Option<&str>,
) -> Result<Response, PageError> {
    let v = inspections::finding_view(app, &s.actor, id).await?;
    let status = errors.status(refused.is_some());
    let l = Layout::new(s, "/inspections", format!("整改通知：{}", v.finding.item_name)).with_notice(done);
    let methods = [VerifyMethod::Reinspection, VerifyMethod::Call, VerifyMethod::Records];
    Ok((status, FindingPage { l, v, tried, errors, refused, methods }).into_response())
}

/// A step on a rectification; refused, the page again with the reason beside the field.
pub async fn rectification_step(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<RectForm>,
) -> Result<Response, PageError> {
    match inspections::rectification_step(&app, &s.actor, &id, &f.step, &f.note, &f.evidence, &f.method).await {
        Ok(_) => Ok(Redirect::to(&format!("/inspections/findings/{id}?done=step")).into_response()),
        Err(AppError::Invalid(errors)) => finding_page(&app, &s, &id, f, FieldErrors(errors), None, None).await,
        Err(AppError::Conflict(reason)) => {
            finding_page(&app, &s, &id, f, FieldErrors::default(), Some(reason), None).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A photo taken for a finding (multipart, field `photo`); refused, the visit's page again with
/// the reason.
pub async fn add_photo(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    mut form: axum::extract::Multipart,
) -> Result<Response, PageError> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        PageError::new(axum::http::StatusCode::BAD_REQUEST, format!("上传失败：{e}"))
    };
    // One upload is read and shrunk at a time; the others wait with their bodies unread.
    let _turn = oversight_app::photos::slot().await?;
    let mut bytes = Vec::new();
    while let Some(field) = form.next_field().await.map_err(bad)? {
        if field.name() == Some("photo") {
            bytes = Vec::from(field.bytes().await.map_err(bad)?);
        }
    }
    let finding = oversight_store::inspections::finding(&app.db, &id).await.map_err(AppError::from)?;
    let visit_id = finding.map(|f| f.visit_id).unwrap_or_default();
    match inspections::add_photo(&app, &s.actor, &id, bytes).await {
        Ok(_) => Ok(Redirect::to(&format!("/inspections/visits/{visit_id}?done=photo#findings")).into_response()),
        Err(AppError::Invalid(errors)) => {
            let reason = errors.into_iter().map(|e| e.reason).collect::<Vec<_>>().join("；");
            visit_page(
                &app,
                &s,
                &visit_id,
                NewFinding::default(),
                FieldErrors::default(),
                Some(format!("照片未保存：{reason}")),
                None,
            )
            .await
        }
        Err(AppError::Conflict(reason)) => {
            visit_page(&app, &s, &visit_id, NewFinding::default(), FieldErrors::default(), Some(reason), None).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A photo, to whoever may see its finding.
pub async fn photo(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let jpeg = inspections::photo(&app, &s.actor, &id).await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "image/jpeg"),
            (axum::http::header::CACHE_CONTROL, "private, max-age=86400"),
        ],
        jpeg,
    )
        .into_response())
}

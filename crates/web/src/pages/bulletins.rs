//! The monthly inspection bulletins (明察暗访通报): the office's list and the form to draft one,
//! a bulletin's page (text, findings and photos chosen, steps), its print and Word copies; and
//! the public pages, without an account, where no staff member is named.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use oversight_app::bulletins::{self, BulletinEdit, BulletinView, PublicBulletin};
use oversight_app::{App, AppError};
use oversight_domain::access::Action;
use oversight_domain::bulletin::{BulletinLine, BulletinState, BulletinStep, month_label};
use oversight_store::inspections::BulletinRow;

use super::Done;
use crate::error::PageError;
use crate::session::{CurrentUser, SessionInfo};
use crate::view::{FieldErrors, Layout, LocalTime};

fn state_label(r: &BulletinRow) -> &'static str {
    BulletinState::parse(&r.state).map_or("—", |s| s.label())
}

/// `已整改` or `整改中（限 03-18）`: how a named finding's rectification stood.
fn rectification(l: &BulletinLine) -> String {
    match l.due {
        Some(due) if l.state == oversight_domain::inspection::RectState::Open => {
            format!("{}（限 {}）", l.state.label(), due.format("%m-%d"))
        }
        _ => l.state.label().to_string(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "inspections/bulletins.html")]
struct ListPage {
    l: Layout,
    rows: Vec<BulletinRow>,
    may_draft: bool,
    month: String,
    errors: FieldErrors,
}

impl ListPage {
    fn state_label(&self, r: &BulletinRow) -> &'static str {
        state_label(r)
    }
}

async fn list_page(app: &App, s: &SessionInfo, month: String, errors: FieldErrors) -> Result<Response, PageError> {
    let rows = bulletins::bulletins(app, &s.actor).await?;
    let status = errors.status(false);
    let page = ListPage {
        l: Layout::new(s, "/inspections", "明察暗访通报"),
        rows,
        may_draft: s.actor.may_somewhere(Action::Supervise) && !s.actor.everything,
        month,
        errors,
    };
    Ok((status, page).into_response())
}

/// The bulletins of the viewer's area; the form drafts last month's by default.
pub async fn list(State(app): State<App>, CurrentUser(s): CurrentUser) -> Result<Response, PageError> {
    let today = app.today();
    let last_month = today.checked_sub_months(chrono::Months::new(1)).unwrap_or(today);
    list_page(&app, &s, last_month.format("%Y-%m").to_string(), FieldErrors::default()).await
}

#[derive(Debug, serde::Deserialize)]
pub struct DraftForm {
    #[serde(default)]
    month: String,
}

pub async fn draft(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Form(f): Form<DraftForm>,
) -> Result<Response, PageError> {
    match bulletins::draft_bulletin(&app, &s.actor, &f.month).await {
        Ok(id) => Ok(Redirect::to(&format!("/inspections/bulletins/{id}?done=bulletin")).into_response()),
        Err(AppError::Invalid(errors)) => list_page(&app, &s, f.month, FieldErrors(errors)).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "inspections/bulletin.html")]
struct BulletinPage {
    l: Layout,
    v: BulletinView,
    /// The text as typed, when a save was refused.
    typed: Option<BulletinEdit>,
    errors: FieldErrors,
}

impl BulletinPage {
    fn title(&self) -> &str {
        self.typed.as_ref().map_or(&self.v.row.title, |t| &t.title)
    }
    fn intro(&self) -> &str {
        self.typed.as_ref().map_or(&self.v.row.intro, |t| &t.intro)
    }
    fn closing(&self) -> &str {
        self.typed.as_ref().map_or(&self.v.row.closing, |t| &t.closing)
    }
    fn rectification(&self, l: &BulletinLine) -> String {
        rectification(l)
    }
    /// Whether a finding's box is ticked: as typed when a save was refused, else as saved.
    fn finding_checked(&self, id: &str, saved: &bool) -> bool {
        self.typed.as_ref().map_or(*saved, |t| t.findings.iter().any(|f| f == id))
    }
    fn photo_checked(&self, id: &str, saved: &bool) -> bool {
        self.typed.as_ref().map_or(*saved, |t| t.photos.iter().any(|p| p == id))
    }
    fn step_class(&self, s: &BulletinStep) -> &'static str {
        if *s == BulletinStep::Withdraw { "ghost" } else { "" }
    }
}

async fn bulletin_page(
    app: &App,
    s: &SessionInfo,
    id: &str,
    typed: Option<BulletinEdit>,
    errors: FieldErrors,
    done: Option<&str>,
) -> Result<Response, PageError> {
    let v = bulletins::bulletin_view(app, &s.actor, id).await?;
    let status = errors.status(false);
    let l = Layout::new(s, "/inspections", v.row.title.clone()).with_notice(done);
    Ok((status, BulletinPage { l, v, typed, errors }).into_response())
}

pub async fn bulletin(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    bulletin_page(&app, &s, &id, None, FieldErrors::default(), done.done.as_deref()).await
}

/// Saves a draft; the fields come as pairs so that each chosen finding and photo is one box.
pub async fn save(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let all = |name: &str| fields.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let edit = BulletinEdit {
        title: field("title"),
        intro: field("intro"),
        closing: field("closing"),
        findings: all("finding"),
        photos: all("photo"),
        redraft: fields.iter().any(|(k, _)| k == "redraft"),
    };
    match bulletins::save_bulletin(&app, &s.actor, &id, &edit).await {
        Ok(()) => Ok(Redirect::to(&format!("/inspections/bulletins/{id}?done=bulletin-saved")).into_response()),
        Err(AppError::Invalid(errors)) => bulletin_page(&app, &s, &id, Some(edit), FieldErrors(errors), None).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct StepForm {
    #[serde(default)]
    step: String,
}

pub async fn step(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<StepForm>,
) -> Result<Response, PageError> {
    let step = BulletinStep::parse(&f.step).ok_or_else(|| AppError::field("step", "未知的办理步骤"))?;
    bulletins::bulletin_step(&app, &s.actor, &id, step).await?;
    Ok(Redirect::to(&format!("/inspections/bulletins/{id}?done=bulletin-{}", step.as_str())).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "inspections/bulletin_print.html")]
struct PrintPage {
    css: String,
    v: BulletinView,
}

impl PrintPage {
    fn rectification(&self, l: &BulletinLine) -> String {
        rectification(l)
    }
}

/// The bulletin on A4, as the office files it (staff named as the findings name them).
pub async fn print(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let v = bulletins::bulletin_view(&app, &s.actor, &id).await?;
    Ok(PrintPage { css: crate::assets::url("print.css"), v }.into_response())
}

/// The bulletin as a Word file, to edit into the office's own document.
pub async fn docx(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let v = bulletins::bulletin_view(&app, &s.actor, &id).await?;
    let bytes = bulletins::bulletin_docx(&v)?;
    let name = format!("attachment; filename=\"bulletin-{}.docx\"", v.row.month);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document".to_string(),
            ),
            (header::CONTENT_DISPOSITION, name),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "public/bulletins.html")]
struct PublicListPage {
    css: String,
    rows: Vec<BulletinRow>,
    time: LocalTime,
}

impl PublicListPage {
    fn month_label(&self, r: &BulletinRow) -> String {
        month_label(&r.month)
    }
}

/// The published bulletins, for anyone.
pub async fn public_list(State(app): State<App>) -> Result<Response, PageError> {
    let rows = bulletins::published(&app).await?;
    Ok(PublicListPage { css: crate::assets::url("app.css"), rows, time: LocalTime(app.config.tz()) }.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "public/bulletin.html")]
struct PublicPage {
    css: String,
    b: PublicBulletin,
    time: LocalTime,
}

impl PublicPage {
    fn rectification(&self, l: &BulletinLine) -> String {
        rectification(l)
    }
}

/// A published bulletin, for anyone: no staff member's name on it.
pub async fn public_bulletin(State(app): State<App>, Path(id): Path<String>) -> Result<Response, PageError> {
    let b = bulletins::public_bulletin(&app, &id).await?;
    Ok(PublicPage { css: crate::assets::url("app.css"), b, time: LocalTime(app.config.tz()) }.into_response())
}

/// A photo a published bulletin shows.
pub async fn public_photo(
    State(app): State<App>,
    Path((id, photo)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let jpeg = bulletins::public_photo(&app, &id, &photo).await?;
    Ok(([(header::CONTENT_TYPE, "image/jpeg"), (header::CACHE_CONTROL, "public, max-age=86400")], jpeg).into_response())
}

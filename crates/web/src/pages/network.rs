use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use oversight_app::exchange::{TextEncoding, Upload};
use oversight_app::network::{self, ChildSummary, ImportReport, LevelCount, UnitView};
use oversight_app::{App, AppError};
use oversight_domain::access::Action;
use oversight_domain::org::{OrgKind, OrgUnit};
use oversight_store::network::CatalogueEntry;

use super::Done;
use crate::error::PageError;
use crate::session::CurrentUser;
use crate::view::{Layout, counts_phrase, fee};

/// Helpers the network templates call.
trait Present {
    /// What lies beneath a unit, e.g. "镇（街道） 8 · 便民服务中心 8".
    fn counts(&self, c: &ChildSummary) -> String {
        counts_phrase(&c.counts, c.unit.kind)
    }
    fn fee(&self, cents: &i64) -> String {
        fee(*cents)
    }
}
impl Present for OverviewPage {}
impl Present for UnitPage {}
impl Present for CataloguePage {}

#[derive(serde::Deserialize, Default)]
pub struct SearchQuery {
    q: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "network/overview.html")]
struct OverviewPage {
    l: Layout,
    levels: Vec<LevelCount>,
    departments: i64,
    roots: Vec<ChildSummary>,
    q: String,
    found: Vec<OrgUnit>,
    may_import: bool,
}

pub async fn overview(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(q): Query<SearchQuery>,
) -> Result<impl IntoResponse, PageError> {
    let (levels, departments) = network::level_counts(&app, &s.actor).await?;
    let (roots, _) = network::overview(&app, &s.actor).await?;
    let text = q.q.unwrap_or_default().trim().to_string();
    let found = network::search(&app, &s.actor, &text).await?;
    Ok(OverviewPage {
        may_import: s.actor.may_somewhere(Action::EditNetwork),
        l: Layout::new(&s, "/network", "服务网络"),
        levels,
        departments,
        roots,
        q: text,
        found,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "network/unit.html")]
struct UnitPage {
    l: Layout,
    v: UnitView,
    departments: Vec<OrgUnit>,
    error: Option<String>,
}

impl UnitPage {
    fn is_venue(&self) -> bool {
        self.v.unit.kind.is_venue()
    }
    fn is_department(&self) -> bool {
        self.v.unit.kind == OrgKind::Department
    }
    fn level_label(&self) -> &'static str {
        self.v.unit.level.map_or("—", |l| l.label())
    }
}

async fn unit_page(
    app: &App,
    s: &crate::session::SessionInfo,
    code: &str,
    error: Option<String>,
    done: Option<&str>,
) -> Result<UnitPage, PageError> {
    let v = network::unit_view(app, &s.actor, code).await?;
    // Departments that may station a window here: those of the venue's city or district.
    let departments = if v.unit.kind.is_venue() && v.may_edit {
        network::stationable_departments(app, &s.actor, &v.unit).await?
    } else {
        vec![]
    };
    let title = v.unit.name.clone();
    Ok(UnitPage { l: Layout::new(s, "/network", title).with_notice(done), v, departments, error })
}

pub async fn unit(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(code): Path<String>,
    Query(d): Query<Done>,
) -> Result<impl IntoResponse, PageError> {
    unit_page(&app, &s, &code, None, d.done.as_deref()).await
}

/// Re-shows the unit page with the error of a form, or the error page when the unit itself
/// cannot be shown.
async fn unit_with_error(app: &App, s: &crate::session::SessionInfo, code: &str, e: AppError) -> Response {
    match e {
        AppError::Invalid(_) | AppError::Conflict(_) => {
            let status = if matches!(e, AppError::Conflict(_)) {
                axum::http::StatusCode::CONFLICT
            } else {
                axum::http::StatusCode::UNPROCESSABLE_ENTITY
            };
            let message = match &e {
                AppError::Invalid(errs) => {
                    errs.iter().map(|x| format!("{}：{}", x.field, x.reason)).collect::<Vec<_>>().join("；")
                }
                other => other.to_string(),
            };
            match unit_page(app, s, code, Some(message), None).await {
                Ok(page) => (status, page).into_response(),
                Err(pe) => pe.into_response(),
            }
        }
        other => PageError::from(other).into_response(),
    }
}

#[derive(serde::Deserialize)]
pub struct RenameForm {
    name: String,
}

pub async fn rename(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(code): Path<String>,
    Form(f): Form<RenameForm>,
) -> Response {
    match network::rename_unit(&app, &s.actor, &code, &f.name).await {
        Ok(_) => Redirect::to(&format!("/network/{code}?done=renamed")).into_response(),
        Err(e) => unit_with_error(&app, &s, &code, e).await,
    }
}

#[derive(serde::Deserialize)]
pub struct ContactsForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
}

pub async fn contacts(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(code): Path<String>,
    Form(f): Form<ContactsForm>,
) -> Response {
    match network::set_contacts(&app, &s.actor, &code, &f.email, &f.phone).await {
        Ok(()) => Redirect::to(&format!("/network/{code}?done=contacts")).into_response(),
        Err(e) => unit_with_error(&app, &s, &code, e).await,
    }
}

#[derive(serde::Deserialize)]
pub struct WindowForm {
    department: String,
    name: String,
}

pub async fn add_window(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(code): Path<String>,
    Form(f): Form<WindowForm>,
) -> Response {
    match network::add_window(&app, &s.actor, &code, &f.department, &f.name).await {
        Ok(_) => Redirect::to(&format!("/network/{code}?done=window")).into_response(),
        Err(e) => unit_with_error(&app, &s, &code, e).await,
    }
}

#[derive(serde::Deserialize)]
pub struct StaffForm {
    name: String,
    position: String,
    window: Option<String>,
}

pub async fn add_staff(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(code): Path<String>,
    Form(f): Form<StaffForm>,
) -> Response {
    match network::add_staff(&app, &s.actor, &code, &f.name, &f.position, f.window.as_deref()).await {
        Ok(_) => Redirect::to(&format!("/network/{code}?done=staff")).into_response(),
        Err(e) => unit_with_error(&app, &s, &code, e).await,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "network/import.html")]
struct ImportPage {
    l: Layout,
    kind: String,
    file_name: String,
    report: Option<ImportReport>,
    error: Option<String>,
}

pub async fn import_form(CurrentUser(s): CurrentUser) -> Result<impl IntoResponse, PageError> {
    if !s.actor.may_somewhere(Action::EditNetwork) {
        return Err(PageError::new(axum::http::StatusCode::FORBIDDEN, "您没有导入服务网络的权限"));
    }
    Ok(ImportPage {
        l: Layout::new(&s, "/network", "导入网络与事项"),
        kind: "orgs".into(),
        file_name: String::new(),
        report: None,
        error: None,
    })
}

pub async fn import(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    mut form: Multipart,
) -> Result<impl IntoResponse, PageError> {
    if !s.actor.may_somewhere(Action::EditNetwork) {
        return Err(PageError::new(axum::http::StatusCode::FORBIDDEN, "您没有导入服务网络的权限"));
    }
    let mut kind = String::from("orgs");
    let mut encoding = String::from("auto");
    let mut file: Option<(String, Vec<u8>)> = None;
    let bad = |e: axum::extract::multipart::MultipartError| {
        PageError::new(axum::http::StatusCode::BAD_REQUEST, format!("上传失败：{e}"))
    };
    while let Some(field) = form.next_field().await.map_err(bad)? {
        match field.name() {
            Some("kind") => kind = field.text().await.map_err(bad)?,
            Some("encoding") => encoding = field.text().await.map_err(bad)?,
            Some("file") => {
                let name = field.file_name().unwrap_or("upload.csv").to_string();
                file = Some((name, field.bytes().await.map_err(bad)?.to_vec()));
            }
            _ => {}
        }
    }
    let l = Layout::new(&s, "/network", "导入网络与事项");
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return Ok(ImportPage {
            l,
            kind,
            file_name: String::new(),
            report: None,
            error: Some("请选择要导入的文件".into()),
        });
    };
    let encoding = match TextEncoding::parse(&encoding) {
        Ok(e) => e,
        Err(e) => {
            return Ok(ImportPage { l, kind, file_name: name, report: None, error: Some(e.to_string()) });
        }
    };
    let upload = Upload { name: &name, bytes: &bytes, encoding };
    let report = match kind.as_str() {
        "items" => network::import_items(&app, &s.actor, &upload).await?,
        _ => network::import_orgs(&app, &s.actor, &upload).await?,
    };
    Ok(ImportPage { l, kind, file_name: name, report: Some(report), error: None })
}

#[derive(serde::Deserialize, Default)]
pub struct CatalogueQuery {
    q: Option<String>,
    department: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "network/catalogue.html")]
struct CataloguePage {
    l: Layout,
    q: String,
    department: String,
    entries: Vec<CatalogueEntry>,
}

pub async fn catalogue(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(q): Query<CatalogueQuery>,
) -> Result<impl IntoResponse, PageError> {
    let text = q.q.unwrap_or_default().trim().to_string();
    let department = q.department.unwrap_or_default().trim().to_string();
    let entries = network::catalogue(&app, &s.actor, Some(&department), Some(&text)).await?;
    Ok(CataloguePage { l: Layout::new(&s, "/catalogue", "事项目录"), q: text, department, entries })
}

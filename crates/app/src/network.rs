//! The four-level network and the catalogue: imports, edits and views.

use std::collections::{HashMap, HashSet};

use oversight_domain::RowError;
use oversight_domain::access::{Action, Scope};
use oversight_domain::item::{ItemChange, ServiceItem, plan_item_import};
use oversight_domain::org::{OrgChange, OrgKind, OrgPath, OrgUnit, parse_name, plan_org_import};
use oversight_store::audit::{self, NewAudit};
use oversight_store::network as store;
use serde_json::json;

use crate::exchange::{self, Upload};

/// The names of the network's departments by code: pages show names, not codes.
pub async fn department_names(app: &App) -> Result<HashMap<String, String>, AppError> {
    Ok(store::all_units(&app.db)
        .await?
        .into_iter()
        .filter(|u| u.kind == OrgKind::Department)
        .map(|u| (u.code.as_str().to_string(), u.name))
        .collect())
}
use crate::{Actor, App, AppError, new_id};

/// The names of every unit (departments, venues, jurisdictions) and every item, by code: the
/// queues of follow-ups and rectifications name all three.
pub async fn unit_and_item_names(app: &App) -> Result<HashMap<String, String>, AppError> {
    let mut names: HashMap<String, String> =
        store::all_units(&app.db).await?.into_iter().map(|u| (u.code.as_str().to_string(), u.name)).collect();
    let items = store::catalogue(&app.db, &oversight_domain::access::Scope::All, None, None).await?;
    names.extend(items.into_iter().map(|e| (e.item.code.as_str().to_string(), e.item.name)));
    Ok(names)
}

/// What an import did (spec/exchange.md §5: accepted, duplicate, rejected). A file of the
/// network or the catalogue is applied whole or not at all: with any rejection nothing changed.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ImportReport {
    pub accepted: usize,
    pub duplicate: usize,
    pub rejected: Vec<RowError>,
    /// The file as a whole could not be read (encoding, header): no record was looked at.
    pub unreadable: bool,
}

impl ImportReport {
    fn rejected(rejected: Vec<RowError>) -> ImportReport {
        ImportReport { accepted: 0, duplicate: 0, rejected, unreadable: false }
    }

    pub fn applied(&self) -> bool {
        self.rejected.is_empty()
    }
}

/// Turns an input error of the file as a whole (unreadable encoding, missing columns) into the
/// report's rejections; other errors pass.
fn file_level(result: Result<ImportReport, AppError>) -> Result<ImportReport, AppError> {
    match result {
        Err(AppError::Invalid(errors)) => Ok(ImportReport { unreadable: true, ..ImportReport::rejected(errors) }),
        other => other,
    }
}

/// Imports an organisations file (spec/exchange.md §1).
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn import_orgs(app: &App, actor: &Actor, upload: &Upload<'_>) -> Result<ImportReport, AppError> {
    file_level(import_orgs_inner(app, actor, upload).await)
}

async fn import_orgs_inner(app: &App, actor: &Actor, upload: &Upload<'_>) -> Result<ImportReport, AppError> {
    let rows = exchange::org_rows(&exchange::read_table(upload)?)?;
    let line_of: HashMap<String, usize> = rows.iter().map(|r| (r.code.trim().to_string(), r.line)).collect();
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let existing = store::all_units_tx(&mut tx).await?;
    let changes = match plan_org_import(&existing, &rows) {
        Ok(c) => c,
        Err(errors) => return Ok(ImportReport::rejected(errors)),
    };
    let paths: HashMap<&str, &OrgPath> = existing.iter().map(|u| (u.code.as_str(), &u.path)).collect();
    let mut denied = Vec::new();
    for change in &changes {
        let (code, path) = match change {
            OrgChange::Create(u) => (u.code.as_str(), &u.path),
            OrgChange::Rename { code, .. } => (code.as_str(), paths[code.as_str()]),
            OrgChange::Unchanged(_) => continue,
        };
        if !actor.may(Action::EditNetwork, path) {
            denied.push(RowError::new(
                line_of.get(code).copied().unwrap_or(0),
                "code",
                format!("{code} 超出您的管辖范围"),
            ));
        }
    }
    if !denied.is_empty() {
        denied.sort_by_key(|e| e.line);
        return Ok(ImportReport::rejected(denied));
    }
    let mut report = ImportReport::default();
    for change in &changes {
        match change {
            OrgChange::Create(unit) => {
                store::insert_unit(&mut tx, unit, now).await?;
                report.accepted += 1;
            }
            OrgChange::Rename { code, after, .. } => {
                store::rename_unit(&mut tx, code.as_str(), after, now).await?;
                report.accepted += 1;
            }
            OrgChange::Unchanged(_) => report.duplicate += 1,
        }
    }
    let created: Vec<&str> = changes
        .iter()
        .filter_map(|c| if let OrgChange::Create(u) = c { Some(u.code.as_str()) } else { None })
        .collect();
    let renamed: Vec<serde_json::Value> = changes
        .iter()
        .filter_map(|c| match c {
            OrgChange::Rename { code, before, after } => {
                Some(json!({"code": code.as_str(), "before": before, "after": after}))
            }
            _ => None,
        })
        .collect();
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "org.import",
            target: upload.name,
            path: common_path(&actor.scope_for(Action::EditNetwork)),
            detail: json!({ "created": created, "renamed": renamed, "unchanged": report.duplicate }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}

/// The path an actor's city- or subtree-wide action is filed under in the audit log.
fn common_path(scope: &Scope) -> &str {
    match scope {
        Scope::Subtrees(roots) if roots.len() == 1 => roots[0].as_str(),
        _ => "/",
    }
}

/// Imports a service-items file (spec/exchange.md §2).
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn import_items(app: &App, actor: &Actor, upload: &Upload<'_>) -> Result<ImportReport, AppError> {
    file_level(import_items_inner(app, actor, upload).await)
}

async fn import_items_inner(app: &App, actor: &Actor, upload: &Upload<'_>) -> Result<ImportReport, AppError> {
    let rows = exchange::item_rows(&exchange::read_table(upload)?)?;
    let line_of: HashMap<String, usize> = rows.iter().map(|r| (r.code.trim().to_string(), r.line)).collect();
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let units = store::all_units_tx(&mut tx).await?;
    let departments: HashMap<&str, &OrgUnit> =
        units.iter().filter(|u| u.kind == OrgKind::Department).map(|u| (u.code.as_str(), u)).collect();
    let department_codes: HashSet<String> = departments.keys().map(|c| c.to_string()).collect();
    let existing = store::all_items_tx(&mut tx).await?;
    let changes = match plan_item_import(&existing, &department_codes, &rows) {
        Ok(c) => c,
        Err(errors) => return Ok(ImportReport::rejected(errors)),
    };
    let mut denied = Vec::new();
    for change in &changes {
        let (item, before) = match change {
            ItemChange::Create(i) => (i, None),
            ItemChange::Update { before, after } => (after, Some(before)),
            ItemChange::Unchanged(_) => continue,
        };
        let line = line_of.get(item.code.as_str()).copied().unwrap_or(0);
        let allowed = |i: &ServiceItem| actor.may(Action::EditNetwork, &departments[i.department_code.as_str()].path);
        if !allowed(item)
            || before.is_some_and(|b| !departments.contains_key(b.department_code.as_str()) || !allowed(b))
        {
            denied.push(RowError::new(line, "department_code", format!("事项 {} 的部门超出您的管辖范围", item.code)));
        }
    }
    if !denied.is_empty() {
        return Ok(ImportReport::rejected(denied));
    }
    let mut report = ImportReport::default();
    let mut log = Vec::new();
    for change in &changes {
        match change {
            ItemChange::Create(item) | ItemChange::Update { after: item, .. } => {
                store::upsert_item(&mut tx, item, &departments[item.department_code.as_str()].path, now).await?;
                report.accepted += 1;
                let before = match change {
                    ItemChange::Update { before, .. } => Some(before),
                    _ => None,
                };
                log.push(json!({ "code": item.code.as_str(), "before": before, "after": item }));
            }
            ItemChange::Unchanged(_) => report.duplicate += 1,
        }
    }
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "item.import",
            target: upload.name,
            path: common_path(&actor.scope_for(Action::EditNetwork)),
            detail: json!({ "changes": log, "unchanged": report.duplicate }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}

/// A unit the actor may see, or not found.
pub async fn visible_unit(app: &App, actor: &Actor, code: &str) -> Result<OrgUnit, AppError> {
    let what = format!("单位 {code}");
    let unit = store::unit(&app.db, code).await?.ok_or_else(|| AppError::NotFound(what.clone()))?;
    actor.require_view(&unit.path, &what)?;
    Ok(unit)
}

/// Renames a unit.
pub async fn rename_unit(app: &App, actor: &Actor, code: &str, name: &str) -> Result<OrgUnit, AppError> {
    let unit = visible_unit(app, actor, code).await?;
    actor.require(Action::EditNetwork, &unit.path, &format!("单位 {code}"))?;
    let name = parse_name(name).map_err(|r| AppError::field("name", r))?;
    if name == unit.name {
        return Ok(unit);
    }
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::rename_unit(&mut tx, code, &name, now).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "org.rename",
            target: code,
            path: unit.path.as_str(),
            detail: json!({ "before": unit.name, "after": name }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(OrgUnit { name, ..unit })
}

/// Stations a department's window in a venue.
pub async fn add_window(
    app: &App,
    actor: &Actor,
    venue_code: &str,
    department_code: &str,
    name: &str,
) -> Result<String, AppError> {
    let venue = visible_unit(app, actor, venue_code).await?;
    if !venue.kind.is_venue() {
        return Err(AppError::field("venue", format!("{venue_code} 不是服务场所")));
    }
    actor.require(Action::EditNetwork, &venue.path, &format!("场所 {venue_code}"))?;
    let department = visible_unit(app, actor, department_code.trim()).await.map_err(|_| {
        AppError::field("department", format!("部门 {} 不存在或不在您的范围内", department_code.trim()))
    })?;
    if department.kind != OrgKind::Department {
        return Err(AppError::field("department", format!("{department_code} 不是部门")));
    }
    let name = parse_name(name).map_err(|r| AppError::field("name", r))?;
    let id = new_id();
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::insert_window(&mut tx, &id, &venue, department.code.as_str(), &name, now).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "window.create",
            target: &id,
            path: venue.path.as_str(),
            detail: json!({ "venue": venue_code, "department": department.code.as_str(), "name": name }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Adds a member of staff to a department, optionally at one of its windows.
pub async fn add_staff(
    app: &App,
    actor: &Actor,
    department_code: &str,
    name: &str,
    position: &str,
    window_id: Option<&str>,
) -> Result<String, AppError> {
    let department = visible_unit(app, actor, department_code).await?;
    if department.kind != OrgKind::Department {
        return Err(AppError::field("department", format!("{department_code} 不是部门")));
    }
    actor.require(Action::EditNetwork, &department.path, &format!("部门 {department_code}"))?;
    let name = parse_name(name).map_err(|r| AppError::field("name", r))?;
    let position = position.trim();
    if position.chars().count() > 50 {
        return Err(AppError::field("position", "过长（最多 50 个字）"));
    }
    let window_id = window_id.map(str::trim).filter(|w| !w.is_empty());
    if let Some(w) = window_id {
        let windows = store::windows(&app.db, &Scope::All, department_code).await?;
        if !windows.iter().any(|x| x.id == w) {
            return Err(AppError::field("window", "窗口不属于该部门"));
        }
    }
    let id = new_id();
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::insert_staff(&mut tx, &id, &department, window_id, &name, position, now).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "staff.create",
            target: &id,
            path: department.path.as_str(),
            detail: json!({ "department": department_code, "name": name, "position": position, "window": window_id }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A child of a unit with how many units of each kind lie beneath it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChildSummary {
    pub unit: OrgUnit,
    pub counts: Vec<(OrgKind, i64)>,
}

/// Everything the unit page shows.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UnitView {
    pub unit: OrgUnit,
    /// From the root down to the parent, those the actor may see.
    pub ancestors: Vec<OrgUnit>,
    pub children: Vec<ChildSummary>,
    pub counts: Vec<(OrgKind, i64)>,
    pub windows: Vec<store::Window>,
    pub staff: Vec<store::Staff>,
    pub items: Vec<store::CatalogueEntry>,
    pub may_edit: bool,
    /// Where a department's notifications go: e-mail and mobile for SMS.
    pub contacts: (Option<String>, Option<String>),
}

pub async fn unit_view(app: &App, actor: &Actor, code: &str) -> Result<UnitView, AppError> {
    let unit = visible_unit(app, actor, code).await?;
    let scope = actor.scope();
    let mut ancestors = Vec::new();
    for c in unit.path.codes().take(unit.path.depth().saturating_sub(1)) {
        if let Some(a) = store::unit(&app.db, c).await?
            && actor.may(Action::View, &a.path)
        {
            ancestors.push(a);
        }
    }
    let mut children = Vec::new();
    for child in store::children(&app.db, &scope, code).await? {
        let counts = if child.kind.jurisdiction_level().is_some() {
            store::count_by_kind(&app.db, &scope, &child.path).await?
        } else {
            Vec::new()
        };
        children.push(ChildSummary { unit: child, counts });
    }
    let counts = store::count_by_kind(&app.db, &scope, &unit.path).await?;
    let (windows, staff, items) = match unit.kind {
        k if k.is_venue() => (store::windows(&app.db, &scope, code).await?, vec![], vec![]),
        OrgKind::Department => (
            store::windows(&app.db, &scope, code).await?,
            store::staff_of_department(&app.db, &scope, code).await?,
            store::catalogue(&app.db, &scope, Some(code), None).await?,
        ),
        _ => (vec![], vec![], vec![]),
    };
    let may_edit = actor.may(Action::EditNetwork, &unit.path);
    let contacts = oversight_store::outbox::contacts(&app.db, code).await?.unwrap_or_default();
    Ok(UnitView { unit, ancestors, children, counts, windows, staff, items, may_edit, contacts })
}

/// Sets where a department's notifications go (the hotline's dispatches, reminders, warnings).
pub async fn set_contacts(app: &App, actor: &Actor, code: &str, email: &str, phone: &str) -> Result<(), AppError> {
    let unit = visible_unit(app, actor, code).await?;
    actor.require(Action::EditNetwork, &unit.path, &format!("单位 {code}"))?;
    let email = email.trim();
    let mut errors = Vec::new();
    if !email.is_empty() && email.parse::<lettre::message::Mailbox>().is_err() {
        errors.push(RowError::new(0, "email", format!("“{email}”不是有效的电子邮件地址")));
    }
    let phone = oversight_domain::workorder::parse_phone(phone).unwrap_or_else(|()| {
        errors.push(RowError::new(0, "phone", "手机号码应为 5 至 20 位数字"));
        None
    });
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let (email, phone) = ((!email.is_empty()).then_some(email), phone.as_deref());
    let now = app.now();
    let mut tx = app.db.begin().await?;
    oversight_store::outbox::set_contacts(&mut tx, code, email, phone).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "org.contacts",
            target: code,
            path: unit.path.as_str(),
            detail: json!({ "email": email.is_some(), "phone": phone.is_some() }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The topmost units the actor sees, with counts of everything in scope.
pub async fn overview(app: &App, actor: &Actor) -> Result<(Vec<ChildSummary>, Vec<(OrgKind, i64)>), AppError> {
    let scope = actor.scope();
    let mut roots = Vec::new();
    let mut total: HashMap<OrgKind, i64> = HashMap::new();
    for unit in store::scope_roots(&app.db, &scope).await? {
        let counts = store::count_by_kind(&app.db, &scope, &unit.path).await?;
        for (k, n) in &counts {
            *total.entry(*k).or_default() += n;
        }
        roots.push(ChildSummary { unit, counts });
    }
    let mut total: Vec<(OrgKind, i64)> = total.into_iter().collect();
    total.sort_by_key(|(k, _)| OrgKind::ALL.iter().position(|x| x == k));
    Ok((roots, total))
}

/// The units of one level in the actor's view.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LevelCount {
    pub level: oversight_domain::org::Level,
    pub jurisdictions: i64,
    pub venues: i64,
}

/// The four levels with their jurisdictions and venues, and the departments, in the actor's view.
pub async fn level_counts(app: &App, actor: &Actor) -> Result<(Vec<LevelCount>, i64), AppError> {
    let rows = store::count_by_level(&app.db, &actor.scope()).await?;
    let levels = oversight_domain::org::Level::ALL
        .into_iter()
        .map(|level| {
            let n = |venue: bool| rows.iter().filter(|(l, v, _)| *l == Some(level) && *v == venue).map(|r| r.2).sum();
            LevelCount { level, jurisdictions: n(false), venues: n(true) }
        })
        .collect();
    let departments = rows.iter().filter(|(l, _, _)| l.is_none()).map(|r| r.2).sum();
    Ok((levels, departments))
}

/// The units the actor sees right beneath `parent` (checked visible first), or the tops of the
/// actor's scope when there is no parent.
pub async fn children(app: &App, actor: &Actor, parent: Option<&str>) -> Result<Vec<OrgUnit>, AppError> {
    match parent.map(str::trim).filter(|p| !p.is_empty()) {
        Some(parent) => {
            visible_unit(app, actor, parent).await?;
            Ok(store::children(&app.db, &actor.scope(), parent).await?)
        }
        None => Ok(store::scope_roots(&app.db, &actor.scope()).await?),
    }
}

/// The departments that may station a window at a venue: those of its city or district (the
/// departments beneath each unit above it) that the actor sees.
pub async fn stationable_departments(app: &App, actor: &Actor, venue: &OrgUnit) -> Result<Vec<OrgUnit>, AppError> {
    let mut out = Vec::new();
    for ancestor in venue.path.codes() {
        out.extend(
            store::children(&app.db, &actor.scope(), ancestor)
                .await?
                .into_iter()
                .filter(|u| u.kind == OrgKind::Department),
        );
    }
    Ok(out)
}

/// Units in the actor's scope whose name or code holds `text` (at most 200).
pub async fn search(app: &App, actor: &Actor, text: &str) -> Result<Vec<OrgUnit>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    Ok(store::search_units(&app.db, &actor.scope(), text, 200).await?)
}

/// The catalogue's items the actor sees, of one department and matching a text when given.
pub async fn catalogue(
    app: &App,
    actor: &Actor,
    department: Option<&str>,
    text: Option<&str>,
) -> Result<Vec<store::CatalogueEntry>, AppError> {
    Ok(store::catalogue(&app.db, &actor.scope(), given(department), given(text)).await?)
}

/// A filter's text, trimmed; `None` when nothing was given.
fn given(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

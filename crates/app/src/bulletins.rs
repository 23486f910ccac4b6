//! The monthly inspection bulletin (明察暗访通报, issue 13 §5): the office drafts it from the
//! month's findings in its area, chooses which findings and photos it names and edits the text,
//! approves it (which freezes the findings as they stood) and publishes it on the public page,
//! where no staff member's name is left (docs/decisions/0030).

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use oversight_domain::access::{Action, Scope};
use oversight_domain::bulletin::{self, BulletinLine, BulletinState, BulletinStep};
use oversight_domain::inspection::{RectState, Severity};
use oversight_domain::org::OrgPath;
use oversight_store::audit::{self, NewAudit};
use oversight_store::inspections::{self as store, BulletinRow, FindingRow, PhotoMeta, RectFilter};
use serde_json::json;

use crate::{Actor, App, AppError};

/// The most findings one month's bulletin reads: a city's month is a few hundred.
const MAX_FINDINGS: i64 = 5_000;

/// A bulletin as its page shows it.
#[derive(Debug, Clone)]
pub struct BulletinView {
    pub row: BulletinRow,
    pub state: BulletinState,
    /// The findings it names: read live while a draft, as frozen at approval afterwards.
    pub lines: Vec<BulletinLine>,
    /// While a draft, every finding of the month the office may name, with whether it does.
    pub candidates: Vec<(BulletinLine, bool)>,
    /// The photos it shows; while a draft, every photo of a named finding, with whether it does.
    pub photos: Vec<(PhotoMeta, bool)>,
    /// The office may edit the text and the choices (a draft, by a supervisor of its area).
    pub may_edit: bool,
    pub may: Vec<BulletinStep>,
    /// Visits ended that month (live while a draft).
    pub visits: i64,
}

/// A bulletin as the public page shows it: the text and findings with every staff name removed.
#[derive(Debug, Clone)]
pub struct PublicBulletin {
    pub id: String,
    pub month: String,
    pub title: String,
    pub intro: String,
    pub closing: String,
    pub lines: Vec<BulletinLine>,
    pub photo_ids: Vec<String>,
    pub published_at: chrono::DateTime<chrono::Utc>,
}

/// The office's edit of a draft.
#[derive(Debug, Clone, Default)]
pub struct BulletinEdit {
    pub title: String,
    pub intro: String,
    pub closing: String,
    /// The findings it names, by id.
    pub findings: Vec<String>,
    /// The photos it shows, by id.
    pub photos: Vec<String>,
    /// Draft the title and opening again from the findings chosen (the typed ones are dropped).
    pub redraft: bool,
}

fn month_bounds(month: &str) -> Option<(NaiveDate, NaiveDate)> {
    let first = NaiveDate::parse_from_str(&format!("{}-01", month.trim()), "%Y-%m-%d").ok()?;
    let next = first.checked_add_months(chrono::Months::new(1))?;
    Some((first, next.pred_opt()?))
}

fn ids(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

/// The findings sent for rectification in the office's area made in the month, as a bulletin
/// names them, the earliest first.
async fn month_lines(app: &App, path: &str, month: &str) -> Result<Vec<BulletinLine>, AppError> {
    let (from, to) = month_bounds(month).ok_or_else(|| AppError::fault(format!("通报月份 {month} 无法读取")))?;
    let filter = RectFilter { found: Some((from, to)), ..RectFilter::default() };
    let scope = Scope::Subtrees(vec![OrgPath::from_stored(path.to_string())]);
    let mut rows = store::rectifications(&app.db, &scope, &filter, MAX_FINDINGS).await?;
    rows.sort_by(|a, b| (a.found_on, &a.venue_code, &a.id).cmp(&(b.found_on, &b.venue_code, &b.id)));
    let names = crate::network::unit_and_item_names(app).await?;
    Ok(rows.iter().map(|f| line(f, &names)).collect())
}

fn line(f: &FindingRow, names: &HashMap<String, String>) -> BulletinLine {
    let name = |code: &str| names.get(code).cloned().unwrap_or_else(|| code.to_string());
    BulletinLine {
        finding_id: f.id.clone(),
        found_on: f.found_on,
        venue: name(&f.venue_code),
        department: f.department_code.as_deref().map(name).unwrap_or_default(),
        item: f.item_name.clone(),
        severity: Severity::parse(&f.severity).unwrap_or(Severity::Serious),
        window: f.window_name.clone(),
        staff: f.staff_name.clone(),
        note: f.note.clone(),
        repeat: f.repeat_of.is_some(),
        state: RectState::parse(&f.rect_state).unwrap_or(RectState::Open),
        due: f.rect_due,
    }
}

/// Venues whose visit ended in the month, in the office's area.
async fn month_visits(app: &App, path: &str, month: &str) -> Result<i64, AppError> {
    let (from, to) = month_bounds(month).ok_or_else(|| AppError::fault(format!("通报月份 {month} 无法读取")))?;
    let scope = Scope::Subtrees(vec![OrgPath::from_stored(path.to_string())]);
    let until = to.succ_opt().unwrap_or(to);
    let venues = store::visits_ended(&app.db, &scope, app.start_of(from), app.start_of(until)).await?;
    Ok(i64::try_from(venues.len()).unwrap_or(i64::MAX))
}

/// The bulletins of the areas the actor sees, the latest month first.
pub async fn bulletins(app: &App, actor: &Actor) -> Result<Vec<BulletinRow>, AppError> {
    Ok(store::bulletins(&app.db, &actor.scope(), 120).await?)
}

/// The office drafts the bulletin of a month (`YYYY-MM`, not one still to come): every finding
/// of the month in its area, the system's title and opening, the usual closing, no photo yet.
/// Returns the bulletin's id; a month has one bulletin per office.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn draft_bulletin(app: &App, actor: &Actor, month: &str) -> Result<String, AppError> {
    let path = crate::inspections::office_path(actor)?;
    let month = month.trim();
    let Some((first, _)) = month_bounds(month) else { return Err(AppError::field("month", "请选择月份")) };
    if first > app.today() {
        return Err(AppError::field("month", "不能为尚未开始的月份起草通报"));
    }
    let month = first.format("%Y-%m").to_string();
    let lines = month_lines(app, path.as_str(), &month).await?;
    let visits = month_visits(app, path.as_str(), &month).await?;
    let (title, intro) = bulletin::draft(&month, usize::try_from(visits).unwrap_or(0), &lines);
    let now = app.now();
    let row = BulletinRow {
        id: crate::new_id(),
        month: month.clone(),
        path: path.as_str().to_string(),
        title,
        intro,
        closing: bulletin::CLOSING.to_string(),
        state: BulletinState::Draft.as_str().to_string(),
        finding_ids: lines.iter().map(|l| l.finding_id.as_str()).collect::<Vec<_>>().join(" "),
        photo_ids: String::new(),
        lines: None,
        visits,
        created_by: actor.label.clone(),
        created_at: now,
        approved_by: None,
        approved_at: None,
        published_at: None,
        updated_at: now,
    };
    let mut tx = app.db.begin().await?;
    if !store::insert_bulletin(&mut tx, &row).await? {
        return Err(AppError::field(
            "month",
            format!("{}的通报已经起草，请在列表中打开", bulletin::month_label(&month)),
        ));
    }
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "inspection.bulletin.draft",
            target: &row.id,
            path: &row.path,
            detail: json!({ "month": month, "findings": lines.len(), "visits": visits }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(row.id)
}

fn state_of(row: &BulletinRow) -> Result<BulletinState, AppError> {
    BulletinState::parse(&row.state).ok_or_else(|| AppError::fault(format!("通报 {} 的状态无法读取", row.id)))
}

fn frozen(row: &BulletinRow) -> Result<Vec<BulletinLine>, AppError> {
    let text = row.lines.as_deref().ok_or_else(|| AppError::fault(format!("通报 {} 没有审核时的问题清单", row.id)))?;
    serde_json::from_str(text).map_err(|e| AppError::internal(format!("通报 {} 的问题清单无法读取", row.id), e))
}

/// A bulletin, to those who see its office's area.
pub async fn bulletin_view(app: &App, actor: &Actor, id: &str) -> Result<BulletinView, AppError> {
    let what = "通报";
    let row = store::bulletin(&app.db, id).await?.ok_or_else(|| AppError::NotFound(what.into()))?;
    let path = OrgPath::from_stored(row.path.clone());
    actor.require(Action::View, &path, what)?;
    let state = state_of(&row)?;
    let supervises = actor.may(Action::Supervise, &path);
    let chosen_photos: BTreeSet<String> = ids(&row.photo_ids).into_iter().collect();
    let (lines, candidates, visits) = if state == BulletinState::Draft {
        let chosen: BTreeSet<String> = ids(&row.finding_ids).into_iter().collect();
        let all = month_lines(app, &row.path, &row.month).await?;
        let lines = all.iter().filter(|l| chosen.contains(&l.finding_id)).cloned().collect();
        let candidates = all.into_iter().map(|l| (l.clone(), chosen.contains(&l.finding_id))).collect();
        (lines, candidates, month_visits(app, &row.path, &row.month).await?)
    } else {
        (frozen(&row)?, Vec::new(), row.visits)
    };
    let named: Vec<String> = lines.iter().map(|l| l.finding_id.clone()).collect();
    let photos = store::photos_of(&app.db, &named)
        .await?
        .into_iter()
        .map(|p| {
            let shown = chosen_photos.contains(&p.id);
            (p, shown)
        })
        .filter(|(_, shown)| state == BulletinState::Draft || *shown)
        .collect();
    let may = if supervises {
        BulletinStep::ALL.into_iter().filter(|s| s.after(state).is_ok()).collect()
    } else {
        Vec::new()
    };
    Ok(BulletinView {
        may_edit: supervises && state == BulletinState::Draft,
        may,
        state,
        lines,
        candidates,
        photos,
        visits,
        row,
    })
}

/// The bulletin, read to be changed by a supervisor of its area.
async fn for_change(tx: &mut oversight_store::Tx, actor: &Actor, id: &str) -> Result<BulletinRow, AppError> {
    let row = store::bulletin_in(tx, id).await?.ok_or_else(|| AppError::NotFound("通报".into()))?;
    actor.require(Action::Supervise, &OrgPath::from_stored(row.path.clone()), "通报")?;
    Ok(row)
}

/// The office saves a draft: its text, and which of the month's findings and of their photos
/// it names. Refused field by field (nothing saved) when a text is empty or too long, or a
/// finding or photo is not one the draft may name.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn save_bulletin(app: &App, actor: &Actor, id: &str, edit: &BulletinEdit) -> Result<(), AppError> {
    let mut tx = app.db.begin().await?;
    let mut row = for_change(&mut tx, actor, id).await?;
    if state_of(&row)? != BulletinState::Draft {
        return Err(AppError::Conflict("通报已审核，撤回修改后才能编辑".into()));
    }
    let all = month_lines(app, &row.path, &row.month).await?;
    let mut errors = Vec::new();
    let chosen: BTreeSet<&str> = edit.findings.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect();
    if chosen.iter().any(|f| !all.iter().any(|l| l.finding_id == *f)) {
        errors.push(oversight_domain::RowError::new(0, "findings", "所选问题不属于本月本辖区的整改通知"));
    }
    let lines: Vec<BulletinLine> = all.into_iter().filter(|l| chosen.contains(l.finding_id.as_str())).collect();
    let named: Vec<String> = lines.iter().map(|l| l.finding_id.clone()).collect();
    let available: BTreeSet<String> = store::photos_of(&app.db, &named).await?.into_iter().map(|p| p.id).collect();
    let photos: BTreeSet<&str> = edit.photos.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect();
    if photos.iter().any(|p| !available.contains(*p)) {
        errors.push(oversight_domain::RowError::new(0, "photos", "只能选用通报所列问题的照片"));
    }
    let (title, intro) = if edit.redraft {
        let visits = month_visits(app, &row.path, &row.month).await?;
        bulletin::draft(&row.month, usize::try_from(visits).unwrap_or(0), &lines)
    } else {
        (edit.title.trim().to_string(), edit.intro.trim().to_string())
    };
    for (field, text, label, max) in
        [("title", &title, "标题", 100), ("intro", &intro, "导语", 5_000), ("closing", &edit.closing, "结语", 5_000)]
    {
        if text.trim().is_empty() {
            errors.push(oversight_domain::RowError::new(0, field, format!("请填写{label}")));
        } else if text.chars().count() > max {
            errors.push(oversight_domain::RowError::new(0, field, format!("{label}不超过 {max} 字")));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = app.now();
    row.title = title;
    row.intro = intro;
    row.closing = edit.closing.trim().to_string();
    row.finding_ids = named.join(" ");
    row.photo_ids = photos.iter().copied().collect::<Vec<_>>().join(" ");
    row.updated_at = now;
    store::save_bulletin(&mut tx, &row).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "inspection.bulletin.edit",
            target: &row.id,
            path: &row.path,
            detail: json!({ "findings": named.len(), "photos": photos.len(), "redraft": edit.redraft }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A step on a bulletin. Approval freezes the findings it names as they stand now (a later reply
/// or verification changes the rectification, not the bulletin); withdrawing reads them live
/// again; publishing puts it on the public page for good.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn bulletin_step(app: &App, actor: &Actor, id: &str, step: BulletinStep) -> Result<(), AppError> {
    let mut tx = app.db.begin().await?;
    let mut row = for_change(&mut tx, actor, id).await?;
    let state = step.after(state_of(&row)?).map_err(|why| AppError::Conflict(why.into()))?;
    let now = app.now();
    match step {
        BulletinStep::Approve => {
            let chosen: BTreeSet<String> = ids(&row.finding_ids).into_iter().collect();
            let lines: Vec<BulletinLine> = month_lines(app, &row.path, &row.month)
                .await?
                .into_iter()
                .filter(|l| chosen.contains(&l.finding_id))
                .collect();
            row.lines = Some(serde_json::to_string(&lines).map_err(|e| AppError::internal("the bulletin's lines", e))?);
            row.visits = month_visits(app, &row.path, &row.month).await?;
            row.approved_by = Some(actor.label.clone());
            row.approved_at = Some(now);
        }
        BulletinStep::Withdraw => {
            row.lines = None;
            row.approved_by = None;
            row.approved_at = None;
        }
        BulletinStep::Publish => row.published_at = Some(now),
    }
    row.state = state.as_str().to_string();
    row.updated_at = now;
    store::save_bulletin(&mut tx, &row).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: &format!("inspection.bulletin.{}", step.as_str()),
            target: &row.id,
            path: &row.path,
            detail: json!({ "month": row.month, "state": state.as_str() }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The published bulletins, the latest first (the public page: anyone, no account).
pub async fn published(app: &App) -> Result<Vec<BulletinRow>, AppError> {
    Ok(store::published_bulletins(&app.db, 120).await?)
}

/// A published bulletin as the public reads it; any other is not found.
pub async fn public_bulletin(app: &App, id: &str) -> Result<PublicBulletin, AppError> {
    let what = "通报";
    let row = store::bulletin(&app.db, id).await?.ok_or_else(|| AppError::NotFound(what.into()))?;
    let (BulletinState::Published, Some(published_at)) = (state_of(&row)?, row.published_at) else {
        return Err(AppError::NotFound(what.into()));
    };
    let lines = frozen(&row)?;
    Ok(PublicBulletin {
        title: bulletin::redact(&row.title, &lines),
        intro: bulletin::redact(&row.intro, &lines),
        closing: bulletin::redact(&row.closing, &lines),
        lines: bulletin::public_lines(&lines),
        photo_ids: ids(&row.photo_ids),
        id: row.id,
        month: row.month,
        published_at,
    })
}

/// A photo a published bulletin shows; no other photo is reachable without an account.
pub async fn public_photo(app: &App, bulletin_id: &str, photo_id: &str) -> Result<Vec<u8>, AppError> {
    let b = public_bulletin(app, bulletin_id).await?;
    if !b.photo_ids.iter().any(|p| p == photo_id) {
        return Err(AppError::NotFound("照片".into()));
    }
    let (_, content) = store::photo(&app.db, photo_id).await?.ok_or_else(|| AppError::NotFound("照片".into()))?;
    Ok(content)
}

/// The bulletin as a Word file (A4, 仿宋 text, 黑体 headings): the office's own copy, which
/// names the staff as the findings do.
pub fn bulletin_docx(v: &BulletinView) -> Result<Vec<u8>, AppError> {
    use docx_rs::{AlignmentType, Docx, Paragraph, Run, RunFonts, Table, TableCell, TableRow};
    let text =
        |s: &str, size: usize| Run::new().add_text(s).size(size).fonts(RunFonts::new().east_asia("仿宋").ascii("仿宋"));
    let heading = |s: &str, size: usize| {
        Run::new().add_text(s).size(size).bold().fonts(RunFonts::new().east_asia("黑体").ascii("黑体"))
    };
    let paragraphs = |doc: Docx, body: &str| {
        body.lines().fold(doc, |doc, line| doc.add_paragraph(Paragraph::new().add_run(text(line, 32))))
    };
    let mut doc = Docx::new()
        .page_size(11_906, 16_838)
        .add_paragraph(Paragraph::new().add_run(heading(&v.row.title, 44)).align(AlignmentType::Center));
    doc = paragraphs(doc, &v.row.intro);
    if !v.lines.is_empty() {
        doc = doc.add_paragraph(Paragraph::new().add_run(heading("问题清单", 32)));
        let cell = |s: &str| TableCell::new().add_paragraph(Paragraph::new().add_run(text(s, 21)));
        let mut rows = vec![TableRow::new(
            ["序号", "日期", "场所", "责任部门", "问题", "程度", "窗口/人员", "情况", "整改"]
                .into_iter()
                .map(cell)
                .collect(),
        )];
        for (i, l) in v.lines.iter().enumerate() {
            let who = [l.window.as_str(), l.staff.as_str()].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>();
            let severity =
                if l.repeat { format!("{}（重复）", l.severity.label()) } else { l.severity.label().to_string() };
            rows.push(TableRow::new(vec![
                cell(&(i + 1).to_string()),
                cell(&l.found_on.format("%m-%d").to_string()),
                cell(&l.venue),
                cell(&l.department),
                cell(&l.item),
                cell(&severity),
                cell(&who.join(" ")),
                cell(&l.note),
                cell(l.state.label()),
            ]));
        }
        doc = doc.add_table(Table::new(rows));
    }
    doc = paragraphs(doc, &v.row.closing);
    let mut out = std::io::Cursor::new(Vec::new());
    doc.build().pack(&mut out).map_err(|e| AppError::internal("building the DOCX file failed", e))?;
    Ok(out.into_inner())
}

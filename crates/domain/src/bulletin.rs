//! The monthly inspection bulletin (明察暗访通报): its life (draft, approved, published), the
//! text the system drafts from the month's findings, and what the public sees: every staff
//! member's name removed, wherever the office's text repeats it.

use crate::inspection::{RectState, Severity};

crate::words! {
    /// Where a bulletin stands.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum BulletinState as "通报状态" {
        Draft = "draft" / "草稿",
        Approved = "approved" / "已审核待公开",
        Published = "published" / "已公开",
    }
}

crate::words! {
    /// A step on a bulletin.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum BulletinStep as "通报步骤" {
        Approve = "approve" / "审核通过",
        /// Back to a draft, to change it before it is published.
        Withdraw = "withdraw" / "撤回修改",
        Publish = "publish" / "公开发布",
    }
}

impl BulletinStep {
    /// The state after this step from `state`, or why it cannot be taken.
    pub fn after(self, state: BulletinState) -> Result<BulletinState, &'static str> {
        match (self, state) {
            (_, BulletinState::Published) => Err("通报已公开发布，不能再更改"),
            (BulletinStep::Approve, BulletinState::Draft) => Ok(BulletinState::Approved),
            (BulletinStep::Approve, _) => Err("通报已审核"),
            (BulletinStep::Withdraw | BulletinStep::Publish, BulletinState::Draft) => Err("通报尚未审核"),
            (BulletinStep::Withdraw, BulletinState::Approved) => Ok(BulletinState::Draft),
            (BulletinStep::Publish, BulletinState::Approved) => Ok(BulletinState::Published),
        }
    }
}

/// One finding as a bulletin names it: names, not codes, and its rectification as it stood.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BulletinLine {
    pub finding_id: String,
    pub found_on: chrono::NaiveDate,
    pub venue: String,
    pub department: String,
    pub item: String,
    pub severity: Severity,
    pub window: String,
    /// The staff member named by the inspector; never shown on the public page.
    pub staff: String,
    pub note: String,
    pub repeat: bool,
    pub state: RectState,
    pub due: Option<chrono::NaiveDate>,
}

/// What the public sees of a bulletin's text: each staff member's name of its findings replaced
/// by “某工作人员”, the longest name first (so that “王小明” is not left as “某工作人员小明”).
pub fn redact(text: &str, lines: &[BulletinLine]) -> String {
    let mut names: Vec<&str> = lines.iter().map(|l| l.staff.trim()).filter(|n| !n.is_empty()).collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
    names.dedup();
    names.iter().fold(text.to_string(), |t, name| t.replace(name, "某工作人员"))
}

/// The public form of the lines: no staff, and every name removed from the notes too.
pub fn public_lines(lines: &[BulletinLine]) -> Vec<BulletinLine> {
    lines.iter().map(|l| BulletinLine { staff: String::new(), note: redact(&l.note, lines), ..l.clone() }).collect()
}

/// `2011年3月` of `2011-03`.
pub fn month_label(month: &str) -> String {
    match month.split_once('-') {
        Some((y, m)) => format!("{y}年{}月", m.trim_start_matches('0')),
        None => month.to_string(),
    }
}

/// The title and opening text the system drafts for a month (`2011-03`) from its findings and
/// the number of venues visited; the office edits both.
pub fn draft(month: &str, visits: usize, lines: &[BulletinLine]) -> (String, String) {
    let label = month_label(month);
    let title = format!("{label}明察暗访情况通报");
    let serious = lines.iter().filter(|l| l.severity == Severity::Serious).count();
    let repeats = lines.iter().filter(|l| l.repeat).count();
    let mut venues: Vec<&str> = lines.iter().map(|l| l.venue.as_str()).collect();
    venues.sort_unstable();
    venues.dedup();
    let mut departments: Vec<&str> = lines.iter().map(|l| l.department.as_str()).filter(|d| !d.is_empty()).collect();
    departments.sort_unstable();
    departments.dedup();
    let mut intro = format!("{label}，效能办对 {visits} 个服务场所开展明察暗访，");
    if lines.is_empty() {
        intro.push_str("未发现问题。");
    } else {
        intro.push_str(&format!(
            "在 {} 个场所发现问题 {} 个，其中严重问题 {serious} 个、90 日内重复发生的问题 {repeats} 个，涉及{}。",
            venues.len(),
            lines.len(),
            departments.join("、")
        ));
        intro.push_str("现将有关情况通报如下。");
    }
    (title, intro)
}

/// The closing text a draft starts with.
pub const CLOSING: &str = "请各责任部门对照问题清单，在整改期限内完成整改并在平台提交整改反馈；效能办将逐项核实，对逾期未整改或重复发生的问题予以督办，并纳入年度绩效考评。";

#[cfg(test)]
mod tests {
    use super::*;

    fn line(staff: &str, note: &str, severity: Severity, repeat: bool) -> BulletinLine {
        BulletinLine {
            finding_id: "f".into(),
            found_on: "2011-03-08".parse().unwrap(),
            venue: "秀英区政务服务中心".into(),
            department: "区人社局".into(),
            item: "在岗在位".into(),
            severity,
            window: "社保窗口".into(),
            staff: staff.into(),
            note: note.into(),
            repeat,
            state: RectState::Open,
            due: None,
        }
    }

    #[test]
    fn the_public_never_reads_a_staff_members_name() {
        let lines = [
            line("王小明", "王小明上班时间玩手机，王某称在等材料", Severity::Serious, false),
            line("王某", "", Severity::Minor, true),
            line("", "无人值守", Severity::Minor, false),
        ];
        let public = public_lines(&lines);
        assert_eq!(public[0].note, "某工作人员上班时间玩手机，某工作人员称在等材料");
        assert!(public.iter().all(|l| l.staff.is_empty()));
        assert_eq!(redact("对王小明、王某予以通报批评", &lines), "对某工作人员、某工作人员予以通报批评");
        assert_eq!(public[2].note, "无人值守", "nothing else changes");
    }

    #[test]
    fn a_draft_counts_the_months_findings() {
        let lines = [line("", "x", Severity::Serious, false), line("", "y", Severity::Minor, true)];
        let (title, intro) = draft("2011-03", 4, &lines);
        assert_eq!(title, "2011年3月明察暗访情况通报");
        assert!(intro.contains("对 4 个服务场所") && intro.contains("在 1 个场所发现问题 2 个"), "{intro}");
        assert!(intro.contains("严重问题 1 个") && intro.contains("重复发生的问题 1 个") && intro.contains("区人社局"));
        assert!(draft("2011-04", 2, &[]).1.ends_with("未发现问题。"));
    }

    #[test]
    fn a_bulletin_is_approved_before_it_is_published_and_never_changes_after() {
        use BulletinState::*;
        assert_eq!(BulletinStep::Publish.after(Draft), Err("通报尚未审核"));
        assert_eq!(BulletinStep::Approve.after(Draft), Ok(Approved));
        assert_eq!(BulletinStep::Withdraw.after(Approved), Ok(Draft));
        assert_eq!(BulletinStep::Publish.after(Approved), Ok(Published));
        assert!(BulletinStep::ALL.iter().all(|s| s.after(Published).is_err()));
    }
}

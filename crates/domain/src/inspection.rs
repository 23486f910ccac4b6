//! Inspections (明察暗访): rounds whose venues are drawn by lot in a way anyone can check, and
//! the checklists inspectors walk a service hall with.
//!
//! The draw: when a round is planned the server makes a random seed and publishes only its
//! commitment, `SHA-256(seed)` in hex. For each level in the order city, district, town, village,
//! the candidates of that level are ranked by `SHA-256(seed + ":" + venue code)` in hex, and the
//! first as many as the round's quota for that level are drawn. Once the round ends the seed is
//! published: anyone holding it and the published list of candidates can re-run the draw, and
//! check the seed against the commitment.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::org::Level;

crate::words! {
    /// Whether the venues know the inspectors are coming.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum RoundKind as "检查方式" {
        Open = "open" / "明察",
        Covert = "covert" / "暗访",
    }
}

/// A venue that may be drawn: its code and level.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Candidate {
    pub code: String,
    pub level: Level,
}

/// The commitment to a seed: its SHA-256, in lower-case hex.
pub fn commitment(seed: &str) -> String {
    hex::encode(Sha256::digest(seed.as_bytes()))
}

/// A candidate's place in the lot: `SHA-256(seed + ":" + code)` in lower-case hex.
pub fn lot(seed: &str, code: &str) -> String {
    hex::encode(Sha256::digest(format!("{seed}:{code}").as_bytes()))
}

/// Why a round's draw cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrawError {
    #[error("{level}只有 {available} 个候选场所，少于要抽取的 {wanted} 个")]
    TooFew { level: &'static str, available: usize, wanted: u32 },
    #[error("至少要抽取 1 个场所")]
    Nothing,
}

/// Draws the venues of a round: per level (city first), the candidates with the smallest lots,
/// as many as the quota of that level. The same seed and candidates give the same venues, in
/// whatever order the candidates are listed.
pub fn draw(seed: &str, candidates: &[Candidate], quotas: &BTreeMap<Level, u32>) -> Result<Vec<String>, DrawError> {
    if quotas.values().all(|q| *q == 0) {
        return Err(DrawError::Nothing);
    }
    let mut drawn = Vec::new();
    for level in Level::ALL {
        let wanted = quotas.get(&level).copied().unwrap_or(0);
        if wanted == 0 {
            continue;
        }
        let mut ranked: Vec<(String, &str)> =
            candidates.iter().filter(|c| c.level == level).map(|c| (lot(seed, &c.code), c.code.as_str())).collect();
        ranked.sort();
        ranked.dedup_by(|a, b| a.1 == b.1);
        if ranked.len() < wanted as usize {
            return Err(DrawError::TooFew { level: level.label(), available: ranked.len(), wanted });
        }
        drawn.extend(ranked.into_iter().take(wanted as usize).map(|(_, code)| code.to_string()));
    }
    Ok(drawn)
}

crate::words! {
    /// How serious a finding is: it sets the rectification's limit.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Severity as "问题性质" {
        Minor = "minor" / "一般问题",
        Serious = "serious" / "严重问题",
    }
}

/// The office's limits for findings (`[inspections]` in the configuration): working days to
/// rectify by severity, and how many days back an earlier finding of the same item at the same
/// venue makes a new one a repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct InspectionRules {
    pub minor_days: u32,
    pub serious_days: u32,
    pub repeat_days: u32,
}

impl Default for InspectionRules {
    fn default() -> Self {
        InspectionRules { minor_days: 10, serious_days: 5, repeat_days: 90 }
    }
}

crate::words! {
    /// Where a finding's rectification (整改通知) stands.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum RectState as "整改状态" {
        /// The visit is still going on: the finding is the inspector's.
        Draft = "draft" / "检查中",
        Open = "open" / "待整改",
        Replied = "replied" / "待核实",
        Verified = "verified" / "已核实销号",
    }
}

crate::words! {
    /// A step of a rectification: the department's reply, the office's verification or return.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum RectStep as "整改步骤" {
        Reply = "reply" / "整改反馈",
        Verify = "verify" / "核实销号",
        Return = "return" / "退回重新整改",
    }
}

crate::words! {
    /// How the office verified a rectification.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum VerifyMethod as "核实方式" {
        Reinspection = "reinspection" / "复查",
        Call = "call" / "电话核实",
        Records = "records" / "查阅记录",
    }
}

impl RectStep {
    /// The office's steps (the reply is the department's).
    pub fn by_office(self) -> bool {
        self != RectStep::Reply
    }

    /// The state after this step from `state`, or why it cannot be taken.
    pub fn after(self, state: RectState) -> Result<RectState, String> {
        match (self, state) {
            (_, RectState::Draft) => Err("检查尚未结束，整改通知还未发出".into()),
            (_, RectState::Verified) => Err("本项整改已核实销号".into()),
            (RectStep::Reply, RectState::Open) => Ok(RectState::Replied),
            (RectStep::Reply, _) => Err("整改反馈已提交，等待核实".into()),
            (RectStep::Verify, RectState::Replied) => Ok(RectState::Verified),
            (RectStep::Return, RectState::Replied) => Ok(RectState::Open),
            (_, _) => Err("部门尚未提交整改反馈".into()),
        }
    }
}

/// Whether a rectification in `state`, due on `due`, is past its due day on `today`: only one
/// still waiting for the department's reply is.
pub fn rectification_overdue(state: RectState, due: Option<chrono::NaiveDate>, today: chrono::NaiveDate) -> bool {
    state == RectState::Open && due.is_some_and(|d| d < today)
}

/// The day a rectification in `state`, due on `due`, becomes overdue and raises its alert: the
/// day after its due day while the department's reply is owed; none once replied or verified.
pub fn rectification_alert_on(state: RectState, due: Option<chrono::NaiveDate>) -> Option<chrono::NaiveDate> {
    due.filter(|_| state == RectState::Open).and_then(|d| d.succ_opt())
}

impl InspectionRules {
    /// Working days to rectify a finding of this severity.
    pub fn days(&self, severity: Severity) -> u32 {
        match severity {
            Severity::Minor => self.minor_days,
            Severity::Serious => self.serious_days,
        }
    }
}

/// What the inspections report counts of one finding sent for rectification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FindingFacts {
    pub severity: Severity,
    /// Whether it repeats an earlier finding of the same item at the same venue.
    pub repeat: bool,
    pub state: RectState,
    pub due: Option<chrono::NaiveDate>,
    /// The department's last reply (the one verified, once verified).
    pub replied_on: Option<chrono::NaiveDate>,
}

crate::words! {
    /// A figure of the inspections report; each is a rule on one finding, so that a figure's
    /// link lists exactly the findings it counts.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum FindingFigure as "检查统计指标" {
        Findings = "findings" / "发现问题",
        Serious = "serious" / "严重问题",
        Repeats = "repeats" / "重复发现",
        Verified = "verified" / "已核实销号",
        /// Verified, and the verified reply came by the due day.
        OnTime = "on_time" / "按期整改",
        /// Still waiting for the department's reply after its due day.
        Overdue = "overdue" / "逾期未反馈",
    }
}

impl FindingFigure {
    /// Whether the finding counts in this figure on `today`.
    pub fn holds(self, f: &FindingFacts, today: chrono::NaiveDate) -> bool {
        match self {
            FindingFigure::Findings => true,
            FindingFigure::Serious => f.severity == Severity::Serious,
            FindingFigure::Repeats => f.repeat,
            FindingFigure::Verified => f.state == RectState::Verified,
            FindingFigure::OnTime => {
                f.state == RectState::Verified && matches!((f.replied_on, f.due), (Some(r), Some(d)) if r <= d)
            }
            FindingFigure::Overdue => rectification_overdue(f.state, f.due, today),
        }
    }
}

/// The counts of the inspections report for a set of findings (and the visits they came from).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct InspectionCounts {
    /// Visits ended in the period.
    pub visits: u64,
    pub findings: u64,
    pub serious: u64,
    pub repeats: u64,
    pub verified: u64,
    pub on_time: u64,
    pub overdue: u64,
}

impl InspectionCounts {
    pub fn add(&mut self, f: &FindingFacts, today: chrono::NaiveDate) {
        for figure in FindingFigure::ALL {
            if figure.holds(f, today) {
                *self.count_mut(figure) += 1;
            }
        }
    }

    pub fn count(&self, figure: FindingFigure) -> u64 {
        match figure {
            FindingFigure::Findings => self.findings,
            FindingFigure::Serious => self.serious,
            FindingFigure::Repeats => self.repeats,
            FindingFigure::Verified => self.verified,
            FindingFigure::OnTime => self.on_time,
            FindingFigure::Overdue => self.overdue,
        }
    }

    fn count_mut(&mut self, figure: FindingFigure) -> &mut u64 {
        match figure {
            FindingFigure::Findings => &mut self.findings,
            FindingFigure::Serious => &mut self.serious,
            FindingFigure::Repeats => &mut self.repeats,
            FindingFigure::Verified => &mut self.verified,
            FindingFigure::OnTime => &mut self.on_time,
            FindingFigure::Overdue => &mut self.overdue,
        }
    }

    /// 按期整改率: findings rectified on time (verified) of all findings; none without any.
    pub fn on_time_rate(&self) -> Option<f64> {
        (self.findings > 0).then(|| self.on_time as f64 / self.findings as f64)
    }

    /// 重复发现率: repeats of all findings.
    pub fn repeat_rate(&self) -> Option<f64> {
        (self.findings > 0).then(|| self.repeats as f64 / self.findings as f64)
    }
}

/// One item a checklist has the inspector look at.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItem {
    pub code: String,
    pub name: String,
    /// What to look for, shown beside the item.
    #[serde(default)]
    pub guide: String,
}

/// A checklist for one kind of venue. A change is a new version: visits keep the version they
/// were made with.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checklist {
    pub name: String,
    #[serde(rename = "item", default)]
    pub items: Vec<ChecklistItem>,
}

/// Why a checklist's text is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ChecklistError(pub String);

impl Checklist {
    /// Reads a checklist from its TOML text (`name`, then `[[item]]` tables with `code`, `name`,
    /// `guide`): at least one item, codes unique, nothing empty.
    pub fn parse(text: &str) -> Result<Checklist, ChecklistError> {
        let list: Checklist =
            toml::from_str(text).map_err(|e| ChecklistError(format!("检查表格式有误：{}", e.message())))?;
        if list.name.trim().is_empty() {
            return Err(ChecklistError("检查表缺少名称（name）".into()));
        }
        if list.items.is_empty() {
            return Err(ChecklistError("检查表至少要有一个检查项（[[item]]）".into()));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, item) in list.items.iter().enumerate() {
            if item.code.trim().is_empty() || item.name.trim().is_empty() {
                return Err(ChecklistError(format!("第 {} 个检查项缺少编码（code）或名称（name）", i + 1)));
            }
            if !seen.insert(item.code.trim()) {
                return Err(ChecklistError(format!("检查项编码“{}”重复", item.code)));
            }
        }
        Ok(list)
    }

    /// The default checklist for service halls: the items Haikou's office inspects.
    pub fn service_hall() -> Checklist {
        Checklist::parse(SERVICE_HALL).expect("the shipped checklist is valid")
    }
}

/// The shipped checklist for service halls (政务服务中心、便民服务中心).
pub const SERVICE_HALL: &str = r#"name = "政务服务大厅明察暗访检查表"

[[item]]
code = "duty"
name = "在岗在位、遵守作息"
guide = "无迟到早退、脱岗离岗；工作时间无玩游戏、网购、看视频、闲聊"

[[item]]
code = "dress"
name = "着装规范、佩戴工牌"
guide = "统一着装，工作牌（桌牌）佩戴摆放规范"

[[item]]
code = "attitude"
name = "服务态度"
guide = "文明用语，耐心解答，无推诿、刁难、态度生硬"

[[item]]
code = "signage"
name = "标识指引"
guide = "窗口标识、功能分区、导办指引清晰准确"

[[item]]
code = "posting"
name = "公开公示"
guide = "办事指南、收费标准、承诺时限等按要求公示且为最新"

[[item]]
code = "first_contact"
name = "首问负责"
guide = "首位接待人员负责解答或引导，不以“不归我管”推脱"

[[item]]
code = "one_time"
name = "一次性告知"
guide = "材料不全时一次性书面告知需补正的全部内容"

[[item]]
code = "time_limit"
name = "限时办结"
guide = "在承诺时限内办结，超时有说明"

[[item]]
code = "complaint_channel"
name = "投诉渠道"
guide = "投诉电话、意见箱、评价器等投诉评价渠道醒目可用"

[[item]]
code = "environment"
name = "办事环境"
guide = "大厅整洁，便民设施（座椅、饮水、填单台、老年人服务）齐全可用"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn candidates() -> Vec<Candidate> {
        let mut out = vec![Candidate { code: "460100-V".into(), level: Level::City }];
        for d in ["460105", "460106", "460107", "460108"] {
            out.push(Candidate { code: format!("{d}-V"), level: Level::District });
            for t in 1..=10 {
                out.push(Candidate { code: format!("{d}{t:03}-V"), level: Level::Town });
            }
        }
        out
    }

    #[test]
    fn the_draw_is_the_published_rule_and_ignores_the_candidates_order() {
        let seed = "5d41402abc4b2a76b9719d911017c592";
        let quotas = BTreeMap::from([(Level::District, 2), (Level::Town, 3)]);
        let drawn = draw(seed, &candidates(), &quotas).unwrap();
        // The rule re-run by hand: the two districts and three towns with the smallest lots.
        let smallest = |level: Level, n: usize| {
            let mut lots: Vec<(String, String)> =
                candidates().into_iter().filter(|c| c.level == level).map(|c| (lot(seed, &c.code), c.code)).collect();
            lots.sort();
            lots.into_iter().take(n).map(|(_, c)| c).collect::<Vec<_>>()
        };
        assert_eq!(drawn, [smallest(Level::District, 2), smallest(Level::Town, 3)].concat());
        let mut shuffled = candidates();
        shuffled.reverse();
        assert_eq!(draw(seed, &shuffled, &quotas).unwrap(), drawn);
        assert_ne!(draw("another seed", &candidates(), &quotas).unwrap(), drawn, "the seed decides");
        assert_eq!(commitment("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn a_rectification_goes_reply_then_verify_or_back() {
        assert_eq!(RectStep::Reply.after(RectState::Open), Ok(RectState::Replied));
        assert_eq!(RectStep::Return.after(RectState::Replied), Ok(RectState::Open));
        assert_eq!(RectStep::Verify.after(RectState::Replied), Ok(RectState::Verified));
        assert!(RectStep::Verify.after(RectState::Open).is_err());
        assert!(RectStep::Reply.after(RectState::Draft).is_err());
        assert!(RectStep::Reply.after(RectState::Verified).is_err());
        assert_eq!(InspectionRules::default().days(Severity::Serious), 5);
    }

    #[test]
    fn the_report_counts_each_finding_by_the_rule_its_link_lists() {
        let day = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        let facts = |severity, repeat, state, replied: Option<&str>| FindingFacts {
            severity,
            repeat,
            state,
            due: Some(day("2011-03-10")),
            replied_on: replied.map(day),
        };
        let today = day("2011-03-20");
        let all = [
            facts(Severity::Serious, false, RectState::Verified, Some("2011-03-10")),
            facts(Severity::Minor, true, RectState::Verified, Some("2011-03-11")),
            facts(Severity::Minor, false, RectState::Open, None),
            facts(Severity::Minor, true, RectState::Replied, Some("2011-03-09")),
        ];
        let mut c = InspectionCounts::default();
        all.iter().for_each(|f| c.add(f, today));
        let want =
            InspectionCounts { visits: 0, findings: 4, serious: 1, repeats: 2, verified: 2, on_time: 1, overdue: 1 };
        assert_eq!(c, want, "on time only when the verified reply came by the due day; replied is not overdue");
        assert_eq!((c.on_time_rate(), c.repeat_rate()), (Some(0.25), Some(0.5)));
        for figure in FindingFigure::ALL {
            assert_eq!(all.iter().filter(|f| figure.holds(f, today)).count() as u64, c.count(figure), "{figure:?}");
        }
    }

    #[test]
    fn an_open_rectification_alerts_the_day_after_its_due_day() {
        let due = "2011-03-31".parse().ok();
        let day = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        assert_eq!(rectification_alert_on(RectState::Open, due), Some(day("2011-04-01")));
        assert!(!rectification_overdue(RectState::Open, due, day("2011-03-31")));
        assert!(rectification_overdue(RectState::Open, due, day("2011-04-01")));
        assert_eq!(rectification_alert_on(RectState::Replied, due), None, "the office's turn");
        assert_eq!(rectification_alert_on(RectState::Draft, None), None);
    }

    #[test]
    fn a_quota_beyond_the_candidates_is_refused() {
        let quotas = BTreeMap::from([(Level::District, 5)]);
        assert!(matches!(draw("s", &candidates(), &quotas), Err(DrawError::TooFew { available: 4, wanted: 5, .. })));
        assert_eq!(draw("s", &candidates(), &BTreeMap::new()), Err(DrawError::Nothing));
    }

    #[test]
    fn the_shipped_checklist_covers_the_haikou_items_and_bad_ones_are_named() {
        let list = Checklist::service_hall();
        let codes: Vec<&str> = list.items.iter().map(|i| i.code.as_str()).collect();
        for code in [
            "duty",
            "dress",
            "attitude",
            "signage",
            "posting",
            "first_contact",
            "one_time",
            "time_limit",
            "complaint_channel",
            "environment",
        ] {
            assert!(codes.contains(&code), "{code}");
        }
        let dup = "name = \"x\"\n[[item]]\ncode = \"a\"\nname = \"A\"\n[[item]]\ncode = \"a\"\nname = \"B\"\n";
        assert_eq!(Checklist::parse(dup).unwrap_err().0, "检查项编码“a”重复");
        assert!(Checklist::parse("name = \"x\"\n").unwrap_err().0.contains("[[item]]"));
    }
}

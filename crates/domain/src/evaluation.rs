//! Performance evaluation (绩效考评): a scheme of weighted indicators, each scored from a value
//! of the records, summed per department, ranked with ties and placed in tiers with quotas
//! (docs/evaluation.md). The scheme's text form (TOML) is read by the caller into
//! [`SchemeText`]; [`Scheme::parse`] checks it whole.

use std::collections::BTreeMap;

use crate::RowError;

/// Where an indicator's value comes from (per department, over the period).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Source {
    CasesSettled,
    CasesOverdue,
    CasesOverdueRate,
    CasesAnomalies,
    TicketsReceived,
    TicketsClosed,
    TicketsCompletionRate,
    TicketsComplaints,
    TicketsSatisfactionRate,
    TasksVerified,
    TasksOnTimeRate,
    TasksRed,
    RatingsRated,
    RatingsGoodRate,
    RatingsBad,
    RatingsBadRectificationRate,
    InspectionsFindings,
    InspectionsMajorFindings,
    InspectionsRectifiedOnTimeRate,
    SupervisionNotices,
    SupervisionYellowCards,
    SupervisionRedCards,
    Manual,
}

impl Source {
    pub const ALL: [(&'static str, Source); 23] = [
        ("cases.settled", Source::CasesSettled),
        ("cases.overdue", Source::CasesOverdue),
        ("cases.overdue_rate", Source::CasesOverdueRate),
        ("cases.anomalies", Source::CasesAnomalies),
        ("tickets.received", Source::TicketsReceived),
        ("tickets.closed", Source::TicketsClosed),
        ("tickets.completion_rate", Source::TicketsCompletionRate),
        ("tickets.complaints", Source::TicketsComplaints),
        ("tickets.satisfaction_rate", Source::TicketsSatisfactionRate),
        ("tasks.verified", Source::TasksVerified),
        ("tasks.on_time_rate", Source::TasksOnTimeRate),
        ("tasks.red", Source::TasksRed),
        ("ratings.rated", Source::RatingsRated),
        ("ratings.good_rate", Source::RatingsGoodRate),
        ("ratings.bad", Source::RatingsBad),
        ("ratings.bad_rectification_rate", Source::RatingsBadRectificationRate),
        ("inspections.findings", Source::InspectionsFindings),
        ("inspections.major_findings", Source::InspectionsMajorFindings),
        ("inspections.rectified_on_time_rate", Source::InspectionsRectifiedOnTimeRate),
        ("supervision.notices", Source::SupervisionNotices),
        ("supervision.yellow_cards", Source::SupervisionYellowCards),
        ("supervision.red_cards", Source::SupervisionRedCards),
        ("manual", Source::Manual),
    ];

    pub fn parse(s: &str) -> Option<Source> {
        Self::ALL.iter().find(|(k, _)| *k == s).map(|(_, v)| *v)
    }

    pub fn as_str(self) -> &'static str {
        Self::ALL.iter().find(|(_, v)| *v == self).map_or("", |(k, _)| k)
    }

    /// The source as office staff name it.
    pub fn label(self) -> &'static str {
        match self {
            Source::CasesSettled => "办结（含超期）办件数",
            Source::CasesOverdue => "超期办件数",
            Source::CasesOverdueRate => "办件超期率",
            Source::CasesAnomalies => "有异常的办件数",
            Source::TicketsReceived => "效能投诉受理数",
            Source::TicketsClosed => "效能投诉办结数",
            Source::TicketsCompletionRate => "效能投诉办结率",
            Source::TicketsComplaints => "被投诉数",
            Source::TicketsSatisfactionRate => "投诉办理满意率",
            Source::TasksVerified => "督办任务核实销号数",
            Source::TasksOnTimeRate => "督办任务按期完成率",
            Source::TasksRed => "期末红灯督办任务数",
            Source::RatingsRated => "好差评评价数",
            Source::RatingsGoodRate => "好评率",
            Source::RatingsBad => "差评数",
            Source::RatingsBadRectificationRate => "差评整改率",
            Source::InspectionsFindings => "明察暗访发现问题数",
            Source::InspectionsMajorFindings => "明察暗访严重问题数",
            Source::InspectionsRectifiedOnTimeRate => "明察暗访按期整改率",
            Source::SupervisionNotices => "督办通知数",
            Source::SupervisionYellowCards => "黄牌数",
            Source::SupervisionRedCards => "红牌数",
            Source::Manual => "人工评分",
        }
    }

    /// Whether the value is a rate (a share between 0 and 1; none without a denominator).
    pub fn is_rate(self) -> bool {
        self.as_str().ends_with("_rate")
    }
}

/// The office's rules for evaluations (`[evaluation]` in the configuration): working days after
/// publication a department has to appeal a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvaluationRules {
    pub appeal_days: u32,
}

impl Default for EvaluationRules {
    fn default() -> Self {
        EvaluationRules { appeal_days: 10 }
    }
}

/// What a rate without a denominator scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum IfNone {
    /// The indicator's weight: nothing to blame (the default).
    Full,
    Zero,
}

/// How a value becomes points.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub enum Score {
    /// weight × clamp((value − worst) / (best − worst), 0, 1); either direction.
    Linear { best: f64, worst: f64 },
    /// weight − min(per × value, cap), never below 0; cap defaults to the weight.
    Deduct { per: f64, cap: Option<f64> },
    /// min(per × value, cap), on top of the weights.
    Bonus { per: f64, cap: f64 },
    /// The points the office entered.
    Manual,
}

/// One indicator of a scheme.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Indicator {
    pub code: String,
    pub name: String,
    pub source: Source,
    pub weight: f64,
    pub score: Score,
    pub if_none: IfNone,
    /// A manual indicator the department assesses itself first (`self_assessment = true`); the
    /// office's points come after, beside the department's figure.
    pub self_assessment: bool,
}

/// A tier (优秀, 良好…): reached from `min_score`, at most `max_share` of the departments.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tier {
    pub name: String,
    pub min_score: f64,
    #[serde(default)]
    pub max_share: Option<f64>,
}

/// The departments a scheme evaluates.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Departments {
    All,
    Listed(Vec<String>),
}

/// A group of departments (委、局、办…) ranked and tiered among themselves, with its own weight
/// for some indicators (`[[group]]`, this project's extension of the format).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Group {
    pub name: String,
    pub departments: Vec<String>,
    /// Indicator code → the weight it has in this group (the others keep the scheme's).
    pub weights: BTreeMap<String, f64>,
}

/// A checked scheme.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Scheme {
    pub name: String,
    pub departments: Departments,
    pub indicators: Vec<Indicator>,
    pub tiers: Vec<Tier>,
    /// Groups of departments; none: all rank together.
    pub groups: Vec<Group>,
}

/// The scheme as written (TOML), before it is checked.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemeText {
    pub name: String,
    #[serde(default)]
    pub departments: Option<DepartmentsText>,
    #[serde(default)]
    pub indicator: Vec<IndicatorText>,
    #[serde(default)]
    pub tier: Vec<Tier>,
    #[serde(default)]
    pub group: Vec<GroupText>,
}

/// A group as written: `[[group]]` with `name`, `departments` (codes) and optional `weights`
/// (`{ A1 = 30, … }`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupText {
    pub name: String,
    pub departments: Vec<String>,
    #[serde(default)]
    pub weights: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(untagged)]
pub enum DepartmentsText {
    Word(String),
    List(Vec<String>),
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct IndicatorText {
    pub code: String,
    #[serde(default)]
    pub name: String,
    pub source: String,
    pub weight: f64,
    pub score: ScoreText,
    #[serde(default)]
    pub self_assessment: bool,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct ScoreText {
    pub kind: String,
    pub best: Option<f64>,
    pub worst: Option<f64>,
    pub per: Option<f64>,
    pub cap: Option<f64>,
    pub if_none: Option<String>,
}

impl Scheme {
    /// Checks a written scheme whole: every fault is named with its indicator and reason, and
    /// one fault refuses the scheme.
    pub fn parse(text: SchemeText) -> Result<Scheme, Vec<RowError>> {
        let mut errors = Vec::new();
        let departments = match text.departments {
            None => Departments::All,
            Some(DepartmentsText::Word(w)) if w == "all" => Departments::All,
            Some(DepartmentsText::Word(w)) => {
                errors.push(RowError::new(0, "departments", format!("“{w}”无效，应为 \"all\" 或部门编码的列表")));
                Departments::All
            }
            Some(DepartmentsText::List(l)) => Departments::Listed(l),
        };
        let mut indicators: Vec<Indicator> = Vec::new();
        for (i, t) in text.indicator.into_iter().enumerate() {
            let at = |field: &str| format!("indicator[{i}]（{}）.{field}", t.code);
            let mut err = |field: &str, reason: String| errors.push(RowError::new(0, at(field), reason));
            if t.code.trim().is_empty() {
                err("code", "不能为空".into());
            }
            if indicators.iter().any(|x| x.code == t.code) {
                err("code", format!("指标编码 {} 重复", t.code));
            }
            if !t.weight.is_finite() || t.weight < 0.0 {
                err("weight", format!("分值 {} 无效：不能为负数", t.weight));
            }
            let source = Source::parse(&t.source);
            if source.is_none() {
                err("source", format!("未知的数据来源“{}”", t.source));
            }
            let s = &t.score;
            let need = |v: Option<f64>, field: &str, err: &mut dyn FnMut(&str, String)| match v {
                Some(x) if x.is_finite() => x,
                Some(_) | None => {
                    err(&format!("score.{field}"), format!("{} 计分须给出 {field}", s.kind));
                    0.0
                }
            };
            let score = match s.kind.as_str() {
                "linear" => {
                    let best = need(s.best, "best", &mut err);
                    let worst = need(s.worst, "worst", &mut err);
                    if (best - worst).abs() < f64::EPSILON && s.best.is_some() && s.worst.is_some() {
                        err("score", "linear 计分的 best 与 worst 不能相等".into());
                    }
                    Some(Score::Linear { best, worst })
                }
                "deduct" => Some(Score::Deduct { per: need(s.per, "per", &mut err), cap: s.cap }),
                "bonus" => Some(Score::Bonus { per: need(s.per, "per", &mut err), cap: need(s.cap, "cap", &mut err) }),
                "manual" => Some(Score::Manual),
                other => {
                    err("score.kind", format!("未知的计分方式“{other}”，应为 linear、deduct、bonus 或 manual"));
                    None
                }
            };
            if let (Some(src), Some(sc)) = (source, score)
                && (src == Source::Manual) != (sc == Score::Manual)
            {
                err("score.kind", "数据来源 manual 与计分方式 manual 须同时使用".into());
            }
            let if_none = match s.if_none.as_deref() {
                None | Some("full") => IfNone::Full,
                Some("zero") => IfNone::Zero,
                Some(other) => {
                    err("score.if_none", format!("“{other}”无效，应为 full 或 zero"));
                    IfNone::Full
                }
            };
            if t.self_assessment && source.is_some_and(|s| s != Source::Manual) {
                err("self_assessment", "只有人工评分（manual）指标可由部门自评".into());
            }
            if let (Some(source), Some(score)) = (source, score) {
                let self_assessment = t.self_assessment;
                indicators.push(Indicator {
                    code: t.code,
                    name: t.name,
                    source,
                    weight: t.weight,
                    score,
                    if_none,
                    self_assessment,
                });
            }
        }
        for (i, tier) in text.tier.iter().enumerate() {
            if tier.max_share.is_some_and(|s| !(0.0..=1.0).contains(&s)) {
                errors.push(RowError::new(0, format!("tier[{i}]（{}）.max_share", tier.name), "应在 0 到 1 之间"));
            }
        }
        let mut groups: Vec<Group> = Vec::new();
        for (i, g) in text.group.into_iter().enumerate() {
            let mut err = |field: &str, reason: String| {
                errors.push(RowError::new(0, format!("group[{i}]（{}）.{field}", g.name), reason));
            };
            if g.name.trim().is_empty() {
                err("name", "组名不能为空".into());
            } else if groups.iter().any(|x| x.name == g.name) {
                err("name", format!("组名“{}”重复", g.name));
            }
            if g.departments.is_empty() {
                err("departments", "至少列出一个部门".into());
            }
            for code in &g.departments {
                if let Some(other) = groups.iter().find(|x| x.departments.contains(code)) {
                    err("departments", format!("部门 {code} 已在“{}”组中，一个部门只能属于一个组", other.name));
                } else if g.departments.iter().filter(|c| *c == code).count() > 1 {
                    err("departments", format!("部门 {code} 重复列出"));
                } else if let Departments::Listed(listed) = &departments
                    && !listed.contains(code)
                {
                    err("departments", format!("部门 {code} 不在本方案考评的部门之中"));
                }
            }
            for (code, w) in &g.weights {
                if !indicators.iter().any(|x| &x.code == code) {
                    err(&format!("weights.{code}"), format!("本方案没有指标 {code}"));
                } else if !w.is_finite() || *w < 0.0 {
                    err(&format!("weights.{code}"), format!("分值 {w} 无效：不能为负数"));
                }
            }
            let departments: Vec<String> = g.departments.iter().fold(Vec::new(), |mut acc, c| {
                if !acc.contains(c) {
                    acc.push(c.clone());
                }
                acc
            });
            groups.push(Group { name: g.name, departments, weights: g.weights });
        }
        if errors.is_empty() {
            Ok(Scheme { name: text.name, departments, indicators, tiers: text.tier, groups })
        } else {
            Err(errors)
        }
    }

    /// The group a department belongs to, if any.
    pub fn group_of(&self, department: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.departments.iter().any(|d| d == department))
    }

    /// The scheme as it applies to one group (none: the departments in no group): each
    /// indicator with the group's weight where it has one; no groups left.
    pub fn for_group(&self, group: Option<&Group>) -> Scheme {
        let mut scheme = Scheme { groups: Vec::new(), ..self.clone() };
        if let Some(g) = group {
            for ind in &mut scheme.indicators {
                if let Some(w) = g.weights.get(&ind.code) {
                    ind.weight = *w;
                }
            }
        }
        scheme
    }

    /// The scheme as it applies to a department: its group's weights.
    pub fn for_department(&self, department: &str) -> Scheme {
        self.for_group(self.group_of(department))
    }
}

impl Indicator {
    /// How the points are computed, in the office's words, e.g.
    /// `得分 = 40 × (1 − 值) ÷ (1 − 0)，在 0 到 40 之间`.
    pub fn formula(&self) -> String {
        let n = |x: f64| {
            let s = format!("{x:.4}");
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        };
        let w = n(self.weight);
        let text = match self.score {
            Score::Linear { best, worst } => {
                format!("得分 = {w} × (值 − {}) ÷ ({} − {})，在 0 到 {w} 之间", n(worst), n(best), n(worst))
            }
            Score::Deduct { per, cap } => {
                format!("得分 = {w} − 值 × {}（最多扣 {} 分），不低于 0", n(per), n(cap.unwrap_or(self.weight)))
            }
            Score::Bonus { per, cap } => format!("加分 = 值 × {}，最多 {} 分", n(per), n(cap)),
            Score::Manual => format!("效能办录入，0 到 {w} 分"),
        };
        if self.source.is_rate() && self.score != Score::Manual {
            let none = match self.if_none {
                IfNone::Full => "得满分",
                IfNone::Zero => "得 0 分",
            };
            format!("{text}；无分母（无可计算的记录）时{none}")
        } else {
            text
        }
    }

    /// The points a value (`None`: a rate without denominator, or a manual indicator) scores;
    /// `entered` is the office's points for a manual indicator.
    pub fn points(&self, value: Option<f64>, entered: Option<f64>) -> f64 {
        let w = self.weight;
        match (self.score, value) {
            (Score::Manual, _) => entered.unwrap_or(0.0).clamp(0.0, w),
            (_, None) => match self.if_none {
                IfNone::Full => w,
                IfNone::Zero => 0.0,
            },
            (Score::Linear { best, worst }, Some(v)) => w * ((v - worst) / (best - worst)).clamp(0.0, 1.0),
            (Score::Deduct { per, cap }, Some(v)) => (w - (per * v).min(cap.unwrap_or(w))).max(0.0),
            (Score::Bonus { per, cap }, Some(v)) => (per * v).min(cap),
        }
    }
}

/// One department's values and points.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DepartmentResult {
    pub code: String,
    pub name: String,
    /// The department's group, in a scheme with groups (rank and tier are within it); absent
    /// from the JSON otherwise, so a scheme without groups prints exactly the format's result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub score: f64,
    pub rank: usize,
    pub tier: Option<String>,
    pub indicators: Vec<IndicatorResult>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IndicatorResult {
    pub code: String,
    pub value: Option<f64>,
    pub points: f64,
}

/// Two scores closer than this are equal.
const TIE: f64 = 1e-9;

/// The points the office entered for manual indicators, by (department code, indicator code).
pub type Entered = BTreeMap<(String, String), f64>;

/// Scores every department from its values (`values[code][source]`) and the office's entered
/// points for manual indicators (`entered`; none entered scores 0), ranks them (equal scores
/// share a rank and the next rank skips) and places them in tiers (best first; each tier takes
/// at most its share of the departments, rounded down; a tie takes one tier together).
/// Returns the departments by rank, then code. In a scheme with groups, each group (in the
/// scheme's order, then the departments in none) is scored with its own weights, ranked and
/// tiered on its own (a tier's share is of the group), and the groups follow one another.
pub fn evaluate(
    scheme: &Scheme,
    departments: &[(String, String)],
    values: &BTreeMap<String, BTreeMap<Source, Option<f64>>>,
    entered: &Entered,
) -> Vec<DepartmentResult> {
    if scheme.groups.is_empty() {
        return evaluate_together(scheme, departments, values, entered);
    }
    let mut out = Vec::with_capacity(departments.len());
    let groups: Vec<Option<&Group>> = scheme.groups.iter().map(Some).chain([None]).collect();
    for group in groups {
        let members: Vec<(String, String)> = departments
            .iter()
            .filter(|(code, _)| scheme.group_of(code).map(|g| &g.name) == group.map(|g| &g.name))
            .cloned()
            .collect();
        if members.is_empty() {
            continue;
        }
        let mut ranked = evaluate_together(&scheme.for_group(group), &members, values, entered);
        for d in &mut ranked {
            d.group = Some(group.map_or_else(|| UNGROUPED.to_string(), |g| g.name.clone()));
        }
        out.extend(ranked);
    }
    out
}

/// The group named in a result for the departments a scheme with groups puts in none.
pub const UNGROUPED: &str = "其他部门";

/// [`evaluate`] of departments that rank together.
fn evaluate_together(
    scheme: &Scheme,
    departments: &[(String, String)],
    values: &BTreeMap<String, BTreeMap<Source, Option<f64>>>,
    entered: &Entered,
) -> Vec<DepartmentResult> {
    let mut out: Vec<DepartmentResult> = departments
        .iter()
        .map(|(code, name)| {
            let indicators: Vec<IndicatorResult> = scheme
                .indicators
                .iter()
                .map(|ind| {
                    let value = values.get(code).and_then(|v| v.get(&ind.source)).copied().flatten();
                    let value = if ind.source == Source::Manual { None } else { value };
                    let typed = entered.get(&(code.clone(), ind.code.clone())).copied();
                    IndicatorResult { code: ind.code.clone(), value, points: ind.points(value, typed) }
                })
                .collect();
            DepartmentResult {
                code: code.clone(),
                name: name.clone(),
                group: None,
                score: indicators.iter().map(|i| i.points).sum(),
                rank: 0,
                tier: None,
                indicators,
            }
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.code.cmp(&b.code)));
    let scores: Vec<f64> = out.iter().map(|d| d.score).collect();
    for d in &mut out {
        d.rank = 1 + scores.iter().filter(|s| **s - d.score >= TIE).count();
    }
    // Equal scores that the sort split by code (a difference below TIE) keep rank order.
    out.sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.code.cmp(&b.code)));
    let n = out.len();
    let quota: Vec<usize> =
        scheme.tiers.iter().map(|t| t.max_share.map_or(n, |s| (s * n as f64 + TIE).floor() as usize)).collect();
    let mut used = vec![0usize; scheme.tiers.len()];
    let mut i = 0;
    while i < n {
        let rank = out[i].rank;
        let group = out[i..].iter().take_while(|d| d.rank == rank).count();
        let score = out[i].score;
        let tier = (0..scheme.tiers.len()).find(|&t| score >= scheme.tiers[t].min_score && used[t] < quota[t]);
        if let Some(t) = tier {
            used[t] += group;
            for d in &mut out[i..i + group] {
                d.tier = Some(scheme.tiers[t].name.clone());
            }
        }
        i += group;
    }
    out
}

/// A department's values without one of its overdue cases (an upheld appeal): it counts neither
/// as settled nor as overdue, and the overdue rate follows.
pub fn exclude_overdue_case(values: &mut BTreeMap<Source, Option<f64>>) {
    let less = |x: Option<&Option<f64>>| x.copied().flatten().map(|n| (n - 1.0).max(0.0));
    let settled = less(values.get(&Source::CasesSettled));
    let overdue = less(values.get(&Source::CasesOverdue));
    let rate = match (overdue, settled) {
        (Some(o), Some(s)) if s > 0.0 => Some(o / s),
        _ => None,
    };
    values.insert(Source::CasesSettled, settled);
    values.insert(Source::CasesOverdue, overdue);
    values.insert(Source::CasesOverdueRate, rate);
}

/// A department's work orders as the `tickets.*` sources count them: the orders received in
/// the period whose subject department it is (`report tickets`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderCounts {
    pub received: i64,
    /// Closed no later than the period's end.
    pub closed: i64,
    pub complaints: i64,
    pub satisfied: i64,
    pub basically_satisfied: i64,
    pub unsatisfied: i64,
}

impl OrderCounts {
    /// Less a complaint an upheld appeal excluded ("it was about another department"): it is
    /// none of the department's orders — out of the received orders and the complaints, out of
    /// the closed ones if it was closed by the period's end, and its return visit out of the
    /// satisfaction counts.
    pub fn exclude_complaint(&mut self, closed_by_end: bool, satisfaction: Option<crate::ticket::Satisfaction>) {
        use crate::ticket::Satisfaction;
        self.received -= 1;
        self.complaints -= 1;
        self.closed -= i64::from(closed_by_end);
        match satisfaction {
            Some(Satisfaction::Satisfied) => self.satisfied -= 1,
            Some(Satisfaction::BasicallySatisfied) => self.basically_satisfied -= 1,
            Some(Satisfaction::Unsatisfied) => self.unsatisfied -= 1,
            Some(Satisfaction::Unreachable) | None => {}
        }
    }

    /// The `tickets.*` values, rates included.
    pub fn values(&self) -> [(Source, Option<f64>); 5] {
        let count = |n: i64| Some(n as f64);
        [
            (Source::TicketsReceived, count(self.received)),
            (Source::TicketsClosed, count(self.closed)),
            (Source::TicketsCompletionRate, crate::ticket::completion_rate(self.closed, self.received)),
            (Source::TicketsComplaints, count(self.complaints)),
            (
                Source::TicketsSatisfactionRate,
                crate::ticket::satisfaction_rate(self.satisfied, self.basically_satisfied, self.unsatisfied),
            ),
        ]
    }
}

/// How a department fares under a draft scheme beside a published result (what if).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Movement {
    pub code: String,
    pub name: String,
    pub rank: usize,
    /// Its rank and score in the published result; none when it was not evaluated there.
    pub rank_before: Option<usize>,
    pub score: f64,
    pub score_before: Option<f64>,
    pub tier: Option<String>,
    pub tier_before: Option<String>,
    /// Why: the indicators whose points differ most, by name, with the difference (draft −
    /// published); an indicator only one of the schemes has counts whole.
    pub reasons: Vec<(String, f64)>,
}

impl Movement {
    /// Places moved up (positive) or down; none for a department new to the ranking.
    pub fn moved(&self) -> Option<i64> {
        self.rank_before.map(|before| before as i64 - self.rank as i64)
    }
}

/// The most reasons a movement gives.
const REASONS: usize = 3;

/// Each department of a draft run beside the same department in a published run: ranks, scores,
/// tiers, and the indicators that explain the difference (matched by code, else by source), the
/// largest first. In the draft's order.
pub fn movements(draft: (&Scheme, &[DepartmentResult]), published: (&Scheme, &[DepartmentResult])) -> Vec<Movement> {
    let (draft_scheme, draft_results) = draft;
    let (published_scheme, published_results) = published;
    // The published indicator each draft indicator compares with.
    let partner = |i: &Indicator| -> Option<usize> {
        published_scheme
            .indicators
            .iter()
            .position(|p| p.code == i.code)
            .or_else(|| published_scheme.indicators.iter().position(|p| p.source == i.source))
    };
    let pairs: Vec<Option<usize>> = draft_scheme.indicators.iter().map(partner).collect();
    draft_results
        .iter()
        .map(|d| {
            let before = published_results.iter().find(|p| p.code == d.code);
            let mut reasons: Vec<(String, f64)> = Vec::new();
            if let Some(b) = before {
                for (k, ind) in draft_scheme.indicators.iter().enumerate() {
                    let now = d.indicators.get(k).map_or(0.0, |x| x.points);
                    let was = pairs[k].and_then(|j| b.indicators.get(j)).map_or(0.0, |x| x.points);
                    reasons.push((ind.name.clone(), now - was));
                }
                for (j, ind) in published_scheme.indicators.iter().enumerate() {
                    if !pairs.contains(&Some(j)) {
                        reasons.push((ind.name.clone(), -b.indicators.get(j).map_or(0.0, |x| x.points)));
                    }
                }
            }
            reasons.retain(|(_, delta)| delta.abs() >= TIE);
            reasons.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then_with(|| a.0.cmp(&b.0)));
            reasons.truncate(REASONS);
            Movement {
                code: d.code.clone(),
                name: d.name.clone(),
                rank: d.rank,
                rank_before: before.map(|b| b.rank),
                score: d.score,
                score_before: before.map(|b| b.score),
                tier: d.tier.clone(),
                tier_before: before.and_then(|b| b.tier.clone()),
                reasons,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excluded_complaint_leaves_every_count_of_the_department() {
        use crate::ticket::Satisfaction;
        let mut c = OrderCounts {
            received: 10,
            closed: 8,
            complaints: 4,
            satisfied: 5,
            basically_satisfied: 1,
            unsatisfied: 2,
        };
        c.exclude_complaint(true, Some(Satisfaction::Unsatisfied));
        assert_eq!(
            c,
            OrderCounts { received: 9, closed: 7, complaints: 3, satisfied: 5, basically_satisfied: 1, unsatisfied: 1 }
        );
        // Still open at the period's end, nobody reached: only received and complaints move.
        c.exclude_complaint(false, Some(Satisfaction::Unreachable));
        assert_eq!((c.received, c.closed, c.complaints, c.unsatisfied), (8, 7, 2, 1));
        let values: BTreeMap<Source, Option<f64>> = c.values().into_iter().collect();
        assert_eq!(values[&Source::TicketsCompletionRate], Some(7.0 / 8.0));
        assert_eq!(values[&Source::TicketsSatisfactionRate], Some(6.0 / 7.0));
        assert_eq!(values[&Source::TicketsComplaints], Some(2.0));
    }

    fn scheme(toml_like: Vec<IndicatorText>, tiers: Vec<Tier>) -> Result<Scheme, Vec<RowError>> {
        Scheme::parse(SchemeText {
            name: "测试".into(),
            departments: None,
            indicator: toml_like,
            tier: tiers,
            group: vec![],
        })
    }

    fn ind(code: &str, source: &str, weight: f64, kind: &str, best: Option<f64>, worst: Option<f64>) -> IndicatorText {
        IndicatorText {
            code: code.into(),
            name: code.into(),
            source: source.into(),
            weight,
            score: ScoreText { kind: kind.into(), best, worst, per: None, cap: None, if_none: None },
            self_assessment: false,
        }
    }

    fn deduct(code: &str, source: &str, weight: f64, per: f64, cap: Option<f64>) -> IndicatorText {
        let mut i = ind(code, source, weight, "deduct", None, None);
        i.score.per = Some(per);
        i.score.cap = cap;
        i
    }

    #[test]
    fn only_a_manual_indicator_is_assessed_by_the_department_first() {
        let mut leaders = ind("C1", "manual", 10.0, "manual", None, None);
        leaders.self_assessment = true;
        let s = scheme(vec![leaders.clone()], vec![]).unwrap();
        assert!(s.indicators[0].self_assessment);
        let mut rate = ind("A1", "cases.overdue_rate", 50.0, "linear", Some(0.0), Some(0.2));
        rate.self_assessment = true;
        let errors = scheme(vec![leaders, rate], vec![]).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, "indicator[1]（A1）.self_assessment");
        let text: SchemeText = toml::from_str(
            "name = \"t\"\n[[indicator]]\ncode = \"C1\"\nsource = \"manual\"\nweight = 5\nscore = { kind = \"manual\" }\nself_assessment = true\n",
        )
        .unwrap();
        assert!(Scheme::parse(text).unwrap().indicators[0].self_assessment, "read from the TOML");
    }

    #[test]
    fn each_group_has_its_weights_ranks_and_tiers() {
        let text = r#"
name = "分组"
[[indicator]]
code = "A1"
source = "cases.overdue_rate"
weight = 50
score = { kind = "linear", best = 0.0, worst = 0.2 }
[[indicator]]
code = "A2"
source = "tickets.complaints"
weight = 50
score = { kind = "deduct", per = 5 }
[[tier]]
name = "优秀"
min_score = 90
max_share = 0.5
[[group]]
name = "委办局"
departments = ["D1", "D2", "D3"]
weights = { A1 = 60, A2 = 40 }
"#;
        let scheme = Scheme::parse(toml::from_str(text).unwrap()).unwrap();
        let mut values = BTreeMap::new();
        for (code, rate, complaints) in
            [("D1", 0.0, 0.0), ("D2", 0.1, 2.0), ("D3", 0.0, 1.0), ("D4", 0.1, 0.0), ("D5", 0.0, 2.0)]
        {
            values.insert(
                code.to_string(),
                BTreeMap::from([(Source::CasesOverdueRate, Some(rate)), (Source::TicketsComplaints, Some(complaints))]),
            );
        }
        let departments: Vec<(String, String)> =
            ["D1", "D2", "D3", "D4", "D5"].iter().map(|c| (c.to_string(), c.to_string())).collect();
        let out = evaluate(&scheme, &departments, &values, &Entered::new());
        let got: Vec<(&str, Option<&str>, f64, usize, Option<&str>)> =
            out.iter().map(|d| (d.code.as_str(), d.group.as_deref(), d.score, d.rank, d.tier.as_deref())).collect();
        // 委办局 with 60/40: D1 60+40, D3 60+35, D2 30+30; a tier's share is of its three.
        // The others with 50/50: D5 50+40, D4 25+50; one of two may be 优秀.
        assert_eq!(
            got,
            [
                ("D1", Some("委办局"), 100.0, 1, Some("优秀")),
                ("D3", Some("委办局"), 95.0, 2, None),
                ("D2", Some("委办局"), 60.0, 3, None),
                ("D5", Some(UNGROUPED), 90.0, 1, Some("优秀")),
                ("D4", Some(UNGROUPED), 75.0, 2, None),
            ]
        );
        assert_eq!(scheme.for_department("D2").indicators[0].weight, 60.0);
        assert_eq!(scheme.for_department("D4").indicators[0].weight, 50.0);
        // Without groups, the JSON has no group key at all.
        let plain = evaluate(&scheme.for_group(None), &departments, &values, &Entered::new());
        assert!(!serde_json::to_string(&plain).unwrap().contains("group"));
        // Refused whole: a department in two groups, an unknown indicator, a negative weight.
        let bad = format!("{text}[[group]]\nname = \"区\"\ndepartments = [\"D1\"]\nweights = {{ A9 = 1, A2 = -1 }}\n");
        let errors = Scheme::parse(toml::from_str(&bad).unwrap()).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["group[1]（区）.departments", "group[1]（区）.weights.A2", "group[1]（区）.weights.A9"]);
    }

    #[test]
    fn scores_follow_each_formula() {
        let s = scheme(
            vec![
                ind("A1", "cases.overdue_rate", 50.0, "linear", Some(0.0), Some(0.2)),
                deduct("A2", "tickets.complaints", 30.0, 1.5, None),
                deduct("A3", "tasks.red", 20.0, 5.0, Some(12.0)),
            ],
            vec![],
        )
        .unwrap();
        let [a1, a2, a3] = [&s.indicators[0], &s.indicators[1], &s.indicators[2]];
        assert_eq!(a1.points(Some(0.05), None), 50.0 * ((0.05 - 0.2) / (0.0 - 0.2)));
        assert_eq!(a1.points(Some(0.3), None), 0.0);
        assert_eq!(a1.points(Some(-0.1), None), 50.0);
        assert_eq!(a1.points(None, None), 50.0, "a rate without denominator scores full by default");
        assert_eq!(a2.points(Some(4.0), None), 24.0);
        assert_eq!(a2.points(Some(40.0), None), 0.0, "never below 0");
        assert_eq!(a3.points(Some(4.0), None), 8.0, "the cap limits the deduction");
        let mut z = ind("Z", "tickets.satisfaction_rate", 10.0, "linear", Some(1.0), Some(0.5));
        z.score.if_none = Some("zero".into());
        let mut b = ind("B", "tasks.verified", 0.0, "bonus", None, None);
        b.score.per = Some(0.5);
        b.score.cap = Some(2.0);
        let s = scheme(vec![z, b], vec![]).unwrap();
        assert_eq!(s.indicators[0].points(None, None), 0.0);
        assert_eq!(s.indicators[0].points(Some(0.9), None), 10.0 * ((0.9 - 0.5) / (1.0 - 0.5)));
        assert_eq!(s.indicators[1].points(Some(3.0), None), 1.5);
        assert_eq!(s.indicators[1].points(Some(30.0), None), 2.0);
    }

    #[test]
    fn a_draft_beside_the_published_says_who_moves_and_why() {
        let published = scheme(
            vec![
                ind("A1", "cases.overdue_rate", 50.0, "linear", Some(0.0), Some(0.2)),
                deduct("A2", "tickets.complaints", 50.0, 10.0, None),
            ],
            vec![],
        )
        .unwrap();
        // The draft weighs complaints less and adds bad ratings.
        let draft = scheme(
            vec![
                ind("A1", "cases.overdue_rate", 70.0, "linear", Some(0.0), Some(0.2)),
                deduct("X", "tickets.complaints", 30.0, 10.0, None),
                deduct("A3", "ratings.bad", 10.0, 1.0, None),
            ],
            vec![],
        )
        .unwrap();
        let values: BTreeMap<String, BTreeMap<Source, Option<f64>>> = [
            ("D1", [(Source::CasesOverdueRate, Some(0.1)), (Source::TicketsComplaints, Some(0.0))]),
            ("D2", [(Source::CasesOverdueRate, Some(0.0)), (Source::TicketsComplaints, Some(3.0))]),
        ]
        .into_iter()
        .map(|(c, v)| (c.to_string(), v.into_iter().collect()))
        .collect();
        let departments = [("D1".to_string(), "甲".to_string()), ("D2".to_string(), "乙".to_string())];
        let before = evaluate(&published, &departments, &values, &Entered::new());
        let after = evaluate(&draft, &departments, &values, &Entered::new());
        // Published: D1 25 + 50 = 75, D2 50 + 20 = 70. Draft: D1 35 + 30 + 10 = 75, D2 70 + 0 + 10
        // = 80 (no bad rating recorded: the whole 10).
        let m = movements((&draft, &after), (&published, &before));
        assert_eq!(m[0].code, "D2");
        assert_eq!((m[0].rank, m[0].rank_before, m[0].moved()), (1, Some(2), Some(1)));
        let reasons = |r: &[(String, f64)]| r.iter().map(|(n, d)| format!("{n}{d:+}")).collect::<Vec<_>>();
        assert_eq!(reasons(&m[0].reasons), ["A1+20", "X-20", "A3+10"]);
        assert_eq!((m[1].code.as_str(), m[1].moved()), ("D1", Some(-1)));
        assert_eq!(reasons(&m[1].reasons), ["X-20", "A1+10", "A3+10"]);
    }

    #[test]
    fn an_excluded_overdue_case_counts_neither_as_settled_nor_overdue() {
        let mut v: BTreeMap<Source, Option<f64>> =
            [(Source::CasesSettled, Some(4.0)), (Source::CasesOverdue, Some(2.0))].into_iter().collect();
        exclude_overdue_case(&mut v);
        assert_eq!(v[&Source::CasesOverdueRate], Some(1.0 / 3.0));
        exclude_overdue_case(&mut v);
        assert_eq!((v[&Source::CasesSettled], v[&Source::CasesOverdueRate]), (Some(2.0), Some(0.0)));
        let mut last: BTreeMap<Source, Option<f64>> =
            [(Source::CasesSettled, Some(1.0)), (Source::CasesOverdue, Some(1.0))].into_iter().collect();
        exclude_overdue_case(&mut last);
        assert_eq!(last[&Source::CasesOverdueRate], None, "nothing settled: no rate");
    }

    #[test]
    fn each_formula_reads_as_the_office_writes_it() {
        let s = scheme(
            vec![
                ind("A1", "cases.overdue_rate", 50.0, "linear", Some(0.0), Some(0.2)),
                deduct("A3", "tasks.red", 20.0, 5.0, Some(12.0)),
            ],
            vec![],
        )
        .unwrap();
        assert_eq!(
            s.indicators[0].formula(),
            "得分 = 50 × (值 − 0.2) ÷ (0 − 0.2)，在 0 到 50 之间；无分母（无可计算的记录）时得满分"
        );
        assert_eq!(s.indicators[1].formula(), "得分 = 20 − 值 × 5（最多扣 12 分），不低于 0");
        assert_eq!(Source::CasesOverdueRate.label(), "办件超期率");
        assert!(Source::ALL.iter().all(|(_, s)| !s.label().is_empty()));
    }

    #[test]
    fn a_bad_scheme_is_refused_whole_with_indicator_and_reason() {
        let mut unknown_kind = ind("A4", "cases.settled", 5.0, "sqrt", None, None);
        unknown_kind.score.per = Some(1.0);
        let errors = scheme(
            vec![
                ind("A1", "cases.overdue_rate", 50.0, "linear", Some(0.1), Some(0.1)),
                ind("A2", "cases.nonsense", 10.0, "deduct", None, None),
                ind("A1", "tickets.received", -3.0, "linear", Some(0.0), Some(1.0)),
                unknown_kind,
            ],
            vec![],
        )
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "indicator[0]（A1）.score",
                "indicator[1]（A2）.source",
                "indicator[1]（A2）.score.per",
                "indicator[2]（A1）.code",
                "indicator[2]（A1）.weight",
                "indicator[3]（A4）.score.kind",
            ]
        );
    }

    #[test]
    fn ranks_share_ties_and_tiers_keep_their_quotas() {
        let tiers = vec![
            Tier { name: "优秀".into(), min_score: 90.0, max_share: Some(0.2) },
            Tier { name: "良好".into(), min_score: 80.0, max_share: None },
        ];
        let s = scheme(vec![ind("A1", "cases.overdue_rate", 100.0, "linear", Some(0.0), Some(1.0))], tiers).unwrap();
        // Scores 100 − 100 × rate: D1 98, D2 and D3 95 (tied), D4 92, D5 85, D6..D10 50.
        let rates = [0.02, 0.05, 0.05 + 1e-12, 0.08, 0.15, 0.5, 0.5, 0.5, 0.5, 0.5];
        let departments: Vec<(String, String)> = (1..=10).map(|i| (format!("D{i:02}"), format!("部门{i}"))).collect();
        let values: BTreeMap<String, BTreeMap<Source, Option<f64>>> = departments
            .iter()
            .zip(rates)
            .map(|((c, _), r)| (c.clone(), [(Source::CasesOverdueRate, Some(r))].into_iter().collect()))
            .collect();
        let result = evaluate(&s, &departments, &values, &Entered::new());
        let got: Vec<(&str, usize, Option<&str>)> =
            result.iter().map(|d| (d.code.as_str(), d.rank, d.tier.as_deref())).collect();
        // 优秀 holds floor(0.2 × 10) = 2: D01, then D02 and D03 together (a tie takes one tier);
        // D04 reaches 90 but the quota is used up, so 良好; D05 良好; the rest none.
        assert_eq!(
            got,
            vec![
                ("D01", 1, Some("优秀")),
                ("D02", 2, Some("优秀")),
                ("D03", 2, Some("优秀")),
                ("D04", 4, Some("良好")),
                ("D05", 5, Some("良好")),
                ("D06", 6, None),
                ("D07", 6, None),
                ("D08", 6, None),
                ("D09", 6, None),
                ("D10", 6, None),
            ]
        );
        assert_eq!(result[0].indicators[0].value, Some(0.02));
    }
}

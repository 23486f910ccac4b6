//! The four-level service network (四级服务体系): jurisdictions, venues and departments, and
//! the rules an import of spec/exchange.md §1 must obey.

use std::collections::{HashMap, HashSet};
use std::fmt;

use crate::RowError;

/// The level of a jurisdiction, and so of its venue: city → district → town/street → village.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    City = 1,
    District = 2,
    Town = 3,
    Village = 4,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::City, Level::District, Level::Town, Level::Village];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::City => "city",
            Level::District => "district",
            Level::Town => "town",
            Level::Village => "village",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }

    pub fn from_number(n: i64) -> Option<Level> {
        Level::ALL.into_iter().find(|l| *l as i64 == n)
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::City => "市级",
            Level::District => "区级",
            Level::Town => "镇（街道）级",
            Level::Village => "村（社区）级",
        }
    }
}

crate::words! {
    /// What an org unit is (spec/exchange.md §1 `kind`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
    pub enum OrgKind as "机构类别" {
        City = "city" / "市",
        District = "district" / "区",
        Town = "town" / "镇（街道）",
        Village = "village" / "村（社区）",
        ServiceCenter = "service_center" / "政务服务中心",
        ConvenienceCenter = "convenience_center" / "便民服务中心",
        AgentPoint = "agent_point" / "代办点",
        Department = "department" / "部门",
    }
}

impl OrgKind {
    /// The level of a jurisdiction; `None` for venues and departments.
    pub fn jurisdiction_level(self) -> Option<Level> {
        match self {
            OrgKind::City => Some(Level::City),
            OrgKind::District => Some(Level::District),
            OrgKind::Town => Some(Level::Town),
            OrgKind::Village => Some(Level::Village),
            _ => None,
        }
    }

    pub fn is_venue(self) -> bool {
        matches!(self, OrgKind::ServiceCenter | OrgKind::ConvenienceCenter | OrgKind::AgentPoint)
    }

    /// The kinds of parent this kind may have (`None`: it is the root).
    pub fn allowed_parents(self) -> &'static [OrgKind] {
        match self {
            OrgKind::City => &[],
            OrgKind::District => &[OrgKind::City],
            OrgKind::Town => &[OrgKind::District],
            OrgKind::Village => &[OrgKind::Town],
            OrgKind::ServiceCenter => &[OrgKind::City, OrgKind::District],
            OrgKind::ConvenienceCenter => &[OrgKind::Town],
            OrgKind::AgentPoint => &[OrgKind::Village],
            OrgKind::Department => &[OrgKind::City, OrgKind::District],
        }
    }
}

impl fmt::Display for OrgKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// An org unit's code: the national division code for jurisdictions, or the office's own code for
/// venues and departments. Letters, digits and `-` only, so that it can sit in a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct OrgCode(String);

impl OrgCode {
    pub fn parse(s: &str) -> Result<OrgCode, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("不能为空".into());
        }
        if s.len() > 40 {
            return Err(format!("“{s}”过长（最多 40 个字符）"));
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(format!("“{s}”含有非法字符（只允许字母、数字和 -）"));
        }
        Ok(OrgCode(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The materialised path of a unit: the codes from the root down, `/460100/460105/`.
/// A unit is within another's subtree exactly when its path starts with the other's path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct OrgPath(String);

impl OrgPath {
    pub fn root(code: &OrgCode) -> OrgPath {
        OrgPath(format!("/{code}/"))
    }

    pub fn child(&self, code: &OrgCode) -> OrgPath {
        OrgPath(format!("{}{code}/", self.0))
    }

    /// Reads a path stored earlier; trusted input.
    pub fn from_stored(s: String) -> OrgPath {
        OrgPath(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn contains(&self, other: &OrgPath) -> bool {
        other.0.starts_with(&self.0)
    }

    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|s| !s.is_empty())
    }

    pub fn depth(&self) -> usize {
        self.codes().count()
    }
}

impl fmt::Display for OrgPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stored unit of the network.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OrgUnit {
    pub code: OrgCode,
    pub parent: Option<OrgCode>,
    pub kind: OrgKind,
    pub name: String,
    pub path: OrgPath,
    /// The level of a jurisdiction or venue (a venue takes its jurisdiction's); none for a department.
    pub level: Option<Level>,
}

/// One row of an organisations file, as read, before any check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRow {
    pub line: usize,
    pub code: String,
    pub parent_code: String,
    pub kind: String,
    pub name: String,
}

/// What an import does to one unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgChange {
    Create(OrgUnit),
    /// The unit exists with the same code, kind and parent; its name changes.
    Rename {
        code: OrgCode,
        before: String,
        after: String,
    },
    /// The row repeats what is stored: nothing to do (reported as a duplicate).
    Unchanged(OrgCode),
}

pub const MAX_NAME_CHARS: usize = 100;

/// Checks a unit's name as typed in a file or a form.
pub fn parse_name(s: &str) -> Result<String, String> {
    let name = s.trim();
    if name.is_empty() {
        return Err("不能为空".into());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!("过长（最多 {MAX_NAME_CHARS} 个字）"));
    }
    if name.chars().any(char::is_control) {
        return Err("含有控制字符".into());
    }
    Ok(name.to_string())
}

/// Plans the import of a whole organisations file against the stored network.
///
/// Returns every change, or every problem found (each with its line, field and reason); a file
/// is applied whole or not at all, so one problem means no change. Rows may come in any order.
pub fn plan_org_import(existing: &[OrgUnit], rows: &[OrgRow]) -> Result<Vec<OrgChange>, Vec<RowError>> {
    let mut errors = Vec::new();
    let stored: HashMap<&str, &OrgUnit> = existing.iter().map(|u| (u.code.as_str(), u)).collect();
    let parsed = parse_org_rows(rows, &mut errors);

    // The network as it would be: stored units overlaid by the file's rows.
    let file: HashMap<&str, &ParsedOrgRow> = parsed.iter().map(|p| (p.code.as_str(), p)).collect();
    let kind_of =
        |code: &str| -> Option<OrgKind> { file.get(code).map(|p| p.kind).or_else(|| stored.get(code).map(|u| u.kind)) };
    let parent_of = |code: &str| -> Option<String> {
        match file.get(code) {
            Some(p) => p.parent.as_ref().map(|c| c.as_str().to_string()),
            None => stored.get(code).and_then(|u| u.parent.as_ref().map(|c| c.as_str().to_string())),
        }
    };

    let stored_root = existing.iter().find(|u| u.parent.is_none());
    let mut venue_of_jurisdiction: HashMap<String, usize> = HashMap::new();
    for u in existing.iter().filter(|u| u.kind.is_venue()) {
        if let Some(p) = &u.parent {
            venue_of_jurisdiction.insert(p.as_str().to_string(), 0);
        }
    }

    for p in &parsed {
        let line = p.row.line;
        if let Some(old) = stored.get(p.code.as_str()) {
            if old.kind != p.kind {
                errors.push(RowError::new(
                    line,
                    "kind",
                    format!("{} 已存在且类型为 {}，不能改为 {}", p.code, old.kind.as_str(), p.kind.as_str()),
                ));
                continue;
            }
            if old.parent != p.parent {
                errors.push(RowError::new(
                    line,
                    "parent_code",
                    format!(
                        "{} 已存在，上级为 {}；导入不能移动单位",
                        p.code,
                        old.parent.as_ref().map_or("（无）", |c| c.as_str())
                    ),
                ));
                continue;
            }
        }
        match &p.parent {
            None => {
                if p.kind != OrgKind::City {
                    errors.push(RowError::new(line, "parent_code", "只有根单位（city）可以没有上级"));
                } else if let Some(root) = stored_root.filter(|r| r.code != p.code) {
                    errors.push(RowError::new(
                        line,
                        "parent_code",
                        format!("已有根单位 {}（{}），不能再建第二个", root.code, root.name),
                    ));
                } else if let Some(other) =
                    parsed.iter().find(|o| o.parent.is_none() && o.code != p.code && o.row.line < line)
                {
                    errors.push(RowError::new(
                        line,
                        "parent_code",
                        format!("第 {} 行已是根单位，不能有两个根", other.row.line),
                    ));
                }
            }
            Some(parent) => {
                if parent == &p.code {
                    errors.push(RowError::new(line, "parent_code", "单位不能是自己的上级"));
                    continue;
                }
                // Walk up; a code met twice is a cycle.
                let mut visited = HashSet::from([p.code.as_str().to_string()]);
                let mut current = parent.as_str().to_string();
                let mut cycle = false;
                let mut missing = None;
                loop {
                    if !visited.insert(current.clone()) {
                        cycle = true;
                        break;
                    }
                    if kind_of(&current).is_none() {
                        missing = Some(current.clone());
                        break;
                    }
                    match parent_of(&current) {
                        Some(next) => current = next,
                        None => break,
                    }
                }
                if cycle {
                    errors.push(RowError::new(
                        line,
                        "parent_code",
                        format!("上级关系形成循环（{} → {parent} → … → {current}）", p.code),
                    ));
                    continue;
                }
                if let Some(m) = missing {
                    let reason = if m == parent.as_str() {
                        format!("上级编码 {parent} 不存在")
                    } else {
                        format!("上级链中的编码 {m} 不存在")
                    };
                    errors.push(RowError::new(line, "parent_code", reason));
                    continue;
                }
                let parent_kind = kind_of(parent.as_str()).expect("checked above");
                if !p.kind.allowed_parents().contains(&parent_kind) {
                    let allowed: Vec<&str> = p.kind.allowed_parents().iter().map(|k| k.as_str()).collect();
                    errors.push(RowError::new(
                        line,
                        "parent_code",
                        format!(
                            "{} 的上级 {parent} 是 {}，而 {} 的上级只能是 {}",
                            p.code,
                            parent_kind.as_str(),
                            p.kind.as_str(),
                            allowed.join(" 或 ")
                        ),
                    ));
                    continue;
                }
                if p.kind.is_venue() && !stored.contains_key(p.code.as_str()) {
                    match venue_of_jurisdiction.get(parent.as_str()) {
                        Some(0) => errors.push(RowError::new(
                            line,
                            "parent_code",
                            format!("辖区 {parent} 已有服务场所，每个辖区只设一个"),
                        )),
                        Some(other) => errors.push(RowError::new(
                            line,
                            "parent_code",
                            format!("辖区 {parent} 的服务场所已在第 {other} 行，每个辖区只设一个"),
                        )),
                        None => {
                            venue_of_jurisdiction.insert(parent.as_str().to_string(), line);
                        }
                    }
                }
            }
        }
    }

    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(errors);
    }

    Ok(org_changes(existing, &stored, &parsed))
}

/// A row of an organisations file, its fields parsed.
struct ParsedOrgRow<'a> {
    row: &'a OrgRow,
    code: OrgCode,
    parent: Option<OrgCode>,
    kind: OrgKind,
    name: String,
}

/// Parses each row's fields; a faulty field or a code given twice goes to `errors`, and the row
/// is left out.
fn parse_org_rows<'a>(rows: &'a [OrgRow], errors: &mut Vec<RowError>) -> Vec<ParsedOrgRow<'a>> {
    let mut parsed: Vec<ParsedOrgRow> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();

    for row in rows {
        let code = OrgCode::parse(&row.code).map_err(|r| RowError::new(row.line, "code", r));
        let kind = OrgKind::parse(row.kind.trim()).ok_or_else(|| {
            RowError::new(
                row.line,
                "kind",
                format!(
                    "未知类型“{}”，应为 city、district、town、village、service_center、convenience_center、agent_point 或 department",
                    row.kind.trim()
                ),
            )
        });
        let parent = if row.parent_code.trim().is_empty() {
            Ok(None)
        } else {
            OrgCode::parse(&row.parent_code).map(Some).map_err(|r| RowError::new(row.line, "parent_code", r))
        };
        let name = parse_name(&row.name).map_err(|r| RowError::new(row.line, "name", r));
        match (code, kind, parent, name) {
            (Ok(code), Ok(kind), Ok(parent), Ok(name)) => {
                if let Some(first) = seen.get(code.as_str()) {
                    errors.push(RowError::new(row.line, "code", format!("编码 {code} 与第 {first} 行重复")));
                    continue;
                }
                seen.insert(code.as_str().to_string(), row.line);
                parsed.push(ParsedOrgRow { row, code, parent, kind, name });
            }
            (code, kind, parent, name) => {
                errors.extend(code.err());
                errors.extend(kind.err());
                errors.extend(parent.err());
                errors.extend(name.err());
            }
        }
    }
    parsed
}

/// The changes a checked file makes: renames, and new units with their paths and levels,
/// parents before children.
fn org_changes(existing: &[OrgUnit], stored: &HashMap<&str, &OrgUnit>, parsed: &[ParsedOrgRow<'_>]) -> Vec<OrgChange> {
    let file: HashMap<&str, &ParsedOrgRow> = parsed.iter().map(|p| (p.code.as_str(), p)).collect();
    // Paths: resolve parents first (rows may come in any order).
    let mut paths: HashMap<String, OrgPath> =
        existing.iter().map(|u| (u.code.as_str().to_string(), u.path.clone())).collect();
    let mut levels: HashMap<String, Option<Level>> =
        existing.iter().map(|u| (u.code.as_str().to_string(), u.level)).collect();
    fn resolve(
        code: &str,
        file: &HashMap<&str, &ParsedOrgRow>,
        paths: &mut HashMap<String, OrgPath>,
        levels: &mut HashMap<String, Option<Level>>,
    ) -> OrgPath {
        if let Some(p) = paths.get(code) {
            return p.clone();
        }
        let p = file[code];
        let (path, level) = match &p.parent {
            None => (OrgPath::root(&p.code), p.kind.jurisdiction_level()),
            Some(parent) => {
                let parent_path = resolve(parent.as_str(), file, paths, levels);
                let level = match p.kind {
                    OrgKind::Department => None,
                    k if k.is_venue() => levels.get(parent.as_str()).copied().flatten(),
                    k => k.jurisdiction_level(),
                };
                (parent_path.child(&p.code), level)
            }
        };
        paths.insert(code.to_string(), path.clone());
        levels.insert(code.to_string(), level);
        path
    }

    let mut changes = Vec::new();
    for p in parsed {
        match stored.get(p.code.as_str()) {
            Some(old) if old.name == p.name => changes.push(OrgChange::Unchanged(p.code.clone())),
            Some(old) => changes.push(OrgChange::Rename {
                code: p.code.clone(),
                before: old.name.clone(),
                after: p.name.clone(),
            }),
            None => {
                let path = resolve(p.code.as_str(), &file, &mut paths, &mut levels);
                changes.push(OrgChange::Create(OrgUnit {
                    code: p.code.clone(),
                    parent: p.parent.clone(),
                    kind: p.kind,
                    name: p.name.clone(),
                    level: levels[p.code.as_str()],
                    path,
                }));
            }
        }
    }
    // Parents before children, so that they can be inserted in this order.
    changes.sort_by_key(|c| match c {
        OrgChange::Create(u) => u.path.depth(),
        _ => 0,
    });
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(line: usize, code: &str, parent: &str, kind: &str, name: &str) -> OrgRow {
        OrgRow { line, code: code.into(), parent_code: parent.into(), kind: kind.into(), name: name.into() }
    }

    fn base() -> Vec<OrgRow> {
        vec![
            row(2, "460105", "460100", "district", "秀英区"),
            row(3, "460100", "", "city", "海口市"),
            row(4, "460100-V", "460100", "service_center", "海口市政务服务中心"),
            row(5, "460105-V", "460105", "service_center", "秀英区政务服务中心"),
            row(6, "460105001", "460105", "town", "秀英街道"),
            row(7, "460105001001", "460105001", "village", "秀华社区"),
            row(8, "460105001001-V", "460105001001", "agent_point", "秀华社区代办点"),
            row(9, "460100-D01", "460100", "department", "市发展和改革委员会"),
        ]
    }

    fn created(changes: &[OrgChange]) -> Vec<OrgUnit> {
        changes
            .iter()
            .filter_map(|c| match c {
                OrgChange::Create(u) => Some(u.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn any_order_builds_paths_and_levels() {
        let units = created(&plan_org_import(&[], &base()).unwrap());
        let point = units.iter().find(|u| u.code.as_str() == "460105001001-V").unwrap();
        assert_eq!(point.path.as_str(), "/460100/460105/460105001/460105001001/460105001001-V/");
        assert_eq!(point.level, Some(Level::Village));
        let centre = units.iter().find(|u| u.code.as_str() == "460105-V").unwrap();
        assert_eq!(centre.level, Some(Level::District));
        let dept = units.iter().find(|u| u.code.as_str() == "460100-D01").unwrap();
        assert_eq!(dept.level, None);
        assert_eq!(units[0].code.as_str(), "460100", "parents come first");
    }

    #[test]
    fn reimport_is_unchanged_and_rename_is_seen() {
        let units = created(&plan_org_import(&[], &base()).unwrap());
        let mut rows = base();
        rows[0].name = "秀英区（新）".into();
        let changes = plan_org_import(&units, &rows).unwrap();
        assert!(changes.iter().any(|c| matches!(c, OrgChange::Rename { after, .. } if after == "秀英区（新）")));
        assert_eq!(changes.iter().filter(|c| matches!(c, OrgChange::Unchanged(_))).count(), rows.len() - 1);
    }

    fn errors_of(rows: Vec<OrgRow>) -> Vec<RowError> {
        plan_org_import(&[], &rows).unwrap_err()
    }

    #[test]
    fn unknown_parent() {
        let mut rows = base();
        rows.push(row(10, "460106", "469999", "district", "龙华区"));
        let errs = errors_of(rows);
        assert_eq!(errs.len(), 1);
        assert_eq!((errs[0].line, errs[0].field.as_str()), (10, "parent_code"));
        assert!(errs[0].reason.contains("469999"), "{}", errs[0].reason);
    }

    #[test]
    fn cycle() {
        let mut rows = base();
        rows.push(row(10, "A1", "A2", "town", "甲"));
        rows.push(row(11, "A2", "A1", "town", "乙"));
        let errs = errors_of(rows);
        assert_eq!(errs.len(), 2);
        assert!(errs.iter().all(|e| e.reason.contains("循环")), "{errs:?}");
    }

    #[test]
    fn duplicate_code() {
        let mut rows = base();
        rows.push(row(10, "460105", "460100", "district", "秀英区"));
        let errs = errors_of(rows);
        assert_eq!(errs, vec![RowError::new(10, "code", "编码 460105 与第 2 行重复")]);
    }

    #[test]
    fn wrong_parent_kind_unknown_kind_bad_code_empty_name() {
        let mut rows = base();
        rows.push(row(10, "460105002", "460100", "town", "错层"));
        rows.push(row(11, "X1", "460100", "county", "县"));
        rows.push(row(12, "A B", "460100", "district", "空格"));
        rows.push(row(13, "X2", "460100", "district", "  "));
        let errs = errors_of(rows);
        let fields: Vec<(usize, &str)> = errs.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(fields, vec![(10, "parent_code"), (11, "kind"), (12, "code"), (13, "name")]);
    }

    #[test]
    fn second_root_and_second_venue() {
        let mut rows = base();
        rows.push(row(10, "460200", "", "city", "三亚市"));
        rows.push(row(11, "460105-V2", "460105", "service_center", "第二中心"));
        let errs = errors_of(rows);
        assert_eq!(errs.iter().map(|e| e.line).collect::<Vec<_>>(), vec![10, 11]);
    }

    #[test]
    fn import_cannot_move_or_retype() {
        let units = created(&plan_org_import(&[], &base()).unwrap());
        let rows = vec![
            row(2, "460105001", "460100", "district", "秀英街道"),
            row(3, "460105-V", "460105", "convenience_center", "x"),
        ];
        let errs = plan_org_import(&units, &rows).unwrap_err();
        assert_eq!(errs.len(), 2);
    }

    #[test]
    fn path_containment() {
        let city = OrgPath::root(&OrgCode::parse("460100").unwrap());
        let district = city.child(&OrgCode::parse("460105").unwrap());
        let other = OrgPath::root(&OrgCode::parse("4601000").unwrap());
        assert!(city.contains(&district));
        assert!(!district.contains(&city));
        assert!(!city.contains(&other), "a code that merely starts alike is not inside");
    }
}

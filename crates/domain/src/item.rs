//! The service catalogue (事项): what each item is, who owns it, and its time limits.

use std::collections::{HashMap, HashSet};

use crate::RowError;
use crate::org::{OrgCode, parse_name};

/// A service item of the catalogue. Limits are in working days on the official calendar.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServiceItem {
    pub code: OrgCode,
    pub name: String,
    pub department_code: OrgCode,
    /// 法定时限
    pub legal_days: i32,
    /// 承诺时限, never above the legal limit; supervision measures against it.
    pub promised_days: i32,
    /// Fee standard in fen; 0 means free.
    pub fee_cents: i64,
}

/// One row of a service-items file, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRow {
    pub line: usize,
    pub code: String,
    pub name: String,
    pub department_code: String,
    pub legal_days: String,
    pub promised_days: String,
    pub fee_cents: String,
}

/// The longest limit accepted: a year of working days. Longer is a typing error.
pub const MAX_DAYS: i32 = 250;

fn parse_days(s: &str) -> Result<i32, String> {
    let n: i64 = s.trim().parse().map_err(|_| format!("“{}”不是整数", s.trim()))?;
    if n < 1 {
        return Err(format!("{n} 无效：工作日数至少为 1"));
    }
    if n > i64::from(MAX_DAYS) {
        return Err(format!("{n} 超过上限 {MAX_DAYS} 个工作日"));
    }
    Ok(n as i32)
}

fn parse_fee(s: &str) -> Result<i64, String> {
    let n: i64 = s.trim().parse().map_err(|_| format!("“{}”不是整数（单位：分）", s.trim()))?;
    if n < 0 {
        return Err(format!("{n} 无效：收费不能为负数"));
    }
    Ok(n)
}

/// Checks one item row; `departments` are the codes of the stored departments.
pub fn parse_item(row: &ItemRow, departments: &HashSet<String>) -> Result<ServiceItem, Vec<RowError>> {
    let mut errors = Vec::new();
    let line = row.line;
    let code = OrgCode::parse(&row.code).map_err(|r| errors.push(RowError::new(line, "code", r))).ok();
    let name = parse_name(&row.name).map_err(|r| errors.push(RowError::new(line, "name", r))).ok();
    let department_code = match OrgCode::parse(&row.department_code) {
        Ok(c) if departments.contains(c.as_str()) => Some(c),
        Ok(c) => {
            errors.push(RowError::new(line, "department_code", format!("部门 {c} 不存在")));
            None
        }
        Err(r) => {
            errors.push(RowError::new(line, "department_code", r));
            None
        }
    };
    let legal = parse_days(&row.legal_days).map_err(|r| errors.push(RowError::new(line, "legal_days", r))).ok();
    let promised =
        parse_days(&row.promised_days).map_err(|r| errors.push(RowError::new(line, "promised_days", r))).ok();
    let fee = parse_fee(&row.fee_cents).map_err(|r| errors.push(RowError::new(line, "fee_cents", r))).ok();
    if let (Some(l), Some(p)) = (legal, promised)
        && p > l
    {
        errors.push(RowError::new(line, "promised_days", format!("承诺时限 {p} 天超过法定时限 {l} 天")));
    }
    match (code, name, department_code, legal, promised, fee) {
        (Some(code), Some(name), Some(department_code), Some(legal_days), Some(promised_days), Some(fee_cents))
            if errors.is_empty() =>
        {
            Ok(ServiceItem { code, name, department_code, legal_days, promised_days, fee_cents })
        }
        _ => Err(errors),
    }
}

/// What an import does to one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemChange {
    Create(ServiceItem),
    Update { before: ServiceItem, after: ServiceItem },
    Unchanged(OrgCode),
}

/// Plans the import of a whole items file: every change, or every problem (the file is applied
/// whole or not at all).
pub fn plan_item_import(
    existing: &[ServiceItem],
    departments: &HashSet<String>,
    rows: &[ItemRow],
) -> Result<Vec<ItemChange>, Vec<RowError>> {
    let stored: HashMap<&str, &ServiceItem> = existing.iter().map(|i| (i.code.as_str(), i)).collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut errors = Vec::new();
    let mut changes = Vec::new();
    for row in rows {
        match parse_item(row, departments) {
            Err(mut e) => errors.append(&mut e),
            Ok(item) => {
                if let Some(first) = seen.get(item.code.as_str()) {
                    errors.push(RowError::new(row.line, "code", format!("事项编码 {} 与第 {first} 行重复", item.code)));
                    continue;
                }
                seen.insert(item.code.as_str().to_string(), row.line);
                changes.push(match stored.get(item.code.as_str()) {
                    Some(old) if **old == item => ItemChange::Unchanged(item.code),
                    Some(old) => ItemChange::Update { before: (*old).clone(), after: item },
                    None => ItemChange::Create(item),
                });
            }
        }
    }
    if errors.is_empty() { Ok(changes) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(line: usize, legal: &str, promised: &str, fee: &str, dept: &str) -> ItemRow {
        ItemRow {
            line,
            code: format!("SX{line:03}"),
            name: "企业投资项目核准".into(),
            department_code: dept.into(),
            legal_days: legal.into(),
            promised_days: promised.into(),
            fee_cents: fee.into(),
        }
    }

    fn depts() -> HashSet<String> {
        HashSet::from(["460100-D01".to_string()])
    }

    #[test]
    fn good_row() {
        let item = parse_item(&row(2, "20", "10", "0", "460100-D01"), &depts()).unwrap();
        assert_eq!((item.legal_days, item.promised_days, item.fee_cents), (20, 10, 0));
    }

    #[test]
    fn promised_above_legal() {
        let errs = parse_item(&row(2, "10", "20", "0", "460100-D01"), &depts()).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "promised_days");
        assert!(errs[0].reason.contains("超过法定时限"));
    }

    #[test]
    fn negative_fee_zero_days_unknown_department() {
        let errs = parse_item(&row(3, "0", "abc", "-5", "460100-D99"), &depts()).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["department_code", "legal_days", "promised_days", "fee_cents"]);
        assert!(errs.iter().all(|e| e.line == 3));
    }

    #[test]
    fn duplicates_in_file_and_updates() {
        let a = row(2, "20", "10", "0", "460100-D01");
        let mut b = a.clone();
        b.line = 3;
        let errs = plan_item_import(&[], &depts(), &[a.clone(), b]).unwrap_err();
        assert_eq!(errs[0].line, 3);
        let stored = parse_item(&a, &depts()).unwrap();
        let mut changed = a.clone();
        changed.promised_days = "8".into();
        let plan = plan_item_import(std::slice::from_ref(&stored), &depts(), &[a, changed.clone()]);
        assert!(plan.is_err(), "same code twice is still a duplicate");
        let plan = plan_item_import(&[stored], &depts(), &[changed]).unwrap();
        assert!(matches!(&plan[0], ItemChange::Update { after, .. } if after.promised_days == 8));
    }
}

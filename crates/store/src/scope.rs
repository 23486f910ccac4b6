use oversight_domain::access::Scope;

/// The one place that turns a [`Scope`] into SQL: a condition on a path column and its binds.
/// Every query that lists records of a user goes through it.
#[derive(Debug, Clone)]
pub struct ScopeFilter {
    pub sql: String,
    pub binds: Vec<String>,
}

impl ScopeFilter {
    /// A condition that keeps the rows whose `column` path lies in `scope`; its parameters are
    /// numbered from `$first`.
    pub fn new(scope: &Scope, column: &str, first: usize) -> ScopeFilter {
        ScopeFilter::any(scope, &[column], first)
    }

    /// A condition that keeps the rows with any of `columns` in `scope`: a case belongs to its
    /// venue and to the department responsible for its item, and both see it.
    pub fn any(scope: &Scope, columns: &[&str], first: usize) -> ScopeFilter {
        match scope {
            Scope::All => ScopeFilter { sql: "1 = 1".into(), binds: vec![] },
            Scope::Subtrees(roots) if roots.is_empty() => ScopeFilter { sql: "1 = 0".into(), binds: vec![] },
            Scope::Subtrees(roots) => {
                // substr() rather than LIKE: exact, with nothing to escape, on both backends.
                let parts: Vec<String> = (0..roots.len())
                    .flat_map(|i| {
                        columns
                            .iter()
                            .map(move |column| format!("substr({column}, 1, length(${n})) = ${n}", n = first + i))
                    })
                    .collect();
                ScopeFilter {
                    sql: format!("({})", parts.join(" OR ")),
                    binds: roots.iter().map(|r| r.as_str().to_string()).collect(),
                }
            }
        }
    }

    /// A condition that keeps the rows owned by a unit in `scope`, where a row names its owners
    /// by code in `code_columns` (tallies, which carry no paths): the units in scope are looked
    /// up in `org_unit` by path, once per statement. Binds the same parameters as
    /// [`ScopeFilter::any`] from the same `first`, so the two can share them in one statement.
    pub fn any_unit(scope: &Scope, code_columns: &[&str], first: usize) -> ScopeFilter {
        let units = ScopeFilter::new(scope, "path", first);
        match scope {
            Scope::Subtrees(roots) if !roots.is_empty() => {
                let parts: Vec<String> = code_columns
                    .iter()
                    .map(|column| format!("{column} IN (SELECT code FROM org_unit WHERE {})", units.sql))
                    .collect();
                ScopeFilter { sql: format!("({})", parts.join(" OR ")), binds: units.binds }
            }
            _ => units,
        }
    }

    /// The number of the next free parameter.
    pub fn next_param(&self, first: usize) -> usize {
        first + self.binds.len()
    }
}

//! Roles, their org subtrees, and what each may do. Authorization is data: a user carries grants
//! (a role bound to an org subtree); every query of the user is filtered by the union of the
//! subtrees (its [`Scope`]), and every action is checked by [`Grants::may`].

use crate::org::OrgPath;

/// The roles of DOMAIN.md, plus the system administrator who manages accounts and the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Role {
    /// 系统管理员: users, roles, API keys, the calendar, the network.
    Admin,
    /// 效能办督查员 (city or district efficiency office, by the subtree of the grant).
    Supervisor,
    /// 部门联络员
    Liaison,
    /// 窗口人员 / 中心负责人
    WindowStaff,
    /// 热线话务员
    Operator,
    /// 监督专员 / 特邀监察员
    Inspector,
    /// 领导: everything in scope, read only.
    Leader,
    /// 部门业务系统: an API key of a department's own system; pushes case events in its scope.
    DepartmentSystem,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Admin,
        Role::Supervisor,
        Role::Liaison,
        Role::WindowStaff,
        Role::Operator,
        Role::Inspector,
        Role::Leader,
        Role::DepartmentSystem,
    ];

    /// The roles a person can be given (a department system's role belongs to API keys).
    pub fn for_people() -> impl Iterator<Item = Role> {
        Role::ALL.into_iter().filter(|r| *r != Role::DepartmentSystem)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Liaison => "liaison",
            Role::WindowStaff => "window_staff",
            Role::Operator => "operator",
            Role::Inspector => "inspector",
            Role::Leader => "leader",
            Role::DepartmentSystem => "department_system",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "系统管理员",
            Role::Supervisor => "效能办督查员",
            Role::Liaison => "部门联络员",
            Role::WindowStaff => "窗口人员",
            Role::Operator => "热线话务员",
            Role::Inspector => "监督专员",
            Role::Leader => "领导",
            Role::DepartmentSystem => "部门业务系统",
        }
    }
}

/// What a user may try to do; checked against the grants whose subtree holds the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See the records of a subtree.
    View,
    /// Rename units, add windows and staff, import the network and the catalogue.
    EditNetwork,
    /// Create users and grant roles within the subtree.
    ManageUsers,
    /// Create API keys bound to the subtree.
    ManageApiKeys,
    /// Add or correct a year of the official calendar (city-wide data).
    EditCalendar,
    /// Read the audit log.
    ViewAudit,
    /// Dismiss alerts, send supervision notices, close them, give cards, decide appeals (效能办).
    Supervise,
    /// Reply to a supervision notice and appeal a card, for the department (部门联络员); sign
    /// for, return, extend and answer a hotline work order sent to the department.
    Respond,
    /// The hotline's own work (热线): take orders, dispatch them, visit the citizen, close
    /// consultations.
    Hotline,
    /// See who called: the caller's name and phone. The office only, never the department.
    ViewCaller,
}

impl Role {
    pub fn allows(self, action: Action) -> bool {
        match action {
            Action::View => true,
            Action::EditNetwork => matches!(self, Role::Admin | Role::Supervisor),
            Action::ManageUsers | Action::ManageApiKeys | Action::EditCalendar => self == Role::Admin,
            Action::ViewAudit => matches!(self, Role::Admin | Role::Supervisor),
            Action::Supervise => self == Role::Supervisor,
            Action::Respond => self == Role::Liaison,
            Action::Hotline | Action::ViewCaller => matches!(self, Role::Operator | Role::Supervisor),
        }
    }
}

/// A role bound to an org subtree.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Grant {
    pub role: Role,
    pub path: OrgPath,
}

/// The subtrees whose records someone may see: the one value every scoped query takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The whole network (the command line, run by whoever runs the server).
    All,
    /// The union of these subtrees (possibly none: sees nothing).
    Subtrees(Vec<OrgPath>),
}

impl Scope {
    pub fn contains(&self, path: &OrgPath) -> bool {
        match self {
            Scope::All => true,
            Scope::Subtrees(roots) => roots.iter().any(|r| r.contains(path)),
        }
    }
}

/// All grants of one user or key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Grants(pub Vec<Grant>);

impl Grants {
    /// The union of the subtrees of all grants, without nested duplicates.
    pub fn scope(&self) -> Scope {
        let mut roots: Vec<OrgPath> = Vec::new();
        let mut paths: Vec<&OrgPath> = self.0.iter().map(|g| &g.path).collect();
        paths.sort_by_key(|p| p.as_str().len());
        for p in paths {
            if !roots.iter().any(|r| r.contains(p)) {
                roots.push(p.clone());
            }
        }
        Scope::Subtrees(roots)
    }

    /// Whether some grant allows `action` on a record at `target`.
    pub fn may(&self, action: Action, target: &OrgPath) -> bool {
        self.0.iter().any(|g| g.role.allows(action) && g.path.contains(target))
    }

    /// Whether some grant allows `action` anywhere (to show a menu entry, say).
    pub fn may_somewhere(&self, action: Action) -> bool {
        self.0.iter().any(|g| g.role.allows(action))
    }

    /// The subtrees where `action` is allowed.
    pub fn scope_for(&self, action: Action) -> Scope {
        Grants(self.0.iter().filter(|g| g.role.allows(action)).cloned().collect()).scope()
    }

    /// Whether some grant allows `action` over the whole network (a grant at the root): what
    /// city-wide data (the calendar) and users without any grant require.
    pub fn may_city_wide(&self, action: Action) -> bool {
        self.0.iter().any(|g| g.role.allows(action) && g.path.depth() == 1)
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.0.iter().any(|g| g.role == role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::OrgCode;

    fn path(codes: &[&str]) -> OrgPath {
        let mut p = OrgPath::root(&OrgCode::parse(codes[0]).unwrap());
        for c in &codes[1..] {
            p = p.child(&OrgCode::parse(c).unwrap());
        }
        p
    }

    #[test]
    fn district_supervisor_sees_and_edits_only_its_district() {
        let grants = Grants(vec![Grant { role: Role::Supervisor, path: path(&["460100", "460105"]) }]);
        assert!(grants.may(Action::EditNetwork, &path(&["460100", "460105", "460105001"])));
        assert!(!grants.may(Action::EditNetwork, &path(&["460100", "460106"])));
        assert!(!grants.may(Action::View, &path(&["460100"])));
        assert!(!grants.may(Action::ManageUsers, &path(&["460100", "460105"])));
        assert!(!grants.may_city_wide(Action::EditNetwork));
        let city = Grants(vec![Grant { role: Role::Admin, path: path(&["460100"]) }]);
        assert!(city.may_city_wide(Action::EditCalendar));
        assert!(grants.scope().contains(&path(&["460100", "460105", "460105-V"])));
    }

    #[test]
    fn scope_merges_nested_subtrees() {
        let grants = Grants(vec![
            Grant { role: Role::Leader, path: path(&["460100", "460105", "460105001"]) },
            Grant { role: Role::Leader, path: path(&["460100", "460105"]) },
            Grant { role: Role::Leader, path: path(&["460100", "460106"]) },
        ]);
        assert_eq!(grants.scope(), Scope::Subtrees(vec![path(&["460100", "460105"]), path(&["460100", "460106"])]));
        assert_eq!(Grants::default().scope(), Scope::Subtrees(vec![]));
        assert!(!Grants::default().scope().contains(&path(&["460100"])));
    }

    #[test]
    fn leader_reads_only() {
        let grants = Grants(vec![Grant { role: Role::Leader, path: path(&["460100"]) }]);
        assert!(grants.may(Action::View, &path(&["460100", "460108"])));
        assert!(!grants.may_somewhere(Action::EditNetwork));
        assert!(!grants.may_somewhere(Action::ViewAudit));
        assert!(!grants.may_somewhere(Action::ViewCaller));
    }

    #[test]
    fn only_the_office_sees_callers() {
        for role in Role::ALL {
            let office = matches!(role, Role::Operator | Role::Supervisor);
            assert_eq!(role.allows(Action::ViewCaller), office, "{role:?}");
        }
    }
}

//! Roles, their org subtrees, and what each may do. Authorization is data: a user carries grants
//! (a role bound to an org subtree); every query of the user is filtered by the union of the
//! subtrees (its [`Scope`]), and every action is checked by [`Grants::may`].

use crate::org::OrgPath;

crate::words! {
    /// The roles of DOMAIN.md, plus the system administrator who manages accounts and the calendar.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
    pub enum Role as "角色" {
        /// 系统管理员: users, roles, API keys, the calendar, the network.
        Admin = "admin" / "系统管理员",
        /// 效能办督查员 (city or district efficiency office, by the subtree of the grant).
        Supervisor = "supervisor" / "效能办督查员",
        /// 部门联络员
        Liaison = "liaison" / "部门联络员",
        /// 窗口人员 / 中心负责人
        WindowStaff = "window_staff" / "窗口人员",
        /// 热线话务员
        Operator = "operator" / "热线话务员",
        /// 监督专员 / 特邀监察员
        Inspector = "inspector" / "监督专员",
        /// 领导: everything in scope, read only.
        Leader = "leader" / "领导",
        /// 部门业务系统: an API key of a department's own system; pushes case events in its scope.
        DepartmentSystem = "department_system" / "部门业务系统",
    }
}

impl Role {
    /// The roles a person can be given (a department system's role belongs to API keys).
    pub fn for_people() -> impl Iterator<Item = Role> {
        Role::ALL.into_iter().filter(|r| *r != Role::DepartmentSystem)
    }
}

crate::words! {
    /// What an API key is for: each route of the JSON API and of Open311 that takes keys serves one
    /// purpose (or any key, for reference data), and a key is refused on the others.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
    pub enum KeyPurpose as "密钥用途" {
        /// A department's approval system pushes case events (`/api/v1/case-events`).
        CaseEvents = "case_events" / "报送办件事件",
        /// The office's document system pushes key-task events (`/api/v1/task-events`).
        TaskEvents = "task_events" / "报送督办事项事件",
        /// Another system files hotline work orders (`/api/v1/orders`).
        Orders = "orders" / "提交热线工单",
        /// An Open311 client files and reads requests (`/open311/v2/`).
        Open311 = "open311" / "Open311 客户端",
        /// Reports, the dashboard and the evaluation are read (`/api/v1/reports/…`).
        Reports = "reports" / "读取报表",
    }
}

/// The purposes of one key, stored as their words separated by spaces.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct KeyPurposes(Vec<KeyPurpose>);

impl KeyPurposes {
    pub fn all() -> KeyPurposes {
        KeyPurposes(KeyPurpose::ALL.to_vec())
    }

    /// From their words, separated by commas or spaces; an unknown word is named in the error.
    pub fn parse(text: &str) -> Result<KeyPurposes, String> {
        let mut purposes = Vec::new();
        for word in text.split([',', ' ', '，']).map(str::trim).filter(|w| !w.is_empty()) {
            let purpose = KeyPurpose::parse(word).ok_or_else(|| {
                let known: Vec<&str> = KeyPurpose::ALL.iter().map(|p| p.as_str()).collect();
                format!("不认识的用途“{word}”（可选：{}）", known.join("、"))
            })?;
            purposes.push(purpose);
        }
        Ok(KeyPurposes::from(purposes))
    }

    pub fn contains(&self, purpose: KeyPurpose) -> bool {
        self.0.contains(&purpose)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = KeyPurpose> + '_ {
        self.0.iter().copied()
    }

    pub fn to_stored(&self) -> String {
        self.0.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(" ")
    }

    /// The Chinese labels, joined for a page or a message.
    pub fn labels(&self) -> String {
        self.0.iter().map(|p| p.label()).collect::<Vec<_>>().join("、")
    }
}

impl From<Vec<KeyPurpose>> for KeyPurposes {
    fn from(mut purposes: Vec<KeyPurpose>) -> KeyPurposes {
        purposes.sort();
        purposes.dedup();
        KeyPurposes(purposes)
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
    /// Flag a key task for the leader's own follow-up (挂牌督办), and take the flag down.
    Flag,
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
            Action::Flag => self == Role::Leader,
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

    #[test]
    fn key_purposes_read_their_words_once_each_in_order() {
        let p = KeyPurposes::parse("orders, case_events，orders reports").unwrap();
        assert_eq!(p.to_stored(), "case_events orders reports");
        assert_eq!(KeyPurposes::parse(&p.to_stored()).unwrap(), p);
        assert!(p.contains(KeyPurpose::Orders) && !p.contains(KeyPurpose::Open311));
        assert_eq!(p.labels(), "报送办件事件、提交热线工单、读取报表");
        let err = KeyPurposes::parse("case_events,everything").unwrap_err();
        assert!(err.contains("everything") && err.contains("open311"), "{err}");
        assert!(KeyPurposes::parse(" , ").unwrap().is_empty());
        assert_eq!(KeyPurposes::all().iter().count(), KeyPurpose::ALL.len());
    }
}

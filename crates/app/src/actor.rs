use oversight_domain::access::{Action, Grants, KeyPurpose, KeyPurposes, Scope};
use oversight_domain::org::OrgPath;

use crate::AppError;

/// Who asks: a signed-in user, a department system's API key, or the command line.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The user's id, for a user.
    pub user_id: Option<String>,
    /// How the actor is written in the audit log (`user:zhangsan`, `api-key:…`, `cli`).
    pub label: String,
    /// The name shown on pages.
    pub display_name: String,
    pub grants: Grants,
    /// The command line: whoever runs it runs the server and sees everything.
    pub everything: bool,
    /// What an API key is for; `None` when the actor is not a key (a user, the command line).
    pub key_purposes: Option<KeyPurposes>,
}

impl Actor {
    pub fn cli() -> Actor {
        Actor {
            user_id: None,
            label: "cli".into(),
            display_name: "命令行".into(),
            grants: Grants::default(),
            everything: true,
            key_purposes: None,
        }
    }

    /// Refuses an API key that is not for `purpose` (users and the command line pass: what they
    /// may do is a matter of their grants).
    pub fn require_purpose(&self, purpose: KeyPurpose) -> Result<(), AppError> {
        match &self.key_purposes {
            Some(purposes) if !purposes.contains(purpose) => Err(AppError::Forbidden(format!(
                "本接口密钥的用途是{}，不能用于{}",
                purposes.labels(),
                purpose.label()
            ))),
            _ => Ok(()),
        }
    }

    pub fn scope(&self) -> Scope {
        if self.everything { Scope::All } else { self.grants.scope() }
    }

    /// The subtrees this actor may report events for, as stored with each event it sends
    /// (space-separated paths); `None` when it may report anywhere.
    pub fn sender_scope(&self) -> Option<String> {
        match self.scope() {
            Scope::All => None,
            Scope::Subtrees(roots) => Some(roots.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" ")),
        }
    }

    pub fn scope_for(&self, action: Action) -> Scope {
        if self.everything { Scope::All } else { self.grants.scope_for(action) }
    }

    pub fn may(&self, action: Action, target: &OrgPath) -> bool {
        self.everything || self.grants.may(action, target)
    }

    /// Whether the actor may do `action` over the whole network.
    pub fn may_city_wide(&self, action: Action) -> bool {
        self.everything || self.grants.may_city_wide(action)
    }

    /// Refuses an actor who may do `action` nowhere; `what` names what was asked
    /// (您没有…的权限).
    pub fn require_somewhere(&self, action: Action, what: &str) -> Result<(), AppError> {
        if self.may_somewhere(action) { Ok(()) } else { Err(AppError::Forbidden(format!("您没有{what}的权限"))) }
    }

    pub fn may_somewhere(&self, action: Action) -> bool {
        self.everything || self.grants.may_somewhere(action)
    }

    /// Fails unless the actor may do `action` on a record at `target`. A record outside the
    /// actor's view is answered as not found, so that its existence does not leak.
    pub fn require(&self, action: Action, target: &OrgPath, what: &str) -> Result<(), AppError> {
        self.require_any(action, &[target], what)
    }

    /// Whether the actor may do `action` on a record that belongs at any of `targets` (a case
    /// belongs to its venue and to the department responsible for it).
    pub fn may_any(&self, action: Action, targets: &[&OrgPath]) -> bool {
        targets.iter().any(|t| self.may(action, t))
    }

    /// [`Actor::require`] for a record that belongs at several places.
    pub fn require_any(&self, action: Action, targets: &[&OrgPath], what: &str) -> Result<(), AppError> {
        if self.may_any(action, targets) {
            Ok(())
        } else if self.may_any(Action::View, targets) {
            Err(AppError::Forbidden(format!("您没有权限对{what}执行此操作")))
        } else {
            Err(AppError::NotFound(what.to_string()))
        }
    }

    /// Where the actor's own writes sit in the audit log: its one subtree, or the root.
    pub fn audit_path(&self) -> String {
        match self.scope() {
            Scope::Subtrees(roots) if roots.len() == 1 => roots[0].as_str().to_string(),
            _ => "/".to_string(),
        }
    }

    /// Fails unless the actor may see a record at `target` (answered as not found).
    pub fn require_view(&self, target: &OrgPath, what: &str) -> Result<(), AppError> {
        if self.may(Action::View, target) { Ok(()) } else { Err(AppError::NotFound(what.to_string())) }
    }
}

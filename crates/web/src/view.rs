//! What every page shares: the layout (user, form token, navigation, assets) and small
//! presentation helpers.

use oversight_domain::access::Action;
use oversight_domain::org::OrgKind;

use crate::session::SessionInfo;

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

/// Times as pages show them: in the office's time zone, to the minute. The one place a page
/// formats a time.
#[derive(Debug, Clone, Copy)]
pub struct LocalTime(pub chrono_tz::Tz);

impl LocalTime {
    /// `2011-03-31 17:05`
    pub fn local(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        t.with_timezone(&self.0).format("%Y-%m-%d %H:%M").to_string()
    }
}

/// A form's faults, each shown beside its field (and announced to screen readers).
#[derive(Debug, Clone, Default)]
pub struct FieldErrors(pub Vec<oversight_domain::RowError>);

impl FieldErrors {
    /// The message of `field`, if it has one.
    pub fn of(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|e| e.field == field).map(|e| e.reason.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The status of a form page shown again: 422 when a field is wrong or the step was
    /// refused (`refused`), 200 otherwise.
    pub fn status(&self, refused: bool) -> axum::http::StatusCode {
        if self.is_empty() && !refused {
            axum::http::StatusCode::OK
        } else {
            axum::http::StatusCode::UNPROCESSABLE_ENTITY
        }
    }
}

/// The frame of every signed-in page.
pub struct Layout {
    pub title: String,
    pub user: String,
    pub roles: String,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub admin_nav: Vec<NavItem>,
    pub css: String,
    pub js: String,
    pub notice: Option<&'static str>,
    pub time: LocalTime,
}

impl Layout {
    pub fn new(session: &SessionInfo, section: &str, title: impl Into<String>) -> Layout {
        let actor = &session.actor;
        let item = |href: &'static str, label: &'static str| NavItem { href, label, active: section == href };
        let nav = vec![
            item("/", "首页"),
            item("/network", "服务网络"),
            item("/catalogue", "事项目录"),
            item("/calendar", "工作日历"),
            item("/dashboard", "实时监控"),
            item("/cases", "电子监察"),
            item("/supervision", "预警与督办"),
            item("/hotline", "效能投诉"),
            item("/tasks", "督察督办"),
            item("/ratings", "好差评"),
            item("/inspections", "明察暗访"),
            item("/evaluation", "绩效考评"),
            item("/reports", "统计报表"),
        ];
        let mut admin_nav = Vec::new();
        if actor.may_somewhere(Action::ManageUsers) {
            admin_nav.push(item("/admin/users", "用户与角色"));
        }
        if actor.may_somewhere(Action::ManageApiKeys) {
            admin_nav.push(item("/admin/api-keys", "接口密钥"));
        }
        if actor.may_somewhere(Action::ViewAudit) {
            admin_nav.push(item("/audit", "审计日志"));
        }
        let mut roles: Vec<&str> = actor.grants.0.iter().map(|g| g.role.label()).collect();
        roles.dedup();
        Layout {
            title: title.into(),
            user: actor.display_name.clone(),
            roles: roles.join("、"),
            csrf: session.csrf.clone(),
            nav,
            admin_nav,
            css: crate::assets::url("app.css"),
            js: crate::assets::url("app.js"),
            notice: None,
            time: LocalTime(session.tz),
        }
    }

    /// A time as the page shows it ([`LocalTime::local`]).
    pub fn local(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        self.time.local(t)
    }

    pub fn with_notice(mut self, code: Option<&str>) -> Layout {
        self.notice = code.and_then(notice_text);
        self
    }
}

/// Messages shown after a redirect (`?done=CODE`): a fixed set, so a link cannot make the
/// site say anything else.
fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "renamed" => "名称已保存。",
        "window" => "窗口已添加。",
        "staff" => "工作人员已添加。",
        "calendar" => "工作日历已保存，新的安排立即生效。",
        "user" => "用户已创建。",
        "grant" => "角色已授予。",
        "revoked" => "角色已撤销。",
        "password" => "密码已重设，该用户需重新登录。",
        "active" => "账号状态已更新。",
        "key-revoked" => "密钥已吊销。",
        "notice" => "督办通知已发出，责任部门将在待办中看到。",
        "dismissed" => "预警已核销。",
        "step" => "已办理，督办过程已记录。",
        "flagged" => "已挂牌督办，批示在任务页上所有能看到该任务的人都看得到。",
        "lifted" => "已摘牌。",
        "task" => "任务已交办，牵头单位将在待办中看到。",
        "meeting" => "会议已安排，议程已据记录起草，可修改后保存。",
        "agenda" => "议程已保存。",
        "minutes" => "会议纪要已保存，会议记为已召开。",
        "decision" => "议定事项已记录，并已作为督办任务交办。",
        "order" => "工单已受理。",
        "contacts" => "通知联系方式已保存。",
        "order-step" => "已办理，办理过程已记录。",
        "planned" => "检查轮次已安排，检查对象已按公开规则抽取；种子的承诺值已公布，本轮结束后公布种子。",
        "ended" => "本轮检查已结束，种子已公布，任何人都可据此复核抽取结果。",
        "finding" => "问题已保存。",
        "photo" => "照片已保存（已压缩并去除位置信息）。",
        "visit-closed" => "本次检查已结束，记录不再修改。",
        "scheme" => "考评方案已保存（第 1 版）。可选择期间试算。",
        "scheme-version" => "已保存为新版本；已发布的结果仍按原版本保留。",
        "manual" => "人工评分已录入，试算结果已按此更新。",
        "self-request" => "已请各部门自评；部门提交后，在下方“部门自评”表中可见，审核录入时自评分并列显示。",
        "self" => "自评已提交。效能办审核前仍可修改。",
        "appeal" => "申诉已提交，效能办将审核；申诉成立的记录不再计入，结果将重新发布。",
        "republished" => "申诉成立：该记录已不再计入，考评结果已重新计算并重新发布。",
        "appeal-rejected" => "已作出申诉不成立的决定，理由已告知部门。",
        "published" => "考评结果已发布，公开页面和开放数据已可访问。",
        "saved" => "检查表新版本已保存，此后的检查使用新版本，以前的检查记录不变。",
        "bulletin" => "通报已据本月整改通知起草：可选择列入的问题和照片，修改文字后保存。",
        "bulletin-saved" => "通报已保存。",
        "bulletin-approve" => "通报已审核，所列问题及其整改情况已按此刻固定；公开发布前仍可撤回修改。",
        "bulletin-withdraw" => "通报已撤回为草稿，所列问题重新按最新情况显示。",
        "bulletin-publish" => "通报已在公开页面发布，公开版本不含工作人员姓名。",
        _ => return None,
    })
}

/// Counts of units by kind as a short Chinese phrase, e.g. "镇（街道）41 · 便民服务中心 41".
pub fn counts_phrase(counts: &[(OrgKind, i64)], skip: OrgKind) -> String {
    counts.iter().filter(|(k, _)| *k != skip).map(|(k, n)| format!("{} {n}", k.label())).collect::<Vec<_>>().join(" · ")
}

/// Fen as yuan, e.g. 1000 → "10.00 元"; 0 → "免费".
pub fn fee(cents: i64) -> String {
    if cents == 0 { "免费".into() } else { format!("{}.{:02} 元", cents / 100, cents % 100) }
}

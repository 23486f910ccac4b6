//! Configuration in layers: defaults, then a TOML file, then `OVERSIGHT_*` environment variables,
//! then the command line's `--db`. No file is needed to start.

use std::fmt;
use std::path::PathBuf;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `sqlite://PATH` or `postgres://…`; default: `oversight.db` in the data directory.
    pub database_url: Option<String>,
    /// Where the embedded database lives.
    pub data_dir: PathBuf,
    /// Address the server listens on.
    pub listen: String,
    /// The city's time zone: business dates are local dates there.
    pub timezone: String,
    /// How long a login lasts.
    pub session_hours: i64,
    /// Mark cookies `Secure`: `true` always, `false` never; unset, when the request came over
    /// HTTPS (as a trusted proxy says in `X-Forwarded-Proto`), so that an intranet served over
    /// plain HTTP still signs in.
    pub secure_cookies: Option<bool>,
    /// Reverse proxies in front of the server (addresses or networks such as `10.0.0.0/8`): from
    /// them, the client's address is taken from `X-Forwarded-For` and HTTPS from
    /// `X-Forwarded-Proto`; from anyone else those headers are ignored.
    pub trusted_proxies: Vec<String>,
    /// Serve `GET /metrics` on this address only (say, one a monitoring network reaches) instead
    /// of beside the site.
    pub metrics_listen: Option<String>,
    /// Failed logins allowed per user name (and per client address, ×5) within the window.
    pub login_max_failures: i64,
    pub login_window_minutes: i64,
    /// Thresholds of the supervision rules (`[supervision]` in the file).
    pub supervision: oversight_domain::case::SupervisionRules,
    /// Limits of the hotline (`[hotline]`): sign-for hours, working hours, limits by type.
    pub hotline: oversight_domain::workorder::HotlineRules,
    /// Citizens' web orders allowed per client address within an hour (the public form).
    pub public_orders_per_hour: u32,
    /// Working days a department has to contact the applicant of a bad rating and to report its
    /// rectification (`[ratings]`: `contact_days`, `rectify_days`).
    pub ratings: oversight_domain::rating::FollowUpLimits,
    /// Findings of inspections (`[inspections]`): `minor_days`, `serious_days` to rectify,
    /// `repeat_days` within which the same finding at the same venue is a repeat.
    pub inspections: oversight_domain::inspection::InspectionRules,
    /// Evaluations (`[evaluation]`): `appeal_days`, working days after publication to appeal.
    pub evaluation: oversight_domain::evaluation::EvaluationRules,
    /// Where notifications go (`[notify]`): SMTP and the SMS gateway, retries.
    pub notify: crate::notify::NotifyConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: None,
            data_dir: default_data_dir(),
            listen: "127.0.0.1:8080".into(),
            timezone: "Asia/Shanghai".into(),
            session_hours: 12,
            secure_cookies: None,
            trusted_proxies: Vec::new(),
            metrics_listen: None,
            login_max_failures: 5,
            login_window_minutes: 15,
            supervision: Default::default(),
            hotline: Default::default(),
            public_orders_per_hour: 10,
            ratings: Default::default(),
            inspections: Default::default(),
            evaluation: Default::default(),
            notify: Default::default(),
        }
    }
}

fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("oversight");
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(home) => PathBuf::from(home).join(".local/share/oversight"),
        None => PathBuf::from("oversight-data"),
    }
}

impl Config {
    /// Reads the layers: defaults, the file named by `OVERSIGHT_CONFIG` (or `oversight.toml` in
    /// the working directory when present), then the environment.
    pub fn load() -> Result<Config, figment::Error> {
        let file = std::env::var("OVERSIGHT_CONFIG").unwrap_or_else(|_| "oversight.toml".into());
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("OVERSIGHT_").ignore(&["config", "test_pg"]))
            .extract()
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("oversight.db").display()),
        }
    }

    pub fn tz(&self) -> chrono_tz::Tz {
        self.timezone.parse().unwrap_or(chrono_tz::Asia::Shanghai)
    }
}

/// Hides a password in a database URL.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}://{user}:***{}", &url[..scheme], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url()))
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field("timezone", &self.timezone)
            .field("session_hours", &self.session_hours)
            .field("secure_cookies", &self.secure_cookies)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("metrics_listen", &self.metrics_listen)
            .field("login_max_failures", &self.login_max_failures)
            .field("login_window_minutes", &self.login_window_minutes)
            .field("supervision", &self.supervision)
            .field("hotline", &self.hotline)
            .field("public_orders_per_hour", &self.public_orders_per_hour)
            .field("ratings", &self.ratings)
            .field("inspections", &self.inspections)
            .field("evaluation", &self.evaluation)
            .field("notify", &self.notify)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_supervision_section_keeps_the_other_defaults() {
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string("listen = \"0.0.0.0:9000\"\n[supervision]\nacceptance_days = 0\nfees = false\n"))
            .extract()
            .unwrap();
        assert_eq!(config.listen, "0.0.0.0:9000");
        assert_eq!(config.supervision.acceptance_days, Some(0));
        assert!(!config.supervision.fees);
        assert_eq!(config.supervision.late_report_hours, Some(24));
    }

    #[test]
    fn passwords_never_show() {
        assert_eq!(redact_url("postgres://app:s3cret@db:5432/x"), "postgres://app:***@db:5432/x");
        let c = Config { database_url: Some("postgres://app:s3cret@db/x".into()), ..Config::default() };
        assert!(!format!("{c:?}").contains("s3cret"));
        assert_eq!(redact_url("sqlite:///tmp/a.db"), "sqlite:///tmp/a.db");
    }
}

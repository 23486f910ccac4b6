//! Notifications of the hotline: messages queued in the outbox with the step that causes them
//! (dispatch → the department; reply → the citizen), reminders before a reply is due and
//! warnings when an order is late (the hotline watch, which also raises alerts like the case
//! monitor), and their delivery by SMTP and an HTTP SMS gateway, retried with back-off.
//!
//! Delivery is at least once: a message is marked sent only after the transport accepted it,
//! and a delivery that stopped half-way leaves its claim to lapse, after which it is retried.

use oversight_domain::message::{MessageChannel, MessageStatus};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use oversight_domain::access::Scope;
use oversight_domain::supervision::{Subject, SubjectKind};
use oversight_domain::workorder::{Late, OrderStatus};
use oversight_store::orders::{self as order_store, OrderFilter, OrderRow};
use oversight_store::outbox::{self as store, MessageRow};
use oversight_store::supervision as supervision_store;
use serde::{Deserialize, Serialize};

use crate::supervision::AlertOwner;
use crate::{App, AppError, new_id};

/// Where messages go (`[notify]` in the configuration). Without an SMTP host or SMS gateway,
/// messages of that channel wait in the outbox, retried, and are shown as failing.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct NotifyConfig {
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    pub smtp_user: Option<String>,
    pub smtp_password: Option<String>,
    pub from: String,
    /// The SMS gateway: `POST` of `{"to", "text", "id"}` as JSON; a 2xx answer means accepted.
    pub sms_url: Option<String>,
    pub sms_token: Option<String>,
    /// Attempts before a message is given up (then shown as failed).
    pub max_attempts: u32,
    /// The first retry waits this long; each next one twice as long, at most an hour.
    pub retry_seconds: u32,
    /// Remind the department this many working days before its reply is due (0: on the day).
    pub remind_days_before: u32,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            smtp_host: None,
            smtp_port: 25,
            smtp_user: None,
            smtp_password: None,
            from: "效能办 <xiaoneng@localhost>".into(),
            sms_url: None,
            sms_token: None,
            max_attempts: 8,
            retry_seconds: 60,
            remind_days_before: 1,
        }
    }
}

/// A URL for the log: its password and its query (where gateways put their keys) hidden.
pub fn redact_query(url: &str) -> String {
    let url = crate::config::redact_url(url);
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?***"),
        None => url,
    }
}

impl std::fmt::Debug for NotifyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotifyConfig")
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_user", &self.smtp_user)
            .field("smtp_password", &self.smtp_password.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .field("sms_url", &self.sms_url.as_deref().map(redact_query))
            .field("sms_token", &self.sms_token.as_ref().map(|_| "***"))
            .field("max_attempts", &self.max_attempts)
            .field("retry_seconds", &self.retry_seconds)
            .finish()
    }
}

/// A message to queue: to whom, by which channel, about which order.
pub struct Outgoing {
    pub dedup_key: String,
    pub kind: &'static str,
    pub channel: MessageChannel,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// The order the message is about, if it is about one (a task's reminder is not).
    pub ticket_no: Option<String>,
}

fn row(m: Outgoing, now: DateTime<Utc>) -> MessageRow {
    MessageRow {
        id: new_id(),
        dedup_key: m.dedup_key,
        kind: m.kind.into(),
        channel: m.channel,
        recipient: m.recipient,
        subject: m.subject,
        body: m.body,
        ticket_no: m.ticket_no,
        status: MessageStatus::Pending,
        attempts: 0,
        next_attempt_at: now,
        claimed_by: None,
        claimed_until: None,
        last_error: None,
        created_at: now,
        sent_at: None,
    }
}

/// Queues messages within the caller's transaction.
pub async fn enqueue(
    tx: &mut oversight_store::Tx,
    messages: Vec<Outgoing>,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    let rows: Vec<MessageRow> = messages.into_iter().map(|m| row(m, now)).collect();
    Ok(store::enqueue(tx, &rows).await?)
}

/// The messages to a department about an order: by e-mail and SMS, where it has them. Never
/// anything of the caller.
pub async fn to_department(
    app: &App,
    order: &OrderRow,
    kind: &'static str,
    key: &str,
    subject: String,
    body: String,
) -> Result<Vec<Outgoing>, AppError> {
    let Some(code) = &order.subject_department_code else { return Ok(vec![]) };
    to_contacts(app, code, Some(&order.ticket_no), kind, key, subject, body).await
}

/// The messages to department `code` (by e-mail and SMS, where it has them), about the order
/// `ticket_no` if any; each channel's key is `key` with the channel.
pub async fn to_contacts(
    app: &App,
    code: &str,
    ticket_no: Option<&str>,
    kind: &'static str,
    key: &str,
    subject: String,
    body: String,
) -> Result<Vec<Outgoing>, AppError> {
    let Some((email, phone)) = store::contacts(&app.db, code).await? else { return Ok(vec![]) };
    let mut out = Vec::new();
    if let Some(email) = email {
        out.push(Outgoing {
            dedup_key: format!("{key}|email"),
            kind,
            channel: MessageChannel::Email,
            recipient: email,
            subject: subject.clone(),
            body: body.clone(),
            ticket_no: ticket_no.map(str::to_string),
        });
    }
    if let Some(phone) = phone {
        out.push(Outgoing {
            dedup_key: format!("{key}|sms"),
            kind,
            channel: MessageChannel::Sms,
            recipient: phone,
            subject,
            body,
            ticket_no: ticket_no.map(str::to_string),
        });
    }
    Ok(out)
}

/// The text message to the citizen that the order was answered, when there is a phone.
pub fn to_citizen(order: &OrderRow, key: &str) -> Option<Outgoing> {
    let phone = order.caller_phone.clone()?;
    Some(Outgoing {
        dedup_key: format!("{key}|citizen"),
        kind: "replied",
        channel: MessageChannel::Sms,
        recipient: phone,
        subject: "效能投诉答复".into(),
        body: format!(
            "【效能投诉】您反映的问题（工单 {}）已有答复，可凭工单号和查询码在网上查询，效能办将回访。",
            order.ticket_no
        ),
        ticket_no: Some(order.ticket_no.clone()),
    })
}

/// The transports of a delivery pass.
pub struct Transports {
    smtp: Option<(AsyncSmtpTransport<Tokio1Executor>, Mailbox)>,
    sms: Option<(reqwest::Client, String, Option<String>)>,
}

impl Transports {
    pub fn from_config(config: &NotifyConfig) -> Result<Transports, String> {
        let smtp = match &config.smtp_host {
            Some(host) => {
                let mut builder =
                    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str()).port(config.smtp_port);
                if let (Some(user), Some(password)) = (&config.smtp_user, &config.smtp_password) {
                    builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
                }
                let from: Mailbox = config.from.parse().map_err(|e| format!("发件人“{}”无效：{e}", config.from))?;
                Some((builder.timeout(Some(Duration::from_secs(20))).build(), from))
            }
            None => None,
        };
        let sms = config.sms_url.as_ref().map(|url| {
            let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap_or_default();
            (client, url.clone(), config.sms_token.clone())
        });
        Ok(Transports { smtp, sms })
    }

    async fn send(&self, m: &MessageRow) -> Result<(), String> {
        match m.channel {
            MessageChannel::Email => {
                let (transport, from) = self.smtp.as_ref().ok_or("未配置邮件服务器（[notify] smtp_host）")?;
                let to: Mailbox = m.recipient.parse().map_err(|e| format!("收件地址无效：{e}"))?;
                let email = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(m.subject.clone())
                    .header(ContentType::TEXT_PLAIN)
                    .body(m.body.clone())
                    .map_err(|e| format!("邮件无法生成：{e}"))?;
                transport.send(email).await.map(|_| ()).map_err(|e| format!("SMTP：{e}"))
            }
            MessageChannel::Sms => {
                let (client, url, token) = self.sms.as_ref().ok_or("未配置短信网关（[notify] sms_url）")?;
                let mut req =
                    client.post(url).json(&serde_json::json!({ "to": m.recipient, "text": m.body, "id": m.id }));
                if let Some(t) = token {
                    req = req.bearer_auth(t);
                }
                // The gateway's address may carry its key: errors are kept without it.
                let res = req.send().await.map_err(|e| format!("短信网关不可达：{}", e.without_url()))?;
                if res.status().is_success() {
                    Ok(())
                } else {
                    Err(format!("短信网关拒收：HTTP {}", res.status().as_u16()))
                }
            }
        }
    }
}

/// What one delivery pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryPass {
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

/// How long a claim holds: a delivery that takes longer is presumed dead and retried.
const CLAIM: chrono::TimeDelta = chrono::TimeDelta::seconds(120);

/// Claims the due messages and delivers them, recording every attempt.
#[tracing::instrument(skip_all)]
pub async fn deliver_pass(app: &App, transports: &Transports) -> Result<DeliveryPass, AppError> {
    let config = &app.config.notify;
    let owner = new_id();
    let mut pass = DeliveryPass::default();
    loop {
        let now = app.now();
        let mut tx = app.db.begin().await?;
        let batch = store::claim(&mut tx, &owner, now, now + CLAIM, 50).await?;
        tx.commit().await?;
        if batch.is_empty() {
            return Ok(pass);
        }
        pass.claimed += batch.len();
        for m in &batch {
            // Held again just before it goes: the batch may have outlived the first claim, and
            // a message whose claim lapsed may be on its way from another instance.
            let now = app.now();
            let mut tx = app.db.begin().await?;
            let held = store::hold_claim(&mut tx, &m.id, &owner, now, now + CLAIM).await?;
            tx.commit().await?;
            if !held {
                continue;
            }
            let result = transports.send(m).await;
            let at = app.now();
            let attempts = m.attempts as u32 + 1;
            let mut tx = app.db.begin().await?;
            match result {
                Ok(()) => {
                    store::record_attempt(&mut tx, &m.id, &owner, &new_id(), at, Ok(())).await?;
                    pass.sent += 1;
                }
                Err(e) if attempts >= config.max_attempts => {
                    store::record_attempt(&mut tx, &m.id, &owner, &new_id(), at, Err((&e, None))).await?;
                    pass.failed += 1;
                }
                Err(e) => {
                    let wait = u64::from(config.retry_seconds).saturating_mul(1 << (attempts - 1).min(16)).min(3600);
                    let retry_at = at + chrono::TimeDelta::seconds(wait as i64);
                    store::record_attempt(&mut tx, &m.id, &owner, &new_id(), at, Err((&e, Some(retry_at)))).await?;
                    pass.retried += 1;
                }
            }
            tx.commit().await?;
        }
    }
}

/// What one hotline watch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchPass {
    pub leased: bool,
    pub late: usize,
    pub alerts: usize,
    pub messages: usize,
}

/// Alerts on late orders and the reminders and warnings to departments. Runs under a lease
/// (one instance at a time); every alert and message has a key, so none is raised twice.
#[tracing::instrument(skip_all)]
pub async fn watch_pass(app: &App, owner: &str) -> Result<WatchPass, AppError> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let leased = supervision_store::claim_lease(&mut tx, "hotline", owner, now, now + CLAIM).await?;
    tx.commit().await?;
    let mut pass = WatchPass { leased, ..Default::default() };
    if !leased {
        return Ok(pass);
    }
    let today = app.local_date(now);
    let mut alerts = Vec::new();
    let mut messages = Vec::new();
    // Every late order, a page at a time: the oldest are the latest of all.
    let mut filter = Some(OrderFilter { late: true, limit: order_store::MAX_PAGE, ..Default::default() });
    while let Some(page) = filter {
        let late = order_store::list(&app.db, &Scope::All, &page, now, today).await?;
        filter = page.next_page(&late);
        pass.late += late.len();
        for o in &late {
            let Ok(flow) = crate::hotline::flow_of(o) else { continue };
            let Some(kind) = oversight_domain::workorder::late(&flow, now, today) else { continue };
            let due = match kind {
                Late::Sign => o.sign_due.map(|d| d.to_rfc3339()),
                Late::Reply => o.reply_due.map(|d| d.to_string()),
                Late::Visit => o.visit_due.map(|d| d.to_string()),
            }
            .unwrap_or_default();
            let owner = AlertOwner {
                subject: Subject::new(SubjectKind::Order, &o.ticket_no),
                venue_code: o.subject_venue_code.as_deref(),
                venue_path: &o.venue_path,
                department_code: o.subject_department_code.as_deref(),
                department_path: &o.department_path,
            };
            let message = format!("工单 {} {}（时限 {due}）", o.ticket_no, kind.label());
            let alert = owner.alert(kind.alert_kind(), &due, &message, now);
            let key = alert.dedup_key.clone();
            alerts.push(alert);
            if kind != Late::Visit {
                let subject = format!("【效能投诉】工单 {} {}", o.ticket_no, kind.label());
                let body = format!(
                    "工单 {} 已{}（时限 {due}），请立即办理；超时情况已记入效能监察。",
                    o.ticket_no,
                    kind.label()
                );
                messages.extend(to_department(app, o, "overdue", &key, subject, body).await?);
            }
        }
    }
    // Reminders: replies due within the next working days.
    let cal = app.calendar().await?;
    let horizon: NaiveDate = cal.deadline(today, app.config.notify.remind_days_before).unwrap_or(today);
    let mut signed = Vec::new();
    let mut filter = Some(OrderFilter {
        statuses: vec![OrderStatus::Signed.as_str().into()],
        reply_due_by: Some(horizon),
        limit: order_store::MAX_PAGE,
        ..Default::default()
    });
    while let Some(page) = filter {
        let part = order_store::list(&app.db, &Scope::All, &page, now, today).await?;
        filter = page.next_page(&part);
        signed.extend(part);
    }
    for o in signed.iter().filter(|o| o.reply_due.is_some_and(|d| d >= today)) {
        let due = o.reply_due.map(|d| d.to_string()).unwrap_or_default();
        let key = format!("{}|remind|{due}", o.ticket_no);
        let subject = format!("【效能投诉】工单 {} 将于 {due} 到期", o.ticket_no);
        let body = format!("工单 {} 的答复期限为 {due}，请按时办理答复。", o.ticket_no);
        messages.extend(to_department(app, o, "reminder", &key, subject, body).await?);
    }
    let mut tx = app.db.begin().await?;
    pass.alerts = supervision_store::insert_alerts(&mut tx, &alerts).await? as usize;
    pass.messages = enqueue(&mut tx, messages, now).await? as usize;
    tx.commit().await?;
    Ok(pass)
}

/// The hotline's background work: the watch every minute, deliveries whenever due; until
/// `shutdown` resolves.
pub async fn run(app: App, shutdown: impl Future<Output = ()>) {
    let owner = new_id();
    let transports = match Transports::from_config(&app.config.notify) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "notifications disabled: bad [notify] configuration");
            return;
        }
    };
    tokio::pin!(shutdown);
    loop {
        match watch_pass(&app, &owner).await {
            Ok(p) if p.alerts > 0 || p.messages > 0 => {
                tracing::info!(late = p.late, alerts = p.alerts, messages = p.messages, "hotline watch")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "hotline watch failed"),
        }
        match deliver_pass(&app, &transports).await {
            Ok(p) if p.claimed > 0 => {
                tracing::info!(sent = p.sent, retried = p.retried, failed = p.failed, "notifications delivered")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "delivery failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(30)) => {}
            _ = app.notify_wake.notified() => {}
            _ = &mut shutdown => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gateways_keys_stay_out_of_the_log() {
        let config = NotifyConfig {
            sms_url: Some("https://user:pw@sms.example/send?key=SECRET&sign=1".into()),
            sms_token: Some("TOKEN".into()),
            smtp_password: Some("SMTPPW".into()),
            ..NotifyConfig::default()
        };
        let logged = format!("{config:?}");
        for secret in ["SECRET", "TOKEN", "SMTPPW", ":pw@"] {
            assert!(!logged.contains(secret), "{secret} in {logged}");
        }
        assert!(logged.contains("https://user:***@sms.example/send?***"), "{logged}");
        assert_eq!(redact_query("http://sms.example/send"), "http://sms.example/send");
    }
}

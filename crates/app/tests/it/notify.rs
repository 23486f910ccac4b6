//! Notifications against real servers: an SMTP server (aiosmtpd from PyPI) and an HTTP SMS
//! gateway the test runs. Messages queued with the steps go out, failures are retried with
//! back-off and logged, a delivery that died half-way is retried, and late orders raise alerts
//! and warnings once.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use oversight_app::hotline::{self, Intake, NewOrder, StepInput};
use oversight_app::notify::{self, DeliveryPass, Transports};
use oversight_app::{Actor, App, ManualClock, demo, network};
use oversight_domain::supervision::{Subject, SubjectKind};
use oversight_store::outbox;
use oversight_testkit::login as actor;
use oversight_testkit::on_both_backends;
use serde_json::Value;

on_both_backends!(messages_reach_smtp_and_sms_through_failures, late_orders_raise_alerts_and_warnings_once);

fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600).unwrap().with_ymd_and_hms(y, m, d, h, min, 0).unwrap().with_timezone(&Utc)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// aiosmtpd writing every message it accepts into a maildir.
struct Smtp {
    child: Child,
    maildir: PathBuf,
    python: PathBuf,
}

impl Smtp {
    fn start(port: u16, maildir: &Path) -> Smtp {
        let python = oversight_testkit::python::venv("smtp", &["aiosmtpd==1.4.6"]);
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(maildir.join(sub)).unwrap();
        }
        let mut child = Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Smtp { child, maildir: maildir.to_path_buf(), python };
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("aiosmtpd did not start");
    }

    /// The subject and body of each message received, decoded by Python's own e-mail parser.
    fn received(&self) -> Vec<(String, String, String)> {
        let script = r#"
import email, email.header, json, mailbox, sys
out = []
for m in mailbox.Maildir(sys.argv[1], create=False):
    subject = str(email.header.make_header(email.header.decode_header(m['Subject'])))
    out.append([m['To'], subject, m.get_payload(decode=True).decode('utf-8')])
print(json.dumps(out))
"#;
        let out = Command::new(&self.python).args(["-c", script]).arg(&self.maildir).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An SMS gateway: answers 503 to the first `fail_first` requests, then 200; keeps what it got.
#[derive(Clone, Default)]
struct Gateway {
    got: Arc<Mutex<Vec<Value>>>,
    fail_first: Arc<Mutex<usize>>,
}

async fn gateway_send(State(g): State<Gateway>, Json(body): Json<Value>) -> StatusCode {
    let mut fail = g.fail_first.lock().unwrap();
    if *fail > 0 {
        *fail -= 1;
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    g.got.lock().unwrap().push(body);
    StatusCode::OK
}

async fn start_gateway(fail_first: usize) -> (Gateway, String) {
    let g = Gateway { fail_first: Arc::new(Mutex::new(fail_first)), ..Default::default() };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", listener.local_addr().unwrap());
    let router = axum::Router::new().route("/send", axum::routing::post(gateway_send)).with_state(g.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (g, url)
}

async fn setup(app: &App, smtp_port: u16, sms_url: &str) -> (App, Arc<ManualClock>, Vec<demo::DemoAccount>) {
    let accounts = demo::load(app).await.unwrap();
    network::set_contacts(app, &Actor::cli(), "460100-D01", "fgw@haikou.example", "13900000001").await.unwrap();
    let mut config = (*app.config).clone();
    config.notify.smtp_host = Some("127.0.0.1".into());
    config.notify.smtp_port = smtp_port;
    config.notify.from = "效能办 <xiaoneng@haikou.example>".into();
    config.notify.sms_url = Some(sms_url.into());
    config.notify.retry_seconds = 60;
    config.notify.max_attempts = 3;
    let clock = ManualClock::new(local(2026, 11, 2, 10, 0));
    (App::with_db(app.db.clone(), config, clock.clone()), clock, accounts)
}

fn step(step: &str, note: &str) -> StepInput {
    StepInput { step: step.into(), note: note.into(), ..Default::default() }
}

async fn new_dispatched_order(app: &App, operator: &Actor, phone: &str) -> String {
    let new = NewOrder {
        kind: "complaint".into(),
        summary: "企业投资项目核准超期未办".into(),
        caller_name: "王小明".into(),
        caller_phone: phone.into(),
        ..Default::default()
    };
    let created = hotline::create_order(app, Intake::Citizen, &new.parse().unwrap()).await.unwrap();
    let dispatch = StepInput { department_code: "460100-D01".into(), ..step("dispatch", "") };
    hotline::order_step(app, operator, &created.ticket_no, &dispatch).await.unwrap();
    created.ticket_no
}

async fn messages_reach_smtp_and_sms_through_failures(app: App) {
    let smtp_port = free_port();
    let (gateway, sms_url) = start_gateway(1).await;
    let (app, clock, accounts) = setup(&app, smtp_port, &sms_url).await;
    let transports = Transports::from_config(&app.config.notify).unwrap();
    let operator = actor(&app, &accounts, "rexian").await;
    let liaison = actor(&app, &accounts, "fgw").await;

    // Dispatch queues an e-mail and a text message to the department.
    let no = new_dispatched_order(&app, &operator, "13812345678").await;
    let queued = outbox::messages(&app.db, Some(&no), 10).await.unwrap();
    assert_eq!(queued.len(), 2);
    assert!(
        queued
            .iter()
            .all(|m| m.status.as_str() == "pending" && !m.body.contains("13812345678") && !m.body.contains("王"))
    );
    // The office sees them on the order, phone numbers masked; the department does not.
    let seen = hotline::order_view(&app, &operator, &no, false).await.unwrap().messages;
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().any(|m| m.recipient == "139****0001"), "{seen:?}");
    assert!(hotline::order_view(&app, &liaison, &no, false).await.unwrap().messages.is_empty());

    // The SMTP server is down and the gateway answers 503: both retried later, both logged.
    let pass = notify::deliver_pass(&app, &transports).await.unwrap();
    assert_eq!(pass, DeliveryPass { claimed: 2, sent: 0, retried: 2, failed: 0 });
    for m in outbox::messages(&app.db, Some(&no), 10).await.unwrap() {
        assert_eq!((m.status.as_str(), m.attempts), ("pending", 1));
        assert_eq!(m.next_attempt_at, local(2026, 11, 2, 10, 1), "a minute of back-off");
        let attempts = outbox::attempts(&app.db, &m.id).await.unwrap();
        assert_eq!(attempts.len(), 1);
        assert!(!attempts[0].ok && !attempts[0].detail.is_empty());
    }
    let maildir = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(smtp_port, maildir.path());
    // Not before the back-off has passed.
    assert_eq!(notify::deliver_pass(&app, &transports).await.unwrap().claimed, 0);
    clock.set(local(2026, 11, 2, 10, 2));
    let pass = notify::deliver_pass(&app, &transports).await.unwrap();
    let errors: Vec<_> =
        outbox::messages(&app.db, Some(&no), 10).await.unwrap().into_iter().map(|m| m.last_error).collect();
    assert_eq!((pass.sent, pass.retried), (2, 0), "{errors:?}");
    let mails = smtp.received();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].0, "fgw@haikou.example");
    assert!(mails[0].1.contains(&no) && mails[0].1.contains("待签收"), "{:?}", mails[0]);
    assert!(mails[0].2.contains("请于 2026-11-02 12:00 前签收"), "{:?}", mails[0]);
    {
        let got = gateway.got.lock().unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0]["to"], "13900000001");
        assert!(got[0]["text"].as_str().unwrap().contains(&no));
    }

    // A delivery that dies after claiming loses nothing: once its claim lapses, it goes out.
    hotline::order_step(&app, &liaison, &no, &step("sign", "")).await.unwrap();
    hotline::order_step(&app, &liaison, &no, &step("reply", "已办结")).await.unwrap();
    let mut tx = app.db.begin().await.unwrap();
    let dead =
        outbox::claim(&mut tx, "dead-instance", app.now(), app.now() + TimeDelta::seconds(120), 10).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(dead.len(), 1, "the citizen's text message");
    assert_eq!(notify::deliver_pass(&app, &transports).await.unwrap().claimed, 0);
    clock.set(app.now() + TimeDelta::seconds(121));
    assert_eq!(notify::deliver_pass(&app, &transports).await.unwrap().sent, 1);
    // The instance that claimed it comes back to life: its claim is gone, so it may not send
    // the message again, and what it records changes nothing on the message.
    let mut tx = app.db.begin().await.unwrap();
    let now = app.now();
    assert!(
        !outbox::hold_claim(&mut tx, &dead[0].id, "dead-instance", now, now + TimeDelta::seconds(120)).await.unwrap()
    );
    let failure = Err(("网关超时", Some(now + TimeDelta::seconds(60))));
    assert!(
        !outbox::record_attempt(&mut tx, &dead[0].id, "dead-instance", "late-attempt", now, failure).await.unwrap()
    );
    tx.commit().await.unwrap();
    let message =
        outbox::messages(&app.db, Some(&no), 10).await.unwrap().into_iter().find(|m| m.id == dead[0].id).unwrap();
    assert_eq!((message.status.as_str(), message.last_error), ("sent", None));
    {
        let got = gateway.got.lock().unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1]["to"], "13812345678");
        assert!(got[1]["text"].as_str().unwrap().contains("查询码"));
    }

    // With the SMTP server gone for good, a message fails after its attempts, each logged.
    drop(smtp);
    let other = new_dispatched_order(&app, &operator, "").await;
    for _ in 0..3 {
        notify::deliver_pass(&app, &transports).await.unwrap();
        clock.set(app.now() + TimeDelta::seconds(3600));
    }
    let email = outbox::messages(&app.db, Some(&other), 10)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.channel.as_str() == "email")
        .unwrap();
    assert_eq!((email.status.as_str(), email.attempts), ("failed", 3));
    assert_eq!(outbox::attempts(&app.db, &email.id).await.unwrap().len(), 3);
    assert!(email.last_error.unwrap().contains("SMTP"));
}

async fn late_orders_raise_alerts_and_warnings_once(app: App) {
    let (gateway, sms_url) = start_gateway(0).await;
    let (app, clock, accounts) = setup(&app, free_port(), &sms_url).await;
    let operator = actor(&app, &accounts, "rexian").await;
    let liaison = actor(&app, &accounts, "fgw").await;
    let no = new_dispatched_order(&app, &operator, "").await;
    let before = outbox::messages(&app.db, None, 100).await.unwrap().len();

    // Not yet late: nothing.
    let pass = notify::watch_pass(&app, "a").await.unwrap();
    assert_eq!((pass.alerts, pass.messages), (0, 0));
    // Signing was due at 12:00; at 12:01 it is late: one alert on the department, one warning
    // per channel; a second watch raises nothing more, nor does another instance.
    clock.set(local(2026, 11, 2, 12, 1));
    let pass = notify::watch_pass(&app, "a").await.unwrap();
    assert_eq!((pass.late, pass.alerts, pass.messages), (1, 1, 2));
    let pass = notify::watch_pass(&app, "a").await.unwrap();
    assert_eq!((pass.alerts, pass.messages), (0, 0));
    assert!(!notify::watch_pass(&app, "b").await.unwrap().leased, "one watch at a time");
    let alerts = oversight_app::supervision::alerts(&app, &liaison, None, Some(&Subject::new(SubjectKind::Order, &no)))
        .await
        .unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].kind, "order_sign_late");
    assert_eq!(outbox::messages(&app.db, None, 100).await.unwrap().len(), before + 2);

    // Signed; the day before the reply is due (Monday 23 November), a reminder.
    hotline::order_step(&app, &liaison, &no, &step("sign", "")).await.unwrap();
    clock.set(local(2026, 11, 20, 9, 0));
    let pass = notify::watch_pass(&app, "a").await.unwrap();
    assert_eq!((pass.alerts, pass.messages), (0, 2));
    let reminders: Vec<_> =
        outbox::messages(&app.db, Some(&no), 100).await.unwrap().into_iter().filter(|m| m.kind == "reminder").collect();
    assert_eq!(reminders.len(), 2);
    assert!(reminders[0].subject.contains("2026-11-23"));
    // Past the reply deadline: an overdue alert.
    clock.set(local(2026, 11, 24, 9, 0));
    let pass = notify::watch_pass(&app, "a").await.unwrap();
    assert_eq!((pass.alerts, pass.messages), (1, 2));
    drop(gateway);
}

//! The store and use-case suite: every test runs on SQLite and on PostgreSQL.

use chrono::NaiveDate;
use oversight_app::accounts::{self, NewUser};
use oversight_app::exchange::{TextEncoding, Upload};
use oversight_app::{Actor, App, AppError, calendar, demo, network};
use oversight_domain::access::Action;
use oversight_store::Db;
use oversight_testkit::login as login_as;
use oversight_testkit::on_both_backends;

on_both_backends!(
    calendar_is_seeded_and_exact,
    demo_network_has_the_haikou_counts,
    reimport_is_all_duplicates,
    bad_org_file_changes_nothing,
    gb18030_and_xlsx_catalogues_import,
    bad_item_file_changes_nothing,
    district_scope_filters_every_list,
    edits_are_scoped_and_audited,
    login_sessions_and_throttling,
    api_keys_are_scoped_and_revocable,
    audit_chain_detects_tampering,
    verification_reads_one_state_of_a_growing_chain,
    administrator_adds_a_calendar_year,
);

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn upload<'a>(name: &'a str, bytes: &'a [u8]) -> Upload<'a> {
    Upload { name, bytes, encoding: TextEncoding::Auto }
}

async fn org_count(app: &App) -> usize {
    oversight_store::network::all_units(&app.db).await.unwrap().len()
}

async fn calendar_is_seeded_and_exact(app: App) {
    let cal = app.calendar().await.unwrap();
    assert_eq!(cal.deadline(d("2011-04-01"), 2).unwrap(), d("2011-04-06"));
    assert!(cal.is_working_day(d("2011-04-02")).unwrap());
    assert_eq!(calendar::deadline(&app, "2011-04-01T23:30:00+08:00", 2).await.unwrap(), d("2011-04-06"));
    // 2011-04-01 16:30 UTC is already 04-02 in Haikou: the period starts a day later.
    assert_eq!(calendar::deadline(&app, "2011-04-01T16:30:00Z", 1).await.unwrap(), d("2011-04-06"));
    assert!(matches!(calendar::deadline(&app, "2003-05-06T09:00:00+08:00", 3).await, Err(AppError::Calendar(_))));
    assert!(matches!(calendar::deadline(&app, "2011-04-01 09:00", 3).await, Err(AppError::Invalid(_))));
    // Seeding again changes nothing.
    assert_eq!(calendar::seed_shipped(&app).await.unwrap(), 0);
}

async fn demo_network_has_the_haikou_counts(app: App) {
    let accounts = demo::load(&app).await.unwrap();
    assert!(accounts.len() >= 8);
    let (levels, departments) = network::level_counts(&app, &Actor::cli()).await.unwrap();
    let venues: Vec<i64> = levels.iter().map(|l| l.venues).collect();
    let jurisdictions: Vec<i64> = levels.iter().map(|l| l.jurisdictions).collect();
    assert_eq!(venues, vec![1, 4, 41, 407]);
    assert_eq!(jurisdictions, vec![1, 4, 41, 407]);
    assert!(departments >= 20, "{departments}");
    let catalogue =
        oversight_store::network::catalogue(&app.db, &oversight_domain::access::Scope::All, None, None).await.unwrap();
    assert_eq!(catalogue.len(), 40);
    // The demo only loads into an empty database.
    assert!(matches!(demo::load(&app).await, Err(AppError::Conflict(_))));
}

async fn reimport_is_all_duplicates(app: App) {
    let cli = Actor::cli();
    let first = network::import_orgs(&app, &cli, &upload("orgs.csv", demo::ORGS_CSV)).await.unwrap();
    assert!(first.applied());
    assert_eq!(first.accepted, org_count(&app).await);
    let again = network::import_orgs(&app, &cli, &upload("orgs.csv", demo::ORGS_CSV)).await.unwrap();
    assert_eq!((again.accepted, again.duplicate, again.rejected.len()), (0, first.accepted, 0));
    // A renamed unit is accepted, the rest are duplicates.
    let renamed = String::from_utf8(demo::ORGS_CSV.to_vec()).unwrap().replace(",秀英区\n", ",秀英区（新）\n");
    let third = network::import_orgs(&app, &cli, &upload("orgs.csv", renamed.as_bytes())).await.unwrap();
    assert_eq!(third.accepted, 1);
    let unit = oversight_store::network::unit(&app.db, "460105").await.unwrap().unwrap();
    assert_eq!(unit.name, "秀英区（新）");
}

async fn bad_org_file_changes_nothing(app: App) {
    let cli = Actor::cli();
    network::import_orgs(&app, &cli, &upload("orgs.csv", demo::ORGS_CSV)).await.unwrap();
    let before = org_count(&app).await;
    let file = "code,parent_code,kind,name\n\
                460199,460100,district,新区\n\
                460199001,469999,town,无主镇\n\
                A1,A2,town,甲\n\
                A2,A1,town,乙\n\
                460105,460100,district,秀英区\n\
                460105,460100,district,秀英区\n\
                X9,460100,county,县\n";
    let report = network::import_orgs(&app, &cli, &upload("bad.csv", file.as_bytes())).await.unwrap();
    assert!(!report.applied());
    assert_eq!(report.accepted, 0);
    let lines: Vec<(usize, &str)> = report.rejected.iter().map(|e| (e.line, e.field.as_str())).collect();
    assert_eq!(lines, vec![(3, "parent_code"), (4, "parent_code"), (5, "parent_code"), (7, "code"), (8, "kind")]);
    assert!(report.rejected[0].reason.contains("469999"));
    assert!(report.rejected[1].reason.contains("循环"));
    assert_eq!(org_count(&app).await, before, "nothing applied");
    assert!(oversight_store::network::unit(&app.db, "460199").await.unwrap().is_none(), "not even the good row");
    // A file that is not valid UTF-8 when named so, or has no header columns, is unreadable.
    let report = network::import_orgs(
        &app,
        &cli,
        &Upload {
            name: "x.csv",
            bytes: b"code,parent_code,kind,name\n1,\xff\xfe,city,x\n",
            encoding: TextEncoding::parse("utf-8").unwrap(),
        },
    )
    .await
    .unwrap();
    assert!(report.unreadable);
    assert_eq!(report.rejected[0].line, 2);
    let report = network::import_orgs(&app, &cli, &upload("x.csv", b"code;name\n1;x\n")).await.unwrap();
    assert!(report.unreadable);
}

async fn gb18030_and_xlsx_catalogues_import(app: App) {
    let cli = Actor::cli();
    network::import_orgs(&app, &cli, &upload("orgs.csv", demo::ORGS_CSV)).await.unwrap();
    let gb = include_bytes!("../../../../data/demo/haikou-items-gb18030.csv");
    assert!(String::from_utf8(gb.to_vec()).is_err(), "the fixture really is GB18030");
    let report = network::import_items(&app, &cli, &upload("items.csv", gb)).await.unwrap();
    assert_eq!((report.accepted, report.rejected.len()), (10, 0), "{:?}", report.rejected);
    let utf8 = String::from_utf8(demo::ITEMS_CSV.to_vec()).unwrap();
    let first = utf8.lines().nth(1).unwrap().split(',').nth(1).unwrap().to_string();
    let stored =
        oversight_store::network::catalogue(&app.db, &oversight_domain::access::Scope::All, None, Some(&first))
            .await
            .unwrap();
    assert_eq!(stored.len(), 1, "the GB18030 name {first} decoded exactly");

    // XLSX with the same columns.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let rows = [
        vec!["code", "name", "department_code", "legal_days", "promised_days", "fee_cents"],
        vec!["XL001", "户外广告设置许可", "460100-D07", "20", "10", "0"],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if r > 0 && c >= 3 {
                sheet.write_number(r as u32, c as u16, v.parse::<f64>().unwrap()).unwrap();
            } else {
                sheet.write_string(r as u32, c as u16, *v).unwrap();
            }
        }
    }
    let bytes = book.save_to_buffer().unwrap();
    let report = network::import_items(&app, &cli, &upload("items.xlsx", &bytes)).await.unwrap();
    assert_eq!((report.accepted, report.rejected.len()), (1, 0), "{:?}", report.rejected);
    let item = oversight_store::network::catalogue(&app.db, &oversight_domain::access::Scope::All, None, Some("XL001"))
        .await
        .unwrap();
    assert_eq!(item[0].item.promised_days, 10);
}

async fn bad_item_file_changes_nothing(app: App) {
    let cli = Actor::cli();
    network::import_orgs(&app, &cli, &upload("orgs.csv", demo::ORGS_CSV)).await.unwrap();
    let file = "code,name,department_code,legal_days,promised_days,fee_cents\n\
                OK1,良好事项,460100-D01,20,10,0\n\
                B1,承诺超法定,460100-D01,10,20,0\n\
                B2,负收费,460100-D01,20,10,-100\n\
                B3,未知部门,460100-D99,20,10,0\n\
                B4,零时限,460100-D01,0,0,0\n\
                B5,非部门,460105,20,10,0\n";
    let report = network::import_items(&app, &cli, &upload("items.csv", file.as_bytes())).await.unwrap();
    let got: Vec<(usize, &str)> = report.rejected.iter().map(|e| (e.line, e.field.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (3, "promised_days"),
            (4, "fee_cents"),
            (5, "department_code"),
            (6, "legal_days"),
            (6, "promised_days"),
            (7, "department_code")
        ]
    );
    let stored =
        oversight_store::network::catalogue(&app.db, &oversight_domain::access::Scope::All, None, None).await.unwrap();
    assert!(stored.is_empty(), "the good row was not applied either");
}

async fn demo_with_accounts(app: &App) -> Vec<demo::DemoAccount> {
    demo::load(app).await.unwrap()
}

async fn district_scope_filters_every_list(app: App) {
    let accounts = demo_with_accounts(&app).await;
    let xiuying = login_as(&app, &accounts, "xiuying").await;
    let scope = xiuying.scope();
    let (levels, departments) = network::level_counts(&app, &xiuying).await.unwrap();
    assert_eq!(levels[0].venues, 0, "no city centre in a district's view");
    assert_eq!(levels[1].venues, 1);
    assert!(levels[2].venues > 0 && levels[2].venues < 41);
    assert!(departments > 0 && departments < 20);
    let roots = oversight_store::network::scope_roots(&app.db, &scope).await.unwrap();
    assert_eq!(roots.iter().map(|u| u.code.as_str()).collect::<Vec<_>>(), vec!["460105"]);
    let under_city = oversight_store::network::children(&app.db, &scope, "460100").await.unwrap();
    assert_eq!(under_city.iter().map(|u| u.code.as_str()).collect::<Vec<_>>(), vec!["460105"], "siblings stay hidden");
    assert!(matches!(network::unit_view(&app, &xiuying, "460106").await, Err(AppError::NotFound(_))));
    assert!(network::unit_view(&app, &xiuying, "460105001").await.is_ok());
    let found = oversight_store::network::search_units(&app.db, &scope, "区", 100).await.unwrap();
    assert!(found.iter().all(|u| u.path.as_str().starts_with("/460100/460105/")));
    assert!(!found.is_empty());
    let catalogue = oversight_store::network::catalogue(&app.db, &scope, None, None).await.unwrap();
    assert!(catalogue.is_empty(), "the demo catalogue belongs to city departments");
    let audit =
        oversight_store::audit::recent(&app.db, &xiuying.scope_for(Action::ViewAudit), None, 1000).await.unwrap();
    assert!(audit.iter().all(|r| r.path.starts_with("/460100/460105/")), "city-wide rows stay hidden");
}

async fn edits_are_scoped_and_audited(app: App) {
    let accounts = demo_with_accounts(&app).await;
    let xiuying = login_as(&app, &accounts, "xiuying").await;
    let leader = login_as(&app, &accounts, "lingdao").await;
    let renamed = network::rename_unit(&app, &xiuying, "460105001", "秀英街道办事处").await.unwrap();
    assert_eq!(renamed.name, "秀英街道办事处");
    assert!(matches!(network::rename_unit(&app, &xiuying, "460106", "x").await, Err(AppError::NotFound(_))));
    assert!(matches!(network::rename_unit(&app, &leader, "460105", "x").await, Err(AppError::Forbidden(_))));
    assert!(matches!(network::rename_unit(&app, &xiuying, "460105001", "  ").await, Err(AppError::Invalid(_))));
    let window = network::add_window(&app, &xiuying, "460105-V", "460105-D01", "民政综合窗口").await.unwrap();
    assert!(matches!(
        network::add_window(&app, &xiuying, "460105-V", "460100-D01", "x").await,
        Err(AppError::Invalid(_))
    ));
    assert!(matches!(
        network::add_window(&app, &xiuying, "460105001", "460105-D01", "x").await,
        Err(AppError::Invalid(_))
    ));
    network::add_staff(&app, &xiuying, "460105-D01", "符晓燕", "窗口工作人员", Some(&window)).await.unwrap();
    let staff = oversight_store::network::staff_of_department(&app.db, &xiuying.scope(), "460105-D01").await.unwrap();
    assert!(staff.iter().any(|s| s.name == "符晓燕" && s.window_id.as_deref() == Some(window.as_str())));
    let rows = oversight_store::audit::recent(&app.db, &oversight_domain::access::Scope::All, None, 5).await.unwrap();
    let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(&actions[..3], &["staff.create", "window.create", "org.rename"]);
    assert!(rows[2].detail.contains("秀英街道办事处") && rows[2].detail.contains("before"));
    assert_eq!(rows[2].actor, "user:xiuying");
}

async fn login_sessions_and_throttling(app: App) {
    let accounts = demo_with_accounts(&app).await;
    let admin = accounts.iter().find(|a| a.username == "admin").unwrap();
    let session = accounts::login(&app, "admin", &admin.password, "10.0.0.1").await.unwrap();
    let (actor, csrf) = accounts::session_actor(&app, &session.token).await.unwrap().unwrap();
    assert_eq!(actor.label, "user:admin");
    assert_eq!(csrf, session.csrf);
    assert!(accounts::session_actor(&app, "not-a-token").await.unwrap().is_none());
    accounts::logout(&app, &session.token).await.unwrap();
    assert!(accounts::session_actor(&app, &session.token).await.unwrap().is_none());
    // Five wrong passwords lock the name for the window, even with the right one after.
    for _ in 0..5 {
        assert!(matches!(
            accounts::login(&app, "fgw", "wrong-password", "10.0.0.2").await,
            Err(AppError::Forbidden(_))
        ));
    }
    let fgw = accounts.iter().find(|a| a.username == "fgw").unwrap();
    assert!(matches!(accounts::login(&app, "fgw", &fgw.password, "10.0.0.3").await, Err(AppError::Throttled(_))));
    // Unknown users are refused the same way.
    assert!(matches!(accounts::login(&app, "nobody", "whatever1", "10.0.0.4").await, Err(AppError::Forbidden(_))));
    // Forty guesses at once, from forty addresses: no more than the limit are judged.
    let guesses = (0..40).map(|i| {
        let app = app.clone();
        tokio::spawn(
            async move { accounts::login(&app, "xiuying", &format!("guess-{i}"), &format!("10.1.0.{i}")).await },
        )
    });
    let mut judged = 0;
    for g in guesses.collect::<Vec<_>>() {
        match g.await.unwrap() {
            Err(AppError::Forbidden(_)) => judged += 1,
            Err(AppError::Throttled(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    // (All may be refused: a burst can commit every attempt before any is counted.)
    assert!(judged <= 5, "{judged} of 40 guesses judged");
    // Deactivation ends sessions at once.
    let cli = Actor::cli();
    let lingdao = accounts.iter().find(|a| a.username == "lingdao").unwrap();
    let s = accounts::login(&app, "lingdao", &lingdao.password, "10.0.0.5").await.unwrap();
    let user_id = s.actor.user_id.clone().unwrap();
    accounts::set_active(&app, &cli, &user_id, false).await.unwrap();
    assert!(accounts::session_actor(&app, &s.token).await.unwrap().is_none());
    assert!(accounts::login(&app, "lingdao", &lingdao.password, "10.0.0.5").await.is_err());
    // A name no account can have (a megabyte of it) is refused and kept at 32 characters.
    let huge = "a".repeat(1 << 20);
    assert!(matches!(accounts::login(&app, &huge, "x", "10.0.0.6").await, Err(AppError::Forbidden(_))));
    let ever = app.now() - chrono::Duration::days(3650);
    let failures = |name: String, client: &'static str| {
        let db = app.db.clone();
        async move { oversight_store::access::login_failures_since(&db, &name, client, ever).await.unwrap() }
    };
    assert_eq!(failures("a".repeat(32), "10.0.0.6").await, (1, 1));
    // Failures older than the window are deleted by the next attempt, whoever makes it.
    assert_eq!(failures("fgw".into(), "10.0.0.2").await, (6, 5));
    let later = app.with_clock(oversight_app::ManualClock::new(app.now() + chrono::Duration::hours(1)));
    let _ = accounts::login(&later, "nobody", "x", "10.0.0.7").await;
    assert_eq!(failures("fgw".into(), "10.0.0.2").await, (0, 0));
    assert_eq!(failures("nobody".into(), "10.0.0.7").await, (1, 1));
    // Passwords are stored hashed.
    let stored = oversight_store::access::user_by_name(&app.db, "admin").await.unwrap().unwrap();
    assert!(stored.password_hash.starts_with("$argon2id$") && !stored.password_hash.contains(&admin.password));
}

async fn api_keys_are_scoped_and_revocable(app: App) {
    let accounts = demo_with_accounts(&app).await;
    let lhadmin = login_as(&app, &accounts, "lhadmin").await;
    let (key, secret) = accounts::create_api_key(
        &app,
        &lhadmin,
        "龙华区审批系统",
        Some("460106"),
        &oversight_domain::access::KeyPurposes::all(),
    )
    .await
    .unwrap();
    assert!(matches!(
        accounts::create_api_key(&app, &lhadmin, "越权", Some("460105"), &oversight_domain::access::KeyPurposes::all())
            .await,
        Err(AppError::Invalid(_))
    ));
    let actor = accounts::api_key_actor(&app, &secret).await.unwrap().unwrap();
    assert!(actor.may(Action::View, &oversight_domain::org::OrgPath::from_stored("/460100/460106/460106001/".into())));
    assert!(!actor.may(Action::View, &oversight_domain::org::OrgPath::from_stored("/460100/460105/".into())));
    assert!(!actor.may(Action::EditNetwork, &oversight_domain::org::OrgPath::from_stored("/460100/460106/".into())));
    accounts::revoke_api_key(&app, &lhadmin, &key.id).await.unwrap();
    assert!(accounts::api_key_actor(&app, &secret).await.unwrap().is_none());
    // The district administrator manages users of the district only.
    let new = NewUser {
        username: "lh_staff",
        display_name: "龙华窗口",
        password: "longhua-2011",
        role: "window_staff",
        org_code: "460106-V",
    };
    accounts::create_user(&app, &lhadmin, new).await.unwrap();
    let outside = NewUser {
        username: "xy_staff",
        display_name: "秀英窗口",
        password: "xiuying-2011",
        role: "window_staff",
        org_code: "460105-V",
    };
    assert!(matches!(accounts::create_user(&app, &lhadmin, outside).await, Err(AppError::Invalid(_))));
    let xiuying_id = oversight_store::access::user_by_name(&app.db, "xiuying").await.unwrap().unwrap().id;
    assert!(matches!(
        accounts::set_password(&app, &lhadmin, &xiuying_id, "hijacked-pw").await,
        Err(AppError::NotFound(_))
    ));
}

async fn tamper(db: &Db, sql: &str) {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    match db {
        Db::Sqlite { write, .. } => {
            sqlx::query(sql).execute(write).await.unwrap();
        }
        Db::Postgres(pool) => {
            sqlx::query(sql).execute(pool).await.unwrap();
        }
    }
}

async fn audit_chain_detects_tampering(app: App) {
    demo_with_accounts(&app).await;
    let report = oversight_store::audit::verify(&app.db).await.unwrap();
    assert!(report.first_break.is_none());
    assert!(report.rows >= 10, "{}", report.rows);
    // Where a row is filed decides who reads it: moving it to another district is tampering.
    let rows =
        oversight_store::audit::recent(&app.db, &oversight_domain::access::Scope::All, None, 1000).await.unwrap();
    let filed = rows.iter().find(|r| r.path != "/" && r.seq > 3).expect("a row filed under a unit");
    let moved = format!("UPDATE audit_log SET path = '/460100/460199/' WHERE seq = {}", filed.seq);
    tamper(&app.db, &moved).await;
    let report = oversight_store::audit::verify(&app.db).await.unwrap();
    assert_eq!(report.first_break, Some(oversight_domain::audit::ChainBreak::Tampered { seq: filed.seq }));
    tamper(&app.db, "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3").await;
    let report = oversight_store::audit::verify(&app.db).await.unwrap();
    assert_eq!(report.first_break, Some(oversight_domain::audit::ChainBreak::Tampered { seq: 3 }));
}

/// Hardening: verification read the chain page by page and the head last, each as it then was;
/// rows appended meanwhile made an intact chain read as broken (the head past the last row read).
/// It now reads one state of the chain, whatever is appended while it runs.
async fn verification_reads_one_state_of_a_growing_chain(app: App) {
    use oversight_store::audit::{NewAudit, append, append_many};
    let rows: Vec<NewAudit> = (0..6_000)
        .map(|_| NewAudit { actor: "cli", action: "test.row", target: "x", path: "/", detail: serde_json::json!({}) })
        .collect();
    let mut tx = app.db.begin().await.unwrap();
    append_many(&mut tx, &rows, app.now()).await.unwrap();
    tx.commit().await.unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (app, stop) = (app.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let mut tx = app.db.begin().await.unwrap();
                let row = NewAudit {
                    actor: "cli",
                    action: "test.more",
                    target: "y",
                    path: "/",
                    detail: serde_json::json!({}),
                };
                append(&mut tx, row, app.now()).await.unwrap();
                tx.commit().await.unwrap();
            }
        })
    };
    for _ in 0..10 {
        let report = oversight_store::audit::verify(&app.db).await.unwrap();
        assert_eq!(report.first_break, None, "an intact chain read while it grows ({} rows)", report.rows);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.await.unwrap();
}

async fn administrator_adds_a_calendar_year(app: App) {
    let accounts = demo_with_accounts(&app).await;
    let admin = login_as(&app, &accounts, "admin").await;
    let lhadmin = login_as(&app, &accounts, "lhadmin").await;
    assert!(app.calendar().await.unwrap().is_working_day(d("2027-01-04")).is_err());
    let text = "year 2027  # 国办发明电〔2026〕号（测试）\nholiday 2027-01-01..2027-01-03  元旦\nworkday 2027-01-09  元旦调休\n";
    assert!(matches!(calendar::set_year(&app, &lhadmin, 2027, text).await, Err(AppError::Forbidden(_))));
    let bad = "holiday 2027-01-01..2027-01-03  元旦\nworkday 2027-01-05  周二不是周末\n";
    match calendar::set_year(&app, &admin, 2027, bad).await {
        Err(AppError::Invalid(errs)) => {
            assert_eq!(errs[0].line, 3, "line counted with the implied year header: {errs:?}")
        }
        other => panic!("{other:?}"),
    }
    calendar::set_year(&app, &admin, 2027, text).await.unwrap();
    let cal = app.calendar().await.unwrap();
    assert!(cal.is_working_day(d("2027-01-09")).unwrap(), "Saturday made a working day");
    assert_eq!(cal.deadline(d("2026-12-31"), 1).unwrap(), d("2027-01-04"));
    let rows = oversight_store::audit::recent(&app.db, &oversight_domain::access::Scope::All, None, 1).await.unwrap();
    assert_eq!((rows[0].action.as_str(), rows[0].target.as_str()), ("calendar.set_year", "2027"));
    // A release's seeding leaves an edited year alone.
    calendar::seed_shipped(&app).await.unwrap();
    let stored = oversight_store::calendar::year(&app.db, 2027).await.unwrap().unwrap();
    assert!(!stored.shipped);
}

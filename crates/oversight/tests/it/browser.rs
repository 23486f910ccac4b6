//! Whole user journeys in headless Chromium (Debian's `chromium` and `chromium-driver`).
//!
//! Skipped, with a message, where chromedriver is not installed, except under CI (`CI` set),
//! where a missing browser is a failure.

use crate::common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromedriver() -> Option<String> {
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(str::to_string)
}

async fn browser() -> Option<(Client, Driver)> {
    let Some(path) = chromedriver() else {
        if std::env::var_os("CI").is_some() {
            panic!("chromedriver is missing: .ci/run installs chromium and chromium-driver");
        }
        eprintln!("chromedriver not installed: browser test skipped");
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let profile = tempfile::tempdir().unwrap();
    let driver = Driver { child, url: format!("http://127.0.0.1:{port}"), _profile: profile };
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=1280,900", "--lang=zh-CN",
                format!("--user-data-dir={}", driver._profile.path().display()),
            ]
        }),
    );
    let mut last_error = None;
    for _ in 0..50 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector).capabilities(caps.clone()).connect(&driver.url).await {
            Ok(client) => return Some((client, driver)),
            Err(e) => last_error = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("cannot start a browser session: {last_error:?}");
}

/// The text of an element; found again when a live region replaced it between the two calls.
async fn text_of(c: &Client, css: &str) -> String {
    let mut last = None;
    for _ in 0..10 {
        let element = c.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        match element.text().await {
            Ok(text) => return text,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css}: {last:?}")
}

/// Clicks a button that submits a form, and waits for the page it leads to and its notice:
/// the page before may show a notice too, and its elements until it is gone.
async fn submit(c: &Client, css: &str) {
    let before = c.find(Locator::Css("html")).await.unwrap();
    c.find(Locator::Css(css)).await.unwrap().click().await.unwrap();
    for _ in 0..200 {
        // The old page's element goes stale once the browser has left it.
        if before.tag_name().await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    c.wait().for_element(Locator::Css("p.notice")).await.unwrap();
}

async fn sign_in(c: &Client, base: &str, username: &str, password: &str) {
    c.goto(&format!("{base}/")).await.unwrap();
    assert!(c.current_url().await.unwrap().path().starts_with("/login"));
    c.find(Locator::Css("input[name=username]")).await.unwrap().send_keys(username).await.unwrap();
    c.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(password).await.unwrap();
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("header.top h1")).await.unwrap();
}

async fn screenshot(c: &Client, name: &str) {
    if let Ok(dir) = std::env::var("OVERSIGHT_SCREENSHOTS") {
        let png = c.screenshot().await.unwrap();
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervisor_logs_in_and_walks_the_tree() {
    let t = oversight_testkit::sqlite().await;
    let s = common::spawn(&t).await;
    let Some((c, _driver)) = browser().await else { return };
    sign_in(&c, &s.base, "xiaoneng", &common::password(&s, "xiaoneng")).await;
    assert_eq!(text_of(&c, "header.top h1").await, "首页");
    screenshot(&c, "home").await;

    c.find(Locator::LinkText("服务网络")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#level-counts")).await.unwrap();
    assert_eq!(text_of(&c, "tr[data-level=city] .venues").await, "1");
    assert_eq!(text_of(&c, "tr[data-level=district] .venues").await, "4");
    assert_eq!(text_of(&c, "tr[data-level=town] .venues").await, "41");
    assert_eq!(text_of(&c, "tr[data-level=village] .venues").await, "407");
    screenshot(&c, "network").await;

    // City → district → town → village → its agent point.
    c.find(Locator::LinkText("海口市")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#children")).await.unwrap();
    c.find(Locator::LinkText("秀英区")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::LinkText("长流镇")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#children")).await.unwrap();
    assert_eq!(text_of(&c, "#unit-name").await, "长流镇");
    let crumbs = text_of(&c, "nav.crumbs").await;
    assert!(crumbs.contains("海口市") && crumbs.contains("秀英区"), "{crumbs}");
    let first_village = c.find(Locator::Css("#children tbody tr:nth-child(2) td a")).await.unwrap();
    let village = first_village.text().await.unwrap();
    first_village.click().await.unwrap();
    c.wait().for_element(Locator::Css("#children")).await.unwrap();
    assert_eq!(text_of(&c, "#unit-name").await, village);
    assert!(text_of(&c, "#children").await.contains("代办点"));
    screenshot(&c, "village").await;

    // Rename the village through the form, then see the new name.
    let input = c.find(Locator::Css("form.row input[name=name]")).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(&format!("{village}（更名）")).await.unwrap();
    submit(&c, "form.row button[type=submit]").await;
    assert_eq!(text_of(&c, "#unit-name").await, format!("{village}（更名）"));

    // The calendar explains a deadline day by day.
    c.goto(&format!("{}/calendar?year=2011", s.base)).await.unwrap();
    let start = c.find(Locator::Css("#calculator input[name=start]")).await.unwrap();
    // Typing into a date field follows the browser's locale; set the value directly.
    c.execute("arguments[0].value = '2011-04-01'", vec![serde_json::to_value(&start).unwrap()]).await.unwrap();
    c.find(Locator::Css("#calculator input[name=days]")).await.unwrap().send_keys("2").await.unwrap();
    c.find(Locator::Css("#calculator button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#deadline")).await.unwrap();
    assert_eq!(text_of(&c, "#deadline").await, "2011-04-06");
    screenshot(&c, "calendar").await;

    c.find(Locator::Css("header.top button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("input[name=username]")).await.unwrap();
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrator_creates_a_district_user_who_sees_only_the_district() {
    let t = oversight_testkit::sqlite().await;
    let s = common::spawn(&t).await;
    let Some((c, _driver)) = browser().await else { return };
    sign_in(&c, &s.base, "admin", &common::password(&s, "admin")).await;
    c.goto(&format!("{}/admin/users/new", s.base)).await.unwrap();
    c.find(Locator::Css("input[name=username]")).await.unwrap().send_keys("meilan").await.unwrap();
    c.find(Locator::Css("input[name=display_name]")).await.unwrap().send_keys("美兰区效能办").await.unwrap();
    c.find(Locator::Css("input[name=password]")).await.unwrap().send_keys("meilan-2011").await.unwrap();
    c.find(Locator::Css("select[name=role] option[value=supervisor]")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("input[name=org_code]")).await.unwrap().send_keys("460108").await.unwrap();
    c.find(Locator::Css("button.primary")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#grants")).await.unwrap();
    assert!(text_of(&c, "#grants").await.contains("美兰区"));
    c.find(Locator::Css("header.top button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("input[name=username]")).await.unwrap();

    sign_in(&c, &s.base, "meilan", "meilan-2011").await;
    c.goto(&format!("{}/network", s.base)).await.unwrap();
    assert_eq!(text_of(&c, "tr[data-level=city] .venues").await, "0");
    assert_eq!(text_of(&c, "tr[data-level=district] .venues").await, "1");
    let tree = text_of(&c, "ul.tree").await;
    assert!(tree.contains("美兰区") && !tree.contains("秀英区"), "{tree}");
    c.goto(&format!("{}/network/460105", s.base)).await.unwrap();
    assert!(c.source().await.unwrap().contains("不存在或您无权查看"));
    c.close().await.unwrap();
}

fn case_lines(case_no: &str, venue: &str, day: &str) -> Vec<String> {
    vec![
        serde_json::json!({"event_id": format!("{case_no}-r"), "case_no": case_no, "type": "received",
            "at": format!("{day}T09:00:00+08:00"), "item_code": "SX001", "venue_code": venue,
            "applicant": {"kind": "organization", "name": "海口某某公司"}})
        .to_string(),
        serde_json::json!({"event_id": format!("{case_no}-a"), "case_no": case_no, "type": "accepted",
            "at": format!("{day}T10:00:00+08:00")})
        .to_string(),
    ]
}

async fn ingest(s: &common::Spawned, lines: &[String]) {
    let numbered = lines.iter().enumerate().map(|(i, l)| (i + 1, l.as_str()));
    let report = oversight_app::cases::ingest(&s.app, &oversight_app::Actor::cli(), numbered, |_| {}).await.unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
}

async fn sign_out(c: &Client) {
    c.find(Locator::Css("header.top button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("input[name=username]")).await.unwrap();
}

/// The office watches the network live, drills down to an overdue case, sends a supervision
/// notice; the department replies; the office closes it; the report leads back to the case.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn office_watches_the_network_and_supervises_an_overdue_case() {
    let t = oversight_testkit::sqlite().await;
    let s = common::spawn(&t).await;
    // Accepted in March with 10 working days and never decided: red, overdue, on 市发改委.
    ingest(&s, &case_lines("BR-1", "460100-V", "2026-03-02")).await;
    let Some((c, _driver)) = browser().await else { return };
    sign_in(&c, &s.base, "xiaoneng", &common::password(&s, "xiaoneng")).await;

    c.goto(&format!("{}/dashboard?refresh=2", s.base)).await.unwrap();
    assert_eq!(text_of(&c, "#total-red").await, "1");
    screenshot(&c, "dashboard").await;
    // The dashboard refreshes by itself when a case turns red elsewhere.
    ingest(&s, &case_lines("BR-2", "460105-V", "2026-03-03")).await;
    let mut red = String::new();
    for _ in 0..40 {
        red = text_of(&c, "#total-red").await;
        if red == "2" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(red, "2", "the live region reloaded");

    // Venue → its red cases → the case.
    let row = c.find(Locator::XPath("//table[@id='venues']//tr[td/code[text()='460100-V']]")).await.unwrap();
    row.find(Locator::Css("td:nth-child(5) a")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#cases")).await.unwrap();
    assert!(text_of(&c, "#filter").await.contains("460100-V"));
    c.find(Locator::LinkText("BR-1")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#case-signal")).await.unwrap();
    assert!(text_of(&c, "#case-signal").await.contains("红灯"));
    assert!(text_of(&c, "#supervision").await.contains("超过办理期限"));

    // The alert becomes a supervision notice.
    c.find(Locator::LinkText("预警与督办")).await.unwrap().click().await.unwrap();
    let send = "//tr[td/a[text()='BR-1'] and contains(., '超过办理期限')]//button[text()='发督办通知']";
    c.wait().for_element(Locator::XPath(send)).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#notice-status")).await.unwrap();
    assert_eq!(text_of(&c, "#notice-status").await, "待部门回复");
    let notice_url = c.current_url().await.unwrap();
    screenshot(&c, "notice").await;
    sign_out(&c).await;

    // The department finds it in its queue and replies.
    sign_in(&c, &s.base, "fgw", &common::password(&s, "fgw")).await;
    c.goto(&format!("{}/supervision", s.base)).await.unwrap();
    c.find(Locator::Css("#mine a[href^='/supervision/notices/']")).await.unwrap().click().await.unwrap();
    c.wait()
        .for_element(Locator::Css("#actions textarea"))
        .await
        .unwrap()
        .send_keys("已办结，系超时补录")
        .await
        .unwrap();
    submit(&c, "#actions button[value=reply]").await;
    assert_eq!(text_of(&c, "#notice-status").await, "待效能办审核");
    sign_out(&c).await;

    // The office closes it; every step is on the notice.
    sign_in(&c, &s.base, "xiaoneng", &common::password(&s, "xiaoneng")).await;
    c.goto(notice_url.as_str()).await.unwrap();
    submit(&c, "#actions button[value=close]").await;
    assert_eq!(text_of(&c, "#notice-status").await, "已办结");
    let steps = text_of(&c, "#steps").await;
    assert!(steps.contains("发出督办通知") && steps.contains("已办结，系超时补录"), "{steps}");

    // The report: the overdue figure leads to the cases behind it.
    c.goto(&format!("{}/reports?from=2026-01-01&to=2026-11-27&group_by=venue&compare=last_year", s.base))
        .await
        .unwrap();
    c.wait().for_element(Locator::Css("svg.chart")).await.unwrap();
    assert!(text_of(&c, "#report-table").await.contains("海口市政务服务中心"));
    screenshot(&c, "report").await;
    c.find(Locator::Css("#report-total td:nth-child(4) a")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#cases")).await.unwrap();
    let listed = text_of(&c, "#cases").await;
    assert!(listed.contains("BR-1") && listed.contains("BR-2"), "{listed}");
    assert!(text_of(&c, "#filter").await.contains("超期"));
    c.close().await.unwrap();
}

/// A citizen files a complaint on the web → the operator dispatches it → the department signs
/// and replies → the office visits the citizen → the citizen sees the result with the query
/// code. The department never sees who complained.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_complaint_runs_its_whole_life() {
    let t = oversight_testkit::sqlite().await;
    let s = common::spawn(&t).await;
    let Some((c, _driver)) = browser().await else { return };

    // The citizen, without an account, on a phone.
    c.set_window_size(390, 844).await.unwrap();
    c.goto(&format!("{}/public/hotline", s.base)).await.unwrap();
    assert!(c.find(Locator::Css("a[href='tel:963333']")).await.is_ok(), "the hotline number is a tap to call");
    let height = c
        .execute(
            "return document.querySelector('#public-form button[type=submit]').getBoundingClientRect().height",
            vec![],
        )
        .await
        .unwrap();
    assert!(height.as_f64().unwrap_or(0.0) >= 44.0, "a finger's target: {height}");
    c.find(Locator::Css("input[name=type][value=complaint]")).await.unwrap().click().await.unwrap();
    let summary = "市政务服务中心办理企业投资项目核准，材料交了三次仍未受理";
    c.find(Locator::Css("#summary")).await.unwrap().send_keys(summary).await.unwrap();
    assert_eq!(text_of(&c, "#summary-count").await, format!("已输入 {} / 2000 字", summary.chars().count()));
    c.find(Locator::Css("#caller_name")).await.unwrap().send_keys("王小明").await.unwrap();
    // A number that is not a phone's: told beside the field, in words, what was typed kept.
    c.find(Locator::Css("#caller_phone")).await.unwrap().send_keys("1380").await.unwrap();
    c.find(Locator::Css("#public-form button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#caller_phone-error")).await.unwrap();
    let said = text_of(&c, "#caller_phone-error").await;
    assert!(!said.contains("caller_phone") && !said.contains("行"), "{said}");
    assert_eq!(c.find(Locator::Css("#summary")).await.unwrap().prop("value").await.unwrap().as_deref(), Some(summary));
    screenshot(&c, "public-form").await;
    c.find(Locator::Css("#caller_phone")).await.unwrap().clear().await.unwrap();
    c.find(Locator::Css("#caller_phone")).await.unwrap().send_keys("13812345678").await.unwrap();
    c.find(Locator::Css("#public-form button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#query-code")).await.unwrap();
    let ticket_no = text_of(&c, "#ticket-no").await;
    let code = text_of(&c, "#query-code").await;
    assert!(ticket_no.starts_with('H') && code.len() == 8, "{ticket_no} {code}");
    assert!(c.current_url().await.unwrap().path().ends_with("/public/hotline/filed"));
    // A refresh shows the same ticket and files nothing.
    c.refresh().await.unwrap();
    c.wait().for_element(Locator::Css("#query-code")).await.unwrap();
    assert_eq!(text_of(&c, "#ticket-no").await, ticket_no);
    let all = oversight_store::orders::list(
        &s.app.db,
        &oversight_domain::access::Scope::All,
        &oversight_store::orders::OrderFilter { limit: 10, ..Default::default() },
        s.app.now(),
        s.app.today(),
    )
    .await
    .unwrap();
    assert_eq!(all.len(), 1, "one order however often the page is reloaded");
    screenshot(&c, "public-created").await;
    c.set_window_size(1280, 900).await.unwrap();

    // The operator dispatches it to the suggested department.
    sign_in(&c, &s.base, "rexian", &common::password(&s, "rexian")).await;
    c.find(Locator::LinkText("效能投诉")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#queue-dispatch")).await.unwrap();
    assert!(text_of(&c, "#queue-dispatch").await.contains("138****5678"));
    c.find(Locator::LinkText(&ticket_no)).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#dispatch")).await.unwrap();
    assert_eq!(text_of(&c, "#caller-name").await, "王**");
    let suggested = text_of(&c, "#dispatch select option:checked").await;
    assert!(suggested.contains("市发展和改革委员会") && suggested.contains("建议"), "{suggested}");
    screenshot(&c, "order-dispatch").await;
    submit(&c, "#dispatch button").await;
    assert_eq!(text_of(&c, "#order-status").await, "待签收");
    sign_out(&c).await;

    // The department signs and replies; it never sees the caller.
    sign_in(&c, &s.base, "fgw", &common::password(&s, "fgw")).await;
    c.goto(&format!("{}/hotline", s.base)).await.unwrap();
    assert!(!text_of(&c, "#queue-sign").await.contains("5678"));
    c.find(Locator::Css("#queue-sign a")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#steps-form")).await.unwrap();
    assert!(c.find(Locator::Css("#caller")).await.is_err(), "the department sees no caller");
    assert!(!c.source().await.unwrap().contains("王小明"));
    submit(&c, "#steps-form button[value=sign]").await;
    assert_eq!(text_of(&c, "#order-status").await, "办理中");
    c.find(Locator::Css("#steps-form textarea"))
        .await
        .unwrap()
        .send_keys("已当场受理，三个工作日内办结")
        .await
        .unwrap();
    submit(&c, "#steps-form button[value=reply]").await;
    assert_eq!(text_of(&c, "#order-status").await, "待回访");
    sign_out(&c).await;

    // The office calls the citizen back.
    sign_in(&c, &s.base, "rexian", &common::password(&s, "rexian")).await;
    c.goto(&format!("{}/hotline", s.base)).await.unwrap();
    c.find(Locator::Css("#queue-visit a")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#visit")).await.unwrap();
    let preset = c.find(Locator::Css("#visit select")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(preset.as_deref(), Some(""), "the result is the citizen's answer, never pre-set");
    c.find(Locator::Css("#visit select option[value=satisfied]")).await.unwrap().click().await.unwrap();
    submit(&c, "#visit button").await;
    assert_eq!(text_of(&c, "#order-status").await, "已办结");
    assert_eq!(text_of(&c, "#order-satisfaction").await, "满意");
    c.find(Locator::Css("#reveal-caller")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#caller-phone")).await.unwrap();
    assert_eq!(text_of(&c, "#caller-phone").await, "13812345678");
    let timeline = text_of(&c, "#timeline").await;
    for step in ["受理", "派单", "签收", "答复", "回访"] {
        assert!(timeline.contains(step), "{step} in {timeline}");
    }
    screenshot(&c, "order-closed").await;
    // The hotline report counts it; its figures lead to the orders behind them.
    c.goto(&format!("{}/reports/tickets?compare=none&group_by=channel", s.base)).await.unwrap();
    c.wait().for_element(Locator::Css("svg.chart")).await.unwrap();
    let headline = text_of(&c, "#headline").await;
    assert!(headline.contains("满意率") && headline.contains("100.0%"), "{headline}");
    screenshot(&c, "hotline-report").await;
    c.find(Locator::XPath("//table[@id='headline']//tr[td[1][text()='办结']]//a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Css("#orders")).await.unwrap();
    assert!(text_of(&c, "#orders").await.contains(&ticket_no));
    assert!(text_of(&c, "#filter").await.contains("已办结"));
    sign_out(&c).await;

    // The citizen follows it with the query code.
    c.goto(&format!("{}/public/hotline/query", s.base)).await.unwrap();
    // Typed by hand, in lower case.
    c.find(Locator::Css("#ticket_no")).await.unwrap().send_keys(&ticket_no.to_lowercase()).await.unwrap();
    c.find(Locator::Css("#code")).await.unwrap().send_keys(&code).await.unwrap();
    c.find(Locator::Css("#query-form button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#public-status")).await.unwrap();
    assert_eq!(text_of(&c, "#public-status").await, "已办结");
    assert_eq!(text_of(&c, "#public-reply").await, "已当场受理，三个工作日内办结");
    screenshot(&c, "public-result").await;
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_reads_the_task_board_on_a_desk_and_on_a_phone() {
    let t = oversight_testkit::sqlite().await;
    let s = common::spawn(&t).await;
    oversight_app::demo::load_tasks(&s.app).await.unwrap();
    let Some((c, _driver)) = browser().await else { return };
    sign_in(&c, &s.base, "xiaoneng", &common::password(&s, "xiaoneng")).await;
    c.find(Locator::LinkText("督察督办")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#tasks")).await.unwrap();
    let board = text_of(&c, "#tasks").await;
    // Names and Chinese words, with the rule behind each light.
    assert!(board.contains("市发展和改革委员会") && !board.contains("460100-D01"), "{board}");
    assert!(board.contains("红灯") && board.contains("尚未签收") && board.contains("待核实"), "{board}");
    screenshot(&c, "tasks").await;
    c.set_window_size(390, 844).await.unwrap();
    screenshot(&c, "tasks-phone").await;
    c.set_window_size(1280, 900).await.unwrap();
    // The board filtered to its red tasks: every row left is red.
    c.find(Locator::Css("#task-filters select[name=light] option[value=red]")).await.unwrap().click().await.unwrap();
    let before = c.find(Locator::Css("html")).await.unwrap();
    c.find(Locator::Css("#task-filters button")).await.unwrap().click().await.unwrap();
    while before.tag_name().await.is_ok() {
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let rows = c.find_all(Locator::Css("#tasks tbody tr")).await.unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        let text = row.text().await.unwrap();
        assert!(text.contains("红灯") && !text.contains("绿灯") && !text.contains("黄灯"), "{text}");
    }
    c.goto(&format!("{}/tasks", s.base)).await.unwrap();
    c.find(Locator::LinkText("推行并联审批，企业开办压缩至 5 个工作日")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#timeline")).await.unwrap();
    // Its milestones on a time line, each named and dated for a screen reader too.
    let line = text_of(&c, "#milestone-line title").await;
    assert!(line.contains("制定方案") && line.contains("完成期限"), "{line}");
    assert!(text_of(&c, "#task-light").await.contains("牵头单位应于"), "the light says why");
    assert!(text_of(&c, "#milestones").await.contains("制定方案"));
    screenshot(&c, "task").await;
}

/// Sets a date field's value directly (typing into one follows the browser's locale).
async fn set_date(c: &Client, css: &str, day: chrono::NaiveDate) {
    let field = c.find(Locator::Css(css)).await.unwrap();
    c.execute(&format!("arguments[0].value = '{day}'"), vec![serde_json::to_value(&field).unwrap()]).await.unwrap();
}

/// The office holds a whole joint meeting: schedules it (the agenda is drafted), records the
/// minutes and a decision, which becomes a task; the lead department signs it and reports it
/// done in its pages; the next meeting's agenda opens with where that decision stands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_holds_a_joint_meeting_and_follows_its_decision() {
    let t = oversight_testkit::sqlite().await;
    let s = common::spawn(&t).await;
    let Some((c, _driver)) = browser().await else { return };
    let today = s.app.today();
    sign_in(&c, &s.base, "xiaoneng", &common::password(&s, "xiaoneng")).await;
    c.goto(&format!("{}/tasks", s.base)).await.unwrap();
    c.find(Locator::LinkText("联席会议")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("form#schedule")).await.unwrap();
    set_date(&c, "#held_on", today - chrono::Days::new(1)).await;
    c.find(Locator::Css("#invited input[value='460100-D01']")).await.unwrap().click().await.unwrap();
    submit(&c, "form#schedule button[type=submit]").await;
    let agenda = c.find(Locator::Css("#agenda-text")).await.unwrap().prop("value").await.unwrap().unwrap_or_default();
    assert!(agenda.contains("一、上次会议议定事项落实情况") && agenda.contains("六、逾期未回复的督办通知"), "{agenda}");
    screenshot(&c, "meeting-agenda").await;

    c.find(Locator::Css("#minutes-text")).await.unwrap().send_keys("会议听取了重点工作进展汇报。").await.unwrap();
    submit(&c, "#minutes button[type=submit]").await;
    assert_eq!(text_of(&c, "#meeting-status").await, "已召开");
    c.find(Locator::Css("#decision-text")).await.unwrap().send_keys("企业开办一窗通办").await.unwrap();
    c.find(Locator::Css("#decision-lead option[value='460100-D01']")).await.unwrap().click().await.unwrap();
    set_date(&c, "#decision-due", today + chrono::Days::new(60)).await;
    submit(&c, "#decide button[type=submit]").await;
    let task_link = c.find(Locator::Css("#decisions table a")).await.unwrap();
    let task_no = task_link.text().await.unwrap();
    assert!(task_no.starts_with("RW"), "{task_no}");
    screenshot(&c, "meeting-decided").await;
    c.set_window_size(390, 844).await.unwrap();
    screenshot(&c, "meeting-phone").await;
    c.set_window_size(1280, 900).await.unwrap();
    sign_out(&c).await;

    // The lead department's liaison signs the task and reports it done.
    sign_in(&c, &s.base, "fgw", &common::password(&s, "fgw")).await;
    c.goto(&format!("{}/tasks/{task_no}", s.base)).await.unwrap();
    assert!(text_of(&c, "dl.facts").await.contains("会议议定事项"));
    submit(&c, "#task-steps form button[type=submit]").await;
    assert!(!text_of(&c, "dl.facts").await.contains("尚未签收"), "signed");
    // A report of done without a word is refused beside its field, and nothing is recorded.
    c.find(Locator::Css("#form-report-done button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#done-note-error")).await.unwrap();
    assert_eq!(text_of(&c, "#task-status").await, "办理中");
    c.find(Locator::Css("#done-note")).await.unwrap().send_keys("一窗通办已上线运行。").await.unwrap();
    submit(&c, "#form-report-done button").await;
    assert_eq!(text_of(&c, "#task-status").await, "待核实");
    screenshot(&c, "task-reported").await;
    sign_out(&c).await;

    // The next meeting's agenda opens with it.
    sign_in(&c, &s.base, "xiaoneng", &common::password(&s, "xiaoneng")).await;
    c.goto(&format!("{}/tasks/meetings", s.base)).await.unwrap();
    set_date(&c, "#held_on", today + chrono::Days::new(7)).await;
    submit(&c, "form#schedule button[type=submit]").await;
    let agenda = c.find(Locator::Css("#agenda-text")).await.unwrap().prop("value").await.unwrap().unwrap_or_default();
    let first = agenda.split("二、").next().unwrap();
    assert!(first.contains("企业开办一窗通办") && first.contains(&task_no) && first.contains("待核实"), "{agenda}");
    c.find(Locator::LinkText("打印议程与纪要（A4）")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("h1")).await.unwrap();
    assert!(text_of(&c, "h1").await.contains("联席会议"));
    c.close().await.unwrap();
}

/// The leader flags a task from its page (an empty instruction is refused beside the field),
/// reads it on the leader's board with its light, and reads the tasks report of the year beside
/// the last, by lead department: names, not codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_flags_a_task_and_reads_the_tasks_report() {
    let t = oversight_testkit::sqlite().await;
    let s = common::spawn(&t).await;
    oversight_app::demo::load_tasks(&s.app).await.unwrap();
    let Some((c, _driver)) = browser().await else { return };
    sign_in(&c, &s.base, "lingdao", &common::password(&s, "lingdao")).await;
    c.goto(&format!("{}/tasks", s.base)).await.unwrap();
    c.find(Locator::LinkText("推行并联审批，企业开办压缩至 5 个工作日")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#form-flag")).await.unwrap();
    c.find(Locator::Css("#form-flag button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#flag-note-error")).await.unwrap();
    assert!(text_of(&c, "#flag-note-error").await.contains("请填写批示意见"));
    c.find(Locator::Css("#flag-note")).await.unwrap().send_keys("请市发改委本月底前完成并联审批上线").await.unwrap();
    submit(&c, "#form-flag button").await;
    c.wait().for_element(Locator::Css("#form-lift")).await.unwrap();
    assert!(text_of(&c, "#flags").await.contains("请市发改委本月底前完成并联审批上线"));
    screenshot(&c, "task-flagged").await;
    c.goto(&format!("{}/tasks/flagged", s.base)).await.unwrap();
    let board = text_of(&c, "#flagged").await;
    assert!(
        board.contains("推行并联审批") && board.contains("市发展和改革委员会") && !board.contains("460100-D01"),
        "{board}"
    );
    assert!(board.contains("红灯") || board.contains("黄灯") || board.contains("绿灯"), "{board}");
    screenshot(&c, "tasks-flagged").await;
    c.goto(&format!("{}/reports/tasks", s.base)).await.unwrap();
    let table = text_of(&c, "#report-table").await;
    assert!(table.contains("市发展和改革委员会") && table.contains("对比期"), "{table}");
    let headline = text_of(&c, "#headline").await;
    assert!(headline.contains("按期办结率") && headline.contains("核实办结"), "{headline}");
    screenshot(&c, "report-tasks").await;
    c.set_window_size(390, 844).await.unwrap();
    screenshot(&c, "report-tasks-phone").await;
}

/// 好差评: an applicant rates a completed case 非常不满意; the department's liaison finds the
/// follow-up in its queue, is told beside the field what a contact needs, records the call and
/// the rectification with its evidence; the office verifies it, and the ratings report counts
/// the bad rating as rectified in time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_rating_is_followed_up_to_a_verified_rectification() {
    let t = oversight_testkit::sqlite().await;
    let s = common::spawn(&t).await;
    let yesterday = s.app.today().pred_opt().unwrap();
    let received = yesterday - chrono::Days::new(6);
    let mut lines = case_lines("HP-1", "460100-V", &received.to_string());
    let at = |d: chrono::NaiveDate, time: &str| format!("{d}T{time}+08:00");
    lines.push(
        serde_json::json!({"event_id": "HP-1-c", "case_no": "HP-1", "type": "completed",
            "at": at(received + chrono::Days::new(1), "15:00:00"), "result": "approved"})
        .to_string(),
    );
    lines.push(
        serde_json::json!({"event_id": "HP-1-s", "case_no": "HP-1", "type": "rated", "at": at(yesterday, "20:00:00"),
            "level": 1, "channel": "sms", "comment": "材料要求前后不一，跑了三趟"})
        .to_string(),
    );
    ingest(&s, &lines).await;
    let Some((c, _driver)) = browser().await else { return };
    sign_in(&c, &s.base, "fgw", &common::password(&s, "fgw")).await;
    c.goto(&format!("{}/ratings", s.base)).await.unwrap();
    let queue = text_of(&c, "#follow-ups").await;
    assert!(
        queue.contains("企业投资项目核准") && queue.contains("非常不满意") && queue.contains("回访期限"),
        "{queue}"
    );
    screenshot(&c, "ratings-queue").await;
    c.find(Locator::LinkText("HP-1")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#form-contact")).await.unwrap();
    assert!(text_of(&c, "#rating").await.contains("跑了三趟"));
    c.find(Locator::Css("#form-contact button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#contact-note-error")).await.unwrap();
    assert!(text_of(&c, "#contact-note-error").await.contains("请填写回访情况"));
    c.find(Locator::Css("#contact-note"))
        .await
        .unwrap()
        .send_keys("已电话回访申请人，致歉并说明补正要求")
        .await
        .unwrap();
    submit(&c, "#form-contact button").await;
    assert_eq!(text_of(&c, "#follow-up-state").await, "待整改");
    c.find(Locator::Css("#reply-note")).await.unwrap().send_keys("公示一次性告知清单，窗口人员重新培训").await.unwrap();
    c.find(Locator::Css("#reply-evidence")).await.unwrap().send_keys("告知清单.pdf\n培训签到表.jpg").await.unwrap();
    submit(&c, "#form-reply button").await;
    assert_eq!(text_of(&c, "#follow-up-state").await, "待核实");
    let history = text_of(&c, "#follow-up-history").await;
    assert!(history.contains("培训签到表.jpg") && history.contains("市发改委联络员 李明"), "{history}");
    assert!(c.find(Locator::Css("#form-verify")).await.is_err(), "verifying is the office's");
    screenshot(&c, "rating-follow-up-replied").await;
    sign_out(&c).await;

    sign_in(&c, &s.base, "xiaoneng", &common::password(&s, "xiaoneng")).await;
    c.goto(&format!("{}/ratings?show=replied", s.base)).await.unwrap();
    c.find(Locator::LinkText("HP-1")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#form-verify")).await.unwrap();
    submit(&c, "#form-verify button").await;
    assert_eq!(text_of(&c, "#follow-up-state").await, "已核实办结");
    c.goto(&format!("{}/reports/ratings?compare=none&group_by=department", s.base)).await.unwrap();
    let headline = text_of(&c, "#headline").await;
    let line = |label: &str| headline.lines().find(|l| l.starts_with(label)).unwrap_or_default().to_string();
    assert_eq!(line("差评 "), "差评 1", "{headline}");
    assert_eq!(line("差评按期整改"), "差评按期整改 1", "{headline}");
    assert_eq!(line("差评整改率"), "差评整改率 100.0%", "{headline}");
    assert!(text_of(&c, "#report-table").await.contains("市发展和改革委员会"));
    screenshot(&c, "report-ratings").await;
}

/// 明察暗访: the office plans a round (told beside the field to pick an inspector), reads the
/// commitment and the venues drawn, ends the round, and reads the seed with the check that the
/// draw re-run from it gives the same venues.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_plans_an_inspection_round_drawn_by_lot() {
    let t = oversight_testkit::sqlite().await;
    let s = common::spawn(&t).await;
    let Some((c, _driver)) = browser().await else { return };
    sign_in(&c, &s.base, "xiaoneng", &common::password(&s, "xiaoneng")).await;
    c.goto(&format!("{}/inspections", s.base)).await.unwrap();
    c.find(Locator::Css("#plan-round")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#new-round")).await.unwrap();
    c.find(Locator::Css("input[name=kind][value=open]")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("#new-round button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#inspectors-error")).await.unwrap();
    assert!(text_of(&c, "#inspectors-error").await.contains("请至少选择一名检查人员"));
    assert_eq!(c.find(Locator::Css("#quota_town")).await.unwrap().prop("value").await.unwrap().as_deref(), Some("3"));
    c.find(Locator::Css("input[name=inspectors][value=jiancha]")).await.unwrap().click().await.unwrap();
    submit(&c, "#new-round button").await;
    let targets = text_of(&c, "#targets").await;
    assert!(targets.contains("区级") && targets.contains("镇（街道）级"), "{targets}");
    assert!(text_of(&c, "#commitment").await.len() == 64);
    screenshot(&c, "inspection-round").await;
    submit(&c, "form[action$='/end'] button").await;
    assert_eq!(text_of(&c, "#seed").await.len(), 64);
    assert!(text_of(&c, "#verified").await.contains("结果与本轮检查对象一致"));
    screenshot(&c, "inspection-round-ended").await;
    c.goto(&format!("{}/inspections/checklist", s.base)).await.unwrap();
    assert!(text_of(&c, "#checklist").await.contains("一次性告知"));
}

/// An inspector on a phone: starts the visit of the venue drawn, records a finding (told beside
/// the field what is missing), a half-typed finding survives a reload of the page; the visit
/// ends, the department reports its rectification and the office verifies it by re-inspection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inspector_records_a_visit_on_a_phone_and_the_finding_is_rectified() {
    let t = oversight_testkit::sqlite().await;
    let s = common::spawn(&t).await;
    let office = oversight_testkit::login(&s.app, &s.accounts, "xiaoneng").await;
    let plan = oversight_app::inspections::NewRound {
        month: s.app.today().format("%Y-%m").to_string(),
        kind: "covert".into(),
        inspectors: vec!["jiancha".into()],
        quotas: [("city".to_string(), "1".to_string())].into_iter().collect(),
    };
    oversight_app::inspections::plan_round(&s.app, &office, &plan).await.unwrap();
    let Some((c, _driver)) = browser().await else { return };
    c.set_window_size(390, 844).await.unwrap();
    sign_in(&c, &s.base, "jiancha", &common::password(&s, "jiancha")).await;
    c.goto(&format!("{}/inspections", s.base)).await.unwrap();
    c.find(Locator::Css("#rounds a")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#targets button")).await.unwrap();
    assert!(text_of(&c, "#targets").await.contains("海口市政务服务中心"));
    c.find(Locator::Css("#targets button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#item-duty")).await.unwrap();
    c.find(Locator::Css("#item-duty summary")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("#item-duty input[value=serious]")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("#duty-window")).await.unwrap().send_keys("社保窗口").await.unwrap();
    c.find(Locator::Css("#duty-staff")).await.unwrap().send_keys("赵一鸣").await.unwrap();
    c.find(Locator::Css("#item-duty button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#duty-note-error")).await.unwrap();
    assert!(text_of(&c, "#duty-note-error").await.contains("请写明发现的问题"));
    assert_eq!(
        c.find(Locator::Css("#duty-window")).await.unwrap().prop("value").await.unwrap().as_deref(),
        Some("社保窗口")
    );
    assert!(text_of(&c, "#duty-department-error").await.contains("请选择责任部门"));
    c.find(Locator::Css("#duty-department option[value='460100-D01']")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("#duty-note")).await.unwrap().send_keys("9:40 窗口无人，工作人员在休息区玩手机").await.unwrap();
    submit(&c, "#item-duty button").await;
    let findings = text_of(&c, "#findings").await;
    assert!(
        findings.contains("在岗在位") && findings.contains("严重问题") && findings.contains("玩手机"),
        "{findings}"
    );
    // Half a finding typed, then the page reloads (a dropped connection): it is still there.
    c.find(Locator::Css("#item-dress summary")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("#dress-note")).await.unwrap().send_keys("未佩戴工牌").await.unwrap();
    c.refresh().await.unwrap();
    c.wait().for_element(Locator::Css("#dress-note")).await.unwrap();
    assert_eq!(
        c.find(Locator::Css("#dress-note")).await.unwrap().prop("value").await.unwrap().as_deref(),
        Some("未佩戴工牌")
    );
    // A photo from the camera (a file here): shrunk, and shown beside the finding.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("现场.jpg");
    image::RgbImage::from_fn(2400, 1800, |x, y| image::Rgb([(x % 255) as u8, (y % 255) as u8, 120]))
        .save(&path)
        .unwrap();
    c.find(Locator::Css(".photo-form input[type=file]"))
        .await
        .unwrap()
        .send_keys(&path.display().to_string())
        .await
        .unwrap();
    submit(&c, ".photo-form button").await;
    let mut width = serde_json::Value::Null;
    for _ in 0..40 {
        width = c.execute("return document.querySelector('#findings .photos img').naturalWidth", vec![]).await.unwrap();
        if width.as_u64().is_some_and(|w| w > 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(width.as_u64(), Some(1600), "the stored photo is the shrunk one");
    screenshot(&c, "inspection-visit-phone").await;
    // The visit ends (the browser asks first); the finding goes to 市发改委 for rectification.
    c.find(Locator::Css("#close-visit button")).await.unwrap().click().await.unwrap();
    c.accept_alert().await.unwrap();
    c.wait().for_element(Locator::Css("p.notice")).await.unwrap();
    assert!(text_of(&c, "#visit-state").await.starts_with("已结束"));
    sign_out(&c).await;
    sign_in(&c, &s.base, "fgw", &common::password(&s, "fgw")).await;
    c.goto(&format!("{}/inspections/rectifications", s.base)).await.unwrap();
    c.find(Locator::LinkText("在岗在位、遵守作息")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#form-reply")).await.unwrap();
    c.find(Locator::Css("#reply-note"))
        .await
        .unwrap()
        .send_keys("当事人已调离窗口岗位，全员重申考勤纪律")
        .await
        .unwrap();
    submit(&c, "#form-reply button").await;
    assert_eq!(text_of(&c, "#rect-state").await, "待核实");
    sign_out(&c).await;
    sign_in(&c, &s.base, "xiaoneng", &common::password(&s, "xiaoneng")).await;
    c.goto(&format!("{}/inspections/rectifications?show=replied", s.base)).await.unwrap();
    c.find(Locator::LinkText("在岗在位、遵守作息")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#form-verify")).await.unwrap();
    c.find(Locator::Css("#form-verify button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#verify-method-error")).await.unwrap();
    c.find(Locator::Css("input[name=method][value=reinspection]")).await.unwrap().click().await.unwrap();
    submit(&c, "#form-verify button").await;
    assert_eq!(text_of(&c, "#rect-state").await, "已核实销号");
    assert!(text_of(&c, "#rect-history").await.contains("复查"));
    screenshot(&c, "inspection-rectification-verified").await;
    // The inspections report counts it rectified on time, and the figure lists it.
    c.goto(&format!("{}/reports/inspections?compare=none&group_by=department", s.base)).await.unwrap();
    let headline = text_of(&c, "#headline").await;
    assert!(headline.contains("按期整改"), "{headline}");
    screenshot(&c, "inspection-report").await;
    c.find(Locator::Css("#report-table a[href*='figure=on_time']")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#figure")).await.unwrap();
    assert!(text_of(&c, "#figure").await.contains("按期整改"));
    assert!(text_of(&c, "#rectifications").await.contains("在岗在位、遵守作息"));
    // The month's bulletin: drafted from the finding, its photo chosen, the office's words
    // naming the member of staff; approved, published, and read by the public without the name.
    c.goto(&format!("{}/inspections/bulletins", s.base)).await.unwrap();
    let month = c.find(Locator::Css("#month")).await.unwrap();
    let this_month = s.app.today().format("%Y-%m").to_string();
    c.execute(&format!("arguments[0].value = '{this_month}'"), vec![serde_json::to_value(&month).unwrap()])
        .await
        .unwrap();
    submit(&c, "#draft-bulletin button").await;
    assert!(text_of(&c, "#candidates").await.contains("赵一鸣"), "the office's draft names the staff member");
    c.find(Locator::Css("#photo-choices input")).await.unwrap().click().await.unwrap();
    let title = c.find(Locator::Css("#title")).await.unwrap();
    title.clear().await.unwrap();
    c.find(Locator::Css("#save-bulletin")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#title-error")).await.unwrap();
    assert!(c.find(Locator::Css("#photo-choices input")).await.unwrap().is_selected().await.unwrap(), "kept as typed");
    c.find(Locator::Css("#title")).await.unwrap().send_keys("明察暗访情况通报").await.unwrap();
    c.find(Locator::Css("#intro"))
        .await
        .unwrap()
        .send_keys("对社保窗口赵一鸣上班时间玩手机的问题予以通报批评。")
        .await
        .unwrap();
    submit(&c, "#save-bulletin").await;
    screenshot(&c, "bulletin-draft").await;
    submit(&c, "#step-approve").await;
    assert_eq!(text_of(&c, "#bulletin-state").await, "已审核待公开");
    submit(&c, "#step-publish").await;
    c.find(Locator::Css("#public-link")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#bulletin-lines")).await.unwrap();
    let public = text_of(&c, "main").await;
    assert!(public.contains("对社保窗口某工作人员上班时间玩手机") && public.contains("在岗在位"), "{public}");
    assert!(!public.contains("赵一鸣"), "{public}");
    let shown = c.execute("return document.querySelector('.photos img').naturalWidth", vec![]).await.unwrap();
    assert!(shown.as_u64().is_some_and(|w| w > 0), "the chosen photo is public: {shown}");
    screenshot(&c, "bulletin-public").await;
}

/// The office writes an evaluation scheme (a mistake is shown beside it, what was typed kept),
/// tries it over a period, publishes the result, reads a department's points explained, and
/// finds the result on the public page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_writes_a_scheme_tries_it_and_publishes_the_result() {
    let t = oversight_testkit::sqlite().await;
    let s = common::spawn(&t).await;
    let Some((c, _driver)) = browser().await else { return };
    sign_in(&c, &s.base, "xiaoneng", &common::password(&s, "xiaoneng")).await;
    c.goto(&format!("{}/evaluation", s.base)).await.unwrap();
    let example = c.find(Locator::Css("#scheme")).await.unwrap().prop("value").await.unwrap().unwrap();
    assert!(example.contains("[[indicator]]"), "the form starts from an example");
    let wrong = example.replace("source = \"tickets.complaints\"", "source = \"tickets.complaint\"");
    let field = c.find(Locator::Css("#scheme")).await.unwrap();
    c.execute("arguments[0].value = arguments[1]", vec![serde_json::to_value(&field).unwrap(), wrong.clone().into()])
        .await
        .unwrap();
    c.find(Locator::Css("#new-scheme button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#form-errors")).await.unwrap();
    assert!(text_of(&c, "#form-errors").await.contains("tickets.complaint"), "the source named");
    let kept = c.find(Locator::Css("#scheme")).await.unwrap().prop("value").await.unwrap().unwrap();
    assert_eq!(kept.trim_end(), wrong.trim_end(), "what was typed is kept");
    let field = c.find(Locator::Css("#scheme")).await.unwrap();
    c.execute("arguments[0].value = arguments[1]", vec![serde_json::to_value(&field).unwrap(), example.into()])
        .await
        .unwrap();
    submit(&c, "#new-scheme button").await;
    assert!(text_of(&c, "#indicators").await.contains("办件超期率"));
    let today = s.app.today();
    set_date(&c, "#try-form input[name=from]", today - chrono::Days::new(30)).await;
    set_date(&c, "#try-form input[name=to]", today).await;
    c.find(Locator::Css("#try-form button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#draft")).await.unwrap();
    assert!(text_of(&c, "#draft").await.contains("市发展和改革委员会"));
    screenshot(&c, "evaluation-draft").await;
    c.find(Locator::Css("#publish")).await.unwrap().click().await.unwrap();
    c.accept_alert().await.unwrap();
    c.wait().for_element(Locator::Css("#result")).await.unwrap();
    assert!(text_of(&c, "#rerun").await.contains("逐字节一致"));
    screenshot(&c, "evaluation-result").await;
    c.find(Locator::Css("#result tbody a")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#explained")).await.unwrap();
    let explained = text_of(&c, "#explained").await;
    assert!(explained.contains("办件超期率") && explained.contains("得分 = 40 × (值 − 0.2)"), "{explained}");
    screenshot(&c, "evaluation-department").await;
    c.goto(&format!("{}/public/evaluation", s.base)).await.unwrap();
    c.find(Locator::Css("#results a")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#result")).await.unwrap();
    assert!(text_of(&c, "#result").await.contains("市发展和改革委员会"));
    screenshot(&c, "evaluation-public").await;
    // What if: the scheme set beside its own published result moves no one.
    c.back().await.unwrap();
    c.goto(&format!("{}/evaluation", s.base)).await.unwrap();
    c.find(Locator::Css("#schemes a")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#what-if-form")).await.unwrap();
    c.find(Locator::Css("#what-if-form button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#what-if")).await.unwrap();
    let moves = text_of(&c, "#what-if").await;
    assert!(moves.contains("市发展和改革委员会") && moves.contains("第 1 名，100.00 分"), "{moves}");
    screenshot(&c, "evaluation-what-if").await;
    // The public front page: the year's headline figures and the published result.
    c.goto(&format!("{}/public", s.base)).await.unwrap();
    assert!(text_of(&c, "#cases").await.contains("超期率"));
    assert!(text_of(&c, "main").await.contains("年度机关效能考评"));
    screenshot(&c, "public-home").await;
}

/// A department's appeal from filing to the re-published score: 市发改委's liaison finds its
/// result, contests an overdue case (told beside the field what is missing), the office upholds
/// it, and the result published again scores the department without that case.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_appeals_an_overdue_case_and_a_complaint_and_the_result_is_published_again() {
    use oversight_app::cases::{self, Reporting};
    let t = oversight_testkit::sqlite().await;
    let s = common::spawn(&t).await;
    // March 2011: 市发改委 (SX001) settled E1 on time and E2 overdue.
    let case = |no: &str, done: &str| {
        [
            format!(
                r#"{{"event_id":"{no}-r","case_no":"{no}","type":"received","at":"2011-03-01T09:00:00+08:00","item_code":"SX001","venue_code":"460100-V","applicant":{{"kind":"person","name":"王"}}}}"#
            ),
            format!(r#"{{"event_id":"{no}-a","case_no":"{no}","type":"accepted","at":"2011-03-01T10:00:00+08:00"}}"#),
            format!(
                r#"{{"event_id":"{no}-c","case_no":"{no}","type":"completed","at":"{done}T10:00:00+08:00","result":"approved"}}"#
            ),
        ]
    };
    let lines: Vec<String> = case("E1", "2011-03-08").into_iter().chain(case("E2", "2011-03-25")).collect();
    let numbered: Vec<(usize, &str)> = lines.iter().enumerate().map(|(i, l)| (i + 1, l.as_str())).collect();
    cases::ingest_as(&s.app, &oversight_app::Actor::cli(), Reporting::Historical, numbered, |_| {}).await.unwrap();
    // And a complaint sent to 市发改委 that was about another department's window.
    let complaint = r#"{"ticket_no":"Q9","channel":"phone","type":"complaint","received_at":"2011-03-02T09:00:00+08:00","subject_department_code":"460100-D01","summary":"窗口推诿"}"#;
    oversight_app::tickets::import_tickets(&s.app, &oversight_app::Actor::cli(), [(1, complaint)]).await.unwrap();
    let office = oversight_testkit::login(&s.app, &s.accounts, "xiaoneng").await;
    let scheme =
        oversight_app::evaluation::save_scheme(&s.app, &office, None, oversight_app::evaluation::EXAMPLE_SCHEME)
            .await
            .unwrap();
    let (from, to) =
        (chrono::NaiveDate::from_ymd_opt(2011, 3, 1).unwrap(), chrono::NaiveDate::from_ymd_opt(2011, 3, 31).unwrap());
    oversight_app::evaluation::publish(&s.app, &office, &scheme.id, from, to).await.unwrap();
    let Some((c, _driver)) = browser().await else { return };
    sign_in(&c, &s.base, "fgw", &common::password(&s, "fgw")).await;
    c.goto(&format!("{}/evaluation", s.base)).await.unwrap();
    c.find(Locator::Css("#own-results a")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#overdue-cases")).await.unwrap();
    let score_before = text_of(&c, "#department-score").await;
    assert!(score_before.contains("市发展和改革委员会"), "{score_before}");
    c.find(Locator::Css("#overdue-cases summary")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("#reason-E2")).await.unwrap().send_keys("申请人逾期补正材料 12 天").await.unwrap();
    c.find(Locator::Css(".appeal-form button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#evidence-error")).await.unwrap();
    assert_eq!(
        c.find(Locator::Css("#reason-E2")).await.unwrap().prop("value").await.unwrap().as_deref(),
        Some("申请人逾期补正材料 12 天"),
        "what was typed is kept"
    );
    c.find(Locator::Css("#evidence-E2")).await.unwrap().send_keys("补正通知书及签收记录").await.unwrap();
    submit(&c, ".appeal-form button").await;
    assert_eq!(text_of(&c, "#appeal-list .appeal-state").await, "待效能办处理");
    // The complaint, in its own list: contested as about another department.
    c.find(Locator::Css("#complaints summary")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("#reason-Q9")).await.unwrap().send_keys("投诉反映的是市公安局窗口").await.unwrap();
    c.find(Locator::Css("#evidence-Q9")).await.unwrap().send_keys("通话录音").await.unwrap();
    submit(&c, "#complaints .appeal-form button").await;
    let listed = text_of(&c, "#appeal-list").await;
    assert!(listed.contains("办件 E2") && listed.contains("投诉 Q9"), "{listed}");
    screenshot(&c, "evaluation-appeal-filed").await;
    sign_out(&c).await;
    sign_in(&c, &s.base, "xiaoneng", &common::password(&s, "xiaoneng")).await;
    c.goto(&format!("{}/evaluation", s.base)).await.unwrap();
    c.find(Locator::Css("#results a")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#result")).await.unwrap();
    c.find(Locator::LinkText("市发展和改革委员会")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css(".decide-form")).await.unwrap();
    c.find(Locator::Css(".decide-form textarea")).await.unwrap().send_keys("补正通知书证实申请人延误").await.unwrap();
    c.find(Locator::Css(".decide-form .uphold")).await.unwrap().click().await.unwrap();
    c.accept_alert().await.unwrap();
    c.wait().for_element(Locator::Css("#supersedes")).await.unwrap();
    c.find(Locator::LinkText("市发展和改革委员会")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#department-score")).await.unwrap();
    let score_after = text_of(&c, "#department-score").await;
    assert_ne!(score_after, score_before, "the score changed");
    assert!(text_of(&c, "#records").await.contains("没有计入超期办件"));
    assert_eq!(text_of(&c, "#appeal-list .appeal-state").await, "申诉成立");
    // The complaint's appeal waits on the result in force; upheld, it is published again.
    c.find(Locator::Css(".decide-form textarea")).await.unwrap().send_keys("录音证实投诉对象为市公安局").await.unwrap();
    c.find(Locator::Css(".decide-form .uphold")).await.unwrap().click().await.unwrap();
    c.accept_alert().await.unwrap();
    c.wait().for_element(Locator::Css("#supersedes")).await.unwrap();
    c.find(Locator::LinkText("市发展和改革委员会")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#department-score")).await.unwrap();
    assert_ne!(text_of(&c, "#department-score").await, score_after, "the score changed again");
    assert!(text_of(&c, "#complaint-records").await.contains("没有计入效能投诉"));
    screenshot(&c, "evaluation-appeal-upheld").await;
}

/// Self-assessment before the office's review: the office asks the departments for the
/// period on the scheme's page; 市发改委's liaison answers on its evaluation page (told beside
/// the field when the points are above the weight, what was typed kept); the office's review
/// shows the department's figure beside its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_assesses_itself_and_the_office_reviews_beside_it() {
    let t = oversight_testkit::sqlite().await;
    let s = common::spawn(&t).await;
    let office = oversight_testkit::login(&s.app, &s.accounts, "xiaoneng").await;
    let body = format!(
        "{}\n[[indicator]]\ncode = \"C1\"\nname = \"领导评价\"\nsource = \"manual\"\nweight = 10\nscore = {{ kind = \"manual\" }}\nself_assessment = true\n",
        oversight_app::evaluation::EXAMPLE_SCHEME
    );
    let scheme = oversight_app::evaluation::save_scheme(&s.app, &office, None, &body).await.unwrap();
    let Some((c, _driver)) = browser().await else { return };
    sign_in(&c, &s.base, "xiaoneng", &common::password(&s, "xiaoneng")).await;
    let page = format!("{}/evaluation/schemes/{}?from=2011-03-01&to=2011-03-31", s.base, scheme.id);
    c.goto(&page).await.unwrap();
    assert!(text_of(&c, "#no-self").await.contains("尚未请部门自评"));
    submit(&c, "#self-request button").await;
    assert!(text_of(&c, "#self-assessments").await.contains("待自评"));
    sign_out(&c).await;
    sign_in(&c, &s.base, "fgw", &common::password(&s, "fgw")).await;
    c.goto(&format!("{}/evaluation", s.base)).await.unwrap();
    let card = text_of(&c, "#self .card").await;
    assert!(card.contains("市发展和改革委员会") && card.contains("领导评价") && card.contains("待自评"), "{card}");
    c.find(Locator::Css("#self input[name=points]")).await.unwrap().send_keys("12").await.unwrap();
    c.find(Locator::Css("#self textarea[name=reason]")).await.unwrap().send_keys("全年无效能投诉").await.unwrap();
    c.find(Locator::Css("#self form button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#self .field-error")).await.unwrap();
    assert!(text_of(&c, "#self .field-error").await.contains("0 到 10"));
    assert_eq!(
        c.find(Locator::Css("#self textarea[name=reason]")).await.unwrap().prop("value").await.unwrap().as_deref(),
        Some("全年无效能投诉"),
        "what was typed is kept"
    );
    c.find(Locator::Css("#self input[name=points]")).await.unwrap().clear().await.unwrap();
    c.find(Locator::Css("#self input[name=points]")).await.unwrap().send_keys("9").await.unwrap();
    submit(&c, "#self form button").await;
    assert!(text_of(&c, "#self .card").await.contains("已自评 9.00 分"));
    screenshot(&c, "evaluation-self-assessed").await;
    sign_out(&c).await;
    sign_in(&c, &s.base, "xiaoneng", &common::password(&s, "xiaoneng")).await;
    c.goto(&page).await.unwrap();
    c.find(Locator::Css("#manual-department option[value='460100-D01']")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("#manual-points")).await.unwrap().send_keys("8").await.unwrap();
    c.find(Locator::Css("#manual-reason")).await.unwrap().send_keys("领导测评良好").await.unwrap();
    submit(&c, "#manual-form button").await;
    let entries = text_of(&c, "#manual-entries").await;
    assert!(entries.contains("8.00") && entries.contains("9.00 分"), "the office's beside the department's: {entries}");
    screenshot(&c, "evaluation-self-reviewed").await;
}

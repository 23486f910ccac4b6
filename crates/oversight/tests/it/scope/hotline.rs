//! Work orders: the tickets report, orders through the API, and the hotline office's pages.

use super::{Check, Ctx, assert_no_outside};
use crate::common;
use oversight_app::Actor;
use oversight_app::hotline::Created;

/// The two orders `hotline_orders` files, one dispatched to each district; the public pages
/// ask about them.
pub(super) struct Orders {
    pub lh_order: Created,
    pub xy_order: Created,
}

pub(super) async fn ticket_report(k: &mut Check<'_>, c: &Ctx<'_>) {
    let Ctx { app, .. } = c;
    // Work orders: the district's key counts only orders about the district.
    let tickets = [
        r#"{"ticket_no":"T-XY","channel":"phone","type":"complaint","received_at":"2011-03-01T09:00:00+08:00","subject_venue_code":"460105-V","summary":"排队太久"}"#,
        r#"{"ticket_no":"T-LH","channel":"web","type":"complaint","received_at":"2011-03-01T09:00:00+08:00","subject_venue_code":"460106-V","summary":"态度差"}"#,
    ];
    let numbered = tickets.iter().enumerate().map(|(i, l)| (i + 1, *l));
    oversight_app::tickets::import_tickets(app, &Actor::cli(), numbered).await.unwrap();
    let (st, body) =
        c.api_get(k, "/api/v1/reports/tickets", "/api/v1/reports/tickets?from=2011-01-01&to=2011-12-31").await;
    assert_eq!(st, 200, "{body}");
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!((report["received"].as_i64(), report["venue_complaints"].as_i64()), (Some(1), Some(1)), "{report}");
}

pub(super) async fn orders_api(k: &mut Check<'_>, c: &Ctx<'_>) {
    let Ctx { s, app, xy, api, .. } = c;
    // Orders from a district's system belong to the district.
    k.cover("POST", "/api/v1/orders");
    let order = serde_json::json!({"type": "help", "summary": "低保办理进度", "channel": "mobile", "caller_phone": "13700000000"});
    let res = c.key(api.post(format!("{}/api/v1/orders", s.base))).json(&order).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let created: serde_json::Value = res.json().await.unwrap();
    let row = oversight_store::orders::order(&app.db, created["ticket_no"].as_str().unwrap()).await.unwrap().unwrap();
    assert!(row.office_path.contains("460105") && row.channel.as_str() == "mobile", "{row:?}");
    let res = c
        .key(api.post(format!("{}/api/v1/orders", s.base)))
        .json(&serde_json::json!({"type": "rant", "summary": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let e: serde_json::Value = res.json().await.unwrap();
    assert_eq!(e["error"]["errors"].as_array().unwrap().len(), 2, "{e}");
    assert_eq!(xy.post(format!("{}/api/v1/orders", s.base)).json(&order).send().await.unwrap().status(), 401);
}

pub(super) async fn hotline_orders(k: &mut Check<'_>, c: &Ctx<'_>) -> Orders {
    let Ctx { s, app, xy, xy_csrf, lh, lh_csrf, .. } = c;
    // Hotline orders: 秀英区's office sees and works only orders of its district; the caller
    // never shows to anyone outside the office, and public pages show no one's identity.
    use oversight_app::hotline::{self, Intake, NewOrder, StepInput};
    let operator =
        oversight_app::accounts::login(app, "rexian", &common::password(s, "rexian"), "127.0.0.1").await.unwrap().actor;
    let order_to = async |department: &str, name: &str| {
        let new = NewOrder {
            kind: "complaint".into(),
            summary: "窗口态度差".into(),
            caller_name: name.into(),
            caller_phone: "13800000000".into(),
            ..Default::default()
        };
        let c = hotline::create_order(
            app,
            Intake::Operator(&operator, oversight_domain::ticket::Channel::Phone),
            &new.parse().unwrap(),
        )
        .await
        .unwrap();
        let dispatch = StepInput { step: "dispatch".into(), department_code: department.into(), ..Default::default() };
        hotline::order_step(app, &operator, &c.ticket_no, &dispatch).await.unwrap();
        c
    };
    let lh_order = order_to("460106-D01", "龙华某人").await;
    let xy_order = order_to("460105-D01", "秀英某人").await;
    let (st, body) = k.get(xy, "/hotline", "/hotline").await;
    assert_eq!(st, 200);
    assert!(body.contains(&xy_order.ticket_no) && !body.contains(&lh_order.ticket_no), "{body}");
    assert_no_outside("hotline queues", &body);
    let lh_url = format!("/hotline/orders/{}", lh_order.ticket_no);
    assert_eq!(k.get(xy, "/hotline/orders/{no}", &lh_url).await.0, 404);
    // Seeing the caller in full is audited: a link (`?caller=1`) shows nothing more, the form does.
    let (_, body) =
        k.get(xy, "/hotline/orders/{no}", &format!("/hotline/orders/{}?caller=1", xy_order.ticket_no)).await;
    assert!(!body.contains("秀英某人"), "a link does not reveal the caller");
    let reveal = format!("/hotline/orders/{}/caller", xy_order.ticket_no);
    let (st, body) = k.post(xy, "/hotline/orders/{no}/caller", &reveal, &[("csrf", xy_csrf)]).await;
    assert_eq!(st, 200);
    assert!(body.contains("秀英某人"), "the district's office sees its caller when it asks");
    let lh_reveal = format!("/hotline/orders/{}/caller", lh_order.ticket_no);
    assert_eq!(k.post(xy, "/hotline/orders/{no}/caller", &lh_reveal, &[("csrf", xy_csrf)]).await.0, 404);
    let form = [("csrf", xy_csrf.as_str()), ("step", "close"), ("note", "越权办结")];
    assert_eq!(k.post(xy, "/hotline/orders/{no}/steps", &format!("{lh_url}/steps"), &form).await.0, 404);
    assert_eq!(
        oversight_store::orders::order(&app.db, &lh_order.ticket_no).await.unwrap().unwrap().status.as_str(),
        "dispatched"
    );
    // The 龙华区 administrator takes no orders; the 秀英区 office does, and they stay its own.
    assert_eq!(k.get(lh, "/hotline/new", "/hotline/new").await.0, 403);
    let form = [("csrf", lh_csrf.as_str()), ("type", "help"), ("summary", "求助")];
    assert_eq!(k.post(lh, "/hotline/orders", "/hotline/orders", &form).await.0, 403);
    // The phone is looked up in the body, never in a URL.
    let lookup = [("csrf", xy_csrf.as_str()), ("phone", "13800000000")];
    let (st, body) = k.post(xy, "/hotline/new", "/hotline/new", &lookup).await;
    assert_eq!(st, 200);
    assert!(body.contains(&xy_order.ticket_no) && !body.contains(&lh_order.ticket_no), "caller history in scope");
    let form = [("csrf", xy_csrf.as_str()), ("type", "help"), ("summary", "秀英区求助"), ("channel", "phone")];
    let (st, _) = k.post(xy, "/hotline/orders", "/hotline/orders", &form).await;
    assert_eq!(st, 303);
    let (st, body) = k.get(xy, "/hotline/list", "/hotline/list?from=2000-01-01&to=2100-01-01").await;
    assert_eq!(st, 200);
    assert!(body.contains(&xy_order.ticket_no) && !body.contains(&lh_order.ticket_no), "{body}");
    // The department by its name, not its code.
    let names = oversight_app::network::department_names(app).await.unwrap();
    assert!(body.contains(&format!("<td>{}</td>", names["460105-D01"])), "{body}");
    assert!(!body.contains("<td>460105-D01</td>"), "{body}");
    let (st, body) =
        k.get(xy, "/reports/tickets", "/reports/tickets?from=2011-01-01&to=2011-12-31&group_by=department").await;
    assert_eq!(st, 200);
    assert_no_outside("hotline report", &body);
    let export = "/reports/tickets.xlsx?from=2011-01-01&to=2011-12-31";
    let (st, body) = k.post(xy, "/reports/tickets.xlsx", export, &[("csrf", xy_csrf)]).await;
    assert_eq!(st, 200);
    assert!(body.starts_with("PK"));
    // Contacts of a department outside the district cannot be set from it.
    let form = [("csrf", lh_csrf.as_str()), ("email", "x@example.com"), ("phone", "")];
    let st = k.post(lh, "/network/{code}/contacts", "/network/460105-D01/contacts", &form).await.0;
    assert!(st == 404 || st == 403, "{st}");
    assert_eq!(oversight_store::outbox::contacts(&app.db, "460105-D01").await.unwrap().unwrap().0, None);
    Orders { lh_order, xy_order }
}

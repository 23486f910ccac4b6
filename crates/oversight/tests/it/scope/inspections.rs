//! Inspections: a district office plans and sees its own rounds only, over its own venues.

use super::{Check, Ctx, assert_no_outside};
use oversight_app::inspections::{self, NewRound};

pub(super) async fn rounds(k: &mut Check<'_>, c: &Ctx<'_>) {
    let Ctx { s, app, xy, xy_csrf, anon, .. } = c;
    let month = app.today().format("%Y-%m").to_string();
    let office = oversight_testkit::login(app, &s.accounts, "xiaoneng").await;
    let plan = NewRound {
        month: month.clone(),
        kind: "open".into(),
        inspectors: vec!["jiancha".into()],
        quotas: [("district".to_string(), "2".to_string())].into_iter().collect(),
    };
    let city = inspections::plan_round(app, &office, &plan).await.unwrap();
    let (st, body) = k.get(xy, "/inspections", "/inspections").await;
    assert_eq!(st, 200);
    assert!(!body.contains(&city), "the city's round is not the district's");
    assert_eq!(k.get(anon, "/inspections", "/inspections").await.0, 303);
    assert_eq!(k.get(xy, "/inspections/rounds/{id}", &format!("/inspections/rounds/{city}")).await.0, 404);
    assert_eq!(
        k.get(xy, "/inspections/rounds/{id}/draw.json", &format!("/inspections/rounds/{city}/draw.json")).await.0,
        404
    );
    let end = [("csrf", xy_csrf.as_str())];
    assert_eq!(
        k.post(xy, "/inspections/rounds/{id}/end", &format!("/inspections/rounds/{city}/end"), &end).await.0,
        404
    );
    // The city's visits: none of the district's business, whatever it asks.
    let inspector = oversight_testkit::login(app, &s.accounts, "jiancha").await;
    // (Two of the four district centres are drawn: at least one is another district's. A
    // finding at 秀英区's own centre is the district's business, whatever department it names.)
    let targets = inspections::round_view(app, &inspector, &city).await.unwrap().targets.unwrap();
    let target = targets.into_iter().map(|t| t.0).find(|code| !code.starts_with("460105")).unwrap();
    let visit = inspections::start_visit(app, &inspector, &city, &target).await.unwrap();
    let start = [("csrf", xy_csrf.as_str()), ("venue_code", target.as_str())];
    let url = format!("/inspections/rounds/{city}/visits");
    assert_eq!(k.post(xy, "/inspections/rounds/{id}/visits", &url, &start).await.0, 404);
    assert_eq!(k.get(xy, "/inspections/visits/{id}", &format!("/inspections/visits/{visit}")).await.0, 404);
    let finding = [("csrf", xy_csrf.as_str()), ("item_code", "duty"), ("severity", "minor"), ("note", "x")];
    let url = format!("/inspections/visits/{visit}/findings");
    assert_eq!(k.post(xy, "/inspections/visits/{id}/findings", &url, &finding).await.0, 404);
    let url = format!("/inspections/visits/{visit}/close");
    assert_eq!(k.post(xy, "/inspections/visits/{id}/close", &url, &end).await.0, 404);
    // The city's finding, sent to a city department: not the district's either.
    let found = inspections::NewFinding {
        item_code: "duty".into(),
        severity: "minor".into(),
        department_code: "460100-D01".into(),
        note: "脱岗".into(),
        ..Default::default()
    };
    let finding = inspections::record_finding(app, &inspector, &visit, &found).await.unwrap();
    let picture = {
        let mut out = std::io::Cursor::new(Vec::new());
        image::RgbImage::from_pixel(64, 48, image::Rgb([90, 90, 90]))
            .write_to(&mut out, image::ImageFormat::Jpeg)
            .unwrap();
        out.into_inner()
    };
    let photo = inspections::add_photo(app, &inspector, &finding.id, picture).await.unwrap();
    assert_eq!(k.get(xy, "/inspections/photos/{id}", &format!("/inspections/photos/{}", photo.id)).await.0, 404);
    k.cover("POST", "/inspections/findings/{id}/photos");
    let upload = reqwest::multipart::Form::new()
        .part("photo", reqwest::multipart::Part::bytes(vec![0xFF, 0xD8]).file_name("x.jpg"));
    let url = format!("{}/inspections/findings/{}/photos?csrf={xy_csrf}", s.base, finding.id);
    assert_eq!(xy.post(url).multipart(upload).send().await.unwrap().status(), 404);
    inspections::close_visit(app, &inspector, &visit).await.unwrap();
    let (st, body) = k.get(xy, "/inspections/rectifications", "/inspections/rectifications?show=open").await;
    assert_eq!(st, 200);
    assert!(!body.contains(&finding.id) && !body.contains("脱岗"), "{body}");
    // Nor in the inspections report, its figures' lists or its export.
    let today = app.today();
    let period = format!("from={today}&to={today}&compare=none&group_by=department");
    let (st, body) = k.get(xy, "/reports/inspections", &format!("/reports/inspections?{period}")).await;
    assert_eq!(st, 200);
    assert!(!body.contains("460100-D01"), "{body}");
    assert_no_outside("inspections report page", &body);
    let list = format!("/inspections/rectifications?from={today}&to={today}&figure=findings");
    let (st, body) = k.get(xy, "/inspections/rectifications", &list).await;
    assert_eq!(st, 200);
    assert!(!body.contains(&finding.id) && !body.contains("脱岗"), "{body}");
    let export = format!("/reports/inspections.xlsx?{period}");
    let (st, body) = k.post(xy, "/reports/inspections.xlsx", &export, &[("csrf", xy_csrf.as_str())]).await;
    assert_eq!((st, &body[..2]), (200, "PK"), "a workbook of the district's own findings");
    let url = format!("/inspections/findings/{}", finding.id);
    assert_eq!(k.get(xy, "/inspections/findings/{id}", &url).await.0, 404);
    let reply = [("csrf", xy_csrf.as_str()), ("step", "verify"), ("method", "call")];
    let url = format!("/inspections/findings/{}/steps", finding.id);
    assert_eq!(k.post(xy, "/inspections/findings/{id}/steps", &url, &reply).await.0, 404);
    // The district plans its own: the candidates and the venues drawn are its own.
    assert_eq!(k.get(xy, "/inspections/rounds/new", "/inspections/rounds/new").await.0, 200);
    let form = [
        ("csrf", xy_csrf.as_str()),
        ("month", month.as_str()),
        ("kind", "open"),
        ("inspectors", "jiancha"),
        ("quota_town", "2"),
    ];
    let (st, body) = k.post(xy, "/inspections/rounds", "/inspections/rounds", &form).await;
    assert_eq!(st, 303, "{body}");
    let rounds = inspections::rounds(app, &office).await.unwrap();
    let own = rounds.iter().find(|(r, _)| r.path.contains("460105")).map(|(r, _)| r.id.clone()).unwrap();
    let (st, page) = k.get(xy, "/inspections/rounds/{id}", &format!("/inspections/rounds/{own}")).await;
    assert_eq!(st, 200);
    assert_no_outside("a district's round", &page);
    let (st, json) =
        k.get(xy, "/inspections/rounds/{id}/draw.json", &format!("/inspections/rounds/{own}/draw.json")).await;
    assert_eq!(st, 200);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let codes: Vec<&str> = json["candidates"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
    assert!(!codes.is_empty() && codes.iter().all(|c| c.starts_with("460105")), "{codes:?}");
    assert_eq!(k.get(xy, "/inspections/checklist", "/inspections/checklist").await.0, 200);
    // The checklist is the city's: a district office reads it and cannot change it.
    let body = [("csrf", xy_csrf.as_str()), ("body", "name = \"区\"\n[[item]]\ncode = \"a\"\nname = \"A\"\n")];
    assert_eq!(k.post(xy, "/inspections/checklist", "/inspections/checklist", &body).await.0, 403);
    assert_eq!(inspections::checklist(app, "service_hall").await.unwrap().0, 0, "unchanged");
}

/// Bulletins: the city's is none of a district's business until it is published; the public
/// reaches a published one and the photos it shows, nothing else.
pub(super) async fn bulletins(k: &mut Check<'_>, c: &Ctx<'_>) {
    use oversight_app::bulletins::{self, BulletinEdit};
    use oversight_domain::bulletin::BulletinStep;

    let Ctx { s, app, xy, xy_csrf, anon, .. } = c;
    let month = app.today().format("%Y-%m").to_string();
    let office = oversight_testkit::login(app, &s.accounts, "xiaoneng").await;
    let city = bulletins::draft_bulletin(app, &office, &month).await.unwrap();
    let v = bulletins::bulletin_view(app, &office, &city).await.unwrap();
    // The city's round (above) left a finding with a photo this month: the bulletin shows it.
    let photo = v.photos.first().map(|(p, _)| p.id.clone()).expect("a photo to choose");
    let edit = BulletinEdit {
        title: v.row.title.clone(),
        intro: v.row.intro.clone(),
        closing: v.row.closing.clone(),
        findings: v.candidates.iter().map(|(l, _)| l.finding_id.clone()).collect(),
        photos: vec![photo.clone()],
        redraft: false,
    };
    bulletins::save_bulletin(app, &office, &city, &edit).await.unwrap();
    let (st, body) = k.get(xy, "/inspections/bulletins", "/inspections/bulletins").await;
    assert_eq!(st, 200);
    assert!(!body.contains(&city), "the city's bulletin is not the district's");
    assert_eq!(k.get(anon, "/inspections/bulletins", "/inspections/bulletins").await.0, 303);
    for (route, url) in [
        ("/inspections/bulletins/{id}", format!("/inspections/bulletins/{city}")),
        ("/inspections/bulletins/{id}/print", format!("/inspections/bulletins/{city}/print")),
        ("/inspections/bulletins/{id}/docx", format!("/inspections/bulletins/{city}/docx")),
    ] {
        assert_eq!(k.get(xy, route, &url).await.0, 404, "{url}");
    }
    let save = [("csrf", xy_csrf.as_str()), ("title", "改"), ("intro", "改"), ("closing", "改")];
    let url = format!("/inspections/bulletins/{city}");
    assert_eq!(k.post(xy, "/inspections/bulletins/{id}", &url, &save).await.0, 404);
    let approve = [("csrf", xy_csrf.as_str()), ("step", "approve")];
    let url = format!("/inspections/bulletins/{city}/steps");
    assert_eq!(k.post(xy, "/inspections/bulletins/{id}/steps", &url, &approve).await.0, 404);
    assert_eq!(bulletins::bulletin_view(app, &office, &city).await.unwrap().row.title, v.row.title, "unchanged");
    // Unpublished, the public reaches neither the bulletin nor its photo.
    let public = crate::common::client();
    let url = format!("/public/bulletins/{city}");
    assert_eq!(k.get(&public, "/public/bulletins/{id}", &url).await.0, 404);
    let photo_url = format!("/public/bulletins/{city}/photos/{photo}");
    assert_eq!(k.get(&public, "/public/bulletins/{id}/photos/{photo}", &photo_url).await.0, 404);
    // The district drafts its own, from its own findings only.
    let draft = [("csrf", xy_csrf.as_str()), ("month", month.as_str())];
    let (st, body) = k.post(xy, "/inspections/bulletins", "/inspections/bulletins", &draft).await;
    assert_eq!(st, 303, "{body}");
    let own =
        bulletins::bulletins(app, &office).await.unwrap().into_iter().find(|b| b.path.contains("460105")).unwrap();
    let (st, page) = k.get(xy, "/inspections/bulletins/{id}", &format!("/inspections/bulletins/{}", own.id)).await;
    assert_eq!(st, 200);
    assert!(!page.contains("脱岗"), "the city's finding is not in the district's bulletin");
    assert_no_outside("a district's bulletin", &page);
    // Published, the city's bulletin and the photo it shows are the public's; no other photo is.
    for step in [BulletinStep::Approve, BulletinStep::Publish] {
        bulletins::bulletin_step(app, &office, &city, step).await.unwrap();
    }
    let (st, body) = k.get(&public, "/public/bulletins", "/public/bulletins").await;
    assert!(st == 200 && body.contains(&city), "{body}");
    assert_eq!(k.get(&public, "/public/bulletins/{id}", &url).await.0, 200);
    assert_eq!(k.get(&public, "/public/bulletins/{id}/photos/{photo}", &photo_url).await.0, 200);
    let other = format!("/public/bulletins/{city}/photos/{}", "0".repeat(32));
    assert_eq!(k.get(&public, "/public/bulletins/{id}/photos/{photo}", &other).await.0, 404);
    let (st, _) = k.get(xy, "/inspections/bulletins/{id}", &format!("/inspections/bulletins/{city}")).await;
    assert_eq!(st, 404, "published, it is the public's, not the district's to open as staff");
}

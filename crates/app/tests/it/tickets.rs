//! The historical work-order import and `report tickets`, on both backends, against a plain
//! recomputation of spec/metrics.md over the generated orders (written here, apart from the SQL).

use std::collections::BTreeMap;

use chrono::{Days, FixedOffset, NaiveDate, TimeZone};
use oversight_app::tickets::{self, TicketReport};
use oversight_app::{Actor, App, demo};
use oversight_store::tickets::TicketGroup;
use oversight_testkit::on_both_backends;
use serde_json::json;

on_both_backends!(legacy_orders_give_the_recomputed_kpis);

struct Order {
    no: String,
    channel: &'static str,
    kind: &'static str,
    received: NaiveDate,
    department: Option<&'static str>,
    venue: Option<&'static str>,
    closed: Option<NaiveDate>,
    satisfaction: Option<&'static str>,
}

fn generate() -> Vec<Order> {
    let mut seed = 2008u64;
    let mut next = move |n: u64| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let channels = ["phone", "web", "mobile", "letter", "visit", "open311"];
    let kinds = ["complaint", "report", "consultation", "suggestion", "help", "praise"];
    let departments = [None, Some("460100-D01"), Some("460100-D02"), Some("460105-D01")];
    let venues = [None, None, Some("460100-V"), Some("460105-V")];
    let satisfactions =
        [None, Some("satisfied"), Some("basically_satisfied"), Some("unsatisfied"), Some("unreachable")];
    (0..400)
        .map(|n| {
            let received = NaiveDate::from_ymd_opt(2008, 11, 1).unwrap() + Days::new(next(200));
            let closed = match next(4) {
                0 => None,
                _ => Some(received + Days::new(1 + next(40))),
            };
            Order {
                no: format!("2008-{n:06}"),
                channel: channels[next(6) as usize],
                kind: kinds[next(6) as usize],
                received,
                department: departments[next(4) as usize],
                venue: venues[next(4) as usize],
                closed,
                satisfaction: if closed.is_some() { satisfactions[next(5) as usize] } else { None },
            }
        })
        .collect()
}

fn line(o: &Order) -> String {
    let at = |d: NaiveDate, h: u32| {
        // 07:30 local is the day before in UTC: the local date must decide the period.
        FixedOffset::east_opt(8 * 3600)
            .unwrap()
            .from_local_datetime(&d.and_hms_opt(h, 30, 0).unwrap())
            .unwrap()
            .to_rfc3339()
    };
    let mut v = json!({"ticket_no": o.no, "channel": o.channel, "type": o.kind,
        "received_at": at(o.received, if o.no.ends_with('7') { 7 } else { 9 }), "summary": "来电反映"});
    if let Some(d) = o.department {
        v["subject_department_code"] = json!(d);
    }
    if let Some(x) = o.venue {
        v["subject_venue_code"] = json!(x);
    }
    if let Some(c) = o.closed {
        v["closed_at"] = json!(at(c, 7));
    }
    if let Some(s) = o.satisfaction {
        v["satisfaction"] = json!(s);
    }
    v.to_string()
}

/// spec/metrics.md, computed the plain way.
fn expected(orders: &[Order], from: NaiveDate, to: NaiveDate) -> (i64, i64, BTreeMap<String, i64>, i64, [i64; 4]) {
    let mine: Vec<&Order> = orders.iter().filter(|o| o.received >= from && o.received <= to).collect();
    let closed = mine.iter().filter(|o| o.closed.is_some_and(|c| c <= to)).count() as i64;
    let mut by_type: BTreeMap<String, i64> = ["complaint", "report", "consultation", "suggestion", "help", "praise"]
        .iter()
        .map(|k| (k.to_string(), 0))
        .collect();
    for o in &mine {
        *by_type.get_mut(o.kind).unwrap() += 1;
    }
    let venue_complaints = mine.iter().filter(|o| o.kind == "complaint" && o.venue.is_some()).count() as i64;
    let count = |s: &str| mine.iter().filter(|o| o.satisfaction == Some(s)).count() as i64;
    let visits = [count("satisfied"), count("basically_satisfied"), count("unsatisfied"), count("unreachable")];
    (mine.len() as i64, closed, by_type, venue_complaints, visits)
}

async fn legacy_orders_give_the_recomputed_kpis(app: App) {
    demo::load(&app).await.unwrap();
    let orders = generate();
    let mut lines: Vec<String> = orders.iter().map(line).collect();
    lines.push("{not json".into());
    lines.push(
        json!({"ticket_no": "bad-1", "channel": "phone", "type": "complaint",
        "received_at": "2008-12-01T09:00:00+08:00", "summary": "x", "subject_department_code": "999999"})
        .to_string(),
    );
    lines.push(
        json!({"ticket_no": "bad-2", "channel": "phone", "type": "complaint",
        "received_at": "2008-12-01T09:00:00+08:00", "summary": "x", "subject_venue_code": "460100-D01"})
        .to_string(),
    );
    let numbered = || lines.iter().enumerate().map(|(i, l)| (i + 1, l.as_str()));
    let report = tickets::import_tickets(&app, &Actor::cli(), numbered()).await.unwrap();
    assert_eq!(report.accepted, 400);
    let rejected: Vec<(usize, &str)> = report.rejected.iter().map(|e| (e.line, e.field.as_str())).collect();
    assert_eq!(rejected, [(401, ""), (402, "subject_department_code"), (403, "subject_venue_code")]);
    // Importing the export again changes nothing.
    let again = tickets::import_tickets(&app, &Actor::cli(), numbered()).await.unwrap();
    assert_eq!((again.accepted, again.duplicate), (0, 400));

    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    // Whole months, parts of months at either end, a single day, a period ending before many of
    // its orders closed (the tallies of closed orders must then count only closings up to `to`).
    for (from, to) in [
        ("2008-11-01", "2009-05-31"),
        ("2008-12-01", "2008-12-31"),
        ("2009-01-10", "2009-02-20"),
        ("2008-11-15", "2009-03-03"),
        ("2009-02-01", "2009-02-28"),
        ("2008-12-31", "2009-01-01"),
        ("2009-03-01", "2009-03-15"),
        ("2009-01-31", "2009-01-31"),
    ] {
        let (from, to) = (d(from), d(to));
        let r: TicketReport = tickets::ticket_report(&app, &Actor::cli(), from, to, None).await.unwrap();
        let (received, closed, by_type, venue_complaints, visits) = expected(&orders, from, to);
        assert!(received > 0 || (to - from).num_days() < 3, "{from}..{to} has orders");
        assert_eq!((r.received, r.closed, r.venue_complaints), (received, closed, venue_complaints), "{from}..{to}");
        assert_eq!(r.by_type, by_type);
        assert_eq!([r.satisfied, r.basically_satisfied, r.unsatisfied, r.unreachable], visits);
        let rated = visits[0] + visits[1] + visits[2];
        let rate = (rated > 0).then(|| (visits[0] + visits[1]) as f64 / rated as f64);
        assert_eq!(r.satisfaction_rate, rate);
        assert_eq!(r.completion_rate, (received > 0).then(|| closed as f64 / received as f64));
        // Groups add up to the total.
        for g in [TicketGroup::Type, TicketGroup::Channel, TicketGroup::Department] {
            let r = tickets::ticket_report(&app, &Actor::cli(), from, to, Some(g)).await.unwrap();
            assert_eq!(r.groups.iter().map(|g| g.received).sum::<i64>(), received);
            assert_eq!(r.groups.iter().map(|g| g.closed).sum::<i64>(), closed);
        }
    }
    let by_channel =
        tickets::ticket_report(&app, &Actor::cli(), d("2008-11-01"), d("2009-05-31"), Some(TicketGroup::Channel))
            .await
            .unwrap();
    let phone = by_channel.groups.iter().find(|g| g.key == "phone").unwrap();
    assert_eq!(phone.received, orders.iter().filter(|o| o.channel == "phone").count() as i64);
    assert_eq!(phone.name, "电话（963333）");
    assert!(tickets::parse_group_by("venue").is_err());
}

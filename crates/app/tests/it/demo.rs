//! The demo as `serve --demo` loads it: two years of archive behind the live month, so that the
//! report's comparison with last year, the hotline's figures and last year's evaluation have
//! records to show.

use chrono::{Datelike, NaiveDate};
use oversight_app::{Actor, App, cases, demo, evaluation, tickets};
use oversight_domain::access::Scope;
use oversight_domain::supervision::SubjectKind;

async fn the_demo_holds_two_years_and_last_years_evaluation(app: App) {
    let loaded = demo::load_all(&app).await.unwrap();
    let today = app.today();
    let live = today - chrono::Days::new(demo::LIVE_DAYS as u64);
    // Eight cases and four orders a working day over two years: about 490 working days.
    assert!((3600..4200).contains(&loaded.history_cases), "{} archive cases", loaded.history_cases);
    assert!((1800..2100).contains(&loaded.history_orders), "{} archive orders", loaded.history_orders);

    // This year so far beside the same days of last year: both sides counted.
    let jan1 = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap();
    let yesterday = today.pred_opt().unwrap();
    let cli = Actor::cli();
    let r = cases::compared_report(&app, &cli, jan1, yesterday, &[], None, cases::Compare::LastYear).await.unwrap();
    let last = r.previous.expect("compared with last year");
    assert!(last.total.settled > 1500, "last year's settled cases: {}", last.total.settled);
    assert!(last.total.overdue > 0 && last.total.overdue < last.total.settled / 5, "{:?}", last.total);
    assert!(r.current.total.settled > last.total.settled, "the live month adds to this year");
    let t = tickets::compared_ticket_report(&app, &cli, jan1, yesterday, None, cases::Compare::LastYear).await.unwrap();
    let last_orders = t.previous.expect("compared with last year");
    // Closed within the period: all but those received in its last days.
    assert!(last_orders.received > 700 && last_orders.closed > last_orders.received * 9 / 10, "{last_orders:?}");
    assert!(last_orders.unsatisfied > 0 && last_orders.satisfied > last_orders.unsatisfied);

    // The archive was loaded as history: no late report was taken for the years between its
    // events and the import, and none of its cases raised an alert.
    let alerts =
        oversight_store::supervision::alerts(&app.db, &Scope::All, &Default::default(), 100_000).await.unwrap();
    let archived = format!("DEMO{}", live.format("%Y%m%d"));
    let stray: Vec<_> = alerts
        .iter()
        .filter(|a| a.subject_kind == SubjectKind::Case && a.subject_id < archived)
        .map(|a| (&a.subject_id, &a.kind))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
    assert!(
        alerts.iter().any(|a| a.subject_kind == SubjectKind::Case && a.subject_id >= archived),
        "the live month has its alerts"
    );

    // Last year's evaluation: published, an appeal of 市发改委's upheld, published again.
    let published = evaluation::published(&app).await.unwrap();
    let year = today.year() - 1;
    let of_last_year: Vec<_> = published
        .iter()
        .filter(|r| {
            r.from_day == NaiveDate::from_ymd_opt(year, 1, 1).unwrap()
                && r.to_day == NaiveDate::from_ymd_opt(year, 12, 31).unwrap()
        })
        .collect();
    assert_eq!(of_last_year.len(), 1, "one result of last year in force");
    let in_force = of_last_year[0];
    let first = in_force.supersedes.as_deref().expect("published again after the appeal");
    let first = oversight_store::evaluations::result(&app.db, first).await.unwrap().expect("the first publication");
    assert!(first.superseded);
    assert_ne!(first.result, in_force.result, "the upheld appeal changed the result");
}

oversight_testkit::on_both_backends!(the_demo_holds_two_years_and_last_years_evaluation);

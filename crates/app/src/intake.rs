//! Group commit of new work orders. Orders checked and prepared by their callers are written by
//! one task, as many as are waiting in one transaction: the numbers of the day in one statement,
//! the orders, their first steps and their audit rows in multi-row statements. Each caller gets
//! its own answer; a batch that fails is retried order by order, so one bad order never sinks
//! the others.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use oversight_store::Db;
use oversight_store::audit::{self, NewAudit};
use oversight_store::orders::{self as store, OrderRow, StepRow};
use tokio::sync::{mpsc, oneshot};

use crate::AppError;

/// A prepared order: everything but its number.
pub(crate) struct Prepared {
    /// `YYYYMMDD`, local: the day the number is taken from.
    pub day: String,
    pub row: OrderRow,
    pub step: StepRow,
    pub actor: String,
    pub detail: serde_json::Value,
    pub at: DateTime<Utc>,
}

struct Job {
    order: Prepared,
    reply: oneshot::Sender<Result<String, AppError>>,
}

/// The queue of orders waiting to be written; the writer starts with the first order.
#[derive(Default)]
pub struct IntakeQueue(OnceLock<mpsc::Sender<Job>>);

/// The most orders written in one transaction.
const BATCH: usize = 128;

impl IntakeQueue {
    /// Writes the order (in a batch with whatever else is waiting) and returns its number.
    pub(crate) async fn submit(&self, db: &Db, order: Prepared) -> Result<String, AppError> {
        let sender = self.0.get_or_init(|| {
            let (tx, rx) = mpsc::channel(4 * BATCH);
            tokio::spawn(writer(db.clone(), rx));
            tx
        });
        let (reply, answer) = oneshot::channel();
        sender.send(Job { order, reply }).await.map_err(|_| AppError::fault("the work-order writer has stopped"))?;
        answer.await.map_err(|_| AppError::fault("the work-order writer dropped an order unanswered"))?
    }
}

async fn writer(db: Db, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut orders: Vec<&mut Prepared> = batch.iter_mut().map(|j| &mut j.order).collect();
        match write(&db, &mut orders).await {
            Ok(()) => {
                for job in batch {
                    let no = job.order.row.ticket_no.clone();
                    let _ = job.reply.send(Ok(no));
                }
            }
            Err(_) if batch.len() > 1 => {
                for mut job in batch {
                    let result = write(&db, &mut [&mut job.order]).await.map(|()| job.order.row.ticket_no.clone());
                    let _ = job.reply.send(result);
                }
            }
            // A batch of one: its own error, cause and all, goes back to it.
            Err(e) => {
                if let Some(job) = batch.pop() {
                    let _ = job.reply.send(Err(e));
                }
            }
        }
    }
}

/// Numbers and stores the orders in one transaction.
async fn write(db: &Db, orders: &mut [&mut Prepared]) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    // Numbers: one statement per day present (one, except around midnight).
    let mut days: Vec<String> = orders.iter().map(|o| o.day.clone()).collect();
    days.sort();
    days.dedup();
    for day in days {
        let count = orders.iter().filter(|o| o.day == day).count() as i64;
        let last = store::take_numbers(&mut tx, &day, count).await?;
        let mut n = last - count;
        for o in orders.iter_mut().filter(|o| o.day == day) {
            n += 1;
            let no = format!("H{day}{n:05}");
            o.row.ticket_no = no.clone();
            o.step.ticket_no = no;
        }
    }
    let rows: Vec<OrderRow> = orders.iter().map(|o| o.row.clone()).collect();
    store::insert_many(&mut tx, &rows).await?;
    let steps: Vec<StepRow> = orders.iter().map(|o| o.step.clone()).collect();
    store::insert_steps(&mut tx, &steps).await?;
    let audits: Vec<NewAudit<'_>> = orders
        .iter()
        .map(|o| NewAudit {
            actor: &o.actor,
            action: "order.create",
            target: &o.row.ticket_no,
            path: &o.row.department_path,
            detail: o.detail.clone(),
        })
        .collect();
    let at = orders.iter().map(|o| o.at).max().unwrap_or_else(Utc::now);
    audit::append_many(&mut tx, &audits, at).await?;
    tx.commit().await?;
    Ok(())
}

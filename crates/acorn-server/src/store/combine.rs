//! Group commit of customer creates, on both engines.
//!
//! A create is six statements (begin, insert, counters, event, stored answer, commit), each a
//! round trip, and its commit an fsync. SQLite has one writer, so those round trips queue on
//! the one write path; on PostgreSQL every create's transaction holds its counter row until its
//! own fsync. Creates that arrive while a group is being written wait in a queue; a writer then
//! writes them all in one transaction: one multi-row insert per run of creates giving the same
//! fields, a stored answer per keyed create, one counters statement, one multi-row event insert,
//! one commit. SQLite has one writer task (its one write connection); PostgreSQL a few, so one
//! group is collected while others commit. Each request still gets its own answer (a duplicate
//! email fails only its own create), and only after the commit. When a group's transaction
//! fails as a whole (a bad create, a PostgreSQL deadlock between groups), nothing of it was
//! written and each of its creates is written again alone, so one bad create fails only itself.
//! Nothing here outlives a request: a create waits for its answer, as it would for its own
//! transaction.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::pool::Pool;
use acorn_types::EventKind;
use acorn_types::{Customer, CustomerId, CustomerPatch, MerchantId};
use tokio::sync::{mpsc, oneshot, Mutex};

use super::counts::{apply_counts, CountDelta};
use super::customers::account_created;
use super::events::insert_customer_events;
use super::idempotency::KeyAnswer;
use super::new_rows::{insert_new_rows, NewRow};
use super::{Dialect, StoreError};

/// The most creates written in one transaction.
const MAX_GROUP: usize = 64;
/// Creates waiting for the writer before new ones wait to be queued.
const QUEUE: usize = 1024;

/// One create waiting to be written.
struct Job {
    merchant: MerchantId,
    patch: CustomerPatch,
    now: i64,
    record: Option<KeyAnswer>,
    reply: oneshot::Sender<Result<Customer, StoreError>>,
}

/// The handle requests use; the writing happens in one background task per store.
#[derive(Debug, Clone)]
pub(crate) struct Combiner {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").finish_non_exhaustive()
    }
}

impl Combiner {
    /// Starts `writers` writer tasks on `write` (the store's write pool; on SQLite its one
    /// connection, so one writer).
    pub(crate) fn start(write: Pool, dialect: Dialect, writers: usize) -> Self {
        let (jobs, rx) = mpsc::channel(QUEUE);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..writers.max(1) {
            tokio::spawn(run(write.clone(), dialect, rx.clone()));
        }
        Combiner { jobs }
    }

    /// Creates a customer in the next group; `record` stores the request's idempotent answer
    /// in the same transaction.
    pub(crate) async fn create(
        &self,
        merchant: MerchantId,
        patch: &CustomerPatch,
        now: i64,
        record: Option<KeyAnswer>,
    ) -> Result<Customer, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            merchant,
            patch: patch.clone(),
            now,
            record,
            reply,
        };
        let stopped = || StoreError::Other(anyhow::anyhow!("the create writer has stopped"));
        self.jobs.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run(write: Pool, dialect: Dialect, rx: Arc<Mutex<mpsc::Receiver<Job>>>) {
    loop {
        // One writer collects the next group while the others write theirs.
        let mut jobs = Vec::with_capacity(MAX_GROUP);
        if rx.lock().await.recv_many(&mut jobs, MAX_GROUP).await == 0 {
            return;
        }
        match write_group(&write, dialect, &jobs).await {
            Ok(results) => reply(jobs, results),
            Err(_) if jobs.len() > 1 => {
                // Nothing of the group was written: each create alone, so a bad one (or a
                // deadlock between two groups) fails only itself.
                for job in jobs {
                    let result = write_group(&write, dialect, std::slice::from_ref(&job))
                        .await
                        .and_then(|mut r| r.pop().unwrap_or(Err(StoreError::NotFound)));
                    let _ = job.reply.send(result);
                }
            }
            Err(e) => {
                let message = format!("{e:#}");
                for job in jobs {
                    let _ = job
                        .reply
                        .send(Err(StoreError::Other(anyhow::anyhow!(message.clone()))));
                }
            }
        }
    }
}

fn reply(jobs: Vec<Job>, results: Vec<Result<Customer, StoreError>>) {
    for (job, result) in jobs.into_iter().zip(results) {
        let _ = job.reply.send(result);
    }
}

/// Writes a group in one transaction; the outer error means nothing was committed.
async fn write_group(
    write: &Pool,
    dialect: Dialect,
    jobs: &[Job],
) -> Result<Vec<Result<Customer, StoreError>>, StoreError> {
    let mut tx = match dialect {
        Dialect::Sqlite => write.begin(Some("BEGIN IMMEDIATE")).await?,
        Dialect::Postgres => write.begin(None).await?,
    };
    let ids: Vec<CustomerId> = jobs.iter().map(|_| CustomerId::new()).collect();
    let rows: Vec<NewRow<'_>> = jobs
        .iter()
        .zip(&ids)
        .map(|(job, id)| NewRow {
            merchant: job.merchant,
            id: *id,
            patch: &job.patch,
            now: job.now,
        })
        .collect();
    // A failing insert fails the group (run again create by create, see `run`).
    let created = insert_new_rows(&mut tx, &rows).await?;
    let mut results = Vec::with_capacity(jobs.len());
    let mut counts: BTreeMap<MerchantId, CountDelta> = BTreeMap::new();
    let mut events = Vec::new();
    for ((job, id), customer) in jobs.iter().zip(&ids).zip(created) {
        let delta = counts.entry(job.merchant).or_default();
        match customer {
            Some(customer) => {
                account_created(&customer, *id, job.merchant, job.now, delta, &mut events);
                if let Some(answer) = &job.record {
                    answer.record(&mut tx, &customer).await?;
                }
                results.push(Ok(customer));
            }
            // An email already taken (by a stored customer or an earlier create of the group)
            // inserted nothing.
            None => results.push(Err(StoreError::Duplicate("email"))),
        }
    }
    for (merchant, delta) in counts {
        apply_counts(&mut tx, merchant, delta).await?;
    }
    insert_customer_events(&mut tx, EventKind::CustomerCreated, &events).await?;
    tx.commit().await?;
    Ok(results)
}

//! Group commit of customer creates on SQLite.
//!
//! SQLite has one writer, and every statement is a round trip between the request's task and
//! the connection's thread, so a create costs its six statements (begin, insert, counters,
//! event, stored answer, commit) of latency on the one write path. Creates that arrive while
//! another group is being written wait in a queue; the combiner then writes them all in one
//! transaction: an insert each (plus its stored answer when keyed), one counters statement,
//! one multi-row event insert, one commit. Each request still gets its own answer (a duplicate
//! email fails only its own create), and only after the commit. Nothing here outlives a
//! request: a create waits for its answer, as it would for its own transaction.

use std::collections::BTreeMap;

use super::pool::Pool;
use acorn_types::EventKind;
use acorn_types::{Customer, CustomerId, CustomerPatch, MerchantId};
use tokio::sync::{mpsc, oneshot};

use super::counts::{apply_counts, CountDelta};
use super::customers::insert_new_customer;
use super::events::insert_customer_events;
use super::idempotency::KeyAnswer;
use super::StoreError;

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
    /// Starts the writer task on `write` (the store's single-connection write pool).
    pub(crate) fn start(write: Pool) -> Self {
        let (jobs, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(write, rx));
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

async fn run(write: Pool, mut rx: mpsc::Receiver<Job>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while rx.recv_many(&mut group, MAX_GROUP).await > 0 {
        let jobs = std::mem::take(&mut group);
        match write_group(&write, &jobs).await {
            Ok(results) => {
                for (job, result) in jobs.into_iter().zip(results) {
                    let _ = job.reply.send(result);
                }
            }
            Err(e) => {
                // The transaction failed as a whole: nothing of the group was written.
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

/// Writes a group in one transaction; the outer error means nothing was committed.
async fn write_group(
    write: &Pool,
    jobs: &[Job],
) -> Result<Vec<Result<Customer, StoreError>>, StoreError> {
    let mut tx = write.begin(Some("BEGIN IMMEDIATE")).await?;
    let mut results = Vec::with_capacity(jobs.len());
    let mut counts: BTreeMap<MerchantId, CountDelta> = BTreeMap::new();
    let mut events = Vec::new();
    for job in jobs {
        let delta = counts.entry(job.merchant).or_default();
        // On SQLite a failing statement undoes only itself, so one bad create does not spoil
        // the group; an email already taken inserts nothing.
        let created = insert_new_customer(
            &mut tx,
            job.merchant,
            CustomerId::new(),
            &job.patch,
            job.now,
            delta,
            &mut events,
        )
        .await;
        let customer = match created {
            Ok(Some(customer)) => customer,
            Ok(None) => {
                results.push(Err(StoreError::Duplicate("email")));
                continue;
            }
            Err(e) => {
                results.push(Err(e));
                continue;
            }
        };
        if let Some(answer) = &job.record {
            answer.record(&mut tx, &customer).await?;
        }
        results.push(Ok(customer));
    }
    for (merchant, delta) in counts {
        apply_counts(&mut tx, merchant, delta).await?;
    }
    insert_customer_events(&mut tx, EventKind::CustomerCreated, &events).await?;
    tx.commit().await?;
    Ok(results)
}

//! Group commit of customer creates on SQLite.
//!
//! SQLite has one writer, and every statement is a round trip between the request's task and
//! the connection's thread, so a create costs its six statements (begin, insert, counters,
//! event, stored answer, commit) of latency on the one write path. Creates that arrive while
//! another group is being written wait in a queue; the combiner then writes them all in one
//! transaction: one multi-row insert per run of creates giving the same fields (one insert
//! each if that statement fails), a stored answer per keyed create, one counters statement,
//! one multi-row event insert, one commit. Each request still gets its own answer (a duplicate
//! email fails only its own create), and only after the commit. Nothing here outlives a
//! request: a create waits for its answer, as it would for its own transaction.

use std::collections::{BTreeMap, HashMap};

use super::pool::Pool;
use acorn_types::EventKind;
use acorn_types::{Customer, CustomerId, CustomerPatch, MerchantId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use tokio::sync::{mpsc, oneshot};

use super::counts::{apply_counts, CountDelta};
use super::customers::{
    account_created, bare, customer_from_row, insert_head, push_new_row, COLUMNS,
};
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
    let ids: Vec<CustomerId> = jobs.iter().map(|_| CustomerId::new()).collect();
    let mut created = Vec::with_capacity(jobs.len());
    let mut start = 0;
    while start < jobs.len() {
        let fields = field_names(&jobs[start].patch);
        let len = jobs[start..]
            .iter()
            .take_while(|j| field_names(&j.patch) == fields)
            .count();
        let (run, run_ids) = (&jobs[start..start + len], &ids[start..start + len]);
        // On SQLite a failing statement undoes only itself: when the run's statement fails,
        // each create is tried alone, so one bad create does not spoil the others.
        match insert_run(&mut tx, run, run_ids).await {
            Ok(rows) => created.extend(rows.into_iter().map(Ok)),
            Err(_) if len > 1 => {
                for (job, id) in run.iter().zip(run_ids) {
                    let one = insert_run(&mut tx, std::slice::from_ref(job), &[*id]).await;
                    created.push(one.map(|mut rows| rows.pop().flatten()));
                }
            }
            Err(e) => created.push(Err(e)),
        }
        start += len;
    }
    let mut results = Vec::with_capacity(jobs.len());
    let mut counts: BTreeMap<MerchantId, CountDelta> = BTreeMap::new();
    let mut events = Vec::new();
    for ((job, id), customer) in jobs.iter().zip(&ids).zip(created) {
        let delta = counts.entry(job.merchant).or_default();
        match customer {
            Ok(Some(customer)) => {
                account_created(&customer, *id, job.merchant, job.now, delta, &mut events);
                if let Some(answer) = &job.record {
                    answer.record(&mut tx, &customer).await?;
                }
                results.push(Ok(customer));
            }
            // An email already taken (by a stored customer or an earlier create of the group)
            // inserted nothing.
            Ok(None) => results.push(Err(StoreError::Duplicate("email"))),
            Err(e) => results.push(Err(e)),
        }
    }
    for (merchant, delta) in counts {
        apply_counts(&mut tx, merchant, delta).await?;
    }
    insert_customer_events(&mut tx, EventKind::CustomerCreated, &events).await?;
    tx.commit().await?;
    Ok(results)
}

fn field_names(patch: &CustomerPatch) -> Vec<&'static str> {
    patch.values().iter().map(|(spec, _)| spec.name).collect()
}

/// Inserts creates giving the same fields in one statement: each one's customer, or `None`
/// where its email was taken.
async fn insert_run(
    conn: &mut AnyConnection,
    jobs: &[Job],
    ids: &[CustomerId],
) -> Result<Vec<Option<Customer>>, StoreError> {
    let Some(first) = jobs.first() else {
        return Ok(vec![]);
    };
    let mut sql = insert_head(&first.patch);
    for (i, (job, id)) in jobs.iter().zip(ids).enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        push_new_row(&mut sql, job.merchant, *id, &job.patch, job.now)?;
    }
    // A new customer has no registrations: the inserted row is the whole customer.
    sql.push(" ON CONFLICT DO NOTHING RETURNING ")
        .push(&COLUMNS);
    let (text, args) = sql.into_parts()?;
    let mut rows: HashMap<String, AnyRow> = HashMap::new();
    for row in sqlx::query_with(&text, args).fetch_all(&mut *conn).await? {
        rows.insert(row.try_get("id")?, row);
    }
    jobs.iter()
        .zip(ids)
        .map(|(job, id)| {
            let Some(row) = rows.remove(&bare(*id)) else {
                return Ok(None);
            };
            let key = crate::crypto::data_key(job.merchant)?;
            Ok(Some(customer_from_row(&row, &key)?))
        })
        .collect()
}

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
//! transaction. A writer keeps its connection for the groups already queued (a few in a row,
//! then others get the connection): sqlx pings a connection given back to its pool before the
//! next checkout. Each row and its event are sealed in the create's own request
//! (`NewRow::prepare`), not in the writer. On SQLite a group is two queries: `BEGIN` with the
//! inserts, and the counters, events and notifications with the `COMMIT`. With `synchronous=FULL` the writer commits its groups without the fsync and a
//! [`Syncer`] fsyncs the WAL before the answers go (one fsync for the groups that committed
//! meanwhile, while the writer writes the next): see `wal_sync`.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::pool::Pool;
use acorn_types::EventKind;
use acorn_types::{Customer, CustomerId, CustomerPatch, MerchantId};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, Connection};
use tokio::sync::{mpsc, oneshot, Mutex};

use super::counts::{push_counts, CountDelta};
use super::events::{push_sealed_events, CustomerEvent, SealedEvent};
use super::idempotency::KeyAnswer;
use super::new_rows::{created, push_new_rows, NewRow};
use super::sql::Script;
use super::wal_sync::Syncer;
use super::{Dialect, StoreError};
use acorn_types::events::customer_data;

/// The most creates written in one transaction.
const MAX_GROUP: usize = 64;
/// Groups a writer writes in a row on one checkout of the write connection.
const HOLD: usize = 8;
/// Creates waiting for the writer before new ones wait to be queued.
const QUEUE: usize = 1024;

/// One create waiting to be written.
struct Job {
    merchant: MerchantId,
    /// The row, sealed and laid out in the request (not in the writer).
    row: NewRow,
    /// Its `customer.created` event, sealed too.
    event: SealedEvent,
    record: Option<KeyAnswer>,
    reply: oneshot::Sender<Result<Customer, StoreError>>,
}

/// The handle requests use; the writing happens in one background task per store.
#[derive(Debug, Clone)]
pub(crate) struct Combiner {
    jobs: mpsc::Sender<Job>,
    syncer: Option<Syncer>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").finish_non_exhaustive()
    }
}

impl Combiner {
    /// Starts `writers` writer tasks on `write` (the store's write pool; on SQLite its one
    /// connection, so one writer). With `syncer` (SQLite with `synchronous=FULL` only), groups
    /// are committed with `synchronous=NORMAL` and answered once `syncer` has flushed them.
    pub(crate) fn start(
        write: Pool,
        dialect: Dialect,
        writers: usize,
        syncer: Option<Syncer>,
    ) -> Self {
        let (jobs, rx) = mpsc::channel(QUEUE);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..writers.max(1) {
            tokio::spawn(run(write.clone(), dialect, rx.clone(), syncer.clone()));
        }
        Combiner { jobs, syncer }
    }

    /// How many times the WAL was fsynced for groups of creates (`None` when each commit
    /// fsyncs itself, or on PostgreSQL).
    pub(crate) fn wal_flushes(&self) -> Option<u64> {
        self.syncer.as_ref().map(Syncer::flushes)
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
        let row = NewRow::prepare(merchant, CustomerId::new(), patch, now)?;
        let event = CustomerEvent {
            merchant,
            customer: row.id,
            data: customer_data(&row.customer, None, &[]).to_string(),
            at: now,
        }
        .seal()?;
        let job = Job {
            merchant,
            row,
            event,
            record,
            reply,
        };
        let stopped = || StoreError::Other(anyhow::anyhow!("the create writer has stopped"));
        self.jobs.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run(
    write: Pool,
    dialect: Dialect,
    rx: Arc<Mutex<mpsc::Receiver<Job>>>,
    syncer: Option<Syncer>,
) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_GROUP);
    loop {
        // One writer collects the next group while the others write theirs.
        if jobs.is_empty() && rx.lock().await.recv_many(&mut jobs, MAX_GROUP).await == 0 {
            return;
        }
        let mut conn = match write.acquire().await {
            Ok(conn) => conn,
            Err(e) => {
                fail_all(std::mem::take(&mut jobs), &StoreError::from(e));
                continue;
            }
        };
        // The connection is kept for the groups already waiting, at most HOLD in a row (then
        // other writers get their turn): a connection given back to sqlx's pool is pinged by a
        // spawned task before it can be checked out again, and the next group would wait.
        let mut failed = None;
        for held in 0..HOLD {
            let relax = syncer.is_some() && held == 0;
            match write_group(&mut conn, dialect, relax, &jobs).await {
                Ok(results) => answer(syncer.as_ref(), std::mem::take(&mut jobs), results),
                Err(e) => {
                    abandon(&mut conn, dialect).await;
                    failed = Some(e);
                    break;
                }
            }
            jobs = waiting(&rx).await;
            if jobs.is_empty() {
                break;
            }
        }
        if syncer.is_some() {
            // Every other write on the connection fsyncs its own commit.
            let restored = sqlx::query("PRAGMA synchronous = FULL")
                .execute(&mut *conn)
                .await;
            if let Err(e) = restored {
                tracing::error!(error = %e, "restoring synchronous = FULL; closing the connection");
                conn.close_on_drop();
            }
        }
        drop(conn);
        if let Some(e) = failed {
            one_by_one(&write, dialect, std::mem::take(&mut jobs), e).await;
        }
    }
}

/// Sends a committed group's answers: at once, or once `syncer` has made the commit durable.
fn answer(syncer: Option<&Syncer>, jobs: Vec<Job>, results: Vec<Result<Customer, StoreError>>) {
    match syncer {
        None => reply(jobs, results),
        Some(syncer) => syncer.after_sync(Box::new(move |outcome| match outcome {
            Ok(()) => reply(jobs, results),
            Err(e) => fail_all(
                jobs,
                &StoreError::Other(anyhow::anyhow!(
                    "the create was committed but not confirmed on disk: {e}"
                )),
            ),
        })),
    }
}

/// The creates already queued (at most a group), without waiting for more.
async fn waiting(rx: &Mutex<mpsc::Receiver<Job>>) -> Vec<Job> {
    let mut jobs = Vec::with_capacity(MAX_GROUP);
    let mut rx = rx.lock().await;
    while jobs.len() < MAX_GROUP {
        match rx.try_recv() {
            Ok(job) => jobs.push(job),
            Err(_) => break,
        }
    }
    jobs
}

/// After a group failed as a whole (nothing of it was written): each create alone, on a
/// connection of its own, so a bad one (or a deadlock between two groups) fails only itself.
async fn one_by_one(write: &Pool, dialect: Dialect, jobs: Vec<Job>, error: StoreError) {
    if jobs.len() == 1 {
        return fail_all(jobs, &error);
    }
    for job in jobs {
        let result = match write.acquire().await {
            Ok(mut conn) => {
                let written = write_group(&mut conn, dialect, false, std::slice::from_ref(&job));
                let written = written.await;
                if written.is_err() {
                    abandon(&mut conn, dialect).await;
                }
                written.and_then(|mut r| r.pop().unwrap_or(Err(StoreError::NotFound)))
            }
            Err(e) => Err(StoreError::from(e)),
        };
        let _ = job.reply.send(result);
    }
}

/// Answers every create of a group with `error`.
fn fail_all(jobs: Vec<Job>, error: &StoreError) {
    let message = format!("{error:#}");
    for job in jobs {
        let _ = job
            .reply
            .send(Err(StoreError::Other(anyhow::anyhow!(message.clone()))));
    }
}

fn reply(jobs: Vec<Job>, results: Vec<Result<Customer, StoreError>>) {
    for (job, result) in jobs.into_iter().zip(results) {
        let _ = job.reply.send(result);
    }
}

/// Writes a group in one transaction; the outer error means nothing was committed (on SQLite
/// the caller then [`abandon`]s what may be left open). On SQLite the transaction is opened in
/// the round trip of the inserts and committed in that of the other statements (two round
/// trips to sqlx's worker thread in all); `relax` first turns the commit's fsync off (SQLite
/// refuses to change `synchronous` inside a transaction). PostgreSQL runs each statement on its
/// own, in a transaction of sqlx's.
async fn write_group(
    conn: &mut AnyConnection,
    dialect: Dialect,
    relax: bool,
    jobs: &[Job],
) -> Result<Vec<Result<Customer, StoreError>>, StoreError> {
    match dialect {
        Dialect::Postgres => {
            let mut tx = conn.begin().await?;
            let results = group_statements(&mut tx, jobs, None).await?;
            tx.commit().await?;
            Ok(results)
        }
        Dialect::Sqlite => {
            let begin = if relax {
                "PRAGMA synchronous = NORMAL; BEGIN IMMEDIATE"
            } else {
                "BEGIN IMMEDIATE"
            };
            group_statements(conn, jobs, Some(begin)).await
        }
    }
}

/// The group's statements; with `begin`, they open (with it) and commit their transaction.
async fn group_statements(
    conn: &mut AnyConnection,
    jobs: &[Job],
    begin: Option<&str>,
) -> Result<Vec<Result<Customer, StoreError>>, StoreError> {
    let rows: Vec<&NewRow> = jobs.iter().map(|job| &job.row).collect();
    let mut script = Script::new(conn.backend_name());
    if let Some(begin) = begin {
        script.statement().push(begin);
    }
    push_new_rows(&mut script, &rows);
    // A failing insert fails the group (run again create by create, see `run`).
    let returned = script.run(&mut *conn).await?;
    let mut results = Vec::with_capacity(jobs.len());
    let mut counts: BTreeMap<MerchantId, CountDelta> = BTreeMap::new();
    let mut events = Vec::new();
    for (job, customer) in jobs.iter().zip(created(&rows, &returned)?) {
        match customer {
            Some(customer) => {
                let delta = counts.entry(job.merchant).or_default();
                delta.add(None, Some(&customer));
                events.push(job.event.clone());
                if let Some(answer) = &job.record {
                    answer.record(&mut *conn, &customer).await?;
                }
                results.push(Ok(customer));
            }
            // An email already taken (by a stored customer or an earlier create of the group)
            // inserted nothing.
            None => results.push(Err(StoreError::Duplicate("email"))),
        }
    }
    // The counters, the marks, the events and their notifications: on SQLite one query, with
    // the commit.
    let mut script = Script::new(conn.backend_name());
    for (merchant, delta) in counts {
        push_counts(&mut script, merchant, delta);
    }
    push_sealed_events(
        &mut script,
        EventKind::CustomerCreated,
        events.into_iter().collect(),
    );
    if begin.is_some() {
        script.statement().push("COMMIT");
    }
    script.run(conn).await?;
    Ok(results)
}

/// After a failed group on SQLite: rolls back what it may have left open (an error saying no
/// transaction is open is the expected answer when nothing was). A connection that cannot be
/// rolled back is closed, never handed out in a transaction.
async fn abandon(conn: &mut PoolConnection<Any>, dialect: Dialect) {
    if dialect != Dialect::Sqlite {
        return;
    }
    if let Err(e) = sqlx::query("ROLLBACK").execute(&mut **conn).await {
        if !e.to_string().contains("no transaction is active") {
            tracing::error!(error = %e, "rolling back a failed group; closing the connection");
            conn.close_on_drop();
        }
    }
}

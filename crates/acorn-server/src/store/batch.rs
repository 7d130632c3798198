//! Batch create: many customers, each with its own `Idempotency-Key`, in one transaction.
//!
//! Every item gets the answer `POST /api/v1/customers` would have given it, and its key is
//! claimed and completed in the same transaction as the customer, exactly as on the single
//! route (the keys share one table, so a key replays across the two routes). One transaction
//! per batch instead of two per customer is what makes bulk imports fast on SQLite's single
//! writer: a batch of 100 costs about 100 inserts plus five statements.

use std::collections::{BTreeSet, HashMap};

use acorn_types::{ApiResponse, CustomerPatch, MerchantId};
use anyhow::Context;
use sqlx::Row;

use super::customers::{apply_counts, insert_new_customer, CountDelta};
use super::events::{insert_customer_events, CustomerEvent, CATEGORY_REGISTRATION};
use super::sql::Sql;
use super::{Store, StoreError};

/// The route a batch item's key is recorded under: the single create's, so keys replay across
/// both routes.
pub const ITEM_ROUTE: &str = "/api/v1/customers";
const ITEM_METHOD: &str = "POST";

/// A finished answer for one item: what `POST /api/v1/customers` would have sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The response envelope, as JSON text.
    pub body: String,
    /// Whether it is the stored answer of an earlier use of the key.
    pub replayed: bool,
}

impl Answer {
    /// A fresh (not replayed) answer.
    pub fn new(status: u16, body: String) -> Self {
        Answer {
            status,
            body,
            replayed: false,
        }
    }
}

/// One validated item.
#[derive(Debug)]
pub struct BatchItem {
    /// The item's `Idempotency-Key` and the fingerprint of its customer object.
    pub key: Option<(String, String)>,
    /// The customer to create, or the refusal its validation produced.
    pub patch: Result<CustomerPatch, Answer>,
}

/// The fixed answers the store gives on the API's behalf.
#[derive(Debug)]
pub struct BatchAnswers {
    /// The success message (`"Customer created"`).
    pub created_msg: &'static str,
    /// The email is already taken.
    pub duplicate: Answer,
    /// The key was used with another route or body.
    pub mismatch: Answer,
    /// The key's first request is still running.
    pub in_flight: Answer,
}

/// Key lifetimes, in microseconds.
#[derive(Debug, Clone, Copy)]
pub struct KeyTimes {
    /// How long an unfinished claim blocks retries.
    pub lease: i64,
    /// How long a finished key is replayed.
    pub retention: i64,
}

/// What is known about a key while the batch runs.
enum KeyState {
    /// Ours to run (new, expired, or left unfinished by a dead process).
    Free,
    /// Finished, here or earlier.
    Done {
        same: bool,
        status: u16,
        body: String,
    },
    /// Another request is running it.
    Busy { same: bool },
}

impl Store {
    /// Creates the batch's customers in one transaction and returns one answer per item, in
    /// order. Only a database failure fails the whole batch (and then nothing is written).
    ///
    /// On PostgreSQL two batches inserting the same emails in opposite orders can deadlock;
    /// the database then aborts one, which is run again here (a few times) instead of failing.
    pub async fn create_customer_batch(
        &self,
        merchant: MerchantId,
        items: &[BatchItem],
        answers: &BatchAnswers,
        times: KeyTimes,
        now: i64,
    ) -> Result<Vec<Answer>, StoreError> {
        let mut tries = 0;
        loop {
            tries += 1;
            match self
                .create_customer_batch_once(merchant, items, answers, times, now)
                .await
            {
                Err(StoreError::Other(e)) if tries < 5 && is_deadlock(&e) => {
                    tracing::debug!(tries, "batch create deadlocked; running it again");
                    tokio::time::sleep(std::time::Duration::from_millis(
                        rand::random::<u64>() % 20,
                    ))
                    .await;
                }
                result => return result,
            }
        }
    }

    async fn create_customer_batch_once(
        &self,
        merchant: MerchantId,
        items: &[BatchItem],
        answers: &BatchAnswers,
        times: KeyTimes,
        now: i64,
    ) -> Result<Vec<Answer>, StoreError> {
        let mer = merchant.uuid().to_string();
        // Each key once, sorted, so that concurrent batches lock keys in the same order.
        let mut first_fp: HashMap<String, String> = HashMap::new();
        for item in items {
            if let Some((k, fp)) = &item.key {
                first_fp.entry(k.clone()).or_insert_with(|| fp.clone());
            }
        }
        let keys: BTreeSet<String> = first_fp.keys().cloned().collect();

        let mut tx = self.begin().await?;
        let mut state: HashMap<String, KeyState> = HashMap::new();
        if !keys.is_empty() {
            // Claim every new key; a concurrent claimer of the same key (PostgreSQL) waits for
            // our commit and then finds it finished.
            let claims = keys.iter().map(|k| (k.clone(), first_fp[k].clone(), None));
            let mut sql = key_rows(&mer, claims, times, now);
            sql.push(" ON CONFLICT (merchant_id, key) DO NOTHING RETURNING key");
            let (text, args) = sql.into_parts();
            for row in sqlx::query_with(&text, args).fetch_all(&mut *tx).await? {
                state.insert(row.try_get::<String, _>("key")?, KeyState::Free);
            }
            let taken: Vec<String> = keys
                .iter()
                .filter(|k| !state.contains_key(*k))
                .cloned()
                .collect();
            if !taken.is_empty() {
                let mut sql = Sql::new(
                    "SELECT key, method, route, fingerprint, status, response_status, response_body, \
                     locked_until, expires_at FROM idempotency_keys WHERE merchant_id = ",
                );
                sql.bind(mer.clone()).push(" AND key IN ").bind_list(&taken);
                sql.push(self.for_update());
                let (text, args) = sql.into_parts();
                for row in sqlx::query_with(&text, args).fetch_all(&mut *tx).await? {
                    let key: String = row.try_get("key")?;
                    let fp: String = row.try_get("fingerprint")?;
                    let same = row.try_get::<String, _>("method")? == ITEM_METHOD
                        && row.try_get::<String, _>("route")? == ITEM_ROUTE
                        && first_fp.get(&key) == Some(&fp);
                    let expired = row.try_get::<i64, _>("expires_at")? <= now;
                    let s = if expired {
                        KeyState::Free
                    } else if row.try_get::<String, _>("status")? == "completed" {
                        KeyState::Done {
                            same,
                            status: row
                                .try_get::<Option<i64>, _>("response_status")?
                                .and_then(|s| u16::try_from(s).ok())
                                .unwrap_or(200),
                            body: row
                                .try_get::<Option<String>, _>("response_body")?
                                .unwrap_or_default(),
                        }
                    } else if row.try_get::<i64, _>("locked_until")? > now {
                        KeyState::Busy { same }
                    } else {
                        KeyState::Free // its process died mid-request: take it over
                    };
                    state.insert(key, s);
                }
            }
        }

        let mut out = Vec::with_capacity(items.len());
        let mut counts = CountDelta::new();
        let mut events: Vec<CustomerEvent> = Vec::new();
        let mut finished: Vec<(String, String, Answer)> = Vec::new(); // key, fingerprint, answer
        for item in items {
            if let Some((key, fp)) = &item.key {
                // A key this batch already finished counts as finished with its first body.
                let same_as_first = first_fp.get(key) == Some(fp);
                match state.get(key) {
                    Some(KeyState::Done { same, status, body }) => {
                        out.push(if *same && same_as_first {
                            Answer {
                                status: *status,
                                body: body.clone(),
                                replayed: true,
                            }
                        } else {
                            answers.mismatch.clone()
                        });
                        continue;
                    }
                    Some(KeyState::Busy { same }) => {
                        out.push(if *same && same_as_first {
                            answers.in_flight.clone()
                        } else {
                            answers.mismatch.clone()
                        });
                        continue;
                    }
                    // Purged between claim and read: it is free again, but not ours; let the
                    // client retry.
                    None => {
                        out.push(answers.in_flight.clone());
                        continue;
                    }
                    Some(KeyState::Free) => {}
                }
            }
            let answer = match &item.patch {
                Err(refusal) => refusal.clone(),
                Ok(patch) => {
                    match insert_new_customer(
                        &mut tx,
                        merchant,
                        patch,
                        now,
                        &mut counts,
                        &mut events,
                    )
                    .await?
                    {
                        None => answers.duplicate.clone(),
                        Some(customer) => {
                            let body = serde_json::to_string(&ApiResponse::new(
                                answers.created_msg,
                                &customer,
                            ))
                            .context("encoding a batch answer")?;
                            Answer::new(200, body)
                        }
                    }
                }
            };
            if let Some((key, fp)) = &item.key {
                state.insert(
                    key.clone(),
                    KeyState::Done {
                        same: true,
                        status: answer.status,
                        body: answer.body.clone(),
                    },
                );
                finished.push((key.clone(), fp.clone(), answer.clone()));
            }
            out.push(answer);
        }

        apply_counts(&mut tx, merchant, counts).await?;
        insert_customer_events(&mut tx, "customer.created", CATEGORY_REGISTRATION, &events).await?;
        if !finished.is_empty() {
            let done = finished
                .into_iter()
                .map(|(key, fp, answer)| (key, fp, Some(answer)));
            let mut sql = key_rows(&mer, done, times, now);
            sql.push(
                " ON CONFLICT (merchant_id, key) DO UPDATE SET method = excluded.method, \
                 route = excluded.route, fingerprint = excluded.fingerprint, status = excluded.status, \
                 response_status = excluded.response_status, response_body = excluded.response_body, \
                 locked_until = excluded.locked_until, created_at = excluded.created_at, \
                 expires_at = excluded.expires_at",
            );
            let (text, args) = sql.into_parts();
            sqlx::query_with(&text, args).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(out)
    }
}

/// `INSERT INTO idempotency_keys … VALUES` with one row per `(key, fingerprint, answer)` of a
/// batch item: in flight when there is no answer yet (a claim), else completed with it. The
/// caller adds the `ON CONFLICT` clause.
fn key_rows(
    merchant: &str,
    rows: impl Iterator<Item = (String, String, Option<Answer>)>,
    times: KeyTimes,
    now: i64,
) -> Sql {
    let mut sql = Sql::new(
        "INSERT INTO idempotency_keys (merchant_id, key, method, route, fingerprint, status, \
         response_status, response_body, locked_until, created_at, expires_at) VALUES ",
    );
    for (i, (key, fp, answer)) in rows.enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        sql.bind(merchant.to_owned())
            .push(", ")
            .bind(key)
            .push(", ");
        sql.bind(ITEM_METHOD.to_owned())
            .push(", ")
            .bind(ITEM_ROUTE.to_owned());
        sql.push(", ").bind(fp).push(", ");
        match answer {
            None => sql.push("'in_flight', NULL, NULL"),
            Some(a) => sql
                .push("'completed', ")
                .bind(i64::from(a.status))
                .push(", ")
                .bind(a.body),
        };
        sql.push(", ").bind(now + times.lease).push(", ").bind(now);
        sql.push(", ").bind(now + times.retention).push(")");
    }
    sql
}

/// Whether `e` is PostgreSQL's deadlock (40P01) or serialization (40001) failure: the
/// transaction was aborted and can simply run again.
fn is_deadlock(e: &anyhow::Error) -> bool {
    e.downcast_ref::<sqlx::Error>().is_some_and(|e| match e {
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("40P01" | "40001")),
        _ => false,
    })
}

//! Batch create: many customers, each with its own idempotency key, in one transaction.
//!
//! Every item gets the outcome `POST /api/v1/customers` would have had, and its key is claimed
//! and completed in the same transaction as the customer, exactly as on the single route (the
//! keys share one table, so a key replays across the two routes). One transaction per batch
//! instead of two per customer is what makes bulk imports fast on SQLite's single writer: a
//! batch of 100 costs about 100 inserts plus five statements.

use std::collections::{BTreeSet, HashMap};

use acorn_types::EventKind;
use acorn_types::{Customer, CustomerId, CustomerPatch, FailureReason, MerchantId};

use crate::store::batch::{
    claim_keys, complete_keys, is_deadlock, read_keys, KeyRoute, KeyRow, KeyTimes, KeyWrite,
};
use crate::store::counts::{apply_counts, CountDelta};
use crate::store::customers::account_created;
use crate::store::events::{insert_customer_events, CustomerEvent};
use crate::store::new_rows::{insert_new_rows, NewRow};
use crate::store::{Store, StoreError};

/// The request a batch item's key is recorded under: the single create's.
pub const ITEM_ROUTE: KeyRoute = KeyRoute {
    method: "POST",
    route: "/api/v1/customers",
};

/// One validated item.
#[derive(Debug)]
pub struct BatchItem {
    /// The item's idempotency key and the fingerprint of its customer object.
    pub key: Option<(String, String)>,
    /// The customer to create, or why it is invalid.
    pub patch: Result<CustomerPatch, Vec<FailureReason>>,
}

/// What became of one item.
#[derive(Debug, Clone)]
pub enum ItemOutcome {
    /// Created now.
    Created(Box<Customer>),
    /// The customer object is invalid.
    Invalid(Vec<FailureReason>),
    /// The email is already taken.
    Duplicate,
    /// The key finished before: its stored answer.
    Replayed { status: u16, body: String },
    /// The key was used with another route or body.
    Mismatch,
    /// The key's first request is still running.
    InFlight,
}

/// How an outcome is answered on the wire (status and envelope text): the route knows, and the
/// batch stores that answer with each finished key.
pub type Render<'a> = &'a (dyn Fn(&ItemOutcome) -> (u16, String) + Sync);

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

/// Creates the batch's customers in one transaction and returns one outcome per item, in order.
/// Only a database failure fails the whole batch (and then nothing is written).
///
/// On PostgreSQL two batches inserting the same emails in opposite orders can deadlock; the
/// database then aborts one, which is run again here (a few times) instead of failing.
pub async fn create_batch(
    store: &Store,
    merchant: MerchantId,
    items: &[BatchItem],
    render: Render<'_>,
    times: KeyTimes,
    now: i64,
) -> Result<Vec<ItemOutcome>, StoreError> {
    let mut tries = 0;
    loop {
        tries += 1;
        match run_once(store, merchant, items, render, times, now).await {
            Err(e) if tries < 5 && is_deadlock(&e) => {
                tracing::debug!(tries, "batch create deadlocked; running it again");
                let pause = std::time::Duration::from_millis(rand::random::<u64>() % 20);
                tokio::time::sleep(pause).await;
            }
            result => return result,
        }
    }
}

/// Each key's first fingerprint (a repeated key counts with its first body).
fn first_fingerprints(items: &[BatchItem]) -> HashMap<String, String> {
    let mut first: HashMap<String, String> = HashMap::new();
    for (k, fp) in items.iter().filter_map(|i| i.key.as_ref()) {
        first.entry(k.clone()).or_insert_with(|| fp.clone());
    }
    first
}

fn key_state(row: &KeyRow, first_fp: &HashMap<String, String>, now: i64) -> KeyState {
    let same = row.method == ITEM_ROUTE.method
        && row.route == ITEM_ROUTE.route
        && first_fp
            .get(&row.key)
            .is_some_and(|fp| crate::store::idempotency::same_fingerprint(&row.fingerprint, fp));
    if row.expires_at <= now {
        KeyState::Free
    } else if row.status == "completed" {
        KeyState::Done {
            same,
            status: row
                .response_status
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(200),
            body: row.response_body.clone().unwrap_or_default(),
        }
    } else if row.locked_until > now {
        KeyState::Busy { same }
    } else {
        KeyState::Free // its process died mid-request: take it over
    }
}

/// Claims every new key (a concurrent claimer of the same key on PostgreSQL waits for our commit
/// and then finds it finished) and reads the state of the others.
async fn claim(
    tx: &mut sqlx::AnyConnection,
    store: &Store,
    merchant: MerchantId,
    first_fp: &HashMap<String, String>,
    times: KeyTimes,
    now: i64,
) -> Result<HashMap<String, KeyState>, StoreError> {
    // Each key once, sorted, so that concurrent batches lock keys in the same order.
    let keys: BTreeSet<&String> = first_fp.keys().collect();
    let mut state = HashMap::new();
    if keys.is_empty() {
        return Ok(state);
    }
    let claims: Vec<KeyWrite> = keys
        .iter()
        .map(|k| ((*k).clone(), first_fp[*k].clone(), None))
        .collect();
    for key in claim_keys(tx, merchant, ITEM_ROUTE, claims, times, now).await? {
        state.insert(key, KeyState::Free);
    }
    let taken: Vec<String> = keys
        .into_iter()
        .filter(|k| !state.contains_key(*k))
        .cloned()
        .collect();
    if !taken.is_empty() {
        for row in read_keys(tx, merchant, &taken, store.for_update()).await? {
            let s = key_state(&row, first_fp, now);
            state.insert(row.key, s);
        }
    }
    Ok(state)
}

/// The outcome of a keyed item decided by its key alone (replay, mismatch, in flight), or
/// `None` when the item is ours to run.
fn decided_by_key(state: Option<&KeyState>, same_as_first: bool) -> Option<ItemOutcome> {
    match state {
        Some(KeyState::Done { same, status, body }) => Some(if *same && same_as_first {
            ItemOutcome::Replayed {
                status: *status,
                body: body.clone(),
            }
        } else {
            ItemOutcome::Mismatch
        }),
        Some(KeyState::Busy { same }) => Some(if *same && same_as_first {
            ItemOutcome::InFlight
        } else {
            ItemOutcome::Mismatch
        }),
        // Purged between claim and read: it is free again, but not ours; let the client retry.
        None => Some(ItemOutcome::InFlight),
        Some(KeyState::Free) => None,
    }
}

/// What to do with one item, decided before anything is inserted.
enum Plan {
    /// Its key decides its outcome (a replay, a mismatch, a duplicate in flight).
    Decided(ItemOutcome),
    /// Create it.
    Run,
    /// An earlier item of this batch runs its key: replay that item's answer when the bodies
    /// match (`true`), else a mismatch.
    SameKeyAs(usize, bool),
}

fn plan(
    items: &[BatchItem],
    state: &HashMap<String, KeyState>,
    first_fp: &HashMap<String, String>,
) -> Vec<Plan> {
    let mut runner_of: HashMap<&str, usize> = HashMap::new();
    let mut plans = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Some((key, fp)) = &item.key else {
            plans.push(Plan::Run);
            continue;
        };
        let same_as_first = first_fp.get(key) == Some(fp);
        if let Some(&j) = runner_of.get(key.as_str()) {
            plans.push(Plan::SameKeyAs(j, same_as_first));
        } else if let Some(outcome) = decided_by_key(state.get(key), same_as_first) {
            plans.push(Plan::Decided(outcome));
        } else {
            runner_of.insert(key, i);
            plans.push(Plan::Run);
        }
    }
    plans
}

/// The lowercase email a patch creates (the uniqueness key), for ordering inserts.
fn email_key(item: &BatchItem) -> String {
    let email = item
        .patch
        .as_ref()
        .ok()
        .and_then(|p| p.get("email"))
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    acorn_types::fields::email_key(email)
}

async fn run_once(
    store: &Store,
    merchant: MerchantId,
    items: &[BatchItem],
    render: Render<'_>,
    times: KeyTimes,
    now: i64,
) -> Result<Vec<ItemOutcome>, StoreError> {
    let first_fp = first_fingerprints(items);
    let mut tx = store.begin().await?;
    let state = claim(&mut tx, store, merchant, &first_fp, times, now).await?;
    let plans = plan(items, &state, &first_fp);
    // Ids in item order, so that list order (by id) is the batch's order; inserts in email
    // order, so that concurrent batches lock the same emails in the same order and cannot
    // deadlock each other on PostgreSQL (equal emails keep their item order: the first wins).
    let ids: Vec<CustomerId> = items.iter().map(|_| CustomerId::new()).collect();
    let mut runs: Vec<usize> = (0..items.len())
        .filter(|&i| matches!(plans[i], Plan::Run))
        .collect();
    runs.sort_by_cached_key(|&i| email_key(&items[i]));
    let mut done: Vec<Option<ItemOutcome>> = vec![None; items.len()];
    let (mut counts, mut events) = (CountDelta::new(), Vec::<CustomerEvent>::new());
    let mut inserted = Vec::with_capacity(runs.len());
    let mut rows = Vec::with_capacity(runs.len());
    for i in runs {
        match &items[i].patch {
            Err(reasons) => done[i] = Some(ItemOutcome::Invalid(reasons.clone())),
            Ok(patch) => {
                inserted.push(i);
                rows.push(NewRow::prepare(merchant, ids[i], patch, now)?);
            }
        }
    }
    // One statement per run of items giving the same fields, in email order.
    let rows: Vec<&NewRow> = rows.iter().collect();
    let created = insert_new_rows(&mut tx, &rows).await?;
    for (i, customer) in inserted.into_iter().zip(created) {
        done[i] = Some(match customer {
            Some(c) => {
                account_created(&c, ids[i], merchant, now, &mut counts, &mut events);
                ItemOutcome::Created(Box::new(c))
            }
            None => ItemOutcome::Duplicate,
        });
    }
    let (out, finished) = settle(items, plans, done, render);
    events.sort_by_key(|e| e.customer);
    apply_counts(&mut tx, merchant, counts).await?;
    insert_customer_events(&mut tx, EventKind::CustomerCreated, &events).await?;
    complete_keys(&mut tx, merchant, ITEM_ROUTE, finished, times, now).await?;
    tx.commit().await?;
    Ok(out)
}

/// Every item's outcome in order, and the answers to store with the keys this batch ran.
fn settle(
    items: &[BatchItem],
    plans: Vec<Plan>,
    mut done: Vec<Option<ItemOutcome>>,
    render: Render<'_>,
) -> (Vec<ItemOutcome>, Vec<KeyWrite>) {
    let mut finished = Vec::new();
    let mut answers: HashMap<usize, (u16, String)> = HashMap::new();
    let mut out = Vec::with_capacity(items.len());
    for (i, plan) in plans.into_iter().enumerate() {
        let outcome = match plan {
            Plan::Decided(outcome) => outcome,
            Plan::Run => {
                let outcome = done[i].take().unwrap_or(ItemOutcome::InFlight);
                if let Some((key, fp)) = &items[i].key {
                    let (status, body) = render(&outcome);
                    answers.insert(i, (status, body.clone()));
                    finished.push((key.clone(), fp.clone(), Some((status, body))));
                }
                outcome
            }
            Plan::SameKeyAs(j, true) => match answers.get(&j) {
                Some((status, body)) => ItemOutcome::Replayed {
                    status: *status,
                    body: body.clone(),
                },
                None => ItemOutcome::InFlight,
            },
            Plan::SameKeyAs(_, false) => ItemOutcome::Mismatch,
        };
        out.push(outcome);
    }
    (out, finished)
}

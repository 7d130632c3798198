//! Sync (contract §4.5): an attempt is scheduled with its `customer.sync.started` event and a
//! job; the worker runs each try through the provider's adapter and finishes it with
//! `succeeded` or — after the last try — `failed`, moving the customer's `synced` flag.

use std::time::Duration;

use acorn_types::customer::WRITABLE_FIELDS;
use acorn_types::EventKind;
use acorn_types::{
    CustomerId, MerchantId, Provider, Registration, RegistrationId, RegistrationStatus,
    SyncAttemptId, SyncAttemptStatus, SyncField,
};
use serde_json::{json, Map, Value};
use sqlx::AnyConnection;

use crate::adapters::providers::SyncPush;
use crate::services::context::Context;
use crate::store::counts::adjust_counts;
use crate::store::events::insert_event;
use crate::store::idempotency::{record, KeyAnswer};
use crate::store::jobs::{enqueue, finish, Job};
use crate::store::registrations::all_of;
use crate::store::sync::{
    end_attempt, find_attempt, insert_attempt, mark_running, set_synced, AttemptEnd, NewAttempt,
};
use crate::store::JobKind;
use crate::store::{format_time, micros_after, now_micros, Store, StoreError};
use acorn_types::events::customer_data;

/// Registration statuses a customer can be synced in.
pub fn can_sync(status: RegistrationStatus) -> bool {
    use RegistrationStatus as R;
    !matches!(status, R::NotSubmitted | R::Rejected | R::Cancelled)
}

/// The customer fields in the given sync groups.
pub fn expand(fields: &[SyncField]) -> Vec<&'static str> {
    WRITABLE_FIELDS
        .iter()
        .filter(|s| s.sync.is_some_and(|g| fields.contains(&g)))
        .map(|s| s.name)
        .collect()
}

/// Schedules a sync of `fields` to `provider`: the attempt, its event and its job in one
/// transaction (with the request's idempotent answer).
pub async fn schedule(
    ctx: &Context,
    merchant: MerchantId,
    customer: CustomerId,
    provider: Provider,
    fields: &[SyncField],
    answer: Option<KeyAnswer>,
) -> Result<SyncAttemptId, StoreError> {
    let store = &ctx.store;
    let now = now_micros();
    let mut tx = store.begin().await?;
    Store::fetch_customer(&mut tx, merchant, customer, store.for_update())
        .await?
        .ok_or(StoreError::NotFound)?;
    let regs = all_of(&mut tx, customer).await?;
    if !regs
        .iter()
        .any(|r| r.provider == provider && can_sync(r.status))
    {
        return Err(StoreError::NotRegistered(format!(
            "the customer has no {provider} registration that can be synced (it must be submitted and not rejected or cancelled)"
        )));
    }
    let id = SyncAttemptId::new();
    let names: Vec<&str> = fields.iter().map(SyncField::as_str).collect();
    let attempt = NewAttempt {
        id,
        merchant,
        customer,
        provider,
        fields: &names,
        max_attempts: ctx.config.sync_max_attempts,
    };
    insert_attempt(&mut tx, &attempt, now).await?;
    let data = json!({"id": customer.to_string(), "provider": provider, "fields": names, "attempt_id": id.to_string()});
    let event = EventKind::SyncStarted;
    insert_event(&mut tx, merchant, Some(customer), event, &data, now).await?;
    let payload = json!({"attempt_id": id.to_string()});
    enqueue(
        &mut tx,
        JobKind::SyncAttempt.as_str(),
        merchant,
        &payload,
        now,
        now,
    )
    .await?;
    record(&mut tx, answer.as_ref(), &Value::Null).await?;
    tx.commit().await?;
    store.wake_worker();
    Ok(id)
}

/// The registration a try pushes to: an approved one first, then the newest that can be synced.
fn target(regs: Vec<Registration>, provider: Provider) -> Option<Registration> {
    let mut eligible: Vec<_> = regs
        .into_iter()
        .filter(|r| r.provider == provider && can_sync(r.status))
        .collect();
    eligible.sort_by_key(|r| {
        (
            r.status != RegistrationStatus::Approved,
            std::cmp::Reverse(r.created_at.clone()),
        )
    });
    eligible.into_iter().next()
}

/// One try, as read when it starts.
#[derive(Debug)]
struct Try {
    attempt: SyncAttemptId,
    merchant: MerchantId,
    customer: CustomerId,
    provider: Provider,
    fields: Vec<String>,
    registration: Option<Registration>,
    email: String,
    values: Map<String, Value>,
    attempts: i64,
    max_attempts: i64,
}

/// Starts a try of the job's attempt: `None` when there is nothing left to do (the job is
/// finished then).
async fn begin_try(store: &Store, job: &Job, now: i64) -> Result<Option<Try>, StoreError> {
    let attempt = job
        .payload
        .get("attempt_id")
        .and_then(Value::as_str)
        .and_then(|s| SyncAttemptId::parse(s).ok())
        .ok_or_else(|| anyhow::anyhow!("sync job without an attempt id"))?;
    let mut tx = store.begin().await?;
    let row = find_attempt(&mut tx, attempt, job.merchant, store.for_update()).await?;
    let Some(row) = row.filter(|r| {
        matches!(
            r.status,
            SyncAttemptStatus::Scheduled | SyncAttemptStatus::Running
        )
    }) else {
        finish(&mut tx, &job.id).await?;
        tx.commit().await?;
        return Ok(None);
    };
    let current = Store::fetch_customer(&mut tx, job.merchant, row.customer, "")
        .await?
        .ok_or(StoreError::NotFound)?;
    let regs = all_of(&mut tx, row.customer).await?;
    let groups: Vec<SyncField> = row
        .fields
        .iter()
        .filter_map(|f| SyncField::parse(f).ok())
        .collect();
    let profile = serde_json::to_value(&current).map_err(anyhow::Error::from)?;
    let values: Map<String, Value> = expand(&groups)
        .into_iter()
        .map(|name| {
            (
                name.to_owned(),
                profile.get(name).cloned().unwrap_or(Value::Null),
            )
        })
        .collect();
    let attempts = row.attempts + 1;
    mark_running(&mut tx, attempt, attempts, now).await?;
    tx.commit().await?;
    Ok(Some(Try {
        attempt,
        merchant: job.merchant,
        customer: row.customer,
        provider: row.provider,
        fields: row.fields,
        registration: target(regs, row.provider),
        email: current.email.clone(),
        values,
        attempts,
        max_attempts: row.max_attempts,
    }))
}

/// The delay before retry `attempts + 1`: tripling from `base`, capped, with ±20 % jitter
/// (`jitter` in 0..=1).
pub fn retry_delay(attempts: i64, base: Duration, cap: Duration, jitter: f64) -> Duration {
    let exp = i32::try_from(attempts.clamp(1, 30) - 1).unwrap_or(0);
    let raw = base.as_secs_f64() * 3f64.powi(exp);
    let capped = raw.min(cap.as_secs_f64());
    Duration::from_secs_f64(capped * (0.8 + 0.4 * jitter.clamp(0.0, 1.0)))
}

/// Pushes the try's values through the provider's adapter: the answer, or the error and
/// whether it is worth retrying.
async fn push(ctx: &Context, t: &Try) -> (Result<Value, String>, bool) {
    let Some(reg) = &t.registration else {
        let msg = format!(
            "the customer no longer has a {} registration that can be synced",
            t.provider
        );
        return (Err(msg), false);
    };
    let mode = match ctx.store.merchant_mode(t.merchant).await {
        Ok(Some(mode)) => mode,
        Ok(None) => return (Err("the merchant no longer exists".to_owned()), false),
        Err(e) => return (Err(format!("reading the merchant's mode: {e}")), true),
    };
    let Some(adapter) = ctx.providers.get(mode, t.provider) else {
        return (
            Err(format!("no adapter is configured for {}", t.provider)),
            false,
        );
    };
    let registration_id = match RegistrationId::parse(&reg.id) {
        Ok(id) => id,
        Err(e) => return (Err(format!("stored registration id: {e}")), false),
    };
    let push = SyncPush {
        provider: t.provider,
        registration_id,
        role: reg.target_role,
        provider_customer_id: reg.provider_customer_id.as_deref(),
        provider_data: reg.provider_data.as_ref(),
        email: &t.email,
        attempt_id: t.attempt,
        try_number: t.attempts,
        values: &t.values,
    };
    match adapter.sync(&push).await {
        Ok(v) => (Ok(v), false),
        Err(e) => (Err(e.message), e.retryable),
    }
}

/// Runs one try of a sync job.
pub async fn run_try(ctx: &Context, job: &Job) -> Result<(), StoreError> {
    let Some(t) = begin_try(&ctx.store, job, now_micros()).await? else {
        return Ok(());
    };
    let (outcome, retryable) = push(ctx, &t).await;
    let now = now_micros();
    let retry_at = (outcome.is_err() && retryable && t.attempts < t.max_attempts).then(|| {
        let c = &ctx.config;
        let wait = retry_delay(
            t.attempts,
            c.sync_retry_base,
            c.sync_retry_cap,
            rand::random(),
        );
        micros_after(now, wait)
    });
    if let Err(e) = &outcome {
        tracing::info!(attempt = %t.attempt, provider = %t.provider, tries = t.attempts, final_try = retry_at.is_none(), error = e.as_str(), "sync try failed");
    }
    let end = match (outcome, retry_at) {
        (Ok(response), _) => AttemptEnd::Succeeded(response),
        (Err(error), Some(at)) => AttemptEnd::Retry { error, at },
        (Err(error), None) => AttemptEnd::Failed(error),
    };
    finish_try(&ctx.store, job, &t, end, now).await
}

/// Records how a try ended, with its event, the customer's `synced` flag and the job's removal
/// (or its next run), in one transaction.
async fn finish_try(
    store: &Store,
    job: &Job,
    t: &Try,
    end: AttemptEnd,
    now: i64,
) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    end_attempt(&mut tx, t.merchant, t.attempt, &end, now).await?;
    finish(&mut tx, &job.id).await?;
    let mut data = json!({"id": t.customer.to_string(), "provider": t.provider,
        "fields": t.fields, "attempt_id": t.attempt.to_string()});
    let event = match end {
        AttemptEnd::Retry { at, .. } => {
            enqueue(
                &mut tx,
                JobKind::SyncAttempt.as_str(),
                t.merchant,
                &job.payload,
                at,
                now,
            )
            .await?;
            None
        }
        AttemptEnd::Succeeded(response) => {
            let current =
                Store::fetch_customer(&mut tx, t.merchant, t.customer, store.for_update()).await?;
            let profile = serde_json::to_value(&current).map_err(anyhow::Error::from)?;
            let unchanged = t.values.iter().all(|(k, v)| profile.get(k) == Some(v));
            mark_synced(&mut tx, t, unchanged, unchanged.then_some(now), now).await?;
            if unchanged {
                data["synced_at"] = Value::String(format_time(now));
            }
            data["provider_data"] = response;
            Some(EventKind::SyncSucceeded)
        }
        AttemptEnd::Failed(error) => {
            mark_synced(&mut tx, t, false, None, now).await?;
            data["error"] = Value::String(error);
            Some(EventKind::SyncFailed)
        }
    };
    if let Some(event) = event {
        insert_event(&mut tx, t.merchant, Some(t.customer), event, &data, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Moves the customer's `synced` flag (and `synced_at` on success), with its counters and
/// `customer.updated`; nothing when it already says so.
async fn mark_synced(
    conn: &mut AnyConnection,
    t: &Try,
    synced: bool,
    synced_at: Option<i64>,
    now: i64,
) -> Result<(), StoreError> {
    let Some(current) = Store::fetch_customer(conn, t.merchant, t.customer, "").await? else {
        return Ok(());
    };
    let at = synced_at.map(format_time);
    if current.synced == Some(synced) && (at.is_none() || current.synced_at == at) {
        return Ok(());
    }
    // synced_at keeps the time of the last success when a later attempt fails.
    set_synced(conn, t.merchant, t.customer, synced, synced_at, now).await?;
    let updated = Store::fetch_customer(conn, t.merchant, t.customer, "")
        .await?
        .ok_or(StoreError::NotFound)?;
    adjust_counts(conn, t.merchant, Some(&current), Some(&updated)).await?;
    let data = customer_data(&updated, None, &["synced", "synced_at"]);
    let event = EventKind::CustomerUpdated;
    insert_event(conn, t.merchant, Some(t.customer), event, &data, now).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::retry_delay;
    use std::time::Duration;

    #[test]
    fn delays_triple_with_bounded_jitter_and_a_cap() {
        let (b, cap) = (Duration::from_secs(2), Duration::from_secs(300));
        assert_eq!(retry_delay(1, b, cap, 0.5), Duration::from_secs(2));
        assert_eq!(retry_delay(2, b, cap, 0.5), Duration::from_secs(6));
        assert_eq!(retry_delay(4, b, cap, 0.5), Duration::from_secs(54));
        assert_eq!(retry_delay(9, b, cap, 0.5), cap);
        assert!(retry_delay(1, b, cap, 0.0) >= Duration::from_millis(1600));
        assert!(retry_delay(1, b, cap, 1.0) <= Duration::from_millis(2400));
        // The defaults spread five tries over more than a minute, even with the least jitter.
        let total: Duration = (1..5).map(|a| retry_delay(a, b, cap, 0.0)).sum();
        assert!(total >= Duration::from_secs(60), "{total:?}");
    }
}

//! The webhook deliverer: claims due notifications (rows, see [`crate::store::notifications`])
//! and delivers them concurrently, a bounded number in flight, so a slow or dead endpoint
//! never holds up the others. Each endpoint gets one delivery at a time, in event order (the
//! claim sees to that). A failed attempt is retried on the configured schedule, jittered; after
//! the last one the notification is dead-lettered.

pub mod send;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use crate::services::context::Context;
use crate::store::notifications::{Delivery, NextStep};
use crate::store::{format_time, now_micros};

/// Deliveries in flight at once in one process.
pub const MAX_IN_FLIGHT: usize = 32;
/// How long a claim lasts; a delivery whose process died is claimed again after this.
const LEASE: Duration = Duration::from_secs(60);

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX / 4)
}

/// Runs until `stop` turns true; in-flight deliveries get their timeout to finish.
pub async fn run(state: Context, mut stop: watch::Receiver<bool>) {
    // Sandbox merchants may deliver to loopback and private addresses (a local receiver); live
    // merchants only with --webhook-allow-private. One client for each.
    let clients = send::client(false).and_then(|guarded| Ok((guarded, send::client(true)?)));
    let clients = match clients {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(
                error = format!("{e:#}"),
                "cannot build the webhook HTTP client; webhooks are not delivered"
            );
            return;
        }
    };
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut tasks = JoinSet::new();
    loop {
        if *stop.borrow() {
            break;
        }
        while tasks.try_join_next().is_some() {}
        let free = slots.available_permits();
        if free > 0 {
            let claimed = match state
                .store
                .claim_deliveries(now_micros(), micros(LEASE), free as i64)
                .await
            {
                Ok(list) => list,
                Err(e) => {
                    tracing::warn!(
                        error = format!("{e:#}"),
                        "claiming webhook deliveries failed"
                    );
                    Vec::new()
                }
            };
            for delivery in claimed {
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    break;
                };
                let (state, clients) = (state.clone(), clients.clone());
                tasks.spawn(async move {
                    deliver(&state, &clients, &delivery).await;
                    drop(permit);
                });
            }
        }
        tokio::select! {
            _ = state.store.deliverer_woken() => {}
            _ = tokio::time::sleep(state.config.job_poll_interval) => {}
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            _ = stop.changed() => {}
        }
    }
    let _ = tokio::time::timeout(send::TIMEOUT + Duration::from_secs(1), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
}

/// The request body: `{id, api_version, event, category, livemode, data}`, the same on every
/// attempt (`livemode` is the merchant's mode, contract §13).
pub fn body(delivery: &Delivery, livemode: bool) -> String {
    let data: Value = serde_json::from_str(&delivery.data).unwrap_or(Value::Null);
    json!({
        "id": format!("{}{}", acorn_types::NotificationId::PREFIX, delivery.id),
        "api_version": "v1",
        "event": delivery.event,
        "category": delivery.category,
        "livemode": livemode,
        "data": data,
    })
    .to_string()
}

/// The wait before retry number `failures` (1 = the first retry), jittered by ±10 %, or
/// `None` when the schedule is used up.
pub fn retry_wait(schedule: &[Duration], failures: i64) -> Option<Duration> {
    let index = usize::try_from(failures.checked_sub(1)?).ok()?;
    let base = *schedule.get(index)?;
    let factor = 0.9 + 0.2 * rand::random::<f64>();
    Some(base.mul_f64(factor))
}

/// One attempt of `d`: the merchant's mode decides the address guard (sandbox merchants may
/// reach loopback and private addresses) and the payload's `livemode`.
async fn deliver(
    state: &Context,
    (guarded, open): &(reqwest::Client, reqwest::Client),
    d: &Delivery,
) {
    let merchant = acorn_types::MerchantId::parse(&d.merchant_id).ok();
    let mode = match merchant {
        Some(m) => state.store.merchant_mode(m).await.ok().flatten(),
        None => None,
    };
    // A merchant whose mode cannot be read now is treated as live: the stricter guard.
    let mode = mode.unwrap_or(acorn_types::Mode::Live);
    let allow_private = mode == acorn_types::Mode::Sandbox || state.config.webhook_allow_private;
    let client = if allow_private { open } else { guarded };
    let body = body(d, mode.is_live());
    let outcome = send::post(client, allow_private, &d.url, &d.secret, body).await;
    let now = now_micros();
    let failures = d.failures + 1;
    let next = if outcome.acknowledged() {
        NextStep::Delivered
    } else {
        match retry_wait(&state.config.webhook_retry_schedule, failures) {
            Some(wait) => NextStep::RetryAt(now + micros(wait)),
            None => NextStep::DeadLetter,
        }
    };
    let attempt = json!({
        "attempted_at": format_time(now - micros(outcome.duration)),
        "status_code": outcome.status_code,
        "error": outcome.error,
        "duration_ms": u64::try_from(outcome.duration.as_millis()).unwrap_or(u64::MAX),
    });
    let label = match next {
        NextStep::Delivered => "delivered",
        NextStep::RetryAt(_) => "failed",
        NextStep::DeadLetter => "dead_lettered",
    };
    state.metrics.delivery(label);
    // Logs name the ids as the API shows them (`ntf_…`, `wh_…`), never bare uuids.
    let notification = format!("{}{}", acorn_types::NotificationId::PREFIX, d.id);
    let webhook = format!("{}{}", acorn_types::WebhookId::PREFIX, d.webhook_id);
    match state.store.record_attempt(d, attempt, next, now).await {
        Ok(true) => {}
        Ok(false) => tracing::warn!(notification, "webhook delivery lease lost; not recorded"),
        Err(e) => tracing::warn!(
            notification,
            error = format!("{e:#}"),
            "recording a webhook attempt failed"
        ),
    }
    if let Some(error) = &outcome.error {
        tracing::info!(
            notification,
            webhook,
            error,
            outcome = label,
            "webhook delivery failed"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_waits_follow_the_schedule_with_jitter() {
        let s = [Duration::from_secs(30), Duration::from_secs(300)];
        let first = retry_wait(&s, 1).unwrap();
        assert!(first >= Duration::from_secs(27) && first <= Duration::from_secs(33));
        let second = retry_wait(&s, 2).unwrap();
        assert!(second >= Duration::from_secs(270) && second <= Duration::from_secs(330));
        assert!(retry_wait(&s, 3).is_none());
        assert!(retry_wait(&s, 0).is_none());
    }
}

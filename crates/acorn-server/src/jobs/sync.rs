//! Running one sync try: read the customer, push through the provider adapter, record.

use std::time::Duration;

use serde_json::Value;

use crate::providers::SyncPush;
use crate::state::AppState;
use crate::store::jobs::Job;
use crate::store::{now_micros, StoreError};

/// Wait before try `attempts + 1`: `base · 3^(attempts-1)`, capped, times a jitter in
/// [0.8, 1.2] (`jitter` is a uniform sample in [0, 1)).
pub fn retry_delay(attempts: i64, base: Duration, cap: Duration, jitter: f64) -> Duration {
    let exp = i32::try_from(attempts.clamp(1, 30) - 1).unwrap_or(0);
    let raw = base.as_secs_f64() * 3f64.powi(exp);
    let capped = raw.min(cap.as_secs_f64());
    Duration::from_secs_f64(capped * (0.8 + 0.4 * jitter.clamp(0.0, 1.0)))
}

/// Runs the sync try a job stands for.
pub async fn run(state: &AppState, job: &Job) -> Result<(), StoreError> {
    let store = &state.store;
    let Some(t) = store.begin_sync_try(job, now_micros()).await? else {
        return Ok(());
    };
    let (outcome, retryable) = match (&t.registration, state.providers.get(t.provider)) {
        (None, _) => (
            Err(format!(
                "the customer no longer has a {} registration that can be synced",
                t.provider
            )),
            false,
        ),
        (Some(_), None) => (
            Err(format!("no adapter is configured for {}", t.provider)),
            false,
        ),
        (Some(target), Some(adapter)) => {
            let push = SyncPush {
                provider: t.provider,
                registration_id: target.registration,
                role: target.role,
                provider_customer_id: target.provider_customer_id.as_deref(),
                email: &t.email,
                values: &t.values,
            };
            match adapter.sync(&push).await {
                Ok(v) => (Ok::<Value, String>(v), false),
                Err(e) => (Err(e.message), e.retryable),
            }
        }
    };
    let now = now_micros();
    let retry_at = (outcome.is_err() && retryable && t.attempts < t.max_attempts).then(|| {
        let c = &state.config;
        let wait = retry_delay(
            t.attempts,
            c.sync_retry_base,
            c.sync_retry_cap,
            rand::random::<f64>(),
        );
        now + i64::try_from(wait.as_micros()).unwrap_or(i64::MAX / 4)
    });
    if let Err(e) = &outcome {
        tracing::info!(attempt = %t.attempt, provider = %t.provider, tries = t.attempts, final_try = retry_at.is_none(), error = e.as_str(), "sync try failed");
    }
    store.finish_sync_try(job, &t, outcome, retry_at, now).await
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

//! The background worker: claims due jobs from the database and runs them.
//!
//! Jobs are rows (see [`crate::store::jobs`]), so a restart loses nothing and several processes
//! share the work. A failed job is retried with exponential backoff; its error is kept on the row.

use std::time::Duration;

use tokio::sync::watch;

use crate::services::context::Context;
use crate::store::jobs::Job;
use crate::store::{duration_micros, micros_after, now_micros, JobKind};

/// How long a claim lasts; a job whose process died is claimed again after this.
const LEASE: Duration = Duration::from_secs(60);
/// Jobs claimed per round.
const BATCH: i64 = 32;

/// Deletes events and notifications older than the retention.
async fn purge_events(state: &Context) {
    let retention = crate::store::duration_micros(state.config.event_retention);
    match state.store.purge_events(now_micros() - retention).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(purged = n, "purged events past their retention"),
        Err(e) => tracing::warn!(error = format!("{e:#}"), "purging old events failed"),
    }
}

/// Runs until `stop` turns true.
pub async fn run(state: Context, mut stop: watch::Receiver<bool>) {
    tracing::info!("background worker started");
    let mut last_purge = std::time::Instant::now();
    loop {
        if *stop.borrow() {
            break;
        }
        if last_purge.elapsed() >= state.config.purge_interval {
            last_purge = std::time::Instant::now();
            match state.store.purge_idempotency_keys(now_micros()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(purged = n, "purged expired idempotency keys"),
                Err(e) => {
                    tracing::warn!(error = format!("{e:#}"), "purging idempotency keys failed")
                }
            }
            purge_events(&state).await;
        }
        let claimed = run_due(&state).await;
        if claimed > 0 {
            continue;
        }
        tokio::select! {
            _ = state.store.worker_woken() => {}
            _ = tokio::time::sleep(state.config.job_poll_interval.min(state.config.purge_interval)) => {}
            _ = stop.changed() => {}
        }
    }
    tracing::info!("background worker stopped");
}

/// Claims and runs one batch of due jobs; returns how many were claimed.
pub async fn run_due(state: &Context) -> usize {
    let lease = duration_micros(LEASE);
    let jobs = match state.store.claim_jobs(now_micros(), lease, BATCH).await {
        Ok(jobs) => jobs,
        Err(e) => {
            tracing::warn!(error = format!("{e:#}"), "claiming jobs failed");
            return 0;
        }
    };
    let n = jobs.len();
    for job in jobs {
        run_one(state, &job).await;
    }
    n
}

/// Backoff before the next try of a failed job: 1 s doubling per attempt, capped at 5 min.
pub fn backoff(attempts: i64) -> Duration {
    let exp = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    Duration::from_secs(2u64.saturating_pow(exp).min(300))
}

async fn run_one(state: &Context, job: &Job) {
    let now = now_micros();
    let result = match JobKind::parse(&job.kind) {
        Ok(JobKind::SandboxAdvance) => {
            crate::services::registrations::run_sandbox_step(state, job).await
        }
        Ok(JobKind::SyncAttempt) => crate::services::sync::run_try(state, job).await,
        Ok(JobKind::ProviderReconcile) => {
            crate::services::provider_state::run_reconcile(state, job).await
        }
        Err(other) => {
            tracing::error!(kind = other.0, job = job.id, "unknown job kind; discarding");
            state.store.discard_job(&job.id).await
        }
    };
    if let Err(e) = result {
        let wait = backoff(job.attempts);
        tracing::warn!(
            kind = job.kind,
            job = job.id,
            attempts = job.attempts,
            error = format!("{e:#}"),
            "job failed; will retry"
        );
        let run_at = micros_after(now, wait);
        if let Err(e) = state
            .store
            .retry_job(&job.id, run_at, &format!("{e:#}"))
            .await
        {
            tracing::warn!(
                job = job.id,
                error = format!("{e:#}"),
                "could not reschedule a failed job"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(5), Duration::from_secs(16));
        assert_eq!(backoff(30), Duration::from_secs(300));
    }
}

//! Durable background work: job rows with a due time, claimed under a lease.
//!
//! On PostgreSQL a claim is `FOR UPDATE SKIP LOCKED`, so several processes never claim the same
//! job; on SQLite the single writer connection serialises claims. A job is deleted in the same
//! transaction as its effect, so a crash before that commit leaves it to be claimed again when
//! its lease runs out.

use acorn_types::MerchantId;
use serde_json::Value;
use sqlx::AnyConnection;

use super::{Dialect, Store, StoreError};

/// A claimed job.
#[derive(Debug, Clone)]
pub struct Job {
    /// Bare uuid.
    pub id: String,
    /// What to do (`sandbox.advance`, …).
    pub kind: String,
    /// Whose work it is.
    pub merchant: MerchantId,
    /// Kind-specific arguments.
    pub payload: Value,
    /// Claims so far, including this one.
    pub attempts: i64,
}

/// A claimed job's row.
#[derive(sqlx::FromRow)]
struct JobRow {
    id: String,
    kind: String,
    merchant_id: String,
    payload: String,
    attempts: i64,
}

impl TryFrom<JobRow> for Job {
    type Error = StoreError;

    fn try_from(r: JobRow) -> Result<Self, StoreError> {
        Ok(Job {
            id: r.id,
            kind: r.kind,
            merchant: MerchantId::parse(&r.merchant_id)
                .map_err(|e| anyhow::anyhow!("job merchant: {e}"))?,
            payload: serde_json::from_str(&r.payload)
                .map_err(|e| anyhow::anyhow!("job payload: {e}"))?,
            attempts: r.attempts,
        })
    }
}

/// Adds a job due at `run_at` (microseconds).
pub(crate) async fn enqueue(
    conn: &mut AnyConnection,
    kind: &str,
    merchant: MerchantId,
    payload: &Value,
    run_at: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO jobs (id, kind, merchant_id, payload, run_at, locked_until, attempts, last_error, created_at) \
         VALUES ($1, $2, $3, $4, $5, NULL, 0, NULL, $6)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(kind.to_owned())
    .bind(merchant.uuid().to_string())
    .bind(payload.to_string())
    .bind(run_at)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes a finished job (inside the transaction that made its effect).
pub(crate) async fn finish(conn: &mut AnyConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM jobs WHERE id = $1")
        .bind(id.to_owned())
        .execute(conn)
        .await?;
    Ok(())
}

impl Store {
    /// Wakes this process's worker (after committing new jobs).
    pub fn wake_worker(&self) {
        self.job_notify.notify_one();
    }

    /// Wakes this process's webhook deliverer (after committing due notifications).
    pub fn wake_deliverer(&self) {
        self.delivery_notify.notify_one();
    }

    /// Waits until [`Store::wake_deliverer`] is called.
    pub async fn deliverer_woken(&self) {
        self.delivery_notify.notified().await;
    }

    /// Waits until [`Store::wake_worker`] is called.
    pub async fn worker_woken(&self) {
        self.job_notify.notified().await;
    }

    /// Claims up to `limit` due jobs for `lease_micros`.
    pub async fn claim_jobs(
        &self,
        now: i64,
        lease_micros: i64,
        limit: i64,
    ) -> Result<Vec<Job>, StoreError> {
        let skip_locked = match self.dialect {
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        let text = format!(
            "UPDATE jobs SET locked_until = $1, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM jobs WHERE run_at <= $2 AND (locked_until IS NULL OR locked_until <= $2) \
                          ORDER BY run_at LIMIT $3{skip_locked}) \
               AND (locked_until IS NULL OR locked_until <= $2) \
             RETURNING id, kind, merchant_id, payload, attempts"
        );
        let mut tx = self.begin().await?;
        let rows: Vec<JobRow> = sqlx::query_as(&text)
            .bind(now + lease_micros)
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        rows.into_iter().map(Job::try_from).collect()
    }

    /// Releases a failed job to run again at `run_at`, keeping the error.
    pub async fn retry_job(&self, id: &str, run_at: i64, error: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE jobs SET run_at = $1, locked_until = NULL, last_error = $2 WHERE id = $3",
        )
        .bind(run_at)
        .bind(error.chars().take(1000).collect::<String>())
        .bind(id.to_owned())
        .execute(&mut *self.write.acquire().await?)
        .await?;
        Ok(())
    }

    /// Drops a job that can never succeed (unknown kind, vanished subject).
    pub async fn discard_job(&self, id: &str) -> Result<(), StoreError> {
        let mut conn = self.write.acquire().await?;
        finish(&mut conn, id).await?;
        Ok(())
    }

    /// How many jobs exist (tests and diagnostics).
    pub async fn pending_jobs(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM jobs")
            .fetch_one(&mut *self.read.acquire().await?)
            .await?)
    }

    /// `(kind, jobs, oldest created_at in µs)` of each kind that has jobs (for `/metrics`).
    pub async fn job_queues(&self) -> Result<Vec<(String, i64, i64)>, StoreError> {
        let rows: Vec<(String, i64, i64)> =
            sqlx::query_as("SELECT kind, COUNT(*), MIN(created_at) FROM jobs GROUP BY kind")
                .fetch_all(&mut *self.read.acquire().await?)
                .await?;
        Ok(rows)
    }
}

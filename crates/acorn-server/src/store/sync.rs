//! Sync attempts (contract §4.5): scheduled with their `customer.sync.started` event, run by
//! the worker, finished with `succeeded` or — after the last try — `failed`.

use acorn_types::customer::WRITABLE_FIELDS;
use acorn_types::{
    CustomerId, MerchantId, Provider, RegistrationId, RegistrationStatus, SyncAttemptId, SyncField,
    TargetRole,
};
use serde_json::{json, Map, Value};
use sqlx::{AnyConnection, Row};

use super::customers::adjust_counts;
use super::events::insert_event;
use super::jobs::{enqueue, finish, Job};
use super::registrations::registrations_of;
use super::{format_time, Store, StoreError};

/// The job kind of one sync try.
pub const SYNC_TRY: &str = "sync.attempt";
/// Category of sync events.
pub const CATEGORY_SYNC: &str = "customer_sync_lifecycle";

/// Whether a registration can receive syncs (contract §4.5).
pub fn can_sync(status: RegistrationStatus) -> bool {
    use RegistrationStatus as R;
    !matches!(status, R::NotSubmitted | R::Rejected | R::Cancelled)
}

/// The customer fields a sync group covers (`shipping` = the address, `phone` = three fields).
pub fn expand(fields: &[SyncField]) -> Vec<&'static str> {
    WRITABLE_FIELDS
        .iter()
        .filter(|s| s.sync.is_some_and(|g| fields.contains(&g)))
        .map(|s| s.name)
        .collect()
}

/// The provider record a sync updates.
#[derive(Debug)]
pub struct SyncTarget {
    pub registration: RegistrationId,
    pub role: TargetRole,
    pub provider_customer_id: Option<String>,
}

/// One try of a sync attempt, read at its start.
#[derive(Debug)]
pub struct SyncTry {
    pub attempt: SyncAttemptId,
    pub merchant: MerchantId,
    pub customer: CustomerId,
    pub provider: Provider,
    pub fields: Vec<String>,
    /// The registration pushed to; `None` when none can be synced any more (withdrawn since).
    pub registration: Option<SyncTarget>,
    pub email: String,
    /// Field name → value pushed.
    pub values: Map<String, Value>,
    /// Tries made, including this one.
    pub attempts: i64,
    pub max_attempts: i64,
}

impl Store {
    /// Schedules a sync: the attempt row, its `customer.sync.started` event and its job, in one
    /// transaction. `NotRegistered` when the customer has no registration that can be synced.
    pub async fn schedule_sync(
        &self,
        merchant: MerchantId,
        customer: CustomerId,
        provider: Provider,
        fields: &[SyncField],
        max_attempts: i64,
        now: i64,
    ) -> Result<SyncAttemptId, StoreError> {
        let mut tx = self.begin().await?;
        Self::fetch_customer(&mut tx, merchant, customer, self.for_update())
            .await?
            .ok_or(StoreError::NotFound)?;
        let regs = registrations_of(&mut tx, &[customer.uuid().to_string()]).await?;
        if !regs
            .values()
            .flatten()
            .any(|r| r.provider == provider && can_sync(r.status))
        {
            return Err(StoreError::NotRegistered(format!(
                "the customer has no {provider} registration that can be synced (it must be submitted and not rejected or cancelled)"
            )));
        }
        let id = SyncAttemptId::new();
        let names: Vec<&str> = fields.iter().map(SyncField::as_str).collect();
        sqlx::query(
            "INSERT INTO sync_attempts (id, merchant_id, customer_id, provider, fields, status, attempts, max_attempts, \
             next_attempt_at, last_error, provider_response, created_at, updated_at, completed_at) \
             VALUES ($1, $2, $3, $4, $5, 'scheduled', 0, $6, $7, NULL, NULL, $7, $7, NULL)",
        )
        .bind(id.uuid().to_string())
        .bind(merchant.uuid().to_string())
        .bind(customer.uuid().to_string())
        .bind(provider.as_str().to_owned())
        .bind(json!(names).to_string())
        .bind(max_attempts)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let data = json!({"attempt_id": id.to_string(), "customer_id": customer.to_string(), "provider": provider, "fields": names});
        insert_event(
            &mut tx,
            merchant,
            Some(customer),
            "customer.sync.started",
            CATEGORY_SYNC,
            &data,
            now,
        )
        .await?;
        enqueue(
            &mut tx,
            SYNC_TRY,
            merchant,
            &json!({"attempt_id": id.to_string()}),
            now,
            now,
        )
        .await?;
        crate::idempotency::record(&mut tx, &Value::Null).await?;
        tx.commit().await?;
        self.wake_worker();
        Ok(id)
    }

    /// Starts a try: marks the attempt running and reads the customer's current values.
    /// `None` (and the job finished) when the attempt no longer needs running.
    pub async fn begin_sync_try(&self, job: &Job, now: i64) -> Result<Option<SyncTry>, StoreError> {
        let attempt = job
            .payload
            .get("attempt_id")
            .and_then(Value::as_str)
            .and_then(|s| SyncAttemptId::parse(s).ok())
            .ok_or_else(|| anyhow::anyhow!("sync job without an attempt id"))?;
        let mut tx = self.begin().await?;
        let text = format!(
            "SELECT customer_id, provider, fields, status, attempts, max_attempts FROM sync_attempts WHERE id = $1 AND merchant_id = $2{}",
            self.for_update()
        );
        let row = sqlx::query(&text)
            .bind(attempt.uuid().to_string())
            .bind(job.merchant.uuid().to_string())
            .fetch_optional(&mut *tx)
            .await?;
        let status: Option<String> = row.as_ref().map(|r| r.try_get("status")).transpose()?;
        let (Some(row), Some("scheduled" | "running")) = (row, status.as_deref()) else {
            finish(&mut tx, &job.id).await?;
            tx.commit().await?;
            return Ok(None);
        };
        let customer = CustomerId::parse(&row.try_get::<String, _>("customer_id")?)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let provider = Provider::parse(&row.try_get::<String, _>("provider")?)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let fields: Vec<String> = serde_json::from_str(&row.try_get::<String, _>("fields")?)
            .map_err(anyhow::Error::from)?;
        let attempts: i64 = row.try_get::<i64, _>("attempts")? + 1;
        let max_attempts: i64 = row.try_get("max_attempts")?;
        let current = Self::fetch_customer(&mut tx, job.merchant, customer, "")
            .await?
            .ok_or(StoreError::NotFound)?;
        let regs = registrations_of(&mut tx, &[customer.uuid().to_string()]).await?;
        // Prefer an approved registration, then the newest one that can be synced.
        let mut eligible: Vec<_> = regs
            .into_values()
            .flatten()
            .filter(|r| r.provider == provider && can_sync(r.status))
            .collect();
        eligible.sort_by_key(|r| {
            (
                r.status != RegistrationStatus::Approved,
                std::cmp::Reverse(r.created_at.clone()),
            )
        });
        let target = match eligible.into_iter().next() {
            Some(reg) => Some(SyncTarget {
                registration: RegistrationId::parse(&reg.id).map_err(|e| anyhow::anyhow!("{e}"))?,
                role: reg.target_role,
                provider_customer_id: reg.provider_customer_id.clone(),
            }),
            None => None,
        };
        let groups: Vec<SyncField> = fields
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
        sqlx::query("UPDATE sync_attempts SET status = 'running', attempts = $1, updated_at = $2 WHERE id = $3")
            .bind(attempts)
            .bind(now)
            .bind(attempt.uuid().to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(SyncTry {
            attempt,
            merchant: job.merchant,
            customer,
            provider,
            fields,
            registration: target,
            email: current.email.clone(),
            values,
            attempts,
            max_attempts,
        }))
    }

    /// Ends a try. Success → attempt `succeeded`, customer `synced: true` (unless a pushed field
    /// changed meanwhile). Failure with `retry_at` → scheduled again; without → attempt `failed`,
    /// customer `synced: false`. The job is finished in the same transaction.
    pub async fn finish_sync_try(
        &self,
        job: &Job,
        t: &SyncTry,
        outcome: Result<Value, String>,
        retry_at: Option<i64>,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let id = t.attempt.uuid().to_string();
        let base = json!({"attempt_id": t.attempt.to_string(), "customer_id": t.customer.to_string(),
            "provider": t.provider, "fields": t.fields, "attempts": t.attempts});
        match (outcome, retry_at) {
            (Ok(response), _) => {
                sqlx::query("UPDATE sync_attempts SET status = 'succeeded', provider_response = $1, last_error = NULL, next_attempt_at = NULL, updated_at = $2, completed_at = $2 WHERE id = $3")
                    .bind(response.to_string())
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let current =
                    Self::fetch_customer(&mut tx, t.merchant, t.customer, self.for_update())
                        .await?;
                let profile = serde_json::to_value(&current).map_err(anyhow::Error::from)?;
                let unchanged = t.values.iter().all(|(k, v)| profile.get(k) == Some(v));
                set_synced(&mut tx, t, unchanged, unchanged.then_some(now), now).await?;
                let mut data = base;
                data["provider_response"] = response;
                insert_event(
                    &mut tx,
                    t.merchant,
                    Some(t.customer),
                    "customer.sync.succeeded",
                    CATEGORY_SYNC,
                    &data,
                    now,
                )
                .await?;
                finish(&mut tx, &job.id).await?;
            }
            (Err(error), Some(at)) => {
                sqlx::query("UPDATE sync_attempts SET status = 'scheduled', last_error = $1, next_attempt_at = $2, updated_at = $3 WHERE id = $4")
                    .bind(error)
                    .bind(at)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                finish(&mut tx, &job.id).await?;
                enqueue(&mut tx, SYNC_TRY, t.merchant, &job.payload, at, now).await?;
            }
            (Err(error), None) => {
                sqlx::query("UPDATE sync_attempts SET status = 'failed', last_error = $1, next_attempt_at = NULL, updated_at = $2, completed_at = $2 WHERE id = $3")
                    .bind(error.clone())
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                set_synced(&mut tx, t, false, None, now).await?;
                let mut data = base;
                data["error"] = Value::String(error);
                insert_event(
                    &mut tx,
                    t.merchant,
                    Some(t.customer),
                    "customer.sync.failed",
                    CATEGORY_SYNC,
                    &data,
                    now,
                )
                .await?;
                finish(&mut tx, &job.id).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// A customer's sync attempts, newest first.
    pub async fn sync_attempts(
        &self,
        merchant: MerchantId,
        customer: CustomerId,
    ) -> Result<Vec<Value>, StoreError> {
        let mut conn = self.read.acquire().await?;
        Self::fetch_customer(&mut conn, merchant, customer, "")
            .await?
            .ok_or(StoreError::NotFound)?;
        let rows = sqlx::query(
            "SELECT id, provider, fields, status, attempts, max_attempts, next_attempt_at, last_error, created_at, \
             updated_at, completed_at FROM sync_attempts WHERE merchant_id = $1 AND customer_id = $2 ORDER BY id DESC",
        )
        .bind(merchant.uuid().to_string())
        .bind(customer.uuid().to_string())
        .fetch_all(&mut *conn)
        .await?;
        let time = |v: Option<i64>| v.map(format_time);
        rows.iter()
            .map(|r| {
                let fields: Value = serde_json::from_str(&r.try_get::<String, _>("fields")?)
                    .map_err(anyhow::Error::from)?;
                Ok(json!({
                    "id": format!("{}{}", SyncAttemptId::PREFIX, r.try_get::<String, _>("id")?),
                    "customer_id": customer.to_string(),
                    "provider": r.try_get::<String, _>("provider")?,
                    "fields": fields,
                    "status": r.try_get::<String, _>("status")?,
                    "attempts": r.try_get::<i64, _>("attempts")?,
                    "max_attempts": r.try_get::<i64, _>("max_attempts")?,
                    "next_attempt_at": time(r.try_get("next_attempt_at")?),
                    "last_error": r.try_get::<Option<String>, _>("last_error")?,
                    "created_at": format_time(r.try_get("created_at")?),
                    "updated_at": format_time(r.try_get("updated_at")?),
                    "completed_at": time(r.try_get("completed_at")?),
                }))
            })
            .collect::<Result<Vec<_>, StoreError>>()
    }
}

/// Sets `synced`/`synced_at` (bumping the version and recording `customer.updated` with the
/// attempt id) when they change.
async fn set_synced(
    conn: &mut AnyConnection,
    t: &SyncTry,
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
    sqlx::query(
        "UPDATE customers SET synced = $1, synced_at = COALESCE($2, synced_at), version = version + 1, updated_at = $3 \
         WHERE merchant_id = $4 AND id = $5",
    )
    .bind(i64::from(synced))
    .bind(synced_at)
    .bind(now)
    .bind(t.merchant.uuid().to_string())
    .bind(t.customer.uuid().to_string())
    .execute(&mut *conn)
    .await?;
    let updated = Store::fetch_customer(conn, t.merchant, t.customer, "")
        .await?
        .ok_or(StoreError::NotFound)?;
    adjust_counts(conn, t.merchant, Some(&current), Some(&updated)).await?;
    let data = json!({"customer": updated, "changed_fields": ["synced", "synced_at"], "attempt_id": t.attempt.to_string()});
    insert_event(
        conn,
        t.merchant,
        Some(t.customer),
        "customer.updated",
        super::events::CATEGORY_REGISTRATION,
        &data,
        now,
    )
    .await?;
    Ok(())
}

//! Sync attempt rows (contract §4.5) and the customer's `synced` columns.

use acorn_types::{CustomerId, MerchantId, Provider, SyncAttemptId};
use serde_json::{json, Value};
use sqlx::{AnyConnection, Row};

use super::{format_time, Store, StoreError};

/// A stored attempt as a try needs it.
#[derive(Debug)]
pub struct AttemptRow {
    pub customer: CustomerId,
    pub provider: Provider,
    /// The field groups asked for.
    pub fields: Vec<String>,
    /// `scheduled`, `running`, `succeeded` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
}

/// How an attempt row changes when a try ends.
#[derive(Debug)]
pub enum AttemptEnd {
    /// Pushed: the provider's answer.
    Succeeded(Value),
    /// Failed; tried again at this time.
    Retry { error: String, at: i64 },
    /// Failed for good.
    Failed(String),
}

/// Inserts a new attempt, `scheduled` now.
pub(crate) async fn insert_attempt(
    conn: &mut AnyConnection,
    id: SyncAttemptId,
    merchant: MerchantId,
    customer: CustomerId,
    provider: Provider,
    fields: &[&str],
    max_attempts: i64,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sync_attempts (id, merchant_id, customer_id, provider, fields, status, attempts, max_attempts, \
         next_attempt_at, last_error, provider_response, created_at, updated_at, completed_at) \
         VALUES ($1, $2, $3, $4, $5, 'scheduled', 0, $6, $7, NULL, NULL, $7, $7, NULL)",
    )
    .bind(id.uuid().to_string())
    .bind(merchant.uuid().to_string())
    .bind(customer.uuid().to_string())
    .bind(provider.as_str().to_owned())
    .bind(json!(fields).to_string())
    .bind(max_attempts)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// One attempt of this merchant (row-locked with `suffix`).
pub(crate) async fn find_attempt(
    conn: &mut AnyConnection,
    id: SyncAttemptId,
    merchant: MerchantId,
    suffix: &str,
) -> Result<Option<AttemptRow>, StoreError> {
    let text = format!(
        "SELECT customer_id, provider, fields, status, attempts, max_attempts FROM sync_attempts WHERE id = $1 AND merchant_id = $2{suffix}"
    );
    let row = sqlx::query(&text)
        .bind(id.uuid().to_string())
        .bind(merchant.uuid().to_string())
        .fetch_optional(conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let parse_err = |e: acorn_types::UnknownValue| anyhow::anyhow!("stored value: {e}");
    Ok(Some(AttemptRow {
        customer: CustomerId::parse(&row.try_get::<String, _>("customer_id")?)
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        provider: Provider::parse(&row.try_get::<String, _>("provider")?).map_err(parse_err)?,
        fields: serde_json::from_str(&row.try_get::<String, _>("fields")?)
            .map_err(anyhow::Error::from)?,
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        max_attempts: row.try_get("max_attempts")?,
    }))
}

/// Marks an attempt `running` on its `attempts`-th try.
pub(crate) async fn mark_running(
    conn: &mut AnyConnection,
    id: SyncAttemptId,
    attempts: i64,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE sync_attempts SET status = 'running', attempts = $1, updated_at = $2 WHERE id = $3",
    )
    .bind(attempts)
    .bind(now)
    .bind(id.uuid().to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// Records how a try ended.
pub(crate) async fn end_attempt(
    conn: &mut AnyConnection,
    id: SyncAttemptId,
    end: &AttemptEnd,
    now: i64,
) -> Result<(), StoreError> {
    let id = id.uuid().to_string();
    let q = match end {
        AttemptEnd::Succeeded(response) => sqlx::query(
            "UPDATE sync_attempts SET status = 'succeeded', provider_response = $1, last_error = NULL, \
             next_attempt_at = NULL, updated_at = $2, completed_at = $2 WHERE id = $3",
        )
        .bind(response.to_string())
        .bind(now)
        .bind(id),
        AttemptEnd::Retry { error, at } => sqlx::query(
            "UPDATE sync_attempts SET status = 'scheduled', last_error = $1, next_attempt_at = $2, \
             updated_at = $3 WHERE id = $4",
        )
        .bind(error.clone())
        .bind(*at)
        .bind(now)
        .bind(id),
        AttemptEnd::Failed(error) => sqlx::query(
            "UPDATE sync_attempts SET status = 'failed', last_error = $1, next_attempt_at = NULL, \
             updated_at = $2, completed_at = $2 WHERE id = $3",
        )
        .bind(error.clone())
        .bind(now)
        .bind(id),
    };
    q.execute(conn).await?;
    Ok(())
}

/// Sets the customer's `synced` (and `synced_at`, kept when `None`), bumping its version.
pub(crate) async fn set_synced(
    conn: &mut AnyConnection,
    merchant: MerchantId,
    customer: CustomerId,
    synced: bool,
    synced_at: Option<i64>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE customers SET synced = $1, synced_at = COALESCE($2, synced_at), version = version + 1, updated_at = $3 \
         WHERE merchant_id = $4 AND id = $5",
    )
    .bind(i64::from(synced))
    .bind(synced_at)
    .bind(now)
    .bind(merchant.uuid().to_string())
    .bind(customer.uuid().to_string())
    .execute(conn)
    .await?;
    Ok(())
}

impl Store {
    /// A customer's sync attempts, newest first, as the API shows them.
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

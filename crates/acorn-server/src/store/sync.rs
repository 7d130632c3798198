//! Sync attempt rows (contract §4.5) and the customer's `synced` columns.

use acorn_types::{
    CustomerId, MerchantId, Provider, SyncAttempt, SyncAttemptId, SyncAttemptStatus,
};
use serde_json::{json, Value};
use sqlx::AnyConnection;

use super::{format_time, Store, StoreError};

/// A stored attempt as a try needs it.
#[derive(Debug)]
pub struct AttemptRow {
    pub customer: CustomerId,
    pub provider: Provider,
    /// The field groups asked for.
    pub fields: Vec<String>,
    pub status: SyncAttemptStatus,
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

/// A new attempt.
#[derive(Debug)]
pub struct NewAttempt<'a> {
    pub id: SyncAttemptId,
    pub merchant: MerchantId,
    pub customer: CustomerId,
    pub provider: Provider,
    pub fields: &'a [&'a str],
    pub max_attempts: i64,
}

/// Inserts a new attempt, `scheduled` now.
pub(crate) async fn insert_attempt(
    conn: &mut AnyConnection,
    a: &NewAttempt<'_>,
    now: i64,
) -> Result<(), StoreError> {
    let NewAttempt {
        id,
        merchant,
        customer,
        provider,
        fields,
        max_attempts,
    } = *a;
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
    let row: Option<StoredAttempt> = sqlx::query_as(&text)
        .bind(id.uuid().to_string())
        .bind(merchant.uuid().to_string())
        .fetch_optional(conn)
        .await?;
    row.map(AttemptRow::try_from).transpose()
}

/// The columns of an attempt a try reads.
#[derive(sqlx::FromRow)]
struct StoredAttempt {
    customer_id: String,
    provider: String,
    fields: String,
    status: String,
    attempts: i64,
    max_attempts: i64,
}

impl TryFrom<StoredAttempt> for AttemptRow {
    type Error = StoreError;

    fn try_from(row: StoredAttempt) -> Result<Self, StoreError> {
        Ok(AttemptRow {
            customer: CustomerId::parse(&row.customer_id).map_err(|e| anyhow::anyhow!("{e}"))?,
            provider: Provider::parse(&row.provider)
                .map_err(|e| anyhow::anyhow!("stored value: {e}"))?,
            fields: serde_json::from_str(&row.fields).map_err(anyhow::Error::from)?,
            status: SyncAttemptStatus::parse(&row.status)
                .map_err(|e| anyhow::anyhow!("stored value: {e}"))?,
            attempts: row.attempts,
            max_attempts: row.max_attempts,
        })
    }
}

/// An attempt as the API lists it.
#[derive(sqlx::FromRow)]
struct ListedAttempt {
    id: String,
    provider: String,
    fields: String,
    status: String,
    attempts: i64,
    max_attempts: i64,
    next_attempt_at: Option<i64>,
    last_error: Option<String>,
    created_at: i64,
    updated_at: i64,
    completed_at: Option<i64>,
}

impl ListedAttempt {
    fn into_wire(self, customer: CustomerId) -> Result<SyncAttempt, StoreError> {
        let stored = |e: acorn_types::UnknownValue| anyhow::anyhow!("stored sync attempt: {e}");
        Ok(SyncAttempt {
            id: format!("{}{}", SyncAttemptId::PREFIX, self.id),
            customer_id: customer.to_string(),
            provider: Provider::parse(&self.provider).map_err(stored)?,
            fields: serde_json::from_str(&self.fields).map_err(anyhow::Error::from)?,
            status: SyncAttemptStatus::parse(&self.status).map_err(stored)?,
            attempts: self.attempts,
            max_attempts: self.max_attempts,
            next_attempt_at: self.next_attempt_at.map(format_time),
            last_error: self.last_error,
            created_at: format_time(self.created_at),
            updated_at: format_time(self.updated_at),
            completed_at: self.completed_at.map(format_time),
        })
    }
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
    merchant: MerchantId,
    id: SyncAttemptId,
    end: &AttemptEnd,
    now: i64,
) -> Result<(), StoreError> {
    let id = id.uuid().to_string();
    // The provider's answer may echo the customer's data: sealed with the merchant's key.
    let sealed = match end {
        AttemptEnd::Succeeded(response) => {
            crate::base::crypto::seal_for(merchant, &response.to_string(), "provider_response")?
        }
        _ => String::new(),
    };
    let q = match end {
        AttemptEnd::Succeeded(_) => sqlx::query(
            "UPDATE sync_attempts SET status = 'succeeded', provider_response = $1, last_error = NULL, \
             next_attempt_at = NULL, updated_at = $2, completed_at = $2 WHERE id = $3",
        )
        .bind(sealed)
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
    /// A customer's sync attempts, newest first.
    pub async fn sync_attempts(
        &self,
        merchant: MerchantId,
        customer: CustomerId,
    ) -> Result<Vec<SyncAttempt>, StoreError> {
        let mut conn = self.read.acquire().await?;
        Self::fetch_customer(&mut conn, merchant, customer, "")
            .await?
            .ok_or(StoreError::NotFound)?;
        let rows: Vec<ListedAttempt> = sqlx::query_as(
            "SELECT id, provider, fields, status, attempts, max_attempts, next_attempt_at, last_error, created_at, \
             updated_at, completed_at FROM sync_attempts WHERE merchant_id = $1 AND customer_id = $2 ORDER BY id DESC",
        )
        .bind(merchant.uuid().to_string())
        .bind(customer.uuid().to_string())
        .fetch_all(&mut *conn)
        .await?;
        rows.into_iter().map(|r| r.into_wire(customer)).collect()
    }
}

//! Merchants and their credentials.

use acorn_types::MerchantId;
use sqlx::Row;

use super::{now_micros, OnUnique, Store, StoreError};

/// A merchant to create; the secret is already hashed.
#[derive(Debug)]
pub struct NewMerchant {
    /// New id.
    pub id: MerchantId,
    /// Display name.
    pub name: String,
    /// Public client id.
    pub client_id: String,
    /// Keyed hash of the client secret.
    pub secret_hash: String,
}

/// What the token grant needs to check credentials.
#[derive(Debug)]
pub struct MerchantAuth {
    /// The merchant.
    pub id: MerchantId,
    /// Keyed hash of its client secret.
    pub secret_hash: String,
}

/// A merchant as listed by the operator.
#[derive(Debug, serde::Serialize)]
pub struct MerchantSummary {
    /// `mer_…`.
    pub merchant_id: String,
    /// Display name.
    pub name: String,
    /// Public client id.
    pub client_id: String,
    /// RFC 3339.
    pub created_at: String,
}

impl Store {
    /// Stores a new merchant.
    pub async fn create_merchant(&self, m: &NewMerchant) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO merchants (id, name, client_id, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(m.id.uuid().to_string())
            .bind(m.name.clone())
            .bind(m.client_id.clone())
            .bind(m.secret_hash.clone())
            .bind(now_micros())
            .execute(&mut *self.write.acquire().await?)
            .await
            .on_unique_violation("client_id")?;
        self.ensure_key(m.id).await?;
        Ok(())
    }

    /// Every merchant, oldest first.
    pub async fn list_merchants(&self) -> Result<Vec<MerchantSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, client_id, created_at FROM merchants ORDER BY created_at, id",
        )
        .fetch_all(&mut *self.read.acquire().await?)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MerchantSummary {
                    merchant_id: format!("{}{}", MerchantId::PREFIX, r.try_get::<String, _>("id")?),
                    name: r.try_get("name")?,
                    client_id: r.try_get("client_id")?,
                    created_at: super::format_time(r.try_get("created_at")?),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// How many merchants exist.
    pub async fn count_merchants(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM merchants")
            .fetch_one(&mut *self.write.acquire().await?)
            .await?)
    }

    /// Looks a merchant up by client id.
    pub async fn merchant_by_client_id(
        &self,
        client_id: &str,
    ) -> Result<Option<MerchantAuth>, StoreError> {
        let row = sqlx::query("SELECT id, secret_hash FROM merchants WHERE client_id = $1")
            .bind(client_id.to_owned())
            .fetch_optional(&mut *self.read.acquire().await?)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let id: String = row.try_get("id")?;
        let id = MerchantId::parse(&id).map_err(|e| anyhow::anyhow!("stored merchant id: {e}"))?;
        Ok(Some(MerchantAuth {
            id,
            secret_hash: row.try_get("secret_hash")?,
        }))
    }

    /// Whether the merchant still exists (tokens of deleted merchants stop working). Every
    /// authenticated request asks, so a positive answer is remembered for a few seconds; a
    /// deletion through this process is seen at once, through another within that time.
    pub async fn merchant_exists(&self, id: MerchantId) -> Result<bool, StoreError> {
        if self.known_merchants.fresh(id) {
            return Ok(true);
        }
        let exists = self.merchant_exists_uncached(id).await?;
        if exists {
            self.ensure_key(id).await?;
            self.known_merchants.remember(id);
        }
        Ok(exists)
    }

    async fn merchant_exists_uncached(&self, id: MerchantId) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM merchants WHERE id = $1")
            .bind(id.uuid().to_string())
            .fetch_optional(&mut *self.read.acquire().await?)
            .await?;
        Ok(found.is_some())
    }

    /// Deletes a merchant that owns nothing (operator use and tests).
    pub async fn delete_merchant(&self, id: MerchantId) -> Result<(), StoreError> {
        self.known_merchants.forget(id);
        let done = sqlx::query("DELETE FROM merchants WHERE id = $1")
            .bind(id.uuid().to_string())
            .execute(&mut *self.write.acquire().await?)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

/// Merchants recently seen to exist, each for [`KnownMerchants::TTL`].
#[derive(Debug, Default)]
pub(crate) struct KnownMerchants(
    std::sync::Mutex<std::collections::HashMap<MerchantId, std::time::Instant>>,
);

impl KnownMerchants {
    const TTL: std::time::Duration = std::time::Duration::from_secs(5);

    fn fresh(&self, id: MerchantId) -> bool {
        self.0
            .lock()
            .ok()
            .and_then(|m| m.get(&id).copied())
            .is_some_and(|at| at.elapsed() < Self::TTL)
    }

    fn remember(&self, id: MerchantId) {
        if let Ok(mut m) = self.0.lock() {
            if m.len() > 10_000 {
                m.retain(|_, at| at.elapsed() < Self::TTL);
            }
            m.insert(id, std::time::Instant::now());
        }
    }

    fn forget(&self, id: MerchantId) {
        if let Ok(mut m) = self.0.lock() {
            m.remove(&id);
        }
    }
}

//! Merchants and their credentials.

use acorn_types::{MerchantId, Mode};
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
    /// Sandbox or live, fixed from now on.
    pub mode: Mode,
}

/// What the token grant needs to check credentials.
#[derive(Debug)]
pub struct MerchantAuth {
    /// The merchant.
    pub id: MerchantId,
    /// Keyed hash of its client secret.
    pub secret_hash: String,
    /// Its mode.
    pub mode: Mode,
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
    /// `sandbox` or `live`.
    pub mode: Mode,
    /// Whether the mode was chosen (at creation, or once by `set-mode` for a merchant created
    /// before modes existed); `false` only for such an older merchant not yet marked.
    pub mode_chosen: bool,
    /// RFC 3339.
    pub created_at: String,
}

/// Why a merchant's mode could not be set.
#[derive(Debug, thiserror::Error)]
pub enum SetModeError {
    /// No such merchant.
    #[error("no merchant with that id")]
    NotFound,
    /// Its mode was chosen at creation (or set once already) and is fixed.
    #[error("the merchant's mode was chosen when it was created ({0}) and cannot change")]
    Fixed(Mode),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn mode_of(text: &str) -> Result<Mode, StoreError> {
    Mode::parse(text).map_err(|e| StoreError::Other(anyhow::anyhow!("stored merchant mode: {e}")))
}

impl Store {
    /// Stores a new merchant.
    pub async fn create_merchant(&self, m: &NewMerchant) -> Result<(), StoreError> {
        let now = now_micros();
        sqlx::query(
            "INSERT INTO merchants (id, name, client_id, secret_hash, created_at, mode, mode_set_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
            .bind(m.id.uuid().to_string())
            .bind(m.name.clone())
            .bind(m.client_id.clone())
            .bind(m.secret_hash.clone())
            .bind(now)
            .bind(m.mode.as_str())
            .bind(now)
            .execute(&mut *self.write.acquire().await?)
            .await
            .on_unique_violation("client_id")?;
        self.ensure_key(m.id).await?;
        Ok(())
    }

    /// Every merchant, oldest first.
    pub async fn list_merchants(&self) -> Result<Vec<MerchantSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, client_id, mode, mode_set_at, created_at FROM merchants \
             ORDER BY created_at, id",
        )
        .fetch_all(&mut *self.read.acquire().await?)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MerchantSummary {
                    merchant_id: format!("{}{}", MerchantId::PREFIX, r.try_get::<String, _>("id")?),
                    name: r.try_get("name")?,
                    client_id: r.try_get("client_id")?,
                    mode: mode_of(&r.try_get::<String, _>("mode")?)?,
                    mode_chosen: r.try_get::<Option<i64>, _>("mode_set_at")?.is_some(),
                    created_at: super::format_time(r.try_get("created_at")?),
                })
            })
            .collect()
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
        let row = sqlx::query("SELECT id, secret_hash, mode FROM merchants WHERE client_id = $1")
            .bind(client_id.to_owned())
            .fetch_optional(&mut *self.read.acquire().await?)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let id: String = row.try_get("id")?;
        let id = MerchantId::parse(&id).map_err(|e| anyhow::anyhow!("stored merchant id: {e}"))?;
        Ok(Some(MerchantAuth {
            id,
            secret_hash: row.try_get("secret_hash")?,
            mode: mode_of(&row.try_get::<String, _>("mode")?)?,
        }))
    }

    /// The merchant's mode, or `None` when it no longer exists (tokens of deleted merchants
    /// stop working). Every authenticated request asks, so an answer is remembered for a few
    /// seconds; a deletion through this process is seen at once, through another within that
    /// time.
    pub async fn merchant_mode(&self, id: MerchantId) -> Result<Option<Mode>, StoreError> {
        if let Some(mode) = self.known_merchants.fresh(id) {
            return Ok(Some(mode));
        }
        let mode = self.merchant_mode_uncached(id).await?;
        if let Some(mode) = mode {
            self.ensure_key(id).await?;
            self.known_merchants.remember(id, mode);
        }
        Ok(mode)
    }

    async fn merchant_mode_uncached(&self, id: MerchantId) -> Result<Option<Mode>, StoreError> {
        let found: Option<String> = sqlx::query_scalar("SELECT mode FROM merchants WHERE id = $1")
            .bind(id.uuid().to_string())
            .fetch_optional(&mut *self.read.acquire().await?)
            .await?;
        found.as_deref().map(mode_of).transpose()
    }

    /// Marks a merchant created before modes existed as `mode`, once; refused for a merchant
    /// whose mode was chosen at creation or already set.
    pub async fn set_merchant_mode(&self, id: MerchantId, mode: Mode) -> Result<(), SetModeError> {
        self.known_merchants.forget(id);
        let done = sqlx::query(
            "UPDATE merchants SET mode = $2, mode_set_at = $3 WHERE id = $1 AND mode_set_at IS NULL",
        )
        .bind(id.uuid().to_string())
        .bind(mode.as_str())
        .bind(now_micros())
        .execute(&mut *self.write.acquire().await.map_err(StoreError::from)?)
        .await
        .map_err(StoreError::from)?;
        if done.rows_affected() == 1 {
            return Ok(());
        }
        match self.merchant_mode_uncached(id).await? {
            None => Err(SetModeError::NotFound),
            Some(current) => Err(SetModeError::Fixed(current)),
        }
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

/// Merchants recently seen to exist, with their mode, each for [`KnownMerchants::TTL`].
#[derive(Debug, Default)]
pub(crate) struct KnownMerchants(
    std::sync::Mutex<std::collections::HashMap<MerchantId, (Mode, std::time::Instant)>>,
);

impl KnownMerchants {
    const TTL: std::time::Duration = std::time::Duration::from_secs(5);

    fn fresh(&self, id: MerchantId) -> Option<Mode> {
        self.0
            .lock()
            .ok()
            .and_then(|m| m.get(&id).copied())
            .filter(|(_, at)| at.elapsed() < Self::TTL)
            .map(|(mode, _)| mode)
    }

    fn remember(&self, id: MerchantId, mode: Mode) {
        if let Ok(mut m) = self.0.lock() {
            if m.len() > 10_000 {
                m.retain(|_, (_, at)| at.elapsed() < Self::TTL);
            }
            m.insert(id, (mode, std::time::Instant::now()));
        }
    }

    fn forget(&self, id: MerchantId) {
        if let Ok(mut m) = self.0.lock() {
            m.remove(&id);
        }
    }
}

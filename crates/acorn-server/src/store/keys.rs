//! The merchants' data keys, wrapped by the master key (see [`crate::crypto`]).

use acorn_types::MerchantId;
use sqlx::Row;

use super::{now_micros, Store, StoreError};
use crate::crypto::{self, DataKey, MasterKey};

/// The settings row that identifies the master key a database is sealed under.
const CHECK: &str = "master_key_check";

impl Store {
    /// Checks `master` against the database and unwraps every merchant's data key. A key other
    /// than the one the database was sealed under fails with a clear message and writes
    /// nothing; a database without a check value yet records this key's.
    pub async fn unlock(&self, master: MasterKey) -> anyhow::Result<()> {
        let stored: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                .bind(CHECK)
                .fetch_optional(&mut *self.read.acquire().await?)
                .await?;
        match stored {
            Some(v) if v != master.check_value() => anyhow::bail!(
                "wrong master key: this database was encrypted with another master key \
                 (check ACORN_MASTER_KEY or the master key file); nothing was changed"
            ),
            Some(_) => {}
            None => {
                sqlx::query(
                    "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                )
                .bind(CHECK)
                .bind(master.check_value().to_owned())
                .execute(&mut *self.write.acquire().await?)
                .await?;
            }
        }
        let rows = sqlx::query("SELECT merchant_id, wrapped_key FROM merchant_keys")
            .fetch_all(&mut *self.read.acquire().await?)
            .await?;
        for row in rows {
            let id: String = row.try_get("merchant_id")?;
            let id =
                MerchantId::parse(&id).map_err(|e| anyhow::anyhow!("stored merchant id: {e}"))?;
            let wrapped: String = row.try_get("wrapped_key")?;
            let key = master.unwrap_key(id, &wrapped).map_err(|_| {
                anyhow::anyhow!("wrong master key: a merchant's data key does not unwrap with it")
            })?;
            crypto::remember(id, key);
        }
        if let Ok(mut m) = self.master.write() {
            *m = Some(master);
        }
        Ok(())
    }

    /// Makes sure this process holds the merchant's data key: loads it, or creates it the first
    /// time the merchant needs one. A store that was never unlocked (an operator command)
    /// leaves that to the server.
    pub(crate) async fn ensure_key(&self, merchant: MerchantId) -> Result<(), StoreError> {
        if crypto::has_data_key(merchant) {
            return Ok(());
        }
        let Some(master) = self.master.read().ok().and_then(|m| m.clone()) else {
            return Ok(());
        };
        let id = merchant.uuid().to_string();
        let fresh = DataKey::generate();
        sqlx::query("INSERT INTO merchant_keys (merchant_id, master_version, wrapped_key, created_at) VALUES ($1, 1, $2, $3) ON CONFLICT (merchant_id) DO NOTHING")
            .bind(id.clone())
            .bind(master.wrap(merchant, &fresh))
            .bind(now_micros())
            .execute(&mut *self.write.acquire().await?)
            .await?;
        // Another process may have won the race: the stored key is the one.
        let wrapped: String =
            sqlx::query_scalar("SELECT wrapped_key FROM merchant_keys WHERE merchant_id = $1")
                .bind(id)
                .fetch_one(&mut *self.write.acquire().await?)
                .await?;
        crypto::remember(merchant, master.unwrap_key(merchant, &wrapped)?);
        Ok(())
    }
}

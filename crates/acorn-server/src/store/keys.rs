//! The merchants' data keys, wrapped by a version of the master key (see [`crate::base::crypto`] and
//! [`crate::base::keyring`]).
//!
//! Settings rows: `master_key_check` (version 1) and `master_key_check:vN` tell whether a given
//! key is the one the database knows under that version; `master_key_version` is the version
//! the database was last rotated to — no data key is wrapped under an older one after that.

use std::collections::BTreeMap;

use acorn_types::MerchantId;
use sqlx::Row;

use super::{now_micros, Store, StoreError};
use crate::base::crypto::{self, DataKey, MasterKey};
use crate::base::keyring::Keyring;

const VERSION: &str = "master_key_version";

/// The settings key of a version's check value.
fn check_key(version: u32) -> String {
    match version {
        1 => "master_key_check".into(),
        v => format!("master_key_check:v{v}"),
    }
}

fn version_of(row_value: i64) -> Result<u32, StoreError> {
    u32::try_from(row_value)
        .map_err(|_| StoreError::Other(anyhow::anyhow!("stored master key version {row_value}")))
}

fn merchant_of(text: &str) -> anyhow::Result<MerchantId> {
    MerchantId::parse(text).map_err(|e| anyhow::anyhow!("stored merchant id: {e}"))
}

impl Store {
    /// Checks the keyring against the database and unwraps every merchant's data key. A key
    /// other than the one the database knows under its version, a database rotated past the
    /// newest given key, or a data key wrapped under a version not given, fails with a clear
    /// message and writes nothing; versions the database has not seen yet are recorded.
    pub async fn unlock(&self, ring: Keyring) -> anyhow::Result<()> {
        let checks = self.master_checks().await?;
        verify(&ring, &checks)?;
        let rotated_to = self.master_version().await?;
        let (newest, _) = ring.current();
        anyhow::ensure!(
            newest >= rotated_to,
            "wrong master key: this database was rotated to master key v{rotated_to}, but {} \
             holds only up to v{newest}; nothing was changed",
            ring.source().describe()
        );
        let rows =
            sqlx::query("SELECT merchant_id, master_version, wrapped_key FROM merchant_keys")
                .fetch_all(&mut *self.read.acquire().await?)
                .await?;
        let mut keys = Vec::with_capacity(rows.len());
        for row in rows {
            let id = merchant_of(&row.try_get::<String, _>("merchant_id")?)?;
            let version = version_of(row.try_get("master_version")?)?;
            let master = ring.get(version).ok_or_else(|| {
                anyhow::anyhow!(
                    "wrong master key: a merchant's data key is wrapped with master key \
                     v{version}, which {} does not hold (it holds {:?}); nothing was changed",
                    ring.source().describe(),
                    ring.versions()
                )
            })?;
            let wrapped: String = row.try_get("wrapped_key")?;
            let key = master.unwrap_key(id, &wrapped).map_err(|_| {
                anyhow::anyhow!("wrong master key: a merchant's data key does not unwrap with it")
            })?;
            keys.push((id, key));
        }
        for v in ring.versions() {
            if !checks.contains_key(&v) {
                if let Some(k) = ring.get(v) {
                    self.record_master_check(v, k).await?;
                }
            }
        }
        for (id, key) in keys {
            crypto::remember(id, key);
        }
        self.set_keyring(ring);
        Ok(())
    }

    fn keyring(&self) -> Option<Keyring> {
        self.master.read().ok().and_then(|m| m.clone())
    }

    fn set_keyring(&self, ring: Keyring) {
        if let Ok(mut m) = self.master.write() {
            *m = Some(ring);
        }
    }

    /// The key file read again, checked against the database, and kept.
    async fn reload_keyring(&self, ring: &Keyring) -> anyhow::Result<Keyring> {
        let fresh = ring.reload()?;
        verify(&fresh, &self.master_checks().await?)?;
        self.set_keyring(fresh.clone());
        Ok(fresh)
    }

    /// The check values the database holds, by version.
    pub async fn master_checks(&self) -> anyhow::Result<BTreeMap<u32, String>> {
        let rows =
            sqlx::query("SELECT key, value FROM settings WHERE key LIKE 'master_key_check%'")
                .fetch_all(&mut *self.write.acquire().await?)
                .await?;
        let mut checks = BTreeMap::new();
        for row in rows {
            let key: String = row.try_get("key")?;
            let version = match key.strip_prefix("master_key_check") {
                Some("") => 1,
                Some(rest) => match rest.strip_prefix(":v").and_then(|v| v.parse().ok()) {
                    Some(v) => v,
                    None => continue,
                },
                None => continue,
            };
            checks.insert(version, row.try_get("value")?);
        }
        Ok(checks)
    }

    /// Records `key` as master key `version` (from now on every process must give the same
    /// key under that version); fails if the database already knows another one under it.
    pub async fn record_master_check(&self, version: u32, key: &MasterKey) -> anyhow::Result<()> {
        let stored = self
            .setting_or_insert(&check_key(version), key.check_value())
            .await?;
        anyhow::ensure!(
            stored == key.check_value(),
            "wrong master key: master key v{version} is not the one this database knows under v{version}"
        );
        Ok(())
    }

    /// The version the database was last rotated to (1 before any rotation).
    pub async fn master_version(&self) -> anyhow::Result<u32> {
        let v: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(VERSION)
            .fetch_optional(&mut *self.write.acquire().await?)
            .await?;
        Ok(match v {
            Some(v) => v
                .parse()
                .map_err(|_| anyhow::anyhow!("stored {VERSION} {v:?}"))?,
            None => 1,
        })
    }

    /// Moves the database to `version` (never back): from now on every new data key is
    /// wrapped under it, and a process holding only older keys reads its key file again.
    pub async fn set_master_version(&self, version: u32) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE \
             SET value = excluded.value \
             WHERE CAST(settings.value AS BIGINT) < CAST(excluded.value AS BIGINT)",
        )
        .bind(VERSION)
        .bind(version.to_string())
        .execute(&mut *self.write.acquire().await?)
        .await?;
        Ok(())
    }

    /// How many data keys each master key version wraps.
    pub async fn data_keys_by_version(&self) -> anyhow::Result<BTreeMap<u32, u64>> {
        let rows = sqlx::query(
            "SELECT master_version, COUNT(*) AS n FROM merchant_keys GROUP BY master_version",
        )
        .fetch_all(&mut *self.write.acquire().await?)
        .await?;
        let mut counts = BTreeMap::new();
        for row in rows {
            let n: i64 = row.try_get("n")?;
            counts.insert(version_of(row.try_get("master_version")?)?, n as u64);
        }
        Ok(counts)
    }

    /// Re-wraps up to `limit` data keys held under versions older than `target` with the
    /// target key, in one transaction; returns how many. A key re-wrapped meanwhile by another
    /// process is left as that process wrote it.
    pub async fn rewrap_data_keys(
        &self,
        ring: &Keyring,
        target: u32,
        limit: i64,
    ) -> anyhow::Result<u64> {
        let to = ring
            .get(target)
            .ok_or_else(|| anyhow::anyhow!("master key v{target} is not in the keyring"))?;
        let rows = sqlx::query(
            "SELECT merchant_id, master_version, wrapped_key FROM merchant_keys \
             WHERE master_version < $1 ORDER BY merchant_id LIMIT $2",
        )
        .bind(i64::from(target))
        .bind(limit)
        .fetch_all(&mut *self.write.acquire().await?)
        .await?;
        let mut tx = self.write.begin(None).await?;
        let mut done = 0;
        for row in rows {
            let text: String = row.try_get("merchant_id")?;
            let id = merchant_of(&text)?;
            let version = version_of(row.try_get("master_version")?)?;
            let from = ring
                .get(version)
                .ok_or_else(|| anyhow::anyhow!("master key v{version} is not in the keyring"))?;
            let wrapped: String = row.try_get("wrapped_key")?;
            let rewrapped = from.rewrap(id, &wrapped, to)?;
            done += sqlx::query(
                "UPDATE merchant_keys SET master_version = $1, wrapped_key = $2 \
                 WHERE merchant_id = $3 AND master_version = $4",
            )
            .bind(i64::from(target))
            .bind(rewrapped)
            .bind(text)
            .bind(i64::from(version))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(done)
    }

    /// Makes sure this process holds the merchant's data key: loads it, or creates it (under
    /// the newest master key) the first time the merchant needs one. If the database was
    /// rotated past this process's newest key, the key file is read again first. A store that
    /// was never unlocked (an operator command) leaves that to the server.
    pub(crate) async fn ensure_key(&self, merchant: MerchantId) -> Result<(), StoreError> {
        if crypto::has_data_key(merchant) {
            return Ok(());
        }
        let Some(mut ring) = self.keyring() else {
            return Ok(());
        };
        for _ in 0..2 {
            self.insert_data_key(merchant, &ring).await?;
            let row = sqlx::query(
                "SELECT master_version, wrapped_key FROM merchant_keys WHERE merchant_id = $1",
            )
            .bind(merchant.uuid().to_string())
            .fetch_optional(&mut *self.write.acquire().await?)
            .await?;
            if let Some(row) = row {
                let version = version_of(row.try_get("master_version")?)?;
                if ring.get(version).is_none() {
                    ring = self.reload_keyring(&ring).await?;
                }
                let master = ring.get(version).ok_or_else(|| {
                    anyhow::anyhow!("a data key is wrapped with master key v{version}, which this server was not given")
                })?;
                let wrapped: String = row.try_get("wrapped_key")?;
                crypto::remember(merchant, master.unwrap_key(merchant, &wrapped)?);
                return Ok(());
            }
            // Rotated past this process's newest key: its source may hold the new one.
            ring = self.reload_keyring(&ring).await?;
        }
        Err(StoreError::Other(anyhow::anyhow!(
            "the master key was rotated to a version this server was not given; \
             restart it with the new key (`acorn keys status` tells which)"
        )))
    }

    /// Inserts a new data key for `merchant` under the keyring's newest version, unless the
    /// merchant has one or the database was rotated past that version (both in one statement,
    /// so a rotation cannot slip between the check and the insert).
    async fn insert_data_key(
        &self,
        merchant: MerchantId,
        ring: &Keyring,
    ) -> Result<(), StoreError> {
        let (version, master) = ring.current();
        sqlx::query(
            "INSERT INTO merchant_keys (merchant_id, master_version, wrapped_key, created_at) \
             SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM settings \
             WHERE key = $5 AND CAST(value AS BIGINT) > $6) \
             ON CONFLICT (merchant_id) DO NOTHING",
        )
        .bind(merchant.uuid().to_string())
        .bind(i64::from(version))
        .bind(master.wrap(merchant, &DataKey::generate()))
        .bind(now_micros())
        .bind(VERSION)
        .bind(i64::from(version))
        .execute(&mut *self.write.acquire().await?)
        .await?;
        Ok(())
    }
}

/// Fails if a key of the ring is not the one the database knows under its version.
fn verify(ring: &Keyring, checks: &BTreeMap<u32, String>) -> anyhow::Result<()> {
    for v in ring.versions() {
        if let (Some(stored), Some(key)) = (checks.get(&v), ring.get(v)) {
            anyhow::ensure!(
                stored == key.check_value(),
                "wrong master key: this database was encrypted with another master key \
                 (v{v} in {}); nothing was changed",
                ring.source().describe()
            );
        }
    }
    Ok(())
}

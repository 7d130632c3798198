//! Master key rotation (`acorn keys rotate`), run beside live servers.
//!
//! Data keys never change, so sealed values stay as they are: rotation re-wraps each merchant's
//! data key under a new master key version. In order, so that a crash at any point loses
//! nothing: the new version is claimed in the database (its check value), written into the key
//! file beside the old ones, made the database's version (from then on servers wrap new data
//! keys under it, reading the key file again if they lack it), every older data key is
//! re-wrapped in small transactions, and only when none is left are the older versions dropped
//! from the key file. With `ACORN_MASTER_KEY` the operator adds the new version to the variable
//! first and removes the old one after.

use std::time::Duration;

use crate::base::crypto::MasterKey;
use crate::base::keyring::{self, KeySource, Keyring};
use crate::store::Store;

/// Data keys re-wrapped per transaction.
const BATCH: i64 = 200;

/// How long a server that read the old version just before the switch may take to finish
/// writing a data key under it; rotation looks again after this.
const SETTLE: Duration = Duration::from_millis(500);

/// What a rotation did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rotation {
    /// The versions data keys were wrapped under before.
    pub from: Vec<u32>,
    /// The version every data key is wrapped under now.
    pub to: u32,
    /// Data keys re-wrapped.
    pub rewrapped: u64,
    /// The key file now holds only the new version (false with `ACORN_MASTER_KEY`).
    pub key_file_pruned: bool,
    /// Where the keys live.
    pub source: String,
}

/// Where a database's keys stand.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyStatus {
    /// The version the database was last rotated to.
    pub version: u32,
    /// Data keys per master key version.
    pub data_keys: std::collections::BTreeMap<u32, u64>,
    /// Versions the database knows a check value for.
    pub known_versions: Vec<u32>,
}

/// The database's key versions (needs no key).
pub async fn status(store: &Store) -> anyhow::Result<KeyStatus> {
    Ok(KeyStatus {
        version: store.master_version().await?,
        data_keys: store.data_keys_by_version().await?,
        known_versions: store.master_checks().await?.into_keys().collect(),
    })
}

/// Rotates the master key of `store`'s database; `progress` hears the running count of
/// re-wrapped data keys.
pub async fn rotate(
    store: &Store,
    ring: Keyring,
    mut progress: impl FnMut(u64),
) -> anyhow::Result<Rotation> {
    // Every stored data key must open with the given keys before anything changes.
    store.unlock(ring.clone()).await?;
    let from: Vec<u32> = store.data_keys_by_version().await?.into_keys().collect();
    let (ring, target) = match ring.source().clone() {
        KeySource::File(path) => {
            let ring = add_version(store, &ring, &path).await?;
            let target = ring.current().0;
            (ring, target)
        }
        KeySource::Env(_) => {
            let target = env_target(store, &ring).await?;
            (ring, target)
        }
    };
    store.set_master_version(target).await?;
    let mut rewrapped = 0;
    for pass in 0..2 {
        if pass == 1 {
            tokio::time::sleep(SETTLE).await;
        }
        loop {
            let n = store.rewrap_data_keys(&ring, target, BATCH).await?;
            if n == 0 {
                break;
            }
            rewrapped += n;
            progress(rewrapped);
        }
    }
    let left: u64 = store
        .data_keys_by_version()
        .await?
        .range(..target)
        .map(|(_, n)| n)
        .sum();
    anyhow::ensure!(
        left == 0,
        "{left} data keys are still wrapped under older versions; run the rotation again"
    );
    let key_file_pruned = match ring.source() {
        KeySource::File(path) => {
            let keep: Vec<(u32, String)> = keyring::file_entries(path)?
                .into_iter()
                .filter(|(v, _)| *v >= target)
                .collect();
            keyring::write_key_file(path, &keep, false)?;
            true
        }
        KeySource::Env(_) => false,
    };
    Ok(Rotation {
        from,
        to: target,
        rewrapped,
        key_file_pruned,
        source: ring.source().describe(),
    })
}

/// Claims a new version in the database, then adds a new key under it to the key file; the
/// keyring read back from the file.
async fn add_version(
    store: &Store,
    ring: &Keyring,
    path: &std::path::Path,
) -> anyhow::Result<Keyring> {
    let highest_known = store.master_checks().await?.into_keys().max().unwrap_or(1);
    let target = ring
        .current()
        .0
        .max(store.master_version().await?)
        .max(highest_known)
        + 1;
    let hex = MasterKey::generate_hex();
    // Claimed first: two rotations at once cannot both write a v{target} (the second fails
    // here); a crash after this only leaves the version number unused.
    store
        .record_master_check(target, &MasterKey::parse(&hex)?)
        .await?;
    let mut entries = keyring::file_entries(path)?;
    entries.insert(0, (target, hex));
    keyring::write_key_file(path, &entries, false)?;
    let fresh = ring.reload()?;
    anyhow::ensure!(
        fresh.current().0 == target,
        "the key file changed while rotating"
    );
    Ok(fresh)
}

/// With `ACORN_MASTER_KEY`, the newest version it holds is the target; it must be newer than
/// what data keys are wrapped under.
async fn env_target(store: &Store, ring: &Keyring) -> anyhow::Result<u32> {
    let (newest, _) = ring.current();
    let behind = store
        .data_keys_by_version()
        .await?
        .range(..newest)
        .next()
        .is_some();
    anyhow::ensure!(
        behind || store.master_version().await? < newest,
        "every data key is already wrapped under v{newest}, the newest key in ACORN_MASTER_KEY. \
         To rotate, give every server ACORN_MASTER_KEY=v{}:<new key>,v{newest}:<current key> \
         (`acorn keys generate` prints a new key), then run this again",
        newest + 1
    );
    Ok(newest)
}

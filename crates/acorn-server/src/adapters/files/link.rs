//! Signed, expiring download links: `…/files/{file_id}/content?expires=…&signature=…`.
//!
//! The signature is HMAC-SHA256 over the file id and the expiry under a server key kept in the
//! database, so every process sharing the database accepts every process's links, and a link
//! cannot be stretched in time or pointed at another file.

use std::time::Duration;

use acorn_types::FileId;
use anyhow::Context;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::store::Store;

const KEY_SETTING: &str = "file_link_key";

/// Why a link was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// Missing or malformed parameters, or a signature that does not match.
    Invalid,
    /// Correctly signed, but past its expiry.
    Expired,
}

/// Signs and checks download links.
#[derive(Clone)]
pub struct LinkSigner {
    mac: Hmac<Sha256>,
    ttl: Duration,
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkSigner")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl LinkSigner {
    /// Loads (creating on first start) the signing key; links live for `ttl`.
    pub async fn load(store: &Store, ttl: Duration) -> anyhow::Result<Self> {
        let mut fresh = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut fresh);
        let key = store
            .setting_or_insert(KEY_SETTING, &hex::encode(fresh))
            .await
            .context("loading the file link key")?;
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes()).context("link key")?;
        Ok(LinkSigner { mac, ttl })
    }

    fn mac_for(&self, id: FileId, expires: u64) -> Hmac<Sha256> {
        let mut mac = self.mac.clone();
        mac.update(format!("{}.{expires}", id.uuid()).as_bytes());
        mac
    }

    /// The hex signature of a link to `id` valid until `expires` (Unix seconds).
    pub fn signature(&self, id: FileId, expires: u64) -> String {
        hex::encode(self.mac_for(id, expires).finalize().into_bytes())
    }

    /// A link under `base` (scheme and authority, no trailing slash) valid for the configured
    /// lifetime from `now` (Unix seconds).
    pub fn url(&self, base: &str, id: FileId, now: u64) -> String {
        self.url_until(base, id, now + self.ttl.as_secs())
    }

    /// A link valid until `expires` (Unix seconds).
    pub fn url_until(&self, base: &str, id: FileId, expires: u64) -> String {
        let signature = self.signature(id, expires);
        format!("{base}/api/v1/files/{id}/content?expires={expires}&signature={signature}")
    }

    /// Checks a link's raw `expires` and `signature` parameters at `now` (Unix seconds). The
    /// signature is compared in constant time, before the expiry is looked at.
    pub fn verify(
        &self,
        id: FileId,
        expires: Option<&str>,
        signature: Option<&str>,
        now: u64,
    ) -> Result<(), LinkError> {
        let expires: u64 = expires
            .and_then(|e| e.parse().ok())
            .ok_or(LinkError::Invalid)?;
        let signature = signature
            .and_then(|s| hex::decode(s).ok())
            .ok_or(LinkError::Invalid)?;
        self.mac_for(id, expires)
            .verify_slice(&signature)
            .map_err(|_| LinkError::Invalid)?;
        if now > expires {
            return Err(LinkError::Expired);
        }
        Ok(())
    }
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn signer() -> LinkSigner {
        LinkSigner {
            mac: <Hmac<Sha256> as Mac>::new_from_slice(b"test key").unwrap(),
            ttl: Duration::from_secs(900),
        }
    }

    #[test]
    fn a_fresh_link_verifies_until_it_expires() {
        let s = signer();
        let id = FileId::new();
        let sig = s.signature(id, 1_000);
        assert_eq!(s.verify(id, Some("1000"), Some(&sig), 999), Ok(()));
        assert_eq!(s.verify(id, Some("1000"), Some(&sig), 1_000), Ok(()));
        assert_eq!(
            s.verify(id, Some("1000"), Some(&sig), 1_001),
            Err(LinkError::Expired)
        );
    }

    #[test]
    fn altered_links_are_invalid() {
        let s = signer();
        let id = FileId::new();
        let sig = s.signature(id, 1_000);
        let invalid = Err(LinkError::Invalid);
        assert_eq!(s.verify(id, Some("1001"), Some(&sig), 0), invalid);
        assert_eq!(
            s.verify(FileId::new(), Some("1000"), Some(&sig), 0),
            invalid
        );
        assert_eq!(s.verify(id, Some("1000"), Some(&sig[1..]), 0), invalid);
        assert_eq!(s.verify(id, Some("1000"), Some("zz"), 0), invalid);
        assert_eq!(s.verify(id, None, Some(&sig), 0), invalid);
        assert_eq!(s.verify(id, Some("1000"), None, 0), invalid);
        assert_eq!(s.verify(id, Some("-1"), Some(&sig), 0), invalid);
    }

    #[test]
    fn url_carries_id_expiry_and_signature() {
        let s = signer();
        let id = FileId::new();
        let url = s.url("http://h:1", id, 100);
        assert_eq!(
            url,
            format!(
                "http://h:1/api/v1/files/{id}/content?expires=1000&signature={}",
                s.signature(id, 1_000)
            )
        );
    }
}

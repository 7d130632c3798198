//! Idempotency key rows (contract §8).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use acorn_types::{ApiResponse, MerchantId};
use serde::Serialize;
use sqlx::AnyConnection;

use super::{Store, StoreError};

/// A key this request owns (claimed before it ran). It travels as a value from the HTTP layer
/// through the service into the transaction that makes the change, where
/// [`KeyAnswer::record`] stores the success answer with the change itself.
#[derive(Debug, Clone)]
pub struct KeyClaim {
    merchant: MerchantId,
    key: String,
    recorded: Arc<AtomicBool>,
}

impl KeyClaim {
    /// A claim of `key` for `merchant`.
    pub fn new(merchant: MerchantId, key: String) -> Self {
        KeyClaim {
            merchant,
            key,
            recorded: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The merchant that claimed the key.
    pub fn merchant(&self) -> MerchantId {
        self.merchant
    }

    /// The key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The answer this request gives when it succeeds, to be recorded in its transaction.
    pub fn answer(&self, status: u16, msg: &'static str) -> KeyAnswer {
        KeyAnswer {
            claim: self.clone(),
            status,
            msg,
        }
    }

    /// Whether a success answer was recorded in the change's transaction.
    pub fn recorded(&self) -> bool {
        self.recorded.load(Ordering::SeqCst)
    }
}

/// The success answer of a keyed request: its status and message; the data comes with
/// [`KeyAnswer::record`].
#[derive(Debug, Clone)]
pub struct KeyAnswer {
    claim: KeyClaim,
    status: u16,
    msg: &'static str,
}

impl KeyAnswer {
    /// Stores the answer's envelope for `data` on `conn` — call it in the change's transaction,
    /// right before commit, so "committed but not recorded" cannot happen.
    pub async fn record<T: Serialize>(
        &self,
        conn: &mut AnyConnection,
        data: &T,
    ) -> Result<(), sqlx::Error> {
        let body = serde_json::to_string(&ApiResponse::new(self.msg, data))
            .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        complete(
            conn,
            self.claim.merchant,
            &self.claim.key,
            self.status,
            &body,
        )
        .await?;
        self.claim.recorded.store(true, Ordering::SeqCst);
        Ok(())
    }
}

/// Records `answer` (when the request is keyed) for `data` on `conn`.
pub async fn record<T: Serialize>(
    conn: &mut AnyConnection,
    answer: Option<&KeyAnswer>,
    data: &T,
) -> Result<(), sqlx::Error> {
    match answer {
        Some(a) => a.record(conn, data).await,
        None => Ok(()),
    }
}

/// A stored key, as a claim compares it.
#[derive(Debug, sqlx::FromRow)]
struct StoredKey {
    method: String,
    route: String,
    fingerprint: String,
    status: String,
    response_status: Option<i64>,
    response_body: Option<String>,
    locked_until: i64,
}

/// What a claim found.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// The key is ours: run the request.
    Owned,
    /// The key finished before: send this response again.
    Replay { status: u16, body: String },
    /// The key was used for another route or body.
    Mismatch,
    /// The first request with this key is still running.
    InFlight,
}

/// A request asking for a key.
#[derive(Debug)]
pub struct KeyRequest<'a> {
    pub merchant: MerchantId,
    pub key: &'a str,
    pub method: &'a str,
    pub route: &'a str,
    pub fingerprint: &'a str,
    /// The instance making the claim (see [`Store::release_instance_claims`]).
    pub instance: &'a str,
}

impl Store {
    /// Claims `req.key` for a request, or reports why it cannot run. `lease` bounds how long
    /// an unfinished claim blocks retries (a process that died mid-request); `retention` is how
    /// long a finished key is replayed.
    pub async fn claim_idempotency_key(
        &self,
        req: &KeyRequest<'_>,
        now: i64,
        lease: i64,
        retention: i64,
    ) -> Result<Claim, StoreError> {
        // Each step is one atomic statement, so no transaction is needed: on SQLite the common
        // case (a new key) costs the single writer one statement instead of three.
        let merchant = req.merchant.uuid().to_string();
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (merchant_id, key, method, route, fingerprint, status, response_status, \
             response_body, locked_until, created_at, expires_at, instance_id) \
             VALUES ($1, $2, $3, $4, $5, 'in_flight', NULL, NULL, $6, $7, $8, $9) \
             ON CONFLICT (merchant_id, key) DO UPDATE SET method = excluded.method, route = excluded.route, \
             fingerprint = excluded.fingerprint, status = 'in_flight', response_status = NULL, response_body = NULL, \
             locked_until = excluded.locked_until, created_at = excluded.created_at, expires_at = excluded.expires_at, \
             instance_id = excluded.instance_id \
             WHERE idempotency_keys.expires_at <= excluded.created_at",
        )
        .bind(merchant.clone())
        .bind(req.key.to_owned())
        .bind(req.method.to_owned())
        .bind(req.route.to_owned())
        .bind(req.fingerprint.to_owned())
        .bind(now + lease)
        .bind(now)
        .bind(now + retention)
        .bind(req.instance.to_owned())
        .execute(&mut *self.write.acquire().await?)
        .await?
        .rows_affected();
        // 1 row: a new key, or an expired one (not yet purged) taken over.
        if inserted == 1 {
            return Ok(Claim::Owned);
        }
        let row: Option<StoredKey> = sqlx::query_as(
            "SELECT method, route, fingerprint, status, response_status, response_body, locked_until \
             FROM idempotency_keys WHERE merchant_id = $1 AND key = $2",
        )
        .bind(merchant.clone())
        .bind(req.key.to_owned())
        .fetch_optional(&mut *self.write.acquire().await?)
        .await?;
        let Some(row) = row else {
            // Purged between the two statements: the key is free again.
            return Box::pin(self.claim_idempotency_key(req, now, lease, retention)).await;
        };
        if row.method != req.method
            || row.route != req.route
            || !same_fingerprint(&row.fingerprint, req.fingerprint)
        {
            return Ok(Claim::Mismatch);
        }
        if row.status == "completed" {
            return Ok(Claim::Replay {
                status: u16::try_from(row.response_status.unwrap_or(200)).unwrap_or(200),
                body: crate::base::crypto::open_for(
                    req.merchant,
                    row.response_body.unwrap_or_default(),
                    "response_body",
                )?,
            });
        }
        if row.locked_until > now {
            return Ok(Claim::InFlight);
        }
        self.take_over(req, now, lease).await
    }

    /// Takes over a key whose claiming process died before finishing, unless another retry
    /// just did.
    async fn take_over(
        &self,
        req: &KeyRequest<'_>,
        now: i64,
        lease: i64,
    ) -> Result<Claim, StoreError> {
        let taken = sqlx::query(
            "UPDATE idempotency_keys SET locked_until = $1, instance_id = $5 WHERE merchant_id = $2 \
             AND key = $3 AND status = 'in_flight' AND locked_until <= $4",
        )
        .bind(now + lease)
        .bind(req.merchant.uuid().to_string())
        .bind(req.key.to_owned())
        .bind(now)
        .bind(req.instance.to_owned())
        .execute(&mut *self.write.acquire().await?)
        .await?
        .rows_affected();
        Ok(if taken == 1 {
            Claim::Owned
        } else {
            Claim::InFlight
        })
    }

    /// Stores the final response of a key (outside any change transaction: a refusal or a
    /// request that changed nothing).
    pub async fn complete_idempotency_key(
        &self,
        merchant: MerchantId,
        key: &str,
        status: u16,
        body: &str,
    ) -> Result<(), StoreError> {
        let mut conn = self.write.acquire().await?;
        complete(&mut conn, merchant, key, status, body).await?;
        Ok(())
    }

    /// Forgets a claim whose request failed with a server error (the client may retry).
    pub async fn release_idempotency_key(
        &self,
        merchant: MerchantId,
        key: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM idempotency_keys WHERE merchant_id = $1 AND key = $2 AND status = 'in_flight'")
            .bind(merchant.uuid().to_string())
            .bind(key.to_owned())
            .execute(&mut *self.write.acquire().await?)
            .await?;
        Ok(())
    }

    /// Releases the claims `instance` left in flight: called when an instance starts, before it
    /// serves, so a key whose request died with the previous run of this instance is free at once
    /// instead of answering 409 until its lease ends. Returns how many were released.
    pub async fn release_instance_claims(&self, instance: &str) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM idempotency_keys WHERE status = 'in_flight' AND instance_id = $1",
        )
        .bind(instance.to_owned())
        .execute(&mut *self.write.acquire().await?)
        .await?;
        Ok(done.rows_affected())
    }

    /// Deletes keys past their retention; returns how many.
    pub async fn purge_idempotency_keys(&self, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *self.write.acquire().await?)
            .await?;
        Ok(done.rows_affected())
    }

    /// How many keys exist (tests and diagnostics).
    pub async fn idempotency_key_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM idempotency_keys")
            .fetch_one(&mut *self.read.acquire().await?)
            .await?)
    }
}

/// Whether a stored fingerprint is `fp`'s: keys stored before fingerprints were cut to 16 bytes
/// hold the whole SHA-256 (64 hex digits), whose first half is the new fingerprint.
pub(crate) fn same_fingerprint(stored: &str, fp: &str) -> bool {
    stored == fp || (stored.len() == 64 && stored.get(..fp.len()) == Some(fp))
}

/// Marks a key completed with its response, on `conn` (inside the change's transaction).
pub(crate) async fn complete(
    conn: &mut AnyConnection,
    merchant: MerchantId,
    key: &str,
    status: u16,
    body: &str,
) -> Result<(), sqlx::Error> {
    // The answer holds the customer: sealed like the customer's own columns. A finished key
    // holds no lease (`locked_until` 0: SQLite stores the integer 0 in no bytes at all).
    let sealed = crate::base::crypto::seal_for(merchant, body, "response_body")
        .map_err(|e| sqlx::Error::Encode(e.into()))?;
    sqlx::query(
        "UPDATE idempotency_keys SET status = 'completed', response_status = $1, response_body = $2, \
         locked_until = 0 WHERE merchant_id = $3 AND key = $4",
    )
    .bind(i64::from(status))
    .bind(sealed)
    .bind(merchant.uuid().to_string())
    .bind(key.to_owned())
    .execute(conn)
    .await?;
    Ok(())
}

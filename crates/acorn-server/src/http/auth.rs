//! Merchant credentials and bearer tokens (contract §2).
//!
//! Client secrets are 32 random bytes, shown once and stored only as an HMAC-SHA256 under a
//! server key (a keyed hash: a stolen table alone does not allow offline guessing). Access tokens
//! are HS256 JWTs whose signing key is either `ACORN_TOKEN_SECRET` or generated on first start
//! and kept in the database, so every process sharing the database accepts every token.

use std::fmt;
use std::time::Duration;

use acorn_types::{FailureReason, MerchantId, Mode, ReasonCode};
use anyhow::Context;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::store::{NewMerchant, Store};

const ISSUER: &str = "acorn";
const SIGNING_KEY_SETTING: &str = "token_signing_key";
const HASH_KEY_SETTING: &str = "client_secret_hash_key";

/// Seconds a token is still accepted after its `exp`.
const LEEWAY: u64 = 5;
/// Verified tokens remembered at most (the cache is emptied when full).
const VERIFIED_CAP: usize = 10_000;

/// The keys behind credentials and tokens.
pub struct AuthKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    hasher: Hmac<Sha256>,
    ttl: Duration,
    /// Tokens that verified, with their merchant and `exp`: every request of a client presents
    /// the same token, and looking it up costs less than the signature check and two JSON
    /// parses. Only a byte-identical token hits, so it is as good as verifying it again; its
    /// expiry is still checked on every use.
    verified: std::sync::RwLock<std::collections::HashMap<String, (MerchantId, u64)>>,
}

impl fmt::Debug for AuthKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthKeys")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: String,
    iss: String,
    iat: u64,
    exp: u64,
}

impl AuthKeys {
    /// Loads (creating on first start) the server keys.
    pub async fn load(
        store: &Store,
        token_secret: Option<&SecretString>,
        ttl: Duration,
    ) -> anyhow::Result<Self> {
        let signing = match token_secret {
            Some(s) if s.expose_secret().len() >= 32 => s.expose_secret().as_bytes().to_vec(),
            Some(_) => anyhow::bail!("ACORN_TOKEN_SECRET must be at least 32 characters"),
            None => store
                .setting_or_insert(SIGNING_KEY_SETTING, &random_token(32))
                .await
                .context("loading the token signing key")?
                .into_bytes(),
        };
        let hash_key = store
            .setting_or_insert(HASH_KEY_SETTING, &random_token(32))
            .await
            .context("loading the client secret hash key")?;
        let hasher =
            <Hmac<Sha256> as Mac>::new_from_slice(hash_key.as_bytes()).context("hash key")?;
        Ok(AuthKeys {
            encoding: EncodingKey::from_secret(&signing),
            decoding: DecodingKey::from_secret(&signing),
            hasher,
            ttl,
            verified: Default::default(),
        })
    }

    /// Token lifetime.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The keyed hash a client secret is stored as.
    pub fn hash_secret(&self, secret: &str) -> String {
        let mut mac = self.hasher.clone();
        mac.update(secret.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Whether `secret` matches `stored_hash`, in constant time.
    pub fn secret_matches(&self, secret: &str, stored_hash: &str) -> bool {
        self.hash_secret(secret)
            .as_bytes()
            .ct_eq(stored_hash.as_bytes())
            .into()
    }

    /// Issues an access token for the merchant: `(token, expires_in_seconds)`.
    pub fn issue(&self, merchant: MerchantId) -> anyhow::Result<(String, u64)> {
        self.issue_at(merchant, now_secs())
    }

    /// Issues a token as if it were `iat` now (tests use it for expired tokens).
    pub fn issue_at(&self, merchant: MerchantId, iat: u64) -> anyhow::Result<(String, u64)> {
        let ttl = self.ttl.as_secs();
        let claims = Claims {
            sub: merchant.to_string(),
            iss: ISSUER.to_owned(),
            iat,
            exp: iat + ttl,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .context("signing an access token")?;
        Ok((token, ttl))
    }

    /// The merchant a token was issued to, if it is well-formed, correctly signed and unexpired.
    pub fn verify(&self, token: &str) -> Option<MerchantId> {
        let known = self
            .verified
            .read()
            .ok()
            .and_then(|c| c.get(token).copied());
        if let Some((merchant, exp)) = known {
            if now_secs() <= exp.saturating_add(LEEWAY) {
                return Some(merchant);
            }
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        validation.leeway = LEEWAY;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).ok()?;
        let merchant = MerchantId::parse(&data.claims.sub).ok()?;
        if let Ok(mut cache) = self.verified.write() {
            if cache.len() >= VERIFIED_CAP {
                cache.clear();
            }
            cache.insert(token.to_owned(), (merchant, data.claims.exp));
        }
        Some(merchant)
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// New merchant credentials; the secret exists only here and is never stored.
pub struct Credentials {
    /// `mer_…`.
    pub merchant_id: MerchantId,
    /// Public client id.
    pub client_id: String,
    /// The client secret (shown once).
    pub client_secret: SecretString,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("merchant_id", &self.merchant_id)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// Creates a merchant of `mode` with fresh credentials. The secret says its mode the way
/// Stripe's keys do: `sk_test_…` for a sandbox merchant, `sk_live_…` for a live one.
pub async fn create_merchant(
    store: &Store,
    keys: &AuthKeys,
    name: &str,
    mode: Mode,
) -> anyhow::Result<Credentials> {
    let name = name.trim();
    anyhow::ensure!(
        !name.is_empty() && name.chars().count() <= 255,
        "the merchant name must be 1 to 255 characters"
    );
    let merchant_id = MerchantId::new();
    let client_id = format!("acorn_{}", hex::encode(uuid::Uuid::new_v4().as_bytes()));
    let prefix = match mode {
        Mode::Sandbox => "sk_test_",
        Mode::Live => "sk_live_",
    };
    let secret = format!("{prefix}{}", random_token(32));
    store
        .create_merchant(&NewMerchant {
            id: merchant_id,
            name: name.to_owned(),
            client_id: client_id.clone(),
            secret_hash: keys.hash_secret(&secret),
            mode,
        })
        .await
        .map_err(|e| anyhow::anyhow!("creating the merchant: {e}"))?;
    Ok(Credentials {
        merchant_id,
        client_id,
        client_secret: SecretString::from(secret),
    })
}

/// The authenticated merchant of a request, put in the request's extensions by [`require`]
/// (the route layer of every protected route); handlers take it as an extractor.
#[derive(Debug, Clone, Copy)]
pub struct AuthMerchant(pub MerchantId);

/// What [`require`] put in the request's extensions. Absent only on a route mounted outside
/// the auth layer: refuse rather than serve it.
fn authenticated<T: Copy + Send + Sync + 'static>(parts: &Parts) -> Result<T, ApiError> {
    parts
        .extensions
        .get::<T>()
        .copied()
        .ok_or_else(missing_token)
}

impl<S: Send + Sync> FromRequestParts<S> for AuthMerchant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        authenticated(parts)
    }
}

/// The authenticated merchant's mode, beside [`AuthMerchant`] in the request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct MerchantMode(pub Mode);

impl<S: Send + Sync> FromRequestParts<S> for MerchantMode {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        authenticated(parts)
    }
}

/// 403 for a merchant whose mode this server does not host (`--modes`): its credentials are
/// right, this server is the wrong one.
pub fn mode_not_hosted(mode: Mode, hosted: crate::base::config::Modes) -> ApiError {
    let message = format!(
        "this server does not serve {mode} merchants (it hosts --modes {hosted}); use a {mode} \
         server or a merchant of the mode this one hosts"
    );
    ApiError::new(axum::http::StatusCode::FORBIDDEN, message.clone()).with_reason(
        FailureReason::new(ReasonCode::InsufficientPermissions, message, &["client_id"]),
    )
}

/// A route layer of the sandbox routes (contract §7, §13): a live merchant gets the 404 an
/// unknown route gets, so nothing of the sandbox is reachable, or even visible, to it.
pub async fn sandbox_only(req: Request, next: Next) -> Response {
    match req.extensions().get::<MerchantMode>() {
        Some(MerchantMode(Mode::Sandbox)) => next.run(req).await,
        _ => ApiError::not_found().into_response(),
    }
}

fn missing_token() -> ApiError {
    ApiError::unauthorized(ReasonCode::MissingToken, "missing bearer token")
}

/// The merchant an `Authorization: Bearer …` header authenticates: a well-formed, correctly
/// signed, unexpired token of a merchant that still exists.
async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(MerchantId, Mode), ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(missing_token());
    };
    let invalid = || ApiError::unauthorized(ReasonCode::InvalidToken, "invalid or expired token");
    let value = value.to_str().map_err(|_| invalid())?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(invalid)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(invalid());
    }
    let merchant = state.auth.verify(token.trim()).ok_or_else(invalid)?;
    let Some(mode) = state.store.merchant_mode(merchant).await? else {
        return Err(invalid());
    };
    if !state.config.modes.hosts(mode) {
        return Err(mode_not_hosted(mode, state.config.modes));
    }
    Ok((merchant, mode))
}

/// The auth middleware (a route layer of the protected routes): verifies the token once, puts
/// the [`AuthMerchant`] in the request's extensions for the layers inside it and the handler,
/// and answers 401 before anything else looks at the request.
pub async fn require(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    match authenticate(&state, req.headers()).await {
        Ok((merchant, mode)) => {
            req.extensions_mut().insert(AuthMerchant(merchant));
            req.extensions_mut().insert(MerchantMode(mode));
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

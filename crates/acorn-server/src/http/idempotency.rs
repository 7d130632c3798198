//! `Idempotency-Key` on every `POST` under `/api/v1` (contract §8), as one middleware.
//!
//! The key is claimed in the database before the request runs, so a concurrent duplicate —
//! in this process or another — gets 409 and never runs. The claim is handed to the handler as
//! a value ([`Idempotency`]); the handler turns it into the answer it gives on success
//! ([`Success::answer`]) and the service records that answer inside the same transaction as
//! the change ([`KeyAnswer::record`]), so "committed but not recorded" cannot happen. Refusals
//! (4xx) are stored after the fact; server errors release the key.

use acorn_types::{ApiResponse, FailureReason, ReasonCode};
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::http::auth::AuthMerchant;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::store::idempotency::{Claim, KeyAnswer, KeyClaim, KeyRequest};
use crate::store::{duration_micros, now_micros};

/// A handler's success response: its status and message, declared where the handler starts
/// so the answer a keyed request records is the one it sends.
#[derive(Debug, Clone, Copy)]
pub struct Success {
    status: StatusCode,
    msg: &'static str,
}

impl Success {
    /// The status and message this request answers with when it succeeds.
    pub fn new(status: StatusCode, msg: &'static str) -> Self {
        Success { status, msg }
    }

    /// The declared message.
    pub fn msg(&self) -> &'static str {
        self.msg
    }

    /// The answer to record in the change's transaction, when the request is keyed.
    pub fn answer(&self, key: &Idempotency) -> Option<KeyAnswer> {
        key.0
            .as_ref()
            .map(|claim| claim.answer(self.status.as_u16(), self.msg))
    }

    /// The response for `data`.
    pub fn render<T: Serialize>(&self, data: T) -> Response {
        (self.status, Json(ApiResponse::new(self.msg, data))).into_response()
    }
}

/// The `Idempotency-Key` this request claimed, if it sent one (put in the request's
/// extensions by [`layer`]); handlers pass it on to the service as a value.
#[derive(Debug, Clone, Default)]
pub struct Idempotency(pub Option<KeyClaim>);

impl<S: Send + Sync> FromRequestParts<S> for Idempotency {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Idempotency(parts.extensions.get::<KeyClaim>().cloned()))
    }
}

const HEADER: &str = "idempotency-key";
const JSON_LIMIT: usize = crate::base::limits::JSON_BODY_LIMIT;
/// Multipart bodies may be as large as an upload request.
const MULTIPART_LIMIT: usize = crate::base::limits::UPLOAD_BODY_LIMIT;

fn valid_key(value: &HeaderValue) -> Option<String> {
    let s = value.to_str().ok()?;
    acorn_types::is_valid_idempotency_key(s).then(|| s.to_owned())
}

/// SHA-256 of a JSON value in canonical form (compact, object keys sorted), so the same
/// object matches however it was spaced or ordered — and a batch item matches the single
/// create with the same customer.
pub(crate) fn json_fingerprint(value: &impl Serialize) -> String {
    // serde_json's maps are ordered by key, so this serialisation is canonical.
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    stored_form(Sha256::digest(&bytes).as_slice())
}

/// How many bytes of the SHA-256 a fingerprint keeps: 128 bits tell two bodies apart, and each
/// stored key holds 32 hex digits instead of 64.
const FINGERPRINT_BYTES: usize = 16;

fn stored_form(digest: &[u8]) -> String {
    hex::encode(&digest[..FINGERPRINT_BYTES])
}

/// The fingerprint of a request body: for JSON, of its canonical form ([`json_fingerprint`]);
/// for multipart, SHA-256 with the random boundary normalised away (so a retry that rebuilds
/// the same form matches); otherwise SHA-256 of the bytes.
fn fingerprint(content_type: Option<&str>, body: &[u8]) -> String {
    let multipart = content_type.is_some_and(|c| c.to_ascii_lowercase().starts_with("multipart/"));
    if !multipart {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
            return json_fingerprint(&value);
        }
    }
    let boundary = content_type
        .filter(|c| c.to_ascii_lowercase().starts_with("multipart/"))
        .and_then(|c| {
            c.split(';')
                .find_map(|p| p.trim().strip_prefix("boundary="))
        })
        .map(|b| b.trim_matches('"').to_owned());
    let mut hasher = Sha256::new();
    match boundary.filter(|b| !b.is_empty()) {
        Some(b) => {
            let needle = b.as_bytes();
            let mut rest = body;
            while let Some(i) = rest.windows(needle.len()).position(|w| w == needle) {
                hasher.update(&rest[..i]);
                hasher.update(b"BOUNDARY");
                rest = &rest[i + needle.len()..];
            }
            hasher.update(rest);
        }
        None => hasher.update(body),
    }
    stored_form(hasher.finalize().as_slice())
}

fn replay(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    r
}

/// The middleware, a route layer of the protected routes inside the auth layer (which puts the
/// [`AuthMerchant`] in the request's extensions); only `POST`s are keyed.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(raw) = req.headers().get(HEADER) else {
        return next.run(req).await;
    };
    let Some(key) = valid_key(raw) else {
        return ApiError::invalid(
            "Idempotency-Key",
            format!(
                "Idempotency-Key must be {}",
                acorn_types::IdempotencyKey::RULE
            ),
        )
        .into_response();
    };
    // Outside the auth layer there is no merchant: the handler answers 401, nothing to remember.
    let Some(&AuthMerchant(merchant)) = req.extensions().get::<AuthMerchant>() else {
        return next.run(req).await;
    };
    let req = match claim(&state, merchant, key, req).await {
        Ok(req) => req,
        Err(answer) => return answer,
    };
    let Some(claim) = req.extensions().get::<KeyClaim>().cloned() else {
        return next.run(req).await;
    };
    finish(&state, &claim, next.run(req).await).await
}

/// Reads the body, fingerprints it and claims the key: the request to run (carrying its
/// [`KeyClaim`] and its body again), or the answer when it must not run (a replay, a
/// mismatch, a duplicate in flight).
async fn claim(
    state: &AppState,
    merchant: acorn_types::MerchantId,
    key: String,
    req: Request,
) -> Result<Request, Response> {
    let path = req.uri().path().to_owned();
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let multipart = content_type
        .as_deref()
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("multipart/"));
    let limit = if multipart {
        MULTIPART_LIMIT
    } else {
        JSON_LIMIT
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return Err(ApiError::payload_too_large("request body is too large").into_response());
    };
    let fp = fingerprint(content_type.as_deref(), &bytes);
    let config = &state.config;
    let lease = duration_micros(config.idempotency_lease());
    let retention = duration_micros(config.idempotency_retention);
    let request = KeyRequest {
        merchant,
        key: &key,
        method: "POST",
        route: &path,
        fingerprint: &fp,
        instance: config.instance_id.as_deref().unwrap_or_default(),
    };
    let found = state
        .store
        .claim_idempotency_key(&request, now_micros(), lease, retention)
        .await;
    match found {
        Err(e) => Err(ApiError::from(e).into_response()),
        Ok(Claim::Replay { status, body }) => Err(replay(status, body)),
        Ok(Claim::Mismatch) => Err(ApiError::validation(vec![FailureReason::new(
            ReasonCode::IdempotencyMismatch,
            "this Idempotency-Key was already used with a different request (route or body)",
            &["Idempotency-Key"],
        )])
        .into_response()),
        Ok(Claim::InFlight) => Err(ApiError::conflict(
            "a request with this Idempotency-Key is still being processed; retry later",
        )
        .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
        .into_response()),
        Ok(Claim::Owned) => {
            let mut req = Request::from_parts(parts, Body::from(bytes));
            req.extensions_mut().insert(KeyClaim::new(merchant, key));
            Ok(req)
        }
    }
}

/// After the request ran: a server error releases the key (the client may retry); an answer
/// the change's transaction did not record (a refusal, or a request that changed nothing) is
/// stored now.
async fn finish(state: &AppState, claim: &KeyClaim, response: Response) -> Response {
    let status = response.status();
    let (merchant, key) = (claim.merchant(), claim.key());
    if status.is_server_error() {
        if let Err(e) = state.store.release_idempotency_key(merchant, key).await {
            tracing::warn!(
                error = format!("{e:#}"),
                "could not release an idempotency key"
            );
        }
        return response;
    }
    if claim.recorded() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MULTIPART_LIMIT).await else {
        return ApiError::internal(anyhow::anyhow!("response body unreadable")).into_response();
    };
    let text = String::from_utf8_lossy(&bytes);
    if let Err(e) = state
        .store
        .complete_idempotency_key(merchant, key, status.as_u16(), &text)
        .await
    {
        tracing::warn!(
            error = format!("{e:#}"),
            "could not store an idempotent response"
        );
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::idempotency::same_fingerprint;

    #[test]
    fn keys_are_printable_ascii_up_to_255() {
        assert!(valid_key(&HeaderValue::from_static("abc-123 XYZ")).is_some());
        assert!(valid_key(&HeaderValue::from_static("")).is_none());
        let long = HeaderValue::from_str(&"k".repeat(256)).expect("header");
        assert!(valid_key(&long).is_none());
        let max = HeaderValue::from_str(&"k".repeat(255)).expect("header");
        assert!(valid_key(&max).is_some());
    }

    #[test]
    fn fingerprints_stored_whole_before_still_match() {
        let body = br#"{"email":"a@x.io","first_name":"A"}"#;
        let fp = fingerprint(Some("application/json"), body);
        assert_eq!(fp.len(), 32);
        let value: serde_json::Value = serde_json::from_slice(body).expect("json");
        let whole = hex::encode(Sha256::digest(serde_json::to_vec(&value).expect("bytes")));
        assert!(same_fingerprint(&whole, &fp));
        assert!(same_fingerprint(&fp, &fp));
        let other = fingerprint(Some("application/json"), br#"{"email":"b@x.io"}"#);
        assert!(!same_fingerprint(&whole, &other));
        assert!(!same_fingerprint(&fp[..16], &fp));
    }

    #[test]
    fn multipart_fingerprints_ignore_the_boundary() {
        let a = b"--AAA\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--AAA--";
        let b = b"--BBBB\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--BBBB--";
        let c = b"--BBBB\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n2\r\n--BBBB--";
        let fa = fingerprint(Some("multipart/form-data; boundary=AAA"), a);
        assert_eq!(
            fa,
            fingerprint(Some("multipart/form-data; boundary=\"BBBB\""), b)
        );
        assert_ne!(
            fa,
            fingerprint(Some("multipart/form-data; boundary=BBBB"), c)
        );
        assert_ne!(
            fingerprint(Some("application/json"), b"{}"),
            fingerprint(None, b"[]")
        );
        // JSON is compared in canonical form: spacing and key order do not matter, values do.
        let a = fingerprint(
            Some("application/json"),
            br#"{"email":"a@x.io","first_name":"A"}"#,
        );
        let b = fingerprint(
            Some("application/json"),
            b"{ \"first_name\": \"A\",\n  \"email\": \"a@x.io\" }",
        );
        let c = fingerprint(
            Some("application/json"),
            br#"{"email":"b@x.io","first_name":"A"}"#,
        );
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}

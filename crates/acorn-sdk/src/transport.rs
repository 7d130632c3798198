//! Sending one logical API call: bearer token, `Idempotency-Key`, retries, one token refresh on
//! 401, and decoding with the JSON path of any mismatch.

use std::time::Duration;

use acorn_types::{ApiResponse, TokenRequest, TokenResponse};
use bytes::Bytes;
use futures::future::BoxFuture;
use reqwest::header::{HeaderValue, ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::auth::{Granted, Token, TokenCache};
use crate::error::OakError;
use crate::retry::{decide, Outcome, RetryDecision, RetryOptions};
use crate::upload::FileUpload;

/// The header that makes a POST safe to repeat.
pub(crate) const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The SDK version, sent as `Oak-Version` like the TypeScript SDK does.
const OAK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Shared state of one client; every service handle holds an `Arc` of it.
pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    /// Without a trailing slash; may carry a path prefix.
    pub(crate) base_url: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: SecretString,
    pub(crate) retry: RetryOptions,
    pub(crate) timeout: Duration,
    pub(crate) tokens: TokenCache,
}

/// A request body, kept so each attempt can rebuild the request.
pub(crate) enum Body {
    Empty,
    Json(Bytes),
    Multipart {
        file_type: String,
        files: Vec<FileUpload>,
    },
}

/// One logical API call.
pub(crate) struct Call {
    pub(crate) method: Method,
    /// Starts with `/`; caller-supplied segments already encoded.
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Body,
    /// A caller-chosen `Idempotency-Key` for a POST; when `None`, one is generated per call.
    pub(crate) idempotency_key: Option<String>,
    /// The body carries a key per item (a batch), so the request itself is sent without one.
    pub(crate) keyed_items: bool,
}

impl Call {
    pub(crate) fn new(method: Method, path: String) -> Self {
        Self {
            method,
            path,
            query: Vec::new(),
            body: Body::Empty,
            idempotency_key: None,
            keyed_items: false,
        }
    }

    /// Adds the fields of `query` (a struct serialising to a flat JSON object) as query
    /// parameters; `null`s are left out.
    pub(crate) fn query<Q: Serialize>(mut self, query: &Q) -> Result<Self, OakError> {
        self.query = query_pairs(query)?;
        Ok(self)
    }

    pub(crate) fn json<B: Serialize>(mut self, body: &B) -> Result<Self, OakError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| OakError::InvalidArgument(format!("cannot serialise body: {e}")))?;
        self.body = Body::Json(Bytes::from(bytes));
        Ok(self)
    }
}

/// Flattens a query struct into `(name, value)` pairs (percent-encoding happens when the URL is
/// built: a comma-joined list `a,b` goes out as `a%2Cb`).
pub(crate) fn query_pairs<Q: Serialize>(query: &Q) -> Result<Vec<(String, String)>, OakError> {
    let value = serde_json::to_value(query)
        .map_err(|e| OakError::InvalidArgument(format!("cannot encode query: {e}")))?;
    let serde_json::Value::Object(map) = value else {
        return Err(OakError::InvalidArgument("query must be an object".into()));
    };
    let mut pairs = Vec::with_capacity(map.len());
    for (k, v) in map {
        let s = match v {
            serde_json::Value::Null => continue,
            serde_json::Value::String(s) => s,
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Number(n) => n.to_string(),
            other => {
                return Err(OakError::InvalidArgument(format!(
                    "query parameter {k} must be a scalar, got {other}"
                )))
            }
        };
        pairs.push((k, s));
    }
    Ok(pairs)
}

/// Parses `raw` as `T`, naming the JSON path of the first mismatch.
pub(crate) fn decode<T: DeserializeOwned>(status: StatusCode, raw: &[u8]) -> Result<T, OakError> {
    let mut de = serde_json::Deserializer::from_slice(raw);
    serde_path_to_error::deserialize(&mut de).map_err(|e| OakError::decode(status, e))
}

impl Inner {
    /// Builds the absolute URL of `call`.
    pub(crate) fn url(&self, call: &Call) -> Result<url::Url, OakError> {
        let mut url = url::Url::parse(&format!("{}{}", self.base_url, call.path))
            .map_err(|e| OakError::Config(format!("cannot build request URL: {e}")))?;
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&call.query);
        }
        Ok(url)
    }

    /// An authenticated call whose 2xx body is an envelope around `T`.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        call: Call,
    ) -> Result<ApiResponse<T>, OakError> {
        let (status, body) = self.send(&call, true).await?;
        decode(status, &body)
    }

    /// A fresh token from the grant endpoint (no caching here). Boxed because granting sends a
    /// request, and sending may need a token.
    pub(crate) fn grant(&self) -> BoxFuture<'_, Result<Granted, OakError>> {
        Box::pin(async move {
            let req = TokenRequest {
                client_id: self.client_id.clone(),
                client_secret: self.client_secret.expose_secret().to_owned(),
                grant_type: "client_credentials".into(),
            };
            let call = Call::new(Method::POST, "/api/v1/merchant/token/grant".into()).json(&req)?;
            let (status, body) = self.send(&call, false).await?;
            let t: TokenResponse = decode(status, &body)?;
            Ok(Granted {
                access_token: SecretString::from(t.access_token),
                token_type: t.token_type,
                expires_in: Duration::from_secs(t.expires_in),
            })
        })
    }

    pub(crate) async fn token(&self) -> Result<Token, OakError> {
        self.tokens.get(|| self.grant()).await
    }

    /// Sends `call` until it succeeds, fails for good, or retries run out. Returns the 2xx
    /// status and body.
    async fn send(
        &self,
        call: &Call,
        authenticated: bool,
    ) -> Result<(StatusCode, Bytes), OakError> {
        let url = self.url(call)?;
        // One key for every attempt of this call, so the server runs it at most once.
        let idempotency_key = (authenticated && call.method == Method::POST && !call.keyed_items)
            .then(|| {
                call.idempotency_key
                    .clone()
                    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
            });
        let mut token = if authenticated {
            Some(self.token().await?)
        } else {
            None
        };
        let mut refreshed_after_401 = false;
        let mut retries_done = 0;
        loop {
            let result = self
                .attempt(
                    call,
                    url.clone(),
                    token.as_ref(),
                    idempotency_key.as_deref(),
                )
                .await;
            let (outcome, retry_after, error) = match result {
                Ok(resp) if resp.status().is_success() => {
                    let status = resp.status();
                    match resp.bytes().await {
                        Ok(body) => return Ok((status, body)),
                        Err(e) => {
                            let (outcome, error) = self.classify_body_error(e);
                            (outcome, None, error)
                        }
                    }
                }
                Ok(resp) if resp.status() == StatusCode::UNAUTHORIZED && !refreshed_after_401 => {
                    if let Some(stale) = token.as_ref() {
                        // The token was revoked or expired early: one new grant, one replay.
                        refreshed_after_401 = true;
                        tracing::debug!(path = %call.path, "401: refreshing the access token once");
                        let stale = stale.generation;
                        token = Some(self.tokens.replace(stale, || self.grant()).await?);
                        continue;
                    }
                    self.failure(resp).await
                }
                Ok(resp) => self.failure(resp).await,
                Err(e) => {
                    let (outcome, error) = self.classify(e);
                    (outcome, None, error)
                }
            };
            match decide(
                retries_done,
                outcome,
                retry_after.as_deref(),
                &self.retry,
                rand::random::<f64>(),
            ) {
                RetryDecision::Stop => return Err(error),
                RetryDecision::RetryAfter(wait) => {
                    tracing::debug!(
                        method = %call.method, path = %call.path, ?outcome, ?wait,
                        attempt = retries_done + 1, "retrying"
                    );
                    tokio::time::sleep(wait).await;
                    retries_done += 1;
                }
            }
        }
    }

    async fn failure(&self, resp: reqwest::Response) -> (Outcome, Option<String>, OakError) {
        let status = resp.status();
        let headers = resp.headers().clone();
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // An unreadable error body still leaves a meaningful status.
        let body = resp.bytes().await.unwrap_or_default();
        (
            Outcome::Status(status.as_u16()),
            retry_after,
            OakError::api(status, headers, &body),
        )
    }

    /// A success whose body broke off (connection reset or closed mid-answer) is as lost as an
    /// answer that never came: the server may have acted, the caller cannot know the result.
    /// It is retried like a connection error — safe, since every POST repeats its
    /// `Idempotency-Key` and gets the stored answer back.
    fn classify_body_error(&self, e: reqwest::Error) -> (Outcome, OakError) {
        if e.is_timeout() {
            (Outcome::Timeout, OakError::Timeout(self.timeout))
        } else {
            (Outcome::ConnectionError, OakError::Network(e))
        }
    }

    fn classify(&self, e: reqwest::Error) -> (Outcome, OakError) {
        if e.is_timeout() {
            (Outcome::Timeout, OakError::Timeout(self.timeout))
        } else if e.is_connect() || e.is_request() {
            (Outcome::ConnectionError, OakError::Network(e))
        } else if e.is_builder() {
            (Outcome::Other, OakError::Config(e.to_string()))
        } else {
            (Outcome::Other, OakError::Network(e))
        }
    }

    async fn attempt(
        &self,
        call: &Call,
        url: url::Url,
        token: Option<&Token>,
        idempotency_key: Option<&str>,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let mut req = self
            .http
            .request(call.method.clone(), url)
            .timeout(self.timeout)
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .header("oak-version", OAK_VERSION);
        if let Some(token) = token {
            req = req.bearer_auth(token.secret.expose_secret());
        }
        if let Some(key) = idempotency_key {
            req = req.header(IDEMPOTENCY_KEY, key);
        }
        req = match &call.body {
            Body::Empty => req,
            Body::Json(bytes) => req
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(bytes.clone()),
            Body::Multipart { file_type, files } => {
                req.multipart(crate::upload::form(file_type, files))
            }
        };
        req.send().await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use acorn_types::{BalanceFilter, CustomerStatus, ListParams, Provider, TargetRole};

    fn inner() -> Inner {
        Inner {
            http: reqwest::Client::new(),
            base_url: "http://127.0.0.1:1/prefix".into(),
            client_id: "id".into(),
            client_secret: SecretString::from("s".to_owned()),
            retry: RetryOptions::default(),
            timeout: Duration::from_secs(1),
            tokens: TokenCache::default(),
        }
    }

    #[test]
    fn list_params_become_one_encoded_value_per_filter() {
        let params = ListParams {
            limit: Some(10),
            offset: Some(0),
            email: vec!["alice+test@example.com".into(), "bob@example.com".into()],
            provider: vec![Provider::Stripe, Provider::Bridge],
            status: vec![CustomerStatus::Approved, CustomerStatus::InReview],
            ..Default::default()
        };
        let call = Call::new(Method::GET, "/api/v1/customers".into())
            .query(&params)
            .unwrap();
        let url = inner().url(&call).unwrap();
        assert_eq!(url.path(), "/prefix/api/v1/customers");
        let q = url.query().unwrap();
        assert!(q.contains("limit=10"), "{q}");
        assert!(q.contains("offset=0"), "{q}");
        assert!(
            q.contains("email=alice%2Btest%40example.com%2Cbob%40example.com"),
            "{q}"
        );
        assert!(q.contains("provider=stripe%2Cbridge"), "{q}");
        assert!(q.contains("status=APPROVED%2CIN_REVIEW"), "{q}");
        assert!(
            !q.contains("country_code"),
            "empty filters are left out: {q}"
        );
        // And they decode back to the same filters.
        let back: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert!(back.contains(&("provider".into(), "stripe,bridge".into())));
    }

    #[test]
    fn empty_params_give_no_query_string() {
        let call = Call::new(Method::GET, "/api/v1/customers".into())
            .query(&ListParams::default())
            .unwrap();
        assert_eq!(inner().url(&call).unwrap().query(), None);
        let call = Call::new(Method::GET, "/x".into())
            .query(&BalanceFilter::new(
                Provider::Stripe,
                TargetRole::ConnectedAccount,
            ))
            .unwrap();
        assert_eq!(
            inner().url(&call).unwrap().query(),
            Some("provider=stripe&role=connected_account")
        );
    }

    #[test]
    fn decode_errors_name_the_json_path() {
        let raw = br#"{"msg":"ok","data":{"count":1,"has_more":false,
            "customer_list":[{"id":"cus_1","status":"NOPE"}]}}"#;
        let err =
            decode::<ApiResponse<acorn_types::CustomerList>>(StatusCode::OK, raw).unwrap_err();
        match err {
            OakError::Decode { path, status, .. } => {
                assert_eq!(status, StatusCode::OK);
                assert!(path.starts_with("data.customer_list[0]"), "{path}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

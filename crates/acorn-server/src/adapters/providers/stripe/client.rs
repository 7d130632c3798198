//! A small typed client for the few Stripe endpoints Acorn calls: form-encoded POSTs with an
//! `Idempotency-Key`, GETs, `Stripe-Account` for connected accounts, a pinned `Stripe-Version`,
//! a timeout on every call, and a bounded retry that honours `Stripe-Should-Retry` and
//! `Retry-After`. The secret key is sent only in the `Authorization` header; it never appears in
//! an error message or in `Debug`.

use std::fmt;
use std::time::Duration;

use reqwest::header::{HeaderMap, CONTENT_TYPE};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::adapters::providers::ProviderError;

/// The API version every call is pinned to.
pub const STRIPE_VERSION: &str = "2024-06-20";
/// The longest wait between two tries of one call, whatever `Retry-After` says.
const MAX_WAIT: Duration = Duration::from_secs(5);

/// Form parameters in Stripe's bracket notation (`metadata[acorn_customer_id]=…`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// An empty form.
    pub fn new() -> Self {
        Form::default()
    }

    /// Adds `key=value`.
    pub fn push(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.0.push((key.into(), value.into()));
        self
    }

    /// Adds `key=value` when there is a non-empty value.
    pub fn opt(&mut self, key: impl Into<String>, value: Option<&str>) -> &mut Self {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            self.0.push((key.into(), v.to_owned()));
        }
        self
    }

    /// The parameters, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// Whether the form has a parameter named `key`.
    #[cfg(test)]
    pub fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    /// `application/x-www-form-urlencoded` text.
    pub fn encode(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            s.append_pair(k, v);
        }
        s.finish()
    }
}

/// How the client reaches Stripe.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    key: SecretString,
    retries: u32,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("stripe::Client")
            .field("base", &self.base)
            .field("key", &"[redacted]")
            .field("retries", &self.retries)
            .finish()
    }
}

/// One call.
#[derive(Debug, Clone, Copy)]
struct Call<'a> {
    post: bool,
    delete: bool,
    path: &'a str,
    form: Option<&'a Form>,
    idempotency_key: Option<&'a str>,
    account: Option<&'a str>,
}

/// A failed try: the error, and how long Stripe asked us to wait.
struct Failure {
    error: ProviderError,
    wait: Option<Duration>,
}

impl Client {
    /// A client for `base` (no trailing slash needed), each call limited to `timeout`, each
    /// retryable failure tried again up to `retries` times.
    pub fn new(
        base: &str,
        key: SecretString,
        timeout: Duration,
        retries: u32,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("acorn/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client {
            http,
            base: base.trim_end_matches('/').to_owned(),
            key,
            retries,
        })
    }

    /// `POST path` with `form`, keyed by `idempotency_key`, on behalf of `account` if given.
    pub async fn post(
        &self,
        path: &str,
        form: &Form,
        idempotency_key: &str,
        account: Option<&str>,
    ) -> Result<Value, ProviderError> {
        self.send(Call {
            post: true,
            delete: false,
            path,
            form: Some(form),
            idempotency_key: Some(idempotency_key),
            account,
        })
        .await
    }

    /// `GET path`, on behalf of `account` if given.
    pub async fn get(&self, path: &str, account: Option<&str>) -> Result<Value, ProviderError> {
        self.send(Call {
            post: false,
            delete: false,
            path,
            form: None,
            idempotency_key: None,
            account,
        })
        .await
    }

    /// `DELETE path` (e.g. erasing a customer), on behalf of `account` if given.
    pub async fn delete(&self, path: &str, account: Option<&str>) -> Result<Value, ProviderError> {
        self.send(Call {
            post: false,
            delete: true,
            path,
            form: None,
            idempotency_key: None,
            account,
        })
        .await
    }

    async fn send(&self, call: Call<'_>) -> Result<Value, ProviderError> {
        let mut tries = 0;
        loop {
            match self.once(call).await {
                Ok(v) => return Ok(v),
                Err(f) if f.error.retryable && tries < self.retries => {
                    let wait = f.wait.unwrap_or(Duration::from_millis(250 << tries));
                    tracing::info!(path = call.path, tries = tries + 1, error = %f.error, "stripe call failed; trying again");
                    tokio::time::sleep(wait.min(MAX_WAIT)).await;
                    tries += 1;
                }
                Err(f) => return Err(f.error),
            }
        }
    }

    async fn once(&self, call: Call<'_>) -> Result<Value, Failure> {
        let url = format!("{}{}", self.base, call.path);
        let method = if call.post {
            reqwest::Method::POST
        } else if call.delete {
            reqwest::Method::DELETE
        } else {
            reqwest::Method::GET
        };
        let mut req = self
            .http
            .request(method, url)
            .bearer_auth(self.key.expose_secret())
            .header("Stripe-Version", STRIPE_VERSION);
        if let Some(k) = call.idempotency_key {
            req = req.header("Idempotency-Key", k);
        }
        if let Some(a) = call.account {
            req = req.header("Stripe-Account", a);
        }
        if let Some(form) = call.form {
            req = req
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form.encode());
        }
        let res = req.send().await.map_err(network)?;
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.map_err(network)?;
        if status.is_success() {
            return serde_json::from_str(&text).map_err(|_| Failure {
                error: ProviderError {
                    message: format!("stripe {}: the answer is not JSON", status.as_u16()),
                    retryable: true,
                },
                wait: None,
            });
        }
        Err(self.refusal(status, &headers, &text))
    }

    /// Stripe's error answer as a [`ProviderError`]: retryable when `Stripe-Should-Retry` says
    /// so, else for 409 (a concurrent use of the key), 429 and 5xx.
    fn refusal(&self, status: StatusCode, headers: &HeaderMap, text: &str) -> Failure {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let should_retry = header("stripe-should-retry").map(|v| v == "true");
        let retryable = should_retry.unwrap_or(
            status == StatusCode::CONFLICT
                || status == StatusCode::TOO_MANY_REQUESTS
                || status.is_server_error(),
        );
        let wait = header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        let e = &body["error"];
        let kind = e["type"].as_str().unwrap_or("api_error");
        let code = e["code"]
            .as_str()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        let detail = e["message"].as_str().unwrap_or("no error message");
        let param = e["param"]
            .as_str()
            .map(|p| format!(" [param {p}]"))
            .unwrap_or_default();
        let message = format!("stripe {} {kind}{code}: {detail}{param}", status.as_u16());
        Failure {
            error: ProviderError {
                message: self.scrub(message),
                retryable,
            },
            wait,
        }
    }

    /// Removes the key from a text, should Stripe ever echo it.
    fn scrub(&self, text: String) -> String {
        let key = self.key.expose_secret();
        if key.len() >= 8 && text.contains(key) {
            text.replace(key, "[redacted]")
        } else {
            text
        }
    }
}

fn network(e: reqwest::Error) -> Failure {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "the connection failed"
    };
    Failure {
        error: ProviderError {
            message: format!("stripe: {what}"),
            retryable: true,
        },
        wait: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_use_bracket_keys_percent_encoded() {
        let mut f = Form::new();
        f.push("metadata[acorn_customer_id]", "cus 1&x")
            .opt("email", Some("a+b@x.com"))
            .opt("name", None)
            .opt("phone", Some(""));
        assert_eq!(
            f.encode(),
            "metadata%5Bacorn_customer_id%5D=cus+1%26x&email=a%2Bb%40x.com"
        );
        assert!(f.has("email") && !f.has("name"));
    }

    #[test]
    fn refusals_read_stripe_errors_and_never_show_the_key() {
        let key = "sk_test_abcdefghijklmnop";
        let c = Client::new(
            "http://x",
            SecretString::from(key),
            Duration::from_secs(1),
            0,
        )
        .expect("client");
        assert!(!format!("{c:?}").contains(key));
        let body = format!(
            r#"{{"error":{{"type":"invalid_request_error","code":"resource_missing","message":"No such key {key}","param":"id"}}}}"#
        );
        let f = c.refusal(StatusCode::BAD_REQUEST, &HeaderMap::new(), &body);
        assert!(!f.error.retryable);
        assert!(f
            .error
            .message
            .contains("invalid_request_error (resource_missing)"));
        assert!(!f.error.message.contains(key), "{}", f.error.message);
        let mut h = HeaderMap::new();
        h.insert("retry-after", "3".parse().expect("header"));
        let f = c.refusal(StatusCode::TOO_MANY_REQUESTS, &h, "");
        assert!(f.error.retryable);
        assert_eq!(f.wait, Some(Duration::from_secs(3)));
        h.insert("stripe-should-retry", "false".parse().expect("header"));
        assert!(
            !c.refusal(StatusCode::SERVICE_UNAVAILABLE, &h, "")
                .error
                .retryable
        );
        h.insert("stripe-should-retry", "true".parse().expect("header"));
        assert!(c.refusal(StatusCode::BAD_REQUEST, &h, "").error.retryable);
    }
}

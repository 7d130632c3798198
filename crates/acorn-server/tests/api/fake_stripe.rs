//! A local fake of Stripe's REST API for the connector's tests: it checks the bearer key, the
//! `Stripe-Version`, the form encoding and the `Idempotency-Key` of every POST, keeps its
//! customers and accounts, replays a repeated `Idempotency-Key`, reads `Stripe-Account` for
//! balances, moves accounts from `currently_due` to enabled on demand, and sends signed
//! webhooks to Acorn.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use acorn_server::testing::sign_stripe_webhook as sign;
use acorn_server::StripeConfig;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use secrecy::SecretString;
use serde_json::{json, Map, Value};

/// The key the fake accepts.
pub const KEY: &str = "sk_test_fake_acorn_4242424242";
/// The webhook signing secret shared with Acorn.
pub const WEBHOOK_SECRET: &str = "whsec_fake_acorn_signing";

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub idempotency_key: Option<String>,
    pub stripe_account: Option<String>,
    pub form: Vec<(String, String)>,
    /// Whether the answer was a replay of an earlier one with the same key.
    pub replayed: bool,
}

impl Recorded {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A keyed request's path and parameters, and the answer it got.
type Replay = (String, Vec<(String, String)>, u16, Value);

/// What the fake keeps.
#[derive(Default)]
pub struct Inner {
    pub customers: BTreeMap<String, Value>,
    pub accounts: BTreeMap<String, Value>,
    pub balances: HashMap<String, Value>,
    pub requests: Vec<Recorded>,
    /// Anything a request did wrong (must stay empty).
    pub violations: Vec<String>,
    /// While set, requests are carried out but their answers are lost (502).
    pub lose_answers: bool,
    /// While set, customer and account updates are refused with this status and error.
    pub refuse_updates: Option<(u16, Value)>,
    idempotent: HashMap<String, Replay>,
    next: u64,
}

pub type Shared = Arc<Mutex<Inner>>;

/// A running fake.
pub struct FakeStripe {
    pub base: String,
    pub state: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeStripe {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn stripe_error(status: u16, kind: &str, message: &str) -> (u16, Value) {
    (status, json!({"error": {"type": kind, "message": message}}))
}

impl FakeStripe {
    pub async fn start() -> FakeStripe {
        let state: Shared = Arc::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let app = Router::new().fallback(handle).with_state(state.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeStripe {
            base,
            state,
            server,
        }
    }

    /// Acorn's configuration for this fake.
    pub fn config(&self) -> StripeConfig {
        let mut c = StripeConfig::new(SecretString::from(KEY)).expect("key");
        c.api_base = self.base.clone();
        c.timeout = Duration::from_secs(5);
        c.max_network_retries = 0;
        // Two endpoints (platform and connected accounts), each with its own secret.
        let secrets = format!("whsec_fake_platform_endpoint,{WEBHOOK_SECRET}");
        c.with_webhook_secret(SecretString::from(secrets))
            .expect("secret")
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.state.lock().expect("fake state")
    }

    pub fn requests(&self, method: &str, path: &str) -> Vec<Recorded> {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .cloned()
            .collect()
    }

    #[track_caller]
    pub fn assert_clean(&self) {
        let v = self.lock().violations.clone();
        assert!(v.is_empty(), "requests the fake refused: {v:?}");
    }

    /// The person finished onboarding: nothing due, charges and payouts enabled.
    pub fn enable(&self, id: &str) -> Value {
        let mut inner = self.lock();
        let a = inner.accounts.get_mut(id).expect("account");
        a["requirements"] = json!({"currently_due": [], "past_due": [], "eventually_due": [], "disabled_reason": null});
        a["charges_enabled"] = json!(true);
        a["payouts_enabled"] = json!(true);
        a["details_submitted"] = json!(true);
        a["capabilities"] = json!({"card_payments": "active", "transfers": "active"});
        a.clone()
    }

    pub fn set_balance(&self, account: &str, balance: Value) {
        self.lock().balances.insert(account.to_owned(), balance);
    }

    /// Posts a signed event to Acorn's webhook endpoint; `secret` signs it.
    pub async fn send_event(
        &self,
        acorn_base: &str,
        kind: &str,
        object: &Value,
        secret: &str,
    ) -> crate::helpers::Resp {
        let body =
            json!({"id": format!("evt_{}", uuid::Uuid::new_v4().simple()), "object": "event",
            "type": kind, "created": chrono::Utc::now().timestamp(), "data": {"object": object}})
            .to_string();
        let header = sign(secret, chrono::Utc::now().timestamp(), body.as_bytes());
        let res = reqwest::Client::new()
            .post(format!("{acorn_base}/api/v1/providers/stripe/webhook"))
            .header("content-type", "application/json")
            .header("stripe-signature", header)
            .body(body)
            .send()
            .await
            .expect("webhook request");
        crate::helpers::decode(res).await
    }
}

fn form_of(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Checks what every request must carry; `Err` is Stripe's refusal.
fn check(inner: &mut Inner, method: &Method, headers: &HeaderMap) -> Result<(), (u16, Value)> {
    let mut bad = |v: String| inner.violations.push(v);
    if header(headers, "authorization").as_deref() != Some(&format!("Bearer {KEY}")) {
        bad("wrong or missing bearer key".into());
        return Err(stripe_error(
            401,
            "invalid_request_error",
            "Invalid API Key provided",
        ));
    }
    if header(headers, "stripe-version").is_none() {
        bad("no Stripe-Version".into());
    }
    if method == Method::POST {
        if header(headers, "content-type").as_deref() != Some("application/x-www-form-urlencoded") {
            bad("a POST that is not form-encoded".into());
            return Err(stripe_error(
                400,
                "invalid_request_error",
                "form encoding expected",
            ));
        }
        if header(headers, "idempotency-key").is_none() {
            bad("a POST without Idempotency-Key".into());
            return Err(stripe_error(
                400,
                "invalid_request_error",
                "Idempotency-Key expected",
            ));
        }
    }
    Ok(())
}

async fn handle(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = state.lock().expect("fake state");
    let form = form_of(&body);
    let key = header(&headers, "idempotency-key");
    let mut rec = Recorded {
        method: method.to_string(),
        path: uri.path().to_owned(),
        idempotency_key: key.clone(),
        stripe_account: header(&headers, "stripe-account"),
        form: form.clone(),
        replayed: false,
    };
    let (status, answer) = match check(&mut inner, &method, &headers) {
        Err(refusal) => refusal,
        Ok(()) => {
            match key.as_ref().and_then(|k| inner.idempotent.get(k).cloned()) {
                Some((path, sent, status, answer)) => {
                    rec.replayed = true;
                    if path != rec.path || sent != form {
                        stripe_error(400, "idempotency_error", "Keys for idempotent requests can only be used with the same parameters")
                    } else {
                        (status, answer)
                    }
                }
                None => {
                    let out = route(&mut inner, &rec);
                    if let Some(k) = &key {
                        inner
                            .idempotent
                            .insert(k.clone(), (rec.path.clone(), form, out.0, out.1.clone()));
                    }
                    out
                }
            }
        }
    };
    let lose = inner.lose_answers;
    inner.requests.push(rec);
    drop(inner);
    if lose {
        return (StatusCode::BAD_GATEWAY, "the answer was lost").into_response();
    }
    let status = StatusCode::from_u16(status).expect("status");
    (status, axum::Json(answer)).into_response()
}

fn metadata(form: &[(String, String)]) -> Map<String, Value> {
    form.iter()
        .filter_map(|(k, v)| {
            let name = k.strip_prefix("metadata[")?.strip_suffix(']')?;
            Some((name.to_owned(), Value::String(v.clone())))
        })
        .collect()
}

fn route(inner: &mut Inner, r: &Recorded) -> (u16, Value) {
    let parts: Vec<&str> = r.path.trim_start_matches('/').split('/').collect();
    match (r.method.as_str(), parts.as_slice()) {
        ("POST", ["v1", "customers"]) => {
            inner.next += 1;
            let id = format!("cus_fake{}", inner.next);
            let c = json!({"id": id, "object": "customer", "livemode": false, "email": r.param("email"),
                "name": r.param("name"), "phone": r.param("phone"), "metadata": metadata(&r.form)});
            inner.customers.insert(id, c.clone());
            (200, c)
        }
        ("DELETE", ["v1", "customers", id]) => match inner.customers.remove(*id) {
            Some(_) => (
                200,
                json!({"id": id, "object": "customer", "deleted": true}),
            ),
            None => stripe_error(404, "invalid_request_error", "No such customer"),
        },
        ("POST", ["v1", "customers", id]) | ("POST", ["v1", "accounts", id]) => {
            update(inner, parts[1], id, r)
        }
        ("GET", ["v1", "accounts", id]) => match inner.accounts.get(*id) {
            Some(a) => (200, a.clone()),
            None => stripe_error(404, "invalid_request_error", "No such account"),
        },
        ("POST", ["v1", "accounts"]) => {
            inner.next += 1;
            let id = format!("acct_fake{}", inner.next);
            let a = json!({"id": id, "object": "account", "type": r.param("type"), "country": r.param("country"),
                "email": r.param("email"), "business_type": r.param("business_type"),
                "charges_enabled": false, "payouts_enabled": false, "details_submitted": false,
                "capabilities": {"card_payments": "inactive", "transfers": "inactive"},
                "requirements": {"currently_due": ["external_account", "individual.id_number", "tos_acceptance.date"],
                    "past_due": [], "eventually_due": [], "disabled_reason": "requirements.past_due"},
                "metadata": metadata(&r.form)});
            inner.accounts.insert(id, a.clone());
            (200, a)
        }
        ("POST", ["v1", "account_links"]) => match r.param("account") {
            Some(acct)
                if inner.accounts.contains_key(acct)
                    && r.param("return_url").is_some()
                    && r.param("refresh_url").is_some() =>
            {
                (
                    200,
                    json!({"object": "account_link", "url": format!("https://connect.stripe.test/setup/e/{acct}"), "expires_at": 1}),
                )
            }
            _ => stripe_error(
                400,
                "invalid_request_error",
                "account_links needs an existing account and both URLs",
            ),
        },
        ("GET", ["v1", "balance"]) => {
            let Some(acct) = &r.stripe_account else {
                inner
                    .violations
                    .push("a balance read without Stripe-Account".into());
                return stripe_error(
                    400,
                    "invalid_request_error",
                    "platform balance not expected",
                );
            };
            let empty = json!({"object": "balance", "available": [], "pending": []});
            (200, inner.balances.get(acct).cloned().unwrap_or(empty))
        }
        _ => stripe_error(404, "invalid_request_error", "Unrecognized request URL"),
    }
}

fn update(inner: &mut Inner, kind: &str, id: &str, r: &Recorded) -> (u16, Value) {
    if let Some(refusal) = inner.refuse_updates.clone() {
        return refusal;
    }
    let objects = if kind == "customers" {
        &mut inner.customers
    } else {
        &mut inner.accounts
    };
    let Some(o) = objects.get_mut(id) else {
        return stripe_error(404, "invalid_request_error", "No such object");
    };
    for (k, v) in &r.form {
        o[k.as_str()] = Value::String(v.clone());
    }
    (200, o.clone())
}

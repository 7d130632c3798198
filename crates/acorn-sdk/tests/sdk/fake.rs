//! A scripted stand-in for the server, for behaviour a real server will not produce on demand
//! (503 then 200, 429 with Retry-After, a revoked token, a hang). It answers the token grant
//! itself and, for every other request, records it and plays the next scripted response.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use acorn_sdk::{OakClient, RetryOptions};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

/// One response to play.
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    /// Never answer (to exercise timeouts).
    pub hang: bool,
}

impl Reply {
    pub fn ok(data: Value) -> Self {
        Self::json(200, json!({"msg": "ok", "data": data}))
    }

    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            headers: vec![],
            body: body.to_string(),
            hang: false,
        }
    }

    /// An error envelope as the contract describes it.
    pub fn error(status: u16, error_code: &str, reason: &str, fields: &[&str]) -> Self {
        Self::json(
            status,
            json!({
                "msg": format!("{error_code} ({status})"),
                "error_code": error_code,
                "failure_reasons": [{
                    "code": reason, "message": format!("{reason} happened"), "fields": fields,
                    "deadline": null, "provider_code": null,
                    "requires_manual_review": false, "support_reference": null
                }],
                "data": null
            }),
        )
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    pub fn hang() -> Self {
        Self {
            status: 200,
            headers: vec![],
            body: String::new(),
            hang: true,
        }
    }
}

/// A request the fake received (token grants excluded).
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

#[derive(Default)]
pub struct Fake {
    pub grants: AtomicUsize,
    /// Simulated latency of the grant endpoint.
    pub grant_latency: Mutex<Duration>,
    /// Replies to the grant endpoint; when empty, a fresh `tok-<n>` is granted.
    pub grant_script: Mutex<VecDeque<Reply>>,
    pub expires_in: Mutex<u64>,
    pub script: Mutex<VecDeque<Reply>>,
    /// Played when the script is empty.
    pub default_reply: Mutex<Option<Reply>>,
    pub seen: Mutex<Vec<Seen>>,
}

impl Fake {
    pub fn push(&self, reply: Reply) {
        self.script.lock().unwrap().push_back(reply);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn grants(&self) -> usize {
        self.grants.load(Ordering::SeqCst)
    }
}

pub struct Running {
    pub fake: Arc<Fake>,
    pub addr: SocketAddr,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A client with tiny backoffs, so retry tests run fast.
    pub fn client(&self) -> OakClient {
        self.client_with(fast_retry(3), Duration::from_secs(5))
    }

    pub fn client_with(&self, retry: RetryOptions, timeout: Duration) -> OakClient {
        OakClient::builder()
            .custom_url(self.url())
            .client_id("client-1")
            .client_secret("secret-1")
            .retry(retry)
            .timeout(timeout)
            .build()
            .unwrap()
    }
}

pub fn fast_retry(max_retries: u32) -> RetryOptions {
    RetryOptions {
        max_retries,
        initial_delay: Duration::from_millis(2),
        backoff_factor: 2,
        max_delay: Duration::from_secs(5),
    }
}

pub async fn start() -> Running {
    let fake = Arc::new(Fake::default());
    *fake.expires_in.lock().unwrap() = 3600;
    let app = Router::new().fallback(handle).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Running { fake, addr }
}

async fn handle(State(fake): State<Arc<Fake>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    if parts.uri.path() == "/api/v1/merchant/token/grant" {
        let n = fake.grants.fetch_add(1, Ordering::SeqCst) + 1;
        let latency = *fake.grant_latency.lock().unwrap();
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let scripted = fake.grant_script.lock().unwrap().pop_front();
        if let Some(reply) = scripted {
            return play(reply).await;
        }
        let grant: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        assert_eq!(grant["grant_type"], "client_credentials");
        let expires_in = *fake.expires_in.lock().unwrap();
        return play(Reply::json(
            200,
            json!({"access_token": format!("tok-{n}"), "token_type": "Bearer", "expires_in": expires_in}),
        ))
        .await;
    }
    fake.seen.lock().unwrap().push(Seen {
        method: parts.method.clone(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers.clone(),
        body,
    });
    let reply = fake
        .script
        .lock()
        .unwrap()
        .pop_front()
        .or_else(|| fake.default_reply.lock().unwrap().clone())
        .unwrap_or_else(|| Reply::error(500, "internal_error", "internal_error", &[]));
    play(reply).await
}

async fn play(reply: Reply) -> Response {
    if reply.hang {
        std::future::pending::<()>().await;
    }
    let mut resp = (
        StatusCode::from_u16(reply.status).unwrap(),
        Body::from(reply.body),
    )
        .into_response();
    resp.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    for (k, v) in reply.headers {
        resp.headers_mut().insert(k, v.parse().unwrap());
    }
    resp
}

/// A complete customer object as the contract describes it.
pub fn customer(id: &str) -> Value {
    json!({
        "id": id, "customer_id": id, "email": "alice@example.com",
        "first_name": "Alice", "last_name": null, "company_name": null,
        "document_number": null, "document_type": null, "dob": null,
        "phone_country_code": null, "phone_area_code": null, "phone_number": null,
        "country_code": "us", "gender": null, "house_number": null, "street_number": null,
        "street_name": null, "neighborhood": null, "postal_code": null, "city": null,
        "state": null, "subdivision": null, "mother_name": null, "owner_legal_name": null,
        "owner_document_number": null, "owner_document_type": null,
        "company_start_date": null, "social_name": null, "tax_id": null,
        "monthly_net_income": null, "status": "NOT_STARTED", "customer_wallet": null,
        "trading_wallet": null, "account_type": null, "additional_info": null,
        "platforms": [], "synced": null, "synced_at": null, "version": 1,
        "created_at": "2026-11-28T10:00:00Z", "updated_at": "2026-11-28T10:00:00Z"
    })
}

pub fn registration(provider: &str, role: &str, status: &str) -> Value {
    json!({ "id": "preg_1", "provider": provider, "target_role": role, "status": status,
        "provider_customer_id": null, "provider_data": {}, "provider_response": null,
        "rejection_reason": null, "readiness": null, "failure_reasons": null, "changes": null,
        "action_required": false, "documents": "none", "manual_review": false,
        "missing_fields": [], "created_at": "t", "updated_at": "t" })
}

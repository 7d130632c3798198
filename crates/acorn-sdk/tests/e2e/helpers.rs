//! A real Acorn server started in-process on port 0 (SQLite in a temporary directory, sandbox
//! providers, no simulated delays), one merchant, and an SDK client for it.

use std::future::Future;
use std::time::{Duration, Instant};

use acorn_sdk::types::{Customer, CustomerRequest};
use acorn_sdk::{ExposeSecret, OakClient, RetryOptions};
use acorn_server::admin::create_merchant;
use acorn_server::testing::AppState;
use acorn_server::{Application, Config};
use serde_json::Value;

/// A running server with one merchant.
pub struct TestServer {
    pub base: String,
    pub client_id: String,
    pub client_secret: String,
    #[allow(dead_code)]
    pub state: AppState,
    /// A plain HTTP client, for the sandbox helpers the SDK does not wrap.
    pub http: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
    // Dropped after the server task is aborted.
    _dir: tempfile::TempDir,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Starts a fresh server and creates its merchant.
pub async fn spawn_server() -> TestServer {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::with_data_dir(dir.path());
    config.listen = "127.0.0.1:0".parse().expect("addr");
    // Tests never wait for the simulation: steps run at once, jobs are polled often.
    config.sandbox_step_delay = Duration::ZERO;
    config.job_poll_interval = Duration::from_millis(50);
    let app = Application::build(config).await.expect("build application");
    let base = format!("http://{}", app.local_addr());
    let state = app.state().clone();
    let server = tokio::spawn(async move {
        let _ = app.run_until(std::future::pending()).await;
    });
    let creds = create_merchant(
        &state.store,
        &state.auth,
        "sdk e2e",
        acorn_server::admin::Mode::Sandbox,
    )
    .await
    .expect("create merchant");
    TestServer {
        base,
        client_id: creds.client_id,
        client_secret: creds.client_secret.expose_secret().to_owned(),
        state,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client"),
        server,
        _dir: dir,
    }
}

/// Retries as in production, but with short waits so a retried test stays fast.
pub fn fast_retries() -> RetryOptions {
    RetryOptions {
        max_retries: 2,
        initial_delay: Duration::from_millis(20),
        ..Default::default()
    }
}

impl TestServer {
    /// An SDK client for the merchant, talking to `url` (the server itself unless a test puts
    /// something in between).
    pub fn client_for(&self, url: &str) -> OakClient {
        OakClient::builder()
            .custom_url(url)
            .client_id(&self.client_id)
            .client_secret(&self.client_secret)
            .retry(fast_retries())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client")
    }

    /// An SDK client for the merchant.
    pub fn client(&self) -> OakClient {
        self.client_for(&self.base)
    }

    /// Creates a customer through the SDK, asserting success.
    pub async fn customer(&self, client: &OakClient, req: CustomerRequest) -> Customer {
        client
            .customers()
            .create(&req)
            .await
            .expect("create customer")
            .data
    }

    /// POSTs JSON to a sandbox helper with the client's token; returns the status and body.
    pub async fn sandbox_post(&self, client: &OakClient, path: &str, body: Value) -> (u16, Value) {
        let token = client.get_access_token().await.expect("token");
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token.expose_secret())
            .json(&body)
            .send()
            .await
            .expect("sandbox request");
        let status = resp.status().as_u16();
        let body = resp.json().await.expect("sandbox response body");
        (status, body)
    }
}

/// A customer request with just an email.
pub fn with_email(email: &str) -> CustomerRequest {
    CustomerRequest {
        email: Some(email.to_owned()),
        ..Default::default()
    }
}

/// Polls `probe` until it returns `Some`, failing the test after 10 s. Background work (sandbox
/// steps, sync) is waited for this way, never with a fixed sleep.
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// What a [`LossyProxy`] forwarded.
#[derive(Debug, Clone)]
pub struct Forwarded {
    pub method: String,
    pub path: String,
    pub idempotency_key: Option<String>,
    /// The server's status.
    pub status: u16,
    /// Whether the server marked its answer `Idempotent-Replayed: true`.
    pub replayed: bool,
    /// Whether the proxy threw the answer away (closed the connection instead).
    pub lost: bool,
}

/// How a [`LossyProxy`] loses the answer to the first `POST /api/v1/customers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    /// The connection closes before any of the answer is sent.
    Whole,
    /// The status line, headers and half the body are sent, then the connection closes.
    Truncated,
}

/// A minimal HTTP/1.1 proxy in front of the server that forwards every request but loses the
/// server's answer to the first `POST /api/v1/customers`: the server acts, the client sees the
/// connection close — what a network failure after the server's commit looks like.
pub struct LossyProxy {
    pub url: String,
    pub forwarded: std::sync::Arc<std::sync::Mutex<Vec<Forwarded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LossyProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl LossyProxy {
    pub async fn start(upstream: &str, loss: Loss) -> LossyProxy {
        Self::start_losing(upstream, loss, "/api/v1/customers").await
    }

    /// Like [`start`](Self::start), losing the answer to the first `POST` to `lost_path`.
    pub async fn start_losing(upstream: &str, loss: Loss, lost_path: &'static str) -> LossyProxy {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::{Arc, Mutex};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().expect("proxy addr"));
        let forwarded = Arc::new(Mutex::new(Vec::new()));
        let lost_one = Arc::new(AtomicBool::new(false));
        let upstream = upstream.to_owned();
        let log = forwarded.clone();
        let task = tokio::spawn(async move {
            let http = reqwest::Client::new();
            while let Ok((socket, _)) = listener.accept().await {
                let (http, upstream, log, lost_one) = (
                    http.clone(),
                    upstream.clone(),
                    log.clone(),
                    lost_one.clone(),
                );
                tokio::spawn(async move {
                    let lose = |method: &str, path: &str| {
                        method == "POST"
                            && path == lost_path
                            && !lost_one.swap(true, Ordering::SeqCst)
                    };
                    if let Some(f) = proxy_one(socket, &http, &upstream, lose, loss).await {
                        log.lock().expect("log").push(f);
                    }
                });
            }
        });
        LossyProxy {
            url,
            forwarded,
            task,
        }
    }

    pub fn forwarded(&self) -> Vec<Forwarded> {
        self.forwarded.lock().expect("log").clone()
    }
}

/// Serves one request on `socket` (answering with `Connection: close`).
async fn proxy_one(
    mut socket: tokio::net::TcpStream,
    http: &reqwest::Client,
    upstream: &str,
    lose: impl FnOnce(&str, &str) -> bool,
    loss: Loss,
) -> Option<Forwarded> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut buf = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 8192];
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let (method, path) = (
        request_line.next()?.to_owned(),
        request_line.next()?.to_owned(),
    );
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let mut chunk = [0u8; 8192];
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[head_end..head_end + length].to_vec();

    let mut req = http.request(method.parse().ok()?, format!("{upstream}{path}"));
    for (k, v) in &headers {
        if !matches!(k.as_str(), "host" | "connection" | "content-length") {
            req = req.header(k, v);
        }
    }
    let resp = req.body(body).send().await.ok()?;
    let status = resp.status();
    let resp_headers = resp.headers().clone();
    let resp_body = resp.bytes().await.ok()?;
    let lost = lose(&method, &path);
    let record = Forwarded {
        method,
        path,
        idempotency_key: header("idempotency-key"),
        status: status.as_u16(),
        replayed: resp_headers
            .get("idempotent-replayed")
            .is_some_and(|v| v == "true"),
        lost,
    };
    if lost && loss == Loss::Whole {
        // The server has acted; the client never hears of it.
        drop(socket);
        return Some(record);
    }
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    for (k, v) in &resp_headers {
        if !matches!(
            k.as_str(),
            "connection" | "content-length" | "transfer-encoding"
        ) {
            out.push_str(&format!("{k}: {}\r\n", v.to_str().unwrap_or("")));
        }
    }
    out.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        resp_body.len()
    ));
    let _ = socket.write_all(out.as_bytes()).await;
    if lost {
        // Loss::Truncated: the client learns the status, but not the body.
        let _ = socket.write_all(&resp_body[..resp_body.len() / 2]).await;
        let _ = socket.flush().await;
        drop(socket);
        return Some(record);
    }
    let _ = socket.write_all(&resp_body).await;
    let _ = socket.shutdown().await;
    Some(record)
}

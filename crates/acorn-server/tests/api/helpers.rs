//! `spawn_app()`: the real server on port 0 with its own fresh database, and one helper per
//! endpoint.

use std::path::Path;
use std::time::Duration;

use acorn_server::admin::{create_merchant, Mode};
use acorn_server::testing::AppState;
use acorn_server::{Application, Config};
use reqwest::header::HeaderMap;
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::{json, Value};

use crate::pg::TestDatabase;

/// Which store a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A decoded response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `data` of a success envelope.
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// The fields named across the failure reasons, sorted.
    pub fn failure_fields(&self) -> Vec<String> {
        let mut out: Vec<String> = self.body["failure_reasons"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| r["fields"].as_array().cloned().unwrap_or_default())
            .filter_map(|f| f.as_str().map(str::to_owned))
            .collect();
        out.sort();
        out
    }

    pub fn reason_codes(&self) -> Vec<String> {
        self.body["failure_reasons"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["code"].as_str().map(str::to_owned))
            .collect()
    }

    /// Asserts the contract's error envelope and the status.
    #[track_caller]
    pub fn assert_error(&self, status: u16, error_code: &str) {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(self.body["error_code"], error_code, "body: {}", self.body);
        assert!(self.body["msg"].is_string(), "msg missing: {}", self.body);
        assert!(
            self.body["failure_reasons"].is_array(),
            "failure_reasons missing: {}",
            self.body
        );
        assert!(
            self.body.get("data").is_some_and(Value::is_null),
            "data must be null: {}",
            self.body
        );
        assert!(
            self.header("x-request-id").is_some(),
            "x-request-id missing"
        );
    }
}

/// A merchant's credentials and a token.
#[derive(Clone, Debug)]
pub struct MerchantCreds {
    pub client_id: String,
    pub client_secret: String,
    pub token: String,
}

/// A running server with one merchant.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    #[allow(dead_code)]
    pub backend: Backend,
    pub state: AppState,
    pub merchant: MerchantCreds,
    pub config: Config,
    server: tokio::task::JoinHandle<()>,
    // Keep the database and directory alive as long as the app (dropped after it).
    _dir: tempfile::TempDir,
    _db: Option<TestDatabase>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Starts a server on `backend`; `None` only when PostgreSQL is explicitly skipped.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// Starts a server after letting the test adjust its configuration.
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Option<TestApp> {
    spawn_app_as(backend, Mode::Sandbox, adjust).await
}

/// Starts a server whose first merchant (`app.merchant`) is a live one.
pub async fn spawn_live_app(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Option<TestApp> {
    spawn_app_as(backend, Mode::Live, adjust).await
}

/// Starts a server whose first merchant has `mode`, after letting the test adjust its
/// configuration.
pub async fn spawn_app_as(
    backend: Backend,
    mode: Mode,
    adjust: impl FnOnce(&mut Config),
) -> Option<TestApp> {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(TestDatabase::create().await?),
    };
    let mut config = Config::with_data_dir(dir.path());
    config.listen = "127.0.0.1:0".parse().expect("addr");
    // Tests never wait for the simulation: steps run at once, other processes' jobs soon.
    config.sandbox_step_delay = Duration::ZERO;
    config.job_poll_interval = Duration::from_millis(50);
    config.sync_max_attempts = 3;
    config.sync_retry_base = Duration::from_millis(5);
    if let Some(db) = &db {
        config.database_url = db.url.clone();
        // PostgreSQL has no file to keep a key beside: the test gives one.
        config.master_key_file = Some(dir.path().join("master.key"));
    }
    adjust(&mut config);
    let (state, base, server) = start(config.clone()).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let mut app = TestApp {
        base,
        http,
        backend,
        state,
        merchant: MerchantCreds {
            client_id: String::new(),
            client_secret: String::new(),
            token: String::new(),
        },
        config,
        server,
        _dir: dir,
        _db: db,
    };
    app.merchant = app.new_merchant_of("test merchant", mode).await;
    Some(app)
}

/// Builds and runs a server for `config`, returning its state and base URL.
pub async fn start(config: Config) -> (AppState, String, tokio::task::JoinHandle<()>) {
    let app = Application::build(config).await.expect("build application");
    let base = format!("http://{}", app.local_addr());
    let state = app.state().clone();
    let server = tokio::spawn(async move {
        let _ = app.run_until(std::future::pending()).await;
    });
    (state, base, server)
}

impl TestApp {
    /// Creates another (sandbox) merchant and gets it a token.
    pub async fn new_merchant(&self, name: &str) -> MerchantCreds {
        self.new_merchant_of(name, Mode::Sandbox).await
    }

    /// Creates another merchant of `mode` and gets it a token.
    pub async fn new_merchant_of(&self, name: &str, mode: Mode) -> MerchantCreds {
        let creds = create_merchant(&self.state.store, &self.state.auth, name, mode)
            .await
            .expect("create merchant");
        let secret = creds.client_secret.expose_secret().to_owned();
        let r = self.grant(&creds.client_id, &secret).await;
        assert_eq!(r.status, 200, "grant failed: {}", r.body);
        let token = r.body["access_token"].as_str().expect("token").to_owned();
        MerchantCreds {
            client_id: creds.client_id,
            client_secret: secret,
            token,
        }
    }

    /// Any request; `token` is sent as a bearer token when given.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        decode(req.send().await.expect("request")).await
    }

    pub async fn grant(&self, client_id: &str, client_secret: &str) -> Resp {
        let body = json!({"client_id": client_id, "client_secret": client_secret, "grant_type": "client_credentials"});
        self.send(
            Method::POST,
            "/api/v1/merchant/token/grant",
            Some(&body),
            None,
            &[],
        )
        .await
    }

    pub async fn create_customer_as(&self, token: &str, body: &Value) -> Resp {
        self.send(
            Method::POST,
            "/api/v1/customers",
            Some(body),
            Some(token),
            &[],
        )
        .await
    }

    pub async fn create_customer(&self, body: &Value) -> Resp {
        self.create_customer_as(&self.merchant.token, body).await
    }

    /// Creates a customer and returns its id, asserting success.
    pub async fn customer(&self, body: Value) -> String {
        let r = self.create_customer(&body).await;
        assert_eq!(r.status, 200, "create failed: {}", r.body);
        r.data()["id"].as_str().expect("id").to_owned()
    }

    pub async fn get_customer_as(&self, token: &str, id: &str) -> Resp {
        self.send(
            Method::GET,
            &format!("/api/v1/customers/{id}"),
            None,
            Some(token),
            &[],
        )
        .await
    }

    pub async fn get_customer(&self, id: &str) -> Resp {
        self.get_customer_as(&self.merchant.token, id).await
    }

    pub async fn list_customers_as(&self, token: &str, query: &str) -> Resp {
        self.send(
            Method::GET,
            &format!("/api/v1/customers?{query}"),
            None,
            Some(token),
            &[],
        )
        .await
    }

    pub async fn list_customers(&self, query: &str) -> Resp {
        self.list_customers_as(&self.merchant.token, query).await
    }

    pub async fn update_customer_as(
        &self,
        token: &str,
        id: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> Resp {
        self.send(
            Method::PUT,
            &format!("/api/v1/customers/{id}"),
            Some(body),
            Some(token),
            headers,
        )
        .await
    }

    pub async fn update_customer(&self, id: &str, body: &Value) -> Resp {
        self.update_customer_as(&self.merchant.token, id, body, &[])
            .await
    }

    pub async fn post_as(&self, token: &str, path: &str, body: &Value) -> Resp {
        self.send(Method::POST, path, Some(body), Some(token), &[])
            .await
    }

    pub async fn get_as(&self, token: &str, path: &str) -> Resp {
        self.send(Method::GET, path, None, Some(token), &[]).await
    }

    pub async fn submit(&self, id: &str, body: &Value) -> Resp {
        self.post_as(
            &self.merchant.token,
            &format!("/api/v1/provider-registration/{id}/submit"),
            body,
        )
        .await
    }

    pub async fn populate(&self, id: &str, body: &Value) -> Resp {
        self.post_as(
            &self.merchant.token,
            &format!("/api/v1/customers/{id}/platforms"),
            body,
        )
        .await
    }

    pub async fn registration_status(&self, id: &str) -> Resp {
        self.get_as(
            &self.merchant.token,
            &format!("/api/v1/provider-registration/{id}/status"),
        )
        .await
    }

    pub async fn sandbox_set(&self, id: &str, provider: &str, role: &str, body: &Value) -> Resp {
        let path = format!("/api/v1/sandbox/customers/{id}/registrations/{provider}/{role}/status");
        self.post_as(&self.merchant.token, &path, body).await
    }

    pub async fn events(&self, query: &str) -> Resp {
        self.get_as(&self.merchant.token, &format!("/api/v1/events?{query}"))
            .await
    }

    /// Polls the customer until its status is `status` (the worker runs in the background).
    pub async fn wait_for_status(&self, id: &str, status: &str) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let r = self.get_customer(id).await;
            if r.data()["status"] == status {
                return r.data().clone();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "customer never reached {status}: {}",
                r.body
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A multipart upload form: an optional `file_type` part, then one `file` part per
/// `(file name, bytes)`.
pub fn file_form(file_type: Option<&str>, files: &[(&str, &[u8])]) -> Form {
    // Names go as given (reqwest would percent-encode the slashes of `../x`).
    let mut form = Form::new().percent_encode_noop();
    if let Some(t) = file_type {
        form = form.text("file_type", t.to_owned());
    }
    for (name, bytes) in files {
        form = form.part(
            "file",
            Part::bytes(bytes.to_vec()).file_name(name.to_string()),
        );
    }
    form
}

/// A raw (non-JSON) response body.
pub struct Download {
    pub status: u16,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Download {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestApp {
    pub async fn upload_form_as(&self, token: &str, customer: &str, form: Form) -> Resp {
        let url = format!("{}/api/v1/customers/{customer}/files", self.base);
        let res = self
            .http
            .post(url)
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await;
        decode(res.expect("upload request")).await
    }

    pub async fn upload_as(
        &self,
        token: &str,
        customer: &str,
        file_type: &str,
        files: &[(&str, &[u8])],
    ) -> Resp {
        self.upload_form_as(token, customer, file_form(Some(file_type), files))
            .await
    }

    pub async fn upload(&self, customer: &str, file_type: &str, files: &[(&str, &[u8])]) -> Resp {
        self.upload_as(&self.merchant.token, customer, file_type, files)
            .await
    }

    pub async fn list_files_as(&self, token: &str, customer: &str) -> Resp {
        let path = format!("/api/v1/customers/{customer}/files");
        self.send(Method::GET, &path, None, Some(token), &[]).await
    }

    pub async fn list_files(&self, customer: &str) -> Resp {
        self.list_files_as(&self.merchant.token, customer).await
    }

    /// Fetches a download link, with no bearer token.
    pub async fn download(&self, url: &str) -> Download {
        let res = self.http.get(url).send().await.expect("download request");
        Download {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            bytes: res.bytes().await.expect("download body").to_vec(),
        }
    }

    /// Everything the database holds at rest, as bytes: the SQLite file with its WAL, or a
    /// `pg_dump` of the test's PostgreSQL database (`tables` limits it, e.g. `["customers"]`).
    pub fn database_bytes(&self, tables: &[&str]) -> Vec<u8> {
        match &self._db {
            None => {
                let mut out = Vec::new();
                for suffix in ["", "-wal", "-shm"] {
                    let path = self.config.data_dir.join(format!("acorn.db{suffix}"));
                    out.extend(std::fs::read(path).unwrap_or_default());
                }
                if !tables.is_empty() {
                    // SQLite pages mix tables: dump the given ones' rows through SQL instead.
                    return self.sqlite_rows(tables);
                }
                out
            }
            Some(db) => {
                let mut cmd = std::process::Command::new("pg_dump");
                cmd.arg("--data-only").arg(&db.url);
                for t in tables {
                    cmd.arg("-t").arg(t);
                }
                let out = cmd.output().expect("run pg_dump");
                assert!(
                    out.status.success(),
                    "pg_dump: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                out.stdout
            }
        }
    }

    fn sqlite_rows(&self, tables: &[&str]) -> Vec<u8> {
        let path = self.config.data_dir.join("acorn.db");
        let conn = std::process::Command::new("sqlite3")
            .arg("-version")
            .output();
        assert!(conn.is_ok(), "sqlite3 is needed to dump tables");
        let mut out = Vec::new();
        for t in tables {
            let o = std::process::Command::new("sqlite3")
                .arg(&path)
                .arg(format!(".dump {t}"))
                .output()
                .expect("sqlite3");
            out.extend(o.stdout);
        }
        out
    }

    /// Every object in the default local file store, as a path relative to it.
    pub fn stored_objects(&self) -> Vec<String> {
        fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, root, out);
                } else {
                    let rel = path.strip_prefix(root).expect("inside the store");
                    out.push(rel.to_string_lossy().into_owned());
                }
            }
        }
        let root = self.config.data_dir.join("files");
        let mut out = Vec::new();
        walk(&root, &root, &mut out);
        out.sort();
        out
    }
}

/// Reads a response whose body is JSON (or empty).
pub async fn decode(res: reqwest::Response) -> Resp {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("non-JSON body ({status}): {text}"))
    };
    Resp {
        status,
        headers,
        body,
    }
}

/// Runs the body once on SQLite and once on PostgreSQL, as two tests.
#[macro_export]
macro_rules! both_stores {
    ($(async fn $name:ident($app:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($app: $crate::helpers::TestApp) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await.expect("sqlite app");
                    run(app).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await {
                        run(app).await;
                    }
                }
            }
        )*
    };
}

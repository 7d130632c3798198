//! Server configuration (the `acorn serve` flags and `ACORN_*` variables map onto this).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://PATH` or `postgres://…`.
    pub database_url: String,
    /// Address to listen on (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Directory for the embedded database and local files.
    pub data_dir: PathBuf,
    /// Access token lifetime.
    pub token_ttl: Duration,
    /// Token signing secret; generated and stored in the database when absent.
    pub token_secret: Option<SecretString>,
    /// Longest time a request may take before it is answered 408.
    pub request_timeout: Duration,
    /// How long in-flight requests get to finish on shutdown.
    pub shutdown_grace: Duration,
    /// Sandbox mode: every provider simulated in-process, test helpers enabled.
    pub sandbox: bool,
    /// Delay between two sandbox registration steps.
    pub sandbox_step_delay: Duration,
    /// Whether this process runs the background worker.
    pub run_worker: bool,
    /// How often the worker looks for due jobs written by other processes.
    pub job_poll_interval: Duration,
    /// Tries per sync attempt before it fails.
    pub sync_max_attempts: i64,
    /// Wait before the first sync retry; each later wait is three times longer (with jitter).
    pub sync_retry_base: Duration,
    /// Longest wait between two sync tries.
    pub sync_retry_cap: Duration,
    /// Per-merchant rate limit: (requests per second, burst); `None` = off.
    pub rate_limit: Option<(f64, f64)>,
    /// Per-IP limit on the token grant: (requests per second, burst); `None` = off.
    pub grant_rate_limit: Option<(f64, f64)>,
    /// How long a finished idempotency key is replayed.
    pub idempotency_retention: Duration,
    /// How often expired idempotency keys are purged.
    pub purge_interval: Duration,
    /// Where file bytes are kept: `file:///PATH` or `s3://BUCKET/PREFIX`; `None` means the
    /// `files` directory inside the data dir.
    pub file_store: Option<String>,
    /// How long a signed download link stays valid.
    pub file_link_ttl: Duration,
    /// Scheme and authority put in download links (e.g. `https://kyc.example.com`); `None`
    /// means `http://` plus the request's `Host`.
    pub public_url: Option<String>,
}

impl Config {
    /// The defaults of `acorn serve` for a data directory: SQLite inside it, 127.0.0.1:8080.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        Config {
            database_url: default_database_url(&data_dir),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir,
            token_ttl: Duration::from_secs(3600),
            token_secret: None,
            request_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
            sandbox: true,
            sandbox_step_delay: Duration::from_secs(1),
            run_worker: true,
            job_poll_interval: Duration::from_millis(500),
            // 2 s, 6 s, 18 s, 54 s: five tries over about 80 s.
            sync_max_attempts: 5,
            sync_retry_base: Duration::from_secs(2),
            sync_retry_cap: Duration::from_secs(300),
            rate_limit: Some((1000.0, 2000.0)),
            grant_rate_limit: Some((10.0, 30.0)),
            idempotency_retention: Duration::from_secs(24 * 3600),
            purge_interval: Duration::from_secs(600),
            file_store: None,
            file_link_ttl: Duration::from_secs(15 * 60),
            public_url: None,
        }
    }
}

/// `sqlite://<data_dir>/acorn.db`.
pub fn default_database_url(data_dir: &std::path::Path) -> String {
    format!("sqlite://{}", data_dir.join("acorn.db").display())
}

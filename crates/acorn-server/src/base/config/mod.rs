//! Server configuration (the `acorn serve` flags and `ACORN_*` variables map onto this).

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

mod stripe;

pub use stripe::{StripeConfig, DEFAULT_API_BASE as DEFAULT_STRIPE_API_BASE};

/// How SQLite makes a commit durable (`PRAGMA synchronous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SqliteSynchronous {
    /// Every commit is fsynced before it is acknowledged: an acknowledged write survives a
    /// power failure. Group commit pays one fsync per group of creates.
    #[default]
    Full,
    /// WAL checkpoints are fsynced, commits are not: an acknowledged write survives a killed
    /// process but may be lost on power failure or an OS crash.
    Normal,
}

impl SqliteSynchronous {
    /// `full` or `normal` (any case).
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "full" => Ok(Self::Full),
            "normal" => Ok(Self::Normal),
            other => Err(format!("expected full or normal, got {other:?}")),
        }
    }

    /// The value of `PRAGMA synchronous` (SQLite reads FULL as 2, NORMAL as 1).
    pub fn pragma_value(self) -> i64 {
        match self {
            Self::Full => 2,
            Self::Normal => 1,
        }
    }
}

/// The merchant modes a server hosts (`--modes sandbox,live`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Modes {
    /// Sandbox merchants: simulated providers, the sandbox routes.
    pub sandbox: bool,
    /// Live merchants: real connectors only.
    pub live: bool,
}

impl Modes {
    /// Both modes (the embedded default).
    pub const BOTH: Modes = Modes {
        sandbox: true,
        live: true,
    };
    /// Live merchants only (a production deployment).
    pub const LIVE: Modes = Modes {
        sandbox: false,
        live: true,
    };
    /// Sandbox merchants only.
    pub const SANDBOX: Modes = Modes {
        sandbox: true,
        live: false,
    };

    /// A comma-separated list of `sandbox` and `live` (any case, at least one).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut modes = Modes {
            sandbox: false,
            live: false,
        };
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match acorn_types::Mode::parse(part).map_err(|e| e.to_string())? {
                acorn_types::Mode::Sandbox => modes.sandbox = true,
                acorn_types::Mode::Live => modes.live = true,
            }
        }
        if !modes.sandbox && !modes.live {
            return Err("name at least one mode: sandbox, live or sandbox,live".to_owned());
        }
        Ok(modes)
    }

    /// Whether merchants of `mode` are served.
    pub fn hosts(self, mode: acorn_types::Mode) -> bool {
        match mode {
            acorn_types::Mode::Sandbox => self.sandbox,
            acorn_types::Mode::Live => self.live,
        }
    }
}

impl std::fmt::Display for Modes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.sandbox, self.live) {
            (true, true) => f.write_str("sandbox,live"),
            (true, false) => f.write_str("sandbox"),
            _ => f.write_str("live"),
        }
    }
}

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
    /// SQLite's durability: `Full` (the default) fsyncs every commit, `Normal` only
    /// checkpoints (PostgreSQL ignores it).
    pub sqlite_synchronous: SqliteSynchronous,
    /// Address to listen on (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Directory for the embedded database and local files.
    pub data_dir: PathBuf,
    /// Access token lifetime.
    pub token_ttl: Duration,
    /// Token signing secret; generated and stored in the database when absent.
    pub token_secret: Option<SecretString>,
    /// The master key (`ACORN_MASTER_KEY`: 64 hex digits or base64 of 32 bytes).
    pub master_key: Option<SecretString>,
    /// A file holding the master key, created (0600) when missing. Without either, SQLite
    /// uses `master.key` beside its database file; PostgreSQL requires one.
    pub master_key_file: Option<PathBuf>,
    /// Longest time a request may take before it is answered 408.
    pub request_timeout: Duration,
    /// This process's name in `Idempotency-Key` claims: a restarted instance releases the claims
    /// it left in flight. `None`: the host name and the listen address, stable across restarts
    /// of one deployment; instances sharing a database need distinct names.
    pub instance_id: Option<String>,
    /// How long in-flight requests get to finish on shutdown.
    pub shutdown_grace: Duration,
    /// The merchant modes this server hosts (`--modes`); a merchant of another mode is refused
    /// at the token grant.
    pub modes: Modes,
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
    /// Redis holding the rate limit buckets shared by every instance (`redis://…`); `None`
    /// keeps them in this process.
    pub redis_url: Option<String>,
    /// Prefix of the rate limit keys in Redis (several deployments can share one Redis).
    pub redis_key_prefix: String,
    /// How long a finished idempotency key is replayed.
    pub idempotency_retention: Duration,
    /// How often expired idempotency keys are purged.
    pub purge_interval: Duration,
    /// Events and webhook notifications older than this are purged in the background.
    pub event_retention: Duration,
    /// Where file bytes are kept: `file:///PATH` or `s3://BUCKET/PREFIX`; `None` means the
    /// `files` directory inside the data dir.
    pub file_store: Option<String>,
    /// How long a signed download link stays valid.
    pub file_link_ttl: Duration,
    /// Scheme and authority put in download links (e.g. `https://kyc.example.com`); `None`
    /// means `http://` plus the request's `Host`.
    pub public_url: Option<String>,
    /// Waits between webhook delivery attempts (each jittered); after the last one fails the
    /// notification is dead-lettered.
    pub webhook_retry_schedule: Vec<Duration>,
    /// Accept `http://` webhook URLs for live merchants too.
    pub webhook_allow_http: bool,
    /// Accept and deliver to loopback, link-local and private addresses for live merchants too.
    pub webhook_allow_private: bool,
    /// Stripe's key, API base and webhook secret; with it, `stripe` is the real provider.
    pub stripe: Option<StripeConfig>,
    /// How often registrations still in progress at a real provider are read again (a missed
    /// webhook is caught up within this time).
    pub reconcile_interval: Duration,
}

impl Config {
    /// Where `acorn serve` keeps its data when not told otherwise (relative to the working
    /// directory).
    pub const DEFAULT_DATA_DIR: &'static str = "./acorn-data";
    /// The default listen address.
    pub const DEFAULT_LISTEN: SocketAddr =
        SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080));
    /// The default access token lifetime.
    pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(3600);
    /// The default longest time a request may take before it is answered 408.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
    /// The default time in-flight requests get on shutdown.
    pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
    /// The default delay between two sandbox registration steps.
    pub const DEFAULT_SANDBOX_STEP_DELAY: Duration = Duration::from_secs(1);
    /// The default number of tries per sync attempt (2 s, 6 s, 18 s, 54 s: five tries over
    /// about 80 s).
    pub const DEFAULT_SYNC_MAX_ATTEMPTS: i64 = 5;
    /// The default wait before the first sync retry.
    pub const DEFAULT_SYNC_RETRY_BASE: Duration = Duration::from_secs(2);
    /// The default longest wait between two sync tries.
    pub const DEFAULT_SYNC_RETRY_CAP: Duration = Duration::from_secs(300);
    /// The default per-merchant rate limit, requests per second.
    pub const DEFAULT_RATE_LIMIT: f64 = 1000.0;
    /// The default per-merchant burst (bucket size).
    pub const DEFAULT_RATE_LIMIT_BURST: u32 = 2000;
    /// The default per-IP token grant rate, grants per second.
    pub const DEFAULT_GRANT_RATE_LIMIT: f64 = 10.0;
    /// The default prefix of the rate limit keys in Redis.
    pub const DEFAULT_REDIS_KEY_PREFIX: &'static str = "acorn:ratelimit:";
    /// The token grant's burst is this many seconds' worth of its rate.
    pub const GRANT_BURST_FACTOR: f64 = 3.0;
    /// The default time a finished idempotency key is replayed.
    pub const DEFAULT_IDEMPOTENCY_RETENTION: Duration = Duration::from_secs(24 * 3600);
    /// Default `--event-retention-days`.
    pub const DEFAULT_EVENT_RETENTION_DAYS: u64 = 30;
    /// The default lifetime of signed download links.
    pub const DEFAULT_FILE_LINK_TTL: Duration = Duration::from_secs(15 * 60);
    /// The default waits between webhook delivery attempts: 30 s, 5 min, 30 min, 2 h, 8 h, 24 h.
    pub const DEFAULT_WEBHOOK_RETRY_SCHEDULE: [Duration; 6] = [
        Duration::from_secs(30),
        Duration::from_secs(5 * 60),
        Duration::from_secs(30 * 60),
        Duration::from_secs(2 * 3600),
        Duration::from_secs(8 * 3600),
        Duration::from_secs(24 * 3600),
    ];
    /// Whether `http://` webhook URLs are accepted for live merchants by default.
    pub const DEFAULT_WEBHOOK_ALLOW_HTTP: bool = false;
    /// Whether private addresses are accepted for live merchants by default.
    pub const DEFAULT_WEBHOOK_ALLOW_PRIVATE: bool = false;
    /// The default time between two reads of a registration still in progress at Stripe.
    pub const DEFAULT_RECONCILE_INTERVAL: Duration = Duration::from_secs(15 * 60);

    /// The defaults of `acorn serve` for a data directory: SQLite inside it, 127.0.0.1:8080.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        Config {
            database_url: default_database_url(&data_dir),
            sqlite_synchronous: SqliteSynchronous::Full,
            listen: Self::DEFAULT_LISTEN,
            master_key: None,
            master_key_file: None,
            data_dir,
            token_ttl: Self::DEFAULT_TOKEN_TTL,
            token_secret: None,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            instance_id: None,
            shutdown_grace: Self::DEFAULT_SHUTDOWN_GRACE,
            modes: Modes::BOTH,
            sandbox_step_delay: Self::DEFAULT_SANDBOX_STEP_DELAY,
            run_worker: true,
            job_poll_interval: Duration::from_millis(500),
            sync_max_attempts: Self::DEFAULT_SYNC_MAX_ATTEMPTS,
            sync_retry_base: Self::DEFAULT_SYNC_RETRY_BASE,
            sync_retry_cap: Self::DEFAULT_SYNC_RETRY_CAP,
            rate_limit: Some((
                Self::DEFAULT_RATE_LIMIT,
                f64::from(Self::DEFAULT_RATE_LIMIT_BURST),
            )),
            grant_rate_limit: Some(Self::grant_limit(Self::DEFAULT_GRANT_RATE_LIMIT)),
            redis_url: None,
            redis_key_prefix: Self::DEFAULT_REDIS_KEY_PREFIX.to_owned(),
            idempotency_retention: Self::DEFAULT_IDEMPOTENCY_RETENTION,
            purge_interval: Duration::from_secs(600),
            event_retention: Duration::from_secs(Self::DEFAULT_EVENT_RETENTION_DAYS * 24 * 3600),
            file_store: None,
            file_link_ttl: Self::DEFAULT_FILE_LINK_TTL,
            public_url: None,
            webhook_retry_schedule: Self::DEFAULT_WEBHOOK_RETRY_SCHEDULE.to_vec(),
            webhook_allow_http: Self::DEFAULT_WEBHOOK_ALLOW_HTTP,
            webhook_allow_private: Self::DEFAULT_WEBHOOK_ALLOW_PRIVATE,
            stripe: None,
            reconcile_interval: Self::DEFAULT_RECONCILE_INTERVAL,
        }
    }

    /// The token grant's (rate, burst) for a rate in grants per second: a burst of
    /// [`GRANT_BURST_FACTOR`](Self::GRANT_BURST_FACTOR) seconds' worth, at least 1.
    pub fn grant_limit(rate: f64) -> (f64, f64) {
        (rate, (rate * Self::GRANT_BURST_FACTOR).max(1.0))
    }

    /// The instance name claims carry: [`Config::instance_id`], else `<host>:<listen address>`.
    pub fn instance(&self) -> String {
        self.instance_id.clone().unwrap_or_else(|| {
            let host = std::env::var("HOSTNAME")
                .ok()
                .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "acorn".to_owned());
            if self.listen.port() == 0 {
                // A port picked at start is not stable across restarts: nothing to release.
                format!("{host}:{}:{}", self.listen, uuid::Uuid::new_v4())
            } else {
                format!("{host}:{}", self.listen)
            }
        })
    }

    /// How long an unfinished `Idempotency-Key` claim blocks retries: the request timeout plus
    /// 30 s (a request still running past it was cut off by the timeout, or its process died).
    pub fn idempotency_lease(&self) -> Duration {
        self.request_timeout + Duration::from_secs(30)
    }
}

impl Default for Config {
    /// The defaults of `acorn serve` with no flags: [`Config::DEFAULT_DATA_DIR`].
    fn default() -> Self {
        Config::with_data_dir(Self::DEFAULT_DATA_DIR)
    }
}

/// `sqlite://<data_dir>/acorn.db`.
pub fn default_database_url(data_dir: &std::path::Path) -> String {
    format!("sqlite://{}", data_dir.join("acorn.db").display())
}

#[cfg(test)]
mod tests {
    use super::SqliteSynchronous;

    #[test]
    fn modes_parse_lists_of_sandbox_and_live() {
        use super::Modes;
        assert_eq!(Modes::parse("sandbox,live"), Ok(Modes::BOTH));
        assert_eq!(Modes::parse(" LIVE "), Ok(Modes::LIVE));
        assert_eq!(Modes::parse("sandbox"), Ok(Modes::SANDBOX));
        assert!(Modes::parse("").is_err());
        assert!(Modes::parse("test").is_err());
        assert_eq!(Modes::LIVE.to_string(), "live");
        assert!(!Modes::LIVE.hosts(acorn_types::Mode::Sandbox));
    }

    #[test]
    fn sqlite_synchronous_parses_full_and_normal_only() {
        assert_eq!(
            SqliteSynchronous::parse("full"),
            Ok(SqliteSynchronous::Full)
        );
        assert_eq!(
            SqliteSynchronous::parse(" NORMAL "),
            Ok(SqliteSynchronous::Normal)
        );
        assert!(SqliteSynchronous::parse("off").is_err());
        assert_eq!(SqliteSynchronous::default(), SqliteSynchronous::Full);
    }
}

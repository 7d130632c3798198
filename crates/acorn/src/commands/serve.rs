//! `acorn serve`: run the API server. Every default comes from [`acorn_server::Config`], so the
//! command line and the library cannot disagree about them.

use std::net::SocketAddr;
use std::time::Duration;

use acorn_server::ShutdownSignals;
use acorn_server::SqliteSynchronous;
use acorn_server::StripeConfig;
use acorn_server::DEFAULT_STRIPE_API_BASE as DEFAULT_API_BASE;
use acorn_server::{Application, Config, LogFormat, Modes};
use clap::{Args, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

use super::storage::{Storage, StorageArgs};

/// The exit code after a second SIGINT/SIGTERM cut the graceful stop short (128 + SIGINT, as a
/// shell reports a process ended by Ctrl-C).
pub const FORCED_EXIT_CODE: u8 = 130;

/// A second SIGINT/SIGTERM arrived while the first was being honoured: exit at once.
#[derive(Debug)]
pub struct ForcedExit;

impl std::fmt::Display for ForcedExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stopped at once by a second signal; in-flight requests were dropped")
    }
}

impl std::error::Error for ForcedExit {}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormatArg {
    Pretty,
    Json,
}

impl From<LogFormat> for LogFormatArg {
    fn from(format: LogFormat) -> Self {
        match format {
            LogFormat::Pretty => LogFormatArg::Pretty,
            LogFormat::Json => LogFormatArg::Json,
        }
    }
}

/// `acorn serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// Address to listen on.
    #[arg(long, env = "ACORN_LISTEN", default_value_t = Config::DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// Access token lifetime in seconds (60 to 86400).
    #[arg(
        long,
        env = "ACORN_TOKEN_TTL",
        default_value_t = Config::DEFAULT_TOKEN_TTL.as_secs(),
        value_parser = clap::value_parser!(u64).range(60..=86_400)
    )]
    token_ttl: u64,
    /// Longest a request may take before it is answered 408, in seconds (1 to 3600).
    #[arg(
        long,
        env = "ACORN_REQUEST_TIMEOUT",
        default_value_t = Config::DEFAULT_REQUEST_TIMEOUT.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    request_timeout: u64,
    /// This instance's name in Idempotency-Key claims (default: host name and listen address);
    /// a restarted instance releases the claims it left in flight. Instances sharing a database
    /// need distinct names.
    #[arg(long, env = "ACORN_INSTANCE_ID")]
    instance_id: Option<String>,
    /// Log format.
    #[arg(
        long,
        env = "ACORN_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormatArg::from(LogFormat::default())
    )]
    log_format: LogFormatArg,
    /// The merchant modes this server serves: `sandbox` (simulated providers, the sandbox
    /// routes), `live` (real connectors only), or both. A merchant of another mode is refused at
    /// the token grant. A production deployment says `--modes live`.
    #[arg(long, env = "ACORN_MODES", default_value = "sandbox,live", value_parser = Modes::parse)]
    modes: Modes,
    /// Gone: each merchant has a mode now. Refused with a message saying what replaced it.
    #[arg(long, hide = true, num_args = 0..=1, default_missing_value = "true")]
    sandbox: Option<String>,
    /// Seconds between two simulated registration steps (fractions allowed; 0 = at once).
    #[arg(
        long,
        env = "ACORN_SANDBOX_STEP_DELAY",
        default_value_t = Config::DEFAULT_SANDBOX_STEP_DELAY.as_secs_f64()
    )]
    sandbox_step_delay: f64,
    /// Tries per sync attempt before it is marked failed.
    #[arg(
        long,
        env = "ACORN_SYNC_MAX_ATTEMPTS",
        default_value_t = Config::DEFAULT_SYNC_MAX_ATTEMPTS
    )]
    sync_max_attempts: i64,
    /// Seconds before the first sync retry; each later wait is three times longer, with jitter.
    #[arg(
        long,
        env = "ACORN_SYNC_RETRY_BASE",
        default_value_t = Config::DEFAULT_SYNC_RETRY_BASE.as_secs_f64()
    )]
    sync_retry_base: f64,
    /// Longest wait between two sync tries, in seconds.
    #[arg(
        long,
        env = "ACORN_SYNC_RETRY_CAP",
        default_value_t = Config::DEFAULT_SYNC_RETRY_CAP.as_secs_f64()
    )]
    sync_retry_cap: f64,
    /// SQLite durability: `full` fsyncs every commit (an acknowledged write survives a power
    /// failure); `normal` syncs only checkpoints (faster, survives a killed process only).
    #[arg(long, env = "ACORN_SQLITE_SYNCHRONOUS", default_value = "full", value_parser = SqliteSynchronous::parse)]
    sqlite_synchronous: SqliteSynchronous,
    /// Per-merchant rate limit in requests per second, or `off`.
    #[arg(
        long,
        env = "ACORN_RATE_LIMIT",
        default_value_t = Config::DEFAULT_RATE_LIMIT.to_string()
    )]
    rate_limit: String,
    /// Largest burst a merchant may send at once.
    #[arg(
        long,
        env = "ACORN_RATE_LIMIT_BURST",
        default_value_t = Config::DEFAULT_RATE_LIMIT_BURST
    )]
    rate_limit_burst: u32,
    /// Token grants allowed per second from one client IP, or `off`.
    #[arg(
        long,
        env = "ACORN_GRANT_RATE_LIMIT",
        default_value_t = Config::DEFAULT_GRANT_RATE_LIMIT.to_string()
    )]
    grant_rate_limit: String,
    /// Redis for rate limits shared by every instance (`redis://HOST:PORT`); without it each
    /// instance limits on its own. While Redis is unreachable, instances limit on their own.
    #[arg(long, env = "ACORN_REDIS_URL", hide_env_values = true)]
    redis_url: Option<String>,
    /// Prefix of the rate limit keys in Redis.
    #[arg(long, env = "ACORN_REDIS_KEY_PREFIX", default_value = Config::DEFAULT_REDIS_KEY_PREFIX)]
    redis_key_prefix: String,
    /// Hours a finished Idempotency-Key is replayed.
    #[arg(
        long,
        env = "ACORN_IDEMPOTENCY_RETENTION_HOURS",
        default_value_t = Config::DEFAULT_IDEMPOTENCY_RETENTION.as_secs_f64() / 3600.0
    )]
    idempotency_retention_hours: f64,
    /// Days events and webhook notifications are kept before the background purge deletes them
    /// (1 to 3650).
    #[arg(
        long,
        env = "ACORN_EVENT_RETENTION_DAYS",
        default_value_t = Config::DEFAULT_EVENT_RETENTION_DAYS,
        value_parser = clap::value_parser!(u64).range(1..=3650)
    )]
    event_retention_days: u64,
    /// Where uploaded files are kept: `file:///PATH` or `s3://BUCKET/PREFIX`; defaults to
    /// `<data-dir>/files`.
    #[arg(long, env = "ACORN_FILE_STORE")]
    file_store: Option<String>,
    /// File holding the master key that protects personal data at rest (created, mode 0600,
    /// when missing). `ACORN_MASTER_KEY` overrides it; SQLite defaults to `master.key`
    /// beside its database; PostgreSQL requires one of the two.
    #[arg(long, env = "ACORN_MASTER_KEY_FILE")]
    master_key_file: Option<std::path::PathBuf>,
    /// Lifetime of signed file download links, in seconds (60 to 604800, a week).
    #[arg(
        long,
        env = "ACORN_FILE_LINK_TTL",
        default_value_t = Config::DEFAULT_FILE_LINK_TTL.as_secs(),
        value_parser = clap::value_parser!(u64).range(60..=604_800)
    )]
    file_link_ttl: u64,
    /// Scheme and host put in download links (e.g. `https://kyc.example.com`); defaults to
    /// `http://` plus the request's Host header.
    #[arg(long, env = "ACORN_PUBLIC_URL")]
    public_url: Option<String>,
    /// Seconds between webhook delivery attempts, comma-separated (each jittered); after the
    /// last a notification is dead-lettered. Empty: no retries.
    #[arg(
        long,
        env = "ACORN_WEBHOOK_RETRY_SCHEDULE",
        default_value_t = default_retry_schedule()
    )]
    webhook_retry_schedule: String,
    /// Accept `http://` webhook URLs outside sandbox mode.
    #[arg(long, env = "ACORN_WEBHOOK_ALLOW_HTTP", default_value_t = Config::DEFAULT_WEBHOOK_ALLOW_HTTP)]
    webhook_allow_http: bool,
    /// Deliver webhooks to loopback, link-local and private addresses outside sandbox mode.
    #[arg(long, env = "ACORN_WEBHOOK_ALLOW_PRIVATE", default_value_t = Config::DEFAULT_WEBHOOK_ALLOW_PRIVATE)]
    webhook_allow_private: bool,
    /// Stripe secret key (`sk_test_…`, `sk_live_…` or `rk_…`): `stripe` becomes the real
    /// provider (in sandbox mode too).
    #[arg(long, env = "ACORN_STRIPE_SECRET_KEY", hide_env_values = true, value_parser = secret)]
    stripe_secret_key: Option<SecretString>,
    /// Stripe's API (tests point it at a fake).
    #[arg(long, env = "ACORN_STRIPE_API_BASE", default_value = DEFAULT_API_BASE)]
    stripe_api_base: String,
    /// The signing secret (`whsec_…`) of the webhook endpoint
    /// `/api/v1/providers/stripe/webhook`.
    #[arg(long, env = "ACORN_STRIPE_WEBHOOK_SECRET", hide_env_values = true, value_parser = secret)]
    stripe_webhook_secret: Option<SecretString>,
    /// Seconds between two reads of a registration still in progress at Stripe.
    #[arg(
        long,
        env = "ACORN_RECONCILE_INTERVAL",
        default_value_t = Config::DEFAULT_RECONCILE_INTERVAL.as_secs_f64()
    )]
    reconcile_interval: f64,
}

/// [`Config::DEFAULT_WEBHOOK_RETRY_SCHEDULE`] as `--webhook-retry-schedule` spells it.
fn default_retry_schedule() -> String {
    Config::DEFAULT_WEBHOOK_RETRY_SCHEDULE
        .iter()
        .map(|d| d.as_secs().to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// `--webhook-retry-schedule`: seconds, comma-separated (fractions allowed).
fn retry_schedule(raw: &str) -> anyhow::Result<Vec<Duration>> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let secs: f64 = s.parse().map_err(|_| {
                anyhow::anyhow!("--webhook-retry-schedule: {s:?} is not a number of seconds")
            })?;
            seconds("--webhook-retry-schedule", secs)
        })
        .collect()
}

fn secret(value: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(value.to_owned()))
}

/// The Stripe connector's configuration from the flags, when a key is given.
fn stripe(args: &ServeArgs) -> anyhow::Result<Option<StripeConfig>> {
    let Some(key) = args.stripe_secret_key.clone() else {
        anyhow::ensure!(
            args.stripe_webhook_secret.is_none(),
            "--stripe-webhook-secret needs --stripe-secret-key"
        );
        return Ok(None);
    };
    let mut config = StripeConfig::new(key)?;
    config.api_base = args.stripe_api_base.clone();
    if let Some(secret) = args.stripe_webhook_secret.clone() {
        config = config.with_webhook_secret(secret)?;
    }
    Ok(Some(config))
}

/// The server's configuration from the flags.
fn config(args: ServeArgs, storage: &Storage) -> anyhow::Result<Config> {
    let mut config = Config::with_data_dir(&storage.data_dir);
    config.database_url = storage.database_url.clone();
    config.stripe = stripe(&args)?;
    config.reconcile_interval = seconds("--reconcile-interval", args.reconcile_interval)?;
    config.listen = args.listen;
    config.sqlite_synchronous = args.sqlite_synchronous;
    config.token_ttl = Duration::from_secs(args.token_ttl);
    config.request_timeout = Duration::from_secs(args.request_timeout);
    config.instance_id = args.instance_id.clone();
    config.file_store = args.file_store;
    config.file_link_ttl = Duration::from_secs(args.file_link_ttl);
    config.public_url = args.public_url;
    config.token_secret = token_secret();
    config.master_key = std::env::var("ACORN_MASTER_KEY")
        .ok()
        .map(SecretString::from);
    config.master_key_file = args.master_key_file;
    config.event_retention = Duration::from_secs(args.event_retention_days.saturating_mul(86_400));
    if args.sandbox.is_some() || std::env::var_os("ACORN_SANDBOX").is_some() {
        anyhow::bail!(
            "--sandbox (ACORN_SANDBOX) is gone: each merchant now has a mode, sandbox or live, \
             chosen when it is created (`acorn merchants create --mode sandbox|live`), and a \
             server says which modes it serves with --modes (default sandbox,live; production: \
             --modes live)"
        );
    }
    config.modes = args.modes;
    config.sandbox_step_delay = seconds("--sandbox-step-delay", args.sandbox_step_delay)?;
    anyhow::ensure!(
        args.sync_max_attempts >= 1,
        "--sync-max-attempts must be at least 1"
    );
    config.sync_max_attempts = args.sync_max_attempts;
    config.sync_retry_base = seconds("--sync-retry-base", args.sync_retry_base)?;
    config.sync_retry_cap = seconds("--sync-retry-cap", args.sync_retry_cap)?;
    config.rate_limit = rate("--rate-limit", &args.rate_limit)?
        .map(|r| (r, f64::from(args.rate_limit_burst.max(1))));
    config.grant_rate_limit =
        rate("--grant-rate-limit", &args.grant_rate_limit)?.map(Config::grant_limit);
    config.redis_url = args.redis_url;
    config.redis_key_prefix = args.redis_key_prefix;
    config.webhook_retry_schedule = retry_schedule(&args.webhook_retry_schedule)?;
    config.webhook_allow_http = args.webhook_allow_http;
    config.webhook_allow_private = args.webhook_allow_private;
    config.idempotency_retention = seconds(
        "--idempotency-retention-hours",
        args.idempotency_retention_hours * 3600.0,
    )?;
    Ok(config)
}

/// `ACORN_TOKEN_SECRET`, when set.
pub fn token_secret() -> Option<SecretString> {
    std::env::var("ACORN_TOKEN_SECRET")
        .ok()
        .map(SecretString::from)
}

/// Prints the start banner on stdout: as text, or — with `--log-format json` — one JSON object
/// per line (`{"level":"INFO","target":"acorn::banner","message":…}`), so the output stays a
/// stream of JSON lines even when stdout and stderr are joined.
fn print_banner(lines: &[String], format: LogFormat) {
    for line in lines {
        match format {
            LogFormat::Json => println!(
                "{}",
                serde_json::json!({"level": "INFO", "target": "acorn::banner", "message": line})
            ),
            LogFormat::Pretty => println!("{line}"),
        }
    }
}

/// Runs `acorn serve` until SIGINT/SIGTERM; a second one ends it at once with [`ForcedExit`].
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let format = match args.log_format {
        LogFormatArg::Json => LogFormat::Json,
        LogFormatArg::Pretty => LogFormat::Pretty,
    };
    acorn_server::init_logging(format);
    let storage = args.storage.locate()?;
    let config = config(args, &storage)?;
    let grace = config.shutdown_grace;
    let mut signals = ShutdownSignals::install()?;
    let app = Application::build(config).await?;
    let addr = app.local_addr();
    let mut banner = Vec::new();
    if let Some(creds) = app.bootstrap_merchant().await? {
        let secret = creds.client_secret.expose_secret();
        banner.push(format!(
            "First start: created sandbox merchant {} (\"default\").",
            creds.merchant_id
        ));
        banner.push(format!("  client_id:     {}", creds.client_id));
        banner.push(format!("  client_secret: {secret}"));
        banner.push("The secret is shown only now. Get a token with:".to_owned());
        banner.push(format!(
            "  curl -s -X POST http://{addr}/api/v1/merchant/token/grant -H 'Content-Type: application/json' \\\n    -d '{{\"client_id\":\"{}\",\"client_secret\":\"{secret}\",\"grant_type\":\"client_credentials\"}}'",
            creds.client_id,
        ));
    }
    banner.extend(storage.describe().lines().map(str::to_owned));
    tracing::info!(%addr, data_dir = %storage.data_dir.display(), "acorn listening");
    banner.push(format!("Acorn listening on http://{addr}"));
    print_banner(&banner, format);

    let (first_tx, first_rx) = tokio::sync::oneshot::channel::<()>();
    let second = async move {
        signals.recv().await;
        tracing::info!(
            grace_secs = grace.as_secs(),
            "stopping; a second Ctrl-C or SIGTERM exits at once"
        );
        let _ = first_tx.send(());
        signals.recv().await;
    };
    let first = async move {
        let _ = first_rx.await;
    };
    tokio::select! {
        result = app.run_until(first) => result?,
        () = second => {
            tracing::warn!("second signal: exiting now, dropping in-flight requests");
            return Err(ForcedExit.into());
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// Parses a `--rate-limit`-style value: a positive number per second, or `off`.
fn rate(flag: &str, value: &str) -> anyhow::Result<Option<f64>> {
    if value.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    match value.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(Some(r)),
        _ => anyhow::bail!("{flag} must be a positive number of requests per second, or off"),
    }
}

fn seconds(flag: &str, value: f64) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| anyhow::anyhow!("{flag} must be a non-negative number of seconds"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_schedules_are_seconds_separated_by_commas() {
        assert_eq!(
            retry_schedule(&default_retry_schedule()).unwrap(),
            Config::DEFAULT_WEBHOOK_RETRY_SCHEDULE.to_vec()
        );
        assert_eq!(
            retry_schedule("1, 2,0.5").unwrap(),
            [1.0, 2.0, 0.5].map(Duration::from_secs_f64).to_vec()
        );
        assert!(retry_schedule("").unwrap().is_empty());
        assert!(retry_schedule("1,soon").is_err());
        assert!(retry_schedule("-1").is_err());
    }
}

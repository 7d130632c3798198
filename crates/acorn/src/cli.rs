//! Command-line definitions and dispatch; `serve` and `merchants` run here, the client
//! commands in [`crate::client`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use acorn_server::auth::{create_merchant, AuthKeys};
use acorn_server::config::default_database_url;
use acorn_server::store::Store;
use acorn_server::{shutdown_signal, Application, Config, LogFormat};
use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

use crate::client;

/// Acorn: a customer registry that speaks the Oak Network customers API.
#[derive(Debug, Parser)]
#[command(name = "acorn", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the API server.
    Serve(ServeArgs),
    /// Manage merchants (works directly on the database, also while a server runs).
    Merchants {
        #[command(subcommand)]
        command: MerchantsCommand,
    },
    /// Customers: create, get, list, update, sync, balances, files, populate, import, export.
    Customers(client::customers::CustomersArgs),
    /// Provider registrations: schema, status, submit.
    Registrations(client::registrations::RegistrationsArgs),
    /// The merchant's event log, newest first (--follow to keep watching).
    Events(client::events::EventsArgs),
}

/// Where the data lives; shared by `serve` and `merchants`.
#[derive(Debug, Args)]
struct StorageArgs {
    /// Directory for the embedded database and local files.
    #[arg(long, env = "ACORN_DATA_DIR", default_value = "./acorn-data")]
    data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`; defaults to SQLite inside the data dir.
    #[arg(long, env = "ACORN_DATABASE_URL")]
    database_url: Option<String>,
}

impl StorageArgs {
    fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| default_database_url(&self.data_dir))
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormatArg {
    Pretty,
    Json,
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// Address to listen on.
    #[arg(long, env = "ACORN_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Access token lifetime in seconds.
    #[arg(long, env = "ACORN_TOKEN_TTL", default_value_t = 3600)]
    token_ttl: u64,
    /// Longest a request may take before it is answered 408, in seconds.
    #[arg(long, env = "ACORN_REQUEST_TIMEOUT", default_value_t = 30)]
    request_timeout: u64,
    /// Log format.
    #[arg(long, env = "ACORN_LOG_FORMAT", value_enum, default_value = "pretty")]
    log_format: LogFormatArg,
    /// Sandbox mode: simulate every provider in-process and enable the test helpers.
    #[arg(long, env = "ACORN_SANDBOX", default_value_t = true, action = clap::ArgAction::Set)]
    sandbox: bool,
    /// Seconds between two simulated registration steps (fractions allowed; 0 = at once).
    #[arg(long, env = "ACORN_SANDBOX_STEP_DELAY", default_value_t = 1.0)]
    sandbox_step_delay: f64,
    /// Tries per sync attempt before it is marked failed.
    #[arg(long, env = "ACORN_SYNC_MAX_ATTEMPTS", default_value_t = 5)]
    sync_max_attempts: i64,
    /// Seconds before the first sync retry; each later wait is three times longer, with jitter.
    #[arg(long, env = "ACORN_SYNC_RETRY_BASE", default_value_t = 2.0)]
    sync_retry_base: f64,
    /// Longest wait between two sync tries, in seconds.
    #[arg(long, env = "ACORN_SYNC_RETRY_CAP", default_value_t = 300.0)]
    sync_retry_cap: f64,
    /// Per-merchant rate limit in requests per second, or `off`.
    #[arg(long, env = "ACORN_RATE_LIMIT", default_value = "1000")]
    rate_limit: String,
    /// Largest burst a merchant may send at once.
    #[arg(long, env = "ACORN_RATE_LIMIT_BURST", default_value_t = 2000)]
    rate_limit_burst: u32,
    /// Token grants allowed per second from one client IP, or `off`.
    #[arg(long, env = "ACORN_GRANT_RATE_LIMIT", default_value = "10")]
    grant_rate_limit: String,
    /// Hours a finished Idempotency-Key is replayed.
    #[arg(
        long,
        env = "ACORN_IDEMPOTENCY_RETENTION_HOURS",
        default_value_t = 24.0
    )]
    idempotency_retention_hours: f64,
    /// Where uploaded files are kept: `file:///PATH` or `s3://BUCKET/PREFIX`; defaults to
    /// `<data-dir>/files`.
    #[arg(long, env = "ACORN_FILE_STORE")]
    file_store: Option<String>,
    /// Lifetime of signed file download links, in seconds.
    #[arg(long, env = "ACORN_FILE_LINK_TTL", default_value_t = 900)]
    file_link_ttl: u64,
    /// Scheme and host put in download links (e.g. `https://kyc.example.com`); defaults to
    /// `http://` plus the request's Host header.
    #[arg(long, env = "ACORN_PUBLIC_URL")]
    public_url: Option<String>,
}

#[derive(Debug, Subcommand)]
enum MerchantsCommand {
    /// Create a merchant and print its credentials (the secret is shown only now).
    Create {
        #[command(flatten)]
        storage: StorageArgs,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Print `{"merchant_id","client_id","client_secret"}`.
        #[arg(long)]
        json: bool,
    },
    /// List merchants (never their secrets).
    List {
        #[command(flatten)]
        storage: StorageArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs the chosen command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Merchants { command } => merchants(command).await,
        Command::Customers(args) => client::customers::run(args).await,
        Command::Registrations(args) => client::registrations::run(args).await,
        Command::Events(args) => client::events::run(args).await,
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let format = match args.log_format {
        LogFormatArg::Json => LogFormat::Json,
        LogFormatArg::Pretty => LogFormat::Pretty,
    };
    acorn_server::telemetry::init(format);
    let mut config = Config::with_data_dir(&args.storage.data_dir);
    config.database_url = args.storage.database_url();
    config.listen = args.listen;
    config.token_ttl = Duration::from_secs(args.token_ttl);
    config.request_timeout = Duration::from_secs(args.request_timeout);
    config.file_store = args.file_store;
    config.file_link_ttl = Duration::from_secs(args.file_link_ttl);
    config.public_url = args.public_url;
    config.token_secret = std::env::var("ACORN_TOKEN_SECRET")
        .ok()
        .map(SecretString::from);
    config.sandbox = args.sandbox;
    config.sandbox_step_delay = seconds("--sandbox-step-delay", args.sandbox_step_delay)?;
    anyhow::ensure!(
        args.sync_max_attempts >= 1,
        "--sync-max-attempts must be at least 1"
    );
    config.sync_max_attempts = args.sync_max_attempts;
    config.sync_retry_base = seconds("--sync-retry-base", args.sync_retry_base)?;
    config.sync_retry_cap = seconds("--sync-retry-cap", args.sync_retry_cap)?;
    config.rate_limit = rate(
        "--rate-limit",
        &args.rate_limit,
        f64::from(args.rate_limit_burst),
    )?;
    let grant = rate("--grant-rate-limit", &args.grant_rate_limit, 1.0)?;
    config.grant_rate_limit = grant.map(|(r, _)| (r, (r * 3.0).max(1.0)));
    config.idempotency_retention = seconds(
        "--idempotency-retention-hours",
        args.idempotency_retention_hours * 3600.0,
    )?;
    let app = Application::build(config).await?;
    let addr = app.local_addr();
    if let Some(creds) = app.bootstrap_merchant().await? {
        println!(
            "First start: created merchant {} (\"default\").",
            creds.merchant_id
        );
        println!("  client_id:     {}", creds.client_id);
        println!("  client_secret: {}", creds.client_secret.expose_secret());
        println!("The secret is shown only now. Get a token with:");
        println!(
            "  curl -s -X POST http://{addr}/api/v1/merchant/token/grant -H 'Content-Type: application/json' \\\n    -d '{{\"client_id\":\"{}\",\"client_secret\":\"{}\",\"grant_type\":\"client_credentials\"}}'",
            creds.client_id,
            creds.client_secret.expose_secret()
        );
    }
    tracing::info!(%addr, "acorn listening");
    println!("Acorn listening on http://{addr}");
    app.run_until(shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Parses a `--rate-limit`-style value: a positive number per second, or `off`.
fn rate(flag: &str, value: &str, burst: f64) -> anyhow::Result<Option<(f64, f64)>> {
    if value.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    match value.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(Some((r, burst.max(1.0)))),
        _ => anyhow::bail!("{flag} must be a positive number of requests per second, or off"),
    }
}

fn seconds(flag: &str, value: f64) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| anyhow::anyhow!("{flag} must be a non-negative number of seconds"))
}

async fn open(storage: &StorageArgs) -> anyhow::Result<Store> {
    let url = storage.database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&storage.data_dir)?;
    }
    Store::open(&url).await
}

async fn merchants(command: MerchantsCommand) -> anyhow::Result<()> {
    match command {
        MerchantsCommand::Create {
            storage,
            name,
            json,
        } => {
            let store = open(&storage).await?;
            let token_secret = std::env::var("ACORN_TOKEN_SECRET")
                .ok()
                .map(SecretString::from);
            let keys =
                AuthKeys::load(&store, token_secret.as_ref(), Duration::from_secs(3600)).await?;
            let creds = create_merchant(&store, &keys, &name).await?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "merchant_id": creds.merchant_id.to_string(),
                        "client_id": creds.client_id,
                        "client_secret": creds.client_secret.expose_secret(),
                    })
                );
            } else {
                println!("merchant_id:   {}", creds.merchant_id);
                println!("client_id:     {}", creds.client_id);
                println!("client_secret: {}", creds.client_secret.expose_secret());
                println!("(the secret is shown only now)");
            }
            store.close().await;
        }
        MerchantsCommand::List { storage, json } => {
            let store = open(&storage).await?;
            let merchants = store.list_merchants().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&merchants)?);
            } else {
                println!(
                    "{:<41}  {:<39}  {:<24}  NAME",
                    "MERCHANT_ID", "CLIENT_ID", "CREATED_AT"
                );
                for m in merchants {
                    println!(
                        "{:<41}  {:<39}  {:<24}  {}",
                        m.merchant_id, m.client_id, m.created_at, m.name
                    );
                }
            }
            store.close().await;
        }
    }
    Ok(())
}

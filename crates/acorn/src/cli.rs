//! Command-line definitions and dispatch.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use acorn_server::auth::{create_merchant, AuthKeys};
use acorn_server::config::default_database_url;
use acorn_server::store::Store;
use acorn_server::{shutdown_signal, Application, Config, LogFormat};
use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

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

//! `acorn merchants`: create, list and delete merchants, directly on the database (also while a
//! server runs). Each command names the database it used on stderr, so one run in the wrong
//! directory is noticed.

use acorn_server::admin::{create_merchant, AuthKeys};
use acorn_server::admin::{Store, StoreError};
use acorn_server::Config;
use acorn_types::MerchantId;
use clap::Subcommand;
use secrecy::ExposeSecret;

use super::storage::{redacted, Storage, StorageArgs};

/// `acorn merchants …`.
#[derive(Debug, Subcommand)]
pub enum MerchantsCommand {
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
    /// Delete a merchant that owns nothing yet (no customers, events or files); its tokens stop
    /// working at once.
    Delete {
        #[command(flatten)]
        storage: StorageArgs,
        /// The merchant's id (`mer_…`, as `acorn merchants list` shows it).
        merchant_id: String,
    },
}

/// Runs `acorn merchants …`.
pub async fn run(command: MerchantsCommand) -> anyhow::Result<()> {
    let storage = match &command {
        MerchantsCommand::Create { storage, .. }
        | MerchantsCommand::List { storage, .. }
        | MerchantsCommand::Delete { storage, .. } => storage.locate()?,
    };
    let store = storage.open().await?;
    eprintln!("(database: {})", redacted(&storage.database_url));
    let result = match command {
        MerchantsCommand::Create { name, json, .. } => create(&store, &name, json).await,
        MerchantsCommand::List { json, .. } => list(&store, json).await,
        MerchantsCommand::Delete { merchant_id, .. } => {
            delete(&store, &storage, &merchant_id).await
        }
    };
    store.close().await;
    result
}

async fn create(store: &Store, name: &str, json: bool) -> anyhow::Result<()> {
    let token_secret = super::serve::token_secret();
    let keys = AuthKeys::load(store, token_secret.as_ref(), Config::DEFAULT_TOKEN_TTL).await?;
    let creds = create_merchant(store, &keys, name).await?;
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
    Ok(())
}

async fn list(store: &Store, json: bool) -> anyhow::Result<()> {
    let merchants = store.list_merchants().await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&merchants)?);
        return Ok(());
    }
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
    Ok(())
}

async fn delete(store: &Store, storage: &Storage, merchant_id: &str) -> anyhow::Result<()> {
    let id = MerchantId::parse(merchant_id)
        .map_err(|e| anyhow::anyhow!("{merchant_id} is not a merchant id (mer_…): {e}"))?;
    match store.delete_merchant(id).await {
        Ok(()) => {
            println!("Deleted merchant {id}.");
            Ok(())
        }
        Err(StoreError::NotFound) => anyhow::bail!(
            "no merchant {id} in {} (`acorn merchants list` shows the merchants there)",
            redacted(&storage.database_url)
        ),
        Err(e)
            if format!("{e:#}")
                .to_ascii_lowercase()
                .contains("foreign key") =>
        {
            anyhow::bail!(
                "merchant {id} still owns data (customers, events or files); only a merchant \
                 that owns nothing can be deleted"
            )
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!("deleting merchant {id}"))),
    }
}

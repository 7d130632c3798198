//! `acorn merchants`: create, list and delete merchants and mark an older merchant's mode,
//! directly on the database (also while a server runs). Each command names the database it used on stderr, so one run in the wrong
//! directory is noticed.

use acorn_server::admin::{create_merchant, AuthKeys, Mode};
use acorn_server::admin::{SetModeError, Store, StoreError};
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
        /// `sandbox` (simulated providers, the sandbox routes; secret `sk_test_…`) or `live`
        /// (real connectors only; secret `sk_live_…`). Fixed once created.
        #[arg(long, value_parser = |s: &str| Mode::parse(s).map_err(|e| e.to_string()))]
        mode: Mode,
        /// Print `{"merchant_id","client_id","client_secret","mode"}`.
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
    /// Mark a merchant created before modes existed (listed as `sandbox*`) as `live` or
    /// `sandbox`, once. Refused for a merchant created with a mode, or marked already.
    SetMode {
        #[command(flatten)]
        storage: StorageArgs,
        /// The merchant's id (`mer_…`).
        merchant_id: String,
        /// `live` or `sandbox`.
        #[arg(value_parser = |s: &str| Mode::parse(s).map_err(|e| e.to_string()))]
        mode: Mode,
    },
}

/// Runs `acorn merchants …`.
pub async fn run(command: MerchantsCommand) -> anyhow::Result<()> {
    let storage = match &command {
        MerchantsCommand::Create { storage, .. }
        | MerchantsCommand::List { storage, .. }
        | MerchantsCommand::Delete { storage, .. }
        | MerchantsCommand::SetMode { storage, .. } => storage.locate()?,
    };
    // Only `create` may make a new database (a merchant before the first start); the others
    // read or change what exists, and refuse a database that is not there.
    let store = match &command {
        MerchantsCommand::Create { .. } => storage.open().await?,
        _ => storage.open_existing().await?,
    };
    eprintln!("(database: {})", redacted(&storage.database_url));
    let result = match command {
        MerchantsCommand::Create {
            name, mode, json, ..
        } => create(&store, &name, mode, json).await,
        MerchantsCommand::List { json, .. } => list(&store, json).await,
        MerchantsCommand::Delete { merchant_id, .. } => {
            delete(&store, &storage, &merchant_id).await
        }
        MerchantsCommand::SetMode {
            merchant_id, mode, ..
        } => set_mode(&store, &merchant_id, mode).await,
    };
    store.close().await;
    result
}

async fn create(store: &Store, name: &str, mode: Mode, json: bool) -> anyhow::Result<()> {
    let token_secret = super::serve::token_secret();
    let keys = AuthKeys::load(store, token_secret.as_ref(), Config::DEFAULT_TOKEN_TTL).await?;
    let creds = create_merchant(store, &keys, name, mode).await?;
    if json {
        println!(
            "{}",
            serde_json::json!({
                "merchant_id": creds.merchant_id.to_string(),
                "client_id": creds.client_id,
                "client_secret": creds.client_secret.expose_secret(),
                "mode": mode,
            })
        );
    } else {
        println!("merchant_id:   {}", creds.merchant_id);
        println!("mode:          {mode}");
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
        "{:<41}  {:<39}  {:<8}  {:<24}  NAME",
        "MERCHANT_ID", "CLIENT_ID", "MODE", "CREATED_AT"
    );
    let mut older = false;
    for m in merchants {
        // An asterisk: created before modes existed, not marked yet (`set-mode`).
        let mode = format!("{}{}", m.mode, if m.mode_chosen { "" } else { "*" });
        older |= !m.mode_chosen;
        println!(
            "{:<41}  {:<39}  {:<8}  {:<24}  {}",
            m.merchant_id, m.client_id, mode, m.created_at, m.name
        );
    }
    if older {
        println!(
            "* created before modes existed: sandbox until marked once with \
             `acorn merchants set-mode ID live|sandbox`"
        );
    }
    Ok(())
}

async fn set_mode(store: &Store, merchant_id: &str, mode: Mode) -> anyhow::Result<()> {
    let id = MerchantId::parse(merchant_id)
        .map_err(|e| anyhow::anyhow!("{merchant_id} is not a merchant id (mer_…): {e}"))?;
    match store.set_merchant_mode(id, mode).await {
        Ok(()) => {
            // The operator's record of the change (stderr, beside the database line).
            eprintln!("acorn: merchant {id} marked {mode} (once; it cannot change again)");
            println!("Merchant {id} is now {mode}.");
            Ok(())
        }
        Err(SetModeError::NotFound) => anyhow::bail!("no merchant {id} in this database"),
        Err(e @ SetModeError::Fixed(_)) => anyhow::bail!("merchant {id}: {e}"),
        Err(SetModeError::Store(e)) => Err(anyhow::Error::new(e).context("setting the mode")),
    }
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

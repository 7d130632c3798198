//! `acorn keys`: the master key that wraps each merchant's data key — where the database stands,
//! rotation (directly on the database, while servers run), and a new key for
//! `ACORN_MASTER_KEY`.

use acorn_server::admin::MasterKey;
use acorn_server::admin::{KeySource, Keyring};
use acorn_server::Config;
use clap::{Args, Subcommand};
use secrecy::SecretString;

use super::storage::{redacted, StorageArgs};

/// `acorn keys …`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Which master key version the database is at and how many data keys each version wraps.
    Status {
        #[command(flatten)]
        keys: KeyArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Make a new master key version and re-wrap every data key under it, while servers run.
    /// With a key file the new key is added to it and the old ones dropped when done; with
    /// ACORN_MASTER_KEY, add the new version there first (`acorn keys generate`).
    Rotate {
        #[command(flatten)]
        keys: KeyArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a new random master key (64 hex digits), e.g. for ACORN_MASTER_KEY.
    Generate,
}

/// Where the data and the master key live (as for `acorn serve`).
#[derive(Debug, Args)]
pub struct KeyArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// The master key file (`ACORN_MASTER_KEY` overrides it; SQLite defaults to `master.key`
    /// beside its database).
    #[arg(long, env = "ACORN_MASTER_KEY_FILE")]
    master_key_file: Option<std::path::PathBuf>,
}

impl KeyArgs {
    /// The store, and a configuration naming the master key's source as `serve` finds it.
    async fn open(&self) -> anyhow::Result<(acorn_server::admin::Store, Config)> {
        let storage = self.storage.locate()?;
        // Status and rotation work on the key of a database that exists: never create one.
        let store = storage.open_existing().await?;
        eprintln!("(database: {})", redacted(&storage.database_url));
        let mut config = Config::with_data_dir(&storage.data_dir);
        config.database_url = storage.database_url.clone();
        config.master_key = std::env::var("ACORN_MASTER_KEY")
            .ok()
            .map(SecretString::from);
        config.master_key_file = self.master_key_file.clone();
        Ok((store, config))
    }
}

/// Runs `acorn keys …`.
pub async fn run(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Generate => {
            println!("{}", MasterKey::generate_hex());
            Ok(())
        }
        KeysCommand::Status { keys, json } => {
            let (store, _) = keys.open().await?;
            let status = acorn_server::admin::key_status(&store).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                println!("database at master key v{}", status.version);
                for (v, n) in &status.data_keys {
                    println!("  v{v}: {n} data keys");
                }
            }
            Ok(())
        }
        KeysCommand::Rotate { keys, json } => {
            let (store, config) = keys.open().await?;
            let ring = Keyring::load(KeySource::of(&config)?)?;
            let done = acorn_server::admin::rotate(&store, ring, |n| {
                if !json {
                    eprintln!("  re-wrapped {n} data keys");
                }
            })
            .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&done)?);
            } else {
                println!(
                    "rotated to master key v{}: {} data keys re-wrapped (were under {:?}).",
                    done.to, done.rewrapped, done.from
                );
                if done.key_file_pruned {
                    println!("{} now holds only v{}.", done.source, done.to);
                } else {
                    println!(
                        "Every data key is under v{}: once every server has it, remove the older \
                         versions from {}.",
                        done.to, done.source
                    );
                }
            }
            Ok(())
        }
    }
}

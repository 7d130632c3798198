//! Where the client commands connect and as whom: `--url`, `--client-id`, `--client-secret`
//! (or `ACORN_URL`, `ACORN_CLIENT_ID`, `ACORN_CLIENT_SECRET`), and what to tell the user when
//! those are missing or wrong.

use std::time::Duration;

use acorn_sdk::{OakClient, OakError, RetryOptions};
use acorn_types::ReasonCode;
use clap::Args;

/// How to get credentials, appended to every credentials error.
const HOW_TO_GET_CREDENTIALS: &str = "Credentials come from `acorn merchants create --name NAME --mode sandbox|live` \
     (run where the server's data lives), or from the banner `acorn serve` prints on its first start.";

/// Connection options shared by every client command. They are global: they may come before or
/// after the subcommand (`acorn customers --json list` = `acorn customers list --json`).
///
/// In `--help` they are listed apart, under "Global options", after the command's own options.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct ClientArgs {
    /// Base URL of the Acorn server.
    #[arg(
        long,
        env = "ACORN_URL",
        default_value_t = format!("http://{}", acorn_server::Config::DEFAULT_LISTEN),
        global = true
    )]
    url: String,
    /// The merchant's client id.
    #[arg(long, env = "ACORN_CLIENT_ID", global = true, hide_env_values = true)]
    client_id: Option<String>,
    /// The merchant's client secret (prefer the variable: arguments show in `ps`).
    #[arg(
        long,
        env = "ACORN_CLIENT_SECRET",
        global = true,
        hide_env_values = true
    )]
    client_secret: Option<String>,
    /// Print the API's `data` as JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

/// Retries for bulk commands (import, export): patient enough to ride out rate limiting and a
/// server restart (about two minutes of backoff before giving up), where one command's default
/// is two retries.
pub fn bulk_retry() -> RetryOptions {
    RetryOptions {
        max_retries: 20,
        initial_delay: Duration::from_millis(100),
        backoff_factor: 2,
        max_delay: Duration::from_secs(10),
    }
}

/// A connected client plus what the commands need to know about the invocation.
#[derive(Debug, Clone)]
pub struct Client {
    /// The SDK client every request goes through.
    pub sdk: OakClient,
    /// `--json` was given.
    pub json: bool,
    url: String,
}

impl ClientArgs {
    /// Builds the client with the SDK's default retries (no request is sent yet).
    pub fn connect(&self) -> anyhow::Result<Client> {
        self.connect_with(RetryOptions::default())
    }

    /// Builds the client with the given retry policy.
    pub fn connect_with(&self, retry: RetryOptions) -> anyhow::Result<Client> {
        let present = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        let missing: Vec<&str> = [
            (
                present(&self.client_id),
                "client id (--client-id or ACORN_CLIENT_ID)",
            ),
            (
                present(&self.client_secret),
                "client secret (--client-secret or ACORN_CLIENT_SECRET)",
            ),
        ]
        .into_iter()
        .filter_map(|(ok, what)| (!ok).then_some(what))
        .collect();
        if !missing.is_empty() {
            anyhow::bail!(
                "missing {}.\n{HOW_TO_GET_CREDENTIALS}",
                missing.join(" and ")
            );
        }
        let sdk = OakClient::builder()
            .custom_url(self.url.clone())
            .client_id(self.client_id.clone().unwrap_or_default())
            .client_secret(self.client_secret.clone().unwrap_or_default())
            .retry(retry)
            .build()
            .map_err(|e| anyhow::anyhow!("{e} (set by --url or ACORN_URL)"))?;
        Ok(Client {
            sdk,
            json: self.json,
            url: self.url.clone(),
        })
    }
}

impl Client {
    /// Adds what the user can do about an error: wrong credentials, or no server at the URL.
    pub fn explain(&self, e: anyhow::Error) -> anyhow::Error {
        let Some(oak) = e.chain().find_map(|c| c.downcast_ref::<OakError>()) else {
            return e;
        };
        let refused = oak.status().is_some_and(|s| s.as_u16() == 401)
            && oak
                .failure_reasons()
                .iter()
                .any(|r| r.code == ReasonCode::InvalidClient);
        if refused {
            let hint = format!(
                "{} refused the client id or client secret (ACORN_CLIENT_ID / \
                 ACORN_CLIENT_SECRET; the server does not say which one).\n{HOW_TO_GET_CREDENTIALS}",
                self.url
            );
            return e.context(hint);
        }
        if let OakError::Network(n) = oak {
            if n.is_connect() {
                let hint = format!(
                    "cannot reach an Acorn server at {}: is `acorn serve` running there? \
                     (set the address with --url or ACORN_URL)",
                    self.url
                );
                return e.context(hint);
            }
        }
        e
    }
}

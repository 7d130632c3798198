//! Command-line definitions and dispatch; each command lives in [`crate::commands`].

use clap::{Parser, Subcommand};

use crate::commands;

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
    Serve(commands::serve::ServeArgs),
    /// Manage merchants (works directly on the database, also while a server runs).
    Merchants {
        #[command(subcommand)]
        command: commands::merchants::MerchantsCommand,
    },
    /// The master key that protects personal data at rest: status, rotate (also while servers
    /// run), generate.
    Keys {
        #[command(subcommand)]
        command: commands::keys::KeysCommand,
    },
    /// Customers: create, get, list, update, sync, balances, files, populate, import, export.
    Customers(commands::customers::CustomersArgs),
    /// Provider registrations: schema, status, submit.
    Registrations(commands::registrations::RegistrationsArgs),
    /// The merchant's event log, newest first (--follow to keep watching).
    Events(commands::events::EventsArgs),
    /// Webhook endpoints and notifications; `listen` forwards deliveries to a local URL.
    Webhooks(commands::webhooks::WebhooksArgs),
}

/// Runs the chosen command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => commands::serve::run(args).await,
        Command::Merchants { command } => commands::merchants::run(command).await,
        Command::Keys { command } => commands::keys::run(command).await,
        Command::Customers(args) => commands::customers::run(args).await,
        Command::Registrations(args) => commands::registrations::run(args).await,
        Command::Events(args) => commands::events::run(args).await,
        Command::Webhooks(args) => commands::webhooks::run(args).await,
    }
}

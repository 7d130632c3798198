//! `acorn webhooks …`: webhook endpoints, their notifications, replays, and `listen`.

use acorn_sdk::types::{
    NotificationListParams, RegisterWebhookRequest, UpdateWebhookRequest, WebhookEndpoint,
    WebhookNotification,
};
use clap::{Args, Subcommand};

use super::config::{Client, ClientArgs};
use super::listen::{self, ListenArgs};
use super::output::{self, opt, Table};

/// `acorn webhooks`.
#[derive(Debug, Args)]
pub struct WebhooksArgs {
    #[command(flatten)]
    client: ClientArgs,
    #[command(subcommand)]
    command: WebhooksCommand,
}

#[derive(Debug, Subcommand)]
enum WebhooksCommand {
    /// Register an endpoint; prints its signing secret (shown only this once).
    Create {
        /// Where deliveries go (`https://…`).
        #[arg(value_name = "URL")]
        endpoint: String,
        /// A note.
        #[arg(long)]
        description: Option<String>,
        /// Only these events, comma-separated (default: all).
        #[arg(long, value_delimiter = ',')]
        events: Vec<String>,
    },
    /// The merchant's endpoints.
    List,
    /// One endpoint.
    Get {
        /// Webhook id (`wh_…`).
        id: String,
    },
    /// Change an endpoint.
    Update {
        /// Webhook id.
        id: String,
        /// A new URL for the endpoint.
        #[arg(long, value_name = "URL")]
        endpoint_url: Option<String>,
        /// A new note.
        #[arg(long)]
        description: Option<String>,
        /// Only these events, comma-separated.
        #[arg(long, value_delimiter = ',')]
        events: Vec<String>,
    },
    /// Pause or resume an endpoint.
    Toggle {
        /// Webhook id.
        id: String,
    },
    /// Delete an endpoint.
    Delete {
        /// Webhook id.
        id: String,
    },
    /// Notifications, newest first.
    Notifications {
        /// How many (1–100).
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// How many to skip.
        #[arg(long)]
        offset: Option<u32>,
        /// Only `pending`, `delivered` or `dead_lettered`.
        #[arg(long)]
        status: Option<String>,
        /// Only about this customer.
        #[arg(long)]
        customer: Option<String>,
    },
    /// Send a delivered or dead-lettered notification again.
    Replay {
        /// Notification id (`ntf_…`).
        id: String,
    },
    /// Receive deliveries on a temporary endpoint and forward them to a local URL.
    Listen(ListenArgs),
}

/// Runs `acorn webhooks …`.
pub async fn run(args: WebhooksArgs) -> anyhow::Result<()> {
    let client = args.client.connect()?;
    dispatch(&client, args.command)
        .await
        .map_err(|e| client.explain(e))
}

fn events(list: Vec<String>) -> Option<Vec<String>> {
    let list: Vec<String> = list
        .into_iter()
        .map(|e| e.trim().to_owned())
        .filter(|e| !e.is_empty())
        .collect();
    (!list.is_empty()).then_some(list)
}

async fn dispatch(client: &Client, command: WebhooksCommand) -> anyhow::Result<()> {
    let hooks = client.sdk.webhooks();
    match command {
        WebhooksCommand::Create {
            endpoint: url,
            description,
            events: types,
        } => {
            let req = RegisterWebhookRequest {
                url,
                description,
                event_types: events(types),
            };
            show(client, &hooks.register(&req).await?.data)
        }
        WebhooksCommand::List => {
            let list = hooks.list().await?.data;
            if client.json {
                return output::print_json(&list);
            }
            let mut table = Table::new(&["ID", "URL", "ACTIVE", "EVENTS", "DESCRIPTION"]);
            for h in &list {
                table.row(vec![
                    h.id.clone(),
                    h.url.clone(),
                    h.is_active.to_string(),
                    types_text(h),
                    opt(h.description.as_deref()),
                ]);
            }
            Ok(table.print()?)
        }
        WebhooksCommand::Get { id } => show(client, &hooks.get(&id).await?.data),
        WebhooksCommand::Update {
            id,
            endpoint_url: url,
            description,
            events: types,
        } => {
            let req = UpdateWebhookRequest {
                url,
                description: description.map(Some),
                event_types: events(types).map(Some),
            };
            show(client, &hooks.update(&id, &req).await?.data)
        }
        WebhooksCommand::Toggle { id } => show(client, &hooks.toggle(&id).await?.data),
        WebhooksCommand::Delete { id } => {
            let data = hooks.delete(&id).await?.data;
            if client.json {
                return output::print_json(&data);
            }
            Ok(output::write_stdout(&format!("deleted {id}\n"))?)
        }
        WebhooksCommand::Notifications {
            limit,
            offset,
            status,
            customer,
        } => {
            let params = NotificationListParams {
                limit: Some(limit),
                offset,
                reference_id: customer,
                status,
                ..Default::default()
            };
            notifications(client, &hooks.list_notifications(&params).await?.data)
        }
        WebhooksCommand::Replay { id } => {
            let r = hooks.replay(&id).await?;
            if client.json {
                return output::print_json(&r.data);
            }
            Ok(output::write_stdout(&format!("{id}: {}\n", r.msg))?)
        }
        WebhooksCommand::Listen(args) => listen::run(client, args).await,
    }
}

fn types_text(h: &WebhookEndpoint) -> String {
    h.event_types
        .as_ref()
        .map_or_else(|| "all".to_owned(), |t| t.join(","))
}

fn show(client: &Client, h: &WebhookEndpoint) -> anyhow::Result<()> {
    if client.json {
        return output::print_json(h);
    }
    let mut table = Table::new(&["FIELD", "VALUE"]);
    table.row(vec!["id".into(), h.id.clone()]);
    table.row(vec!["url".into(), h.url.clone()]);
    table.row(vec!["description".into(), opt(h.description.as_deref())]);
    table.row(vec!["is_active".into(), h.is_active.to_string()]);
    table.row(vec!["event_types".into(), types_text(h)]);
    if let Some(secret) = &h.secret {
        table.row(vec!["secret".into(), secret.clone()]);
    }
    Ok(table.print()?)
}

fn notifications(client: &Client, list: &acorn_sdk::types::NotificationList) -> anyhow::Result<()> {
    if client.json {
        return output::print_json(list);
    }
    let mut table = Table::new(&["ID", "EVENT", "STATUS", "ATTEMPTS", "WEBHOOK", "CREATED_AT"]);
    for n in &list.notification_list {
        table.row(row(n));
    }
    table.print()?;
    Ok(output::write_stdout(&format!(
        "{} of {}\n",
        list.notification_list.len(),
        list.count
    ))?)
}

fn row(n: &WebhookNotification) -> Vec<String> {
    vec![
        n.id.clone(),
        opt(n.event.as_deref()),
        opt(n.status.as_deref()),
        n.delivery_attempts.len().to_string(),
        opt(n.webhook_id.as_deref()),
        opt(n.created_at.as_deref()),
    ]
}

//! `acorn events [--follow]`: the merchant's event log, newest first, or followed as it grows.
//!
//! Read through the SDK's `events().list`, like every other command.

use std::time::Duration;

use acorn_sdk::OakError;
use acorn_types::EventListParams;
use clap::Args;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::config::{Client, ClientArgs};
use super::output::{self, value_text, Table};

/// `acorn events`.
#[derive(Debug, Args)]
pub struct EventsArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// How many of the latest events to show (1–100).
    #[arg(long, default_value_t = 20)]
    limit: u32,
    /// Only these events, comma-separated (e.g. customer.created,provider_registration.approved).
    #[arg(long, value_delimiter = ',')]
    event: Vec<String>,
    /// Keep watching: print the latest events oldest first, then each new one as it is
    /// recorded (with --json: one JSON object per line), until interrupted.
    #[arg(long)]
    follow: bool,
    /// Seconds between two polls with --follow.
    #[arg(long, default_value_t = 2.0, value_parser = positive_seconds)]
    interval: f64,
}

fn positive_seconds(raw: &str) -> Result<f64, String> {
    match raw.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 => Ok(s),
        _ => Err("must be a positive number of seconds".into()),
    }
}

/// `data` of `GET /api/v1/events`.
#[derive(Debug, Serialize, Deserialize)]
struct EventPage {
    event_list: Vec<Value>,
    has_more: bool,
}

/// Runs `acorn events`.
pub async fn run(args: EventsArgs) -> anyhow::Result<()> {
    let client = args.client.connect()?;
    let log = EventLog {
        client: &client,
        filter: args.event,
    };
    let result = if args.follow {
        follow(&log, args.limit, Duration::from_secs_f64(args.interval)).await
    } else {
        latest(&log, args.limit).await
    };
    result.map_err(|e| client.explain(e))
}

async fn latest(log: &EventLog<'_>, limit: u32) -> anyhow::Result<()> {
    let page = log.page(limit, None).await?;
    if log.client.json {
        return output::print_json(&page);
    }
    let mut table = Table::new(&HEADERS);
    for e in &page.event_list {
        table.row(cells(e).to_vec());
    }
    table.print()?;
    Ok(())
}

/// Prints the latest page oldest first, then polls for events newer than the newest printed.
/// Event ids are UUIDv7, so a newer event has a greater id.
async fn follow(log: &EventLog<'_>, limit: u32, interval: Duration) -> anyhow::Result<()> {
    let first = log.page(limit, None).await?;
    let mut newest = first.event_list.first().map(id);
    if !log.client.json {
        output::write_stdout(&fixed_width(&HEADERS.map(str::to_owned)))?;
    }
    print_oldest_first(log.client.json, &first.event_list)?;
    loop {
        tokio::time::sleep(interval).await;
        let fresh = match log.newer_than(newest.as_deref()).await {
            Ok(fresh) => fresh,
            // A poll that fails for a passing reason is simply tried again at the next tick.
            Err(e) if transient(&e) => {
                eprintln!("warning: {e:#} (retrying)");
                continue;
            }
            Err(e) => return Err(e),
        };
        if let Some(e) = fresh.first() {
            newest = Some(id(e));
        }
        print_oldest_first(log.client.json, &fresh)?;
    }
}

fn transient(e: &anyhow::Error) -> bool {
    e.chain().any(|c| match c.downcast_ref::<OakError>() {
        Some(OakError::Network(_) | OakError::Timeout(_)) => true,
        Some(oak) => oak
            .status()
            .is_some_and(|s| s.as_u16() == 429 || s.is_server_error()),
        None => false,
    })
}

fn print_oldest_first(json: bool, events: &[Value]) -> anyhow::Result<()> {
    let mut text = String::new();
    for e in events.iter().rev() {
        if json {
            text.push_str(&serde_json::to_string(e)?);
            text.push('\n');
        } else {
            text.push_str(&fixed_width(&cells(e)));
        }
    }
    Ok(output::write_stdout(&text)?)
}

const HEADERS: [&str; 4] = ["CREATED_AT", "EVENT", "CUSTOMER", "ID"];

fn id(e: &Value) -> String {
    e.get("id").map(value_text).unwrap_or_default()
}

/// Created at, event name, the customer it is about, event id.
fn cells(e: &Value) -> [String; 4] {
    let field = |k: &str| e.get(k).map(value_text).unwrap_or_default();
    let data = e.get("data");
    // Every event's `data.id` is its customer's id (Oak's webhook shapes, contract §9).
    let customer = data
        .and_then(|d| d.get("id"))
        .map(value_text)
        .unwrap_or_else(|| output::NONE.to_owned());
    [field("created_at"), field("event"), customer, id(e)]
}

/// One line with columns wide enough for every event, so lines printed over time align.
fn fixed_width(c: &[String; 4]) -> String {
    format!("{:<24}  {:<43}  {:<40}  {}\n", c[0], c[1], c[2], c[3])
}

struct EventLog<'a> {
    client: &'a Client,
    /// Event names (empty: all).
    filter: Vec<String>,
}

impl EventLog<'_> {
    /// Every event newer than `newest` (all of them if `None`), newest first.
    async fn newer_than(&self, newest: Option<&str>) -> anyhow::Result<Vec<Value>> {
        let mut fresh = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.page(100, after.as_deref()).await?;
            let (before, len, more) = (fresh.len(), page.event_list.len(), page.has_more);
            fresh.extend(
                page.event_list
                    .into_iter()
                    .take_while(|e| newest.is_none_or(|n| id(e).as_str() > n)),
            );
            let reached_known = fresh.len() - before < len;
            if !more || reached_known {
                return Ok(fresh);
            }
            after = fresh.last().map(id);
        }
    }

    /// One page of the event log, newest first.
    async fn page(&self, limit: u32, after: Option<&str>) -> anyhow::Result<EventPage> {
        let params = EventListParams {
            limit: Some(limit),
            starting_after: after.map(str::to_owned),
            event: self.filter.clone(),
        };
        let page = self.client.sdk.events().list(&params).await?.data;
        let event_list = page
            .event_list
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<_, _>>()?;
        Ok(EventPage {
            event_list,
            has_more: page.has_more,
        })
    }
}

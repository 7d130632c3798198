//! `acorn webhooks listen --forward-to URL`: like the Stripe CLI's `listen`. It runs a local
//! receiver, registers a temporary endpoint pointing at it, prints the signing secret, forwards
//! each delivery (headers and body unchanged) to `--forward-to`, prints one line per delivery
//! with the forward's status, answers Acorn with that status (so a failing handler is retried),
//! and deletes its endpoint on Ctrl-C.

use std::net::SocketAddr;
use std::time::Duration;

use acorn_sdk::types::RegisterWebhookRequest;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use clap::Args;
use serde_json::{json, Value};

use super::config::Client;
use super::output;

/// `acorn webhooks listen`.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Where each delivery is forwarded, e.g. http://localhost:3000/hooks.
    #[arg(long, value_name = "URL")]
    forward_to: String,
    /// Only these events, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    events: Vec<String>,
    /// Address of the local receiver the endpoint points at (port 0: a free one). The Acorn
    /// server must be able to reach it (sandbox mode, or --webhook-allow-http and
    /// --webhook-allow-private).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
}

/// Headers not forwarded: those of the hop, not of the delivery.
const HOP_HEADERS: [&str; 5] = [
    "host",
    "content-length",
    "connection",
    "transfer-encoding",
    "keep-alive",
];

#[derive(Clone)]
struct Forward {
    http: reqwest::Client,
    url: reqwest::Url,
    json: bool,
}

/// Runs the listener until Ctrl-C (or SIGTERM), then deletes its endpoint.
pub async fn run(client: &Client, args: ListenArgs) -> anyhow::Result<()> {
    let url = reqwest::Url::parse(&args.forward_to)
        .map_err(|e| anyhow::anyhow!("--forward-to {}: {e}", args.forward_to))?;
    anyhow::ensure!(
        matches!(url.scheme(), "http" | "https"),
        "--forward-to must be an http:// or https:// URL"
    );
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    let hooks = client.sdk.webhooks();
    let types: Vec<String> = args.events.into_iter().filter(|e| !e.is_empty()).collect();
    let req = RegisterWebhookRequest {
        url: format!("http://{addr}/"),
        description: Some(format!("acorn webhooks listen → {url}")),
        event_types: (!types.is_empty()).then_some(types),
    };
    let hook = hooks.register(&req).await?.data;
    let secret = hook.secret.clone().unwrap_or_default();
    if client.json {
        let ready = json!({"webhook_id": hook.id, "secret": secret, "forward_to": url.as_str()});
        output::write_stdout(&format!("{ready}\n"))?;
    } else {
        output::write_stdout(&format!(
            "Ready! Forwarding webhooks to {url} (endpoint {}).\nYour webhook signing secret is {secret}\n",
            hook.id
        ))?;
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let state = Forward {
        http,
        url,
        json: client.json,
    };
    let app = axum::Router::new()
        .fallback(axum::routing::post(forward))
        .with_state(state);
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(acorn_server::shutdown_signal())
        .await;
    let deleted = hooks.delete(&hook.id).await;
    served?;
    deleted?;
    if !client.json {
        output::write_stdout(&format!("Deleted endpoint {}.\n", hook.id))?;
    }
    Ok(())
}

/// Forwards one delivery and answers with the forward's status (502 when it failed).
async fn forward(State(f): State<Forward>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let summary: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut req = f.http.post(f.url.clone()).body(body);
    for (name, value) in &headers {
        if !HOP_HEADERS.contains(&name.as_str()) {
            req = req.header(name.as_str(), value.as_bytes());
        }
    }
    let (status, shown) = match req.send().await {
        Ok(r) => {
            let code = r.status().as_u16();
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
            (status, code.to_string())
        }
        Err(e) => (StatusCode::BAD_GATEWAY, format!("error: {e}")),
    };
    let text = |k: &str| summary[k].as_str().unwrap_or("-").to_owned();
    let line = if f.json {
        json!({"id": text("id"), "event": text("event"), "forward_status": shown}).to_string()
    } else {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        format!(
            "{now}  {}  {}  → POST {} [{shown}]",
            text("event"),
            text("id"),
            f.url
        )
    };
    if let Err(e) = output::write_stdout(&format!("{line}\n")) {
        eprintln!("warning: {e}");
    }
    status
}

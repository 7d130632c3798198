//! Webhook endpoints and notifications (contract §9): the rules around the store's rows.

use acorn_types::{MerchantId, Mode, NotificationId, WebhookId};
use rand::RngCore;

use crate::base::config::Config;
use crate::base::net::is_private;
use crate::services::error::ServiceError;
use crate::store::notifications::{Notification, NotificationQuery};
use crate::store::webhooks::{Endpoint, EndpointPatch, NewEndpoint};
use crate::store::{now_micros, Store};

/// Prefix of generated signing secrets.
pub const SECRET_PREFIX: &str = "whsec_";

/// A fresh random signing secret: `whsec_` and 32 random bytes in hex.
pub fn new_secret() -> String {
    let mut buf = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    format!("{SECRET_PREFIX}{}", hex::encode(buf))
}

/// Checks a webhook URL for a merchant of `mode` (contract §13): absolute; for a sandbox
/// merchant `http://` and loopback or private hosts are fine (a receiver on the developer's
/// machine); a live merchant's must be `https://` (unless `--webhook-allow-http`) to a public
/// host (unless `--webhook-allow-private`): `localhost` and loopback, private, link-local or
/// shared address literals are refused here, and names that resolve to such addresses are
/// refused at delivery. The error is the message for the `url` field.
pub fn check_url(config: &Config, mode: Mode, url: &str) -> Result<String, String> {
    let trimmed = url.trim();
    let parsed = url::Url::parse(trimmed).map_err(|e| format!("url is not a valid URL: {e}"))?;
    let host = match parsed.host() {
        Some(url::Host::Domain(d)) if !d.is_empty() => Host::Name(d.to_ascii_lowercase()),
        Some(url::Host::Ipv4(ip)) => Host::Ip(ip.into()),
        Some(url::Host::Ipv6(ip)) => Host::Ip(ip.into()),
        _ => return Err("url must name a host".to_owned()),
    };
    let live = mode == Mode::Live;
    match parsed.scheme() {
        "https" => {}
        "http" if !live || config.webhook_allow_http => {}
        "http" => {
            return Err(
                "url must be https:// for a live merchant (http:// is accepted for \
                        sandbox merchants, or with --webhook-allow-http)"
                    .to_owned(),
            )
        }
        other => {
            return Err(format!(
                "url scheme {other}:// is not supported; use https://"
            ))
        }
    }
    let private = match &host {
        Host::Ip(ip) => is_private(*ip),
        Host::Name(name) => name == "localhost" || name.ends_with(".localhost"),
    };
    if live && private && !config.webhook_allow_private {
        return Err(
            "url must reach a public address for a live merchant (loopback, private \
                    and link-local hosts are accepted for sandbox merchants, or with \
                    --webhook-allow-private)"
                .to_owned(),
        );
    }
    Ok(trimmed.to_owned())
}

enum Host {
    Name(String),
    Ip(std::net::IpAddr),
}

/// Registers an endpoint with a fresh secret.
pub async fn register(
    store: &Store,
    merchant: MerchantId,
    url: String,
    description: Option<String>,
    event_types: Option<Vec<String>>,
) -> Result<Endpoint, ServiceError> {
    let new = NewEndpoint {
        url,
        description,
        event_types,
        secret: new_secret(),
    };
    Ok(store.insert_endpoint(merchant, new, now_micros()).await?)
}

/// The merchant's endpoints.
pub async fn list(store: &Store, merchant: MerchantId) -> Result<Vec<Endpoint>, ServiceError> {
    Ok(store.list_endpoints(merchant).await?)
}

/// One endpoint.
pub async fn get(
    store: &Store,
    merchant: MerchantId,
    id: WebhookId,
) -> Result<Endpoint, ServiceError> {
    Ok(store.get_endpoint(merchant, id).await?)
}

/// Changes an endpoint.
pub async fn update(
    store: &Store,
    merchant: MerchantId,
    id: WebhookId,
    patch: EndpointPatch,
) -> Result<Endpoint, ServiceError> {
    Ok(store
        .update_endpoint(merchant, id, patch, now_micros())
        .await?)
}

/// Flips `is_active`.
pub async fn toggle(
    store: &Store,
    merchant: MerchantId,
    id: WebhookId,
) -> Result<Endpoint, ServiceError> {
    Ok(store.toggle_endpoint(merchant, id, now_micros()).await?)
}

/// Deletes an endpoint (its pending notifications are dead-lettered).
pub async fn delete(
    store: &Store,
    merchant: MerchantId,
    id: WebhookId,
) -> Result<(), ServiceError> {
    Ok(store.delete_endpoint(merchant, id, now_micros()).await?)
}

/// A page of notifications and the total count.
pub async fn notifications(
    store: &Store,
    merchant: MerchantId,
    query: &NotificationQuery,
) -> Result<(Vec<Notification>, i64), ServiceError> {
    Ok(store.list_notifications(merchant, query).await?)
}

/// One notification.
pub async fn notification(
    store: &Store,
    merchant: MerchantId,
    id: NotificationId,
) -> Result<Notification, ServiceError> {
    Ok(store.get_notification(merchant, id).await?)
}

/// Sends a delivered or dead-lettered notification again (a new round, the same id).
pub async fn replay(
    store: &Store,
    merchant: MerchantId,
    id: NotificationId,
) -> Result<(), ServiceError> {
    store
        .replay_notification(merchant, id, now_micros())
        .await?;
    store.wake_deliverer();
    Ok(())
}

//! Webhook endpoints and notifications (contract §9), as the official SDK's `Webhook` types
//! name them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A registered endpoint. `secret` is present only in the answer to its registration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    /// `wh_…`.
    pub id: String,
    /// Where deliveries go.
    pub url: String,
    /// The merchant's note.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether deliveries are made.
    pub is_active: bool,
    /// The events it receives; `None` = all (Acorn extension).
    #[serde(default)]
    pub event_types: Option<Vec<String>>,
    /// The signing secret: only at registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// Body of `POST /api/v1/merchant/webhooks` (read with the server's rules: see
/// [`FromBody`](crate::FromBody)).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RegisterWebhookRequest {
    /// Where deliveries go (`https://`; `http://` only in sandbox mode or when allowed).
    pub url: String,
    /// A note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Only these events (Acorn extension); absent = all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_types: Option<Vec<String>>,
}

/// Body of `PUT /api/v1/merchant/webhooks/{id}`: absent fields stay as they are, `null`
/// clears the note and makes the filter every event.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UpdateWebhookRequest {
    /// A new URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A new note; `Some(None)` clears it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<Option<String>>,
    /// A new event filter; `Some(None)` receives every event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_types: Option<Option<Vec<String>>>,
}

crate::requests::parse::deserialize_via_from_body!(RegisterWebhookRequest);
crate::requests::parse::deserialize_via_from_body!(UpdateWebhookRequest);

/// `data` of `DELETE /api/v1/merchant/webhooks/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDeleted {
    /// Always true.
    pub success: bool,
}

/// One delivery attempt of a notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    /// RFC 3339.
    pub attempted_at: String,
    /// The receiver's status, if it answered.
    #[serde(default)]
    pub status_code: Option<u16>,
    /// Why the attempt failed.
    #[serde(default)]
    pub error: Option<String>,
    /// How long it took.
    #[serde(default)]
    pub duration_ms: u64,
}

/// A notification: one event for one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookNotification {
    /// `ntf_…`; also the `id` of the delivered body.
    pub id: String,
    /// Whether a delivery was answered 2xx.
    pub is_acknowledged: bool,
    /// The event name.
    #[serde(default)]
    pub event: Option<String>,
    /// The event category.
    #[serde(default)]
    pub category: Option<String>,
    /// The event data.
    #[serde(default)]
    pub data: Value,
    /// `pending`, `delivered` or `dead_lettered`.
    #[serde(default)]
    pub status: Option<String>,
    /// The endpoint, `wh_…`.
    #[serde(default)]
    pub webhook_id: Option<String>,
    /// Oldest first.
    #[serde(default)]
    pub delivery_attempts: Vec<DeliveryAttempt>,
    /// RFC 3339.
    #[serde(default)]
    pub created_at: Option<String>,
    /// RFC 3339.
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// `data` of `GET /api/v1/merchant/webhooks/notifications`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationList {
    /// How many match in all.
    pub count: i64,
    /// This page, newest first.
    pub notification_list: Vec<WebhookNotification>,
}

/// Query of `GET /api/v1/merchant/webhooks/notifications`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NotificationListParams {
    /// Page size, 1–100 (server default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Rows skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
    /// Only about this customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_id: Option<String>,
    /// Only this category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_module: Option<String>,
    /// `pending`, `delivered` or `dead_lettered` (Acorn extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// The body of a delivery: `{id, api_version, event, category, data}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEvent {
    /// The notification id (`ntf_…`), the same on every retry and replay.
    pub id: String,
    /// `v1`.
    pub api_version: String,
    /// The event name.
    pub event: String,
    /// The event category.
    pub category: String,
    /// The event data.
    pub data: Value,
}

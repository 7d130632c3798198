//! The merchant's event log (contract §9): `GET /api/v1/events`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::requests::comma_list;

/// One recorded event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// `evt_…`, time-ordered.
    pub id: String,
    /// Always `v1`.
    pub api_version: String,
    /// E.g. `customer.created`, `provider_registration.approved`, `customer.sync.failed`.
    pub event: String,
    /// `provider_registration_lifecycle` or `customer_sync_lifecycle`.
    pub category: String,
    /// The event's payload (the customer, the registration, the sync attempt…).
    pub data: Value,
    /// RFC 3339.
    pub created_at: String,
}

/// `data` of `GET /api/v1/events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventList {
    /// Newest first.
    pub event_list: Vec<Event>,
    /// Whether older events follow.
    pub has_more: bool,
}

/// Query of `GET /api/v1/events`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventListParams {
    /// Page size, 1–100 (server default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Cursor: events older than this `evt_…` id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starting_after: Option<String>,
    /// Only these event names.
    #[serde(default, with = "comma_list", skip_serializing_if = "Vec::is_empty")]
    pub event: Vec<String>,
}

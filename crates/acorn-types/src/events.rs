//! The merchant's event log (contract §9): `GET /api/v1/events`, and the closed vocabulary of
//! event names ([`EventKind`]) and categories ([`EventCategory`]).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Value};

use crate::customer::Customer;
use crate::enums::{string_serde, RegistrationStatus, UnknownValue};
use crate::envelope::{FailureReason, ReasonCode};
use crate::ids::{CustomerId, EventId};
use crate::registration::Registration;
use crate::requests::comma_list;
use crate::requests::parse::{self, deserialize_via_from_query, done, integer, unknown_parameter};

/// The group an event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventCategory {
    /// `provider_registration_lifecycle`: customer and registration events.
    ProviderRegistrationLifecycle,
    /// `customer_sync_lifecycle`: sync events.
    CustomerSyncLifecycle,
}

impl EventCategory {
    /// Every category.
    pub const ALL: &'static [EventCategory] = &[
        EventCategory::ProviderRegistrationLifecycle,
        EventCategory::CustomerSyncLifecycle,
    ];

    /// The wire spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::ProviderRegistrationLifecycle => "provider_registration_lifecycle",
            Self::CustomerSyncLifecycle => "customer_sync_lifecycle",
        }
    }

    /// Parses the exact wire spelling.
    pub fn parse(s: &str) -> Result<Self, UnknownValue> {
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownValue {
                kind: "event category",
                value: s.to_owned(),
                allowed: Self::ALL
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// An event name Acorn records (contract §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// `customer.created`.
    CustomerCreated,
    /// `customer.updated`.
    CustomerUpdated,
    /// `customer.processing`.
    CustomerProcessing,
    /// `customer.action_required`.
    CustomerActionRequired,
    /// `customer.verified`.
    CustomerVerified,
    /// `customer.rejected`.
    CustomerRejected,
    /// `customer.deleted`: the customer was erased on request.
    CustomerDeleted,
    /// `customer.sync.started`.
    SyncStarted,
    /// `customer.sync.succeeded`.
    SyncSucceeded,
    /// `customer.sync.failed`.
    SyncFailed,
    /// `provider_registration.<status>`: a registration entered that status.
    Registration(RegistrationStatus),
}

impl EventKind {
    /// The events that are not registration events, in contract order.
    pub const FIXED: &'static [EventKind] = &[
        EventKind::CustomerCreated,
        EventKind::CustomerUpdated,
        EventKind::CustomerProcessing,
        EventKind::CustomerActionRequired,
        EventKind::CustomerVerified,
        EventKind::CustomerRejected,
        EventKind::CustomerDeleted,
        EventKind::SyncStarted,
        EventKind::SyncSucceeded,
        EventKind::SyncFailed,
    ];

    /// Every event name: [`FIXED`](Self::FIXED), then one per registration status.
    pub fn all() -> impl Iterator<Item = EventKind> {
        let regs = RegistrationStatus::ALL
            .iter()
            .map(|s| EventKind::Registration(*s));
        Self::FIXED.iter().copied().chain(regs)
    }

    /// The wire spelling, e.g. `customer.sync.failed` or `provider_registration.approved`.
    pub fn as_str(&self) -> &'static str {
        use RegistrationStatus as R;
        match self {
            Self::CustomerCreated => "customer.created",
            Self::CustomerUpdated => "customer.updated",
            Self::CustomerProcessing => "customer.processing",
            Self::CustomerActionRequired => "customer.action_required",
            Self::CustomerVerified => "customer.verified",
            Self::CustomerRejected => "customer.rejected",
            Self::CustomerDeleted => "customer.deleted",
            Self::SyncStarted => "customer.sync.started",
            Self::SyncSucceeded => "customer.sync.succeeded",
            Self::SyncFailed => "customer.sync.failed",
            Self::Registration(s) => match s {
                R::NotSubmitted => "provider_registration.not_submitted",
                R::Submitted => "provider_registration.submitted",
                R::AwaitingConfirmation => "provider_registration.awaiting_confirmation",
                R::Processing => "provider_registration.processing",
                R::Approved => "provider_registration.approved",
                R::Rejected => "provider_registration.rejected",
                R::Restricted => "provider_registration.restricted",
                R::Cancelled => "provider_registration.cancelled",
                R::Error => "provider_registration.error",
            },
        }
    }

    /// Parses the exact wire spelling (event names are case-sensitive, as the server's
    /// `event` filter has always been).
    pub fn parse(s: &str) -> Result<Self, UnknownValue> {
        Self::all()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownValue {
                kind: "event name",
                value: s.to_owned(),
                allowed: Self::all()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The category the event is recorded under.
    pub fn category(&self) -> EventCategory {
        match self {
            Self::SyncStarted | Self::SyncSucceeded | Self::SyncFailed => {
                EventCategory::CustomerSyncLifecycle
            }
            _ => EventCategory::ProviderRegistrationLifecycle,
        }
    }
}

string_serde!(EventCategory);
string_serde!(EventKind);

/// One recorded event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// `evt_…`, time-ordered.
    pub id: String,
    /// Always `v1`.
    pub api_version: String,
    /// E.g. `customer.created`, `provider_registration.approved`, `customer.sync.failed`.
    pub event: EventKind,
    /// `provider_registration_lifecycle` or `customer_sync_lifecycle`.
    pub category: EventCategory,
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

/// Query of `GET /api/v1/events`. Deserializes with [`from_query`](Self::from_query).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EventListParams {
    /// Page size, 1–100 (server default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Cursor: events older than this `evt_…` id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starting_after: Option<String>,
    /// Only these event names (each an [`EventKind`] spelling; the server refuses others).
    #[serde(default, with = "comma_list", skip_serializing_if = "Vec::is_empty")]
    pub event: Vec<String>,
}

impl EventListParams {
    /// Reads the decoded query pairs of `GET /api/v1/events` with the server's rules,
    /// reporting every problem at once. Event names are checked against [`EventKind`] and
    /// kept once; the cursor comes back as `evt_<uuid>`. A `limit` above `u32::MAX` is kept
    /// as `u32::MAX` (the server clamps it to 100).
    pub fn from_query(pairs: &[(String, String)]) -> Result<Self, Vec<FailureReason>> {
        let (mut p, mut reasons) = (EventListParams::default(), Vec::new());
        for (key, value) in pairs {
            match key.as_str() {
                "limit" => {
                    if let Some(n) = integer("limit", value, 1, &mut reasons) {
                        p.limit = Some(u32::try_from(n).unwrap_or(u32::MAX));
                    }
                }
                "starting_after" => match EventId::parse(value.trim()) {
                    Ok(id) => p.starting_after = Some(id.to_string()),
                    Err(_) => reasons.push(FailureReason::new(
                        ReasonCode::InvalidCursor,
                        "starting_after is not an event id",
                        &["starting_after"],
                    )),
                },
                "event" => parse::comma_list(
                    "event",
                    value,
                    |name| {
                        EventKind::parse(name)
                            .map(|k| k.as_str().to_owned())
                            .map_err(|_| "is not an event name".to_owned())
                    },
                    &mut p.event,
                    &mut reasons,
                ),
                other => reasons.push(unknown_parameter(other)),
            }
        }
        done(p, reasons)
    }

    /// The `event` filter as kinds (names that are not event names are left out).
    pub fn event_kinds(&self) -> Vec<EventKind> {
        self.event
            .iter()
            .filter_map(|e| EventKind::parse(e).ok())
            .collect()
    }

    /// `starting_after` as an id (`None` when absent or not an event id).
    pub fn starting_after_id(&self) -> Option<EventId> {
        self.starting_after
            .as_deref()
            .and_then(|s| EventId::parse(s).ok())
    }
}

deserialize_via_from_query!(EventListParams);

// The `data` of the events Acorn records (contract §9), as Oak shapes them: one home for the
// payloads of the events API and of webhook deliveries.

/// Oak's `data` of a customer event: `{id, status, provider, target_role, provider_response,
/// failure_reasons, readiness, changes, action_required, version, created_at, updated_at}`,
/// where the registration fields are those of the registration that caused the change (null
/// for plain edits) and `changes` names the changed fields.
pub fn customer_data(c: &Customer, cause: Option<&Registration>, changes: &[&str]) -> Value {
    json!({
        "id": c.id,
        "status": c.status,
        "provider": cause.map(|r| r.provider),
        "target_role": cause.map(|r| r.target_role),
        "provider_response": cause.and_then(|r| r.provider_response.clone()),
        "failure_reasons": cause.and_then(|r| r.failure_reasons.clone()),
        "readiness": cause.and_then(|r| r.readiness.clone()),
        "changes": changes,
        "action_required": cause.is_some_and(|r| r.action_required),
        "version": c.version,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    })
}

/// Oak's `data` of a `provider_registration.*` event: the customer event's shape with the
/// registration's own status, changes and times, and the customer's version.
pub fn registration_data(customer: CustomerId, version: Option<i64>, r: &Registration) -> Value {
    json!({
        "id": customer.to_string(),
        "status": r.status,
        "provider": r.provider,
        "target_role": r.target_role,
        "provider_response": r.provider_response,
        "failure_reasons": r.failure_reasons,
        "readiness": r.readiness,
        "changes": r.changes,
        "action_required": r.action_required,
        "version": version,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    })
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn every_kind_round_trips_and_is_categorised() {
        assert_eq!(EventKind::all().count(), 10 + RegistrationStatus::ALL.len());
        for k in EventKind::all() {
            assert_eq!(EventKind::parse(k.as_str()), Ok(k));
            let v = serde_json::to_value(k).expect("json");
            assert_eq!(v, json!(k.as_str()));
            assert_eq!(serde_json::from_value::<EventKind>(v).expect("parse"), k);
            let want = if k.as_str().starts_with("customer.sync.") {
                EventCategory::CustomerSyncLifecycle
            } else {
                EventCategory::ProviderRegistrationLifecycle
            };
            assert_eq!(k.category(), want, "{k}");
        }
        assert_eq!(
            EventKind::Registration(RegistrationStatus::AwaitingConfirmation).to_string(),
            "provider_registration.awaiting_confirmation"
        );
        for bad in [
            "Customer.Created",
            "provider_registration.APPROVED",
            "customer.removed",
            "",
        ] {
            assert!(EventKind::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn events_keep_their_wire_shape() {
        let wire = json!({"id": "evt_1", "api_version": "v1", "event": "customer.sync.failed",
            "category": "customer_sync_lifecycle", "data": {"id": "cus_1"},
            "created_at": "2026-01-01T00:00:00.000Z"});
        let e: Event = serde_json::from_value(wire.clone()).expect("parse");
        assert_eq!(e.event, EventKind::SyncFailed);
        assert_eq!(e.category, EventCategory::CustomerSyncLifecycle);
        assert_eq!(serde_json::to_value(&e).expect("json"), wire);
    }

    #[test]
    fn list_params_from_query() {
        let p = EventListParams {
            limit: Some(20),
            starting_after: Some("evt_0192f0c5-7f2e-7c3a-9d6e-1a2b3c4d5e6f".into()),
            event: vec![
                "customer.verified".into(),
                "provider_registration.approved".into(),
            ],
        };
        let sent = serde_json::to_value(&p).expect("json");
        let sent: Vec<(String, String)> = sent
            .as_object()
            .expect("object")
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                )
            })
            .collect();
        assert_eq!(EventListParams::from_query(&sent), Ok(p.clone()));
        assert_eq!(
            p.event_kinds(),
            [
                EventKind::CustomerVerified,
                EventKind::Registration(RegistrationStatus::Approved)
            ]
        );
        let q = pairs(&[
            ("starting_after", "0192f0c5-7f2e-7c3a-9d6e-1a2b3c4d5e6f"),
            ("event", "customer.created, customer.created"),
        ]);
        let parsed = EventListParams::from_query(&q).expect("ok");
        assert_eq!(parsed.event, ["customer.created"]);
        assert_eq!(
            parsed.starting_after.as_deref(),
            Some("evt_0192f0c5-7f2e-7c3a-9d6e-1a2b3c4d5e6f")
        );
        assert!(parsed.starting_after_id().is_some());
        let via_serde: EventListParams =
            serde_json::from_value(json!({"event": "customer.created", "limit": 3})).expect("ok");
        assert_eq!(
            (via_serde.limit, via_serde.event_kinds()),
            (Some(3), vec![EventKind::CustomerCreated])
        );
        assert!(serde_json::from_value::<EventListParams>(json!({"event": "nope"})).is_err());
    }

    #[test]
    fn list_params_report_every_problem() {
        let q = pairs(&[
            ("limit", "0"),
            ("starting_after", "cus_1"),
            ("event", "customer.created,nope,"),
            ("page", "2"),
        ]);
        let err = EventListParams::from_query(&q).expect_err("bad");
        let got: Vec<(&str, &str)> = err
            .iter()
            .map(|r| (r.fields[0].as_str(), r.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("limit", "limit must be an integer ≥ 1"),
                ("starting_after", "starting_after is not an event id"),
                ("event", "event: \"nope\" is not an event name"),
                ("event", "event contains an empty value"),
                ("page", "page is not a known query parameter"),
            ]
        );
        assert_eq!(err[1].code, ReasonCode::InvalidCursor);
    }
}

//! Prefixed identifiers (`cus_<uuid>`, `mer_<uuid>`, …). Clients treat them as opaque strings;
//! inside Acorn they are UUIDs (v7, so they sort by creation time).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// The string given is not an id of this kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid {kind} id")]
pub struct InvalidId {
    /// Which id kind was expected.
    pub kind: &'static str,
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// The textual prefix, including the underscore.
            pub const PREFIX: &'static str = $prefix;

            /// A new time-ordered (UUIDv7) id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an existing UUID.
            pub fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            pub fn uuid(&self) -> Uuid {
                self.0
            }

            /// Parses `<prefix><uuid>` or a bare `<uuid>`.
            pub fn parse(s: &str) -> Result<Self, InvalidId> {
                let bare = s.strip_prefix($prefix).unwrap_or(s);
                // Only the canonical hyphenated form is accepted, so one id has one spelling.
                if bare.len() != 36 {
                    return Err(InvalidId { kind: $kind });
                }
                Uuid::parse_str(bare).map(Self).map_err(|_| InvalidId { kind: $kind })
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{}", $prefix, self.0.as_hyphenated())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

prefixed_id!(
    /// A customer id, `cus_<uuid>`.
    CustomerId, "cus_", "customer"
);
prefixed_id!(
    /// A merchant id, `mer_<uuid>`.
    MerchantId, "mer_", "merchant"
);
prefixed_id!(
    /// A provider registration id, `preg_<uuid>`.
    RegistrationId, "preg_", "registration"
);
prefixed_id!(
    /// A stored file id, `file_<uuid>`.
    FileId, "file_", "file"
);
prefixed_id!(
    /// A sync attempt id, `sync_<uuid>`.
    SyncAttemptId, "sync_", "sync attempt"
);
prefixed_id!(
    /// An event id, `evt_<uuid>`.
    EventId, "evt_", "event"
);
prefixed_id!(
    /// A webhook endpoint id, `wh_<uuid>`.
    WebhookId, "wh_", "webhook"
);
prefixed_id!(
    /// A webhook notification id, `ntf_<uuid>`.
    NotificationId, "ntf_", "notification"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_id_round_trips_with_and_without_prefix() {
        let id = CustomerId::new();
        let text = id.to_string();
        assert!(text.starts_with("cus_"));
        assert_eq!(CustomerId::parse(&text), Ok(id));
        assert_eq!(CustomerId::parse(&text["cus_".len()..]), Ok(id));
    }

    #[test]
    fn rejects_other_shapes() {
        for bad in [
            "",
            "cus_",
            "cus_abc123",
            "mer_0192f0c5-7f2e-7c3a-9d6e-1a2b3c4d5e6f",
            "0192f0c57f2e7c3a9d6e1a2b3c4d5e6f",
            "{0192f0c5-7f2e-7c3a-9d6e-1a2b3c4d5e6f}",
            "cus_0192f0c5-7f2e-7c3a-9d6e-1a2b3c4d5e6fx",
        ] {
            assert!(CustomerId::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn ids_sort_by_creation() {
        let a = CustomerId::new();
        let b = CustomerId::new();
        assert!(a < b);
        assert!(a.to_string() < b.to_string());
    }
}

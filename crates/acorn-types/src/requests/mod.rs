//! Request bodies and query parameters a client sends (contract §4, §6): what the SDK builds
//! and the wire shape the server reads.
//!
//! Every body type has a `from_body(&Map) -> Result<Self, Vec<FailureReason>>` and every query
//! type a `from_query(&[(String, String)])`, holding the server's rules and messages and
//! reporting every invalid field at once; body types deserialize through their `from_body`, so
//! `serde_json::from_value` and the server's parser accept exactly the same bodies.
//!
//! List filters that the contract allows to be comma-separated are `Vec`s here; they travel as
//! one comma-joined query value (`provider=stripe,bridge`) and are left out when empty.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serializer};

mod body;
mod customer;
mod list;
pub mod parse;
mod registration;
mod sync;

pub use body::{FromBody, LedgerEntryRequest, SandboxStatusRequest};
pub use customer::{CustomerCreate, CustomerRequest, CustomerUpdate};
pub use list::{BalanceFilter, ListParams, SchemaQuery, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT};
pub use registration::{PlatformRequest, SubmitRegistrationRequest};
pub use sync::{SyncRequest, SYNCABLE_PROVIDERS};

/// Serde helpers for comma-separated query values.
pub mod comma_list {
    use super::{fmt, Deserialize, Deserializer, FromStr, Serializer};

    /// Writes `[a, b]` as `"a,b"`.
    pub fn serialize<T: fmt::Display, S: Serializer>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
        let joined = v
            .iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(",");
        s.serialize_str(&joined)
    }

    /// Reads `"a,b"` (spaces around items ignored, empty items skipped) into `[a, b]`.
    pub fn deserialize<'de, T, D>(d: D) -> Result<Vec<T>, D::Error>
    where
        T: FromStr,
        T::Err: fmt::Display,
        D: Deserializer<'de>,
    {
        let raw = Option::<String>::deserialize(d)?;
        raw.as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<T>().map_err(serde::de::Error::custom))
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::enums::{Provider, SyncField, TargetRole};
    use serde_json::json;

    #[test]
    fn small_bodies_match_the_contract() {
        let sync = SyncRequest::new(Provider::Stripe, [SyncField::Email, SyncField::FirstName]);
        assert_eq!(
            serde_json::to_value(&sync).expect("json"),
            json!({"providers": ["stripe"], "fields": ["email", "first_name"]})
        );
        let pr = PlatformRequest::new(Provider::Stripe, TargetRole::Customer).with("k", "v");
        assert_eq!(
            serde_json::to_value(&pr).expect("json"),
            json!({"provider": "stripe", "target_role": "customer", "k": "v"})
        );
        let back: PlatformRequest = serde_json::from_value(
            json!({"provider": "Stripe", "target_role": "customer", "k": "v"}),
        )
        .expect("parse");
        assert_eq!(back, pr);
        let sub = SubmitRegistrationRequest::new(Provider::Stripe, TargetRole::ConnectedAccount);
        assert_eq!(
            serde_json::to_value(&sub).expect("json"),
            json!({"provider": "stripe", "target_role": "connected_account"})
        );
        let sub = sub.with("account_type", "express");
        assert_eq!(
            serde_json::to_value(&sub).expect("json")["provider_data"],
            json!({"account_type": "express"})
        );
        assert!(!format!("{sub:?}").contains("express"));
        let bf = BalanceFilter::new(Provider::Stripe, TargetRole::ConnectedAccount);
        assert_eq!(
            serde_json::to_value(&bf).expect("json"),
            json!({"provider": "stripe", "role": "connected_account"})
        );
        assert_eq!(
            serde_json::to_value(BalanceFilter::default()).expect("json"),
            json!({})
        );
    }
}

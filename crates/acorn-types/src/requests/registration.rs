//! Registration bodies: `submit_registration` (§6) and `populate_platform` (§4.8). Each
//! parses with the server's rules via `from_body`, which `Deserialize` also uses.

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::enums::{Provider, TargetRole};
use crate::envelope::FailureReason;
use crate::requests::parse::{deserialize_via_from_body, BodyFields};
use crate::requests::FromBody;

/// Body of `populate_platform` (`POST /api/v1/customers/{id}/platforms`, contract §4.8):
/// `{"provider": …, "target_role": …, ...extra}`. The extra keys are provider data.
///
/// `Debug` shows the extra keys, not their values.
#[derive(Clone, PartialEq, Serialize)]
pub struct PlatformRequest {
    /// The provider.
    pub provider: Provider,
    /// The role at that provider.
    pub target_role: TargetRole,
    /// Every other key, merged into the registration's `provider_data`.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl PlatformRequest {
    /// A request with no extra provider data.
    pub fn new(provider: Provider, target_role: TargetRole) -> Self {
        Self {
            provider,
            target_role,
            extra: Map::new(),
        }
    }

    /// Adds one provider-data key.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }
}

impl fmt::Debug for PlatformRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlatformRequest")
            .field("provider", &self.provider)
            .field("target_role", &self.target_role)
            .field("extra_keys", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Body of `submit_registration`
/// (`POST /api/v1/provider-registration/{customer_id}/submit`, contract §6).
///
/// `Debug` shows the `provider_data` keys, not their values.
#[derive(Clone, PartialEq, Serialize)]
pub struct SubmitRegistrationRequest {
    /// The provider.
    pub provider: Provider,
    /// The role at that provider.
    pub target_role: TargetRole,
    /// Provider-specific data (e.g. stripe `connected_account` needs `account_type`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_data: Option<Map<String, Value>>,
}

impl SubmitRegistrationRequest {
    /// A submission without provider data.
    pub fn new(provider: Provider, target_role: TargetRole) -> Self {
        Self {
            provider,
            target_role,
            provider_data: None,
        }
    }

    /// Adds one `provider_data` key.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.provider_data
            .get_or_insert_with(Map::new)
            .insert(key.into(), value.into());
        self
    }
}

impl fmt::Debug for SubmitRegistrationRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubmitRegistrationRequest")
            .field("provider", &self.provider)
            .field("target_role", &self.target_role)
            .field(
                "provider_data_keys",
                &self
                    .provider_data
                    .as_ref()
                    .map(|m| m.keys().collect::<Vec<_>>()),
            )
            .finish()
    }
}

impl FromBody for SubmitRegistrationRequest {
    const NAME: &'static str = "SubmitRequest";

    /// Parses a submit body with the server's rules, reporting every problem at once: only
    /// `provider`, `target_role` (both required) and `provider_data` (an object; `null` is
    /// absent). Whether the provider accepts the role is the server's schema to check.
    fn from_body(body: &Map<String, Value>) -> Result<Self, Vec<FailureReason>> {
        let mut f = BodyFields::new(body);
        f.only(&["provider", "target_role", "provider_data"]);
        let provider = f.required("provider", Provider::parse);
        let target_role = f.required("target_role", TargetRole::parse);
        let provider_data = f.object("provider_data");
        let reasons = f.reasons;
        match (provider, target_role) {
            (Some(provider), Some(target_role)) if reasons.is_empty() => Ok(Self {
                provider,
                target_role,
                provider_data,
            }),
            _ => Err(reasons),
        }
    }

    #[cfg(feature = "openapi")]
    fn schema() -> Value {
        use crate::openapi::{nullable, reference};
        serde_json::json!({"type": "object", "required": ["provider", "target_role"], "additionalProperties": false,
            "properties": {"provider": reference("Provider"), "target_role": reference("TargetRole"),
                "provider_data": nullable(serde_json::json!({"type": "object"}))}})
    }
}

deserialize_via_from_body!(SubmitRegistrationRequest);

impl FromBody for PlatformRequest {
    const NAME: &'static str = "PlatformRequest";

    /// Parses a populate-platform body with the server's rules, reporting every problem at
    /// once: `provider` and `target_role` required; every other key is provider data.
    fn from_body(body: &Map<String, Value>) -> Result<Self, Vec<FailureReason>> {
        let mut f = BodyFields::new(body);
        let provider = f.required("provider", Provider::parse);
        let target_role = f.required("target_role", TargetRole::parse);
        let reasons = f.reasons;
        match (provider, target_role) {
            (Some(provider), Some(target_role)) if reasons.is_empty() => Ok(Self {
                provider,
                target_role,
                extra: body
                    .iter()
                    .filter(|(k, _)| *k != "provider" && *k != "target_role")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            }),
            _ => Err(reasons),
        }
    }

    #[cfg(feature = "openapi")]
    fn schema() -> Value {
        use crate::openapi::reference;
        serde_json::json!({"type": "object", "required": ["provider", "target_role"],
            "properties": {"provider": reference("Provider"), "target_role": reference("TargetRole")},
            "additionalProperties": true})
    }
}

deserialize_via_from_body!(PlatformRequest);

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::envelope::ReasonCode;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    fn messages(r: &[FailureReason]) -> Vec<&str> {
        r.iter().map(|r| r.message.as_str()).collect()
    }

    #[test]
    fn what_the_sdk_sends_parses_back() {
        let sub = SubmitRegistrationRequest::new(Provider::Stripe, TargetRole::ConnectedAccount)
            .with("account_type", "express");
        let sent = serde_json::to_value(&sub).expect("json");
        assert_eq!(
            SubmitRegistrationRequest::from_body(&obj(sent.clone())),
            Ok(sub.clone())
        );
        assert_eq!(
            serde_json::from_value::<SubmitRegistrationRequest>(sent).expect("ok"),
            sub
        );
        let plain = SubmitRegistrationRequest::new(Provider::Bridge, TargetRole::Customer);
        let sent = obj(serde_json::to_value(&plain).expect("json"));
        assert_eq!(SubmitRegistrationRequest::from_body(&sent), Ok(plain));

        let pr = PlatformRequest::new(Provider::Stripe, TargetRole::Customer).with("k", json!([1]));
        let sent = serde_json::to_value(&pr).expect("json");
        assert_eq!(
            PlatformRequest::from_body(&obj(sent.clone())),
            Ok(pr.clone())
        );
        assert_eq!(
            serde_json::from_value::<PlatformRequest>(sent).expect("ok"),
            pr
        );
    }

    #[test]
    fn submit_reports_every_problem() {
        let err = SubmitRegistrationRequest::from_body(&obj(
            json!({"extra": 1, "provider": 5, "target_role": "admin", "provider_data": "x"}),
        ))
        .expect_err("bad");
        let m = messages(&err);
        assert_eq!(m.len(), 4, "{m:?}");
        assert_eq!(m[0], "extra is not a known field");
        assert_eq!(m[1], "provider must be a string");
        assert!(m[2].starts_with("target_role: \"admin\" is not a valid target_role; allowed:"));
        assert_eq!(m[3], "provider_data must be a JSON object");
        let err = SubmitRegistrationRequest::from_body(&obj(json!({"provider": null})))
            .expect_err("missing");
        assert_eq!(
            messages(&err),
            ["provider is required", "target_role is required"]
        );
        assert!(err
            .iter()
            .all(|r| r.code == ReasonCode::MissingRequiredInformation));
        let ok = SubmitRegistrationRequest::from_body(&obj(
            json!({"provider": "STRIPE", "target_role": "customer", "provider_data": null}),
        ))
        .expect("ok");
        assert_eq!(ok.provider_data, None);
        let err = serde_json::from_value::<SubmitRegistrationRequest>(json!({"provider": "x"}))
            .expect_err("bad");
        assert!(err.to_string().contains("target_role is required"), "{err}");
    }

    #[test]
    fn populate_keeps_other_keys_as_provider_data() {
        let err = PlatformRequest::from_body(&obj(json!({"target_role": "nope", "k": 1})))
            .expect_err("bad");
        assert_eq!(err.len(), 2);
        assert_eq!(err[0].message, "provider is required");
        assert!(err[1].message.starts_with("target_role: \"nope\""));
    }
}

//! The `sync` body (§4.5) and its parser.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::enums::{Provider, SyncField, UnknownValue};
use crate::envelope::{FailureReason, ReasonCode};
use crate::requests::parse::{deserialize_via_from_body, done, BodyFields};
use crate::requests::FromBody;

/// Providers a customer can be synced to.
pub const SYNCABLE_PROVIDERS: [Provider; 6] = [
    Provider::Stripe,
    Provider::Bridge,
    Provider::PagarMe,
    Provider::Brla,
    Provider::Avenia,
    Provider::MercadoPago,
];

/// Body of `sync` (`POST /api/v1/customers/{id}/sync`, contract §4.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncRequest {
    /// Exactly one of `stripe`, `bridge`, `pagar_me`, `brla`, `avenia`, `mercado_pago`.
    pub providers: Vec<Provider>,
    /// The fields to push (non-empty).
    pub fields: Vec<SyncField>,
}

impl SyncRequest {
    /// Sync `fields` to one `provider`.
    pub fn new(provider: Provider, fields: impl IntoIterator<Item = SyncField>) -> Self {
        Self {
            providers: vec![provider],
            fields: fields.into_iter().collect(),
        }
    }

    /// The one provider to sync to (a parsed request has exactly one).
    pub fn provider(&self) -> Option<Provider> {
        self.providers.first().copied()
    }
}

impl FromBody for SyncRequest {
    const NAME: &'static str = "SyncRequest";

    /// Parses a sync body with the server's rules. Unknown keys are refused first, on their
    /// own; then `providers` and `fields` (non-empty arrays of strings, repeats kept once) are
    /// read, every problem reported at once; only when both are well-formed are "exactly one
    /// provider", "a provider that can be synced" and "at least one field" checked.
    fn from_body(body: &Map<String, Value>) -> Result<Self, Vec<FailureReason>> {
        let mut f = BodyFields::new(body);
        f.only(&["providers", "fields"]);
        f.finish()?;
        let mut reasons = Vec::new();
        let providers = string_list(body, "providers", Provider::parse, &mut reasons);
        let fields = string_list(body, "fields", SyncField::parse, &mut reasons);
        if reasons.is_empty() {
            if providers.len() != 1 {
                reasons.push(FailureReason::invalid(
                    "providers",
                    "providers must name exactly one provider",
                ));
            } else if !SYNCABLE_PROVIDERS.contains(&providers[0]) {
                let allowed: Vec<&str> = SYNCABLE_PROVIDERS.iter().map(Provider::as_str).collect();
                reasons.push(FailureReason::invalid(
                    "providers",
                    format!(
                        "{} cannot be synced; allowed: {}",
                        providers[0],
                        allowed.join(", ")
                    ),
                ));
            }
            if fields.is_empty() {
                reasons.push(FailureReason::invalid(
                    "fields",
                    "fields must name at least one field",
                ));
            }
        }
        done(Self { providers, fields }, reasons)
    }

    #[cfg(feature = "openapi")]
    fn schema() -> Value {
        use crate::openapi::{names, one_of};
        serde_json::json!({"type": "object", "required": ["providers", "fields"], "additionalProperties": false,
            "properties": {
            "providers": {"type": "array", "minItems": 1, "maxItems": 1,
                "items": one_of(&names(&SYNCABLE_PROVIDERS))},
            "fields": {"type": "array", "minItems": 1, "items": one_of(&names(SyncField::ALL))}}})
    }
}

deserialize_via_from_body!(SyncRequest);

/// Reads a JSON array of closed-vocabulary strings, reporting problems under `key`.
fn string_list<T: PartialEq>(
    body: &Map<String, Value>,
    key: &str,
    parse: impl Fn(&str) -> Result<T, UnknownValue>,
    reasons: &mut Vec<FailureReason>,
) -> Vec<T> {
    let Some(Value::Array(items)) = body.get(key) else {
        let code = if body.contains_key(key) {
            ReasonCode::InvalidInput
        } else {
            ReasonCode::MissingRequiredInformation
        };
        reasons.push(FailureReason::new(
            code,
            format!("{key} must be a non-empty array of strings"),
            &[key],
        ));
        return vec![];
    };
    let mut out = Vec::new();
    for item in items {
        match item.as_str().map(&parse) {
            Some(Ok(v)) if !out.contains(&v) => out.push(v),
            Some(Ok(_)) => {}
            Some(Err(e)) => reasons.push(FailureReason::invalid(key, format!("{key}: {e}"))),
            None => reasons.push(FailureReason::invalid(
                key,
                format!("{key} must contain strings"),
            )),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<SyncRequest, Vec<FailureReason>> {
        SyncRequest::from_body(v.as_object().expect("object"))
    }

    fn messages(r: &[FailureReason]) -> Vec<&str> {
        r.iter().map(|r| r.message.as_str()).collect()
    }

    #[test]
    fn what_the_sdk_sends_parses_back() {
        let req = SyncRequest::new(Provider::Bridge, [SyncField::Shipping, SyncField::Phone]);
        let sent = serde_json::to_value(&req).expect("json");
        assert_eq!(parse(sent.clone()), Ok(req.clone()));
        assert_eq!(
            serde_json::from_value::<SyncRequest>(sent).expect("ok"),
            req
        );
        assert_eq!(req.provider(), Some(Provider::Bridge));
        let repeated =
            parse(json!({"providers": ["STRIPE", "stripe"], "fields": ["email", "email"]}));
        assert_eq!(
            repeated,
            Ok(SyncRequest::new(Provider::Stripe, [SyncField::Email]))
        );
    }

    #[test]
    fn unknown_keys_are_reported_alone_first() {
        let err = parse(json!({"providers": 1, "extra": true, "more": 2})).expect_err("bad");
        assert_eq!(
            messages(&err),
            ["extra is not a known field", "more is not a known field"]
        );
    }

    #[test]
    fn both_lists_are_reported_at_once() {
        let err = parse(json!({"providers": "stripe", "fields": [1, "nope"]})).expect_err("bad");
        assert_eq!(err.len(), 3);
        assert_eq!(
            err[0].message,
            "providers must be a non-empty array of strings"
        );
        assert_eq!(err[0].code, ReasonCode::InvalidInput);
        assert_eq!(err[1].message, "fields must contain strings");
        assert!(err[2]
            .message
            .starts_with("fields: \"nope\" is not a valid sync field"));
        let err = parse(json!({})).expect_err("missing");
        assert!(err
            .iter()
            .all(|r| r.code == ReasonCode::MissingRequiredInformation));
        assert_eq!(err.len(), 2);
    }

    #[test]
    fn count_syncability_and_emptiness() {
        let err = parse(json!({"providers": ["stripe", "bridge"], "fields": []})).expect_err("bad");
        assert_eq!(
            messages(&err),
            [
                "providers must name exactly one provider",
                "fields must name at least one field"
            ]
        );
        let err = parse(json!({"providers": ["konduto"], "fields": ["email"]})).expect_err("bad");
        assert_eq!(
            messages(&err),
            ["konduto cannot be synced; allowed: stripe, bridge, pagar_me, brla, avenia, mercado_pago"]
        );
        assert!(
            serde_json::from_value::<SyncRequest>(json!({"providers": [], "fields": []})).is_err()
        );
    }
}

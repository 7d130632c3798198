//! [`FromBody`]: one parser per request body, shared by the server (which answers 422 with its
//! reasons) and the SDK, and — with the `openapi` feature — the body's JSON Schema beside it,
//! so the type, the parser and the description of a body live in one place. Also the bodies
//! that have no other home: the token grant, the webhook endpoint writes, the sandbox helpers.

use serde_json::{Map, Value};

use super::parse::BodyFields;
use crate::balance::BUCKETS;
use crate::enums::{DocumentsState, Provider, RegistrationStatus, TargetRole};
use crate::envelope::{FailureReason, ReasonCode};
use crate::events::EventKind;
use crate::webhooks::{RegisterWebhookRequest, UpdateWebhookRequest};
use crate::TokenRequest;

/// A JSON request body: read from the object the client sent with the server's rules,
/// reporting every problem at once.
pub trait FromBody: Sized {
    /// Its name in the API description (`#/components/schemas/<NAME>`).
    const NAME: &'static str;

    /// Parses `body`, or every reason it is refused.
    fn from_body(body: &Map<String, Value>) -> Result<Self, Vec<FailureReason>>;

    /// Its JSON Schema, exactly as strict as [`from_body`](Self::from_body).
    #[cfg(feature = "openapi")]
    fn schema() -> Value;
}

/// A required non-empty string, or its reason.
fn text(body: &Map<String, Value>, name: &str, reasons: &mut Vec<FailureReason>) -> Option<String> {
    match body.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::String(_)) | None => {
            reasons.push(FailureReason::new(
                ReasonCode::MissingRequiredInformation,
                format!("{name} is required"),
                &[name],
            ));
            None
        }
        Some(_) => {
            reasons.push(FailureReason::invalid(
                name,
                format!("{name} must be a string"),
            ));
            None
        }
    }
}

impl FromBody for TokenRequest {
    const NAME: &'static str = "TokenRequest";

    /// `client_id`, `client_secret` (non-empty strings) and `grant_type`
    /// (`client_credentials`), nothing else.
    fn from_body(body: &Map<String, Value>) -> Result<Self, Vec<FailureReason>> {
        const FIELDS: [&str; 3] = ["client_id", "client_secret", "grant_type"];
        let mut reasons = Vec::new();
        for key in body.keys().filter(|k| !FIELDS.contains(&k.as_str())) {
            reasons.push(FailureReason::invalid(
                key,
                format!("{key} is not a known field"),
            ));
        }
        let client_id = text(body, "client_id", &mut reasons);
        let client_secret = text(body, "client_secret", &mut reasons);
        let grant_type = text(body, "grant_type", &mut reasons);
        if grant_type
            .as_deref()
            .is_some_and(|g| g != "client_credentials")
        {
            reasons.push(FailureReason::invalid(
                "grant_type",
                "grant_type must be \"client_credentials\"",
            ));
        }
        match (client_id, client_secret, grant_type) {
            (Some(client_id), Some(client_secret), Some(grant_type)) if reasons.is_empty() => {
                Ok(TokenRequest {
                    client_id,
                    client_secret,
                    grant_type,
                })
            }
            _ => Err(reasons),
        }
    }

    #[cfg(feature = "openapi")]
    fn schema() -> Value {
        serde_json::json!({"type": "object", "required": ["client_id", "client_secret", "grant_type"],
            "additionalProperties": false, "properties": {
            "client_id": {"type": "string", "minLength": 1}, "client_secret": {"type": "string", "minLength": 1},
            "grant_type": {"const": "client_credentials"}}})
    }
}

/// `event_types`: absent (`None`), `null` (every event, `Some(None)`) or a non-empty array of
/// event names (repeats kept once).
fn event_types(
    body: &Map<String, Value>,
    reasons: &mut Vec<FailureReason>,
) -> Option<Option<Vec<String>>> {
    let items = match body.get("event_types")? {
        Value::Null => return Some(None),
        Value::Array(items) if !items.is_empty() => items,
        _ => {
            reasons.push(FailureReason::invalid(
                "event_types",
                "event_types must be null or a non-empty array of event names",
            ));
            return None;
        }
    };
    let mut out: Vec<String> = Vec::new();
    for item in items {
        match item.as_str() {
            Some(name) if EventKind::parse(name).is_ok() => {
                if !out.iter().any(|n| n == name) {
                    out.push(name.to_owned());
                }
            }
            Some(name) => reasons.push(FailureReason::invalid(
                "event_types",
                format!("event_types: {name} is not an event name"),
            )),
            None => reasons.push(FailureReason::invalid(
                "event_types",
                "event_types must contain strings",
            )),
        }
    }
    Some(Some(out))
}

impl UpdateWebhookRequest {
    /// Reads a register (`url_required`) or update body, with `check_url` — the server's rule
    /// for the merchant (scheme, host), or none — judging the URL beside the other fields, so
    /// every problem of the second pass is reported together.
    pub fn read_with(
        body: &Map<String, Value>,
        url_required: bool,
        check_url: impl Fn(&str) -> Result<String, String>,
    ) -> Result<Self, Vec<FailureReason>> {
        let mut f = BodyFields::new(body);
        f.only(&["url", "description", "event_types"]);
        let as_text = |s: &str| Ok::<_, crate::UnknownValue>(s.to_owned());
        let url = if url_required {
            f.required("url", as_text)
        } else {
            f.optional("url", as_text)
        };
        let description = f.nullable_text("description");
        f.finish()?;
        let mut reasons = Vec::new();
        let event_types = event_types(body, &mut reasons);
        let url = match url.map(|u| check_url(&u)) {
            Some(Ok(u)) => Some(u),
            Some(Err(message)) => {
                reasons.push(FailureReason::invalid("url", message));
                None
            }
            None => None,
        };
        if !reasons.is_empty() {
            return Err(reasons);
        }
        Ok(UpdateWebhookRequest {
            url,
            description,
            event_types,
        })
    }

    #[cfg(feature = "openapi")]
    fn schema_of(url_required: bool) -> Value {
        use crate::openapi::nullable;
        let kinds: Vec<String> = EventKind::all().map(|k| k.as_str().to_owned()).collect();
        let event_types = nullable(
            serde_json::json!({"type": "array", "minItems": 1, "items": crate::openapi::one_of(&kinds)}),
        );
        let url = serde_json::json!({"type": "string", "format": "uri", "pattern": "^https?://[^\\s/?#]+"});
        let description = nullable(serde_json::json!({"type": "string"}));
        if url_required {
            serde_json::json!({"type": "object", "required": ["url"], "additionalProperties": false,
                "properties": {"url": url, "description": description, "event_types": event_types}})
        } else {
            serde_json::json!({"type": "object", "additionalProperties": false,
                "properties": {"url": nullable(url), "description": description, "event_types": event_types}})
        }
    }
}

impl FromBody for RegisterWebhookRequest {
    const NAME: &'static str = "WebhookRegister";

    /// `url` (required), `description` and `event_types` (each `null` or a value).
    fn from_body(body: &Map<String, Value>) -> Result<Self, Vec<FailureReason>> {
        let w = UpdateWebhookRequest::read_with(body, true, |u| Ok(u.to_owned()))?;
        Ok(RegisterWebhookRequest {
            url: w.url.unwrap_or_default(),
            description: w.description.flatten(),
            event_types: w.event_types.flatten(),
        })
    }

    #[cfg(feature = "openapi")]
    fn schema() -> Value {
        UpdateWebhookRequest::schema_of(true)
    }
}

impl FromBody for UpdateWebhookRequest {
    const NAME: &'static str = "WebhookUpdate";

    fn from_body(body: &Map<String, Value>) -> Result<Self, Vec<FailureReason>> {
        UpdateWebhookRequest::read_with(body, false, |u| Ok(u.to_owned()))
    }

    #[cfg(feature = "openapi")]
    fn schema() -> Value {
        UpdateWebhookRequest::schema_of(false)
    }
}

/// The sandbox helper's body (contract §7): the status the provider reports, and optionally
/// a rejection reason, the documents' state and manual review.
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxStatusRequest {
    /// The registration's new status.
    pub status: RegistrationStatus,
    /// `Some(None)` clears it.
    pub rejection_reason: Option<Option<String>>,
    /// The documents' state.
    pub documents: Option<DocumentsState>,
    /// Whether a person reviews it.
    pub manual_review: Option<bool>,
}

impl FromBody for SandboxStatusRequest {
    const NAME: &'static str = "SandboxStatusRequest";

    fn from_body(body: &Map<String, Value>) -> Result<Self, Vec<FailureReason>> {
        let mut f = BodyFields::new(body);
        f.only(&["status", "rejection_reason", "documents", "manual_review"]);
        let status = f.required("status", RegistrationStatus::parse);
        let rejection_reason = f.nullable_text("rejection_reason");
        let documents = f.optional("documents", DocumentsState::parse);
        let manual_review = f.boolean("manual_review");
        f.finish()?;
        let Some(status) = status else {
            return Err(vec![FailureReason::invalid("status", "status is required")]);
        };
        Ok(SandboxStatusRequest {
            status,
            rejection_reason,
            documents,
            manual_review,
        })
    }

    #[cfg(feature = "openapi")]
    fn schema() -> Value {
        use crate::openapi::{names, nullable, one_of, reference};
        serde_json::json!({"type": "object", "required": ["status"], "additionalProperties": false,
            "properties": {"status": reference("RegistrationStatus"),
                "rejection_reason": nullable(serde_json::json!({"type": "string"})),
                "documents": nullable(one_of(&names(DocumentsState::ALL))),
                "manual_review": nullable(serde_json::json!({"type": "boolean"}))}})
    }
}

/// The sandbox ledger helper's body: one entry on a registration's account.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEntryRequest {
    /// The registration's provider.
    pub provider: Provider,
    /// The registration's role.
    pub role: TargetRole,
    /// ISO 4217, lowercase.
    pub currency: String,
    /// One of [`BUCKETS`].
    pub bucket: String,
    /// In the currency's minor unit (may be negative).
    pub amount: i64,
}

impl FromBody for LedgerEntryRequest {
    const NAME: &'static str = "LedgerEntryRequest";

    fn from_body(body: &Map<String, Value>) -> Result<Self, Vec<FailureReason>> {
        let mut f = BodyFields::new(body);
        f.only(&["provider", "role", "currency", "bucket", "amount"]);
        let provider = f.required("provider", Provider::parse);
        let role = f.required("role", TargetRole::parse);
        f.finish()?;
        let mut reasons = Vec::new();
        let currency = match body.get("currency").and_then(Value::as_str) {
            Some(c) => crate::currencies::currency(c)
                .map_err(|m| {
                    reasons.push(FailureReason::invalid("currency", format!("currency {m}")))
                })
                .ok(),
            None => {
                reasons.push(FailureReason::new(
                    ReasonCode::MissingRequiredInformation,
                    "currency is required",
                    &["currency"],
                ));
                None
            }
        };
        let bucket = body
            .get("bucket")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
            .filter(|b| BUCKETS.contains(&b.as_str()));
        if bucket.is_none() {
            reasons.push(FailureReason::invalid(
                "bucket",
                format!("bucket must be one of: {}", BUCKETS.join(", ")),
            ));
        }
        let amount = body.get("amount").and_then(Value::as_i64);
        if amount.is_none() {
            reasons.push(FailureReason::invalid(
                "amount",
                "amount must be an integer in the currency's minor unit",
            ));
        }
        match (provider, role, currency, bucket, amount) {
            (Some(provider), Some(role), Some(currency), Some(bucket), Some(amount))
                if reasons.is_empty() =>
            {
                Ok(LedgerEntryRequest {
                    provider,
                    role,
                    currency,
                    bucket,
                    amount,
                })
            }
            _ => Err(reasons),
        }
    }

    #[cfg(feature = "openapi")]
    fn schema() -> Value {
        use crate::openapi::{names, one_of, reference};
        serde_json::json!({"type": "object", "additionalProperties": false,
            "required": ["provider", "role", "currency", "bucket", "amount"],
            "properties": {"provider": reference("Provider"), "role": reference("TargetRole"),
                "currency": one_of(&names(&crate::currencies::ISO_4217)),
                "bucket": {"type": "string", "pattern": format!("(?i)^({})$", BUCKETS.join("|"))},
                "amount": {"type": "integer", "description": "in the currency's minor unit"}}})
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn the_token_grant_reports_every_problem_at_once() {
        let reasons =
            TokenRequest::from_body(&map(json!({"client_id": "", "grant_type": "password",
            "scope": "x"})))
            .unwrap_err();
        let fields: Vec<&str> = reasons.iter().map(|r| r.fields[0].as_str()).collect();
        assert_eq!(
            fields,
            ["scope", "client_id", "client_secret", "grant_type"]
        );
        let ok = TokenRequest::from_body(&map(json!({"client_id": "a", "client_secret": "b",
            "grant_type": "client_credentials"})))
        .unwrap();
        assert_eq!(ok.client_id, "a");
    }

    #[test]
    fn webhook_writes_and_sandbox_bodies() {
        let w = UpdateWebhookRequest::from_body(&map(json!({"url": "https://x.example/h",
            "event_types": ["customer.created", "customer.created"], "description": null})))
        .unwrap();
        assert_eq!(
            w.event_types,
            Some(Some(vec!["customer.created".to_owned()]))
        );
        assert_eq!(w.description, Some(None));
        // The SDK's body and the server's reading agree, nulls included.
        assert_eq!(
            serde_json::to_value(&w).unwrap()["description"],
            Value::Null
        );
        assert!(RegisterWebhookRequest::from_body(&map(json!({}))).is_err());
        assert_eq!(
            UpdateWebhookRequest::from_body(&map(json!({}))).unwrap(),
            UpdateWebhookRequest::default()
        );
        let s = SandboxStatusRequest::from_body(&map(json!({"status": "APPROVED"}))).unwrap();
        assert_eq!(s.status, RegistrationStatus::Approved);
        let reasons = LedgerEntryRequest::from_body(&map(json!({"provider": "stripe",
            "role": "customer", "currency": "usd", "bucket": "nope"})))
        .unwrap_err();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
    }
}

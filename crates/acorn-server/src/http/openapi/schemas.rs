//! The document's component schemas, generated from the same tables the server validates
//! with — the customer field specs and the closed vocabularies — so they cannot drift.

use acorn_types::customer::{FieldKind, READ_ONLY_FIELDS, WRITABLE_FIELDS};
use acorn_types::{
    CustomerStatus, DocumentsState, FileType, Provider, RegistrationStatus, TargetRole,
};
use serde_json::{json, Map, Value};

use acorn_types::openapi::{field_schema, names, nullable, one_of, reference as r};

fn strings<T: std::fmt::Display>(all: &[T]) -> Value {
    json!(all.iter().map(ToString::to_string).collect::<Vec<_>>())
}

/// A closed vocabulary's schema as `acorn-types` defines it (its `openapi` feature).
fn vocabulary<T: utoipa::PartialSchema>() -> Value {
    serde_json::to_value(T::schema()).unwrap_or_else(|_| json!({"type": "string"}))
}

fn customer() -> Value {
    let mut props: Map<String, Value> = WRITABLE_FIELDS
        .iter()
        .map(|f| (f.name.to_owned(), nullable(field_schema(f.kind))))
        .collect();
    props.insert("email".into(), field_schema(FieldKind::Email));
    for name in READ_ONLY_FIELDS {
        let schema = match *name {
            "status" => json!({"type": "string", "enum": strings(CustomerStatus::ALL)}),
            "platforms" => json!({"type": "array", "items": r("Platform")}),
            "synced" => nullable(json!({"type": "boolean"})),
            "version" => json!({"type": "integer", "minimum": 1}),
            "id" | "customer_id" | "created_at" | "updated_at" => json!({"type": "string"}),
            _ => nullable(json!({"type": "string"})),
        };
        props.insert((*name).to_owned(), schema);
    }
    let required: Vec<String> = props.keys().cloned().collect();
    // Added by the HTTP layer to every object of an answer (contract §13), not a stored field.
    props.insert("livemode".into(), livemode());
    json!({"type": "object", "properties": props, "required": required})
}

/// `livemode`: whether the merchant that owns the object is live (contract §13).
fn livemode() -> Value {
    json!({"type": "boolean", "description": "true for a live merchant's object, false for a sandbox merchant's"})
}

fn sync_attempt() -> Value {
    json!({"type": "object", "required": ["id", "customer_id", "provider", "fields", "status"],
        "properties": {"id": {"type": "string"}, "customer_id": {"type": "string"},
            "provider": r("Provider"), "fields": {"type": "array", "items": {"type": "string"}},
            "status": {"type": "string"}, "attempts": {"type": "integer"}, "max_attempts": {"type": "integer"},
            "next_attempt_at": nullable(json!({"type": "string"})), "last_error": nullable(json!({"type": "string"})),
            "created_at": {"type": "string"}, "updated_at": {"type": "string"},
            "completed_at": nullable(json!({"type": "string"}))}})
}

fn main_schemas() -> Value {
    let envelope = |data: Value| json!({"type": "object", "properties": {"msg": {"type": "string"}, "data": data}, "required": ["msg", "data"]});
    let registration = json!({"type": "object", "properties": {
        "id": {"type": "string"}, "provider": r("Provider"), "target_role": r("TargetRole"), "status": r("RegistrationStatus"),
        "provider_customer_id": nullable(json!({"type": "string"})), "provider_data": nullable(json!({"type": "object"})),
        "provider_response": {}, "rejection_reason": nullable(json!({"type": "string"})), "readiness": {}, "failure_reasons": {},
        "changes": {}, "action_required": {"type": "boolean"}, "documents": {"type": "string", "enum": strings(DocumentsState::ALL)},
        "manual_review": {"type": "boolean"}, "missing_fields": {"type": "array", "items": {"type": "string"}},
        "created_at": {"type": "string"}, "updated_at": {"type": "string"}, "livemode": livemode()}});
    let total = json!({"type": "object", "properties": {"currency": {"type": "string"}, "available": {"type": "integer"},
        "pending": {"type": "integer"}, "reserved": {"type": "integer"}, "instant_payouts": {"type": "integer"}}});
    let batch_envelope = envelope(
        json!({"type": "object", "properties": {"results": {"type": "array",
        "items": {"type": "object", "properties": {"status": {"type": "integer"}, "replayed": {"type": "boolean"},
            "body": {"description": "the envelope POST /api/v1/customers would have answered"}}}}}}),
    );
    json!({
        "Provider": vocabulary::<Provider>(),
        "TargetRole": vocabulary::<TargetRole>(),
        "RegistrationStatus": vocabulary::<RegistrationStatus>(),
        "CustomerStatus": {"type": "string", "enum": strings(CustomerStatus::ALL)},
        "FailureReason": {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"},
            "fields": {"type": "array", "items": {"type": "string"}}, "deadline": {}, "provider_code": {},
            "requires_manual_review": {"type": "boolean"}, "support_reference": nullable(json!({"type": "string"}))}},
        "ErrorEnvelope": {"type": "object", "required": ["msg", "error_code", "failure_reasons", "data"], "properties": {
            "msg": {"type": "string"}, "error_code": {"type": "string"},
            "failure_reasons": {"type": "array", "items": r("FailureReason")}, "data": {"type": "null"}}},
        "TokenResponse": {"type": "object", "properties": {"access_token": {"type": "string"}, "token_type": {"const": "Bearer"},
            "expires_in": {"type": "integer", "description": "seconds"}, "livemode": livemode()}},
        "Customer": customer(),
        "CustomerEnvelope": envelope(r("Customer")),
        "CustomerListEnvelope": envelope(json!({"type": "object", "properties": {"count": {"type": "integer"},
            "customer_list": {"type": "array", "items": r("Customer")}, "has_more": {"type": "boolean"}}})),
        "Platform": {"type": "object", "properties": {"provider": r("Provider"), "target_role": r("TargetRole"),
            "status": r("RegistrationStatus"), "provider_customer_id": nullable(json!({"type": "string"})),
            "action_required": {"type": "boolean"}, "readiness": {}, "failure_reasons": {}}},
        "Registration": registration,
        "RegistrationsEnvelope": envelope(json!({"type": "array", "items": r("Registration")})),
        "RegistrationEnvelope": envelope(r("Registration")),
        "NullEnvelope": envelope(json!({"type": "null"})),
        "BalancesEnvelope": envelope(json!({"type": "object", "properties": {"as_of": {"type": "string"}, "filters": {"type": "object"},
            "balances": {"type": "array", "items": {"type": "object", "properties": {"account_id": {"type": "string"},
                "provider": r("Provider"), "customer": {"type": "object"}, "as_of": {"type": "string"},
                "totals": {"type": "array", "items": total}}}}}})),
        "FilesEnvelope": envelope(json!({"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "string"}, "fileType": {"type": "string", "enum": strings(FileType::ALL)},
            "file_type": {"type": "string", "enum": strings(FileType::ALL)}, "name": {"type": "string"},
            "content_type": {"type": "string"}, "size": {"type": "integer"}, "sha256": {"type": "string"},
            "url": {"type": "string"}, "created_at": {"type": "string"}}}})),
        "CustomerBatchEnvelope": batch_envelope,
    })
}

/// The request bodies of the sandbox helpers and uploads, and the remaining envelopes.
fn more_schemas() -> Value {
    let envelope = |data: Value| json!({"type": "object", "properties": {"msg": {"type": "string"}, "data": data}, "required": ["msg", "data"]});
    json!({
        "SyncAttemptsEnvelope": envelope(json!({"type": "array", "items": sync_attempt()})),
        "SchemaEnvelope": envelope(json!({"type": "object", "required": ["schema"],
            "properties": {"schema": {"type": "object"}}})),
        "EventsEnvelope": envelope(json!({"type": "object", "required": ["event_list", "has_more"],
            "properties": {"has_more": {"type": "boolean"}, "event_list": {"type": "array", "items": {
                "type": "object", "required": ["id", "event", "category", "data", "created_at"],
                "properties": {"id": {"type": "string"}, "api_version": {"type": "string"},
                    "event": {"type": "string"}, "category": {"type": "string"}, "data": {},
                    "created_at": {"type": "string"}}}}}})),
        "LedgerEntryEnvelope": envelope(json!({"type": "object"})),
        "Health": {"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}},
        "FileUpload": {"type": "object", "required": ["file_type", "file"], "additionalProperties": false, "properties": {
            "file_type": one_of(&names(FileType::ALL)),
            "file": {"type": "array", "minItems": 1, "maxItems": crate::adapters::files::MAX_FILES,
                "items": {"type": "string", "contentMediaType": "application/octet-stream"}}}},
        "MetricsText": {"type": "string", "description": "Prometheus text exposition format 0.0.4"},
    })
}

/// Webhook endpoints and notifications (contract §9, the official SDK's `WebhookService`), and
/// Stripe's own events.
fn webhook_schemas() -> Value {
    let envelope = |data: Value| json!({"type": "object", "properties": {"msg": {"type": "string"}, "data": data}, "required": ["msg", "data"]});
    let endpoint = json!({"type": "object", "required": ["id", "url", "is_active"], "properties": {
        "id": {"type": "string"}, "url": {"type": "string"}, "description": nullable(json!({"type": "string"})),
        "is_active": {"type": "boolean"}, "event_types": nullable(json!({"type": "array", "items": {"type": "string"}})),
        "secret": {"type": "string"}}});
    let notification = json!({"type": "object", "required": ["id", "event", "status"], "properties": {
        "id": {"type": "string"}, "is_acknowledged": {"type": "boolean"}, "event": {"type": "string"},
        "category": {"type": "string"}, "data": {}, "status": {"type": "string", "enum": ["pending", "delivered", "dead_lettered"]},
        "webhook_id": {"type": "string"}, "delivery_attempts": {"type": "array", "items": {"type": "object"}},
        "created_at": {"type": "string"}, "updated_at": {"type": "string"}}});
    json!({
        "WebhookEnvelope": envelope(endpoint.clone()),
        "WebhooksEnvelope": envelope(json!({"type": "array", "items": endpoint})),
        "WebhookDeletedEnvelope": envelope(json!({"type": "object", "required": ["success"], "properties": {"success": {"const": true}}})),
        "NotificationsEnvelope": envelope(json!({"type": "object", "required": ["count", "notification_list"], "properties": {
            "count": {"type": "integer", "minimum": 0}, "notification_list": {"type": "array", "items": notification.clone()}}})),
        "NotificationEnvelope": envelope(notification),
        "StripeEvent": {"type": "object", "description": "A Stripe event object, exactly as Stripe sent it"},
        "StripeWebhookEnvelope": envelope(json!({"type": "object"})),
        "CustomerDeletedEnvelope": envelope(json!({"type": "object", "required": ["id", "deleted"],
            "properties": {"id": {"type": "string"}, "deleted": {"const": true}}})),
    })
}

/// Every component schema, by name.
pub(super) fn schemas() -> Value {
    let mut all = main_schemas();
    for more in [more_schemas(), webhook_schemas()] {
        if let (Some(all), Value::Object(more)) = (all.as_object_mut(), more) {
            all.extend(more);
        }
    }
    // The JSON request bodies: each the type the server parses, with its own schema.
    if let Some(all) = all.as_object_mut() {
        for (name, schema) in acorn_types::openapi::body_schemas() {
            all.insert(name.to_owned(), schema);
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> Value {
        json!({"components": {"schemas": schemas()}})
    }

    #[test]
    fn every_reference_resolves() {
        let doc = document();
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        for part in text.split("#/components/schemas/").skip(1) {
            let name: String = part.chars().take_while(|c| c.is_alphanumeric()).collect();
            assert!(schemas.contains_key(&name), "dangling $ref {name}");
        }
    }

    #[test]
    fn customer_schema_follows_the_field_table() {
        let doc = document();
        let write = &doc["components"]["schemas"]["CustomerWrite"]["properties"];
        assert_eq!(
            write.as_object().map(|m| m.len()),
            Some(WRITABLE_FIELDS.len())
        );
        assert!(write.get("status").is_none());
        let read = &doc["components"]["schemas"]["Customer"]["properties"];
        assert!(read.get("platforms").is_some() && read.get("email").is_some());
    }
}

//! `GET /openapi.json`: the OpenAPI 3.1 description of the API (contract §10), generated from
//! the same tables the server validates with — the customer field specs and the closed
//! vocabularies — so the document cannot drift from the behaviour.

use acorn_types::customer::{FieldKind, READ_ONLY_FIELDS, WRITABLE_FIELDS};
use acorn_types::{
    CustomerStatus, DocumentType, DocumentsState, FileType, Gender, Provider, RegistrationStatus,
    SyncField, TargetRole,
};
use axum::Json;
use serde_json::{json, Map, Value};

fn strings<T: std::fmt::Display>(all: &[T]) -> Value {
    json!(all.iter().map(ToString::to_string).collect::<Vec<_>>())
}

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn nullable(schema: Value) -> Value {
    json!({"anyOf": [schema, {"type": "null"}]})
}

fn field_schema(kind: FieldKind) -> Value {
    match kind {
        FieldKind::Text => json!({"type": "string", "minLength": 1, "maxLength": 255}),
        FieldKind::Email => json!({"type": "string", "format": "email", "maxLength": 254}),
        FieldKind::DocumentType => json!({"type": "string", "enum": strings(DocumentType::ALL)}),
        FieldKind::PastDate => json!({"type": "string", "format": "date"}),
        FieldKind::PhoneCountryCode => json!({"type": "string", "pattern": "^\\+?[0-9]{1,4}$"}),
        FieldKind::Digits => json!({"type": "string", "pattern": "^[0-9]{1,20}$"}),
        FieldKind::Country => {
            json!({"type": "string", "pattern": "^[A-Za-z]{2}$", "description": "ISO 3166-1 alpha-2"})
        }
        FieldKind::Gender => json!({"type": "string", "enum": strings(Gender::ALL)}),
        FieldKind::Number => {
            json!({"oneOf": [{"type": "number", "minimum": 0}, {"type": "string"}]})
        }
        FieldKind::Object => json!({"type": "object", "description": "at most 16 KiB serialized"}),
    }
}

fn customer_write() -> Value {
    let props: Map<String, Value> = WRITABLE_FIELDS
        .iter()
        .map(|f| (f.name.to_owned(), nullable(field_schema(f.kind))))
        .collect();
    json!({"type": "object", "properties": props, "additionalProperties": false})
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
    let required: Vec<&String> = props.keys().collect();
    json!({"type": "object", "properties": props, "required": required})
}

fn schemas() -> Value {
    let envelope = |data: Value| json!({"type": "object", "properties": {"msg": {"type": "string"}, "data": data}, "required": ["msg", "data"]});
    let registration = json!({"type": "object", "properties": {
        "id": {"type": "string"}, "provider": r("Provider"), "target_role": r("TargetRole"), "status": r("RegistrationStatus"),
        "provider_customer_id": nullable(json!({"type": "string"})), "provider_data": nullable(json!({"type": "object"})),
        "provider_response": {}, "rejection_reason": nullable(json!({"type": "string"})), "readiness": {}, "failure_reasons": {},
        "changes": {}, "action_required": {"type": "boolean"}, "documents": {"type": "string", "enum": strings(DocumentsState::ALL)},
        "manual_review": {"type": "boolean"}, "missing_fields": {"type": "array", "items": {"type": "string"}},
        "created_at": {"type": "string"}, "updated_at": {"type": "string"}}});
    let total = json!({"type": "object", "properties": {"currency": {"type": "string"}, "available": {"type": "integer"},
        "pending": {"type": "integer"}, "reserved": {"type": "integer"}, "instant_payouts": {"type": "integer"}}});
    let batch_request = json!({"type": "object", "required": ["items"], "additionalProperties": false, "properties": {
        "items": {"type": "array", "minItems": 1, "maxItems": acorn_types::BATCH_MAX_ITEMS, "items": {
            "type": "object", "required": ["customer"], "additionalProperties": false, "properties": {
                "idempotency_key": {"type": "string", "minLength": 1, "maxLength": 255},
                "customer": r("CustomerWrite")}}}}});
    let batch_envelope = envelope(
        json!({"type": "object", "properties": {"results": {"type": "array",
        "items": {"type": "object", "properties": {"status": {"type": "integer"}, "replayed": {"type": "boolean"},
            "body": {"description": "the envelope POST /api/v1/customers would have answered"}}}}}}),
    );
    json!({
        "Provider": {"type": "string", "enum": strings(Provider::ALL)},
        "TargetRole": {"type": "string", "enum": strings(TargetRole::ALL)},
        "RegistrationStatus": {"type": "string", "enum": strings(RegistrationStatus::ALL)},
        "CustomerStatus": {"type": "string", "enum": strings(CustomerStatus::ALL)},
        "FailureReason": {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"},
            "fields": {"type": "array", "items": {"type": "string"}}, "deadline": {}, "provider_code": {},
            "requires_manual_review": {"type": "boolean"}, "support_reference": nullable(json!({"type": "string"}))}},
        "ErrorEnvelope": {"type": "object", "required": ["msg", "error_code", "failure_reasons", "data"], "properties": {
            "msg": {"type": "string"}, "error_code": {"type": "string"},
            "failure_reasons": {"type": "array", "items": r("FailureReason")}, "data": {"type": "null"}}},
        "TokenRequest": {"type": "object", "required": ["client_id", "client_secret", "grant_type"], "properties": {
            "client_id": {"type": "string"}, "client_secret": {"type": "string"}, "grant_type": {"const": "client_credentials"}}},
        "TokenResponse": {"type": "object", "properties": {"access_token": {"type": "string"}, "token_type": {"const": "Bearer"},
            "expires_in": {"type": "integer", "description": "seconds"}}},
        "CustomerWrite": customer_write(),
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
        "SubmitRequest": {"type": "object", "required": ["provider", "target_role"], "additionalProperties": false,
            "properties": {"provider": r("Provider"), "target_role": r("TargetRole"), "provider_data": {"type": "object"}}},
        "PlatformRequest": {"type": "object", "required": ["provider", "target_role"],
            "properties": {"provider": r("Provider"), "target_role": r("TargetRole")}, "additionalProperties": true},
        "SyncRequest": {"type": "object", "required": ["providers", "fields"], "additionalProperties": false, "properties": {
            "providers": {"type": "array", "minItems": 1, "maxItems": 1, "items": r("Provider")},
            "fields": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": strings(SyncField::ALL)}}}},
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
        "AnyEnvelope": envelope(json!({})),
        "CustomerBatchRequest": batch_request,
        "CustomerBatchEnvelope": batch_envelope,
    })
}

/// (method, path, summary, request body schema, success status, response schema, query params)
type Op = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    u16,
    &'static str,
    &'static [&'static str],
);

const OPERATIONS: &[Op] = &[
    (
        "post",
        "/api/v1/merchant/token/grant",
        "Exchange client credentials for a bearer token",
        Some("TokenRequest"),
        200,
        "TokenResponse",
        &[],
    ),
    (
        "post",
        "/api/v1/customers",
        "Create a customer",
        Some("CustomerWrite"),
        200,
        "CustomerEnvelope",
        &[],
    ),
    (
        "post",
        "/api/v1/customers/batch",
        "Create up to 100 customers, each with its own idempotency_key (Acorn extension)",
        Some("CustomerBatchRequest"),
        200,
        "CustomerBatchEnvelope",
        &[],
    ),
    (
        "get",
        "/api/v1/customers",
        "List customers",
        None,
        200,
        "CustomerListEnvelope",
        &[
            "limit",
            "offset",
            "email",
            "country_code",
            "document_type",
            "status",
            "provider",
            "target_role",
            "provider_registration_status",
            "starting_after",
            "ending_before",
        ],
    ),
    (
        "get",
        "/api/v1/customers/{id}",
        "Get a customer",
        None,
        200,
        "CustomerEnvelope",
        &[],
    ),
    (
        "put",
        "/api/v1/customers/{id}",
        "Update a customer (absent = unchanged, null = cleared)",
        Some("CustomerWrite"),
        200,
        "CustomerEnvelope",
        &[],
    ),
    (
        "post",
        "/api/v1/customers/{id}/sync",
        "Schedule a sync to one provider",
        Some("SyncRequest"),
        200,
        "NullEnvelope",
        &[],
    ),
    (
        "get",
        "/api/v1/customers/{id}/sync-attempts",
        "List the customer's sync attempts",
        None,
        200,
        "AnyEnvelope",
        &[],
    ),
    (
        "get",
        "/api/v1/customers/{id}/balances",
        "Balances per provider account",
        None,
        200,
        "BalancesEnvelope",
        &["provider", "role"],
    ),
    (
        "post",
        "/api/v1/customers/{id}/files",
        "Upload KYC files (multipart: file parts and file_type)",
        None,
        201,
        "FilesEnvelope",
        &[],
    ),
    (
        "get",
        "/api/v1/customers/{id}/files",
        "List the customer's files with signed links",
        None,
        200,
        "FilesEnvelope",
        &[],
    ),
    (
        "post",
        "/api/v1/customers/{id}/platforms",
        "Populate platform data",
        Some("PlatformRequest"),
        200,
        "RegistrationsEnvelope",
        &[],
    ),
    (
        "get",
        "/api/v1/provider-registration/schema",
        "A provider's registration requirements",
        None,
        200,
        "AnyEnvelope",
        &["provider"],
    ),
    (
        "get",
        "/api/v1/provider-registration/{id}/status",
        "A customer's registrations",
        None,
        200,
        "RegistrationsEnvelope",
        &[],
    ),
    (
        "post",
        "/api/v1/provider-registration/{id}/submit",
        "Submit a registration",
        Some("SubmitRequest"),
        200,
        "RegistrationsEnvelope",
        &[],
    ),
    (
        "get",
        "/api/v1/events",
        "The merchant's events, newest first",
        None,
        200,
        "AnyEnvelope",
        &["limit", "starting_after", "event"],
    ),
    (
        "post",
        "/api/v1/merchant/webhooks",
        "Register a webhook endpoint (the only answer with its secret)",
        None,
        200,
        "AnyEnvelope",
        &[],
    ),
    (
        "get",
        "/api/v1/merchant/webhooks",
        "The merchant's webhook endpoints",
        None,
        200,
        "AnyEnvelope",
        &[],
    ),
    (
        "get",
        "/api/v1/merchant/webhooks/{id}",
        "One webhook endpoint",
        None,
        200,
        "AnyEnvelope",
        &[],
    ),
    (
        "put",
        "/api/v1/merchant/webhooks/{id}",
        "Change a webhook endpoint",
        None,
        200,
        "AnyEnvelope",
        &[],
    ),
    (
        "delete",
        "/api/v1/merchant/webhooks/{id}",
        "Delete a webhook endpoint",
        None,
        200,
        "AnyEnvelope",
        &[],
    ),
    (
        "patch",
        "/api/v1/merchant/webhooks/{id}/toggle",
        "Pause or resume a webhook endpoint",
        None,
        200,
        "AnyEnvelope",
        &[],
    ),
    (
        "get",
        "/api/v1/merchant/webhooks/notifications",
        "Webhook notifications, newest first",
        None,
        200,
        "AnyEnvelope",
        &[
            "limit",
            "offset",
            "status",
            "reference_id",
            "reference_module",
            "webhook_id",
        ],
    ),
    (
        "get",
        "/api/v1/merchant/webhooks/notifications/{id}",
        "One webhook notification",
        None,
        200,
        "AnyEnvelope",
        &[],
    ),
    (
        "post",
        "/api/v1/merchant/webhooks/notifications/{id}/replay",
        "Send a notification again",
        None,
        202,
        "AnyEnvelope",
        &[],
    ),
    (
        "post",
        "/api/v1/sandbox/customers/{id}/registrations/{provider}/{target_role}/status",
        "Sandbox: set a registration's status",
        None,
        200,
        "RegistrationEnvelope",
        &[],
    ),
    (
        "post",
        "/api/v1/sandbox/customers/{id}/balances",
        "Sandbox: append a ledger entry",
        None,
        200,
        "AnyEnvelope",
        &[],
    ),
];

/// The whole document.
pub fn document() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for (method, path, summary, body, status, response, query) in OPERATIONS {
        let mut params: Vec<Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        params.extend(query.iter().map(
            |q| json!({"name": q, "in": "query", "required": false, "schema": {"type": "string"}}),
        ));
        if *method == "post" && !path.ends_with("/token/grant") {
            params.push(json!({"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "maxLength": 255}}));
        }
        let mut op = json!({
            "summary": summary,
            "parameters": params,
            "responses": {
                status.to_string(): {"description": "success", "content": {"application/json": {"schema": r(response)}}},
                "default": {"description": "error", "content": {"application/json": {"schema": r("ErrorEnvelope")}}},
            },
        });
        if let Some(body) = body {
            op["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": r(body)}}});
        }
        if path.ends_with("/token/grant") {
            op["security"] = json!([]);
        }
        let entry = paths.entry((*path).to_owned()).or_insert_with(|| json!({}));
        entry[*method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Acorn — Oak Network customers API", "version": env!("CARGO_PKG_VERSION")},
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": schemas(),
        },
        "paths": paths,
    })
}

/// `GET /openapi.json`.
pub async fn endpoint() -> Json<Value> {
    Json(document())
}

#[cfg(test)]
mod tests {
    use super::*;

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

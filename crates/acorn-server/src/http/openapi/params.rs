//! The parameters' schemas, by name, from the same vocabularies the parsers use. A handler's
//! `#[utoipa::path]` names its query parameters; their constraints are filled in here, and the
//! path parameters come from the path template itself.

use acorn_types::countries::ISO_3166_ALPHA2;
use acorn_types::openapi::{alternatives, one_of};
use acorn_types::{
    CustomerStatus, DocumentType, EventKind, Provider, RegistrationStatus, TargetRole,
    DEFAULT_LIST_LIMIT, MAX_IDEMPOTENCY_KEY_LEN, MAX_LIST_LIMIT,
};
use serde_json::{json, Value};

/// `cus_<uuid>` or a bare canonical UUID.
const CUSTOMER_ID: &str =
    "^(cus_)?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

fn strings<T: std::fmt::Display>(all: &[T]) -> Vec<String> {
    all.iter().map(ToString::to_string).collect()
}

/// A comma-separated list of values from a closed vocabulary (any case, items trimmed).
fn list_of(values: &[String]) -> Value {
    let one = alternatives(values);
    let item = format!("\\s*({one})\\s*");
    json!({"type": "string", "pattern": format!("(?i)^{item}(,{item})*$"),
           "description": format!("comma-separated, any of (any case): {}", values.join(", "))})
}

/// The schema of a parameter, by name; `None` for a name this table does not know.
pub(super) fn schema(name: &str) -> Option<Value> {
    let providers = strings(Provider::ALL);
    let roles = strings(TargetRole::ALL);
    Some(match name {
        "limit" => json!({"type": "integer", "minimum": 1, "maximum": u64::MAX,
            "default": DEFAULT_LIST_LIMIT,
            "description": format!("page size; values above {MAX_LIST_LIMIT} are clamped to it")}),
        "offset" => json!({"type": "integer", "minimum": 0, "maximum": u64::MAX}),
        "email" => json!({"type": "string", "minLength": 3,
            "description": "comma-separated email addresses (exact match, case-insensitive)"}),
        "country_code" => list_of(&strings(&ISO_3166_ALPHA2)),
        "document_type" => list_of(&strings(DocumentType::ALL)),
        "status" => list_of(&strings(CustomerStatus::ALL)),
        "provider_registration_status" => list_of(&strings(RegistrationStatus::ALL)),
        "provider" | "target_role" | "role" => list_of(if name == "provider" {
            &providers
        } else {
            &roles
        }),
        "starting_after" | "ending_before" => json!({"type": "string", "pattern": CUSTOMER_ID}),
        "event" => {
            let names: Vec<String> = EventKind::all().map(|k| k.as_str().to_owned()).collect();
            let item = format!("\\s*({})\\s*", alternatives(&names));
            json!({"type": "string", "pattern": format!("^{item}(,{item})*$"),
                "description": format!("comma-separated event names: {}", names.join(", "))})
        }
        "id" | "customer_id" => json!({"type": "string", "pattern": CUSTOMER_ID}),
        "file_id" => json!({"type": "string", "minLength": 1}),
        "If-Match" => json!({"type": "string", "pattern": "^(W/)?\"*\\+?[0-9]{1,18}\"*$",
            "description": "the customer's version, as the ETag gives it: 3, \"3\" or W/\"3\""}),
        _ => return None,
    })
}

/// The schema of a path parameter (one value, never a list).
fn path_schema(name: &str) -> Value {
    match name {
        "provider" => json!({"type": "string", "enum": strings(Provider::ALL)}),
        "target_role" => json!({"type": "string", "enum": strings(TargetRole::ALL)}),
        _ => schema(name).unwrap_or_else(|| json!({"type": "string"})),
    }
}

/// The `Idempotency-Key` header (`acorn_types::IdempotencyKey::RULE`).
pub(super) fn idempotency_key() -> Value {
    json!({"name": "Idempotency-Key", "in": "header", "required": false,
        "description": format!("{}; a retry with the same key and body replays the first answer",
            acorn_types::IdempotencyKey::RULE),
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY_LEN,
                   "pattern": format!("^[\\x20-\\x7E]{{1,{MAX_IDEMPOTENCY_KEY_LEN}}}$")}})
}

/// Appends a parameter to an operation.
pub(super) fn push(op: &mut Value, param: Value) {
    if !op.get("parameters").is_some_and(Value::is_array) {
        op["parameters"] = json!([]);
    }
    if let Some(list) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        list.push(param);
    }
}

/// `<prefix><uuid>` or a bare canonical UUID.
fn prefixed_id(prefix: &str) -> Value {
    json!({"type": "string", "pattern": CUSTOMER_ID.replace("cus_", prefix)})
}

/// The parameters of the webhook routes, whose names mean other things there (`id` is a
/// webhook or notification id, `status` a notification's).
fn webhook_schema(path: &str, name: &str) -> Option<Value> {
    let notifications = path.contains("/webhooks/notifications");
    Some(match name {
        "id" if notifications => prefixed_id("ntf_"),
        "id" => prefixed_id("wh_"),
        "webhook_id" => prefixed_id("wh_"),
        "status" => json!({"type": "string", "enum": ["pending", "delivered", "dead_lettered"]}),
        "reference_id" | "reference_module" => json!({"type": "string"}),
        "limit" => json!({"type": "integer", "minimum": 1, "maximum": i64::MAX}),
        "offset" => json!({"type": "integer", "minimum": 0, "maximum": i64::MAX}),
        _ => return None,
    })
}

/// Adds the path's parameters and gives every known parameter its constraints.
pub(super) fn complete(path: &str, op: &mut Value) {
    let webhooks = path.starts_with("/api/v1/merchant/webhooks");
    let names = path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')));
    for name in names {
        let schema = webhooks
            .then(|| webhook_schema(path, name))
            .flatten()
            .unwrap_or_else(|| path_schema(name));
        push(
            op,
            json!({"name": name, "in": "path", "required": true, "schema": schema}),
        );
    }
    let Some(list) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
        return;
    };
    let single = path.ends_with("/provider-registration/schema");
    for param in list.iter_mut().filter(|p| p["in"] != "path") {
        let name = param["name"].as_str().unwrap_or_default();
        let refined = if single && name == "provider" {
            Some(one_of(&strings(Provider::ALL)))
        } else if webhooks {
            webhook_schema(path, name).or_else(|| schema(name))
        } else {
            schema(name)
        };
        if let Some(schema) = refined {
            param["schema"] = schema;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_become_case_insensitive_list_patterns() {
        let s = schema("document_type").expect("known");
        assert!(s["pattern"]
            .as_str()
            .is_some_and(|p| p.starts_with("(?i)^\\s*(")));
        assert_eq!(alternatives(&["a.b-c", "d"]), "a\\.b\\-c|d");
        assert!(schema("nope").is_none());
    }
}

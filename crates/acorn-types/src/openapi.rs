//! `utoipa` schemas for the contract's closed vocabularies (the `openapi` feature, which only the
//! server turns on): each is a string that the parser accepts in any capitalisation, with
//! surrounding spaces ignored — exactly what `parse` takes, so a generated document is neither
//! looser nor stricter than the server.

use serde_json::{json, Value};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

/// `values` as regular-expression alternatives (`a|b`), each escaped.
pub fn alternatives<S: AsRef<str>>(values: &[S]) -> String {
    values
        .iter()
        .map(|v| {
            v.as_ref()
                .chars()
                .flat_map(|c| {
                    let special = "\\.^$|?*+()[]{}-".contains(c);
                    special
                        .then_some('\\')
                        .into_iter()
                        .chain(std::iter::once(c))
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("|")
}

/// The case-insensitive pattern that matches one of `values` as the parsers read it.
pub fn vocabulary_pattern(values: &[&str]) -> String {
    format!("(?i)^\\s*({})\\s*$", alternatives(values))
}

/// One value of a closed vocabulary as JSON Schema, as the parsers take it: any case,
/// surrounding space trimmed.
pub fn one_of(values: &[String]) -> Value {
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    json!({"type": "string", "pattern": vocabulary_pattern(&refs),
           "description": format!("one of (any case): {}", values.join(", "))})
}

/// The display names of a vocabulary's values.
pub fn names<T: std::fmt::Display>(all: &[T]) -> Vec<String> {
    all.iter().map(ToString::to_string).collect()
}

/// A reference to the document's component schema `name`.
pub fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// `schema` or `null`.
pub fn nullable(schema: Value) -> Value {
    json!({"anyOf": [schema, {"type": "null"}]})
}

/// The schema of one customer field's value, by its kind in the field table.
pub fn field_schema(kind: crate::customer::FieldKind) -> Value {
    use crate::customer::FieldKind;
    use crate::{DocumentType, Gender};
    match kind {
        FieldKind::Text => json!({"type": "string", "minLength": 1, "maxLength": 255}),
        FieldKind::Email => json!({"type": "string", "format": "email", "maxLength": 254}),
        FieldKind::DocumentType => one_of(&names(DocumentType::ALL)),
        FieldKind::PastDate => json!({"type": "string", "format": "date"}),
        FieldKind::PhoneCountryCode => json!({"type": "string", "pattern": "^\\+?[0-9]{1,4}$"}),
        FieldKind::Digits => json!({"type": "string", "pattern": "^[0-9]{1,20}$"}),
        FieldKind::Country => one_of(&names(&crate::countries::ISO_3166_ALPHA2)),
        FieldKind::Gender => one_of(&names(Gender::ALL)),
        FieldKind::Number => {
            json!({"oneOf": [{"type": "number", "minimum": 0}, {"type": "string"}]})
        }
        FieldKind::Object => json!({"type": "object", "description": "at most 16 KiB serialized"}),
    }
}

/// The customer write body from the field table: absent = unchanged, `null` = cleared (never
/// for `email`, which a create also requires).
pub fn customer_write(create: bool) -> Value {
    use crate::customer::{FieldKind, WRITABLE_FIELDS};
    let mut props: serde_json::Map<String, Value> = WRITABLE_FIELDS
        .iter()
        .map(|f| (f.name.to_owned(), nullable(field_schema(f.kind))))
        .collect();
    props.insert("email".into(), field_schema(FieldKind::Email));
    let required: &[&str] = if create { &["email"] } else { &[] };
    json!({"type": "object", "properties": props, "additionalProperties": false, "required": required})
}

/// The schema of a closed vocabulary: a string matching [`vocabulary_pattern`].
pub fn vocabulary(kind: &str, values: &[&str]) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(vocabulary_pattern(values)))
        .description(Some(format!(
            "{kind}: one of (any case) {}",
            values.join(", ")
        )))
        .into()
}

/// `utoipa`'s view of the request bodies (`#[utoipa::path(request_body = T)]` names them),
/// and [`body_schemas`] for the document: each body's name and schema are its
/// [`FromBody`](crate::FromBody) `NAME` and `schema()`.
macro_rules! body_schemas {
    ($($name:ty),* $(,)?) => {
        $(
            impl utoipa::PartialSchema for $name {
                fn schema() -> RefOr<Schema> {
                    serde_json::from_value(<$name as crate::FromBody>::schema())
                        .unwrap_or_else(|_| RefOr::T(Schema::Object(ObjectBuilder::new().build())))
                }
            }

            impl utoipa::ToSchema for $name {
                fn name() -> std::borrow::Cow<'static, str> {
                    std::borrow::Cow::Borrowed(<$name as crate::FromBody>::NAME)
                }
            }
        )*

        /// Every request body's component schema, by name, for the server's document.
        pub fn body_schemas() -> Vec<(&'static str, Value)> {
            vec![$((
                <$name as crate::FromBody>::NAME,
                <$name as crate::FromBody>::schema(),
            )),*]
        }
    };
}

body_schemas!(
    crate::TokenRequest,
    crate::CustomerCreate,
    crate::CustomerUpdate,
    crate::CustomerBatchBody,
    crate::SubmitRegistrationRequest,
    crate::PlatformRequest,
    crate::SyncRequest,
    crate::SandboxStatusRequest,
    crate::LedgerEntryRequest,
    crate::RegisterWebhookRequest,
    crate::UpdateWebhookRequest,
);

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;

    use super::*;

    #[test]
    fn vocabularies_are_case_insensitive_patterns() {
        assert_eq!(vocabulary_pattern(&["a.b", "c"]), "(?i)^\\s*(a\\.b|c)\\s*$");
        let schema = serde_json::to_value(crate::Provider::schema()).expect("json");
        assert_eq!(schema["type"], "string");
        assert!(schema["pattern"]
            .as_str()
            .is_some_and(|p| p.contains("stripe")));
    }
}

//! `utoipa` schemas for the contract's closed vocabularies (the `openapi` feature, which only the
//! server turns on): each is a string that the parser accepts in any capitalisation, with
//! surrounding spaces ignored — exactly what `parse` takes, so a generated document is neither
//! looser nor stricter than the server.

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

/// The case-insensitive pattern that matches one of `values` as the parsers read it.
pub fn vocabulary_pattern(values: &[&str]) -> String {
    let one = values
        .iter()
        .map(|v| {
            v.chars()
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
        .join("|");
    format!("(?i)^\\s*({one})\\s*$")
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

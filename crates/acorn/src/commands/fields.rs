//! Customer fields by their contract names: filling a [`CustomerRequest`] from `name = value`
//! pairs (`--field`, CSV cells, JSON Lines keys) and the column order of an export.

use acorn_types::customer::{READ_ONLY_FIELDS, WRITABLE_FIELDS};
use acorn_types::CustomerRequest;
use serde_json::{Map, Value};

/// Whether `name` is a field only the server sets (`id`, `status`, …): an export carries them,
/// an import skips them.
pub fn is_read_only(name: &str) -> bool {
    READ_ONLY_FIELDS.contains(&name)
}

/// Every customer field in export order: the ids, the writable fields in wire order, then the
/// other read-only ones.
pub fn export_columns() -> Vec<&'static str> {
    let ids = ["id", "customer_id"];
    ids.iter()
        .copied()
        .chain(WRITABLE_FIELDS.iter().map(|f| f.name))
        .chain(
            READ_ONLY_FIELDS
                .iter()
                .copied()
                .filter(|n| !ids.contains(n)),
        )
        .collect()
}

/// Sets the writable field `name` of `request` to `value`. Text fields take strings (numbers are
/// written out); `monthly_net_income` a number or numeric string; `additional_info` an object or
/// the JSON text of one. Values are not otherwise checked here: the server validates them and
/// reports every problem at once.
pub fn set(request: &mut CustomerRequest, name: &str, value: Value) -> Result<(), String> {
    macro_rules! text_fields {
        ($($f:ident),+) => {
            match name {
                $(stringify!($f) => { request.$f = Some(text(name, value)?); return Ok(()); })+
                _ => {}
            }
        };
    }
    text_fields!(
        email,
        first_name,
        last_name,
        company_name,
        document_number,
        document_type,
        dob,
        phone_country_code,
        phone_area_code,
        phone_number,
        country_code,
        gender,
        house_number,
        street_number,
        street_name,
        neighborhood,
        postal_code,
        city,
        state,
        subdivision,
        mother_name,
        owner_legal_name,
        owner_document_number,
        owner_document_type,
        company_start_date,
        social_name,
        tax_id
    );
    match name {
        "monthly_net_income" => request.monthly_net_income = Some(number(name, &value)?),
        "additional_info" => request.additional_info = Some(object(name, value)?),
        _ if is_read_only(name) => return Err(format!("{name} is read-only")),
        _ => return Err(format!("{name} is not a customer field")),
    }
    Ok(())
}

/// Parses `KEY=VALUE` (the value may be empty; it may contain `=`).
pub fn key_value(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got {raw:?}")),
    }
}

fn text(name: &str, value: Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(format!("{name} must be a string")),
    }
}

fn number(name: &str, value: &Value) -> Result<f64, String> {
    let n = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    n.filter(|n| n.is_finite())
        .ok_or_else(|| format!("{name} must be a number"))
}

fn object(name: &str, value: Value) -> Result<Map<String, Value>, String> {
    let parsed = match value {
        Value::String(s) => serde_json::from_str(&s).map_err(|e| format!("{name}: {e}"))?,
        other => other,
    };
    match parsed {
        Value::Object(map) => Ok(map),
        _ => Err(format!("{name} must be a JSON object")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_writable_field_can_be_set_by_name() {
        for spec in WRITABLE_FIELDS {
            let mut r = CustomerRequest::default();
            let value = match spec.name {
                "monthly_net_income" => json!("12.5"),
                "additional_info" => json!(r#"{"k":1}"#),
                _ => json!("x"),
            };
            set(&mut r, spec.name, value).unwrap();
            assert_eq!(r.field_names(), [spec.name]);
        }
    }

    #[test]
    fn bad_values_and_names_are_refused() {
        let mut r = CustomerRequest::default();
        assert!(set(&mut r, "monthly_net_income", json!("lots")).is_err());
        assert!(set(&mut r, "additional_info", json!("[1]")).is_err());
        assert!(set(&mut r, "first_name", json!(true)).is_err());
        assert_eq!(
            set(&mut r, "status", json!("x")).unwrap_err(),
            "status is read-only"
        );
        assert!(set(&mut r, "nope", json!("x")).is_err());
        set(&mut r, "postal_code", json!(12345)).unwrap();
        assert_eq!(r.postal_code.as_deref(), Some("12345"));
    }

    #[test]
    fn export_columns_cover_every_field_once() {
        let cols = export_columns();
        assert_eq!(&cols[..3], ["id", "customer_id", "email"]);
        assert_eq!(cols.len(), WRITABLE_FIELDS.len() + READ_ONLY_FIELDS.len());
        let mut unique = cols.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), cols.len());
    }

    #[test]
    fn key_value_pairs() {
        assert_eq!(key_value("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert_eq!(key_value("a=").unwrap(), ("a".into(), String::new()));
        assert!(key_value("=b").is_err());
        assert!(key_value("ab").is_err());
    }
}

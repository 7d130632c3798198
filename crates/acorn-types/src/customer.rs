//! The customer object (contract §3) and the parser for create/update bodies (§4.1, §4.4).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::enums::{
    CustomerStatus, DocumentType, Gender, Provider, RegistrationStatus, SyncField, TargetRole,
};
use crate::envelope::{FailureReason, ReasonCode};
use crate::fields;

/// How a writable customer field is parsed and stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Free text, ≤ 255 characters.
    Text,
    /// An email address.
    Email,
    /// A [`DocumentType`], lowercased.
    DocumentType,
    /// `YYYY-MM-DD`, not in the future.
    PastDate,
    /// `+` and 1–4 digits.
    PhoneCountryCode,
    /// Digits only.
    Digits,
    /// ISO 3166-1 alpha-2, lowercased.
    Country,
    /// A [`Gender`], lowercased.
    Gender,
    /// A non-negative number (JSON number or numeric string).
    Number,
    /// A JSON object ≤ 16 KiB.
    Object,
}

/// One writable field of the customer object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// The JSON name, which is also the storage column name.
    pub name: &'static str,
    /// How it is parsed.
    pub kind: FieldKind,
    /// The sync group it belongs to, if a sync can push it.
    pub sync: Option<SyncField>,
}

const fn f(name: &'static str, kind: FieldKind, sync: Option<SyncField>) -> FieldSpec {
    FieldSpec { name, kind, sync }
}

use FieldKind as K;
const SHIP: Option<SyncField> = Some(SyncField::Shipping);
const PHONE: Option<SyncField> = Some(SyncField::Phone);

/// Every field a client may write, in wire order.
pub const WRITABLE_FIELDS: &[FieldSpec] = &[
    f("email", K::Email, Some(SyncField::Email)),
    f("first_name", K::Text, Some(SyncField::FirstName)),
    f("last_name", K::Text, Some(SyncField::LastName)),
    f("company_name", K::Text, None),
    f("document_number", K::Text, None),
    f("document_type", K::DocumentType, None),
    f("dob", K::PastDate, None),
    f("phone_country_code", K::PhoneCountryCode, PHONE),
    f("phone_area_code", K::Digits, PHONE),
    f("phone_number", K::Digits, PHONE),
    f("country_code", K::Country, None),
    f("gender", K::Gender, None),
    f("house_number", K::Text, SHIP),
    f("street_number", K::Text, SHIP),
    f("street_name", K::Text, SHIP),
    f("neighborhood", K::Text, SHIP),
    f("postal_code", K::Text, SHIP),
    f("city", K::Text, SHIP),
    f("state", K::Text, SHIP),
    f("subdivision", K::Text, SHIP),
    f("mother_name", K::Text, None),
    f("owner_legal_name", K::Text, None),
    f("owner_document_number", K::Text, None),
    f("owner_document_type", K::Text, None),
    f("company_start_date", K::Text, None),
    f("social_name", K::Text, None),
    f("tax_id", K::Text, None),
    f("monthly_net_income", K::Number, None),
    f("additional_info", K::Object, None),
];

/// Fields that exist on the customer but only the server sets; sending one is a 422.
pub const READ_ONLY_FIELDS: &[&str] = &[
    "id",
    "customer_id",
    "status",
    "customer_wallet",
    "trading_wallet",
    "account_type",
    "platforms",
    "synced",
    "synced_at",
    "version",
    "created_at",
    "updated_at",
];

/// Largest `additional_info`, serialised.
pub const MAX_ADDITIONAL_INFO_BYTES: usize = 16 * 1024;

/// Looks a writable field up by name.
pub fn writable_field(name: &str) -> Option<&'static FieldSpec> {
    WRITABLE_FIELDS.iter().find(|s| s.name == name)
}

/// A validated create or update: the fields present in the request, each with its normalised
/// value (`Value::Null` = clear it). Absent fields are not listed.
#[derive(Clone, Default, PartialEq)]
pub struct CustomerPatch {
    values: Vec<(&'static FieldSpec, Value)>,
}

impl fmt::Debug for CustomerPatch {
    // Values are PII: only the names of the fields present are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomerPatch")
            .field(
                "fields",
                &self.values.iter().map(|(s, _)| s.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Whether a body is for creating or updating a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// `POST /customers`: email required.
    Create,
    /// `PUT /customers/{id}`: everything optional; email may not be cleared.
    Update,
}

impl CustomerPatch {
    /// Parses a request body, reporting every problem at once (one reason per field).
    pub fn parse(body: &Map<String, Value>, mode: WriteMode) -> Result<Self, Vec<FailureReason>> {
        let mut reasons = Vec::new();
        let mut values = Vec::new();
        for (key, raw) in body {
            let Some(spec) = writable_field(key) else {
                let msg = if READ_ONLY_FIELDS.contains(&key.as_str()) {
                    format!("{key} is read-only")
                } else {
                    format!("{key} is not a known field")
                };
                reasons.push(FailureReason::invalid(key, msg));
                continue;
            };
            match parse_value(spec, raw) {
                Ok(Value::Null) if spec.kind == FieldKind::Email => {
                    reasons.push(FailureReason::new(
                        ReasonCode::MissingRequiredInformation,
                        "email cannot be cleared",
                        &["email"],
                    ));
                }
                Ok(v) => values.push((spec, v)),
                Err(msg) => reasons.push(FailureReason::invalid(key, format!("{key} {msg}"))),
            }
        }
        if mode == WriteMode::Create && !body.contains_key("email") {
            reasons.push(FailureReason::new(
                ReasonCode::MissingRequiredInformation,
                "email is required",
                &["email"],
            ));
        }
        if reasons.is_empty() {
            // Wire order makes column lists and comparisons deterministic.
            values.sort_by_key(|(s, _)| WRITABLE_FIELDS.iter().position(|w| w.name == s.name));
            Ok(Self { values })
        } else {
            Err(reasons)
        }
    }

    /// The present fields and their normalised values.
    pub fn values(&self) -> &[(&'static FieldSpec, Value)] {
        &self.values
    }

    /// The value given for `name`, if the field is present.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values
            .iter()
            .find(|(s, _)| s.name == name)
            .map(|(_, v)| v)
    }

    /// Whether no field is present.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

fn parse_value(spec: &FieldSpec, raw: &Value) -> Result<Value, String> {
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let as_str = || raw.as_str().ok_or_else(|| "must be a string".to_owned());
    let text = match spec.kind {
        K::Text => fields::text(as_str()?)?,
        K::Email => fields::email(as_str()?)?,
        K::DocumentType => DocumentType::parse(as_str()?)
            .map_err(|e| format!("must be one of: {}", e.allowed))?
            .as_str()
            .to_owned(),
        K::Gender => Gender::parse(as_str()?)
            .map_err(|e| format!("must be one of: {}", e.allowed))?
            .as_str()
            .to_owned(),
        K::PastDate => fields::past_date(as_str()?)?,
        K::PhoneCountryCode => fields::phone_country_code(as_str()?)?,
        K::Digits => fields::digits(as_str()?)?,
        K::Country => fields::country_code(as_str()?)?,
        K::Number => {
            let n = match raw {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            return match n {
                Some(n) if n.is_finite() && n >= 0.0 => serde_json::Number::from_f64(n)
                    .map(Value::Number)
                    .ok_or_else(|| "must be a number".to_owned()),
                Some(_) => Err("must be a non-negative number".into()),
                None => Err("must be a number or a numeric string".into()),
            };
        }
        K::Object => {
            if !raw.is_object() {
                return Err("must be a JSON object".into());
            }
            if raw.to_string().len() > MAX_ADDITIONAL_INFO_BYTES {
                return Err(format!(
                    "must be at most {MAX_ADDITIONAL_INFO_BYTES} bytes serialized"
                ));
            }
            return Ok(raw.clone());
        }
    };
    Ok(Value::String(text))
}

/// One provider registration as summarised on the customer (`platforms[]`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Platform {
    /// The provider.
    pub provider: Provider,
    /// The role at that provider.
    pub target_role: TargetRole,
    /// The registration's status.
    pub status: RegistrationStatus,
    /// The provider's id for this customer, once known.
    pub provider_customer_id: Option<String>,
    /// Whether the merchant (or customer) must act.
    pub action_required: bool,
    /// Provider readiness details, if any.
    pub readiness: Option<Value>,
    /// Why the provider refused or paused, if it did.
    pub failure_reasons: Option<Value>,
}

/// The customer object as returned by the API (contract §3).
#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct Customer {
    /// `cus_<uuid>`.
    pub id: String,
    /// Same as `id`.
    pub customer_id: String,
    /// Unique per merchant, compared case-insensitively.
    pub email: String,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Company name.
    pub company_name: Option<String>,
    /// Tax id or document number (PII).
    pub document_number: Option<String>,
    /// Kind of document, lowercase.
    pub document_type: Option<String>,
    /// Date of birth, `YYYY-MM-DD`.
    pub dob: Option<String>,
    /// `+` and 1–4 digits.
    pub phone_country_code: Option<String>,
    /// Digits.
    pub phone_area_code: Option<String>,
    /// Digits.
    pub phone_number: Option<String>,
    /// ISO 3166-1 alpha-2, lowercase.
    pub country_code: Option<String>,
    /// `male`, `female` or `other`.
    pub gender: Option<String>,
    /// Address: house number.
    pub house_number: Option<String>,
    /// Address: street number.
    pub street_number: Option<String>,
    /// Address: street.
    pub street_name: Option<String>,
    /// Address: neighborhood.
    pub neighborhood: Option<String>,
    /// Address: postal code.
    pub postal_code: Option<String>,
    /// Address: city.
    pub city: Option<String>,
    /// Address: state.
    pub state: Option<String>,
    /// Address: subdivision.
    pub subdivision: Option<String>,
    /// Mother's name.
    pub mother_name: Option<String>,
    /// Legal name of the company's owner.
    pub owner_legal_name: Option<String>,
    /// Owner's document number.
    pub owner_document_number: Option<String>,
    /// Owner's document type.
    pub owner_document_type: Option<String>,
    /// When the company started.
    pub company_start_date: Option<String>,
    /// Social name.
    pub social_name: Option<String>,
    /// Tax id.
    pub tax_id: Option<String>,
    /// Monthly net income.
    pub monthly_net_income: Option<f64>,
    /// KYC summary derived from the registrations (contract §5).
    pub status: CustomerStatus,
    /// Set by providers on approval.
    pub customer_wallet: Option<String>,
    /// Set by providers on approval.
    pub trading_wallet: Option<String>,
    /// Set by providers on approval.
    pub account_type: Option<String>,
    /// Free JSON object (≤ 16 KiB).
    pub additional_info: Option<Map<String, Value>>,
    /// One entry per provider registration.
    pub platforms: Vec<Platform>,
    /// `null` never synced; `true` last sync succeeded and nothing syncable changed since; `false` otherwise.
    pub synced: Option<bool>,
    /// Time of the last successful sync.
    pub synced_at: Option<String>,
    /// Starts at 1, +1 on every change.
    pub version: i64,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

impl fmt::Debug for Customer {
    // Everything else is PII or noise in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Customer")
            .field("id", &self.id)
            .field("status", &self.status)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// `data` of `GET /customers`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CustomerList {
    /// Customers matching the filters, over all pages.
    pub count: u64,
    /// This page, newest first.
    pub customer_list: Vec<Customer>,
    /// Whether more customers follow this page in the direction of travel.
    pub has_more: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value, mode: WriteMode) -> Result<CustomerPatch, Vec<FailureReason>> {
        CustomerPatch::parse(v.as_object().expect("object"), mode)
    }

    fn fields_of(r: &[FailureReason]) -> Vec<String> {
        let mut v: Vec<String> = r.iter().flat_map(|r| r.fields.clone()).collect();
        v.sort();
        v
    }

    #[test]
    fn create_normalises() {
        let p = parse(
            json!({"email": " a@b.co ", "country_code": "US", "document_type": "CPF",
            "gender": "Female", "monthly_net_income": "1200.50", "first_name": null}),
            WriteMode::Create,
        )
        .expect("valid");
        assert_eq!(p.get("email"), Some(&json!("a@b.co")));
        assert_eq!(p.get("country_code"), Some(&json!("us")));
        assert_eq!(p.get("document_type"), Some(&json!("cpf")));
        assert_eq!(p.get("gender"), Some(&json!("female")));
        assert_eq!(p.get("monthly_net_income"), Some(&json!(1200.5)));
        assert_eq!(p.get("first_name"), Some(&Value::Null));
        assert_eq!(p.get("last_name"), None);
    }

    #[test]
    fn every_problem_reported_at_once() {
        let err = parse(
            json!({"country_code": "usa", "dob": "tomorrow", "phone_number": "12-3",
            "id": "x", "nope": 1, "first_name": 5, "additional_info": [1]}),
            WriteMode::Create,
        )
        .expect_err("invalid");
        assert_eq!(
            fields_of(&err),
            [
                "additional_info",
                "country_code",
                "dob",
                "email",
                "first_name",
                "id",
                "nope",
                "phone_number"
            ]
        );
        assert!(err
            .iter()
            .any(|r| r.code == ReasonCode::MissingRequiredInformation));
    }

    #[test]
    fn update_rules() {
        assert!(parse(json!({}), WriteMode::Update).expect("ok").is_empty());
        let err = parse(json!({"email": null}), WriteMode::Update).expect_err("email null");
        assert_eq!(fields_of(&err), ["email"]);
        let err = parse(json!({"monthly_net_income": -1}), WriteMode::Update).expect_err("neg");
        assert_eq!(fields_of(&err), ["monthly_net_income"]);
        let big = "x".repeat(MAX_ADDITIONAL_INFO_BYTES);
        assert!(parse(json!({"additional_info": {"k": big}}), WriteMode::Update).is_err());
    }

    #[test]
    fn every_read_only_field_is_refused() {
        for name in READ_ONLY_FIELDS {
            let mut m = Map::new();
            m.insert("email".into(), json!("a@b.co"));
            m.insert((*name).into(), json!("x"));
            let err = CustomerPatch::parse(&m, WriteMode::Create).expect_err(name);
            assert_eq!(fields_of(&err), [*name]);
        }
    }
}

/// `data` of `DELETE /api/v1/customers/{id}` (erasure).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CustomerDeleted {
    /// `cus_…`.
    pub id: String,
    /// Always true.
    pub deleted: bool,
}

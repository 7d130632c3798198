//! [`CustomerRequest`]: the body of create and update as the SDK builds it, and its relation
//! to [`CustomerPatch`], the validated form the server stores.
//!
//! The one parser is [`CustomerPatch::parse`]; [`CustomerRequest::from_body`] runs it and
//! returns the typed request, so a body the server accepts is exactly a body that
//! deserializes into a `CustomerRequest`.

use std::collections::BTreeSet;
use std::fmt;

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::customer::{CustomerPatch, WriteMode};
use crate::envelope::{FailureReason, ReasonCode};
use crate::requests::parse::joined;
use crate::requests::FromBody;

macro_rules! customer_request {
    ($($(#[$doc:meta])* $field:ident : $ty:ty),+ $(,)?) => {
        /// Body of `create` (`POST /api/v1/customers`) and `update` (`PUT /api/v1/customers/{id}`).
        ///
        /// Every field is optional: `None` leaves it out of the JSON (on update: unchanged).
        /// To clear a field on update (send `null`), name it in [`null_fields`](Self::null_fields)
        /// or use [`CustomerRequest::clear`]. `email` is required on create.
        ///
        /// `Debug` shows only which fields are set, never their values (PII).
        #[derive(Clone, Default, PartialEq)]
        pub struct CustomerRequest {
            $($(#[$doc])* pub $field: Option<$ty>,)+
            /// Fields to send as JSON `null` (clear them on update). A field named here is sent
            /// as `null` even if it is also set above.
            pub null_fields: BTreeSet<String>,
        }

        impl CustomerRequest {
            /// The wire names of the fields this request carries (set or cleared), in wire order
            /// (cleared names that are not customer fields come last).
            pub fn field_names(&self) -> Vec<&str> {
                let mut names: Vec<&str> = Vec::new();
                $(if self.$field.is_some() || self.null_fields.contains(stringify!($field)) {
                    names.push(stringify!($field));
                })+
                for extra in &self.null_fields {
                    if !names.contains(&extra.as_str()) {
                        names.push(extra);
                    }
                }
                names
            }

            /// The request a validated patch describes: its values set (as normalised by the
            /// server), its nulls in `null_fields`.
            fn from_patch(patch: &CustomerPatch) -> Self {
                let mut req = CustomerRequest::default();
                $(match patch.get(stringify!($field)) {
                    None => {}
                    Some(Value::Null) => {
                        req.null_fields.insert(stringify!($field).to_owned());
                    }
                    Some(v) => req.$field = serde_json::from_value(v.clone()).ok(),
                })+
                req
            }
        }

        impl Serialize for CustomerRequest {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(None)?;
                $(
                    if self.null_fields.contains(stringify!($field)) {
                        map.serialize_entry(stringify!($field), &Value::Null)?;
                    } else if let Some(v) = &self.$field {
                        map.serialize_entry(stringify!($field), v)?;
                    }
                )+
                // Names that are not customer fields are still sent, so the server can say so.
                const KNOWN: &[&str] = &[$(stringify!($field)),+];
                for extra in &self.null_fields {
                    if !KNOWN.contains(&extra.as_str()) {
                        map.serialize_entry(extra, &Value::Null)?;
                    }
                }
                map.end()
            }
        }
    };
}

customer_request! {
    /// Email address (required on create; cannot be cleared).
    email: String,
    /// First name.
    first_name: String,
    /// Last name.
    last_name: String,
    /// Company name.
    company_name: String,
    /// Tax id or document number.
    document_number: String,
    /// Document type (`cpf`, `cnpj`, `passport`, `ssn`, `itin`, `cc`, `curp`,
    /// `personal_tax_id`, `company_tax_id`; any case).
    document_type: String,
    /// Date of birth, `YYYY-MM-DD`.
    dob: String,
    /// Phone country code, an optional `+` and 1–4 digits.
    phone_country_code: String,
    /// Phone area code, digits.
    phone_area_code: String,
    /// Phone number, digits.
    phone_number: String,
    /// ISO 3166-1 alpha-2 country code (any case).
    country_code: String,
    /// `male`, `female` or `other`.
    gender: String,
    /// Address: house number.
    house_number: String,
    /// Address: street number.
    street_number: String,
    /// Address: street name.
    street_name: String,
    /// Address: neighborhood.
    neighborhood: String,
    /// Address: postal code.
    postal_code: String,
    /// Address: city.
    city: String,
    /// Address: state.
    state: String,
    /// Address: subdivision.
    subdivision: String,
    /// Mother's name.
    mother_name: String,
    /// Legal name of the company's owner.
    owner_legal_name: String,
    /// Document number of the company's owner.
    owner_document_number: String,
    /// Document type of the company's owner.
    owner_document_type: String,
    /// Date the company started.
    company_start_date: String,
    /// Social name.
    social_name: String,
    /// Tax id.
    tax_id: String,
    /// Monthly net income.
    monthly_net_income: f64,
    /// Free JSON object (≤ 16 KiB serialized).
    additional_info: Map<String, Value>,
}

impl CustomerRequest {
    /// Marks `field` to be sent as `null` (cleared on update).
    pub fn clear(mut self, field: impl Into<String>) -> Self {
        self.null_fields.insert(field.into());
        self
    }
}

impl fmt::Debug for CustomerRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomerRequest")
            .field("fields", &self.field_names())
            .finish()
    }
}

impl CustomerRequest {
    /// Parses a create or update body with the server's rules ([`CustomerPatch::parse`]),
    /// reporting every invalid field at once. Values come back normalised as the server stores
    /// them (trimmed, `country_code`/`document_type`/`gender` lowercased, a numeric string
    /// `monthly_net_income` as a number); `null`s land in [`null_fields`](Self::null_fields).
    pub fn from_body(
        body: &Map<String, Value>,
        mode: WriteMode,
    ) -> Result<Self, Vec<FailureReason>> {
        CustomerPatch::parse(body, mode).map(|p| Self::from(&p))
    }

    /// Validates this request as the server would ([`CustomerPatch::parse`] of its JSON).
    pub fn to_patch(&self, mode: WriteMode) -> Result<CustomerPatch, Vec<FailureReason>> {
        match serde_json::to_value(self) {
            Ok(Value::Object(body)) => CustomerPatch::parse(&body, mode),
            // Serializing a map of strings, numbers and objects cannot fail.
            _ => Err(vec![FailureReason::new(
                ReasonCode::InvalidInput,
                "the customer request is not a JSON object",
                &[],
            )]),
        }
    }
}

impl From<&CustomerPatch> for CustomerRequest {
    fn from(patch: &CustomerPatch) -> Self {
        Self::from_patch(patch)
    }
}

/// Deserializes with [`CustomerRequest::from_body`] in [`WriteMode::Update`] (every field
/// optional): what the server's update accepts, and nothing else.
impl<'de> Deserialize<'de> for CustomerRequest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let body = Map::<String, Value>::deserialize(d)?;
        Self::from_body(&body, WriteMode::Update)
            .map_err(|reasons| serde::de::Error::custom(joined(&reasons)))
    }
}

/// `POST /api/v1/customers`: a customer as the server validates a create (`email` required).
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerCreate(pub CustomerPatch);

impl FromBody for CustomerCreate {
    const NAME: &'static str = "CustomerCreate";

    fn from_body(body: &Map<String, Value>) -> Result<Self, Vec<FailureReason>> {
        CustomerPatch::parse(body, WriteMode::Create).map(CustomerCreate)
    }

    #[cfg(feature = "openapi")]
    fn schema() -> Value {
        crate::openapi::customer_write(true)
    }
}

/// `PUT /api/v1/customers/{id}`: the fields to change (absent = unchanged, `null` = cleared).
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerUpdate(pub CustomerPatch);

impl FromBody for CustomerUpdate {
    const NAME: &'static str = "CustomerWrite";

    fn from_body(body: &Map<String, Value>) -> Result<Self, Vec<FailureReason>> {
        CustomerPatch::parse(body, WriteMode::Update).map(CustomerUpdate)
    }

    #[cfg(feature = "openapi")]
    fn schema() -> Value {
        crate::openapi::customer_write(false)
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::customer::WRITABLE_FIELDS;
    use serde_json::json;

    #[test]
    fn customer_request_sends_only_what_is_set_and_nulls_for_cleared() {
        let req = CustomerRequest {
            email: Some("alice@example.com".into()),
            first_name: Some("Alice".into()),
            monthly_net_income: Some(1200.5),
            ..Default::default()
        }
        .clear("last_name");
        assert_eq!(
            serde_json::to_value(&req).expect("json"),
            json!({"email": "alice@example.com", "first_name": "Alice",
                   "last_name": null, "monthly_net_income": 1200.5})
        );
        let dbg = format!("{req:?}");
        assert!(!dbg.contains("alice"), "{dbg}");
        assert!(dbg.contains("first_name"), "{dbg}");
    }

    #[test]
    fn customer_request_covers_every_writable_field_in_wire_order() {
        let mut req = CustomerRequest::default();
        for spec in WRITABLE_FIELDS {
            req = req.clear(spec.name);
        }
        let names = req.field_names();
        let expected: Vec<&str> = WRITABLE_FIELDS.iter().map(|s| s.name).collect();
        assert_eq!(names, expected);
        // And no customer field is missing from the request type: every clear was recognised.
        let v = serde_json::to_value(&req).expect("json");
        assert_eq!(v.as_object().map(|m| m.len()), Some(WRITABLE_FIELDS.len()));
    }

    #[test]
    fn clearing_an_unknown_name_still_sends_it() {
        let req = CustomerRequest::default().clear("nope");
        assert_eq!(
            serde_json::to_value(&req).expect("json"),
            json!({"nope": null})
        );
    }

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    fn alice() -> CustomerRequest {
        CustomerRequest {
            email: Some("alice@example.com".into()),
            first_name: Some("Alice".into()),
            country_code: Some("us".into()),
            document_type: Some("cpf".into()),
            dob: Some("1990-05-17".into()),
            phone_country_code: Some("+55".into()),
            phone_number: Some("5551234".into()),
            monthly_net_income: Some(1200.5),
            additional_info: Some(body(json!({"source": "import", "n": 3}))),
            ..Default::default()
        }
        .clear("last_name")
    }

    #[test]
    fn what_the_sdk_sends_parses_back_to_the_same_request() {
        let req = alice();
        let sent = serde_json::to_value(&req).expect("json");
        let parsed =
            CustomerRequest::from_body(&body(sent.clone()), WriteMode::Create).expect("valid");
        assert_eq!(parsed, req);
        let via_serde: CustomerRequest = serde_json::from_value(sent).expect("deserialize");
        assert_eq!(via_serde, req);
        // The typed request and the server's patch describe the same change.
        let patch = req.to_patch(WriteMode::Create).expect("valid");
        assert_eq!(CustomerRequest::from(&patch), req);
        assert_eq!(patch.get("last_name"), Some(&Value::Null));
    }

    #[test]
    fn from_body_normalises_like_the_server() {
        let parsed = CustomerRequest::from_body(
            &body(
                json!({"email": " a@b.co ", "country_code": "US", "gender": "Female",
                         "monthly_net_income": "10.5"}),
            ),
            WriteMode::Create,
        )
        .expect("valid");
        assert_eq!(parsed.email.as_deref(), Some("a@b.co"));
        assert_eq!(parsed.country_code.as_deref(), Some("us"));
        assert_eq!(parsed.gender.as_deref(), Some("female"));
        assert_eq!(parsed.monthly_net_income, Some(10.5));
    }

    #[test]
    fn invalid_bodies_yield_every_reason() {
        let bad = CustomerRequest {
            country_code: Some("usa".into()),
            dob: Some("tomorrow".into()),
            ..Default::default()
        }
        .clear("nope")
        .clear("email");
        let err = bad.to_patch(WriteMode::Create).expect_err("invalid");
        let mut fields: Vec<&str> = err
            .iter()
            .flat_map(|r| r.fields.iter().map(String::as_str))
            .collect();
        fields.sort_unstable();
        assert_eq!(fields, ["country_code", "dob", "email", "nope"]);
        let messages: Vec<&str> = err.iter().map(|r| r.message.as_str()).collect();
        assert!(
            messages.contains(&"email cannot be cleared"),
            "{messages:?}"
        );
        assert!(
            messages.contains(&"nope is not a known field"),
            "{messages:?}"
        );
        let serde_err =
            serde_json::from_value::<CustomerRequest>(serde_json::to_value(&bad).expect("json"))
                .expect_err("refused");
        assert!(
            serde_err.to_string().contains("nope is not a known field"),
            "{serde_err}"
        );
        assert!(
            CustomerRequest::from_body(&body(json!({})), WriteMode::Create).is_err(),
            "email is required on create"
        );
    }
}

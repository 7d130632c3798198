//! Request bodies and query parameters a client sends (contract §4, §6): what the SDK builds
//! and the wire shape the server reads.
//!
//! List filters that the contract allows to be comma-separated are `Vec`s here; they travel as
//! one comma-joined query value (`provider=stripe,bridge`) and are left out when empty.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::enums::{
    CustomerStatus, DocumentType, Provider, RegistrationStatus, SyncField, TargetRole,
};

/// Serde helpers for comma-separated query values.
pub mod comma_list {
    use super::*;

    /// Writes `[a, b]` as `"a,b"`.
    pub fn serialize<T: fmt::Display, S: Serializer>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
        let joined = v
            .iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(",");
        s.serialize_str(&joined)
    }

    /// Reads `"a,b"` (spaces around items ignored, empty items skipped) into `[a, b]`.
    pub fn deserialize<'de, T, D>(d: D) -> Result<Vec<T>, D::Error>
    where
        T: FromStr,
        T::Err: fmt::Display,
        D: Deserializer<'de>,
    {
        let raw = Option::<String>::deserialize(d)?;
        raw.as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<T>().map_err(serde::de::Error::custom))
            .collect()
    }
}

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

/// Query parameters of `list` (`GET /api/v1/customers`, contract §4.3).
///
/// All optional. List filters are OR-ed within one parameter and AND-ed across parameters.
/// `starting_after` / `ending_before` are cursors (a customer id from a previous page); they are
/// mutually exclusive and cannot be combined with `offset`.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListParams {
    /// Page size, 1–100 (server default 10; above 100 is clamped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Customers to skip (offset pagination).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Exact email matches, case-insensitive.
    #[serde(default, with = "comma_list", skip_serializing_if = "Vec::is_empty")]
    pub email: Vec<String>,
    /// Country codes, case-insensitive.
    #[serde(default, with = "comma_list", skip_serializing_if = "Vec::is_empty")]
    pub country_code: Vec<String>,
    /// Document types.
    #[serde(default, with = "comma_list", skip_serializing_if = "Vec::is_empty")]
    pub document_type: Vec<DocumentType>,
    /// Providers (matched together with `target_role` and `provider_registration_status`
    /// against one single registration).
    #[serde(default, with = "comma_list", skip_serializing_if = "Vec::is_empty")]
    pub provider: Vec<Provider>,
    /// Roles at the provider.
    #[serde(default, with = "comma_list", skip_serializing_if = "Vec::is_empty")]
    pub target_role: Vec<TargetRole>,
    /// Registration statuses.
    #[serde(default, with = "comma_list", skip_serializing_if = "Vec::is_empty")]
    pub provider_registration_status: Vec<RegistrationStatus>,
    /// Customer statuses.
    #[serde(default, with = "comma_list", skip_serializing_if = "Vec::is_empty")]
    pub status: Vec<CustomerStatus>,
    /// Cursor: return customers after (older than) this id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starting_after: Option<String>,
    /// Cursor: return customers before (newer than) this id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ending_before: Option<String>,
}

impl fmt::Debug for ListParams {
    // Emails are PII: only how many are given is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListParams")
            .field("limit", &self.limit)
            .field("offset", &self.offset)
            .field("email", &format_args!("[{} masked]", self.email.len()))
            .field("country_code", &self.country_code)
            .field("document_type", &self.document_type)
            .field("provider", &self.provider)
            .field("target_role", &self.target_role)
            .field(
                "provider_registration_status",
                &self.provider_registration_status,
            )
            .field("status", &self.status)
            .field("starting_after", &self.starting_after)
            .field("ending_before", &self.ending_before)
            .finish()
    }
}

/// Body of `sync` (`POST /api/v1/customers/{id}/sync`, contract §4.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
}

/// Query of `balance` (`GET /api/v1/customers/{id}/balances`, contract §4.6). Both optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceFilter {
    /// Providers to report.
    #[serde(default, with = "comma_list", skip_serializing_if = "Vec::is_empty")]
    pub provider: Vec<Provider>,
    /// Roles to report.
    #[serde(default, with = "comma_list", skip_serializing_if = "Vec::is_empty")]
    pub role: Vec<TargetRole>,
}

impl BalanceFilter {
    /// The balance of one provider account: `provider` in `role`.
    pub fn new(provider: Provider, role: TargetRole) -> Self {
        Self {
            provider: vec![provider],
            role: vec![role],
        }
    }
}

/// Body of `populate_platform` (`POST /api/v1/customers/{id}/platforms`, contract §4.8):
/// `{"provider": …, "target_role": …, ...extra}`. The extra keys are provider data.
///
/// `Debug` shows the extra keys, not their values.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformRequest {
    /// The provider.
    pub provider: Provider,
    /// The role at that provider.
    pub target_role: TargetRole,
    /// Every other key, merged into the registration's `provider_data`.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl PlatformRequest {
    /// A request with no extra provider data.
    pub fn new(provider: Provider, target_role: TargetRole) -> Self {
        Self {
            provider,
            target_role,
            extra: Map::new(),
        }
    }

    /// Adds one provider-data key.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }
}

impl fmt::Debug for PlatformRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlatformRequest")
            .field("provider", &self.provider)
            .field("target_role", &self.target_role)
            .field("extra_keys", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Body of `submit_registration`
/// (`POST /api/v1/provider-registration/{customer_id}/submit`, contract §6).
///
/// `Debug` shows the `provider_data` keys, not their values.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitRegistrationRequest {
    /// The provider.
    pub provider: Provider,
    /// The role at that provider.
    pub target_role: TargetRole,
    /// Provider-specific data (e.g. stripe `connected_account` needs `account_type`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_data: Option<Map<String, Value>>,
}

impl SubmitRegistrationRequest {
    /// A submission without provider data.
    pub fn new(provider: Provider, target_role: TargetRole) -> Self {
        Self {
            provider,
            target_role,
            provider_data: None,
        }
    }

    /// Adds one `provider_data` key.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.provider_data
            .get_or_insert_with(Map::new)
            .insert(key.into(), value.into());
        self
    }
}

impl fmt::Debug for SubmitRegistrationRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubmitRegistrationRequest")
            .field("provider", &self.provider)
            .field("target_role", &self.target_role)
            .field(
                "provider_data_keys",
                &self
                    .provider_data
                    .as_ref()
                    .map(|m| m.keys().collect::<Vec<_>>()),
            )
            .finish()
    }
}

/// Query of `get_schema` (`GET /api/v1/provider-registration/schema?provider=…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaQuery {
    /// The provider whose schema is wanted.
    pub provider: Provider,
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

    #[test]
    fn list_params_comma_lists_round_trip() {
        let p = ListParams {
            limit: Some(20),
            provider: vec![Provider::Stripe, Provider::PagarMe],
            status: vec![CustomerStatus::Approved],
            email: vec!["a@b.co".into()],
            ..Default::default()
        };
        let v = serde_json::to_value(&p).expect("json");
        assert_eq!(
            v,
            json!({"limit": 20, "provider": "stripe,pagar_me", "status": "APPROVED",
                   "email": "a@b.co"})
        );
        let back: ListParams = serde_json::from_value(json!({
            "limit": 20, "provider": "STRIPE, pagar_me", "status": "approved", "email": "a@b.co"
        }))
        .expect("parse");
        assert_eq!(back, p);
        assert!(!format!("{p:?}").contains("a@b.co"));
        assert!(serde_json::from_value::<ListParams>(json!({"provider": "nope"})).is_err());
    }

    #[test]
    fn small_bodies_match_the_contract() {
        let sync = SyncRequest::new(Provider::Stripe, [SyncField::Email, SyncField::FirstName]);
        assert_eq!(
            serde_json::to_value(&sync).expect("json"),
            json!({"providers": ["stripe"], "fields": ["email", "first_name"]})
        );
        let pr = PlatformRequest::new(Provider::Stripe, TargetRole::Customer).with("k", "v");
        assert_eq!(
            serde_json::to_value(&pr).expect("json"),
            json!({"provider": "stripe", "target_role": "customer", "k": "v"})
        );
        let back: PlatformRequest = serde_json::from_value(
            json!({"provider": "Stripe", "target_role": "customer", "k": "v"}),
        )
        .expect("parse");
        assert_eq!(back, pr);
        let sub = SubmitRegistrationRequest::new(Provider::Stripe, TargetRole::ConnectedAccount);
        assert_eq!(
            serde_json::to_value(&sub).expect("json"),
            json!({"provider": "stripe", "target_role": "connected_account"})
        );
        let sub = sub.with("account_type", "express");
        assert_eq!(
            serde_json::to_value(&sub).expect("json")["provider_data"],
            json!({"account_type": "express"})
        );
        assert!(!format!("{sub:?}").contains("express"));
        let bf = BalanceFilter::new(Provider::Stripe, TargetRole::ConnectedAccount);
        assert_eq!(
            serde_json::to_value(&bf).expect("json"),
            json!({"provider": "stripe", "role": "connected_account"})
        );
        assert_eq!(
            serde_json::to_value(BalanceFilter::default()).expect("json"),
            json!({})
        );
    }
}

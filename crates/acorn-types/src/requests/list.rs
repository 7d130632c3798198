//! Query strings a client sends: the customer list (§4.3), balances (§4.6) and the provider
//! schema (§6). Each type serializes to the query the SDK sends and has a `from_query` that
//! reads decoded query pairs with the server's rules, reporting every problem at once.

use std::fmt;

use serde::Serialize;

use crate::enums::{CustomerStatus, DocumentType, Provider, RegistrationStatus, TargetRole};
use crate::envelope::{FailureReason, ReasonCode};
use crate::fields;
use crate::ids::CustomerId;
use crate::requests::comma_list;
use crate::requests::parse::{
    self, deserialize_via_from_query, done, integer, not_one_of, unknown_parameter,
};

/// Page size of a list when `limit` is not given.
pub const DEFAULT_LIST_LIMIT: u32 = 10;
/// Largest page size; a larger `limit` is clamped to it.
pub const MAX_LIST_LIMIT: u32 = 100;

/// Query parameters of `list` (`GET /api/v1/customers`, contract §4.3).
///
/// All optional. List filters are OR-ed within one parameter and AND-ed across parameters.
/// `starting_after` / `ending_before` are cursors (a customer id from a previous page); they are
/// mutually exclusive and cannot be combined with `offset`.
#[derive(Clone, Default, PartialEq, Serialize)]
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

/// Query of `balance` (`GET /api/v1/customers/{id}/balances`, contract §4.6). Both optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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

/// Query of `get_schema` (`GET /api/v1/provider-registration/schema?provider=…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SchemaQuery {
    /// The provider whose schema is wanted.
    pub provider: Provider,
}

fn cursor(name: &str, raw: &str, reasons: &mut Vec<FailureReason>) -> Option<String> {
    match CustomerId::parse(raw.trim()) {
        Ok(id) => Some(id.to_string()),
        Err(_) => {
            reasons.push(FailureReason::new(
                ReasonCode::InvalidCursor,
                format!("{name} is not a customer id"),
                &[name],
            ));
            None
        }
    }
}

fn list_item<T: PartialEq>(
    name: &str,
    raw: &str,
    parse: fn(&str) -> Result<T, crate::enums::UnknownValue>,
    out: &mut Vec<T>,
    reasons: &mut Vec<FailureReason>,
) {
    parse::comma_list(name, raw, |s| parse(s).map_err(not_one_of), out, reasons);
}

impl ListParams {
    /// Reads the decoded query pairs of `GET /api/v1/customers` with the server's rules,
    /// reporting every problem at once. Repeated parameters add to the same list; list values
    /// are normalised (emails and country codes lowercased) and kept once; cursors come back
    /// as `cus_<uuid>`. A `limit` above `u32::MAX` is kept as `u32::MAX` (it is clamped to
    /// [`MAX_LIST_LIMIT`] anyway).
    pub fn from_query(pairs: &[(String, String)]) -> Result<Self, Vec<FailureReason>> {
        let mut reasons = Vec::new();
        let mut p = ListParams::default();
        for (key, value) in pairs {
            let r = &mut reasons;
            match key.as_str() {
                "limit" => {
                    p.limit =
                        integer("limit", value, 1, r).map(|n| u32::try_from(n).unwrap_or(u32::MAX));
                }
                "offset" => {
                    p.offset = integer("offset", value, 0, r).and_then(|n| u64::try_from(n).ok());
                }
                "email" => parse::comma_list(
                    "email",
                    value,
                    |s| fields::email(s).map(|e| fields::email_key(&e)),
                    &mut p.email,
                    r,
                ),
                "country_code" => parse::comma_list(
                    "country_code",
                    value,
                    fields::country_code,
                    &mut p.country_code,
                    r,
                ),
                "document_type" => {
                    list_item(key, value, DocumentType::parse, &mut p.document_type, r)
                }
                "status" => list_item(key, value, CustomerStatus::parse, &mut p.status, r),
                "starting_after" => p.starting_after = cursor("starting_after", value, r),
                "ending_before" => p.ending_before = cursor("ending_before", value, r),
                "provider" => list_item(key, value, Provider::parse, &mut p.provider, r),
                "target_role" => list_item(key, value, TargetRole::parse, &mut p.target_role, r),
                "provider_registration_status" => list_item(
                    key,
                    value,
                    RegistrationStatus::parse,
                    &mut p.provider_registration_status,
                    r,
                ),
                other => r.push(unknown_parameter(other)),
            }
        }
        let has = |name: &str| pairs.iter().any(|(k, _)| k == name);
        let (has_after, has_before) = (has("starting_after"), has("ending_before"));
        if has_after && has_before {
            reasons.push(FailureReason::new(
                ReasonCode::InvalidInput,
                "starting_after and ending_before are mutually exclusive",
                &["starting_after", "ending_before"],
            ));
        }
        if has("offset") && (has_after || has_before) {
            reasons.push(FailureReason::new(
                ReasonCode::InvalidInput,
                "offset cannot be combined with a cursor",
                &["offset"],
            ));
        }
        done(p, reasons)
    }

    /// The page size the server applies: `limit` (default [`DEFAULT_LIST_LIMIT`]) clamped to
    /// [`MAX_LIST_LIMIT`].
    pub fn applied_limit(&self) -> u32 {
        self.limit.unwrap_or(DEFAULT_LIST_LIMIT).min(MAX_LIST_LIMIT)
    }

    /// `starting_after` as an id (`None` when absent or not a customer id).
    pub fn starting_after_id(&self) -> Option<CustomerId> {
        self.starting_after
            .as_deref()
            .and_then(|s| CustomerId::parse(s).ok())
    }

    /// `ending_before` as an id (`None` when absent or not a customer id).
    pub fn ending_before_id(&self) -> Option<CustomerId> {
        self.ending_before
            .as_deref()
            .and_then(|s| CustomerId::parse(s).ok())
    }
}

impl BalanceFilter {
    /// Reads the decoded query pairs of `GET /api/v1/customers/{id}/balances` with the
    /// server's rules (`provider` and `role` comma lists, nothing else), reporting every
    /// problem at once.
    pub fn from_query(pairs: &[(String, String)]) -> Result<Self, Vec<FailureReason>> {
        let (mut f, mut reasons) = (BalanceFilter::default(), Vec::new());
        for (key, value) in pairs {
            match key.as_str() {
                "provider" => list_item(key, value, Provider::parse, &mut f.provider, &mut reasons),
                "role" => list_item(key, value, TargetRole::parse, &mut f.role, &mut reasons),
                other => reasons.push(unknown_parameter(other)),
            }
        }
        done(f, reasons)
    }
}

impl SchemaQuery {
    /// Reads the decoded query pairs of `GET /api/v1/provider-registration/schema` with the
    /// server's rules: `provider` required (the first one counts), nothing else allowed.
    pub fn from_query(pairs: &[(String, String)]) -> Result<Self, Vec<FailureReason>> {
        let mut reasons: Vec<FailureReason> = pairs
            .iter()
            .filter(|(k, _)| k != "provider")
            .map(|(k, _)| unknown_parameter(k))
            .collect();
        let provider = match pairs.iter().find(|(k, _)| k == "provider") {
            None => {
                reasons.push(FailureReason::new(
                    ReasonCode::MissingRequiredInformation,
                    "provider is required",
                    &["provider"],
                ));
                None
            }
            Some((_, v)) => Provider::parse(v)
                .map_err(|e| reasons.push(FailureReason::invalid("provider", e.to_string())))
                .ok(),
        };
        match provider {
            Some(provider) if reasons.is_empty() => Ok(SchemaQuery { provider }),
            _ => Err(reasons),
        }
    }
}

deserialize_via_from_query!(ListParams);
deserialize_via_from_query!(BalanceFilter);
deserialize_via_from_query!(SchemaQuery);

#[cfg(test)]
#[path = "list_tests.rs"]
mod tests;

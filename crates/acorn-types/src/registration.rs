//! Provider registrations and provider schemas (contract §6).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::enums::{DocumentsState, Provider, RegistrationStatus, TargetRole};

fn documents_none() -> DocumentsState {
    DocumentsState::None
}

/// A customer's registration with one provider in one role (contract §6). Returned by
/// `get_registration_status`, `submit_registration` and `populate_platform`.
///
/// Every field is always written (unset ones as `null`); reading tolerates the optional ones
/// being absent. `Debug` hides `provider_data` and `provider_response` (may carry PII).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Registration {
    /// `preg_…`.
    pub id: String,
    /// The provider.
    pub provider: Provider,
    /// The role at that provider.
    pub target_role: TargetRole,
    /// Where the registration stands.
    pub status: RegistrationStatus,
    /// The provider's id for this customer, once known.
    #[serde(default)]
    pub provider_customer_id: Option<String>,
    /// Provider-specific data given by the merchant (submit, populate platform).
    #[serde(default)]
    pub provider_data: Option<Map<String, Value>>,
    /// The provider's last raw answer.
    #[serde(default)]
    pub provider_response: Option<Value>,
    /// Why the provider rejected it, if it did.
    #[serde(default)]
    pub rejection_reason: Option<String>,
    /// Provider readiness details.
    #[serde(default)]
    pub readiness: Option<Value>,
    /// The provider's failure reasons.
    #[serde(default)]
    pub failure_reasons: Option<Value>,
    /// What changed in the last provider update.
    #[serde(default)]
    pub changes: Option<Value>,
    /// Whether the merchant (or customer) must act.
    #[serde(default)]
    pub action_required: bool,
    /// Where the registration's documents stand.
    #[serde(default = "documents_none")]
    pub documents: DocumentsState,
    /// Whether the provider flagged it for manual review.
    #[serde(default)]
    pub manual_review: bool,
    /// Customer fields the provider still needs.
    #[serde(default)]
    pub missing_fields: Vec<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("id", &self.id)
            .field("provider", &self.provider)
            .field("target_role", &self.target_role)
            .field("status", &self.status)
            .field("documents", &self.documents)
            .field("manual_review", &self.manual_review)
            .field("missing_fields", &self.missing_fields)
            .field("action_required", &self.action_required)
            .finish_non_exhaustive()
    }
}

/// `data` of `GET /api/v1/provider-registration/schema?provider=…`: `{ "schema": … }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderSchemaResponse {
    /// The provider's registration requirements.
    pub schema: ProviderSchema,
}

/// What a provider needs before a registration can be submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderSchema {
    /// The provider described.
    pub provider: Provider,
    /// The roles one can register in.
    pub allowed_roles: Vec<TargetRole>,
    /// Requirements per role.
    pub roles: BTreeMap<TargetRole, RoleSchema>,
    /// Customer fields every role needs.
    pub global_required_fields: Vec<String>,
}

/// Requirements of one role at a provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleSchema {
    /// Customer fields this role needs (beyond the global ones).
    pub required_fields: Vec<String>,
    /// Keys `provider_data` must carry (e.g. `["account_type"]`).
    pub provider_data_required: Vec<String>,
    /// A JSON Schema describing `provider_data`.
    pub provider_data_schema: Value,
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn wire() -> Value {
        json!({ "id": "preg_1", "provider": "stripe", "target_role": "connected_account",
          "status": "submitted", "provider_customer_id": null,
          "provider_data": {"account_type": "express"},
          "provider_response": null, "rejection_reason": null, "readiness": null,
          "failure_reasons": null, "changes": null, "action_required": false,
          "documents": "none", "manual_review": false, "missing_fields": [],
          "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z" })
    }

    #[test]
    fn registration_round_trips_exactly() {
        let r: Registration = serde_json::from_value(wire()).expect("parse");
        assert_eq!(r.status, RegistrationStatus::Submitted);
        assert_eq!(serde_json::to_value(&r).expect("json"), wire());
        assert!(!format!("{r:?}").contains("express"));
    }

    #[test]
    fn registration_reads_a_sparse_body() {
        let r: Registration = serde_json::from_value(json!({
            "id": "preg_1", "provider": "stripe", "target_role": "customer",
            "status": "APPROVED", "created_at": "t", "updated_at": "t"
        }))
        .expect("parse");
        assert_eq!(r.documents, DocumentsState::None);
        assert_eq!(r.status, RegistrationStatus::Approved);
    }

    #[test]
    fn schema_round_trips() {
        let v = json!({ "schema": { "provider": "stripe",
            "allowed_roles": ["customer", "connected_account"],
            "roles": { "connected_account": { "required_fields": ["country_code"],
                "provider_data_required": ["account_type"],
                "provider_data_schema": {"type": "object"} } },
            "global_required_fields": ["email"] } });
        let s: ProviderSchemaResponse = serde_json::from_value(v.clone()).expect("parse");
        assert!(s.schema.roles.contains_key(&TargetRole::ConnectedAccount));
        assert_eq!(serde_json::to_value(&s).expect("json"), v);
    }
}

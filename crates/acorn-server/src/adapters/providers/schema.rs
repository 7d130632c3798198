//! What each provider needs before a registration can be submitted (contract §6), and the
//! check that `submit` runs against it.

use acorn_types::{
    Customer, FailureReason, Provider, ProviderSchema, ReasonCode, RoleSchema, TargetRole,
};
use serde_json::{json, Map, Value};

/// The type of one `provider_data` key.
#[derive(Debug, Clone, Copy)]
pub enum DataKind {
    /// A string from a closed set.
    Enum(&'static [&'static str]),
    /// Any non-empty string.
    Text,
    /// A JSON object.
    Object,
}

/// One `provider_data` key.
#[derive(Debug, Clone, Copy)]
pub struct DataField {
    pub name: &'static str,
    pub kind: DataKind,
    pub required: bool,
}

/// One role a provider accepts.
#[derive(Debug)]
pub struct RoleSpec {
    pub role: TargetRole,
    pub required_fields: &'static [&'static str],
    pub provider_data: &'static [DataField],
}

/// A provider's requirements.
#[derive(Debug)]
pub struct ProviderSpec {
    pub provider: Provider,
    pub global_required_fields: &'static [&'static str],
    pub roles: &'static [RoleSpec],
}

const fn role(
    role: TargetRole,
    required_fields: &'static [&'static str],
    provider_data: &'static [DataField],
) -> RoleSpec {
    RoleSpec {
        role,
        required_fields,
        provider_data,
    }
}

const ACCOUNT_TYPE: DataField = DataField {
    name: "account_type",
    kind: DataKind::Enum(&["standard", "express", "custom"]),
    required: true,
};
const BUSINESS_TYPE: DataField = DataField {
    name: "business_type",
    kind: DataKind::Enum(&["individual", "company"]),
    required: false,
};
const BANK_ACCOUNT: DataField = DataField {
    name: "bank_account",
    kind: DataKind::Object,
    required: true,
};
const PIX_KEY: DataField = DataField {
    name: "pix_key",
    kind: DataKind::Text,
    required: false,
};

use TargetRole::{ConnectedAccount, Customer as Cust, Subaccount};

static SPECS: &[ProviderSpec] = &[
    ProviderSpec {
        provider: Provider::Stripe,
        global_required_fields: &["email"],
        roles: &[
            role(Cust, &[], &[]),
            role(
                ConnectedAccount,
                &["country_code"],
                &[ACCOUNT_TYPE, BUSINESS_TYPE],
            ),
        ],
    },
    ProviderSpec {
        provider: Provider::Bridge,
        global_required_fields: &["email", "first_name", "last_name"],
        roles: &[role(Cust, &["dob", "country_code"], &[])],
    },
    ProviderSpec {
        provider: Provider::PagarMe,
        global_required_fields: &["email", "document_number", "document_type"],
        roles: &[
            role(Cust, &[], &[]),
            role(Subaccount, &["first_name", "last_name"], &[BANK_ACCOUNT]),
        ],
    },
    ProviderSpec {
        provider: Provider::Brla,
        global_required_fields: &["email", "document_number"],
        roles: &[role(Cust, &["dob"], &[PIX_KEY])],
    },
    ProviderSpec {
        provider: Provider::Avenia,
        global_required_fields: &["email", "document_number"],
        roles: &[
            role(Cust, &["first_name", "last_name"], &[]),
            role(Subaccount, &["company_name"], &[]),
        ],
    },
    ProviderSpec {
        provider: Provider::MercadoPago,
        global_required_fields: &["email"],
        roles: &[
            role(Cust, &[], &[]),
            role(ConnectedAccount, &["country_code"], &[]),
        ],
    },
    ProviderSpec {
        provider: Provider::FacilitaPay,
        global_required_fields: &["email", "document_number"],
        roles: &[role(Cust, &[], &[])],
    },
    ProviderSpec {
        provider: Provider::InterBank,
        global_required_fields: &["email", "document_number"],
        roles: &[
            role(Cust, &[], &[]),
            role(Subaccount, &["company_name"], &[]),
        ],
    },
    ProviderSpec {
        provider: Provider::Konduto,
        global_required_fields: &["email"],
        roles: &[role(Cust, &[], &[])],
    },
];

/// The requirements of `provider`.
pub fn spec(provider: Provider) -> &'static ProviderSpec {
    // Every provider has an entry (checked by a test), so the fallback is never used.
    SPECS
        .iter()
        .find(|s| s.provider == provider)
        .unwrap_or(&SPECS[0])
}

impl ProviderSpec {
    /// The role's requirements, if the provider accepts that role.
    pub fn role(&self, role: TargetRole) -> Option<&'static RoleSpec>
    where
        Self: 'static,
    {
        self.roles.iter().find(|r| r.role == role)
    }

    /// The roles accepted, comma separated (for messages).
    pub fn allowed_roles(&self) -> String {
        self.roles
            .iter()
            .map(|r| r.role.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The wire form (`GET /provider-registration/schema`).
    pub fn to_schema(&self) -> ProviderSchema {
        ProviderSchema {
            provider: self.provider,
            allowed_roles: self.roles.iter().map(|r| r.role).collect(),
            roles: self.roles.iter().map(|r| (r.role, r.to_schema())).collect(),
            global_required_fields: self
                .global_required_fields
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        }
    }
}

impl RoleSpec {
    fn to_schema(&self) -> RoleSchema {
        let mut properties = Map::new();
        for f in self.provider_data {
            let p = match f.kind {
                DataKind::Enum(values) => json!({"type": "string", "enum": values}),
                DataKind::Text => json!({"type": "string", "minLength": 1}),
                DataKind::Object => json!({"type": "object"}),
            };
            properties.insert(f.name.to_owned(), p);
        }
        let required: Vec<&str> = self
            .provider_data
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name)
            .collect();
        RoleSchema {
            required_fields: self
                .required_fields
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            provider_data_required: required.iter().map(|s| (*s).to_owned()).collect(),
            provider_data_schema: json!({"type": "object", "properties": properties, "required": required}),
        }
    }
}

/// Checks a customer and its `provider_data` against a provider role; every problem at once.
pub fn check(
    spec: &ProviderSpec,
    role: &RoleSpec,
    customer: &Customer,
    provider_data: &Map<String, Value>,
) -> Vec<FailureReason> {
    let mut reasons = Vec::new();
    let profile = serde_json::to_value(customer).unwrap_or(Value::Null);
    for field in spec
        .global_required_fields
        .iter()
        .chain(role.required_fields)
    {
        if profile.get(*field).is_none_or(Value::is_null) {
            reasons.push(FailureReason::new(
                ReasonCode::MissingRequiredInformation,
                format!(
                    "{} requires the customer's {field} for {}",
                    spec.provider, role.role
                ),
                &[field],
            ));
        }
    }
    for f in role.provider_data {
        let path = format!("provider_data.{}", f.name);
        match (provider_data.get(f.name), f.kind) {
            (None | Some(Value::Null), _) if f.required => reasons.push(FailureReason::new(
                ReasonCode::MissingRequiredInformation,
                format!("{path} is required for {} {}", spec.provider, role.role),
                &[&path],
            )),
            (None | Some(Value::Null), _) => {}
            (Some(Value::String(s)), DataKind::Enum(values)) if values.contains(&s.as_str()) => {}
            (Some(_), DataKind::Enum(values)) => {
                reasons.push(FailureReason::invalid(
                    &path,
                    format!("{path} must be one of: {}", values.join(", ")),
                ));
            }
            (Some(Value::String(s)), DataKind::Text) if !s.trim().is_empty() => {}
            (Some(_), DataKind::Text) => reasons.push(FailureReason::invalid(
                &path,
                format!("{path} must be a non-empty string"),
            )),
            (Some(Value::Object(_)), DataKind::Object) => {}
            (Some(_), DataKind::Object) => reasons.push(FailureReason::invalid(
                &path,
                format!("{path} must be an object"),
            )),
        }
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_has_a_spec_with_a_customer_role() {
        for p in Provider::ALL {
            let s = spec(*p);
            assert_eq!(s.provider, *p);
            assert!(s.role(TargetRole::Customer).is_some(), "{p}");
            assert!(s.global_required_fields.contains(&"email"));
        }
    }

    #[test]
    fn schema_lists_required_provider_data() {
        let schema = spec(Provider::Stripe).to_schema();
        let ca = &schema.roles[&TargetRole::ConnectedAccount];
        assert_eq!(ca.required_fields, ["country_code"]);
        assert_eq!(ca.provider_data_required, ["account_type"]);
        assert_eq!(
            ca.provider_data_schema["properties"]["account_type"]["enum"][1],
            "express"
        );
    }
}

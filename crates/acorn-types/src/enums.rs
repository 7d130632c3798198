//! Closed vocabularies of the contract: each parses case-insensitively once, at the edge, and
//! prints in its canonical wire spelling.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value outside a closed vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a valid {kind}; allowed: {allowed}")]
pub struct UnknownValue {
    /// What was being parsed (`provider`, `document_type`, …).
    pub kind: &'static str,
    /// What was received.
    pub value: String,
    /// The allowed values, comma separated.
    pub allowed: String,
}

/// `Display`, `FromStr`, `Serialize` and `Deserialize` through a type's `as_str` and `parse`:
/// the wire form of every closed vocabulary, in one place.
macro_rules! string_serde {
    ($name:ident) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use string_serde;

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident, $kind:literal, { $($(#[$vdoc:meta])* $variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $(#[doc = concat!("`", $wire, "`")] $(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The canonical wire spelling.
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            /// Parses any capitalisation of a wire spelling (surrounding spaces ignored).
            pub fn parse(s: &str) -> Result<Self, UnknownValue> {
                let t = s.trim();
                $(if t.eq_ignore_ascii_case($wire) { return Ok($name::$variant); })+
                Err(UnknownValue {
                    kind: $kind,
                    value: s.to_owned(),
                    allowed: Self::allowed(),
                })
            }

            /// The allowed spellings, comma separated (for error messages).
            pub fn allowed() -> String {
                [$($wire),+].join(", ")
            }
        }

        string_serde!($name);

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                crate::openapi::vocabulary($kind, &[$($wire),+])
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

wire_enum!(
    /// A merchant's mode (contract §13), chosen when the merchant is created: `sandbox`
    /// merchants get simulated providers and the sandbox routes, `live` merchants only real
    /// connectors. Every object the API returns says which in `livemode`.
    Mode, "mode", { Sandbox => "sandbox", Live => "live" }
);

impl Mode {
    /// `true` for a live merchant: the value of every object's `livemode`.
    pub fn is_live(self) -> bool {
        self == Mode::Live
    }
}

wire_enum!(
    /// Kind of identity document (`document_type`).
    DocumentType, "document_type", {
        Cpf => "cpf", Cnpj => "cnpj", Passport => "passport", Ssn => "ssn", Itin => "itin",
        Cc => "cc", Curp => "curp", PersonalTaxId => "personal_tax_id",
        CompanyTaxId => "company_tax_id",
    }
);

wire_enum!(
    /// `gender`.
    Gender, "gender", { Male => "male", Female => "female", Other => "other" }
);

wire_enum!(
    /// The customer's KYC summary, derived from its registrations (contract §5). UPPERCASE.
    CustomerStatus, "customer status", {
        NotStarted => "NOT_STARTED", Pending => "PENDING", Initiated => "INITIATED",
        Processing => "PROCESSING", AwaitingConfirmation => "AWAITING_CONFIRMATION",
        InReview => "IN_REVIEW", Incomplete => "INCOMPLETE",
        DocumentRequired => "DOCUMENT_REQUIRED", DocumentPending => "DOCUMENT_PENDING",
        DocumentApproved => "DOCUMENT_APPROVED", Approved => "APPROVED", Rejected => "REJECTED",
    }
);

wire_enum!(
    /// A payment provider (contract §6).
    Provider, "provider", {
        Stripe => "stripe", Bridge => "bridge", PagarMe => "pagar_me", Brla => "brla",
        Avenia => "avenia", MercadoPago => "mercado_pago", FacilitaPay => "facilita_pay",
        InterBank => "inter_bank", Konduto => "konduto",
    }
);

wire_enum!(
    /// The role a customer plays at a provider.
    TargetRole, "target_role", {
        Customer => "customer", ConnectedAccount => "connected_account",
        Subaccount => "subaccount",
    }
);

wire_enum!(
    /// A provider registration's status (lowercase on the wire).
    RegistrationStatus, "registration status", {
        NotSubmitted => "not_submitted", Submitted => "submitted",
        AwaitingConfirmation => "awaiting_confirmation", Processing => "processing",
        Approved => "approved", Rejected => "rejected", Restricted => "restricted",
        Cancelled => "cancelled", Error => "error",
    }
);

wire_enum!(
    /// Where a registration's documents stand.
    DocumentsState, "documents state", {
        None => "none", Required => "required", Submitted => "submitted", Accepted => "accepted",
    }
);

wire_enum!(
    /// Type of an uploaded KYC file.
    FileType, "file_type", {
        SsnBack => "SSN_BACK", SsnFront => "SSN_FRONT", CpfDocument => "CPF_DOCUMENT",
        Passport => "PASSPORT", AddressProof => "ADDRESS_PROOF",
    }
);

wire_enum!(
    /// Customer fields a sync can push to a provider.
    SyncField, "sync field", {
        Email => "email", FirstName => "first_name", LastName => "last_name", Phone => "phone",
        Shipping => "shipping",
    }
);

wire_enum!(
    /// Where a sync attempt stands (contract §4.5): `scheduled` (waiting for its next try),
    /// `running`, then `succeeded` or — after the last try — `failed`.
    SyncAttemptStatus, "sync attempt status", {
        Scheduled => "scheduled", Running => "running", Succeeded => "succeeded",
        Failed => "failed",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_is_case_insensitive_and_prints_canonical() {
        assert_eq!(DocumentType::parse("CPF"), Ok(DocumentType::Cpf));
        assert_eq!(
            DocumentType::parse("Personal_Tax_Id")
                .map(|d| d.to_string())
                .as_deref(),
            Ok("personal_tax_id")
        );
        assert_eq!(
            CustomerStatus::parse("not_started"),
            Ok(CustomerStatus::NotStarted)
        );
        assert_eq!(CustomerStatus::NotStarted.as_str(), "NOT_STARTED");
        assert_eq!(Provider::parse("PAGAR_ME"), Ok(Provider::PagarMe));
        assert_eq!(FileType::parse("passport"), Ok(FileType::Passport));
    }

    #[test]
    fn unknown_values_name_the_allowed_ones() {
        let err = Provider::parse("nope").unwrap_err();
        assert!(err.to_string().contains("stripe"));
        assert!(Gender::parse("").is_err());
        assert!(TargetRole::parse("customers").is_err());
    }

    #[test]
    fn every_value_round_trips() {
        for s in CustomerStatus::ALL {
            assert_eq!(CustomerStatus::parse(s.as_str()).as_ref(), Ok(s));
        }
        for s in RegistrationStatus::ALL {
            assert_eq!(
                RegistrationStatus::parse(&s.as_str().to_uppercase()).as_ref(),
                Ok(s)
            );
        }
        assert_eq!(CustomerStatus::ALL.len(), 12);
    }
}

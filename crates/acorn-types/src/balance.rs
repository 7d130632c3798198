//! A customer's balances at its provider accounts (contract §4.6).

use serde::{Deserialize, Serialize};

use crate::enums::{Provider, TargetRole};

/// The buckets of an account's balance in each currency, as the sandbox ledger and the
/// balance totals name them.
pub const BUCKETS: [&str; 4] = ["available", "pending", "reserved", "instant_payouts"];

/// `data` of `GET /api/v1/customers/{id}/balances`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balances {
    /// When the figures were taken (RFC 3339).
    pub as_of: String,
    /// The filters the server applied.
    pub filters: BalanceFilters,
    /// One entry per matching registration (provider account).
    pub balances: Vec<BalanceEntry>,
}

/// The filters echoed back in [`Balances`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceFilters {
    /// The customer asked about.
    pub customer_id: String,
    /// The `provider` filter as given (comma-separated, lowercased), or `null` when absent.
    pub provider: Option<String>,
    /// The `role` filter as given (comma-separated, lowercased), or `null` when absent.
    pub role: Option<String>,
}

/// The balance of one provider account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceEntry {
    /// The provider's account id (e.g. `acct_…`).
    pub account_id: String,
    /// The provider.
    pub provider: Provider,
    /// Whose account it is, and in which role.
    pub customer: BalanceHolder,
    /// When these figures were taken (RFC 3339).
    pub as_of: String,
    /// One total per currency; empty when the account has no money yet.
    pub totals: Vec<BalanceTotal>,
}

/// The customer side of a [`BalanceEntry`]: `{id, role}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceHolder {
    /// The customer id.
    pub id: String,
    /// The role the account belongs to.
    pub role: TargetRole,
}

/// Amounts in one currency, each in the currency's minor unit (cents for `usd`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceTotal {
    /// Lowercase ISO 4217 code.
    pub currency: String,
    /// Money that can be paid out now.
    pub available: i64,
    /// Money not yet available.
    pub pending: i64,
    /// Money held back.
    pub reserved: i64,
    /// Money available for instant payouts.
    pub instant_payouts: i64,
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn contract_example_round_trips() {
        let v = json!({
          "as_of": "2026-11-28T10:00:00Z",
          "filters": { "customer_id": "cus_1", "provider": "stripe", "role": "connected_account" },
          "balances": [
            { "account_id": "acct_1", "provider": "stripe",
              "customer": { "id": "cus_1", "role": "connected_account" },
              "as_of": "2026-11-28T10:00:00Z",
              "totals": [ { "currency": "usd", "available": 1250, "pending": 0,
                            "reserved": 0, "instant_payouts": 0 } ] }
          ]
        });
        let b: Balances = serde_json::from_value(v.clone()).expect("parse");
        assert_eq!(b.balances[0].totals[0].available, 1250);
        assert_eq!(b.balances[0].customer.role, TargetRole::ConnectedAccount);
        assert_eq!(serde_json::to_value(&b).expect("json"), v);
    }

    #[test]
    fn absent_filters_are_null() {
        let b = Balances {
            as_of: "t".into(),
            filters: BalanceFilters {
                customer_id: "cus_1".into(),
                provider: None,
                role: None,
            },
            balances: vec![],
        };
        assert_eq!(
            serde_json::to_value(&b).expect("json")["filters"],
            json!({"customer_id": "cus_1", "provider": null, "role": null})
        );
    }
}

//! Sync attempts (contract §4.5): `GET /api/v1/customers/{id}/sync-attempts`.

use serde::{Deserialize, Serialize};

use crate::enums::{Provider, SyncAttemptStatus, SyncField};

/// One sync attempt: pushing some customer fields to one provider, tried until it succeeds or
/// runs out of tries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncAttempt {
    /// `sync_…`.
    pub id: String,
    /// The customer synced.
    pub customer_id: String,
    /// The provider pushed to.
    pub provider: Provider,
    /// The field groups pushed.
    pub fields: Vec<SyncField>,
    /// Where the attempt stands.
    pub status: SyncAttemptStatus,
    /// Tries made so far.
    pub attempts: i64,
    /// Tries allowed.
    pub max_attempts: i64,
    /// When the next try runs (RFC 3339), while one is scheduled.
    pub next_attempt_at: Option<String>,
    /// The last try's error, if it failed.
    pub last_error: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// When it succeeded or finally failed (RFC 3339).
    pub completed_at: Option<String>,
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_servers_shape_round_trips() {
        let wire = json!({
            "id": "sync_1", "customer_id": "cus_1", "provider": "stripe",
            "fields": ["email", "shipping"], "status": "scheduled", "attempts": 1,
            "max_attempts": 5, "next_attempt_at": "2026-01-01T00:00:01.000Z",
            "last_error": "stripe: timeout", "created_at": "2026-01-01T00:00:00.000Z",
            "updated_at": "2026-01-01T00:00:00.500Z", "completed_at": null
        });
        let a: SyncAttempt = serde_json::from_value(wire.clone()).expect("parse");
        assert_eq!(a.status, SyncAttemptStatus::Scheduled);
        assert_eq!(a.fields, [SyncField::Email, SyncField::Shipping]);
        assert_eq!(serde_json::to_value(&a).expect("json"), wire);
        for s in SyncAttemptStatus::ALL {
            assert_eq!(s.as_str(), s.as_str().to_lowercase());
        }
    }
}

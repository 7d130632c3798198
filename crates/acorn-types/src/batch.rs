//! Batch create (`POST /api/v1/customers/batch`): many customers in one request, each with its
//! own `Idempotency-Key`. An Acorn extension to the Oak API for bulk imports; every item gets
//! exactly the answer `POST /api/v1/customers` with that key and body would have given.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::CustomerRequest;

/// The most items one batch may hold.
pub const BATCH_MAX_ITEMS: usize = 100;

/// The body of a batch create.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CustomerBatchRequest {
    /// 1 to [`BATCH_MAX_ITEMS`] customers, created in this order.
    pub items: Vec<CustomerBatchItem>,
}

/// One customer of a batch.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CustomerBatchItem {
    /// This item's `Idempotency-Key` (1–255 visible ASCII characters). The same key replays
    /// the first answer, whether it was first used here or on `POST /api/v1/customers`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// The customer, as `POST /api/v1/customers` takes it.
    pub customer: CustomerRequest,
}

/// The `data` of a batch create's response.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CustomerBatchResponse {
    /// One result per item, in the order of the request.
    pub results: Vec<CustomerBatchResult>,
}

/// What became of one item.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CustomerBatchResult {
    /// The HTTP status `POST /api/v1/customers` would have answered (200 when created).
    pub status: u16,
    /// Whether this is the stored answer of an earlier use of the item's key.
    pub replayed: bool,
    /// The envelope `POST /api/v1/customers` would have answered: `{msg, data: customer}` on
    /// success, `{msg, error_code, failure_reasons, data: null}` otherwise.
    pub body: Value,
}

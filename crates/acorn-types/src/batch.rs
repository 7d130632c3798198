//! Batch create (`POST /api/v1/customers/batch`): many customers in one request, each with its
//! own `Idempotency-Key`. An Acorn extension to the Oak API for bulk imports; every item gets
//! exactly the answer `POST /api/v1/customers` with that key and body would have given.
//!
//! Two views of one body: [`CustomerBatchRequest`] is what the SDK builds (typed customers);
//! [`CustomerBatchBody`] is what the server reads ([`CustomerBatchBody::from_body`]): the batch's
//! shape is checked as a whole, while each customer object is kept as sent, because its own
//! field errors are that item's answer (and its fingerprint is of the JSON as sent).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::customer::{CustomerPatch, WriteMode};
use crate::envelope::{FailureReason, ReasonCode};
use crate::idempotency::IdempotencyKey;
use crate::requests::parse::joined;
use crate::requests::FromBody;
use crate::CustomerRequest;

/// The most items one batch may hold.
pub const BATCH_MAX_ITEMS: usize = 100;

/// The body of a batch create, as the SDK sends it. Deserializes with
/// [`CustomerBatchBody::from_body`], then each customer with [`CustomerRequest::from_body`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct CustomerBatchRequest {
    /// 1 to [`BATCH_MAX_ITEMS`] customers, created in this order.
    pub items: Vec<CustomerBatchItem>,
}

/// One customer of a batch.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CustomerBatchItem {
    /// This item's `Idempotency-Key` (1–255 printable ASCII characters, see
    /// [`is_valid_idempotency_key`](crate::is_valid_idempotency_key)). The same key replays
    /// the first answer, whether it was first used here or on `POST /api/v1/customers`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// The customer, as `POST /api/v1/customers` takes it.
    pub customer: CustomerRequest,
}

/// A batch body as the server reads it: the shape checked, each customer as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerBatchBody {
    /// The items, in the order of the request.
    pub items: Vec<CustomerBatchBodyItem>,
}

/// One item of a [`CustomerBatchBody`]. `Debug` shows the customer's keys, not its values.
#[derive(Clone, PartialEq)]
pub struct CustomerBatchBodyItem {
    /// The item's key, if it has one.
    pub idempotency_key: Option<IdempotencyKey>,
    /// The customer object exactly as sent (not yet validated).
    pub customer: Map<String, Value>,
}

impl fmt::Debug for CustomerBatchBodyItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomerBatchBodyItem")
            .field("idempotency_key", &self.idempotency_key)
            .field("customer_keys", &self.customer.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl CustomerBatchBodyItem {
    /// The customer validated as `POST /api/v1/customers` validates it.
    pub fn patch(&self) -> Result<CustomerPatch, Vec<FailureReason>> {
        CustomerPatch::parse(&self.customer, WriteMode::Create)
    }
}

impl FromBody for CustomerBatchBody {
    const NAME: &'static str = "CustomerBatchRequest";

    /// Reads a batch body with the server's rules, naming every malformed part at once: only
    /// `items`, an array of 1 to [`BATCH_MAX_ITEMS`] objects, each with only
    /// `idempotency_key` (a valid key or null) and `customer` (an object, required). A
    /// customer's own field errors are not the batch's: see [`CustomerBatchBodyItem::patch`].
    fn from_body(body: &Map<String, Value>) -> Result<Self, Vec<FailureReason>> {
        let mut reasons = Vec::new();
        for key in body.keys().filter(|k| k.as_str() != "items") {
            reasons.push(FailureReason::invalid(
                key,
                format!("{key} is not a known field (a batch has only items)"),
            ));
        }
        let items = items_of(body, &mut reasons);
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if let Some(item) = read_item(i, item, &mut reasons) {
                out.push(item);
            }
        }
        if reasons.is_empty() {
            Ok(Self { items: out })
        } else {
            Err(reasons)
        }
    }

    #[cfg(feature = "openapi")]
    fn schema() -> Value {
        use crate::openapi::nullable;
        serde_json::json!({"type": "object", "required": ["items"], "additionalProperties": false, "properties": {
            "items": {"type": "array", "minItems": 1, "maxItems": BATCH_MAX_ITEMS, "items": {
                "type": "object", "required": ["customer"], "additionalProperties": false, "properties": {
                    "idempotency_key": nullable(serde_json::json!({"type": "string", "minLength": 1, "maxLength": 255,
                        "pattern": "^[\\x20-\\x7E]{1,255}$"})),
                    "customer": {"type": "object", "description":
                        "a customer as POST /api/v1/customers takes it (CustomerCreate); its own refusals are that item's result, not the batch's"}}}}}})
    }
}

fn items_of<'a>(body: &'a Map<String, Value>, reasons: &mut Vec<FailureReason>) -> &'a [Value] {
    match body.get("items") {
        Some(Value::Array(items)) if (1..=BATCH_MAX_ITEMS).contains(&items.len()) => items,
        Some(Value::Array(_)) => {
            reasons.push(FailureReason::invalid(
                "items",
                format!("items must hold 1 to {BATCH_MAX_ITEMS} customers"),
            ));
            &[]
        }
        Some(_) => {
            reasons.push(FailureReason::invalid("items", "items must be an array"));
            &[]
        }
        None => {
            reasons.push(FailureReason::new(
                ReasonCode::MissingRequiredInformation,
                "items is required",
                &["items"],
            ));
            &[]
        }
    }
}

fn read_item(
    i: usize,
    item: &Value,
    reasons: &mut Vec<FailureReason>,
) -> Option<CustomerBatchBodyItem> {
    let Value::Object(item) = item else {
        reasons.push(FailureReason::invalid(
            &format!("items[{i}]"),
            format!("items[{i}] must be an object"),
        ));
        return None;
    };
    for key in item
        .keys()
        .filter(|k| !["idempotency_key", "customer"].contains(&k.as_str()))
    {
        let field = format!("items[{i}].{key}");
        reasons.push(FailureReason::invalid(
            &field,
            format!("{field} is not a known field (an item has idempotency_key and customer)"),
        ));
    }
    let key = match item.get("idempotency_key") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(k)) => IdempotencyKey::parse(k).map(Some),
        Some(_) => Err(crate::idempotency::InvalidIdempotencyKey),
    };
    let key = key.unwrap_or_else(|_| {
        let field = format!("items[{i}].idempotency_key");
        reasons.push(FailureReason::invalid(
            &field,
            format!("{field} must be {}", IdempotencyKey::RULE),
        ));
        None
    });
    let field = format!("items[{i}].customer");
    match item.get("customer") {
        Some(Value::Object(customer)) => Some(CustomerBatchBodyItem {
            idempotency_key: key,
            customer: customer.clone(),
        }),
        Some(_) => {
            reasons.push(FailureReason::invalid(
                &field,
                format!("{field} must be an object"),
            ));
            None
        }
        None => {
            reasons.push(FailureReason::new(
                ReasonCode::MissingRequiredInformation,
                format!("{field} is required"),
                &[&field],
            ));
            None
        }
    }
}

impl TryFrom<&CustomerBatchBody> for CustomerBatchRequest {
    type Error = Vec<FailureReason>;

    /// Types every customer (as `POST /api/v1/customers` would), collecting every item's
    /// reasons with their fields prefixed by `items[i].customer.`.
    fn try_from(body: &CustomerBatchBody) -> Result<Self, Self::Error> {
        let mut reasons = Vec::new();
        let mut items = Vec::with_capacity(body.items.len());
        for (i, item) in body.items.iter().enumerate() {
            match CustomerRequest::from_body(&item.customer, WriteMode::Create) {
                Ok(customer) => items.push(CustomerBatchItem {
                    idempotency_key: item.idempotency_key.as_ref().map(|k| k.to_string()),
                    customer,
                }),
                Err(rs) => reasons.extend(rs.into_iter().map(|mut r| {
                    for f in &mut r.fields {
                        *f = format!("items[{i}].customer.{f}");
                    }
                    r
                })),
            }
        }
        if reasons.is_empty() {
            Ok(Self { items })
        } else {
            Err(reasons)
        }
    }
}

impl<'de> Deserialize<'de> for CustomerBatchRequest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let body = Map::<String, Value>::deserialize(d)?;
        CustomerBatchBody::from_body(&body)
            .and_then(|b| Self::try_from(&b))
            .map_err(|reasons| serde::de::Error::custom(joined(&reasons)))
    }
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

#[cfg(test)]
#[path = "batch_tests.rs"]
mod tests;

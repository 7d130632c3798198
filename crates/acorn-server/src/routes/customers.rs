//! Customer endpoints (contract §4.1–4.4).

use acorn_types::{
    ApiResponse, Customer, CustomerBatchResponse, CustomerBatchResult, CustomerList, CustomerPatch,
    FailureReason, ReasonCode, WriteMode, BATCH_MAX_ITEMS,
};
use anyhow::Context;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{Map, Value};

use super::list_query;
use crate::auth::AuthMerchant;
use crate::error::ApiError;
use crate::extract::{query_pairs, CustomerPath, JsonObject};
use crate::idempotency::{json_fingerprint, Idempotency, Success};
use crate::services::batch::{self, BatchItem, ItemOutcome};
use crate::services::customers;
use crate::state::AppState;
use crate::store::batch::KeyTimes;
use crate::store::{now_micros, StoreError, UpdateOutcome};

/// A customer response with its version as a strong `ETag` (usable in `If-Match`).
fn customer_response(msg: &str, customer: Customer) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{}\"", customer.version)).ok();
    let mut response = Json(ApiResponse::new(msg, customer)).into_response();
    if let Some(etag) = etag {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// `POST /api/v1/customers`.
pub async fn create(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    key: Idempotency,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let ok = Success::new(StatusCode::OK, "Customer created");
    let patch = CustomerPatch::parse(&body, WriteMode::Create).map_err(ApiError::validation)?;
    let customer = customers::create(&state.store, merchant, &patch, ok.answer(&key)).await?;
    Ok(customer_response(ok.msg(), customer))
}

/// `GET /api/v1/customers/{id}`.
pub async fn get(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    CustomerPath(id): CustomerPath,
) -> Result<Response, ApiError> {
    let customer = customers::get(&state.store, merchant, id).await?;
    Ok(customer_response("Customer fetched", customer))
}

/// Parses `If-Match: 3`, `"3"` or `W/"3"`.
fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    text.parse::<i64>().map(Some).map_err(|_| {
        ApiError::validation(vec![FailureReason::invalid(
            "If-Match",
            "If-Match must be the customer's version number, e.g. \"3\"",
        )])
    })
}

/// `PUT /api/v1/customers/{id}`.
pub async fn update(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    CustomerPath(id): CustomerPath,
    headers: HeaderMap,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let expected = if_match(&headers)?;
    let patch = CustomerPatch::parse(&body, WriteMode::Update).map_err(ApiError::validation)?;
    let customer = match customers::update(&state.store, merchant, id, &patch, expected).await? {
        UpdateOutcome::Updated(c) | UpdateOutcome::Unchanged(c) => c,
    };
    Ok(customer_response("Customer updated", customer))
}

/// `GET /api/v1/customers`.
pub async fn list(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let parsed = list_query::parse(&query_pairs(raw.as_deref()))?;
    let page = customers::list(&state.store, merchant, &parsed.query).await?;
    let data = CustomerList {
        count: page.count,
        customer_list: page.customers,
        has_more: page.has_more,
    };
    let mut response = Json(ApiResponse::new("Customers fetched", data)).into_response();
    let m = parsed.meta;
    for (name, value) in [
        ("x-limit-requested", m.limit_requested),
        ("x-limit-applied", m.limit_applied),
        ("x-offset-requested", m.offset_requested),
        ("x-offset-applied", m.offset_applied),
    ] {
        response
            .headers_mut()
            .insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
    Ok(response)
}

/// A batch item as sent: its key, if any, and its customer object.
type RawItem = (Option<String>, Map<String, Value>);

/// Reads a batch body into its items, or refuses the whole batch naming every malformed part
/// (a customer's own field errors are that item's answer, not the batch's).
fn batch_items(body: &Map<String, Value>) -> Result<Vec<RawItem>, ApiError> {
    let mut reasons = Vec::new();
    for key in body.keys().filter(|k| k.as_str() != "items") {
        reasons.push(FailureReason::invalid(
            key,
            format!("{key} is not a known field (a batch has only items)"),
        ));
    }
    let items = match body.get("items") {
        Some(Value::Array(items)) if (1..=BATCH_MAX_ITEMS).contains(&items.len()) => {
            items.as_slice()
        }
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
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Value::Object(item) = item else {
            reasons.push(FailureReason::invalid(
                &format!("items[{i}]"),
                format!("items[{i}] must be an object"),
            ));
            continue;
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
            None | Some(Value::Null) => None,
            Some(Value::String(k)) if crate::idempotency::is_valid_key(k) => Some(k.clone()),
            Some(_) => {
                let field = format!("items[{i}].idempotency_key");
                reasons.push(FailureReason::invalid(
                    &field,
                    format!("{field} must be 1 to 255 printable ASCII characters"),
                ));
                None
            }
        };
        match item.get("customer") {
            Some(Value::Object(customer)) => out.push((key, customer.clone())),
            Some(_) => {
                let field = format!("items[{i}].customer");
                reasons.push(FailureReason::invalid(
                    &field,
                    format!("{field} must be an object"),
                ));
            }
            None => {
                let field = format!("items[{i}].customer");
                reasons.push(FailureReason::new(
                    ReasonCode::MissingRequiredInformation,
                    format!("{field} is required"),
                    &[&field],
                ));
            }
        }
    }
    if reasons.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::validation(reasons))
    }
}

/// The wire answer of one batch item: what `POST /api/v1/customers` would have sent.
fn render_item(outcome: &ItemOutcome) -> (u16, String) {
    const CREATED: &str = "Customer created";
    let refusal = |e: ApiError| {
        let (status, body) = e.envelope_text();
        (status.as_u16(), body)
    };
    match outcome {
        ItemOutcome::Created(customer) => (
            200,
            serde_json::to_string(&ApiResponse::new(CREATED, customer)).unwrap_or_default(),
        ),
        ItemOutcome::Invalid(reasons) => refusal(ApiError::validation(reasons.clone())),
        ItemOutcome::Duplicate => refusal(StoreError::Duplicate("email").into()),
        ItemOutcome::Replayed { status, body } => (*status, body.clone()),
        ItemOutcome::Mismatch => refusal(ApiError::validation(vec![FailureReason::new(
            ReasonCode::IdempotencyMismatch,
            "this idempotency_key was already used with a different request (route or body)",
            &["idempotency_key"],
        )])),
        ItemOutcome::InFlight => refusal(ApiError::conflict(
            "a request with this idempotency_key is still being processed; retry later",
        )),
    }
}

/// `POST /api/v1/customers/batch` (an Acorn extension): up to 100 creates in one request and
/// one transaction, each answered as `POST /api/v1/customers` with its key would have been.
pub async fn create_batch(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let items: Vec<BatchItem> = batch_items(&body)?
        .into_iter()
        .map(|(key, customer)| BatchItem {
            key: key.map(|k| (k, json_fingerprint(&customer))),
            patch: CustomerPatch::parse(&customer, WriteMode::Create),
        })
        .collect();
    let config = &state.config;
    let times = KeyTimes {
        lease: micros(config.request_timeout + std::time::Duration::from_secs(30)),
        retention: micros(config.idempotency_retention),
    };
    let outcomes = batch::create_batch(
        &state.store,
        merchant,
        &items,
        &render_item,
        times,
        now_micros(),
    )
    .await?;
    let results = outcomes
        .iter()
        .map(|outcome| {
            let (status, body) = render_item(outcome);
            let body = serde_json::from_str(&body).context("a stored answer is not JSON")?;
            Ok(CustomerBatchResult {
                status,
                replayed: matches!(outcome, ItemOutcome::Replayed { .. }),
                body,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let ok = Success::new(StatusCode::OK, "Batch processed");
    Ok(ok.render(CustomerBatchResponse { results }))
}

fn micros(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX / 4)
}

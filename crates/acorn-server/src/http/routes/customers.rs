//! Customer endpoints (contract §4.1–4.4).

use acorn_types::batch::CustomerBatchBody;
use acorn_types::{
    ApiResponse, Customer, CustomerBatchResponse, CustomerBatchResult, CustomerCreate,
    CustomerDeleted, CustomerList, CustomerUpdate, FailureReason, ReasonCode,
};
use anyhow::Context;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::list_query;
use crate::http::auth::AuthMerchant;
use crate::http::error::ApiError;
use crate::http::extract::{query_pairs, Body, CustomerPath};
use crate::http::idempotency::{json_fingerprint, Idempotency, Success};
use crate::http::state::AppState;
use crate::services::batch::{self, BatchItem, ItemOutcome};
use crate::services::customers;
use crate::store::batch::KeyTimes;
use crate::store::{duration_micros, now_micros, StoreError, UpdateOutcome};

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
#[utoipa::path(
    post,
    path = "/api/v1/customers",
    operation_id = "customers.create",
    tag = "customers",
    summary = "Create a customer",
    request_body = acorn_types::CustomerCreate,
    responses((status = 200, description = "Customer created; ETag is its version", body = crate::http::openapi::markers::CustomerEnvelope))
)]
pub async fn create(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    key: Idempotency,
    Body(CustomerCreate(patch)): Body<CustomerCreate>,
) -> Result<Response, ApiError> {
    let ok = Success::new(StatusCode::OK, "Customer created");
    let customer = customers::create(&state.store, merchant, &patch, ok.answer(&key)).await?;
    Ok(customer_response(ok.msg(), customer))
}

/// `GET /api/v1/customers/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/customers/{id}",
    operation_id = "customers.get",
    tag = "customers",
    summary = "Get a customer",
    responses((status = 200, description = "The customer; ETag is its version", body = crate::http::openapi::markers::CustomerEnvelope))
)]
pub async fn get(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    CustomerPath(id): CustomerPath,
) -> Result<Response, ApiError> {
    let customer = customers::get(&state.store, merchant, id).await?;
    Ok(customer_response("Customer fetched", customer))
}

/// `DELETE /api/v1/customers/{id}`: erases the customer; `{id, deleted: true}`, also when it
/// was erased before.
#[utoipa::path(
    delete,
    path = "/api/v1/customers/{id}",
    operation_id = "customers.delete",
    tag = "customers",
    summary = "Erase a customer: personal data and files gone, email released, registrations kept",
    responses((status = 200, description = "Erased (also when it was erased before)", body = crate::http::openapi::markers::CustomerDeletedEnvelope))
)]
pub async fn erase(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    CustomerPath(id): CustomerPath,
) -> Result<Response, ApiError> {
    customers::erase(&state, merchant, id).await?;
    let body = CustomerDeleted {
        id: id.to_string(),
        deleted: true,
    };
    Ok(Json(ApiResponse::new("Customer deleted", body)).into_response())
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
#[utoipa::path(
    put,
    path = "/api/v1/customers/{id}",
    operation_id = "customers.update",
    tag = "customers",
    summary = "Update a customer (absent = unchanged, null = cleared)",
    request_body = acorn_types::CustomerUpdate,
    params(("If-Match" = Option<String>, Header, description = "the version to update, e.g. \"3\"")),
    responses((status = 200, description = "Customer updated", body = crate::http::openapi::markers::CustomerEnvelope))
)]
pub async fn update(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    CustomerPath(id): CustomerPath,
    headers: HeaderMap,
    Body(CustomerUpdate(patch)): Body<CustomerUpdate>,
) -> Result<Response, ApiError> {
    let expected = if_match(&headers)?;
    let customer = match customers::update(&state.store, merchant, id, &patch, expected).await? {
        UpdateOutcome::Updated(c) | UpdateOutcome::Unchanged(c) => c,
    };
    Ok(customer_response("Customer updated", customer))
}

/// `GET /api/v1/customers`.
#[utoipa::path(
    get,
    path = "/api/v1/customers",
    operation_id = "customers.list",
    tag = "customers",
    summary = "List customers",
    params(("limit" = Option<u32>, Query), ("offset" = Option<u32>, Query), ("email" = Option<String>, Query), ("country_code" = Option<String>, Query), ("document_type" = Option<String>, Query), ("status" = Option<String>, Query), ("provider" = Option<String>, Query), ("target_role" = Option<String>, Query), ("provider_registration_status" = Option<String>, Query), ("starting_after" = Option<String>, Query), ("ending_before" = Option<String>, Query)),
    responses((status = 200, description = "A page of customers", body = crate::http::openapi::markers::CustomerListEnvelope))
)]
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
#[utoipa::path(
    post,
    path = "/api/v1/customers/batch",
    operation_id = "customers.create_batch",
    tag = "customers",
    summary = "Create up to 100 customers, each with its own idempotency_key (Acorn extension)",
    request_body = acorn_types::CustomerBatchBody,
    responses((status = 200, description = "One result per item", body = crate::http::openapi::markers::CustomerBatchEnvelope))
)]
pub async fn create_batch(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    Body(batch_body): Body<CustomerBatchBody>,
) -> Result<Response, ApiError> {
    let items: Vec<BatchItem> = batch_body
        .items
        .iter()
        .map(|item| BatchItem {
            key: item
                .idempotency_key
                .as_ref()
                .map(|k| (k.to_string(), json_fingerprint(&item.customer))),
            patch: item.patch(),
        })
        .collect();
    let config = &state.config;
    let times = KeyTimes {
        lease: duration_micros(config.idempotency_lease()),
        retention: duration_micros(config.idempotency_retention),
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

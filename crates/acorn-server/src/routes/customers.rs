//! Customer endpoints (contract §4.1–4.4).

use acorn_types::{
    ApiResponse, Customer, CustomerList, CustomerPatch, FailureReason, ReasonCode, WriteMode,
};
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::list_query;
use crate::auth::AuthMerchant;
use crate::error::ApiError;
use crate::extract::{query_pairs, CustomerPath, JsonObject};
use crate::idempotency::Success;
use crate::state::AppState;
use crate::store::{now_micros, Page, UpdateOutcome};

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
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let ok = Success::new(StatusCode::OK, "Customer created");
    let patch = CustomerPatch::parse(&body, WriteMode::Create).map_err(ApiError::validation)?;
    let customer = state
        .store
        .create_customer(merchant, &patch, now_micros())
        .await?;
    Ok(customer_response(ok.msg(), customer))
}

/// `GET /api/v1/customers/{id}`.
pub async fn get(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    CustomerPath(id): CustomerPath,
) -> Result<Response, ApiError> {
    let customer = state
        .store
        .get_customer(merchant, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
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
    let customer = match state
        .store
        .update_customer(merchant, id, &patch, expected, now_micros())
        .await?
    {
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
    if let Page::After(cursor) | Page::Before(cursor) = parsed.query.page {
        if !state.store.customer_exists(merchant, cursor).await? {
            let field = if matches!(parsed.query.page, Page::After(_)) {
                "starting_after"
            } else {
                "ending_before"
            };
            return Err(ApiError::validation(vec![FailureReason::new(
                ReasonCode::InvalidCursor,
                format!("{field} does not name one of your customers"),
                &[field],
            )]));
        }
    }
    let page = state.store.list_customers(merchant, &parsed.query).await?;
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

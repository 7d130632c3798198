//! Sync (contract §4.5) and the attempts a merchant can inspect.

use acorn_types::{ApiResponse, SyncAttempt, SyncRequest};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;

use crate::http::auth::AuthMerchant;
use crate::http::error::ApiError;
use crate::http::extract::{Body, CustomerPath};
use crate::http::idempotency::{Idempotency, Success};
use crate::http::state::AppState;
use crate::services::sync::schedule;

/// `POST /api/v1/customers/{id}/sync`.
#[utoipa::path(
    post,
    path = "/api/v1/customers/{id}/sync",
    operation_id = "customers.sync",
    tag = "customers",
    summary = "Schedule a sync to one provider",
    request_body = acorn_types::SyncRequest,
    responses((status = 200, description = "Sync scheduled", body = crate::http::openapi::markers::NullEnvelope))
)]
pub async fn sync(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    CustomerPath(customer): CustomerPath,
    key: Idempotency,
    Body(req): Body<SyncRequest>,
) -> Result<Json<ApiResponse<Value>>, ApiError> {
    let ok = Success::new(StatusCode::OK, "Sync scheduled");
    let Some(provider) = req.provider() else {
        return Err(ApiError::invalid(
            "providers",
            "providers must name exactly one provider",
        ));
    };
    schedule(
        &state,
        merchant,
        customer,
        provider,
        &req.fields,
        ok.answer(&key),
    )
    .await?;
    Ok(Json(ApiResponse::new(ok.msg(), Value::Null)))
}

/// `GET /api/v1/customers/{id}/sync-attempts`, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/customers/{id}/sync-attempts",
    operation_id = "customers.sync_attempts",
    tag = "customers",
    summary = "The customer's sync attempts, newest first",
    responses((status = 200, description = "The attempts", body = crate::http::openapi::markers::SyncAttemptsEnvelope))
)]
pub async fn attempts(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    CustomerPath(customer): CustomerPath,
) -> Result<Json<ApiResponse<Vec<SyncAttempt>>>, ApiError> {
    let list = state.store.sync_attempts(merchant, customer).await?;
    Ok(Json(ApiResponse::new("Sync attempts fetched", list)))
}

//! Sandbox test helpers (contract §7): routed when the server hosts sandbox merchants, and
//! answered only to them (`auth::sandbox_only`; a live merchant gets 404).

use acorn_types::{ApiResponse, Provider, Registration, SandboxStatusRequest, TargetRole};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use crate::http::auth::AuthMerchant;
use crate::http::error::ApiError;
use crate::http::extract::Body;
use crate::http::idempotency::{Idempotency, Success};
use crate::http::state::AppState;
use crate::services::registrations::{set_state, SetState};
use crate::store::RegistrationKey;

use acorn_types::CustomerId;

/// `POST /api/v1/sandbox/customers/{id}/registrations/{provider}/{target_role}/status`.
#[utoipa::path(
    post,
    path = "/api/v1/sandbox/customers/{id}/registrations/{provider}/{target_role}/status",
    operation_id = "sandbox.set_registration_status",
    tag = "sandbox",
    summary = "Sandbox: set a registration's status",
    request_body = acorn_types::SandboxStatusRequest,
    responses((status = 200, description = "Registration status set", body = crate::http::openapi::markers::RegistrationEnvelope))
)]
pub async fn set_registration_status(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    Path((id, provider, role)): Path<(String, String, String)>,
    key: Idempotency,
    Body(req): Body<SandboxStatusRequest>,
) -> Result<Json<ApiResponse<Registration>>, ApiError> {
    let ok = Success::new(StatusCode::OK, "Registration status set");
    let customer = CustomerId::parse(&id).map_err(|_| ApiError::not_found())?;
    let provider =
        Provider::parse(&provider).map_err(|e| ApiError::invalid("provider", e.to_string()))?;
    let role =
        TargetRole::parse(&role).map_err(|e| ApiError::invalid("target_role", e.to_string()))?;
    let reg_key = RegistrationKey {
        merchant,
        customer,
        provider,
        role,
    };
    let change = SetState {
        status: req.status,
        rejection_reason: req.rejection_reason,
        documents: req.documents,
        manual_review: req.manual_review,
    };
    let reg = set_state(&state.store, reg_key, &change, ok.answer(&key)).await?;
    Ok(Json(ApiResponse::new(ok.msg(), reg)))
}

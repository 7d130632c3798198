//! Provider registrations (contract §4.8, §6).

use acorn_types::{
    ApiResponse, PlatformRequest, ProviderSchemaResponse, Registration, SchemaQuery,
    SubmitRegistrationRequest,
};
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::Json;

use crate::adapters::providers::schema;
use crate::http::auth::AuthMerchant;
use crate::http::error::ApiError;
use crate::http::extract::{query_pairs, Body, CustomerPath};
use crate::http::idempotency::{Idempotency, Success};
use crate::http::state::AppState;
use crate::services::registrations;
use crate::store::RegistrationKey;

type Regs = Json<ApiResponse<Vec<Registration>>>;

/// `GET /api/v1/provider-registration/schema?provider=stripe`.
#[utoipa::path(
    get,
    path = "/api/v1/provider-registration/schema",
    operation_id = "providers.get_schema",
    tag = "providers",
    summary = "A provider's registration requirements",
    params(("provider" = String, Query)),
    responses((status = 200, description = "The schema", body = crate::http::openapi::markers::SchemaEnvelope))
)]
pub async fn schema(
    RawQuery(raw): RawQuery,
) -> Result<Json<ApiResponse<ProviderSchemaResponse>>, ApiError> {
    let SchemaQuery { provider } =
        SchemaQuery::from_query(&query_pairs(raw.as_deref())).map_err(ApiError::validation)?;
    let schema = schema::spec(provider).to_schema();
    Ok(Json(ApiResponse::new(
        "Provider schema fetched",
        ProviderSchemaResponse { schema },
    )))
}

/// `GET /api/v1/provider-registration/{customer_id}/status`.
#[utoipa::path(
    get,
    path = "/api/v1/provider-registration/{customer_id}/status",
    operation_id = "providers.get_registration_status",
    tag = "providers",
    summary = "A customer's registrations",
    responses((status = 200, description = "The registrations", body = crate::http::openapi::markers::RegistrationsEnvelope))
)]
pub async fn status(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    CustomerPath(customer): CustomerPath,
) -> Result<Regs, ApiError> {
    let regs = state.store.registrations(merchant, customer).await?;
    Ok(Json(ApiResponse::new("Registration status fetched", regs)))
}

/// The role's requirements, or 422 naming the roles the provider accepts.
/// `POST /api/v1/provider-registration/{customer_id}/submit`.
#[utoipa::path(
    post,
    path = "/api/v1/provider-registration/{customer_id}/submit",
    operation_id = "providers.submit_registration",
    tag = "providers",
    summary = "Submit a registration",
    request_body = acorn_types::SubmitRegistrationRequest,
    responses((status = 200, description = "The registrations", body = crate::http::openapi::markers::RegistrationsEnvelope))
)]
pub async fn submit(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    CustomerPath(customer): CustomerPath,
    key: Idempotency,
    Body(req): Body<SubmitRegistrationRequest>,
) -> Result<Regs, ApiError> {
    let ok = Success::new(StatusCode::OK, "Registration submitted");
    let reg_key = RegistrationKey {
        merchant,
        customer,
        provider: req.provider,
        role: req.target_role,
    };
    let data = req.provider_data.unwrap_or_default();
    let regs = registrations::submit(&state, reg_key, data, ok.answer(&key)).await?;
    Ok(Json(ApiResponse::new(ok.msg(), regs)))
}

/// `POST /api/v1/customers/{id}/platforms`.
#[utoipa::path(
    post,
    path = "/api/v1/customers/{id}/platforms",
    operation_id = "customers.populate_platform",
    tag = "customers",
    summary = "Populate platform data",
    request_body = acorn_types::PlatformRequest,
    responses((status = 200, description = "The registrations", body = crate::http::openapi::markers::RegistrationsEnvelope))
)]
pub async fn populate(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    CustomerPath(customer): CustomerPath,
    key: Idempotency,
    Body(req): Body<PlatformRequest>,
) -> Result<Regs, ApiError> {
    let ok = Success::new(StatusCode::OK, "Platform data populated");
    let reg_key = RegistrationKey {
        merchant,
        customer,
        provider: req.provider,
        role: req.target_role,
    };
    let regs = registrations::populate(&state, reg_key, req.extra, ok.answer(&key)).await?;
    Ok(Json(ApiResponse::new(ok.msg(), regs)))
}

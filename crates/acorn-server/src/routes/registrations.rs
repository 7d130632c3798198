//! Provider registrations (contract §4.8, §6).

use acorn_types::{
    ApiResponse, FailureReason, Provider, ProviderSchemaResponse, ReasonCode, Registration,
    TargetRole,
};
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{Map, Value};

use super::body::Fields;
use crate::auth::AuthMerchant;
use crate::error::ApiError;
use crate::extract::{query_pairs, CustomerPath, JsonObject};
use crate::idempotency::{Idempotency, Success};
use crate::providers::schema;
use crate::services::registrations;
use crate::state::AppState;
use crate::store::RegistrationKey;

type Regs = Json<ApiResponse<Vec<Registration>>>;

/// `GET /api/v1/provider-registration/schema?provider=stripe`.
pub async fn schema(
    RawQuery(raw): RawQuery,
) -> Result<Json<ApiResponse<ProviderSchemaResponse>>, ApiError> {
    let pairs = query_pairs(raw.as_deref());
    let mut reasons = Vec::new();
    for (k, _) in pairs.iter().filter(|(k, _)| k != "provider") {
        reasons.push(FailureReason::invalid(
            k,
            format!("{k} is not a known query parameter"),
        ));
    }
    let provider = match pairs.iter().find(|(k, _)| k == "provider") {
        None => {
            reasons.push(FailureReason::new(
                ReasonCode::MissingRequiredInformation,
                "provider is required",
                &["provider"],
            ));
            None
        }
        Some((_, v)) => Provider::parse(v)
            .map_err(|e| reasons.push(FailureReason::invalid("provider", e.to_string())))
            .ok(),
    };
    let (Some(provider), true) = (provider, reasons.is_empty()) else {
        return Err(ApiError::validation(reasons));
    };
    let schema = schema::spec(provider).to_schema();
    Ok(Json(ApiResponse::new(
        "Provider schema fetched",
        ProviderSchemaResponse { schema },
    )))
}

/// `GET /api/v1/provider-registration/{customer_id}/status`.
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
pub async fn submit(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    CustomerPath(customer): CustomerPath,
    key: Idempotency,
    JsonObject(body): JsonObject,
) -> Result<Regs, ApiError> {
    let ok = Success::new(StatusCode::OK, "Registration submitted");
    let mut f = Fields::new(&body);
    f.only(&["provider", "target_role", "provider_data"]);
    let provider = f.required("provider", Provider::parse);
    let role = f.required("target_role", TargetRole::parse);
    let data = f.object("provider_data").unwrap_or_default();
    f.finish()?;
    let (Some(provider), Some(role)) = (provider, role) else {
        return Err(ApiError::invalid("provider", "invalid"));
    };
    let reg_key = RegistrationKey {
        merchant,
        customer,
        provider,
        role,
    };
    let regs = registrations::submit(&state, reg_key, data, ok.answer(&key)).await?;
    Ok(Json(ApiResponse::new(ok.msg(), regs)))
}

/// `POST /api/v1/customers/{id}/platforms`.
pub async fn populate(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    CustomerPath(customer): CustomerPath,
    key: Idempotency,
    JsonObject(body): JsonObject,
) -> Result<Regs, ApiError> {
    let ok = Success::new(StatusCode::OK, "Platform data populated");
    let mut f = Fields::new(&body);
    let provider = f.required("provider", Provider::parse);
    let role = f.required("target_role", TargetRole::parse);
    f.finish()?;
    let (Some(provider), Some(role)) = (provider, role) else {
        return Err(ApiError::invalid("provider", "invalid"));
    };
    let extra: Map<String, Value> = body
        .into_iter()
        .filter(|(k, _)| k != "provider" && k != "target_role")
        .collect();
    let reg_key = RegistrationKey {
        merchant,
        customer,
        provider,
        role,
    };
    let regs = registrations::populate(&state, reg_key, extra, ok.answer(&key)).await?;
    Ok(Json(ApiResponse::new(ok.msg(), regs)))
}

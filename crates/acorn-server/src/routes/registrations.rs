//! Provider registrations (contract §4.8, §6).

use acorn_types::{
    ApiResponse, FailureReason, Provider, ProviderSchemaResponse, ReasonCode, Registration,
    RegistrationId, TargetRole,
};
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{Map, Value};

use super::body::Fields;
use crate::auth::AuthMerchant;
use crate::error::ApiError;
use crate::extract::{query_pairs, CustomerPath, JsonObject};
use crate::idempotency::Success;
use crate::providers::schema::{self, RoleSpec};
use crate::providers::{ProviderAdapter, ProviderError, RegistrationRequest};
use crate::state::AppState;
use crate::store::registrations::is_active;
use crate::store::{now_micros, RegistrationKey};

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
fn role_spec(provider: Provider, role: TargetRole) -> Result<&'static RoleSpec, ApiError> {
    let spec = schema::spec(provider);
    spec.role(role).ok_or_else(|| {
        ApiError::invalid(
            "target_role",
            format!(
                "{provider} does not accept target_role {role}; allowed: {}",
                spec.allowed_roles()
            ),
        )
    })
}

/// The adapter for a provider, or 503 when none is configured.
pub(super) fn adapter(
    state: &AppState,
    provider: Provider,
) -> Result<std::sync::Arc<dyn ProviderAdapter>, ApiError> {
    state.providers.get(provider).ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("no adapter is configured for {provider}"),
        )
        .with_reason(FailureReason::new(
            ReasonCode::ProviderUnavailable,
            format!("{provider} is not configured on this server"),
            &["provider"],
        ))
    })
}

/// Maps a provider's refusal to 502, or 503 when it may work later.
pub(super) fn provider_failure(provider: Provider, e: ProviderError) -> ApiError {
    let status = if e.retryable {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::BAD_GATEWAY
    };
    let mut reason = FailureReason::new(ReasonCode::ProviderUnavailable, e.message.clone(), &[]);
    reason.provider_code = Some(provider.as_str().to_owned());
    ApiError::new(status, format!("{provider}: {}", e.message)).with_reason(reason)
}

/// The registration id to use: the existing one's, or a new one.
async fn registration_id(
    state: &AppState,
    key: &RegistrationKey,
) -> Result<(RegistrationId, Option<Registration>), ApiError> {
    let existing = state.store.registration(key).await?;
    let id = match &existing {
        Some(r) => {
            RegistrationId::parse(&r.id).map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?
        }
        None => RegistrationId::new(),
    };
    Ok((id, existing))
}

/// The existing registration's provider data with `new` merged in (what the provider sees).
fn merged_data(existing: Option<Registration>, new: &Map<String, Value>) -> Map<String, Value> {
    let mut merged = existing.and_then(|r| r.provider_data).unwrap_or_default();
    merged.extend(new.clone());
    merged
}

/// What the adapter is told about `key`'s registration.
fn request<'a>(
    key: &RegistrationKey,
    id: RegistrationId,
    customer: &'a acorn_types::Customer,
    provider_data: &'a Map<String, Value>,
) -> RegistrationRequest<'a> {
    RegistrationRequest {
        provider: key.provider,
        registration_id: id,
        role: key.role,
        customer,
        provider_data,
    }
}

fn step_at(state: &AppState, adapter: &dyn ProviderAdapter, now: i64) -> Option<i64> {
    let delay = i64::try_from(state.config.sandbox_step_delay.as_micros()).unwrap_or(i64::MAX / 2);
    adapter.simulated().then_some(now + delay)
}

/// `POST /api/v1/provider-registration/{customer_id}/submit`.
pub async fn submit(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    CustomerPath(customer): CustomerPath,
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
    let role_spec = role_spec(provider, role)?;
    let current = state
        .store
        .get_customer(merchant, customer)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let reasons = schema::check(schema::spec(provider), role_spec, &current, &data);
    if !reasons.is_empty() {
        return Err(ApiError::validation(reasons));
    }
    let key = RegistrationKey {
        merchant,
        customer,
        provider,
        role,
    };
    let (id, existing) = registration_id(&state, &key).await?;
    if let Some(reg) = existing.as_ref().filter(|r| is_active(r.status)) {
        return Err(ApiError::conflict(format!(
            "the {provider} {role} registration is already {}",
            reg.status
        )));
    }
    let adapter = adapter(&state, provider)?;
    let merged = merged_data(existing, &data);
    let response = adapter
        .submit(&request(&key, id, &current, &merged))
        .await
        .map_err(|e| provider_failure(provider, e))?;
    let now = now_micros();
    let regs = state
        .store
        .submit_registration(
            &key,
            id,
            data,
            response,
            step_at(&state, adapter.as_ref(), now),
            now,
        )
        .await?;
    Ok(Json(ApiResponse::new(ok.msg(), regs)))
}

/// `POST /api/v1/customers/{id}/platforms` (populate platform).
pub async fn populate(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    CustomerPath(customer): CustomerPath,
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
    role_spec(provider, role)?;
    let extra: Map<String, Value> = body
        .into_iter()
        .filter(|(k, _)| k != "provider" && k != "target_role")
        .collect();
    let current = state
        .store
        .get_customer(merchant, customer)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let key = RegistrationKey {
        merchant,
        customer,
        provider,
        role,
    };
    let (id, existing) = registration_id(&state, &key).await?;
    let adapter = adapter(&state, provider)?;
    let merged = merged_data(existing, &extra);
    let response = adapter
        .populate(&request(&key, id, &current, &merged))
        .await
        .map_err(|e| provider_failure(provider, e))?;
    let regs = state
        .store
        .populate_platform(&key, id, extra, response, now_micros())
        .await?;
    Ok(Json(ApiResponse::new(ok.msg(), regs)))
}

//! Sync (contract §4.5) and the attempts a merchant can inspect.

use acorn_types::{ApiResponse, FailureReason, Provider, ReasonCode, SyncField};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;

use super::body::Fields;
use crate::auth::AuthMerchant;
use crate::error::ApiError;
use crate::extract::{CustomerPath, JsonObject};
use crate::idempotency::{Idempotency, Success};
use crate::services::sync::schedule;
use crate::state::AppState;

/// Providers a customer can be synced to.
const SYNCABLE: [Provider; 6] = [
    Provider::Stripe,
    Provider::Bridge,
    Provider::PagarMe,
    Provider::Brla,
    Provider::Avenia,
    Provider::MercadoPago,
];

/// Reads a JSON array of closed-vocabulary strings, reporting problems under `key`.
fn string_list<T: PartialEq>(
    body: &serde_json::Map<String, Value>,
    key: &str,
    parse: impl Fn(&str) -> Result<T, acorn_types::UnknownValue>,
    reasons: &mut Vec<FailureReason>,
) -> Vec<T> {
    let Some(Value::Array(items)) = body.get(key) else {
        let code = if body.contains_key(key) {
            ReasonCode::InvalidInput
        } else {
            ReasonCode::MissingRequiredInformation
        };
        reasons.push(FailureReason::new(
            code,
            format!("{key} must be a non-empty array of strings"),
            &[key],
        ));
        return vec![];
    };
    let mut out = Vec::new();
    for item in items {
        match item.as_str().map(&parse) {
            Some(Ok(v)) if !out.contains(&v) => out.push(v),
            Some(Ok(_)) => {}
            Some(Err(e)) => reasons.push(FailureReason::invalid(key, format!("{key}: {e}"))),
            None => reasons.push(FailureReason::invalid(
                key,
                format!("{key} must contain strings"),
            )),
        }
    }
    out
}

/// `POST /api/v1/customers/{id}/sync`.
pub async fn sync(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    CustomerPath(customer): CustomerPath,
    key: Idempotency,
    JsonObject(body): JsonObject,
) -> Result<Json<ApiResponse<Value>>, ApiError> {
    let ok = Success::new(StatusCode::OK, "Sync scheduled");
    let mut f = Fields::new(&body);
    f.only(&["providers", "fields"]);
    f.finish()?;
    let mut reasons = Vec::new();
    let providers = string_list(&body, "providers", Provider::parse, &mut reasons);
    let fields = string_list(&body, "fields", SyncField::parse, &mut reasons);
    if reasons.is_empty() {
        if providers.len() != 1 {
            reasons.push(FailureReason::invalid(
                "providers",
                "providers must name exactly one provider",
            ));
        } else if !SYNCABLE.contains(&providers[0]) {
            let allowed: Vec<&str> = SYNCABLE.iter().map(Provider::as_str).collect();
            reasons.push(FailureReason::invalid(
                "providers",
                format!(
                    "{} cannot be synced; allowed: {}",
                    providers[0],
                    allowed.join(", ")
                ),
            ));
        }
        if fields.is_empty() {
            reasons.push(FailureReason::invalid(
                "fields",
                "fields must name at least one field",
            ));
        }
    }
    if !reasons.is_empty() {
        return Err(ApiError::validation(reasons));
    }
    schedule(
        &state,
        merchant,
        customer,
        providers[0],
        &fields,
        ok.answer(&key),
    )
    .await?;
    Ok(Json(ApiResponse::new(ok.msg(), Value::Null)))
}

/// `GET /api/v1/customers/{id}/sync-attempts`, newest first.
pub async fn attempts(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    CustomerPath(customer): CustomerPath,
) -> Result<Json<ApiResponse<Vec<Value>>>, ApiError> {
    let list = state.store.sync_attempts(merchant, customer).await?;
    Ok(Json(ApiResponse::new("Sync attempts fetched", list)))
}

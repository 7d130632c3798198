//! Balances (contract §4.6) through the provider adapters, and the sandbox ledger helper.

use acorn_types::{
    currencies, ApiResponse, BalanceFilter, BalanceFilters, Balances, FailureReason, Provider,
    ReasonCode, TargetRole,
};
use axum::extract::{RawQuery, State};
use axum::Json;
use serde_json::Value;

use crate::http::auth::AuthMerchant;
use crate::http::error::ApiError;
use crate::http::extract::{query_pairs, CustomerPath, JsonObject};
use crate::http::state::AppState;
use crate::services::balances;
use crate::store::RegistrationKey;
use acorn_types::requests::parse::BodyFields;

fn joined<T: std::fmt::Display>(v: &[T]) -> Option<String> {
    (!v.is_empty()).then(|| {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    })
}

/// `GET /api/v1/customers/{id}/balances?provider=&role=`.
#[utoipa::path(
    get,
    path = "/api/v1/customers/{id}/balances",
    operation_id = "customers.balance",
    tag = "customers",
    summary = "Balances per provider account",
    params(("provider" = Option<String>, Query), ("role" = Option<String>, Query)),
    responses((status = 200, description = "The balances", body = crate::http::openapi::markers::BalancesEnvelope))
)]
pub async fn balances(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    CustomerPath(customer): CustomerPath,
    RawQuery(raw): RawQuery,
) -> Result<Json<ApiResponse<Balances>>, ApiError> {
    let BalanceFilter {
        provider: providers,
        role: roles,
    } = BalanceFilter::from_query(&query_pairs(raw.as_deref())).map_err(ApiError::validation)?;
    let (as_of, balances) = balances::read(&state, merchant, customer, &providers, &roles).await?;
    let filters = BalanceFilters {
        customer_id: customer.to_string(),
        provider: joined(&providers),
        role: joined(&roles),
    };
    Ok(Json(ApiResponse::new(
        "Balances fetched",
        Balances {
            as_of,
            filters,
            balances,
        },
    )))
}

/// The currency, bucket and amount of a ledger entry, each with its refusal in `reasons`.
fn ledger_fields(
    body: &serde_json::Map<String, Value>,
    reasons: &mut Vec<FailureReason>,
) -> (Option<String>, Option<String>, Option<i64>) {
    let currency = match body.get("currency").and_then(Value::as_str) {
        Some(c) => currencies::currency(c)
            .map_err(|m| reasons.push(FailureReason::invalid("currency", format!("currency {m}"))))
            .ok(),
        None => {
            reasons.push(FailureReason::new(
                ReasonCode::MissingRequiredInformation,
                "currency is required",
                &["currency"],
            ));
            None
        }
    };
    let bucket = body
        .get("bucket")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase);
    let bucket = bucket.filter(|b| crate::store::BUCKETS.contains(&b.as_str()));
    if bucket.is_none() {
        reasons.push(FailureReason::invalid(
            "bucket",
            "bucket must be one of: available, pending, reserved, instant_payouts",
        ));
    }
    let amount = body.get("amount").and_then(Value::as_i64);
    if amount.is_none() {
        reasons.push(FailureReason::invalid(
            "amount",
            "amount must be an integer in the currency's minor unit",
        ));
    }
    (currency, bucket, amount)
}

/// `POST /api/v1/sandbox/customers/{id}/balances` — appends one ledger entry.
#[utoipa::path(
    post,
    path = "/api/v1/sandbox/customers/{id}/balances",
    operation_id = "sandbox.append_ledger_entry",
    tag = "sandbox",
    summary = "Sandbox: append a ledger entry",
    request_body = crate::http::openapi::markers::LedgerEntryRequest,
    responses((status = 200, description = "Ledger entry appended", body = crate::http::openapi::markers::LedgerEntryEnvelope))
)]
pub async fn append(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    CustomerPath(customer): CustomerPath,
    JsonObject(body): JsonObject,
) -> Result<Json<ApiResponse<Value>>, ApiError> {
    let mut f = BodyFields::new(&body);
    f.only(&["provider", "role", "currency", "bucket", "amount"]);
    let provider = f.required("provider", Provider::parse);
    let role = f.required("role", TargetRole::parse);
    f.finish().map_err(ApiError::validation)?;
    let mut reasons = Vec::new();
    let (currency, bucket, amount) = ledger_fields(&body, &mut reasons);
    let (Some(provider), Some(role), Some(currency), Some(bucket), Some(amount), true) =
        (provider, role, currency, bucket, amount, reasons.is_empty())
    else {
        return Err(ApiError::validation(reasons));
    };
    let key = RegistrationKey {
        merchant,
        customer,
        provider,
        role,
    };
    let entry = balances::append(&state.store, key, &currency, &bucket, amount).await?;
    Ok(Json(ApiResponse::new("Ledger entry appended", entry)))
}

//! Balances (contract §4.6) through the provider adapters, and the sandbox ledger helper.

use acorn_types::{ApiResponse, BalanceFilter, BalanceFilters, Balances, LedgerEntryRequest};
use axum::extract::{RawQuery, State};
use axum::Json;
use serde_json::Value;

use crate::http::auth::AuthMerchant;
use crate::http::error::ApiError;
use crate::http::extract::{query_pairs, Body, CustomerPath};
use crate::http::state::AppState;
use crate::services::balances;
use crate::store::RegistrationKey;

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

/// `POST /api/v1/sandbox/customers/{id}/balances` — appends one ledger entry.
#[utoipa::path(
    post,
    path = "/api/v1/sandbox/customers/{id}/balances",
    operation_id = "sandbox.append_ledger_entry",
    tag = "sandbox",
    summary = "Sandbox: append a ledger entry",
    request_body = acorn_types::LedgerEntryRequest,
    responses((status = 200, description = "Ledger entry appended", body = crate::http::openapi::markers::LedgerEntryEnvelope))
)]
pub async fn append(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    CustomerPath(customer): CustomerPath,
    Body(entry): Body<LedgerEntryRequest>,
) -> Result<Json<ApiResponse<Value>>, ApiError> {
    let key = RegistrationKey {
        merchant,
        customer,
        provider: entry.provider,
        role: entry.role,
    };
    let entry = balances::append(
        &state.store,
        key,
        &entry.currency,
        &entry.bucket,
        entry.amount,
    )
    .await?;
    Ok(Json(ApiResponse::new("Ledger entry appended", entry)))
}

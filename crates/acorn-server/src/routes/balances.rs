//! Balances (contract §4.6) through the provider adapters, and the sandbox ledger helper.

use std::collections::BTreeMap;

use acorn_types::{
    currencies, ApiResponse, BalanceEntry, BalanceFilters, BalanceHolder, Balances, FailureReason,
    Provider, ReasonCode, RegistrationId, TargetRole,
};
use axum::extract::{RawQuery, State};
use axum::Json;
use serde_json::{json, Value};

use super::body::Fields;
use crate::services::registrations::{adapter, provider_failure};
use crate::auth::AuthMerchant;
use crate::error::ApiError;
use crate::extract::{comma_list, not_one_of, query_pairs, CustomerPath, JsonObject};
use crate::providers::BalanceAccount;
use crate::state::AppState;
use crate::store::{format_time, now_micros, RegistrationKey, StoreError};

fn joined<T: std::fmt::Display>(v: &[T]) -> Option<String> {
    (!v.is_empty()).then(|| {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    })
}

/// `GET /api/v1/customers/{id}/balances?provider=&role=`.
pub async fn balances(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    CustomerPath(customer): CustomerPath,
    RawQuery(raw): RawQuery,
) -> Result<Json<ApiResponse<Balances>>, ApiError> {
    let (mut providers, mut roles, mut reasons) = (Vec::new(), Vec::new(), Vec::new());
    for (key, value) in query_pairs(raw.as_deref()) {
        match key.as_str() {
            "provider" => comma_list(
                "provider",
                &value,
                |s| Provider::parse(s).map_err(not_one_of),
                &mut providers,
                &mut reasons,
            ),
            "role" => comma_list(
                "role",
                &value,
                |s| TargetRole::parse(s).map_err(not_one_of),
                &mut roles,
                &mut reasons,
            ),
            other => reasons.push(FailureReason::invalid(
                other,
                format!("{other} is not a known query parameter"),
            )),
        }
    }
    if !reasons.is_empty() {
        return Err(ApiError::validation(reasons));
    }
    let regs = state.store.registrations(merchant, customer).await?;
    let matching: Vec<_> = regs
        .into_iter()
        .filter(|r| providers.is_empty() || providers.contains(&r.provider))
        .filter(|r| roles.is_empty() || roles.contains(&r.target_role))
        .collect();
    // One adapter call per provider, not per account.
    let mut by_provider: BTreeMap<Provider, Vec<BalanceAccount>> = BTreeMap::new();
    for r in &matching {
        let id =
            RegistrationId::parse(&r.id).map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
        by_provider
            .entry(r.provider)
            .or_default()
            .push(BalanceAccount {
                registration_id: id,
                role: r.target_role,
            });
    }
    let as_of = format_time(now_micros());
    let mut balances = Vec::new();
    for (provider, accounts) in by_provider {
        let totals = adapter(&state, provider)?
            .balances(&accounts)
            .await
            .map_err(|e| provider_failure(provider, e))?;
        for (account, (account_id, totals)) in accounts.iter().zip(totals) {
            balances.push(BalanceEntry {
                account_id,
                provider,
                customer: BalanceHolder {
                    id: customer.to_string(),
                    role: account.role,
                },
                as_of: as_of.clone(),
                totals,
            });
        }
    }
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
pub async fn append(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    CustomerPath(customer): CustomerPath,
    JsonObject(body): JsonObject,
) -> Result<Json<ApiResponse<Value>>, ApiError> {
    let mut f = Fields::new(&body);
    f.only(&["provider", "role", "currency", "bucket", "amount"]);
    let provider = f.required("provider", Provider::parse);
    let role = f.required("role", TargetRole::parse);
    f.finish()?;
    let mut reasons = Vec::new();
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
    if state
        .store
        .get_customer(merchant, customer)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found());
    }
    let Some(reg) = state.store.registration(&key).await? else {
        return Err(StoreError::NotRegistered(format!(
            "the customer has no {provider} {role} registration"
        ))
        .into());
    };
    let reg_id =
        RegistrationId::parse(&reg.id).map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
    let now = now_micros();
    let id = state
        .store
        .append_ledger_entry(merchant, reg_id, &currency, &bucket, amount, now)
        .await?;
    let entry = json!({
        "id": format!("led_{id}"), "account_id": crate::providers::sandbox::account_id(reg_id),
        "provider": provider, "role": role, "currency": currency, "bucket": bucket, "amount": amount,
        "created_at": format_time(now),
    });
    Ok(Json(ApiResponse::new("Ledger entry appended", entry)))
}

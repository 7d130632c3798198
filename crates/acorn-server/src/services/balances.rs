//! Balances (contract §4.6): read through each provider's adapter, one call per provider; and
//! the sandbox's ledger entries.

use std::collections::BTreeMap;

use acorn_types::{
    BalanceEntry, BalanceHolder, CustomerId, MerchantId, Provider, RegistrationId,
    RegistrationStatus, TargetRole,
};
use serde_json::{json, Value};

use super::modes::{adapter, merchant_mode};
use super::registrations::provider_failure;
use crate::adapters::providers::{sandbox, BalanceAccount};
use crate::services::context::Context;
use crate::services::error::ServiceError;
use crate::store::{format_time, now_micros, RegistrationKey, Store, StoreError};

fn registration_id(id: &str) -> Result<RegistrationId, ServiceError> {
    RegistrationId::parse(id).map_err(|e| ServiceError::internal(anyhow::anyhow!("{e}")))
}

/// The customer's balances at the registrations matching the filters (empty filters match
/// all), as of now.
pub async fn read(
    ctx: &Context,
    merchant: MerchantId,
    customer: CustomerId,
    providers: &[Provider],
    roles: &[TargetRole],
) -> Result<(String, Vec<BalanceEntry>), ServiceError> {
    let regs = ctx.store.registrations(merchant, customer).await?;
    // One adapter call per provider, not per account.
    let mut by_provider: BTreeMap<Provider, Vec<BalanceAccount>> = BTreeMap::new();
    for r in regs
        .iter()
        .filter(|r| providers.is_empty() || providers.contains(&r.provider))
        .filter(|r| roles.is_empty() || roles.contains(&r.target_role))
        // A registration never submitted has no account at the provider yet.
        .filter(|r| r.status != RegistrationStatus::NotSubmitted)
    {
        by_provider
            .entry(r.provider)
            .or_default()
            .push(BalanceAccount {
                registration_id: registration_id(&r.id)?,
                role: r.target_role,
                provider_account_id: r.provider_customer_id.clone(),
            });
    }
    let as_of = format_time(now_micros());
    let mut balances = Vec::new();
    let mode = merchant_mode(ctx, merchant).await?;
    for (provider, accounts) in by_provider {
        let totals = adapter(ctx, mode, provider)?
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
    Ok((as_of, balances))
}

/// The sandbox helper: appends one ledger entry to a registration's account.
pub async fn append(
    store: &Store,
    key: RegistrationKey,
    currency: &str,
    bucket: &str,
    amount: i64,
) -> Result<Value, ServiceError> {
    if store
        .get_customer(key.merchant, key.customer)
        .await?
        .is_none()
    {
        return Err(ServiceError::not_found());
    }
    let Some(reg) = store.registration(&key).await? else {
        return Err(StoreError::NotRegistered(format!(
            "the customer has no {} {} registration",
            key.provider, key.role
        ))
        .into());
    };
    if reg.status == RegistrationStatus::NotSubmitted {
        return Err(StoreError::NotRegistered(format!(
            "the customer's {} {} registration has not been submitted: it has no account yet",
            key.provider, key.role
        ))
        .into());
    }
    let reg_id = registration_id(&reg.id)?;
    let account = sandbox::account_id(key.role, reg_id, reg.provider_customer_id.as_deref());
    let now = now_micros();
    let id = store
        .append_ledger_entry(key.merchant, reg_id, currency, bucket, amount, now)
        .await?;
    Ok(json!({
        "id": format!("led_{id}"), "account_id": account,
        "provider": key.provider, "role": key.role, "currency": currency, "bucket": bucket,
        "amount": amount, "created_at": format_time(now),
    }))
}

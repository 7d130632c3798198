//! Get a customer's balance at a provider (the seed's `customers.balance`).
//!
//! Balances belong to provider accounts, so this registers the customer as a Stripe connected
//! account in the sandbox, and puts money on it with the sandbox ledger helper
//! (`POST /api/v1/sandbox/customers/{id}/balances`, a test helper the SDK does not wrap).

mod common;

use acorn_sdk::types::{
    BalanceFilter, Provider, RegistrationStatus, SubmitRegistrationRequest, TargetRole,
};
use acorn_sdk::{ExposeSecret, OakClient};
use serde_json::json;

#[tokio::main]
async fn main() -> common::Result<()> {
    let client = common::client()?;
    let customers = client.customers();
    let customer = common::new_customer(&client, "Alice").await?;

    let submit = SubmitRegistrationRequest::new(Provider::Stripe, TargetRole::ConnectedAccount)
        .with("account_type", "express");
    client
        .providers()
        .submit_registration(&customer.id, &submit)
        .await?;
    let reg = common::wait_for_decision(
        &client,
        &customer.id,
        Provider::Stripe,
        TargetRole::ConnectedAccount,
    )
    .await?;
    if reg.status != RegistrationStatus::Approved {
        return Err(format!("the registration ended {}", reg.status).into());
    }
    add_sandbox_money(&client, &customer.id, "available", 1250).await?;
    add_sandbox_money(&client, &customer.id, "pending", 300).await?;

    let result = customers
        .balance(
            &customer.id,
            &BalanceFilter::new(Provider::Stripe, TargetRole::ConnectedAccount),
        )
        .await?;
    for b in &result.data.balances {
        println!("Account: {} — Provider: {}", b.account_id, b.provider);
        for t in &b.totals {
            println!("  {}: {} (pending: {})", t.currency, t.available, t.pending);
        }
    }
    Ok(())
}

/// Appends one entry to the sandbox ledger of the customer's Stripe connected account.
async fn add_sandbox_money(
    client: &OakClient,
    customer_id: &str,
    bucket: &str,
    amount: i64,
) -> common::Result<()> {
    let token = client.get_access_token().await?;
    let resp = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/sandbox/customers/{customer_id}/balances",
            client.base_url()
        ))
        .bearer_auth(token.expose_secret())
        .json(&json!({"provider": "stripe", "role": "connected_account",
                      "currency": "usd", "bucket": bucket, "amount": amount}))
        .send()
        .await?;
    if !resp.status().is_success() {
        return Err(format!("sandbox ledger: {} {}", resp.status(), resp.text().await?).into());
    }
    Ok(())
}

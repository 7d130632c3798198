//! Follow a customer's registrations (`providers.getRegistrationStatus`): submits one to the
//! sandbox, then polls until the provider has decided.

mod common;

use acorn_sdk::types::{Provider, SubmitRegistrationRequest, TargetRole};

#[tokio::main]
async fn main() -> common::Result<()> {
    let client = common::client()?;
    let providers = client.providers();
    let customer = common::new_customer(&client, "Alice").await?;
    let request = SubmitRegistrationRequest::new(Provider::Stripe, TargetRole::ConnectedAccount)
        .with("account_type", "express");
    providers
        .submit_registration(&customer.id, &request)
        .await?;

    common::wait_for_decision(
        &client,
        &customer.id,
        Provider::Stripe,
        TargetRole::ConnectedAccount,
    )
    .await?;
    let result = providers.get_registration_status(&customer.id).await?;
    for r in &result.data {
        println!(
            "{} as {}: {} (provider id {})",
            r.provider,
            r.target_role,
            r.status,
            r.provider_customer_id.as_deref().unwrap_or("none yet")
        );
    }
    let customer = client.customers().get(&customer.id).await?.data;
    println!("Customer status: {}", customer.status);
    Ok(())
}

//! Submit a customer's registration with a provider (`providers.submitRegistration`).
//!
//! The sandbox decides by the email: run with an argument such as `reject`, `documents`,
//! `review`, `confirm` or `incomplete` to create a customer whose registration goes that way
//! (default: approved).

mod common;

use acorn_sdk::types::{CustomerRequest, Provider, SubmitRegistrationRequest, TargetRole};

#[tokio::main]
async fn main() -> common::Result<()> {
    let client = common::client()?;
    let outcome = std::env::args().nth(1);
    let name = match &outcome {
        Some(tag) => format!("alice+{tag}"),
        None => "alice".to_owned(),
    };
    let customer = client
        .customers()
        .create(&CustomerRequest {
            email: Some(common::unique_email(&name)),
            country_code: Some("US".into()),
            ..Default::default()
        })
        .await?
        .data;
    println!("Customer ID: {}", customer.id);

    let request = SubmitRegistrationRequest::new(Provider::Stripe, TargetRole::ConnectedAccount)
        .with("account_type", "express");
    let result = client
        .providers()
        .submit_registration(&customer.id, &request)
        .await?;
    let submitted = result.data.first().ok_or("no registration returned")?;
    println!(
        "Submitted {} as {}: {} ({})",
        submitted.provider, submitted.target_role, submitted.status, submitted.id
    );
    Ok(())
}

//! Sync customer fields to a provider (the seed's `customers.sync`). A sync needs a registration
//! with the provider, so this submits one to the sandbox first; then it waits until the
//! asynchronous sync has run.

mod common;

use std::time::{Duration, Instant};

use acorn_sdk::types::{
    Provider, RegistrationStatus, SubmitRegistrationRequest, SyncField, SyncRequest, TargetRole,
};

#[tokio::main]
async fn main() -> common::Result<()> {
    let client = common::client()?;
    let customers = client.customers();
    let customer = common::new_customer(&client, "Alice").await?;

    let submit = SubmitRegistrationRequest::new(Provider::Stripe, TargetRole::Customer);
    client
        .providers()
        .submit_registration(&customer.id, &submit)
        .await?;
    let reg = common::wait_for_decision(
        &client,
        &customer.id,
        Provider::Stripe,
        TargetRole::Customer,
    )
    .await?;
    if reg.status != RegistrationStatus::Approved {
        return Err(format!("the registration ended {}", reg.status).into());
    }

    let sync = SyncRequest::new(
        Provider::Stripe,
        [SyncField::Email, SyncField::FirstName, SyncField::LastName],
    );
    let result = customers.sync(&customer.id, &sync).await?;
    println!("{}", result.msg);

    // The sync runs in the background; the customer says when it has.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let c = customers.get(&customer.id).await?.data;
        match c.synced {
            Some(true) => {
                println!("Synced successfully at {}", c.synced_at.unwrap_or_default());
                return Ok(());
            }
            Some(false) => return Err("the sync failed".into()),
            None if Instant::now() > deadline => return Err("not synced after 30 s".into()),
            None => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

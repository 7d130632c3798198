//! Populate platform data for a customer (the seed's `customers.populatePlatform`): creates the
//! registration for a provider and role if missing and merges the extra keys into its
//! provider data.

mod common;

use acorn_sdk::types::{PlatformRequest, Provider, TargetRole};

#[tokio::main]
async fn main() -> common::Result<()> {
    let client = common::client()?;
    let customers = client.customers();
    let customer = common::new_customer(&client, "Alice").await?;

    let request =
        PlatformRequest::new(Provider::Bridge, TargetRole::Customer).with("kyc_level", "basic");
    let result = customers.populate_platform(&customer.id, &request).await?;
    println!("Platform data populated");
    for r in &result.data {
        println!("  {} as {}: {}", r.provider, r.target_role, r.status);
    }
    Ok(())
}

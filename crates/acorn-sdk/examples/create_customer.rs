//! Create a customer (the seed's `customers.create`).
//!
//! ```sh
//! ACORN_CLIENT_ID=… ACORN_CLIENT_SECRET=… cargo run -p acorn-sdk --example create_customer
//! ```

mod common;

use acorn_sdk::types::CustomerRequest;

#[tokio::main]
async fn main() -> common::Result<()> {
    let client = common::client()?;
    let customers = client.customers();

    let result = customers
        .create(&CustomerRequest {
            email: Some(common::unique_email("alice")),
            first_name: Some("Alice".into()),
            last_name: Some("Smith".into()),
            country_code: Some("US".into()),
            ..Default::default()
        })
        .await?;
    println!("Customer ID: {}", result.data.id);
    println!("Status: {}", result.data.status);
    Ok(())
}

//! Update a customer (the seed's `customers.update`): set fields, and clear one with `null`.

mod common;

use acorn_sdk::types::CustomerRequest;

#[tokio::main]
async fn main() -> common::Result<()> {
    let client = common::client()?;
    let customers = client.customers();
    let created = common::new_customer(&client, "Alice").await?;

    let result = customers
        .update(
            &created.id,
            &CustomerRequest {
                first_name: Some("Alice".into()),
                last_name: Some("Johnson".into()),
                phone_country_code: Some("1".into()),
                phone_area_code: Some("415".into()),
                phone_number: Some("5551234".into()),
                ..Default::default()
            }
            // Fields named here are sent as null: cleared.
            .clear("country_code"),
        )
        .await?;
    let updated = result.data;
    println!("Updated: {}", updated.last_name.as_deref().unwrap_or(""));
    println!(
        "Country: {}, version {}",
        updated.country_code.as_deref().unwrap_or("(cleared)"),
        updated.version
    );
    Ok(())
}

//! Get a customer by id (the seed's `customers.get`). Creates one first, so it runs on its own.

mod common;

#[tokio::main]
async fn main() -> common::Result<()> {
    let client = common::client()?;
    let customers = client.customers();
    let created = common::new_customer(&client, "Alice").await?;

    let result = customers.get(&created.id).await?;
    println!("Email: {}", result.data.email);
    println!(
        "Status: {}, version {}",
        result.data.status, result.data.version
    );
    Ok(())
}

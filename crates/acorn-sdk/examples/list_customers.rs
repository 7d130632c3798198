//! List customers with filters (the seed's `customers.list`), then walk every page with a cursor
//! (`list_all`).

mod common;

use acorn_sdk::types::ListParams;
use futures::TryStreamExt;

#[tokio::main]
async fn main() -> common::Result<()> {
    let client = common::client()?;
    let customers = client.customers();
    let alice = common::new_customer(&client, "Alice").await?;
    let bob = common::new_customer(&client, "Bob").await?;

    let result = customers
        .list(&ListParams {
            limit: Some(10),
            offset: Some(0),
            email: vec![alice.email.clone()],
            ..Default::default()
        })
        .await?;
    println!("Total: {}", result.data.count);
    for c in &result.data.customer_list {
        println!(" {} — {}", c.id, c.email);
    }

    // Several values of one filter are OR-ed; different filters are AND-ed.
    let result = customers
        .list(&ListParams {
            email: vec![alice.email.clone(), bob.email.clone()],
            country_code: vec!["us".into()],
            ..Default::default()
        })
        .await?;
    println!("Alice or Bob, in the US: {}", result.data.count);
    for c in &result.data.customer_list {
        println!(" {} — {}", c.id, c.email);
    }

    // Every customer, newest first, 50 per request.
    let mut all = std::pin::pin!(customers.list_all(ListParams {
        limit: Some(50),
        ..Default::default()
    }));
    let mut n = 0;
    while let Some(_customer) = all.try_next().await? {
        n += 1;
    }
    println!("All customers: {n}");
    Ok(())
}

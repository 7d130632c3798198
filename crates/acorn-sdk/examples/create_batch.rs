//! Create several customers in one request (`customers.create_batch`, an Acorn extension):
//! each item has its own idempotency key and its own answer, so an invalid one does not stop
//! the others and running the same batch again creates no one twice.
//!
//! ```sh
//! ACORN_CLIENT_ID=… ACORN_CLIENT_SECRET=… cargo run -p acorn-sdk --example create_batch
//! ```

mod common;

use acorn_sdk::types::{CustomerBatchItem, CustomerRequest};

#[tokio::main]
async fn main() -> common::Result<()> {
    let client = common::client()?;
    let customers = client.customers();

    let run = common::unique_email("batch");
    let emails = [
        common::unique_email("ana"),
        "not-an-email".to_owned(),
        common::unique_email("bo"),
    ];
    let items: Vec<CustomerBatchItem> = emails
        .iter()
        .enumerate()
        .map(|(row, email)| CustomerBatchItem {
            idempotency_key: Some(format!("{run}-row-{row}")),
            customer: CustomerRequest {
                email: Some(email.clone()),
                ..Default::default()
            },
        })
        .collect();

    let first = customers.create_batch(&items).await?;
    for (email, outcome) in emails.iter().zip(&first) {
        match &outcome.result {
            Ok(created) => println!("{email}: created {}", created.data.id),
            Err(e) => println!("{email}: refused ({e})"),
        }
    }
    if !(first[0].result.is_ok() && first[1].result.is_err() && first[2].result.is_ok()) {
        return Err("expected rows 0 and 2 created and row 1 refused".into());
    }

    // The same batch again: every answer is the stored one; no one is created twice.
    let again = customers.create_batch(&items).await?;
    let same_ids = first.iter().zip(&again).all(|(a, b)| {
        b.replayed
            && a.result.as_ref().ok().map(|r| &r.data.id)
                == b.result.as_ref().ok().map(|r| &r.data.id)
    });
    if !same_ids {
        return Err("the repeated batch should replay every answer".into());
    }
    println!("Repeated batch: {} answers replayed", again.len());
    Ok(())
}

//! What failures look like: an unknown customer (404) and an invalid one (422, every bad field
//! reported at once). Both are `OakError::Api` with the server's error envelope.

mod common;

use acorn_sdk::types::{CustomerRequest, ErrorCode};
use acorn_sdk::OakError;

#[tokio::main]
async fn main() -> common::Result<()> {
    let client = common::client()?;
    let customers = client.customers();

    match customers
        .get("cus_0192d5e2-7b1c-7000-8000-000000000000")
        .await
    {
        Err(e @ OakError::Api { .. }) if e.error_code() == Some(ErrorCode::NotFound) => {
            println!(
                "Not found: {} (request {})",
                e.msg().unwrap_or(""),
                e.request_id().unwrap_or("?")
            );
        }
        Err(other) => return Err(other.into()),
        Ok(_) => return Err("expected a 404".into()),
    }

    let invalid = CustomerRequest {
        email: Some("alice@example".into()),
        country_code: Some("USA".into()),
        dob: Some("2999-01-01".into()),
        ..Default::default()
    };
    match customers.create(&invalid).await {
        Err(e @ OakError::Api { .. }) => {
            println!(
                "{:?} {:?}: {}",
                e.status(),
                e.error_code(),
                e.msg().unwrap_or("")
            );
            for reason in e.failure_reasons() {
                println!(
                    "  {:?} {:?}: {}",
                    reason.code, reason.fields, reason.message
                );
            }
        }
        Err(other) => return Err(other.into()),
        Ok(_) => return Err("expected a 422".into()),
    }
    Ok(())
}

//! What a provider needs before a registration can be submitted (`providers.getSchema`).
//!
//! Takes the provider as an optional argument (default `stripe`).

mod common;

use acorn_sdk::types::Provider;

#[tokio::main]
async fn main() -> common::Result<()> {
    let client = common::client()?;
    let provider: Provider = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "stripe".to_owned())
        .parse()?;

    let result = client.providers().get_schema(provider).await?;
    let schema = result.data.schema;
    println!("Provider: {}", schema.provider);
    println!(
        "Always required: {}",
        schema.global_required_fields.join(", ")
    );
    for (role, r) in &schema.roles {
        println!(
            "  {role}: fields [{}], provider_data [{}]",
            r.required_fields.join(", "),
            r.provider_data_required.join(", ")
        );
    }
    Ok(())
}

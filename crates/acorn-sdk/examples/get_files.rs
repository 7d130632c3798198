//! List a customer's files and download one through its signed link (the seed's
//! `customers.getFiles`). Uploads a document first, so it runs on its own.

mod common;

use acorn_sdk::types::FileType;
use acorn_sdk::FileUpload;

#[tokio::main]
async fn main() -> common::Result<()> {
    let client = common::client()?;
    let customers = client.customers();
    let customer = common::new_customer(&client, "Alice").await?;
    let scan = &b"%PDF-1.4\n% a stand-in proof of address\n"[..];
    customers
        .upload_files(
            &customer.id,
            FileType::AddressProof,
            vec![FileUpload::new("address.pdf", scan)],
        )
        .await?;

    let result = customers.get_files(&customer.id).await?;
    for file in &result.data {
        println!("File: {} — {}", file.id, file.name);
    }

    // The link is temporary and signed: it needs no token.
    let first = result.data.first().ok_or("no file listed")?;
    let bytes = reqwest::get(&first.url)
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    if bytes.as_ref() != scan {
        return Err("the downloaded bytes differ from the upload".into());
    }
    println!("Downloaded {} bytes of {}", bytes.len(), first.name);
    Ok(())
}

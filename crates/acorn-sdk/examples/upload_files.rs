//! Upload identity documents for a customer (the seed's `customers.uploadFiles`).
//!
//! Pass file paths to upload them (PDF, JPEG or PNG, judged by their bytes, at most 5 MiB
//! each); without arguments a small stand-in PDF is uploaded.

mod common;

use acorn_sdk::types::FileType;
use acorn_sdk::FileUpload;

#[tokio::main]
async fn main() -> common::Result<()> {
    let client = common::client()?;
    let customers = client.customers();
    let customer = common::new_customer(&client, "Alice").await?;

    let mut files = Vec::new();
    for path in std::env::args().skip(1) {
        files.push(FileUpload::from_path(path).await?);
    }
    if files.is_empty() {
        files.push(
            FileUpload::new(
                "passport.pdf",
                &b"%PDF-1.4\n% a stand-in passport scan\n"[..],
            )
            .with_content_type("application/pdf"),
        );
    }

    let result = customers
        .upload_files(&customer.id, FileType::Passport, files)
        .await?;
    println!("Files uploaded: {}", result.data.len());
    for file in &result.data {
        println!(
            "  {} — {} ({}, {} bytes)",
            file.id, file.name, file.content_type, file.size
        );
    }
    Ok(())
}

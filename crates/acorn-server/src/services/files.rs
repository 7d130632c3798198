//! KYC files (contract §4.7): objects first, then their rows with the registrations' document
//! state in one transaction; nothing stays visible when either fails.

use acorn_types::{CustomerId, FileId, MerchantId, Mode};

use super::modes::merchant_mode;
use super::status::documents_uploaded;
use crate::adapters::files::Upload;
use crate::services::context::Context;
use crate::services::error::ServiceError;
use crate::store::files::insert_file_rows;
use crate::store::{micros_after, now_micros, Store, StoreError, StoredFile};

/// Stores a checked upload for a customer. Runs in a task of its own, so a client that goes
/// away mid-way cannot interrupt the write → commit → clean-up sequence. For a sandbox
/// merchant the sandbox reviews uploaded documents in its next step.
pub async fn upload(
    ctx: &Context,
    merchant: MerchantId,
    customer: CustomerId,
    upload: Upload,
) -> Result<Vec<StoredFile>, ServiceError> {
    let (files, store) = (ctx.files.clone(), ctx.store.clone());
    let delay = ctx.config.sandbox_step_delay;
    let sandbox = merchant_mode(ctx, merchant).await? == Mode::Sandbox;
    let review_at = sandbox.then(|| micros_after(now_micros(), delay));
    tokio::spawn(async move {
        let rows = files.put_all(merchant, upload).await?;
        match record(&store, merchant, customer, &rows, review_at).await {
            Ok(()) => Ok(rows),
            Err(e) => {
                let ids: Vec<FileId> = rows.iter().map(|r| r.id).collect();
                files.remove(merchant, &ids).await;
                Err(ServiceError::from(e))
            }
        }
    })
    .await
    .map_err(|e| ServiceError::internal(anyhow::anyhow!("upload task: {e}")))?
}

/// The rows of new files, and the documents the providers asked for now submitted
/// (DOCUMENT_REQUIRED → DOCUMENT_PENDING), after locking the customer row.
async fn record(
    store: &Store,
    merchant: MerchantId,
    customer: CustomerId,
    files: &[StoredFile],
    review_step_at: Option<i64>,
) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    Store::fetch_customer(&mut tx, merchant, customer, store.for_update())
        .await?
        .ok_or(StoreError::NotFound)?;
    insert_file_rows(&mut tx, merchant, customer, files).await?;
    let now = files.first().map_or_else(now_micros, |f| f.created_at);
    documents_uploaded(&mut tx, merchant, customer, review_step_at, now).await?;
    tx.commit().await?;
    store.wake_worker();
    Ok(())
}

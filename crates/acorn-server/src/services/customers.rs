//! Customers (contract §4.1–4.4): create with its event and counters, update by patch with
//! `If-Match`, read, and list with exact counts.

use acorn_types::{Customer, CustomerId, CustomerPatch, FailureReason, MerchantId, ReasonCode};
use acorn_types::{EventKind, Provider};
use anyhow::Context;

use crate::services::context::Context as ServiceContext;
use crate::services::error::ServiceError;
use crate::services::modes::merchant_mode;
use crate::store::counts::adjust_counts;
use crate::store::customers::update_fields;
use crate::store::events::insert_event;
use crate::store::idempotency::KeyAnswer;
use crate::store::{now_micros, ListPage, ListQuery, Page, Store, StoreError, UpdateOutcome};
use acorn_types::events::customer_data;

/// Creates a customer in status `NOT_STARTED`, with its `customer.created` event and the
/// request's idempotent answer, in one transaction shared with concurrent creates (group
/// commit, on both engines).
pub async fn create(
    store: &Store,
    merchant: MerchantId,
    patch: &CustomerPatch,
    answer: Option<KeyAnswer>,
) -> Result<Customer, StoreError> {
    store
        .create_grouped(merchant, patch, now_micros(), answer)
        .await
}

/// Applies a validated patch: absent fields stay, `null` clears. Bumps the version only when
/// something changed; a change to a syncable field turns `synced: true` into false. With
/// `if_match`, the stored version must be that one.
pub async fn update(
    store: &Store,
    merchant: MerchantId,
    id: CustomerId,
    patch: &CustomerPatch,
    if_match: Option<i64>,
) -> Result<UpdateOutcome, StoreError> {
    let now = now_micros();
    let mut tx = store.begin().await?;
    let current = Store::fetch_customer(&mut tx, merchant, id, store.for_update())
        .await?
        .ok_or(StoreError::NotFound)?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(StoreError::VersionMismatch {
            current: current.version,
        });
    }
    let before = serde_json::to_value(&current).context("encoding customer")?;
    let changed: Vec<_> = patch
        .values()
        .iter()
        .filter(|(spec, value)| before.get(spec.name) != Some(value))
        .collect();
    if changed.is_empty() {
        tx.commit().await?;
        return Ok(UpdateOutcome::Unchanged(current));
    }
    let unsync =
        current.synced == Some(true) && changed.iter().any(|(spec, _)| spec.sync.is_some());
    update_fields(&mut tx, merchant, id, &changed, unsync, now).await?;
    let updated = Store::fetch_customer(&mut tx, merchant, id, "")
        .await?
        .ok_or(StoreError::NotFound)?;
    adjust_counts(&mut tx, merchant, Some(&current), Some(&updated)).await?;
    let names: Vec<&str> = changed.iter().map(|(s, _)| s.name).collect();
    let data = customer_data(&updated, None, &names);
    let event = EventKind::CustomerUpdated;
    insert_event(&mut tx, merchant, Some(id), event, &data, now).await?;
    tx.commit().await?;
    Ok(UpdateOutcome::Updated(updated))
}

/// One customer, or 404.
pub async fn get(
    store: &Store,
    merchant: MerchantId,
    id: CustomerId,
) -> Result<Customer, ServiceError> {
    store
        .get_customer(merchant, id)
        .await?
        .ok_or_else(ServiceError::not_found)
}

/// One page of customers with the exact count; a cursor must name one of the merchant's own
/// customers (the page query holds only when it does, so only an empty page asks).
pub async fn list(
    store: &Store,
    merchant: MerchantId,
    q: &ListQuery,
) -> Result<ListPage, ServiceError> {
    let page = store.list_customers(merchant, q).await?;
    if let (Page::After(cursor) | Page::Before(cursor), true) = (q.page, page.customers.is_empty())
    {
        if !store.customer_exists(merchant, cursor).await? {
            let field = if matches!(q.page, Page::After(_)) {
                "starting_after"
            } else {
                "ending_before"
            };
            return Err(ServiceError::validation(vec![FailureReason::new(
                ReasonCode::InvalidCursor,
                format!("{field} does not name one of your customers"),
                &[field],
            )]));
        }
    }
    Ok(page)
}

/// Erases a customer on request (repeatable): the store redacts it in one transaction, then
/// its file objects are deleted and the providers that hold it are told (Stripe: the
/// customer is deleted there). A provider that cannot be reached is logged, not retried.
pub async fn erase(
    ctx: &ServiceContext,
    merchant: MerchantId,
    id: CustomerId,
) -> Result<(), ServiceError> {
    let mode = merchant_mode(ctx, merchant).await?;
    let erased = ctx.store.erase_customer(merchant, id, now_micros()).await?;
    ctx.files.remove(merchant, &erased.files).await;
    for (provider, customer) in &erased.provider_customers {
        let stripe = ctx
            .providers
            .stripe(mode)
            .filter(|_| *provider == Provider::Stripe);
        if let Some(stripe) = stripe.filter(|_| customer.starts_with("cus_")) {
            if let Err(e) = stripe.delete_customer(customer).await {
                tracing::warn!(customer_id = %id, error = %e.message, "could not delete the customer at stripe");
            }
        }
    }
    Ok(())
}

//! What a real provider reports about a registration — its answer to a submit, a webhook, or a
//! background re-read — applied to the registration through the status machine
//! ([`save_change`]: the registration, its events and the customer's derived status in one
//! transaction). Also Stripe's webhook endpoint and the reconciliation job.

use acorn_types::{
    CustomerId, DocumentsState, MerchantId, Provider, ReasonCode, Registration, RegistrationId,
    RegistrationStatus, TargetRole,
};
use serde_json::{json, Value};
use sqlx::AnyConnection;

use super::status::{action_required, save_change};
use crate::adapters::providers::stripe::mapping::account_state;
use crate::adapters::providers::{ProviderState, RefreshRequest};
use crate::services::context::Context;
use crate::services::error::ServiceError;
use crate::store::jobs::{enqueue, finish, Job};
use crate::store::registrations::{find_by_id, find_by_provider_id, RegistrationKey};
use crate::store::JobKind;
use crate::store::{duration_micros, now_micros, StoreError};

/// Statuses a real provider may still move on its own: such registrations are re-read.
pub fn in_progress(status: RegistrationStatus) -> bool {
    use RegistrationStatus as R;
    matches!(
        status,
        R::Submitted | R::Processing | R::AwaitingConfirmation | R::Restricted
    )
}

/// Writes the provider's state onto `reg`; returns whether anything the API shows changed.
pub(crate) fn apply(reg: &mut Registration, s: &ProviderState) -> bool {
    let before = reg.clone();
    reg.status = s.status;
    if s.provider_customer_id.is_some() {
        reg.provider_customer_id.clone_from(&s.provider_customer_id);
    }
    reg.missing_fields.clone_from(&s.missing_fields);
    reg.documents = match (s.documents, reg.documents) {
        (Some(d), _) => d,
        // The provider no longer asks for documents: it has what it needs.
        (None, DocumentsState::Required | DocumentsState::Submitted) => DocumentsState::Accepted,
        (None, d) => d,
    };
    reg.rejection_reason.clone_from(&s.rejection_reason);
    reg.manual_review = s.manual_review;
    reg.action_required = action_required(reg);
    *reg != before
}

/// The customer columns an approval fills (a connected account's type).
pub(crate) fn fills(reg: &Registration) -> Vec<(&'static str, String)> {
    if reg.status != RegistrationStatus::Approved || reg.target_role != TargetRole::ConnectedAccount
    {
        return vec![];
    }
    let kind = reg
        .provider_data
        .as_ref()
        .and_then(|d| d.get("account_type"))
        .and_then(Value::as_str)
        .unwrap_or("express");
    vec![("account_type", kind.to_owned())]
}

/// Schedules the next re-read of a registration at `at`.
pub(crate) async fn schedule_reconcile(
    conn: &mut AnyConnection,
    merchant: MerchantId,
    registration_id: &str,
    at: i64,
    now: i64,
) -> Result<(), StoreError> {
    let payload = json!({"registration_id": registration_id});
    let kind = JobKind::ProviderReconcile.as_str();
    enqueue(conn, kind, merchant, &payload, at, now).await?;
    Ok(())
}

/// The reconcile interval in microseconds.
pub(crate) fn reconcile_delay(ctx: &Context) -> i64 {
    duration_micros(ctx.config.reconcile_interval)
}

/// Applies `reported` to the locked registration and saves it with its events; `false` when
/// nothing changed.
async fn save_reported(
    conn: &mut AnyConnection,
    merchant: MerchantId,
    customer: CustomerId,
    mut reg: Registration,
    reported: &ProviderState,
    now: i64,
) -> Result<bool, StoreError> {
    let existing = reg.clone();
    if !apply(&mut reg, reported) {
        return Ok(false);
    }
    let key = RegistrationKey {
        merchant,
        customer,
        provider: reg.provider,
        role: reg.target_role,
    };
    let fills = fills(&reg);
    save_change(conn, &key, Some(&existing), &mut reg, fills, now).await?;
    Ok(true)
}

/// What a webhook did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// A registration changed.
    Applied,
    /// The event matched a registration that already said so.
    Unchanged,
    /// No registration has the event's object, or the event type is not one Acorn reads.
    Ignored,
}

fn webhook_refused(message: impl Into<String>) -> ServiceError {
    ServiceError::bad_request(ReasonCode::InvalidInput, message, &["Stripe-Signature"])
}

/// `POST /api/v1/providers/stripe/webhook`: verifies the signature, then applies
/// `account.updated` and `customer.deleted` (`customer.updated` changes nothing Acorn keeps).
/// A refused signature changes nothing.
pub async fn stripe_webhook(
    ctx: &Context,
    signature: Option<&str>,
    body: &[u8],
) -> Result<(String, WebhookOutcome), ServiceError> {
    let unavailable = |msg: &str| {
        ServiceError::unavailable(msg.to_owned()).with_reason(acorn_types::FailureReason::new(
            ReasonCode::ProviderUnavailable,
            msg,
            &["provider"],
        ))
    };
    let adapter = ctx
        .providers
        .any_stripe()
        .ok_or_else(|| unavailable("stripe is not configured on this server"))?;
    let now = now_micros() / 1_000_000;
    match adapter.verify_webhook(signature, body, now) {
        None => return Err(unavailable("no Stripe webhook secret is configured")),
        Some(Err(e)) => return Err(webhook_refused(format!("webhook refused: {e}"))),
        Some(Ok(())) => {}
    }
    let event: Value = serde_json::from_slice(body)
        .map_err(|_| ServiceError::invalid("body", "the webhook body is not a JSON event"))?;
    let kind = event["type"].as_str().unwrap_or_default().to_owned();
    let object = &event["data"]["object"];
    let (role, reported) = match kind.as_str() {
        "account.updated" => (TargetRole::ConnectedAccount, account_state(object)),
        "customer.deleted" => {
            let mut s = ProviderState::new(RegistrationStatus::Cancelled);
            s.rejection_reason = Some("stripe: the customer was deleted at Stripe".to_owned());
            (TargetRole::Customer, s)
        }
        _ => return Ok((kind, WebhookOutcome::Ignored)),
    };
    let Some(id) = object["id"].as_str() else {
        return Ok((kind, WebhookOutcome::Ignored));
    };
    let outcome = report(ctx, role, id, &reported).await?;
    Ok((kind, outcome))
}

/// Applies a reported state to the Stripe registration whose object is `id`.
async fn report(
    ctx: &Context,
    role: TargetRole,
    id: &str,
    reported: &ProviderState,
) -> Result<WebhookOutcome, StoreError> {
    let store = &ctx.store;
    let now = now_micros();
    let mut tx = store.begin().await?;
    let found =
        find_by_provider_id(&mut tx, Provider::Stripe, role, id, store.for_update()).await?;
    let Some((merchant, customer, reg)) = found else {
        return Ok(WebhookOutcome::Ignored);
    };
    let changed = save_reported(&mut tx, merchant, customer, reg, reported, now).await?;
    tx.commit().await?;
    Ok(if changed {
        WebhookOutcome::Applied
    } else {
        WebhookOutcome::Unchanged
    })
}

/// One reconciliation: reads the registration's state from its provider and applies it; the
/// next read is scheduled while the registration is still in progress. A retryable provider
/// failure fails the job (the worker retries it with backoff); another ends the re-reads.
pub async fn run_reconcile(ctx: &Context, job: &Job) -> Result<(), StoreError> {
    let store = &ctx.store;
    let reg_id = job
        .payload
        .get("registration_id")
        .and_then(Value::as_str)
        .and_then(|s| RegistrationId::parse(s).ok())
        .ok_or_else(|| anyhow::anyhow!("reconcile job without a registration id"))?;
    let mut tx = store.begin().await?;
    let current = find_by_id(&mut tx, reg_id, "").await?;
    tx.commit().await?;
    let mode = match &current {
        Some((merchant, _, _)) => ctx.store.merchant_mode(*merchant).await?,
        None => None,
    };
    let target = current.as_ref().and_then(|(_, _, reg)| {
        let adapter = ctx.providers.get(mode?, reg.provider)?;
        (in_progress(reg.status) && adapter.reconciles(reg.target_role)).then_some((adapter, reg))
    });
    let reported = match target {
        Some((adapter, reg)) => {
            let req = RefreshRequest {
                role: reg.target_role,
                provider_customer_id: reg.provider_customer_id.as_deref(),
            };
            match adapter.refresh(&req).await {
                Ok(s) => s,
                Err(e) if e.retryable => return Err(anyhow::anyhow!("{e}").into()),
                Err(e) => {
                    tracing::warn!(registration = %reg_id, error = %e, "reconciliation stopped: the provider refused the read");
                    None
                }
            }
        }
        None => None,
    };
    let now = now_micros();
    let mut tx = store.begin().await?;
    if let Some(reported) = reported {
        if let Some((merchant, customer, reg)) =
            find_by_id(&mut tx, reg_id, store.for_update()).await?
        {
            save_reported(&mut tx, merchant, customer, reg, &reported, now).await?;
            if in_progress(reported.status) {
                let at = now + reconcile_delay(ctx);
                schedule_reconcile(&mut tx, merchant, &reg_id.to_string(), at, now).await?;
            }
        }
    }
    finish(&mut tx, &job.id).await?;
    tx.commit().await?;
    Ok(())
}

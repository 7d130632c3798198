//! The customer status machine's one home: which registration statuses are active, when a
//! registration needs the merchant's action, and how a registration change moves its customer
//! (derived status, approval fills, and the events of both) — contract §5 and §6.

use acorn_types::EventKind;
use acorn_types::{CustomerId, DocumentsState, MerchantId, Registration, RegistrationStatus};
use serde_json::json;
use sqlx::AnyConnection;

use crate::store::counts::adjust_counts;
use crate::store::events::insert_event;
use crate::store::jobs::enqueue;
use crate::store::registrations::{
    all_of, apply_customer_change, save, CustomerChange, RegistrationKey,
};
use crate::store::{format_time, Store, StoreError};
use acorn_types::events::{customer_data, registration_data};

use crate::store::JobKind;

mod derive;

pub use derive::{derive_customer_status, status_event, RegistrationFacts};

/// Statuses in which a registration is active: submitting again is a conflict.
pub fn is_active(status: RegistrationStatus) -> bool {
    use RegistrationStatus as R;
    matches!(
        status,
        R::Submitted | R::Processing | R::AwaitingConfirmation | R::Approved
    )
}

/// Whether the merchant must act on a registration: documents asked for, a confirmation or a
/// restriction to resolve, or fields the provider says are missing.
pub fn action_required(reg: &Registration) -> bool {
    reg.documents == DocumentsState::Required
        || matches!(
            reg.status,
            RegistrationStatus::AwaitingConfirmation | RegistrationStatus::Restricted
        )
        || (reg.status == RegistrationStatus::Processing && !reg.missing_fields.is_empty())
}

fn facts(regs: &[Registration]) -> Vec<RegistrationFacts> {
    regs.iter()
        .map(|r| RegistrationFacts {
            status: r.status,
            documents: r.documents,
            manual_review: r.manual_review,
            has_missing_fields: !r.missing_fields.is_empty(),
        })
        .collect()
}

/// Writes a changed registration (inserting it when it did not exist) and records the change:
/// its `provider_registration.*` event when its status moved, then the customer's derived
/// status and `fills` (with their events).
pub(crate) async fn save_change(
    conn: &mut AnyConnection,
    key: &RegistrationKey,
    existing: Option<&Registration>,
    reg: &mut Registration,
    fills: Vec<(&'static str, String)>,
    now: i64,
) -> Result<(), StoreError> {
    reg.updated_at = format_time(now);
    let previous = existing.map(|r| r.status);
    let moved = previous != Some(reg.status);
    // The customer as it was, for the registration counters; locked on PostgreSQL so that two
    // registrations of one customer saved at once move its counters one after the other.
    let before = if moved {
        Store::fetch_customer(conn, key.merchant, key.customer, lock(conn)).await?
    } else {
        None
    };
    save(conn, key, reg, existing.is_none(), now).await?;
    if moved {
        let after = Store::fetch_customer(conn, key.merchant, key.customer, "").await?;
        if let (Some(b), Some(a)) = (&before, &after) {
            adjust_counts(conn, key.merchant, Some(b), Some(a)).await?;
        }
        let version = after.map(|c| c.version);
        let data = registration_data(key.customer, version, reg);
        let event = EventKind::Registration(reg.status);
        insert_event(conn, key.merchant, Some(key.customer), event, &data, now).await?;
    }
    recompute_customer(conn, key.merchant, key.customer, Some(reg), fills, now).await
}

/// `FOR UPDATE` on PostgreSQL (row locks), nothing on SQLite (one writer).
fn lock(conn: &AnyConnection) -> &'static str {
    match conn.backend_name() {
        "PostgreSQL" => " FOR UPDATE",
        _ => "",
    }
}

/// Derives the customer's status from its registrations and applies it with `fills` (only
/// where the customer has no value yet): `customer.updated`, and the status's own event when
/// the status moved. `cause` is the registration whose change this follows, if one did.
pub(crate) async fn recompute_customer(
    conn: &mut AnyConnection,
    merchant: MerchantId,
    customer: CustomerId,
    cause: Option<&Registration>,
    fills: Vec<(&'static str, String)>,
    now: i64,
) -> Result<(), StoreError> {
    let current = Store::fetch_customer(conn, merchant, customer, "")
        .await?
        .ok_or(StoreError::NotFound)?;
    let regs = all_of(conn, customer).await?;
    let status = derive_customer_status(&facts(&regs));
    let have = |col: &str| match col {
        "account_type" => current.account_type.is_some(),
        "customer_wallet" => current.customer_wallet.is_some(),
        "trading_wallet" => current.trading_wallet.is_some(),
        _ => true,
    };
    let change = CustomerChange {
        status: (status != current.status).then_some(status),
        fills: fills.into_iter().filter(|(col, _)| !have(col)).collect(),
    };
    if change.is_empty() {
        return Ok(());
    }
    apply_customer_change(conn, merchant, customer, &change, now).await?;
    let updated = Store::fetch_customer(conn, merchant, customer, "")
        .await?
        .ok_or(StoreError::NotFound)?;
    adjust_counts(conn, merchant, Some(&current), Some(&updated)).await?;
    let data = customer_data(&updated, cause, &change.changed_fields());
    insert_event(
        conn,
        merchant,
        Some(customer),
        EventKind::CustomerUpdated,
        &data,
        now,
    )
    .await?;
    if let Some(event) = change.status.and_then(status_event) {
        insert_event(conn, merchant, Some(customer), event, &data, now).await?;
    }
    Ok(())
}

/// After a document upload (inside its transaction): every registration of the customer
/// whose documents are `required` becomes `submitted`, and sandbox registrations get a step
/// scheduled at `step_at` to review them.
pub(crate) async fn documents_uploaded(
    conn: &mut AnyConnection,
    merchant: MerchantId,
    customer: CustomerId,
    step_at: Option<i64>,
    now: i64,
) -> Result<(), StoreError> {
    let regs = all_of(conn, customer).await?;
    let mut changed = None;
    for mut reg in regs
        .into_iter()
        .filter(|r| r.documents == DocumentsState::Required)
    {
        let key = RegistrationKey {
            merchant,
            customer,
            provider: reg.provider,
            role: reg.target_role,
        };
        reg.documents = DocumentsState::Submitted;
        reg.action_required = false;
        save(conn, &key, &reg, false, now).await?;
        if let Some(at) = step_at {
            let payload = json!({"registration_id": reg.id});
            enqueue(
                conn,
                JobKind::SandboxAdvance.as_str(),
                merchant,
                &payload,
                at,
                now,
            )
            .await?;
        }
        changed = Some(reg);
    }
    if let Some(reg) = changed {
        recompute_customer(conn, merchant, customer, Some(&reg), vec![], now).await?;
    }
    Ok(())
}

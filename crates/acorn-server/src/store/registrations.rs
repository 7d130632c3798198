//! Provider registrations, the customer status derived from them, and the sandbox's steps.

use std::collections::HashMap;

use acorn_types::status::{derive_customer_status, status_event, RegistrationFacts};
use acorn_types::{
    Customer, CustomerId, DocumentsState, MerchantId, Platform, Provider, Registration,
    RegistrationId, RegistrationStatus, TargetRole,
};
use anyhow::Context;
use serde_json::{json, Map, Value};
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Row, Transaction};

use super::customers::adjust_counts;
use super::events::{insert_event, CATEGORY_REGISTRATION};
use super::jobs::{enqueue, finish, Job};
use super::sql::Sql;
use super::{format_time, Store, StoreError};
use crate::providers::sandbox::{self, SandboxState};

/// The job kind of one sandbox step.
pub const SANDBOX_STEP: &str = "sandbox.advance";

const COLUMNS: &str = "id, customer_id, provider, target_role, status, provider_customer_id, provider_data, \
    provider_response, rejection_reason, readiness, failure_reasons, changes, action_required, documents, \
    manual_review, missing_fields, created_at, updated_at";

/// Which registration: a customer's, at a provider, in a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrationKey {
    pub merchant: MerchantId,
    pub customer: CustomerId,
    pub provider: Provider,
    pub role: TargetRole,
}

/// What the sandbox test helper sets (contract §7); absent parts stay as they are.
#[derive(Debug, Clone)]
pub struct SetState {
    pub status: RegistrationStatus,
    pub rejection_reason: Option<Option<String>>,
    pub documents: Option<DocumentsState>,
    pub manual_review: Option<bool>,
}

fn json_col(row: &AnyRow, col: &str) -> anyhow::Result<Option<Value>> {
    row.try_get::<Option<String>, _>(col)?
        .map(|s| serde_json::from_str(&s))
        .transpose()
        .with_context(|| format!("stored registration {col}"))
}

fn parse<T>(r: Result<T, acorn_types::UnknownValue>) -> anyhow::Result<T> {
    r.map_err(|e| anyhow::anyhow!("stored value: {e}"))
}

/// Decodes a row into (bare customer id, registration).
fn from_row(row: &AnyRow) -> anyhow::Result<(String, Registration)> {
    let provider_data = match json_col(row, "provider_data")? {
        Some(Value::Object(m)) => Some(m),
        _ => None,
    };
    let missing: Vec<String> =
        serde_json::from_value(json_col(row, "missing_fields")?.unwrap_or(json!([])))?;
    let reg = Registration {
        id: format!(
            "{}{}",
            RegistrationId::PREFIX,
            row.try_get::<String, _>("id")?
        ),
        provider: parse(Provider::parse(&row.try_get::<String, _>("provider")?))?,
        target_role: parse(TargetRole::parse(&row.try_get::<String, _>("target_role")?))?,
        status: parse(RegistrationStatus::parse(
            &row.try_get::<String, _>("status")?,
        ))?,
        provider_customer_id: row.try_get("provider_customer_id")?,
        provider_data,
        provider_response: json_col(row, "provider_response")?,
        rejection_reason: row.try_get("rejection_reason")?,
        readiness: json_col(row, "readiness")?,
        failure_reasons: json_col(row, "failure_reasons")?,
        changes: json_col(row, "changes")?,
        action_required: row.try_get::<i64, _>("action_required")? != 0,
        documents: parse(DocumentsState::parse(
            &row.try_get::<String, _>("documents")?,
        ))?,
        manual_review: row.try_get::<i64, _>("manual_review")? != 0,
        missing_fields: missing,
        created_at: format_time(row.try_get("created_at")?),
        updated_at: format_time(row.try_get("updated_at")?),
    };
    Ok((row.try_get("customer_id")?, reg))
}

fn reg_uuid(reg: &Registration) -> anyhow::Result<RegistrationId> {
    RegistrationId::parse(&reg.id).map_err(|e| anyhow::anyhow!("registration id: {e}"))
}

/// The `platforms[]` summary of a registration.
pub(crate) fn platform(reg: &Registration) -> Platform {
    Platform {
        provider: reg.provider,
        target_role: reg.target_role,
        status: reg.status,
        provider_customer_id: reg.provider_customer_id.clone(),
        action_required: reg.action_required,
        readiness: reg.readiness.clone(),
        failure_reasons: reg.failure_reasons.clone(),
    }
}

/// The registrations of several customers (by bare id), oldest first — one query.
pub(crate) async fn registrations_of(
    conn: &mut AnyConnection,
    customers: &[String],
) -> Result<HashMap<String, Vec<Registration>>, StoreError> {
    let mut out: HashMap<String, Vec<Registration>> = HashMap::new();
    if customers.is_empty() {
        return Ok(out);
    }
    let mut sql = Sql::new(&format!(
        "SELECT {COLUMNS} FROM registrations WHERE customer_id IN "
    ));
    sql.bind_list(customers).push(" ORDER BY created_at, id");
    let (text, args) = sql.into_parts();
    for row in sqlx::query_with(&text, args).fetch_all(conn).await? {
        let (customer, reg) = from_row(&row)?;
        out.entry(customer).or_default().push(reg);
    }
    Ok(out)
}

/// Fills `platforms` of each customer from its registrations.
pub(crate) async fn attach_platforms(
    conn: &mut AnyConnection,
    customers: &mut [Customer],
) -> Result<(), StoreError> {
    let ids: Vec<String> = customers
        .iter()
        .map(|c| c.id.trim_start_matches(CustomerId::PREFIX).to_owned())
        .collect();
    let mut regs = registrations_of(conn, &ids).await?;
    for (c, id) in customers.iter_mut().zip(ids) {
        c.platforms = regs
            .remove(&id)
            .unwrap_or_default()
            .iter()
            .map(platform)
            .collect();
    }
    Ok(())
}

async fn find(
    conn: &mut AnyConnection,
    key: &RegistrationKey,
    suffix: &str,
) -> Result<Option<Registration>, StoreError> {
    let text = format!(
        "SELECT {COLUMNS} FROM registrations WHERE merchant_id = $1 AND customer_id = $2 AND provider = $3 AND target_role = $4{suffix}"
    );
    let row = sqlx::query(&text)
        .bind(key.merchant.uuid().to_string())
        .bind(key.customer.uuid().to_string())
        .bind(key.provider.as_str().to_owned())
        .bind(key.role.as_str().to_owned())
        .fetch_optional(conn)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?.map(|(_, r)| r))
}

fn opt_json(v: &Option<Value>) -> Option<String> {
    v.as_ref().map(Value::to_string)
}

async fn save(
    conn: &mut AnyConnection,
    key: &RegistrationKey,
    reg: &Registration,
    insert: bool,
    now: i64,
) -> Result<(), StoreError> {
    let id = reg_uuid(reg)?.uuid().to_string();
    let text = if insert {
        "INSERT INTO registrations (status, provider_customer_id, provider_data, provider_response, rejection_reason, \
         readiness, failure_reasons, changes, action_required, documents, manual_review, missing_fields, updated_at, \
         id, merchant_id, customer_id, provider, target_role, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $13)"
    } else {
        "UPDATE registrations SET status = $1, provider_customer_id = $2, provider_data = $3, provider_response = $4, \
         rejection_reason = $5, readiness = $6, failure_reasons = $7, changes = $8, action_required = $9, documents = $10, \
         manual_review = $11, missing_fields = $12, updated_at = $13 \
         WHERE id = $14 AND merchant_id = $15 AND customer_id = $16 AND provider = $17 AND target_role = $18"
    };
    sqlx::query(text)
        .bind(reg.status.as_str().to_owned())
        .bind(reg.provider_customer_id.clone())
        .bind(Value::Object(reg.provider_data.clone().unwrap_or_default()).to_string())
        .bind(opt_json(&reg.provider_response))
        .bind(reg.rejection_reason.clone())
        .bind(opt_json(&reg.readiness))
        .bind(opt_json(&reg.failure_reasons))
        .bind(opt_json(&reg.changes))
        .bind(i64::from(reg.action_required))
        .bind(reg.documents.as_str().to_owned())
        .bind(i64::from(reg.manual_review))
        .bind(json!(reg.missing_fields).to_string())
        .bind(now)
        .bind(id)
        .bind(key.merchant.uuid().to_string())
        .bind(key.customer.uuid().to_string())
        .bind(key.provider.as_str().to_owned())
        .bind(key.role.as_str().to_owned())
        .execute(conn)
        .await?;
    Ok(())
}

fn new_registration(
    id: RegistrationId,
    key: &RegistrationKey,
    status: RegistrationStatus,
    now: i64,
) -> Registration {
    Registration {
        id: id.to_string(),
        provider: key.provider,
        target_role: key.role,
        status,
        provider_customer_id: None,
        provider_data: Some(Map::new()),
        provider_response: None,
        rejection_reason: None,
        readiness: None,
        failure_reasons: None,
        changes: None,
        action_required: false,
        documents: DocumentsState::None,
        manual_review: false,
        missing_fields: vec![],
        created_at: format_time(now),
        updated_at: format_time(now),
    }
}

/// Customer fields a provider sets on approval (only where still empty).
#[derive(Debug, Default, Clone)]
struct CustomerFills {
    account_type: Option<String>,
    customer_wallet: Option<String>,
    trading_wallet: Option<String>,
}

/// What approval fills in, as the real provider would (contract §7).
fn approval_fills(reg: &mut Registration) -> anyhow::Result<CustomerFills> {
    let id = reg_uuid(reg)?;
    if reg.provider_customer_id.is_none() {
        reg.provider_customer_id = Some(sandbox::provider_customer_id(reg.target_role, id));
    }
    if reg.target_role != TargetRole::ConnectedAccount {
        return Ok(CustomerFills::default());
    }
    let (wallet, trading) = sandbox::wallets(id);
    let account_type = reg
        .provider_data
        .as_ref()
        .and_then(|d| d.get("account_type"))
        .and_then(Value::as_str)
        .unwrap_or("express")
        .to_owned();
    Ok(CustomerFills {
        account_type: Some(account_type),
        customer_wallet: Some(wallet),
        trading_wallet: Some(trading),
    })
}

/// Records a registration change and recomputes the customer: the `provider_registration.*`
/// event when its status moved, then the customer's derived status (and its events).
async fn after_change(
    conn: &mut AnyConnection,
    key: &RegistrationKey,
    previous: Option<RegistrationStatus>,
    reg: &Registration,
    fills: &CustomerFills,
    now: i64,
) -> Result<(), StoreError> {
    if previous != Some(reg.status) {
        let data = json!({"customer_id": key.customer.to_string(), "registration": reg});
        let event = format!("provider_registration.{}", reg.status);
        insert_event(
            conn,
            key.merchant,
            Some(key.customer),
            &event,
            CATEGORY_REGISTRATION,
            &data,
            now,
        )
        .await?;
    }
    recompute_customer(conn, key.merchant, key.customer, fills, now).await
}

async fn recompute_customer(
    conn: &mut AnyConnection,
    merchant: MerchantId,
    customer: CustomerId,
    fills: &CustomerFills,
    now: i64,
) -> Result<(), StoreError> {
    let current = Store::fetch_customer(conn, merchant, customer, "")
        .await?
        .ok_or(StoreError::NotFound)?;
    let regs = registrations_of(conn, &[customer.uuid().to_string()]).await?;
    let facts: Vec<RegistrationFacts> = regs
        .values()
        .flatten()
        .map(|r| RegistrationFacts {
            status: r.status,
            documents: r.documents,
            manual_review: r.manual_review,
            has_missing_fields: !r.missing_fields.is_empty(),
        })
        .collect();
    let status = derive_customer_status(&facts);
    let mut sql = Sql::new("UPDATE customers SET version = version + 1, updated_at = ");
    sql.bind(now);
    let mut changed = vec![];
    if status != current.status {
        sql.push(", status = ").bind(status.as_str().to_owned());
        changed.push("status");
    }
    for (col, have, fill) in [
        ("account_type", &current.account_type, &fills.account_type),
        (
            "customer_wallet",
            &current.customer_wallet,
            &fills.customer_wallet,
        ),
        (
            "trading_wallet",
            &current.trading_wallet,
            &fills.trading_wallet,
        ),
    ] {
        if let (None, Some(v)) = (have, fill) {
            sql.push(", ").push(col).push(" = ").bind(v.clone());
            changed.push(col);
        }
    }
    if changed.is_empty() {
        return Ok(());
    }
    sql.push(" WHERE merchant_id = ")
        .bind(merchant.uuid().to_string());
    sql.push(" AND id = ").bind(customer.uuid().to_string());
    let (text, args) = sql.into_parts();
    sqlx::query_with(&text, args).execute(&mut *conn).await?;
    let updated = Store::fetch_customer(conn, merchant, customer, "")
        .await?
        .ok_or(StoreError::NotFound)?;
    adjust_counts(conn, merchant, Some(&current), Some(&updated)).await?;
    let data = json!({"customer": updated, "changed_fields": changed});
    insert_event(
        conn,
        merchant,
        Some(customer),
        "customer.updated",
        CATEGORY_REGISTRATION,
        &data,
        now,
    )
    .await?;
    if status != current.status {
        if let Some(event) = status_event(status) {
            let data = json!({"customer": updated, "previous_status": current.status});
            insert_event(
                conn,
                merchant,
                Some(customer),
                event,
                CATEGORY_REGISTRATION,
                &data,
                now,
            )
            .await?;
        }
    }
    Ok(())
}

/// Statuses in which a registration is active: submitting again is a conflict.
pub fn is_active(status: RegistrationStatus) -> bool {
    use RegistrationStatus as R;
    matches!(
        status,
        R::Submitted | R::Processing | R::AwaitingConfirmation | R::Approved
    )
}

/// Merges `extra` into the registration's provider data (new keys win).
fn merge_data(reg: &mut Registration, extra: Map<String, Value>) {
    let mut data = reg.provider_data.take().unwrap_or_default();
    data.extend(extra);
    reg.provider_data = Some(data);
}

/// Writes a changed registration (inserting it when it did not exist) and records the change.
async fn save_change(
    conn: &mut AnyConnection,
    key: &RegistrationKey,
    existing: Option<&Registration>,
    reg: &mut Registration,
    fills: &CustomerFills,
    now: i64,
) -> Result<(), StoreError> {
    reg.updated_at = format_time(now);
    save(conn, key, reg, existing.is_none(), now).await?;
    after_change(conn, key, existing.map(|r| r.status), reg, fills, now).await
}

/// Every registration of one customer, oldest first.
async fn all_of(
    conn: &mut AnyConnection,
    customer: CustomerId,
) -> Result<Vec<Registration>, StoreError> {
    Ok(registrations_of(conn, &[customer.uuid().to_string()])
        .await?
        .into_values()
        .flatten()
        .collect())
}

impl Store {
    /// Opens a write transaction on `key`'s registration: the customer and the registration are
    /// locked; returns the existing registration and the one to edit (a new one with
    /// `status_if_new` and `id` when there was none).
    async fn open_registration(
        &self,
        key: &RegistrationKey,
        id: RegistrationId,
        status_if_new: RegistrationStatus,
        now: i64,
    ) -> Result<
        (
            Transaction<'static, Any>,
            Option<Registration>,
            Registration,
        ),
        StoreError,
    > {
        let mut tx = self.begin().await?;
        Self::fetch_customer(&mut tx, key.merchant, key.customer, self.for_update())
            .await?
            .ok_or(StoreError::NotFound)?;
        let existing = find(&mut tx, key, self.for_update()).await?;
        let reg = existing
            .clone()
            .unwrap_or_else(|| new_registration(id, key, status_if_new, now));
        Ok((tx, existing, reg))
    }

    /// A customer's registrations, oldest first; `NotFound` for an unknown customer.
    pub async fn registrations(
        &self,
        merchant: MerchantId,
        customer: CustomerId,
    ) -> Result<Vec<Registration>, StoreError> {
        let mut conn = self.read.acquire().await?;
        if Self::fetch_customer(&mut conn, merchant, customer, "")
            .await?
            .is_none()
        {
            return Err(StoreError::NotFound);
        }
        Ok(registrations_of(&mut conn, &[customer.uuid().to_string()])
            .await?
            .into_values()
            .flatten()
            .collect())
    }

    /// The existing registration for `key`, if any (no lock; for choosing ids up front).
    pub async fn registration(
        &self,
        key: &RegistrationKey,
    ) -> Result<Option<Registration>, StoreError> {
        let mut conn = self.read.acquire().await?;
        find(&mut conn, key, "").await
    }

    /// Submits (or resubmits) a registration: status `submitted`, provider data merged, the
    /// provider's answer stored, and — for a simulated provider — the first sandbox step
    /// scheduled at `first_step_at`. Returns every registration, the submitted one first.
    #[allow(clippy::too_many_arguments)]
    pub async fn submit_registration(
        &self,
        key: &RegistrationKey,
        id: RegistrationId,
        provider_data: Map<String, Value>,
        provider_response: Value,
        first_step_at: Option<i64>,
        now: i64,
    ) -> Result<Vec<Registration>, StoreError> {
        let (mut tx, existing, mut reg) = self
            .open_registration(key, id, RegistrationStatus::Submitted, now)
            .await?;
        if let Some(reg) = &existing {
            if is_active(reg.status) {
                return Err(StoreError::Conflict(format!(
                    "the {} {} registration is already {}; it can be submitted again only after it is rejected, cancelled or in error",
                    key.provider, key.role, reg.status
                )));
            }
        }
        merge_data(&mut reg, provider_data);
        reg.status = RegistrationStatus::Submitted;
        reg.provider_response = Some(provider_response);
        reg.rejection_reason = None;
        reg.action_required = false;
        reg.documents = DocumentsState::None;
        reg.manual_review = false;
        reg.missing_fields.clear();
        save_change(
            &mut tx,
            key,
            existing.as_ref(),
            &mut reg,
            &CustomerFills::default(),
            now,
        )
        .await?;
        if let Some(at) = first_step_at {
            enqueue(
                &mut tx,
                SANDBOX_STEP,
                key.merchant,
                &json!({"registration_id": reg.id}),
                at,
                now,
            )
            .await?;
        }
        let mut all = all_of(&mut tx, key.customer).await?;
        all.sort_by_key(|r| r.id != reg.id);
        crate::idempotency::record(&mut tx, &all).await?;
        tx.commit().await?;
        self.wake_worker();
        Ok(all)
    }

    /// Populate platform (contract §4.8): creates the registration (`not_submitted`) if missing,
    /// merges `extra` into its provider data, and stores the provider's answer.
    pub async fn populate_platform(
        &self,
        key: &RegistrationKey,
        id: RegistrationId,
        extra: Map<String, Value>,
        provider_response: Value,
        now: i64,
    ) -> Result<Vec<Registration>, StoreError> {
        let (mut tx, existing, mut reg) = self
            .open_registration(key, id, RegistrationStatus::NotSubmitted, now)
            .await?;
        merge_data(&mut reg, extra);
        reg.provider_response = Some(provider_response);
        save_change(
            &mut tx,
            key,
            existing.as_ref(),
            &mut reg,
            &CustomerFills::default(),
            now,
        )
        .await?;
        let all = all_of(&mut tx, key.customer).await?;
        crate::idempotency::record(&mut tx, &all).await?;
        tx.commit().await?;
        Ok(all)
    }

    /// The sandbox test helper: sets what the provider says about a registration, creating it
    /// if needed. Approval fills the provider ids as the real provider would.
    pub async fn set_registration_state(
        &self,
        key: &RegistrationKey,
        change: &SetState,
        now: i64,
    ) -> Result<Registration, StoreError> {
        let (mut tx, existing, mut reg) = self
            .open_registration(key, RegistrationId::new(), change.status, now)
            .await?;
        reg.status = change.status;
        if let Some(reason) = &change.rejection_reason {
            reg.rejection_reason = reason.clone();
        }
        if let Some(d) = change.documents {
            reg.documents = d;
        }
        if let Some(m) = change.manual_review {
            reg.manual_review = m;
        }
        reg.action_required = reg.documents == DocumentsState::Required
            || matches!(
                reg.status,
                RegistrationStatus::AwaitingConfirmation | RegistrationStatus::Restricted
            )
            || (reg.status == RegistrationStatus::Processing && !reg.missing_fields.is_empty());
        let fills = if reg.status == RegistrationStatus::Approved {
            approval_fills(&mut reg)?
        } else {
            CustomerFills::default()
        };
        save_change(&mut tx, key, existing.as_ref(), &mut reg, &fills, now).await?;
        crate::idempotency::record(&mut tx, &reg).await?;
        tx.commit().await?;
        Ok(reg)
    }

    /// Runs one sandbox step for a claimed job, in one transaction with the job's removal.
    /// `step_delay` (microseconds) schedules the next step when there is one.
    pub async fn run_sandbox_step(
        &self,
        job: &Job,
        step_delay: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let reg_id = job
            .payload
            .get("registration_id")
            .and_then(Value::as_str)
            .and_then(|s| RegistrationId::parse(s).ok())
            .ok_or_else(|| anyhow::anyhow!("sandbox step without a registration id"))?;
        let mut tx = self.begin().await?;
        let text = format!(
            "SELECT {COLUMNS}, merchant_id FROM registrations WHERE id = $1{}",
            self.for_update()
        );
        let row = sqlx::query(&text)
            .bind(reg_id.uuid().to_string())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            // The registration is gone: nothing left to simulate.
            finish(&mut tx, &job.id).await?;
            tx.commit().await?;
            return Ok(());
        };
        let (customer_bare, mut reg) = from_row(&row)?;
        let customer = CustomerId::parse(&customer_bare).map_err(|e| anyhow::anyhow!("{e}"))?;
        let key = RegistrationKey {
            merchant: job.merchant,
            customer,
            provider: reg.provider,
            role: reg.target_role,
        };
        let email: Option<String> = sqlx::query_scalar("SELECT email FROM customers WHERE id = $1")
            .bind(customer_bare.clone())
            .fetch_optional(&mut *tx)
            .await?;
        let current = SandboxState {
            status: reg.status,
            documents: reg.documents,
            manual_review: reg.manual_review,
            missing_fields: reg.missing_fields.clone(),
            action_required: reg.action_required,
            rejection_reason: reg.rejection_reason.clone(),
        };
        if let Some(step) = sandbox::advance(
            &current,
            sandbox::rule_for(email.as_deref().unwrap_or_default()),
        ) {
            let previous = reg.status;
            let s = step.state;
            reg.status = s.status;
            reg.documents = s.documents;
            reg.manual_review = s.manual_review;
            reg.missing_fields = s.missing_fields;
            reg.action_required = s.action_required;
            reg.rejection_reason = s.rejection_reason;
            reg.updated_at = format_time(now);
            let fills = if reg.status == RegistrationStatus::Approved {
                approval_fills(&mut reg)?
            } else {
                CustomerFills::default()
            };
            save(&mut tx, &key, &reg, false, now).await?;
            after_change(&mut tx, &key, Some(previous), &reg, &fills, now).await?;
            if step.next {
                enqueue(
                    &mut tx,
                    SANDBOX_STEP,
                    job.merchant,
                    &job.payload,
                    now + step_delay,
                    now,
                )
                .await?;
            }
        }
        finish(&mut tx, &job.id).await?;
        tx.commit().await?;
        self.wake_worker();
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
        let regs = registrations_of(conn, &[customer.uuid().to_string()]).await?;
        let mut changed = false;
        for mut reg in regs
            .into_values()
            .flatten()
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
                enqueue(
                    conn,
                    SANDBOX_STEP,
                    merchant,
                    &json!({"registration_id": reg.id}),
                    at,
                    now,
                )
                .await?;
            }
            changed = true;
        }
        if changed {
            recompute_customer(conn, merchant, customer, &CustomerFills::default(), now).await?;
        }
        Ok(())
    }
}

//! Provider registrations (contract §4.8, §6, §7): check the request against the provider's
//! schema, call the provider's adapter, then write the registration, its events and the
//! customer's derived status in one transaction (with the request's idempotent answer).

use std::sync::Arc;

use acorn_types::{
    Customer, CustomerId, DocumentsState, FailureReason, MerchantId, Provider, ReasonCode,
    Registration, RegistrationId, RegistrationStatus, TargetRole,
};
use serde_json::{json, Map, Value};
use sqlx::{Any, Transaction};

use super::modes::{adapter, merchant_mode};
use super::provider_state::{self, in_progress, reconcile_delay, schedule_reconcile};
use super::status::{action_required, is_active, save_change};
use crate::adapters::providers::schema::{self, RoleSpec};
use crate::adapters::providers::{
    sandbox, ProviderAdapter, ProviderError, RegistrationRequest, Submitted,
};
use crate::services::context::Context;
use crate::services::error::{Failure, ServiceError};
use crate::store::idempotency::{record, KeyAnswer};
use crate::store::jobs::{enqueue, finish, Job};
use crate::store::registrations::{all_of, customer_email, find, find_by_id, RegistrationKey};
use crate::store::JobKind;
use crate::store::{duration_micros, format_time, now_micros, Store, StoreError};

/// What the sandbox test helper sets (contract §7); absent parts stay as they are.
#[derive(Debug, Clone)]
pub struct SetState {
    pub status: RegistrationStatus,
    pub rejection_reason: Option<Option<String>>,
    pub documents: Option<DocumentsState>,
    pub manual_review: Option<bool>,
}

/// The role's part of the provider schema, or 422 when the provider has no such role.
pub fn role_spec(provider: Provider, role: TargetRole) -> Result<&'static RoleSpec, ServiceError> {
    let spec = schema::spec(provider);
    spec.role(role).ok_or_else(|| {
        ServiceError::invalid(
            "target_role",
            format!(
                "{provider} does not accept target_role {role}; allowed: {}",
                spec.allowed_roles()
            ),
        )
    })
}

/// A provider's refusal or failure as the API answers it (503 when worth retrying, else 502).
pub fn provider_failure(provider: Provider, e: ProviderError) -> ServiceError {
    let failure = if e.retryable {
        Failure::Unavailable
    } else {
        Failure::BadGateway
    };
    let mut reason = FailureReason::new(ReasonCode::ProviderUnavailable, e.message.clone(), &[]);
    reason.provider_code = Some(provider.as_str().to_owned());
    ServiceError::new(failure, format!("{provider}: {}", e.message)).with_reason(reason)
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

/// Merges `extra` into the registration's provider data (new keys win).
fn merge_data(reg: &mut Registration, extra: Map<String, Value>) {
    let mut data = reg.provider_data.take().unwrap_or_default();
    data.extend(extra);
    reg.provider_data = Some(data);
}

/// A registration about to change: the customer and the registration are locked in `tx`;
/// `existing` is the stored one, `reg` the one to edit (new when there was none).
struct Open {
    tx: Transaction<'static, Any>,
    existing: Option<Registration>,
    reg: Registration,
}

async fn open(
    store: &Store,
    key: &RegistrationKey,
    id: RegistrationId,
    status_if_new: RegistrationStatus,
    now: i64,
) -> Result<Open, StoreError> {
    let mut tx = store.begin().await?;
    Store::fetch_customer(&mut tx, key.merchant, key.customer, store.for_update())
        .await?
        .ok_or(StoreError::NotFound)?;
    let existing = find(&mut tx, key, store.for_update()).await?;
    let reg = existing
        .clone()
        .unwrap_or_else(|| new_registration(id, key, status_if_new, now));
    Ok(Open { tx, existing, reg })
}

/// What the adapter is told, with the registration's id chosen up front (the stored one, or a
/// new one) so the provider and Acorn agree on it.
struct Prepared {
    key: RegistrationKey,
    id: RegistrationId,
    customer: Customer,
    merged: Map<String, Value>,
    adapter: Arc<dyn ProviderAdapter>,
    provider_customer_id: Option<String>,
    scope: String,
}

/// The provider idempotency scope of a registration step (see
/// [`RegistrationRequest::idempotency_scope`]). A new registration's id is chosen afresh on
/// every try, so before it is stored the scope is the customer, provider and role.
fn idempotency_scope(key: &RegistrationKey, existing: Option<&Registration>) -> String {
    match existing {
        Some(r) => {
            let at: String = r
                .updated_at
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect();
            format!("{}_{at}", r.id)
        }
        None => format!("{}_{}_{}_new", key.customer, key.provider, key.role),
    }
}

async fn prepare(
    ctx: &Context,
    key: RegistrationKey,
    data: &Map<String, Value>,
) -> Result<(Prepared, Option<Registration>), ServiceError> {
    let customer = ctx
        .store
        .get_customer(key.merchant, key.customer)
        .await?
        .ok_or_else(ServiceError::not_found)?;
    let existing = ctx.store.registration(&key).await?;
    let id = match &existing {
        Some(r) => RegistrationId::parse(&r.id)
            .map_err(|e| ServiceError::internal(anyhow::anyhow!("{e}")))?,
        None => RegistrationId::new(),
    };
    let mut merged = existing
        .as_ref()
        .and_then(|r| r.provider_data.clone())
        .unwrap_or_default();
    merged.extend(data.clone());
    let scope = idempotency_scope(&key, existing.as_ref());
    let prepared = Prepared {
        adapter: adapter(ctx, merchant_mode(ctx, key.merchant).await?, key.provider)?,
        key,
        id,
        customer,
        merged,
        provider_customer_id: existing
            .as_ref()
            .and_then(|r| r.provider_customer_id.clone()),
        scope,
    };
    Ok((prepared, existing))
}

impl Prepared {
    fn request(&self) -> RegistrationRequest<'_> {
        RegistrationRequest {
            provider: self.key.provider,
            registration_id: self.id,
            role: self.key.role,
            customer: &self.customer,
            provider_data: &self.merged,
            provider_customer_id: self.provider_customer_id.as_deref(),
            idempotency_scope: &self.scope,
        }
    }
}

/// Submits (or resubmits) a registration: checked against the provider's schema, sent to the
/// adapter, then stored with the provider's answer — `submitted`, or the state a real provider
/// reported — and the first sandbox step (simulated provider) or re-read (real provider)
/// scheduled. Returns every registration, the submitted one first.
pub async fn submit(
    ctx: &Context,
    key: RegistrationKey,
    data: Map<String, Value>,
    answer: Option<KeyAnswer>,
) -> Result<Vec<Registration>, ServiceError> {
    let (provider, role) = (key.provider, key.role);
    let spec = role_spec(provider, role)?;
    let (p, existing) = prepare(ctx, key, &data).await?;
    let reasons = schema::check(schema::spec(provider), spec, &p.customer, &data);
    if !reasons.is_empty() {
        return Err(ServiceError::validation(reasons));
    }
    // Checked before the provider is called, and again under the lock (a concurrent submit).
    refuse_if_active(&p.key, existing.as_ref())?;
    let submitted = p
        .adapter
        .submit(&p.request())
        .await
        .map_err(|e| provider_failure(provider, e))?;
    commit_submission(ctx, &p, data, submitted, answer).await
}

/// Writes a submission the provider answered, with its events, its first job and the
/// request's idempotent answer, in one transaction.
async fn commit_submission(
    ctx: &Context,
    p: &Prepared,
    data: Map<String, Value>,
    submitted: Submitted,
    answer: Option<KeyAnswer>,
) -> Result<Vec<Registration>, ServiceError> {
    let now = now_micros();
    let status = RegistrationStatus::Submitted;
    let mut o = open(&ctx.store, &p.key, p.id, status, now).await?;
    refuse_if_active(&p.key, o.existing.as_ref())?;
    merge_data(&mut o.reg, data);
    reset_for_submission(&mut o.reg, submitted.response);
    let mut fills = vec![];
    if let Some(reported) = &submitted.state {
        provider_state::apply(&mut o.reg, reported);
        fills = provider_state::fills(&o.reg);
    }
    let existing = o.existing.as_ref();
    save_change(&mut o.tx, &p.key, existing, &mut o.reg, fills, now).await?;
    let merchant = p.key.merchant;
    if p.adapter.simulated() {
        let payload = json!({"registration_id": o.reg.id});
        let at = now + step_delay(ctx);
        enqueue(
            &mut o.tx,
            JobKind::SandboxAdvance.as_str(),
            merchant,
            &payload,
            at,
            now,
        )
        .await
        .map_err(StoreError::from)?;
    } else if p.adapter.reconciles(p.key.role) && in_progress(o.reg.status) {
        let at = now + reconcile_delay(ctx);
        schedule_reconcile(&mut o.tx, merchant, &o.reg.id, at, now).await?;
    }
    let mut all = all_of(&mut o.tx, p.key.customer).await?;
    all.sort_by_key(|r| r.id != o.reg.id);
    record(&mut o.tx, answer.as_ref(), &all)
        .await
        .map_err(StoreError::from)?;
    o.tx.commit().await.map_err(StoreError::from)?;
    ctx.store.wake_worker();
    Ok(all)
}

/// 409 when the registration is active: it can be submitted again only after it ended.
fn refuse_if_active(
    key: &RegistrationKey,
    existing: Option<&Registration>,
) -> Result<(), ServiceError> {
    match existing.filter(|r| is_active(r.status)) {
        Some(reg) => Err(ServiceError::conflict(format!(
            "the {} {} registration is already {}; it can be submitted again only after it is rejected, cancelled or in error",
            key.provider, key.role, reg.status
        ))),
        None => Ok(()),
    }
}

fn reset_for_submission(reg: &mut Registration, response: Value) {
    reg.status = RegistrationStatus::Submitted;
    reg.provider_response = Some(response);
    reg.rejection_reason = None;
    reg.action_required = false;
    reg.documents = DocumentsState::None;
    reg.manual_review = false;
    reg.missing_fields.clear();
}

fn step_delay(ctx: &Context) -> i64 {
    duration_micros(ctx.config.sandbox_step_delay)
}

/// Populate platform (contract §4.8): creates the registration (`not_submitted`) if missing,
/// merges `extra` into its provider data, and stores the provider's answer.
pub async fn populate(
    ctx: &Context,
    key: RegistrationKey,
    extra: Map<String, Value>,
    answer: Option<KeyAnswer>,
) -> Result<Vec<Registration>, ServiceError> {
    role_spec(key.provider, key.role)?;
    let (p, _) = prepare(ctx, key, &extra).await?;
    let response = p
        .adapter
        .populate(&p.request())
        .await
        .map_err(|e| provider_failure(key.provider, e))?;
    let now = now_micros();
    let status = RegistrationStatus::NotSubmitted;
    let mut o = open(&ctx.store, &p.key, p.id, status, now).await?;
    merge_data(&mut o.reg, extra);
    o.reg.provider_response = Some(response);
    save_change(
        &mut o.tx,
        &p.key,
        o.existing.as_ref(),
        &mut o.reg,
        vec![],
        now,
    )
    .await?;
    let all = all_of(&mut o.tx, p.key.customer).await?;
    record(&mut o.tx, answer.as_ref(), &all)
        .await
        .map_err(StoreError::from)?;
    o.tx.commit().await.map_err(StoreError::from)?;
    Ok(all)
}

/// The sandbox test helper: sets what the provider says about a registration, creating it if
/// needed. Approval fills the provider ids as the real provider would.
pub async fn set_state(
    store: &Store,
    key: RegistrationKey,
    change: &SetState,
    answer: Option<KeyAnswer>,
) -> Result<Registration, StoreError> {
    let now = now_micros();
    let mut o = open(store, &key, RegistrationId::new(), change.status, now).await?;
    let reg = &mut o.reg;
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
    reg.action_required = action_required(reg);
    let fills = approval(reg)?;
    save_change(&mut o.tx, &key, o.existing.as_ref(), &mut o.reg, fills, now).await?;
    record(&mut o.tx, answer.as_ref(), &o.reg).await?;
    o.tx.commit().await?;
    Ok(o.reg)
}

fn approval(reg: &mut Registration) -> anyhow::Result<Vec<(&'static str, String)>> {
    if reg.status == RegistrationStatus::Approved {
        sandbox::approval_fills(reg)
    } else {
        Ok(vec![])
    }
}

/// Runs one sandbox step for a claimed job, in one transaction with the job's removal; the
/// next step, when the simulation has one, is scheduled `step_delay` later.
pub async fn run_sandbox_step(ctx: &Context, job: &Job) -> Result<(), StoreError> {
    let store = &ctx.store;
    let now = now_micros();
    let reg_id = job
        .payload
        .get("registration_id")
        .and_then(Value::as_str)
        .and_then(|s| RegistrationId::parse(s).ok())
        .ok_or_else(|| anyhow::anyhow!("sandbox step without a registration id"))?;
    let mut tx = store.begin().await?;
    // Locks in the order every change of a registration takes them — its customer, then the
    // registration — so a step never deadlocks with a request changing the same one (the
    // sandbox helper, a submit). A registration that is gone has nothing left to simulate.
    let found = match find_by_id(&mut tx, reg_id, "").await? {
        Some((merchant, customer, _)) => {
            Store::fetch_customer(&mut tx, merchant, customer, store.for_update()).await?;
            find_by_id(&mut tx, reg_id, store.for_update()).await?
        }
        None => None,
    };
    // Only a simulated provider's registrations take sandbox steps (a real one reports itself).
    let mode = match &found {
        Some((merchant, _, _)) => ctx.store.merchant_mode(*merchant).await?,
        None => None,
    };
    let simulated = |reg: &Registration| {
        mode.and_then(|mode| ctx.providers.get(mode, reg.provider))
            .is_some_and(|a| a.simulated())
    };
    if let Some((_, customer, reg)) = found.filter(|(_, _, reg)| simulated(reg)) {
        let email = customer_email(&mut tx, customer).await?;
        step(
            &mut tx,
            job,
            customer,
            reg,
            email.as_deref(),
            now + step_delay(ctx),
            now,
        )
        .await?;
    }
    finish(&mut tx, &job.id).await?;
    tx.commit().await?;
    store.wake_worker();
    Ok(())
}

async fn step(
    tx: &mut Transaction<'static, Any>,
    job: &Job,
    customer: CustomerId,
    mut reg: Registration,
    email: Option<&str>,
    next_at: i64,
    now: i64,
) -> Result<(), StoreError> {
    let rule = sandbox::rule_for(email.unwrap_or_default());
    let Some(step) = sandbox::advance(&sandbox::state_of(&reg), rule) else {
        return Ok(());
    };
    let key = registration_key(job.merchant, customer, &reg);
    let existing = reg.clone();
    sandbox::apply(&mut reg, step.state);
    let fills = approval(&mut reg)?;
    save_change(tx, &key, Some(&existing), &mut reg, fills, now).await?;
    if step.next {
        enqueue(
            tx,
            JobKind::SandboxAdvance.as_str(),
            job.merchant,
            &job.payload,
            next_at,
            now,
        )
        .await?;
    }
    Ok(())
}

fn registration_key(
    merchant: MerchantId,
    customer: CustomerId,
    reg: &Registration,
) -> RegistrationKey {
    RegistrationKey {
        merchant,
        customer,
        provider: reg.provider,
        role: reg.target_role,
    }
}

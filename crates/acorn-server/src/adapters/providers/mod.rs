//! Provider adapters: every provider effect (register, populate, and later sync and balances)
//! goes through one [`ProviderAdapter`] per provider. The default for every provider is the
//! [`sandbox`], a deterministic in-process simulation; with a key configured, `stripe` is the
//! real [`stripe`] adapter.

pub mod sandbox;
pub mod schema;
pub mod stripe;

use std::fmt;
use std::sync::Arc;

use acorn_types::{
    BalanceTotal, Customer, DocumentsState, Mode, Provider, RegistrationId, RegistrationStatus,
    SyncAttemptId, TargetRole,
};
use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::store::Store;

/// What an adapter is told about a registration.
#[derive(Debug)]
pub struct RegistrationRequest<'a> {
    /// The provider addressed.
    pub provider: Provider,
    /// Acorn's id of the registration.
    pub registration_id: RegistrationId,
    /// The role at the provider.
    pub role: TargetRole,
    /// The customer's current profile.
    pub customer: &'a Customer,
    /// Provider-specific data from the merchant.
    pub provider_data: &'a Map<String, Value>,
    /// The provider's id of the registration's object, once it has one.
    pub provider_customer_id: Option<&'a str>,
    /// What the provider's idempotency keys are derived from: the stored registration and its
    /// last change, or — before the registration exists — the customer, provider and role. A
    /// retry of the same step (after a crash, before Acorn committed) derives the same keys; a
    /// later submission, after a committed change, new ones.
    pub idempotency_scope: &'a str,
}

/// What the provider says about a registration (its answer to a submit, an account re-read or
/// a provider webhook).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderState {
    /// The registration's status.
    pub status: RegistrationStatus,
    /// The provider's id of the object, when known.
    pub provider_customer_id: Option<String>,
    /// Customer fields the provider still needs.
    pub missing_fields: Vec<String>,
    /// The documents' state, when the provider says something about documents.
    pub documents: Option<DocumentsState>,
    /// Why the provider refused, when it did.
    pub rejection_reason: Option<String>,
    /// Whether a person at the provider reviews the registration.
    pub manual_review: bool,
}

impl ProviderState {
    /// A state with `status` and nothing else to say.
    pub fn new(status: RegistrationStatus) -> Self {
        ProviderState {
            status,
            provider_customer_id: None,
            missing_fields: vec![],
            documents: None,
            rejection_reason: None,
            manual_review: false,
        }
    }
}

/// A provider's answer to a submit: what to store as `provider_response`, and — for a real
/// provider — the registration's state (`None`: `submitted`, progress comes later).
#[derive(Debug, Clone)]
pub struct Submitted {
    /// The provider's answer.
    pub response: Value,
    /// The state the provider reported.
    pub state: Option<ProviderState>,
}

/// A registration whose state is read again from its provider.
#[derive(Debug, Clone, Copy)]
pub struct RefreshRequest<'a> {
    /// Its role.
    pub role: TargetRole,
    /// The provider's id of its object.
    pub provider_customer_id: Option<&'a str>,
}

/// What an adapter is told to push in a sync.
#[derive(Debug)]
pub struct SyncPush<'a> {
    /// The provider addressed.
    pub provider: Provider,
    /// The registration whose provider record is updated.
    pub registration_id: RegistrationId,
    /// Its role.
    pub role: TargetRole,
    /// The provider's id for the customer, if known.
    pub provider_customer_id: Option<&'a str>,
    /// The registration's provider data (e.g. a connected account's `business_type`).
    pub provider_data: Option<&'a Map<String, Value>>,
    /// The customer's current email (the sandbox reads its rules from it).
    pub email: &'a str,
    /// The sync attempt (with the try, the provider's idempotency key).
    pub attempt_id: SyncAttemptId,
    /// Which try of the attempt this is (1 for the first).
    pub try_number: i64,
    /// Field name → current value, for the fields named in the sync.
    pub values: &'a Map<String, Value>,
}

/// A provider account whose balance is asked for.
#[derive(Debug, Clone)]
pub struct BalanceAccount {
    /// The registration behind the account.
    pub registration_id: RegistrationId,
    /// Its role.
    pub role: TargetRole,
    /// The provider's id of the account, once it has one.
    pub provider_account_id: Option<String>,
}

/// A provider refused or could not be reached.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    /// What went wrong (no customer data).
    pub message: String,
    /// Whether trying again later may succeed.
    pub retryable: bool,
}

/// One provider's API.
#[async_trait]
pub trait ProviderAdapter: Send + Sync + fmt::Debug {
    /// Registers the customer in a role; returns the provider's answer (`provider_response`).
    async fn submit(&self, req: &RegistrationRequest<'_>) -> Result<Submitted, ProviderError>;
    /// Pushes the customer's current KYC profile; returns the provider's answer.
    async fn populate(&self, req: &RegistrationRequest<'_>) -> Result<Value, ProviderError>;
    /// Pushes customer fields to the provider's record; returns the provider's answer.
    async fn sync(&self, push: &SyncPush<'_>) -> Result<Value, ProviderError>;
    /// The account id and balance totals of each account, in the order given.
    async fn balances(
        &self,
        accounts: &[BalanceAccount],
    ) -> Result<Vec<(String, Vec<BalanceTotal>)>, ProviderError>;
    /// The registration's state as the provider sees it now (`None`: nothing to read).
    async fn refresh(
        &self,
        _reg: &RefreshRequest<'_>,
    ) -> Result<Option<ProviderState>, ProviderError> {
        Ok(None)
    }
    /// Whether registrations in `role` are re-read in the background until they are final.
    fn reconciles(&self, _role: TargetRole) -> bool {
        false
    }
    /// Whether registration progress is simulated by sandbox steps.
    fn simulated(&self) -> bool;
}

/// The adapters of each mode (contract §13): a live merchant gets only real connectors; a
/// sandbox merchant gets the simulation for every provider, except Stripe when the configured
/// Stripe key is a test key (`sk_test_…`, `rk_test_…`), so that sandbox work never reaches a
/// live Stripe account.
#[derive(Clone, Debug, Default)]
pub struct Providers {
    sandbox: Option<Arc<sandbox::SandboxAdapter>>,
    stripe: Option<Arc<stripe::StripeAdapter>>,
    stripe_is_test: bool,
}

impl Providers {
    /// The simulation (for sandbox merchants, whose ledger lives in `store`) when `sandbox` is
    /// hosted, and Stripe's real connector when one is configured (`stripe_key_kind` is the
    /// configured key's `test` or `live`).
    pub fn new(store: Store, sandbox: bool, stripe: Option<(stripe::StripeAdapter, &str)>) -> Self {
        let (stripe, stripe_is_test) = match stripe {
            Some((adapter, kind)) => (Some(Arc::new(adapter)), kind == "test"),
            None => (None, false),
        };
        Providers {
            sandbox: sandbox.then(|| Arc::new(sandbox::SandboxAdapter::new(store))),
            stripe,
            stripe_is_test,
        }
    }

    /// No provider configured.
    pub fn none() -> Self {
        Providers::default()
    }

    /// The real Stripe connector that merchants of `mode` use, if any.
    pub fn stripe(&self, mode: Mode) -> Option<&stripe::StripeAdapter> {
        self.stripe_for(mode).map(|s| &**s)
    }

    fn stripe_for(&self, mode: Mode) -> Option<&Arc<stripe::StripeAdapter>> {
        let usable = match mode {
            Mode::Live => true,
            Mode::Sandbox => self.stripe_is_test,
        };
        self.stripe.as_ref().filter(|_| usable)
    }

    /// Any real Stripe connector (for Stripe's own webhooks, which name accounts of whichever
    /// mode the key serves).
    pub fn any_stripe(&self) -> Option<&stripe::StripeAdapter> {
        self.stripe.as_deref()
    }

    /// The simulation, when sandbox merchants are hosted.
    pub fn sandbox_adapter(&self) -> Option<&sandbox::SandboxAdapter> {
        self.sandbox.as_deref()
    }

    /// The adapter for `provider` that a merchant of `mode` uses: `None` when there is none (a
    /// live merchant and a provider without a real connector).
    pub fn get(&self, mode: Mode, provider: Provider) -> Option<Arc<dyn ProviderAdapter>> {
        if let Some(stripe) = self
            .stripe_for(mode)
            .filter(|_| provider == Provider::Stripe)
        {
            return Some(stripe.clone() as Arc<dyn ProviderAdapter>);
        }
        match mode {
            Mode::Live => None,
            Mode::Sandbox => self.sandbox.clone().map(|s| s as Arc<dyn ProviderAdapter>),
        }
    }
}

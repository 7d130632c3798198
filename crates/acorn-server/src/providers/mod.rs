//! Provider adapters: every provider effect (register, populate, and later sync and balances)
//! goes through one [`ProviderAdapter`] per provider. The default for every provider is the
//! [`sandbox`], a deterministic in-process simulation.

pub mod sandbox;
pub mod schema;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use acorn_types::{BalanceTotal, Customer, Provider, RegistrationId, TargetRole};
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
    /// The customer's current email (the sandbox reads its rules from it).
    pub email: &'a str,
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
    async fn submit(&self, req: &RegistrationRequest<'_>) -> Result<Value, ProviderError>;
    /// Pushes the customer's current KYC profile; returns the provider's answer.
    async fn populate(&self, req: &RegistrationRequest<'_>) -> Result<Value, ProviderError>;
    /// Pushes customer fields to the provider's record; returns the provider's answer.
    async fn sync(&self, push: &SyncPush<'_>) -> Result<Value, ProviderError>;
    /// The account id and balance totals of each account, in the order given.
    async fn balances(
        &self,
        accounts: &[BalanceAccount],
    ) -> Result<Vec<(String, Vec<BalanceTotal>)>, ProviderError>;
    /// Whether registration progress is simulated by sandbox steps.
    fn simulated(&self) -> bool;
}

/// The adapter for each provider.
#[derive(Clone, Debug, Default)]
pub struct Providers {
    adapters: BTreeMap<Provider, Arc<dyn ProviderAdapter>>,
    sandbox: Option<Arc<sandbox::SandboxAdapter>>,
}

impl Providers {
    /// Every provider simulated by the sandbox, whose ledger lives in `store`.
    pub fn sandbox(store: Store) -> Self {
        let sandbox = Arc::new(sandbox::SandboxAdapter::new(store));
        let adapter: Arc<dyn ProviderAdapter> = sandbox.clone();
        let adapters = Provider::ALL
            .iter()
            .map(|p| (*p, adapter.clone()))
            .collect();
        Providers {
            adapters,
            sandbox: Some(sandbox),
        }
    }

    /// No provider configured (sandbox off and no real adapters).
    pub fn none() -> Self {
        Providers::default()
    }

    /// The sandbox, when sandbox mode is on.
    pub fn sandbox_adapter(&self) -> Option<&sandbox::SandboxAdapter> {
        self.sandbox.as_deref()
    }

    /// The adapter for `provider`, if one is configured.
    pub fn get(&self, provider: Provider) -> Option<Arc<dyn ProviderAdapter>> {
        self.adapters.get(&provider).cloned()
    }
}

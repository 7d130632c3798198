//! Provider adapters: every provider effect (register, populate, and later sync and balances)
//! goes through one [`ProviderAdapter`] per provider. The default for every provider is the
//! [`sandbox`], a deterministic in-process simulation.

pub mod sandbox;
pub mod schema;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use acorn_types::{Customer, Provider, RegistrationId, TargetRole};
use async_trait::async_trait;
use serde_json::{Map, Value};

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
    /// Whether registration progress is simulated by sandbox steps.
    fn simulated(&self) -> bool;
}

/// The adapter for each provider.
#[derive(Clone, Debug, Default)]
pub struct Providers {
    adapters: BTreeMap<Provider, Arc<dyn ProviderAdapter>>,
}

impl Providers {
    /// Every provider simulated by the sandbox.
    pub fn sandbox() -> Self {
        let adapter: Arc<dyn ProviderAdapter> = Arc::new(sandbox::SandboxAdapter);
        Providers {
            adapters: Provider::ALL
                .iter()
                .map(|p| (*p, adapter.clone()))
                .collect(),
        }
    }

    /// No provider configured (sandbox off and no real adapters).
    pub fn none() -> Self {
        Providers::default()
    }

    /// The adapter for `provider`, if one is configured.
    pub fn get(&self, provider: Provider) -> Option<Arc<dyn ProviderAdapter>> {
        self.adapters.get(&provider).cloned()
    }
}

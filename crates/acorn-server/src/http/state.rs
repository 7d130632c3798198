//! What every handler shares.

use std::sync::Arc;

use crate::adapters::files::Files;
use crate::adapters::providers::Providers;
use crate::base::config::Config;
use crate::http::auth::AuthKeys;
use crate::http::ratelimit::Limits;
use crate::store::Store;

/// Shared, cheaply cloned application state: one reference count (the middleware and the
/// handler each clone it per request), the parts behind it through `Deref`.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

impl AppState {
    /// Shares `parts`.
    pub fn new(parts: Shared) -> Self {
        AppState(Arc::new(parts))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What every handler shares.
#[derive(Debug)]
pub struct Shared {
    /// The database.
    pub store: Store,
    /// Credential and token keys.
    pub auth: Arc<AuthKeys>,
    /// The file store and download link signer.
    pub files: Arc<Files>,
    /// The configuration the server started with.
    pub config: Arc<Config>,
    /// The adapter of each provider.
    pub providers: Providers,
    /// Rate limiters.
    pub limits: Limits,
    /// Request metrics for `/metrics`.
    pub metrics: std::sync::Arc<crate::http::metrics::Metrics>,
}

//! What every handler shares.

use std::sync::Arc;

use crate::auth::AuthKeys;
use crate::config::Config;
use crate::files::Files;
use crate::providers::Providers;
use crate::ratelimit::Limits;
use crate::store::Store;

/// Shared, cheaply cloned application state.
#[derive(Clone, Debug)]
pub struct AppState {
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
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
}

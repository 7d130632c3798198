//! What a unit of work may use: the store, the adapters and the configuration. Handlers and
//! workers hand it to services; it knows nothing of HTTP.

use std::sync::Arc;

use crate::adapters::files::Files;
use crate::adapters::providers::Providers;
use crate::base::config::Config;
use crate::base::metrics::Metrics;
use crate::store::Store;

/// Shared, cheaply cloned: one reference count, the parts behind it through `Deref`.
#[derive(Clone, Debug)]
pub struct Context(Arc<Parts>);

/// The parts of a [`Context`].
#[derive(Debug)]
pub struct Parts {
    /// The database.
    pub store: Store,
    /// The file store and download link signer.
    pub files: Arc<Files>,
    /// The configuration the server started with.
    pub config: Arc<Config>,
    /// The adapter of each provider.
    pub providers: Providers,
    /// The metrics recorder (request, job and delivery counts).
    pub metrics: Arc<Metrics>,
}

impl Context {
    /// Shares `parts`.
    pub fn new(parts: Parts) -> Self {
        Context(Arc::new(parts))
    }
}

impl std::ops::Deref for Context {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

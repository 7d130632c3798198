//! What every handler shares: the services' context and the HTTP layer's own parts.

use std::sync::Arc;

use crate::http::auth::AuthKeys;
use crate::http::ratelimit::Limits;
use crate::services::context::Context;

/// Shared, cheaply cloned application state: one reference count (the middleware and the
/// handler each clone it per request), the parts behind it through `Deref` — and through
/// [`Shared`]'s own `Deref`, the context's (`state.store`, `state.config`, …).
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
    /// What services use: the store, the adapters, the configuration, the metrics recorder.
    pub ctx: Context,
    /// Credential and token keys.
    pub auth: Arc<AuthKeys>,
    /// Rate limiters.
    pub limits: Limits,
}

impl std::ops::Deref for Shared {
    type Target = Context;

    fn deref(&self) -> &Context {
        &self.ctx
    }
}

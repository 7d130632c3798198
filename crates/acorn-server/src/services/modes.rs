//! What a merchant's mode decides for a unit of work (contract §13): which adapter serves a
//! provider — a live merchant gets real connectors only, never a simulation.

use std::sync::Arc;

use acorn_types::{FailureReason, MerchantId, Mode, Provider, ReasonCode};

use crate::adapters::providers::ProviderAdapter;
use crate::services::context::Context;
use crate::services::error::ServiceError;

/// The merchant's mode (contract §13); 404 for a merchant that is gone.
pub async fn merchant_mode(ctx: &Context, merchant: MerchantId) -> Result<Mode, ServiceError> {
    ctx.store
        .merchant_mode(merchant)
        .await?
        .ok_or_else(ServiceError::not_found)
}

/// The adapter a merchant of `mode` uses for `provider`. A live merchant without a real
/// connector for it gets 422 naming the provider, never a simulation; a sandbox merchant on a
/// server that hosts no sandbox (it could not have a token) would get 503.
pub fn adapter(
    ctx: &Context,
    mode: Mode,
    provider: Provider,
) -> Result<Arc<dyn ProviderAdapter>, ServiceError> {
    ctx.providers.get(mode, provider).ok_or_else(|| match mode {
        Mode::Live => ServiceError::validation(vec![FailureReason::new(
            ReasonCode::ProviderUnavailable,
            format!(
                "{provider} has no live connector on this server: a live merchant's \
                 registrations go to the real provider, never to a simulation"
            ),
            &["provider"],
        )]),
        Mode::Sandbox => {
            ServiceError::unavailable(format!("no adapter is configured for {provider}"))
                .with_reason(FailureReason::new(
                    ReasonCode::ProviderUnavailable,
                    format!("{provider} is not configured on this server"),
                    &["provider"],
                ))
        }
    })
}

//! The HTTP surface: one module per resource.
//!
//! Every route is registered with `.routes(routes!(module::handler))` on an [`OpenApiRouter`]:
//! the path and method come from the handler's `#[utoipa::path]` attribute, so the router and
//! the OpenAPI document (`/openapi.json`, `/docs`) are one list. Adding a documented route is
//! one attribute on the handler and one `.routes(routes!(…))` line below (public or protected).

mod balances;
mod customers;
mod events;
mod files;
mod list_query;
mod providers;
mod registrations;
mod sandbox;
mod service;
mod sync;
mod token;
mod webhooks;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::base::limits::{JSON_BODY_LIMIT, UPLOAD_BODY_LIMIT};
use crate::http::error::ApiError;
use crate::http::middleware::{observe, panic_response};
use crate::http::state::AppState;

/// The whole API: the public routes, the protected ones, the document of both, and the layers
/// around all of them.
pub fn router(state: AppState) -> Router {
    let timeout = state.config.request_timeout;
    let (app, document) = api(&state);
    // The dashboard is pages and assets for a browser, not part of the API's document.
    app.merge(crate::http::openapi::routes(document))
        .merge(crate::http::dashboard::routes())
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed")
        })
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// The served routes and the OpenAPI document generated from the same registrations.
pub fn api(state: &AppState) -> (Router<AppState>, serde_json::Value) {
    let (public, public_doc) = public(state).split_for_parts();
    let (protected, protected_doc) = protected(state).split_for_parts();
    let document = crate::http::openapi::document(&public_doc, &protected_doc);
    (public.merge(protected), document)
}

/// The routes that need no bearer token: service endpoints, the token grant (limited per
/// client IP), signed file downloads (the signed link is the credential) and Stripe's webhooks
/// (the signature is the credential).
fn public(state: &AppState) -> OpenApiRouter<AppState> {
    let mut router = OpenApiRouter::new();
    // Stripe's webhooks are served (and documented) only when a Stripe key is configured.
    if state.config.stripe.is_some() {
        router = router.routes(routes!(providers::stripe));
    }
    router
        .routes(routes!(service::health))
        .routes(routes!(crate::http::metrics::endpoint))
        .routes(routes!(token::grant).map(|grant| {
            grant.route_layer(from_fn_with_state(
                state.clone(),
                crate::http::ratelimit::grant_layer,
            ))
        }))
        .routes(routes!(files::content))
}

/// Every other API route. Its route layers run, outermost first: the auth layer (verifies the
/// token once, 401 before anything else looks at the request, puts the merchant in the
/// extensions), the per-merchant rate limit, the idempotency layer (keyed `POST`s), and a panic
/// catcher so that a panicking handler still releases its idempotency key.
fn protected(state: &AppState) -> OpenApiRouter<AppState> {
    let mut router = OpenApiRouter::new();
    if state.config.modes.sandbox {
        let sandbox = OpenApiRouter::new()
            .routes(routes!(sandbox::set_registration_status))
            .routes(routes!(balances::append))
            .route_layer(axum::middleware::from_fn(crate::http::auth::sandbox_only));
        router = router.merge(sandbox);
    }
    router
        .routes(routes!(customers::create, customers::list))
        .routes(routes!(customers::create_batch))
        .routes(routes!(customers::get, customers::update, customers::erase))
        .routes(routes!(registrations::populate))
        .routes(routes!(registrations::schema))
        .routes(routes!(registrations::status))
        .routes(routes!(registrations::submit))
        .routes(routes!(events::list))
        .routes(routes!(webhooks::register, webhooks::list))
        .routes(routes!(webhooks::notifications))
        .routes(routes!(webhooks::notification))
        .routes(routes!(webhooks::replay))
        .routes(routes!(webhooks::get, webhooks::update, webhooks::delete))
        .routes(routes!(webhooks::toggle))
        .routes(routes!(sync::sync))
        .routes(routes!(sync::attempts))
        .routes(routes!(balances::balances))
        .routes(routes!(files::upload).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)))
        .routes(routes!(files::list))
        .route_layer(CatchPanicLayer::custom(panic_response))
        .route_layer(from_fn_with_state(
            state.clone(),
            crate::http::idempotency::layer,
        ))
        .route_layer(axum::middleware::from_fn(crate::http::livemode::layer))
        .route_layer(from_fn_with_state(
            state.clone(),
            crate::http::ratelimit::api_layer,
        ))
        .route_layer(from_fn_with_state(
            state.clone(),
            crate::http::auth::require,
        ))
}

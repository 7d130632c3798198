//! The HTTP surface: one module per resource.

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
use axum::routing::{get, patch, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

use crate::error::ApiError;
use crate::limits::{JSON_BODY_LIMIT, UPLOAD_BODY_LIMIT};
use crate::middleware::{observe, panic_response};
use crate::state::AppState;

/// The whole API: the public routes, the protected ones, and the layers around both.
pub fn router(state: AppState) -> Router {
    let timeout = state.config.request_timeout;
    public(&state)
        .merge(protected(&state))
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

/// The routes that need no bearer token: service endpoints, the token grant (limited per
/// client IP), signed file downloads (the signed link is the credential) and Stripe's webhooks
/// (the signature is the credential).
fn public(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/health", get(service::health))
        .route("/metrics", get(crate::metrics::endpoint))
        .route("/openapi.json", get(crate::openapi::endpoint))
        .route(
            "/api/v1/merchant/token/grant",
            post(token::grant).route_layer(from_fn_with_state(
                state.clone(),
                crate::ratelimit::grant_layer,
            )),
        )
        .route("/api/v1/files/{file_id}/content", get(files::content))
        .route("/api/v1/providers/stripe/webhook", post(providers::stripe))
}

/// `/api/v1/merchant/webhooks…` (contract §9).
fn webhook_routes() -> Router<AppState> {
    let base = "/api/v1/merchant/webhooks";
    Router::new()
        .route(base, post(webhooks::register).get(webhooks::list))
        .route(
            &format!("{base}/notifications"),
            get(webhooks::notifications),
        )
        .route(
            &format!("{base}/notifications/{{id}}"),
            get(webhooks::notification),
        )
        .route(
            &format!("{base}/notifications/{{id}}/replay"),
            post(webhooks::replay),
        )
        .route(
            &format!("{base}/{{id}}"),
            get(webhooks::get)
                .put(webhooks::update)
                .delete(webhooks::delete),
        )
        .route(&format!("{base}/{{id}}/toggle"), patch(webhooks::toggle))
}

/// Every other API route. Its route layers run, outermost first: the auth layer (verifies the
/// token once, 401 before anything else looks at the request, puts the merchant in the
/// extensions), the per-merchant rate limit, the idempotency layer (keyed `POST`s), and a panic
/// catcher so that a panicking handler still releases its idempotency key.
fn protected(state: &AppState) -> Router<AppState> {
    let mut router = Router::new();
    if state.config.sandbox {
        router = router.route(
            "/api/v1/sandbox/customers/{id}/registrations/{provider}/{target_role}/status",
            post(sandbox::set_registration_status),
        );
        router = router.route(
            "/api/v1/sandbox/customers/{id}/balances",
            post(balances::append),
        );
    }
    router
        .route(
            "/api/v1/customers",
            post(customers::create).get(customers::list),
        )
        .route("/api/v1/customers/batch", post(customers::create_batch))
        .route(
            "/api/v1/customers/{id}",
            get(customers::get)
                .put(customers::update)
                .delete(customers::erase),
        )
        .route(
            "/api/v1/customers/{id}/platforms",
            post(registrations::populate),
        )
        .route(
            "/api/v1/provider-registration/schema",
            get(registrations::schema),
        )
        .route(
            "/api/v1/provider-registration/{customer_id}/status",
            get(registrations::status),
        )
        .route(
            "/api/v1/provider-registration/{customer_id}/submit",
            post(registrations::submit),
        )
        .route("/api/v1/events", get(events::list))
        .merge(webhook_routes())
        .route("/api/v1/customers/{id}/sync", post(sync::sync))
        .route("/api/v1/customers/{id}/sync-attempts", get(sync::attempts))
        .route("/api/v1/customers/{id}/balances", get(balances::balances))
        .route(
            "/api/v1/customers/{id}/files",
            post(files::upload)
                .layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT))
                .get(files::list),
        )
        .route_layer(CatchPanicLayer::custom(panic_response))
        .route_layer(from_fn_with_state(state.clone(), crate::idempotency::layer))
        .route_layer(from_fn_with_state(
            state.clone(),
            crate::ratelimit::api_layer,
        ))
        .route_layer(from_fn_with_state(state.clone(), crate::auth::require))
}

//! The HTTP surface: one module per resource.

mod balances;
mod body;
mod customers;
mod events;
mod files;
mod list_query;
mod registrations;
mod sandbox;
mod service;
mod sync;
mod token;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

use crate::error::ApiError;
use crate::limits::{JSON_BODY_LIMIT, UPLOAD_BODY_LIMIT};
use crate::middleware::{observe, panic_response};
use crate::state::AppState;

/// The whole API.
pub fn router(state: AppState) -> Router {
    let timeout = state.config.request_timeout;
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
        .route("/api/health", get(service::health))
        .route("/metrics", get(crate::metrics::endpoint))
        .route("/openapi.json", get(crate::openapi::endpoint))
        .route("/api/v1/merchant/token/grant", post(token::grant))
        .route(
            "/api/v1/customers",
            post(customers::create).get(customers::list),
        )
        .route("/api/v1/customers/batch", post(customers::create_batch))
        .route(
            "/api/v1/customers/{id}",
            get(customers::get).put(customers::update),
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
        .route("/api/v1/customers/{id}/sync", post(sync::sync))
        .route("/api/v1/customers/{id}/sync-attempts", get(sync::attempts))
        .route("/api/v1/customers/{id}/balances", get(balances::balances))
        .route(
            "/api/v1/customers/{id}/files",
            post(files::upload)
                .layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT))
                .get(files::list),
        )
        .route("/api/v1/files/{file_id}/content", get(files::content))
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed")
        })
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(from_fn_with_state(state.clone(), crate::idempotency::layer))
        .layer(from_fn_with_state(state.clone(), crate::ratelimit::layer))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

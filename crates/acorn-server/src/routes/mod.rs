//! The HTTP surface: one module per resource.

mod customers;
mod files;
mod list_query;
mod service;
mod token;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

use crate::error::ApiError;
use crate::middleware::{observe, panic_response};
use crate::state::AppState;

/// Largest JSON body accepted.
pub const JSON_BODY_LIMIT: usize = 1024 * 1024;

/// Largest file upload request accepted (each file is at most 5 MiB).
pub const UPLOAD_BODY_LIMIT: usize = 26 * 1024 * 1024;

/// The whole API.
pub fn router(state: AppState) -> Router {
    let timeout = state.config.request_timeout;
    Router::new()
        .route("/api/health", get(service::health))
        .route("/api/v1/merchant/token/grant", post(token::grant))
        .route(
            "/api/v1/customers",
            post(customers::create).get(customers::list),
        )
        .route(
            "/api/v1/customers/{id}",
            get(customers::get).put(customers::update),
        )
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
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(axum::middleware::from_fn(observe))
        .with_state(state)
}

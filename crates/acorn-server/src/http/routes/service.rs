//! Service endpoints without auth.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::http::error::ApiError;
use crate::http::state::AppState;

/// `GET /api/health`: 200 when the database answers, else 503.
#[utoipa::path(
    get,
    path = "/api/health",
    operation_id = "health",
    tag = "service",
    summary = "Liveness: 200 when the database answers",
    responses((status = 200, description = "Healthy", body = crate::http::openapi::markers::Health))
)]
pub async fn health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    match state.store.ping().await {
        Ok(()) => {
            let mut body = json!({"status": "ok"});
            if let Some(details) = state.limits.details().await {
                body["details"] = details;
            }
            Ok(Json(body))
        }
        Err(e) => {
            tracing::warn!(
                error = format!("{e:#}"),
                "health check: database unavailable"
            );
            Err(
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
                    .with_code(acorn_types::ErrorCode::ServiceUnavailable),
            )
        }
    }
}

//! `GET /metrics`: the recorder's text (see `base::metrics`) with the gauges read at scrape
//! time — the database pools, the job queue by kind and the webhook queue.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

pub use crate::base::metrics::{JobQueue, Metrics};
use crate::http::state::AppState;
use crate::store::JobKind;

/// `GET /metrics`.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "service",
    summary = "Prometheus metrics (text exposition format)",
    responses((status = 200, description = "The metrics", body = crate::http::openapi::markers::MetricsText, content_type = "text/plain"))
)]
pub async fn endpoint(State(state): State<AppState>) -> Response {
    let now = crate::store::now_micros();
    match state.store.job_queues().await {
        Ok(rows) => {
            #[allow(clippy::cast_precision_loss)]
            let jobs: Vec<JobQueue> = rows
                .into_iter()
                .map(|(kind, depth, oldest)| JobQueue {
                    kind,
                    depth,
                    oldest_age_secs: (now - oldest).max(0) as f64 / 1e6,
                })
                .collect();
            let kinds: Vec<&'static str> = JobKind::ALL.iter().map(JobKind::as_str).collect();
            state
                .metrics
                .set_gauges(&state.store.pool_stats(), &kinds, &jobs);
        }
        Err(e) => tracing::warn!(error = %e, "metrics: could not read the job queue"),
    }
    match state.store.delivery_queue().await {
        Ok((depth, oldest)) => state.metrics.set_webhook_queue(depth, oldest, now),
        Err(e) => tracing::warn!(error = %e, "metrics: could not read the webhook queue"),
    }
    let mut r = state.metrics.render().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}

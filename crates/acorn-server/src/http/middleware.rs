//! The request middleware: request ids, one log line per request (no PII: the route template,
//! never the URI or body), and the guarantee that every error leaves in the envelope.

use std::time::{Duration, Instant};

use acorn_types::{FailureReason, ReasonCode};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::error::{default_message, envelope_response, ApiError, InternalFailure};
use crate::http::state::AppState;

const REQUEST_ID: &str = "x-request-id";

fn client_request_id(value: Option<&HeaderValue>) -> Option<String> {
    let s = value?.to_str().ok()?;
    let ok = (1..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    ok.then(|| s.to_owned())
}

/// Wraps every request: assigns the id, normalises error bodies, logs the outcome.
pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = client_request_id(req.headers().get(REQUEST_ID))
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "(unmatched)".to_owned());
    let oak_version = req
        .headers()
        .get("oak-version")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(32).collect::<String>());

    let response = next.run(req).await;
    let mut response = normalize(response, &request_id);
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, v);
    }
    let status = response.status().as_u16();
    let latency = started.elapsed();
    state
        .metrics
        .observe(method.as_str(), &route, status, latency);
    let latency_ms = millis_3dp(latency);
    tracing::info!(
        target: "acorn::request",
        %method, route, status, latency_ms, request_id, oak_version = oak_version.as_deref(),
        "request"
    );
    response
}

/// A duration in milliseconds rounded to the microsecond (`0.081`, not `0.08135200000000001`).
fn millis_3dp(d: Duration) -> f64 {
    // Whole microseconds, then one division: the result prints with at most 3 decimals.
    (d.as_nanos() as f64 / 1000.0).round() / 1000.0
}

/// Makes sure a failure carries the envelope: 500s get their cause logged and the request id as
/// `support_reference`; errors produced outside our handlers (timeouts, unknown methods,
/// framework rejections) are re-rendered.
fn normalize(response: Response, request_id: &str) -> Response {
    if let Some(InternalFailure(cause)) = response.extensions().get::<InternalFailure>().cloned() {
        tracing::error!(request_id, error = format!("{cause:#}"), "internal error");
        let mut reason = FailureReason::new(
            ReasonCode::InternalError,
            "an unexpected error occurred; quote the support reference when reporting it",
            &[],
        );
        reason.support_reference = Some(request_id.to_owned());
        let status = response.status();
        let mut fresh = envelope_response(
            status,
            None,
            default_message(status).to_owned(),
            vec![reason],
        );
        fresh.headers_mut().extend(
            response
                .headers()
                .iter()
                .filter(|(k, _)| *k != header::CONTENT_TYPE && *k != header::CONTENT_LENGTH)
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        return fresh;
    }
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if status.as_u16() < 400 || is_json {
        return response;
    }
    let err = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::payload_too_large("request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::unsupported_media_type("unsupported content type")
        }
        StatusCode::INTERNAL_SERVER_ERROR => {
            ApiError::internal(anyhow::anyhow!("unrendered 500 response"))
        }
        s => ApiError::new(s, default_message(s)),
    };
    let mut fresh = err.into_response();
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(v) = response.headers().get(&name) {
            fresh.headers_mut().insert(name, v.clone());
        }
    }
    if fresh.extensions().get::<InternalFailure>().is_some() {
        return normalize(fresh, request_id);
    }
    fresh
}

/// Renders a caught panic as a 500 whose cause is logged by [`observe`].
pub fn panic_response(payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "non-string panic".to_owned());
    ApiError::internal(anyhow::anyhow!("handler panicked: {detail}")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_is_logged_in_milliseconds_with_at_most_3_decimals() {
        assert_eq!(
            millis_3dp(Duration::from_nanos(81_352)).to_string(),
            "0.081"
        );
        assert_eq!(
            millis_3dp(Duration::from_nanos(81_500)).to_string(),
            "0.082"
        );
        assert_eq!(
            millis_3dp(Duration::from_micros(1_234_567)).to_string(),
            "1234.567"
        );
        assert_eq!(millis_3dp(Duration::from_millis(12)).to_string(), "12");
        assert_eq!(
            format!("{:?}", millis_3dp(Duration::from_micros(81))),
            "0.081"
        );
    }

    #[test]
    fn request_ids_from_clients_are_sanitised() {
        let ok = HeaderValue::from_static("abc-123_x.y:z");
        assert_eq!(
            client_request_id(Some(&ok)).as_deref(),
            Some("abc-123_x.y:z")
        );
        let bad = HeaderValue::from_static("has space");
        assert_eq!(client_request_id(Some(&bad)), None);
        let long = HeaderValue::from_str(&"a".repeat(129)).expect("header");
        assert_eq!(client_request_id(Some(&long)), None);
        assert_eq!(client_request_id(None), None);
    }
}

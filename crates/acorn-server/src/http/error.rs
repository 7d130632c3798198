//! `ApiError`: every failure the API reports, rendered as the contract's error envelope.

use std::sync::Arc;

use acorn_types::{ErrorCode, ErrorEnvelope, FailureReason, ReasonCode};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::services::error::ServiceError;
use crate::store::StoreError;

/// An API failure: status, class, message and reasons. 5xx keep their cause for the log only.
#[derive(Debug)]
pub struct ApiError(Box<Inner>);

#[derive(Debug)]
struct Inner {
    status: StatusCode,
    code: Option<ErrorCode>,
    msg: String,
    reasons: Vec<FailureReason>,
    headers: HeaderMap,
    cause: Option<anyhow::Error>,
}

/// Attached to a 500 response so the request middleware can log the cause with the request
/// id and put that id in the body's `support_reference`.
#[derive(Clone, Debug)]
pub struct InternalFailure(pub Arc<anyhow::Error>);

/// The contract's `error_code` for an HTTP status.
pub fn error_code_for(status: StatusCode) -> ErrorCode {
    match status.as_u16() {
        401 => ErrorCode::AuthenticationError,
        403 => ErrorCode::AuthorizationError,
        404 => ErrorCode::NotFound,
        405 => ErrorCode::MethodNotAllowed,
        408 => ErrorCode::RequestTimeout,
        409 => ErrorCode::Conflict,
        429 => ErrorCode::RateLimited,
        502 => ErrorCode::ProviderError,
        503 | 504 => ErrorCode::ProviderUnavailable,
        400..=499 => ErrorCode::ValidationError,
        _ => ErrorCode::InternalError,
    }
}

/// The `msg` used when nothing more specific is known.
pub fn default_message(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "Bad request",
        401 => "Authentication required",
        403 => "Forbidden",
        404 => "Resource not found",
        405 => "Method not allowed",
        408 => "Request timed out",
        409 => "Conflict",
        413 => "Payload too large",
        415 => "Unsupported media type",
        422 => "Validation failed",
        429 => "Too many requests",
        503 => "Service unavailable",
        _ => "Internal server error",
    }
}

impl ApiError {
    /// A failure with a status and message and no reasons.
    pub fn new(status: StatusCode, msg: impl Into<String>) -> Self {
        ApiError(Box::new(Inner {
            status,
            code: None,
            msg: msg.into(),
            reasons: Vec::new(),
            headers: HeaderMap::new(),
            cause: None,
        }))
    }

    /// Overrides the `error_code` that the status implies.
    pub fn with_code(mut self, code: ErrorCode) -> Self {
        self.0.code = Some(code);
        self
    }

    /// Adds a failure reason.
    pub fn with_reason(mut self, reason: FailureReason) -> Self {
        self.0.reasons.push(reason);
        self
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.0.headers.insert(name, value);
        self
    }

    // The failures a request shares with the units of work are made by `ServiceError` (one
    // home for their message and reasons); these are their HTTP spellings.

    /// 422 with every reason found.
    pub fn validation(reasons: Vec<FailureReason>) -> Self {
        ServiceError::validation(reasons).into()
    }

    /// 422 for one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ServiceError::invalid(field, message).into()
    }

    /// 400 with one reason.
    pub fn bad_request(code: ReasonCode, message: impl Into<String>, fields: &[&str]) -> Self {
        ServiceError::bad_request(code, message, fields).into()
    }

    /// 404 — also the answer for another merchant's objects.
    pub fn not_found() -> Self {
        ServiceError::not_found().into()
    }

    /// 401 with `WWW-Authenticate: Bearer`.
    pub fn unauthorized(code: ReasonCode, message: &str) -> Self {
        let challenge = match code {
            ReasonCode::InvalidToken => "Bearer error=\"invalid_token\"",
            _ => "Bearer",
        };
        Self::new(StatusCode::UNAUTHORIZED, message)
            .with_reason(FailureReason::new(code, message, &[]))
            .with_header(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            )
    }

    /// 409.
    pub fn conflict(message: impl Into<String>) -> Self {
        ServiceError::conflict(message).into()
    }

    /// 413.
    pub fn payload_too_large(message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, message.clone()).with_reason(FailureReason::new(
            ReasonCode::PayloadTooLarge,
            message,
            &[],
        ))
    }

    /// 415.
    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, message.clone()).with_reason(
            FailureReason::new(ReasonCode::UnsupportedMediaType, message, &[]),
        )
    }

    /// 500: the cause goes to the log, never to the client.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        ServiceError::internal(cause).into()
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The status and the envelope as JSON text, for an answer embedded in another response
    /// (a batch item) or stored for replay. Headers and a 5xx cause are not part of it.
    pub fn envelope_text(&self) -> (StatusCode, String) {
        let inner = &self.0;
        let body = ErrorEnvelope {
            msg: inner.msg.clone(),
            error_code: inner.code.unwrap_or_else(|| error_code_for(inner.status)),
            failure_reasons: inner.reasons.clone(),
            data: None,
        };
        let text = serde_json::to_string(&body).unwrap_or_else(|_| "{}".to_owned());
        (inner.status, text)
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let (failure, code, msg, reasons, cause) = e.into_parts();
        let status =
            StatusCode::from_u16(failure.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut out = ApiError::new(status, msg);
        out.0.code = code;
        out.0.reasons = reasons;
        out.0.cause = cause;
        out
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        ApiError::internal(e)
    }
}

/// Renders an error envelope for `status`.
pub fn envelope_response(
    status: StatusCode,
    code: Option<ErrorCode>,
    msg: String,
    reasons: Vec<FailureReason>,
) -> Response {
    let body = ErrorEnvelope {
        msg,
        error_code: code.unwrap_or_else(|| error_code_for(status)),
        failure_reasons: reasons,
        data: None,
    };
    (status, Json(body)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let inner = *self.0;
        let mut response = envelope_response(inner.status, inner.code, inner.msg, inner.reasons);
        response.headers_mut().extend(inner.headers);
        if let Some(cause) = inner.cause {
            response
                .extensions_mut()
                .insert(InternalFailure(Arc::new(cause)));
        }
        response
    }
}

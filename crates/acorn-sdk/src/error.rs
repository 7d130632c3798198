//! The one error type every SDK call returns.

use std::fmt;
use std::time::Duration;

use acorn_types::{ErrorCode, ErrorEnvelope, FailureReason};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

/// Everything that can go wrong calling the API.
///
/// Match on the variant for control flow; use [`msg`](Self::msg),
/// [`error_code`](Self::error_code) and [`failure_reasons`](Self::failure_reasons) to read the
/// server's explanation of an [`Api`](Self::Api) error.
///
/// `Display` is one line with everything the server said: status, `error_code`, `msg` and each
/// failure reason. `Debug` (what `?` in `main` prints) is the same, one reason per line, with
/// the request id and the causes; `{:#?}` is the structured dump.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum OakError {
    /// The server answered with a non-2xx status (after any retries).
    #[error("API error {status} ({}): {}{}", wire_name(&body.error_code), body.msg, reasons_inline(&body.failure_reasons))]
    Api {
        /// The HTTP status.
        status: StatusCode,
        /// The parsed error envelope. A body that was not an envelope (a proxy's HTML page, say)
        /// is represented by an envelope whose `msg` says so and whose `error_code` is derived
        /// from the status.
        body: Box<ErrorEnvelope>,
        /// The response headers (`X-Request-Id`, `Retry-After`, `WWW-Authenticate`, …).
        headers: Box<HeaderMap>,
    },
    /// The request could not be sent or its response not read (connection refused or reset,
    /// TLS failure, …), after any retries.
    #[error("network error: {0}")]
    Network(#[source] reqwest::Error),
    /// No response within the configured per-request timeout.
    #[error("request timed out after {0:?}")]
    Timeout(Duration),
    /// A 2xx response whose body did not match the expected shape.
    #[error("cannot decode response (HTTP {status}) at `{path}`: {message}")]
    Decode {
        /// The HTTP status of the response.
        status: StatusCode,
        /// JSON path of the offending value, e.g. `data.customer_list[3].status` (`.` for the
        /// whole body).
        path: String,
        /// What was wrong there.
        message: String,
    },
    /// The client is misconfigured (missing credentials, unusable base URL, …).
    #[error("configuration error: {0}")]
    Config(String),
    /// An argument was rejected before any request was made (an empty id, no files, …).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl OakError {
    /// The server's `msg` for an API error.
    pub fn msg(&self) -> Option<&str> {
        match self {
            OakError::Api { body, .. } => Some(&body.msg),
            _ => None,
        }
    }

    /// The server's `error_code` for an API error.
    pub fn error_code(&self) -> Option<ErrorCode> {
        match self {
            OakError::Api { body, .. } => Some(body.error_code),
            _ => None,
        }
    }

    /// The server's `failure_reasons` for an API error (empty otherwise).
    pub fn failure_reasons(&self) -> &[FailureReason] {
        match self {
            OakError::Api { body, .. } => &body.failure_reasons,
            _ => &[],
        }
    }

    /// The HTTP status, for API and decode errors.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            OakError::Api { status, .. } | OakError::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server's `X-Request-Id` for an API error, to quote to support.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            OakError::Api { headers, .. } => {
                headers.get("x-request-id").and_then(|v| v.to_str().ok())
            }
            _ => None,
        }
    }

    pub(crate) fn api(status: StatusCode, headers: HeaderMap, raw: &[u8]) -> Self {
        let body = serde_json::from_slice::<ErrorEnvelope>(raw)
            .unwrap_or_else(|_| synthetic_envelope(status));
        OakError::Api {
            status,
            body: Box::new(body),
            headers: Box::new(headers),
        }
    }

    pub(crate) fn decode(
        status: StatusCode,
        err: serde_path_to_error::Error<serde_json::Error>,
    ) -> Self {
        let path = err.path().to_string();
        OakError::Decode {
            status,
            path,
            message: err.into_inner().to_string(),
        }
    }
}

/// The JSON spelling of a wire enum (`validation_error`, `duplicate_data`, …).
fn wire_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "unknown".to_owned(),
    }
}

/// `email: customer already exists (duplicate_data)`.
fn reason_text(r: &FailureReason) -> String {
    let mut text = String::new();
    if !r.fields.is_empty() {
        text.push_str(&r.fields.join(", "));
        text.push_str(": ");
    }
    text.push_str(&r.message);
    text.push_str(&format!(" ({})", wire_name(&r.code)));
    if let Some(reference) = &r.support_reference {
        text.push_str(&format!(" [support reference {reference}]"));
    }
    text
}

/// The failure reasons after the message on one line: ` — a; b`, or nothing.
fn reasons_inline(reasons: &[FailureReason]) -> String {
    if reasons.is_empty() {
        return String::new();
    }
    let texts: Vec<String> = reasons.iter().map(reason_text).collect();
    format!(" — {}", texts.join("; "))
}

impl fmt::Debug for OakError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            return self.debug_structured(f);
        }
        match self {
            OakError::Api { status, body, .. } => {
                write!(
                    f,
                    "API error {status} ({}): {}",
                    wire_name(&body.error_code),
                    body.msg
                )?;
                for r in &body.failure_reasons {
                    write!(f, "\n  - {}", reason_text(r))?;
                }
                if let Some(id) = self.request_id() {
                    write!(f, "\n  request id: {id}")?;
                }
            }
            other => write!(f, "{other}")?,
        }
        // Causes, leaving out one whose text the line before already quotes (`Network` shows
        // reqwest's message in its own).
        let mut shown = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            let text = cause.to_string();
            if !shown.contains(&text) {
                write!(f, "\n  caused by: {text}")?;
            }
            shown = text;
            source = cause.source();
        }
        Ok(())
    }
}

impl OakError {
    /// `{:#?}`: every field, as a derived `Debug` would show them.
    fn debug_structured(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OakError::Api {
                status,
                body,
                headers,
            } => f
                .debug_struct("Api")
                .field("status", status)
                .field("body", body)
                .field("headers", headers)
                .finish(),
            OakError::Network(e) => f.debug_tuple("Network").field(e).finish(),
            OakError::Timeout(d) => f.debug_tuple("Timeout").field(d).finish(),
            OakError::Decode {
                status,
                path,
                message,
            } => f
                .debug_struct("Decode")
                .field("status", status)
                .field("path", path)
                .field("message", message)
                .finish(),
            OakError::Config(m) => f.debug_tuple("Config").field(m).finish(),
            OakError::InvalidArgument(m) => f.debug_tuple("InvalidArgument").field(m).finish(),
        }
    }
}

fn synthetic_envelope(status: StatusCode) -> ErrorEnvelope {
    let error_code = match status.as_u16() {
        400 | 413 | 415 | 422 => ErrorCode::ValidationError,
        401 => ErrorCode::AuthenticationError,
        403 => ErrorCode::AuthorizationError,
        404 => ErrorCode::NotFound,
        409 => ErrorCode::Conflict,
        429 => ErrorCode::RateLimited,
        500 => ErrorCode::InternalError,
        502 => ErrorCode::ProviderError,
        503 | 504 => ErrorCode::ProviderUnavailable,
        _ => ErrorCode::Unknown,
    };
    ErrorEnvelope {
        msg: format!("HTTP {status} without an error envelope"),
        error_code,
        failure_reasons: Vec::new(),
        data: None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use acorn_types::ReasonCode;

    #[test]
    fn api_error_exposes_the_envelope() {
        let raw = br#"{"msg":"customer already exists","error_code":"validation_error",
            "failure_reasons":[{"code":"duplicate_data","message":"taken","fields":["email"]}],
            "data":null}"#;
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", "req-1".parse().unwrap());
        let e = OakError::api(StatusCode::BAD_REQUEST, headers, raw);
        assert_eq!(e.msg(), Some("customer already exists"));
        assert_eq!(e.error_code(), Some(ErrorCode::ValidationError));
        assert_eq!(e.failure_reasons()[0].code, ReasonCode::DuplicateData);
        assert_eq!(e.status(), Some(StatusCode::BAD_REQUEST));
        assert_eq!(e.request_id(), Some("req-1"));
        assert!(e.to_string().contains("customer already exists"));
    }

    #[test]
    fn display_and_debug_read_well() {
        let raw = br#"{"msg":"customer already exists","error_code":"validation_error",
            "failure_reasons":[{"code":"duplicate_data","message":"customer already exists","fields":["email"]}],
            "data":null}"#;
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", "req-1".parse().unwrap());
        let e = OakError::api(StatusCode::BAD_REQUEST, headers, raw);
        assert_eq!(
            e.to_string(),
            "API error 400 Bad Request (validation_error): customer already exists \
             — email: customer already exists (duplicate_data)"
        );
        // What `?` in `main` prints: no struct dump, one reason per line.
        assert_eq!(
            format!("{e:?}"),
            "API error 400 Bad Request (validation_error): customer already exists\n  \
             - email: customer already exists (duplicate_data)\n  request id: req-1"
        );
        assert!(format!("{e:#?}").contains("headers"), "{e:#?}");
        let e = OakError::InvalidArgument("customer id is empty".into());
        assert_eq!(format!("{e:?}"), "invalid argument: customer id is empty");
    }

    #[test]
    fn non_envelope_body_still_gives_an_api_error() {
        let e = OakError::api(
            StatusCode::BAD_GATEWAY,
            HeaderMap::new(),
            b"<html>oops</html>",
        );
        assert_eq!(e.error_code(), Some(ErrorCode::ProviderError));
        assert!(e.failure_reasons().is_empty());
        assert!(OakError::Timeout(Duration::from_secs(1)).msg().is_none());
    }
}

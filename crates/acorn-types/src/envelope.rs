//! The success and error envelopes every API response is wrapped in (contract §1.1, §1.2).

use serde::{Deserialize, Serialize};

/// The success envelope: `{ "msg": "...", "data": ... }`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ApiResponse<T> {
    /// Short human text, e.g. `"Customer created"`.
    pub msg: String,
    /// The payload.
    pub data: T,
}

impl<T> ApiResponse<T> {
    /// Wraps `data` with a message.
    pub fn new(msg: impl Into<String>, data: T) -> Self {
        Self {
            msg: msg.into(),
            data,
        }
    }
}

/// Machine-readable class of an error; each maps to an HTTP status range (contract §1.2).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// 400, 413, 415, 422.
    ValidationError,
    /// 401.
    AuthenticationError,
    /// 403.
    AuthorizationError,
    /// 404.
    NotFound,
    /// 405: the route exists, the method does not (not in the Oak vocabulary; Acorn's).
    MethodNotAllowed,
    /// 408: the request did not arrive in time (not in the Oak vocabulary; Acorn's).
    RequestTimeout,
    /// 409.
    Conflict,
    /// 429.
    RateLimited,
    /// 500.
    InternalError,
    /// 502.
    ProviderError,
    /// 503, 504.
    ProviderUnavailable,
    /// 503 from the service itself (its database does not answer).
    ServiceUnavailable,
    /// A code this version of the types does not know.
    #[serde(other)]
    Unknown,
}

/// Why a request failed, one entry per problem (contract §1.2 vocabulary).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReasonCode {
    /// `invalid_input`.
    InvalidInput,
    /// `missing_required_information`.
    MissingRequiredInformation,
    /// `duplicate_data`.
    DuplicateData,
    /// `missing_token`.
    MissingToken,
    /// `invalid_token`.
    InvalidToken,
    /// `invalid_client`.
    InvalidClient,
    /// `insufficient_permissions`.
    InsufficientPermissions,
    /// `idempotency_mismatch`.
    IdempotencyMismatch,
    /// `payload_too_large`.
    PayloadTooLarge,
    /// `unsupported_media_type`.
    UnsupportedMediaType,
    /// `rate_limit_exceeded`.
    RateLimitExceeded,
    /// `internal_error`.
    InternalError,
    /// `provider_unavailable`.
    ProviderUnavailable,
    /// `invalid_cursor`.
    InvalidCursor,
    /// `not_registered`.
    NotRegistered,
    /// A code this version of the types does not know.
    #[serde(other)]
    Unknown,
}

/// One failure reason inside an [`ErrorEnvelope`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FailureReason {
    /// What kind of problem this is.
    pub code: ReasonCode,
    /// Human-readable explanation.
    pub message: String,
    /// The request fields involved, if any.
    #[serde(default)]
    pub fields: Vec<String>,
    /// A deadline by which the problem must be fixed (provider errors).
    #[serde(default)]
    pub deadline: Option<String>,
    /// The provider's own error code, for provider errors.
    #[serde(default)]
    pub provider_code: Option<String>,
    /// Whether a person must look at this.
    #[serde(default)]
    pub requires_manual_review: bool,
    /// For 5xx: the request id to quote to support (also in the server log).
    #[serde(default)]
    pub support_reference: Option<String>,
}

impl FailureReason {
    /// A reason with a code, message and the fields it concerns.
    pub fn new(code: ReasonCode, message: impl Into<String>, fields: &[&str]) -> Self {
        Self {
            code,
            message: message.into(),
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
            deadline: None,
            provider_code: None,
            requires_manual_review: false,
            support_reference: None,
        }
    }

    /// `invalid_input` for one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::new(ReasonCode::InvalidInput, message, &[field])
    }
}

/// The body of every non-2xx response.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErrorEnvelope {
    /// Short human text.
    pub msg: String,
    /// Class of error.
    pub error_code: ErrorCode,
    /// Every problem found (possibly empty).
    #[serde(default)]
    pub failure_reasons: Vec<FailureReason>,
    /// Always `null` on errors.
    #[serde(default)]
    pub data: Option<serde_json::Value>,
}

impl ErrorEnvelope {
    /// The reason codes, for quick assertions and matching.
    pub fn reason_codes(&self) -> Vec<ReasonCode> {
        self.failure_reasons.iter().map(|r| r.code).collect()
    }
}

//! `ServiceError`: what a unit of work reports when it cannot be done, in the contract's terms
//! (a class, a message and the precise failure reasons) but without HTTP: `http::error` turns it
//! into a status and the error envelope.

use acorn_types::{ErrorCode, FailureReason, ReasonCode};

use crate::store::StoreError;

/// Why a unit of work was not done; the HTTP layer maps each to a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The input broke a rule of its own (422).
    Invalid,
    /// The input is well formed but not acceptable here (400), e.g. a duplicate.
    BadRequest,
    /// No such object for this merchant (404).
    NotFound,
    /// The object's state does not allow the change (409).
    Conflict,
    /// A provider or dependency is away; retrying later may work (503).
    Unavailable,
    /// A provider refused or failed in a way a retry will not fix (502).
    BadGateway,
    /// A fault of the server; the cause is logged, never shown (500).
    Internal,
}

impl Failure {
    /// The HTTP status of the contract for this failure.
    pub fn status(self) -> u16 {
        match self {
            Failure::Invalid => 422,
            Failure::BadRequest => 400,
            Failure::NotFound => 404,
            Failure::Conflict => 409,
            Failure::Unavailable => 503,
            Failure::BadGateway => 502,
            Failure::Internal => 500,
        }
    }
}

/// A failed unit of work. Internal failures keep their cause for the log only.
#[derive(Debug)]
pub struct ServiceError(Box<Inner>);

#[derive(Debug)]
struct Inner {
    failure: Failure,
    code: Option<ErrorCode>,
    msg: String,
    reasons: Vec<FailureReason>,
    cause: Option<anyhow::Error>,
}

impl ServiceError {
    /// A failure with a message and no reasons.
    pub fn new(failure: Failure, msg: impl Into<String>) -> Self {
        ServiceError(Box::new(Inner {
            failure,
            code: None,
            msg: msg.into(),
            reasons: Vec::new(),
            cause: None,
        }))
    }

    /// Overrides the `error_code` that the failure implies.
    pub fn with_code(mut self, code: ErrorCode) -> Self {
        self.0.code = Some(code);
        self
    }

    /// Adds a failure reason.
    pub fn with_reason(mut self, reason: FailureReason) -> Self {
        self.0.reasons.push(reason);
        self
    }

    /// Every invalid field at once.
    pub fn validation(reasons: Vec<FailureReason>) -> Self {
        let mut e = Self::new(Failure::Invalid, "Validation failed");
        e.0.reasons = reasons;
        e
    }

    /// One invalid field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FailureReason::invalid(field, message)])
    }

    /// Not acceptable, with one reason.
    pub fn bad_request(code: ReasonCode, message: impl Into<String>, fields: &[&str]) -> Self {
        let message = message.into();
        Self::new(Failure::BadRequest, message.clone())
            .with_reason(FailureReason::new(code, message, fields))
    }

    /// Not found — also the answer for another merchant's objects.
    pub fn not_found() -> Self {
        Self::new(Failure::NotFound, "Resource not found")
    }

    /// The object's state forbids the change.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(Failure::Conflict, message)
    }

    /// A dependency is away; worth retrying.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(Failure::Unavailable, message)
    }

    /// A provider failed in a way a retry will not fix.
    pub fn bad_gateway(message: impl Into<String>) -> Self {
        Self::new(Failure::BadGateway, message)
    }

    /// A fault of the server: the cause goes to the log, never to the client.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        let mut e = Self::new(Failure::Internal, "Internal server error");
        e.0.cause = Some(cause.into());
        e
    }

    /// What kind of failure this is.
    pub fn failure(&self) -> Failure {
        self.0.failure
    }

    /// The parts, for the HTTP layer to render: failure, code, message, reasons, cause.
    pub fn into_parts(
        self,
    ) -> (
        Failure,
        Option<ErrorCode>,
        String,
        Vec<FailureReason>,
        Option<anyhow::Error>,
    ) {
        let i = *self.0;
        (i.failure, i.code, i.msg, i.reasons, i.cause)
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::not_found(),
            StoreError::Duplicate("email") => ServiceError::bad_request(
                ReasonCode::DuplicateData,
                "customer already exists",
                &["email"],
            ),
            StoreError::Duplicate(field) => ServiceError::bad_request(
                ReasonCode::DuplicateData,
                format!("{field} already exists"),
                &[field],
            ),
            StoreError::Conflict(msg) => ServiceError::conflict(msg),
            StoreError::NotRegistered(msg) => {
                ServiceError::bad_request(ReasonCode::NotRegistered, msg, &["providers"])
            }
            StoreError::VersionMismatch { current } => ServiceError::conflict(format!(
                "the customer has changed: its current version is {current}; fetch it again and retry"
            )),
            StoreError::Other(e) => ServiceError::internal(e),
        }
    }
}

impl From<anyhow::Error> for ServiceError {
    fn from(e: anyhow::Error) -> Self {
        ServiceError::internal(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_keep_their_meaning() {
        let dup = ServiceError::from(StoreError::Duplicate("email"));
        assert_eq!(dup.failure().status(), 400);
        let (_, _, msg, reasons, _) = dup.into_parts();
        assert_eq!(msg, "customer already exists");
        assert_eq!(reasons[0].code, ReasonCode::DuplicateData);
        assert_eq!(
            ServiceError::from(StoreError::NotFound).failure(),
            Failure::NotFound
        );
        let internal = ServiceError::from(StoreError::Other(anyhow::anyhow!("disk")));
        let (failure, _, msg, _, cause) = internal.into_parts();
        assert_eq!(
            (failure, msg.as_str()),
            (Failure::Internal, "Internal server error")
        );
        assert!(cause.is_some());
    }
}

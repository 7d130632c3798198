//! The Acorn wire contract in code: the types the server speaks and the SDK reads, so that the
//! two cannot drift apart. No I/O lives here.

pub mod auth;
pub mod countries;
pub mod customer;
pub mod enums;
pub mod envelope;
pub mod fields;
pub mod ids;

pub use auth::{TokenRequest, TokenResponse};
pub use customer::{Customer, CustomerList, CustomerPatch, Platform, WriteMode};
pub use enums::{
    CustomerStatus, DocumentType, DocumentsState, FileType, Gender, Provider, RegistrationStatus,
    SyncField, TargetRole, UnknownValue,
};
pub use envelope::{ApiResponse, ErrorCode, ErrorEnvelope, FailureReason, ReasonCode};
pub use ids::{
    CustomerId, EventId, FileId, InvalidId, MerchantId, RegistrationId, SyncAttemptId, WebhookId,
};

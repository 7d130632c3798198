//! The Acorn wire contract in code: the types the server speaks and the SDK reads, so that the
//! two cannot drift apart. No I/O lives here.

#![warn(missing_docs)]

pub mod auth;
pub mod balance;
pub mod batch;
pub mod countries;
pub mod currencies;
pub mod customer;
pub mod enums;
pub mod envelope;
pub mod events;
pub mod fields;
pub mod files;
pub mod idempotency;
pub mod ids;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod registration;
pub mod requests;
pub mod sync;
pub mod time;
pub mod webhooks;

pub use auth::{TokenRequest, TokenResponse};
pub use balance::{BalanceEntry, BalanceFilters, BalanceHolder, BalanceTotal, Balances};
pub use batch::{
    CustomerBatchBody, CustomerBatchBodyItem, CustomerBatchItem, CustomerBatchRequest,
    CustomerBatchResponse, CustomerBatchResult, BATCH_MAX_ITEMS,
};
pub use customer::{Customer, CustomerDeleted, CustomerList, CustomerPatch, Platform, WriteMode};
pub use enums::{
    CustomerStatus, DocumentType, DocumentsState, FileType, Gender, Mode, Provider,
    RegistrationStatus, SyncAttemptStatus, SyncField, TargetRole, UnknownValue,
};
pub use envelope::{ApiResponse, ErrorCode, ErrorEnvelope, FailureReason, ReasonCode};
pub use events::{Event, EventCategory, EventKind, EventList, EventListParams};
pub use files::CustomerFile;
pub use idempotency::{
    is_valid_idempotency_key, IdempotencyKey, InvalidIdempotencyKey, MAX_IDEMPOTENCY_KEY_LEN,
};
pub use ids::{
    CustomerId, EventId, FileId, InvalidId, MerchantId, NotificationId, RegistrationId,
    SyncAttemptId, WebhookId,
};
pub use registration::{ProviderSchema, ProviderSchemaResponse, Registration, RoleSchema};
pub use requests::{
    BalanceFilter, CustomerCreate, CustomerRequest, CustomerUpdate, FromBody, LedgerEntryRequest,
    ListParams, PlatformRequest, SandboxStatusRequest, SchemaQuery, SubmitRegistrationRequest,
    SyncRequest, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, SYNCABLE_PROVIDERS,
};
pub use sync::SyncAttempt;
pub use time::{InvalidTimestamp, Timestamp};
pub use webhooks::{
    DeliveryAttempt, NotificationList, NotificationListParams, RegisterWebhookRequest,
    UpdateWebhookRequest, WebhookDeleted, WebhookEndpoint, WebhookEvent, WebhookNotification,
};

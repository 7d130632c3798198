//! Names for the component schemas that the handlers' `#[utoipa::path]` attributes refer to
//! (`request_body = CustomerWrite`, `body = CustomerEnvelope`). Each is a name only: the
//! schema itself is built in [`super::schemas`] from the contract's tables and replaces the
//! placeholder when the document is finished, and a test checks that every name resolves.

use std::borrow::Cow;

use utoipa::openapi::schema::{ObjectBuilder, Schema};
use utoipa::openapi::RefOr;

macro_rules! components {
    ($($name:ident),* $(,)?) => {$(
        #[doc = concat!("The `", stringify!($name), "` component schema.")]
        #[derive(Debug)]
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                RefOr::T(Schema::Object(ObjectBuilder::new().build()))
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    )*};
}

components!(
    TokenRequest,
    TokenResponse,
    CustomerWrite,
    CustomerCreate,
    CustomerEnvelope,
    CustomerListEnvelope,
    CustomerBatchRequest,
    CustomerBatchEnvelope,
    SyncRequest,
    NullEnvelope,
    SyncAttemptsEnvelope,
    BalancesEnvelope,
    FileUpload,
    FilesEnvelope,
    PlatformRequest,
    RegistrationsEnvelope,
    RegistrationEnvelope,
    SubmitRequest,
    SchemaEnvelope,
    EventsEnvelope,
    SandboxStatusRequest,
    LedgerEntryRequest,
    LedgerEntryEnvelope,
    Health,
    ErrorEnvelope,
    MetricsText,
    WebhookRegister,
    WebhookUpdate,
    WebhookEnvelope,
    WebhooksEnvelope,
    WebhookDeletedEnvelope,
    NotificationsEnvelope,
    NotificationEnvelope,
    StripeEvent,
    StripeWebhookEnvelope,
    CustomerDeletedEnvelope,
);

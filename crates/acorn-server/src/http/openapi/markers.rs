//! Names for the response (and non-JSON request) schemas that the handlers' `#[utoipa::path]`
//! attributes refer to (`body = CustomerEnvelope`). Each is a name only: the schema itself is
//! built in [`super::schemas`] and replaces the placeholder when the document is finished, and
//! a test checks that every name resolves. JSON request bodies are not here: they are the
//! `acorn-types` types the server parses, each with its schema (`FromBody`).

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
    TokenResponse,
    CustomerEnvelope,
    CustomerListEnvelope,
    CustomerBatchEnvelope,
    NullEnvelope,
    SyncAttemptsEnvelope,
    BalancesEnvelope,
    FileUpload,
    FilesEnvelope,
    RegistrationsEnvelope,
    RegistrationEnvelope,
    SchemaEnvelope,
    EventsEnvelope,
    LedgerEntryEnvelope,
    Health,
    ErrorEnvelope,
    MetricsText,
    WebhookEnvelope,
    WebhooksEnvelope,
    WebhookDeletedEnvelope,
    NotificationsEnvelope,
    NotificationEnvelope,
    StripeEvent,
    StripeWebhookEnvelope,
    CustomerDeletedEnvelope,
);

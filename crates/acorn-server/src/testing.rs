//! Internals that the crate's own integration tests drive directly (the store's query plans,
//! a router without the edge, clocks of signed links). Not part of the facade: the `acorn`
//! command line and the SDK never use it (the structure test checks), and nothing here is
//! promised to stay.

pub use crate::adapters::files::link::now_secs;
pub use crate::adapters::files::sweep::sweep_orphans;
pub use crate::adapters::providers::stripe::webhook::sign as sign_stripe_webhook;
pub use crate::http::auth::AuthMerchant;
pub use crate::http::dashboard::CSP;
pub use crate::http::idempotency::layer as idempotency_layer;
pub use crate::http::ratelimit::api_layer as rate_limit_layer;
pub use crate::http::routes::router;
pub use crate::http::state::AppState;
pub use crate::store::idempotency::{Claim, KeyRequest};
pub use crate::store::webhooks::NewEndpoint;
pub use crate::store::{now_micros, Dialect, ListQuery, Page, RegistrationFilter};

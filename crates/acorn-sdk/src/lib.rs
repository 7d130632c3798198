//! Rust SDK for the Oak Network customers API, as served by Acorn (or by Oak itself).
//!
//! It mirrors the official TypeScript SDK `@oaknetwork/payments-sdk` method for method
//! (`customers.create` → [`CustomerService::create`], `providers.getSchema` →
//! [`ProviderService::get_schema`], …) and adds what that SDK lacks: a default request timeout,
//! retries with backoff that honour `Retry-After` and reuse one `Idempotency-Key` per POST,
//! percent-encoded path segments, typed errors with the server's failure reasons, one shared
//! token grant for concurrent callers, and secrets that never reach `Debug` output.
//!
//! Request and response types come from [`acorn_types`] (re-exported as [`types`]), the same
//! crate the Acorn server uses, so the two cannot drift apart.
//!
//! ```no_run
//! # async fn run() -> Result<(), acorn_sdk::OakError> {
//! use acorn_sdk::OakClient;
//! use acorn_sdk::types::CustomerRequest;
//!
//! let client = OakClient::builder()
//!     .custom_url("http://127.0.0.1:8080")
//!     .client_id("my-client-id")
//!     .client_secret("my-client-secret")
//!     .build()?;
//! let created = client
//!     .customers()
//!     .create(&CustomerRequest { email: Some("alice@example.com".into()), ..Default::default() })
//!     .await?;
//! println!("Customer ID: {}", created.data.id);
//! # Ok(()) }
//! ```
//!
//! `examples/` holds one runnable program per method (`cargo run -p acorn-sdk --example
//! create_customer`), reading `ACORN_URL`, `ACORN_CLIENT_ID` and `ACORN_CLIENT_SECRET`.
//!
//! Errors are [`OakError`]s; an API error carries the status, the parsed error envelope and the
//! response headers:
//!
//! ```no_run
//! # async fn run(client: acorn_sdk::OakClient) {
//! use acorn_sdk::OakError;
//!
//! match client.customers().get("cus_missing").await {
//!     Ok(found) => println!("{}", found.data.email),
//!     Err(e @ OakError::Api { .. }) => {
//!         println!("{:?} {:?}: {:?}", e.status(), e.error_code(), e.msg());
//!         for reason in e.failure_reasons() {
//!             println!("  {:?} {:?}: {}", reason.code, reason.fields, reason.message);
//!         }
//!     }
//!     Err(other) => println!("{other}"),
//! }
//! # }
//! ```

#![warn(missing_docs)]

mod auth;
mod client;
mod customers;
mod error;
mod events;
mod path;
mod providers;
pub mod retry;
mod transport;
mod upload;
pub mod webhook;
mod webhooks;

pub use acorn_types as types;
pub use acorn_types::ApiResponse;
pub use client::{AccessToken, Environment, OakClient, OakClientBuilder, DEFAULT_TIMEOUT};
pub use customers::{BatchOutcome, CustomerService};
pub use error::OakError;
pub use events::EventService;
pub use providers::ProviderService;
pub use retry::{RetryDecision, RetryOptions};
pub use secrecy::{ExposeSecret, SecretString};
pub use upload::FileUpload;
pub use webhook::{parse_webhook, verify_webhook_signature, SignatureError};
pub use webhooks::WebhookService;

//! The Stripe provider: customers (`POST /v1/customers`), connected accounts (`POST
//! /v1/accounts` and an onboarding link), profile pushes, balances (`GET /v1/balance`), account
//! re-reads for reconciliation, and Stripe's own webhooks — over a small typed client
//! ([`client`]) rather than `async-stripe` (see docs/operations.md, "Connecting Stripe").

mod adapter;
pub mod client;
pub mod mapping;
pub mod webhook;

pub use adapter::StripeAdapter;

pub use crate::base::config::StripeConfig;

//! The HTTP layer: parse a request into a type, call one service, render the answer in the
//! contract's envelope. Cross-cutting concerns (authentication, rate limits, idempotency,
//! request ids, metrics, the connection edge) are layers on the router that hand what they
//! learned to handlers through request extensions.

pub mod auth;
pub mod dashboard;
pub mod edge;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod livemode;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod ratelimit;
pub mod routes;
pub mod state;
pub mod upload;

//! SDK behaviour against a scripted local HTTP fake: token sharing and refresh, retries,
//! idempotency keys, timeouts, error surfacing, and the wire shape of every method.
//!
//! End-to-end tests against a real spawned Acorn server live in their own test binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fake;
mod resilience;
mod wire;

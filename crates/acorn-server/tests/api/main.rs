#![allow(clippy::unwrap_used, clippy::expect_used)]

//! Black-box API tests: every test runs against a real server, once on SQLite and once on
//! PostgreSQL, each with a fresh database.

mod fake_stripe;
mod helpers;
mod pg;

mod at_rest;
mod auth;
mod customers_batch;
mod customers_create;
mod customers_list;
mod customers_update;
mod dashboard;
mod durability;
mod edge;
mod email_keys;
mod erasure;
mod errors;
mod files;
mod idempotency;
mod key_rotation;
mod list_counts;
mod migrate_upgrade;
mod modes;
mod openapi;
mod redis_limits;
mod registration_counts;
mod registration_plans;
mod registrations;
mod startup;
mod store_plans;
mod stripe;
mod sync_balances;
mod webhooks;

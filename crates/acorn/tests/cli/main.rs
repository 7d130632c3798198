//! The `acorn` client commands as a user runs them, against a real `acorn serve` started on a
//! free port with a fresh SQLite database per test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod bulk;
mod config;
mod config_docs;
mod customers;
mod events;
mod helpers;
mod keys;
mod registrations;
mod webhooks;

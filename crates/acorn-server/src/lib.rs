//! The Acorn server: the Oak Network customers API over SQLite or PostgreSQL.
//!
//! [`Application::build`] opens the store and binds the port; [`Application::run_until`] serves.

pub mod auth;
pub mod config;
pub mod crypto;
pub mod dashboard;
pub mod edge;
pub mod error;
pub mod extract;
pub mod files;
pub mod idempotency;
pub mod jobs;
pub mod keyring;
pub mod keys;
pub mod limits;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod providers;
pub mod ratelimit;
pub mod routes;
pub mod services;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod webhooks;

pub use config::{Config, LogFormat};
pub use startup::{shutdown_signal, Application};

//! The Acorn server: the Oak Network customers API over SQLite or PostgreSQL.
//!
//! [`Application::build`] opens the store and binds the port; [`Application::run_until`] serves.

pub mod adapters;
pub mod base;
pub mod http;
pub mod services;
pub mod startup;
pub mod store;
pub mod workers;

pub use base::config::{Config, LogFormat};
pub use startup::{shutdown_signal, Application};

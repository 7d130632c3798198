//! The Acorn server: the Oak Network customers API over SQLite or PostgreSQL.
//!
//! [`Application::build`] opens the store and binds the port; [`Application::run_until`] serves.

pub(crate) mod adapters;
pub mod admin;
pub(crate) mod base;
pub(crate) mod http;
pub(crate) mod services;
pub(crate) mod startup;
pub(crate) mod store;
#[doc(hidden)]
pub mod testing;
pub(crate) mod workers;

pub use base::config::{
    default_database_url, Config, LogFormat, Modes, SqliteSynchronous, StripeConfig,
    DEFAULT_STRIPE_API_BASE,
};
pub use base::telemetry::init as init_logging;
pub use startup::{shutdown_signal, Application, ShutdownSignals};

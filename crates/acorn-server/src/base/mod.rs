//! The base every layer stands on: configuration, cryptography and the key ring, size limits,
//! logging. It imports nothing of the server's other folders.

pub mod config;
pub mod crypto;
pub mod keyring;
pub mod limits;
pub mod metrics;
pub mod net;
pub mod telemetry;

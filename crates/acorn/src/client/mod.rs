//! The client commands (`acorn customers`, `acorn registrations`, `acorn events`): every API
//! operation from the terminal, spoken through `acorn-sdk`.
//!
//! Output is an aligned table for people, or with `--json` exactly the API's `data`. Errors go
//! to stderr with the API's `msg` and each failure reason; the exit code is 1 (2 for usage
//! errors, found by clap before anything is sent).

pub mod config;
pub mod customers;
pub mod errors;
pub mod events;
mod export;
mod fields;
mod import;
mod kyc;
mod output;
mod progress;
pub mod registrations;
mod report;
mod rows;

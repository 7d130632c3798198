//! Every `acorn` command: `serve` and `merchants` run the server and manage its database; the
//! client commands (`acorn customers`, `acorn registrations`, `acorn events`, `acorn webhooks`) call every API
//! operation from the terminal, spoken through `acorn-sdk`.
//!
//! Client output is an aligned table for people, or with `--json` exactly the API's `data`.
//! Errors go to stderr with the API's `msg` and each failure reason; the exit code is 1 (2 for
//! usage errors: those clap finds before anything is sent, and [`errors::UsageError`]).

pub mod config;
pub mod customers;
pub mod errors;
pub mod events;
mod export;
mod fields;
mod import;
pub mod keys;
mod kyc;
mod listen;
pub mod merchants;
mod output;
mod progress;
pub mod registrations;
mod report;
mod rows;
pub mod serve;
mod storage;
pub mod webhooks;

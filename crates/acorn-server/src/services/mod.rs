//! The rules and the orchestration, one module per concept. A handler parses the request and
//! calls one function here; that function checks the domain rules, calls the provider's
//! adapter when the change needs one, and writes the change, its events, its jobs and the
//! request's idempotent answer in one transaction through the store's queries.

pub mod balances;
pub mod batch;
pub mod context;
pub mod customers;
pub mod error;
pub mod events;
pub mod files;
pub mod keys;
pub mod modes;
pub mod provider_state;
pub mod registrations;
pub mod status;
pub mod sync;
pub mod webhooks;

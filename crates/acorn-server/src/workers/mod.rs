//! Durable background work: the job worker (rows in `jobs`, claimed under a lease) and webhook
//! delivery. Workers call services as handlers do.

pub mod jobs;
pub mod webhooks;

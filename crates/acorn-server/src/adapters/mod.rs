//! The world outside the database: one adapter per payment provider (the sandbox is one of
//! them) and the file store with its download links.

pub mod files;
pub mod providers;

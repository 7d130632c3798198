//! What the `acorn` command line's admin commands use: merchants (create, list, delete), the
//! storage a server would open, and the master key (status, rotation). Each goes through the
//! same code the server runs; nothing here is reachable over HTTP.

pub use crate::base::crypto::MasterKey;
pub use crate::base::keyring::{KeySource, Keyring};
pub use crate::http::auth::{create_merchant, AuthKeys, Credentials};
pub use crate::services::keys::{rotate, status as key_status, KeyStatus, Rotation};
pub use crate::store::{MerchantSummary, SetModeError, Store, StoreError};
pub use acorn_types::Mode;

//! The OAuth 2.0 client-credentials token grant (contract §2).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Body of `POST /api/v1/merchant/token/grant`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The merchant's client id.
    pub client_id: String,
    /// The merchant's client secret.
    pub client_secret: String,
    /// Always `client_credentials`.
    pub grant_type: String,
}

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRequest")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

/// The token grant's answer (the only response without the envelope).
#[derive(Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    /// A signed JWT.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Lifetime in seconds.
    pub expires_in: u64,
    /// Whether the token's merchant is live (an Acorn addition, contract §13; absent from
    /// servers that predate modes, read as `false`).
    #[serde(default)]
    pub livemode: bool,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .field("livemode", &self.livemode)
            .finish()
    }
}

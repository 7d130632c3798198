//! How Acorn reaches Stripe (`ACORN_STRIPE_*`): the key, the API base, the webhook secrets and
//! the call budget. The connector itself is `adapters::providers::stripe`.

use std::fmt;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// Stripe's API.
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";

/// How Acorn reaches Stripe (`ACORN_STRIPE_*`).
#[derive(Clone)]
pub struct StripeConfig {
    /// `sk_test_…`, `sk_live_…` or a restricted `rk_…` key.
    pub secret_key: SecretString,
    /// Stripe's API, or a fake in tests.
    pub api_base: String,
    /// The webhook endpoints' signing secrets (`whsec_…`, comma-separated when Stripe sends to
    /// the URL from two endpoints, e.g. one for the platform and one for connected accounts);
    /// webhooks are refused without one.
    pub webhook_secret: Option<SecretString>,
    /// The longest one call to Stripe may take.
    pub timeout: Duration,
    /// How many times one call is tried again after a retryable failure.
    pub max_network_retries: u32,
}

impl fmt::Debug for StripeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeConfig")
            .field("secret_key", &self.key_kind())
            .field("api_base", &self.api_base)
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("timeout", &self.timeout)
            .field("max_network_retries", &self.max_network_retries)
            .finish()
    }
}

impl StripeConfig {
    /// The default time one call may take.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
    /// The default number of retries of one call.
    pub const DEFAULT_MAX_NETWORK_RETRIES: u32 = 2;

    /// A configuration for `secret_key` against Stripe's API, checked for its shape (the error
    /// never quotes the key).
    pub fn new(secret_key: SecretString) -> anyhow::Result<Self> {
        let key = secret_key.expose_secret();
        let known = ["sk_test_", "sk_live_", "rk_test_", "rk_live_"];
        anyhow::ensure!(
            known.iter().any(|p| key.starts_with(p)) && key.len() > 8,
            "the Stripe secret key must start with sk_test_, sk_live_ or rk_"
        );
        Ok(StripeConfig {
            secret_key,
            api_base: DEFAULT_API_BASE.to_owned(),
            webhook_secret: None,
            timeout: Self::DEFAULT_TIMEOUT,
            max_network_retries: Self::DEFAULT_MAX_NETWORK_RETRIES,
        })
    }

    /// Sets the webhook signing secrets (comma-separated), each checked for its `whsec_` shape.
    pub fn with_webhook_secret(mut self, secret: SecretString) -> anyhow::Result<Self> {
        anyhow::ensure!(
            secret
                .expose_secret()
                .split(',')
                .all(|s| s.trim().starts_with("whsec_")),
            "each Stripe webhook secret must start with whsec_"
        );
        self.webhook_secret = Some(secret);
        Ok(self)
    }

    /// `test` or `live` (what logs and banners may say about the key).
    pub fn key_kind(&self) -> &'static str {
        if self.secret_key.expose_secret().contains("_live_") {
            "live"
        } else {
            "test"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked_and_never_shown() {
        let key = "sk_test_51abcdefSECRET";
        let c = StripeConfig::new(SecretString::from(key)).expect("config");
        let c = c
            .with_webhook_secret(SecretString::from("whsec_hidden"))
            .expect("secret");
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("SECRET") && !shown.contains("hidden"),
            "{shown}"
        );
        assert_eq!(c.key_kind(), "test");
        let err = StripeConfig::new(SecretString::from("pk_test_nope")).expect_err("refused");
        assert!(!err.to_string().contains("nope"));
        assert!(StripeConfig::new(SecretString::from("rk_live_abcdef")).is_ok());
        let c = StripeConfig::new(SecretString::from(key)).expect("config");
        assert!(c.with_webhook_secret(SecretString::from("x")).is_err());
    }
}

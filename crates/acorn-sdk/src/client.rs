//! The client, its builder, and the token operations.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use crate::auth::TokenCache;
use crate::customers::CustomerService;
use crate::error::OakError;
use crate::providers::ProviderService;
use crate::retry::RetryOptions;
use crate::transport::Inner;

/// Default time allowed for one HTTP request (each attempt, including reading the body).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Which Oak deployment to talk to when no [`custom_url`](OakClientBuilder::custom_url) is
/// given. The URLs are those of the official TypeScript SDK; to talk to an Acorn server, use
/// `custom_url`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Environment {
    /// Oak's test deployment (the default).
    #[default]
    Sandbox,
    /// Oak's live deployment.
    Production,
}

impl Environment {
    /// The base URL of this environment.
    pub const fn base_url(self) -> &'static str {
        match self {
            Environment::Sandbox => "https://api-stage.usecrowdpay.xyz",
            Environment::Production => "https://app.usecrowdpay.xyz",
        }
    }
}

/// A client of the customers API. Cheap to clone (all clones share one connection pool and one
/// token cache); create it once and share it.
///
/// ```no_run
/// # async fn run() -> Result<(), acorn_sdk::OakError> {
/// use std::time::Duration;
/// use acorn_sdk::{OakClient, RetryOptions};
///
/// let client = OakClient::builder()
///     .custom_url("http://127.0.0.1:8080")
///     .client_id(std::env::var("ACORN_CLIENT_ID").unwrap_or_default())
///     .client_secret(std::env::var("ACORN_CLIENT_SECRET").unwrap_or_default())
///     .retry(RetryOptions { max_retries: 2, ..Default::default() })
///     .timeout(Duration::from_secs(30))
///     .build()?;
/// let customers = client.customers();
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct OakClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for OakClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OakClient")
            .field("base_url", &self.inner.base_url)
            .field("client_id", &self.inner.client_id)
            .field("retry", &self.inner.retry)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

/// A token returned by [`OakClient::grant_token`]. `Debug` never shows the token.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// The bearer token.
    pub access_token: SecretString,
    /// Always `Bearer`.
    pub token_type: String,
    /// Its lifetime from the moment it was granted.
    pub expires_in: Duration,
}

impl OakClient {
    /// Starts configuring a client.
    pub fn builder() -> OakClientBuilder {
        OakClientBuilder::default()
    }

    /// The customers service.
    pub fn customers(&self) -> CustomerService {
        CustomerService::new(self.inner.clone())
    }

    /// The provider registration service.
    pub fn providers(&self) -> ProviderService {
        ProviderService::new(self.inner.clone())
    }

    /// The event log service.
    pub fn events(&self) -> crate::EventService {
        crate::EventService::new(self.inner.clone())
    }

    /// The webhook endpoints and notifications service.
    pub fn webhooks(&self) -> crate::WebhookService {
        crate::WebhookService::new(self.inner.clone())
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// A valid access token: the cached one, or a new grant when none is cached or it expires
    /// within 60 seconds. Concurrent callers share one grant.
    ///
    /// ```no_run
    /// # async fn run(client: acorn_sdk::OakClient) -> Result<(), acorn_sdk::OakError> {
    /// use secrecy::ExposeSecret;
    /// let token = client.get_access_token().await?;
    /// assert!(!token.expose_secret().is_empty());
    /// # Ok(()) }
    /// ```
    pub async fn get_access_token(&self) -> Result<SecretString, OakError> {
        Ok(self.inner.token().await?.secret)
    }

    /// Asks the server for a new token now (`POST /api/v1/merchant/token/grant`), whatever is
    /// cached, and caches it for later calls.
    ///
    /// ```no_run
    /// # async fn run(client: acorn_sdk::OakClient) -> Result<(), acorn_sdk::OakError> {
    /// let token = client.grant_token().await?;
    /// println!("token valid for {:?}", token.expires_in);
    /// # Ok(()) }
    /// ```
    pub async fn grant_token(&self) -> Result<AccessToken, OakError> {
        let (token, token_type, expires_in) =
            self.inner.tokens.force(|| self.inner.grant()).await?;
        Ok(AccessToken {
            access_token: token.secret,
            token_type,
            expires_in,
        })
    }
}

/// Configures an [`OakClient`]; see [`OakClient::builder`].
#[derive(Default)]
pub struct OakClientBuilder {
    environment: Environment,
    custom_url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    retry: Option<RetryOptions>,
    timeout: Option<Duration>,
    http: Option<reqwest::Client>,
}

impl fmt::Debug for OakClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OakClientBuilder")
            .field("environment", &self.environment)
            .field("custom_url", &self.custom_url)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl OakClientBuilder {
    /// Which Oak deployment to use (default: sandbox). Ignored when a custom URL is set.
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = environment;
        self
    }

    /// The server's base URL, e.g. `http://127.0.0.1:8080` for a local Acorn; overrides the
    /// environment. May carry a path prefix.
    pub fn custom_url(mut self, url: impl Into<String>) -> Self {
        self.custom_url = Some(url.into());
        self
    }

    /// The merchant's client id (required).
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// The merchant's client secret (required). Kept in a [`SecretString`]: it never appears in
    /// `Debug` output.
    pub fn client_secret(mut self, client_secret: impl Into<String>) -> Self {
        self.client_secret = Some(SecretString::from(client_secret.into()));
        self
    }

    /// Retry policy (default: [`RetryOptions::default`], 2 retries).
    pub fn retry(mut self, retry: RetryOptions) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Time allowed for each HTTP request (default [`DEFAULT_TIMEOUT`], 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Uses this `reqwest` client (proxies, custom TLS roots, …). Its own timeout settings
    /// then apply alongside [`timeout`](Self::timeout).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Checks the configuration and creates the client. No request is made.
    pub fn build(self) -> Result<OakClient, OakError> {
        let client_id = self
            .client_id
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| OakError::Config("client_id is required".into()))?;
        let client_secret = self
            .client_secret
            .filter(|s| !secrecy::ExposeSecret::expose_secret(s).is_empty())
            .ok_or_else(|| OakError::Config("client_secret is required".into()))?;
        let raw = self
            .custom_url
            .unwrap_or_else(|| self.environment.base_url().to_owned());
        let base_url = normalise_base_url(&raw)?;
        let timeout = self.timeout.unwrap_or(DEFAULT_TIMEOUT);
        if timeout.is_zero() {
            return Err(OakError::Config("timeout must be greater than zero".into()));
        }
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .user_agent(concat!("acorn-sdk/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| OakError::Config(format!("cannot create HTTP client: {e}")))?,
        };
        Ok(OakClient {
            inner: Arc::new(Inner {
                http,
                base_url,
                client_id,
                client_secret,
                retry: self.retry.unwrap_or_default(),
                timeout,
                tokens: TokenCache::default(),
            }),
        })
    }
}

/// `http(s)://host[:port][/prefix]`, without a trailing slash, query or fragment.
fn normalise_base_url(raw: &str) -> Result<String, OakError> {
    let url = url::Url::parse(raw.trim())
        .map_err(|e| OakError::Config(format!("invalid base URL {raw:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(OakError::Config(format!(
            "base URL {raw:?} must be an http(s) URL with a host"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(OakError::Config(format!(
            "base URL {raw:?} must not carry credentials, a query or a fragment"
        )));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn builder() -> OakClientBuilder {
        OakClient::builder()
            .client_id("id")
            .client_secret("sekrit-value")
    }

    #[test]
    fn base_url_resolution() {
        assert_eq!(
            builder().build().unwrap().base_url(),
            Environment::Sandbox.base_url()
        );
        assert_eq!(
            builder()
                .environment(Environment::Production)
                .build()
                .unwrap()
                .base_url(),
            Environment::Production.base_url()
        );
        let c = builder()
            .environment(Environment::Production)
            .custom_url("http://127.0.0.1:8080/")
            .build()
            .unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:8080");
        let c = builder().custom_url("http://h:1/oak/").build().unwrap();
        assert_eq!(c.base_url(), "http://h:1/oak");
    }

    #[test]
    fn bad_configuration_is_refused() {
        for b in [
            OakClient::builder().client_secret("s"),
            OakClient::builder().client_id("id"),
            OakClient::builder().client_id(" ").client_secret("s"),
            builder().custom_url("not a url"),
            builder().custom_url("ftp://h"),
            builder().custom_url("http://h/?x=1"),
            builder().custom_url("http://user:pw@h/"),
            builder().timeout(Duration::ZERO),
        ] {
            assert!(matches!(b.build(), Err(OakError::Config(_))));
        }
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let b = builder();
        assert!(!format!("{b:?}").contains("sekrit"));
        let c = b.build().unwrap();
        assert!(!format!("{c:?}").contains("sekrit"));
        let t = AccessToken {
            access_token: SecretString::from("tok-very-secret".to_owned()),
            token_type: "Bearer".into(),
            expires_in: Duration::from_secs(1),
        };
        assert!(!format!("{t:?}").contains("very-secret"));
    }
}

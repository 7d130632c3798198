//! One webhook request: the signed body, the address guard, the HTTP call.

use crate::base::net::is_private;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use sha2::Sha256;

/// Longest time a delivery may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Most response bytes read.
pub const MAX_RESPONSE: usize = 64 * 1024;

/// `t=<t>,v1=hex(HMAC-SHA256(secret, "<t>.<body>"))`: the `Oak-Signature` header value.
pub fn signature(secret: &str, timestamp: u64, body: &[u8]) -> String {
    let t = timestamp.to_string();
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The reason a delivery to `ip` is refused.
fn refusal(host: &str, ip: IpAddr) -> String {
    format!(
        "refused: {host} resolves to the non-public address {ip}; deliveries to loopback, \
         link-local and private addresses need --webhook-allow-private"
    )
}

/// DNS resolution that refuses non-public addresses (checked on what the request will
/// actually connect to, so a name cannot be re-pointed between check and use).
struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some(bad) = addrs.iter().find(|a| is_private(a.ip())) {
                return Err(refusal(&host, bad.ip()).into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The HTTP client of deliveries: 10 s timeout, no redirects, no proxy, and (unless
/// `allow_private`) the address guard.
pub fn client(allow_private: bool) -> anyhow::Result<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("Acorn-Webhooks/", env!("CARGO_PKG_VERSION")));
    if !allow_private {
        b = b.dns_resolver(std::sync::Arc::new(GuardedResolver));
    }
    Ok(b.build()?)
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The response status, if one came.
    pub status_code: Option<u16>,
    /// Why it failed (None for a 2xx).
    pub error: Option<String>,
    /// How long it took.
    pub duration: Duration,
}

impl Outcome {
    /// A 2xx.
    pub fn acknowledged(&self) -> bool {
        self.status_code.is_some_and(|s| (200..300).contains(&s)) && self.error.is_none()
    }
}

/// The full cause chain of an error, one message.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// POSTs `body` to `url`, signed with `secret`.
pub async fn post(
    client: &reqwest::Client,
    allow_private: bool,
    url: &str,
    secret: &str,
    body: String,
) -> Outcome {
    let started = Instant::now();
    let failed = |error: String| Outcome {
        status_code: None,
        error: Some(error),
        duration: started.elapsed(),
    };
    let parsed = match url::Url::parse(url) {
        Ok(u) => u,
        Err(e) => return failed(format!("invalid URL: {e}")),
    };
    // IP literals are not resolved, so the guard checks them here.
    if !allow_private {
        let literal = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        if let Some(ip) = literal.filter(|ip| is_private(*ip)) {
            return failed(refusal(&ip.to_string(), ip));
        }
    }
    let t = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
    let sig = signature(secret, t, body.as_bytes());
    let request = client
        .post(parsed)
        .header("content-type", "application/json")
        .header("oak-signature", &sig)
        .header("crowdsplit-signature", &sig)
        .header("oak-timestamp", t.to_string())
        .body(body);
    let mut response = match request.send().await {
        Ok(r) => r,
        Err(e) => return failed(chain(&e)),
    };
    let status = response.status().as_u16();
    let mut read = Vec::new();
    while read.len() < MAX_RESPONSE {
        match response.chunk().await {
            Ok(Some(bytes)) => read.extend_from_slice(&bytes),
            Ok(None) | Err(_) => break,
        }
    }
    read.truncate(MAX_RESPONSE);
    let error = (!(200..300).contains(&status)).then(|| {
        let text: String = String::from_utf8_lossy(&read).chars().take(300).collect();
        format!("HTTP {status}: {}", text.trim())
    });
    Outcome {
        status_code: Some(status),
        error,
        duration: started.elapsed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700::1111"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }
}

//! Stripe's webhook signature: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=…]`, where each
//! `v1` is HMAC-SHA256 of `"<t>.<raw body>"` keyed with the endpoint's `whsec_…` secret. A
//! signature is accepted within [`TOLERANCE_SECS`] of the current time; comparison is constant
//! time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far a signature's timestamp may be from now.
pub const TOLERANCE_SECS: i64 = 300;

/// Why a signature was refused (no secret material in the text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Stripe-Signature header is missing")]
    Missing,
    #[error("the Stripe-Signature header has no timestamp or no v1 signature")]
    Malformed,
    #[error("the Stripe-Signature timestamp is outside the tolerance")]
    Stale,
    #[error("no v1 signature matches the payload")]
    Mismatch,
}

fn mac(secret: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    // An HMAC key may have any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header value Stripe would send for `body` at `timestamp` (tests and the fake use it).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let t = timestamp.to_string();
    let sig = hex::encode(mac(secret, &t, body).finalize().into_bytes());
    format!("t={t},v1={sig}")
}

/// Checks `header` against `body` at `now` (unix seconds).
pub fn verify(
    secret: &str,
    header: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => timestamp = Some(v),
            Some(("v1", v)) => signatures.push(v),
            _ => {}
        }
    }
    let t = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let at: i64 = t.parse().map_err(|_| SignatureError::Malformed)?;
    if (now - at).abs() > TOLERANCE_SECS {
        return Err(SignatureError::Stale);
    }
    let expected = mac(secret, t, body);
    let matches = signatures
        .iter()
        .any(|s| hex::decode(s).is_ok_and(|bytes| expected.clone().verify_slice(&bytes).is_ok()));
    if matches {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";

    #[test]
    fn a_signed_body_verifies_and_anything_else_does_not() {
        let body = br#"{"id":"evt_1","type":"account.updated"}"#;
        let now = 1_700_000_000;
        let header = sign(SECRET, now, body);
        assert_eq!(verify(SECRET, Some(&header), body, now + 10), Ok(()));
        // A second, rotated signature alongside a wrong one still verifies.
        let both = format!("{header},v1=00ff,v0=abc");
        assert_eq!(verify(SECRET, Some(&both), body, now), Ok(()));
        assert_eq!(
            verify(SECRET, Some(&header), b"{}", now),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("whsec_other", Some(&header), body, now),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(SECRET, Some(&header), body, now + 301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(SECRET, None, body, now),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify(SECRET, Some("v1=abcd"), body, now),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(SECRET, Some("t=1,v1=zz"), body, 1),
            Err(SignatureError::Mismatch)
        );
    }
}

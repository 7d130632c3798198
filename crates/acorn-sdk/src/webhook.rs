//! Verifying webhook deliveries (contract §9): header `Oak-Signature: t=<unix seconds>,v1=<hex>`
//! where `v1 = hex(HMAC-SHA256(secret, t + "." + raw_body))`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a webhook signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The header has no `t=` element, or it is not an integer.
    #[error("signature header has no valid timestamp (t=)")]
    MissingTimestamp,
    /// The header has no `v1=` element.
    #[error("signature header has no v1 signature")]
    MissingSignature,
    /// No `v1` signature matches the body and secret.
    #[error("signature does not match")]
    Mismatch,
    /// The timestamp is further from now than the tolerance allows (a replay, or a clock
    /// problem).
    #[error("timestamp is outside the tolerance window")]
    OutsideTolerance,
    /// The signature matched but the body is not a webhook envelope
    /// (`{id, api_version, event, category, data}`).
    #[error("webhook body is not a valid event: {0}")]
    InvalidPayload(String),
}

/// Verifies a delivery (as [`verify_webhook_signature`]) and decodes its body.
///
/// ```
/// use std::time::Duration;
/// use acorn_sdk::webhook::{parse_webhook, sign_webhook_payload};
///
/// let body = br#"{"id":"ntf_1","api_version":"v1","event":"customer.created","category":"provider_registration_lifecycle","data":{"id":"cus_1"}}"#;
/// let now = std::time::SystemTime::now()
///     .duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
/// let header = sign_webhook_payload(body, "whsec_test", now);
/// let event = parse_webhook(body, &header, "whsec_test", Some(Duration::from_secs(300))).unwrap();
/// assert_eq!(event.event, "customer.created");
/// assert_eq!(event.data["id"], "cus_1");
/// ```
pub fn parse_webhook(
    raw_body: &[u8],
    signature_header: &str,
    secret: &str,
    tolerance: Option<Duration>,
) -> Result<acorn_types::WebhookEvent, SignatureError> {
    verify_webhook_signature(raw_body, signature_header, secret, tolerance)?;
    serde_json::from_slice(raw_body).map_err(|e| SignatureError::InvalidPayload(e.to_string()))
}

/// Checks that `raw_body` was signed with `secret` as `header_value` (the `Oak-Signature` or
/// `CrowdSplit-Signature` header) says.
///
/// - Elements are `key=value` pairs separated by commas, in any order; unknown keys are
///   ignored; several `v1` values are allowed (any one matching suffices, e.g. during secret
///   rotation).
/// - The comparison is constant-time.
/// - With `tolerance`, a timestamp more than that far from the current time (either way) is
///   refused; `None` skips that check.
///
/// Pass the body exactly as received: re-serialised JSON will not match.
///
/// ```
/// use std::time::Duration;
/// use acorn_sdk::webhook::{sign_webhook_payload, verify_webhook_signature};
///
/// let body = br#"{"event":"customer.created"}"#;
/// let now = std::time::SystemTime::now()
///     .duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
/// let header = sign_webhook_payload(body, "whsec_test", now);
/// assert!(verify_webhook_signature(body, &header, "whsec_test", Some(Duration::from_secs(300))).is_ok());
/// assert!(verify_webhook_signature(b"tampered", &header, "whsec_test", None).is_err());
/// ```
pub fn verify_webhook_signature(
    raw_body: &[u8],
    header_value: &str,
    secret: &str,
    tolerance: Option<Duration>,
) -> Result<(), SignatureError> {
    verify_webhook_signature_at(raw_body, header_value, secret, tolerance, SystemTime::now())
}

/// [`verify_webhook_signature`] with an explicit current time (for tests and replays).
pub fn verify_webhook_signature_at(
    raw_body: &[u8],
    header_value: &str,
    secret: &str,
    tolerance: Option<Duration>,
    now: SystemTime,
) -> Result<(), SignatureError> {
    let mut timestamp: Option<&str> = None;
    let mut signatures: Vec<&str> = Vec::new();
    for element in header_value.split(',') {
        let Some((key, value)) = element.split_once('=') else {
            continue;
        };
        match key.trim() {
            "t" => timestamp = Some(value.trim()),
            "v1" => signatures.push(value.trim()),
            _ => {}
        }
    }
    let t_str = timestamp.ok_or(SignatureError::MissingTimestamp)?;
    let t: u64 = t_str
        .parse()
        .map_err(|_| SignatureError::MissingTimestamp)?;
    if signatures.is_empty() {
        return Err(SignatureError::MissingSignature);
    }
    let mac = signed_mac(raw_body, secret, t_str);
    let matched = signatures.iter().any(|sig| match hex::decode(sig) {
        // `verify_slice` compares in constant time.
        Ok(bytes) => mac.clone().verify_slice(&bytes).is_ok(),
        Err(_) => false,
    });
    if !matched {
        return Err(SignatureError::Mismatch);
    }
    // Only an authentic timestamp is worth judging for age.
    if let Some(tolerance) = tolerance {
        let now_secs = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        if now_secs.abs_diff(t) > tolerance.as_secs() {
            return Err(SignatureError::OutsideTolerance);
        }
    }
    Ok(())
}

/// The header value a sender would put on `raw_body` at `timestamp` (unix seconds):
/// `t=<timestamp>,v1=<hex>`. Useful to test webhook handlers.
pub fn sign_webhook_payload(raw_body: &[u8], secret: &str, timestamp: u64) -> String {
    let t = timestamp.to_string();
    let sig = hex::encode(signed_mac(raw_body, secret, &t).finalize().into_bytes());
    format!("t={t},v1={sig}")
}

/// HMAC-SHA256(secret, t + "." + body), over the timestamp exactly as it appears in the header.
fn signed_mac(raw_body: &[u8], secret: &str, t: &str) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(raw_body);
    mac
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"id":"evt_1","event":"customer.created"}"#;
    const SECRET: &str = "whsec_abc";

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn expected_hex(t: u64) -> String {
        // Independent computation of the contract's formula.
        let mut mac = HmacSha256::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(BODY);
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn accepts_a_valid_signature_in_any_order_and_spacing() {
        let t = 1_700_000_000;
        let v1 = expected_hex(t);
        for header in [
            format!("t={t},v1={v1}"),
            format!("v1={v1},t={t}"),
            format!(" t={t} , v1={v1} "),
            format!("t={t},v0=zz,v1=00ff,v1={v1},x=y"),
            format!("t={t},v1={}", v1.to_uppercase()),
        ] {
            assert_eq!(
                verify_webhook_signature_at(
                    BODY,
                    &header,
                    SECRET,
                    Some(Duration::from_secs(300)),
                    at(t + 10)
                ),
                Ok(()),
                "{header}"
            );
        }
        assert_eq!(
            sign_webhook_payload(BODY, SECRET, t),
            format!("t={t},v1={v1}")
        );
    }

    #[test]
    fn refuses_what_does_not_match() {
        let t = 1_700_000_000;
        let good = sign_webhook_payload(BODY, SECRET, t);
        let check = |body: &[u8], header: &str, secret: &str| {
            verify_webhook_signature_at(body, header, secret, None, at(t))
        };
        assert_eq!(check(b"{}", &good, SECRET), Err(SignatureError::Mismatch));
        assert_eq!(
            check(BODY, &good, "whsec_other"),
            Err(SignatureError::Mismatch)
        );
        // The timestamp is signed: changing it breaks the signature.
        let moved = good.replace(&t.to_string(), &(t + 1).to_string());
        assert_eq!(check(BODY, &moved, SECRET), Err(SignatureError::Mismatch));
        assert_eq!(
            check(BODY, &format!("t={t},v1=nothex"), SECRET),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check(BODY, &format!("t={t}"), SECRET),
            Err(SignatureError::MissingSignature)
        );
        assert_eq!(
            check(BODY, &format!("v1={}", expected_hex(t)), SECRET),
            Err(SignatureError::MissingTimestamp)
        );
        assert_eq!(
            check(BODY, "t=abc,v1=00", SECRET),
            Err(SignatureError::MissingTimestamp)
        );
        assert_eq!(
            check(BODY, "", SECRET),
            Err(SignatureError::MissingTimestamp)
        );
    }

    #[test]
    fn tolerance_window_applies_both_ways() {
        let t = 1_700_000_000;
        let header = sign_webhook_payload(BODY, SECRET, t);
        let tol = Some(Duration::from_secs(300));
        let check = |now| verify_webhook_signature_at(BODY, &header, SECRET, tol, at(now));
        assert_eq!(check(t + 300), Ok(()));
        assert_eq!(check(t - 300), Ok(()));
        assert_eq!(check(t + 301), Err(SignatureError::OutsideTolerance));
        assert_eq!(check(t - 301), Err(SignatureError::OutsideTolerance));
        // Without a tolerance, age does not matter.
        assert_eq!(
            verify_webhook_signature_at(BODY, &header, SECRET, None, at(t + 10_000_000)),
            Ok(())
        );
    }
}

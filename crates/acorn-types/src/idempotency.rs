//! The `Idempotency-Key` rule (contract §8), shared by the server (header and batch items) and
//! the SDK (caller-chosen keys), so the two cannot disagree about what a key is.
//!
//! A key is 1 to 255 printable ASCII characters (`0x20`–`0x7E`, space included). That is the
//! contract's "1–255 chars" restricted to what an HTTP header value can carry as-is, and the
//! character set of the IETF `Idempotency-Key` draft (a structured-field string).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The longest key, in characters (= bytes: keys are ASCII).
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// Whether `s` is a usable `Idempotency-Key`: 1 to 255 printable ASCII characters
/// (`0x20`–`0x7E`, space included).
pub fn is_valid_idempotency_key(s: &str) -> bool {
    (1..=MAX_IDEMPOTENCY_KEY_LEN).contains(&s.len()) && s.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// A string that is not an [`IdempotencyKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an idempotency key must be {}", IdempotencyKey::RULE)]
pub struct InvalidIdempotencyKey;

/// A validated `Idempotency-Key` (see [`is_valid_idempotency_key`]). Serialized as the string.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The rule in words, completing "… must be " in error messages.
    pub const RULE: &'static str = "1 to 255 printable ASCII characters";

    /// Validates `s` as a key (kept exactly as given: no trimming, no case change).
    pub fn parse(s: &str) -> Result<Self, InvalidIdempotencyKey> {
        if is_valid_idempotency_key(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidIdempotencyKey)
        }
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl FromStr for IdempotencyKey {
    type Err = InvalidIdempotencyKey;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for IdempotencyKey {
    type Error = InvalidIdempotencyKey;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        if is_valid_idempotency_key(&s) {
            Ok(Self(s))
        } else {
            Err(InvalidIdempotencyKey)
        }
    }
}

impl AsRef<str> for IdempotencyKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for IdempotencyKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for IdempotencyKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::try_from(s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn printable_ascii_up_to_255_space_included() {
        for ok in [
            "k",
            "abc-123 XYZ",
            "import-42",
            "a b",
            "~!@#$%^&*()",
            " lead",
        ] {
            assert!(is_valid_idempotency_key(ok), "{ok:?}");
            assert_eq!(IdempotencyKey::parse(ok).expect("valid").as_str(), ok);
        }
        assert!(is_valid_idempotency_key(&"k".repeat(255)));
        for bad in ["", "tab\there", "é", "new\nline", "\u{7f}"] {
            assert!(!is_valid_idempotency_key(bad), "{bad:?}");
            assert_eq!(IdempotencyKey::parse(bad), Err(InvalidIdempotencyKey));
        }
        assert!(!is_valid_idempotency_key(&"k".repeat(256)));
    }

    #[test]
    fn serde_is_the_string_and_validates() {
        let k = IdempotencyKey::parse("import 7").expect("valid");
        assert_eq!(serde_json::to_string(&k).expect("json"), "\"import 7\"");
        let back: IdempotencyKey = serde_json::from_str("\"import 7\"").expect("parse");
        assert_eq!(back, k);
        assert!(serde_json::from_str::<IdempotencyKey>("\"\"").is_err());
        assert_eq!(
            InvalidIdempotencyKey.to_string(),
            "an idempotency key must be 1 to 255 printable ASCII characters"
        );
    }
}

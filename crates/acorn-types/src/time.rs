//! [`Timestamp`]: a point in time as Acorn stores it (microseconds since the Unix epoch, UTC)
//! and writes it on the wire (RFC 3339, UTC, milliseconds, `Z`).

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Microseconds since 1970-01-01T00:00:00Z. Ordered; adding or subtracting a [`Duration`]
/// saturates instead of overflowing. Serialized as [`to_rfc3339`](Self::to_rfc3339).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Timestamp(i64);

/// A string that is not an RFC 3339 time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an RFC 3339 time")]
pub struct InvalidTimestamp(pub String);

fn micros_of(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// The current time (the system clock).
    pub fn now() -> Self {
        Self(Utc::now().timestamp_micros())
    }

    /// From microseconds since the epoch (what the database stores).
    pub const fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    /// Microseconds since the epoch.
    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// The wire form: RFC 3339, UTC, millisecond precision, `Z` (e.g.
    /// `2026-11-28T10:00:00.000Z`). A time outside chrono's range is written as the epoch.
    pub fn to_rfc3339(self) -> String {
        DateTime::from_timestamp_micros(self.0)
            .unwrap_or_default()
            .to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    /// Parses any RFC 3339 time (any offset, any precision down to microseconds).
    pub fn parse(s: &str) -> Result<Self, InvalidTimestamp> {
        DateTime::parse_from_rfc3339(s.trim())
            .map(|t| Self(t.timestamp_micros()))
            .map_err(|_| InvalidTimestamp(s.to_owned()))
    }

    /// `self + d`, saturating at the largest time.
    pub fn saturating_add(self, d: Duration) -> Self {
        Self(self.0.saturating_add(micros_of(d)))
    }

    /// `self - d`, saturating at the smallest time.
    pub fn saturating_sub(self, d: Duration) -> Self {
        Self(self.0.saturating_sub(micros_of(d)))
    }

    /// How long after `earlier` this is; zero if it is not after it.
    pub fn duration_since(self, earlier: Timestamp) -> Duration {
        let micros = self.0.saturating_sub(earlier.0).max(0);
        Duration::from_micros(u64::try_from(micros).unwrap_or(0))
    }
}

impl Add<Duration> for Timestamp {
    type Output = Timestamp;
    fn add(self, d: Duration) -> Timestamp {
        self.saturating_add(d)
    }
}

impl AddAssign<Duration> for Timestamp {
    fn add_assign(&mut self, d: Duration) {
        *self = self.saturating_add(d);
    }
}

impl Sub<Duration> for Timestamp {
    type Output = Timestamp;
    fn sub(self, d: Duration) -> Timestamp {
        self.saturating_sub(d)
    }
}

impl SubAssign<Duration> for Timestamp {
    fn sub_assign(&mut self, d: Duration) {
        *self = self.saturating_sub(d);
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.to_rfc3339())
    }
}

impl FromStr for Timestamp {
    type Err = InvalidTimestamp;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(t: DateTime<Utc>) -> Self {
        Self(t.timestamp_micros())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn wire_format_is_utc_millis_z() {
        let t = Timestamp::from_micros(1_764_324_000_123_456);
        assert_eq!(t.to_rfc3339(), "2025-11-28T10:00:00.123Z");
        assert_eq!(Timestamp::EPOCH.to_rfc3339(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            serde_json::to_value(t).expect("json"),
            serde_json::json!("2025-11-28T10:00:00.123Z")
        );
        // Out of chrono's range: the epoch, as the server's `format_time` does.
        assert_eq!(
            Timestamp::from_micros(i64::MAX).to_rfc3339(),
            "1970-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn parses_rfc3339_back() {
        let t = Timestamp::from_micros(1_764_324_000_123_000);
        assert_eq!(Timestamp::parse(&t.to_rfc3339()), Ok(t));
        assert_eq!(
            Timestamp::parse("2025-11-28T12:00:00.123+02:00"),
            Ok(t),
            "offsets are converted to UTC"
        );
        let back: Timestamp = serde_json::from_str("\"2025-11-28T10:00:00.123Z\"").expect("ok");
        assert_eq!(back, t);
        assert!(Timestamp::parse("yesterday").is_err());
    }

    #[test]
    fn arithmetic_saturates_and_orders() {
        let t = Timestamp::from_micros(1_000_000);
        assert_eq!(
            t + Duration::from_millis(1),
            Timestamp::from_micros(1_001_000)
        );
        assert_eq!(
            t - Duration::from_secs(2),
            Timestamp::from_micros(-1_000_000)
        );
        assert_eq!(
            Timestamp::from_micros(i64::MAX - 1) + Duration::from_secs(1),
            Timestamp::from_micros(i64::MAX)
        );
        assert_eq!(
            Timestamp::from_micros(i64::MIN + 1) - Duration::MAX,
            Timestamp::from_micros(i64::MIN)
        );
        let mut u = t;
        u += Duration::from_secs(1);
        assert!(u > t);
        assert_eq!(u.duration_since(t), Duration::from_secs(1));
        assert_eq!(t.duration_since(u), Duration::ZERO);
        let now = Timestamp::now();
        assert!(now > Timestamp::from_micros(1_764_000_000_000_000));
    }
}

//! When to retry a request, and how long to wait first: one pure function, [`decide`].

use std::time::Duration;

/// Retry settings. Retries are on by default (2 retries); [`RetryOptions::disabled`] turns them
/// off.
///
/// The wait before retry *n* (counting from 0) is `initial_delay × backoff_factor^n`, capped at
/// `max_delay`, with "equal jitter" (a uniformly random point in its upper half), unless the
/// server sent `Retry-After`, which is then waited exactly.
///
/// ```
/// use std::time::Duration;
/// use acorn_sdk::RetryOptions;
///
/// let retry = RetryOptions { max_retries: 4, initial_delay: Duration::from_millis(200), ..Default::default() };
/// assert_eq!(retry.backoff_factor, 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryOptions {
    /// How many times a failed request is retried (0 = never).
    pub max_retries: u32,
    /// Base wait before the first retry.
    pub initial_delay: Duration,
    /// Multiplier applied to the wait on each further retry.
    pub backoff_factor: u32,
    /// Longest wait between two attempts. A `Retry-After` longer than this is not waited for:
    /// the error is returned instead.
    pub max_delay: Duration,
}

impl Default for RetryOptions {
    fn default() -> Self {
        Self {
            max_retries: 2,
            initial_delay: Duration::from_millis(500),
            backoff_factor: 2,
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryOptions {
    /// No retries at all.
    pub fn disabled() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }
}

/// What happened to one attempt, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The server answered with this non-2xx status.
    Status(u16),
    /// The connection could not be made, or broke before the whole response arrived.
    ConnectionError,
    /// No response within the per-request timeout. Not retried: the server may still be working
    /// on it, and repeating slow requests multiplies the caller's wait.
    Timeout,
    /// Any other failure (e.g. an unreadable response). Not retried.
    Other,
}

/// Whether to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Give up and report this attempt's result.
    Stop,
    /// Wait this long, then send the request again.
    RetryAfter(Duration),
}

/// The statuses worth retrying: the request may succeed unchanged later.
pub const RETRYABLE_STATUSES: [u16; 6] = [408, 429, 500, 502, 503, 504];

/// Decides whether to retry after a failed attempt.
///
/// Retried: [`RETRYABLE_STATUSES`], connection errors, and a 409 that carries `Retry-After`
/// (Acorn's answer when the first attempt of the same `Idempotency-Key` is still running).
/// Never retried: other statuses, timeouts, anything else.
///
/// - `retries_done`: how many retries were already made for this request (0 after the first
///   attempt failed).
/// - `outcome`: how the attempt failed.
/// - `retry_after`: the raw `Retry-After` header, if any; integer seconds are honoured (other
///   forms are ignored and the backoff applies).
/// - `jitter`: a number in `[0, 1)` choosing the point in the jitter window; pass a random one
///   (the client does), or a fixed one in tests.
///
/// Pure: same inputs, same answer.
///
/// ```
/// use std::time::Duration;
/// use acorn_sdk::retry::{decide, Outcome, RetryDecision};
/// use acorn_sdk::RetryOptions;
///
/// let opts = RetryOptions::default();
/// assert_eq!(decide(0, Outcome::Status(404), None, &opts, 0.5), RetryDecision::Stop);
/// assert_eq!(
///     decide(0, Outcome::Status(429), Some("3"), &opts, 0.5),
///     RetryDecision::RetryAfter(Duration::from_secs(3))
/// );
/// ```
pub fn decide(
    retries_done: u32,
    outcome: Outcome,
    retry_after: Option<&str>,
    options: &RetryOptions,
    jitter: f64,
) -> RetryDecision {
    if retries_done >= options.max_retries {
        return RetryDecision::Stop;
    }
    let retry_after_secs = retry_after.and_then(|v| v.trim().parse::<u64>().ok());
    let wait_for = |secs: u64| {
        let wait = Duration::from_secs(secs);
        if wait <= options.max_delay {
            RetryDecision::RetryAfter(wait)
        } else {
            RetryDecision::Stop
        }
    };
    match outcome {
        Outcome::Status(s) if RETRYABLE_STATUSES.contains(&s) => match retry_after_secs {
            Some(secs) => wait_for(secs),
            None => RetryDecision::RetryAfter(backoff(retries_done, options, jitter)),
        },
        // A conflict the server says will pass: the first attempt of this request (same
        // Idempotency-Key) is still running, e.g. after a gateway gave up on it. Asking again
        // later gets its stored answer. Any other 409 is final.
        Outcome::Status(409) => match retry_after_secs {
            Some(secs) => wait_for(secs),
            None => RetryDecision::Stop,
        },
        Outcome::ConnectionError => {
            RetryDecision::RetryAfter(backoff(retries_done, options, jitter))
        }
        Outcome::Status(_) | Outcome::Timeout | Outcome::Other => RetryDecision::Stop,
    }
}

/// `initial × factor^n`, capped, then a point in `[cap/2, cap)` chosen by `jitter`.
fn backoff(retries_done: u32, options: &RetryOptions, jitter: f64) -> Duration {
    let factor = options.backoff_factor.max(1);
    let growth = factor.checked_pow(retries_done).unwrap_or(u32::MAX);
    let full = options
        .initial_delay
        .checked_mul(growth)
        .unwrap_or(options.max_delay)
        .min(options.max_delay);
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let half = full / 2;
    half + (full - half).mul_f64(jitter)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn opts() -> RetryOptions {
        RetryOptions {
            max_retries: 3,
            initial_delay: Duration::from_millis(100),
            backoff_factor: 2,
            max_delay: Duration::from_millis(1000),
        }
    }

    fn ms(n: u64) -> RetryDecision {
        RetryDecision::RetryAfter(Duration::from_millis(n))
    }

    #[test]
    fn which_outcomes_are_retried() {
        let o = opts();
        for s in RETRYABLE_STATUSES {
            assert_eq!(decide(0, Outcome::Status(s), None, &o, 1.0), ms(100), "{s}");
        }
        for s in [400, 401, 403, 404, 405, 409, 413, 415, 422, 501, 505] {
            assert_eq!(
                decide(0, Outcome::Status(s), None, &o, 1.0),
                RetryDecision::Stop,
                "{s}"
            );
        }
        assert_eq!(decide(0, Outcome::ConnectionError, None, &o, 1.0), ms(100));
        assert_eq!(
            decide(0, Outcome::Timeout, None, &o, 1.0),
            RetryDecision::Stop
        );
        assert_eq!(
            decide(0, Outcome::Other, None, &o, 1.0),
            RetryDecision::Stop
        );
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let o = opts();
        // jitter 1.0 = the full window, 0.0 = its lower half-point.
        let table = [
            (0, 1.0, 100),
            (1, 1.0, 200),
            (2, 1.0, 400),
            (0, 0.0, 50),
            (2, 0.0, 200),
            (1, 0.5, 150),
        ];
        for (n, j, want) in table {
            assert_eq!(
                decide(n, Outcome::Status(503), None, &o, j),
                ms(want),
                "n={n} j={j}"
            );
        }
        let big = RetryOptions {
            max_retries: 40,
            ..opts()
        };
        assert_eq!(decide(5, Outcome::Status(503), None, &big, 1.0), ms(1000));
        assert_eq!(decide(5, Outcome::Status(503), None, &big, 0.0), ms(500));
        // Overflowing growth still yields the cap.
        assert_eq!(decide(39, Outcome::Status(503), None, &big, 1.0), ms(1000));
        // Out-of-range jitter is clamped.
        assert_eq!(decide(0, Outcome::Status(503), None, &o, 7.0), ms(100));
        assert_eq!(decide(0, Outcome::Status(503), None, &o, f64::NAN), ms(50));
    }

    #[test]
    fn stops_after_max_retries() {
        let o = opts();
        assert!(matches!(
            decide(2, Outcome::Status(503), None, &o, 0.0),
            RetryDecision::RetryAfter(_)
        ));
        assert_eq!(
            decide(3, Outcome::Status(503), None, &o, 0.0),
            RetryDecision::Stop
        );
        assert_eq!(
            decide(3, Outcome::ConnectionError, None, &o, 0.0),
            RetryDecision::Stop
        );
        let off = RetryOptions::disabled();
        assert_eq!(
            decide(0, Outcome::Status(503), None, &off, 0.0),
            RetryDecision::Stop
        );
    }

    #[test]
    fn retry_after_seconds_are_honoured_within_the_cap() {
        let o = RetryOptions {
            max_delay: Duration::from_secs(10),
            ..opts()
        };
        assert_eq!(
            decide(0, Outcome::Status(429), Some("2"), &o, 0.0),
            RetryDecision::RetryAfter(Duration::from_secs(2))
        );
        assert_eq!(
            decide(0, Outcome::Status(503), Some(" 0 "), &o, 0.0),
            RetryDecision::RetryAfter(Duration::ZERO)
        );
        // Longer than we are willing to wait: give the 429 back to the caller.
        assert_eq!(
            decide(0, Outcome::Status(429), Some("11"), &o, 0.0),
            RetryDecision::Stop
        );
        // An HTTP date or garbage falls back to the backoff.
        assert_eq!(
            decide(
                0,
                Outcome::Status(429),
                Some("Wed, 21 Oct 2015 07:28:00 GMT"),
                &o,
                1.0
            ),
            ms(100)
        );
        assert_eq!(
            decide(0, Outcome::Status(429), Some("-1"), &o, 1.0),
            ms(100)
        );
        // A 409 with Retry-After is a duplicate of a request still in flight: wait and ask
        // again (within the cap); without it, the conflict is final.
        assert_eq!(
            decide(1, Outcome::Status(409), Some("1"), &o, 0.0),
            RetryDecision::RetryAfter(Duration::from_secs(1))
        );
        assert_eq!(
            decide(1, Outcome::Status(409), Some("11"), &o, 0.0),
            RetryDecision::Stop
        );
        assert_eq!(
            decide(1, Outcome::Status(409), Some("soon"), &o, 0.0),
            RetryDecision::Stop
        );
        // Retry-After on a status we never retry changes nothing.
        assert_eq!(
            decide(0, Outcome::Status(400), Some("1"), &o, 0.0),
            RetryDecision::Stop
        );
        // Nor does it outlive max_retries.
        assert_eq!(
            decide(3, Outcome::Status(429), Some("1"), &o, 0.0),
            RetryDecision::Stop
        );
    }

    #[test]
    fn zero_factor_or_delay_is_harmless() {
        let o = RetryOptions {
            backoff_factor: 0,
            initial_delay: Duration::ZERO,
            ..opts()
        };
        assert_eq!(decide(2, Outcome::Status(500), None, &o, 1.0), ms(0));
    }
}

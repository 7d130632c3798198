//! The access-token cache: one token per client, refreshed shortly before it expires, with
//! concurrent callers sharing one in-flight grant.
//!
//! The cache holds a `tokio::sync::Mutex` while a grant is in flight, so every caller that
//! arrives meanwhile waits for that grant and then reads its token instead of starting another.

use std::future::Future;
use std::time::Duration;

use secrecy::SecretString;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::error::OakError;

/// How long before expiry a token is replaced.
pub(crate) const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// A token as granted by the server.
pub(crate) struct Granted {
    pub(crate) access_token: SecretString,
    pub(crate) token_type: String,
    pub(crate) expires_in: Duration,
}

/// A token handed to a caller, tagged with which grant it came from (so a 401 can tell whether
/// someone else already replaced it).
#[derive(Clone)]
pub(crate) struct Token {
    pub(crate) secret: SecretString,
    pub(crate) generation: u64,
}

struct Cached {
    token: Token,
    refresh_at: Instant,
}

#[derive(Default)]
struct State {
    current: Option<Cached>,
    generation: u64,
}

/// See the module docs.
#[derive(Default)]
pub(crate) struct TokenCache {
    state: Mutex<State>,
}

impl TokenCache {
    /// The cached token if still fresh, else a new one from `grant`.
    pub(crate) async fn get<F, Fut>(&self, grant: F) -> Result<Token, OakError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Granted, OakError>>,
    {
        let mut state = self.state.lock().await;
        if let Some(cached) = &state.current {
            if Instant::now() < cached.refresh_at {
                return Ok(cached.token.clone());
            }
        }
        let granted = grant().await?;
        Ok(state.store(granted).0)
    }

    /// After a 401 with the token of generation `stale`: a new token, granted only if nobody
    /// replaced the stale one in the meantime.
    pub(crate) async fn replace<F, Fut>(&self, stale: u64, grant: F) -> Result<Token, OakError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Granted, OakError>>,
    {
        let mut state = self.state.lock().await;
        if let Some(cached) = &state.current {
            if cached.token.generation != stale && Instant::now() < cached.refresh_at {
                return Ok(cached.token.clone());
            }
        }
        state.current = None;
        let granted = grant().await?;
        Ok(state.store(granted).0)
    }

    /// A new grant regardless of the cache; the result is cached. Returns the token and the
    /// grant's details.
    pub(crate) async fn force<F, Fut>(
        &self,
        grant: F,
    ) -> Result<(Token, String, Duration), OakError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Granted, OakError>>,
    {
        let mut state = self.state.lock().await;
        let granted = grant().await?;
        Ok(state.store(granted))
    }
}

impl State {
    fn store(&mut self, g: Granted) -> (Token, String, Duration) {
        self.generation += 1;
        // Refresh 60 s before expiry; a token living under two minutes is refreshed at half-life
        // so it is still used at all.
        let margin = REFRESH_MARGIN.min(g.expires_in / 2);
        let token = Token {
            secret: g.access_token,
            generation: self.generation,
        };
        self.current = Some(Cached {
            token: token.clone(),
            refresh_at: Instant::now() + (g.expires_in - margin),
        });
        (token, g.token_type, g.expires_in)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use secrecy::ExposeSecret;

    use super::*;

    fn granted(n: usize, secs: u64) -> Granted {
        Granted {
            access_token: SecretString::from(format!("tok-{n}")),
            token_type: "Bearer".into(),
            expires_in: Duration::from_secs(secs),
        }
    }

    async fn counting_grant(count: Arc<AtomicUsize>, secs: u64) -> Result<Granted, OakError> {
        let n = count.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::task::yield_now().await;
        Ok(granted(n, secs))
    }

    #[tokio::test(start_paused = true)]
    async fn caches_until_sixty_seconds_before_expiry() {
        let cache = TokenCache::default();
        let count = Arc::new(AtomicUsize::new(0));
        let t1 = cache
            .get(|| counting_grant(count.clone(), 3600))
            .await
            .unwrap();
        let t2 = cache
            .get(|| counting_grant(count.clone(), 3600))
            .await
            .unwrap();
        assert_eq!(count.load(Ordering::SeqCst), 1);
        assert_eq!(t1.secret.expose_secret(), t2.secret.expose_secret());

        tokio::time::advance(Duration::from_secs(3600 - 61)).await;
        cache
            .get(|| counting_grant(count.clone(), 3600))
            .await
            .unwrap();
        assert_eq!(
            count.load(Ordering::SeqCst),
            1,
            "still fresh 61 s before expiry"
        );

        tokio::time::advance(Duration::from_secs(2)).await;
        let t3 = cache
            .get(|| counting_grant(count.clone(), 3600))
            .await
            .unwrap();
        assert_eq!(
            count.load(Ordering::SeqCst),
            2,
            "refreshed 59 s before expiry"
        );
        assert_eq!(t3.secret.expose_secret(), "tok-2");
    }

    #[tokio::test(start_paused = true)]
    async fn short_lived_tokens_refresh_at_half_life() {
        let cache = TokenCache::default();
        let count = Arc::new(AtomicUsize::new(0));
        cache
            .get(|| counting_grant(count.clone(), 10))
            .await
            .unwrap();
        tokio::time::advance(Duration::from_secs(4)).await;
        cache
            .get(|| counting_grant(count.clone(), 10))
            .await
            .unwrap();
        assert_eq!(count.load(Ordering::SeqCst), 1);
        tokio::time::advance(Duration::from_secs(2)).await;
        cache
            .get(|| counting_grant(count.clone(), 10))
            .await
            .unwrap();
        assert_eq!(count.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_grant() {
        let cache = Arc::new(TokenCache::default());
        let count = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (cache, count) = (cache.clone(), count.clone());
                tokio::spawn(async move { cache.get(|| counting_grant(count, 3600)).await })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap().secret.expose_secret(), "tok-1");
        }
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn replace_grants_once_for_many_401s_on_the_same_token() {
        let cache = TokenCache::default();
        let count = Arc::new(AtomicUsize::new(0));
        let t1 = cache
            .get(|| counting_grant(count.clone(), 3600))
            .await
            .unwrap();
        let a = cache
            .replace(t1.generation, || counting_grant(count.clone(), 3600))
            .await
            .unwrap();
        let b = cache
            .replace(t1.generation, || counting_grant(count.clone(), 3600))
            .await
            .unwrap();
        assert_eq!(count.load(Ordering::SeqCst), 2);
        assert_eq!(a.secret.expose_secret(), "tok-2");
        assert_eq!(b.secret.expose_secret(), "tok-2");
        // A 401 on the newest token itself forces another grant.
        let c = cache
            .replace(a.generation, || counting_grant(count.clone(), 3600))
            .await
            .unwrap();
        assert_eq!(c.secret.expose_secret(), "tok-3");
    }

    #[tokio::test]
    async fn a_failed_grant_is_not_cached() {
        let cache = TokenCache::default();
        let err = cache
            .get(|| async { Err(OakError::Config("nope".into())) })
            .await;
        assert!(err.is_err());
        let count = Arc::new(AtomicUsize::new(0));
        cache
            .get(|| counting_grant(count.clone(), 3600))
            .await
            .unwrap();
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }
}

//! [`Pool`]: a connection pool whose every checkout is timed, for the
//! `acorn_db_pool_acquire_seconds{pool}` histogram (sqlx does not report how long a caller
//! waited for a connection). The store records through the `metrics` facade only: the server
//! hands it histogram handles ([`Store::time_pool_waits`](super::Store::time_pool_waits)), so
//! the store knows nothing of the exporter or of HTTP.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool, Transaction};

/// One of the store's pools (`read` or `write`) and its wait histogram, once set.
#[derive(Clone, Debug)]
pub(crate) struct Pool {
    inner: AnyPool,
    wait: Arc<OnceLock<metrics::Histogram>>,
}

impl Pool {
    pub(crate) fn new(inner: AnyPool) -> Self {
        Pool {
            inner,
            wait: Arc::default(),
        }
    }

    /// Records waits in `histogram` from now on (the first call wins).
    pub(crate) fn time_waits(&self, histogram: metrics::Histogram) {
        let _ = self.wait.set(histogram);
    }

    fn record(&self, started: Instant) {
        if let Some(h) = self.wait.get() {
            h.record(started.elapsed().as_secs_f64());
        }
    }

    /// A connection; the wait for it is recorded.
    pub(crate) async fn acquire(&self) -> Result<PoolConnection<Any>, sqlx::Error> {
        let started = Instant::now();
        let conn = self.inner.acquire().await;
        self.record(started);
        conn
    }

    /// A transaction opened with `statement` (`BEGIN` when `None`). The recorded wait is the
    /// checkout and the `BEGIN` together (sqlx opens both in one call; on SQLite,
    /// `BEGIN IMMEDIATE` also waits for the file's write lock).
    pub(crate) async fn begin(
        &self,
        statement: Option<&'static str>,
    ) -> Result<Transaction<'static, Any>, sqlx::Error> {
        let started = Instant::now();
        let tx = match statement {
            Some(s) => self.inner.begin_with(s).await,
            None => self.inner.begin().await,
        };
        self.record(started);
        tx
    }

    /// Open connections.
    pub(crate) fn size(&self) -> u32 {
        self.inner.size()
    }

    /// Idle connections.
    pub(crate) fn num_idle(&self) -> usize {
        self.inner.num_idle()
    }

    /// Closes every connection.
    pub(crate) async fn close(&self) {
        self.inner.close().await;
    }
}

/// Sets up each SQLite connection as it opens: WAL, the durability asked for, foreign keys,
/// a busy timeout and the page cache.
pub(super) fn sqlite_setup(
    conn: &mut sqlx::AnyConnection,
    synchronous: super::SqliteSynchronous,
) -> futures::future::BoxFuture<'_, Result<(), sqlx::Error>> {
    Box::pin(async move {
        use sqlx::Executor;
        conn.execute(setup_sql(synchronous).as_str()).await?;
        Ok(())
    })
}

/// Each connection's setup: WAL, this durability, foreign keys, a busy timeout, and a page
/// cache of 16 MiB (SQLite's default is 2 MB), so a page of look-ups spread over a large
/// database is not read again from the OS on each request (a registration filter at 1M
/// customers: 7 ms, most of it in pread). A memory map was as fast, but each connection's
/// mapping counts in the process's RSS (5.5 GB at 1M).
fn setup_sql(synchronous: super::SqliteSynchronous) -> String {
    format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {}; PRAGMA foreign_keys = ON; \
         PRAGMA busy_timeout = 10000; PRAGMA cache_size = -16384;",
        synchronous.pragma_value()
    )
}

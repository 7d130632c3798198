//! Storage: one implementation over sqlx's `Any` driver serving both engines.
//!
//! SQLite (bundled) is the embedded default and PostgreSQL the production store. The queries
//! are written once in the portable subset both engines share (`$n` placeholders, BIGINT
//! microsecond times, TEXT ids); what differs between the engines — connection setup, how a
//! write transaction starts, job claiming — is in [`Dialect`], and each engine has its own
//! migration set under `migrations/<engine>/`.

pub mod batch;
mod combine;
pub(crate) mod counts;
mod customer_list;
mod customer_row;
pub mod customers;
mod email_keys;
pub mod erasure;
pub mod events;
pub mod files;
pub mod idempotency;
pub mod job_kind;
pub mod jobs;
mod keys;
mod ledger;
pub(crate) mod marks;
mod merchants;
mod migrate;
pub(crate) mod new_rows;
pub mod notifications;
mod pool;
mod registration_list;
pub mod registrations;
mod sealing;
mod sql;
pub mod sync;
mod wal_sync;
pub mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use acorn_types::Timestamp;
use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyConnection, Connection, Transaction};

pub use customer_list::{ListPage, ListQuery, Page, RegistrationFilter};
pub use customers::UpdateOutcome;
pub use files::StoredFile;
pub use job_kind::JobKind;
pub use merchants::{MerchantSummary, NewMerchant, SetModeError};
pub use registrations::RegistrationKey;

pub use crate::base::config::SqliteSynchronous;

/// Which engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Embedded SQLite: one writer connection, several readers, WAL.
    Sqlite,
    /// PostgreSQL: one pool; several server processes may share the database.
    Postgres,
}

/// What can go wrong in the store, in terms the API layer maps to responses.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist (or belongs to another merchant).
    #[error("not found")]
    NotFound,
    /// A unique rule was broken; the field is named.
    #[error("duplicate {0}")]
    Duplicate(&'static str),
    /// The request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// The customer is not registered with the provider in a way that allows this.
    #[error("{0}")]
    NotRegistered(String),
    /// An `If-Match` precondition failed.
    #[error("version mismatch (current version {current})")]
    VersionMismatch {
        /// The stored version.
        current: i64,
    },
    /// Anything else: a bug or an unavailable database.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Other(e.into())
    }
}

/// Maps a unique violation to [`StoreError::Duplicate`] at the call site.
pub(crate) trait OnUnique<T> {
    fn on_unique_violation(self, field: &'static str) -> Result<T, StoreError>;
}

impl<T> OnUnique<T> for Result<T, sqlx::Error> {
    fn on_unique_violation(self, field: &'static str) -> Result<T, StoreError> {
        self.map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate(field),
            _ => StoreError::from(e),
        })
    }
}

/// The database behind the server.
#[derive(Clone)]
pub struct Store {
    dialect: Dialect,
    /// Used for every write transaction. On SQLite it has exactly one connection, so writes
    /// queue in the process instead of fighting over the file lock.
    write: pool::Pool,
    /// Used for reads. On PostgreSQL it is the same pool as `write`.
    read: pool::Pool,
    /// Wakes this process's job worker when a job is committed.
    job_notify: std::sync::Arc<tokio::sync::Notify>,
    /// Wakes this process's webhook deliverer (a replay).
    delivery_notify: std::sync::Arc<tokio::sync::Notify>,
    /// Merchants recently seen to exist (saves a query per authenticated request).
    known_merchants: std::sync::Arc<merchants::KnownMerchants>,
    /// Writes concurrent customer creates in shared transactions (group commit).
    combiner: combine::Combiner,
    /// The master keys, once [`Store::unlock`] checked them.
    master: std::sync::Arc<std::sync::RwLock<Option<crate::base::keyring::Keyring>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dialect", &self.dialect)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// `(pool, open connections, idle connections)` of the read and write pools (for `/metrics`;
    /// on PostgreSQL both are one pool).
    pub fn pool_stats(&self) -> Vec<(&'static str, u32, usize)> {
        [("read", &self.read), ("write", &self.write)]
            .into_iter()
            .map(|(name, pool)| (name, pool.size(), pool.num_idle()))
            .collect()
    }

    /// Records, from now on, how long each checkout of a connection waits, in the histogram
    /// `histogram(pool)` gives for `read` and `write` (on PostgreSQL both name one pool: the
    /// label says what the connection was taken for).
    pub fn time_pool_waits(&self, histogram: impl Fn(&'static str) -> metrics::Histogram) {
        self.read.time_waits(histogram("read"));
        self.write.time_waits(histogram("write"));
    }

    /// Connects to `url` (`sqlite://PATH` or `postgres://…`), creating a SQLite file (and its
    /// directory) if missing, and runs the migrations. A database that cannot be reached fails
    /// at once, naming the cause and the file or server (never the password). SQLite commits
    /// are fsynced ([`SqliteSynchronous::Full`]).
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        Self::open_with(url, SqliteSynchronous::default()).await
    }

    /// [`Store::open`] with SQLite's durability chosen (PostgreSQL ignores it).
    pub async fn open_with(url: &str, synchronous: SqliteSynchronous) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let store = if url.starts_with("sqlite:") {
            Self::open_sqlite(url, synchronous).await?
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Self::open_postgres(url).await?
        } else {
            anyhow::bail!("unsupported database URL (expected sqlite://PATH or postgres://…)");
        };
        migrate::run(&store)
            .await
            .context("running database migrations")?;
        email_keys::rekey(&store)
            .await
            .context("normalising stored email keys")?;
        Ok(store)
    }

    async fn open_postgres(url: &str) -> anyhow::Result<Self> {
        let server = postgres_target(url);
        // One direct connection first: the pool would retry a refused connection until its
        // acquire timeout and then report only "pool timed out".
        let first = tokio::time::timeout(Duration::from_secs(10), AnyConnection::connect(url))
            .await
            .map_err(|_| anyhow::anyhow!("no answer within 10 s"))
            .and_then(|r| r.map_err(flatten))
            .with_context(|| format!("connecting to PostgreSQL at {server}"))?;
        let _ = first.close().await;
        let pool = pool_options()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(flatten)
            .with_context(|| format!("connecting to PostgreSQL at {server}"))?;
        let write = pool::Pool::new(pool.clone());
        Ok(Store {
            dialect: Dialect::Postgres,
            combiner: combine::Combiner::start(
                write.clone(),
                Dialect::Postgres,
                POSTGRES_CREATE_WRITERS,
                None,
            ),
            write,
            read: pool::Pool::new(pool),
            job_notify: Default::default(),
            delivery_notify: Default::default(),
            known_merchants: Default::default(),
            master: Default::default(),
        })
    }

    async fn open_sqlite(url: &str, synchronous: SqliteSynchronous) -> anyhow::Result<Self> {
        // `mode=rwc` creates the file on first start.
        let url = if url.contains('?') {
            url.to_owned()
        } else {
            format!("{url}?mode=rwc")
        };
        let parsing = || format!("parsing the SQLite URL {url}");
        let options = AnyConnectOptions::from_str(&url).with_context(parsing)?;
        let path = SqliteConnectOptions::from_str(&url)
            .with_context(parsing)?
            .get_filename()
            .to_owned();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| {
                format!(
                    "creating the directory {} of the SQLite database {}",
                    dir.display(),
                    path.display()
                )
            })?;
        }
        let opening = || format!("opening the SQLite database {}", path.display());
        let write = pool_options()
            .max_connections(1)
            .after_connect(move |conn, _| pool::sqlite_setup(conn, synchronous))
            .connect_with(options.clone())
            .await
            .map_err(flatten)
            .with_context(opening)?;
        let read = pool_options()
            .max_connections(SQLITE_READERS)
            .after_connect(move |conn, _| pool::sqlite_setup(conn, synchronous))
            .connect_with(options)
            .await
            .map_err(flatten)
            .with_context(opening)?;
        let write = pool::Pool::new(write);
        // With `FULL`, creates are fsynced outside the write lock, several groups at once.
        let syncer = match synchronous {
            SqliteSynchronous::Full => wal_sync::WalFile::of(&path)
                .map(|wal| wal_sync::Syncer::start(std::sync::Arc::new(wal))),
            SqliteSynchronous::Normal => None,
        };
        Ok(Store {
            dialect: Dialect::Sqlite,
            combiner: combine::Combiner::start(write.clone(), Dialect::Sqlite, 1, syncer),
            write,
            read: pool::Pool::new(read),
            job_notify: Default::default(),
            delivery_notify: Default::default(),
            known_merchants: Default::default(),
            master: Default::default(),
        })
    }

    /// The engine's name as sqlx gives it (`AnyConnection::backend_name`).
    pub(crate) fn backend_name(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "SQLite",
            Dialect::Postgres => "PostgreSQL",
        }
    }

    /// The engine in use.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`), so a transaction that reads before it writes cannot fail half-way
    /// when another process writes the same file.
    pub(crate) async fn begin(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        match self.dialect {
            Dialect::Sqlite => self.write.begin(Some("BEGIN IMMEDIATE")).await,
            Dialect::Postgres => self.write.begin(None).await,
        }
    }

    /// The suffix that row-locks a `SELECT` inside a write transaction: `FOR UPDATE` on
    /// PostgreSQL; nothing on SQLite, whose `BEGIN IMMEDIATE` already holds the write lock.
    pub(crate) fn for_update(&self) -> &'static str {
        match self.dialect {
            Dialect::Postgres => " FOR UPDATE",
            Dialect::Sqlite => "",
        }
    }

    /// A `PRAGMA` (`synchronous`, `cache_size`) as each SQLite connection has it (the writer
    /// first, then every reader, opened if need be): what the store really runs with. Empty on
    /// PostgreSQL.
    pub async fn sqlite_pragma(&self, name: &'static str) -> Result<Vec<i64>, StoreError> {
        if self.dialect != Dialect::Sqlite {
            return Ok(vec![]);
        }
        let mut conns = vec![self.write.acquire().await?];
        for _ in 0..SQLITE_READERS {
            conns.push(self.read.acquire().await?);
        }
        let mut values = Vec::with_capacity(conns.len());
        for conn in &mut conns {
            let v: i64 = sqlx::query_scalar(&format!("PRAGMA {name}"))
                .fetch_one(&mut **conn)
                .await?;
            values.push(v);
        }
        Ok(values)
    }

    /// SQLite WAL fsyncs for group-committed creates (`None`: each commit syncs, or none do).
    pub fn create_wal_flushes(&self) -> Option<u64> {
        self.combiner.wal_flushes()
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> anyhow::Result<()> {
        sqlx::query("SELECT 1")
            .execute(&mut *self.read.acquire().await?)
            .await?;
        Ok(())
    }

    /// Closes every connection (on shutdown).
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }

    /// Returns the stored value of a server setting, storing `value` first if there is none.
    /// Concurrent callers (even in several processes) all get the same, first-stored value.
    pub async fn setting_or_insert(&self, key: &str, value: &str) -> anyhow::Result<String> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .execute(&mut *self.write.acquire().await?)
        .await?;
        let stored: String = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_one(&mut *self.write.acquire().await?)
            .await?;
        Ok(stored)
    }
}

/// A connection idle for longer than this is pinged before it is handed out.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// Pool options shared by every pool: instead of sqlx's ping before *every* acquire (one more
/// round trip to the SQLite worker thread or the PostgreSQL server per request; in a profile of
/// GETs the thread hand-offs were the largest cost), only a connection that sat idle for
/// [`PING_AFTER_IDLE`] is checked; a busy pool's connections have just proven themselves.
fn pool_options() -> AnyPoolOptions {
    AnyPoolOptions::new()
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > PING_AFTER_IDLE {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
}

/// Read connections of a SQLite store.
const SQLITE_READERS: u32 = 4;

/// Group-commit writers of customer creates on PostgreSQL: one group collects while others
/// commit (each holds one of the pool's connections while it writes).
const POSTGRES_CREATE_WRITERS: usize = 2;

/// A sqlx error as one message: its `Display` already ends with its source's, which the
/// cause chain would print a second time.
fn flatten(e: sqlx::Error) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// `user@host:port/database` of a PostgreSQL URL, for messages: never the password.
fn postgres_target(url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return "(unparsable URL)".to_owned();
    };
    let param = |name: &str| {
        parsed
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let host = param("host")
        .or_else(|| {
            parsed
                .host_str()
                .filter(|h| !h.is_empty())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "localhost".to_owned());
    let port = param("port")
        .or_else(|| parsed.port().map(|p| p.to_string()))
        .unwrap_or_else(|| "5432".to_owned());
    let user = match parsed.username() {
        "" => String::new(),
        user => format!("{user}@"),
    };
    format!("{user}{host}:{port}{}", parsed.path())
}

/// Now, in microseconds since the Unix epoch: the unit of every stored time (see
/// [`acorn_types::Timestamp`], which owns the conversions).
pub fn now_micros() -> i64 {
    Timestamp::now().as_micros()
}

/// Formats a stored time for the wire (RFC 3339, UTC, milliseconds).
pub fn format_time(micros: i64) -> String {
    Timestamp::from_micros(micros).to_rfc3339()
}

/// The stored time `d` after `at` (saturating).
pub fn micros_after(at: i64, d: std::time::Duration) -> i64 {
    (Timestamp::from_micros(at) + d).as_micros()
}

/// A duration in stored microseconds, for leases and retention periods; capped at a quarter of
/// the range so that adding it to a time can never overflow.
pub fn duration_micros(d: std::time::Duration) -> i64 {
    micros_after(0, d).min(i64::MAX / 4)
}

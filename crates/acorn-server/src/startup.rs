//! Building and running the server.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::adapters::files::{sweep, Files};
use crate::adapters::providers::stripe::StripeAdapter;
use crate::adapters::providers::Providers;
use crate::base::config::Config;
use crate::base::keyring::{KeySource, Keyring};
use crate::http::auth::{create_merchant, AuthKeys, Credentials};
use crate::http::ratelimit::{Limits, RateLimiter, RedisBuckets, TokenBuckets};
use crate::http::routes::router;
use crate::http::state::{AppState, Shared};
use crate::services::context::{Context as ServiceContext, Parts};
use crate::store::Store;

/// Seals, in the background, customer rows written before encryption existed (they are read
/// as plaintext until then).
fn seal_legacy_rows(store: Store) {
    tokio::spawn(async move {
        match store.seal_legacy().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "sealed customer rows written before encryption"),
            Err(e) => {
                tracing::warn!(error = %e, "sealing legacy customer rows failed; retried on the next start")
            }
        }
    });
}

/// Refuses a database URL Acorn cannot use, naming what it got, before anything is done.
fn check_database_url(url: &str) -> anyhow::Result<()> {
    let scheme = url.split_once(':').map_or(url, |(s, _)| s);
    match scheme {
        "sqlite" | "postgres" | "postgresql" => Ok(()),
        _ => anyhow::bail!(
            "unsupported database URL {:?}: Acorn stores its data in SQLite (sqlite://PATH) or \
             PostgreSQL (postgres://USER@HOST/DB)",
            format!("{scheme}:…")
        ),
    }
}

/// The directory of a SQLite database file (`None` for an in-memory database).
fn sqlite_parent(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite:")?.trim_start_matches("//");
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path.starts_with(':') {
        return None;
    }
    std::path::Path::new(path).parent().map(|p| p.to_path_buf())
}

/// The per-merchant and token-grant rate limiters: in-process buckets, or shared through
/// Redis when `--redis-url` is set.
fn rate_limits(config: &Config) -> anyhow::Result<Limits> {
    let limiter = |l: Option<(f64, f64)>| -> anyhow::Result<Option<Arc<dyn RateLimiter>>> {
        let Some((rate, burst)) = l else {
            return Ok(None);
        };
        Ok(Some(match &config.redis_url {
            Some(url) => Arc::new(RedisBuckets::new(
                url,
                &config.redis_key_prefix,
                rate,
                burst,
            )?),
            None => Arc::new(TokenBuckets::new(rate, burst)),
        }))
    };
    if config.redis_url.is_some() {
        tracing::info!(prefix = %config.redis_key_prefix, "rate limits shared through redis");
    }
    Ok(Limits {
        api: limiter(config.rate_limit)?,
        grant: limiter(config.grant_rate_limit)?,
    })
}

/// A built server, bound to its port, ready to run.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
}

impl Application {
    /// Checks the database URL, binds the listener, opens the store (reaching the database and
    /// running migrations), then loads the keys — in that order, so that each failure names
    /// its real cause (a wrong URL or an unreachable database before a missing key) and a
    /// start that fails leaves nothing behind: nothing is written to disk before the listener
    /// is bound, and directories this start created are removed again when it fails.
    pub async fn build(mut config: Config) -> anyhow::Result<Self> {
        // Claims carry this name from now on; the previous run's claims are released below.
        config.instance_id = Some(config.instance());
        check_database_url(&config.database_url)?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        let mut created = Vec::new();
        if config.database_url.starts_with("sqlite:") {
            for dir in [
                Some(config.data_dir.clone()),
                sqlite_parent(&config.database_url),
            ]
            .into_iter()
            .flatten()
            {
                if !dir.exists() {
                    created.push(dir);
                }
            }
            std::fs::create_dir_all(&config.data_dir).with_context(|| {
                format!("creating the data directory {}", config.data_dir.display())
            })?;
        }
        match Self::assemble(config, listener).await {
            Ok(app) => Ok(app),
            Err(e) => {
                for dir in created {
                    let _ = std::fs::remove_dir_all(&dir);
                }
                Err(e)
            }
        }
    }

    async fn assemble(config: Config, listener: TcpListener) -> anyhow::Result<Self> {
        // PostgreSQL is reached (a wrong host or port named as such) before the key is asked
        // for, and the key's presence is checked before any migration touches the database.
        if !config.database_url.starts_with("sqlite:") {
            Store::exists(&config.database_url).await?;
        }
        let source = KeySource::of(&config)?;
        let store = Store::open_with(&config.database_url, config.sqlite_synchronous).await?;
        let master = match Keyring::load(source) {
            Ok(master) => master,
            Err(e) => {
                store.close().await;
                return Err(e);
            }
        };
        let metrics = Arc::new(crate::http::metrics::Metrics::default());
        store.time_pool_waits(|pool| metrics.pool_wait(pool));
        let instance = config.instance();
        let released = store.release_instance_claims(&instance).await?;
        if released > 0 {
            tracing::info!(
                released,
                instance,
                "released the idempotency keys this instance left in flight"
            );
        }
        store.unlock(master).await?;
        seal_legacy_rows(store.clone());
        let auth = AuthKeys::load(&store, config.token_secret.as_ref(), config.token_ttl).await?;
        let files = Files::load(&config, &store).await?;
        let addr = listener.local_addr()?;
        let stripe = match &config.stripe {
            Some(c) => {
                tracing::info!(key = c.key_kind(), api_base = %c.api_base, webhooks = c.webhook_secret.is_some(), "stripe connector on");
                Some((
                    StripeAdapter::new(c, config.public_url.as_deref())?,
                    c.key_kind(),
                ))
            }
            None => None,
        };
        let providers = Providers::new(store.clone(), config.modes.sandbox, stripe);
        let limits = rate_limits(&config)?;
        let ctx = ServiceContext::new(Parts {
            store,
            files: Arc::new(files),
            config: Arc::new(config),
            providers,
            metrics,
        });
        let state = AppState::new(Shared {
            ctx,
            limits,
            auth: Arc::new(auth),
        });
        Ok(Application {
            listener,
            addr,
            state,
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state (tests use it to reach the store and keys).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// On the very first start of a server that hosts sandbox merchants (no merchant exists
    /// yet), creates a sandbox one and returns its credentials so the developer can be shown
    /// them. A live-only server creates none: its operator makes live merchants with
    /// `acorn merchants create --mode live`, and no live secret is ever printed in a server's
    /// output. Safe when several processes start at once: only one of them creates it.
    pub async fn bootstrap_merchant(&self) -> anyhow::Result<Option<Credentials>> {
        let store = &self.state.store;
        if !self.state.config.modes.sandbox || store.count_merchants().await? > 0 {
            return Ok(None);
        }
        let ticket = uuid::Uuid::new_v4().to_string();
        if store
            .setting_or_insert("bootstrap_merchant", &ticket)
            .await?
            != ticket
        {
            return Ok(None);
        }
        create_merchant(
            store,
            &self.state.auth,
            "default",
            acorn_types::Mode::Sandbox,
        )
        .await
        .map(Some)
    }

    /// Serves until `shutdown` resolves, then stops accepting, gives in-flight requests the
    /// configured grace period, and closes the database.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let state = self.state.clone();
        let grace = state.config.shutdown_grace;
        let (stop_worker, worker_stopped) = tokio::sync::watch::channel(false);
        let worker = state.config.run_worker.then(|| {
            tokio::spawn(crate::workers::jobs::run(
                state.ctx.clone(),
                worker_stopped.clone(),
            ))
        });
        let deliverer = state.config.run_worker.then(|| {
            tokio::spawn(crate::workers::webhooks::run(
                state.ctx.clone(),
                worker_stopped,
            ))
        });
        let app = router(state.clone());
        let sweeper = AbortOnDrop(tokio::spawn(sweep::run_periodically(
            state.files.clone(),
            state.store.clone(),
        )));
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        // The guarded listener gives the answers hyper makes by itself the envelope too.
        let server = axum::serve(
            crate::http::edge::GuardedListener::new(self.listener, state.metrics.clone()),
            crate::http::edge::MakeConn::new(app),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stopping_tx.send(());
        });
        let mut server = tokio::spawn(async move { server.await });
        tokio::select! {
            result = &mut server => {
                result.context("server task")?.context("serving")?;
            }
            _ = stopping_rx => {
                tracing::info!(grace_secs = grace.as_secs(), "shutting down: finishing in-flight requests");
                match tokio::time::timeout(grace, &mut server).await {
                    Ok(result) => result.context("server task")?.context("serving")?,
                    Err(_) => {
                        tracing::warn!("grace period over; dropping remaining connections");
                        server.abort();
                    }
                }
            }
        }
        let _ = stop_worker.send(true);
        if let Some(worker) = worker {
            if tokio::time::timeout(grace, worker).await.is_err() {
                tracing::warn!("the worker did not stop in time");
            }
        }
        if let Some(deliverer) = deliverer {
            if tokio::time::timeout(grace, deliverer).await.is_err() {
                tracing::warn!("the webhook deliverer did not stop in time");
            }
        }
        drop(sweeper);
        state.store.close().await;
        Ok(())
    }
}

/// Stops a background task when the server stops, however it stops.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    match ShutdownSignals::install() {
        Ok(mut signals) => signals.recv().await,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGINT/SIGTERM");
            std::future::pending::<()>().await;
        }
    }
}

/// SIGINT (Ctrl-C) and SIGTERM, each arrival counted: the first asks for a graceful stop, a
/// second one (while the first is still being honoured) for an immediate exit. Listening
/// starts at [`install`](Self::install), so a signal between two [`recv`](Self::recv) calls is
/// not lost.
pub struct ShutdownSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    /// Starts listening for SIGINT and SIGTERM.
    pub fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(ShutdownSignals {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(ShutdownSignals {})
        }
    }

    /// Resolves at the next SIGINT or SIGTERM.
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => {},
                _ = self.terminate.recv() => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

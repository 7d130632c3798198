//! The connection edge: what `axum::serve` accepts and hands to hyper.
//!
//! A request whose head hyper cannot parse (a control byte or invalid UTF-8 in the URL, a
//! header block over the limit) never reaches the router: hyper answers it with a bare
//! 400/414/431 and closes. [`GuardedListener`] wraps each accepted stream in a [`GuardedIo`]
//! that turns that answer into the error envelope and logs it, and [`MakeConn`] gives each
//! connection a service that tells the stream when a request is being served. Everything else
//! — keep-alive, HTTP/1.1 and HTTP/2, graceful shutdown — is `axum::serve`'s as before.

mod io;
mod refusal;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use axum::serve::{IncomingStream, Listener};
use axum::Router;
use futures::future::BoxFuture;
use tokio::net::{TcpListener, TcpStream};

pub use io::{GuardedIo, Phase};

use crate::http::metrics::Metrics;

/// A TCP listener whose connections are [`GuardedIo`]s.
pub struct GuardedListener {
    inner: TcpListener,
    metrics: Arc<Metrics>,
}

impl GuardedListener {
    /// Wraps a bound listener; refusals are counted in `metrics`.
    pub fn new(inner: TcpListener, metrics: Arc<Metrics>) -> Self {
        GuardedListener { inner, metrics }
    }
}

impl Listener for GuardedListener {
    type Io = GuardedIo<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // axum's accept loop: retries, and backs off when out of file descriptors.
        let (stream, peer) = Listener::accept(&mut self.inner).await;
        (GuardedIo::new(stream, peer, self.metrics.clone()), peer)
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// Makes each connection's [`ConnService`].
#[derive(Clone)]
pub struct MakeConn(Router);

impl MakeConn {
    /// Serves `router` on every connection.
    pub fn new(router: Router) -> Self {
        MakeConn(router)
    }
}

impl<'a> tower::Service<IncomingStream<'a, GuardedListener>> for MakeConn {
    type Response = ConnService;
    type Error = Infallible;
    type Future = std::future::Ready<Result<ConnService, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, stream: IncomingStream<'a, GuardedListener>) -> Self::Future {
        std::future::ready(Ok(ConnService {
            router: self.0.clone(),
            peer: *stream.remote_addr(),
            phase: stream.io().phase(),
        }))
    }
}

/// One connection's service: the router, with the peer address as `ConnectInfo` (as
/// `into_make_service_with_connect_info` gave it) and the connection's [`Phase`] kept.
#[derive(Clone)]
pub struct ConnService {
    router: Router,
    peer: SocketAddr,
    phase: Arc<Phase>,
}

impl tower::Service<Request> for ConnService {
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        tower::Service::<Request>::poll_ready(&mut self.router, cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        self.phase.busy();
        req.extensions_mut().insert(ConnectInfo(self.peer));
        let phase = self.phase.clone();
        let served = tower::Service::call(&mut self.router, req);
        Box::pin(async move {
            let response = served.await?;
            Ok(response.map(|body| Body::new(Tracked { body, phase })))
        })
    }
}

/// A response body that marks the connection draining when hyper drops it.
struct Tracked {
    body: Body,
    phase: Arc<Phase>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.phase.draining();
    }
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

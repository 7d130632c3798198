//! [`GuardedIo`]: a connection's byte stream, which swaps the bodiless answer hyper writes by
//! itself on an unparsable request head for the error envelope.
//!
//! hyper writes that answer only while no request of the connection is being served (it reads
//! the next head only once the previous response is fully written), and offers no hook to
//! replace it. So the connection shares a [`Phase`] with its service: the service marks a
//! request `BUSY` when it is called, the response body marks it `DRAINING` when hyper drops it
//! (by then hyper has encoded the whole response into its write buffer), and the next
//! `poll_flush` — which hyper calls only once that buffer is empty — makes the connection
//! `IDLE` again. A response head written while `IDLE` can only be hyper's own; it is replaced
//! when it has the shape of one (a 400, 414 or 431 head without a body).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::http::edge::refusal;
use crate::http::metrics::Metrics;

const IDLE: u8 = 0;
const BUSY: u8 = 1;
const DRAINING: u8 = 2;
/// HTTP/2 (its requests overlap, and hyper writes no canned HTTP/1 answers there).
const OFF: u8 = 3;

/// Whether the connection is serving a request, shared by its IO and its service.
#[derive(Debug, Default)]
pub struct Phase(AtomicU8);

impl Phase {
    /// A request reached the service.
    pub fn busy(&self) {
        let _ = self
            .0
            .compare_exchange(IDLE, BUSY, Ordering::AcqRel, Ordering::Acquire);
        let _ = self
            .0
            .compare_exchange(DRAINING, BUSY, Ordering::AcqRel, Ordering::Acquire);
    }

    /// hyper let go of the response body: the whole response is in its write buffer.
    pub fn draining(&self) {
        let _ = self
            .0
            .compare_exchange(BUSY, DRAINING, Ordering::AcqRel, Ordering::Acquire);
    }

    /// hyper flushes: its write buffer is empty, so a draining response is out.
    fn flushed(&self) {
        let _ = self
            .0
            .compare_exchange(DRAINING, IDLE, Ordering::AcqRel, Ordering::Acquire);
    }

    fn off(&self) {
        self.0.store(OFF, Ordering::Release);
    }

    fn is_idle(&self) -> bool {
        self.0.load(Ordering::Acquire) == IDLE
    }
}

/// One accepted connection's stream (see the module docs).
pub struct GuardedIo<T> {
    inner: T,
    phase: Arc<Phase>,
    peer: SocketAddr,
    metrics: Arc<Metrics>,
    /// Whether a byte has been read yet (the first ones tell HTTP/2 from HTTP/1).
    started: bool,
    /// The replacement answer, once hyper's own was swallowed, and how much of it is written.
    refused: Option<(Vec<u8>, usize)>,
}

impl<T> GuardedIo<T> {
    /// Wraps an accepted stream from `peer`.
    pub fn new(inner: T, peer: SocketAddr, metrics: Arc<Metrics>) -> Self {
        GuardedIo {
            inner,
            phase: Arc::default(),
            peer,
            metrics,
            started: false,
            refused: None,
        }
    }

    /// The phase the connection's service must keep up to date.
    pub fn phase(&self) -> Arc<Phase> {
        self.phase.clone()
    }

    /// Takes `buf` in place of hyper's own answer when it is one; `None` lets it through.
    fn intercept(&mut self, buf: &[u8]) -> Option<usize> {
        if self.refused.is_some() {
            // After its parse-error answer hyper only closes; nothing else may follow ours.
            return Some(buf.len());
        }
        if !self.phase.is_idle() {
            return None;
        }
        let head = refusal::CannedHead::parse(buf)?;
        let answer = refusal::answer(&head, self.peer, &self.metrics);
        self.refused = Some((answer, 0));
        Some(buf.len())
    }
}

impl<T: AsyncWrite + Unpin> GuardedIo<T> {
    /// Writes what is left of the replacement answer.
    fn poll_refusal(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some((answer, written)) = &mut self.refused else {
            return Poll::Ready(Ok(()));
        };
        while *written < answer.len() {
            let n =
                std::task::ready!(Pin::new(&mut self.inner).poll_write(cx, &answer[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for GuardedIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if !this.started && buf.filled().len() > before {
            this.started = true;
            // The HTTP/2 connection preface ("PRI * HTTP/2.0…"); no HTTP/1 method is "PRI".
            if buf.filled()[before..].starts_with(b"PRI ") {
                this.phase.off();
            }
        }
        result
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for GuardedIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match this.intercept(buf) {
            Some(n) => Poll::Ready(Ok(n)),
            None => Pin::new(&mut this.inner).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.refused.is_some() || this.phase.is_idle() {
            // hyper's own answer is one head: the first non-empty slice.
            if let Some(first) = bufs.iter().find(|b| !b.is_empty()) {
                if let Some(n) = this.intercept(first) {
                    return Poll::Ready(Ok(n));
                }
            }
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.phase.flushed();
        std::task::ready!(this.poll_refusal(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_refusal(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANNED: &[u8] =
        b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: Wed, 02 Dec 2026 18:00:00 GMT\r\n\r\n";

    fn write_all(io: &mut GuardedIo<Vec<u8>>, bytes: &[u8]) {
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let n = Pin::new(&mut *io).poll_write(&mut cx, bytes);
        assert!(matches!(n, Poll::Ready(Ok(n)) if n == bytes.len()));
        assert!(Pin::new(&mut *io).poll_flush(&mut cx).is_ready());
    }

    fn io() -> GuardedIo<Vec<u8>> {
        let peer: SocketAddr = "192.0.2.7:4242".parse().expect("addr");
        GuardedIo::new(Vec::new(), peer, Arc::default())
    }

    #[test]
    fn hypers_own_answer_on_an_idle_connection_becomes_the_envelope() {
        let mut io = io();
        write_all(&mut io, CANNED);
        let text = String::from_utf8(io.inner.clone()).expect("utf-8");
        assert!(
            text.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
            "{text}"
        );
        assert!(
            text.contains("\r\ncontent-type: application/json\r\n"),
            "{text}"
        );
        assert!(
            text.contains("\r\ndate: Wed, 02 Dec 2026 18:00:00 GMT\r\n"),
            "{text}"
        );
        let body = text.split("\r\n\r\n").nth(1).expect("body");
        let envelope: acorn_types::ErrorEnvelope = serde_json::from_str(body).expect("envelope");
        assert_eq!(envelope.error_code, acorn_types::ErrorCode::ValidationError);
        assert_eq!(
            envelope.reason_codes(),
            [acorn_types::ReasonCode::PayloadTooLarge]
        );
        // Whatever hyper writes after its answer is not sent.
        write_all(&mut io, b"more");
        assert!(!String::from_utf8_lossy(&io.inner).contains("more"));
    }

    #[test]
    fn a_response_of_a_served_request_passes_unchanged() {
        let mut io = io();
        let phase = io.phase();
        phase.busy();
        write_all(&mut io, CANNED);
        assert_eq!(io.inner, CANNED);
        // Its body is dropped and flushed: the connection is idle again.
        phase.draining();
        write_all(&mut io, b"0\r\n\r\n");
        write_all(&mut io, CANNED);
        assert!(String::from_utf8_lossy(&io.inner).contains("application/json"));
    }

    #[test]
    fn http2_connections_are_left_alone() {
        let mut io = io();
        io.phase.off();
        write_all(&mut io, CANNED);
        assert_eq!(io.inner, CANNED);
    }
}

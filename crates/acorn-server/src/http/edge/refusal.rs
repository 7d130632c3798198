//! The answer to a request whose head hyper could not parse: the status hyper chose, the
//! error envelope as body, and one request log line (status, peer, reason — never the URL or a
//! header, which may carry personal data).

use std::net::SocketAddr;

use acorn_types::{ErrorEnvelope, FailureReason, ReasonCode};
use axum::http::StatusCode;

use crate::http::error::error_code_for;
use crate::http::metrics::Metrics;

/// A head hyper writes by itself on a parse error: a status line, `connection: close`,
/// `content-length: 0` and a `date` header, no body.
#[derive(Debug, PartialEq)]
pub struct CannedHead {
    status: StatusCode,
    date: Option<String>,
}

impl CannedHead {
    /// Recognises hyper's own answer: a complete HTTP/1 head with one of the statuses hyper
    /// answers parse errors with, and no `content-type` (every response of the API has one).
    pub fn parse(buf: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(buf).ok()?;
        let head = text.strip_suffix("\r\n\r\n")?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next()?.strip_prefix("HTTP/1.")?;
        let code = status_line.get(2..5)?;
        let status = match code {
            "400" | "414" | "431" => StatusCode::from_bytes(code.as_bytes()).ok()?,
            _ => return None,
        };
        let mut date = None;
        for line in lines {
            let (name, value) = line.split_once(':')?;
            match name.to_ascii_lowercase().as_str() {
                "content-length" if value.trim() == "0" => {}
                "connection" if value.trim().eq_ignore_ascii_case("close") => {}
                "date" => date = Some(value.trim().to_owned()),
                _ => return None,
            }
        }
        Some(CannedHead { status, date })
    }
}

/// Why the request was refused, as logged and as told to the client.
fn reason(status: StatusCode) -> (&'static str, &'static str, ReasonCode, &'static str) {
    match status {
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => (
            "headers too large",
            "Request header fields too large",
            ReasonCode::PayloadTooLarge,
            "the request line and headers are larger than the server accepts",
        ),
        StatusCode::URI_TOO_LONG => (
            "uri too long",
            "URI too long",
            ReasonCode::InvalidInput,
            "the request URI is longer than the server accepts",
        ),
        _ => (
            "malformed request line or header",
            "Bad request",
            ReasonCode::InvalidInput,
            "the request line or a header is not valid HTTP (for example a control \
             character or a byte that is not ASCII in the URL, or a malformed header)",
        ),
    }
}

/// The full HTTP response that replaces `head`, after logging the refusal and counting it.
pub fn answer(head: &CannedHead, peer: SocketAddr, metrics: &Metrics) -> Vec<u8> {
    let status = head.status;
    let (logged, msg, code, detail) = reason(status);
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    log(status, peer, logged, &request_id);
    metrics.refused(status.as_u16());
    let envelope = ErrorEnvelope {
        msg: msg.to_owned(),
        error_code: error_code_for(status),
        failure_reasons: vec![FailureReason::new(code, detail, &[])],
        data: None,
    };
    let body = serde_json::to_string(&envelope).unwrap_or_else(|_| "{}".to_owned());
    let date = head
        .date
        .as_ref()
        .map(|d| format!("date: {d}\r\n"))
        .unwrap_or_default();
    format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         x-request-id: {request_id}\r\nconnection: close\r\n{date}\r\n{body}",
        status.as_str(),
        status.canonical_reason().unwrap_or(""),
        body.len(),
    )
    .into_bytes()
}

/// The request log line of a refused head (the same target as every request's line).
fn log(status: StatusCode, peer: SocketAddr, reason: &str, request_id: &str) {
    tracing::info!(
        target: "acorn::request",
        status = status.as_u16(), %peer, reason, request_id,
        "request refused before routing"
    );
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn only_hypers_bodiless_error_heads_are_recognised() {
        let canned = b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        assert_eq!(
            CannedHead::parse(canned),
            Some(CannedHead {
                status: StatusCode::BAD_REQUEST,
                date: Some("x".into())
            })
        );
        for other in [
            &b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n{}",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n",
            b"{\"msg\":\"HTTP/1.1 400\"}",
        ] {
            assert_eq!(CannedHead::parse(other), None, "{}", String::from_utf8_lossy(other));
        }
    }

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut v) = self.0.lock() {
                v.extend_from_slice(buf);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_refusal_is_logged_with_status_peer_and_reason() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let head = CannedHead::parse(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n",
        )
        .expect("canned");
        let metrics = Metrics::default();
        let answer = tracing::subscriber::with_default(subscriber, || {
            answer(&head, "192.0.2.7:4242".parse().expect("addr"), &metrics)
        });
        let line = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf-8");
        assert_eq!(line.lines().count(), 1, "{line}");
        assert!(line.contains("acorn::request"), "{line}");
        assert!(line.contains("status=431"), "{line}");
        assert!(line.contains("peer=192.0.2.7:4242"), "{line}");
        assert!(line.contains("reason=\"headers too large\""), "{line}");
        let id = line.split("request_id=").nth(1).expect("request id");
        let answer = String::from_utf8(answer).expect("utf-8");
        assert!(
            answer.contains(&format!("x-request-id: {}", id.trim().trim_matches('"'))),
            "{answer}"
        );
        assert!(metrics.render().contains("status=\"431\"} 1"));
    }
}

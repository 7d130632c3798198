//! Requests hyper refuses before the router sees them (an unparsable request line, headers
//! over the limit) still get the error envelope, sent over raw TCP since no HTTP client sends
//! such requests.

use acorn_types::{ErrorCode, ErrorEnvelope, ReasonCode};
use reqwest::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::both_stores;
use crate::helpers::TestApp;

/// A raw HTTP/1.1 response: status, lower-cased headers, body.
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Raw {
    fn parse(bytes: &[u8]) -> Option<Raw> {
        let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = std::str::from_utf8(&bytes[..end]).ok()?;
        let mut lines = head.split("\r\n");
        let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Some(Raw {
            status,
            headers,
            body: bytes[end + 4..].to_vec(),
        })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn content_length(&self) -> Option<usize> {
        self.header("content-length")?.parse().ok()
    }

    /// Asserts the status, the JSON content type and the envelope; returns the envelope.
    #[track_caller]
    fn assert_envelope(&self, status: u16) -> ErrorEnvelope {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(self.header("content-type"), Some("application/json"));
        assert_eq!(self.content_length(), Some(self.body.len()));
        assert!(self.header("x-request-id").is_some());
        let value: serde_json::Value = serde_json::from_slice(&self.body).expect("JSON body");
        assert!(value["msg"].is_string(), "{value}");
        assert!(
            value["data"].is_null() && value.get("data").is_some(),
            "{value}"
        );
        serde_json::from_value(value).expect("the error envelope")
    }
}

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_owned()
}

/// Sends `request` (while reading, so a large request cannot block on a full socket buffer)
/// and reads until the server closes the connection.
async fn exchange(app: &TestApp, request: Vec<u8>) -> Raw {
    let stream = TcpStream::connect(addr(app)).await.expect("connect");
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        // The server may answer and close before it has read everything.
        let _ = write.write_all(&request).await;
        write
    });
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match read.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    drop(writer.await);
    Raw::parse(&out)
        .unwrap_or_else(|| panic!("no HTTP response: {:?}", String::from_utf8_lossy(&out)))
}

async fn health_still_answers(app: &TestApp) {
    let r = app.send(Method::GET, "/api/health", None, None, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

both_stores! {
    async fn a_control_byte_in_the_request_line_gets_the_envelope(app) {
        let raw = exchange(&app, b"GET /api/v1/cust\x01omers HTTP/1.1\r\nHost: acorn\r\n\r\n".to_vec()).await;
        let envelope = raw.assert_envelope(400);
        assert_eq!(envelope.error_code, ErrorCode::ValidationError);
        assert_eq!(envelope.reason_codes(), [ReasonCode::InvalidInput]);
        assert_eq!(raw.header("connection"), Some("close"));
        health_still_answers(&app).await;
    }

    async fn invalid_utf8_in_the_path_gets_the_envelope(app) {
        let raw = exchange(&app, b"GET /api/v1/customers/\xff\xfe\xc3 HTTP/1.1\r\nHost: acorn\r\n\r\n".to_vec()).await;
        let envelope = raw.assert_envelope(400);
        assert_eq!(envelope.error_code, ErrorCode::ValidationError);
        assert_eq!(envelope.reason_codes(), [ReasonCode::InvalidInput]);
        health_still_answers(&app).await;
    }

    async fn a_one_mebibyte_header_gets_431_with_the_envelope(app) {
        let mut request = b"GET /api/health HTTP/1.1\r\nHost: acorn\r\nX-Big: ".to_vec();
        request.extend(std::iter::repeat_n(b'a', 1024 * 1024));
        request.extend_from_slice(b"\r\n\r\n");
        let raw = exchange(&app, request).await;
        let envelope = raw.assert_envelope(431);
        assert_eq!(envelope.error_code, ErrorCode::ValidationError);
        assert_eq!(envelope.reason_codes(), [ReasonCode::PayloadTooLarge]);
        health_still_answers(&app).await;
        // Counted in the metrics, without a route or method.
        let res = app.http.get(format!("{}/metrics", app.base)).send().await.expect("send");
        let text = res.text().await.expect("text");
        assert!(
            text.contains(r#"acorn_http_requests_total{method="(unparsed)",route="(unparsed)",status="431"} 1"#),
            "{text}"
        );
    }

    async fn a_bad_request_pipelined_behind_a_good_one_gets_the_envelope(app) {
        let both = b"GET /api/health HTTP/1.1\r\nHost: acorn\r\n\r\nGET /api/\x01 HTTP/1.1\r\nHost: acorn\r\n\r\n";
        let mut stream = TcpStream::connect(addr(&app)).await.expect("connect");
        stream.write_all(both).await.expect("write");
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out).await;
        let first = Raw::parse(&out).expect("a first response");
        assert_eq!(first.status, 200);
        let len = first.content_length().expect("content-length");
        let second = Raw::parse(&first.body[len..]).expect("a second response");
        second.assert_envelope(400);
    }

    async fn a_bad_request_after_a_good_one_on_the_same_connection_gets_the_envelope(app) {
        let mut stream = TcpStream::connect(addr(&app)).await.expect("connect");
        stream.write_all(b"GET /api/health HTTP/1.1\r\nHost: acorn\r\n\r\n").await.expect("write");
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        let first = loop {
            let n = stream.read(&mut buf).await.expect("read");
            assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&out));
            out.extend_from_slice(&buf[..n]);
            if let Some(raw) = Raw::parse(&out).filter(|r| r.content_length() == Some(r.body.len())) {
                break raw;
            }
        };
        assert_eq!(first.status, 200);
        stream.write_all(b"GET /api/\x7f HTTP/1.1\r\nHost: acorn\r\n\r\n").await.expect("write");
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest).await;
        let second = Raw::parse(&rest).expect("a second response");
        second.assert_envelope(400);
    }
}

//! The dashboard's assets (issue 18): served without a token, with their content types, cache
//! headers and a strict Content-Security-Policy. The browser tests are in `dashboard-tests/`.

use acorn_server::testing::CSP;

use crate::helpers::{spawn_app, Backend, TestApp};

async fn fetch(app: &TestApp, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let res = app
        .http
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.text().await.unwrap())
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn dashboard_serves_the_page_with_a_strict_csp_and_no_token() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    for path in ["/dashboard", "/dashboard/"] {
        let (status, headers, body) = fetch(&app, path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(header(&headers, "content-type"), "text/html; charset=utf-8");
        assert_eq!(header(&headers, "content-security-policy"), CSP);
        assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
        assert_eq!(header(&headers, "cache-control"), "no-cache");
        assert!(body.contains(r#"<script type="module" src="/dashboard/app.js">"#));
    }
    assert!(CSP.contains("default-src 'none'"));
    assert!(CSP.contains("script-src 'self'"));
    assert!(CSP.contains("connect-src 'self'"));
    assert!(!CSP.contains("unsafe"), "no inline script or style: {CSP}");
    let (status, _, _) = fetch(&app, "/dashboard/nope.js").await;
    assert_eq!(status, 404);
}

/// Every module the page imports is served as JavaScript (no missing or mistyped asset).
#[tokio::test]
async fn every_imported_module_is_served_as_javascript() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let mut todo = vec!["/dashboard/app.js".to_owned()];
    let mut seen = Vec::new();
    while let Some(path) = todo.pop() {
        if seen.contains(&path) {
            continue;
        }
        let (status, headers, body) = fetch(&app, &path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(
            header(&headers, "content-type"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(header(&headers, "content-security-policy"), CSP);
        for part in body.split("from '").skip(1) {
            if let Some(target) = part.split('\'').next() {
                todo.push(target.to_owned());
            }
        }
        seen.push(path);
    }
    assert!(seen.len() >= 8, "{seen:?}");
    let (status, headers, _) = fetch(&app, "/dashboard/style.css").await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), "text/css; charset=utf-8");
}

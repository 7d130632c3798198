//! Every failure leaves in the envelope (contract §1.2).

use reqwest::Method;
use serde_json::json;

use crate::both_stores;

both_stores! {
    async fn malformed_bodies(app) {
        let t = app.merchant.token.clone();
        let url = format!("{}/api/v1/customers", app.base);
        let send = |ct: Option<&'static str>, body: String| {
            let mut req = app.http.post(&url).bearer_auth(&t).body(body);
            if let Some(ct) = ct { req = req.header("content-type", ct); }
            async move {
                let res = req.send().await.expect("send");
                let status = res.status().as_u16();
                let rid = res.headers().get("x-request-id").is_some();
                let body: serde_json::Value = res.json().await.expect("JSON body");
                (status, body, rid)
            }
        };
        let (status, body, rid) = send(Some("application/json"), "{\"email\": ".into()).await;
        assert_eq!((status, body["error_code"].as_str(), rid), (400, Some("validation_error"), true));
        let (status, body, _) = send(Some("application/json"), "[1, 2]".into()).await;
        assert_eq!((status, body["error_code"].as_str()), (422, Some("validation_error")));
        let (status, body, _) = send(Some("text/plain"), "{\"email\":\"a@b.co\"}".into()).await;
        assert_eq!((status, body["error_code"].as_str()), (415, Some("validation_error")));
        assert_eq!(body["failure_reasons"][0]["code"], "unsupported_media_type");
        let (status, _, _) = send(None, "{\"email\":\"a@b.co\"}".into()).await;
        assert_eq!(status, 415);
        let big = format!("{{\"email\":\"a@b.co\",\"first_name\":\"{}\"}}", "x".repeat(1024 * 1024 + 10));
        let (status, body, _) = send(Some("application/json"), big).await;
        assert_eq!((status, body["error_code"].as_str()), (413, Some("validation_error")));
        assert_eq!(body["failure_reasons"][0]["code"], "payload_too_large");
        assert_eq!(app.list_customers("").await.data()["count"], 0);
    }

    async fn unknown_routes_and_methods(app) {
        let t = app.merchant.token.clone();
        for path in ["/api/v1/nope", "/nope", "/api/v1/customers/a/b/c"] {
            app.send(Method::GET, path, None, Some(&t), &[]).await.assert_error(404, "not_found");
        }
        let r = app.send(Method::DELETE, "/api/v1/customers", None, Some(&t), &[]).await;
        r.assert_error(405, "method_not_allowed");
        let r = app.send(Method::PATCH, "/api/health", None, None, &[]).await;
        r.assert_error(405, "method_not_allowed");
    }

    async fn request_ids_are_echoed_or_generated(app) {
        let r = app.send(Method::GET, "/api/health", None, None, &[("x-request-id", "my-req-42")]).await;
        assert_eq!(r.header("x-request-id"), Some("my-req-42"));
        let a = app.send(Method::GET, "/api/health", None, None, &[]).await;
        let b = app.send(Method::GET, "/api/health", None, None, &[]).await;
        assert_ne!(a.header("x-request-id"), b.header("x-request-id"));
    }

    async fn sdk_style_headers_are_accepted(app) {
        // The TypeScript SDK sends Content-Type on GET and an Oak-Version header.
        let t = app.merchant.token.clone();
        let r = app.send(Method::GET, "/api/v1/customers", None, Some(&t), &[("content-type", "application/json"), ("oak-version", "1.5.0")]).await;
        assert_eq!(r.status, 200);
    }

    async fn internal_errors_hide_details_and_carry_the_request_id(app) {
        assert_eq!(app.send(Method::GET, "/api/health", None, None, &[]).await.body, json!({"status": "ok"}));
        app.state.store.close().await;
        let r = app.send(Method::GET, "/api/v1/customers", None, Some(&app.merchant.token), &[("x-request-id", "trace-500")]).await;
        r.assert_error(500, "internal_error");
        assert_eq!(r.body["msg"], "Internal server error");
        assert_eq!(r.body["failure_reasons"][0]["support_reference"], "trace-500");
        assert!(!r.body.to_string().to_lowercase().contains("pool"), "internals leaked: {}", r.body);
        let h = app.send(Method::GET, "/api/health", None, None, &[]).await;
        h.assert_error(503, "service_unavailable");
    }

    async fn metrics_count_requests_by_route_template(app) {
        let id = app.customer(json!({"email": "metrics@example.com"})).await;
        app.get_customer(&id).await;
        app.get_customer("cus_0192f0c5-7f2e-7c3a-9d6e-1a2b3c4d5e6f").await;
        let res = app.http.get(format!("{}/metrics", app.base)).send().await.expect("send");
        assert_eq!(res.status().as_u16(), 200);
        assert!(res.headers()["content-type"].to_str().expect("type").starts_with("text/plain"));
        let text = res.text().await.expect("text");
        assert!(text.contains("acorn_http_requests_total{method=\"GET\",route=\"/api/v1/customers/{id}\",status=\"200\"} 1"), "{text}");
        assert!(text.contains("route=\"/api/v1/customers/{id}\",status=\"404\"} 1"), "{text}");
        assert!(text.contains("acorn_http_request_duration_seconds_bucket"));
        assert!(!text.contains(id.trim_start_matches("cus_")), "no ids in metrics");
        assert!(!text.contains("metrics@example.com"));
    }

    async fn metrics_report_pools_and_the_job_queue(app) {
        let res = app.http.get(format!("{}/metrics", app.base)).send().await.expect("send");
        let text = res.text().await.expect("text");
        for needle in ["acorn_db_pool_connections{pool=\"write\"}", "acorn_db_pool_idle_connections{pool=\"read\"}",
            "acorn_jobs_pending{kind=\"sync.attempt\"}", "acorn_jobs_oldest_pending_age_seconds{kind=\"sandbox.advance\"}",
            "# TYPE acorn_http_requests_total counter", "# TYPE acorn_http_request_duration_seconds histogram"] {
            assert!(text.contains(needle), "{needle} missing: {text}");
        }
    }

    async fn metrics_time_the_wait_for_a_database_connection(app) {
        // Reads (the list) and writes (the create) check connections out of both pools.
        app.customer(json!({"email": "pool-wait@example.com"})).await;
        app.list_customers("").await;
        let res = app.http.get(format!("{}/metrics", app.base)).send().await.expect("send");
        let text = res.text().await.expect("text");
        assert!(text.contains("# TYPE acorn_db_pool_acquire_seconds histogram"), "{text}");
        for pool in ["read", "write"] {
            let prefix = format!("acorn_db_pool_acquire_seconds_count{{pool=\"{pool}\"}} ");
            let count: u64 = text
                .lines()
                .find_map(|l| l.strip_prefix(&prefix))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or_else(|| panic!("{prefix} missing: {text}"));
            assert!(count > 0, "{prefix}{count}");
            assert!(text.contains(&format!("acorn_db_pool_acquire_seconds_bucket{{pool=\"{pool}\",le=\"0.001\"}}")), "{text}");
        }
    }

    async fn openapi_document_is_served_without_auth(app) {
        let res = app.http.get(format!("{}/openapi.json", app.base)).send().await.expect("send");
        assert_eq!(res.status().as_u16(), 200);
        let doc: serde_json::Value = res.json().await.expect("json");
        assert_eq!(doc["openapi"], "3.1.0");
        for path in ["/api/v1/customers", "/api/v1/customers/batch", "/api/v1/customers/{id}/sync", "/api/v1/provider-registration/{customer_id}/submit"] {
            assert!(doc["paths"].get(path).is_some(), "{path} missing");
        }
    }
}

//! The OpenAPI document is generated from the router's own registrations: every served route is
//! in it (with its real parameter names), and every documented operation is served.

use reqwest::Method;
use serde_json::Value;

use crate::both_stores;

/// Every route the server answers (sandbox mode), as `(method, path template)`.
const SERVED: &[(&str, &str)] = &[
    ("get", "/api/health"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
    ("get", "/docs"),
    ("post", "/api/v1/merchant/token/grant"),
    ("get", "/api/v1/files/{file_id}/content"),
    ("post", "/api/v1/customers"),
    ("get", "/api/v1/customers"),
    ("post", "/api/v1/customers/batch"),
    ("get", "/api/v1/customers/{id}"),
    ("put", "/api/v1/customers/{id}"),
    ("delete", "/api/v1/customers/{id}"),
    ("post", "/api/v1/customers/{id}/platforms"),
    ("get", "/api/v1/provider-registration/schema"),
    ("get", "/api/v1/provider-registration/{customer_id}/status"),
    ("post", "/api/v1/provider-registration/{customer_id}/submit"),
    ("get", "/api/v1/events"),
    ("post", "/api/v1/customers/{id}/sync"),
    ("get", "/api/v1/customers/{id}/sync-attempts"),
    ("get", "/api/v1/customers/{id}/balances"),
    ("post", "/api/v1/customers/{id}/files"),
    ("get", "/api/v1/customers/{id}/files"),
    (
        "post",
        "/api/v1/sandbox/customers/{id}/registrations/{provider}/{target_role}/status",
    ),
    ("post", "/api/v1/sandbox/customers/{id}/balances"),
    ("post", "/api/v1/merchant/webhooks"),
    ("get", "/api/v1/merchant/webhooks"),
    ("get", "/api/v1/merchant/webhooks/{id}"),
    ("put", "/api/v1/merchant/webhooks/{id}"),
    ("delete", "/api/v1/merchant/webhooks/{id}"),
    ("patch", "/api/v1/merchant/webhooks/{id}/toggle"),
    ("get", "/api/v1/merchant/webhooks/notifications"),
    ("get", "/api/v1/merchant/webhooks/notifications/{id}"),
    (
        "post",
        "/api/v1/merchant/webhooks/notifications/{id}/replay",
    ),
];

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            out.push((method.clone(), path.clone(), op.clone()));
        }
    }
    out
}

/// A concrete URL for a template: the customer id of a customer that does not exist.
fn concrete(path: &str) -> String {
    path.replace("{id}", "cus_0192f0c5-7f2e-7c3a-9d6e-1a2b3c4d5e6f")
        .replace("{customer_id}", "cus_0192f0c5-7f2e-7c3a-9d6e-1a2b3c4d5e6f")
        .replace("{file_id}", "file_0192f0c5-7f2e-7c3a-9d6e-1a2b3c4d5e6f")
        .replace("{provider}", "stripe")
        .replace("{target_role}", "merchant")
}

both_stores! {
    async fn every_json_request_body_is_the_schema_of_the_type_the_server_parses(app) {
        let doc = app.send(Method::GET, "/openapi.json", None, None, &[]).await.body;
        let bodies = acorn_types::openapi::body_schemas();
        let mut seen = 0;
        for (method, path, op) in operations(&doc) {
            let Some(content) = op["requestBody"]["content"].as_object() else { continue };
            for (media, c) in content {
                if media.starts_with("multipart/") || path.ends_with("/providers/stripe/webhook") {
                    continue; // an upload, or Stripe's own event as Stripe sends it
                }
                let reference = c["schema"]["$ref"].as_str().unwrap_or_default();
                let name = reference.trim_start_matches("#/components/schemas/");
                let body = bodies.iter().find(|(n, _)| *n == name);
                let Some((_, schema)) = body else {
                    panic!("{method} {path} ({media}): {reference:?} is not a parsed body type");
                };
                assert_eq!(&doc["components"]["schemas"][name], schema, "{name}");
                assert!(schema["properties"].is_object(), "{name} has no properties");
                seen += 1;
            }
        }
        assert!(seen >= 11, "{seen} request bodies");
    }

    async fn every_served_route_is_documented_and_every_documented_one_served(app) {
        let res = app.send(Method::GET, "/openapi.json", None, None, &[]).await;
        assert_eq!(res.status, 200);
        let doc = res.body.clone();
        let ops = operations(&doc);
        for (method, path) in SERVED {
            assert!(ops.iter().any(|(m, p, _)| m == method && p == path), "{method} {path} is not documented");
        }
        assert_eq!(ops.len(), SERVED.len(), "documented but not in SERVED: {:?}",
            ops.iter().map(|(m, p, _)| format!("{m} {p}")).collect::<Vec<_>>());
        for (method, path, op) in &ops {
            let protected = op["security"].as_array().is_some_and(|s| !s.is_empty());
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let res = app.http.request(m, format!("{}{}", app.base, concrete(path))).send().await.expect("send");
            let status = res.status().as_u16();
            if protected {
                assert_eq!(status, 401, "{method} {path} is documented as protected");
                let documented = op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"].clone();
                assert_eq!(documented, "#/components/schemas/ErrorEnvelope", "{method} {path}");
            } else {
                assert!(![404, 405].contains(&status) || path.contains("{file_id}"), "{method} {path} → {status}");
            }
            assert!(op["operationId"].is_string(), "{method} {path} has no operationId");
        }
    }

    async fn parameters_carry_the_servers_rules(app) {
        let doc = app.send(Method::GET, "/openapi.json", None, None, &[]).await.body;
        let param = |path: &str, method: &str, name: &str| -> Value {
            doc["paths"][path][method]["parameters"].as_array().expect("parameters").iter()
                .find(|p| p["name"] == name).cloned().unwrap_or(Value::Null)
        };
        assert_eq!(param("/api/v1/customers", "get", "limit")["schema"]["type"], "integer");
        assert_eq!(param("/api/v1/customers", "get", "limit")["schema"]["minimum"], 1);
        assert_eq!(param("/api/v1/provider-registration/schema", "get", "provider")["required"], true);
        let key = param("/api/v1/customers", "post", "Idempotency-Key");
        assert_eq!(key["schema"]["maxLength"], 255);
        assert_eq!(key["schema"]["pattern"], "^[\\x20-\\x7E]{1,255}$");
        assert_eq!(param("/api/v1/customers/{id}", "get", "id")["in"], "path");
        let upload = &doc["paths"]["/api/v1/customers/{id}/files"]["post"]["requestBody"]["content"];
        assert!(upload.get("multipart/form-data").is_some(), "{upload}");
        assert_eq!(doc["paths"]["/api/v1/customers"]["post"]["operationId"], "customers.create");
        assert_eq!(doc["components"]["schemas"]["TokenRequest"]["properties"]["client_id"]["minLength"], 1);
        let text = doc.to_string();
        for part in text.split("#/components/schemas/").skip(1) {
            let name: String = part.chars().take_while(|c| c.is_alphanumeric()).collect();
            assert!(doc["components"]["schemas"].get(&name).is_some(), "dangling $ref {name}");
        }
    }

    async fn the_docs_page_is_served_from_the_binary(app) {
        let res = app.http.get(format!("{}/docs/", app.base)).send().await.expect("send");
        assert_eq!(res.status().as_u16(), 200);
        let html = res.text().await.expect("html");
        assert!(html.contains("swagger-ui"), "{html}");
        assert!(!html.contains("https://"), "no CDN: {html}");
    }
}

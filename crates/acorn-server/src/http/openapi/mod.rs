//! `GET /openapi.json` and `GET /docs`: the OpenAPI 3.1 description of the API (contract §10).
//!
//! The paths come from the handlers: every route is registered through `utoipa-axum`'s
//! [`OpenApiRouter::routes`](utoipa_axum::router::OpenApiRouter::routes) with `routes!`, which
//! reads the handler's `#[utoipa::path]` attribute, so the served routes and the documented
//! ones are one list (`tests/structure.rs` refuses a plain `.route(` in `routes/`). This module
//! finishes that generated document with what every operation shares: the component schemas
//! (built from the contract's tables in [`schemas`]), the parameters' constraints (one table,
//! [`params`]), bearer security on the protected operations, the `Idempotency-Key` header on
//! keyed `POST`s, and every error status with the error envelope.

pub mod markers;
mod params;
mod schemas;

use axum::Router;
use serde_json::{json, Map, Value};
use utoipa::openapi::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

/// The path of the document.
pub const DOCUMENT_PATH: &str = "/openapi.json";
/// The path of the human-readable page (Swagger UI, assets embedded in the binary).
pub const DOCS_PATH: &str = "/docs";

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

fn envelope_ref() -> Value {
    json!({"$ref": "#/components/schemas/ErrorEnvelope"})
}

/// The error statuses an operation can answer, each a reason the server really gives.
fn error_statuses(method: &str, op: &Value, protected: bool) -> Vec<(u16, &'static str)> {
    let mut out = vec![
        (
            400,
            "The request could not be read (malformed URL, header or body)",
        ),
        (404, "No such resource (or not this merchant's)"),
        (408, "The request took longer than the request timeout"),
        (500, "Internal error"),
        (503, "The database is unavailable"),
    ];
    let has_query = op["parameters"]
        .as_array()
        .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query" || p["in"] == "path"));
    let has_body = op.get("requestBody").is_some();
    if has_body || has_query || method == "post" {
        out.push((
            422,
            "Validation failed: every invalid field is named in failure_reasons",
        ));
    }
    if has_body {
        out.push((413, "The body is larger than the limit"));
        out.push((415, "The Content-Type is not one this operation accepts"));
    }
    if protected {
        out.push((401, "Missing, invalid or expired bearer token"));
        out.push((429, "Rate limited; Retry-After says when to retry"));
        if method == "post" {
            out.push((
                409,
                "A request with this Idempotency-Key is still in flight, or a version conflict",
            ));
        }
        if method == "put" {
            out.push((409, "If-Match does not match the current version"));
        }
    } else if op["operationId"] == "grant_token" {
        out.push((401, "Invalid client credentials"));
        out.push((
            429,
            "Too many token grants from this address; see Retry-After",
        ));
    }
    out
}

/// Adds what every operation of one access level shares.
fn finish_operation(method: &str, path: &str, op: &mut Value, protected: bool) {
    params::complete(path, op);
    if protected && method == "post" {
        params::push(op, params::idempotency_key());
    }
    op["security"] = if protected {
        json!([{"bearer": []}])
    } else {
        json!([])
    };
    let statuses = error_statuses(method, op, protected);
    let responses = op["responses"].as_object_mut();
    if let Some(responses) = responses {
        for (status, description) in statuses {
            responses.entry(status.to_string()).or_insert_with(|| {
                json!({"description": description,
                       "content": {"application/json": {"schema": envelope_ref()}}})
            });
        }
    }
}

fn paths_of(doc: &OpenApi, protected: bool, into: &mut Map<String, Value>) {
    let Ok(mut doc) = serde_json::to_value(doc) else {
        return;
    };
    let Value::Object(paths) = doc["paths"].take() else {
        return;
    };
    for (path, mut item) in paths {
        for method in METHODS {
            if let Some(op) = item.get_mut(method) {
                finish_operation(method, &path, op, protected);
            }
        }
        let entry = into.entry(path).or_insert_with(|| json!({}));
        if let (Some(entry), Value::Object(item)) = (entry.as_object_mut(), item) {
            entry.extend(item);
        }
    }
}

fn self_paths(into: &mut Map<String, Value>) {
    into.insert(
        DOCUMENT_PATH.to_owned(),
        json!({"get": {"operationId": "openapi", "summary": "This document", "security": [],
            "responses": {"200": {"description": "The OpenAPI 3.1 document",
                "content": {"application/json": {"schema": {"type": "object"}}}}}}}),
    );
    into.insert(
        DOCS_PATH.to_owned(),
        json!({"get": {"operationId": "docs", "summary": "This document as a readable page",
            "security": [], "responses": {
                "200": {"description": "Swagger UI", "content": {"text/html": {"schema": {"type": "string"}}}},
                "303": {"description": "Redirect to the page's canonical URL"}}}}),
    );
}

/// The finished document from the generated public and protected halves.
pub fn document(public: &OpenApi, protected: &OpenApi) -> Value {
    let mut paths = Map::new();
    paths_of(public, false, &mut paths);
    paths_of(protected, true, &mut paths);
    self_paths(&mut paths);
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Acorn — Oak Network customers API", "version": env!("CARGO_PKG_VERSION")},
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": schemas::schemas(),
        },
        "paths": paths,
    })
}

/// `GET /openapi.json` and the `/docs` page for a finished document.
pub fn routes<S: Clone + Send + Sync + 'static>(document: Value) -> Router<S> {
    SwaggerUi::new(DOCS_PATH)
        .external_url_unchecked(DOCUMENT_PATH, document)
        .into()
}

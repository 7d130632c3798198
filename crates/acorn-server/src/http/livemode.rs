//! `livemode` on every object the API returns (contract §13): a route layer of the protected
//! routes adds `"livemode": true|false` — the authenticated merchant's mode — to the objects a
//! successful JSON answer's `data` holds: `data` itself when it is an object, each object of
//! `data` when it is an array, and each object of an array directly inside `data` (a list's
//! `customer_list`, a batch's `results`, a customer's `platforms`) — and, since a batch result
//! holds the envelope the single request would have answered in its `body`, the `data` of that
//! envelope too. Objects nested deeper, or held directly by `data` (a customer's `metadata`),
//! are parts of their object and are left as they are.
//!
//! The layer sits outside the idempotency layer, so a replayed answer gets it too, and works
//! on the serialized bytes in one pass (no parse into a tree): the answer is already in
//! memory, and this costs a copy of it.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::http::auth::MerchantMode;

/// Largest answer the layer rewrites; a larger one (none today) is passed through as it is.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// The route layer.
pub async fn layer(req: Request, next: Next) -> Response {
    let mode = req.extensions().get::<MerchantMode>().copied();
    let response = next.run(req).await;
    let Some(MerchantMode(mode)) = mode else {
        return response;
    };
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !response.status().is_success() || !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return Response::from_parts(parts, Body::empty());
    };
    match inject(&bytes, mode.is_live()) {
        Some(out) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            if let Ok(len) = HeaderValue::from_str(&out.len().to_string()) {
                parts.headers.insert(header::CONTENT_LENGTH, len);
            }
            Response::from_parts(parts, Body::from(out))
        }
        None => Response::from_parts(parts, Body::from(bytes)),
    }
}

/// What a container is, for deciding which objects get `livemode`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// An envelope: the answer itself, or a batch item's `body`.
    Envelope,
    /// An envelope's `data`, an object.
    DataObject,
    /// An envelope's `data`, an array.
    DataArray,
    /// An array that is a member of a `data` object.
    ListArray,
    /// An object of a `data` array or of a list array.
    Item,
    /// Anything else.
    Other,
}

/// One open container while scanning.
struct Frame<'a> {
    role: Role,
    object: bool,
    /// The last key read in this object.
    key: &'a [u8],
    /// Whether the next string of this object is a key.
    expect_key: bool,
}

/// The role of a container opened with `open` inside `parent`.
fn role_of(parent: Option<&Frame<'_>>, open: u8) -> Role {
    let Some(p) = parent else {
        return if open == b'{' {
            Role::Envelope
        } else {
            Role::Other
        };
    };
    match (p.role, open, p.object.then_some(p.key)) {
        (Role::Envelope, b'{', Some(b"data")) => Role::DataObject,
        (Role::Envelope, b'[', Some(b"data")) => Role::DataArray,
        (Role::DataObject, b'[', Some(_)) => Role::ListArray,
        (Role::DataArray | Role::ListArray, b'{', None) => Role::Item,
        (Role::Item, b'{', Some(b"body")) => Role::Envelope,
        _ => Role::Other,
    }
}

/// `body` with `"livemode":…` added to the objects of its `data` (and of the `data` of an
/// envelope nested in a list item, a batch result's `body`); `None` when it has none (not an
/// envelope, `data` null or a scalar) or is not well-formed JSON.
pub fn inject(body: &[u8], livemode: bool) -> Option<Vec<u8>> {
    let field: &[u8] = if livemode {
        b"\"livemode\":true"
    } else {
        b"\"livemode\":false"
    };
    let mut out = Vec::with_capacity(body.len() + 32);
    let mut stack: Vec<Frame<'_>> = Vec::new();
    let mut injected = false;
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        match c {
            b'"' => {
                let start = i;
                i += 1;
                while i < body.len() && body[i] != b'"' {
                    i += if body[i] == b'\\' { 2 } else { 1 };
                }
                let end = i.min(body.len());
                out.extend_from_slice(&body[start..(end + 1).min(body.len())]);
                if let Some(top) = stack.last_mut().filter(|f| f.object && f.expect_key) {
                    top.key = &body[start + 1..end];
                    top.expect_key = false;
                }
                i = end + 1;
                continue;
            }
            b'{' | b'[' => {
                let role = role_of(stack.last(), c);
                stack.push(Frame {
                    role,
                    object: c == b'{',
                    key: b"",
                    expect_key: c == b'{',
                });
                out.push(c);
                if matches!(role, Role::DataObject | Role::Item) {
                    out.extend_from_slice(field);
                    let next = body[i + 1..].iter().find(|b| !b.is_ascii_whitespace());
                    if next != Some(&b'}') {
                        out.push(b',');
                    }
                    injected = true;
                }
            }
            b'}' | b']' => {
                stack.pop()?;
                out.push(c);
            }
            b',' => {
                if let Some(top) = stack.last_mut().filter(|f| f.object) {
                    top.expect_key = true;
                }
                out.push(c);
            }
            _ => out.push(c),
        }
        i += 1;
    }
    (stack.is_empty() && injected).then_some(out)
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::inject;

    fn run(v: Value, live: bool) -> Option<Value> {
        let text = serde_json::to_vec(&v).unwrap();
        inject(&text, live).map(|out| serde_json::from_slice(&out).expect("still JSON"))
    }

    #[test]
    fn the_data_object_gets_livemode_and_its_parts_do_not() {
        let out = run(
            json!({"msg": "ok", "data": {"id": "cus_1", "platforms": [{"provider": "stripe"}],
                   "metadata": {"data": {"x": 1}}}}),
            true,
        )
        .unwrap();
        assert_eq!(out["data"]["livemode"], true);
        assert!(out["data"]["platforms"][0].get("livemode").is_some());
        assert!(out["data"]["metadata"].get("livemode").is_none());
        assert!(out["data"]["metadata"]["data"].get("livemode").is_none());
        assert_eq!(out["msg"], "ok");
    }

    #[test]
    fn lists_and_arrays_get_it_on_each_object() {
        let out = run(
            json!({"msg": "m", "data": {"customer_list": [{"id": "a"}, {}], "count": 2}}),
            false,
        )
        .unwrap();
        assert_eq!(out["data"]["customer_list"][0]["livemode"], false);
        assert_eq!(out["data"]["customer_list"][1]["livemode"], false);
        assert_eq!(out["data"]["count"], 2);
        let out = run(
            json!({"msg": "m", "data": [{"id": "f"}, {"id": "g"}]}),
            true,
        )
        .unwrap();
        assert_eq!(out["data"][1]["livemode"], true);
        assert_eq!(out["data"]["livemode"], Value::Null);
    }

    #[test]
    fn strings_with_braces_and_quotes_are_left_alone() {
        let v = json!({"data": {"note": "a \"{data\": [\"x\"]} b\\", "k": "}"}, "msg": "{"});
        let out = run(v.clone(), true).unwrap();
        assert_eq!(out["data"]["note"], v["data"]["note"]);
        assert_eq!(out["data"]["k"], "}");
        assert_eq!(out["msg"], "{");
        assert_eq!(out["data"]["livemode"], true);
    }

    #[test]
    fn a_batch_items_envelope_gets_it_like_the_single_answer() {
        let out = run(
            json!({"msg": "m", "data": {"results": [
                {"status": 200, "body": {"msg": "Customer created", "data": {"id": "c", "body": {}}}},
                {"status": 422, "body": {"msg": "Validation failed", "data": null}}]}}),
            true,
        )
        .unwrap();
        let results = &out["data"]["results"];
        assert_eq!(results[0]["body"]["data"]["livemode"], true);
        assert_eq!(results[0]["body"]["data"]["body"].get("livemode"), None);
        assert_eq!(results[0]["body"].get("livemode"), None);
        assert_eq!(results[1]["body"]["data"], Value::Null);
    }

    #[test]
    fn answers_without_data_objects_are_not_changed() {
        assert!(run(json!({"msg": "m", "data": null}), true).is_none());
        assert!(run(json!({"access_token": "t"}), true).is_none());
        assert!(inject(b"{\"data\":{", true).is_none());
        assert!(inject(b"not json", true).is_none());
    }
}

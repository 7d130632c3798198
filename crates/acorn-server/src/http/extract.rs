//! Extractors that own their rejections, so malformed input gets the same envelope as every
//! other error instead of axum's plain-text defaults.

use acorn_types::{CustomerId, FailureReason, FromBody};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Multipart, Path, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde_json::{Map, Value};

use crate::http::error::ApiError;

/// A JSON object body: `Content-Type: application/json`, within the body limit, well-formed,
/// and an object at the top level.
pub struct JsonObject(pub Map<String, Value>);

fn mime_of(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn is_json(content_type: &str) -> bool {
    let mime = mime_of(content_type);
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

fn content_type(req: &Request) -> &str {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// Reads the body bytes, mapping the body-limit rejection to 413.
pub async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::payload_too_large("request body is larger than the 1 MiB limit")
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "could not read the request body")
        }
    })
}

/// Parses bytes as a JSON object.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::validation(vec![FailureReason::new(
            acorn_types::ReasonCode::InvalidInput,
            "request body must be a JSON object",
            &[],
        )])),
        Err(e) => Err(ApiError::bad_request(
            acorn_types::ReasonCode::InvalidInput,
            format!("malformed JSON: {e}"),
            &[],
        )),
    }
}

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(content_type(&req)) {
            return Err(ApiError::unsupported_media_type(
                "expected Content-Type: application/json",
            ));
        }
        let bytes = body_bytes(req, state).await?;
        parse_object(&bytes).map(JsonObject)
    }
}

/// A JSON body read by its type's one parser ([`FromBody`]): a [`JsonObject`] first, then
/// `T::from_body`, whose reasons are the 422. The same parser the SDK uses, and the same type
/// whose schema the OpenAPI document shows.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: FromBody> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let JsonObject(body) = JsonObject::from_request(req, state).await?;
        T::from_body(&body).map(Body).map_err(ApiError::validation)
    }
}

/// A `multipart/form-data` body, read part by part by the handler. A request that announces a
/// body over the upload limit is refused before any of it is read; one without a length is
/// cut off at the limit while streaming (the route's `DefaultBodyLimit`).
pub struct MultipartForm(pub Multipart);

impl<S: Send + Sync> FromRequest<S> for MultipartForm {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if mime_of(content_type(&req)) != "multipart/form-data" {
            return Err(ApiError::unsupported_media_type(
                "expected Content-Type: multipart/form-data",
            ));
        }
        let announced = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let limit = crate::base::limits::UPLOAD_BODY_LIMIT;
        if announced.is_some_and(|len| len > limit as u64) {
            return Err(ApiError::payload_too_large(format!(
                "the request is larger than the {} MiB limit",
                limit / (1024 * 1024)
            )));
        }
        Multipart::from_request(req, state)
            .await
            .map(MultipartForm)
            .map_err(|_| {
                ApiError::unsupported_media_type("multipart/form-data needs a boundary parameter")
            })
    }
}

/// The `{id}` path segment as a customer id. Anything that is not one is simply unknown (404).
pub struct CustomerPath(pub CustomerId);

impl<S: Send + Sync> FromRequestParts<S> for CustomerPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found())?;
        CustomerId::parse(&raw)
            .map(CustomerPath)
            .map_err(|_| ApiError::not_found())
    }
}

/// Query-string pairs, percent-decoded, in order.
pub fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json(""));
    }

    #[test]
    fn query_is_decoded_before_splitting() {
        let pairs = query_pairs(Some("email=a%40b.co%2Cc%40d.co&limit=5"));
        assert_eq!(pairs[0], ("email".to_owned(), "a@b.co,c@d.co".to_owned()));
        assert_eq!(pairs[1].1, "5");
    }
}

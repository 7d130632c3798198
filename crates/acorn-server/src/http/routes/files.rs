//! KYC file endpoints (contract §4.7): upload, list, and the signed download link.

use acorn_types::{ApiResponse, CustomerFile, FailureReason, FileId, ReasonCode};
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::uri::Authority;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::adapters::files::link::{now_secs, LinkError};
use crate::adapters::files::name::attachment_name;
use crate::adapters::files::sniff::Kind;
use crate::http::auth::AuthMerchant;
use crate::http::error::ApiError;
use crate::http::extract::{query_pairs, CustomerPath, MultipartForm};
use crate::http::state::AppState;
use crate::http::upload;
use crate::store::{format_time, StoredFile};

/// Scheme and authority for download links: the configured public URL, else `http://` and
/// the request's `Host` (when it is a well-formed authority), else the listen address.
pub struct LinkBase(String);

impl FromRequestParts<AppState> for LinkBase {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(url) = &state.config.public_url {
            return Ok(LinkBase(url.trim_end_matches('/').to_owned()));
        }
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .and_then(|h| h.parse::<Authority>().ok())
            .or_else(|| parts.uri.authority().cloned())
            .map(|a| a.to_string())
            .unwrap_or_else(|| state.config.listen.to_string());
        Ok(LinkBase(format!("http://{host}")))
    }
}

fn to_wire(state: &AppState, base: &LinkBase, file: StoredFile) -> CustomerFile {
    CustomerFile {
        url: state.files.links.url(&base.0, file.id, now_secs()),
        id: file.id.to_string(),
        file_type: file.file_type,
        name: file.name,
        content_type: file.content_type,
        size: file.size,
        sha256: file.sha256,
        created_at: format_time(file.created_at),
    }
}

/// `POST /api/v1/customers/{id}/files`.
#[utoipa::path(
    post,
    path = "/api/v1/customers/{id}/files",
    operation_id = "customers.upload_files",
    tag = "customers",
    summary = "Upload KYC files (multipart: file parts and file_type)",
    request_body(content = crate::http::openapi::markers::FileUpload, content_type = "multipart/form-data"),
    responses((status = 201, description = "The stored files with signed links", body = crate::http::openapi::markers::FilesEnvelope))
)]
pub async fn upload(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    CustomerPath(customer): CustomerPath,
    base: LinkBase,
    MultipartForm(form): MultipartForm,
) -> Result<Response, ApiError> {
    // Before reading any of the body: another merchant's customer must cost nothing.
    if !state.store.customer_exists(merchant, customer).await? {
        return Err(ApiError::not_found());
    }
    let checked = upload::read(form).await?;
    let stored = crate::services::files::upload(&state, merchant, customer, checked).await?;
    let data: Vec<CustomerFile> = stored
        .into_iter()
        .map(|f| to_wire(&state, &base, f))
        .collect();
    Ok((
        StatusCode::CREATED,
        Json(ApiResponse::new("file upload successful", data)),
    )
        .into_response())
}

/// `GET /api/v1/customers/{id}/files`.
#[utoipa::path(
    get,
    path = "/api/v1/customers/{id}/files",
    operation_id = "customers.get_files",
    tag = "customers",
    summary = "The customer's files with signed links",
    responses((status = 200, description = "The files", body = crate::http::openapi::markers::FilesEnvelope))
)]
pub async fn list(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    CustomerPath(customer): CustomerPath,
    base: LinkBase,
) -> Result<Response, ApiError> {
    let stored = state.store.list_files(merchant, customer).await?;
    let data: Vec<CustomerFile> = stored
        .into_iter()
        .map(|f| to_wire(&state, &base, f))
        .collect();
    Ok(Json(ApiResponse::new("Files fetched", data)).into_response())
}

fn forbidden(message: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, message).with_reason(FailureReason::new(
        ReasonCode::InvalidToken,
        message,
        &["signature"],
    ))
}

/// `GET /api/v1/files/{file_id}/content?expires=…&signature=…` (no bearer token: the signed
/// link is the credential).
#[utoipa::path(
    get,
    path = "/api/v1/files/{file_id}/content",
    operation_id = "files.content",
    tag = "files",
    summary = "Download a file through its signed link (the link is the credential)",
    params(("expires" = String, Query), ("signature" = String, Query)),
    responses((status = 200, description = "The file"), (status = 403, description = "Invalid or expired link", body = crate::http::openapi::markers::ErrorEnvelope))
)]
pub async fn content(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let invalid = || forbidden("invalid download link");
    let Path(raw) = path.map_err(|_| invalid())?;
    let id = FileId::parse(&raw).map_err(|_| invalid())?;
    let pairs = query_pairs(query.as_deref());
    let param = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    state
        .files
        .links
        .verify(id, param("expires"), param("signature"), now_secs())
        .map_err(|e| match e {
            LinkError::Invalid => invalid(),
            LinkError::Expired => forbidden("download link expired"),
        })?;
    let (merchant, file) = state
        .store
        .file_by_id(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let body = state.files.store.get(merchant, id).await?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        attachment_name(&file.name, Kind::from_content_type(&file.content_type))
    );
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_str(&file.content_type),
        ),
        (header::CONTENT_LENGTH, Ok(HeaderValue::from(body.size))),
        (
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&disposition),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            Ok(HeaderValue::from_static("nosniff")),
        ),
        (
            header::CACHE_CONTROL,
            Ok(HeaderValue::from_static("private, no-store")),
        ),
    ];
    let mut response = Body::from_stream(body.stream).into_response();
    for (name, value) in headers {
        let value = value.map_err(|e| ApiError::internal(anyhow::anyhow!("header {name}: {e}")))?;
        response.headers_mut().insert(name, value);
    }
    Ok(response)
}

//! Reading an upload (contract §4.7): a `file_type` text part and one or more `file` parts,
//! checked while they stream in. Everything is validated before anything is stored, so a bad
//! part leaves no trace.

use acorn_types::{FailureReason, FileType, ReasonCode};
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::Multipart;
use axum::http::StatusCode;
use bytes::BytesMut;
use sha2::{Digest, Sha256};

use crate::adapters::files::name::display_name;
use crate::adapters::files::sniff::{detect, SNIFF_LEN};
use crate::adapters::files::{IncomingFile, Upload, MAX_FILES};
use crate::base::limits::{MAX_FILE_BYTES, UPLOAD_BODY_LIMIT};
use crate::http::error::ApiError;

/// Longest `file_type` part read.
const MAX_FILE_TYPE_BYTES: usize = 64;

fn read_error(e: MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large(format!(
            "the request is larger than the {} MiB limit",
            UPLOAD_BODY_LIMIT / (1024 * 1024)
        ))
    } else {
        ApiError::bad_request(ReasonCode::InvalidInput, "malformed multipart body", &[])
    }
}

fn missing(part: &str, message: &str) -> ApiError {
    ApiError::validation(vec![FailureReason::new(
        ReasonCode::MissingRequiredInformation,
        message,
        &[part],
    )])
}

fn unsupported() -> ApiError {
    ApiError::unsupported_media_type("a file must be a PDF, JPEG or PNG document")
}

/// Reads and checks every part.
pub async fn read(mut form: Multipart) -> Result<Upload, ApiError> {
    let mut file_type = None;
    let mut files = Vec::new();
    while let Some(field) = form.next_field().await.map_err(read_error)? {
        match field.name() {
            Some("file") => {
                if files.len() == MAX_FILES {
                    return Err(ApiError::invalid(
                        "file",
                        format!("at most {MAX_FILES} files per request"),
                    ));
                }
                files.push(read_file(field).await?);
            }
            Some("file_type") if file_type.is_none() => {
                file_type = Some(read_file_type(field).await?);
            }
            Some("file_type") => {
                return Err(ApiError::invalid("file_type", "file_type is given twice"));
            }
            other => {
                let part = other
                    .unwrap_or_default()
                    .chars()
                    .take(64)
                    .collect::<String>();
                return Err(ApiError::invalid(
                    &part,
                    "unknown part; expected `file` and `file_type`",
                ));
            }
        }
    }
    let file_type = file_type.ok_or_else(|| missing("file_type", "file_type is required"))?;
    if files.is_empty() {
        return Err(missing("file", "at least one file part is required"));
    }
    Ok(Upload { file_type, files })
}

async fn read_file_type(mut field: Field<'_>) -> Result<FileType, ApiError> {
    let mut raw = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(read_error)? {
        raw.extend_from_slice(&chunk);
        if raw.len() > MAX_FILE_TYPE_BYTES {
            return Err(ApiError::invalid("file_type", "file_type is too long"));
        }
    }
    let text = std::str::from_utf8(&raw)
        .map_err(|_| ApiError::invalid("file_type", "file_type must be text"))?;
    FileType::parse(text).map_err(|e| ApiError::invalid("file_type", e.to_string()))
}

/// Reads one file, refusing it as soon as it is too large or its leading bytes are not an
/// accepted kind. Hashing happens chunk by chunk as the bytes arrive.
async fn read_file(mut field: Field<'_>) -> Result<IncomingFile, ApiError> {
    let name = display_name(field.file_name());
    let mut bytes = BytesMut::new();
    let mut hasher = Sha256::new();
    let mut kind = None;
    while let Some(chunk) = field.chunk().await.map_err(read_error)? {
        if bytes.len() + chunk.len() > MAX_FILE_BYTES {
            return Err(ApiError::payload_too_large(format!(
                "a file is larger than the {} MiB limit",
                MAX_FILE_BYTES / (1024 * 1024)
            )));
        }
        hasher.update(&chunk);
        bytes.extend_from_slice(&chunk);
        if kind.is_none() && bytes.len() >= SNIFF_LEN {
            kind = Some(detect(&bytes).ok_or_else(unsupported)?);
        }
    }
    if bytes.is_empty() {
        return Err(ApiError::invalid("file", "a file is empty"));
    }
    let kind = match kind {
        Some(kind) => kind,
        None => detect(&bytes).ok_or_else(unsupported)?,
    };
    Ok(IncomingFile {
        name,
        kind,
        sha256: hex::encode(hasher.finalize()),
        bytes: bytes.freeze(),
    })
}

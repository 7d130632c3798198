//! Files to upload with `CustomerService::upload_files`.

use std::fmt;
use std::path::Path;

use bytes::Bytes;
use reqwest::multipart::{Form, Part};

use crate::error::OakError;

/// One document to upload: its name, its bytes and, optionally, a declared content type.
///
/// The server judges the type by the leading bytes (PDF, JPEG or PNG), not by the declared type
/// or the name. Each file may be at most 5 MiB. `Debug` shows neither the name nor the bytes.
#[derive(Clone)]
pub struct FileUpload {
    /// File name sent with the part (e.g. `passport.pdf`).
    pub name: String,
    /// The content. `Bytes` is cheap to clone, so retries do not copy the file.
    pub bytes: Bytes,
    /// Declared content type of the part (e.g. `application/pdf`), if any.
    pub content_type: Option<String>,
}

impl FileUpload {
    /// A file from memory.
    pub fn new(name: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        Self {
            name: name.into(),
            bytes: bytes.into(),
            content_type: None,
        }
    }

    /// Sets the declared content type.
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// Reads a file from disk; its name is the path's file name.
    pub async fn from_path(path: impl AsRef<Path>) -> Result<Self, OakError> {
        let path = path.as_ref();
        let bytes = tokio::fs::read(path).await.map_err(|e| {
            OakError::InvalidArgument(format!("cannot read {}: {e}", path.display()))
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".to_owned());
        Ok(Self::new(name, bytes))
    }
}

impl fmt::Debug for FileUpload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileUpload")
            .field("len", &self.bytes.len())
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

/// The multipart body: the `file_type` text part first (so a server can check it before reading
/// the files), then one `file` part per document.
pub(crate) fn form(file_type: &str, files: &[FileUpload]) -> Form {
    let mut form = Form::new().text("file_type", file_type.to_owned());
    for f in files {
        let len = f.bytes.len() as u64;
        let mut part = Part::stream_with_length(reqwest::Body::from(f.bytes.clone()), len)
            .file_name(f.name.clone());
        if let Some(ct) = &f.content_type {
            // An unparsable declared type is dropped rather than failing the upload: the server
            // ignores it anyway.
            part = match part.mime_str(ct) {
                Ok(p) => p,
                Err(_) => Part::stream_with_length(reqwest::Body::from(f.bytes.clone()), len)
                    .file_name(f.name.clone()),
            };
        }
        form = form.part("file", part);
    }
    form
}

//! Stored KYC file metadata (contract §4.7).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::enums::FileType;

/// One stored file of a customer, as listed by `GET /api/v1/customers/{id}/files` and returned
/// by the upload.
///
/// On the wire the type appears twice, as `fileType` (what the TypeScript SDK reads) and
/// `file_type`; both are written, either is read.
///
/// `Debug` hides the file name (may carry a person's name) and the signed download link.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FileWire", into = "FileWire")]
pub struct CustomerFile {
    /// `file_…`.
    pub id: String,
    /// The document kind.
    pub file_type: FileType,
    /// The uploaded file's name.
    pub name: String,
    /// The detected content type (`application/pdf`, `image/jpeg`, `image/png`).
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    /// A temporary, signed download link (no bearer token needed).
    pub url: String,
    /// When it was uploaded (RFC 3339).
    pub created_at: String,
}

impl fmt::Debug for CustomerFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomerFile")
            .field("id", &self.id)
            .field("file_type", &self.file_type)
            .field("content_type", &self.content_type)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct FileWire {
    id: String,
    #[serde(rename = "fileType", default, skip_serializing_if = "Option::is_none")]
    file_type_camel: Option<FileType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    file_type: Option<FileType>,
    name: String,
    content_type: String,
    size: u64,
    sha256: String,
    url: String,
    created_at: String,
}

impl From<CustomerFile> for FileWire {
    fn from(f: CustomerFile) -> Self {
        Self {
            id: f.id,
            file_type_camel: Some(f.file_type),
            file_type: Some(f.file_type),
            name: f.name,
            content_type: f.content_type,
            size: f.size,
            sha256: f.sha256,
            url: f.url,
            created_at: f.created_at,
        }
    }
}

impl TryFrom<FileWire> for CustomerFile {
    type Error = String;
    fn try_from(w: FileWire) -> Result<Self, Self::Error> {
        let file_type = w
            .file_type
            .or(w.file_type_camel)
            .ok_or_else(|| "missing field `file_type` (or `fileType`)".to_owned())?;
        Ok(Self {
            id: w.id,
            file_type,
            name: w.name,
            content_type: w.content_type,
            size: w.size,
            sha256: w.sha256,
            url: w.url,
            created_at: w.created_at,
        })
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn wire() -> serde_json::Value {
        json!({ "id": "file_1", "fileType": "PASSPORT", "file_type": "PASSPORT",
                "name": "passport.pdf", "content_type": "application/pdf", "size": 48213,
                "sha256": "ab", "url": "http://h/api/v1/files/file_1/content?sig=x",
                "created_at": "2026-01-01T00:00:00Z" })
    }

    #[test]
    fn both_type_keys_written_either_read() {
        let f: CustomerFile = serde_json::from_value(wire()).expect("parse");
        assert_eq!(f.file_type, FileType::Passport);
        assert_eq!(serde_json::to_value(&f).expect("json"), wire());
        let mut only_camel = wire();
        if let Some(m) = only_camel.as_object_mut() {
            m.remove("file_type");
        }
        let g: CustomerFile = serde_json::from_value(only_camel).expect("parse camel");
        assert_eq!(g, f);
        let mut neither = wire();
        if let Some(m) = neither.as_object_mut() {
            m.remove("file_type");
            m.remove("fileType");
        }
        assert!(serde_json::from_value::<CustomerFile>(neither).is_err());
    }

    #[test]
    fn debug_hides_name_and_link() {
        let f: CustomerFile = serde_json::from_value(wire()).expect("parse");
        let d = format!("{f:?}");
        assert!(!d.contains("passport.pdf") && !d.contains("sig=x"), "{d}");
    }
}

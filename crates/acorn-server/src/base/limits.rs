//! Every body and size limit of the API, in one place.
//!
//! `routes` applies the body limits (axum's `DefaultBodyLimit`), the idempotency layer buffers
//! keyed bodies up to them, and the extractors and the upload reader quote them in their 413s.

/// One mebibyte.
pub const MIB: usize = 1024 * 1024;

/// Largest JSON (or other non-upload) request body accepted.
pub const JSON_BODY_LIMIT: usize = MIB;

/// Largest file upload request accepted (the whole multipart body).
pub const UPLOAD_BODY_LIMIT: usize = 26 * MIB;

/// Largest single file accepted in an upload.
pub const MAX_FILE_BYTES: usize = 5 * MIB;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_request_holds_at_least_one_largest_file() {
        const { assert!(UPLOAD_BODY_LIMIT > MAX_FILE_BYTES) };
        const { assert!(JSON_BODY_LIMIT <= UPLOAD_BODY_LIMIT) };
    }
}

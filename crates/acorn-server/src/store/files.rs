//! File metadata rows (contract §4.7); the bytes live in the file store (`crate::adapters::files`).

use std::collections::HashSet;

use acorn_types::{CustomerId, FileId, FileType, MerchantId};
use anyhow::Context;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow, Row};

use super::sql::Sql;
use super::{Store, StoreError};

const COLUMNS: &str = "id, file_type, name, content_type, size, sha256, created_at";

/// A stored file's metadata.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// Its id (also its object key, under its merchant).
    pub id: FileId,
    /// The document kind.
    pub file_type: FileType,
    /// Display name (never a path).
    pub name: String,
    /// Detected content type.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    /// Upload time, microseconds since the epoch.
    pub created_at: i64,
}

impl std::fmt::Debug for StoredFile {
    // The name may carry a person's name: keep it out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredFile")
            .field("id", &self.id)
            .field("file_type", &self.file_type)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

fn uuid_text(id: uuid::Uuid) -> String {
    id.to_string()
}

/// A file row as stored.
#[derive(sqlx::FromRow)]
struct FileRow {
    id: String,
    file_type: String,
    name: String,
    content_type: String,
    size: i64,
    sha256: String,
    created_at: i64,
}

fn file_from_row(row: &AnyRow) -> anyhow::Result<StoredFile> {
    let r = FileRow::from_row(row)?;
    Ok(StoredFile {
        id: FileId::parse(&r.id).context("stored file id")?,
        file_type: FileType::parse(&r.file_type).context("stored file type")?,
        name: r.name,
        content_type: r.content_type,
        size: u64::try_from(r.size).context("stored file size")?,
        sha256: r.sha256,
        created_at: r.created_at,
    })
}

/// Records a customer's new files (metadata rows) on `conn`.
pub(crate) async fn insert_file_rows(
    conn: &mut AnyConnection,
    merchant: MerchantId,
    customer: CustomerId,
    files: &[StoredFile],
) -> Result<(), StoreError> {
    let mut sql = Sql::new(
        "INSERT INTO files (id, merchant_id, customer_id, file_type, name, content_type, size, sha256, created_at) VALUES ",
    );
    for (i, f) in files.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        sql.bind(uuid_text(f.id.uuid())).push(", ");
        sql.bind(uuid_text(merchant.uuid())).push(", ");
        sql.bind(uuid_text(customer.uuid())).push(", ");
        sql.bind(f.file_type.as_str().to_owned()).push(", ");
        sql.bind(f.name.clone()).push(", ");
        sql.bind(f.content_type.clone()).push(", ");
        sql.bind(i64::try_from(f.size).context("file size")?)
            .push(", ");
        sql.bind(f.sha256.clone()).push(", ");
        sql.bind(f.created_at).push(")");
    }
    let (text, args) = sql.into_parts()?;
    sqlx::query_with(&text, args).execute(conn).await?;
    Ok(())
}

impl Store {
    /// A customer's files, newest first. `NotFound` when the merchant has no such customer.
    pub async fn list_files(
        &self,
        merchant: MerchantId,
        customer: CustomerId,
    ) -> Result<Vec<StoredFile>, StoreError> {
        if !self.customer_exists(merchant, customer).await? {
            return Err(StoreError::NotFound);
        }
        let text = format!(
            "SELECT {COLUMNS} FROM files WHERE merchant_id = $1 AND customer_id = $2 ORDER BY id DESC"
        );
        let rows = sqlx::query(&text)
            .bind(uuid_text(merchant.uuid()))
            .bind(uuid_text(customer.uuid()))
            .fetch_all(&mut *self.read.acquire().await?)
            .await?;
        Ok(rows
            .iter()
            .map(file_from_row)
            .collect::<anyhow::Result<_>>()?)
    }

    /// A file and its owner, whoever that is (for signed links, which are their own
    /// authority).
    pub async fn file_by_id(
        &self,
        id: FileId,
    ) -> Result<Option<(MerchantId, StoredFile)>, StoreError> {
        let text = format!("SELECT merchant_id, {COLUMNS} FROM files WHERE id = $1");
        let row = sqlx::query(&text)
            .bind(uuid_text(id.uuid()))
            .fetch_optional(&mut *self.read.acquire().await?)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let merchant: String = row.try_get("merchant_id")?;
        let merchant = MerchantId::parse(&merchant).context("stored merchant id")?;
        Ok(Some((merchant, file_from_row(&row)?)))
    }

    /// Which of `ids` have a metadata row (for the orphan sweep).
    pub async fn existing_file_ids(&self, ids: &[FileId]) -> Result<HashSet<FileId>, StoreError> {
        if ids.is_empty() {
            return Ok(HashSet::new());
        }
        let texts: Vec<String> = ids.iter().map(|id| uuid_text(id.uuid())).collect();
        let mut sql = Sql::new("SELECT id FROM files WHERE id IN ");
        sql.bind_list(&texts);
        let (text, args) = sql.into_parts()?;
        let found: Vec<String> = sqlx::query_scalar_with(&text, args)
            .fetch_all(&mut *self.read.acquire().await?)
            .await?;
        Ok(found.iter().filter_map(|s| FileId::parse(s).ok()).collect())
    }
}

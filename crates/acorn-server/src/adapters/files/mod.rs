//! KYC files: the byte store, upload checks, signed download links and the orphan sweep.
//!
//! An upload is checked completely in memory (at most 26 MiB, enforced while reading), then its
//! objects are written, then the metadata rows are inserted in one transaction. If writing or
//! the commit fails, the objects already written are deleted; objects that outlive a crash in
//! between are removed by [`sweep`].

pub mod link;
pub mod name;
pub mod sniff;
pub mod store;
pub mod sweep;

use acorn_types::{FileId, MerchantId};
use anyhow::Context;
use futures::future::join_all;

use crate::base::config::Config;
use crate::store::{now_micros, Store, StoredFile};
use acorn_types::FileType;
use bytes::Bytes;
use link::LinkSigner;
use sniff::Kind;
use store::{default_file_store_url, FileStore};

/// Most files accepted in one request.
pub const MAX_FILES: usize = 10;

/// One checked file, held in memory until the whole request is known to be good.
pub struct IncomingFile {
    /// Display name (see [`name::display_name`]).
    pub name: String,
    /// What the leading bytes say it is.
    pub kind: Kind,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    /// The content.
    pub bytes: Bytes,
}

/// A complete, valid upload.
pub struct Upload {
    /// The type every file of the request has.
    pub file_type: FileType,
    /// At least one file.
    pub files: Vec<IncomingFile>,
}

/// The file store and the link signer, shared by every request.
#[derive(Debug)]
pub struct Files {
    /// Where the bytes live.
    pub store: FileStore,
    /// Signs and checks download links.
    pub links: LinkSigner,
}

impl Files {
    /// Opens the configured store (a local directory under the data dir by default) and loads
    /// the link key.
    pub async fn load(config: &Config, db: &Store) -> anyhow::Result<Self> {
        if let Some(public) = &config.public_url {
            let parsed = url::Url::parse(public).context("parsing the public URL")?;
            anyhow::ensure!(
                matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some(),
                "the public URL must look like https://host[:port]"
            );
        }
        let url = match &config.file_store {
            Some(url) => url.clone(),
            None => default_file_store_url(&config.data_dir)?,
        };
        Ok(Files {
            store: FileStore::open(&url)?,
            links: LinkSigner::load(db, config.file_link_ttl).await?,
        })
    }

    /// Writes every object of a checked upload and returns the metadata rows to record. On
    /// failure nothing stays: the objects written are deleted again.
    pub async fn put_all(
        &self,
        merchant: MerchantId,
        upload: Upload,
    ) -> anyhow::Result<Vec<StoredFile>> {
        let now = now_micros();
        let (rows, contents): (Vec<_>, Vec<_>) = upload
            .files
            .into_iter()
            .map(|f| {
                let row = StoredFile {
                    id: FileId::new(),
                    file_type: upload.file_type,
                    name: f.name,
                    content_type: f.kind.content_type().to_owned(),
                    size: f.bytes.len() as u64,
                    sha256: f.sha256,
                    created_at: now,
                };
                (row, f.bytes)
            })
            .unzip();
        let sealed = rows
            .iter()
            .zip(contents)
            .map(|(row, bytes)| store::seal(merchant, row.id, &bytes))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let puts = rows
            .iter()
            .zip(sealed)
            .map(|(row, bytes)| self.store.put(merchant, row.id, bytes));
        let results = join_all(puts).await;
        let written: Vec<FileId> = rows
            .iter()
            .zip(&results)
            .filter(|(_, r)| r.is_ok())
            .map(|(row, _)| row.id)
            .collect();
        if let Some(e) = results.into_iter().find_map(Result::err) {
            self.remove(merchant, &written).await;
            return Err(e);
        }
        Ok(rows)
    }

    /// Deletes objects that will not be recorded (the orphan sweep catches any left over).
    pub async fn remove(&self, merchant: MerchantId, ids: &[FileId]) {
        for id in ids {
            if let Err(e) = self.store.delete(merchant, *id).await {
                tracing::warn!(file_id = %id, error = format!("{e:#}"), "could not remove an unrecorded object; the sweep will");
            }
        }
    }
}

//! Where file bytes live: one interface over a local directory or an S3-compatible bucket
//! (`object_store`). Objects are keyed `<prefix>/<merchant uuid>/<file uuid>`; the original
//! file name never becomes part of a path.

use std::path::Path as FsPath;
use std::sync::Arc;

use acorn_types::{FileId, MerchantId};
use anyhow::Context;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, PutPayload};
use url::Url;

/// The file store behind the API.
#[derive(Clone)]
pub struct FileStore {
    objects: Arc<dyn ObjectStore>,
    prefix: Path,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore")
            .field("objects", &self.objects.to_string())
            .field("prefix", &self.prefix.as_ref())
            .finish()
    }
}

/// The bytes of one stored object, as a stream.
pub struct ObjectBody {
    /// Its size in bytes.
    pub size: u64,
    /// The content.
    pub stream: BoxStream<'static, Result<Bytes, object_store::Error>>,
}

/// How a sealed object starts.
const MAGIC: &[u8] = b"acorn-enc1\n";

/// A file's bytes sealed with the merchant's data key (after the content was sniffed):
/// `MAGIC`, then nonce, ciphertext and tag.
pub fn seal(merchant: MerchantId, id: FileId, bytes: &[u8]) -> anyhow::Result<Bytes> {
    let key = crate::base::crypto::data_key(merchant)?;
    let mut sealed = MAGIC.to_vec();
    sealed.extend(key.seal_bytes(bytes, &id.to_string()));
    Ok(Bytes::from(sealed))
}

/// `file://<data_dir>/files`, the default store.
pub fn default_file_store_url(data_dir: &FsPath) -> anyhow::Result<String> {
    let dir = std::path::absolute(data_dir.join("files")).context("resolving the data dir")?;
    Url::from_directory_path(&dir)
        .map(String::from)
        .map_err(|()| anyhow::anyhow!("{} is not a usable directory path", dir.display()))
}

impl FileStore {
    /// Opens `file:///PATH` (created if missing) or `s3://BUCKET/PREFIX[?endpoint=URL]`
    /// (credentials, region and endpoint from the usual `AWS_*` variables such as
    /// `AWS_ENDPOINT_URL`, the URL's `endpoint` winning; plain-HTTP endpoints are allowed, for
    /// MinIO-style servers).
    pub fn open(url: &str) -> anyhow::Result<Self> {
        let parsed = Url::parse(url).context("parsing the file store URL")?;
        match parsed.scheme() {
            "file" => {
                let dir = parsed
                    .to_file_path()
                    .map_err(|()| anyhow::anyhow!("file store URL needs an absolute path"))?;
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("creating the file store {}", dir.display()))?;
                let local = LocalFileSystem::new_with_prefix(&dir)
                    .with_context(|| format!("opening the file store {}", dir.display()))?
                    .with_automatic_cleanup(true);
                Ok(FileStore {
                    objects: Arc::new(local),
                    prefix: Path::default(),
                })
            }
            "s3" => {
                let bucket = parsed
                    .host_str()
                    .filter(|b| !b.is_empty())
                    .context("s3:// URL needs a bucket: s3://BUCKET/PREFIX")?;
                let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
                for (key, value) in parsed.query_pairs() {
                    match key.as_ref() {
                        "endpoint" => builder = builder.with_endpoint(value),
                        other => anyhow::bail!("unsupported s3:// URL parameter {other:?} (only `endpoint`)"),
                    }
                }
                if builder
                    .get_config_value(&AmazonS3ConfigKey::Endpoint)
                    .is_some_and(|e| e.starts_with("http://"))
                {
                    builder = builder.with_allow_http(true);
                }
                let s3 = builder.build().context("configuring the S3 file store")?;
                let prefix =
                    Path::from_url_path(parsed.path()).context("parsing the S3 key prefix")?;
                Ok(FileStore {
                    objects: Arc::new(s3),
                    prefix,
                })
            }
            other => anyhow::bail!(
                "unsupported file store scheme {other:?} (expected file:///PATH or s3://BUCKET/PREFIX)"
            ),
        }
    }

    fn key(&self, merchant: MerchantId, id: FileId) -> Path {
        self.prefix
            .child(merchant.uuid().to_string())
            .child(id.uuid().to_string())
    }

    /// The merchant and file an object key belongs to; `None` for keys Acorn did not make.
    pub fn parse_key(&self, location: &Path) -> Option<(MerchantId, FileId)> {
        let mut parts = location.prefix_match(&self.prefix)?;
        let merchant = uuid::Uuid::parse_str(parts.next()?.as_ref()).ok()?;
        let file = uuid::Uuid::parse_str(parts.next()?.as_ref()).ok()?;
        if parts.next().is_some() {
            return None;
        }
        Some((MerchantId::from_uuid(merchant), FileId::from_uuid(file)))
    }

    /// Stores an object's bytes as given ([`seal`] them first).
    pub async fn put(&self, merchant: MerchantId, id: FileId, bytes: Bytes) -> anyhow::Result<()> {
        self.objects
            .put(&self.key(merchant, id), PutPayload::from(bytes))
            .await
            .context("writing to the file store")?;
        Ok(())
    }

    /// A file's bytes, opened (files are at most a few MiB: read whole, then opened). Objects
    /// stored before encryption (no `MAGIC`) are served as they are.
    pub async fn get(&self, merchant: MerchantId, id: FileId) -> anyhow::Result<ObjectBody> {
        let got = self
            .objects
            .get(&self.key(merchant, id))
            .await
            .context("reading from the file store")?;
        let stored = got.bytes().await.context("reading from the file store")?;
        let plain = match stored.strip_prefix(MAGIC) {
            Some(sealed) => {
                let key = crate::base::crypto::data_key(merchant)?;
                Bytes::from(key.open_bytes(sealed, &id.to_string())?)
            }
            None => stored,
        };
        Ok(ObjectBody {
            size: plain.len() as u64,
            stream: futures::stream::once(async move { Ok(plain) }).boxed(),
        })
    }

    /// Removes a file's bytes; removing a missing object is not an error.
    pub async fn delete(&self, merchant: MerchantId, id: FileId) -> anyhow::Result<()> {
        self.delete_object(&self.key(merchant, id)).await
    }

    pub(super) async fn delete_object(&self, location: &Path) -> anyhow::Result<()> {
        match self.objects.delete(location).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e).context("deleting from the file store"),
        }
    }

    /// Every object under the store's prefix.
    pub(super) fn list(&self) -> BoxStream<'static, anyhow::Result<ObjectMeta>> {
        self.objects
            .list(Some(&self.prefix))
            .map_err(|e| anyhow::Error::new(e).context("listing the file store"))
            .boxed()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_foreign_keys_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(&default_file_store_url(dir.path()).unwrap()).unwrap();
        let (m, f) = (MerchantId::new(), FileId::new());
        assert_eq!(store.parse_key(&store.key(m, f)), Some((m, f)));
        for foreign in ["notes.txt", "a/b", "a/b/c", &format!("{}/x", m.uuid())] {
            assert_eq!(store.parse_key(&Path::from(foreign)), None, "{foreign}");
        }
    }

    #[test]
    fn unknown_schemes_are_refused() {
        assert!(FileStore::open("ftp://host/dir").is_err());
        assert!(FileStore::open("s3:///prefix").is_err());
        assert!(FileStore::open("s3://bucket/p?secret=x").is_err());
        assert!(FileStore::open("s3://bucket/p?endpoint=http://127.0.0.1:9").is_ok());
    }
}

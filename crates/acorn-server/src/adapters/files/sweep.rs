//! Removing objects that have no metadata row: left behind when a process died between writing
//! an upload's objects and committing (or undoing) its rows.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use acorn_types::FileId;
use futures::TryStreamExt;
use object_store::path::Path;

use super::Files;
use crate::store::Store;

/// Objects younger than this are never swept: their upload may still be committing. Uploads
/// are bounded by the request timeout (30 s by default), far below this.
pub const MIN_AGE: Duration = Duration::from_secs(60 * 60);

/// How often a running server sweeps (it also sweeps once on start).
pub const EVERY: Duration = Duration::from_secs(6 * 60 * 60);

const BATCH: usize = 500;

/// Deletes every object older than `min_age` whose file has no row; keys Acorn did not make
/// are left alone. Returns how many objects were removed.
pub async fn sweep_orphans(files: &Files, db: &Store, min_age: Duration) -> anyhow::Result<u64> {
    let cutoff = chrono::Utc::now() - min_age;
    let mut listing = files.store.list();
    let mut batch: HashMap<FileId, Path> = HashMap::new();
    let mut removed = 0;
    while let Some(meta) = listing.try_next().await? {
        if meta.last_modified > cutoff {
            continue;
        }
        if let Some((_, id)) = files.store.parse_key(&meta.location) {
            batch.insert(id, meta.location);
        }
        if batch.len() >= BATCH {
            removed += remove_unrecorded(files, db, &mut batch).await?;
        }
    }
    removed += remove_unrecorded(files, db, &mut batch).await?;
    Ok(removed)
}

async fn remove_unrecorded(
    files: &Files,
    db: &Store,
    batch: &mut HashMap<FileId, Path>,
) -> anyhow::Result<u64> {
    let ids: Vec<FileId> = batch.keys().copied().collect();
    let recorded = db.existing_file_ids(&ids).await?;
    let mut removed = 0;
    for (id, location) in batch.drain() {
        if !recorded.contains(&id) {
            files.store.delete_object(&location).await?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Sweeps now and then every [`EVERY`], until the task is aborted.
pub async fn run_periodically(files: Arc<Files>, db: Store) {
    loop {
        match sweep_orphans(&files, &db, MIN_AGE).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                removed = n,
                "removed unrecorded objects from the file store"
            ),
            Err(e) => tracing::warn!(error = format!("{e:#}"), "file store sweep failed"),
        }
        tokio::time::sleep(EVERY).await;
    }
}

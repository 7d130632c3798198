//! One fsync for many SQLite group commits, outside the write lock.
//!
//! With `synchronous=FULL` SQLite fsyncs the WAL inside every commit, while it holds the write
//! lock: the next group of creates cannot start until the disk has answered. The create writer
//! instead commits its groups with `synchronous=NORMAL` (the frames are written to the WAL, not
//! yet synced) and hands their answers to a [`Syncer`], which fsyncs the WAL file and only then
//! lets the answers go. An fsync covers every frame written before it began, so groups that
//! commit while one runs all wait for the next one: one fsync for all of them, while the writer
//! is already writing the group after. What is acknowledged is on disk, as with `FULL`:
//! frames are either still in the WAL (synced here) or a checkpoint copied them into the
//! database file, and SQLite syncs every checkpoint in `NORMAL` too, before the WAL is reused.
//! SQLite takes no locks on the WAL file itself (its locks are on the `-shm` file and the
//! database), so opening and closing it here cannot drop one of SQLite's locks.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;

/// How the durability of a commit is awaited: a function of the sync's outcome.
pub(crate) type AfterSync = Box<dyn FnOnce(Result<(), Arc<io::Error>>) + Send>;

/// Makes a database's committed WAL frames durable.
pub(crate) trait Flush: Send + Sync + 'static {
    /// Returns once every frame written before the call is on disk.
    fn flush(&self) -> io::Result<()>;
}

/// The WAL file of a SQLite database, as SQLite names it (`<database>-wal`).
#[derive(Debug)]
pub(crate) struct WalFile {
    database: PathBuf,
    wal: PathBuf,
    /// The WAL's inode when its directory was last synced (a new WAL file's directory entry
    /// must be on disk too).
    synced_inode: std::sync::Mutex<Option<u64>>,
}

impl WalFile {
    /// The WAL of the database file at `database`, once that file exists (`None` for an
    /// in-memory database).
    pub(crate) fn of(database: &Path) -> Option<Self> {
        let database = std::fs::canonicalize(database).ok()?;
        if !database.is_file() {
            return None;
        }
        let mut wal = database.clone().into_os_string();
        wal.push("-wal");
        Some(WalFile {
            database,
            wal: PathBuf::from(wal),
            synced_inode: Default::default(),
        })
    }
}

impl Flush for WalFile {
    fn flush(&self) -> io::Result<()> {
        use std::os::unix::fs::MetadataExt;
        match std::fs::File::open(&self.wal) {
            Ok(file) => {
                file.sync_data()?;
                let inode = file.metadata()?.ino();
                let mut synced = self
                    .synced_inode
                    .lock()
                    .map_err(|_| io::Error::other("the WAL sync state is poisoned"))?;
                if *synced != Some(inode) {
                    if let Some(dir) = self.wal.parent() {
                        std::fs::File::open(dir)?.sync_all()?;
                    }
                    *synced = Some(inode);
                }
                Ok(())
            }
            // The last connection closed and checkpointed the WAL into the database (synced by
            // SQLite before the WAL is removed); sync the database file all the same.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::fs::File::open(&self.database)?.sync_data()
            }
            Err(e) => Err(e),
        }
    }
}

/// Answers waiting for their commits to be on disk; one background task per store.
#[derive(Clone)]
pub(crate) struct Syncer {
    waiting: mpsc::UnboundedSender<AfterSync>,
    flushes: Arc<AtomicU64>,
}

impl std::fmt::Debug for Syncer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Syncer").finish_non_exhaustive()
    }
}

impl Syncer {
    /// Starts the task that flushes with `flush` (on a blocking thread).
    pub(crate) fn start(flush: Arc<dyn Flush>) -> Self {
        let (waiting, rx) = mpsc::unbounded_channel();
        let flushes = Arc::new(AtomicU64::new(0));
        tokio::spawn(run(flush, rx, flushes.clone()));
        Syncer { waiting, flushes }
    }

    /// Flushes so far.
    pub(crate) fn flushes(&self) -> u64 {
        self.flushes.load(Ordering::Relaxed)
    }

    /// Calls `then` after a flush that began after this call (with the flush's outcome).
    /// Call it once the commit has returned.
    pub(crate) fn after_sync(&self, then: AfterSync) {
        if let Err(mpsc::error::SendError(then)) = self.waiting.send(then) {
            then(Err(Arc::new(io::Error::other(
                "the WAL sync task has stopped",
            ))));
        }
    }
}

async fn run(
    flush: Arc<dyn Flush>,
    mut rx: mpsc::UnboundedReceiver<AfterSync>,
    flushes: Arc<AtomicU64>,
) {
    let mut batch = Vec::new();
    while rx.recv_many(&mut batch, usize::MAX).await > 0 {
        // Everything received was committed before this flush begins.
        let flush = flush.clone();
        let outcome = match tokio::task::spawn_blocking(move || flush.flush()).await {
            Ok(outcome) => outcome.map_err(Arc::new),
            Err(e) => Err(Arc::new(io::Error::other(format!(
                "the WAL sync failed: {e}"
            )))),
        };
        flushes.fetch_add(1, Ordering::Relaxed);
        for then in batch.drain(..) {
            then(outcome.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Mutex;
    use std::time::Duration;

    /// A flush that waits for the test to let it finish, and counts itself.
    struct Gate {
        open: Mutex<std::sync::mpsc::Receiver<io::Result<()>>>,
        flushes: AtomicUsize,
    }

    impl Flush for Gate {
        fn flush(&self) -> io::Result<()> {
            self.flushes.fetch_add(1, Ordering::SeqCst);
            let open = self.open.lock().map_err(|_| io::Error::other("poisoned"))?;
            open.recv()
                .unwrap_or(Err(io::Error::other("the test ended")))
        }
    }

    fn answered(syncer: &Syncer) -> tokio::sync::oneshot::Receiver<Result<(), Arc<io::Error>>> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        syncer.after_sync(Box::new(move |r| {
            let _ = tx.send(r);
        }));
        rx
    }

    async fn settle() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    #[tokio::test]
    async fn answers_wait_for_a_flush_begun_after_them_and_share_it() {
        let (release, open) = std::sync::mpsc::channel();
        let gate = Arc::new(Gate {
            open: Mutex::new(open),
            flushes: AtomicUsize::new(0),
        });
        let syncer = Syncer::start(gate.clone());
        let mut first = answered(&syncer);
        settle().await;
        assert_eq!(gate.flushes.load(Ordering::SeqCst), 1);
        // Committed while the first flush runs: they need the next one.
        let mut second = answered(&syncer);
        let third = answered(&syncer);
        settle().await;
        assert!(first.try_recv().is_err(), "answered before its flush ended");
        release.send(Ok(())).unwrap_or_default();
        assert!(first.await.is_ok_and(|r| r.is_ok()));
        settle().await;
        assert!(
            second.try_recv().is_err(),
            "answered by a flush begun before it"
        );
        assert_eq!(gate.flushes.load(Ordering::SeqCst), 2, "one flush for both");
        release
            .send(Err(io::Error::other("disk gone")))
            .unwrap_or_default();
        let failed = second.await.ok().and_then(|r| r.err());
        assert!(failed.is_some_and(|e| e.to_string() == "disk gone"));
        assert!(third.await.is_ok_and(|r| r.is_err()));
        assert_eq!(syncer.flushes(), 2);
    }

    #[test]
    fn a_wal_file_is_flushed_and_a_missing_one_falls_back_to_the_database() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let db = dir.path().join("acorn.db");
        assert!(WalFile::of(&db).is_none(), "no database file yet");
        std::fs::write(&db, b"x").unwrap_or_else(|e| panic!("{e}"));
        let wal = WalFile::of(&db).unwrap_or_else(|| panic!("a file database has a WAL"));
        assert!(wal.wal.to_string_lossy().ends_with("acorn.db-wal"));
        assert!(wal.flush().is_ok(), "without a WAL the database is synced");
        std::fs::write(&wal.wal, b"frames").unwrap_or_else(|e| panic!("{e}"));
        assert!(wal.flush().is_ok());
        assert!(wal.synced_inode.lock().is_ok_and(|i| i.is_some()));
    }
}

//! Where a plan is applied and undone: a [`Place`] reads through a [`Store`] and makes the few kinds of
//! change apply and undo need. The local home is one place ([`LocalPlace`]); a site over Kudu's REST API
//! is another (`crate::remote::RemotePlace`). Apply's steps, journal and checks are the same for both;
//! only these primitives differ.
//!
//! What every place guarantees: nothing is deleted that is not first kept in the (local) backup folder;
//! a write replaces exactly the version the step last read (a local write is atomic under the apply
//! lock; a remote one is guarded by that version's ETag, `If-Match`, never `*`); nothing is written
//! through a symbolic link.

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::store::local::{
    append, create_new, lstat_opt, move_to, remove_stale_temps, set_mtime, truncate, write_atomic,
};
use crate::store::{EntryKind, LocalStore, RelPath, Store};

/// The primitives apply and undo change a home with.
pub trait Place: Send + Sync {
    /// Reading the home: preconditions, digests, originals.
    fn store(&self) -> &dyn Store;

    /// Moves the file or folder at `path` out of the home into `to` (a local path that must not
    /// exist): kept there whole, then gone from the home.
    ///
    /// # Errors
    /// A file that changed since it was last read (a remote guard), or what the move fails with.
    fn move_out(&self, path: &RelPath, to: &Path) -> Result<()>;

    /// Puts back at `path` what [`Place::move_out`] kept at `from`.
    ///
    /// # Errors
    /// What the move fails with; nothing is overwritten.
    fn move_back(&self, from: &Path, path: &RelPath) -> Result<()>;

    /// Replaces the file at `path` with `bytes` (`mtime` where the place can set it), or creates it
    /// when `version` is `None`. `version` is the [`crate::store::Bytes::etag`] of the read whose
    /// content the caller has just checked: over Kudu's API the write replaces exactly that version
    /// (`If-Match`), and a create is refused where a file appeared. A local place writes atomically
    /// under the apply lock and has no versions.
    ///
    /// # Errors
    /// `PRECONDITION_FAILED` when the file is not that version any more (remote), or the write's
    /// error.
    fn write(
        &self,
        path: &RelPath,
        bytes: &[u8],
        mtime: Option<DateTime<Utc>>,
        version: Option<&str>,
    ) -> Result<()>;

    /// Creates the file at `path`, which must not exist, with `bytes`.
    ///
    /// # Errors
    /// When something is there (a link included), or the write's error.
    fn create(&self, path: &RelPath, bytes: &[u8], mtime: DateTime<Utc>) -> Result<()>;

    /// Appends `bytes` to the file at `path`.
    ///
    /// # Errors
    /// The write's error (remote: the file changed since it was last read).
    fn append(&self, path: &RelPath, bytes: &[u8], mtime: DateTime<Utc>) -> Result<()>;

    /// Cuts the file at `path` back to `len` bytes (an append undone, or a torn one cut off), if it
    /// is still `version` (as for [`Place::write`]).
    ///
    /// # Errors
    /// `PRECONDITION_FAILED` when the file is not that version any more (remote), or the write's
    /// error.
    fn truncate(&self, path: &RelPath, len: u64, version: Option<&str>) -> Result<()>;

    /// `path` as errors name it: the full local path, or the path in the site.
    fn shown(&self, path: &RelPath) -> std::path::PathBuf;

    /// Sets the last write time of the file at `path`. `false` when the place cannot (Kudu's API has
    /// no way to set a file's time), so undo can say which times it could not restore.
    ///
    /// # Errors
    /// The write's error.
    fn set_mtime(&self, path: &RelPath, t: DateTime<Utc>) -> Result<bool>;

    /// Whether [`Place::write`] and [`Place::set_mtime`] set the times asked for.
    fn sets_times(&self) -> bool;

    /// Marks the file at `path` written now, as Kudu's every status save touches `active`.
    ///
    /// # Errors
    /// The write's error.
    fn touch(&self, path: &RelPath, t: DateTime<Utc>) -> Result<()>;

    /// Removes what a write killed halfway may have left in the folder `dir` (the place's own temp
    /// files, never anything else).
    ///
    /// # Errors
    /// The listing's or removal's error.
    fn clean_up(&self, dir: &RelPath) -> Result<()>;

    /// Whether [`Place::append`] adds to the file in place. Over Kudu's API it rewrites the whole
    /// file, which a broken connection can leave cut short, so apply keeps the original first.
    fn appends_in_place(&self) -> bool {
        true
    }

    /// Whether a [`Place::move_out`] of a folder can stop halfway with the folder in both places:
    /// over Kudu's API a folder is copied, then deleted file by file. Undo then puts back only the
    /// files missing from the site (refusing any that differ).
    fn moves_in_parts(&self) -> bool {
        false
    }

    /// Ends Kudu's process on `instance` to release the Windows `lock` it holds open, after proving
    /// again that the lock is the one planned (its ETag `planned`: the same acquisition) and that
    /// Kudu there still holds it, then `still_stalled` (the step's other guards) just before the
    /// request, then that Kudu no longer holds it. `Ok(false)`: the lock was released or taken anew
    /// meanwhile, nothing was sent (a resumed apply never ends Kudu twice).
    ///
    /// # Errors
    /// `INVALID_INPUT` where there is no Kudu to restart (a home on a disk); `PRECONDITION_FAILED`
    /// when the holder cannot be asked or from `still_stalled`; `HELD_OPEN` when Kudu still holds
    /// the lock afterwards; the requests' errors.
    fn restart_kudu(
        &self,
        instance: &str,
        lock: &RelPath,
        planned: Option<&str>,
        still_stalled: &dyn Fn() -> Result<()>,
    ) -> Result<bool> {
        let _ = (instance, lock, planned, still_stalled);
        Err(crate::error::Error::invalid(
            "plan",
            "restarting Kudu is done over its API (--remote); a home on a disk has no Kudu to restart",
        ))
    }
}

/// A home on a disk: moves are renames into a backup on the same file system, writes are atomic
/// renames of a synced temp file, under the home's apply lock.
#[derive(Debug, Clone)]
pub struct LocalPlace {
    store: LocalStore,
}

impl LocalPlace {
    /// The home at `root`.
    #[must_use]
    pub fn new(root: &Path) -> LocalPlace {
        LocalPlace {
            store: LocalStore::new(root),
        }
    }

    fn full(&self, path: &RelPath) -> std::path::PathBuf {
        path.under(self.store.root())
    }
}

impl Place for LocalPlace {
    fn store(&self) -> &dyn Store {
        &self.store
    }

    fn move_out(&self, path: &RelPath, to: &Path) -> Result<()> {
        move_to(&self.full(path), to)
    }

    fn move_back(&self, from: &Path, path: &RelPath) -> Result<()> {
        move_to(from, &self.full(path))
    }

    fn write(
        &self,
        path: &RelPath,
        bytes: &[u8],
        mtime: Option<DateTime<Utc>>,
        _version: Option<&str>,
    ) -> Result<()> {
        write_atomic(&self.full(path), bytes, mtime)
    }

    fn create(&self, path: &RelPath, bytes: &[u8], mtime: DateTime<Utc>) -> Result<()> {
        create_new(&self.full(path), bytes, mtime)
    }

    fn append(&self, path: &RelPath, bytes: &[u8], mtime: DateTime<Utc>) -> Result<()> {
        let full = self.full(path);
        append(&full, bytes)?;
        set_mtime(&full, mtime)
    }

    fn truncate(&self, path: &RelPath, len: u64, _version: Option<&str>) -> Result<()> {
        truncate(&self.full(path), len)
    }

    fn shown(&self, path: &RelPath) -> std::path::PathBuf {
        self.full(path)
    }

    fn set_mtime(&self, path: &RelPath, t: DateTime<Utc>) -> Result<bool> {
        set_mtime(&self.full(path), t).map(|()| true)
    }

    fn sets_times(&self) -> bool {
        true
    }

    fn touch(&self, path: &RelPath, t: DateTime<Utc>) -> Result<()> {
        let full = self.full(path);
        match lstat_opt(&full)? {
            Some(m) if m.kind == EntryKind::File => set_mtime(&full, t),
            Some(_) => Ok(()),
            // Kudu creates `active` empty when it is missing.
            None => write_atomic(&full, b"", Some(t)),
        }
    }

    fn clean_up(&self, dir: &RelPath) -> Result<()> {
        remove_stale_temps(&self.full(dir))
    }
}

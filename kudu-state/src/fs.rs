//! The write side: every change kudu-state makes to a home goes through here.
//!
//! Writes are atomic (a temp file in the same folder, synced, then renamed over the target), so a crash
//! leaves the old file or the new one, never half of each. Removals are renames into a backup folder, so
//! nothing is ever deleted. Nothing here follows a symbolic link: targets are checked with `lstat`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::store::{EntryKind, Meta, lstat};

/// A 64-bit FNV-1a digest. It detects that a file changed between plan and apply; it is not a defence
/// against an adversary (who could change a file back to the same digest), which is not the threat here.
#[must_use]
pub fn digest(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("fnv1a64:{h:016x}")
}

/// `lstat`, or `None` when the path does not exist.
pub(crate) fn lstat_opt(path: &Path) -> Result<Option<Meta>> {
    match lstat(path) {
        Ok(m) => Ok(Some(m)),
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads a whole regular file (no link), refusing one larger than `cap`.
pub(crate) fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>> {
    let meta = lstat(path)?;
    if meta.kind != EntryKind::File {
        return Err(Error::io(
            "read",
            path,
            std::io::Error::other("not a regular file (links are never followed)"),
        ));
    }
    if meta.size > cap {
        return Err(Error::io(
            "read",
            path,
            std::io::Error::other(format!("larger than {cap} bytes")),
        ));
    }
    fs_err::read(path).map_err(|e| Error::io("read", path, e))
}

/// The digest of a regular file, a marker that equals no digest for anything else (a link, a folder),
/// `None` when it does not exist. Files kudu-state rewrites (status files, `active`) are all under the
/// `status.xml` cap.
pub(crate) fn file_digest(path: &Path) -> Result<Option<String>> {
    match lstat_opt(path)? {
        Some(m) if m.kind == EntryKind::File => Ok(Some(digest(&read_capped(
            path,
            crate::scan::STATUS_XML_CAP,
        )?))),
        Some(_) => Ok(Some("not-a-file".to_owned())),
        None => Ok(None),
    }
}

/// Writes `bytes` to `path` atomically: temp file beside it, fsync, rename, fsync the folder.
/// The temp name starts with `.kudu-state-` so a leftover from a crash is recognisable.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], mtime: Option<DateTime<Utc>>) -> Result<()> {
    if let Some(m) = lstat_opt(path)?
        && matches!(
            m.kind,
            EntryKind::Symlink { .. } | EntryKind::Dir | EntryKind::Other
        )
    {
        return Err(Error::Protected {
            path: path.to_path_buf(),
            reason: "not a regular file; kudu-state never writes through a link".to_owned(),
        });
    }
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".kudu-state-{}-{name}.tmp", std::process::id()));
    let result = (|| {
        let mut f = fs_err::File::create(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
        f.write_all(bytes)
            .map_err(|e| Error::io("write", &tmp, e))?;
        if let Some(t) = mtime {
            f.file()
                .set_modified(SystemTime::from(t))
                .map_err(|e| Error::io("set the time of", &tmp, e))?;
        }
        f.sync_all().map_err(|e| Error::io("sync", &tmp, e))?;
        drop(f);
        fs_err::rename(&tmp, path).map_err(|e| Error::io("rename", path, e))?;
        sync_dir(dir);
        Ok(())
    })();
    if result.is_err() {
        let _ = fs_err::remove_file(&tmp);
    }
    result
}

/// Appends `bytes` to an existing regular file and syncs it.
pub(crate) fn append(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = fs_err::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| Error::io("open", path, e))?;
    f.write_all(bytes)
        .map_err(|e| Error::io("append to", path, e))?;
    f.sync_all().map_err(|e| Error::io("sync", path, e))
}

/// Truncates a regular file to `len` bytes.
pub(crate) fn truncate(path: &Path, len: u64) -> Result<()> {
    let f = fs_err::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| Error::io("open", path, e))?;
    f.set_len(len).map_err(|e| Error::io("truncate", path, e))?;
    f.sync_all().map_err(|e| Error::io("sync", path, e))
}

/// Sets a file's last write time.
pub(crate) fn set_mtime(path: &Path, t: DateTime<Utc>) -> Result<()> {
    let f = fs_err::File::open(path).map_err(|e| Error::io("open", path, e))?;
    f.file()
        .set_modified(SystemTime::from(t))
        .map_err(|e| Error::io("set the time of", path, e))
}

/// Moves `from` to `to` (same file system), creating `to`'s parent. A rename never follows a link: a link
/// is moved as a link.
pub(crate) fn move_to(from: &Path, to: &Path) -> Result<()> {
    if let Some(parent) = to.parent() {
        fs_err::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
    }
    fs_err::rename(from, to).map_err(|e| {
        if e.kind() == std::io::ErrorKind::CrossesDevices {
            Error::io("move", from, std::io::Error::other("the backup folder must be on the same file system as the home (kudu-state moves, it never copies and deletes)"))
        } else {
            Error::io("move", from, e)
        }
    })?;
    if let Some(parent) = from.parent() {
        sync_dir(parent);
    }
    Ok(())
}

/// Best-effort fsync of a folder so a rename survives a power cut (not supported everywhere).
fn sync_dir(dir: &Path) {
    if let Ok(f) = fs_err::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// A digest of a folder tree (names, kinds, sizes, mtimes), to notice any change inside it between plan and
/// apply — a log that grew, a file that appeared. Links are listed, not followed. Bounded to `max_entries`.
pub(crate) fn tree_digest(root: &Path, max_entries: usize) -> Result<String> {
    let mut lines = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        let mut entries: Vec<_> = fs_err::read_dir(&dir)
            .map_err(|e| Error::io("list", &dir, e))?
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| Error::io("list", &dir, e))?;
        entries.sort_by_key(fs_err::DirEntry::file_name);
        for e in entries {
            let r = rel.join(e.file_name());
            let m = lstat(&e.path())?;
            lines.push(format!(
                "{}|{:?}|{}|{:?}",
                r.to_string_lossy(),
                m.kind,
                m.size,
                m.modified
            ));
            if lines.len() > max_entries {
                return Err(Error::invalid(
                    "argument",
                    format!(
                        "`{}` holds more than {max_entries} entries; too many to move safely",
                        root.display()
                    ),
                ));
            }
            if m.kind == EntryKind::Dir {
                stack.push(r);
            }
        }
    }
    Ok(digest(lines.join("\n").as_bytes()))
}

/// An exclusive, non-blocking lock on `path` (created if missing), released when the guard drops.
///
/// The lock file is never deleted: deleting a flock-based lock file lets a newcomer lock a different
/// inode while the holder still holds the old one (spec §9.3).
#[derive(Debug)]
pub(crate) struct HomeLock {
    _file: std::fs::File,
}

impl HomeLock {
    /// How long to wait for the lock before answering `APPLY_LOCKED`. Short: it covers an apply that is
    /// just finishing, and a `fork()` in another thread of the same process, whose child holds the lock's
    /// file description until its `exec` closes it.
    const PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

    pub(crate) fn acquire(path: &Path) -> Result<HomeLock> {
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| Error::io("open", path, e))?;
        let deadline = std::time::Instant::now() + Self::PATIENCE;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(HomeLock { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(25));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(Error::ApplyLocked {
                        path: path.to_path_buf(),
                    });
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(Error::io("lock", path, e)),
            }
        }
    }
}

//! The local file system as a [`Store`], and every primitive kudu-state changes a local home with.
//!
//! Reading: links are never followed (`O_NOFOLLOW` on Unix, `lstat` first elsewhere) and every read is
//! capped. Writing: writes are atomic (a temp file in the same folder, synced, then renamed over the
//! target), so a crash leaves the old file or the new one, never half of each; removals are renames into
//! a backup folder, so nothing is ever deleted; nothing is written through a symbolic link.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, Utc};

use super::{Bytes, DirEntry, EntryKind, Meta, RelPath, Store};
use crate::error::{Error, Result};

/// A [`Store`] over the local file system, rooted at a home directory.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    /// A store rooted at `root` (the home). The root itself may be a link (e.g. `/home` on some images);
    /// nothing below it is followed.
    #[must_use]
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalStore { root: root.into() }
    }

    /// The root directory.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Opens a regular file for reading, refusing links and anything that is not a regular file, and
    /// returns the metadata of what was opened.
    ///
    /// On Unix the kernel refuses a link as the file itself (`O_NOFOLLOW`; a folder above it swapped
    /// for a link in the moment between listing and open is a race this does not close),
    /// `O_NONBLOCK` keeps a FIFO from hanging the open and `O_NOCTTY` a terminal device from becoming
    /// ours; the one `fstat` then gives kind, size and mtime, and anything but a regular file is
    /// refused before a byte is read. Elsewhere an `lstat` comes before the open.
    fn open_regular(&self, path: &RelPath) -> Result<(std::fs::File, Meta)> {
        let full = self.full_path(path);
        let file = open_no_follow(&full)?;
        let meta = meta_of(
            &file.metadata().map_err(|e| Error::io("stat", &full, e))?,
            None,
        );
        if meta.kind != EntryKind::File {
            return Err(not_regular(&full));
        }
        Ok((file, meta))
    }
}

impl LocalStore {
    /// [`RelPath::under`] the root, built in one copy: this runs once per record read. On Unix a
    /// `RelPath`'s `/` is the separator, so the path is the root, one `/` (none after an empty root or
    /// one that ends in `/`, as [`PathBuf::push`] does) and the relative path, which is exactly what
    /// `under` gives by pushing each component.
    #[cfg(unix)]
    fn full_path(&self, path: &RelPath) -> PathBuf {
        let root = self.root.as_os_str();
        let mut full = std::ffi::OsString::with_capacity(root.len() + 1 + path.as_str().len());
        full.push(root);
        if !root.is_empty() && !root.as_encoded_bytes().ends_with(b"/") {
            full.push("/");
        }
        full.push(path.as_str());
        PathBuf::from(full)
    }

    #[cfg(not(unix))]
    fn full_path(&self, path: &RelPath) -> PathBuf {
        path.under(&self.root)
    }
}

fn not_regular(full: &Path) -> Error {
    Error::io(
        "read",
        full,
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (links are never followed)",
        ),
    )
}

/// Errors are mapped with the path by [`Error::io`], so std's `File` is used directly: fs-err's would
/// copy the path into every handle, and this open runs once per record.
#[cfg(unix)]
fn open_no_follow(full: &Path) -> Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(full)
    {
        Ok(f) => Ok(f),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => Err(not_regular(full)),
        Err(e) => Err(Error::io("open", full, e)),
    }
}

#[cfg(not(unix))]
fn open_no_follow(full: &Path) -> Result<std::fs::File> {
    let before = lstat(full)?;
    if before.kind != EntryKind::File {
        return Err(not_regular(full));
    }
    // Without `O_NOFOLLOW` a link swapped in between this check and the open is read through; the
    // kind of what was opened is checked again by the caller.
    std::fs::OpenOptions::new()
        .read(true)
        .open(full)
        .map_err(|e| Error::io("open", full, e))
}

impl Store for LocalStore {
    /// One thread below 64 reads (a thread costs more than that many `status.xml` reads), else one per
    /// core up to 4 (measured: the scan is half kernel time; more threads only contend).
    fn parallelism(&self, reads: usize) -> usize {
        if reads < 64 {
            1
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
        }
    }

    fn meta(&self, path: &RelPath) -> Result<Option<Meta>> {
        crate::store::local::lstat_opt(&path.under(&self.root))
    }

    fn list(&self, path: &RelPath) -> Result<Vec<DirEntry>> {
        let full = path.under(&self.root);
        // `read_dir` follows a link; few folders are listed (settled records are not), so one `lstat`
        // keeps the rule for every caller.
        if lstat(&full)?.kind != EntryKind::Dir {
            return Err(Error::io(
                "list",
                &full,
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "not a directory (links are never followed)",
                ),
            ));
        }
        let mut out = Vec::new();
        for entry in fs_err::read_dir(&full).map_err(|e| Error::io("list", &full, e))? {
            let entry = entry.map_err(|e| Error::io("list", &full, e))?;
            // `into_string` keeps the listing's copy of the name (no second copy per entry).
            let (name, utf8) = match entry.file_name().into_string() {
                Ok(s) => (s, true),
                Err(os_name) => (os_name.to_string_lossy().into_owned(), false),
            };
            // `file_type` is the listing's `d_type` (an `lstat` only where the file system has none).
            let ft = match entry.file_type() {
                Ok(ft) => ft,
                // Deleted between the listing and the stat: Kudu is live, that happens.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io("stat", entry.path(), e)),
            };
            let kind = kind_of(ft, || entry.path());
            out.push(DirEntry { name, utf8, kind });
        }
        // Names a folder lists are distinct, so an unstable sort gives the stable sort's order (and
        // is cheaper: no scratch copy of the 100,000 entries of a neglected site). Only two names
        // that are not UTF-8 can read the same once made lossy; then the listing's order between
        // them is kept.
        if out.iter().all(|e| e.utf8) {
            out.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        } else {
            out.sort_by(|a, b| a.name.cmp(&b.name));
        }
        Ok(out)
    }

    fn read_head(&self, path: &RelPath, cap: u64) -> Result<Bytes> {
        let (file, meta) = self.open_regular(path)?;
        let mut data = Vec::with_capacity(usize::try_from(meta.size.min(cap)).unwrap_or(0));
        file.take(cap)
            .read_to_end(&mut data)
            .map_err(|e| Error::io("read", path.under(&self.root), e))?;
        Ok(Bytes {
            data,
            offset: 0,
            meta,
            etag: None,
        })
    }

    fn read_tail(&self, path: &RelPath, cap: u64) -> Result<Bytes> {
        let (mut file, meta) = self.open_regular(path)?;
        let offset = meta.size.saturating_sub(cap);
        let full = path.under(&self.root);
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| Error::io("seek", &full, e))?;
        let mut data = Vec::with_capacity(usize::try_from(meta.size - offset).unwrap_or(0));
        file.take(cap)
            .read_to_end(&mut data)
            .map_err(|e| Error::io("read", &full, e))?;
        Ok(Bytes {
            data,
            offset,
            meta,
            etag: None,
        })
    }
}

/// `lstat` as a [`Meta`].
pub(crate) fn lstat(path: &Path) -> Result<Meta> {
    let m = fs_err::symlink_metadata(path).map_err(|e| Error::io("stat", path, e))?;
    Ok(meta_of(&m, Some(path)))
}

/// A [`Meta`] from metadata that did not follow links; `path` is where a link's target is read from.
fn meta_of(m: &std::fs::Metadata, path: Option<&Path>) -> Meta {
    let ft = m.file_type();
    Meta {
        size: if ft.is_dir() { 0 } else { m.len() },
        modified: m.modified().ok().map(DateTime::<Utc>::from),
        kind: kind_of(ft, || path.map(Path::to_path_buf).unwrap_or_default()),
    }
}

/// The kind of an entry; for a link, its target is read (for the report) from `path()`.
fn kind_of(ft: std::fs::FileType, path: impl FnOnce() -> PathBuf) -> EntryKind {
    if ft.is_symlink() {
        EntryKind::Symlink {
            target: fs_err::read_link(path())
                .ok()
                .map(|t| t.to_string_lossy().into_owned()),
        }
    } else if ft.is_dir() {
        EntryKind::Dir
    } else if ft.is_file() {
        EntryKind::File
    } else {
        EntryKind::Other
    }
}

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

/// Largest file copied whole over Kudu's API: a file moved into the backup (a record's `log.log`
/// included) or put back, a log rewritten to append to it.
pub(crate) const COPY_CAP: u64 = 64 * 1024 * 1024;

/// Largest file kudu-state rewrites or reads whole to guard a rewrite: status files and `active` are a
/// few KiB, a legacy `log.xml` can reach a few MiB.
pub(crate) const REWRITE_CAP: u64 = 16 * 1024 * 1024;

/// Refuses to write at `path` when something other than a regular file is there (a link above all:
/// kudu-state never writes through one).
fn refuse_non_file(path: &Path) -> Result<Option<Meta>> {
    let meta = lstat_opt(path)?;
    if let Some(m) = &meta
        && m.kind != EntryKind::File
    {
        return Err(Error::Protected {
            path: path.to_path_buf(),
            reason: "not a regular file; kudu-state never writes through a link".to_owned(),
        });
    }
    Ok(meta)
}

/// Writes `bytes` to `path` atomically: a temp file beside it, fsync, rename over it, fsync the folder.
///
/// The temp file is created exclusively (`O_EXCL`) under an unpredictable name (`.kudu-state-XXXXXX.tmp`),
/// so a link planted at a guessable name cannot redirect the write; a leftover from a crash is
/// recognisable by its prefix. A crash leaves the old file or the new one, never half of each.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], mtime: Option<DateTime<Utc>>) -> Result<()> {
    refuse_non_file(path)?;
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let mut tmp = temp_in(dir)?;
    let tmp_path = tmp.path().to_path_buf();
    tmp.write_all(bytes)
        .map_err(|e| Error::io("write", &tmp_path, e))?;
    if let Some(t) = mtime {
        tmp.as_file()
            .set_modified(SystemTime::from(t))
            .map_err(|e| Error::io("set the time of", &tmp_path, e))?;
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io("sync", &tmp_path, e))?;
    // On failure the temp file is removed when `tmp` drops (also on this error path).
    tmp.persist(path)
        .map_err(|e| Error::io("rename", path, e.error))?;
    sync_dir(dir);
    Ok(())
}

/// Creates `path`, which must not exist, with `bytes` and `mtime`, synced. Atomic like [`write_atomic`]
/// (a kill never leaves half a file at `path`), and refuses rather than replace anything that appeared
/// there meanwhile, a link included (the final step is a no-clobber rename).
pub(crate) fn create_new(path: &Path, bytes: &[u8], mtime: DateTime<Utc>) -> Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let mut tmp = temp_in(dir)?;
    let tmp_path = tmp.path().to_path_buf();
    tmp.write_all(bytes)
        .map_err(|e| Error::io("write", &tmp_path, e))?;
    tmp.as_file()
        .set_modified(SystemTime::from(mtime))
        .map_err(|e| Error::io("set the time of", &tmp_path, e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io("sync", &tmp_path, e))?;
    tmp.persist_noclobber(path)
        .map_err(|e| Error::io("create", path, e.error))?;
    sync_dir(dir);
    Ok(())
}

/// An exclusive temp file in `dir` named `.kudu-state-XXXXXX.tmp` (see [`remove_stale_temps`]).
fn temp_in(dir: &Path) -> Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)
        .map_err(|e| Error::io("create a temporary file in", dir, e))
}

const TEMP_PREFIX: &str = ".kudu-state-";
const TEMP_SUFFIX: &str = ".tmp";

/// Removes kudu-state's own temp files from `dir`: what a kill in the middle of a write leaves behind.
/// Only regular files named `.kudu-state-*.tmp` are touched (no Kudu file has that name); called for the
/// folders of an interrupted step when an apply resumes it, under the apply lock.
pub(crate) fn remove_stale_temps(dir: &Path) -> Result<()> {
    let Some(m) = lstat_opt(dir)? else {
        return Ok(());
    };
    if m.kind != EntryKind::Dir {
        return Ok(());
    }
    for e in fs_err::read_dir(dir).map_err(|e| Error::io("list", dir, e))? {
        let e = e.map_err(|e| Error::io("list", dir, e))?;
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(TEMP_PREFIX)
            && name.ends_with(TEMP_SUFFIX)
            && lstat(&e.path())?.kind == EntryKind::File
        {
            fs_err::remove_file(e.path()).map_err(|err| Error::io("remove", e.path(), err))?;
        }
    }
    Ok(())
}

/// Creates `base/c1/c2/…` one component at a time, refusing a component that exists as anything but a
/// real folder: `create_dir_all` would follow a link planted at `HOME/data`, and kudu-state's lock,
/// journal and backups would then be written outside the home.
pub(crate) fn create_dirs_no_follow(base: &Path, components: &[&str]) -> Result<PathBuf> {
    let mut dir = base.to_path_buf();
    for c in components {
        dir.push(c);
        match lstat_opt(&dir)? {
            Some(m) if m.kind == EntryKind::Dir => {}
            Some(m) => {
                return Err(Error::Protected {
                    path: dir,
                    reason: format!(
                        "it is {}, not a folder; kudu-state never writes through a link. Remove it, or pass --backup-dir to choose where backups go",
                        match m.kind {
                            EntryKind::Symlink { .. } => "a symbolic link",
                            _ => "a file",
                        }
                    ),
                });
            }
            None => match fs_err::create_dir(&dir) {
                Ok(()) => {}
                // Created meanwhile (another apply): checked again on the next component's lstat.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if lstat(&dir)?.kind != EntryKind::Dir {
                        return Err(Error::Protected {
                            path: dir,
                            reason: "it appeared as something other than a folder".to_owned(),
                        });
                    }
                }
                Err(e) => return Err(Error::io("create", &dir, e)),
            },
        }
    }
    Ok(dir)
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

/// Everything under the local path `root` (a folder or a file), `root` itself first as `""`, each as
/// a `/`-separated path relative to `root` with its kind, every folder before its contents, names
/// sorted. Links are listed as links, never followed. At most `max` entries.
///
/// # Errors
/// `IO_ERROR` for what cannot be listed, a name that is not UTF-8, or more than `max` entries.
pub(crate) fn local_tree(root: &Path, max: usize) -> Result<Vec<(String, EntryKind)>> {
    let mut out = vec![(String::new(), lstat(root)?.kind)];
    let mut next = 0;
    while next < out.len() {
        let (rel, kind) = out[next].clone();
        next += 1;
        if kind != EntryKind::Dir {
            continue;
        }
        let dir = if rel.is_empty() {
            root.to_path_buf()
        } else {
            root.join(&rel)
        };
        let mut names = Vec::new();
        for entry in fs_err::read_dir(&dir).map_err(|e| Error::io("list", &dir, e))? {
            let entry = entry.map_err(|e| Error::io("list", &dir, e))?;
            let name = entry.file_name().into_string().map_err(|_| {
                Error::io(
                    "list",
                    &dir,
                    std::io::Error::other("a name that is not UTF-8"),
                )
            })?;
            names.push(name);
        }
        names.sort();
        for name in names {
            let child = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let kind = lstat(&root.join(&child))?.kind;
            out.push((child, kind));
            if out.len() > max {
                return Err(Error::io(
                    "list",
                    root,
                    std::io::Error::other(format!("more than {max} entries")),
                ));
            }
        }
    }
    Ok(out)
}

/// Best-effort fsync of a folder so a rename survives a power cut (not supported everywhere).
fn sync_dir(dir: &Path) {
    if let Ok(f) = fs_err::File::open(dir) {
        let _ = f.sync_all();
    }
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
        let mut options = std::fs::OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
        let file = options.open(path).map_err(|e| Error::io("open", path, e))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_path_is_the_path_under_the_root() {
        let rel = RelPath::new("site/deployments/abc/status.xml").unwrap();
        for root in [
            "/home",
            "/home/",
            "/",
            "",
            "relative/home",
            "relative/home/",
        ] {
            assert_eq!(
                LocalStore::new(root).full_path(&rel),
                rel.under(Path::new(root)),
                "{root:?}"
            );
        }
    }
}

//! Read-only access to a Kudu home, behind one small trait.
//!
//! The model never touches the file system directly: it asks a [`Store`] to list, stat and read with a
//! byte cap. The local file system is the first implementation; a store that talks to Kudu's VFS REST API
//! (`/api/vfs/`, spec §8) can be added later without changing the model.
//!
//! Two rules hold for every store: a read never returns more than the cap it was given, and a symbolic
//! link is reported as a link, never followed.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::{Error, Result};

/// A path inside the home, `/`-separated, never absolute and never containing `..`.
///
/// Keeping paths relative to the home makes reports portable (a diagnosis of a copy of `/home` reads the
/// same as one made on the site) and makes "outside the home" unrepresentable.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RelPath(String);

impl RelPath {
    /// Parses a relative path; refuses absolute paths, `..`, `.`, empty components and backslashes.
    pub fn new(path: &str) -> Result<Self> {
        if path.split('/').all(is_component) {
            Ok(RelPath(path.to_owned()))
        } else {
            Err(not_inside(path))
        }
    }

    /// Appends one component. Only called with names that came from a directory listing or constants,
    /// which contain no `/`; any that would escape is refused.
    pub fn join(&self, name: &str) -> Result<Self> {
        if !is_component(name) {
            return Err(not_inside(&format!("{}/{name}", self.0)));
        }
        let mut joined = String::with_capacity(self.0.len() + 1 + name.len());
        joined.push_str(&self.0);
        joined.push('/');
        joined.push_str(name);
        Ok(RelPath(joined))
    }

    /// Appends a name known when compiling (a file name Kudu uses), which is always a valid
    /// component, so this cannot fail (checked in debug builds).
    #[must_use]
    pub(crate) fn child(&self, name: &'static str) -> RelPath {
        debug_assert!(is_component(name), "{name}");
        RelPath(format!("{}/{name}", self.0))
    }

    /// The path as a `/`-separated string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last component.
    #[must_use]
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The parent, if this is not a top-level name.
    #[must_use]
    pub fn parent(&self) -> Option<RelPath> {
        self.0.rsplit_once('/').map(|(p, _)| RelPath(p.to_owned()))
    }

    /// This path under `root` on the local file system.
    #[must_use]
    pub fn under(&self, root: &Path) -> PathBuf {
        let mut full = PathBuf::with_capacity(root.as_os_str().len() + 1 + self.0.len());
        full.push(root);
        full.extend(self.0.split('/'));
        full
    }
}

/// One path component a [`RelPath`] may hold: not empty, not `.` or `..`, no separator or NUL.
fn is_component(c: &str) -> bool {
    !c.is_empty() && c != "." && c != ".." && !c.bytes().any(|b| matches!(b, b'/' | b'\\' | 0))
}

fn not_inside(path: &str) -> Error {
    Error::invalid(
        "argument",
        format!("`{path}` is not a relative path inside the home"),
    )
}

impl TryFrom<String> for RelPath {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        RelPath::new(&s)
    }
}

impl From<RelPath> for String {
    fn from(p: RelPath) -> String {
        p.0
    }
}

impl std::fmt::Display for RelPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of thing a directory entry is, without following links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (never followed). The target is kept for the report when it is readable.
    Symlink {
        /// Where the link points, as stored in the link.
        target: Option<String>,
    },
    /// A socket, FIFO or device.
    Other,
}

/// Metadata of one path, links not followed (`lstat`, or `fstat` of a file opened without following).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Meta {
    /// File, directory, link or other.
    #[serde(flatten)]
    pub kind: EntryKind,
    /// Size in bytes (0 for directories).
    pub size: u64,
    /// Last write time; `None` when the file system does not report one.
    pub modified: Option<DateTime<Utc>>,
}

/// One entry of a directory listing: its name and kind, without a `stat` of its own.
///
/// The kind comes from the listing itself (`d_type`), so listing a folder of 100,000 records costs no
/// per-entry system call; [`Store::meta`] or a read gives the rest when it is needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirEntry {
    /// The name, or its lossy form when it is not valid UTF-8.
    pub name: String,
    /// False when the name is not valid UTF-8 (Kudu never writes such names; they are reported and skipped).
    pub utf8: bool,
    /// File, directory, link (never followed) or other.
    #[serde(flatten)]
    pub kind: EntryKind,
}

/// Bytes read from a regular file, bounded by a cap, with the metadata of the file they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bytes {
    /// What was read: at most the cap.
    pub data: Vec<u8>,
    /// Offset of `data[0]` in the file (non-zero for a tail read of a larger file).
    pub offset: u64,
    /// The metadata of the file that was opened (not of whatever is at the path now).
    pub meta: Meta,
    /// The server's entity tag of the version read, where there is a server (`None` for
    /// [`LocalStore`]). A remote write is later guarded with it (`If-Match`).
    pub etag: Option<String>,
}

impl Bytes {
    /// True when the file holds more than was read.
    #[must_use]
    pub fn is_partial(&self) -> bool {
        self.offset > 0 || self.offset + (self.data.len() as u64) < self.meta.size
    }
}

/// Read-only access to a home. Implementations must not follow symbolic links and must honour caps.
pub trait Store: Send + Sync {
    /// `lstat` of `path`; `Ok(None)` when it does not exist.
    fn meta(&self, path: &RelPath) -> Result<Option<Meta>>;
    /// The entries of a directory, sorted by name; a link is refused, not listed through.
    fn list(&self, path: &RelPath) -> Result<Vec<DirEntry>>;
    /// At most `cap` bytes from the start of a regular file.
    fn read_head(&self, path: &RelPath, cap: u64) -> Result<Bytes>;
    /// At most `cap` bytes from the end of a regular file.
    fn read_tail(&self, path: &RelPath, cap: u64) -> Result<Bytes>;
    /// How many calls this store serves well at once, from several threads: a scan sizes its
    /// thread pool with it. 1 (the default) means calls gain nothing from running at once.
    fn parallelism(&self) -> usize {
        1
    }
}

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
        let full = path.under(&self.root);
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
    fn meta(&self, path: &RelPath) -> Result<Option<Meta>> {
        crate::fs::lstat_opt(&path.under(&self.root))
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
            let os_name = entry.file_name();
            let (name, utf8) = match os_name.to_str() {
                Some(s) => (s.to_owned(), true),
                None => (os_name.to_string_lossy().into_owned(), false),
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
        out.sort_by(|a, b| a.name.cmp(&b.name));
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

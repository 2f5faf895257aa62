//! Access to a Kudu home, behind one small trait: the concept of "where the files are".
//!
//! The model never touches the file system directly: it asks a [`Store`] to list, stat and read with a
//! byte cap. [`local`] is the local file system (and the primitives remediation writes with); a store over
//! Kudu's VFS REST API (`/api/vfs/`, spec §8) implements the same trait.
//!
//! Two rules hold for every store: a read never returns more than the cap it was given, and a symbolic
//! link is reported as a link, never followed. What a read of a file Kudu writes gave, understood or not,
//! is a [`Content`].

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
        // Not `format!`: this runs for every record read, and the formatting machinery costs
        // several times the copy.
        let mut joined = String::with_capacity(self.0.len() + 1 + name.len());
        joined.push_str(&self.0);
        joined.push('/');
        joined.push_str(name);
        RelPath(joined)
    }

    /// The path as a `/`-separated string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last component.
    #[must_use]
    pub fn file_name(&self) -> &str {
        match memchr::memrchr(b'/', self.0.as_bytes()) {
            Some(slash) => self.0.get(slash + 1..).unwrap_or(&self.0),
            None => &self.0,
        }
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
    /// How many threads to make `reads` independent reads with. A local disk answers in microseconds,
    /// so threads pay only for many reads; a store behind a network round trip wants as many as it
    /// allows requests in flight.
    fn parallelism(&self, reads: usize) -> usize {
        let _ = reads;
        1
    }
    /// The platform the store itself can see the home belongs to, if it can (over Kudu's API the
    /// listings' local paths say it: `D:\home\…` or `/home/…`). Lets a scan decide early which status
    /// files Kudu reads; the platform it reports is still decided from the files.
    fn platform_hint(&self) -> Option<crate::Platform> {
        None
    }
    /// Whether Kudu holds the Windows lock file at `path` open right now, when this store can prove
    /// it: a file's bytes cannot say, but over Kudu's API `GET /api/processes/0` lists the files Kudu
    /// has open (read-only). `instance` is the holder's `InstanceId` from the lock's JSON (the first
    /// 6 characters of its `WEBSITE_INSTANCE_ID`). `None`: this store cannot tell.
    ///
    /// # Errors
    /// What reading the proof fails with.
    fn held_by_kudu(&self, path: &RelPath, instance: Option<&str>) -> Result<Option<HeldProof>> {
        let _ = (path, instance);
        Ok(None)
    }
}

/// What Kudu's own process says about a Windows lock file ([`Store::held_by_kudu`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldProof {
    /// Kudu has the file open: the lock is held right now.
    pub held: bool,
    /// The instance whose Kudu was asked (its `ARRAffinity` name, or its instance id).
    pub instance: String,
}

/// The content of a file Kudu writes, as far as it could be read and understood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum Content<T> {
    /// Parsed as Kudu would parse it.
    Parsed {
        /// The parsed value.
        value: T,
    },
    /// Read, but not what Kudu writes (empty, truncated, not JSON, missing a required property).
    Corrupt {
        /// Why it does not parse, for a person.
        reason: String,
    },
    /// Could not be read at all (permissions, a link, too large).
    Unreadable {
        /// The error, for a person.
        error: String,
    },
}

impl<T> Content<T> {
    /// The parsed value, if any.
    pub fn value(&self) -> Option<&T> {
        match self {
            Content::Parsed { value } => Some(value),
            _ => None,
        }
    }

    /// Maps the parsed value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Content<U> {
        match self {
            Content::Parsed { value } => Content::Parsed { value: f(value) },
            Content::Corrupt { reason } => Content::Corrupt { reason },
            Content::Unreadable { error } => Content::Unreadable { error },
        }
    }
}

pub mod local;
pub use local::LocalStore;

use local::{REWRITE_CAP, digest};

/// A whole regular file through `store`, refusing one larger than `cap` (never half of it).
///
/// # Errors
/// What the store returns; `IO_ERROR` for a file over `cap`.
pub(crate) fn read_whole(store: &dyn Store, path: &RelPath, cap: u64) -> Result<Vec<u8>> {
    read_whole_bytes(store, path, cap).map(|b| b.data)
}

/// [`read_whole`], keeping what the read says of the version read (its metadata and ETag).
///
/// # Errors
/// As [`read_whole`].
pub(crate) fn read_whole_bytes(store: &dyn Store, path: &RelPath, cap: u64) -> Result<Bytes> {
    let bytes = store.read_head(path, cap)?;
    if bytes.is_partial() {
        return Err(Error::io(
            "read",
            path.as_str(),
            std::io::Error::other(format!("larger than {cap} bytes")),
        ));
    }
    Ok(bytes)
}

/// The digest of a regular file, a marker that equals no digest for anything else (a link, a folder),
/// `None` when it does not exist. Files kudu-state rewrites are all under [`REWRITE_CAP`].
///
/// # Errors
/// What the store returns.
pub(crate) fn file_digest(store: &dyn Store, path: &RelPath) -> Result<Option<String>> {
    match store.meta(path)? {
        Some(m) if m.kind == EntryKind::File => {
            Ok(Some(digest(&read_whole(store, path, REWRITE_CAP)?)))
        }
        Some(_) => Ok(Some("not-a-file".to_owned())),
        None => Ok(None),
    }
}

/// A digest of a folder tree, to notice any change inside it between plan and apply: a log that grew, a
/// file that appeared. Stable across versions (plans are stored and may be applied by a newer build), so
/// it hashes explicit fields only, documented as part of the plan format:
///
/// one line per entry below `root` (links are listed, never followed), sorted by path, each
/// `<path>\t<kind>\t<size>\t<mtime>\n` where `path` is relative with `/` separators (non-UTF-8 bytes
/// replaced by U+FFFD), `kind` is `file`, `dir`, `symlink` or `other`, `size` the byte size (0 for a
/// folder), `mtime` the last write time in nanoseconds since the Unix epoch (`-` when unknown); the
/// digest is [`digest`] (FNV-1a, 64 bit) of the concatenated lines. Bounded to `max_entries`. Over
/// Kudu's API a file's ETag is its last write time, so the digest covers every file's ETag.
///
/// # Errors
/// What the store returns; `INVALID_INPUT` past `max_entries`.
pub(crate) fn tree_digest(store: &dyn Store, root: &RelPath, max_entries: usize) -> Result<String> {
    let mut lines = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for e in store.list(&dir)? {
            let child = dir.join(&e.name)?;
            let rel = child
                .as_str()
                .strip_prefix(root.as_str())
                .map_or(child.as_str(), |r| r.trim_start_matches('/'));
            // A name that is not UTF-8 cannot be asked about; its presence still counts.
            let (kind, size, mtime) = match (e.utf8, store.meta(&child)?) {
                (true, Some(m)) => (m.kind, m.size, m.modified),
                (true, None) => continue,
                (false, _) => (EntryKind::Other, 0, None),
            };
            let kind_name = match kind {
                EntryKind::File => "file",
                EntryKind::Dir => "dir",
                EntryKind::Symlink { .. } => "symlink",
                EntryKind::Other => "other",
            };
            let mtime = mtime
                .and_then(|t| t.timestamp_nanos_opt())
                .map_or_else(|| "-".to_owned(), |n| n.to_string());
            lines.push(format!("{rel}\t{kind_name}\t{size}\t{mtime}\n"));
            if lines.len() > max_entries {
                return Err(Error::invalid(
                    "argument",
                    format!(
                        "`{root}` holds more than {max_entries} entries; too many to move safely"
                    ),
                ));
            }
            if kind == EntryKind::Dir {
                stack.push(child);
            }
        }
    }
    lines.sort_unstable();
    Ok(digest(lines.concat().as_bytes()))
}

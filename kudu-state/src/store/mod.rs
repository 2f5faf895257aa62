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
        match last_slash(self.0.as_bytes()) {
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

/// The index of the last `/` in `b`, searched 8 bytes at a time from the end: a record's id (the
/// 40 bytes after it) is read several times per scan, and `rsplit('/')`'s char searcher, or a byte
/// loop, costs several times this on paths of a few dozen bytes. A byte `y` of `x ^ "////////"` is
/// zero exactly when neither `y` nor `(y & 0x7F) + 0x7F` has its top bit set (no carry crosses a
/// byte), so the highest flagged bit is the last `/` of the word.
fn last_slash(b: &[u8]) -> Option<usize> {
    const LOW: u64 = u64::from_le_bytes([0x7F; 8]);
    const SLASHES: u64 = u64::from_le_bytes([b'/'; 8]);
    let mut end = b.len();
    while let Some(word) = end
        .checked_sub(8)
        .and_then(|start| b.get(start..end))
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
    {
        let x = u64::from_le_bytes(word) ^ SLASHES;
        let slashes = !(((x & LOW) + LOW) | x | LOW);
        if slashes != 0 {
            // Byte k's flag is bit 8k + 7.
            return Some(end - 8 + (7 - slashes.leading_zeros() as usize / 8));
        }
        end -= 8;
    }
    b.get(..end)?.iter().rposition(|&c| c == b'/')
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_slash_is_the_last_slash() {
        // Every length around a word or two, no '/', one at each place and two; fillers next to '/'
        // in value ('.', '0'), and bytes with the top bit set.
        for filler in [b'.', b'0', b'a', 0xC3, 0xFF] {
            for len in 0..=26 {
                let mut b = vec![filler; len];
                assert_eq!(last_slash(&b), None);
                for i in 0..len {
                    b[i] = b'/';
                    assert_eq!(last_slash(&b), b.iter().rposition(|&c| c == b'/'));
                    for j in 0..i {
                        b[j] = b'/';
                        assert_eq!(last_slash(&b), Some(i), "{b:?}");
                        b[j] = filler;
                    }
                    b[i] = filler;
                }
            }
        }
        let rel =
            RelPath::new("site/deployments/3f786850e387550fdab836ed7e6dc881de23001b").unwrap();
        assert_eq!(rel.file_name(), "3f786850e387550fdab836ed7e6dc881de23001b");
        assert_eq!(RelPath::new("site").unwrap().file_name(), "site");
    }
}

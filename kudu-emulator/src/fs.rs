//! The served disk, never followed through a symbolic link.
//!
//! Every path is walked from the (canonical) home one component at a time with `lstat`; a link
//! anywhere on the way is reported, never followed. Files are opened with `O_NOFOLLOW` on Unix, so
//! a link swapped in after the walk is refused too.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// Names of the emulator's own temporary files (atomic writes); listings and zips skip them.
pub const TEMP_PREFIX: &str = ".kudu-emulator-tmp-";

/// What a path relative to the home is.
#[derive(Debug)]
pub enum Node {
    Missing,
    File(Metadata),
    Dir,
    /// The last component is a symbolic link.
    Link,
    /// A component before the last is a symbolic link.
    ThroughLink,
}

/// The path of `segments` under `home`.
pub fn join(home: &Path, segments: &[String]) -> PathBuf {
    let mut path = home.to_path_buf();
    path.extend(segments);
    path
}

/// Looks a path up without following links.
pub fn lookup(home: &Path, segments: &[String]) -> Node {
    let mut path = home.to_path_buf();
    for (index, segment) in segments.iter().enumerate() {
        path.push(segment);
        let Ok(meta) = fs::symlink_metadata(&path) else {
            return Node::Missing;
        };
        let last = index + 1 == segments.len();
        let kind = meta.file_type();
        if kind.is_symlink() {
            return if last { Node::Link } else { Node::ThroughLink };
        }
        if last {
            return if kind.is_dir() {
                Node::Dir
            } else {
                Node::File(meta)
            };
        }
        if !kind.is_dir() {
            // .NET: a path through a file does not exist.
            return Node::Missing;
        }
    }
    match fs::symlink_metadata(home) {
        Ok(_) => Node::Dir,
        Err(_) => Node::Missing,
    }
}

fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK: a FIFO in the home must not hang the server; regular files ignore it.
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    options
}

/// Opens a regular file for reading, refusing a link.
pub fn open_file(path: &Path) -> io::Result<File> {
    let file = no_follow(OpenOptions::new().read(true)).open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    Ok(file)
}

/// The entries of a directory with their own (`lstat`) metadata, emulator temp files left out,
/// sorted by name (case-insensitively first, as NTFS enumerates, when `fold_case`).
pub fn list(dir: &Path, fold_case: bool) -> io::Result<Vec<(String, Metadata)>> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(TEMP_PREFIX) {
            continue;
        }
        // DirEntry::metadata does not traverse links.
        entries.push((name, entry.metadata()?));
    }
    if fold_case {
        entries.sort_by(|a, b| {
            a.0.to_uppercase()
                .cmp(&b.0.to_uppercase())
                .then_with(|| a.0.cmp(&b.0))
        });
    } else {
        entries.sort_by(|a, b| a.0.cmp(&b.0));
    }
    Ok(entries)
}

/// Creates the directories of `segments` under `home` that are missing, refusing links and
/// files on the way (`Directory.CreateDirectory`).
pub fn create_dirs(home: &Path, segments: &[String]) -> io::Result<PathBuf> {
    let mut path = home.to_path_buf();
    for segment in segments {
        path.push(segment);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(io::Error::other(format!(
                    "'{}' is a symbolic link; the emulator does not follow links",
                    path.display()
                )));
            }
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!(
                        "Cannot create '{}' because a file or directory with the same name already exists.",
                        path.display()
                    ),
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::create_dir(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => {}
                Err(e) => return Err(e),
            },
            Err(e) => return Err(e),
        }
    }
    Ok(path)
}

/// Replaces (or creates) `path` with `bytes`: a temporary file in the same directory, then a
/// rename, so readers see the old or the new content, never a part. A link at `path` is replaced,
/// not followed.
///
/// The new file's last-write time is the precise current time, and always later than
/// `previous` (the replaced file's): Linux stamps files with a coarse clock, so two quick writes
/// would otherwise share a time, hence an ETag, and a stale If-Match would pass.
pub fn write_atomic(path: &Path, bytes: &[u8], previous: Option<SystemTime>) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("no parent directory"))?;
    let temp = dir.join(format!(
        "{TEMP_PREFIX}{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let mut time = SystemTime::now();
    if let Some(previous) = previous.filter(|p| time <= *p) {
        time = previous + Duration::from_nanos(100);
    }
    let written = (|| {
        let mut file: File =
            no_follow(OpenOptions::new().write(true).create_new(true)).open(&temp)?;
        file.write_all(bytes)?;
        file.set_modified(time)
    })();
    let renamed = written.and_then(|()| fs::rename(&temp, path));
    if renamed.is_err() {
        let _ = fs::remove_file(&temp);
    }
    renamed
}

/// Deletes everything inside `dir` that can be deleted: files for which `held(rel)` is false,
/// links (the links themselves), and directories that end up empty. Keeps going past failures,
/// as .NET's recursive `Directory.Delete` does, and says whether everything went.
pub fn remove_contents(dir: &Path, rel: &str, held: &dyn Fn(&str) -> bool) -> bool {
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    let mut complete = true;
    for entry in entries {
        let Ok(entry) = entry else {
            complete = false;
            continue;
        };
        let name = entry.file_name().to_string_lossy().into_owned();
        let child = entry.path();
        let child_rel = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        let removed = if is_dir {
            remove_tree(&child, &child_rel, held)
        } else {
            !held(&child_rel) && fs::remove_file(&child).is_ok()
        };
        complete &= removed;
    }
    complete
}

/// [`remove_contents`], then the directory itself.
pub fn remove_tree(dir: &Path, rel: &str, held: &dyn Fn(&str) -> bool) -> bool {
    remove_contents(dir, rel, held) && fs::remove_dir(dir).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn read_file(path: &Path) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        open_file(path)?.read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    fn segs(path: &str) -> Vec<String> {
        path.split('/').map(str::to_owned).collect()
    }

    #[test]
    #[cfg(unix)]
    fn links_are_reported_not_followed() {
        let home = tempfile::tempdir().unwrap();
        fs::create_dir_all(home.path().join("site/real")).unwrap();
        fs::write(home.path().join("site/real/f.txt"), "x").unwrap();
        std::os::unix::fs::symlink(home.path().join("site/real"), home.path().join("site/link"))
            .unwrap();
        assert!(matches!(
            lookup(home.path(), &segs("site/link")),
            Node::Link
        ));
        assert!(matches!(
            lookup(home.path(), &segs("site/link/f.txt")),
            Node::ThroughLink
        ));
        assert!(matches!(
            lookup(home.path(), &segs("site/real/f.txt/x")),
            Node::Missing
        ));
        assert!(
            read_file(&home.path().join("site/link/f.txt")).is_ok(),
            "the OS follows"
        );
        std::os::unix::fs::symlink(
            home.path().join("site/real/f.txt"),
            home.path().join("site/flink"),
        )
        .unwrap();
        assert!(read_file(&home.path().join("site/flink")).is_err());
        assert!(create_dirs(home.path(), &segs("site/link/new")).is_err());
        assert!(!home.path().join("site/real/new").exists());
    }

    #[test]
    fn remove_tree_keeps_held_files_and_their_parents() {
        let home = tempfile::tempdir().unwrap();
        let root = home.path().join("d");
        fs::create_dir_all(root.join("a/b")).unwrap();
        fs::create_dir_all(root.join("c")).unwrap();
        fs::write(root.join("a/b/held"), "").unwrap();
        fs::write(root.join("a/free"), "").unwrap();
        fs::write(root.join("c/free"), "").unwrap();
        let held = |rel: &str| rel == "d/a/b/held";
        assert!(!remove_tree(&root, "d", &held));
        assert!(root.join("a/b/held").exists());
        assert!(!root.join("a/free").exists());
        assert!(!root.join("c").exists());
        assert!(remove_tree(&root, "d", &|_: &str| false));
        assert!(!root.exists());
    }
}

//! [`scan`]: read a whole home into a [`Snapshot`] in one pass — the orchestrator, and the reading
//! helpers every concept's reader shares.
//!
//! The concepts read themselves (`lock::read`, `deployments::read`, `record::read`); this module lists
//! `site`, calls them in order, and detects the platform ([`crate::platform::choose`]). Every read has a byte cap, links are reported and never followed, and a file or folder that cannot be
//! read becomes a value (with its path and the OS error) rather than an error: a diagnosis of a damaged
//! home must still come out. Only a home that cannot be opened at all is an [`Error`].

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result, error_chain};
use crate::lock::Locks;
use crate::platform::{self, Platform, PlatformChoice};
use crate::record;
use crate::snapshot::{Given, NoteKind, ScanNote, Snapshot};
use crate::store::{Content, DirEntry, EntryKind, LocalStore, Meta, RelPath, Store};

/// Largest `status.xml` read. Kudu's are under 2 KiB; anything near this is not Kudu's.
pub const STATUS_XML_CAP: u64 = 1024 * 1024;
/// Largest lock file read (a Windows lock holds a stack trace).
pub const LOCK_CAP: u64 = 64 * 1024;
/// Largest `active` read (an id is at most a few dozen bytes).
pub const ACTIVE_CAP: u64 = 4 * 1024;
/// Largest `settings.xml`, `hooks` or `latest.json` read.
pub const ROOT_FILE_CAP: u64 = 1024 * 1024;
/// Default number of bytes read from the end of each `log.log`.
pub const DEFAULT_LOG_TAIL: u64 = 64 * 1024;

/// How to scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanOptions {
    /// Interpret the home as this platform instead of detecting it.
    pub platform: Option<Platform>,
    /// Bytes read from the end of each `log.log` (logs can be hundreds of megabytes).
    pub log_tail_bytes: u64,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            platform: None,
            log_tail_bytes: DEFAULT_LOG_TAIL,
        }
    }
}

/// The log tails a scan accepts: at least 1 KiB (a line or two), at most 16 MiB.
const LOG_TAIL_RANGE: std::ops::RangeInclusive<u64> = 1024..=16 * 1024 * 1024;

impl ScanOptions {
    /// Validated options.
    ///
    /// # Errors
    /// `INVALID_INPUT` when `log_tail_bytes` is outside 1 KiB to 16 MiB.
    pub fn new(platform: Option<Platform>, log_tail_bytes: u64) -> Result<ScanOptions> {
        if !LOG_TAIL_RANGE.contains(&log_tail_bytes) {
            return Err(Error::invalid(
                "argument",
                format!(
                    "the log tail must be {} to {} bytes, not {log_tail_bytes}",
                    LOG_TAIL_RANGE.start(),
                    LOG_TAIL_RANGE.end()
                ),
            ));
        }
        Ok(ScanOptions {
            platform,
            log_tail_bytes,
        })
    }
}

/// Scans the home at `path` (the folder that contains `site/`, or `site` itself).
///
/// # Errors
/// `HOME_NOT_FOUND` when `path` does not exist, `NOT_A_HOME` when it has no `site` folder, `IO_ERROR`
/// when it cannot be read at all. A damaged state inside the home is never an error.
pub fn scan(path: &Path, options: &ScanOptions) -> Result<Snapshot> {
    let (home, given) = resolve_home(path)?;
    let store = LocalStore::new(home.clone());
    scan_store(&store, home, given, options)
}

/// Finds the home for a path given by a person: the path itself when it contains a `site` folder, or its
/// parent when the path *is* `site`. The path itself may be a link (`/home` is on some images); `site`
/// must be a real folder.
///
/// # Errors
/// `HOME_NOT_FOUND`, `NOT_A_HOME`, or `IO_ERROR`.
pub fn resolve_home(path: &Path) -> Result<(PathBuf, Given)> {
    let meta = match fs_err::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::HomeNotFound {
                path: path.to_path_buf(),
            });
        }
        Err(e) => return Err(Error::io("open", path, e)),
    };
    let not_a_home = || Error::NotAHome {
        path: path.to_path_buf(),
    };
    if !meta.is_dir() {
        return Err(not_a_home());
    }
    let is_dir = |p: PathBuf| fs_err::symlink_metadata(p).is_ok_and(|m| m.is_dir());
    if is_dir(path.join("site")) {
        return Ok((path.to_path_buf(), Given::Home));
    }
    let looks_like_site = ["deployments", "locks", "wwwroot"]
        .iter()
        .any(|d| is_dir(path.join(d)));
    if path.file_name().is_some_and(|n| n == "site") && looks_like_site {
        let parent = path
            .parent()
            .map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
        let parent = if parent.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            parent
        };
        return Ok((parent, Given::Site));
    }
    Err(not_a_home())
}

/// Scans a home through any [`Store`]. `home` is only recorded in the snapshot.
///
/// The reads are made in as few rounds as the tree allows, each round's reads at once (as many as the
/// store wants, [`Store::parallelism`]), since over Kudu's REST API every read is a network round trip:
/// 1. list `site`;
/// 2. list `site/locks` and `site/deployments`, at the same time;
/// 3. the lock files and the `deployment` lock folder, the root files of `site/deployments`, and every
///    record's `status.xml`, all at once;
/// 4. `info.lock`; the records' `status_complete.xml` when the home may be Windows' (decided from what
///    rounds 1-3 found, see [`platform::kudulite_beyond_doubt`]);
/// 5. and 6. for records their status files do not settle: the folder's listing, then the log's tail.
///
/// # Errors
/// Only when `site` itself cannot be listed.
pub fn scan_store(
    store: &dyn Store,
    home: PathBuf,
    given: Given,
    options: &ScanOptions,
) -> Result<Snapshot> {
    let site = rel("site");
    let site_entries = store.list(&site)?;
    let mut notes = Vec::new();
    let find = |name: &str| site_entries.iter().find(|e| e.name == name);

    let wwwroot =
        find("wwwroot").and_then(|_| stat_or_gone(store, &site.join("wwwroot").ok()?, &mut notes));
    let locks_dir = match find("locks") {
        Some(e) if e.kind == EntryKind::Dir => site.join("locks").ok(),
        Some(e) => {
            note_wrong_kind(&mut notes, "site/locks", &e.kind);
            None
        }
        None => None,
    };
    let deployments_dir = match find("deployments") {
        Some(e) if e.kind == EntryKind::Dir => site.join("deployments").ok(),
        Some(e) => {
            note_wrong_kind(&mut notes, "site/deployments", &e.kind);
            None
        }
        None => None,
    };
    let early = store
        .platform_hint()
        .map(|hint| record::read::RecordReading {
            log_tail_bytes: options.log_tail_bytes,
            status_complete: hint == Platform::Windows
                || options.platform == Some(Platform::Windows),
        });
    // Rounds 2 and 3: the locks on one thread, the deployments folder (root files and every record's
    // status.xml) on this one.
    let ((locks, lock_notes), deployments) = std::thread::scope(|s| {
        let locks = s.spawn(|| {
            let mut notes = Vec::new();
            let locks = match &locks_dir {
                Some(dir) => {
                    let meta = stat_or_gone(store, dir, &mut notes);
                    crate::lock::read(store, dir, meta, &mut notes)
                }
                None => Locks::default(),
            };
            (locks, notes)
        });
        let deployments = deployments_dir.as_ref().map(|dir| {
            let mut notes = Vec::new();
            let listing = crate::deployments::read::list(store, dir, &mut notes);
            let (root_entries, record_ids) = crate::deployments::read::split(listing);
            let ((root, mut root_notes), (statuses, mut status_notes)) = std::thread::scope(|s| {
                let root = s.spawn(|| {
                    let mut notes = Vec::new();
                    let root =
                        crate::deployments::read::read_root(store, dir, root_entries, &mut notes);
                    (root, notes)
                });
                let mut notes = Vec::new();
                // A store that sees the platform lets each record be read whole at once; otherwise
                // status_complete.xml waits for the locks and root files to say whether to look.
                let statuses = match early {
                    Some(read) => Records::Whole(record::read::read_whole(
                        store, dir, record_ids, read, &mut notes,
                    )),
                    None => Records::Statuses(record::read::read_statuses(
                        store, dir, record_ids, &mut notes,
                    )),
                };
                // A reader panic is a bug; losing what it read would turn it into a wrong verdict.
                let root = root.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
                (root, (statuses, notes))
            });
            // Notes in reading order: the listing's, the root files', the records'.
            notes.append(&mut root_notes);
            notes.append(&mut status_notes);
            (root, notes, statuses)
        });
        let locks = locks
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (locks, deployments)
    });
    notes.extend(lock_notes);
    let (deployments, statuses) = match deployments {
        Some((dir, dir_notes, statuses)) => {
            notes.extend(dir_notes);
            (Some(dir), statuses)
        }
        None => (None, Records::Statuses(Vec::new())),
    };

    let mut snapshot = Snapshot {
        home,
        given,
        platform: PlatformChoice {
            platform: Platform::Linux,
            overridden: false,
            evidence: Vec::new(),
        },
        locks,
        deployments,
        wwwroot,
        notes,
    };
    // Rounds 4-6.
    let read = record::read::RecordReading {
        log_tail_bytes: options.log_tail_bytes,
        status_complete: !platform::kudulite_beyond_doubt(&snapshot, options.platform),
    };
    if let Some(d) = snapshot.deployments.as_mut() {
        d.records = match statuses {
            Records::Whole(records) => records,
            Records::Statuses(partials) => {
                record::read::finish_records(store, partials, read, &mut snapshot.notes)
            }
        };
    }
    snapshot.platform = platform::choose(&snapshot, options.platform);
    let platform = snapshot.platform();
    if let Some(d) = snapshot.deployments.as_mut() {
        for r in &mut d.records {
            r.next_read = r.decide_next_read(platform);
        }
    }
    Ok(snapshot)
}

/// The records after round 3: whole, or their `status.xml` only.
enum Records {
    Whole(Vec<record::DeploymentRecord>),
    Statuses(Vec<record::read::Partial>),
}

/// Runs `task` on every item on as many threads as `store` wants for that many reads
/// ([`Store::parallelism`]). Results come back in the items' order, and the notes the tasks made are
/// appended to `notes` in that order too, so a scan reads the same whatever the thread count. Each
/// thread fills its own slice of one preallocated list: at 100,000 records a second copy of the list
/// would be the scan's peak memory.
#[expect(
    clippy::filter_map_identity,
    reason = "flatten does not collect in place"
)]
pub(crate) fn par_map<T: Send, R: Send>(
    store: &dyn Store,
    items: Vec<T>,
    notes: &mut Vec<ScanNote>,
    task: impl Fn(T, &mut Vec<ScanNote>) -> R + Sync,
) -> Vec<R> {
    let mut inputs: Vec<Option<T>> = items.into_iter().map(Some).collect();
    let mut slots: Vec<Option<R>> = std::iter::repeat_with(|| None).take(inputs.len()).collect();
    let fill = |inputs: &mut [Option<T>], slots: &mut [Option<R>]| {
        let mut notes = Vec::new();
        for (input, slot) in inputs.iter_mut().zip(slots) {
            if let Some(item) = input.take() {
                *slot = Some(task(item, &mut notes));
            }
        }
        notes
    };
    let threads = store
        .parallelism(inputs.len())
        .clamp(1, inputs.len().max(1));
    if threads == 1 {
        notes.append(&mut fill(&mut inputs, &mut slots));
    } else {
        let chunk = inputs.len().div_ceil(threads);
        std::thread::scope(|s| {
            let workers: Vec<_> = inputs
                .chunks_mut(chunk)
                .zip(slots.chunks_mut(chunk))
                .map(|(inputs, slots)| s.spawn(|| fill(inputs, slots)))
                .collect();
            for worker in workers {
                // A worker panic is a bug; losing its results silently would turn it into a wrong verdict.
                let mut found = worker
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p));
                notes.append(&mut found);
            }
        });
    }
    drop(inputs);
    // `Option<R>` has `R`'s size for the records (a niche), so this collects in place.
    slots
        .into_iter()
        .filter_map(std::convert::identity)
        .collect()
}

fn rel(s: &str) -> RelPath {
    // Only called with constant, valid paths.
    RelPath::new(s).unwrap_or_else(|_| unreachable!("constant path {s}"))
}

pub(crate) fn note_wrong_kind(notes: &mut Vec<ScanNote>, path: &str, found: &EntryKind) {
    let (kind, detail) = match found {
        EntryKind::Symlink { target } => (
            NoteKind::Symlink,
            format!(
                "a symbolic link to `{}`; not followed",
                target.as_deref().unwrap_or("?")
            ),
        ),
        other => (
            NoteKind::WrongKind,
            format!("expected by Kudu as another kind, found {other:?}"),
        ),
    };
    notes.push(ScanNote {
        path: path.to_owned(),
        kind,
        detail,
    });
}

/// Reads a small file a listing found through `parse`, turning every reason it cannot be read into a
/// value. `None` when it vanished since the listing (Kudu is live; that happens).
pub(crate) fn read_small<T>(
    store: &dyn Store,
    path: &RelPath,
    kind: &EntryKind,
    cap: u64,
    notes: &mut Vec<ScanNote>,
    parse: impl FnOnce(&[u8]) -> Content<T>,
) -> Option<(Meta, Content<T>)> {
    let (meta, bytes) = read_bytes(store, path, Some(kind), cap, notes)?;
    let content = bytes.map_or_else(|error| Content::Unreadable { error }, |b| parse(&b));
    Some((meta, content))
}

/// The bytes of a file, with the metadata of what was opened (or of what is there, when it is not a
/// regular file or cannot be read). `kind` is what a listing said the entry is, if one did: anything
/// but a file is then not opened at all. At most `cap` bytes are read; a larger file is not returned.
/// `None` when there is nothing at `path` (or it vanished since the listing).
pub(crate) fn read_bytes(
    store: &dyn Store,
    path: &RelPath,
    kind: Option<&EntryKind>,
    cap: u64,
    notes: &mut Vec<ScanNote>,
) -> Option<(Meta, std::result::Result<Vec<u8>, String>)> {
    let not_a_file = |notes: &mut Vec<ScanNote>, kind: &EntryKind| {
        note_wrong_kind(notes, path.as_str(), kind);
        match kind {
            EntryKind::Symlink { .. } => "a symbolic link; not followed",
            _ => "not a regular file",
        }
        .to_owned()
    };
    if let Some(kind) = kind.filter(|k| **k != EntryKind::File) {
        let error = not_a_file(notes, kind);
        return Some((stat_or_gone(store, path, notes)?, Err(error)));
    }
    match store.read_head(path, cap) {
        Ok(b) if b.meta.size > cap => {
            let why = format!("{} bytes, over the {cap}-byte cap; not read", b.meta.size);
            Some((b.meta, Err(why)))
        }
        Ok(b) => Some((b.meta, Ok(b.data))),
        Err(e)
            if e.io_error()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound) =>
        {
            None
        }
        Err(e) => {
            // Refused (a link, a folder, a FIFO) or unreadable: what is there says which.
            let meta = stat_or_gone(store, path, notes)?;
            let error = if meta.kind == EntryKind::File {
                note_unreadable(notes, path, &e)
            } else {
                not_a_file(notes, &meta.kind)
            };
            Some((meta, Err(error)))
        }
    }
}

/// `lstat` of `path`; `None` when nothing is there (or it vanished since a listing), with a note when
/// it cannot be `stat`ed.
pub(crate) fn stat_or_gone(
    store: &dyn Store,
    path: &RelPath,
    notes: &mut Vec<ScanNote>,
) -> Option<Meta> {
    match store.meta(path) {
        Ok(meta) => meta,
        Err(e) => {
            note_unreadable(notes, path, &e);
            None
        }
    }
}

/// Records a file that could not be read as a note, and returns the error text for its value.
pub(crate) fn note_unreadable(notes: &mut Vec<ScanNote>, path: &RelPath, e: &Error) -> String {
    let error = error_chain(e);
    notes.push(ScanNote {
        path: path.to_string(),
        kind: NoteKind::Unreadable,
        detail: error.clone(),
    });
    error
}

pub(crate) fn list_or_note(
    store: &dyn Store,
    path: &RelPath,
    notes: &mut Vec<ScanNote>,
) -> Vec<DirEntry> {
    match store.list(path) {
        Ok(entries) => entries
            .into_iter()
            .filter(|e| {
                if !e.utf8 {
                    notes.push(ScanNote {
                        path: format!("{path}/{}", e.name),
                        kind: NoteKind::NonUtf8Name,
                        detail: "the name is not valid UTF-8; skipped".to_owned(),
                    });
                }
                e.utf8
            })
            .collect(),
        Err(e) => {
            notes.push(ScanNote {
                path: path.to_string(),
                kind: NoteKind::Unreadable,
                detail: error_chain(&e),
            });
            Vec::new()
        }
    }
}

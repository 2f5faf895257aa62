//! [`scan`]: read a whole home into a [`Snapshot`] in one pass.
//!
//! Every read has a byte cap, links are reported and never followed, and a file or folder that cannot be
//! read becomes a value (with its path and the OS error) rather than an error: a diagnosis of a damaged
//! home must still come out. Only a home that cannot be opened at all is an [`Error`].

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::deployments::{ActiveFile, ActiveValue, DeploymentsDir, RootFile};
use crate::error::{Error, Result};
use crate::lock::{Content, parse_linux_lock, parse_operation_lock};
use crate::log_log;
use crate::platform::Platform;
use crate::record::{DeploymentRecord, IdKind, LogSummary, Newline, NextRead, StatusFile};
use crate::snapshot::{
    Evidence, Given, IdleLock, IdleLockName, LinuxLockDir, LockFile, Locks, NoteKind,
    PlatformChoice, ScanNote, Snapshot,
};
use crate::status_xml;
use crate::store::{DirEntry, EntryKind, LocalStore, Meta, RelPath, Store};

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

    let wwwroot = find("wwwroot").map(|e| e.meta.clone());
    let locks = match find("locks") {
        Some(e) if e.meta.kind == EntryKind::Dir => {
            scan_locks(store, &site.join("locks")?, e.meta.clone(), &mut notes)
        }
        Some(e) => {
            note_wrong_kind(&mut notes, "site/locks", &e.meta);
            Locks::default()
        }
        None => Locks::default(),
    };
    let mut newlines_seen = Vec::new();
    let deployments = match find("deployments") {
        Some(e) if e.meta.kind == EntryKind::Dir => Some(scan_deployments(
            store,
            &site.join("deployments")?,
            options,
            &mut notes,
            &mut newlines_seen,
        )),
        Some(e) => {
            note_wrong_kind(&mut notes, "site/deployments", &e.meta);
            None
        }
        None => None,
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
        newlines_seen,
    };
    snapshot.platform = choose_platform(&snapshot, options.platform);
    let platform = snapshot.platform();
    if let Some(d) = snapshot.deployments.as_mut() {
        for r in &mut d.records {
            r.next_read = r.decide_next_read(platform);
        }
    }
    Ok(snapshot)
}

fn rel(s: &str) -> RelPath {
    // Only called with constant, valid paths.
    RelPath::new(s).unwrap_or_else(|_| unreachable!("constant path {s}"))
}

fn note_wrong_kind(notes: &mut Vec<ScanNote>, path: &str, meta: &Meta) {
    let (kind, detail) = match &meta.kind {
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

/// Reads a small file through `parse`, turning every reason it cannot be read into a value.
fn read_small<T>(
    store: &dyn Store,
    path: &RelPath,
    meta: &Meta,
    cap: u64,
    notes: &mut Vec<ScanNote>,
    parse: impl FnOnce(&[u8]) -> Content<T>,
) -> Content<T> {
    read_bytes(store, path, meta, cap, notes)
        .map_or_else(|error| Content::Unreadable { error }, |bytes| parse(&bytes))
}

fn read_bytes(
    store: &dyn Store,
    path: &RelPath,
    meta: &Meta,
    cap: u64,
    notes: &mut Vec<ScanNote>,
) -> std::result::Result<Vec<u8>, String> {
    if meta.kind != EntryKind::File {
        note_wrong_kind(notes, path.as_str(), meta);
        return Err(match &meta.kind {
            EntryKind::Symlink { .. } => "a symbolic link; not followed".to_owned(),
            _ => "not a regular file".to_owned(),
        });
    }
    if meta.size > cap {
        return Err(format!(
            "{} bytes, over the {cap}-byte cap; not read",
            meta.size
        ));
    }
    match store.read_head(path, cap) {
        Ok(b) if b.file_len > cap => Err(format!("grew past the {cap}-byte cap while read")),
        Ok(b) => Ok(b.data),
        Err(e) => Err(note_unreadable(notes, path, &e)),
    }
}

/// Records a file that could not be read as a note, and returns the error text for its value.
fn note_unreadable(notes: &mut Vec<ScanNote>, path: &RelPath, e: &Error) -> String {
    let error = error_chain(e);
    notes.push(ScanNote {
        path: path.to_string(),
        kind: NoteKind::Unreadable,
        detail: error.clone(),
    });
    error
}

/// An error and its sources on one line.
#[must_use]
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(src) = cur {
        s.push_str(": ");
        s.push_str(&src.to_string());
        cur = src.source();
    }
    s
}

fn list_or_note(store: &dyn Store, path: &RelPath, notes: &mut Vec<ScanNote>) -> Vec<DirEntry> {
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

fn scan_locks(store: &dyn Store, dir: &RelPath, meta: Meta, notes: &mut Vec<ScanNote>) -> Locks {
    let mut locks = Locks {
        dir: Some(meta),
        ..Locks::default()
    };
    for entry in list_or_note(store, dir, notes) {
        let Ok(path) = dir.join(&entry.name) else {
            continue;
        };
        let lock_file = |notes: &mut Vec<ScanNote>| LockFile {
            content: read_small(
                store,
                &path,
                &entry.meta,
                LOCK_CAP,
                notes,
                parse_operation_lock,
            ),
            path: path.clone(),
            meta: entry.meta.clone(),
        };
        match entry.name.as_str() {
            "deployments.lock" => locks.windows_deployment = Some(lock_file(notes)),
            "autoswap.lock" => locks.autoswap = Some(entry.meta.clone()),
            "deployment" if entry.meta.kind == EntryKind::Dir => {
                let info = list_or_note(store, &path, notes)
                    .into_iter()
                    .find(|e| e.name == "info.lock")
                    .and_then(|e| {
                        let info_path = path.join("info.lock").ok()?;
                        Some(LockFile {
                            content: read_small(
                                store,
                                &info_path,
                                &e.meta,
                                LOCK_CAP,
                                notes,
                                parse_linux_lock,
                            ),
                            path: info_path,
                            meta: e.meta,
                        })
                    });
                locks.linux_deployment = Some(LinuxLockDir {
                    path: path.clone(),
                    meta: entry.meta.clone(),
                    info,
                });
            }
            "deployment" => note_wrong_kind(notes, path.as_str(), &entry.meta),
            name => {
                if let Some(idle) = IdleLockName::ALL
                    .into_iter()
                    .find(|n| n.file_name() == name)
                {
                    locks.idle.push(IdleLock {
                        name: idle,
                        file: lock_file(notes),
                    });
                }
            }
        }
    }
    locks
}

fn scan_deployments(
    store: &dyn Store,
    dir: &RelPath,
    options: &ScanOptions,
    notes: &mut Vec<ScanNote>,
    newlines_seen: &mut Vec<(RelPath, Newline)>,
) -> DeploymentsDir {
    let mut out = DeploymentsDir {
        path: dir.clone(),
        active: None,
        pending: None,
        settings_xml: None,
        hooks: None,
        latest_json: None,
        tools: None,
        records: Vec::new(),
    };
    let mut record_dirs = Vec::new();
    for entry in list_or_note(store, dir, notes) {
        let Ok(path) = dir.join(&entry.name) else {
            continue;
        };
        let root_file = |notes: &mut Vec<ScanNote>, check: fn(&[u8]) -> Content<()>| RootFile {
            content: read_small(store, &path, &entry.meta, ROOT_FILE_CAP, notes, check),
            path: path.clone(),
            meta: entry.meta.clone(),
        };
        match entry.name.as_str() {
            "active" => {
                out.active = Some(ActiveFile {
                    content: read_small(store, &path, &entry.meta, ACTIVE_CAP, notes, |b| {
                        Content::Parsed {
                            value: ActiveValue::parse(b),
                        }
                    }),
                    meta: entry.meta.clone(),
                });
            }
            "pending" => out.pending = Some(entry.meta.clone()),
            "settings.xml" => out.settings_xml = Some(root_file(notes, check_xml)),
            "hooks" => out.hooks = Some(root_file(notes, check_json)),
            "latest.json" => out.latest_json = Some(root_file(notes, check_json)),
            "tools" => out.tools = Some(entry.meta.clone()),
            _ => match &entry.meta.kind {
                EntryKind::Dir => record_dirs.push((entry.name.clone(), path, entry.meta.clone())),
                EntryKind::Symlink { .. } => note_wrong_kind(notes, path.as_str(), &entry.meta),
                EntryKind::File | EntryKind::Other => {}
            },
        }
    }
    let results = read_records(store, record_dirs, options.log_tail_bytes);
    for (record, mut record_notes, newline) in results {
        notes.append(&mut record_notes);
        if let Some(nl) = newline {
            newlines_seen.push((record.path.clone(), nl));
        }
        out.records.push(record);
    }
    out
}

type RecordResult = (DeploymentRecord, Vec<ScanNote>, Option<Newline>);

/// Reads record folders, on several threads when there are many (a neglected site has thousands).
fn read_records(
    store: &dyn Store,
    dirs: Vec<(String, RelPath, Meta)>,
    tail: u64,
) -> Vec<RecordResult> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    if dirs.len() < 64 || threads == 1 {
        return dirs
            .into_iter()
            .map(|(id, path, meta)| read_record(store, id, path, meta, tail))
            .collect();
    }
    let chunk = dirs.len().div_ceil(threads);
    let mut chunks: Vec<Vec<(String, RelPath, Meta)>> = Vec::new();
    let mut it = dirs.into_iter().peekable();
    while it.peek().is_some() {
        chunks.push(it.by_ref().take(chunk).collect());
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|c| {
                s.spawn(move || {
                    c.into_iter()
                        .map(|(id, path, meta)| read_record(store, id, path, meta, tail))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            // A worker panic is a bug; losing its records silently would turn it into a wrong verdict.
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

fn read_record(
    store: &dyn Store,
    id: String,
    path: RelPath,
    meta: Meta,
    tail: u64,
) -> RecordResult {
    let mut notes = Vec::new();
    let mut record = DeploymentRecord {
        id_kind: IdKind::of(&id),
        id,
        path: path.clone(),
        meta,
        status: None,
        status_complete: None,
        log: None,
        log_xml: None,
        manifest: None,
        next_read: NextRead::Invisible,
    };
    let mut newline = None;
    let mut log_entry = None;
    for entry in list_or_note(store, &path, &mut notes) {
        let Ok(file) = path.join(&entry.name) else {
            continue;
        };
        match entry.name.as_str() {
            "status.xml" | "status_complete.xml" => {
                let mut nl = None;
                let content = read_bytes(store, &file, &entry.meta, STATUS_XML_CAP, &mut notes)
                    .map_or_else(
                        |error| Content::Unreadable { error },
                        |bytes| {
                            nl = Newline::detect(&bytes);
                            match status_xml::parse(&bytes) {
                                Ok(value) => Content::Parsed { value },
                                Err(e) => Content::Corrupt {
                                    reason: e.to_string(),
                                },
                            }
                        },
                    );
                let status = StatusFile {
                    path: file,
                    meta: entry.meta,
                    content,
                    newline: nl,
                };
                if entry.name == "status.xml" {
                    newline = nl;
                    record.status = Some(status);
                } else {
                    newline = newline.or(nl);
                    record.status_complete = Some(status);
                }
            }
            "log.log" => log_entry = Some((file, entry.meta)),
            "log.xml" => record.log_xml = Some(entry.meta),
            "manifest" => record.manifest = Some(entry.meta),
            _ => {}
        }
    }
    if let Some((file, meta)) = log_entry {
        // Only an incomplete or unreadable record needs its log (for signs of life); see `LogSummary::tail_read`.
        let settled = [&record.status, &record.status_complete]
            .into_iter()
            .flatten()
            .all(|s| s.content.value().is_some_and(|d| d.complete))
            && record.status.is_some();
        record.log = Some(read_log(
            store,
            file,
            meta,
            if settled { None } else { Some(tail) },
            &mut notes,
        ));
    }
    (record, notes, newline)
}

fn read_log(
    store: &dyn Store,
    path: RelPath,
    meta: Meta,
    tail: Option<u64>,
    notes: &mut Vec<ScanNote>,
) -> LogSummary {
    let mut summary = LogSummary {
        path: path.clone(),
        tail_only: tail.is_some_and(|t| meta.size > t),
        meta: meta.clone(),
        last_entry_time: None,
        last_message: None,
        entries_read: 0,
        format_problem: None,
        unreadable: None,
        tail_read: false,
    };
    let Some(tail) = tail else {
        return summary;
    };
    if meta.kind != EntryKind::File {
        note_wrong_kind(notes, path.as_str(), &meta);
        summary.unreadable = Some("not a regular file; not followed".to_owned());
        return summary;
    }
    match store.read_tail(&path, tail) {
        Ok(bytes) => {
            summary.tail_read = true;
            let parsed = log_log::parse_tail(&bytes.data, bytes.offset > 0);
            summary.tail_only = bytes.offset > 0;
            summary.last_entry_time = parsed.last_time();
            summary.last_message = parsed.entries.last().map(|e| e.message.clone());
            summary.entries_read = parsed.entries.len();
            if parsed.kudu_would_fail() {
                summary.format_problem = parsed
                    .problems
                    .first()
                    .map(|p| format!("line {} of what was read: {}", p.line, p.reason));
            }
        }
        Err(e) => summary.unreadable = Some(note_unreadable(notes, &path, &e)),
    }
    summary
}

/// Well-formedness as `XDocument.Load` needs it (Kudu deletes a `settings.xml` that fails it).
fn check_xml(bytes: &[u8]) -> Content<()> {
    match status_xml::check_well_formed(bytes) {
        Ok(()) => Content::Parsed { value: () },
        Err(reason) => Content::Corrupt { reason },
    }
}

fn check_json(bytes: &[u8]) -> Content<()> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        Ok(_) => Content::Parsed { value: () },
        Err(e) => Content::Corrupt {
            reason: format!("not valid JSON ({e})"),
        },
    }
}

/// Weighs what the tree shows. Ties and an empty tree go to Linux, the platform of the SSH console
/// where the command is most often run; the evidence list makes the choice visible either way.
fn choose_platform(s: &Snapshot, forced: Option<Platform>) -> PlatformChoice {
    let mut evidence = Vec::new();
    let mut add = |platform, path: &str, why: &str| {
        if let Ok(path) = RelPath::new(path) {
            evidence.push(Evidence {
                platform,
                path,
                why: why.to_owned(),
            });
        }
    };
    if s.locks.linux_deployment.is_some() {
        add(
            Platform::Linux,
            "site/locks/deployment",
            "KuduLite's deployment lock directory exists",
        );
    }
    if s.locks.windows_deployment.is_some() {
        add(
            Platform::Windows,
            "site/locks/deployments.lock",
            "Windows Kudu's deployment lock file exists",
        );
    }
    for idle in &s.locks.idle {
        add(
            Platform::Linux,
            idle.file.path.as_str(),
            "KuduLite keeps idle lock files; Windows Kudu deletes them on release",
        );
    }
    if let Some(d) = &s.deployments {
        if d.latest_json.is_some() {
            add(
                Platform::Windows,
                "site/deployments/latest.json",
                "only Windows Kudu writes latest.json",
            );
        }
        for r in &d.records {
            if r.status_complete.is_some() {
                add(
                    Platform::Windows,
                    &format!("{}/status_complete.xml", r.path),
                    "only Windows Kudu writes status_complete.xml",
                );
                break;
            }
        }
    }
    for nl in [Newline::Crlf, Newline::Lf] {
        if let Some((path, _)) = s.newlines_seen.iter().find(|(_, n)| *n == nl) {
            let (p, why) = match nl {
                Newline::Crlf => (
                    Platform::Windows,
                    "status.xml has CRLF line endings (.NET Framework on Windows)",
                ),
                Newline::Lf => (
                    Platform::Linux,
                    "status.xml has LF line endings (.NET Core on Linux)",
                ),
            };
            add(p, &format!("{path}/status.xml"), why);
        }
    }
    let score = |p| evidence.iter().filter(|e| e.platform == p).count();
    let detected = if score(Platform::Windows) > score(Platform::Linux) {
        Platform::Windows
    } else {
        Platform::Linux
    };
    PlatformChoice {
        platform: forced.unwrap_or(detected),
        overridden: forced.is_some(),
        evidence,
    }
}

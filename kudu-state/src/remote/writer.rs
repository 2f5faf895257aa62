//! [`RemotePlace`]: where a repair plan made over Kudu's REST API is applied and undone. Every change
//! is a VFS request carrying its precondition (spec §8):
//!
//! - replacing a file is a `PUT` with `If-Match: <the ETag of the version just read and checked>`;
//!   creating one is a `PUT` without, which Kudu refuses (412) when a file appeared there meanwhile;
//! - removing a file is a `DELETE` with `If-Match` of the version copied into the local backup;
//! - VFS has no MOVE: a folder is copied file by file into the backup, then each file is deleted with
//!   its own `If-Match`, then each folder (deepest first) with a plain `DELETE`, which fails while
//!   anything is left in it. A file written or added meanwhile stops the move and nothing of it is
//!   lost: the spec's recursive `DELETE` would remove what was added between the listing and the
//!   delete, unseen and without a copy;
//! - there is no append: a log is read whole and written back whole with its `If-Match`;
//! - "touch `active`" is a `PUT` of its own bytes with its `If-Match` (its new time is the write's);
//! - `DELETE /api/processes/0` pinned to one instance ends Kudu's process there (Windows).
//!
//! Never `If-Match: *`. A 412 (either platform) or a 409 to a guarded `DELETE` (KuduLite's answer)
//! means the file changed: `PRECONDITION_FAILED`. A 404 or 409 whose text says the file is used by
//! another process means Kudu holds it open: `HELD_OPEN`, never "gone". VFS cannot set a file's time,
//! so what is put back carries the time of the write ([`Place::sets_times`] is false).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::http::{Answer, Method};
use super::scm::{Affinity, Route, ScmReader};
use super::store::RemoteStore;
use crate::error::{Error, Result};
use crate::remediate::Place;
use crate::store::local::{COPY_CAP, digest, local_tree, lstat_opt, read_capped, write_atomic};
use crate::store::{EntryKind, RelPath, Store, file_digest, read_whole_bytes};

/// Largest folder (in entries) moved over the API: a record folder has a handful of files.
const MAX_TREE: usize = 10_000;

/// A site over Kudu's VFS API, as a [`Place`]. Backups stay on the local disk.
#[derive(Debug, Clone)]
pub struct RemotePlace {
    store: RemoteStore,
}

/// The writes a repair makes, each with its guard.
enum Write<'a> {
    /// `PUT` of a file that must not exist.
    Create { path: &'a RelPath, body: Vec<u8> },
    /// `PUT` replacing exactly the version with this ETag.
    Replace {
        path: &'a RelPath,
        etag: String,
        body: Vec<u8>,
    },
    /// `DELETE` of exactly the version with this ETag.
    DeleteFile { path: &'a RelPath, etag: String },
    /// `DELETE` of a folder, which Kudu refuses unless it is empty (no `recursive`).
    DeleteEmptyDir { path: &'a RelPath },
    /// `PUT` of a folder that does not exist.
    CreateDir { path: &'a RelPath },
    /// `DELETE /api/processes/0`: ends Kudu's process on the instance the request reaches.
    EndKudu,
}

impl Write<'_> {
    fn path(&self) -> Option<&RelPath> {
        match self {
            Write::Create { path, .. }
            | Write::Replace { path, .. }
            | Write::DeleteFile { path, .. }
            | Write::DeleteEmptyDir { path }
            | Write::CreateDir { path } => Some(path),
            Write::EndKudu => None,
        }
    }
}

impl RemotePlace {
    /// The site `store` reads. What the store remembered of earlier reads is dropped: apply and undo
    /// check the site as it is now.
    #[must_use]
    pub fn new(store: &RemoteStore) -> RemotePlace {
        store.forget();
        RemotePlace {
            store: store.clone(),
        }
    }

    fn send(&self, write: Write<'_>) -> Result<()> {
        let (scm, affinity) = self.store.channel();
        self.send_via(scm, affinity, write)
    }

    fn send_via(&self, scm: &ScmReader, affinity: &Affinity, write: Write<'_>) -> Result<()> {
        let (method, route, headers) = match &write {
            Write::Create { path, body } => (Method::Put(body.clone()), Route::VfsFile(path), None),
            Write::Replace { path, etag, body } => (
                Method::Put(body.clone()),
                Route::VfsFile(path),
                Some(etag.clone()),
            ),
            Write::DeleteFile { path, etag } => {
                (Method::Delete, Route::VfsFile(path), Some(etag.clone()))
            }
            Write::DeleteEmptyDir { path } => (Method::Delete, Route::VfsDir(Some(path)), None),
            Write::CreateDir { path } => (Method::Put(Vec::new()), Route::VfsDir(Some(path)), None),
            Write::EndKudu => (Method::Delete, Route::KuduProcess, None),
        };
        let headers: Vec<(&'static str, String)> =
            headers.into_iter().map(|etag| ("If-Match", etag)).collect();
        let sent = scm.exchange(&method, scm.url(route), &headers, affinity);
        if let Some(path) = write.path() {
            self.store.invalidate(path);
        }
        let answer = match (sent, &write) {
            (Ok(answer), _) => answer,
            // Kudu ends itself while answering: a dropped connection is the expected answer.
            (Err(Error::Network { .. }), Write::EndKudu) => return Ok(()),
            (Err(e), _) => return Err(e),
        };
        if matches!(answer.status, 200 | 201 | 204) {
            return Ok(());
        }
        refusal(scm, answer, &write, || {
            write
                .path()
                .is_some_and(|p| matches!(self.store.meta(p), Ok(None)))
        })
    }

    /// Copies the file at `path` to the local `to` (synced), returning the ETag of the version copied.
    /// A copy already there (a move resumed after an interruption) is kept, never replaced: it may
    /// be the only copy of a version already removed from the site, so a file that differs from it
    /// stops the move.
    fn copy_file(&self, path: &RelPath, to: &Path) -> Result<String> {
        let bytes = read_whole_bytes(&self.store, path, COPY_CAP)?;
        let etag = bytes.etag.ok_or_else(|| Error::BadResponse {
            url: self.url(path),
            reason: "no ETag came with the file, so its removal could not be guarded".to_owned(),
        })?;
        if lstat_opt(to)?.is_some() {
            if digest(&read_capped(to, COPY_CAP)?) != digest(&bytes.data) {
                return Err(Error::PreconditionFailed {
                    path: PathBuf::from(path.as_str()),
                    reason: format!(
                        "it changed while the move was interrupted; the version removed is kept in `{}`",
                        to.display()
                    ),
                });
            }
            return Ok(etag);
        }
        create_parent(to)?;
        write_atomic(to, &bytes.data, bytes.meta.modified)?;
        Ok(etag)
    }

    fn url(&self, path: &RelPath) -> String {
        self.store.channel().0.url(Route::VfsFile(path))
    }

    fn etag_of(&self, path: &RelPath, read: &crate::store::Bytes) -> Result<String> {
        read.etag.clone().ok_or_else(|| Error::BadResponse {
            url: self.url(path),
            reason: "no ETag came with the file, so the write could not be guarded".to_owned(),
        })
    }

    fn move_folder(&self, path: &RelPath, to: &Path) -> Result<()> {
        fs_err::create_dir_all(to).map_err(|e| Error::io("create", to, e))?;
        let mut folders = vec![path.clone()];
        let mut files = Vec::new();
        let mut next = 0;
        while next < folders.len() {
            let folder = folders[next].clone();
            next += 1;
            for entry in self.store.list(&folder)? {
                let child = folder.join(&entry.name)?;
                let local = in_copy(&child, path, to);
                match entry.kind {
                    EntryKind::Dir => {
                        fs_err::create_dir_all(&local)
                            .map_err(|e| Error::io("create", &local, e))?;
                        folders.push(child);
                    }
                    EntryKind::File => {
                        let etag = self.copy_file(&child, &local)?;
                        files.push((child, etag));
                    }
                    _ => {
                        return Err(Error::Protected {
                            path: PathBuf::from(child.as_str()),
                            reason: "neither a file nor a folder".to_owned(),
                        });
                    }
                }
                if folders.len() + files.len() > MAX_TREE {
                    return Err(Error::invalid(
                        "folder",
                        format!("`{path}` has more than {MAX_TREE} entries; not moved"),
                    ));
                }
            }
        }
        let mut removed: Vec<&RelPath> = Vec::new();
        let deletes = files
            .iter()
            .map(|(file, etag)| {
                (
                    Some(file),
                    Write::DeleteFile {
                        path: file,
                        etag: etag.clone(),
                    },
                )
            })
            .chain(
                folders
                    .iter()
                    .rev()
                    .map(|f| (None, Write::DeleteEmptyDir { path: f })),
            );
        for (file, delete) in deletes {
            if let Err(e) = self.send(delete) {
                return Err(self.stopped(e, &removed, path, to));
            }
            removed.extend(file);
        }
        Ok(())
    }

    /// A folder's move stopped halfway by `e`: puts back the files already removed, from their
    /// copies. When the site refused a removal (it answered: the file changed, or Kudu holds it) and
    /// everything is back, the copy is dropped, so the step reads as not begun: a rerun checks the
    /// folder against the plan again, and undo has nothing to do. Otherwise (a lost answer: that
    /// file may be gone) the copy stays in the backup, and undo puts back what is missing.
    fn stopped(&self, e: Error, removed: &[&RelPath], root: &RelPath, kept: &Path) -> Error {
        let missing = removed
            .iter()
            .filter(|path| {
                let body = read_capped(&in_copy(path, root, kept), COPY_CAP);
                body.and_then(|body| self.send(Write::Create { path, body }))
                    .is_err()
            })
            .count();
        let refused = matches!(e, Error::PreconditionFailed { .. } | Error::HeldOpen { .. });
        let note = if missing > 0 {
            format!(
                "; {missing} file(s) removed could not be put back: `kudu-state undo` puts them back from `{}`",
                kept.display()
            )
        } else if refused && fs_err::remove_dir_all(kept).is_ok() {
            "; nothing of the folder was removed (what had been was put back)".to_owned()
        } else {
            String::new()
        };
        match e {
            Error::PreconditionFailed { path, reason } => Error::PreconditionFailed {
                path,
                reason: reason + &note,
            },
            Error::HeldOpen { path, url, reason } => Error::HeldOpen {
                path,
                url,
                reason: reason + &note,
            },
            other => other,
        }
    }
}

/// Where `path` (inside `root`) is in the local copy of `root` at `copy`.
fn in_copy(path: &RelPath, root: &RelPath, copy: &Path) -> PathBuf {
    match path.as_str().strip_prefix(root.as_str()) {
        Some(rest) => copy.join(rest.trim_start_matches('/')),
        None => copy.to_path_buf(),
    }
}

fn create_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(parent) => fs_err::create_dir_all(parent).map_err(|e| Error::io("create", parent, e)),
        None => Ok(()),
    }
}

/// The error for a write the site refused.
/// `gone`: whether the file a refused write named is absent now (asked only after a 404, which
/// Kudu also answers when the operating system refuses a delete for another reason).
fn refusal(
    scm: &ScmReader,
    answer: Answer,
    write: &Write<'_>,
    gone: impl FnOnce() -> bool,
) -> Result<()> {
    let status = answer.status;
    let url = answer.url.clone();
    let path = write.path().map(|p| PathBuf::from(p.as_str()));
    let mapped = matches!(
        (write, status),
        (_, 412) | (_, 409 | 404) | (Write::EndKudu, 400 | 502 | 503)
    );
    if !mapped {
        return Err(scm.status_error(answer));
    }
    let (body, text) = answer.error_body();
    let (body, text) = (scm.redact(&body), scm.redact(&text));
    let held = body
        .to_ascii_lowercase()
        .contains("used by another process");
    // The sharing violation itself, where a Web API error's `Message` is generic.
    let text = if held {
        serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("ExceptionMessage")?.as_str().map(str::to_owned))
            .unwrap_or(text)
    } else {
        text
    };
    let changed = |reason: &str| {
        Err(Error::PreconditionFailed {
            path: path.clone().unwrap_or_default(),
            reason: reason.to_owned(),
        })
    };
    let gone = status == 404 && !held && gone();
    match (write, status) {
        // Kudu is going away as it answers, or its front end reports it gone: it was ended.
        (Write::EndKudu, 502 | 503) => Ok(()),
        (Write::EndKudu, _) => changed(&format!(
            "Kudu's process cannot be ended on this site ({status}: {text}); on Linux there is no such call"
        )),
        (_, 404 | 409) if held => Err(Error::HeldOpen {
            path: path.unwrap_or_default(),
            url,
            reason: text,
        }),
        (Write::Create { .. }, 412) => {
            changed("a file appeared there since it was read (the site refuses to replace it)")
        }
        // KuduLite answers a DELETE's ETag mismatch with 409.
        (Write::Replace { .. } | Write::DeleteFile { .. }, 412)
        | (Write::DeleteFile { .. }, 409) => {
            changed("it was written since it was read (its ETag is not the one read)")
        }
        (Write::DeleteFile { .. }, 404) if gone => {
            changed("it is gone: removed by someone else since it was read")
        }
        (Write::DeleteEmptyDir { .. }, 409) => {
            changed("the folder is not empty: something was added while it was being moved")
        }
        (Write::DeleteEmptyDir { .. }, 404) => changed("the folder is gone"),
        _ => Err(Error::HttpStatus {
            url,
            status,
            reason: text,
        }),
    }
}

impl Place for RemotePlace {
    fn store(&self) -> &dyn Store {
        &self.store
    }

    fn move_out(&self, path: &RelPath, to: &Path) -> Result<()> {
        match self.store.meta(path)?.map(|m| m.kind) {
            Some(EntryKind::File) => {
                let etag = self.copy_file(path, to)?;
                self.send(Write::DeleteFile { path, etag })
            }
            Some(EntryKind::Dir) => self.move_folder(path, to),
            Some(_) => Err(Error::Protected {
                path: PathBuf::from(path.as_str()),
                reason: "neither a file nor a folder".to_owned(),
            }),
            None => Err(Error::PreconditionFailed {
                path: PathBuf::from(path.as_str()),
                reason: "it is gone".to_owned(),
            }),
        }
    }

    /// Puts back what is missing on the site, file by file, never over a file that is there with
    /// other content (`UNDO_CONFLICT`). The local copy stays in the backup.
    fn move_back(&self, from: &Path, path: &RelPath) -> Result<()> {
        for (rel, kind) in local_tree(from, MAX_TREE)? {
            let target = if rel.is_empty() {
                path.clone()
            } else {
                RelPath::new(&format!("{path}/{rel}"))?
            };
            let there = self.store.meta(&target)?;
            match (kind, there.map(|m| m.kind)) {
                (EntryKind::Dir, None) => self.send(Write::CreateDir { path: &target })?,
                (EntryKind::Dir, Some(EntryKind::Dir)) => {}
                (EntryKind::File, None) => {
                    let body = read_capped(&from.join(&rel), COPY_CAP)?;
                    self.send(Write::Create {
                        path: &target,
                        body,
                    })?;
                }
                (EntryKind::File, Some(EntryKind::File)) => {
                    let kept = digest(&read_capped(&from.join(&rel), COPY_CAP)?);
                    if file_digest(&self.store, &target)?.as_deref() != Some(kept.as_str()) {
                        return Err(Error::UndoConflict {
                            path: PathBuf::from(target.as_str()),
                            reason: "a file with other content is there now".to_owned(),
                        });
                    }
                }
                _ => {
                    return Err(Error::UndoConflict {
                        path: PathBuf::from(target.as_str()),
                        reason: "something else is there now".to_owned(),
                    });
                }
            }
        }
        Ok(())
    }

    fn write(
        &self,
        path: &RelPath,
        bytes: &[u8],
        _mtime: Option<DateTime<Utc>>,
        version: Option<&str>,
    ) -> Result<()> {
        let body = bytes.to_vec();
        match version {
            Some(etag) => self.send(Write::Replace {
                path,
                etag: etag.to_owned(),
                body,
            }),
            None => self.send(Write::Create { path, body }),
        }
    }

    fn create(&self, path: &RelPath, bytes: &[u8], _mtime: DateTime<Utc>) -> Result<()> {
        self.send(Write::Create {
            path,
            body: bytes.to_vec(),
        })
    }

    fn append(&self, path: &RelPath, bytes: &[u8], _mtime: DateTime<Utc>) -> Result<()> {
        let read = read_whole_bytes(&self.store, path, COPY_CAP)?;
        let etag = self.etag_of(path, &read)?;
        let mut body = read.data;
        body.extend_from_slice(bytes);
        self.send(Write::Replace { path, etag, body })
    }

    fn truncate(&self, path: &RelPath, len: u64, version: Option<&str>) -> Result<()> {
        let read = read_whole_bytes(&self.store, path, COPY_CAP)?;
        let etag = self.etag_of(path, &read)?;
        if version.is_some_and(|v| v != etag) {
            return Err(Error::PreconditionFailed {
                path: PathBuf::from(path.as_str()),
                reason: "it was written since it was read (its ETag is not the one read)"
                    .to_owned(),
            });
        }
        let mut body = read.data;
        body.truncate(usize::try_from(len).unwrap_or(usize::MAX));
        self.send(Write::Replace { path, etag, body })
    }

    fn shown(&self, path: &RelPath) -> PathBuf {
        PathBuf::from(path.as_str())
    }

    fn set_mtime(&self, _path: &RelPath, _t: DateTime<Utc>) -> Result<bool> {
        Ok(false)
    }

    fn sets_times(&self) -> bool {
        false
    }

    /// A `PUT` of the file's own bytes: its time becomes the write's, as Kudu's touch makes it.
    fn touch(&self, path: &RelPath, _t: DateTime<Utc>) -> Result<()> {
        match self.store.meta(path)?.map(|m| m.kind) {
            None => self.send(Write::Create {
                path,
                body: Vec::new(),
            }),
            Some(EntryKind::File) => {
                let read = read_whole_bytes(&self.store, path, COPY_CAP)?;
                let etag = self.etag_of(path, &read)?;
                self.send(Write::Replace {
                    path,
                    etag,
                    body: read.data,
                })
            }
            Some(_) => Ok(()),
        }
    }

    /// Nothing: a VFS write leaves no temp file behind.
    fn clean_up(&self, _dir: &RelPath) -> Result<()> {
        Ok(())
    }

    fn appends_in_place(&self) -> bool {
        false
    }

    fn moves_in_parts(&self) -> bool {
        true
    }

    fn restart_kudu(
        &self,
        instance: &str,
        lock: &RelPath,
        planned: Option<&str>,
        still_stalled: &dyn Fn() -> Result<()>,
    ) -> Result<bool> {
        let pinned = self.store.pinned_to(instance);
        // The same acquisition as planned: a lock released since, or taken anew, is not ended.
        match pinned.meta(lock)? {
            Some(m) if m.kind == EntryKind::File => {
                let read = read_whole_bytes(&pinned, lock, COPY_CAP)?;
                if planned.is_some_and(|p| read.etag.as_deref() != Some(p)) {
                    return Ok(false);
                }
            }
            _ => return Ok(false),
        }
        let cannot_ask = || Error::PreconditionFailed {
            path: PathBuf::from(lock.as_str()),
            reason: format!(
                "Kudu on instance {instance} could not say which files it holds open; nothing was restarted"
            ),
        };
        let before = pinned.kudu_process()?.ok_or_else(cannot_ask)?;
        if !before.holds(lock) {
            return Ok(false);
        }
        still_stalled()?;
        let (scm, affinity) = pinned.channel();
        self.send_via(scm, affinity, Write::EndKudu)?;
        // Proof it ended: Kudu there (restarted by this request) no longer holds the lock.
        let after = pinned.kudu_process()?.ok_or_else(cannot_ask)?;
        if after.id == before.id && after.holds(lock) {
            return Err(Error::HeldOpen {
                path: PathBuf::from(lock.as_str()),
                url: scm.url(Route::KuduProcess),
                reason: format!(
                    "Kudu on instance {instance} still holds it after the request to end its process"
                ),
            });
        }
        Ok(true)
    }
}

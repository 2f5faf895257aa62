//! Reading the record folders of `site/deployments` as Kudu reads them: a record's status files by
//! name, and its folder (log tail, manifest) only when the status files do not settle it.

use super::{DeploymentRecord, IdKind, Newline, NextRead, RecordFolder, StatusFile, StatusName};
use crate::log::summary::read_log;
use crate::scan::{STATUS_XML_CAP, list_or_note, par_map, read_bytes, stat_or_gone};
use crate::snapshot::ScanNote;
use crate::status_xml;
use crate::store::{Content, RelPath, Store};

/// How record folders are read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RecordReading {
    /// Bytes read from the end of an unsettled record's `log.log`.
    pub log_tail_bytes: u64,
    /// Whether `status_complete.xml` is looked for (see
    /// [`crate::platform::kudulite_beyond_doubt`]).
    pub status_complete: bool,
}

/// A record after the scan's third round: where it is and its `status.xml`.
pub(crate) struct Partial {
    path: RelPath,
    status: Option<Box<StatusFile>>,
}

/// Reads every record's `status.xml` (at once, on a store that wants it): Kudu opens a record by its
/// status file, so this is all a settled record costs.
pub(crate) fn read_statuses(
    store: &dyn Store,
    dir: &RelPath,
    ids: Vec<String>,
    notes: &mut Vec<ScanNote>,
) -> Vec<Partial> {
    par_map(store, ids, notes, |id, notes| {
        // A name that is not a path component (a backslash) is no record Kudu could open.
        let path = dir.join(&id).ok()?;
        let status = read_status(store, &path, StatusName::Status, notes).map(Box::new);
        Some(Partial { path, status })
    })
    .into_iter()
    .flatten()
    .collect()
}

/// Reads every record whole (its status files, and its folder when they do not settle it), each on
/// its own as soon as a thread is free: for a store that already knows which status files Kudu reads
/// ([`Store::platform_hint`]), so the slowest record does not wait for every other `status.xml`.
pub(crate) fn read_whole(
    store: &dyn Store,
    dir: &RelPath,
    ids: Vec<String>,
    read: RecordReading,
    notes: &mut Vec<ScanNote>,
) -> Vec<DeploymentRecord> {
    par_map(store, ids, notes, |id, notes| {
        let path = dir.join(&id).ok()?;
        let status = read_status(store, &path, StatusName::Status, notes).map(Box::new);
        Some(finish(store, Partial { path, status }, read, notes))
    })
    .into_iter()
    .flatten()
    .collect()
}

/// Finishes every record: its `status_complete.xml` when `read` asks for it, and, when its status
/// files do not settle it (missing, unreadable, or not complete), its folder: the log's tail for signs
/// of life, the folder's own metadata when there is no readable `status.xml`.
pub(crate) fn finish_records(
    store: &dyn Store,
    partials: Vec<Partial>,
    read: RecordReading,
    notes: &mut Vec<ScanNote>,
) -> Vec<DeploymentRecord> {
    par_map(store, partials, notes, |p, notes| {
        finish(store, p, read, notes)
    })
}

/// One record's status_complete.xml when asked for, and its folder when it is not settled.
fn finish(
    store: &dyn Store,
    p: Partial,
    read: RecordReading,
    notes: &mut Vec<ScanNote>,
) -> DeploymentRecord {
    {
        let status_complete = if read.status_complete {
            read_status(store, &p.path, StatusName::StatusComplete, notes).map(Box::new)
        } else {
            None
        };
        let mut record = DeploymentRecord {
            id_kind: IdKind::of(p.path.file_name()),
            path: p.path,
            status: p.status,
            status_complete,
            folder: None,
            next_read: NextRead::Invisible,
        };
        if !record.is_settled() {
            let folder = read_folder(store, &record, read.log_tail_bytes, notes);
            record.folder = Some(Box::new(folder));
        }
        record
    }
}

/// `status.xml` or `status_complete.xml` of the record at `dir`; `None` when there is none.
fn read_status(
    store: &dyn Store,
    dir: &RelPath,
    name: StatusName,
    notes: &mut Vec<ScanNote>,
) -> Option<StatusFile> {
    let path = dir.child(name.file_name());
    let (meta, bytes) = read_bytes(store, &path, None, STATUS_XML_CAP, notes)?;
    let newline = bytes.as_deref().ok().and_then(Newline::detect);
    let content = match bytes {
        Err(error) => Content::Unreadable { error },
        // Straight into the compact form: no `StatusXml` (one `String` per element) in between.
        Ok(bytes) => match status_xml::parse_doc(&bytes) {
            Ok(value) => Content::Parsed { value },
            Err(e) => Content::Corrupt {
                reason: e.to_string(),
            },
        },
    };
    Some(StatusFile {
        meta,
        content,
        newline,
    })
}

/// Lists an unsettled record's folder and reads what tells whether its deployment is alive.
fn read_folder(
    store: &dyn Store,
    record: &DeploymentRecord,
    tail: u64,
    notes: &mut Vec<ScanNote>,
) -> RecordFolder {
    let mut folder = RecordFolder {
        meta: None,
        log: None,
        log_xml: false,
        manifest: false,
    };
    for entry in list_or_note(store, &record.path, notes) {
        match entry.name.as_str() {
            "log.log" => {
                if let Ok(file) = record.path.join(&entry.name) {
                    folder.log = Some(read_log(store, file, &entry.kind, tail, notes));
                }
            }
            "log.xml" => folder.log_xml = true,
            "manifest" => folder.manifest = true,
            _ => {}
        }
    }
    if record
        .status
        .as_ref()
        .is_none_or(|s| s.content.value().is_none())
    {
        folder.meta = stat_or_gone(store, &record.path, notes);
    }
    folder
}

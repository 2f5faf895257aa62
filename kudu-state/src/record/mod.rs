//! One deployment folder `site/deployments/<id>/` (spec §4): the model, what Kudu will do with it on
//! its next read ([`NextRead`]), how the folders are read ([`read`]), how they are judged ([`rules`]), and
//! Kudu's purge of old ones ([`purge`]).

pub mod purge;
pub(crate) mod read;
pub(crate) mod rules;

pub use purge::purge_candidates;
pub use rules::LINUX_ORPHAN_GRACE;

use crate::names::named_enum;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::log::LogSummary;
use crate::platform::Platform;
use crate::status_xml::StatusDoc;
use crate::store::{Content, Meta, RelPath};

named_enum! {
    /// The shape of a deployment id (spec §4.1). It tells where a record came from: a temp id is a
    /// "receiving changes" record that Kudu deletes on success; a commit hash is a git deployment.
    pub enum IdKind {
        /// 40 lowercase hex digits: a git or hg commit.
        CommitHash => "commit-hash",
        /// 32 lowercase hex digits (`Guid.ToString("N")`): zip, war or OneDeploy.
        Guid => "guid",
        /// A dashed 36-character GUID: a deployment tracked with `trackDeploymentProgress=true`.
        TrackingGuid => "tracking-guid",
        /// `temp-` and 8 hex digits: Kudu's temporary record while a deployment receives changes.
        Temp => "temp",
        /// `latest` or `tools`: names Kudu reserves.
        Reserved => "reserved",
        /// Anything else: an id given to `PUT /api/deployments/{id}`.
        External => "external",
    }
}

impl IdKind {
    /// Classifies a deployment folder name.
    #[must_use]
    pub fn of(id: &str) -> IdKind {
        let hex = |s: &str| s.bytes().all(|b| LOWER_HEX[usize::from(b)]);
        let is_dashed_guid = id.len() == 36
            && id.split('-').map(str::len).eq([8, 4, 4, 4, 12])
            && id.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit());
        match id {
            "latest" | "tools" => IdKind::Reserved,
            _ if id.len() == 40 && hex(id) => IdKind::CommitHash,
            _ if id.len() == 32 && hex(id) => IdKind::Guid,
            _ if is_dashed_guid => IdKind::TrackingGuid,
            _ if id.len() == 13 && id.strip_prefix("temp-").is_some_and(hex) => IdKind::Temp,
            _ => IdKind::External,
        }
    }
}

/// Which bytes are lowercase hex digits: one lookup per byte of an id, which every record's is
/// classified by (the range test costs several times that).
const LOWER_HEX: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = matches!(b as u8, b'0'..=b'9' | b'a'..=b'f');
        b += 1;
    }
    table
};

named_enum! {
    /// Line endings found in a file, which tell Windows Kudu (CRLF) from KuduLite (LF).
    pub enum Newline {
        /// `\r\n`
        Crlf => "crlf",
        /// `\n`
        Lf => "lf",
    }
}

impl Newline {
    /// The line ending of the first line break in `bytes`, if there is one.
    #[must_use]
    pub fn detect(bytes: &[u8]) -> Option<Newline> {
        let i = bytes.iter().position(|&b| b == b'\n')?;
        Some(if i > 0 && bytes[i - 1] == b'\r' {
            Newline::Crlf
        } else {
            Newline::Lf
        })
    }
}

/// Which of a record's two status documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusName {
    /// `status.xml`, which every record has.
    Status,
    /// `status_complete.xml`, which Windows Kudu writes when a deployment completes and reads first.
    StatusComplete,
}

impl StatusName {
    /// The file's name.
    #[must_use]
    pub fn file_name(self) -> &'static str {
        match self {
            StatusName::Status => "status.xml",
            StatusName::StatusComplete => "status_complete.xml",
        }
    }
}

/// `status.xml` or `status_complete.xml` of a record: which one is said by where the record keeps it,
/// and its path by [`DeploymentRecord::status_path`] (not stored: a neglected site has 100,000).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusFile {
    /// Its metadata.
    pub meta: Meta,
    /// The document, or why Kudu would reject it.
    pub content: Content<StatusDoc>,
    /// The line ending it was written with.
    pub newline: Option<Newline>,
}

/// What Kudu does with a record the next time anything reads it (spec §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "action")]
pub enum NextRead {
    /// Reads it normally.
    Keep,
    /// Reads it, but its next save throws (no `author` or `message` element), so a listing that tries to
    /// mark it failed errors again and again.
    KeepUnsavable {
        /// Which element is missing.
        reason: String,
    },
    /// Rejects the document and **deletes the whole folder**, log and manifest included.
    DeleteFolder {
        /// Why the document is rejected.
        reason: String,
    },
    /// No `status.xml`: the folder is invisible to Kudu's API and never purged.
    Invisible,
}

/// One folder under `site/deployments`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentRecord {
    /// What kind of id it is.
    pub id_kind: IdKind,
    /// `site/deployments/<id>`; the id is its last component (see [`DeploymentRecord::id`]).
    pub path: RelPath,
    /// `status.xml`, absent for a folder without one. Boxed, like the rest, to keep the record small:
    /// a neglected site has 100,000 of them.
    pub status: Option<Box<StatusFile>>,
    /// `status_complete.xml` (Windows), which Windows Kudu reads *first*. Not looked for (so `None`)
    /// on a home whose locks show KuduLite beyond doubt, which never reads it; see
    /// [`scan`](crate::scan::scan).
    pub status_complete: Option<Box<StatusFile>>,
    /// The rest of the folder, listed only when the status files do not settle the record (see
    /// [`DeploymentRecord::is_settled`]). `None` for a settled record: a neglected site has thousands,
    /// Kudu itself only ever opens their status files, and listing each folder would cost more than
    /// reading them.
    pub folder: Option<Box<RecordFolder>>,
    /// What Kudu will do with this record on its next read.
    pub next_read: NextRead,
}

/// What the listing of an unsettled record's folder found besides its status files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordFolder {
    /// The folder's own metadata, read only when there is no readable `status.xml` (its mtime is then
    /// the only age the record has); `None` otherwise, or when the folder vanished meanwhile.
    pub meta: Option<Meta>,
    /// `log.log`.
    pub log: Option<LogSummary>,
    /// `log.xml` (legacy Windows log) is there.
    pub log_xml: bool,
    /// `manifest` is there: the file list KuduSync wrote, which the next deployment needs from the
    /// active record.
    pub manifest: bool,
}

/// The record as JSON: its id beside its path, as a reader expects.
impl Serialize for DeploymentRecord {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Record<'a> {
            id: &'a str,
            id_kind: IdKind,
            path: &'a RelPath,
            status: Option<&'a StatusFile>,
            status_complete: Option<&'a StatusFile>,
            folder: Option<&'a RecordFolder>,
            next_read: &'a NextRead,
        }
        Record {
            id: self.id(),
            id_kind: self.id_kind,
            path: &self.path,
            status: self.status.as_deref(),
            status_complete: self.status_complete.as_deref(),
            folder: self.folder.as_deref(),
            next_read: &self.next_read,
        }
        .serialize(serializer)
    }
}

impl DeploymentRecord {
    /// The folder name, which is the id Kudu opens. Not stored apart from the path: a neglected site
    /// has 100,000 records.
    #[must_use]
    pub fn id(&self) -> &str {
        self.path.file_name()
    }

    /// The document Kudu uses for this record on `platform`: on Windows a parsable `status_complete.xml`
    /// shadows `status.xml`; otherwise `status.xml`.
    #[must_use]
    pub fn effective(&self, platform: Platform) -> Option<&StatusDoc> {
        let complete = self
            .status_complete
            .as_ref()
            .filter(|_| platform == Platform::Windows)
            .and_then(|f| f.content.value());
        complete.or_else(|| self.status.as_ref()?.content.value())
    }

    /// True when Kudu considers the record finished (`complete=True`).
    #[must_use]
    pub fn is_complete(&self, platform: Platform) -> bool {
        self.effective(platform).is_some_and(|s| s.complete)
    }

    /// True when every status file there is readable and says `complete`: nothing else in the folder
    /// can change what Kudu does with the record, so the scan does not list it.
    #[must_use]
    pub fn is_settled(&self) -> bool {
        self.status.is_some()
            && self
                .status_files()
                .all(|(_, s)| s.content.value().is_some_and(|d| d.complete))
    }

    /// `site/deployments/<id>/status.xml` or `…/status_complete.xml`.
    #[must_use]
    pub fn status_path(&self, which: StatusName) -> RelPath {
        self.path.child(which.file_name())
    }

    /// The status documents the record has, `status.xml` first.
    pub fn status_files(&self) -> impl Iterator<Item = (StatusName, &StatusFile)> {
        [
            (StatusName::Status, self.status.as_deref()),
            (StatusName::StatusComplete, self.status_complete.as_deref()),
        ]
        .into_iter()
        .filter_map(|(name, file)| Some((name, file?)))
    }

    /// The log, when the folder was listed and has one.
    #[must_use]
    pub fn log(&self) -> Option<&LogSummary> {
        self.folder.as_ref()?.log.as_ref()
    }

    /// The newest sign of life: `status.xml` or `log.log` written, or the newest log entry.
    #[must_use]
    pub fn last_activity(&self) -> Option<DateTime<Utc>> {
        let status = self.status.as_ref().and_then(|s| s.meta.modified);
        let log = self.log().and_then(|l| l.meta.as_ref()?.modified);
        let entry = self.log().and_then(|l| l.last_entry_time);
        [status, log, entry].into_iter().flatten().max()
    }

    /// Decides [`NextRead`] as Kudu on `platform` would.
    #[must_use]
    pub fn decide_next_read(&self, platform: Platform) -> NextRead {
        if platform == Platform::Windows
            && let Some(doc) = self
                .status_complete
                .as_ref()
                .and_then(|f| f.content.value())
        {
            return unsavable_or_keep(doc);
        }
        match self.status.as_ref().map(|s| &s.content) {
            None => NextRead::Invisible,
            Some(Content::Parsed { value }) => unsavable_or_keep(value),
            Some(Content::Corrupt { reason }) => NextRead::DeleteFolder {
                reason: reason.clone(),
            },
            // Kudu would hit the same error (or, for a link, read through it); it does not delete on
            // an I/O error it cannot reproduce here, so keep.
            Some(Content::Unreadable { .. }) => NextRead::Keep,
        }
    }
}

fn unsavable_or_keep(doc: &StatusDoc) -> NextRead {
    match doc.unsavable_reason() {
        Some(reason) => NextRead::KeepUnsavable { reason },
        None => NextRead::Keep,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_classified_as_kudu_makes_them() {
        assert_eq!(
            IdKind::of("3f786850e387550fdab836ed7e6dc881de23001b"),
            IdKind::CommitHash
        );
        assert_eq!(IdKind::of("8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b"), IdKind::Guid);
        assert_eq!(
            IdKind::of("8c1f4e2a-9b3d-4f6e-8a7b-5c4d3e2f1a0b"),
            IdKind::TrackingGuid
        );
        assert_eq!(IdKind::of("temp-3fa9c0d1"), IdKind::Temp);
        assert_eq!(IdKind::of("temp-3fa9c0d"), IdKind::External);
        assert_eq!(IdKind::of("temp-3fa9c0dz"), IdKind::External);
        assert_eq!(IdKind::of("tools"), IdKind::Reserved);
        assert_eq!(
            IdKind::of("8C1F4E2A9B3D4F6E8A7B5C4D3E2F1A0B"),
            IdKind::External
        );
        assert_eq!(IdKind::of("release-42"), IdKind::External);
    }

    #[test]
    fn newline_detection() {
        assert_eq!(Newline::detect(b"a\r\nb"), Some(Newline::Crlf));
        assert_eq!(Newline::detect(b"a\nb\r\n"), Some(Newline::Lf));
        assert_eq!(Newline::detect(b"\n"), Some(Newline::Lf));
        assert_eq!(Newline::detect(b"ab"), None);
    }
}

//! Reading the root of `site/deployments` (spec §3): `active`, `pending`, `settings.xml`, `hooks`,
//! `latest.json`, `tools/`, and the names of the record folders beside them.

use super::{ActiveFile, ActiveValue, DeploymentsDir, RootFile};
use crate::scan::{
    ACTIVE_CAP, ROOT_FILE_CAP, list_or_note, note_wrong_kind, par_map, read_small, stat_or_gone,
};
use crate::snapshot::ScanNote;
use crate::status_xml;
use crate::store::{Content, DirEntry, EntryKind, Meta, RelPath, Store};

/// The names in `site/deployments` that are not records (see [`split`]).
pub(crate) const ROOT_NAMES: [&str; 6] = [
    "active",
    "pending",
    "settings.xml",
    "hooks",
    "latest.json",
    "tools",
];

/// The entries of `site/deployments`.
pub(crate) fn list(store: &dyn Store, dir: &RelPath, notes: &mut Vec<ScanNote>) -> Vec<DirEntry> {
    list_or_note(store, dir, notes)
}

/// The listing split into the root entries and the names of the record folders (nearly every entry
/// of a neglected site), which are read by [`crate::record::read`].
pub(crate) fn split(entries: Vec<DirEntry>) -> (Vec<DirEntry>, Vec<String>) {
    let mut root = Vec::new();
    let mut record_ids = Vec::new();
    for entry in entries {
        if entry.kind == EntryKind::Dir && !ROOT_NAMES.contains(&entry.name.as_str()) {
            record_ids.push(entry.name);
        } else {
            root.push(entry);
        }
    }
    (root, record_ids)
}

/// One root entry as read.
enum RootPart {
    Active(Option<ActiveFile>),
    Pending(Option<Meta>),
    SettingsXml(Option<RootFile>),
    Hooks(Option<RootFile>),
    LatestJson(Option<RootFile>),
    Tools(Option<Meta>),
    Other,
}

/// Reads the root entries of `site/deployments` (at once, on a store that wants it).
pub(crate) fn read_root(
    store: &dyn Store,
    dir: &RelPath,
    entries: Vec<DirEntry>,
    notes: &mut Vec<ScanNote>,
) -> DeploymentsDir {
    let parts = par_map(store, entries, notes, |entry, notes| {
        let Ok(path) = dir.join(&entry.name) else {
            return RootPart::Other;
        };
        let root_file = |notes: &mut Vec<ScanNote>, check: fn(&[u8]) -> Content<()>| {
            let (meta, content) =
                read_small(store, &path, &entry.kind, ROOT_FILE_CAP, notes, check)?;
            Some(RootFile {
                path: path.clone(),
                meta,
                content,
            })
        };
        match entry.name.as_str() {
            "active" => RootPart::Active(
                read_small(store, &path, &entry.kind, ACTIVE_CAP, notes, |b| {
                    Content::Parsed {
                        value: ActiveValue::parse(b),
                    }
                })
                .map(|(meta, content)| ActiveFile { meta, content }),
            ),
            "pending" => RootPart::Pending(stat_or_gone(store, &path, notes)),
            "settings.xml" => RootPart::SettingsXml(root_file(notes, check_xml)),
            "hooks" => RootPart::Hooks(root_file(notes, check_json)),
            "latest.json" => RootPart::LatestJson(root_file(notes, check_json)),
            "tools" => RootPart::Tools(stat_or_gone(store, &path, notes)),
            _ => {
                if let EntryKind::Symlink { .. } = entry.kind {
                    note_wrong_kind(notes, path.as_str(), &entry.kind);
                }
                RootPart::Other
            }
        }
    });
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
    for part in parts {
        match part {
            RootPart::Active(f) => out.active = f,
            RootPart::Pending(m) => out.pending = m,
            RootPart::SettingsXml(f) => out.settings_xml = f,
            RootPart::Hooks(f) => out.hooks = f,
            RootPart::LatestJson(f) => out.latest_json = f,
            RootPart::Tools(m) => out.tools = m,
            RootPart::Other => {}
        }
    }
    out
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

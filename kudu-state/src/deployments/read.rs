//! Reading the root of `site/deployments` (spec §3): `active`, `pending`, `settings.xml`, `hooks`,
//! `latest.json`, `tools/`, and the names of the record folders beside them.

use super::{ActiveFile, ActiveValue, DeploymentsDir, RootFile};
use crate::scan::{
    ACTIVE_CAP, ROOT_FILE_CAP, list_or_note, note_wrong_kind, read_small, stat_or_gone,
};
use crate::snapshot::ScanNote;
use crate::status_xml;
use crate::store::{Content, EntryKind, RelPath, Store};

/// The names in `site/deployments` that are not records (matched one by one in [`scan_deployments`]).
pub(crate) const ROOT_NAMES: [&str; 6] = [
    "active",
    "pending",
    "settings.xml",
    "hooks",
    "latest.json",
    "tools",
];

/// The root files of `site/deployments` and the names of its record folders (read afterwards, by
/// [`read_records`]).
pub(crate) fn read(
    store: &dyn Store,
    dir: &RelPath,
    notes: &mut Vec<ScanNote>,
) -> (DeploymentsDir, Vec<String>) {
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
    let mut record_ids = Vec::new();
    for entry in list_or_note(store, dir, notes) {
        // Nearly every entry is a record folder, read later from its name alone.
        if entry.kind == EntryKind::Dir && !ROOT_NAMES.contains(&entry.name.as_str()) {
            record_ids.push(entry.name);
            continue;
        }
        let Ok(path) = dir.join(&entry.name) else {
            continue;
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
            "active" => {
                out.active = read_small(store, &path, &entry.kind, ACTIVE_CAP, notes, |b| {
                    Content::Parsed {
                        value: ActiveValue::parse(b),
                    }
                })
                .map(|(meta, content)| ActiveFile { meta, content });
            }
            "pending" => out.pending = stat_or_gone(store, &path, notes),
            "settings.xml" => out.settings_xml = root_file(notes, check_xml),
            "hooks" => out.hooks = root_file(notes, check_json),
            "latest.json" => out.latest_json = root_file(notes, check_json),
            "tools" => out.tools = stat_or_gone(store, &path, notes),
            _ => {
                if let EntryKind::Symlink { .. } = entry.kind {
                    note_wrong_kind(notes, path.as_str(), &entry.kind);
                }
            }
        }
    }
    (out, record_ids)
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

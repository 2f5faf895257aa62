//! `site/deployments` and its root files (spec §3): `active`, `pending`, `settings.xml`, `hooks`,
//! `latest.json`, `tools/`, and the records beside them: the model, how the root is read ([`read`]),
//! how `active` and the other root files are judged ([`rules`]), and Windows Kudu's `latest.json` as its
//! self-heal rewrites it ([`latest_json`]).

pub(crate) mod latest_json;
pub(crate) mod read;
pub(crate) mod rules;

use serde::Serialize;

use crate::record::DeploymentRecord;
use crate::store::{Content, Meta, RelPath};

/// What `active` holds. Kudu writes the id with no newline; anything else changes behaviour
/// (spec §3, S11), so every variant of "almost an id" is kept distinguishable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum ActiveValue {
    /// 0 bytes: no deployment ever succeeded (normal), or it was recreated empty by a status write.
    Empty,
    /// Exactly an id, as Kudu writes it.
    Id {
        /// The id.
        id: String,
    },
    /// Not what Kudu writes: whitespace or a newline around the id, a NUL, invalid UTF-8, control chars.
    Malformed {
        /// The content, with invalid UTF-8 replaced and control characters escaped, for a report.
        raw: String,
        /// The id once surrounding whitespace and NULs are removed, if that leaves a plausible one.
        trimmed: Option<String>,
        /// What is wrong, for a person.
        problem: String,
    },
}

impl ActiveValue {
    /// The id this value names: the exact id, or a malformed value's trimmed id.
    #[must_use]
    pub fn named_id(&self) -> Option<&str> {
        match self {
            ActiveValue::Id { id } => Some(id),
            ActiveValue::Malformed { trimmed, .. } => trimmed.as_deref(),
            ActiveValue::Empty => None,
        }
    }

    /// Classifies the bytes of `active`.
    #[must_use]
    pub fn parse(bytes: &[u8]) -> ActiveValue {
        if bytes.is_empty() {
            return ActiveValue::Empty;
        }
        let raw = String::from_utf8_lossy(bytes).escape_debug().to_string();
        let Ok(text) = std::str::from_utf8(bytes) else {
            return ActiveValue::Malformed {
                raw,
                trimmed: None,
                problem: "not valid UTF-8".to_owned(),
            };
        };
        let trimmed = text.trim_matches(|c: char| c.is_whitespace() || c == '\0');
        let plausible = !trimmed.is_empty() && !trimmed.chars().any(char::is_control);
        if plausible && trimmed.len() == text.len() {
            return ActiveValue::Id {
                id: text.to_owned(),
            };
        }
        let problem = if text.starts_with('\0') {
            "starts with a NUL byte (Kudu ignores it)"
        } else if text.ends_with('\n') || text.ends_with('\r') {
            "has a trailing newline (Kudu compares ids exactly)"
        } else if trimmed.len() != text.len() {
            "has whitespace around the id"
        } else {
            "contains control characters"
        };
        ActiveValue::Malformed {
            raw,
            trimmed: plausible.then(|| trimmed.to_owned()),
            problem: problem.to_owned(),
        }
    }
}

/// `active` with its metadata (its mtime is the cache key of `GET /api/deployments`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActiveFile {
    /// Its metadata.
    pub meta: Meta,
    /// Its content.
    pub content: Content<ActiveValue>,
}

/// A root file Kudu needs, kept with whether it is well-formed where that matters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RootFile {
    /// Where it is.
    pub path: RelPath,
    /// Its metadata.
    pub meta: Meta,
    /// `Parsed` when well-formed (or when its content does not matter), else why not.
    pub content: Content<()>,
}

/// `site/deployments` and everything in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeploymentsDir {
    /// `site/deployments`.
    pub path: RelPath,
    /// `active`.
    pub active: Option<ActiveFile>,
    /// `pending`: a marker whose mtime alone matters; never a cause of 409.
    pub pending: Option<Meta>,
    /// `settings.xml` (deployment settings; Kudu deletes a corrupt one at startup).
    pub settings_xml: Option<RootFile>,
    /// `hooks` (web hooks JSON).
    pub hooks: Option<RootFile>,
    /// `latest.json` (Windows: summary of the last completed deployment).
    pub latest_json: Option<RootFile>,
    /// `tools/` (cached deployment script and user PostDeploymentActions).
    pub tools: Option<Meta>,
    /// One per folder, sorted by id.
    pub records: Vec<DeploymentRecord>,
}

impl DeploymentsDir {
    /// The record with this exact folder name.
    #[must_use]
    pub fn record(&self, id: &str) -> Option<&DeploymentRecord> {
        self.records.iter().find(|r| r.id() == id)
    }

    /// The folder `active` names, read generously (a malformed value's trimmed id counts): the folder
    /// kudu-state must protect as the live deployment even when Kudu itself would not match it.
    #[must_use]
    pub fn named_active(&self) -> Option<&str> {
        self.active.as_ref()?.content.value()?.named_id()
    }

    /// The active id exactly as Kudu reads it, when `active` holds one.
    #[must_use]
    pub fn active_id(&self) -> Option<&str> {
        match self.active.as_ref()?.content.value()? {
            ActiveValue::Id { id } => Some(id),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_variants_are_distinguishable() {
        assert_eq!(ActiveValue::parse(b""), ActiveValue::Empty);
        assert_eq!(
            ActiveValue::parse(b"abc"),
            ActiveValue::Id { id: "abc".into() }
        );
        let cases: [(&[u8], Option<&str>); 4] = [
            (b"abc\n", Some("abc")),
            (b"\0abc", Some("abc")),
            (b"\xff\xfe", None),
            (b"\0\0", None),
        ];
        for (bytes, trimmed) in cases {
            match ActiveValue::parse(bytes) {
                ActiveValue::Malformed { trimmed: t, .. } => assert_eq!(t.as_deref(), trimmed),
                other => panic!("{bytes:?} gave {other:?}"),
            }
        }
    }
}

//! Which Kudu wrote a home, Windows Kudu or Linux KuduLite, and how the scan tells them apart.
//!
//! The two share a layout but differ in the details that matter for a diagnosis: the deployment lock
//! (an open-handle file on Windows, an expiring directory on Linux), line endings, and a few files only
//! one of them writes (spec §1, §2). [`choose`] weighs what a tree shows; the caller may override it.

use serde::Serialize;

use crate::names::named_enum;
use crate::record::Newline;
use crate::snapshot::Snapshot;
use crate::store::RelPath;

named_enum! {
    /// The Kudu flavour that owns a home.
    pub enum Platform {
        /// Windows Kudu (.NET Framework): CRLF files, `site/locks/deployments.lock`.
        Windows => "windows",
        /// Linux KuduLite (.NET Core): LF files, `site/locks/deployment/info.lock`.
        Linux => "linux",
    }
}

impl Platform {
    /// The newline .NET writes on this platform (`Environment.NewLine`).
    #[must_use]
    pub fn newline(self) -> &'static str {
        match self {
            Platform::Windows => "\r\n",
            Platform::Linux => "\n",
        }
    }
}

/// One observation that points at a platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// The platform it points at.
    pub platform: Platform,
    /// The path it was seen at.
    pub path: RelPath,
    /// What was seen.
    pub why: String,
}

/// The platform a snapshot is interpreted for, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlatformChoice {
    /// The platform.
    pub platform: Platform,
    /// True when the caller chose it rather than the tree.
    pub overridden: bool,
    /// What the tree showed (kept even when overridden, so a wrong override is visible).
    pub evidence: Vec<Evidence>,
}

/// Weighs what the tree shows. Ties and an empty tree go to Linux, the platform of the SSH console
/// where the command is most often run; the evidence list makes the choice visible either way.
pub(crate) fn choose(s: &Snapshot, forced: Option<Platform>) -> PlatformChoice {
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
    let status_files = || {
        s.deployments
            .iter()
            .flat_map(|d| &d.records)
            .flat_map(|r| r.status_files().map(move |(name, file)| (r, name, file)))
    };
    for nl in [Newline::Crlf, Newline::Lf] {
        if let Some((r, name, _)) = status_files().find(|(_, _, f)| f.newline == Some(nl)) {
            let (p, why) = match nl {
                Newline::Crlf => (
                    Platform::Windows,
                    "has CRLF line endings (.NET Framework on Windows)",
                ),
                Newline::Lf => (Platform::Linux, "has LF line endings (.NET Core on Linux)"),
            };
            add(
                p,
                r.status_path(name).as_str(),
                &format!("{} {why}", name.file_name()),
            );
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

/// True when the locks and root files already show KuduLite so clearly that nothing in the records
/// can change the detected platform: two or more signs of Linux and none of Windows, while the records
/// can add at most two signs of Windows (a CRLF `status.xml`, a `status_complete.xml`) and ties go to
/// Linux. KuduLite never reads `status_complete.xml`, so on such a home it is not looked for (one
/// failed open per record saved) unless the caller asks for the Windows reading.
pub(crate) fn kudulite_beyond_doubt(before_records: &Snapshot, forced: Option<Platform>) -> bool {
    let evidence = choose(before_records, None).evidence;
    let signs = |p| evidence.iter().filter(|e| e.platform == p).count();
    forced != Some(Platform::Windows)
        && signs(Platform::Windows) == 0
        && signs(Platform::Linux) >= 2
}

//! Which Kudu wrote a home: Windows Kudu or Linux KuduLite.
//!
//! The two share a layout but differ in the details that matter for a diagnosis: the deployment lock
//! (an open-handle file on Windows, an expiring directory on Linux), line endings, and a few files only
//! one of them writes (spec §1, §2).

use serde::{Deserialize, Serialize};

/// The Kudu flavour that owns a home.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// Windows Kudu (.NET Framework): CRLF files, `site/locks/deployments.lock`.
    Windows,
    /// Linux KuduLite (.NET Core): LF files, `site/locks/deployment/info.lock`.
    Linux,
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

    /// The lowercase name used in JSON and on the command line.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Windows => "windows",
            Platform::Linux => "linux",
        }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

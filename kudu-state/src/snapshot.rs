//! [`Snapshot`]: everything kudu-state knows about a home after one scan.

use crate::names::named_enum;
use std::path::PathBuf;

use serde::Serialize;

use crate::deployments::DeploymentsDir;
use crate::lock::Locks;
use crate::platform::{Platform, PlatformChoice};
use crate::store::Meta;

named_enum! {
    /// Which path the caller gave: the home itself or its `site` folder.
    pub enum Given {
        /// The folder that contains `site/` (`/home`, `D:\home`).
        Home => "home",
        /// `HOME/site` itself.
        Site => "site",
    }
}

/// Something the scanner met and did not (or could not) read, reported rather than guessed at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanNote {
    /// Where.
    pub path: String,
    /// What kind of thing.
    pub kind: NoteKind,
    /// Details for a person.
    pub detail: String,
}

named_enum! {
    /// Kinds of [`ScanNote`].
    pub enum NoteKind {
        /// A symbolic link, not followed.
        Symlink => "symlink",
        /// A name that is not UTF-8, skipped.
        NonUtf8Name => "non-utf8-name",
        /// A file or folder that could not be read.
        Unreadable => "unreadable",
        /// Something of the wrong kind where Kudu expects a file or a folder.
        WrongKind => "wrong-kind",
    }
}

/// The state of one home, read in one pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// The home directory (the folder containing `site/`).
    pub home: PathBuf,
    /// Whether the caller gave the home or its `site` folder.
    pub given: Given,
    /// The platform the snapshot is interpreted for.
    pub platform: PlatformChoice,
    /// `site/locks`.
    pub locks: Locks,
    /// `site/deployments`, or `None` when it does not exist (a valid, empty state).
    pub deployments: Option<DeploymentsDir>,
    /// `site/wwwroot`'s metadata, if it exists.
    pub wwwroot: Option<Meta>,
    /// Links, odd names and unreadable entries met on the way.
    pub notes: Vec<ScanNote>,
}

impl Snapshot {
    /// The platform the snapshot is interpreted for.
    #[must_use]
    pub fn platform(&self) -> Platform {
        self.platform.platform
    }
}

//! Which home a plan or a backup belongs to: a canonical path, resolved once when planning, and an
//! identity of the folder at that path, checked again before anything is changed.
//!
//! A path alone is not enough: `apply` and `undo` may run from another working directory (a relative
//! path then names another folder), and a home may be replaced by a copy or a new site at the same path.
//! Restoring a backup into the wrong folder would report success while the real home stays broken, so
//! both refuse with `HOME_MISMATCH` instead, and neither ever creates a home that is not there.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// What identifies a home's `site` folder beyond its path. Fields a platform cannot provide are `None`
/// and are not compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HomeIdentity {
    /// `HOME/site`'s device and inode numbers (Unix); a copy or a re-created folder has others.
    pub site_dev_ino: Option<(u64, u64)>,
    /// `HOME/site`'s creation time, where the file system records one (Windows, Linux with `statx`).
    pub site_created: Option<DateTime<Utc>>,
}

impl HomeIdentity {
    /// The identity of the home at `home` (its `site` folder, not followed if it is a link).
    ///
    /// # Errors
    /// `IO_ERROR` when `HOME/site` cannot be `stat`ed.
    pub fn of(home: &Path) -> Result<HomeIdentity> {
        let site = home.join("site");
        let m = fs_err::symlink_metadata(&site).map_err(|e| Error::io("stat", &site, e))?;
        #[cfg(unix)]
        let site_dev_ino = {
            use std::os::unix::fs::MetadataExt;
            Some((m.dev(), m.ino()))
        };
        #[cfg(not(unix))]
        let site_dev_ino = None;
        Ok(HomeIdentity {
            site_dev_ino,
            site_created: m.created().ok().map(DateTime::<Utc>::from),
        })
    }

    /// The first field both identities know and that differs, named for a person.
    fn differs_from(&self, other: &HomeIdentity) -> Option<&'static str> {
        if let (Some(a), Some(b)) = (self.site_dev_ino, other.site_dev_ino)
            && a != b
        {
            return Some("its site folder is another folder (device and inode differ)");
        }
        if let (Some(a), Some(b)) = (self.site_created, other.site_created)
            && a != b
        {
            return Some("its site folder was created at another time");
        }
        None
    }
}

/// The canonical absolute path of the home at `home`, as a plan records it.
///
/// # Errors
/// `HOME_NOT_FOUND` or `IO_ERROR`.
pub(crate) fn canonical(home: &Path) -> Result<PathBuf> {
    fs_err::canonicalize(home).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::HomeNotFound {
                path: home.to_path_buf(),
            }
        } else {
            Error::io("resolve", home, e)
        }
    })
}

/// Checks that the folder at `home` is the home a plan was made for, before anything is changed.
///
/// # Errors
/// `HOME_NOT_FOUND` when nothing is there, `NOT_A_HOME` without a `site` folder, `HOME_MISMATCH` when it
/// is another folder than the one planned.
pub(crate) fn verify(home: &Path, planned: &HomeIdentity) -> Result<()> {
    crate::scan::resolve_home(home)?;
    let now = HomeIdentity::of(home)?;
    match now.differs_from(planned) {
        None => Ok(()),
        Some(reason) => Err(Error::HomeMismatch {
            path: home.to_path_buf(),
            reason: reason.to_owned(),
        }),
    }
}

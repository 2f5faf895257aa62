//! The one error type of kudu-state.
//!
//! Only operations that cannot run raise an [`Error`]: a home that does not exist, an I/O failure while
//! applying a plan, a precondition that no longer holds. A broken *state* (a corrupt `status.xml`, a lock
//! file that is not JSON) is not an error: the scanner keeps it as a value and the diagnosis reports it.
//!
//! [`Error::code`] is API: bindings expose it as `.code`, scripts match on it, and it never changes meaning.

use std::io;
use std::path::{Path, PathBuf};

/// Result with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can stop a kudu-state operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file operation failed. `op` says what was being done; the OS error is the source.
    #[error("cannot {op} `{}`", path.display())]
    Io {
        /// What was being done, e.g. "read", "list", "rename".
        op: &'static str,
        /// The path the operation was on.
        path: PathBuf,
        /// The underlying OS error.
        #[source]
        source: io::Error,
    },
    /// The home directory given does not exist.
    #[error("`{}` does not exist; pass the App Service home (the folder that contains `site/`, `/home` on Linux, `D:\\home` on Windows)", path.display())]
    HomeNotFound {
        /// The path given.
        path: PathBuf,
    },
    /// The path given exists but is not a Kudu home (or its `site` folder).
    #[error("`{}` is not a Kudu home: it has no `site` folder; pass the folder that contains `site/`, or `site` itself", path.display())]
    NotAHome {
        /// The path given.
        path: PathBuf,
    },
    /// The folder at a plan's (or a backup's) home path is not the home it was made for.
    #[error("`{}` is not the home this plan or backup was made for ({reason}); nothing was changed. Plan again on this home, or run from where the original home is", path.display())]
    HomeMismatch {
        /// The home path.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
    /// The disk no longer matches what a plan step was built from.
    #[error("`{}` changed since the plan was made ({reason}); nothing more was touched, run `kudu-state diagnose` again", path.display())]
    PreconditionFailed {
        /// The step's target.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
    /// Another `apply` or `undo` holds this home's kudu-state lock.
    #[error("another kudu-state apply or undo is running on this home (lock `{}`); wait for it to finish", path.display())]
    ApplyLocked {
        /// The lock file.
        path: PathBuf,
    },
    /// `undo` found a file that differs from what `apply` left, so restoring it would lose data.
    #[error("cannot undo at `{}`: {reason}; nothing was overwritten", path.display())]
    UndoConflict {
        /// The path that differs.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
    /// A plan or backup journal that cannot be used (wrong schema, a step for another home, bad JSON).
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What was invalid: "plan", "journal", "argument".
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// A step targets a path kudu-state never modifies (`pending`, `active`'s folder, `wwwroot`, …).
    #[error("refusing to touch `{}`: {reason}", path.display())]
    Protected {
        /// The protected path.
        path: PathBuf,
        /// Why it is protected.
        reason: String,
    },
}

impl Error {
    /// The stable machine code of this error (SCREAMING_SNAKE). Part of the API.
    ///
    /// | code | meaning |
    /// |---|---|
    /// | `IO_ERROR` | a file operation failed; see [`Error::path`] and [`Error::io_error`] |
    /// | `HOME_NOT_FOUND` | the home path does not exist |
    /// | `NOT_A_HOME` | the path has no `site` folder |
    /// | `HOME_MISMATCH` | the folder at a plan's or backup's home path is another home |
    /// | `PRECONDITION_FAILED` | the disk changed since the plan; diagnose again |
    /// | `APPLY_LOCKED` | another apply/undo runs on this home |
    /// | `UNDO_CONFLICT` | a file changed since apply; undo refuses to overwrite it |
    /// | `INVALID_INPUT` | a plan, journal or argument that cannot be used |
    /// | `PROTECTED_PATH` | a step targets a path kudu-state never modifies |
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Error::Io { .. } => "IO_ERROR",
            Error::HomeNotFound { .. } => "HOME_NOT_FOUND",
            Error::NotAHome { .. } => "NOT_A_HOME",
            Error::HomeMismatch { .. } => "HOME_MISMATCH",
            Error::PreconditionFailed { .. } => "PRECONDITION_FAILED",
            Error::ApplyLocked { .. } => "APPLY_LOCKED",
            Error::UndoConflict { .. } => "UNDO_CONFLICT",
            Error::Invalid { .. } => "INVALID_INPUT",
            Error::Protected { .. } => "PROTECTED_PATH",
        }
    }

    /// The path the error is about, where there is one.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        match self {
            Error::Io { path, .. }
            | Error::HomeNotFound { path }
            | Error::NotAHome { path }
            | Error::HomeMismatch { path, .. }
            | Error::PreconditionFailed { path, .. }
            | Error::ApplyLocked { path }
            | Error::UndoConflict { path, .. }
            | Error::Protected { path, .. } => Some(path),
            Error::Invalid { .. } => None,
        }
    }

    /// True when the error says the thing asked for is not there (a file, a folder, the home).
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::HomeNotFound { .. })
            || self
                .io_error()
                .is_some_and(|e| e.kind() == io::ErrorKind::NotFound)
    }

    /// The OS error behind an `IO_ERROR`, for mapping to a host language's exception types.
    #[must_use]
    pub fn io_error(&self) -> Option<&io::Error> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }

    /// Builds an [`Error::Io`].
    ///
    /// fs-err wraps OS errors in a message that repeats the path; the path is ours to show, so the OS
    /// error is unwrapped to keep `cannot read `x`: No such file or directory` free of repetition.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source: unwrap_fs_err(source),
        }
    }

    /// Builds an [`Error::Invalid`].
    pub(crate) fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        Error::Invalid {
            what,
            reason: reason.into(),
        }
    }
}

/// Returns the OS error inside an fs-err wrapper, or the error itself.
fn unwrap_fs_err(err: io::Error) -> io::Error {
    let inner = err
        .get_ref()
        .and_then(|e| std::error::Error::source(e))
        .and_then(|s| s.downcast_ref::<io::Error>())
        .map(|os| match os.raw_os_error() {
            Some(code) => io::Error::from_raw_os_error(code),
            None => io::Error::new(os.kind(), os.to_string()),
        });
    inner.unwrap_or(err)
}

/// An error and its sources on one line.
#[must_use]
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(src) = cur {
        s.push_str(": ");
        s.push_str(&src.to_string());
        cur = src.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fs_err_wrapping_is_removed_so_the_path_is_said_once() {
        let e = fs_err::symlink_metadata("/nonexistent/x").expect_err("missing");
        let e = Error::io("stat", "/nonexistent/x", e);
        let chain = error_chain(&e);
        assert_eq!(chain.matches("/nonexistent/x").count(), 1, "{chain}");
        assert_eq!(
            e.io_error().map(io::Error::kind),
            Some(io::ErrorKind::NotFound)
        );
    }
}

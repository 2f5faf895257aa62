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
    /// A URL kudu-state will not call (not `https://`, `http://` to a host that is not loopback,
    /// credentials, a query or a path in a site URL).
    #[error("refusing the URL `{url}`: {reason}")]
    UrlRefused {
        /// The URL, with any user information removed.
        url: String,
        /// Why.
        reason: String,
    },
    /// The request could not be made or its answer not read (DNS, connection, TLS, a dropped
    /// connection). The underlying error is the source.
    #[error("cannot reach `{url}`; check the URL, the network and `HTTPS_PROXY`/`NO_PROXY`")]
    Network {
        /// The URL called.
        url: String,
        /// What failed.
        #[source]
        source: io::Error,
    },
    /// A request, or the whole run, took longer than its timeout.
    #[error("`{url}` did not answer within {} s ({scope} timeout); the site may be busy or restarting: try again, or raise the timeout", timeout.as_secs_f64())]
    Timeout {
        /// The URL called.
        url: String,
        /// The timeout that ran out.
        timeout: std::time::Duration,
        /// `"request"` or `"run"`.
        scope: &'static str,
    },
    /// The server refused the credentials (401 or 403).
    #[error("`{url}` answered {status}: the credentials were refused; check {check}")]
    AuthFailed {
        /// The URL called.
        url: String,
        /// 401 or 403.
        status: u16,
        /// What to check, for the kind of credentials sent.
        check: String,
    },
    /// The server answered a redirect, which is never followed (credentials are only ever sent to
    /// the URL asked for).
    #[error(
        "`{url}` answered {status} to `{location}`; redirects are not followed: give the site's own SCM URL (`https://<app>.scm.azurewebsites.net`)"
    )]
    Redirected {
        /// The URL called.
        url: String,
        /// The 3xx status.
        status: u16,
        /// Where it pointed (without user information).
        location: String,
    },
    /// The server answered a status the operation cannot use.
    #[error("`{url}` answered {status}: {reason}")]
    HttpStatus {
        /// The URL called.
        url: String,
        /// The status.
        status: u16,
        /// What it means here (with the server's own text, shortened, when it has one).
        reason: String,
    },
    /// Kudu holds the file open, so the site refused to delete or rewrite it (Windows: a 404 or 409
    /// saying it is used by another process). The file is there: held, never gone.
    #[error("`{}` is held open by Kudu on the site ({reason}): a running or hung deployment has it open; nothing was removed. Wait for the deployment, or restart Kudu on the instance that holds it (`kudu-state plan --remote --allow-scm-restart`)", path.display())]
    HeldOpen {
        /// The file, relative to the home.
        path: PathBuf,
        /// The URL called.
        url: String,
        /// The site's own words.
        reason: String,
    },
    /// An answer was larger than allowed.
    #[error("the answer of `{url}` is larger than {cap} bytes; not read")]
    BodyTooLarge {
        /// The URL called.
        url: String,
        /// The cap in bytes.
        cap: u64,
    },
    /// An answer that does not have the expected form (a listing that is not JSON, ...).
    #[error("unexpected answer from `{url}`: {reason}")]
    BadResponse {
        /// The URL called.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// No credential source was found.
    #[error("no credentials for the site: {hint}")]
    NoCredentials {
        /// The sources looked at and how to provide one.
        hint: String,
    },
    /// A credential source was found but gave no usable credentials (a publish profile that cannot
    /// be read, a token endpoint or `az` that refused).
    #[error("cannot get credentials from {provider}: {reason}")]
    CredentialFailed {
        /// The source: "the publish profile", "workload identity", "GitHub Actions OIDC", "az", ...
        provider: &'static str,
        /// The file involved (a publish profile or a federated token file), if any.
        path: Option<PathBuf>,
        /// The URL called, if any.
        url: Option<String>,
        /// Why (never the secret).
        reason: String,
    },
    /// ARM has no such site or slot (or the identity may not see it).
    #[error(
        "ARM does not know the site at `{url}` ({reason}); check --subscription, --resource-group, --app and --slot"
    )]
    SiteNotFound {
        /// The ARM URL called.
        url: String,
        /// ARM's message.
        reason: String,
    },
    /// A request pinned to one instance was answered by another (the instance is gone or
    /// restarting).
    #[error(
        "`{url}` was answered by instance `{answered}`, not the pinned `{wanted}`; the instance may be gone: list the instances again"
    )]
    InstanceUnavailable {
        /// The URL called.
        url: String,
        /// The instance asked for.
        wanted: String,
        /// The instance that answered.
        answered: String,
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
    /// | `URL_REFUSED` | a site, ARM or token URL kudu-state will not call (plain `http://` off loopback, ...) |
    /// | `NETWORK_ERROR` | DNS, connection, TLS or a dropped connection; see [`Error::url`] |
    /// | `TIMEOUT` | a request or the whole run took longer than its timeout |
    /// | `AUTH_FAILED` | 401/403: the credentials were refused; the message says what to check |
    /// | `REDIRECT_REFUSED` | a redirect, never followed: the URL's form is wrong |
    /// | `HTTP_ERROR` | another status the operation cannot use; see [`Error::status`] |
    /// | `HELD_OPEN` | Kudu holds the file open (a deployment's lock): it cannot be removed or rewritten |
    /// | `BODY_TOO_LARGE` | an answer over its byte cap |
    /// | `BAD_RESPONSE` | an answer that does not have the expected form |
    /// | `NO_CREDENTIALS` | no credential source was found |
    /// | `CREDENTIAL_FAILED` | a credential source was found but gave nothing usable |
    /// | `SITE_NOT_FOUND` | ARM does not know the site or slot |
    /// | `INSTANCE_UNAVAILABLE` | a request pinned to an instance was answered by another |
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
            Error::UrlRefused { .. } => "URL_REFUSED",
            Error::Network { .. } => "NETWORK_ERROR",
            Error::Timeout { .. } => "TIMEOUT",
            Error::AuthFailed { .. } => "AUTH_FAILED",
            Error::Redirected { .. } => "REDIRECT_REFUSED",
            Error::HttpStatus { .. } => "HTTP_ERROR",
            Error::HeldOpen { .. } => "HELD_OPEN",
            Error::BodyTooLarge { .. } => "BODY_TOO_LARGE",
            Error::BadResponse { .. } => "BAD_RESPONSE",
            Error::NoCredentials { .. } => "NO_CREDENTIALS",
            Error::CredentialFailed { .. } => "CREDENTIAL_FAILED",
            Error::SiteNotFound { .. } => "SITE_NOT_FOUND",
            Error::InstanceUnavailable { .. } => "INSTANCE_UNAVAILABLE",
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
            | Error::Protected { path, .. }
            | Error::HeldOpen { path, .. } => Some(path),
            Error::CredentialFailed { path, .. } => path.as_deref(),
            Error::Invalid { .. }
            | Error::UrlRefused { .. }
            | Error::Network { .. }
            | Error::Timeout { .. }
            | Error::AuthFailed { .. }
            | Error::Redirected { .. }
            | Error::HttpStatus { .. }
            | Error::BodyTooLarge { .. }
            | Error::BadResponse { .. }
            | Error::NoCredentials { .. }
            | Error::SiteNotFound { .. }
            | Error::InstanceUnavailable { .. } => None,
        }
    }

    /// The URL a network or HTTP error is about (never with credentials in it).
    #[must_use]
    pub fn url(&self) -> Option<&str> {
        match self {
            Error::UrlRefused { url, .. }
            | Error::Network { url, .. }
            | Error::Timeout { url, .. }
            | Error::AuthFailed { url, .. }
            | Error::Redirected { url, .. }
            | Error::HttpStatus { url, .. }
            | Error::HeldOpen { url, .. }
            | Error::BodyTooLarge { url, .. }
            | Error::BadResponse { url, .. }
            | Error::SiteNotFound { url, .. }
            | Error::InstanceUnavailable { url, .. } => Some(url),
            Error::CredentialFailed { url, .. } => url.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status of an `AUTH_FAILED`, `REDIRECT_REFUSED` or `HTTP_ERROR`.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::AuthFailed { status, .. }
            | Error::Redirected { status, .. }
            | Error::HttpStatus { status, .. } => Some(*status),
            _ => None,
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

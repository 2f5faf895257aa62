//! `KuduStateError` and its subclasses, and the one conversion from `kudu_state::Error` to a Python
//! exception. Every exception carries the core's stable `code` and the `path` it is about.

use std::io::ErrorKind;

use pyo3::exceptions::{
    PyException, PyFileExistsError, PyFileNotFoundError, PyOSError, PyPermissionError,
};
use pyo3::prelude::*;

pyo3::create_exception!(
    kudu_state,
    KuduStateError,
    PyException,
    "Base of every kudu-state error. `.code` is the core's stable code (e.g. \"HOME_NOT_FOUND\"), `.path` the path it is about or None, `.url` the URL a remote error is about or None, `.status` its HTTP status or None."
);
pyo3::create_exception!(
    kudu_state,
    HomeError,
    KuduStateError,
    "The home does not exist (HOME_NOT_FOUND), is not a Kudu home (NOT_A_HOME), or is not the home a plan or backup was made for (HOME_MISMATCH)."
);
pyo3::create_exception!(
    kudu_state,
    PreconditionFailedError,
    KuduStateError,
    "The disk changed since the plan was made (PRECONDITION_FAILED); diagnose and plan again."
);
pyo3::create_exception!(
    kudu_state,
    ApplyLockedError,
    KuduStateError,
    "Another apply or undo runs on this home (APPLY_LOCKED)."
);
pyo3::create_exception!(
    kudu_state,
    UndoConflictError,
    KuduStateError,
    "A file changed since apply; undo restored nothing (UNDO_CONFLICT)."
);
pyo3::create_exception!(
    kudu_state,
    InvalidInputError,
    KuduStateError,
    "A plan, journal or argument that cannot be used (INVALID_INPUT)."
);
pyo3::create_exception!(
    kudu_state,
    HeldOpenError,
    KuduStateError,
    "Kudu holds a file of the site open (HELD_OPEN: a running or hung deployment's lock), so it cannot be removed or rewritten; nothing was removed. `.path` is the file (relative to the home), `.url` the URL called."
);
pyo3::create_exception!(
    kudu_state,
    ProtectedPathError,
    KuduStateError,
    "A step targets a path kudu-state never modifies (PROTECTED_PATH)."
);

pyo3::create_exception!(
    kudu_state,
    RemoteError,
    KuduStateError,
    "Reading a site over Kudu's REST API failed: URL_REFUSED, NETWORK_ERROR, TIMEOUT, REDIRECT_REFUSED, HTTP_ERROR, BODY_TOO_LARGE, BAD_RESPONSE, INSTANCE_UNAVAILABLE, and the codes of its subclasses. `.url` is the URL called (never with credentials), `.status` the HTTP status when there was one."
);
pyo3::create_exception!(
    kudu_state,
    AuthFailedError,
    RemoteError,
    "The site (or ARM) refused the credentials with 401 or 403 (AUTH_FAILED); the message says what to check."
);
pyo3::create_exception!(
    kudu_state,
    CredentialsError,
    RemoteError,
    "No credentials were found (NO_CREDENTIALS), or a source was found and gave nothing usable (CREDENTIAL_FAILED)."
);
pyo3::create_exception!(
    kudu_state,
    SiteNotFoundError,
    RemoteError,
    "ARM does not know the app or slot, or the identity may not see it (SITE_NOT_FOUND)."
);

/// Converts a core error: the subclass for its code, or for `IO_ERROR` the builtin `OSError` subclass
/// for its kind (with `errno`, `strerror` and `filename`); `.code`, `.path`, `.url` and `.status` (the
/// HTTP status) are set on all of them.
pub(crate) fn to_py_err(py: Python<'_>, e: &kudu_state::Error) -> PyErr {
    let message = kudu_state::error_chain(e);
    let path = e.path().map(std::path::Path::to_path_buf);
    let err = if let Some(io) = e.io_error() {
        let args = (io.raw_os_error(), message, path.clone());
        match io.kind() {
            ErrorKind::NotFound => PyFileNotFoundError::new_err(args),
            ErrorKind::PermissionDenied => PyPermissionError::new_err(args),
            ErrorKind::AlreadyExists => PyFileExistsError::new_err(args),
            _ => PyOSError::new_err(args),
        }
    } else {
        match e.code() {
            "HOME_NOT_FOUND" | "NOT_A_HOME" | "HOME_MISMATCH" => HomeError::new_err(message),
            "PRECONDITION_FAILED" => PreconditionFailedError::new_err(message),
            "APPLY_LOCKED" => ApplyLockedError::new_err(message),
            "UNDO_CONFLICT" => UndoConflictError::new_err(message),
            "INVALID_INPUT" => InvalidInputError::new_err(message),
            "PROTECTED_PATH" => ProtectedPathError::new_err(message),
            "HELD_OPEN" => HeldOpenError::new_err(message),
            "AUTH_FAILED" => AuthFailedError::new_err(message),
            "NO_CREDENTIALS" | "CREDENTIAL_FAILED" => CredentialsError::new_err(message),
            "SITE_NOT_FOUND" => SiteNotFoundError::new_err(message),
            "URL_REFUSED"
            | "NETWORK_ERROR"
            | "TIMEOUT"
            | "REDIRECT_REFUSED"
            | "HTTP_ERROR"
            | "BODY_TOO_LARGE"
            | "BAD_RESPONSE"
            | "INSTANCE_UNAVAILABLE" => RemoteError::new_err(message),
            // A code added to the core later still arrives with its code, as the base class.
            _ => KuduStateError::new_err(message),
        }
    };
    let value = err.value(py);
    if let Err(set) = value
        .setattr("code", e.code())
        .and_then(|()| value.setattr("path", path))
        .and_then(|()| value.setattr("url", e.url()))
        .and_then(|()| value.setattr("status", e.status()))
    {
        return set;
    }
    err
}

/// `Result<T, kudu_state::Error>` to `PyResult<T>`.
pub(crate) trait IntoPyResult<T> {
    fn py_err(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for kudu_state::Result<T> {
    fn py_err(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py_err(py, &e))
    }
}

/// An `INVALID_INPUT` error about an argument, built by the core so its code and message shape are the
/// core's.
pub(crate) fn invalid_argument(py: Python<'_>, reason: impl Into<String>) -> PyErr {
    to_py_err(
        py,
        &kudu_state::Error::Invalid {
            what: "argument",
            reason: reason.into(),
        },
    )
}

/// Adds the exception classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("KuduStateError", py.get_type::<KuduStateError>())?;
    m.add("HomeError", py.get_type::<HomeError>())?;
    m.add(
        "PreconditionFailedError",
        py.get_type::<PreconditionFailedError>(),
    )?;
    m.add("ApplyLockedError", py.get_type::<ApplyLockedError>())?;
    m.add("UndoConflictError", py.get_type::<UndoConflictError>())?;
    m.add("InvalidInputError", py.get_type::<InvalidInputError>())?;
    m.add("ProtectedPathError", py.get_type::<ProtectedPathError>())?;
    m.add("HeldOpenError", py.get_type::<HeldOpenError>())?;
    m.add("RemoteError", py.get_type::<RemoteError>())?;
    m.add("AuthFailedError", py.get_type::<AuthFailedError>())?;
    m.add("CredentialsError", py.get_type::<CredentialsError>())?;
    m.add("SiteNotFoundError", py.get_type::<SiteNotFoundError>())?;
    Ok(())
}

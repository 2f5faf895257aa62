//! Remote mode's `Credentials` class. The keyword arguments that name a site (`remote=`, `app=`,
//! ..., `credentials=`) are the core's `kudu_state::remote::SiteArgs`, checked there with
//! `Spelling::Keyword`; as the command's `--remote`, read-only except for `apply` and `undo`.

use kudu_state::remote::{Credentials, Secret};
use pyo3::prelude::*;

use crate::errors::IntoPyResult;

/// Credentials for a remote site, given in code instead of the environment: Basic publishing
/// credentials (`Credentials.basic(user, password)`) or an Entra access token for
/// `https://management.core.windows.net/` (`Credentials.token(token)`).
///
/// The secret stays in native memory: no attribute, `repr`, `str`, `to_dict()` or error message
/// shows it, and the object cannot be pickled (copying returns the same object).
#[pyclass(module = "kudu_state", name = "Credentials", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyCredentials {
    core: Credentials,
}

impl PyCredentials {
    pub(crate) fn core(&self) -> &Credentials {
        &self.core
    }
}

#[pymethods]
impl PyCredentials {
    /// Basic credentials: the site's publishing user (`$app`) and password. `INVALID_INPUT` for an
    /// empty user or password, a user with `:` or a control character.
    #[staticmethod]
    fn basic(py: Python<'_>, user: &str, password: &str) -> PyResult<PyCredentials> {
        Credentials::given_basic(user, Secret::new(password))
            .map(|core| PyCredentials { core })
            .py_err(py)
    }

    /// A bearer token (an Entra access token for ARM's audience; a leading `Bearer ` is removed).
    /// `INVALID_INPUT` for an empty token or one with spaces or control characters.
    #[staticmethod]
    fn token(py: Python<'_>, token: &str) -> PyResult<PyCredentials> {
        Credentials::given_token(token)
            .map(|core| PyCredentials { core })
            .py_err(py)
    }

    /// `"Basic"` or `"Bearer"`.
    #[getter]
    fn scheme(&self) -> &'static str {
        self.core.scheme()
    }

    /// The Basic user name (not a secret), or None for a token.
    #[getter]
    fn user(&self) -> Option<&str> {
        self.core.user()
    }

    /// `{"scheme": ..., "user": ...}`: what can be shown, never the secret.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        let d = pyo3::types::PyDict::new(py);
        d.set_item("scheme", self.scheme())?;
        d.set_item("user", self.user())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(match self.core.user() {
            Some(user) => format!(
                "Credentials(scheme='Basic', user={}, password=<hidden>)",
                pyo3::types::PyString::new(py, user).repr()?
            ),
            None => "Credentials(scheme='Bearer', token=<hidden>)".to_owned(),
        })
    }

    fn __str__(&self) -> String {
        match self.core.user() {
            Some(user) => format!("Basic credentials of `{user}`"),
            None => "a bearer token".to_owned(),
        }
    }

    /// Refused: a pickle would carry the secret to wherever it is stored or sent.
    fn __reduce__(&self) -> PyResult<()> {
        Err(pyo3::exceptions::PyTypeError::new_err(
            "kudu_state.Credentials cannot be pickled: it holds a secret; create it in each process",
        ))
    }

    fn __copy__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __deepcopy__(slf: Py<Self>, _memo: &Bound<'_, PyAny>) -> Py<Self> {
        slf
    }
}

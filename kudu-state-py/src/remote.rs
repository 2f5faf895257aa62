//! Remote mode: the keyword arguments that name a site read over Kudu's REST API (`remote=`, `app=`,
//! ..., `credentials=`), the `Credentials` class, and the connection they make through the core's
//! `kudu_state::remote::connect_as`. As the command's `--remote`: read-only, except for `apply` and
//! `undo` (the core's guarded repair of a site).

use std::path::PathBuf;
use std::time::Duration;

use kudu_state::Error;
use kudu_state::remote::{
    ConnectOptions, CredentialSource, Credentials, Env, HttpOptions, MAX_IN_FLIGHT_LIMIT,
    RemoteStore, Secret,
};
use pyo3::prelude::*;

use crate::errors::IntoPyResult;

/// An `INVALID_INPUT` about an argument (the core's error, so its code and message shape are the
/// core's).
fn invalid(reason: impl Into<String>) -> Error {
    Error::Invalid {
        what: "argument",
        reason: reason.into(),
    }
}

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

/// True when `text` has a character an HTTP header (or a Basic user name) cannot carry.
fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

#[pymethods]
impl PyCredentials {
    /// Basic credentials: the site's publishing user (`$app`) and password. `INVALID_INPUT` for an
    /// empty user or password, a user with `:` or a control character.
    #[staticmethod]
    fn basic(py: Python<'_>, user: &str, password: &str) -> PyResult<PyCredentials> {
        let checked = if user.trim().is_empty() {
            Err(invalid("the Basic user name is empty"))
        } else if user.contains(':') || has_control(user) {
            Err(invalid(
                "the Basic user name must not contain `:` or control characters",
            ))
        } else if Secret::new(password).is_empty() {
            Err(invalid("the password is empty"))
        } else {
            Ok(PyCredentials {
                core: Credentials::basic(
                    user,
                    Secret::new(password),
                    CredentialSource::UsernamePassword,
                ),
            })
        };
        checked.py_err(py)
    }

    /// A bearer token (an Entra access token for ARM's audience; a leading `Bearer ` is removed).
    /// `INVALID_INPUT` for an empty token or one with spaces or control characters.
    #[staticmethod]
    fn token(py: Python<'_>, token: &str) -> PyResult<PyCredentials> {
        let token = token.trim();
        let token = match token.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ if token.eq_ignore_ascii_case("bearer") => "",
            _ => token,
        };
        let checked = if token.is_empty() {
            Err(invalid("the token is empty"))
        } else if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            Err(invalid(
                "the token has spaces or control characters, which a header cannot carry",
            ))
        } else {
            Ok(PyCredentials {
                core: Credentials::bearer(Secret::new(token), CredentialSource::Token),
            })
        };
        checked.py_err(py)
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

/// The keyword arguments that name a remote site, as given (each function that can read a site
/// takes them all, with the command's meaning).
#[derive(Debug, Default)]
pub(crate) struct SiteArgs {
    pub remote: Option<String>,
    pub app: Option<String>,
    pub resource_group: Option<String>,
    pub subscription: Option<String>,
    pub slot: Option<String>,
    pub instance: Option<String>,
    pub publish_profile: Option<PathBuf>,
    pub credentials: Option<Credentials>,
    pub max_in_flight: Option<i64>,
    pub arm_endpoint: Option<String>,
}

/// A site to read over Kudu's REST API: the core's options and the caller's credentials, if any.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    options: ConnectOptions,
    credentials: Option<Credentials>,
}

/// What a function reads: a home on disk or a site.
#[derive(Debug)]
pub(crate) enum Target {
    Home(PathBuf),
    Site(Box<Site>),
}

impl SiteArgs {
    /// True when an argument names a site (as the command's `--remote`, `--app`,
    /// `--publish-profile`).
    fn names_site(&self) -> bool {
        self.remote.is_some() || self.app.is_some() || self.publish_profile.is_some()
    }

    /// The site these arguments name, or `None` when they name none (then none of the site-only
    /// arguments may be given either).
    ///
    /// # Errors
    /// `INVALID_INPUT` for arguments that conflict or lack their companion.
    pub(crate) fn site(self) -> kudu_state::Result<Option<Site>> {
        if !self.names_site() {
            let given = [
                ("resource_group", self.resource_group.is_some()),
                ("subscription", self.subscription.is_some()),
                ("slot", self.slot.is_some()),
                ("instance", self.instance.is_some()),
                ("credentials", self.credentials.is_some()),
                ("max_in_flight", self.max_in_flight.is_some()),
                ("arm_endpoint", self.arm_endpoint.is_some()),
            ];
            if let Some((name, _)) = given.iter().find(|(_, set)| *set) {
                return Err(invalid(format!(
                    "`{name}` is for a remote site: also pass remote=, app= (with resource_group=) or publish_profile="
                )));
            }
            return Ok(None);
        }
        if self.remote.is_some() && self.app.is_some() {
            return Err(invalid("give either remote= or app=, not both"));
        }
        if self.app.is_none() {
            for (name, set) in [
                ("resource_group", self.resource_group.is_some()),
                ("subscription", self.subscription.is_some()),
                ("slot", self.slot.is_some()),
            ] {
                if set {
                    return Err(invalid(format!("`{name}` is only for app=")));
                }
            }
        } else if self.resource_group.is_none() {
            return Err(invalid("app= needs resource_group="));
        }
        let max_in_flight = match self.max_in_flight {
            None => HttpOptions::default().max_in_flight,
            Some(n) => usize::try_from(n)
                .ok()
                .filter(|n| (1..=MAX_IN_FLIGHT_LIMIT).contains(n))
                .ok_or_else(|| {
                    invalid(format!(
                        "`max_in_flight` must be 1 to {MAX_IN_FLIGHT_LIMIT}, not {n}"
                    ))
                })?,
        };
        Ok(Some(Site {
            options: ConnectOptions {
                remote: self.remote,
                app: self.app,
                resource_group: self.resource_group,
                subscription: self.subscription,
                slot: self.slot,
                publish_profile: self.publish_profile,
                instance: self.instance,
                arm_endpoint: self.arm_endpoint,
                http: HttpOptions {
                    max_in_flight,
                    ..HttpOptions::default()
                },
            },
            credentials: self.credentials,
        }))
    }

    /// A home or a site: exactly one of them.
    ///
    /// # Errors
    /// `INVALID_INPUT` for both or neither, and as [`SiteArgs::site`].
    pub(crate) fn target(self, home: Option<PathBuf>) -> kudu_state::Result<Target> {
        match (home, self.site()?) {
            (Some(home), None) => Ok(Target::Home(home)),
            (None, Some(site)) => Ok(Target::Site(Box::new(site))),
            (Some(home), Some(_)) => Err(invalid(format!(
                "`{}` is a home on disk, but remote=/app=/publish_profile= name a site; give one or the other",
                home.display()
            ))),
            (None, None) => Err(invalid(
                "pass a home (the folder that contains `site/`) or a remote site (remote=, app= with resource_group=, or publish_profile=)",
            )),
        }
    }
}

impl Site {
    /// For a wait or a track: no limit on the whole run (the wait's own timeout, or the track's
    /// inactivity window, bounds it), where a single diagnosis keeps the core's 15 minutes.
    pub(crate) fn unbounded(mut self: Box<Site>) -> Box<Site> {
        self.options.http.run_timeout = None;
        self
    }

    /// Opens the store (nothing is read yet; `app=` asks ARM for the SCM host). Credentials are the
    /// caller's, else the first found in this process's environment.
    ///
    /// # Errors
    /// As `kudu_state::remote::connect_as`.
    pub(crate) fn connect(&self) -> kudu_state::Result<RemoteStore> {
        kudu_state::remote::connect_as(
            &self.options,
            self.credentials.as_ref(),
            &Env::from_process(),
        )
        .map_err(|e| self.own(e))
    }

    /// An error of a call on this site, saying where given credentials came from: the core names
    /// the environment variable of the source kind the bindings use for them.
    pub(crate) fn own(&self, e: Error) -> Error {
        let Some(given) = &self.credentials else {
            return e;
        };
        match e {
            Error::AuthFailed { url, status, check } => {
                let from = |source: CredentialSource| {
                    format!("the credentials came from {}", source.describe())
                };
                let ours = "the credentials came from the `credentials` argument";
                let check = check.replace(&from(given.source()), ours);
                Error::AuthFailed { url, status, check }
            }
            e => e,
        }
    }
}

/// The default time between polls: 5 s on a disk, 10 s over the REST API (gentle on the site), as
/// the command.
pub(crate) fn default_poll(target: &Target) -> Duration {
    Duration::from_secs(match target {
        Target::Home(_) => 5,
        Target::Site(_) => 10,
    })
}

//! `wait_idle`: poll a home until a deployment would be accepted.

use std::path::PathBuf;
use std::time::Duration;

use pyo3::prelude::*;

use crate::convert::{Seconds, record};
use crate::diagnosis::{PyDiagnosis, home_options};
use crate::enums::Platform;
use crate::errors::IntoPyResult;
use crate::remote::PyCredentials;
use kudu_state::remote::{SiteArgs, Spelling, Target};

/// How a wait ended; true (`bool(outcome)`) when the home became safe to deploy to.
#[pyclass(module = "kudu_state", name = "WaitOutcome", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PyWaitOutcome {
    /// True when the home became safe to deploy to; False on timeout (or when on_progress stopped it).
    #[pyo3(get)]
    idle: bool,
    /// How long it waited.
    #[pyo3(get)]
    waited: Duration,
    /// The last diagnosis made.
    #[pyo3(get)]
    diagnosis: PyDiagnosis,
    core: kudu_state::WaitOutcome,
}

impl PyWaitOutcome {
    /// The outcome of a wait on a home, or on a site read over Kudu's REST API (`remote`).
    fn new(core: kudu_state::WaitOutcome, remote: bool) -> Self {
        PyWaitOutcome {
            idle: core.idle,
            waited: core.waited,
            diagnosis: PyDiagnosis::new(core.diagnosis.clone(), remote),
            core,
        }
    }
}

record!(PyWaitOutcome[idle, waited] {
    fn __bool__(&self) -> bool {
        self.idle
    }
});

/// Polls `home` (or a site over Kudu's REST API: `remote=`, `app=`, `publish_profile=`) every `poll`
/// (default 5 s on a disk, 10 s over the API) until a deployment would be accepted and not overlap a
/// running one, or until `timeout` (seconds or timedelta). `on_progress(diagnosis, waited_seconds)` is
/// called after each poll that is not clear; returning False stops the wait (None or True continue). The
/// GIL is released while scanning and sleeping. A site is judged by its own clock.
#[pyfunction]
#[pyo3(signature = (
    home=None, *, timeout, poll=None, on_progress=None, stall_minutes=10, platform=None,
    log_tail_bytes=None, remote=None, app=None, resource_group=None, subscription=None, slot=None,
    instance=None, publish_profile=None, credentials=None, max_in_flight=None, arm_endpoint=None,
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn wait_idle(
    py: Python<'_>,
    home: Option<PathBuf>,
    timeout: Seconds,
    poll: Option<Seconds>,
    on_progress: Option<Py<PyAny>>,
    stall_minutes: i64,
    platform: Option<Platform>,
    log_tail_bytes: Option<i64>,
    remote: Option<String>,
    app: Option<String>,
    resource_group: Option<String>,
    subscription: Option<String>,
    slot: Option<String>,
    instance: Option<String>,
    publish_profile: Option<PathBuf>,
    credentials: Option<Bound<'_, PyCredentials>>,
    max_in_flight: Option<i64>,
    arm_endpoint: Option<String>,
) -> PyResult<PyWaitOutcome> {
    let options = home_options(py, platform, stall_minutes, log_tail_bytes)?;
    let target = SiteArgs {
        spelling: Spelling::Keyword,
        remote,
        app,
        resource_group,
        subscription,
        slot,
        instance,
        publish_profile,
        credentials: credentials.map(|c| c.get().core().clone()),
        max_in_flight: max_in_flight.map(|n| n as f64),
        arm_endpoint,
    }
    .target(home)
    .py_err(py)?;
    let Seconds(timeout) = timeout;
    let poll = poll.map_or_else(|| target.default_poll(), |Seconds(p)| p);
    let remote = matches!(target, Target::Site(_));
    // An exception from the callback, or a pending signal (Ctrl-C), stops the wait and is raised.
    let mut raised: Option<PyErr> = None;
    let progress = |d: &kudu_state::Diagnosis, waited: Duration| {
        Python::attach(|py| {
            let keep_going = py.check_signals().and_then(|()| match &on_progress {
                None => Ok(true),
                Some(f) => {
                    let d = PyDiagnosis::new(d.clone(), remote);
                    let r = f.call1(py, (d, waited.as_secs_f64()))?;
                    if r.is_none(py) {
                        Ok(true)
                    } else {
                        r.is_truthy(py)
                    }
                }
            });
            keep_going.unwrap_or_else(|e| {
                raised = Some(e);
                false
            })
        })
    };
    let outcome = py.detach(|| match target {
        Target::Home(home) => kudu_state::wait_idle(&home, &options, timeout, poll, progress),
        Target::Site(site) => {
            let site = site.unbounded();
            let store = site.connect()?;
            kudu_state::wait_until_clear(
                timeout,
                poll,
                || Ok(kudu_state::remote::diagnose_site(&store, &options, None)?.diagnosis),
                progress,
            )
        }
    });
    if let Some(e) = raised {
        return Err(e);
    }
    outcome.py_err(py).map(|o| PyWaitOutcome::new(o, remote))
}

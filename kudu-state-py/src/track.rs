//! `track`: follow one deployment by its id until it ends, on a home or on a site over Kudu's REST
//! API, through the core's `kudu_state::track` (which reads only that record's files).

use std::path::PathBuf;
use std::time::Duration;

use pyo3::prelude::*;

use crate::convert::{Json, Seconds, record};
use crate::enums::TrackEnd;
use crate::errors::IntoPyResult;
use crate::remote::PyCredentials;
use kudu_state::remote::{SiteArgs, Spelling, Target};

/// What a deployment's record says at one poll; `to_json()` is the core's JSON of it.
#[pyclass(module = "kudu_state", name = "TrackState", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PyTrackState {
    /// The deployment id.
    #[pyo3(get)]
    id: String,
    /// False until `status.xml` exists (a deployment that just started may not have it yet).
    #[pyo3(get)]
    found: bool,
    /// The status as Kudu names it (`"Building"`, `"Success"`, ...), a number for a value outside
    /// Kudu's enum, or None when unreadable.
    #[pyo3(get)]
    status: Json<Option<kudu_state::status_xml::DeployStatus>>,
    /// Kudu's `complete`.
    #[pyo3(get)]
    complete: bool,
    /// Kudu's `statusText`.
    #[pyo3(get)]
    status_text: Option<String>,
    /// Kudu's `progress`.
    #[pyo3(get)]
    progress: Option<String>,
    /// The newest top-level message of `log.log`.
    #[pyo3(get)]
    last_log_message: Option<String>,
    /// Why `status.xml` could not be understood, when it could not.
    #[pyo3(get)]
    problem: Option<String>,
    core: kudu_state::TrackState,
}

impl From<kudu_state::TrackState> for PyTrackState {
    fn from(core: kudu_state::TrackState) -> Self {
        PyTrackState {
            id: core.id.clone(),
            found: core.found,
            status: Json(core.status),
            complete: core.complete,
            status_text: core.status_text.clone(),
            progress: core.progress.clone(),
            last_log_message: core.last_log_message.clone(),
            problem: core.problem.clone(),
            core,
        }
    }
}

record!(PyTrackState[id, found, status, complete]);

/// How a track ended; true (`bool(outcome)`) when the deployment succeeded. `to_json()` is
/// `kudu-state track --json`.
#[pyclass(module = "kudu_state", name = "TrackOutcome", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PyTrackOutcome {
    /// How it ended.
    #[pyo3(get)]
    end: TrackEnd,
    /// The last state read.
    #[pyo3(get)]
    last: PyTrackState,
    /// How long it tracked.
    #[pyo3(get)]
    waited: Duration,
    core: kudu_state::TrackOutcome,
}

impl From<kudu_state::TrackOutcome> for PyTrackOutcome {
    fn from(core: kudu_state::TrackOutcome) -> Self {
        PyTrackOutcome {
            end: core.end.into(),
            last: core.last.clone().into(),
            waited: core.waited,
            core,
        }
    }
}

record!(PyTrackOutcome[end, waited] {
    fn __bool__(&self) -> bool {
        self.end == TrackEnd::Succeeded
    }
});

/// Follows deployment `id` (the `SCM-DEPLOYMENT-ID` a deploy returned) on `home`, or on a site over
/// Kudu's REST API (`remote=`, `app=`, `publish_profile=`), until it succeeds or fails, or nothing in
/// its record changed for `timeout` (seconds or timedelta, default 10 minutes). Reads only that
/// record, every `poll` (default 5 s on a disk, 10 s over the API), never `/api/deployments`.
/// `on_change(state, waited_seconds)` is called with the first state and each change; returning False
/// stops (`TrackEnd.STOPPED`). The GIL is released while reading and sleeping.
#[pyfunction]
#[pyo3(
    signature = (
        id, home=None, *, timeout=Seconds(Duration::from_secs(600)), poll=None, on_change=None,
        remote=None, app=None, resource_group=None, subscription=None, slot=None, instance=None,
        publish_profile=None, credentials=None, max_in_flight=None, arm_endpoint=None,
    ),
    text_signature = "(id, home=None, *, timeout=600.0, poll=None, on_change=None, remote=None, app=None, resource_group=None, subscription=None, slot=None, instance=None, publish_profile=None, credentials=None, max_in_flight=None, arm_endpoint=None)"
)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn track(
    py: Python<'_>,
    id: String,
    home: Option<PathBuf>,
    timeout: Seconds,
    poll: Option<Seconds>,
    on_change: Option<Py<PyAny>>,
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
) -> PyResult<PyTrackOutcome> {
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
    let options = kudu_state::TrackOptions {
        inactivity: timeout.0,
        poll: poll.map_or_else(|| target.default_poll(), |Seconds(p)| p),
    };
    // An exception from the callback, or a pending signal (Ctrl-C), stops the track and is raised.
    let mut raised: Option<PyErr> = None;
    let changed = |state: &kudu_state::TrackState, waited: Duration| {
        Python::attach(|py| {
            let keep_going = py.check_signals().and_then(|()| match &on_change {
                None => Ok(true),
                Some(f) => {
                    let state = PyTrackState::from(state.clone());
                    let r = f.call1(py, (state, waited.as_secs_f64()))?;
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
        Target::Home(home) => {
            let (root, _) = kudu_state::scan::resolve_home(&home)?;
            let store = kudu_state::store::LocalStore::new(root);
            kudu_state::track(&store, &id, options, changed)
        }
        Target::Site(site) => {
            let site = site.unbounded();
            let store = site.connect()?;
            kudu_state::track(&store, &id, options, changed)
        }
    });
    if let Some(e) = raised {
        return Err(e);
    }
    outcome.py_err(py).map(Into::into)
}

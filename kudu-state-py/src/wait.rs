//! `wait_idle`: poll a home until a deployment would be accepted.

use std::path::PathBuf;
use std::time::Duration;

use pyo3::prelude::*;

use crate::convert::{Seconds, record};
use crate::diagnosis::{PyDiagnosis, home_options};
use crate::enums::Platform;
use crate::errors::IntoPyResult;

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

impl From<kudu_state::WaitOutcome> for PyWaitOutcome {
    fn from(core: kudu_state::WaitOutcome) -> Self {
        PyWaitOutcome {
            idle: core.idle,
            waited: core.waited,
            diagnosis: core.diagnosis.clone().into(),
            core,
        }
    }
}

record!(PyWaitOutcome[idle, waited] {
    fn __bool__(&self) -> bool {
        self.idle
    }
});

/// Polls `home` every `poll` until a deployment would be accepted and not overlap a running one, or
/// until `timeout` (seconds or timedelta). `on_progress(diagnosis, waited_seconds)` is called after each
/// poll that is not clear; returning False stops the wait (None or True continue). The GIL is released
/// while scanning and sleeping.
#[pyfunction]
#[pyo3(
    signature = (home, timeout, poll=Seconds(Duration::from_secs(5)), on_progress=None, stall_minutes=10, platform=None, log_tail_bytes=None),
    text_signature = "(home, timeout, poll=5.0, on_progress=None, stall_minutes=10, platform=None, log_tail_bytes=None)"
)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn wait_idle(
    py: Python<'_>,
    home: PathBuf,
    timeout: Seconds,
    poll: Seconds,
    on_progress: Option<Py<PyAny>>,
    stall_minutes: i64,
    platform: Option<Platform>,
    log_tail_bytes: Option<i64>,
) -> PyResult<PyWaitOutcome> {
    let (Seconds(timeout), Seconds(poll)) = (timeout, poll);
    let options = home_options(py, platform, stall_minutes, log_tail_bytes)?;
    // An exception from the callback, or a pending signal (Ctrl-C), stops the wait and is raised.
    let mut raised: Option<PyErr> = None;
    let outcome = py.detach(|| {
        kudu_state::wait_idle(&home, &options, timeout, poll, |d, waited| {
            Python::attach(|py| {
                let keep_going = py.check_signals().and_then(|()| match &on_progress {
                    None => Ok(true),
                    Some(f) => {
                        let d = PyDiagnosis::from(d.clone());
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
        })
    });
    if let Some(e) = raised {
        return Err(e);
    }
    outcome.py_err(py).map(Into::into)
}

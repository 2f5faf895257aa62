//! `wait_idle`: poll a home until a deployment would be accepted.

use std::path::PathBuf;

use pyo3::prelude::*;

use std::time::Duration;

use crate::convert::{Seconds, timedelta, to_dict, to_json};
use crate::diagnosis::PyDiagnosis;
use crate::enums::Platform;
use crate::errors::IntoPyResult;

/// How a wait ended.
#[pyclass(module = "kudu_state", name = "WaitOutcome", frozen, eq)]
#[derive(Debug, PartialEq)]
pub(crate) struct PyWaitOutcome(kudu_state::WaitOutcome);

#[pymethods]
impl PyWaitOutcome {
    /// True when the home became safe to deploy to; False on timeout (or when on_progress stopped it).
    #[getter]
    fn idle(&self) -> bool {
        self.0.idle
    }

    /// How long it waited.
    #[getter]
    fn waited<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        timedelta(py, self.0.waited)
    }

    /// The last diagnosis made.
    #[getter]
    fn diagnosis(&self) -> PyDiagnosis {
        PyDiagnosis(self.0.diagnosis.clone())
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, serde_json::to_string(&self.0))
    }

    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        to_json(py, serde_json::to_string_pretty(&self.0))
    }

    fn __bool__(&self) -> bool {
        self.0.idle
    }

    fn __repr__(&self) -> String {
        format!(
            "WaitOutcome(idle={}, waited={:.3}s, verdict={})",
            if self.0.idle { "True" } else { "False" },
            self.0.waited.as_secs_f64(),
            self.0.diagnosis.verdict.as_str()
        )
    }
}

/// Polls `home` every `poll` until a deployment would be accepted and not overlap a running one, or
/// until `timeout` (seconds or timedelta). `on_progress(diagnosis, waited_seconds)` is called after each
/// poll that is not clear; returning False stops the wait (None or True continue). The GIL is released
/// while scanning and sleeping.
#[pyfunction]
#[pyo3(
    signature = (home, timeout, poll=Seconds(Duration::from_secs(5)), on_progress=None, stall_minutes=10, platform=None),
    text_signature = "(home, timeout, poll=5.0, on_progress=None, stall_minutes=10, platform=None)"
)]
pub(crate) fn wait_idle(
    py: Python<'_>,
    home: PathBuf,
    timeout: Seconds,
    poll: Seconds,
    on_progress: Option<Py<PyAny>>,
    stall_minutes: u32,
    platform: Option<Platform>,
) -> PyResult<PyWaitOutcome> {
    let (Seconds(timeout), Seconds(poll)) = (timeout, poll);
    let options = kudu_state::HomeOptions {
        platform: platform.map(Into::into),
        stall_minutes,
        ..kudu_state::HomeOptions::default()
    };
    // An exception from the callback, or a pending signal (Ctrl-C), stops the wait and is raised.
    let mut raised: Option<PyErr> = None;
    let outcome = py.detach(|| {
        kudu_state::wait_idle(&home, &options, timeout, poll, |d, waited| {
            Python::attach(|py| {
                let keep_going = py.check_signals().and_then(|()| match &on_progress {
                    None => Ok(true),
                    Some(f) => {
                        let r = f.call1(py, (PyDiagnosis(d.clone()), waited.as_secs_f64()))?;
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
    outcome.py_err(py).map(PyWaitOutcome)
}

//! `scan`, `diagnose`, and the `Snapshot`, `Diagnosis` and `Finding` results.

use std::path::PathBuf;

use chrono::{DateTime, TimeDelta, Utc};
use pyo3::prelude::*;

use crate::convert::{to_dict, to_json, utc_or_now};
use crate::enums::{Given, Platform, Severity, Verdict};
use crate::errors::IntoPyResult;

pub(crate) fn scan_options(platform: Option<Platform>) -> kudu_state::ScanOptions {
    kudu_state::ScanOptions {
        platform: platform.map(Into::into),
        ..kudu_state::ScanOptions::default()
    }
}

pub(crate) fn diagnose_options(stall_minutes: u32) -> kudu_state::DiagnoseOptions {
    kudu_state::DiagnoseOptions {
        stall_window: TimeDelta::minutes(i64::from(stall_minutes)),
    }
}

/// Scans and diagnoses with the GIL released.
pub(crate) fn scan_and_diagnose(
    py: Python<'_>,
    home: &std::path::Path,
    now: DateTime<Utc>,
    stall_minutes: u32,
    platform: Option<Platform>,
) -> PyResult<(kudu_state::Snapshot, kudu_state::Diagnosis)> {
    py.detach(|| {
        let snapshot = kudu_state::scan(home, &scan_options(platform))?;
        let diagnosis = kudu_state::diagnose(&snapshot, now, diagnose_options(stall_minutes));
        Ok((snapshot, diagnosis))
    })
    .py_err(py)
}

/// Everything kudu-state read from a home in one pass.
///
/// >>> snap = kudu_state.scan("examples/homes/linux-healthy")
/// >>> snap.platform
/// Platform.LINUX
#[pyclass(module = "kudu_state", name = "Snapshot", frozen)]
#[derive(Debug)]
pub(crate) struct PySnapshot(pub(crate) kudu_state::Snapshot);

#[pymethods]
impl PySnapshot {
    /// The home directory (the folder containing `site/`).
    #[getter]
    fn home(&self) -> PathBuf {
        self.0.home.clone()
    }

    /// Whether the caller gave the home or its `site` folder.
    #[getter]
    fn given(&self) -> Given {
        self.0.given.into()
    }

    /// The platform the snapshot is interpreted for.
    #[getter]
    fn platform(&self) -> Platform {
        self.0.platform().into()
    }

    /// True when the platform was chosen by the caller rather than detected.
    #[getter]
    fn platform_overridden(&self) -> bool {
        self.0.platform.overridden
    }

    /// The core's JSON of the snapshot, as Python objects.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, serde_json::to_string(&self.0))
    }

    /// The core's JSON of the snapshot.
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        to_json(py, serde_json::to_string_pretty(&self.0))
    }

    fn __repr__(&self) -> String {
        format!(
            "Snapshot(home={:?}, given={}, platform={})",
            self.0.home.display().to_string(),
            json_str(serde_json::to_value(self.0.given)),
            self.0.platform()
        )
    }
}

pub(crate) fn json_str(v: serde_json::Result<serde_json::Value>) -> String {
    match v {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// One reason behind a verdict.
#[pyclass(module = "kudu_state", name = "Finding", frozen, eq)]
#[derive(Debug, PartialEq)]
pub(crate) struct PyFinding(pub(crate) kudu_state::Finding);

#[pymethods]
impl PyFinding {
    /// The stable kebab-case code, e.g. "linux-lock-live".
    #[getter]
    fn code(&self) -> &'static str {
        self.0.code.as_str()
    }

    /// How much it matters.
    #[getter]
    fn severity(&self) -> Severity {
        self.0.severity.into()
    }

    /// The path relative to the home, `/`-separated.
    #[getter]
    fn path(&self) -> &str {
        &self.0.path
    }

    /// One line for a person: what it means and what to do.
    #[getter]
    fn message(&self) -> &str {
        &self.0.message
    }

    /// The values it was decided from.
    #[getter]
    fn evidence<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, serde_json::to_string(&self.0.evidence))
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, serde_json::to_string(&self.0))
    }

    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        to_json(py, serde_json::to_string_pretty(&self.0))
    }

    fn __repr__(&self) -> String {
        format!(
            "Finding(code={:?}, severity={}, path={:?})",
            self.0.code.as_str(),
            self.0.severity.as_str(),
            self.0.path
        )
    }
}

/// The verdict on a home at a time, with every reason; `to_json()` is `kudu-state diagnose --json`.
///
/// >>> d = kudu_state.diagnose("/home")
/// >>> d.verdict, d.safe_to_deploy
/// (Verdict.IDLE, True)
#[pyclass(module = "kudu_state", name = "Diagnosis", frozen, eq)]
#[derive(Debug, PartialEq)]
pub(crate) struct PyDiagnosis(pub(crate) kudu_state::Diagnosis);

#[pymethods]
impl PyDiagnosis {
    /// Version of the JSON shape.
    #[getter]
    fn schema(&self) -> u32 {
        self.0.schema
    }

    /// The home that was diagnosed.
    #[getter]
    fn home(&self) -> PathBuf {
        self.0.home.clone()
    }

    /// The platform the home was read as.
    #[getter]
    fn platform(&self) -> Platform {
        self.0.platform.into()
    }

    /// The time the verdict is for (UTC).
    #[getter]
    fn now(&self) -> DateTime<Utc> {
        self.0.now
    }

    /// The overall verdict.
    #[getter]
    fn verdict(&self) -> Verdict {
        self.0.verdict.into()
    }

    /// True when a deployment started now would be accepted and would not overlap a running one.
    #[getter]
    fn safe_to_deploy(&self) -> bool {
        self.0.safe_to_deploy
    }

    /// When it may become safe by itself (UTC), or None.
    #[getter]
    fn safe_after(&self) -> Option<DateTime<Utc>> {
        self.0.safe_after
    }

    /// The findings, most severe first.
    #[getter]
    fn findings(&self) -> Vec<PyFinding> {
        self.0.findings.iter().cloned().map(PyFinding).collect()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, serde_json::to_string(&self.0))
    }

    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        to_json(py, serde_json::to_string_pretty(&self.0))
    }

    fn __repr__(&self) -> String {
        format!(
            "Diagnosis(verdict={}, safe_to_deploy={}, home={:?}, now={:?}, findings={})",
            self.0.verdict.as_str(),
            if self.0.safe_to_deploy {
                "True"
            } else {
                "False"
            },
            self.0.home.display().to_string(),
            self.0.now.to_rfc3339(),
            self.0.findings.len()
        )
    }
}

/// Reads a home (the folder containing `site/`, or `site` itself) into a Snapshot.
#[pyfunction]
#[pyo3(signature = (home, platform=None))]
pub(crate) fn scan(
    py: Python<'_>,
    home: PathBuf,
    platform: Option<Platform>,
) -> PyResult<PySnapshot> {
    py.detach(|| kudu_state::scan(&home, &scan_options(platform)))
        .py_err(py)
        .map(PySnapshot)
}

/// Scans and diagnoses a home as of `now` (an aware datetime; None is the current time).
#[pyfunction]
#[pyo3(signature = (home, now=None, stall_minutes=10, platform=None))]
pub(crate) fn diagnose(
    py: Python<'_>,
    home: PathBuf,
    now: Option<&Bound<'_, PyAny>>,
    stall_minutes: u32,
    platform: Option<Platform>,
) -> PyResult<PyDiagnosis> {
    let now = utc_or_now(py, "now", now)?;
    let (_, diagnosis) = scan_and_diagnose(py, &home, now, stall_minutes, platform)?;
    Ok(PyDiagnosis(diagnosis))
}

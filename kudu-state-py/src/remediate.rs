//! `plan`, `apply`, `undo`, and their results.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use pyo3::prelude::*;

use crate::convert::{repr_opt, to_dict, to_json, utc_or_now};
use crate::diagnosis::scan_and_diagnose;
use crate::enums::{Action, Platform, Risk, StepOutcome, Verdict};
use crate::errors::{IntoPyResult, invalid_argument};

/// One step of a plan.
#[pyclass(module = "kudu_state", name = "Step", frozen, eq)]
#[derive(Debug, PartialEq)]
pub(crate) struct PyStep(kudu_state::remediate::Step);

#[pymethods]
impl PyStep {
    /// What it does.
    #[getter]
    fn action(&self) -> Action {
        self.0.action.into()
    }

    /// The main path it acts on, relative to the home, or None.
    #[getter]
    fn target(&self) -> Option<&str> {
        self.0.target.as_ref().map(|t| t.as_str())
    }

    /// The code of the finding it answers.
    #[getter]
    fn finding(&self) -> &'static str {
        self.0.finding.as_str()
    }

    /// How much it can hurt.
    #[getter]
    fn risk(&self) -> Risk {
        self.0.risk.into()
    }

    /// One line for a person: why, and what it costs.
    #[getter]
    fn reason(&self) -> &str {
        &self.0.reason
    }

    /// For WAIT: until when (UTC), if known.
    #[getter]
    fn until(&self) -> Option<DateTime<Utc>> {
        self.0.until
    }

    /// True for steps that touch nothing (WAIT, RESTART_SCM).
    #[getter]
    fn is_advisory(&self) -> bool {
        self.0.action.is_advisory()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, serde_json::to_string(&self.0))
    }

    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        to_json(py, serde_json::to_string_pretty(&self.0))
    }

    fn __repr__(&self) -> String {
        format!(
            "Step(action={}, target={}, finding={:?})",
            self.0.action.as_str(),
            repr_opt(self.0.target.as_ref().map(|t| t.as_str())),
            self.0.finding.as_str()
        )
    }
}

/// An ordered list of steps for one home, made at one time. Nothing is changed until `apply`.
///
/// `Plan.from_json(plan.to_json()) == plan`; `to_json()` is `kudu-state plan --json`.
#[pyclass(module = "kudu_state", name = "Plan", frozen, eq)]
#[derive(Debug, PartialEq)]
pub(crate) struct PyPlan(kudu_state::Plan);

#[pymethods]
impl PyPlan {
    /// Parses a plan written by `to_json()` or `kudu-state plan --json` (INVALID_INPUT otherwise).
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<Self> {
        kudu_state::Plan::from_json(text).py_err(py).map(PyPlan)
    }

    /// The home it was made for.
    #[getter]
    fn home(&self) -> PathBuf {
        self.0.home.clone()
    }

    /// The platform the home was read as.
    #[getter]
    fn platform(&self) -> Platform {
        self.0.platform.into()
    }

    /// When it was made (UTC).
    #[getter]
    fn created(&self) -> DateTime<Utc> {
        self.0.created
    }

    /// The verdict it starts from.
    #[getter]
    fn verdict(&self) -> Verdict {
        self.0.verdict.into()
    }

    /// The steps, least disruptive first.
    #[getter]
    fn steps(&self) -> Vec<PyStep> {
        self.0.steps.iter().cloned().map(PyStep).collect()
    }

    /// What was deliberately not planned, and why.
    #[getter]
    fn notes(&self) -> Vec<String> {
        self.0.notes.clone()
    }

    /// A digest identifying this plan's steps and time.
    #[getter]
    fn id(&self) -> String {
        self.0.id()
    }

    /// True when there is nothing to do or wait for.
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when some step changes files.
    fn changes_files(&self) -> bool {
        self.0.changes_files()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, serde_json::to_string(&self.0))
    }

    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        to_json(py, serde_json::to_string_pretty(&self.0))
    }

    fn __len__(&self) -> usize {
        self.0.steps.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "Plan(home={:?}, verdict={}, created={:?}, steps=[{}])",
            self.0.home.display().to_string(),
            self.0.verdict.as_str(),
            self.0.created.to_rfc3339(),
            self.0
                .steps
                .iter()
                .map(|s| s.action.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// What happened to one step of an apply.
#[pyclass(module = "kudu_state", name = "StepReport", frozen, eq)]
#[derive(Debug, PartialEq)]
pub(crate) struct PyStepReport(kudu_state::remediate::StepReport);

#[pymethods]
impl PyStepReport {
    /// Position in the plan.
    #[getter]
    fn index(&self) -> usize {
        self.0.index
    }

    /// The step's action.
    #[getter]
    fn action(&self) -> Action {
        self.0.action.into()
    }

    /// Its target, relative to the home.
    #[getter]
    fn target(&self) -> Option<&str> {
        self.0.target.as_ref().map(|t| t.as_str())
    }

    /// What happened.
    #[getter]
    fn outcome(&self) -> StepOutcome {
        self.0.outcome.into()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, serde_json::to_string(&self.0))
    }

    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        to_json(py, serde_json::to_string_pretty(&self.0))
    }

    fn __repr__(&self) -> String {
        format!(
            "StepReport(index={}, action={}, target={}, outcome={})",
            self.0.index,
            self.0.action.as_str(),
            repr_opt(self.0.target.as_ref().map(|t| t.as_str())),
            crate::diagnosis::json_str(serde_json::to_value(self.0.outcome))
        )
    }
}

/// The result of `apply`: the backup folder to pass to `undo`, and one report per step.
#[pyclass(module = "kudu_state", name = "ApplyReport", frozen, eq)]
#[derive(Debug, PartialEq)]
pub(crate) struct PyApplyReport(kudu_state::ApplyReport);

#[pymethods]
impl PyApplyReport {
    /// The backup folder (for `undo`), or None when nothing was changed.
    #[getter]
    fn backup(&self) -> Option<PathBuf> {
        self.0.backup.clone()
    }

    /// True when an interrupted apply of the same plan was finished.
    #[getter]
    fn resumed(&self) -> bool {
        self.0.resumed
    }

    /// One per step.
    #[getter]
    fn steps(&self) -> Vec<PyStepReport> {
        self.0.steps.iter().cloned().map(PyStepReport).collect()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, serde_json::to_string(&self.0))
    }

    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        to_json(py, serde_json::to_string_pretty(&self.0))
    }

    fn __repr__(&self) -> String {
        format!(
            "ApplyReport(backup={}, resumed={}, steps={})",
            repr_opt(
                self.0
                    .backup
                    .as_ref()
                    .map(|b| b.display().to_string())
                    .as_deref()
            ),
            if self.0.resumed { "True" } else { "False" },
            self.0.steps.len()
        )
    }
}

/// The result of `undo`.
#[pyclass(module = "kudu_state", name = "UndoReport", frozen, eq)]
#[derive(Debug, PartialEq)]
pub(crate) struct PyUndoReport(kudu_state::UndoReport);

#[pymethods]
impl PyUndoReport {
    /// The backup folder undone.
    #[getter]
    fn backup(&self) -> PathBuf {
        self.0.backup.clone()
    }

    /// Paths restored, relative to the home.
    #[getter]
    fn restored(&self) -> Vec<String> {
        self.0.restored.clone()
    }

    /// True when the backup had already been undone (nothing was done).
    #[getter]
    fn already_undone(&self) -> bool {
        self.0.already_undone
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, serde_json::to_string(&self.0))
    }

    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        to_json(py, serde_json::to_string_pretty(&self.0))
    }

    fn __repr__(&self) -> String {
        format!(
            "UndoReport(backup={:?}, restored={:?}, already_undone={})",
            self.0.backup.display().to_string(),
            self.0.restored,
            if self.0.already_undone {
                "True"
            } else {
                "False"
            }
        )
    }
}

/// Scans, diagnoses and plans the least disruptive fix. Changes nothing.
#[pyfunction]
#[pyo3(signature = (home, now=None, allow_live_lock=false, stall_minutes=10, platform=None))]
pub(crate) fn plan(
    py: Python<'_>,
    home: PathBuf,
    now: Option<&Bound<'_, PyAny>>,
    allow_live_lock: bool,
    stall_minutes: u32,
    platform: Option<Platform>,
) -> PyResult<PyPlan> {
    let now = utc_or_now(py, "now", now)?;
    let (snapshot, diagnosis) = scan_and_diagnose(py, &home, now, stall_minutes, platform)?;
    py.detach(|| {
        kudu_state::plan(
            &snapshot,
            &diagnosis,
            kudu_state::PlanOptions { allow_live_lock },
        )
    })
    .py_err(py)
    .map(PyPlan)
}

/// Carries out a plan; `yes=True` is required. Every step is re-checked first (PRECONDITION_FAILED),
/// and everything replaced is kept in a backup folder (default HOME/data/kudu-state/backups).
#[pyfunction]
#[pyo3(signature = (plan, backup_dir=None, *, yes))]
pub(crate) fn apply(
    py: Python<'_>,
    plan: &Bound<'_, PyPlan>,
    backup_dir: Option<PathBuf>,
    yes: bool,
) -> PyResult<PyApplyReport> {
    if !yes {
        return Err(invalid_argument(
            py,
            "apply changes files under the home; review the plan and pass yes=True",
        ));
    }
    let plan = &plan.get().0;
    // Needless only when the core's test-only `fixture` feature (an extra field) is off.
    let options = kudu_state::ApplyOptions {
        backup_root: backup_dir,
    };
    py.detach(|| kudu_state::apply(plan, &options))
        .py_err(py)
        .map(PyApplyReport)
}

/// Puts back exactly what one apply changed (UNDO_CONFLICT, restoring nothing, if a file changed since).
#[pyfunction]
pub(crate) fn undo(py: Python<'_>, backup_dir: PathBuf) -> PyResult<PyUndoReport> {
    py.detach(|| kudu_state::undo(&backup_dir))
        .py_err(py)
        .map(PyUndoReport)
}

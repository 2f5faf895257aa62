//! `plan`, `apply`, `undo`, and their results: plain-data classes, each filled by one `From`
//! conversion of the core value it keeps (a `Plan` keeps the core plan that `apply` carries out).

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use pyo3::prelude::*;

use crate::convert::{record, utc_or_now};
use crate::diagnosis::{diagnose_home, home_options};
use crate::enums::{Action, Platform, Risk, StepOutcome, Verdict};
use crate::errors::{IntoPyResult, invalid_argument};

/// One step of a plan.
#[pyclass(module = "kudu_state", name = "Step", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PyStep {
    /// What it does.
    #[pyo3(get)]
    action: Action,
    /// The main path it acts on, relative to the home, or None.
    #[pyo3(get)]
    target: Option<String>,
    /// The code of the finding it answers.
    #[pyo3(get)]
    finding: &'static str,
    /// How much it can hurt.
    #[pyo3(get)]
    risk: Risk,
    /// One line for a person: why, and what it costs.
    #[pyo3(get)]
    reason: String,
    /// For WAIT: until when (UTC), if known.
    #[pyo3(get)]
    until: Option<DateTime<Utc>>,
    /// True for steps that touch nothing (WAIT, RESTART_SCM).
    #[pyo3(get)]
    is_advisory: bool,
    core: kudu_state::remediate::Step,
}

impl From<kudu_state::remediate::Step> for PyStep {
    fn from(core: kudu_state::remediate::Step) -> Self {
        PyStep {
            action: core.action.into(),
            target: core.target.as_ref().map(|t| t.as_str().to_owned()),
            finding: core.finding.as_str(),
            risk: core.risk.into(),
            reason: core.reason.clone(),
            until: core.until,
            is_advisory: core.is_advisory(),
            core,
        }
    }
}

record!(PyStep[action, target, finding]);

/// An ordered list of steps for one home, made at one time. Nothing is changed until `apply`.
///
/// `Plan.from_json(plan.to_json()) == plan`; `to_json()` is `kudu-state plan --json`.
#[pyclass(module = "kudu_state", name = "Plan", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PyPlan {
    /// Version of the plan JSON.
    #[pyo3(get)]
    schema: u32,
    /// The home it was made for.
    #[pyo3(get)]
    home: PathBuf,
    /// The platform the home was read as.
    #[pyo3(get)]
    platform: Platform,
    /// When it was made (UTC).
    #[pyo3(get)]
    created: DateTime<Utc>,
    /// The verdict it starts from.
    #[pyo3(get)]
    verdict: Verdict,
    /// The steps, least disruptive first.
    #[pyo3(get)]
    steps: Vec<PyStep>,
    /// What was deliberately not planned, and why.
    #[pyo3(get)]
    notes: Vec<String>,
    /// A digest identifying this plan's steps and time.
    #[pyo3(get)]
    id: String,
    core: kudu_state::Plan,
}

impl From<kudu_state::Plan> for PyPlan {
    fn from(core: kudu_state::Plan) -> Self {
        PyPlan {
            schema: core.schema,
            home: core.home.clone(),
            platform: core.platform.into(),
            created: core.created,
            verdict: core.verdict.into(),
            steps: core.steps.iter().cloned().map(Into::into).collect(),
            notes: core.notes.clone(),
            id: core.id(),
            core,
        }
    }
}

record!(PyPlan[home, verdict, created, steps] {
    /// Parses a plan written by `to_json()` or `kudu-state plan --json` (INVALID_INPUT otherwise).
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<Self> {
        kudu_state::Plan::from_json(text).py_err(py).map(Into::into)
    }

    /// True when there is nothing to do or wait for.
    fn is_empty(&self) -> bool {
        self.core.is_empty()
    }

    /// True when some step changes files.
    fn changes_files(&self) -> bool {
        self.core.changes_files()
    }

    fn __len__(&self) -> usize {
        self.steps.len()
    }
});

/// What happened to one step of an apply.
#[pyclass(module = "kudu_state", name = "StepReport", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PyStepReport {
    /// Position in the plan.
    #[pyo3(get)]
    index: usize,
    /// The step's action.
    #[pyo3(get)]
    action: Action,
    /// Its target, relative to the home.
    #[pyo3(get)]
    target: Option<String>,
    /// What happened.
    #[pyo3(get)]
    outcome: StepOutcome,
    core: kudu_state::remediate::StepReport,
}

impl From<kudu_state::remediate::StepReport> for PyStepReport {
    fn from(core: kudu_state::remediate::StepReport) -> Self {
        PyStepReport {
            index: core.index,
            action: core.action.into(),
            target: core.target.as_ref().map(|t| t.as_str().to_owned()),
            outcome: core.outcome.into(),
            core,
        }
    }
}

record!(PyStepReport[index, action, target, outcome]);

/// The result of `apply`: the backup folder to pass to `undo`, and one report per step.
#[pyclass(module = "kudu_state", name = "ApplyReport", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PyApplyReport {
    /// The backup folder (for `undo`), or None when nothing was changed.
    #[pyo3(get)]
    backup: Option<PathBuf>,
    /// True when an interrupted apply of the same plan was finished.
    #[pyo3(get)]
    resumed: bool,
    /// One per step.
    #[pyo3(get)]
    steps: Vec<PyStepReport>,
    core: kudu_state::ApplyReport,
}

impl From<kudu_state::ApplyReport> for PyApplyReport {
    fn from(core: kudu_state::ApplyReport) -> Self {
        PyApplyReport {
            backup: core.backup.clone(),
            resumed: core.resumed,
            steps: core.steps.iter().cloned().map(Into::into).collect(),
            core,
        }
    }
}

record!(PyApplyReport[backup, resumed, steps]);

/// The result of `undo`.
#[pyclass(module = "kudu_state", name = "UndoReport", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PyUndoReport {
    /// The backup folder undone.
    #[pyo3(get)]
    backup: PathBuf,
    /// Paths restored, relative to the home.
    #[pyo3(get)]
    restored: Vec<String>,
    /// True when the backup had already been undone (nothing was done).
    #[pyo3(get)]
    already_undone: bool,
    core: kudu_state::UndoReport,
}

impl From<kudu_state::UndoReport> for PyUndoReport {
    fn from(core: kudu_state::UndoReport) -> Self {
        PyUndoReport {
            backup: core.backup.clone(),
            restored: core.restored.clone(),
            already_undone: core.already_undone,
            core,
        }
    }
}

record!(PyUndoReport[backup, restored, already_undone]);

/// Scans, diagnoses and plans the least disruptive fix. Changes nothing.
#[pyfunction]
#[pyo3(signature = (home, now=None, allow_live_lock=false, stall_minutes=10, platform=None, log_tail_bytes=None))]
pub(crate) fn plan(
    py: Python<'_>,
    home: PathBuf,
    now: Option<&Bound<'_, PyAny>>,
    allow_live_lock: bool,
    stall_minutes: i64,
    platform: Option<Platform>,
    log_tail_bytes: Option<i64>,
) -> PyResult<PyPlan> {
    let now = utc_or_now(py, "now", now)?;
    let options = home_options(py, platform, stall_minutes, log_tail_bytes)?;
    let (snapshot, diagnosis) = diagnose_home(py, &home, now, &options)?;
    py.detach(|| {
        kudu_state::plan(
            &snapshot,
            &diagnosis,
            kudu_state::PlanOptions {
                allow_live_lock,
                ..kudu_state::PlanOptions::default()
            },
        )
    })
    .py_err(py)
    .map(Into::into)
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
    let plan = &plan.get().core;
    let options = kudu_state::ApplyOptions {
        backup_root: backup_dir,
    };
    py.detach(|| kudu_state::apply(plan, &options))
        .py_err(py)
        .map(Into::into)
}

/// Puts back exactly what one apply changed (UNDO_CONFLICT, restoring nothing, if a file changed since).
#[pyfunction]
pub(crate) fn undo(py: Python<'_>, backup_dir: PathBuf) -> PyResult<PyUndoReport> {
    py.detach(|| kudu_state::undo(&backup_dir))
        .py_err(py)
        .map(Into::into)
}

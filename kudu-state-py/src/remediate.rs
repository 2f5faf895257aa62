//! `plan`, `apply`, `undo`, and their results: plain-data classes, each filled by one `From`
//! conversion of the core value it keeps (a `Plan` keeps the core plan that `apply` carries out).
//!
//! Each also repairs a site over Kudu's REST API when its keyword arguments name one (`remote=`,
//! `app=`, ..., as `diagnose`): the core's `plan_site_repair`, `apply_site` and `undo_site`.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use kudu_state::remediate::Op;
use pyo3::prelude::*;

use crate::convert::{Json, Place, record, utc};
use crate::diagnosis::{diagnose_home, home_options};
use crate::enums::{Action, Platform, Risk, StepOutcome, TargetKind, Verdict};
use crate::errors::{IntoPyResult, invalid_argument};
use crate::remote::PyCredentials;
use kudu_state::remote::{SiteArgs, Spelling, Target};

/// What a step's target was when the plan was made; apply refuses the step (PRECONDITION_FAILED) if it
/// differs.
#[pyclass(module = "kudu_state", name = "Precondition", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PyPrecondition {
    /// What was there.
    #[pyo3(get)]
    kind: TargetKind,
    /// Size in bytes (0 for a folder).
    #[pyo3(get)]
    size: u64,
    /// Last write time (UTC), or None.
    #[pyo3(get)]
    mtime: Option<DateTime<Utc>>,
    /// `fnv1a64:<16 hex>` of a file's bytes or a folder's entries, or None.
    #[pyo3(get)]
    digest: Option<String>,
    /// The site's ETag of the file read (a plan made over Kudu's REST API), or None.
    #[pyo3(get)]
    etag: Option<String>,
    core: kudu_state::remediate::Precondition,
}

impl From<kudu_state::remediate::Precondition> for PyPrecondition {
    fn from(core: kudu_state::remediate::Precondition) -> Self {
        PyPrecondition {
            kind: core.kind.into(),
            size: core.size,
            mtime: core.mtime,
            digest: core.digest.clone(),
            etag: core.etag.clone(),
            core,
        }
    }
}

record!(PyPrecondition[kind, size, etag]);

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
    /// True for steps that touch nothing (WAIT, and RESTART_SCM as advice).
    #[pyo3(get)]
    is_advisory: bool,
    /// The target's state when the plan was made, or None.
    #[pyo3(get)]
    precondition: Option<PyPrecondition>,
    /// The changes, in order, as in the plan JSON: dicts keyed by `op` ("move", "write", "create",
    /// "append", "touch-active", "restart-kudu") with that op's fields. Empty for an advisory step.
    #[pyo3(get)]
    ops: Json<Vec<Op>>,
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
            precondition: core.precondition.clone().map(Into::into),
            ops: Json(core.ops.clone()),
            core,
        }
    }
}

record!(PyStep[action, target, finding]);

/// Where a plan made over Kudu's REST API applies: the SCM site, and the instance it was pinned to.
#[pyclass(module = "kudu_state", name = "PlanSite", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PyPlanSite {
    /// The SCM site's URL.
    #[pyo3(get)]
    url: String,
    /// The instance (its `ARRAffinity` name) when pinned with `instance=`, else None.
    #[pyo3(get)]
    instance: Option<String>,
    core: kudu_state::remediate::PlanSite,
}

impl From<kudu_state::remediate::PlanSite> for PyPlanSite {
    fn from(core: kudu_state::remediate::PlanSite) -> Self {
        PyPlanSite {
            url: core.url.clone(),
            instance: core.instance.clone(),
            core,
        }
    }
}

record!(PyPlanSite[url, instance]);

/// An ordered list of steps for one home, made at one time. Nothing is changed until `apply`.
///
/// `Plan.from_json(plan.to_json()) == plan`; `to_json()` is `kudu-state plan --json`.
#[pyclass(module = "kudu_state", name = "Plan", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PyPlan {
    /// Version of the plan JSON.
    #[pyo3(get)]
    schema: u32,
    /// The home it was made for (a `pathlib.Path`), or the site's SCM URL (a `str`) for a plan made
    /// over Kudu's REST API.
    #[pyo3(get)]
    home: Place,
    /// For a plan made over Kudu's REST API: the site (and instance) it applies to; else None.
    #[pyo3(get)]
    site: Option<PyPlanSite>,
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
            home: if core.site.is_some() {
                Place::Site(core.home.to_string_lossy().into_owned())
            } else {
                Place::Home(core.home.clone())
            },
            site: core.site.clone().map(Into::into),
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
    /// Paths restored whose last write time could not be put back (Kudu's REST API cannot set it;
    /// the content is back). Empty for a home on disk.
    #[pyo3(get)]
    times_not_restored: Vec<String>,
    /// What apply did that nothing can reverse, one line each (Kudu's process ended on an instance).
    #[pyo3(get)]
    irreversible: Vec<String>,
    core: kudu_state::UndoReport,
}

impl From<kudu_state::UndoReport> for PyUndoReport {
    fn from(core: kudu_state::UndoReport) -> Self {
        PyUndoReport {
            backup: core.backup.clone(),
            restored: core.restored.clone(),
            already_undone: core.already_undone,
            times_not_restored: core.times_not_restored.clone(),
            irreversible: core.irreversible.clone(),
            core,
        }
    }
}

record!(PyUndoReport[backup, restored, already_undone, times_not_restored]);

/// Scans, diagnoses and plans the least disruptive fix of a home (as of `now`, default the current
/// time), or of a site over Kudu's REST API (`remote=`, `app=` or `publish_profile=`, as `diagnose`;
/// `now=None` is then the site's own clock). Changes nothing.
#[pyfunction]
#[pyo3(signature = (
    home=None, now=None, allow_live_lock=false, stall_minutes=10, platform=None, log_tail_bytes=None, *,
    allow_scm_restart=false,
    remote=None, app=None, resource_group=None, subscription=None, slot=None, instance=None,
    publish_profile=None, credentials=None, max_in_flight=None, arm_endpoint=None,
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn plan(
    py: Python<'_>,
    home: Option<PathBuf>,
    now: Option<&Bound<'_, PyAny>>,
    allow_live_lock: bool,
    stall_minutes: i64,
    platform: Option<Platform>,
    log_tail_bytes: Option<i64>,
    allow_scm_restart: bool,
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
) -> PyResult<PyPlan> {
    let now = utc(py, "now", now)?;
    let options = home_options(py, platform, stall_minutes, log_tail_bytes)?;
    let plan_options = kudu_state::PlanOptions {
        allow_live_lock,
        allow_scm_restart,
    };
    let site = SiteArgs {
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
    };
    let plan = match site.target(home).py_err(py)? {
        Target::Home(home) => {
            let (snapshot, diagnosis) =
                diagnose_home(py, &home, now.unwrap_or_else(Utc::now), &options)?;
            py.detach(|| kudu_state::plan(&snapshot, &diagnosis, plan_options))
        }
        Target::Site(site) => py.detach(|| {
            let store = site.connect()?;
            kudu_state::remote::plan_site_repair(&store, &options, plan_options, now)
                .map(|(_, plan)| plan)
        }),
    };
    plan.py_err(py).map(Into::into)
}

/// Carries out a plan; `yes=True` is required. Every step is re-checked first (PRECONDITION_FAILED),
/// and everything replaced is kept in a backup folder (default HOME/data/kudu-state/backups; for a
/// site, `./kudu-state-backups/<host>` under the current directory). A plan made for a site is applied
/// to it with the site's keyword arguments (as `plan`); without them, on another site, or a home's
/// plan on a site, the core refuses it (HOME_MISMATCH).
#[pyfunction]
#[pyo3(signature = (
    plan, backup_dir=None, *, yes,
    remote=None, app=None, resource_group=None, subscription=None, slot=None, instance=None,
    publish_profile=None, credentials=None, max_in_flight=None, arm_endpoint=None,
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn apply(
    py: Python<'_>,
    plan: &Bound<'_, PyPlan>,
    backup_dir: Option<PathBuf>,
    yes: bool,
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
) -> PyResult<PyApplyReport> {
    if !yes {
        return Err(invalid_argument(
            py,
            "apply changes files under the home; review the plan and pass yes=True",
        ));
    }
    let site = SiteArgs {
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
    .site()
    .py_err(py)?;
    let plan = &plan.get().core;
    py.detach(|| match site {
        None => kudu_state::apply(
            plan,
            &kudu_state::ApplyOptions {
                backup_root: backup_dir,
            },
        ),
        Some(site) => {
            let store = site.connect()?;
            let options = kudu_state::remote::SiteApplyOptions {
                backup_root: backup_dir,
            };
            kudu_state::remote::apply_site(plan, &store, &options, |_| {})
        }
    })
    .py_err(py)
    .map(Into::into)
}

/// Puts back exactly what one apply changed (UNDO_CONFLICT, restoring nothing, if a file changed
/// since). The backup of an apply to a site is undone on that site, named by the site's keyword
/// arguments (as `plan`).
#[pyfunction]
#[pyo3(signature = (
    backup_dir, *,
    remote=None, app=None, resource_group=None, subscription=None, slot=None, instance=None,
    publish_profile=None, credentials=None, max_in_flight=None, arm_endpoint=None,
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn undo(
    py: Python<'_>,
    backup_dir: PathBuf,
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
) -> PyResult<PyUndoReport> {
    let site = SiteArgs {
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
    .site()
    .py_err(py)?;
    py.detach(|| match site {
        None => kudu_state::undo(&backup_dir),
        Some(site) => {
            let store = site.connect()?;
            kudu_state::remote::undo_site(&backup_dir, &store)
        }
    })
    .py_err(py)
    .map(Into::into)
}

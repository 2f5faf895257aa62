//! `scan`, `diagnose`, and the `Snapshot`, `ScanNote`, `Diagnosis` and `Finding` results: plain-data
//! classes, each filled by one `From` conversion of the core value it keeps for `to_json()`.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use pyo3::prelude::*;

use crate::convert::{Json, Place, int_arg, record, utc};
use crate::enums::{Given, NoteKind, Platform, Severity, Verdict};
use crate::errors::IntoPyResult;
use crate::remote::PyCredentials;
use kudu_state::remote::{SiteArgs, Spelling, Target};

/// The core's options from the keyword arguments every function that reads a home takes; the core
/// validates them (`INVALID_INPUT` for a stall window outside 1-1440 minutes, a log tail outside
/// 1 KiB-16 MiB). `log_tail_bytes=None` is the core's default.
pub(crate) fn home_options(
    py: Python<'_>,
    platform: Option<Platform>,
    stall_minutes: i64,
    log_tail_bytes: Option<i64>,
) -> PyResult<kudu_state::HomeOptions> {
    Ok(kudu_state::HomeOptions {
        platform: platform.map(Into::into),
        stall_minutes: int_arg(py, "stall_minutes", stall_minutes)?,
        log_tail_bytes: log_tail(py, log_tail_bytes)?,
    })
}

fn log_tail(py: Python<'_>, log_tail_bytes: Option<i64>) -> PyResult<u64> {
    log_tail_bytes.map_or(Ok(kudu_state::scan::DEFAULT_LOG_TAIL), |b| {
        int_arg(py, "log_tail_bytes", b)
    })
}

/// Scans and diagnoses through the core's one entry point, with the GIL released.
pub(crate) fn diagnose_home(
    py: Python<'_>,
    home: &std::path::Path,
    now: DateTime<Utc>,
    options: &kudu_state::HomeOptions,
) -> PyResult<(kudu_state::Snapshot, kudu_state::Diagnosis)> {
    py.detach(|| kudu_state::diagnose_home(home, now, options))
        .py_err(py)
}

/// Something the scanner met and did not (or could not) read.
#[pyclass(module = "kudu_state", name = "ScanNote", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PyScanNote {
    /// Where, relative to the home.
    #[pyo3(get)]
    path: String,
    /// What kind of thing.
    #[pyo3(get)]
    kind: NoteKind,
    /// Details for a person.
    #[pyo3(get)]
    detail: String,
    core: kudu_state::snapshot::ScanNote,
}

impl From<kudu_state::snapshot::ScanNote> for PyScanNote {
    fn from(core: kudu_state::snapshot::ScanNote) -> Self {
        PyScanNote {
            path: core.path.clone(),
            kind: core.kind.into(),
            detail: core.detail.clone(),
            core,
        }
    }
}

record!(PyScanNote[path, kind]);

/// Everything kudu-state read from a home in one pass; `to_json()` is all of it.
///
/// >>> snap = kudu_state.scan("examples/homes/linux-healthy")
/// >>> snap.platform
/// Platform.LINUX
#[pyclass(module = "kudu_state", name = "Snapshot", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PySnapshot {
    /// The home directory (the folder containing `site/`).
    #[pyo3(get)]
    home: PathBuf,
    /// Whether the caller gave the home or its `site` folder.
    #[pyo3(get)]
    given: Given,
    /// The platform the snapshot is interpreted for.
    #[pyo3(get)]
    platform: Platform,
    /// True when the platform was chosen by the caller rather than detected.
    #[pyo3(get)]
    platform_overridden: bool,
    /// Links, odd names and unreadable entries met on the way.
    #[pyo3(get)]
    notes: Vec<PyScanNote>,
    core: kudu_state::Snapshot,
}

impl From<kudu_state::Snapshot> for PySnapshot {
    fn from(core: kudu_state::Snapshot) -> Self {
        PySnapshot {
            home: core.home.clone(),
            given: core.given.into(),
            platform: core.platform().into(),
            platform_overridden: core.platform.overridden,
            notes: core.notes.iter().cloned().map(Into::into).collect(),
            core,
        }
    }
}

record!(PySnapshot[home, given, platform]);

/// One reason behind a verdict.
#[pyclass(module = "kudu_state", name = "Finding", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PyFinding {
    /// The stable kebab-case code, e.g. "linux-lock-live".
    #[pyo3(get)]
    code: &'static str,
    /// How much it matters.
    #[pyo3(get)]
    severity: Severity,
    /// The path relative to the home, `/`-separated.
    #[pyo3(get)]
    path: String,
    /// One line for a person: what it means and what to do.
    #[pyo3(get)]
    message: String,
    /// The values it was decided from, as in the JSON.
    #[pyo3(get)]
    evidence: Json<kudu_state::diagnose::Evidence>,
    core: kudu_state::Finding,
}

impl From<kudu_state::Finding> for PyFinding {
    fn from(core: kudu_state::Finding) -> Self {
        PyFinding {
            code: core.code.as_str(),
            severity: core.severity.into(),
            path: core.path.clone(),
            message: core.message.clone(),
            evidence: Json(core.evidence.clone()),
            core,
        }
    }
}

record!(PyFinding[code, severity, path]);

/// The verdict on a home at a time, with every reason; `to_json()` is `kudu-state diagnose --json`.
///
/// >>> d = kudu_state.diagnose("/home")
/// >>> d.verdict, d.safe_to_deploy
/// (Verdict.IDLE, True)
#[pyclass(module = "kudu_state", name = "Diagnosis", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PyDiagnosis {
    /// Version of the JSON shape.
    #[pyo3(get)]
    schema: u32,
    /// The home that was diagnosed (a `pathlib.Path`), or the site's SCM URL (a `str`) when it was
    /// read over Kudu's REST API.
    #[pyo3(get)]
    home: Place,
    /// The platform the home was read as.
    #[pyo3(get)]
    platform: Platform,
    /// The time the verdict is for (UTC).
    #[pyo3(get)]
    now: DateTime<Utc>,
    /// The overall verdict.
    #[pyo3(get)]
    verdict: Verdict,
    /// True when a deployment started now would be accepted and would not overlap a running one.
    #[pyo3(get)]
    safe_to_deploy: bool,
    /// When it may become safe by itself (UTC), or None.
    #[pyo3(get)]
    safe_after: Option<DateTime<Utc>>,
    /// The findings, most severe first.
    #[pyo3(get)]
    findings: Vec<PyFinding>,
    core: kudu_state::Diagnosis,
}

impl From<kudu_state::Diagnosis> for PyDiagnosis {
    fn from(core: kudu_state::Diagnosis) -> Self {
        PyDiagnosis::new(core, false)
    }
}

impl PyDiagnosis {
    /// The diagnosis of a home on disk, or of a site read over Kudu's REST API (`remote`: its
    /// `home` is the site's URL).
    pub(crate) fn new(core: kudu_state::Diagnosis, remote: bool) -> Self {
        PyDiagnosis {
            schema: core.schema,
            home: if remote {
                Place::Site(core.home.to_string_lossy().into_owned())
            } else {
                Place::Home(core.home.clone())
            },
            platform: core.platform.into(),
            now: core.now,
            verdict: core.verdict.into(),
            safe_to_deploy: core.safe_to_deploy,
            safe_after: core.safe_after,
            findings: core.findings.iter().cloned().map(Into::into).collect(),
            core,
        }
    }
}

record!(PyDiagnosis[verdict, safe_to_deploy, safe_after, home, now]);

/// Reads a home (the folder containing `site/`, or `site` itself) into a Snapshot.
#[pyfunction]
#[pyo3(signature = (home, platform=None, log_tail_bytes=None))]
pub(crate) fn scan(
    py: Python<'_>,
    home: PathBuf,
    platform: Option<Platform>,
    log_tail_bytes: Option<i64>,
) -> PyResult<PySnapshot> {
    let (platform, tail) = (platform.map(Into::into), log_tail(py, log_tail_bytes)?);
    py.detach(|| kudu_state::scan(&home, &kudu_state::ScanOptions::new(platform, tail)?))
        .py_err(py)
        .map(Into::into)
}

/// Scans and diagnoses a home as of `now` (an aware datetime; None is the current time), or a site
/// over Kudu's REST API (`remote=`, `app=` or `publish_profile=`; read-only; `now=None` is then the
/// site's own clock, by which a Linux lock expires).
#[pyfunction]
#[pyo3(signature = (
    home=None, now=None, stall_minutes=10, platform=None, log_tail_bytes=None, *,
    remote=None, app=None, resource_group=None, subscription=None, slot=None, instance=None,
    publish_profile=None, credentials=None, max_in_flight=None, arm_endpoint=None,
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn diagnose(
    py: Python<'_>,
    home: Option<PathBuf>,
    now: Option<&Bound<'_, PyAny>>,
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
) -> PyResult<PyDiagnosis> {
    let now = utc(py, "now", now)?;
    let options = home_options(py, platform, stall_minutes, log_tail_bytes)?;
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
    match site.target(home).py_err(py)? {
        Target::Home(home) => {
            let (_, diagnosis) = diagnose_home(py, &home, now.unwrap_or_else(Utc::now), &options)?;
            Ok(diagnosis.into())
        }
        Target::Site(site) => {
            let d = py
                .detach(|| {
                    let store = site.connect()?;
                    kudu_state::remote::diagnose_site(&store, &options, now)
                })
                .py_err(py)?;
            Ok(PyDiagnosis::new(d.diagnosis, true))
        }
    }
}

//! `explain`: what a 409 response body means, through the core's `explain_response` (which checks the
//! status).

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use pyo3::prelude::*;

use crate::convert::{int_arg, record};
use crate::diagnosis::PyDiagnosis;
use crate::enums::ConflictKind;
use crate::errors::IntoPyResult;
use crate::remote::PyCredentials;
use kudu_state::remote::{SiteArgs, Spelling};

/// What a 409 body means, with the details it carries; `to_json()` is `kudu-state explain --json`.
///
/// >>> x = kudu_state.explain("There is a deployment currently in progress. Please try again when it completes.")
/// >>> x.kind, x.retryable
/// (ConflictKind.DEPLOYMENT_IN_PROGRESS, True)
#[pyclass(module = "kudu_state", name = "Explanation", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PyExplanation {
    /// The kind of conflict found.
    #[pyo3(get)]
    kind: ConflictKind,
    /// Whether waiting and retrying the same request can succeed.
    #[pyo3(get)]
    retryable: bool,
    /// For a lock conflict: the operation that was refused.
    #[pyo3(get)]
    requested_operation: Option<String>,
    /// For a lock conflict: the operation holding the lock.
    #[pyo3(get)]
    holder_operation: Option<String>,
    /// For a lock conflict: when the holder acquired the lock (UTC), when the text could be read.
    #[pyo3(get)]
    started_at: Option<DateTime<Utc>>,
    /// The start time exactly as written in the body.
    #[pyo3(get)]
    started_at_text: Option<String>,
    /// For deployment-active / deployment-exists: the deployment id named in the text.
    #[pyo3(get)]
    deployment_id: Option<String>,
    /// One or two sentences for a person: what it means and what to do.
    #[pyo3(get)]
    advice: String,
    /// The HTTP status given.
    #[pyo3(get)]
    status: Option<u16>,
    /// The whole body, verbatim.
    #[pyo3(get)]
    body: String,
    /// With a remote site (`remote=`, `app=`, `publish_profile=`): the site's diagnosis now, which says
    /// whether the holder the body names is still alive; None otherwise. Not part of `to_json()` (the
    /// explanation's JSON); it has its own.
    #[pyo3(get)]
    diagnosis: Option<PyDiagnosis>,
    core: kudu_state::explain::Explanation,
}

impl From<kudu_state::explain::Explanation> for PyExplanation {
    fn from(core: kudu_state::explain::Explanation) -> Self {
        PyExplanation {
            kind: core.kind.into(),
            retryable: core.retryable,
            requested_operation: core.requested_operation.clone(),
            holder_operation: core.holder_operation.clone(),
            started_at: core.started_at,
            started_at_text: core.started_at_text.clone(),
            deployment_id: core.deployment_id.clone(),
            advice: core.advice.clone(),
            status: core.status,
            body: core.body.clone(),
            diagnosis: None,
            core,
        }
    }
}

record!(PyExplanation[kind, retryable, holder_operation]);

/// Classifies the body of a 409 response from any Kudu deploy client (text or JSON) and explains it.
/// `status` is the HTTP status seen (100 to 599, else InvalidInputError; None if unknown); it is kept,
/// not used to classify. With a remote site (`remote=`, `app=`, `publish_profile=`), the site is
/// diagnosed too (by its own clock) and the result's `diagnosis` says whether the holder is alive.
#[pyfunction]
#[pyo3(
    signature = (
        body, status=Some(409), *, remote=None, app=None, resource_group=None, subscription=None,
        slot=None, instance=None, publish_profile=None, credentials=None, max_in_flight=None,
        arm_endpoint=None,
    ),
    text_signature = "(body, status=409, *, remote=None, app=None, resource_group=None, subscription=None, slot=None, instance=None, publish_profile=None, credentials=None, max_in_flight=None, arm_endpoint=None)"
)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn explain(
    py: Python<'_>,
    body: &str,
    status: Option<i64>,
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
) -> PyResult<PyExplanation> {
    let status = status.map(|s| int_arg(py, "status", s)).transpose()?;
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
    let body = body.to_owned();
    let (x, diagnosis) = py
        .detach(|| {
            let x = kudu_state::explain::explain_response(&body, status)?;
            let Some(site) = site else {
                return Ok((x, None));
            };
            let store = site.connect()?;
            let d = kudu_state::remote::diagnose_site(
                &store,
                &kudu_state::HomeOptions::default(),
                None,
            )?;
            Ok((x, Some(d.diagnosis)))
        })
        .py_err(py)?;
    Ok(PyExplanation {
        diagnosis: diagnosis.map(|d| PyDiagnosis::new(d, true)),
        ..x.into()
    })
}

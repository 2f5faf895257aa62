//! `explain`: what a 409 response body means, through the core's `explain_response` (which checks the
//! status).

use chrono::{DateTime, Utc};
use pyo3::prelude::*;

use crate::convert::{int_arg, record};
use crate::enums::ConflictKind;
use crate::errors::IntoPyResult;

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
            core,
        }
    }
}

record!(PyExplanation[kind, retryable, holder_operation]);

/// Classifies the body of a 409 response from any Kudu deploy client (text or JSON) and explains it.
/// `status` is the HTTP status seen (100 to 599, else InvalidInputError; None if unknown); it is kept,
/// not used to classify.
#[pyfunction]
#[pyo3(signature = (body, status=Some(409)), text_signature = "(body, status=409)")]
pub(crate) fn explain(py: Python<'_>, body: &str, status: Option<i64>) -> PyResult<PyExplanation> {
    let status = status.map(|s| int_arg(py, "status", s)).transpose()?;
    let body = body.to_owned();
    py.detach(|| kudu_state::explain::explain_response(&body, status))
        .py_err(py)
        .map(Into::into)
}

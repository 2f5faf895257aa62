//! `explain`: what a 409 response body means.

use chrono::{DateTime, Utc};
use pyo3::prelude::*;

use crate::convert::{repr_opt, to_dict, to_json};
use crate::enums::ConflictKind;

/// What a 409 body means, with the details it carries.
///
/// >>> x = kudu_state.explain("There is a deployment currently in progress. Please try again when it completes.")
/// >>> x.kind, x.retryable
/// (ConflictKind.DEPLOYMENT_IN_PROGRESS, True)
#[pyclass(module = "kudu_state", name = "Explanation", frozen, eq)]
#[derive(Debug, PartialEq)]
pub(crate) struct PyExplanation(kudu_state::explain::Explanation);

#[pymethods]
impl PyExplanation {
    /// The kind of conflict found.
    #[getter]
    fn kind(&self) -> ConflictKind {
        self.0.kind.into()
    }

    /// Whether waiting and retrying the same request can succeed.
    #[getter]
    fn retryable(&self) -> bool {
        self.0.retryable
    }

    /// For a lock conflict: the operation that was refused.
    #[getter]
    fn requested_operation(&self) -> Option<&str> {
        self.0.requested_operation.as_deref()
    }

    /// For a lock conflict: the operation holding the lock.
    #[getter]
    fn holder_operation(&self) -> Option<&str> {
        self.0.holder_operation.as_deref()
    }

    /// For a lock conflict: when the holder acquired the lock (UTC), when the text could be read.
    #[getter]
    fn started_at(&self) -> Option<DateTime<Utc>> {
        self.0.started_at
    }

    /// The start time exactly as written in the body.
    #[getter]
    fn started_at_text(&self) -> Option<&str> {
        self.0.started_at_text.as_deref()
    }

    /// For deployment-active / deployment-exists: the deployment id named in the text.
    #[getter]
    fn deployment_id(&self) -> Option<&str> {
        self.0.deployment_id.as_deref()
    }

    /// One or two sentences for a person: what it means and what to do.
    #[getter]
    fn advice(&self) -> &str {
        &self.0.advice
    }

    /// The HTTP status given.
    #[getter]
    fn status(&self) -> Option<u16> {
        self.0.status
    }

    /// The whole body, verbatim.
    #[getter]
    fn body(&self) -> &str {
        &self.0.body
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, serde_json::to_string(&self.0))
    }

    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        to_json(py, serde_json::to_string_pretty(&self.0))
    }

    fn __repr__(&self) -> String {
        format!(
            "Explanation(kind={}, retryable={}, holder_operation={})",
            self.0.kind.as_str(),
            if self.0.retryable { "True" } else { "False" },
            repr_opt(self.0.holder_operation.as_deref())
        )
    }
}

/// Classifies the body of a 409 response from any Kudu deploy client (text or JSON) and explains it.
/// `status` is the HTTP status seen (None if unknown); it is kept, not used to classify.
#[pyfunction]
#[pyo3(signature = (body, status=Some(409)), text_signature = "(body, status=409)")]
pub(crate) fn explain(py: Python<'_>, body: &str, status: Option<u16>) -> PyExplanation {
    let body = body.to_owned();
    PyExplanation(py.detach(|| kudu_state::explain::explain(&body, status)))
}

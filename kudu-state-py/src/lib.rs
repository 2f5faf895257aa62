//! Python bindings of kudu-state: thin wrappers over the core (`kudu_state`) and the command
//! (`kudu_state_cli::run`). The module is `kudu_state._native`; `kudu_state/__init__.py` re-exports it.
//!
//! Layout: `errors` (exceptions), `enums`, `convert` (JSON/time/duration at the boundary, and `record!`,
//! the methods every result class shares), then one module per domain: `diagnosis` (scan, diagnose),
//! `remediate` (plan, apply, undo), `explain`, `wait`, `track`, `cli`; `remote` holds what names a site
//! read (and, for plan/apply/undo, repaired) over Kudu's REST API (the `remote=`, `app=`, ...,
//! `credentials=` keyword arguments and the `Credentials` class).
//!
//! Every result is a frozen plain-data class: its fields (with generated getters) are filled once by a
//! `From` conversion of the core value, which it keeps for `to_json()`. Options are the core's
//! `HomeOptions`, validated by the core.

use pyo3::prelude::*;

mod cli;
mod convert;
mod diagnosis;
mod enums;
mod errors;
mod explain;
mod remediate;
mod remote;
mod track;
mod wait;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    enums::register(m)?;
    m.add_class::<diagnosis::PySnapshot>()?;
    m.add_class::<diagnosis::PyScanNote>()?;
    m.add_class::<diagnosis::PyFinding>()?;
    m.add_class::<diagnosis::PyDiagnosis>()?;
    m.add_class::<remediate::PyPrecondition>()?;
    m.add_class::<remediate::PyStep>()?;
    m.add_class::<remediate::PyPlanSite>()?;
    m.add_class::<remediate::PyPlan>()?;
    m.add_class::<remediate::PyStepReport>()?;
    m.add_class::<remediate::PyApplyReport>()?;
    m.add_class::<remediate::PyUndoReport>()?;
    m.add_class::<explain::PyExplanation>()?;
    m.add_class::<wait::PyWaitOutcome>()?;
    m.add_class::<remote::PyCredentials>()?;
    m.add_class::<track::PyTrackState>()?;
    m.add_class::<track::PyTrackOutcome>()?;
    m.add_function(wrap_pyfunction!(diagnosis::scan, m)?)?;
    m.add_function(wrap_pyfunction!(diagnosis::diagnose, m)?)?;
    m.add_function(wrap_pyfunction!(remediate::plan, m)?)?;
    m.add_function(wrap_pyfunction!(remediate::apply, m)?)?;
    m.add_function(wrap_pyfunction!(remediate::undo, m)?)?;
    m.add_function(wrap_pyfunction!(explain::explain, m)?)?;
    m.add_function(wrap_pyfunction!(wait::wait_idle, m)?)?;
    m.add_function(wrap_pyfunction!(track::track, m)?)?;
    m.add_function(wrap_pyfunction!(cli::run_cli, m)?)?;
    Ok(())
}

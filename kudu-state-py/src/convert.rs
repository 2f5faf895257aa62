//! Conversions at the boundary: JSON values to Python objects, `datetime` to UTC, seconds or
//! `timedelta` to `Duration`. No decisions of the core are made here.

use std::time::Duration;

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use pyo3::types::PyDelta;

use crate::errors::invalid_argument;

/// The core's serde JSON of a value (`serde_json::to_string_pretty(&core)` at the call site), exactly as
/// the command's `--json` output prints it.
pub(crate) fn to_json(py: Python<'_>, json: serde_json::Result<String>) -> PyResult<String> {
    json.map_err(|e| invalid_output(py, &e))
}

/// The same JSON as Python objects, keys in the core's field order.
pub(crate) fn to_dict(
    py: Python<'_>,
    json: serde_json::Result<String>,
) -> PyResult<Bound<'_, PyAny>> {
    let text = to_json(py, json)?;
    py.import("json")?.call_method1("loads", (text,))
}

fn invalid_output(py: Python<'_>, e: &serde_json::Error) -> PyErr {
    crate::errors::to_py_err(
        py,
        &kudu_state::Error::Invalid {
            what: "output",
            reason: e.to_string(),
        },
    )
}

/// A timezone-aware `datetime` as UTC; `None` is the current time. A naive `datetime` is refused
/// (`INVALID_INPUT`): kudu-state compares it with UTC times on disk and will not guess its zone.
pub(crate) fn utc_or_now(
    py: Python<'_>,
    name: &str,
    value: Option<&Bound<'_, PyAny>>,
) -> PyResult<DateTime<Utc>> {
    let Some(value) = value else {
        return Ok(Utc::now());
    };
    let datetime = py.import("datetime")?;
    if !value.is_instance(&datetime.getattr("datetime")?)? {
        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "`{name}` must be a datetime.datetime or None, not {}",
            value.get_type().name()?
        )));
    }
    if value.call_method0("utcoffset")?.is_none() {
        return Err(invalid_argument(
            py,
            format!(
                "`{name}` is a naive datetime; pass a timezone-aware one, e.g. datetime.now(timezone.utc)"
            ),
        ));
    }
    let utc = datetime.getattr("timezone")?.getattr("utc")?;
    value.call_method1("astimezone", (utc,))?.extract()
}

/// A duration argument: seconds (`int`/`float`) or a `datetime.timedelta`, finite and non-negative
/// (`INVALID_INPUT` otherwise).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seconds(pub(crate) Duration);

impl<'a, 'py> FromPyObject<'a, 'py> for Seconds {
    type Error = PyErr;

    fn extract(value: pyo3::Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = value.py();
        let seconds: f64 = if let Ok(delta) = value.cast::<PyDelta>() {
            delta.call_method0("total_seconds")?.extract()?
        } else {
            value.extract().map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err(
                    "expected seconds (int or float) or a datetime.timedelta",
                )
            })?
        };
        Duration::try_from_secs_f64(seconds)
            .map(Seconds)
            .map_err(|_| {
                invalid_argument(
                    py,
                    format!("a duration must be finite and non-negative, not {seconds} seconds"),
                )
            })
    }
}

/// A `Duration` as a `datetime.timedelta`.
pub(crate) fn timedelta<'py>(py: Python<'py>, d: Duration) -> PyResult<Bound<'py, PyAny>> {
    Ok(d.into_pyobject(py)?.into_any())
}

/// An optional string for a `__repr__`: `None` or `"text"`.
pub(crate) fn repr_opt(v: Option<&str>) -> String {
    v.map_or_else(|| "None".to_owned(), |s| format!("{s:?}"))
}

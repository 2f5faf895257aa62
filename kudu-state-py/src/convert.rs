//! Conversions at the boundary: core values to JSON and Python objects, `datetime` to UTC, seconds or
//! `timedelta` to `Duration`; and [`record!`], the methods every result class shares. No decisions of
//! the core are made here.

use std::time::Duration;

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use pyo3::types::PyDelta;
use serde::Serialize;

use crate::errors::invalid_argument;

/// The core's serde JSON of a value, pretty-printed exactly as the command's `--json` prints it (without
/// the final newline).
pub(crate) fn to_json(py: Python<'_>, value: &impl Serialize) -> PyResult<String> {
    serde_json::to_string_pretty(value).map_err(|e| {
        crate::errors::to_py_err(
            py,
            &kudu_state::Error::Invalid {
                what: "output",
                reason: e.to_string(),
            },
        )
    })
}

/// The same JSON as Python objects (`json.loads`), keys in the core's field order.
pub(crate) fn to_dict<'py>(py: Python<'py>, value: &impl Serialize) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?
        .call_method1("loads", (to_json(py, value)?,))
}

/// A core value that crosses into Python as its JSON, as Python objects (a `dict` for a struct): for the
/// values that have no class of their own, such as a finding's evidence.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Json<T>(pub(crate) T);

impl<'py, T: Serialize> IntoPyObject<'py> for &Json<T> {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.0)
    }
}

/// Where a result is about: a home on disk (`pathlib.Path`) or a site read over Kudu's REST API (its
/// SCM URL, a `str`: a URL is not a path).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Place {
    Home(std::path::PathBuf),
    Site(String),
}

impl<'py> IntoPyObject<'py> for &Place {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self {
            Place::Home(path) => Ok(path.into_pyobject(py)?.into_any()),
            Place::Site(url) => Ok(url.into_pyobject(py)?.into_any()),
        }
    }
}

/// `Class(field=repr(value), ...)` for the named attributes of `obj`.
pub(crate) fn repr(obj: &Bound<'_, PyAny>, fields: &[&str]) -> PyResult<String> {
    let mut parts = Vec::with_capacity(fields.len());
    for field in fields {
        parts.push(format!("{field}={}", obj.getattr(*field)?.repr()?));
    }
    Ok(format!("{}({})", obj.get_type().name()?, parts.join(", ")))
}

/// The methods of a result class `$py` that keeps its core value in `self.core`, written once:
/// `to_json()` (the core's JSON), `to_dict()` (the same as Python objects) and a `__repr__` showing the
/// listed fields; then the class's own methods, if any, in braces. (pyo3 allows one `#[pymethods]` block
/// per class, so they go in the same block.)
macro_rules! record {
    ($py:ident [$($field:ident),* $(,)?] $({ $($extra:tt)* })?) => {
        #[pyo3::pymethods]
        impl $py {
            /// The core's JSON of this value: what the command's `--json` prints, without its final
            /// newline.
            fn to_json(&self, py: pyo3::Python<'_>) -> pyo3::PyResult<String> {
                $crate::convert::to_json(py, &self.core)
            }

            /// `to_json()` as Python objects, keys in the same order.
            fn to_dict<'py>(
                &self,
                py: pyo3::Python<'py>,
            ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
                $crate::convert::to_dict(py, &self.core)
            }

            fn __repr__(slf: &pyo3::Bound<'_, Self>) -> pyo3::PyResult<String> {
                $crate::convert::repr(slf.as_any(), &[$(stringify!($field)),*])
            }

            $($($extra)*)?
        }
    };
}
pub(crate) use record;

/// An integer argument in the core's type (`u16`, `u32`, `u64`): a value that type cannot hold (a
/// negative one, say) is `INVALID_INPUT` here, as it is in the Node package; whether the value is in range
/// is the core's to say.
pub(crate) fn int_arg<T: TryFrom<i64>>(py: Python<'_>, name: &str, value: i64) -> PyResult<T> {
    T::try_from(value)
        .map_err(|_| invalid_argument(py, format!("`{name}` is out of range: {value}")))
}

/// A timezone-aware `datetime` as UTC, `None` kept as `None` (the caller's default: the current time
/// for a home, the site's own clock for a site). A naive `datetime` is refused (`INVALID_INPUT`):
/// kudu-state compares it with UTC times on disk and will not guess its zone.
pub(crate) fn utc(
    py: Python<'_>,
    name: &str,
    value: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<DateTime<Utc>>> {
    let Some(value) = value else {
        return Ok(None);
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
    value
        .call_method1("astimezone", (utc,))?
        .extract()
        .map(Some)
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

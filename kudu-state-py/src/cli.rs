//! The `kudu-state` command, run in-process: the same `kudu_state_cli::run` as the Rust binary.

use std::ffi::OsString;
use std::io::Write;

use pyo3::prelude::*;

/// Runs the `kudu-state` command with `args` (without the program name) and returns its exit status.
/// Python's `sys.stdout`/`sys.stderr` are flushed first, so output keeps its order.
#[pyfunction]
pub(crate) fn run_cli(py: Python<'_>, args: Vec<OsString>) -> PyResult<i32> {
    let sys = py.import("sys")?;
    for stream in ["stdout", "stderr"] {
        let s = sys.getattr(stream)?;
        if !s.is_none() {
            s.call_method0("flush")?;
        }
    }
    let argv = std::iter::once(OsString::from("kudu-state")).chain(args);
    Ok(py.detach(|| {
        let code = kudu_state_cli::run(argv);
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        code
    }))
}

//! Node bindings of kudu-state: the core's functions, records and error codes for JavaScript.
//!
//! Thin by design: every function calls the core's entry point (`diagnose_home`, `explain_response`,
//! `wait_idle`, `plan`, `apply`, `undo`) with the core's options, which the core validates, and copies the
//! result into plain objects (plus the core's own JSON); nothing is decided here. The string enums are
//! generated from the core's name tables (`build.rs`). Each function exists twice: `foo()` returns a Promise and
//! runs on libuv's thread pool, `fooSync()` blocks. Errors are JavaScript `Error`s whose `.code` is the
//! core's stable code (`HOME_NOT_FOUND`, `PRECONDITION_FAILED`, …) and whose `.path`, when the error is
//! about a path, is that path.
//!
//! Remote mode: `diagnose`, `waitIdle`, `explain`, `track` and `plan` also read a site over Kudu's
//! REST API (read-only, as the command's `--remote`), and `apply` and `undo` repair one, when their
//! options name it (`remote`, `app`, `publishProfile`); `Credentials` carries credentials given in code
//! without ever showing the secret (`remote`).

mod callback;
mod diagnose;
mod enums;
mod error;
mod explain;
mod options;
mod remediate;
mod remote;
mod track;
mod types;

use std::io::Write;

use napi_derive::napi;

pub use diagnose::*;
pub use enums::*;
pub use explain::*;
pub use options::*;
pub use remediate::*;
pub use remote::Credentials;
pub use track::*;
pub use types::*;

/// Runs the `kudu-state` command with `args` (without the program name) on this process's standard
/// streams and returns its exit status: the `kudu-state` bin of this package is this call. Blocks.
#[napi(catch_unwind)]
pub fn run_cli(args: Vec<String>) -> i32 {
    let code = kudu_state_cli::run(std::iter::once("kudu-state".to_owned()).chain(args));
    // The command writes through Rust's buffered stdout; flush it before Node exits.
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    code
}

//! The `kudu-state` command as a library: [`run`] takes the arguments and returns the exit status, so the
//! Rust binary, the Python console script and the Node `bin` are one and the same command.
//!
//! Exit status (API, documented in the README):
//!
//! | status | meaning |
//! |---|---|
//! | 0 | idle (diagnose, wait-idle), nothing to do (plan), success (explain, apply, undo) |
//! | 10 | deploying (diagnose); the plan has steps (plan) |
//! | 11 | stuck (diagnose); timed out (wait-idle) |
//! | 12 | broken (diagnose) |
//! | 2 | usage error |
//! | 1 | any other failure (the message names the path and the error code) |

#![deny(clippy::disallowed_methods)]
#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::io::Write;

mod args;
mod commands;
mod generate;
mod remote;
mod render;

pub use args::parse_duration;

/// Exit status: success, or idle.
pub const EXIT_OK: i32 = 0;
/// Exit status: a failure that is not a usage error.
pub const EXIT_FAILURE: i32 = 1;
/// Exit status: usage error.
pub const EXIT_USAGE: i32 = 2;
/// Exit status: deploying; or a plan with steps.
pub const EXIT_DEPLOYING: i32 = 10;
/// Exit status: stuck; or wait-idle timed out.
pub const EXIT_STUCK: i32 = 11;
/// Exit status: broken.
pub const EXIT_BROKEN: i32 = 12;

/// Runs the command with `args` (the first is the program name) on the real standard streams.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let io = commands::Io {
        out: &mut stdout.lock(),
        err: &mut stderr.lock(),
        color: render::color_wanted(),
        interactive: std::io::IsTerminal::is_terminal(&std::io::stdin()),
        input: &mut std::io::stdin().lock(),
    };
    run_with(args, io)
}

/// Runs the command with explicit streams (tests, embedding).
pub(crate) fn run_with<I, T>(args: I, mut io: commands::Io<'_>) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match <args::Cli as clap::Parser>::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let rendered = if io.color {
                e.render().ansi().to_string()
            } else {
                e.render().to_string()
            };
            let sink: &mut dyn Write = if e.use_stderr() { io.err } else { io.out };
            let _ = write!(sink, "{rendered}");
            return code;
        }
    };
    match commands::dispatch(cli, &mut io) {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(
                io.err,
                "kudu-state: error[{}]: {}",
                e.code(),
                kudu_state::error_chain(&e)
            );
            match e.code() {
                "INVALID_INPUT" => EXIT_USAGE,
                _ => EXIT_FAILURE,
            }
        }
    }
}

//! The `kudu-state` binary: all logic is in the library, so the Python and Node packages ship the same
//! command by calling [`kudu_state_cli::run`].

fn main() {
    std::process::exit(kudu_state_cli::run(std::env::args_os()));
}

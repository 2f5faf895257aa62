//! `gen-orphans DIR N [linux|windows]`: a home with one healthy deployment and N orphaned Building
//! records (incomplete, lock free, hours old), so that `kudu-state plan` has N `fail-orphaned-record`
//! steps: the input of the apply benchmark in `scripts/bench.sh`. Prints the time to plan at.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::TimeDelta;
use kudu_state::Platform;
use kudu_state::fixture::{HomeBuilder, Stage, status_doc};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dir), Some(n)) = (
        args.first(),
        args.get(1).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        let _ = writeln!(
            std::io::stderr(),
            "usage: gen-orphans DIR N [linux|windows]"
        );
        return ExitCode::from(2);
    };
    let platform = match args.get(2).map(String::as_str) {
        Some("windows") => Platform::Windows,
        _ => Platform::Linux,
    };
    let now = kudu_state_benches::newest_time() + TimeDelta::hours(1);
    let build = || -> std::io::Result<()> {
        let h = HomeBuilder::at(&PathBuf::from(dir), platform)?;
        h.healthy(&kudu_state_benches::record_id(0), now - TimeDelta::days(1))?;
        for i in 1..=n {
            let at = now - TimeDelta::hours(3) + TimeDelta::seconds(i64::try_from(i).unwrap_or(0));
            h.record(
                &status_doc(&kudu_state_benches::record_id(i), Stage::Building, at),
                false,
            )?;
        }
        Ok(())
    };
    match build() {
        Ok(()) => {
            let _ = writeln!(
                std::io::stdout(),
                "{}",
                now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "gen-orphans: {dir}: {e}");
            ExitCode::FAILURE
        }
    }
}

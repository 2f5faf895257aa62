//! `gen-home DIR N [linux|windows]`: writes a synthetic Kudu home of N deployment folders at DIR.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use kudu_state::Platform;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || {
        let _ = writeln!(std::io::stderr(), "usage: gen-home DIR N [linux|windows]");
        ExitCode::from(2)
    };
    let (Some(dir), Some(n)) = (
        args.first(),
        args.get(1).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        return usage();
    };
    let platform = match args.get(2).map(String::as_str) {
        None | Some("linux") => Platform::Linux,
        Some("windows") => Platform::Windows,
        Some(_) => return usage(),
    };
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let start = std::time::Instant::now();
    match kudu_state_benches::generate(&PathBuf::from(dir), n, platform, threads) {
        Ok(s) => {
            let _ = writeln!(
                std::io::stderr(),
                "gen-home: {dir}: {} records ({} failed, {} temp, {} corrupt), {:.1} MiB, {platform}, in {:.2?}",
                s.records,
                s.failed,
                s.temp,
                s.corrupt,
                s.bytes as f64 / 1_048_576.0,
                start.elapsed()
            );
            let _ = writeln!(
                std::io::stdout(),
                "{}",
                s.newest.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "gen-home: {dir}: {e}");
            ExitCode::FAILURE
        }
    }
}

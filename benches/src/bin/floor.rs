//! `floor HOME`: the least a scanner must do, single-threaded: list `HOME/site/deployments` and read
//! every `<id>/status.xml` into one reused buffer. Nothing is parsed. Prints the number of files and
//! bytes read (so the work cannot be optimised away).

use std::io::{Read, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(home) = std::env::args_os().nth(1) else {
        let _ = writeln!(std::io::stderr(), "usage: floor HOME");
        return ExitCode::from(2);
    };
    let deployments = std::path::Path::new(&home).join("site").join("deployments");
    let entries = match std::fs::read_dir(&deployments) {
        Ok(e) => e,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "floor: {}: {e}", deployments.display());
            return ExitCode::FAILURE;
        }
    };
    let mut buf = Vec::with_capacity(4096);
    let (mut files, mut bytes) = (0u64, 0u64);
    for entry in entries.flatten() {
        buf.clear();
        if let Ok(mut f) = std::fs::File::open(entry.path().join("status.xml"))
            && f.read_to_end(&mut buf).is_ok()
        {
            files += 1;
            bytes += buf.len() as u64;
        }
    }
    let _ = writeln!(std::io::stdout(), "{files} status.xml, {bytes} bytes");
    ExitCode::SUCCESS
}

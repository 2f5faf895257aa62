//! In-process scan + diagnose of a generated 1,000-record home (built once, before timing).
//!
//! `cargo bench -p kudu-state-benches --bench home`

use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::TimeDelta;
use divan::{Bencher, black_box};
use kudu_state::{DiagnoseOptions, Platform, ScanOptions};
use kudu_state_benches::{generate, newest_time};

static HOMES: OnceLock<PathBuf> = OnceLock::new();

fn homes() -> &'static PathBuf {
    HOMES.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("kudu-state-bench-{}", std::process::id()));
        for platform in [Platform::Linux, Platform::Windows] {
            generate(&dir.join(platform.as_str()), 1000, platform, 2).expect("generate home");
        }
        dir
    })
}

fn main() {
    divan::main();
    if let Some(dir) = HOMES.get() {
        // Created by this process under the temp dir; best effort.
        #[expect(
            clippy::disallowed_methods,
            reason = "removes the bench's own temp home"
        )]
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[divan::bench(args = [Platform::Linux, Platform::Windows], sample_count = 20)]
fn scan_1000(bencher: Bencher, platform: Platform) {
    bencher
        .with_inputs(|| homes().join(platform.as_str()))
        .bench_refs(|home| kudu_state::scan(black_box(home), &ScanOptions::default()));
}

#[divan::bench(args = [Platform::Linux, Platform::Windows], sample_count = 20)]
fn scan_diagnose_1000(bencher: Bencher, platform: Platform) {
    let now = newest_time() + TimeDelta::hours(1);
    bencher
        .with_inputs(|| homes().join(platform.as_str()))
        .bench_refs(|home| {
            let snapshot =
                kudu_state::scan(black_box(home), &ScanOptions::default()).expect("scan");
            kudu_state::diagnose(&snapshot, now, DiagnoseOptions::default())
        });
}

/// Diagnosis alone, on a snapshot taken once: what the model costs without the file system.
#[divan::bench(args = [Platform::Linux, Platform::Windows])]
fn diagnose_only_1000(bencher: Bencher, platform: Platform) {
    let now = newest_time() + TimeDelta::hours(1);
    let snapshot =
        kudu_state::scan(&homes().join(platform.as_str()), &ScanOptions::default()).expect("scan");
    bencher.bench(|| kudu_state::diagnose(black_box(&snapshot), now, DiagnoseOptions::default()));
}

//! A small random home on disk, then `scan` + `diagnose` + `plan`: no panic, nothing changed inside the
//! home, and nothing outside it read or changed, whatever links the tree holds.
//!
//! The input is a list of operations, each `[op, index, ...]`:
//! - `op % 5 == 0` file: `index` picks a path from `FILES`, then a length byte `n` and `n` content bytes;
//! - `1` directory from `DIRS`; `2` symbolic link at a path from `FILES`/`DIRS` to a target from
//!   `TARGETS` (outside files, an outside FIFO, outside dirs, dangling, in-home) — one more byte;
//! - `3` mtime: the path's last write time set to a base time + (next byte − 128) minutes;
//! - `4` a Unix socket at a path from `FILES` (neither a file nor a directory).
//!
//! Outside the home there is a sentinel file, a directory and a FIFO. A read of the FIFO would block
//! (50-fuzz.sh runs libFuzzer with `-timeout`, so that is a failure too); the file's bytes and mtime and
//! the directory's listing are checked after every run. The last input byte chooses `allow_live_lock`.
#![no_main]

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::SystemTime;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use kudu_state::{DiagnoseOptions, PlanOptions, ScanOptions};
use libfuzzer_sys::fuzz_target;

const REC_A: &str = "site/deployments/8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b";
const REC_T: &str = "site/deployments/temp-3fa9c0d1";

const DIRS: [&str; 9] = [
    "site",
    "site/locks",
    "site/locks/deployment",
    "site/deployments",
    REC_A,
    REC_T,
    "site/deployments/tools",
    "site/wwwroot",
    "site/deployments/3f786850e387550fdab836ed7e6dc881de23001b",
];

const FILES: [&str; 22] = [
    "site/locks/deployments.lock",
    "site/locks/deployment/info.lock",
    "site/locks/status.lock",
    "site/locks/hooks.lock",
    "site/locks/sshkey.lock",
    "site/locks/autoswap.lock",
    "site/deployments/active",
    "site/deployments/pending",
    "site/deployments/settings.xml",
    "site/deployments/hooks",
    "site/deployments/latest.json",
    "site/deployments/8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b/status.xml",
    "site/deployments/8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b/status_complete.xml",
    "site/deployments/8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b/log.log",
    "site/deployments/8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b/manifest",
    "site/deployments/temp-3fa9c0d1/status.xml",
    "site/deployments/temp-3fa9c0d1/log.log",
    "site/deployments/temp-3fa9c0d1/log.xml",
    "site/deployments/3f786850e387550fdab836ed7e6dc881de23001b/status.xml",
    "site/deployments/3f786850e387550fdab836ed7e6dc881de23001b/log.log",
    "site/deployments/3f786850e387550fdab836ed7e6dc881de23001b",
    "site/wwwroot/hostingstart.html",
];

struct Outside {
    root: PathBuf,
    sentinel: PathBuf,
    sentinel_mtime: SystemTime,
}

const SENTINEL: &[u8] = b"<deployment><id>outside</id></deployment>";

/// Created once per process: `<tmp>/outside/{sentinel.xml, fifo, dir/info.lock}` and a base for homes.
fn outside() -> &'static Outside {
    static O: OnceLock<Outside> = OnceLock::new();
    O.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("kudu-fuzz-{}", std::process::id()));
        let out = root.join("outside");
        std::fs::create_dir_all(out.join("dir")).expect("mkdir outside");
        let sentinel = out.join("sentinel.xml");
        std::fs::write(&sentinel, SENTINEL).expect("sentinel");
        std::fs::write(
            out.join("dir/info.lock"),
            b"{\"lockExpiry\":\"9999-01-01T00:00:00Z\"}",
        )
        .expect("lock");
        let ok = std::process::Command::new("mkfifo")
            .arg(out.join("fifo"))
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "mkfifo failed");
        let sentinel_mtime = std::fs::metadata(&sentinel)
            .and_then(|m| m.modified())
            .expect("mtime");
        Outside {
            root,
            sentinel,
            sentinel_mtime,
        }
    })
}

fn targets(o: &Outside) -> Vec<PathBuf> {
    let out = o.root.join("outside");
    vec![
        o.sentinel.clone(),
        out.join("fifo"),
        out.join("dir"),
        out.join("dir/info.lock"),
        PathBuf::from("../../../outside/fifo"),
        PathBuf::from("../../../../outside/sentinel.xml"),
        PathBuf::from("/proc/self/fd/0"),
        PathBuf::from("does-not-exist"),
        PathBuf::from("status.xml"),
        PathBuf::from("."),
    ]
}

/// Every path under `root` with its kind, size, mtime, link target and (for files) bytes.
fn tree(root: &Path) -> Vec<(PathBuf, String, Vec<u8>, Option<SystemTime>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(m) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            let ft = m.file_type();
            let (kind, bytes) = if ft.is_symlink() {
                (
                    "link".to_owned(),
                    std::fs::read_link(&p)
                        .map(|t| t.into_os_string().into_encoded_bytes())
                        .unwrap_or_default(),
                )
            } else if ft.is_dir() {
                stack.push(p.clone());
                ("dir".to_owned(), Vec::new())
            } else if ft.is_file() {
                ("file".to_owned(), std::fs::read(&p).unwrap_or_default())
            } else {
                ("other".to_owned(), Vec::new())
            };
            out.push((p, kind, bytes, m.modified().ok()));
        }
    }
    out.sort();
    out
}

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 9, 4, 10, 33, 18)
        .single()
        .expect("time")
}

/// True when neither `rel` nor any of its ancestors under `home` is a symbolic link: the harness itself
/// must never write through a link it made (that would change the outside before the scan runs).
fn no_link(home: &Path, rel: &str) -> bool {
    let mut p = home.to_path_buf();
    rel.split('/').all(|c| {
        p.push(c);
        !std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink())
    })
}

fn build(home: &Path, data: &[u8], targets: &[PathBuf]) {
    let mut it = data.iter().copied();
    std::fs::create_dir_all(home.join("site")).ok();
    while let (Some(op), Some(idx)) = (it.next(), it.next()) {
        let idx = usize::from(idx);
        match op % 5 {
            0 => {
                let rel = FILES[idx % FILES.len()];
                let n = usize::from(it.next().unwrap_or(0));
                let bytes: Vec<u8> = it.by_ref().take(n).collect();
                if !no_link(home, rel) {
                    continue;
                }
                let p = home.join(rel);
                if let Some(parent) = p.parent() {
                    std::fs::create_dir_all(parent).ok();
                }
                std::fs::write(&p, bytes).ok();
            }
            1 => {
                let rel = DIRS[idx % DIRS.len()];
                if no_link(home, rel) {
                    std::fs::create_dir_all(home.join(rel)).ok();
                }
            }
            2 => {
                let all: Vec<&str> = FILES.iter().chain(DIRS.iter()).copied().collect();
                let rel = all[idx % all.len()];
                let t = &targets[usize::from(it.next().unwrap_or(0)) % targets.len()];
                if !no_link(home, rel) {
                    continue;
                }
                let p = home.join(rel);
                if let Some(parent) = p.parent() {
                    std::fs::create_dir_all(parent).ok();
                }
                symlink(t, &p).ok();
            }
            3 => {
                let all: Vec<&str> = FILES.iter().chain(DIRS.iter()).copied().collect();
                let rel = all[idx % all.len()];
                let minutes = i64::from(it.next().unwrap_or(128)) - 128;
                if !no_link(home, rel) {
                    continue;
                }
                let p = home.join(rel);
                let t = SystemTime::from(base() + TimeDelta::minutes(minutes));
                if let Ok(f) = std::fs::File::open(&p) {
                    f.set_modified(t).ok();
                }
            }
            _ => {
                let rel = FILES[idx % FILES.len()];
                if !no_link(home, rel) {
                    continue;
                }
                let p = home.join(rel);
                if let Some(parent) = p.parent() {
                    std::fs::create_dir_all(parent).ok();
                }
                // A socket: neither a file nor a directory; opening it for reading fails at once.
                std::os::unix::net::UnixListener::bind(&p).ok();
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let o = outside();
    let dir = tempfile::Builder::new()
        .prefix("home-")
        .tempdir_in(&o.root)
        .expect("temp home");
    let home = dir.path().join("home");
    std::fs::create_dir(&home).expect("home");
    build(&home, data, &targets(o));
    let outside_before = tree(&o.root.join("outside"));
    let home_before = tree(&home);

    let now = base() + TimeDelta::minutes(7);
    if let Ok(snapshot) = kudu_state::scan(&home, &ScanOptions::default()) {
        let d = kudu_state::diagnose(&snapshot, now, DiagnoseOptions::default());
        let options = PlanOptions {
            allow_live_lock: data.last().is_some_and(|b| b & 1 == 1),
            allow_scm_restart: data.last().is_some_and(|b| b & 2 == 2),
        };
        let _ = kudu_state::plan(&snapshot, &d, options);
        // The model's report is JSON-serialisable whatever was found.
        let _ = d.codes();
    }

    assert_eq!(tree(&home), home_before, "the home changed");
    assert_eq!(
        tree(&o.root.join("outside")),
        outside_before,
        "outside changed"
    );
    assert_eq!(std::fs::read(&o.sentinel).expect("sentinel"), SENTINEL);
    assert_eq!(
        std::fs::metadata(&o.sentinel)
            .and_then(|m| m.modified())
            .expect("mtime"),
        o.sentinel_mtime
    );
});

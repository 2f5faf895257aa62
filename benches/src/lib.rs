//! Benchmark support: a generator of large synthetic Kudu homes in Kudu's exact bytes.
//!
//! [`generate`] writes a home with `n` deployment folders the way a neglected site accumulates them:
//! mostly successful records, some failures, orphaned `temp-` records, and a few records whose
//! `status.xml` was truncated by a crash mid-write. Every `status.xml` comes from
//! [`kudu_state::status_xml::write`] (the fixture's writer), and `log.log`/`manifest` are written in the
//! same bytes as [`HomeBuilder::log`] and [`HomeBuilder::record`]; the files are written directly instead
//! of through [`HomeBuilder`] so that 100,000 folders take seconds (a test checks the bytes match).
//!
//! Used by the `gen-home` binary (`scripts/bench.sh`) and the divan benches.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::time::SystemTime;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use kudu_state::Platform;
use kudu_state::fixture::{HomeBuilder, LogLine, Stage, status_doc};
use kudu_state::status_xml::{self, StatusXml};

/// The manifest the fixture writes for every record.
pub const MANIFEST: &str = "hostingstart.html\nindex.js\npackage.json\n";

/// Every how many records one has a truncated (corrupt) `status.xml`.
pub const CORRUPT_EVERY: usize = 997;
/// Every how many records one is an orphaned `temp-` record.
pub const TEMP_EVERY: usize = 251;
/// Every how many records one failed.
pub const FAILED_EVERY: usize = 13;
/// Minutes between two deployments.
pub const SPACING_MINUTES: i64 = 7;

/// What [`generate`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Deployment folders written.
    pub records: usize,
    /// Of which `temp-` records still receiving changes.
    pub temp: usize,
    /// Of which records with a truncated `status.xml`.
    pub corrupt: usize,
    /// Of which failed records.
    pub failed: usize,
    /// Bytes written into deployment folders.
    pub bytes: u64,
    /// Receive time of the newest record (the active one).
    pub newest: DateTime<Utc>,
}

/// The time the newest generated deployment was received.
#[must_use]
pub fn newest_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 9, 4, 10, 33, 19)
        .single()
        .unwrap_or_default()
        + TimeDelta::milliseconds(45)
}

/// Id of record `i` (0 = newest): a 40-hex git commit id, or `temp-` + 8 hex for temp records.
#[must_use]
pub fn record_id(i: usize) -> String {
    let h = (i as u128 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
    if is_temp(i) {
        format!("temp-{:08x}", (h >> 96) as u32)
    } else {
        format!("{h:032x}{:08x}", (h >> 64) as u32)
    }
}

fn is_temp(i: usize) -> bool {
    i % TEMP_EVERY == TEMP_EVERY - 1
}

fn is_corrupt(i: usize) -> bool {
    i % CORRUPT_EVERY == CORRUPT_EVERY - 1
}

/// The stage of record `i` (0 = newest, always successful: it is `active`).
#[must_use]
pub fn stage(i: usize) -> Stage {
    if is_temp(i) {
        Stage::Receiving
    } else if i % FAILED_EVERY == FAILED_EVERY - 1 {
        Stage::Failed
    } else {
        Stage::Success
    }
}

/// The `status.xml` document of record `i`.
#[must_use]
pub fn record_doc(i: usize) -> StatusXml {
    let at = newest_time() - TimeDelta::minutes(SPACING_MINUTES * i as i64);
    let mut doc = status_doc(&record_id(i), stage(i), at);
    doc.deployer = Some(
        if i.is_multiple_of(3) {
            "GitHub"
        } else {
            "ZipDeploy"
        }
        .to_owned(),
    );
    doc
}

const OUTPUT: [&str; 8] = [
    "Detecting platforms...",
    "Detected following platforms:",
    "  nodejs: 20.11.1",
    "Using intermediate directory '/tmp/8dcccd1b5a3ac2e'.",
    "Copying files to the intermediate directory...",
    "Running 'npm install --production'...",
    "npm WARN deprecated inflight@1.0.6: This module is not supported, and leaks memory. Do not use it.",
    "added 412 packages, and audited 413 packages in 21s",
];

/// The `log.log` lines of a record: a realistic Oryx build, about 4 KiB, with command output as child
/// lines (stderr as warnings).
#[must_use]
pub fn record_log(doc: &StatusXml) -> Vec<LogLine> {
    let t = doc.start_time;
    let short: String = doc.id.chars().take(10).collect();
    let mut lines = vec![LogLine::message(doc.received_time, "Fetching changes.")];
    if doc.is_temp {
        lines.push(LogLine::message(
            doc.received_time + TimeDelta::milliseconds(120),
            "Cleaning up temp folders from previous zip deployments and extracting pushed zip file /tmp/zipdeploy/3f2b9c1e.zip (41.27 MB) to /tmp/zipdeploy/extracted",
        ));
        return lines;
    }
    lines.push(LogLine::message(t, "Updating submodules."));
    lines.push(LogLine::message(
        t + TimeDelta::milliseconds(150),
        &format!("Preparing deployment for commit id '{short}'."),
    ));
    lines.push(LogLine::message(
        t + TimeDelta::milliseconds(900),
        "Repository path is /tmp/zipdeploy/extracted",
    ));
    lines.push(LogLine::message(
        t + TimeDelta::seconds(1),
        "Running oryx build...",
    ));
    let child = |ms: i64, message: String, kind: u8| LogLine {
        time: t + TimeDelta::milliseconds(ms),
        message,
        kind,
        child: true,
    };
    lines.push(child(
        1_100,
        "Command: oryx build /tmp/zipdeploy/extracted -o /home/site/wwwroot --platform nodejs --platform-version 20 -p compress_node_modules=tar-gz".to_owned(),
        0,
    ));
    for k in 0..32 {
        let msg = OUTPUT[k % OUTPUT.len()];
        let kind = u8::from(msg.starts_with("npm WARN"));
        lines.push(child(
            1_200 + 2_500 * k as i64,
            format!("{msg} [{k}/32, elapsed {}.{:03}s]", k * 2, k * 137 % 1000),
            kind,
        ));
    }
    lines.push(LogLine::message(
        t + TimeDelta::seconds(90),
        "Running post deployment command(s)...",
    ));
    if let Some(end) = doc.end_time {
        lines.push(if doc.status == status_xml::DeployStatus::Failed {
            LogLine {
                time: end,
                message: "Deployment Failed. deployer = GitHub deploymentPath = Oryx-Build"
                    .to_owned(),
                kind: 2,
                child: false,
            }
        } else {
            LogLine::message(
                end,
                "Deployment successful. deployer = GitHub deploymentPath = Oryx-Build",
            )
        });
    }
    lines
}

/// `log.log` bytes for `lines`, exactly as [`HomeBuilder::log`] writes them.
#[must_use]
pub fn log_bytes(lines: &[LogLine], platform: Platform) -> Vec<u8> {
    kudu_state::fixture::log_text(lines, platform).into_bytes()
}

fn write_file(path: &Path, bytes: &[u8], mtime: SystemTime) -> io::Result<u64> {
    let mut f = File::create(path)?;
    f.write_all(bytes)?;
    f.set_modified(mtime)?;
    Ok(bytes.len() as u64)
}

/// Writes record `i` under `deployments` directly (no [`HomeBuilder`]); returns the bytes written.
///
/// # Errors
/// On any I/O failure.
pub fn write_record(deployments: &Path, i: usize, platform: Platform) -> io::Result<u64> {
    let doc = record_doc(i);
    let dir = deployments.join(&doc.id);
    std::fs::create_dir(&dir)?;
    let last = SystemTime::from(doc.end_time.unwrap_or(doc.start_time));
    let mut status = status_xml::write(&doc, platform);
    let mut bytes = 0;
    if is_corrupt(i) && i != 0 {
        // A crash mid-write: Kudu's writer truncates the file first, then writes.
        status.truncate(status.len() * 2 / 5);
    } else if platform == Platform::Windows && doc.complete {
        bytes += write_file(&dir.join("status_complete.xml"), &status, last)?;
    }
    bytes += write_file(&dir.join("status.xml"), &status, last)?;
    bytes += write_file(
        &dir.join("log.log"),
        &log_bytes(&record_log(&doc), platform),
        last,
    )?;
    if !doc.is_temp {
        bytes += write_file(&dir.join("manifest"), MANIFEST.as_bytes(), last)?;
    }
    File::open(&dir)?.set_modified(last)?;
    Ok(bytes)
}

/// Writes a home of `n` deployment folders at `root` (which should be empty or absent), on `threads`
/// threads. Record 0 is the newest, successful and `active`; `pending` and (on Linux) the idle lock
/// files are written by [`HomeBuilder::site`].
///
/// # Errors
/// On any I/O failure.
pub fn generate(root: &Path, n: usize, platform: Platform, threads: usize) -> io::Result<Summary> {
    let newest = newest_time();
    let home = HomeBuilder::at(root, platform)?;
    home.site(newest)?;
    let deployments = home.full("site/deployments");
    let threads = threads.clamp(1, 16);
    let written = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let deployments = &deployments;
                s.spawn(move || -> io::Result<u64> {
                    let mut bytes = 0;
                    for i in (t..n).step_by(threads) {
                        bytes += write_record(deployments, i, platform)?;
                    }
                    Ok(bytes)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(io::Error::other("writer panicked")))
            })
            .sum::<io::Result<u64>>()
    })?;
    if n > 0 {
        let doc = record_doc(0);
        home.active(doc.id.as_bytes(), doc.end_time.unwrap_or(newest))?;
    }
    home.pending(newest)?;
    home.mtime("site/deployments", newest)?;
    let count = |f: fn(usize) -> bool| (0..n).filter(|&i| f(i)).count();
    Ok(Summary {
        records: n,
        temp: count(is_temp),
        corrupt: count(|i| is_corrupt(i) && i != 0),
        failed: count(|i| stage(i) == Stage::Failed),
        bytes: written,
        newest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(root: &Path) -> Vec<(String, Vec<u8>, Option<SystemTime>)> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).expect("list") {
                let e = e.expect("entry");
                let p = e.path();
                let rel = p
                    .strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .into_owned();
                let meta = e.metadata().expect("stat");
                if meta.is_dir() {
                    stack.push(p.clone());
                    out.push((rel, Vec::new(), meta.modified().ok()));
                } else {
                    out.push((rel, std::fs::read(&p).expect("read"), meta.modified().ok()));
                }
            }
        }
        out.sort();
        out
    }

    /// The direct writer produces the same bytes and dates as the fixture's `HomeBuilder`.
    #[test]
    fn direct_writes_match_the_fixture() {
        for platform in [Platform::Linux, Platform::Windows] {
            let fast = HomeBuilder::new(platform).expect("tmp");
            let b = HomeBuilder::new(platform).expect("tmp");
            let deployments = fast.full("site/deployments");
            std::fs::create_dir_all(&deployments).expect("mkdir");
            // Newest, failed, temp (not corrupt: those differ on purpose).
            for i in [0, 12, 250] {
                write_record(&deployments, i, platform).expect("write");
                let doc = record_doc(i);
                b.record(&doc, !doc.is_temp).expect("record");
                let dir = format!("site/deployments/{}", doc.id);
                if doc.is_temp {
                    std::fs::remove_file(b.full(&format!("{dir}/manifest"))).ok();
                }
                b.log(&doc.id, &record_log(&doc)).expect("log");
                let last = doc.end_time.unwrap_or(doc.start_time);
                b.mtime(&format!("{dir}/log.log"), last).expect("mtime");
                b.mtime(&dir, last).expect("mtime");
            }
            let (fast, slow) = (tree(fast.path()), tree(b.path()));
            let records = |t: &[(String, Vec<u8>, Option<SystemTime>)]| {
                t.iter()
                    .filter(|e| e.0.matches('/').count() >= 2)
                    .map(|e| (e.0.clone(), e.1.len(), e.2))
                    .collect::<Vec<_>>()
            };
            assert_eq!(records(&fast), records(&slow), "{platform}");
            for (f, s) in fast.iter().zip(&slow) {
                if f.0.matches('/').count() >= 2 {
                    assert!(f.1 == s.1, "{platform}: {} differs", f.0);
                }
            }
        }
    }

    #[test]
    fn generated_home_diagnoses() {
        let home = HomeBuilder::new(Platform::Linux).expect("tmp");
        let s = generate(home.path(), 1000, Platform::Linux, 2).expect("generate");
        assert_eq!((s.records, s.corrupt, s.temp), (1000, 1, 3));
        let log = std::fs::metadata(
            home.path()
                .join("site/deployments")
                .join(record_id(1))
                .join("log.log"),
        )
        .expect("log");
        assert!((3000..6000).contains(&log.len()), "{}", log.len());
        let snap =
            kudu_state::scan(home.path(), &kudu_state::ScanOptions::default()).expect("scan");
        assert_eq!(snap.platform(), Platform::Linux);
        let d = kudu_state::diagnose(&snap, s.newest + TimeDelta::hours(1), Default::default());
        assert!(d.has(kudu_state::FindingCode::StatusXmlCorrupt), "{d:?}");
    }
}

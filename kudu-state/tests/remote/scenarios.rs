//! Every scenario of the spec (§10, S1–S12) read over HTTP gives the diagnosis the same tree gives from
//! disk: the remote store changes where the bytes come from, never what they mean.

use chrono::TimeDelta;
use kudu_state::fixture::{HomeBuilder, Stage, status_doc};
use kudu_state::{HomeOptions, Platform};
use serde_json::Value;

use crate::util::{emulator, store, t0};

const OLD: &str = "8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b";
const NEW: &str = "3f786850e387550fdab836ed7e6dc881de23001b";

fn healthy(p: Platform) -> HomeBuilder {
    let h = HomeBuilder::new(p).unwrap();
    h.healthy(OLD, t0() - TimeDelta::days(1)).unwrap();
    h
}

/// The scenarios as trees, with what each one is.
pub(crate) fn scenarios(p: Platform) -> Vec<(&'static str, HomeBuilder)> {
    let mut out = Vec::new();
    // S1: a live deployment: a moving record under a live lock.
    let h = healthy(p);
    h.record(
        &status_doc(NEW, Stage::Building, t0() - TimeDelta::minutes(3)),
        true,
    )
    .unwrap();
    match p {
        Platform::Linux => h.linux_lock(
            "Performing continuous deployment",
            t0() - TimeDelta::minutes(3),
        ),
        Platform::Windows => h.windows_lock(
            "Performing continuous deployment",
            t0() - TimeDelta::minutes(3),
        ),
    }
    .unwrap();
    out.push(("S1 live deployment", h));
    // S2/S3: a Windows deployments.lock left behind (from files, held or not cannot be told).
    let h = healthy(p);
    h.windows_lock("Performing deployment", t0() - TimeDelta::hours(5))
        .unwrap();
    out.push(("S2 stale deployments.lock", h));
    // S4: a Linux lock live with nothing running, and one expired.
    let h = healthy(p);
    h.linux_lock(
        "Performing continuous deployment",
        t0() - TimeDelta::minutes(20),
    )
    .unwrap();
    out.push(("S4 live lock, nothing running", h));
    let h = healthy(p);
    h.linux_lock(
        "Performing continuous deployment",
        t0() - TimeDelta::hours(2),
    )
    .unwrap();
    out.push(("S4 expired lock", h));
    // S5: a truncated info.lock.
    let h = healthy(p);
    h.file(
        "site/locks/deployment/info.lock",
        "{\"lockExpiry\":\"2024-09-04T10:2",
    )
    .unwrap();
    out.push(("S5 corrupt info.lock", h));
    // S6: pending, nothing running.
    let h = healthy(p);
    h.pending(t0() - TimeDelta::minutes(1)).unwrap();
    out.push(("S6 pending", h));
    // S7: an orphaned temp record.
    let h = healthy(p);
    h.record(
        &status_doc(
            "temp-0a1b2c3d",
            Stage::Receiving,
            t0() - TimeDelta::hours(2),
        ),
        false,
    )
    .unwrap();
    out.push(("S7 orphaned temp", h));
    // S8: a record stuck in Building for hours.
    let h = healthy(p);
    h.record(
        &status_doc(NEW, Stage::Building, t0() - TimeDelta::hours(3)),
        true,
    )
    .unwrap();
    out.push(("S8 stuck Building", h));
    // S9: a truncated status.xml.
    let h = healthy(p);
    h.record(
        &status_doc(NEW, Stage::Failed, t0() - TimeDelta::hours(3)),
        true,
    )
    .unwrap();
    let path = format!("site/deployments/{NEW}/status.xml");
    let bytes = std::fs::read(h.full(&path)).unwrap();
    h.file(&path, &bytes[..300]).unwrap();
    let _ = std::fs::remove_file(h.full(&format!("site/deployments/{NEW}/status_complete.xml")));
    out.push(("S9 corrupt status.xml", h));
    // S10 (status.lock unreadable) is left out: over HTTP the server's account reads what a local
    // user may not, so the two cannot see the same tree.
    // S11: active with a newline, and active naming a missing record.
    let h = healthy(p);
    h.active(format!("{OLD}\n").as_bytes(), t0()).unwrap();
    out.push(("S11 active with a newline", h));
    let h = healthy(p);
    h.active(NEW.as_bytes(), t0()).unwrap();
    out.push(("S11 active names nothing", h));
    // S12: a folder without status.xml.
    let h = healthy(p);
    h.file(&format!("site/deployments/{NEW}/manifest"), "a\n")
        .unwrap();
    out.push(("S12 folder without status.xml", h));
    out
}

/// The diagnosis as JSON, without what only the remote can add: the home's name (a URL), and on
/// Windows whether Kudu holds `deployments.lock` (its open file handles), which changes that one
/// finding's message and evidence.
fn comparable(d: &kudu_state::Diagnosis) -> Value {
    let mut v = serde_json::to_value(d).unwrap();
    v["home"] = Value::Null;
    for f in v["findings"].as_array_mut().unwrap() {
        if f["code"] == "windows-lock-file" {
            f["message"] = Value::Null;
            if let Some(e) = f["evidence"].as_object_mut() {
                e.remove("held");
            }
        }
    }
    v
}

/// Every file's time truncated to the second: a local disk keeps nanoseconds, Kudu's API shows .NET
/// ticks (100 ns), and the evidence prints times as they are.
pub(crate) fn whole_seconds(root: &std::path::Path) {
    for e in std::fs::read_dir(root).unwrap() {
        let p = e.unwrap().path();
        let m = std::fs::symlink_metadata(&p).unwrap();
        if m.is_dir() {
            whole_seconds(&p);
        }
        if m.is_dir() || m.is_file() {
            let t = m.modified().unwrap();
            let secs = t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
            let f = std::fs::File::open(&p).unwrap();
            f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
                .unwrap();
        }
    }
}

#[test]
fn every_scenario_reads_the_same_over_http_as_from_disk() {
    for p in [Platform::Linux, Platform::Windows] {
        for (name, h) in scenarios(p) {
            whole_seconds(h.path());
            let (_, local) =
                kudu_state::diagnose_home(h.path(), t0(), &HomeOptions::default()).unwrap();
            let emu = emulator(&h);
            let remote = kudu_state::remote::diagnose_site(
                &store(&emu),
                &HomeOptions::default(),
                Some(t0()),
            )
            .unwrap()
            .diagnosis;
            assert_eq!(remote.platform, local.platform, "{p:?} {name}");
            assert_eq!(comparable(&remote), comparable(&local), "{p:?} {name}");
            // Read-only, always.
            for r in emu.requests() {
                assert!(
                    (r.method == "GET" || r.method == "HEAD")
                        && (r.path.starts_with("/api/vfs/") || r.path == "/api/processes/0"),
                    "{name}: {} {}",
                    r.method,
                    r.path
                );
            }
        }
    }
}

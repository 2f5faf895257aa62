//! Helpers shared by the integration tests.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, TimeDelta, Utc};
use kudu_state::fixture::HomeBuilder;
use kudu_state::{
    DiagnoseOptions, Diagnosis, FindingCode, Platform, ScanOptions, Snapshot, Verdict,
};

/// The reference time every scenario is built around.
pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-09-04T10:00:00Z")
        .expect("valid")
        .with_timezone(&Utc)
}

pub fn mins(n: i64) -> TimeDelta {
    TimeDelta::minutes(n)
}

pub const OLD_ID: &str = "8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b";
pub const NEW_ID: &str = "3f786850e387550fdab836ed7e6dc881de23001b";

/// A healthy home (one successful, active deployment a day before t0).
pub fn healthy(platform: Platform) -> HomeBuilder {
    let h = HomeBuilder::new(platform).expect("tempdir");
    h.healthy(OLD_ID, t0() - TimeDelta::days(1))
        .expect("healthy");
    h
}

pub fn scan(home: &Path) -> Snapshot {
    kudu_state::scan(home, &ScanOptions::default()).expect("scan")
}

pub fn diagnose_at(home: &Path, now: DateTime<Utc>) -> (Snapshot, Diagnosis) {
    let s = scan(home);
    let d = kudu_state::diagnose(&s, now, DiagnoseOptions::default());
    (s, d)
}

/// The codes at warning or error severity.
pub fn problems(d: &Diagnosis) -> Vec<FindingCode> {
    d.findings
        .iter()
        .filter(|f| f.severity > kudu_state::Severity::Info)
        .map(|f| f.code)
        .collect()
}

pub fn assert_verdict(d: &Diagnosis, v: Verdict) {
    assert_eq!(d.verdict, v, "findings: {:#?}", d.findings);
}

/// Every file under the home (except kudu-state's own folder) with its bytes and mtime, and every folder.
pub type Tree = BTreeMap<String, (Option<Vec<u8>>, Option<std::time::SystemTime>)>;

pub fn capture(home: &Path) -> Tree {
    let mut out = Tree::new();
    let mut stack = vec![home.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("list") {
            let e = e.expect("entry");
            let p = e.path();
            let rel = p
                .strip_prefix(home)
                .expect("under home")
                .to_string_lossy()
                .replace('\\', "/");
            if rel == "data" || rel.starts_with("data/") {
                continue;
            }
            let m = std::fs::symlink_metadata(&p).expect("lstat");
            if m.is_dir() {
                out.insert(format!("{rel}/"), (None, None));
                stack.push(p);
            } else if m.file_type().is_symlink() {
                out.insert(
                    rel,
                    (
                        Some(
                            std::fs::read_link(&p)
                                .expect("link")
                                .to_string_lossy()
                                .into_owned()
                                .into_bytes(),
                        ),
                        None,
                    ),
                );
            } else {
                out.insert(
                    rel,
                    (Some(std::fs::read(&p).expect("read")), m.modified().ok()),
                );
            }
        }
    }
    out
}

/// Asserts two captures are identical, naming the first difference.
pub fn assert_same_tree(before: &Tree, after: &Tree) {
    for (k, v) in before {
        match after.get(k) {
            None => panic!("`{k}` is missing after"),
            Some(w) => {
                assert_eq!(v.0, w.0, "content of `{k}` differs");
                assert_eq!(v.1, w.1, "mtime of `{k}` differs");
            }
        }
    }
    for k in after.keys() {
        assert!(before.contains_key(k), "`{k}` is new after");
    }
}

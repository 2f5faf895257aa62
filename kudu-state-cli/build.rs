//! Build script: the git revision of the build, for `kudu-state --version`.
//!
//! Sets `KUDU_STATE_GIT_REV` to the first found of:
//! 1. the environment variable `KUDU_STATE_GIT_REV` (a packager building outside a checkout, or a
//!    container where git refuses the mounted checkout);
//! 2. `.cargo_vcs_info.json`, which `cargo package` writes into a published crate (so a
//!    `cargo install kudu-state-cli` from crates.io knows the commit it was published from);
//! 3. `git rev-parse HEAD`, when this crate's `Cargo.toml` is tracked by the enclosing checkout (not
//!    some unrelated repository that happens to contain the cargo registry);
//!
//! and to `unknown` otherwise (for example a Python sdist build). The revision is 12 hex digits.

// A build script talks to cargo through standard output.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::Command;

const VAR: &str = "KUDU_STATE_GIT_REV";

fn main() {
    println!("cargo:rerun-if-env-changed={VAR}");
    println!("cargo:rerun-if-changed=build.rs");
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let rev = from_env()
        .or_else(|| from_vcs_info(&dir))
        .or_else(|| from_git(&dir))
        .unwrap_or_else(|| {
            // Run again on every build: cargo keys build-script runs by the crate's path relative to its
            // workspace, so an unpacked sdist and a checkout sharing a target folder share this run, and a
            // checkout must not keep "unknown". (A watched path that does not exist is always stale.)
            println!("cargo:rerun-if-changed=.no-git-revision");
            "unknown".to_owned()
        });
    println!("cargo:rustc-env={VAR}={rev}");
    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo:rustc-env=KUDU_STATE_TARGET={target}");
}

/// A revision as shown: the first 12 hex digits, or nothing when `s` is not a hex commit id.
fn short(s: &str) -> Option<String> {
    let s = s.trim();
    (s.len() >= 7 && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| s.chars().take(12).collect::<String>().to_ascii_lowercase())
}

fn from_env() -> Option<String> {
    short(&std::env::var(VAR).ok()?)
}

/// `{"git": {"sha1": "…", "dirty": …}, "path_in_vcs": "…"}`, read without a JSON parser.
fn from_vcs_info(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    watch(&dir.join(".cargo_vcs_info.json"));
    let after = text.split("\"sha1\"").nth(1)?;
    let value = after.split('"').nth(1)?;
    short(value)
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn from_git(dir: &Path) -> Option<String> {
    git(dir, &["ls-files", "--error-unmatch", "Cargo.toml"])?;
    let rev = short(&git(dir, &["rev-parse", "HEAD"])?)?;
    // Run again when HEAD moves: a commit, a checkout, a fetch that updates the branch.
    let resolve = |p: String| {
        let p = PathBuf::from(p);
        if p.is_absolute() { p } else { dir.join(p) }
    };
    if let Some(git_dir) = git(dir, &["rev-parse", "--git-dir"]).map(resolve) {
        watch(&git_dir.join("HEAD"));
    }
    if let Some(common) = git(dir, &["rev-parse", "--git-common-dir"]).map(resolve) {
        watch(&common.join("packed-refs"));
        if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
            watch(&common.join(branch));
        }
    }
    Some(rev)
}

/// Only existing files: cargo re-runs a build script on every build when a watched path is missing.
fn watch(path: &Path) {
    if path.is_file() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

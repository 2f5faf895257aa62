//! What the packaged command ships besides itself: `--version` with the git revision, shell
//! completions and man pages.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kudu-state"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run kudu-state")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The revision this build must show: the override, else HEAD of the checkout (tests run from one).
fn expected_rev() -> Option<String> {
    if let Ok(rev) = std::env::var("KUDU_STATE_GIT_REV") {
        return Some(
            rev.chars()
                .take(12)
                .collect::<String>()
                .to_ascii_lowercase(),
        );
    }
    let out = Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim()[..12].to_owned())
}

#[test]
fn version_shows_the_version_the_git_revision_and_the_target() {
    let o = run(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    let line = stdout(&o);
    let prefix = concat!("kudu-state ", env!("CARGO_PKG_VERSION"), " (rev ");
    let rest = line
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{line}"));
    let (rev, target) = rest.trim_end().split_once(", ").expect("rev, target");
    assert!(target.ends_with(')') && target.len() > 5, "{line}");
    match expected_rev() {
        Some(want) => assert_eq!(rev, want, "{line}"),
        None => assert!(
            rev == "unknown" || (rev.len() == 12 && rev.bytes().all(|b| b.is_ascii_hexdigit())),
            "{line}"
        ),
    }
    assert_eq!(stdout(&run(&["-V"])), line);
}

#[test]
fn completions_for_every_shell_name_every_subcommand() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef kudu-state"),
        ("fish", "complete -c kudu-state"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer"),
    ] {
        let o = run(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        let script = stdout(&o);
        assert!(script.contains(marker), "{shell}: no `{marker}`");
        for sub in [
            "diagnose",
            "explain",
            "wait-idle",
            "plan",
            "apply",
            "undo",
            "completions",
        ] {
            assert!(script.contains(sub), "{shell}: no `{sub}`");
        }
    }
    let o = run(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
}

/// The bash script is valid bash (every Unix CI runner has bash).
#[cfg(unix)]
#[test]
fn bash_completion_parses() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("kudu-state.bash");
    std::fs::write(&path, run(&["completions", "bash"]).stdout).expect("write");
    let o = Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .expect("run bash");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn man_prints_the_page_or_writes_one_per_command() {
    let o = run(&["man"]);
    assert_eq!(o.status.code(), Some(0));
    let page = stdout(&o);
    assert!(page.contains(".TH kudu-state 1"), "{page}");
    assert!(page.contains("kudu\\-state\\-diagnose(1)"), "{page}");
    assert!(!page.contains("kudu\\-state\\-help"), "{page}");

    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("man1");
    let o = run(&["man", "--dir", out.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(0));
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // One page per command (others may be added; `help` is not a page).
    for want in [
        "kudu-state.1",
        "kudu-state-apply.1",
        "kudu-state-completions.1",
        "kudu-state-diagnose.1",
        "kudu-state-explain.1",
        "kudu-state-man.1",
        "kudu-state-plan.1",
        "kudu-state-undo.1",
        "kudu-state-wait-idle.1",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
    }
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("kudu-state") && n.ends_with(".1") && !n.contains("help")),
        "{names:?}"
    );
    let diagnose = std::fs::read_to_string(out.join("kudu-state-diagnose.1")).expect("read");
    assert!(diagnose.contains("\\-\\-json"), "{diagnose}");
    assert_eq!(stdout(&o).lines().count(), names.len());

    // A folder that cannot be created: exit 1 and an IO_ERROR naming it.
    let file = dir.path().join("file");
    std::fs::write(&file, b"").expect("write");
    let o = run(&["man", "--dir", file.join("sub").to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("IO_ERROR") && err.contains("sub"), "{err}");
}

//! Repairs over Kudu's REST API against the emulator: plan, apply and undo change the served tree
//! exactly as a local repair changes a disk, each write guarded, the backups local.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{TimeDelta, Utc};
use kudu_emulator::{Emulator, Fault};
use kudu_state::fixture::{HomeBuilder, Stage, status_doc};
use kudu_state::remediate::{Action, Op, Place, PlanOptions};
use kudu_state::remote::{
    RemotePlace, RemoteStore, SiteApplyOptions, apply_site, plan_site_repair, undo_site,
};
use kudu_state::{HomeOptions, Plan, Platform, Verdict};

use crate::scenarios::{scenarios, whole_seconds};
use crate::util::{emulator, emulator_with, rel, store, t0};

/// Every file's bytes (`None` for a folder), by path relative to the home.
type Tree = BTreeMap<String, Option<Vec<u8>>>;

fn tree(root: &Path) -> Tree {
    fn walk(root: &Path, dir: &Path, out: &mut Tree) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if p.is_dir() {
                out.insert(rel, None);
                walk(root, &p, out);
            } else {
                out.insert(rel, Some(std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Tree::new();
    walk(root, root, &mut out);
    out
}

fn plan(store: &RemoteStore, allow_live_lock: bool) -> Plan {
    plan_site_repair(
        store,
        &HomeOptions::default(),
        PlanOptions {
            allow_live_lock,
            ..PlanOptions::default()
        },
        Some(t0()),
    )
    .unwrap()
    .1
}

/// The plan at `t0` with `allow_scm_restart`.
fn plan_restarting(store: &RemoteStore) -> Plan {
    plan_site_repair(
        store,
        &HomeOptions::default(),
        PlanOptions {
            allow_scm_restart: true,
            ..PlanOptions::default()
        },
        Some(t0()),
    )
    .unwrap()
    .1
}

fn backups() -> (tempfile::TempDir, SiteApplyOptions) {
    let dir = tempfile::tempdir().unwrap();
    let options = SiteApplyOptions {
        backup_root: Some(dir.path().to_path_buf()),
    };
    (dir, options)
}

/// What a repair may send: reads of VFS and of Kudu's process, and VFS writes each with its guard:
/// `If-Match` with a real ETag (never `*`) on every DELETE of a file and every PUT over a file that
/// was there, a PUT without one only where nothing was (Kudu refuses it otherwise), a folder DELETE
/// never recursive. Never a route with side effects.
fn assert_guarded(emu: &Emulator, before: &Tree, what: &str) {
    for r in emu.requests() {
        let vfs = r.path.strip_prefix("/api/vfs/");
        assert_ne!(r.if_match.as_deref(), Some("*"), "{what}: {r:?}");
        match (r.method.as_str(), vfs) {
            ("GET" | "HEAD", Some(_)) => {}
            ("GET", None) => assert_eq!(r.path, "/api/processes/0", "{what}"),
            ("PUT", Some(path)) if !path.ends_with('/') => {
                let existed = before.contains_key(&decode(path));
                assert!(
                    r.if_match.is_some() || !existed || r.status == Some(412),
                    "{what}: an unguarded PUT over an existing file: {r:?}"
                );
            }
            ("PUT", Some(_)) => {}
            ("DELETE", Some(path)) if path.ends_with('/') => {
                assert!(r.query.is_none(), "{what}: a recursive delete: {r:?}");
            }
            ("DELETE", Some(_)) => assert!(r.if_match.is_some(), "{what}: {r:?}"),
            _ => panic!(
                "{what}: {} {} is not a guarded VFS request",
                r.method, r.path
            ),
        }
    }
}

fn decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&path[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn verdict_now(emu: &Emulator) -> Verdict {
    kudu_state::remote::diagnose_site(&store(emu), &HomeOptions::default(), Some(Utc::now()))
        .unwrap()
        .diagnosis
        .verdict
}

/// The acceptance test of remote repair: every scenario a plan changes files for is planned over
/// HTTP as it is on disk, applied over HTTP until the site is idle, and undone to the same bytes.
#[test]
fn every_fixable_scenario_applies_over_http_and_undoes_to_the_same_bytes() {
    let mut fixed = 0;
    for p in [Platform::Linux, Platform::Windows] {
        for (name, h) in scenarios(p) {
            whole_seconds(h.path());
            let before = tree(h.path());
            let emu = emulator(&h);
            let site = store(&emu);
            let plan = self::plan(&site, true);
            if !plan.changes_files() {
                continue;
            }
            fixed += 1;
            // The same steps as a plan of the same tree on disk (preconditions aside: the site's
            // carry ETags).
            let (snapshot, d) =
                kudu_state::diagnose_home(h.path(), t0(), &HomeOptions::default()).unwrap();
            let local = kudu_state::plan(
                &snapshot,
                &d,
                PlanOptions {
                    allow_live_lock: true,
                    ..PlanOptions::default()
                },
            )
            .unwrap();
            let steps = |plan: &Plan| {
                plan.steps
                    .iter()
                    .map(|s| (s.action, s.target.clone(), s.ops.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(steps(&plan), steps(&local), "{p:?} {name}");
            assert_eq!(
                plan.site.as_ref().map(|s| s.url.as_str()),
                Some(emu.url().as_str())
            );

            emu.clear_requests();
            let (dir, options) = backups();
            let report = apply_site(&plan, &site, &options, |_| {}).unwrap();
            assert_guarded(&emu, &before, name);
            let backup = report.backup.unwrap();
            assert!(backup.starts_with(dir.path()), "{}", backup.display());
            assert_eq!(
                verdict_now(&emu),
                Verdict::Idle,
                "{p:?} {name}: {:#?}",
                kudu_state::remote::diagnose_site(&site, &HomeOptions::default(), Some(Utc::now()))
                    .unwrap()
                    .diagnosis
                    .findings
            );
            assert_ne!(tree(h.path()), before, "{p:?} {name}");
            // Applying the same plan again changes nothing.
            let again = apply_site(&plan, &site, &options, |_| {}).unwrap();
            assert!(again.backup.is_none(), "{p:?} {name}: {again:?}");

            emu.clear_requests();
            let applied = tree(h.path());
            let undone = undo_site(&backup, &site).unwrap();
            assert_guarded(&emu, &applied, name);
            assert!(!undone.restored.is_empty());
            assert_eq!(tree(h.path()), before, "{p:?} {name}: not the same bytes");
            assert!(
                !undone.times_not_restored.is_empty() || undone.restored.is_empty(),
                "VFS cannot set times, and the report says so"
            );
        }
    }
    assert!(fixed >= 12, "only {fixed} scenarios had a repair");
}

#[test]
fn a_change_between_plan_and_apply_stops_with_nothing_else_changed() {
    // A new info.lock: a new deployment took the lock.
    let h = HomeBuilder::new(Platform::Linux).unwrap();
    h.healthy(
        "8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b",
        t0() - TimeDelta::days(1),
    )
    .unwrap();
    h.record(
        &status_doc(
            "temp-0a1b2c3d",
            Stage::Receiving,
            t0() - TimeDelta::hours(2),
        ),
        false,
    )
    .unwrap();
    h.linux_lock(
        "Performing continuous deployment",
        t0() - TimeDelta::hours(2),
    )
    .unwrap();
    let emu = emulator(&h);
    let site = store(&emu);
    let plan = self::plan(&site, false);
    assert!(
        plan.steps
            .iter()
            .any(|s| s.action == Action::RemoveExpiredLock),
        "{plan:#?}"
    );
    h.linux_lock("Performing continuous deployment", Utc::now())
        .unwrap();
    let before = tree(h.path());
    let (_dir, options) = backups();
    let e = apply_site(&plan, &site, &options, |_| {}).unwrap_err();
    assert_eq!(e.code(), "PRECONDITION_FAILED", "{e}");
    assert_eq!(tree(h.path()), before);

    // A log that grew, under a record the plan fails.
    let h = HomeBuilder::new(Platform::Windows).unwrap();
    h.healthy(
        "8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b",
        t0() - TimeDelta::days(1),
    )
    .unwrap();
    let id = "3f786850e387550fdab836ed7e6dc881de23001b";
    h.record(
        &status_doc(id, Stage::Building, t0() - TimeDelta::hours(3)),
        true,
    )
    .unwrap();
    let emu = emulator(&h);
    let site = store(&emu);
    let plan = self::plan(&site, false);
    assert_eq!(
        plan.steps[0].action,
        Action::FailOrphanedRecord,
        "{plan:#?}"
    );
    let log = h.full(&format!("site/deployments/{id}/log.log"));
    let mut text = std::fs::read(&log).unwrap_or_default();
    text.extend_from_slice(b"2024-09-04T10:00:01.0000000Z,Still building,0\r\n");
    std::fs::write(&log, text).unwrap();
    let before = tree(h.path());
    let e = apply_site(&plan, &site, &options, |_| {}).unwrap_err();
    assert_eq!(e.code(), "PRECONDITION_FAILED", "{e}");
    assert_eq!(tree(h.path()), before);

    // The same bytes written again: the ETag says it is another version.
    let h = HomeBuilder::new(Platform::Linux).unwrap();
    h.healthy(
        "8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b",
        t0() - TimeDelta::days(1),
    )
    .unwrap();
    h.active(b"8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b\n", t0())
        .unwrap();
    let emu = emulator(&h);
    let site = store(&emu);
    let plan = self::plan(&site, false);
    assert_eq!(plan.steps[0].action, Action::RepairActive, "{plan:#?}");
    assert!(plan.steps[0].precondition.as_ref().unwrap().etag.is_some());
    let active = h.full("site/deployments/active");
    std::fs::write(&active, std::fs::read(&active).unwrap()).unwrap();
    let before = tree(h.path());
    let e = apply_site(&plan, &site, &options, |_| {}).unwrap_err();
    assert_eq!(e.code(), "PRECONDITION_FAILED", "{e}");
    assert!(e.to_string().contains("ETag"), "{e}");
    assert_eq!(tree(h.path()), before);
}

/// The guards themselves, without apply's checks in front: a write of a version that is no longer
/// there is refused by the site (412 on both platforms, KuduLite's 409 for a delete).
#[test]
fn each_write_carries_the_etag_of_the_version_read() {
    for p in [Platform::Linux, Platform::Windows] {
        let h = HomeBuilder::new(p).unwrap();
        h.healthy("8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b", t0()).unwrap();
        h.file("site/deployments/x/status.xml", "old").unwrap();
        let emu = emulator(&h);
        let site = store(&emu);
        let place = RemotePlace::new(&site);
        let path = rel("site/deployments/x/status.xml");
        let read = place.store().read_head(&path, 1024).unwrap();
        h.file("site/deployments/x/status.xml", "someone else's")
            .unwrap();
        let e = place
            .write(&path, b"ours", None, read.etag.as_deref())
            .unwrap_err();
        assert_eq!(e.code(), "PRECONDITION_FAILED", "{p:?} {e}");
        let backup = tempfile::tempdir().unwrap();
        let e = place
            .move_out(&rel("site/deployments/x"), &backup.path().join("x"))
            .map(|()| "moved");
        // The move reads the file again (so its ETag is current) and succeeds.
        assert_eq!(e.unwrap(), "moved");
        assert!(!h.full("site/deployments/x").exists());
        // A create where something appeared is refused.
        h.file("site/deployments/y.txt", "here").unwrap();
        let e = place
            .create(&rel("site/deployments/y.txt"), b"ours", t0())
            .unwrap_err();
        assert_eq!(e.code(), "PRECONDITION_FAILED", "{p:?} {e}");
        assert_eq!(
            std::fs::read(h.full("site/deployments/y.txt")).unwrap(),
            b"here"
        );
    }
}

#[test]
fn a_held_windows_lock_is_reported_held_never_removed() {
    let h = HomeBuilder::new(Platform::Windows).unwrap();
    h.healthy("8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b", t0()).unwrap();
    h.windows_lock("Performing deployment", t0()).unwrap();
    let emu = emulator(&h);
    emu.hold(
        "site/locks/deployments.lock",
        kudu_emulator::DEFAULT_INSTANCE,
    );
    let site = store(&emu);
    let place = RemotePlace::new(&site);
    let backup = tempfile::tempdir().unwrap();
    let e = place
        .move_out(
            &rel("site/locks/deployments.lock"),
            &backup.path().join("deployments.lock"),
        )
        .unwrap_err();
    assert_eq!(e.code(), "HELD_OPEN", "{e}");
    assert!(e.to_string().contains("held open"), "{e}");
    assert!(h.full("site/locks/deployments.lock").exists());

    // A folder with a held file in it: nothing of it is lost; what was removed is put back.
    let id = "3f786850e387550fdab836ed7e6dc881de23001b";
    h.file(&format!("site/deployments/{id}/a.txt"), "a")
        .unwrap();
    h.file(&format!("site/deployments/{id}/manifest"), "m")
        .unwrap();
    let before = tree(h.path());
    emu.hold(
        &format!("site/deployments/{id}/manifest"),
        kudu_emulator::DEFAULT_INSTANCE,
    );
    let e = place
        .move_out(
            &rel(&format!("site/deployments/{id}")),
            &backup.path().join(id),
        )
        .unwrap_err();
    assert_eq!(e.code(), "HELD_OPEN", "{e}");
    assert_eq!(tree(h.path()), before);
}

#[test]
fn an_interrupted_apply_is_finished_by_the_next_and_undone() {
    const STUCK: &str = "3f786850e387550fdab836ed7e6dc881de23001b";
    // An expired lock, an orphaned record, a folder without status.xml (with a subfolder). Made
    // anew for each run: undo over VFS puts bytes back, not times.
    let home = || {
        let h = HomeBuilder::new(Platform::Linux).unwrap();
        h.healthy(
            "8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b",
            t0() - TimeDelta::days(1),
        )
        .unwrap();
        h.record(
            &status_doc(STUCK, Stage::Building, t0() - TimeDelta::hours(3)),
            true,
        )
        .unwrap();
        h.file("site/deployments/0a0a0a0a/manifest", "m\n").unwrap();
        h.file("site/deployments/0a0a0a0a/sub/x", "x\n").unwrap();
        for path in ["sub/x", "sub", "manifest", ""] {
            h.mtime(
                &format!("site/deployments/0a0a0a0a/{path}"),
                t0() - TimeDelta::hours(3),
            )
            .unwrap();
        }
        h.linux_lock(
            "Performing continuous deployment",
            t0() - TimeDelta::hours(2),
        )
        .unwrap();
        whole_seconds(h.path());
        let before = tree(h.path());
        let emu = emulator(&h);
        let site = store(&emu);
        let plan = self::plan(&site, true);
        assert_eq!(plan.steps.len(), 3, "{plan:#?}");
        (h, before, emu, site, plan)
    };

    // The connection dropped after the site made each kind of change (the answer is lost).
    for (method, prefix) in [
        (
            "DELETE",
            "/api/vfs/site/locks/deployment/info.lock".to_owned(),
        ),
        (
            "DELETE",
            "/api/vfs/site/deployments/0a0a0a0a/sub/x".to_owned(),
        ),
        (
            "PUT",
            format!("/api/vfs/site/deployments/{STUCK}/status.xml"),
        ),
        ("PUT", format!("/api/vfs/site/deployments/{STUCK}/log.log")),
    ] {
        let (h, before, emu, site, plan) = home();
        let (_dir, options) = backups();
        emu.inject(Fault::drop_mid_response().on(method, &prefix));
        let e = apply_site(&plan, &site, &options, |_| {}).unwrap_err();
        assert_eq!(e.code(), "NETWORK_ERROR", "{method} {prefix}: {e}");
        let report = apply_site(&plan, &site, &options, |_| {}).unwrap();
        assert!(report.resumed, "{method} {prefix}");
        assert_eq!(verdict_now(&emu), Verdict::Idle, "{method} {prefix}");
        undo_site(&report.backup.unwrap(), &site).unwrap();
        assert_eq!(tree(h.path()), before, "{method} {prefix}");
    }

    // Or undone right away, a folder half moved: what is left on the site is kept, the rest put back.
    let (h, before, emu, site, plan) = home();
    let (dir, options) = backups();
    emu.inject(Fault::drop_mid_response().on("DELETE", "/api/vfs/site/deployments/0a0a0a0a/sub/x"));
    apply_site(&plan, &site, &options, |_| {}).unwrap_err();
    assert!(!h.full("site/deployments/0a0a0a0a/sub/x").exists());
    let backup = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    let undone = undo_site(&backup, &site).unwrap();
    assert!(
        undone.restored.iter().any(|p| p.ends_with("0a0a0a0a")),
        "{undone:?}"
    );
    assert_eq!(tree(h.path()), before);

    // Killed after every journal write and change in turn.
    let mut k = 1;
    loop {
        let (h, before, emu, site, plan) = home();
        let (dir, options) = backups();
        let crashed = kudu_state::remote::apply_site_crashing_after(&plan, &site, &options, k);
        apply_site(&plan, &site, &options, |_| {}).unwrap();
        assert_eq!(verdict_now(&emu), Verdict::Idle, "killed after {k}");
        // One backup folder, whichever run finished the apply.
        let backup: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
        assert_eq!(backup.len(), 1, "killed after {k}: {backup:?}");
        undo_site(&backup[0], &site).unwrap();
        assert_eq!(tree(h.path()), before, "killed after {k}");
        if crashed.is_ok() {
            break;
        }
        k += 1;
    }
    assert!(k > 10, "only {k} points");
}

#[test]
fn a_plan_applies_only_to_its_own_site() {
    let h = HomeBuilder::new(Platform::Linux).unwrap();
    h.healthy("8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b", t0()).unwrap();
    h.linux_lock(
        "Performing continuous deployment",
        t0() - TimeDelta::hours(2),
    )
    .unwrap();
    let emu = emulator(&h);
    let other = emulator(&h);
    let plan = self::plan(&store(&emu), false);
    let (_dir, options) = backups();
    let e = apply_site(&plan, &store(&other), &options, |_| {}).unwrap_err();
    assert_eq!(e.code(), "HOME_MISMATCH", "{e}");
    // A plan made on the disk is refused on the site, and a site's plan on the disk.
    let (snapshot, d) = kudu_state::diagnose_home(h.path(), t0(), &HomeOptions::default()).unwrap();
    let local = kudu_state::plan(&snapshot, &d, PlanOptions::default()).unwrap();
    let e = apply_site(&local, &store(&emu), &options, |_| {}).unwrap_err();
    assert_eq!(e.code(), "HOME_MISMATCH", "{e}");
    let e = kudu_state::apply(&plan, &kudu_state::ApplyOptions::default()).unwrap_err();
    assert_eq!(e.code(), "HOME_MISMATCH", "{e}");
    assert!(
        other
            .requests()
            .iter()
            .all(|r| r.method != "PUT" && r.method != "DELETE")
    );
}

/// Windows: a lock Kudu holds for a stalled deployment is released by ending Kudu on the holder's
/// instance, and only with `allow_scm_restart`.
#[test]
fn kudu_is_restarted_on_the_holders_instance_only_when_asked() {
    let holder = format!("a1b2c3{}", "0".repeat(58));
    let h = HomeBuilder::new(Platform::Windows).unwrap();
    h.healthy(
        "8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b",
        t0() - TimeDelta::days(1),
    )
    .unwrap();
    h.windows_lock("Performing deployment", t0() - TimeDelta::hours(2))
        .unwrap();
    let emu = emulator_with(&h, |o| kudu_emulator::Options {
        instances: vec![holder.clone(), format!("ffffff{}", "0".repeat(58))],
        ..o
    });
    emu.hold("site/locks/deployments.lock", &holder);
    let pinned = crate::util::store_with(&emu, &crate::util::quick(), Some(&holder));
    let advice = plan(&pinned, false);
    let step = advice
        .steps
        .iter()
        .find(|s| s.action == Action::RestartScm)
        .unwrap_or_else(|| panic!("{advice:#?}"));
    assert!(step.is_advisory() && step.reason.contains("--allow-scm-restart"));

    let plan = plan_restarting(&pinned);
    let step = &plan.steps[0];
    assert_eq!(step.action, Action::RestartScm, "{plan:#?}");
    assert_eq!(
        step.ops,
        vec![Op::RestartKudu {
            instance: holder.clone(),
            lock: rel("site/locks/deployments.lock"),
            stalled: Vec::new(),
        }]
    );
    emu.clear_requests();
    let (_dir, options) = backups();
    // Applied through a store that is not pinned: the restart goes to the holder all the same.
    let report = apply_site(&plan, &store(&emu), &options, |_| {}).unwrap();
    assert!(emu.holds().is_empty(), "{:?}", emu.holds());
    let ends: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect();
    assert_eq!(ends.len(), 1, "{ends:?}");
    assert_eq!(ends[0].path, "/api/processes/0");
    assert_eq!(ends[0].affinity.as_deref(), Some(holder.as_str()));
    let undone = undo_site(&report.backup.unwrap(), &store(&emu)).unwrap();
    assert_eq!(undone.irreversible.len(), 1, "{undone:?}");

    // Linux has no such call: the option plans nothing there.
    let h = HomeBuilder::new(Platform::Linux).unwrap();
    h.healthy("8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b", t0()).unwrap();
    h.linux_lock(
        "Performing continuous deployment",
        t0() - TimeDelta::minutes(20),
    )
    .unwrap();
    let emu = emulator(&h);
    let plan = plan_restarting(&store(&emu));
    assert!(
        plan.steps
            .iter()
            .flat_map(|s| &s.ops)
            .all(|op| !matches!(op, Op::RestartKudu { .. })),
        "{plan:#?}"
    );
}

// What a second pair of eyes found: each test below failed before its fix.

const STUCK: &str = "3f786850e387550fdab836ed7e6dc881de23001b";

/// A record stuck in Building with nothing running it (with or without its `log.log`).
fn orphan(p: Platform, log: bool) -> HomeBuilder {
    let h = HomeBuilder::new(p).unwrap();
    h.healthy(
        "8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b",
        t0() - TimeDelta::days(1),
    )
    .unwrap();
    h.record(
        &status_doc(STUCK, Stage::Building, t0() - TimeDelta::hours(3)),
        true,
    )
    .unwrap();
    if !log {
        std::fs::remove_file(h.full(&format!("site/deployments/{STUCK}/log.log"))).unwrap();
    }
    h
}

/// A folder without status.xml, with a subfolder, under an orphaned record's site.
fn with_folder() -> HomeBuilder {
    let h = orphan(Platform::Linux, true);
    h.file("site/deployments/0a0a0a0a/manifest", "OLD-MANIFEST\n")
        .unwrap();
    h.file("site/deployments/0a0a0a0a/sub/x", "x\n").unwrap();
    for path in ["sub/x", "sub", "manifest", ""] {
        h.mtime(
            &format!("site/deployments/0a0a0a0a/{path}"),
            t0() - TimeDelta::hours(3),
        )
        .unwrap();
    }
    whole_seconds(h.path());
    h
}

/// Whether any file under `dir` contains `needle`.
fn holds_text(dir: &Path, needle: &str) -> bool {
    tree(dir)
        .values()
        .flatten()
        .any(|b| String::from_utf8_lossy(b).contains(needle))
}

fn only_backup(dir: &Path) -> std::path::PathBuf {
    let found: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found[0].clone()
}

/// Kudu writes while undo runs, after undo checked the files: undo replaces only the version it
/// checked, so Kudu's bytes stay on the site whatever the timing.
#[test]
fn undo_never_overwrites_what_kudu_wrote_after_the_check() {
    let h = orphan(Platform::Windows, true);
    let emu = emulator(&h);
    let site = store(&emu);
    let plan = self::plan(&site, false);
    let (_dir, options) = backups();
    let report = apply_site(&plan, &site, &options, |_| {}).unwrap();
    let status = h.full(&format!("site/deployments/{STUCK}/status.xml"));
    let log = h.full(&format!("site/deployments/{STUCK}/log.log"));
    // The first write of the undo waits; Kudu writes meanwhile.
    emu.inject(Fault::latency(std::time::Duration::from_millis(1500)).on("PUT", "/api/vfs/"));
    let undone = std::thread::scope(|s| {
        let emu = &emu;
        let (status, log) = (&status, &log);
        s.spawn(move || {
            let mut busy = 0;
            while busy < 30 {
                busy = if emu.in_flight() > 0 { busy + 1 } else { 0 };
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            std::fs::write(status, b"KUDU WROTE THIS").unwrap();
            let mut l = std::fs::read(log).unwrap();
            l.extend_from_slice(b"KUDU LINE\r\n");
            std::fs::write(log, l).unwrap();
        });
        undo_site(&report.backup.clone().unwrap(), &site)
    });
    assert_eq!(
        std::fs::read(&status).unwrap(),
        b"KUDU WROTE THIS",
        "{undone:?}"
    );
    assert!(holds_text(
        h.full(&format!("site/deployments/{STUCK}")).as_path(),
        "KUDU LINE"
    ));
    assert_eq!(undone.unwrap_err().code(), "UNDO_CONFLICT");
}

/// A folder move whose answer was lost, resumed after a new file appeared where a removed one was:
/// the copy of the removed version is never replaced.
#[test]
fn a_resumed_move_keeps_the_copy_of_what_it_removed() {
    let h = with_folder();
    let emu = emulator(&h);
    let site = store(&emu);
    let plan = self::plan(&site, true);
    let (dir, options) = backups();
    emu.inject(
        Fault::drop_mid_response().on("DELETE", "/api/vfs/site/deployments/0a0a0a0a/manifest"),
    );
    apply_site(&plan, &site, &options, |_| {}).unwrap_err();
    assert!(!h.full("site/deployments/0a0a0a0a/manifest").exists());
    h.file("site/deployments/0a0a0a0a/manifest", "NEW\n")
        .unwrap();
    let e = apply_site(&plan, &site, &options, |_| {}).unwrap_err();
    assert_eq!(e.code(), "PRECONDITION_FAILED", "{e}");
    assert!(holds_text(dir.path(), "OLD-MANIFEST"));
    assert_eq!(
        std::fs::read(h.full("site/deployments/0a0a0a0a/manifest")).unwrap(),
        b"NEW\n"
    );
}

/// A file written in the middle of a folder move: the move stops, what it removed is put back and
/// its copy dropped, so a rerun checks the folder against the plan again and undo has nothing to do.
#[test]
fn a_folder_changed_during_its_move_is_left_whole() {
    for rerun in [true, false] {
        let h = with_folder();
        let emu = emulator(&h);
        let site = store(&emu);
        let plan = self::plan(&site, true);
        let (dir, options) = backups();
        emu.inject(
            Fault::latency(std::time::Duration::from_secs(1))
                .on("DELETE", "/api/vfs/site/deployments/0a0a0a0a/manifest"),
        );
        let x = h.full("site/deployments/0a0a0a0a/sub/x");
        let e = std::thread::scope(|s| {
            let (emu, x) = (&emu, &x);
            s.spawn(move || {
                while !emu
                    .requests()
                    .iter()
                    .any(|r| r.method == "GET" && r.path.ends_with("0a0a0a0a/sub/x"))
                {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                std::fs::write(x, b"x\nKUDU WROTE MORE\n").unwrap();
            });
            apply_site(&plan, &site, &options, |_| {}).unwrap_err()
        });
        assert_eq!(e.code(), "PRECONDITION_FAILED", "{e}");
        assert!(e.to_string().contains("put back"), "{e}");
        assert_eq!(
            std::fs::read(h.full("site/deployments/0a0a0a0a/manifest")).unwrap(),
            b"OLD-MANIFEST\n"
        );
        assert_eq!(std::fs::read(&x).unwrap(), b"x\nKUDU WROTE MORE\n");
        if rerun {
            let e = apply_site(&plan, &site, &options, |_| {}).unwrap_err();
            assert_eq!(e.code(), "PRECONDITION_FAILED", "{e}");
            assert!(h.full("site/deployments/0a0a0a0a/sub/x").exists());
        } else {
            undo_site(&only_backup(dir.path()), &site).unwrap();
            assert_eq!(std::fs::read(&x).unwrap(), b"x\nKUDU WROTE MORE\n");
        }
    }
}

fn held_for_restart() -> (HomeBuilder, Emulator, String, Plan) {
    let holder = format!("a1b2c3{}", "0".repeat(58));
    let h = HomeBuilder::new(Platform::Windows).unwrap();
    h.healthy(
        "8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b",
        t0() - TimeDelta::days(1),
    )
    .unwrap();
    h.windows_lock("Performing deployment", t0() - TimeDelta::hours(2))
        .unwrap();
    let emu = emulator_with(&h, |o| kudu_emulator::Options {
        instances: vec![holder.clone(), format!("ffffff{}", "0".repeat(58))],
        ..o
    });
    emu.hold("site/locks/deployments.lock", &holder);
    let pinned = crate::util::store_with(&emu, &crate::util::quick(), Some(&holder));
    let plan = plan_restarting(&pinned);
    (h, emu, holder, plan)
}

/// The restart is proven: a front end that never passed it on (503) leaves the lock held, and the
/// step fails instead of reporting Kudu ended.
#[test]
fn a_restart_that_did_not_happen_is_not_reported_done() {
    let (_h, emu, _holder, plan) = held_for_restart();
    let (_dir, options) = backups();
    emu.inject(
        Fault::status(503)
            .on("DELETE", "/api/processes/0")
            .forever(),
    );
    let e = apply_site(&plan, &store(&emu), &options, |_| {}).unwrap_err();
    assert_eq!(e.code(), "HELD_OPEN", "{e}");
    assert_eq!(emu.holds().len(), 1);
}

/// Killed after Kudu was ended; a new deployment then took the lock: the resumed apply does not end
/// Kudu again.
#[test]
fn a_resumed_restart_never_ends_kudu_twice() {
    for k in 1..12 {
        let (h, emu, holder, plan) = held_for_restart();
        let (_dir, options) = backups();
        let crashed =
            kudu_state::remote::apply_site_crashing_after(&plan, &store(&emu), &options, k);
        let ends = |emu: &Emulator| {
            emu.requests()
                .iter()
                .filter(|r| r.method == "DELETE" && r.status.is_some_and(|s| s < 300))
                .count()
        };
        if crashed.is_ok() {
            assert!(k > 2);
            return;
        }
        if ends(&emu) == 1 {
            h.windows_lock("Performing deployment", Utc::now()).unwrap();
            emu.hold("site/locks/deployments.lock", &holder);
            let rerun = apply_site(&plan, &store(&emu), &options, |_| {});
            assert!(rerun.is_ok(), "killed after {k}: {rerun:?} {plan:#?}");
            assert_eq!(ends(&emu), 1, "killed after {k}: Kudu ended twice");
            assert_eq!(emu.holds().len(), 1);
        }
    }
    panic!("the apply never finished");
}

/// Killed before the log was rewritten; Kudu then appended a line: the resumed apply stops rather
/// than cut Kudu's line off.
#[test]
fn a_resumed_append_never_cuts_what_kudu_appended() {
    for p in [Platform::Linux, Platform::Windows] {
        let mut tested = false;
        for k in 1..12 {
            let h = orphan(p, true);
            let emu = emulator(&h);
            let site = store(&emu);
            let plan = self::plan(&site, false);
            let (_dir, options) = backups();
            let crashed = kudu_state::remote::apply_site_crashing_after(&plan, &site, &options, k);
            if crashed.is_ok() || emu.requests().iter().any(|r| r.method == "PUT") {
                break;
            }
            let log = h.full(&format!("site/deployments/{STUCK}/log.log"));
            let before_kudu = std::fs::read(&log).unwrap();
            let mut l = before_kudu.clone();
            l.extend_from_slice(b"KUDU\n");
            std::fs::write(&log, &l).unwrap();
            let rerun = apply_site(&plan, &site, &options, |_| {});
            assert!(
                std::fs::read(&log)
                    .unwrap()
                    .windows(5)
                    .any(|w| w == b"KUDU\n"),
                "{p:?} killed after {k}: {rerun:?}"
            );
            tested = true;
        }
        assert!(tested, "{p:?}: no kill point before the first write");
    }
}

/// A create whose body broke off left a prefix of the log on the site: the resumed apply completes
/// it (its ETag guards the rewrite).
#[test]
fn a_create_cut_short_is_completed_by_the_next_apply() {
    let h = orphan(Platform::Linux, false);
    let emu = emulator(&h);
    let site = store(&emu);
    let plan = self::plan(&site, false);
    let content = plan
        .steps
        .iter()
        .flat_map(|s| &s.ops)
        .find_map(|o| match o {
            Op::Create { content, .. } => Some(content.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("the log is created: {plan:#?}"));
    let log = h.full(&format!("site/deployments/{STUCK}/log.log"));
    let (_dir, options) = backups();
    let mut k = 1;
    while !log.exists() || std::fs::read(&log).unwrap() != content.as_bytes() {
        let crashed = kudu_state::remote::apply_site_crashing_after(&plan, &site, &options, k);
        assert!(crashed.is_err(), "finished before the create");
        k += 1;
    }
    // Cut short: as if the PUT's body broke off halfway.
    std::fs::write(&log, &content.as_bytes()[..10]).unwrap();
    let report = apply_site(&plan, &site, &options, |_| {}).unwrap();
    assert!(report.resumed);
    assert_eq!(std::fs::read(&log).unwrap(), content.as_bytes());
}

/// A Windows site whose deployment `STUCK` has stalled under `deployments.lock`, which `holder`'s
/// Kudu holds open; with `folder`, also a folder without status.xml. The plan restarts Kudu.
fn stalled_under_held_lock(holder: &str, folder: bool) -> (HomeBuilder, Emulator, Plan) {
    let h = orphan(Platform::Windows, true);
    h.windows_lock("Performing deployment", t0() - TimeDelta::hours(2))
        .unwrap();
    if folder {
        h.file("site/deployments/0a0a0a0a/manifest", "OLD-MANIFEST\n")
            .unwrap();
        h.mtime("site/deployments/0a0a0a0a", t0() - TimeDelta::hours(3))
            .unwrap();
    }
    let emu = emulator_with(&h, |o| kudu_emulator::Options {
        instances: vec![holder.to_owned()],
        ..o
    });
    emu.hold("site/locks/deployments.lock", holder);
    let pinned = crate::util::store_with(&emu, &crate::util::quick(), Some(holder));
    let plan = plan_restarting(&pinned);
    let guarded: Vec<_> = plan
        .steps
        .iter()
        .flat_map(|s| &s.ops)
        .filter_map(|op| match op {
            Op::RestartKudu { stalled, .. } => Some(stalled),
            _ => None,
        })
        .flatten()
        .map(|g| g.path.as_str().to_owned())
        .collect();
    assert_eq!(
        guarded,
        vec![format!("site/deployments/{STUCK}")],
        "{plan:#?}"
    );
    (h, emu, plan)
}

/// The deployment `STUCK` writes its next log line.
fn resume(h: &HomeBuilder) {
    let log = format!("site/deployments/{STUCK}/log.log");
    let mut text = std::fs::read_to_string(h.full(&log)).unwrap();
    text.push_str("2026-12-02T08:00:00.0000000Z,Fetching changes.,0\n");
    h.file(&log, text).unwrap();
}

/// Approved after the stalled deployment moved again (its log grew): Kudu is never ended, whether
/// the apply is fresh or resumes one killed before the restart was sent; a fresh apply changes
/// nothing at all. Killed after the restart was sent, the record Kudu then fails is no reason to
/// stop, and Kudu is not ended twice.
#[test]
fn kudu_is_not_ended_for_a_deployment_that_resumed_after_the_plan() {
    let holder = format!("a1b2c3{}", "0".repeat(58));
    let ends = |emu: &Emulator| {
        emu.requests()
            .iter()
            .filter(|r| r.method == "DELETE" && r.status.is_some_and(|s| s < 300))
            .count()
    };

    let (h, emu, plan) = stalled_under_held_lock(&holder, true);
    assert!(
        plan.steps
            .iter()
            .any(|s| s.action == Action::RemoveFolderWithoutStatus),
        "{plan:#?}"
    );
    resume(&h);
    emu.clear_requests();
    let (_dir, options) = backups();
    let e = apply_site(&plan, &store(&emu), &options, |_| {}).unwrap_err();
    assert_eq!(e.code(), "PRECONDITION_FAILED", "{e}");
    assert!(e.to_string().contains(STUCK), "{e}");
    assert!(
        emu.requests()
            .iter()
            .all(|r| r.method == "GET" || r.method == "HEAD"),
        "{:?}",
        emu.requests()
    );
    assert!(h.full("site/deployments/0a0a0a0a/manifest").exists());

    let status = format!("site/deployments/{STUCK}/status.xml");
    for k in 1..12 {
        let (h, emu, plan) = stalled_under_held_lock(&holder, false);
        let (_dir, options) = backups();
        let crashed =
            kudu_state::remote::apply_site_crashing_after(&plan, &store(&emu), &options, k);
        if crashed.is_ok() {
            assert!(k > 2, "killed after {k}");
            return;
        }
        if ends(&emu) == 0 {
            resume(&h);
            let e = apply_site(&plan, &store(&emu), &options, |_| {}).unwrap_err();
            assert_eq!(e.code(), "PRECONDITION_FAILED", "killed after {k}: {e}");
            assert!(e.to_string().contains(STUCK), "{e}");
            assert_eq!(ends(&emu), 0, "killed after {k}: Kudu ended");
            assert_eq!(emu.holds().len(), 1);
        } else {
            // Kudu, restarted, fails the record at its next read.
            let failed = std::fs::read_to_string(h.full(&status))
                .unwrap()
                .replace("<status>Building</status>", "<status>Failed</status>");
            assert!(failed.contains("<status>Failed</status>"), "{failed}");
            h.file(&status, failed).unwrap();
            let rerun = apply_site(&plan, &store(&emu), &options, |_| {});
            assert!(rerun.is_ok(), "killed after {k}: {rerun:?}");
            assert_eq!(ends(&emu), 1, "killed after {k}: Kudu ended twice");
        }
    }
    panic!("the apply never finished");
}

/// With `--app`, the instance that holds a Windows lock is found through ARM's list of instances
/// (its name starts with the lock's `InstanceId`) when another instance answers first: the hold is
/// proven there and the restart goes there. Without ARM, or pinned to another instance, nothing is
/// proven and nothing is restarted (the plan says why).
#[test]
fn the_holder_is_found_through_arm_when_another_instance_answers() {
    const TOKEN: &str = "SECRET-arm-token-for-holder";
    let holder = format!("a1b2c3{}", "0".repeat(58));
    let other = format!("ffffff{}", "0".repeat(58));
    let h = HomeBuilder::new(Platform::Windows).unwrap();
    h.healthy(
        "8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b",
        t0() - TimeDelta::days(1),
    )
    .unwrap();
    h.windows_lock("Performing deployment", t0() - TimeDelta::hours(2))
        .unwrap();
    let emu = emulator_with(&h, |o| kudu_emulator::Options {
        instances: vec![other.clone(), holder.clone()],
        auth: kudu_emulator::Auth::bearer(TOKEN),
        azure: kudu_emulator::AzureOptions {
            access_token: TOKEN.to_owned(),
            ..kudu_emulator::AzureOptions::default()
        },
        ..o
    });
    emu.hold("site/locks/deployments.lock", &holder);
    let az = kudu_emulator::AzureOptions::default();
    let by_app = |instance: Option<&str>| {
        kudu_state::remote::connect(
            &kudu_state::remote::ConnectOptions {
                app: Some(az.app.clone()),
                resource_group: Some(az.resource_group.clone()),
                subscription: Some(az.subscription.clone()),
                arm_endpoint: Some(emu.url()),
                instance: instance.map(str::to_owned),
                http: crate::util::quick(),
                ..kudu_state::remote::ConnectOptions::default()
            },
            &kudu_state::remote::Env::from_vars([("KUDU_STATE_TOKEN", TOKEN)]),
        )
        .unwrap()
    };
    let restarts = |plan: &Plan| {
        plan.steps
            .iter()
            .flat_map(|s| &s.ops)
            .filter_map(|op| match op {
                Op::RestartKudu { instance, .. } => Some(instance.clone()),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    // By URL (no ARM), and by name but pinned to the other instance: no proof, advice only.
    let by_url = RemoteStore::new(
        &kudu_state::remote::HttpClient::new(
            &crate::util::quick(),
            &kudu_state::remote::Env::default(),
        )
        .unwrap(),
        kudu_state::remote::SiteUrl::parse(&emu.url()).unwrap(),
        kudu_state::remote::Credentials::bearer(
            kudu_state::remote::Secret::new(TOKEN),
            kudu_state::remote::CredentialSource::Token,
        ),
        None,
    );
    for store in [by_url, by_app(Some(&other))] {
        let plan = plan_restarting(&store);
        assert!(restarts(&plan).is_empty(), "{plan:#?}");
        assert!(
            plan.notes
                .iter()
                .any(|n| n.contains("no deployments.lock proven held")),
            "{plan:#?}"
        );
    }
    // By name: ARM names the holder, which proves the hold; the restart is pinned to it.
    let plan = plan_restarting(&by_app(None));
    assert_eq!(restarts(&plan), vec![holder.clone()], "{plan:#?}");
    emu.clear_requests();
    let (_dir, options) = backups();
    apply_site(&plan, &by_app(None), &options, |_| {}).unwrap();
    assert!(emu.holds().is_empty(), "{:?}", emu.holds());
    let ends: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect();
    assert_eq!(ends.len(), 1, "{ends:?}");
    assert_eq!(ends[0].affinity.as_deref(), Some(holder.as_str()));
}

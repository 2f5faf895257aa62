//! Listings, metadata, reads and tails on both platforms; ETags; the scan through the remote
//! store; the exact requests of a diagnosis-sized read.

use std::collections::BTreeSet;
use std::io::ErrorKind;

use chrono::TimeDelta;
use kudu_state::fixture::{HomeBuilder, Stage, status_doc};
use kudu_state::remote::HttpOptions;
use kudu_state::scan::scan_store;
use kudu_state::snapshot::Given;
use kudu_state::store::{EntryKind, LocalStore, Store};
use kudu_state::{DiagnoseOptions, Platform, ScanOptions};

use crate::util::*;

const OLD: &str = "8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b";
const NEW: &str = "3f786850e387550fdab836ed7e6dc881de23001b";

/// A home mid-deployment: a healthy record, one building, and the platform's deployment lock.
fn busy_home(platform: Platform) -> HomeBuilder {
    let h = HomeBuilder::new(platform).unwrap();
    h.healthy(OLD, t0() - TimeDelta::days(1)).unwrap();
    h.record(
        &status_doc(NEW, Stage::Building, t0() - TimeDelta::minutes(3)),
        false,
    )
    .unwrap();
    match platform {
        Platform::Windows => h.windows_lock("Performing deployment", t0() - TimeDelta::minutes(3)),
        Platform::Linux => h.linux_lock("Performing deployment", t0() - TimeDelta::minutes(3)),
    }
    .unwrap();
    h
}

/// A log of `n` numbered lines (so any tail is recognisable).
fn numbered(n: usize) -> String {
    (0..n).map(|i| format!("line {i:06}\n")).collect()
}

#[test]
fn listings_give_kind_size_and_mtime_and_a_listed_meta_costs_no_request() {
    for platform in [Platform::Windows, Platform::Linux] {
        let home = busy_home(platform);
        let emu = emulator(&home);
        let store = store(&emu);
        let entries = store.list(&rel("site/deployments")).unwrap();
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, [NEW, OLD, "active", "pending"], "{platform}");
        assert_eq!(entries[0].kind, EntryKind::Dir);
        assert_eq!(entries[2].kind, EntryKind::File);
        let before = store.requests_made();
        let active = store
            .meta(&rel("site/deployments/active"))
            .unwrap()
            .unwrap();
        let local = LocalStore::new(home.path())
            .meta(&rel("site/deployments/active"))
            .unwrap()
            .unwrap();
        assert_eq!(active, local, "{platform}: the listing's size and mtime");
        let folder = store
            .meta(&rel(&format!("site/deployments/{OLD}")))
            .unwrap()
            .unwrap();
        assert_eq!(folder.kind, EntryKind::Dir);
        assert_eq!(
            store.requests_made(),
            before,
            "no request for listed entries"
        );
        assert_eq!(store.platform(), Some(platform));
    }
}

#[test]
fn meta_of_unlisted_paths_is_one_head_and_missing_is_none() {
    for platform in [Platform::Windows, Platform::Linux] {
        let home = busy_home(platform);
        let emu = emulator(&home);
        let store = store(&emu);
        let path = rel(&format!("site/deployments/{OLD}/status.xml"));
        let meta = store.meta(&path).unwrap().unwrap();
        let local = LocalStore::new(home.path()).meta(&path).unwrap().unwrap();
        assert_eq!(
            meta, local,
            "{platform}: size from Content-Length, mtime from the ETag"
        );
        assert!(store.etag(&path).is_some());
        let log = emu.requests();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].method, "HEAD");
        assert_eq!(store.meta(&rel("site/deployments/nope")).unwrap(), None);
        // A folder not listed: HEAD says folder (307), its parent's listing gives its mtime.
        let dir = store.meta(&rel("site/locks")).unwrap().unwrap();
        assert_eq!(dir.kind, EntryKind::Dir);
        assert!(dir.modified.is_some());
    }
}

#[test]
fn windows_reads_send_a_range_and_get_only_those_bytes() {
    let home = busy_home(Platform::Windows);
    home.file("site/deployments/big/log.log", numbered(20_000))
        .unwrap();
    let emu = emulator(&home);
    let store = store(&emu);
    let path = rel("site/deployments/big/log.log");
    let full = std::fs::read(home.full("site/deployments/big/log.log")).unwrap();
    let tail = store.read_tail(&path, 1000).unwrap();
    assert_eq!(tail.data, &full[full.len() - 1000..]);
    assert_eq!(tail.offset, full.len() as u64 - 1000);
    assert_eq!(tail.meta.size, full.len() as u64);
    assert!(tail.is_partial());
    let head = store.read_head(&path, 100).unwrap();
    assert_eq!(head.data, &full[..100]);
    assert_eq!((head.offset, head.meta.size), (0, full.len() as u64));
    let log = emu.requests();
    assert_eq!(log[0].range.as_deref(), Some("bytes=-1000"));
    assert_eq!(log[0].status, Some(206));
    assert_eq!(log[1].range.as_deref(), Some("bytes=0-99"));
    assert_eq!(log[1].status, Some(206));
    // A small file: the whole of it, offset 0.
    let active = store
        .read_tail(&rel("site/deployments/active"), 1000)
        .unwrap();
    assert_eq!(active.data, OLD.as_bytes());
    assert!(!active.is_partial());
}

#[test]
fn linux_ignores_the_range_so_the_whole_body_is_streamed_for_its_tail() {
    let home = busy_home(Platform::Linux);
    home.file("site/deployments/big/log.log", numbered(50_000))
        .unwrap();
    let emu = emulator(&home);
    let store = store(&emu);
    let path = rel("site/deployments/big/log.log");
    let full = std::fs::read(home.full("site/deployments/big/log.log")).unwrap();
    let tail = store.read_tail(&path, 1000).unwrap();
    assert_eq!(tail.data, &full[full.len() - 1000..]);
    assert_eq!(tail.offset, full.len() as u64 - 1000);
    assert_eq!(tail.meta.size, full.len() as u64);
    let head = store.read_head(&path, 100).unwrap();
    assert_eq!(head.data, &full[..100]);
    assert_eq!(
        head.meta.size,
        full.len() as u64,
        "counted through the gzip body"
    );
    let log = emu.requests();
    assert_eq!(log[0].status, Some(200), "KuduLite answers the whole file");
    assert!(
        log[0]
            .accept_encoding
            .as_deref()
            .is_some_and(|a| a.contains("gzip"))
    );
    let stats = store.stats();
    assert!(
        stats.bytes_received >= 2 * full.len() as u64 - 1,
        "{stats:?}"
    );
}

#[test]
fn a_linux_tail_over_the_hard_cap_is_refused_not_buffered() {
    let home = busy_home(Platform::Linux);
    home.file("site/deployments/big/log.log", numbered(50_000))
        .unwrap();
    let emu = emulator(&home);
    let options = HttpOptions {
        max_body_bytes: 64 * 1024,
        ..quick()
    };
    let store = store_with(&emu, &options, None);
    let e = store
        .read_tail(&rel("site/deployments/big/log.log"), 1000)
        .unwrap_err();
    assert_eq!(e.code(), "BODY_TOO_LARGE", "{e}");
    assert!(
        e.url()
            .unwrap()
            .ends_with("/api/vfs/site/deployments/big/log.log")
    );
}

#[test]
fn empty_missing_and_wrong_kind() {
    for platform in [Platform::Windows, Platform::Linux] {
        let home = busy_home(platform);
        let emu = emulator(&home);
        let store = store(&emu);
        for read in [Store::read_head, Store::read_tail] {
            let pending = read(&store, &rel("site/deployments/pending"), 100).unwrap();
            assert!(
                pending.data.is_empty() && pending.meta.size == 0,
                "{platform}"
            );
            let e = read(&store, &rel("site/deployments/none"), 100).unwrap_err();
            assert_eq!(
                e.io_error().map(std::io::Error::kind),
                Some(ErrorKind::NotFound)
            );
            let e = read(&store, &rel("site/deployments"), 100).unwrap_err();
            assert_eq!(
                e.io_error().map(std::io::Error::kind),
                Some(ErrorKind::InvalidInput),
                "{platform}: {e}"
            );
        }
        let e = store.list(&rel("site/deployments/active")).unwrap_err();
        assert_eq!(
            e.io_error().map(std::io::Error::kind),
            Some(ErrorKind::InvalidInput)
        );
        let e = store.list(&rel("site/nothing")).unwrap_err();
        assert_eq!(
            e.io_error().map(std::io::Error::kind),
            Some(ErrorKind::NotFound)
        );
    }
}

#[test]
fn every_read_keeps_the_files_etag() {
    for platform in [Platform::Windows, Platform::Linux] {
        let home = busy_home(platform);
        let emu = emulator(&home);
        let store = store(&emu);
        let path = rel("site/deployments/active");
        let first = store.read_head(&path, 100).unwrap();
        let etag = first.etag.clone().unwrap();
        assert!(etag.starts_with('"') && etag.len() == 18, "{etag}");
        assert_eq!(store.etag(&path).as_deref(), Some(etag.as_str()));
        // The ETag is the mtime in ticks: it gives the exact mtime the fixture set.
        assert_eq!(
            first.meta.modified,
            Some(t0() - TimeDelta::days(1) + TimeDelta::seconds(96))
        );
        home.file("site/deployments/active", NEW).unwrap();
        home.mtime("site/deployments/active", t0()).unwrap();
        let second = store.read_tail(&path, 100).unwrap();
        assert_ne!(second.etag.as_deref(), Some(etag.as_str()), "{platform}");
        assert_eq!(store.etag(&path), second.etag);
        assert_eq!(second.data, NEW.as_bytes());
    }
}

#[test]
fn the_scan_and_diagnosis_through_the_remote_store_are_the_local_ones() {
    for platform in [Platform::Windows, Platform::Linux] {
        let home = busy_home(platform);
        let emu = emulator(&home);
        let store = store(&emu);
        let options = ScanOptions::default();
        let local = scan_store(
            &LocalStore::new(home.path()),
            home.path().to_path_buf(),
            Given::Home,
            &options,
        )
        .unwrap();
        let remote = scan_store(&store, home.path().to_path_buf(), Given::Home, &options).unwrap();
        let now = t0();
        let d_local = kudu_state::diagnose(&local, now, DiagnoseOptions::default());
        let d_remote = kudu_state::diagnose(&remote, now, DiagnoseOptions::default());
        assert_eq!(d_remote, d_local, "{platform}");
        assert_eq!(remote.platform(), platform);
    }
}

#[test]
fn a_diagnosis_sized_read_makes_exactly_these_requests() {
    for platform in [Platform::Windows, Platform::Linux] {
        let home = busy_home(platform);
        let emu = emulator(&home);
        let store = store(&emu);
        scan_store(
            &store,
            home.path().to_path_buf(),
            Given::Home,
            &ScanOptions::default(),
        )
        .unwrap();
        let made: BTreeSet<(String, String)> = emu
            .requests()
            .into_iter()
            .map(|r| (r.method, r.path))
            .collect();
        let get = |p: &str| ("GET".to_owned(), format!("/api/vfs/{p}"));
        let mut expected: BTreeSet<(String, String)> = [
            get("site/"),
            get("site/locks/"),
            get("site/deployments/"),
            get("site/deployments/active"),
            get(&format!("site/deployments/{OLD}/status.xml")),
            get(&format!("site/deployments/{NEW}/status.xml")),
            get(&format!("site/deployments/{NEW}/")),
            get(&format!("site/deployments/{NEW}/log.log")),
        ]
        .into_iter()
        .collect();
        match platform {
            Platform::Windows => {
                expected.insert(get("site/locks/deployments.lock"));
                // Kudu's open handles prove whether it holds the lock (read-only).
                expected.insert(("GET".to_owned(), "/api/processes/0".to_owned()));
                expected.insert(get(&format!("site/deployments/{NEW}/status_complete.xml")));
                expected.insert(get(&format!("site/deployments/{OLD}/status_complete.xml")));
            }
            Platform::Linux => {
                expected.insert(get("site/locks/deployment/"));
                expected.insert(get("site/locks/deployment/info.lock"));
                for idle in ["status.lock", "hooks.lock", "sshkey.lock"] {
                    expected.insert(get(&format!("site/locks/{idle}")));
                }
            }
        }
        assert_eq!(made, expected, "{platform}");
        assert!(
            made.iter().all(|(m, p)| (m == "GET" || m == "HEAD")
                && (p.starts_with("/api/vfs/") || p == "/api/processes/0")),
            "read-only: {made:?}"
        );
    }
}

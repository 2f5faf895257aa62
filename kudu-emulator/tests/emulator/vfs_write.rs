//! VFS writes: PUT and DELETE with each platform's If-Match rules, directories.

use std::time::{SystemTime, UNIX_EPOCH};

use kudu_emulator::{Options, Platform, UNIX_EPOCH_TICKS};

use crate::util::{Client, Home, start};

const MISSING: &str =
    "Updating an existing resource requires an If-Match header carrying a single, strong ETag.";
const MISMATCH: &str = "ETag does not represent the latest state of the resource.";
const NOT_A_FILE: &str = "The resource represents a directory which can not be updated.";
const NOT_EMPTY: &str = "Cannot delete directory. It is either not empty or access is not allowed.";

/// The ETag Kudu computes for a file time, computed here from the definition.
fn etag_of(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap();
    let ticks = UNIX_EPOCH_TICKS
        + since.as_secs() as i64 * 10_000_000
        + i64::from(since.subsec_nanos() / 100);
    let hex: String = ticks
        .to_le_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("\"{hex}\"")
}

fn disk_etag(home: &Home, rel: &str) -> String {
    etag_of(
        std::fs::metadata(home.join(rel))
            .unwrap()
            .modified()
            .unwrap(),
    )
}

/// The message of an error body: `Message` of Web API JSON, or the plain text.
fn message(platform: Platform, resp: &crate::util::Resp) -> String {
    match platform {
        Platform::Windows => resp.json()["Message"].as_str().unwrap().to_owned(),
        Platform::Linux => resp.text(),
    }
}

#[test]
fn put_creates_files_and_parents_then_requires_if_match() {
    for platform in [Platform::Windows, Platform::Linux] {
        let home = Home::new();
        let emulator = start(&home, Options::new(platform));
        let client = Client::new(&emulator.url());
        let path = "/api/vfs/site/new/deep/file.txt";

        let created = client.put(path, &[], b"one");
        assert_eq!(created.status, 201, "{platform:?}");
        assert_eq!(home.read("site/new/deep/file.txt").unwrap(), b"one");
        let etag = disk_etag(&home, "site/new/deep/file.txt");
        assert_eq!(created.header("etag"), Some(etag.as_str()));

        // No If-Match on an existing file. Windows: Web API's If-Match collection is never
        // null, so Kudu answers with the mismatch text and the current ETag.
        let missing = client.put(path, &[], b"two");
        assert_eq!(missing.status, 412, "{platform:?}");
        match platform {
            Platform::Windows => {
                assert_eq!(message(platform, &missing), MISMATCH);
                assert_eq!(missing.header("etag"), Some(etag.as_str()));
            }
            Platform::Linux => {
                assert_eq!(message(platform, &missing), MISSING);
                assert_eq!(missing.header("etag"), None);
            }
        }
        let wrong = client.put(path, &[("If-Match", "\"0000000000000000\"")], b"two");
        assert_eq!(wrong.status, 412);
        assert_eq!(message(platform, &wrong), MISMATCH);
        assert_eq!(wrong.header("etag"), Some(etag.as_str()));
        assert_eq!(home.read("site/new/deep/file.txt").unwrap(), b"one");

        let updated = client.put(path, &[("If-Match", &etag)], b"two");
        assert_eq!(updated.status, 204, "{platform:?}");
        assert_eq!(home.read("site/new/deep/file.txt").unwrap(), b"two");
        let new_etag = disk_etag(&home, "site/new/deep/file.txt");
        assert_eq!(updated.header("etag"), Some(new_etag.as_str()));

        let star = client.put(path, &[("If-Match", "*")], b"three");
        assert_eq!(star.status, 204);
        assert_eq!(home.read("site/new/deep/file.txt").unwrap(), b"three");
        // No temporary file is left behind or listed.
        let listing = client.get("/api/vfs/site/new/deep/").json();
        assert_eq!(listing.as_array().unwrap().len(), 1);
        assert_eq!(
            std::fs::read_dir(home.join("site/new/deep"))
                .unwrap()
                .count(),
            1
        );
    }
}

#[test]
fn linux_put_compares_weakly_windows_strongly() {
    for (platform, status) in [(Platform::Windows, 412), (Platform::Linux, 204)] {
        let home = Home::new();
        home.write("site/f.txt", "x");
        let weak = format!("W/{}", disk_etag(&home, "site/f.txt"));
        let emulator = start(&home, Options::new(platform));
        let resp =
            Client::new(&emulator.url()).put("/api/vfs/site/f.txt", &[("If-Match", &weak)], b"y");
        assert_eq!(resp.status, status, "{platform:?}");
    }
}

#[test]
fn put_to_a_directory_url_creates_it_once() {
    for platform in [Platform::Windows, Platform::Linux] {
        let home = Home::new();
        home.write("site/file.txt", "x");
        let emulator = start(&home, Options::new(platform));
        let client = Client::new(&emulator.url());
        assert_eq!(client.put("/api/vfs/site/a/b/", &[], b"").status, 201);
        assert!(home.join("site/a/b").is_dir());
        let again = client.put("/api/vfs/site/a/b/", &[], b"");
        assert_eq!(again.status, 409);
        assert_eq!(message(platform, &again), NOT_A_FILE);
        // An existing directory named without the slash cannot be written as a file either.
        let as_file = client.put("/api/vfs/site/a", &[("If-Match", "*")], b"x");
        assert_eq!(as_file.status, 409);
        assert_eq!(message(platform, &as_file), NOT_A_FILE);
        // Kudu's DirectoryInfo.Create over an existing file fails with the delete text.
        let over_file = client.put("/api/vfs/site/file.txt/", &[], b"");
        assert_eq!(over_file.status, 409);
        assert_eq!(message(platform, &over_file), NOT_EMPTY);
        assert_eq!(home.read("site/file.txt").unwrap(), b"x");
    }
}

#[test]
fn delete_file_if_match_rules_per_platform() {
    // (platform, status without If-Match, its text, status with a wrong one)
    for (platform, missing_status, missing_text, wrong_status) in [
        (Platform::Windows, 412, MISMATCH, 412),
        (Platform::Linux, 412, MISSING, 409),
    ] {
        let home = Home::new();
        home.write("site/deployments/active", "abc");
        let etag = disk_etag(&home, "site/deployments/active");
        let emulator = start(&home, Options::new(platform));
        let client = Client::new(&emulator.url());
        let path = "/api/vfs/site/deployments/active";

        let missing = client.delete(path, &[]);
        assert_eq!(missing.status, missing_status, "{platform:?}");
        assert_eq!(message(platform, &missing), missing_text);
        let expected_etag = (platform == Platform::Windows).then_some(etag.as_str());
        assert_eq!(missing.header("etag"), expected_etag);

        let wrong = client.delete(path, &[("If-Match", "\"0102030405060708\"")]);
        assert_eq!(wrong.status, wrong_status, "{platform:?}");
        assert_eq!(message(platform, &wrong), MISMATCH);
        assert_eq!(wrong.header("etag"), Some(etag.as_str()));
        assert!(home.exists("site/deployments/active"));

        // A file URL with a trailing slash is redirected, not deleted.
        assert_eq!(
            client
                .delete(&format!("{path}/"), &[("If-Match", &etag)])
                .status,
            307
        );
        assert!(home.exists("site/deployments/active"));

        let ok = client.delete(path, &[("If-Match", &etag)]);
        assert_eq!(ok.status, 200);
        assert!(!home.exists("site/deployments/active"));
        assert_eq!(client.delete(path, &[("If-Match", &etag)]).status, 404);
    }
}

#[test]
fn delete_directory_needs_recursive_when_not_empty() {
    for platform in [Platform::Windows, Platform::Linux] {
        let home = Home::new();
        home.write("site/deployments/abc/status.xml", "<x/>")
            .write("site/deployments/abc/log/inner.log", "log")
            .mkdir("site/empty");
        let emulator = start(&home, Options::new(platform));
        let client = Client::new(&emulator.url());

        let refused = client.delete("/api/vfs/site/deployments/abc/", &[]);
        assert_eq!(refused.status, 409);
        assert_eq!(message(platform, &refused), NOT_EMPTY);
        assert!(home.exists("site/deployments/abc/status.xml"));

        let recursive = client.delete("/api/vfs/site/deployments/abc/?recursive=true", &[]);
        assert_eq!(recursive.status, 200);
        assert!(!home.exists("site/deployments/abc"));
        assert!(home.exists("site/deployments"));

        // An empty directory goes without `recursive`, with or without the slash.
        assert_eq!(client.delete("/api/vfs/site/empty", &[]).status, 200);
        assert!(!home.exists("site/empty"));

        // The home itself is never removed.
        assert_eq!(client.delete("/api/vfs/?recursive=true", &[]).status, 409);
        assert!(home.path().is_dir());
    }
}

//! VFS reads: listings, redirects, ETags, conditional and ranged GETs, gzip, errors, links.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kudu_emulator::{Options, Platform};

use crate::util::{Client, Home, Raw, gunzip, start};

/// 2024-09-04T10:33:19.8815468Z, whose .NET ticks are 638610427998815468 (0x08dcccccfebac4ec).
fn known_time() -> SystemTime {
    UNIX_EPOCH + Duration::new(1_725_445_999, 881_546_800)
}
const KNOWN_ETAG: &str = "\"ecc4bafeccccdc08\"";
const KNOWN_JSON_DATE: &str = "2024-09-04T10:33:19.8815468+00:00";
const KNOWN_HTTP_DATE: &str = "Wed, 04 Sep 2024 10:33:19 GMT";

fn deployments_home() -> Home {
    let home = Home::new();
    home.write("site/deployments/active", "abc123")
        .write("site/deployments/abc123/status.xml", "<deployment/>")
        .write("site/deployments/notes.json", "{}")
        .write("site/deployments/a b#c.txt", "x")
        .mkdir("site/wwwroot");
    home.set_mtime("site/deployments/active", known_time());
    home
}

/// `YYYY-MM-DDTHH:MM:SS[.f{1,7}]+00:00`, trailing fraction zeros trimmed as Json.NET does.
fn is_json_net_date(text: &str) -> bool {
    let Some(main) = text.strip_suffix("+00:00") else {
        return false;
    };
    let (whole, fraction) = main.split_once('.').unwrap_or((main, ""));
    let shape_ok = whole.len() == 19
        && whole.char_indices().all(|(i, c)| match i {
            4 | 7 => c == '-',
            10 => c == 'T',
            13 | 16 => c == ':',
            _ => c.is_ascii_digit(),
        });
    let fraction_ok = if main.contains('.') {
        (1..=7).contains(&fraction.len())
            && fraction.chars().all(|c| c.is_ascii_digit())
            && !fraction.ends_with('0')
    } else {
        true
    };
    shape_ok && fraction_ok
}

#[test]
fn windows_listing_has_kudus_shape() {
    let home = deployments_home();
    let emulator = start(&home, Options::new(Platform::Windows));
    let client = Client::new(&emulator.url());
    let resp = client.get("/api/vfs/site/deployments/");
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    // VfsStatEntry's member order, as Json.NET writes it.
    assert!(
        resp.text()
            .starts_with("[{\"name\":\"a b#c.txt\",\"size\":1,\"mtime\":\""),
        "{}",
        resp.text()
    );
    let entries = resp.json();
    let entries = entries.as_array().unwrap();
    let names: Vec<&str> = entries
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a b#c.txt", "abc123", "active", "notes.json"]);
    let base = format!("{}/api/vfs/site/deployments/", emulator.url());

    let dir = &entries[1];
    assert_eq!(dir["size"], 0);
    assert_eq!(dir["mime"], "inode/directory");
    assert_eq!(dir["href"], format!("{base}abc123/"));
    assert_eq!(dir["path"], r"D:\home\site\deployments\abc123");

    let active = &entries[2];
    assert_eq!(active["size"], 6);
    assert_eq!(active["mime"], "application/octet-stream");
    assert_eq!(active["mtime"], KNOWN_JSON_DATE);
    assert_eq!(active["href"], format!("{base}active"));
    assert_eq!(active["path"], r"D:\home\site\deployments\active");

    assert_eq!(entries[3]["mime"], "application/json");
    assert_eq!(entries[0]["href"], format!("{base}a%20b%23c.txt"));
    for entry in entries {
        for key in ["mtime", "crtime"] {
            let date = entry[key].as_str().unwrap();
            assert!(is_json_net_date(date), "{key} = {date}");
        }
    }
}

#[test]
fn linux_listing_uses_linux_paths_and_keeps_the_query_in_hrefs() {
    let home = deployments_home();
    let emulator = start(&home, Options::new(Platform::Linux));
    let client = Client::new(&emulator.url());
    let resp = client.get("/api/vfs/site/deployments/?x=1");
    assert_eq!(resp.status, 200);
    let entries = resp.json();
    let active = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "active")
        .unwrap()
        .clone();
    assert_eq!(active["path"], "/home/site/deployments/active");
    assert_eq!(
        active["href"],
        format!("{}/api/vfs/site/deployments/active?x=1", emulator.url())
    );
    assert_eq!(active["mtime"], KNOWN_JSON_DATE);
    let root = client.get("/api/vfs/").json();
    assert_eq!(root[0]["name"], "site");
    assert_eq!(root[0]["path"], "/home/site");
    assert_eq!(root[0]["mime"], "inode/directory");
}

#[test]
fn directory_and_file_urls_redirect_both_ways_with_absolute_locations() {
    let home = deployments_home();
    for platform in [Platform::Windows, Platform::Linux] {
        let emulator = start(&home, Options::new(platform));
        let client = Client::new(&emulator.url());
        let url = emulator.url();
        for (from, to) in [
            ("/api/vfs/site/deployments", "/api/vfs/site/deployments/"),
            (
                "/api/vfs/site/deployments?a=b",
                "/api/vfs/site/deployments/?a=b",
            ),
            ("/api/vfs", "/api/vfs/"),
            (
                "/api/vfs/site/deployments/active/",
                "/api/vfs/site/deployments/active",
            ),
            (
                "/vfs/site/deployments/active//",
                "/vfs/site/deployments/active",
            ),
        ] {
            let resp = client.get(from);
            assert_eq!(resp.status, 307, "{platform:?} {from}");
            assert_eq!(resp.header("location"), Some(format!("{url}{to}").as_str()));
        }
        // The route also answers without `api/`, and ignores case in the route name.
        assert_eq!(client.get("/vfs/site/deployments/active").text(), "abc123");
        assert_eq!(
            client.get("/API/VFS/site/deployments/active").text(),
            "abc123"
        );
    }
}

#[test]
fn file_get_and_head_carry_the_tick_etag_and_last_modified() {
    let home = deployments_home();
    for platform in [Platform::Windows, Platform::Linux] {
        let emulator = start(&home, Options::new(platform));
        let client = Client::new(&emulator.url());
        let get = client.get("/api/vfs/site/deployments/active");
        assert_eq!(get.status, 200);
        assert_eq!(get.text(), "abc123");
        assert_eq!(get.header("etag"), Some(KNOWN_ETAG));
        assert_eq!(get.header("last-modified"), Some(KNOWN_HTTP_DATE));
        assert_eq!(get.header("content-type"), Some("application/octet-stream"));

        let mut raw = Raw::connect(&emulator);
        raw.send("HEAD", "/api/vfs/site/deployments/active", &[]);
        let head = raw.read_response(true).unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(head.header("etag"), Some(KNOWN_ETAG));
        assert_eq!(head.header("content-length"), Some("6"));
        // Nothing follows the head: the next answer on the connection is the next request's.
        raw.send("GET", "/api/vfs/site/deployments/active", &[]);
        assert_eq!(raw.read_response(false).unwrap().text(), "abc123");
    }
}

#[test]
fn if_none_match_gives_304_strongly_on_windows_weakly_on_linux() {
    let home = deployments_home();
    let weak = format!("W/{KNOWN_ETAG}");
    for (platform, weak_status) in [(Platform::Windows, 200), (Platform::Linux, 304)] {
        let emulator = start(&home, Options::new(platform));
        let client = Client::new(&emulator.url());
        let path = "/api/vfs/site/deployments/active";
        let hit = client.get_with(path, &[("If-None-Match", KNOWN_ETAG)]);
        assert_eq!(hit.status, 304, "{platform:?}");
        assert!(hit.body.is_empty());
        assert_eq!(hit.header("etag"), Some(KNOWN_ETAG));
        let listed = format!("\"00\", {KNOWN_ETAG}");
        assert_eq!(
            client.get_with(path, &[("If-None-Match", &listed)]).status,
            304
        );
        assert_eq!(
            client
                .get_with(path, &[("If-None-Match", "\"0011\"")])
                .status,
            200
        );
        assert_eq!(
            client.get_with(path, &[("If-None-Match", &weak)]).status,
            weak_status,
            "{platform:?}"
        );
    }
}

#[test]
fn windows_honours_ranges() {
    let home = Home::new();
    home.write("site/log.txt", "0123456789");
    home.set_mtime("site/log.txt", known_time());
    let emulator = start(&home, Options::new(Platform::Windows));
    let client = Client::new(&emulator.url());
    let path = "/api/vfs/site/log.txt";
    for (range, body, content_range) in [
        ("bytes=2-5", "2345", "bytes 2-5/10"),
        ("bytes=-3", "789", "bytes 7-9/10"),
        ("bytes=8-", "89", "bytes 8-9/10"),
        ("bytes=5-100", "56789", "bytes 5-9/10"),
    ] {
        let resp = client.get_with(path, &[("Range", range)]);
        assert_eq!(resp.status, 206, "{range}");
        assert_eq!(resp.text(), body, "{range}");
        assert_eq!(resp.header("content-range"), Some(content_range));
        assert_eq!(resp.header("etag"), Some(KNOWN_ETAG));
    }
    let unsatisfiable = client.get_with(path, &[("Range", "bytes=10-")]);
    assert_eq!(unsatisfiable.status, 416);
    assert_eq!(unsatisfiable.header("content-range"), Some("bytes */10"));
    assert_eq!(
        unsatisfiable.json()["ExceptionType"],
        "System.Net.Http.InvalidByteRangeException"
    );
    // If-Range: the range only applies to the version named.
    let stale = client.get_with(path, &[("Range", "bytes=-3"), ("If-Range", "\"00\"")]);
    assert_eq!((stale.status, stale.text().as_str()), (200, "0123456789"));
    let fresh = client.get_with(path, &[("Range", "bytes=-3"), ("If-Range", KNOWN_ETAG)]);
    assert_eq!((fresh.status, fresh.text().as_str()), (206, "789"));
    // A range request is not answered 304 (Kudu checks the range first).
    let both = client.get_with(
        path,
        &[("Range", "bytes=0-0"), ("If-None-Match", KNOWN_ETAG)],
    );
    assert_eq!(both.status, 206);
    let several = client.get_with(path, &[("Range", "bytes=0-1,-2")]);
    assert_eq!(several.status, 206);
    assert!(
        several
            .header("content-type")
            .unwrap()
            .starts_with("multipart/byteranges")
    );
    let text = several.text();
    assert!(
        text.contains("Content-Range: bytes 0-1/10\r\n\r\n01\r\n"),
        "{text}"
    );
    assert!(
        text.contains("Content-Range: bytes 8-9/10\r\n\r\n89\r\n"),
        "{text}"
    );
}

#[test]
fn linux_ignores_ranges_and_gzips_compressible_types() {
    let home = Home::new();
    home.write("site/deployments/x/log.log", "line one\nline two\n")
        .write("site/deployments/active", "abc123");
    let emulator = start(&home, Options::new(Platform::Linux));
    let client = Client::new(&emulator.url());
    let log = "/api/vfs/site/deployments/x/log.log";
    let ranged = client.get_with(log, &[("Range", "bytes=-4")]);
    assert_eq!(ranged.status, 200);
    assert_eq!(ranged.text(), "line one\nline two\n");
    assert_eq!(ranged.header("content-range"), None);

    let gzipped = client.get_encoded(log, &[("Accept-Encoding", "gzip, deflate")]);
    assert_eq!(gzipped.status, 200);
    assert_eq!(gzipped.header("content-encoding"), Some("gzip"));
    assert_eq!(gzipped.header("content-length"), None);
    assert_eq!(gzipped.header("transfer-encoding"), Some("chunked"));
    assert_eq!(gunzip(&gzipped.body), b"line one\nline two\n");
    assert!(gzipped.header("etag").is_some());
    // The listing (application/json) is compressed too; application/octet-stream is not.
    let listing = client.get_encoded("/api/vfs/site/deployments/", &[("Accept-Encoding", "gzip")]);
    assert_eq!(listing.header("content-encoding"), Some("gzip"));
    let listed: serde_json::Value = serde_json::from_slice(&gunzip(&listing.body)).unwrap();
    assert_eq!(listed[0]["name"], "active");
    let active = client.get_encoded(
        "/api/vfs/site/deployments/active",
        &[("Accept-Encoding", "gzip")],
    );
    assert_eq!(active.header("content-encoding"), None);
    assert_eq!(active.text(), "abc123");
    // gzip;q=0 refuses it.
    let refused = client.get_encoded(log, &[("Accept-Encoding", "gzip;q=0")]);
    assert_eq!(refused.header("content-encoding"), None);

    // Windows never compresses and ranges the same request.
    let windows = start(&home, Options::new(Platform::Windows));
    let client = Client::new(&windows.url());
    let resp = client.get_encoded(log, &[("Accept-Encoding", "gzip"), ("Range", "bytes=-4")]);
    assert_eq!((resp.status, resp.text().as_str()), (206, "two\n"));
    assert_eq!(resp.header("content-encoding"), None);
}

#[test]
fn missing_files_are_404_with_each_platforms_error_body() {
    let home = deployments_home();
    let windows = start(&home, Options::new(Platform::Windows));
    let resp = Client::new(&windows.url()).get("/api/vfs/site/nope.txt");
    assert_eq!(resp.status, 404);
    assert_eq!(
        resp.json(),
        serde_json::json!({ "Message": r"'D:\home\site\nope.txt' not found." })
    );
    let linux = start(&home, Options::new(Platform::Linux));
    let resp = Client::new(&linux.url()).get("/api/vfs/site/nope/");
    assert_eq!(resp.status, 404);
    assert_eq!(
        resp.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(resp.text(), "'/home/site/nope/' not found.");
    // A path through a file does not exist either.
    let resp = Client::new(&linux.url()).get("/api/vfs/site/deployments/active/x");
    assert_eq!(resp.status, 404);
}

#[cfg(unix)]
#[test]
fn links_are_listed_as_files_and_never_read_through() {
    use std::os::unix::fs::symlink;
    let outside = Home::new();
    outside.write("secret.txt", "do not serve");
    let home = Home::new();
    home.write("site/real/inner.txt", "inner");
    symlink(outside.join("secret.txt"), home.join("site/secret.txt")).unwrap();
    symlink(home.join("site/real"), home.join("site/linkdir")).unwrap();
    for platform in [Platform::Windows, Platform::Linux] {
        let emulator = start(&home, Options::new(platform));
        let client = Client::new(&emulator.url());
        let listing = client.get("/api/vfs/site/").json();
        let linkdir = listing
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == "linkdir")
            .unwrap()
            .clone();
        assert_eq!(linkdir["mime"], "application/octet-stream");
        assert!(!linkdir["href"].as_str().unwrap().ends_with('/'));
        let secret = client.get("/api/vfs/site/secret.txt");
        assert_eq!(secret.status, 404);
        assert!(!secret.text().contains("do not serve"));
        assert!(secret.text().contains("symbolic link"), "{}", secret.text());
        assert_eq!(client.get("/api/vfs/site/linkdir/inner.txt").status, 404);
        assert_eq!(client.get("/api/vfs/site/linkdir/").status, 404);
        let put = client.put("/api/vfs/site/linkdir/new.txt", &[], b"x");
        assert_eq!(put.status, 409);
        let delete = client.delete("/api/vfs/site/secret.txt", &[("If-Match", "*")]);
        assert_eq!(delete.status, 404);
    }
    assert!(!home.exists("site/real/new.txt"));
    assert_eq!(outside.read("secret.txt").unwrap(), b"do not serve");
}

#[test]
fn dot_segments_are_refused() {
    let home = deployments_home();
    let emulator = start(&home, Options::new(Platform::Linux));
    let mut raw = Raw::connect(&emulator);
    raw.send("GET", "/api/vfs/site/../../etc/passwd", &[]);
    assert_eq!(raw.read_response(false).unwrap().status, 400);
    raw.send("GET", "/api/vfs/site/%2e%2e/site/", &[]);
    assert_eq!(raw.read_response(false).unwrap().status, 400);
}

#[test]
fn large_files_stream_whole_ranged_and_gzipped() {
    let content: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let home = Home::new();
    home.write("site/deployments/x/log.log", &content);
    let path = "/api/vfs/site/deployments/x/log.log";
    let windows = start(&home, Options::new(Platform::Windows));
    let client = Client::new(&windows.url());
    let whole = client.get(path);
    assert_eq!(whole.header("content-length"), Some("3000000"));
    assert!(whole.body == content);
    let tail = client.get_with(path, &[("Range", "bytes=-1000")]);
    assert_eq!(tail.status, 206);
    assert!(tail.body == content[content.len() - 1000..]);
    let linux = start(&home, Options::new(Platform::Linux));
    let gzipped = Client::new(&linux.url()).get_encoded(path, &[("Accept-Encoding", "gzip")]);
    assert_eq!(gzipped.header("content-encoding"), Some("gzip"));
    assert!(gunzip(&gzipped.body) == content);
}

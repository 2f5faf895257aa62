//! `GET|HEAD /api/zip/<dir>/`.

use std::io::{Cursor, Read};

use kudu_emulator::{Options, Platform};

use crate::util::{Client, Home, Raw, start};

fn entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        let mut content = Vec::new();
        file.read_to_end(&mut content).unwrap();
        out.push((file.name().unwrap().into_owned(), content));
    }
    out.sort();
    out
}

fn site_home() -> Home {
    let home = Home::new();
    home.write("site/wwwroot/index.html", "<html/>")
        .write("site/wwwroot/css/site.css", "body{}")
        .mkdir("site/wwwroot/empty")
        .write("site/locks/deployments.lock", "{}")
        .write("site/deployments/active", "abc");
    home
}

#[test]
fn zip_streams_the_folder_and_skips_the_held_lock() {
    let home = site_home();
    let emulator = start(&home, Options::new(Platform::Windows));
    emulator.hold(
        "site/locks/deployments.lock",
        kudu_emulator::DEFAULT_INSTANCE,
    );
    let client = Client::new(&emulator.url());
    let resp = client.get("/api/zip/site/");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/zip"));
    assert_eq!(resp.header("content-length"), None);
    assert_eq!(resp.header("transfer-encoding"), Some("chunked"));
    assert_eq!(
        resp.header("content-disposition"),
        Some("attachment; filename=site.zip")
    );
    let got = entries(&resp.body);
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    // `locks/` holds only the held file: Kudu adds neither the file nor an empty-folder entry.
    assert_eq!(
        names,
        [
            "deployments/active",
            "wwwroot/css/site.css",
            "wwwroot/empty/",
            "wwwroot/index.html"
        ]
    );
    assert_eq!(got[3].1, b"<html/>");
    // VFS still reads the held file.
    assert_eq!(
        client.get("/api/vfs/site/locks/deployments.lock").status,
        200
    );

    // Released (Kudu restarted): the file is in the zip again.
    assert_eq!(client.delete("/api/processes/0", &[]).status, 204);
    let names: Vec<String> = entries(&client.get("/api/zip/site/locks/").body)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["deployments.lock"]);
}

#[test]
fn zip_head_redirects_and_file_urls() {
    let home = site_home();
    for platform in [Platform::Windows, Platform::Linux] {
        let emulator = start(&home, Options::new(platform));
        let mut raw = Raw::connect(&emulator);
        raw.send("HEAD", "/api/zip/site/wwwroot/", &[]);
        let head = raw.read_response(true).unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(head.header("content-length"), None);
        assert_eq!(head.header("content-type"), Some("application/zip"));
        // The connection is still usable: nothing was sent after the head.
        raw.send("GET", "/api/zip/site/wwwroot/?fileName=w.zip", &[]);
        let get = raw.read_response(false).unwrap();
        assert_eq!(
            get.header("content-disposition"),
            Some("attachment; filename=w.zip")
        );
        assert_eq!(entries(&get.body).len(), 3);

        let client = Client::new(&emulator.url());
        let redirect = client.get("/api/zip/site/wwwroot");
        assert_eq!(redirect.status, 307);
        assert_eq!(
            redirect.header("location"),
            Some(format!("{}/api/zip/site/wwwroot/", emulator.url()).as_str())
        );
        assert_eq!(client.get("/api/zip/site/wwwroot/index.html").status, 404);
        assert_eq!(client.get("/api/zip/site/nope/").status, 404);
    }
}

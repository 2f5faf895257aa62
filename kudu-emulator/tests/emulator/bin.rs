//! The `kudu-emulator` binary the Python and Node suites start.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{Client, Home, basic};

/// Starts the binary on `home` with these arguments; returns it with its stdout after the URL line.
fn spawn(home: &Home, args: &[&str]) -> (Child, BufReader<ChildStdout>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kudu-emulator"))
        .args(["--home", home.path().to_str().unwrap()])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let url = first.trim_end().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{first:?}");
    (child, stdout, url)
}

#[test]
fn the_binary_prints_its_url_serves_and_stops_at_stdin_eof() {
    let home = Home::new();
    home.write("site/deployments/active", "abc123");
    let (child, mut stdout, url) = spawn(
        &home,
        &[
            "--platform",
            "linux",
            "--user",
            "u",
            "--password",
            "p",
            "--token",
            "tok",
            "--latency-ms",
            "1",
            "--instances",
            "a,b",
        ],
    );
    let url = url.as_str();
    let mut second = String::new();
    stdout.read_line(&mut second).unwrap();
    let info: serde_json::Value = serde_json::from_str(&second).unwrap();
    assert_eq!(info["url"], url);
    assert_eq!(info["instances"], serde_json::json!(["a", "b"]));
    assert_eq!(info["access_token"], "tok");

    let path = "/api/vfs/site/deployments/active";
    assert_eq!(Client::new(url).get(path).status, 401);
    let with_basic = Client::new(url).with("Authorization", &basic("u", "p"));
    assert_eq!(with_basic.get(path).text(), "abc123");
    let with_token = Client::new(url).with("Authorization", "Bearer tok");
    let resp = with_token.get(path);
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.header("set-cookie"),
        Some("ARRAffinity=a;Path=/;HttpOnly")
    );
    // --token is also what ARM requires.
    let arm = with_token.get(&format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Web/sites/{}/instances?api-version=2023-12-01",
        info["subscription"].as_str().unwrap(),
        info["resource_group"].as_str().unwrap(),
        info["app"].as_str().unwrap(),
    ));
    assert_eq!(arm.json()["value"][1]["name"], "b");

    stop(child);
}

/// Closes stdin and waits (bounded) for a clean exit.
fn stop(mut child: Child) {
    drop(child.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("kudu-emulator did not stop at end of stdin");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success());
}

#[test]
fn the_binary_holds_windows_lock_files() {
    let home = Home::new();
    home.write("site/locks/deployments.lock", "{}");
    let (child, stdout, url) = spawn(
        &home,
        &[
            "--platform",
            "windows",
            "--instances",
            "a,b",
            "--hold",
            "site/locks/deployments.lock@b",
        ],
    );
    // Stop reading after the URL: the server keeps serving (only stdin's end stops it).
    drop(stdout);
    let client = Client::new(&url);
    let lock = "/api/vfs/site/locks/deployments.lock";
    assert_eq!(client.delete(lock, &[("If-Match", "*")]).status, 404);
    let b = Client::new(&url).with("Cookie", "ARRAffinity=b");
    assert_eq!(b.delete("/api/processes/0", &[]).status, 204);
    assert_eq!(client.delete(lock, &[("If-Match", "*")]).status, 200);
    stop(child);
}

#[test]
fn the_binary_refuses_bad_arguments() {
    for args in [
        vec!["--platform", "linux"],
        vec!["--home", "/nonexistent-kudu-home", "--platform", "linux"],
        vec!["--home", ".", "--platform", "macos"],
        vec!["--home", ".", "--platform", "linux", "--user", "u"],
        vec!["--home", ".", "--platform", "windows", "--hold", "x@nobody"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_kudu-emulator"))
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(!output.stderr.is_empty(), "{args:?}");
    }
}

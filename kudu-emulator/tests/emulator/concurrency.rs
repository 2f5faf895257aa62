//! Keep-alive, request counting and in-flight counting.

use std::sync::{Arc, Barrier};
use std::time::Duration;

use kudu_emulator::{Fault, Options, Platform};

use crate::util::{Client, Home, Raw, eventually, start};

fn home() -> Home {
    let home = Home::new();
    home.write("site/deployments/active", "abc123");
    home
}

#[test]
fn kept_alive_connections_serve_request_after_request() {
    let home = home();
    let emulator = start(&home, Options::new(Platform::Windows));
    // ureq pools its connection: every request goes over the first one.
    let client = Client::new(&emulator.url());
    for _ in 0..3 {
        assert_eq!(client.get("/api/vfs/site/deployments/active").status, 200);
    }
    let connections: Vec<u64> = emulator.requests().iter().map(|r| r.connection).collect();
    assert_eq!(connections, [1, 1, 1]);

    // Two requests written at once are answered in order on the same connection.
    let mut raw = Raw::connect(&emulator);
    raw.write(
        b"GET /api/vfs/site/deployments/active HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /api/vfs/nope HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert_eq!(raw.read_response(false).unwrap().text(), "abc123");
    assert_eq!(raw.read_response(false).unwrap().status, 404);
    // `Connection: close` is honoured.
    raw.send("GET", "/api/vfs/", &["Connection: close"]);
    let last = raw.read_response(false).unwrap();
    assert_eq!(last.header("connection"), Some("close"));
    let (rest, _) = raw.read_some(1);
    assert!(rest.is_empty());
    assert_eq!(emulator.request_count(), 6);
}

#[test]
fn request_bodies_in_chunks_and_after_100_continue() {
    let home = home();
    let emulator = start(&home, Options::new(Platform::Linux));
    let mut raw = Raw::connect(&emulator);
    raw.write(
        b"PUT /api/vfs/site/new.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
          5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    );
    assert_eq!(raw.read_response(false).unwrap().status, 201);
    assert_eq!(home.read("site/new.txt").unwrap(), b"hello world");
    raw.send(
        "PUT",
        "/api/vfs/site/other.txt",
        &["Content-Length: 3", "Expect: 100-continue"],
    );
    let interim = raw.read_head().unwrap();
    assert_eq!(interim.0, 100);
    raw.write(b"abc");
    assert_eq!(raw.read_response(false).unwrap().status, 201);
    assert_eq!(home.read("site/other.txt").unwrap(), b"abc");
}

#[test]
fn in_flight_counts_requests_being_handled_at_once() {
    let home = home();
    let emulator = start(&home, Options::new(Platform::Windows));
    // Requests that never finish stay in flight: the count is exact, whatever the timing.
    emulator.inject(Fault::silent().path_prefix("/api/vfs/").forever());
    let mut clients: Vec<Raw> = (0..4).map(|_| Raw::connect(&emulator)).collect();
    for raw in &mut clients {
        raw.send("GET", "/api/vfs/", &[]);
    }
    eventually("four requests read", || emulator.request_count() == 4);
    assert_eq!(emulator.in_flight(), 4);
    assert_eq!(emulator.max_in_flight(), 4);
    drop(clients);
    eventually("all hung requests end", || emulator.in_flight() == 0);
    assert_eq!(emulator.max_in_flight(), 4);
    emulator.clear_faults();
    emulator.clear_requests();
    assert_eq!(emulator.max_in_flight(), 0);
    assert_eq!(emulator.request_count(), 0);

    // With latency, concurrent clients overlap; one kept-alive client never does.
    emulator.set_latency(Duration::from_millis(1000));
    let barrier = Arc::new(Barrier::new(4));
    let url = emulator.url();
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            let url = url.clone();
            std::thread::spawn(move || {
                let client = Client::new(&url);
                barrier.wait();
                client.get("/api/vfs/site/deployments/active").status
            })
        })
        .collect();
    for worker in workers {
        assert_eq!(worker.join().unwrap(), 200);
    }
    assert_eq!(emulator.max_in_flight(), 4);
    let connections: std::collections::HashSet<u64> =
        emulator.requests().iter().map(|r| r.connection).collect();
    assert_eq!(connections.len(), 4);

    emulator.clear_requests();
    emulator.set_latency(Duration::from_millis(50));
    let client = Client::new(&url);
    for _ in 0..3 {
        assert_eq!(client.get("/api/vfs/").status, 200);
    }
    assert_eq!(emulator.max_in_flight(), 1);
}

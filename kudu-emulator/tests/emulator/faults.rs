//! Injected faults. Every wait is bounded by a client timeout or `util::eventually`.

use std::time::{Duration, Instant};

use kudu_emulator::{Fault, FaultKind, Options, Platform};

use crate::util::{Client, Home, Raw, eventually, start};

fn home() -> Home {
    let home = Home::new();
    home.write("site/deployments/active", "abc123")
        .write("site/big.bin", vec![7u8; 10_000]);
    home
}

#[test]
fn a_status_fault_answers_n_times_then_kudu_answers() {
    let home = home();
    let emulator = start(&home, Options::new(Platform::Windows));
    emulator.inject(
        Fault::status(503)
            .retry_after(2)
            .on("GET", "/api/vfs/")
            .times(2),
    );
    let client = Client::new(&emulator.url());
    // Another method or path is not affected.
    assert_eq!(client.get("/api/processes/0").status, 200);
    for _ in 0..2 {
        let busy = client.get("/api/vfs/site/deployments/active");
        assert_eq!(busy.status, 503);
        assert_eq!(busy.header("retry-after"), Some("2"));
    }
    let ok = client.get("/api/vfs/site/deployments/active");
    assert_eq!((ok.status, ok.text().as_str()), (200, "abc123"));
    let faults: Vec<_> = emulator
        .requests()
        .into_iter()
        .map(|r| (r.status, r.fault))
        .collect();
    assert_eq!(
        faults,
        [
            (Some(200), None),
            (Some(503), Some(FaultKind::Status(503))),
            (Some(503), Some(FaultKind::Status(503))),
            (Some(200), None)
        ]
    );
}

#[test]
fn forever_faults_last_until_cleared_and_403_is_injectable() {
    let home = home();
    let emulator = start(&home, Options::new(Platform::Linux));
    emulator.inject(Fault::status(403).method("DELETE").forever());
    emulator.inject(
        Fault::status(429)
            .path_prefix("/api/vfs/site/deployments/")
            .forever(),
    );
    let client = Client::new(&emulator.url());
    for _ in 0..3 {
        assert_eq!(
            client
                .delete("/api/vfs/site/big.bin", &[("If-Match", "*")])
                .status,
            403
        );
        assert_eq!(client.get("/api/vfs/site/deployments/active").status, 429);
    }
    assert!(home.exists("site/big.bin"));
    emulator.clear_faults();
    assert_eq!(client.get("/api/vfs/site/deployments/active").status, 200);
}

#[test]
fn an_endless_body_keeps_coming_until_the_client_gives_up() {
    let home = home();
    let emulator = start(&home, Options::new(Platform::Windows));
    emulator.inject(
        Fault::endless_body(Duration::from_millis(1)).on("GET", "/api/vfs/site/deployments/"),
    );
    let mut raw = Raw::connect(&emulator);
    raw.send("GET", "/api/vfs/site/deployments/active", &[]);
    let (status, headers) = raw.read_head().unwrap();
    assert_eq!(status, 200);
    assert!(
        headers
            .iter()
            .any(|(n, v)| n == "Transfer-Encoding" && v == "chunked")
    );
    // Far more than the file holds, and still no last chunk.
    let (bytes, error) = raw.read_some(16 * 1024);
    assert!(error.is_none(), "{error:?}");
    assert!(bytes.len() >= 16 * 1024);
    assert!(!bytes.windows(5).any(|w| w == b"0\r\n\r\n"));
    assert_eq!(emulator.in_flight(), 1);
    drop(raw);
    // The server notices the client left and frees the request.
    eventually("the endless request ends", || emulator.in_flight() == 0);
    let ok = Client::new(&emulator.url()).get("/api/vfs/site/deployments/active");
    assert_eq!(ok.text(), "abc123");
}

#[test]
fn a_silent_server_reads_the_request_and_never_answers() {
    let home = home();
    let emulator = start(&home, Options::new(Platform::Windows));
    emulator.inject(Fault::silent().on("GET", "/api/vfs/"));
    let mut raw = Raw::connect(&emulator);
    raw.set_read_timeout(Duration::from_millis(300));
    raw.send("GET", "/api/vfs/site/deployments/active", &[]);
    let (bytes, error) = raw.read_some(1);
    assert!(bytes.is_empty());
    let kind = error.expect("a read timeout").kind();
    assert!(
        matches!(
            kind,
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{kind:?}"
    );
    // Logged as read but unanswered, and still in flight.
    let log = emulator.requests();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].status, log[0].fault.clone()),
        (None, Some(FaultKind::Silent))
    );
    assert_eq!(emulator.in_flight(), 1);
    // A ureq client with a deadline gives up too.
    emulator.inject(Fault::silent());
    let impatient: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_millis(300)))
        .build()
        .into();
    let err = impatient
        .get(&format!("{}/api/vfs/", emulator.url()))
        .call()
        .unwrap_err();
    assert!(matches!(err, ureq::Error::Timeout(_)), "{err:?}");
    drop(raw);
    eventually("the silent requests end", || emulator.in_flight() == 0);
}

#[test]
fn a_dropped_connection_cuts_the_response_in_the_middle() {
    let home = home();
    let emulator = start(&home, Options::new(Platform::Windows));
    emulator.inject(Fault::drop_mid_response().on("GET", "/api/vfs/site/big.bin"));
    let mut raw = Raw::connect(&emulator);
    raw.send("GET", "/api/vfs/site/big.bin", &[]);
    let (status, headers) = raw.read_head().unwrap();
    assert_eq!(status, 200);
    assert!(
        headers
            .iter()
            .any(|(n, v)| n == "Content-Length" && v == "10000")
    );
    let (body, _) = raw.read_some(20_000);
    assert!(
        !body.is_empty() && body.len() < 10_000,
        "{} bytes",
        body.len()
    );
    // ureq sees a broken body.
    emulator.inject(Fault::drop_mid_response());
    let err = Client::new(&emulator.url())
        .send("GET", "/api/vfs/site/big.bin", &[], None)
        .unwrap_err();
    assert!(matches!(err, ureq::Error::Io(_)), "{err:?}");
    // A bodiless answer is cut inside its head.
    emulator.inject(Fault::drop_mid_response());
    let mut raw = Raw::connect(&emulator);
    raw.send("DELETE", "/api/processes/0", &[]);
    assert!(raw.read_head().is_err());
    // Then the server answers normally.
    let ok = Client::new(&emulator.url()).get("/api/vfs/site/big.bin");
    assert_eq!(ok.body.len(), 10_000);
}

#[test]
fn latency_faults_and_global_latency_delay_answers() {
    let home = home();
    let emulator = start(&home, Options::new(Platform::Linux));
    let client = Client::new(&emulator.url());
    emulator.inject(Fault::latency(Duration::from_millis(300)));
    let started = Instant::now();
    assert_eq!(client.get("/api/vfs/site/deployments/active").status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    emulator.set_latency(Duration::from_millis(200));
    let started = Instant::now();
    assert_eq!(client.get("/api/vfs/").status, 200);
    assert!(started.elapsed() >= Duration::from_millis(200));
    let log = emulator.requests();
    assert_eq!(
        log[0].fault,
        Some(FaultKind::Latency(Duration::from_millis(300)))
    );
    assert_eq!(log[1].fault, None);
}

#[test]
fn dropping_the_emulator_ends_hung_requests() {
    let home = home();
    let emulator = start(&home, Options::new(Platform::Windows));
    emulator.inject(Fault::silent().forever());
    let mut raw = Raw::connect(&emulator);
    raw.send("GET", "/api/vfs/", &[]);
    eventually("the request is read", || emulator.request_count() == 1);
    drop(emulator);
    // The connection was closed by the server: end of stream, not a timeout.
    let (bytes, error) = raw.read_some(1);
    assert!(bytes.is_empty());
    assert!(
        error.is_none() || error.is_some_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset)
    );
}

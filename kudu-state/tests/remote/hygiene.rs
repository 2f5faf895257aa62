//! HTTP hygiene: User-Agent, redirects, timeouts, retries, concurrency, affinity, URLs, Date.

use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use kudu_emulator::Fault;
use kudu_state::Platform;
use kudu_state::fixture::HomeBuilder;
use kudu_state::remote::{HttpOptions, SiteUrl, USER_AGENT};
use kudu_state::store::Store;

use crate::util::*;

fn home(platform: Platform) -> HomeBuilder {
    let h = HomeBuilder::new(platform).unwrap();
    h.healthy("8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b", t0()).unwrap();
    h.file("site/deployments/x/log.log", "x\n".repeat(5000))
        .unwrap();
    for i in 0..40 {
        h.file(&format!("site/many/f{i:02}"), format!("file {i}"))
            .unwrap();
    }
    h
}

/// Tight timeouts for the fault tests.
fn strict(retries: u32) -> HttpOptions {
    HttpOptions {
        request_timeout: Duration::from_millis(600),
        run_timeout: Some(Duration::from_secs(5)),
        retries,
        max_retry_wait: Duration::from_millis(100),
        ..HttpOptions::default()
    }
}

#[test]
fn our_user_agent_on_every_request() {
    let home = home(Platform::Windows);
    let emu = emulator(&home);
    let store = store(&emu);
    store.list(&rel("site")).unwrap();
    store
        .read_head(&rel("site/deployments/active"), 10)
        .unwrap();
    for r in emu.requests() {
        let ua = r.user_agent.unwrap();
        assert_eq!(ua, USER_AGENT);
        assert!(ua.starts_with("kudu-state/"));
        assert!(!ua.contains("azure-resource-manager") && !ua.contains("VSTS_"));
        assert_eq!(r.auth_scheme.as_deref(), Some("Basic"));
    }
}

#[test]
fn a_redirect_to_another_host_is_not_followed_and_gets_no_credentials() {
    let home = home(Platform::Windows);
    let emu = emulator(&home);
    let elsewhere = emulator(&home);
    emu.inject(
        Fault::status(307)
            .header(
                "Location",
                &format!("{}/api/vfs/site/deployments/active", elsewhere.url()),
            )
            .on("GET", "/api/vfs/site/deployments/active"),
    );
    let store = store(&emu);
    let e = store
        .read_head(&rel("site/deployments/active"), 100)
        .unwrap_err();
    assert_eq!(e.code(), "REDIRECT_REFUSED", "{e}");
    assert_eq!(e.status(), Some(307));
    assert!(e.to_string().contains(&elsewhere.url()), "{e}");
    assert_no_secret(&shown(&e));
    assert!(
        elsewhere.requests().is_empty(),
        "the other host saw nothing"
    );
    assert_eq!(emu.request_count(), 1);
}

#[test]
fn an_endless_body_ends_with_a_timeout_within_the_request_timeout() {
    for platform in [Platform::Windows, Platform::Linux] {
        let home = home(platform);
        let emu = emulator(&home);
        emu.inject(Fault::endless_body(Duration::ZERO).on("GET", "/api/vfs/site/deployments/x/"));
        let store = store_with(&emu, &strict(0), None);
        let started = Instant::now();
        let e = store
            .read_tail(&rel("site/deployments/x/log.log"), 1000)
            .unwrap_err();
        let took = started.elapsed();
        assert!(
            matches!(e.code(), "TIMEOUT" | "BODY_TOO_LARGE"),
            "{platform}: {e}"
        );
        assert!(took < Duration::from_secs(3), "{took:?}");
        assert!(e.url().is_some());
    }
}

#[test]
fn an_endless_slow_body_is_cut_by_the_timeout() {
    let home = home(Platform::Linux);
    let emu = emulator(&home);
    emu.inject(
        Fault::endless_body(Duration::from_millis(20)).on("GET", "/api/vfs/site/deployments/x/"),
    );
    let store = store_with(&emu, &strict(0), None);
    let started = Instant::now();
    let e = store
        .read_tail(&rel("site/deployments/x/log.log"), 1000)
        .unwrap_err();
    assert_eq!(e.code(), "TIMEOUT", "{e}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        e.to_string()
            .contains("/api/vfs/site/deployments/x/log.log"),
        "{e}"
    );
}

#[test]
fn a_silent_server_times_out_and_is_retried_within_the_run() {
    let home = home(Platform::Windows);
    let emu = emulator(&home);
    emu.inject(Fault::silent().forever());
    let store = store_with(&emu, &strict(1), None);
    let started = Instant::now();
    let e = store.list(&rel("site")).unwrap_err();
    assert_eq!(e.code(), "TIMEOUT", "{e}");
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(emu.request_count(), 2, "one retry");
    assert_eq!(store.stats().retries, 1);
}

#[test]
fn the_run_timeout_bounds_everything() {
    let home = home(Platform::Windows);
    let emu = emulator(&home);
    emu.inject(Fault::silent().forever());
    let options = HttpOptions {
        request_timeout: Duration::from_secs(10),
        run_timeout: Some(Duration::from_millis(700)),
        retries: 5,
        ..HttpOptions::default()
    };
    let store = store_with(&emu, &options, None);
    let started = Instant::now();
    let e = store.list(&rel("site")).unwrap_err();
    assert_eq!(e.code(), "TIMEOUT");
    assert!(e.to_string().contains("run timeout"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_503_then_success_is_retried() {
    let home = home(Platform::Linux);
    let emu = emulator(&home);
    emu.inject(
        Fault::status(503)
            .retry_after(0)
            .on("GET", "/api/vfs/site/")
            .times(1),
    );
    let store = store(&emu);
    let entries = store.list(&rel("site")).unwrap();
    assert!(entries.iter().any(|e| e.name == "deployments"));
    let statuses: Vec<_> = emu.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(503), Some(200)]);
    assert_eq!(store.stats().retries, 1);
    assert_eq!(store.requests_made(), 2);
}

#[test]
fn retry_after_is_honoured_and_retries_end() {
    let home = home(Platform::Windows);
    let emu = emulator(&home);
    emu.inject(Fault::status(429).retry_after(1).times(1));
    let options = HttpOptions {
        max_retry_wait: Duration::from_secs(5),
        ..quick()
    };
    let store = store_with(&emu, &options, None);
    let started = Instant::now();
    store.list(&rel("site")).unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited for Retry-After"
    );

    emu.inject(Fault::status(503).forever());
    let e = store.list(&rel("site")).unwrap_err();
    assert_eq!((e.code(), e.status()), ("HTTP_ERROR", Some(503)), "{e}");
    emu.clear_faults();
    let made = emu
        .requests()
        .iter()
        .filter(|r| r.status == Some(503))
        .count();
    assert_eq!(made, 3, "the first try and two retries");
}

#[test]
fn a_dropped_connection_is_retried() {
    let home = home(Platform::Windows);
    let emu = emulator(&home);
    emu.inject(
        Fault::drop_mid_response()
            .on("GET", "/api/vfs/site/")
            .times(1),
    );
    let store = store(&emu);
    assert!(!store.list(&rel("site")).unwrap().is_empty());
    assert_eq!(emu.request_count(), 2);
}

#[test]
fn never_more_in_flight_than_allowed_with_reads_from_many_threads() {
    let home = home(Platform::Windows);
    let emu = emulator(&home);
    emu.set_latency(Duration::from_millis(40));
    for (allowed, threads) in [(3, 8), (8, 16)] {
        emu.clear_requests();
        let options = HttpOptions {
            max_in_flight: allowed,
            ..quick()
        };
        let store = store_with(&emu, &options, None);
        // Threads for a scan: up to four per slot (the client's limit queues them).
        assert_eq!(store.parallelism(1000), 4 * allowed);
        assert_eq!(store.parallelism(2), 2);
        std::thread::scope(|s| {
            for t in 0..threads {
                let store = &store;
                s.spawn(move || {
                    for i in 0..4 {
                        let path = rel(&format!("site/many/f{:02}", (t * 4 + i) % 40));
                        store.read_head(&path, 100).unwrap();
                    }
                });
            }
        });
        let most = emu.max_in_flight();
        assert!(most <= allowed, "{most} in flight, {allowed} allowed");
        assert!(most >= 2, "requests ran at once ({most})");
        let connections: std::collections::BTreeSet<u64> =
            emu.requests().iter().map(|r| r.connection).collect();
        assert!(
            connections.len() <= allowed + 1,
            "connections are kept alive and reused: {} for {} requests",
            connections.len(),
            emu.request_count()
        );
    }
    let options = HttpOptions {
        max_in_flight: 100,
        ..quick()
    };
    // Clamped to 16 in flight.
    assert_eq!(store_with(&emu, &options, None).parallelism(1000), 64);
}

#[test]
fn the_first_answers_instance_is_kept_and_an_instance_can_be_pinned() {
    let home = home(Platform::Windows);
    let instances = vec!["instance-a".to_owned(), "instance-b".to_owned()];
    let emu = emulator_with(&home, |o| kudu_emulator::Options {
        instances: instances.clone(),
        ..o
    });
    let store = store(&emu);
    std::thread::scope(|s| {
        for i in 0..6 {
            let store = &store;
            s.spawn(move || {
                store
                    .read_head(&rel(&format!("site/many/f{i:02}")), 10)
                    .unwrap()
            });
        }
    });
    let log = emu.requests();
    assert_eq!(
        log[0].affinity, None,
        "the first request learns the instance"
    );
    assert!(
        log[1..]
            .iter()
            .all(|r| r.affinity.as_deref() == Some("instance-a"))
    );
    assert!(
        log.iter()
            .all(|r| r.instance.as_deref() == Some("instance-a"))
    );
    assert_eq!(store.instance().as_deref(), Some("instance-a"));

    emu.clear_requests();
    let pinned = store_with(&emu, &quick(), Some("instance-b"));
    pinned.list(&rel("site")).unwrap();
    pinned
        .read_head(&rel("site/deployments/active"), 10)
        .unwrap();
    assert!(
        emu.requests()
            .iter()
            .all(|r| r.affinity.as_deref() == Some("instance-b")
                && r.instance.as_deref() == Some("instance-b"))
    );

    let gone = store.pinned_to("instance-gone");
    let e = gone.list(&rel("site")).unwrap_err();
    assert_eq!(e.code(), "INSTANCE_UNAVAILABLE", "{e}");
}

#[test]
fn kudus_process_on_the_lock_holders_instance_shows_the_handle() {
    let home = home(Platform::Windows);
    home.windows_lock("Performing deployment", t0()).unwrap();
    let emu = emulator_with(&home, |o| kudu_emulator::Options {
        instances: vec!["instance-a".to_owned(), "instance-b".to_owned()],
        ..o
    });
    emu.hold("site/locks/deployments.lock", "instance-b");
    let store = store(&emu);
    let lock = rel("site/locks/deployments.lock");
    let on_b = store
        .pinned_to("instance-b")
        .kudu_process()
        .unwrap()
        .unwrap();
    assert!(on_b.holds(&lock), "{on_b:?}");
    assert_eq!(on_b.instance.as_deref(), Some("instance-b"));
    let on_a = store
        .pinned_to("instance-a")
        .kudu_process()
        .unwrap()
        .unwrap();
    assert!(!on_a.holds(&lock));
    let log = emu.requests();
    assert!(
        log.iter()
            .all(|r| r.method == "GET" && r.path == "/api/processes/0")
    );

    let linux = HomeBuilder::new(Platform::Linux).unwrap();
    linux
        .healthy("8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b", t0())
        .unwrap();
    let emu = emulator(&linux);
    assert_eq!(
        store_with(&emu, &quick(), None).kudu_process().unwrap(),
        None
    );
}

#[test]
fn plain_http_is_refused_off_loopback() {
    for url in [
        "http://emulated-app.scm.example.invalid",
        "http://10.0.0.1:8080",
        "http://127.0.0.1.nip.io",
    ] {
        let e = SiteUrl::parse(url).unwrap_err();
        assert_eq!(e.code(), "URL_REFUSED", "{url}");
        assert!(e.url().is_some());
    }
    assert!(SiteUrl::parse("http://127.0.0.1:1").is_ok());
    assert!(SiteUrl::parse("https://emulated-app.scm.example.invalid").is_ok());
}

#[test]
fn the_servers_date_is_kept() {
    let home = home(Platform::Linux);
    let emu = emulator(&home);
    let store = store(&emu);
    assert_eq!(store.server_date(), None);
    store.list(&rel("site")).unwrap();
    let date = store.server_date().unwrap();
    assert!((Utc::now() - date).abs() < TimeDelta::seconds(5), "{date}");
    let now = store.server_now().unwrap();
    assert!(now >= date);
}

#[test]
fn wrong_credentials_are_auth_failed_with_what_to_check() {
    let home = home(Platform::Windows);
    let emu = emulator_with(&home, |o| kudu_emulator::Options {
        auth: kudu_emulator::Auth::basic(USER, "SECRET-other"),
        ..o
    });
    let store = store(&emu);
    let e = store.list(&rel("site")).unwrap_err();
    assert_eq!((e.code(), e.status()), ("AUTH_FAILED", Some(401)));
    assert!(
        e.to_string().contains("basicPublishingCredentialsPolicies"),
        "{e}"
    );
    assert_no_secret(&shown(&e));
    assert_no_secret(&format!("{store:?}"));
    assert_eq!(emu.request_count(), 1, "a 401 is not retried");
}

#[test]
fn https_goes_through_the_proxy_and_loopback_never_does() {
    use kudu_state::remote::{CredentialSource, Credentials, Env, HttpClient, RemoteStore, Secret};
    let home = home(Platform::Windows);
    // The emulator plays the proxy: it logs the CONNECT it gets (and refuses it), so the request
    // never leaves 127.0.0.1 and no name is resolved.
    let proxy = emulator(&home);
    let env = Env::from_vars([("HTTPS_PROXY", proxy.url())]);
    let http = HttpClient::new(&strict(0), &env).unwrap();
    let far = RemoteStore::new(
        &http,
        SiteUrl::parse("https://emulated-app.scm.example.invalid").unwrap(),
        Credentials::basic(
            USER,
            Secret::new(PASSWORD),
            CredentialSource::UsernamePassword,
        ),
        None,
    );
    let e = far.list(&rel("site")).unwrap_err();
    assert_no_secret(&shown(&e));
    let seen = proxy.requests();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].method, "CONNECT");
    assert!(seen[0].path.contains("emulated-app.scm.example.invalid"));
    assert_eq!(
        seen[0].auth_scheme, None,
        "credentials only inside the tunnel"
    );

    // A loopback site is reached directly even with a proxy set.
    let site = emulator(&home);
    let near = RemoteStore::new(&http, SiteUrl::parse(&site.url()).unwrap(), basic(), None);
    near.list(&rel("site")).unwrap();
    assert_eq!(proxy.request_count(), 1);
}

#[test]
fn ssl_cert_file_must_hold_certificates() {
    use kudu_state::remote::{Env, HttpClient};
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.pem");
    let env = Env::from_vars([("SSL_CERT_FILE", missing.to_str().unwrap())]);
    assert_eq!(
        HttpClient::new(&quick(), &env).unwrap_err().code(),
        "IO_ERROR"
    );
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let env = Env::from_vars([("SSL_CERT_FILE", empty.to_str().unwrap())]);
    assert_eq!(
        HttpClient::new(&quick(), &env).unwrap_err().code(),
        "INVALID_INPUT"
    );
    let bundle = std::path::Path::new("/etc/ssl/certs/ca-certificates.crt");
    if bundle.exists() {
        let env = Env::from_vars([("SSL_CERT_FILE", bundle.to_str().unwrap())]);
        HttpClient::new(&quick(), &env).unwrap();
    }
}

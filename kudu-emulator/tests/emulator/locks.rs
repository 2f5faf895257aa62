//! Windows lock files held open by Kudu on one instance, instance affinity, and the Kudu restart
//! (`DELETE /api/processes/0`) that releases them.

use kudu_emulator::{Options, Platform};

use crate::util::{Client, Home, start};

const LOCK: &str = "/api/vfs/site/locks/deployments.lock";
const LOCK_PATH: &str = r"D:\home\site\locks\deployments.lock";

fn in_use() -> String {
    format!(
        "The process cannot access the file '{LOCK_PATH}' because it is being used by another process."
    )
}

fn two_instances(platform: Platform) -> Options {
    Options {
        instances: vec!["inst-a".to_owned(), "inst-b".to_owned()],
        ..Options::new(platform)
    }
}

fn locked_home() -> Home {
    let home = Home::new();
    home.write(
        "site/locks/deployments.lock",
        r#"{"lockInfo":{"instanceId":"inst-b"}}"#,
    )
    .write("site/locks/status.lock", "");
    home
}

fn on(instance: &str, emulator_url: &str) -> Client {
    Client::new(emulator_url).with("Cookie", &format!("ARRAffinity={instance}"))
}

#[test]
fn a_held_lock_reads_but_cannot_be_deleted_or_written_until_its_instance_restarts() {
    let home = locked_home();
    let emulator = start(&home, two_instances(Platform::Windows));
    emulator.hold("site/locks/deployments.lock", "inst-b");
    let a = on("inst-a", &emulator.url());
    let b = on("inst-b", &emulator.url());

    // Shared for reading.
    let read = a.get(LOCK);
    assert_eq!(read.status, 200);
    let etag = read.header("etag").unwrap().to_owned();
    assert!(read.text().contains("lockInfo"));

    // Delete: If-Match passes, then the delete-sharing open fails: 404 with the exception.
    for client in [&a, &b] {
        let delete = client.delete(LOCK, &[("If-Match", &etag)]);
        assert_eq!(delete.status, 404);
        let body = delete.json();
        assert_eq!(body["ExceptionMessage"], in_use());
        assert_eq!(body["ExceptionType"], "System.IO.IOException");
    }
    // Without a valid If-Match the precondition answers first.
    assert_eq!(a.delete(LOCK, &[]).status, 412);

    let put = a.put(LOCK, &[("If-Match", "*")], b"{}");
    assert_eq!(put.status, 409);
    assert_eq!(
        put.json()["Message"],
        format!(
            "Could not write to local resource '{LOCK_PATH}' due to error '{}'.",
            in_use()
        )
    );
    assert!(
        home.read("site/locks/deployments.lock")
            .unwrap()
            .starts_with(b"{\"lockInfo")
    );

    // Only the holding instance's Kudu shows the handle.
    let handles =
        |client: &Client| client.get("/api/processes/0").json()["open_file_handles"].clone();
    assert_eq!(handles(&b), serde_json::json!([LOCK_PATH]));
    assert_eq!(handles(&a), serde_json::json!([]));

    // Restarting Kudu on the other instance changes nothing.
    assert_eq!(a.delete("/api/processes/0", &[]).status, 204);
    assert_eq!(a.delete(LOCK, &[("If-Match", &etag)]).status, 404);
    assert_eq!(emulator.holds().len(), 1);

    // Restarting it on the holding instance releases the handle.
    assert_eq!(b.delete("/api/processes/0", &[]).status, 204);
    assert!(emulator.holds().is_empty());
    assert_eq!(handles(&b), serde_json::json!([]));
    assert_eq!(a.delete(LOCK, &[("If-Match", &etag)]).status, 200);
    assert!(!home.exists("site/locks/deployments.lock"));

    let log = emulator.requests();
    let restarts: Vec<_> = log
        .iter()
        .filter(|r| r.method == "DELETE" && r.path == "/api/processes/0")
        .map(|r| {
            (
                r.instance.clone().unwrap(),
                r.affinity.clone().unwrap(),
                r.status,
            )
        })
        .collect();
    assert_eq!(
        restarts,
        [
            ("inst-a".to_owned(), "inst-a".to_owned(), Some(204)),
            ("inst-b".to_owned(), "inst-b".to_owned(), Some(204))
        ]
    );
}

#[test]
fn a_recursive_delete_stops_at_a_held_file_after_deleting_the_rest() {
    let home = locked_home();
    home.write("site/locks/other/free.txt", "x");
    let emulator = start(&home, two_instances(Platform::Windows));
    emulator.hold("site/locks/deployments.lock", "inst-a");
    let client = Client::new(&emulator.url());
    let resp = client.delete("/api/vfs/site/locks/?recursive=true", &[]);
    assert_eq!(resp.status, 409);
    assert_eq!(
        resp.json()["Message"],
        "Cannot delete directory. It is either not empty or access is not allowed."
    );
    assert!(home.exists("site/locks/deployments.lock"));
    assert!(!home.exists("site/locks/status.lock"));
    assert!(!home.exists("site/locks/other"));
}

#[test]
fn affinity_cookie_picks_the_instance_and_answers_set_it() {
    let home = locked_home();
    let emulator = start(&home, two_instances(Platform::Windows));
    let plain = Client::new(&emulator.url());
    let cookie = |resp: &crate::util::Resp| resp.header("set-cookie").unwrap().to_owned();
    assert!(cookie(&plain.get("/api/vfs/")).starts_with("ARRAffinity=inst-a;"));
    let b = on("inst-b", &emulator.url());
    assert!(cookie(&b.get("/api/vfs/")).starts_with("ARRAffinity=inst-b;"));
    // An unknown instance goes to one that exists.
    let gone = on("inst-gone", &emulator.url());
    assert!(cookie(&gone.get("/api/vfs/")).starts_with("ARRAffinity=inst-a;"));
    // Other cookies around it do not matter; ARRAffinitySameSite is another cookie.
    let mixed = Client::new(&emulator.url()).with(
        "Cookie",
        "ARRAffinitySameSite=inst-a; x=1; ARRAffinity=inst-b",
    );
    assert!(cookie(&mixed.get("/api/vfs/")).starts_with("ARRAffinity=inst-b;"));
    let instances: Vec<_> = emulator
        .requests()
        .into_iter()
        .map(|r| r.instance.unwrap())
        .collect();
    assert_eq!(instances, ["inst-a", "inst-b", "inst-a", "inst-b"]);
}

#[test]
fn linux_has_no_share_mode_locks_and_no_process_kill() {
    let home = locked_home();
    let emulator = start(&home, two_instances(Platform::Linux));
    emulator.hold("site/locks/deployments.lock", "inst-a");
    let client = Client::new(&emulator.url());
    let kill = client.delete("/api/processes/0", &[]);
    assert_eq!(kill.status, 400);
    assert_eq!(kill.text(), "\"Not supported on Linux\"");
    assert_eq!(client.get("/api/processes/0").status, 400);
    let etag = client.get(LOCK).header("etag").unwrap().to_owned();
    assert_eq!(client.delete(LOCK, &[("If-Match", &etag)]).status, 200);
    assert!(!home.exists("site/locks/deployments.lock"));
}

#[test]
#[should_panic(expected = "not one of the emulated instances")]
fn holding_on_an_unknown_instance_is_a_test_bug() {
    let home = locked_home();
    let emulator = start(&home, Options::new(Platform::Windows));
    emulator.hold("site/locks/deployments.lock", "nope");
}

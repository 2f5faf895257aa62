//! Routes beside VFS: side-effect routes (answered, logged, harmless), processes, unknown routes.

use kudu_emulator::{Options, Platform};

use crate::util::{Client, Home, start};

/// Every file under the home with its content, to prove nothing changed.
fn snapshot(home: &Home) -> Vec<(String, Vec<u8>)> {
    fn walk(dir: &std::path::Path, rel: &str, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = format!("{rel}/{}", entry.file_name().to_string_lossy());
            if entry.file_type().unwrap().is_dir() {
                out.push((format!("{name}/"), Vec::new()));
                walk(&entry.path(), &name, out);
            } else {
                out.push((name, std::fs::read(entry.path()).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(home.path(), "", &mut out);
    out.sort();
    out
}

#[test]
fn side_effect_routes_answer_plausibly_change_nothing_and_are_logged() {
    let home = Home::new();
    home.write("site/deployments/active", "abc123")
        .write("site/deployments/abc123/status.xml", "<deployment/>")
        .write("site/locks/deployment/info.lock", "{}");
    let before = snapshot(&home);
    for platform in [Platform::Windows, Platform::Linux] {
        let emulator = start(&home, Options::new(platform));
        let client = Client::new(&emulator.url());
        let deployments = client.get("/api/deployments");
        assert_eq!(
            (deployments.status, deployments.text().as_str()),
            (200, "[]")
        );
        assert_eq!(client.get("/deployments/").status, 200);
        assert_eq!(client.get("/api/deployments/latest").status, 404);
        assert_eq!(client.get("/api/deployments/abc123/log").status, 404);
        assert_eq!(client.delete("/api/deployments/abc123", &[]).status, 404);
        assert_eq!(client.delete("/api/scm", &[]).status, 200);
        assert_eq!(client.get("/api/settings").status, 200);
        let deploy = client
            .send("POST", "/api/zipdeploy", &[], Some(b"PK"))
            .unwrap();
        assert_eq!(deploy.status, 202);
        assert!(
            deploy
                .header("location")
                .unwrap()
                .contains("/api/deployments/latest?deployer=zipdeploy")
        );
        assert_eq!(
            client
                .send("POST", "/deploy", &[], Some(b"{}"))
                .unwrap()
                .status,
            202
        );
        let isdeploying = client.get("/api/isdeploying");
        match platform {
            Platform::Linux => {
                assert_eq!(
                    isdeploying.json(),
                    serde_json::json!({"value": "False", "msg": ""})
                );
            }
            Platform::Windows => assert_eq!(isdeploying.status, 404),
        }
        let paths: Vec<String> = emulator.requests().into_iter().map(|r| r.path).collect();
        assert_eq!(paths.len(), 10);
        assert!(
            paths
                .iter()
                .all(|p| p.contains("deploy") || p.contains("scm") || p.contains("settings"))
        );
    }
    assert_eq!(snapshot(&home), before);
}

#[test]
fn unknown_routes_are_404_and_kudus_process_is_listed() {
    let home = Home::new();
    let windows = start(&home, Options::new(Platform::Windows));
    let client = Client::new(&windows.url());
    let unknown = client.get("/api/nothing/here");
    assert_eq!(unknown.status, 404);
    assert!(
        unknown.json()["Message"]
            .as_str()
            .unwrap()
            .starts_with("No HTTP resource was found")
    );
    assert_eq!(
        client
            .send("POST", "/api/vfs/site/", &[], Some(b""))
            .unwrap()
            .status,
        405
    );
    let processes = client.get("/api/processes").json();
    let pid = processes[0]["id"].as_u64().unwrap();
    let details = client.get(&format!("/api/processes/{pid}")).json();
    assert_eq!(details["id"], pid);
    assert_eq!(details["open_file_handles"], serde_json::json!([]));
    assert_eq!(client.get("/api/processes/1").status, 404);
    // A restart gives Kudu a new process id.
    assert_eq!(client.delete("/api/processes/0", &[]).status, 204);
    assert_ne!(client.get("/api/processes/0").json()["id"], pid);

    let linux = start(&home, Options::new(Platform::Linux));
    let unknown = Client::new(&linux.url()).get("/api/nothing");
    assert_eq!((unknown.status, unknown.body.len()), (404, 0));
}

//! SCM authentication.

use kudu_emulator::{Auth, Options, Platform};

use crate::util::{Client, Home, basic, start};

fn home() -> Home {
    let home = Home::new();
    home.write("site/deployments/active", "abc123");
    home
}

#[test]
fn basic_credentials_are_required_when_configured() {
    let home = home();
    let emulator = start(
        &home,
        Options {
            auth: Auth::basic("$app", "s3cret"),
            ..Options::new(Platform::Windows)
        },
    );
    let path = "/api/vfs/site/deployments/active";
    let anonymous = Client::new(&emulator.url()).get(path);
    assert_eq!(anonymous.status, 401);
    assert_eq!(
        anonymous.header("www-authenticate"),
        Some("Basic realm=\"site\"")
    );
    assert!(!anonymous.text().contains("abc123"));
    let wrong = Client::new(&emulator.url()).with("Authorization", &basic("$app", "nope"));
    assert_eq!(wrong.get(path).status, 401);
    let bearer = Client::new(&emulator.url()).with("Authorization", "Bearer s3cret");
    assert_eq!(bearer.get(path).status, 401);
    let right = Client::new(&emulator.url()).with("Authorization", &basic("$app", "s3cret"));
    assert_eq!(right.get(path).text(), "abc123");
    // Writes are refused before anything is done.
    let refused = Client::new(&emulator.url()).put("/api/vfs/site/x.txt", &[], b"x");
    assert_eq!(refused.status, 401);
    assert!(!home.exists("site/x.txt"));
    // The log keeps the scheme, never the credentials.
    let schemes: Vec<Option<String>> = emulator
        .requests()
        .into_iter()
        .map(|r| r.auth_scheme)
        .collect();
    assert_eq!(
        schemes,
        [
            None,
            Some("Basic".into()),
            Some("Bearer".into()),
            Some("Basic".into()),
            None
        ]
    );
    let debug = format!("{:?}", emulator.requests());
    assert!(
        !debug.contains("s3cret") && !debug.contains("JGFwcDpz"),
        "{debug}"
    );
}

#[test]
fn a_bearer_token_or_either_credential() {
    let home = home();
    let either = Auth::AnyOf(vec![Auth::basic("u", "p"), Auth::bearer("entra-token")]);
    let emulator = start(
        &home,
        Options {
            auth: either,
            ..Options::new(Platform::Linux)
        },
    );
    let path = "/api/vfs/site/deployments/active";
    let anonymous = Client::new(&emulator.url()).get(path);
    assert_eq!(anonymous.status, 401);
    let challenges: Vec<&str> = anonymous
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("www-authenticate"))
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(
        challenges,
        ["Basic realm=\"site\"", "Bearer realm=\"site\""]
    );
    for header in [basic("u", "p"), "Bearer entra-token".to_owned()] {
        let client = Client::new(&emulator.url()).with("Authorization", &header);
        assert_eq!(client.get(path).status, 200, "{header}");
    }
    let wrong = Client::new(&emulator.url()).with("Authorization", "Bearer other");
    assert_eq!(wrong.get(path).status, 401);
}

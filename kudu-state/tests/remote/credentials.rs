//! The credential chain against the emulator's fake Entra, OIDC and ARM endpoints; ARM site
//! resolution; secrets never shown.

use kudu_emulator::{Auth, AzureOptions, Emulator, Options};
use kudu_state::Platform;
use kudu_state::fixture::HomeBuilder;
use kudu_state::remote::{
    Arm, ConnectOptions, CredentialSource, Env, HttpClient, SiteRef, connect, site_credentials,
};
use kudu_state::store::Store;

use crate::util::*;

const ACCESS_TOKEN: &str = "SECRET-arm-access-token";
const FEDERATED: &str = "SECRET-federated-jwt";
const OIDC_REQUEST: &str = "SECRET-oidc-request-token";

fn azure() -> AzureOptions {
    AzureOptions {
        access_token: ACCESS_TOKEN.to_owned(),
        federated_token: FEDERATED.to_owned(),
        oidc_request_token: OIDC_REQUEST.to_owned(),
        slots: vec!["staging".to_owned()],
        ..AzureOptions::default()
    }
}

/// A Windows home served by an emulator that takes the ARM token (and Basic).
fn site() -> (HomeBuilder, Emulator) {
    let home = HomeBuilder::new(Platform::Windows).unwrap();
    home.healthy("8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b", t0())
        .unwrap();
    let emu = Emulator::start(
        home.path(),
        Options {
            auth: Auth::AnyOf(vec![
                Auth::basic(USER, PASSWORD),
                Auth::bearer(ACCESS_TOKEN),
            ]),
            azure: azure(),
            ..Options::new(kudu_emulator::Platform::Windows)
        },
    )
    .unwrap();
    (home, emu)
}

fn remote(emu: &Emulator) -> ConnectOptions {
    ConnectOptions {
        remote: Some(emu.url()),
        http: quick(),
        ..ConnectOptions::default()
    }
}

/// Connects, lists `site` and returns what the log shows: (method, path, auth scheme).
fn sign_in(
    options: &ConnectOptions,
    env: &Env,
    emu: &Emulator,
) -> Vec<(String, String, Option<String>)> {
    let store = connect(options, env).unwrap();
    store.list(&rel("site")).unwrap();
    assert_no_secret(&format!("{store:?} {:?}", store.credentials()));
    emu.requests()
        .into_iter()
        .map(|r| (r.method, r.path, r.auth_scheme))
        .collect()
}

fn vfs_site(scheme: &str) -> (String, String, Option<String>) {
    ("GET".into(), "/api/vfs/site/".into(), Some(scheme.into()))
}

#[test]
fn a_publish_profile_gives_the_site_and_basic_credentials() {
    let (_home, emu) = site();
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("app.PublishSettings");
    std::fs::write(
        &profile,
        format!(
            r#"<publishData><publishProfile profileName="app - Web Deploy" publishMethod="MSDeploy" publishUrl="{}" msdeploySite="app" userName="{USER}" userPWD="{PASSWORD}" destinationAppUrl="http://app.example.invalid"><databases /></publishProfile></publishData>"#,
            emu.host()
        ),
    )
    .unwrap();
    let options = ConnectOptions {
        publish_profile: Some(profile.clone()),
        http: quick(),
        ..ConnectOptions::default()
    };
    // It wins over a token in the environment.
    let env = Env::default().with("KUDU_STATE_TOKEN", ACCESS_TOKEN);
    assert_eq!(sign_in(&options, &env, &emu), [vfs_site("Basic")]);

    // A profile for another site than --remote is refused before anything is sent.
    emu.clear_requests();
    let other = ConnectOptions {
        remote: Some("https://other.scm.example.invalid".to_owned()),
        ..options
    };
    let e = connect(&other, &env).unwrap_err();
    assert_eq!(e.code(), "CREDENTIAL_FAILED", "{e}");
    assert_no_secret(&shown(&e));
    assert_eq!(e.path(), Some(profile.as_path()));
    assert!(emu.requests().is_empty());
}

#[test]
fn user_and_password_then_token_from_the_environment() {
    let (_home, emu) = site();
    let env = Env::from_vars([
        ("KUDU_STATE_USERNAME", USER),
        ("KUDU_STATE_PASSWORD", PASSWORD),
        ("KUDU_STATE_TOKEN", ACCESS_TOKEN),
    ]);
    assert_eq!(sign_in(&remote(&emu), &env, &emu), [vfs_site("Basic")]);
    emu.clear_requests();
    let env = Env::from_vars([("KUDU_STATE_TOKEN", ACCESS_TOKEN)]);
    assert_eq!(sign_in(&remote(&emu), &env, &emu), [vfs_site("Bearer")]);
    let e = connect(
        &remote(&emu),
        &Env::from_vars([("KUDU_STATE_USERNAME", USER)]),
    )
    .unwrap_err();
    assert_eq!(e.code(), "INVALID_INPUT");
}

fn entra_env(emu: &Emulator) -> Env {
    let az = azure();
    Env::from_vars([
        ("AZURE_TENANT_ID", az.tenant.as_str()),
        ("AZURE_CLIENT_ID", az.client_id.as_str()),
        ("AZURE_AUTHORITY_HOST", emu.url().as_str()),
    ])
}

fn token_path(_emu: &Emulator) -> String {
    format!("/{}/oauth2/v2.0/token", azure().tenant)
}

#[test]
fn workload_identity_federation() {
    let (_home, emu) = site();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, format!("{FEDERATED}\n")).unwrap();
    let env = entra_env(&emu).with("AZURE_FEDERATED_TOKEN_FILE", file.to_str().unwrap());
    assert_eq!(
        sign_in(&remote(&emu), &env, &emu),
        [("POST".into(), token_path(&emu), None), vfs_site("Bearer")]
    );
    // A federated token Entra refuses: CREDENTIAL_FAILED with Entra's reason, no secret.
    std::fs::write(&file, "SECRET-wrong-assertion").unwrap();
    let e = connect(&remote(&emu), &env).unwrap_err();
    assert_eq!(e.code(), "CREDENTIAL_FAILED", "{e}");
    assert!(e.to_string().contains("AADSTS700213"), "{e}");
    assert_no_secret(&shown(&e));
}

#[test]
fn github_actions_oidc_exchanged_at_entra() {
    let (_home, emu) = site();
    let env = entra_env(&emu)
        .with("ACTIONS_ID_TOKEN_REQUEST_URL", emu.oidc_request_url())
        .with("ACTIONS_ID_TOKEN_REQUEST_TOKEN", OIDC_REQUEST);
    let log = sign_in(&remote(&emu), &env, &emu);
    assert_eq!(
        log,
        [
            (
                "GET".into(),
                "/_apis/distributedtask/idtoken".into(),
                Some("Bearer".into())
            ),
            ("POST".into(), token_path(&emu), None),
            vfs_site("Bearer")
        ]
    );
    assert!(
        emu.requests()[0]
            .query
            .as_deref()
            .unwrap()
            .contains("audience=api%3A%2F%2FAzureADTokenExchange")
    );
    let wrong = env.with("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "SECRET-wrong");
    let e = connect(&remote(&emu), &wrong).unwrap_err();
    assert_eq!(e.code(), "CREDENTIAL_FAILED", "{e}");
    assert!(e.to_string().contains("id-token: write"), "{e}");
    assert_no_secret(&shown(&e));
}

/// A fake `az` on a temporary PATH.
#[cfg(unix)]
fn fake_az(dir: &std::path::Path, script: &str) -> Env {
    use std::os::unix::fs::PermissionsExt;
    let az = dir.join("az");
    std::fs::write(&az, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
    Env::from_vars([("PATH", dir.to_str().unwrap())])
}

#[cfg(unix)]
#[test]
fn az_on_the_path() {
    let (_home, emu) = site();
    let dir = tempfile::tempdir().unwrap();
    let sub = azure().subscription;
    let env = fake_az(
        dir.path(),
        &format!(
            r#"[ "$1 $2 $3 $4" = "account get-access-token --scope https://management.core.windows.net//.default" ] || exit 3
printf '{{"accessToken":"{ACCESS_TOKEN}","expiresOn":"2030-01-01 00:00:00.000000","subscription":"{sub}","tenant":"t","tokenType":"Bearer"}}\n'"#
        ),
    );
    assert_eq!(sign_in(&remote(&emu), &env, &emu), [vfs_site("Bearer")]);

    // --app with az: the subscription comes from az, the SCM host from ARM, the token serves both.
    emu.clear_requests();
    let by_name = ConnectOptions {
        app: Some(azure().app),
        resource_group: Some(azure().resource_group),
        arm_endpoint: Some(emu.url()),
        http: quick(),
        ..ConnectOptions::default()
    };
    let log = sign_in(&by_name, &env, &emu);
    assert_eq!(log.len(), 2);
    assert!(log[0].1.starts_with("/subscriptions/"), "{log:?}");
    assert_eq!(log[1], vfs_site("Bearer"));

    let failing = fake_az(
        dir.path(),
        "echo \"ERROR: Please run 'az login' to setup account.\" >&2; exit 1",
    );
    let e = connect(&remote(&emu), &failing).unwrap_err();
    assert_eq!(e.code(), "CREDENTIAL_FAILED");
    assert!(e.to_string().contains("az login"), "{e}");
}

#[test]
fn no_source_at_all() {
    let (_home, emu) = site();
    let e = connect(&remote(&emu), &Env::default()).unwrap_err();
    assert_eq!(e.code(), "NO_CREDENTIALS");
    assert!(e.to_string().contains("KUDU_STATE_TOKEN"), "{e}");
    assert!(emu.requests().is_empty());
}

#[test]
fn a_refused_token_is_auth_failed_with_the_rbac_role_to_check() {
    let (_home, emu) = site();
    let env = Env::from_vars([("KUDU_STATE_TOKEN", "SECRET-expired-token")]);
    let store = connect(&remote(&emu), &env).unwrap();
    let e = store.list(&rel("site")).unwrap_err();
    assert_eq!(e.code(), "AUTH_FAILED");
    assert!(
        e.to_string().contains("Microsoft.Web/sites/publish/Action"),
        "{e}"
    );
    assert_no_secret(&shown(&e));
}

#[test]
fn arm_gives_the_scm_host_of_a_site_or_slot_and_its_instances() {
    let (_home, emu) = site();
    let http = HttpClient::new(&quick(), &Env::default()).unwrap();
    let env = Env::from_vars([("KUDU_STATE_TOKEN", ACCESS_TOKEN)]);
    let (token, _) = kudu_state::remote::arm_credentials(&http, &env).unwrap();
    let arm = Arm::new(&http, &emu.url(), token).unwrap();
    let az = azure();
    let mut site = SiteRef {
        subscription: az.subscription.clone(),
        resource_group: az.resource_group.clone(),
        app: az.app.clone(),
        slot: None,
    };
    assert_eq!(arm.scm_site(&site).unwrap().as_str(), emu.url());
    assert_eq!(
        arm.instances(&site).unwrap(),
        [kudu_emulator::DEFAULT_INSTANCE]
    );
    site.slot = Some("staging".to_owned());
    assert_eq!(arm.scm_site(&site).unwrap().as_str(), emu.url());
    site.slot = Some("nope".to_owned());
    let e = arm.scm_site(&site).unwrap_err();
    assert_eq!(e.code(), "SITE_NOT_FOUND", "{e}");
    assert!(emu.requests().iter().all(|r| r.method == "GET"
        && r.path.starts_with("/subscriptions/")
        && !r.path.contains("deployments")));

    // --app with a subscription, through connect.
    emu.clear_requests();
    let options = ConnectOptions {
        app: Some(az.app.clone()),
        resource_group: Some(az.resource_group.clone()),
        subscription: Some(az.subscription.clone()),
        arm_endpoint: Some(emu.url()),
        instance: Some(kudu_emulator::DEFAULT_INSTANCE.to_owned()),
        http: quick(),
        ..ConnectOptions::default()
    };
    let store = connect(&options, &env).unwrap();
    assert_eq!(store.site().as_str(), emu.url());
    assert_eq!(store.credentials().source(), CredentialSource::Token);
    store.list(&rel("site")).unwrap();

    // A wrong token at ARM: AUTH_FAILED, with ARM's reason, no secret.
    let bad = Env::from_vars([("KUDU_STATE_TOKEN", "SECRET-bad")]);
    let e = connect(&options, &bad).unwrap_err();
    assert_eq!(e.code(), "AUTH_FAILED", "{e}");
    assert_no_secret(&shown(&e));
}

#[test]
fn secrets_never_appear_in_debug_display_or_json() {
    let (_home, emu) = site();
    let http = HttpClient::new(&quick(), &Env::default()).unwrap();
    let env = Env::from_vars([
        ("KUDU_STATE_USERNAME", USER),
        ("KUDU_STATE_PASSWORD", PASSWORD),
    ]);
    let creds = site_credentials(&http, &env, None).unwrap();
    let text = format!(
        "{creds:?} {creds} {} {env:?} {http:?}",
        serde_json::to_string(&creds).unwrap()
    );
    assert_no_secret(&text);
    let store = connect(&remote(&emu), &env).unwrap();
    assert_no_secret(&format!("{store:?}"));
}

#[test]
fn an_expired_entra_token_is_renewed_once_from_its_source() {
    use kudu_state::remote::{RemoteStore, Secret, SiteUrl};
    let (_home, emu) = site();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, FEDERATED).unwrap();
    let env = entra_env(&emu).with("AZURE_FEDERATED_TOKEN_FILE", file.to_str().unwrap());
    let options = kudu_state::remote::HttpOptions {
        max_in_flight: 1,
        ..quick()
    };
    let http = HttpClient::new(&options, &env).unwrap();
    let expired = kudu_state::remote::Credentials::bearer(
        Secret::new("SECRET-expired"),
        CredentialSource::WorkloadIdentity,
    );
    let store = RemoteStore::new(&http, SiteUrl::parse(&emu.url()).unwrap(), expired, None);
    store.renew_tokens_from(env);
    store.list(&rel("site")).unwrap();
    let log: Vec<_> = emu
        .requests()
        .into_iter()
        .map(|r| (r.method, r.path, r.status))
        .collect();
    assert_eq!(
        log,
        [
            ("GET".into(), "/api/vfs/site/".into(), Some(401)),
            ("POST".into(), token_path(&emu), Some(200)),
            ("GET".into(), "/api/vfs/site/".into(), Some(200)),
        ]
    );
    // A token that is not from a renewable source is never renewed: 401 is AUTH_FAILED at once.
    emu.clear_requests();
    let fixed = RemoteStore::new(
        &http,
        SiteUrl::parse(&emu.url()).unwrap(),
        kudu_state::remote::Credentials::bearer(Secret::new("SECRET-x"), CredentialSource::Token),
        None,
    );
    fixed.renew_tokens_from(Env::default());
    assert_eq!(fixed.list(&rel("site")).unwrap_err().code(), "AUTH_FAILED");
    assert_eq!(emu.request_count(), 1);
}

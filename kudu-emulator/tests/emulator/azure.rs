//! The fake ARM, Entra and GitHub OIDC endpoints, and the whole sign-in chain down to Kudu.

use kudu_emulator::azure::{ARM_SCOPE, AZURE_AUDIENCE, JWT_BEARER};
use kudu_emulator::{Auth, AzureOptions, Options, Platform};

use crate::util::{Client, Home, Resp, start};

const API: &str = "?api-version=2023-12-01";

fn site_path(az: &AzureOptions) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Web/sites/{}",
        az.subscription, az.resource_group, az.app
    )
}

fn token_request(client: &Client, tenant: &str, fields: &[(&str, &str)]) -> Resp {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", kudu_emulator_encode(v)))
        .collect();
    client
        .send(
            "POST",
            &format!("/{tenant}/oauth2/v2.0/token"),
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(body.join("&").as_bytes()),
        )
        .unwrap()
}

/// Form encoding, written out here so the test does not trust the emulator's decoder.
fn kudu_emulator_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn client_credentials<'a>(az: &'a AzureOptions, assertion: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("client_id", az.client_id.as_str()),
        ("scope", ARM_SCOPE),
        ("grant_type", "client_credentials"),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ]
}

#[test]
fn oidc_then_entra_then_arm_then_kudu() {
    let home = Home::new();
    home.write("site/deployments/active", "abc123");
    let az = AzureOptions {
        slots: vec!["staging".to_owned()],
        ..AzureOptions::default()
    };
    let emulator = start(
        &home,
        Options {
            auth: Auth::bearer(&az.access_token),
            instances: vec!["i0".to_owned(), "i1".to_owned()],
            azure: az.clone(),
            ..Options::new(Platform::Linux)
        },
    );
    let anonymous = Client::new(&emulator.url());

    // 1. The runner's OIDC endpoint: the request URL already has a query; the client appends.
    let oidc_url = emulator.oidc_request_url();
    let path = oidc_url.strip_prefix(&emulator.url()).unwrap();
    let audience = format!("&audience={}", kudu_emulator_encode(AZURE_AUDIENCE));
    let denied = anonymous.get(&format!("{path}{audience}"));
    assert_eq!(denied.status, 401);
    let runner = Client::new(&emulator.url()).with(
        "Authorization",
        &format!("Bearer {}", az.oidc_request_token),
    );
    let federated = runner.get(&format!("{path}{audience}")).json()["value"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(federated, az.federated_token);

    // 2. Entra: the federated token as client assertion.
    let token = token_request(&anonymous, &az.tenant, &client_credentials(&az, &federated));
    assert_eq!(token.status, 200);
    let token = token.json();
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 3599);
    let access_token = token["access_token"].as_str().unwrap().to_owned();

    // 3. ARM: the SCM host of the site, and its instances.
    let arm = Client::new(&emulator.url()).with("Authorization", &format!("Bearer {access_token}"));
    let site = arm.get(&format!("{}{API}", site_path(&az)));
    assert_eq!(site.status, 200);
    let site = site.json();
    assert_eq!(site["kind"], "app,linux");
    let states = site["properties"]["hostNameSslStates"].as_array().unwrap();
    let host = |kind: &str| {
        states
            .iter()
            .find(|s| s["hostType"] == kind)
            .map(|s| s["name"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert_eq!(host("Standard"), format!("{}{}", az.app, az.host_suffix));
    assert_eq!(host("Repository"), emulator.host());
    let instances = arm
        .get(&format!("{}/instances{API}", site_path(&az)))
        .json();
    let names: Vec<&str> = instances["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["i0", "i1"]);
    assert!(
        instances["value"][1]["id"]
            .as_str()
            .unwrap()
            .ends_with("/sites/emulated-app/instances/i1")
    );

    let slot = arm
        .get(&format!("{}/slots/staging{API}", site_path(&az)))
        .json();
    assert_eq!(slot["name"], "emulated-app/staging");
    assert_eq!(
        slot["properties"]["hostNameSslStates"][1]["name"],
        emulator.host()
    );
    let slot_instances = arm.get(&format!("{}/slots/staging/instances{API}", site_path(&az)));
    assert_eq!(slot_instances.json()["value"][0]["name"], "i0");

    // 4. Kudu at the SCM host, pinned to the second instance, with the same token.
    let scm = Client::new(&format!("http://{}", host("Repository")))
        .with("Authorization", &format!("Bearer {access_token}"))
        .with("Cookie", &format!("ARRAffinity={}", names[1]));
    assert_eq!(scm.get("/api/vfs/site/deployments/active").text(), "abc123");

    let log: Vec<(String, Option<String>)> = emulator
        .requests()
        .into_iter()
        .map(|r| (r.path, r.instance))
        .collect();
    let last = log.last().unwrap();
    assert_eq!(
        last,
        &(
            "/api/vfs/site/deployments/active".to_owned(),
            Some("i1".to_owned())
        )
    );
    assert!(
        log[..log.len() - 1]
            .iter()
            .all(|(_, instance)| instance.is_none()),
        "{log:?}"
    );
}

#[test]
fn arm_refuses_what_azure_refuses() {
    let home = Home::new();
    let az = AzureOptions::default();
    let emulator = start(&home, Options::new(Platform::Windows));
    let site = site_path(&az);
    let code = |resp: &Resp| resp.json()["error"]["code"].as_str().unwrap().to_owned();

    let anonymous = Client::new(&emulator.url()).get(&format!("{site}{API}"));
    assert_eq!(anonymous.status, 401);
    assert_eq!(code(&anonymous), "AuthenticationFailed");
    assert!(
        anonymous
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer ")
    );
    let forged = Client::new(&emulator.url()).with("Authorization", "Bearer forged");
    assert_eq!(
        code(&forged.get(&format!("{site}{API}"))),
        "InvalidAuthenticationToken"
    );

    let arm =
        Client::new(&emulator.url()).with("Authorization", &format!("Bearer {}", az.access_token));
    assert_eq!(arm.get(&format!("{site}{API}")).json()["kind"], "app");
    let no_version = arm.get(&site);
    assert_eq!(
        (no_version.status, code(&no_version).as_str()),
        (400, "MissingApiVersionParameter")
    );
    let other_app = arm.get(&format!("{}x{API}", site));
    assert_eq!(
        (other_app.status, code(&other_app).as_str()),
        (404, "ResourceNotFound")
    );
    let other_rg = site.replace(&az.resource_group, "rg-other");
    assert_eq!(
        code(&arm.get(&format!("{other_rg}{API}"))),
        "ResourceGroupNotFound"
    );
    let other_sub = site.replace(&az.subscription, "11111111-1111-1111-1111-111111111111");
    assert_eq!(
        code(&arm.get(&format!("{other_sub}{API}"))),
        "SubscriptionNotFound"
    );
    let no_slot = arm.get(&format!("{site}/slots/staging{API}"));
    assert_eq!(
        (no_slot.status, code(&no_slot).as_str()),
        (404, "ResourceNotFound")
    );
    // ARM paths ignore case.
    let shouting = arm.get(&format!(
        "{}{API}",
        site.replace("resourceGroups", "RESOURCEGROUPS")
    ));
    assert_eq!(shouting.status, 200);
    // ARM sets no affinity cookie.
    assert_eq!(shouting.header("set-cookie"), None);
}

#[test]
fn entra_refuses_bad_requests_with_aadsts_errors() {
    let home = Home::new();
    let az = AzureOptions::default();
    let emulator = start(&home, Options::new(Platform::Windows));
    let client = Client::new(&emulator.url());
    let good = client_credentials(&az, &az.federated_token);
    let with = |key: &str, value: &'static str| -> Vec<(&str, &str)> {
        good.iter()
            .map(|(k, v)| if *k == key { (*k, value) } else { (*k, *v) })
            .collect()
    };
    // (tenant, form fields, status, error, AADSTS code)
    type Case<'a> = (String, Vec<(&'a str, &'a str)>, u16, &'a str, u64);
    let cases: Vec<Case<'_>> = vec![
        (
            "other-tenant".to_owned(),
            good.clone(),
            400,
            "invalid_request",
            90002,
        ),
        (
            az.tenant.clone(),
            with("grant_type", "password"),
            400,
            "unsupported_grant_type",
            70003,
        ),
        (
            az.tenant.clone(),
            with("client_id", "someone-else"),
            400,
            "unauthorized_client",
            700016,
        ),
        (
            az.tenant.clone(),
            with("scope", "https://graph.microsoft.com/User.Read"),
            400,
            "invalid_scope",
            1002012,
        ),
        (
            az.tenant.clone(),
            with("scope", "https://vault.azure.net/.default"),
            400,
            "invalid_resource",
            500011,
        ),
        (
            az.tenant.clone(),
            with("client_assertion_type", "secret"),
            400,
            "invalid_request",
            7000216,
        ),
        (
            az.tenant.clone(),
            with("client_assertion", "forged.jwt"),
            401,
            "invalid_client",
            700213,
        ),
    ];
    for (tenant, fields, status, error, code) in cases {
        let resp = token_request(&client, &tenant, &fields);
        assert_eq!(resp.status, status, "{error}");
        let body = resp.json();
        assert_eq!(body["error"], error);
        assert_eq!(body["error_codes"][0], code);
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .starts_with(&format!("AADSTS{code}:"))
        );
    }
    let ok = token_request(&client, &az.tenant, &good);
    assert_eq!(ok.json()["access_token"], az.access_token);

    // A token minted by the runner for another audience fails the federated credential match.
    let runner = Client::new(&emulator.url()).with(
        "Authorization",
        &format!("Bearer {}", az.oidc_request_token),
    );
    let path = emulator.oidc_request_url();
    let path = path.strip_prefix(&emulator.url()).unwrap();
    let other = runner
        .get(&format!("{path}&audience=api%3A%2F%2Fother"))
        .json()["value"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(other, az.federated_token);
    let refused = token_request(&client, &az.tenant, &client_credentials(&az, &other));
    assert_eq!(refused.status, 401);
    assert_eq!(refused.json()["error_codes"][0], 700212);
}

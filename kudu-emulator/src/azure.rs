//! Fake Azure endpoints on the same server as the SCM site, told apart by path:
//!
//! - ARM: `GET /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Web/sites/{app}`
//!   (`/slots/{slot}`, `/instances` under either) `?api-version=...`, bearer token required.
//! - Entra: `POST /{tenant}/oauth2/v2.0/token` (client credentials with a federated assertion).
//! - GitHub Actions OIDC: `GET` [`OIDC_PATH`]`?api-version=2.0&audience=...` with the runner's
//!   request token.
//!
//! In Azure these are three other hosts; pointing a client's ARM, login and OIDC base URLs at
//! [`crate::Emulator::url`] makes one server play all of them, with one request log, so a test can
//! check the whole sequence (OIDC token, Entra token, ARM site, then Kudu at the SCM host ARM
//! gave). None of them sets the `ARRAffinity` cookie, and the log shows no instance for them.

use serde_json::{Value, json};

use crate::Platform;
use crate::auth::credentials;
use crate::dotnet;
use crate::http::{HttpRequest, HttpResponse, form_pairs};
use crate::server::Shared;

/// The path of the fake GitHub Actions OIDC token endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL` is
/// [`crate::Emulator::oidc_request_url`]).
pub const OIDC_PATH: &str = "/_apis/distributedtask/idtoken";
/// The audience Azure's federated credentials expect.
pub const AZURE_AUDIENCE: &str = "api://AzureADTokenExchange";
/// The client assertion type of a federated (JWT) credential.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The ARM scope the tools request.
pub const ARM_SCOPE: &str = "https://management.core.windows.net//.default";

/// Names, tokens and hosts of the fake Azure endpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AzureOptions {
    /// The Entra tenant (directory) id the token endpoint answers for.
    pub tenant: String,
    /// The application (client) id allowed to get a token.
    pub client_id: String,
    /// Scopes the token endpoint grants (ARM's, by default, with one or two slashes).
    pub scopes: Vec<String>,
    /// The runner's request token the OIDC endpoint requires (`ACTIONS_ID_TOKEN_REQUEST_TOKEN`).
    pub oidc_request_token: String,
    /// The federated JWT the OIDC endpoint hands out for [`AZURE_AUDIENCE`], and the only
    /// `client_assertion` the token endpoint accepts.
    pub federated_token: String,
    /// The access token the token endpoint hands out and ARM requires. Give the SCM site
    /// `Auth::Bearer` with the same value to play Kudu's acceptance of ARM-audience tokens.
    pub access_token: String,
    pub subscription: String,
    pub resource_group: String,
    pub app: String,
    /// Deployment slots of the app (ARM answers 404 for others).
    pub slots: Vec<String>,
    /// The `Repository` host name ARM reports; `None` = the emulator's own `127.0.0.1:PORT`.
    pub scm_host: Option<String>,
    /// Suffix of the app's default host name (`<app><suffix>`, `<app>-<slot><suffix>`).
    pub host_suffix: String,
    pub location: String,
}

impl Default for AzureOptions {
    fn default() -> Self {
        Self {
            tenant: "72f988bf-0000-4000-8000-00000000e001".to_owned(),
            client_id: "5a7d1e43-0000-4000-8000-00000000c11d".to_owned(),
            scopes: vec![
                ARM_SCOPE.to_owned(),
                "https://management.core.windows.net/.default".to_owned(),
                "https://management.azure.com//.default".to_owned(),
                "https://management.azure.com/.default".to_owned(),
            ],
            oidc_request_token: "emulator-oidc-request-token".to_owned(),
            federated_token: "emulator-federated-jwt".to_owned(),
            access_token: "emulator-arm-access-token".to_owned(),
            subscription: "00000000-0000-4000-8000-000000005ab5".to_owned(),
            resource_group: "rg-emulator".to_owned(),
            app: "emulated-app".to_owned(),
            slots: Vec::new(),
            scm_host: None,
            host_suffix: ".azurewebsites.net".to_owned(),
            location: "West Europe".to_owned(),
        }
    }
}

/// Answers the request if it is for one of the fake Azure endpoints.
pub(crate) fn handle(shared: &Shared, request: &HttpRequest) -> Option<HttpResponse> {
    let lower = request.path.to_ascii_lowercase();
    if lower.starts_with("/subscriptions/") {
        return Some(arm(shared, request));
    }
    if lower == OIDC_PATH.to_ascii_lowercase() {
        return Some(oidc(shared, request));
    }
    let segments: Vec<&str> = request.path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        [tenant, oauth2, "v2.0", token]
            if oauth2.eq_ignore_ascii_case("oauth2") && token.eq_ignore_ascii_case("token") =>
        {
            Some(entra_token(shared, request, tenant))
        }
        _ => None,
    }
}

fn arm_error(status: u16, code: &str, message: &str) -> HttpResponse {
    HttpResponse::json(
        status,
        &json!({ "error": { "code": code, "message": message } }),
    )
}

fn arm(shared: &Shared, request: &HttpRequest) -> HttpResponse {
    let az = &shared.options.azure;
    let challenge = format!(
        "Bearer authorization_uri=\"http://{}/{}\", error=\"invalid_token\", error_description=\"The authentication failed because of missing 'Authorization' header.\"",
        shared.host(),
        az.tenant
    );
    match credentials(request.header("authorization"), "Bearer") {
        None => {
            return arm_error(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
            )
            .header("WWW-Authenticate", challenge);
        }
        Some(token) if token != az.access_token => {
            return arm_error(
                401,
                "InvalidAuthenticationToken",
                "The access token is invalid.",
            )
            .header("WWW-Authenticate", challenge);
        }
        Some(_) => {}
    }
    if request.method != "GET" {
        return arm_error(
            405,
            "MethodNotAllowed",
            &format!(
                "The emulator's ARM only answers GET, not {}.",
                request.method
            ),
        );
    }
    if request
        .query_param("api-version")
        .is_none_or(|v| v.is_empty())
    {
        return arm_error(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        );
    }
    let segments: Vec<&str> = request.path.split('/').filter(|s| !s.is_empty()).collect();
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let [_, sub, rest @ ..] = segments.as_slice() else {
        return arm_error(404, "NotFound", "No route matches the request.");
    };
    if !same(sub, &az.subscription) {
        return arm_error(
            404,
            "SubscriptionNotFound",
            &format!("The subscription '{sub}' could not be found."),
        );
    }
    let [rg_word, rg, providers, namespace, sites, app, rest @ ..] = rest else {
        return arm_error(404, "NotFound", "No route matches the request.");
    };
    if !(same(rg_word, "resourceGroups")
        && same(providers, "providers")
        && same(namespace, "Microsoft.Web")
        && same(sites, "sites"))
    {
        return arm_error(404, "NotFound", "No route matches the request.");
    }
    if !same(rg, &az.resource_group) {
        return arm_error(
            404,
            "ResourceGroupNotFound",
            &format!("Resource group '{rg}' could not be found."),
        );
    }
    let missing = |what: &str| {
        arm_error(
            404,
            "ResourceNotFound",
            &format!(
                "The Resource 'Microsoft.Web/{what}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
            ),
        )
    };
    if !same(app, &az.app) {
        return missing(&format!("sites/{app}"));
    }
    let slot_known = |slot: &str| az.slots.iter().any(|s| same(s, slot));
    match rest {
        [] => HttpResponse::json(200, &site(shared, None)),
        [instances] if same(instances, "instances") => {
            HttpResponse::json(200, &instances_json(shared, None))
        }
        [slots, slot, rest @ ..] if same(slots, "slots") => {
            if !slot_known(slot) {
                return missing(&format!("sites/{app}/slots/{slot}"));
            }
            let slot = az
                .slots
                .iter()
                .find(|s| same(s, slot))
                .map_or(*slot, String::as_str);
            match rest {
                [] => HttpResponse::json(200, &site(shared, Some(slot))),
                [instances] if same(instances, "instances") => {
                    HttpResponse::json(200, &instances_json(shared, Some(slot)))
                }
                _ => arm_error(404, "NotFound", "No route matches the request."),
            }
        }
        _ => arm_error(404, "NotFound", "No route matches the request."),
    }
}

fn site_id(shared: &Shared, slot: Option<&str>) -> String {
    let az = &shared.options.azure;
    let mut id = format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Web/sites/{}",
        az.subscription, az.resource_group, az.app
    );
    if let Some(slot) = slot {
        id.push_str(&format!("/slots/{slot}"));
    }
    id
}

/// The site (or slot) resource, trimmed to what deployment tools read.
fn site(shared: &Shared, slot: Option<&str>) -> Value {
    let az = &shared.options.azure;
    let linux = shared.options.platform == Platform::Linux;
    let (name, host, kind_type) = match slot {
        None => (
            az.app.clone(),
            format!("{}{}", az.app, az.host_suffix),
            "Microsoft.Web/sites",
        ),
        Some(slot) => (
            format!("{}/{slot}", az.app),
            format!("{}-{slot}{}", az.app, az.host_suffix),
            "Microsoft.Web/sites/slots",
        ),
    };
    let scm = az.scm_host.clone().unwrap_or_else(|| shared.host());
    json!({
        "id": site_id(shared, slot),
        "name": name,
        "type": kind_type,
        "kind": if linux { "app,linux" } else { "app" },
        "location": az.location,
        "properties": {
            "name": name,
            "state": "Running",
            "hostNames": [host],
            "enabledHostNames": [host, scm],
            "defaultHostName": host,
            "hostNameSslStates": [
                { "name": host, "sslState": "Disabled", "ipBasedSslState": "NotConfigured", "hostType": "Standard" },
                { "name": scm, "sslState": "Disabled", "ipBasedSslState": "NotConfigured", "hostType": "Repository" },
            ],
            "reserved": linux,
            "resourceGroup": az.resource_group,
            "enabled": true,
            "availabilityState": "Normal",
        },
    })
}

fn instances_json(shared: &Shared, slot: Option<&str>) -> Value {
    let base = site_id(shared, slot);
    let value: Vec<Value> = shared
        .options
        .instances
        .iter()
        .map(|name| {
            json!({
                "id": format!("{base}/instances/{name}"),
                "name": name,
                "type": if slot.is_some() { "Microsoft.Web/sites/slots/instances" } else { "Microsoft.Web/sites/instances" },
                "location": shared.options.azure.location,
                "properties": { "state": "READY", "siteInstanceName": name },
            })
        })
        .collect();
    json!({ "value": value, "nextLink": null })
}

/// An Entra (AADSTS) error answer.
fn aad_error(shared: &Shared, status: u16, error: &str, code: u32, text: &str) -> HttpResponse {
    let now = dotnet::civil(dotnet::ticks(std::time::SystemTime::now()));
    let timestamp = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
        now.year, now.month, now.day, now.hour, now.minute, now.second
    );
    let trace = "00000000-0000-4000-8000-0000000e4a1c";
    HttpResponse::json(
        status,
        &json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {text} Trace ID: {trace} Correlation ID: {trace} Timestamp: {timestamp}"),
            "error_codes": [code],
            "timestamp": timestamp,
            "trace_id": trace,
            "correlation_id": trace,
            "error_uri": format!("http://{}/error?code={code}", shared.host()),
        }),
    )
}

/// `POST /{tenant}/oauth2/v2.0/token`, client credentials with a federated client assertion.
fn entra_token(shared: &Shared, request: &HttpRequest, tenant: &str) -> HttpResponse {
    let az = &shared.options.azure;
    let fail = |status, error, code, text: &str| aad_error(shared, status, error, code, text);
    if request.method != "POST" {
        return fail(
            400,
            "invalid_request",
            900_561,
            &format!(
                "The endpoint only accepts POST requests. Received a {} request.",
                request.method
            ),
        );
    }
    if !tenant.eq_ignore_ascii_case(&az.tenant) {
        return fail(
            400,
            "invalid_request",
            90_002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        );
    }
    let form = form_pairs(&String::from_utf8_lossy(&request.body));
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let required = |name: &str| {
        fail(
            400,
            "invalid_request",
            900_144,
            &format!("The request body must contain the following parameter: '{name}'."),
        )
    };
    let Some(grant_type) = field("grant_type") else {
        return required("grant_type");
    };
    if grant_type != "client_credentials" {
        return fail(
            400,
            "unsupported_grant_type",
            70_003,
            &format!("The app requested an unsupported grant type '{grant_type}'."),
        );
    }
    let Some(client_id) = field("client_id") else {
        return required("client_id");
    };
    if !client_id.eq_ignore_ascii_case(&az.client_id) {
        return fail(
            400,
            "unauthorized_client",
            700_016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant}'."
            ),
        );
    }
    let Some(scope) = field("scope") else {
        return required("scope");
    };
    if !scope.ends_with("/.default") {
        return fail(
            400,
            "invalid_scope",
            1_002_012,
            &format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        );
    }
    if !az.scopes.iter().any(|s| s == scope) {
        return fail(
            400,
            "invalid_resource",
            500_011,
            &format!(
                "The resource principal named {} was not found in the tenant named {tenant}.",
                scope.trim_end_matches("/.default")
            ),
        );
    }
    if field("client_assertion_type") != Some(JWT_BEARER) || field("client_assertion").is_none() {
        return fail(
            400,
            "invalid_request",
            7_000_216,
            "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
        );
    }
    let assertion = field("client_assertion").unwrap_or("");
    if assertion != az.federated_token {
        let audience_prefix = format!("{}#aud=", az.federated_token);
        return match assertion.strip_prefix(&audience_prefix) {
            Some(audience) => fail(
                401,
                "invalid_client",
                700_212,
                &format!(
                    "No matching federated identity record found for presented assertion audience '{audience}'."
                ),
            ),
            None => fail(
                401,
                "invalid_client",
                700_213,
                "No matching federated identity record found for presented assertion subject. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.",
            ),
        };
    }
    HttpResponse::json(
        200,
        &json!({
            "token_type": "Bearer",
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": az.access_token,
        }),
    )
}

/// The GitHub Actions OIDC token endpoint. For an audience other than [`AZURE_AUDIENCE`] it hands
/// out `<federated_token>#aud=<audience>`, which the token endpoint refuses as a federated
/// credential audience mismatch (AADSTS700212), as Entra refuses a token minted for another
/// audience.
fn oidc(shared: &Shared, request: &HttpRequest) -> HttpResponse {
    let az = &shared.options.azure;
    if request.method != "GET" {
        return HttpResponse::json(405, &json!({ "message": "Method not allowed" }));
    }
    if credentials(request.header("authorization"), "Bearer")
        != Some(az.oidc_request_token.as_str())
    {
        return HttpResponse::json(401, &json!({ "message": "Unauthorized" }))
            .header("WWW-Authenticate", "Bearer");
    }
    let audience = request.query_param("audience").unwrap_or_default();
    let value = if audience == AZURE_AUDIENCE {
        az.federated_token.clone()
    } else {
        format!("{}#aud={audience}", az.federated_token)
    };
    HttpResponse::json(200, &json!({ "count": 1, "value": value }))
}

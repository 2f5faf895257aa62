//! Entra ID access tokens with ARM's audience, which Kudu accepts as well as ARM:
//!
//! - workload identity federation: the federated token in `AZURE_FEDERATED_TOKEN_FILE` is the
//!   client assertion of a client-credentials request at `{authority}/{tenant}/oauth2/v2.0/token`;
//! - GitHub Actions OIDC: the runner's ID token for `api://AzureADTokenExchange`, fetched from
//!   `ACTIONS_ID_TOKEN_REQUEST_URL` with `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, is that assertion;
//! - `az account get-access-token`, run with the given environment.
//!
//! The authority is `AZURE_AUTHORITY_HOST` (default the public cloud's). Nothing here is retried
//! but the OIDC GET: a token request is a POST.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::env::Env;
use super::http::{Call, HttpClient, Method};
use super::secret::{CredentialSource, Secret};
use super::url::{check_url, encode_component};
use crate::error::{Error, Result};

/// The scope asked for: ARM's, which Kudu accepts.
pub const ARM_SCOPE: &str = "https://management.core.windows.net//.default";
/// The audience of a federated assertion.
pub const AZURE_AUDIENCE: &str = "api://AzureADTokenExchange";
/// Entra's public-cloud authority, when `AZURE_AUTHORITY_HOST` is not set.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The longest `az` may take.
const AZ_TIMEOUT: Duration = Duration::from_secs(60);
/// The most bytes read from a federated token file or `az`'s output.
const SMALL_CAP: u64 = 1024 * 1024;

/// A token, and what came with it.
pub(crate) struct Token {
    pub token: Secret,
    /// The subscription `az` is set to, when the token came from `az`.
    pub subscription: Option<String>,
    pub source: CredentialSource,
}

/// The first Entra source configured in `env`, as a token: workload identity, then GitHub Actions
/// OIDC, then `az` on `PATH`. `Ok(None)` when none is configured.
pub(crate) fn entra_token(http: &HttpClient, env: &Env) -> Result<Option<Token>> {
    let tenant = env.get("AZURE_TENANT_ID");
    let client = env.get("AZURE_CLIENT_ID");
    if let (Some(tenant), Some(client), Some(file)) =
        (tenant, client, env.get("AZURE_FEDERATED_TOKEN_FILE"))
    {
        let source = CredentialSource::WorkloadIdentity;
        let assertion = read_assertion(Path::new(file), source)?;
        let token = exchange(http, env, tenant, client, &assertion, source)?;
        return Ok(Some(Token {
            token,
            subscription: None,
            source,
        }));
    }
    if let (Some(tenant), Some(client), Some(url), Some(request_token)) = (
        tenant,
        client,
        env.get("ACTIONS_ID_TOKEN_REQUEST_URL"),
        env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    ) {
        let source = CredentialSource::GithubOidc;
        let assertion = github_id_token(http, url, &Secret::new(request_token))?;
        let token = exchange(http, env, tenant, client, &assertion, source)?;
        return Ok(Some(Token {
            token,
            subscription: None,
            source,
        }));
    }
    if let Some(az) = env.find_program("az") {
        return azure_cli(&az, env, http).map(Some);
    }
    Ok(None)
}

fn failed(source: CredentialSource, reason: impl Into<String>) -> Error {
    Error::CredentialFailed {
        provider: source.describe(),
        path: None,
        url: None,
        reason: reason.into(),
    }
}

fn read_assertion(path: &Path, source: CredentialSource) -> Result<Secret> {
    let file = fs_err::File::open(path).map_err(|e| Error::io("read", path, e))?;
    let mut text = String::new();
    file.take(SMALL_CAP)
        .read_to_string(&mut text)
        .map_err(|e| Error::io("read", path, e))?;
    let assertion = Secret::new(text.trim());
    if assertion.is_empty() {
        return Err(Error::CredentialFailed {
            provider: source.describe(),
            path: Some(path.to_path_buf()),
            url: None,
            reason: "the federated token file is empty".to_owned(),
        });
    }
    Ok(assertion)
}

/// The runner's ID token for [`AZURE_AUDIENCE`].
fn github_id_token(http: &HttpClient, url: &str, request_token: &Secret) -> Result<Secret> {
    let source = CredentialSource::GithubOidc;
    check_url(url)?;
    let separator = if url.contains('?') { '&' } else { '?' };
    let url = format!(
        "{url}{separator}audience={}",
        encode_component(AZURE_AUDIENCE)
    );
    let authorization = Secret::new(format!("Bearer {}", request_token.expose()));
    let answer = http.execute(&Call {
        method: Method::Get,
        url,
        headers: vec![("Accept", "application/json".to_owned())],
        authorization: Some(&authorization),
    })?;
    let shown = answer.url.clone();
    if answer.status != 200 {
        let status = answer.status;
        let text = answer.error_text();
        return Err(Error::CredentialFailed {
            provider: source.describe(),
            path: None,
            url: Some(shown),
            reason: format!(
                "the OIDC endpoint answered {status} ({text}); the workflow needs `permissions: id-token: write`"
            ),
        });
    }
    let body = answer.read_all(SMALL_CAP)?;
    let value = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("value")?.as_str().map(str::to_owned))
        .ok_or_else(|| Error::CredentialFailed {
            provider: source.describe(),
            path: None,
            url: Some(shown),
            reason: "the OIDC endpoint's answer has no `value`".to_owned(),
        })?;
    Ok(Secret::new(value))
}

/// Client credentials with a federated assertion, for [`ARM_SCOPE`].
fn exchange(
    http: &HttpClient,
    env: &Env,
    tenant: &str,
    client: &str,
    assertion: &Secret,
    source: CredentialSource,
) -> Result<Secret> {
    let authority = env
        .get("AZURE_AUTHORITY_HOST")
        .unwrap_or(DEFAULT_AUTHORITY)
        .trim_end_matches('/');
    if !tenant
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(failed(
            source,
            "AZURE_TENANT_ID is not a tenant id or domain",
        ));
    }
    let url = format!("{authority}/{tenant}/oauth2/v2.0/token");
    let form = Secret::new(format!(
        "grant_type=client_credentials&client_id={}&scope={}&client_assertion_type={}&client_assertion={}",
        encode_component(client),
        encode_component(ARM_SCOPE),
        encode_component(JWT_BEARER),
        encode_component(assertion.expose()),
    ));
    let answer = http.execute(&Call {
        method: Method::PostForm(form),
        url,
        headers: vec![("Accept", "application/json".to_owned())],
        authorization: None,
    })?;
    let shown = answer.url.clone();
    let status = answer.status;
    let body = answer.read_all(SMALL_CAP)?;
    let json = serde_json::from_slice::<serde_json::Value>(&body).ok();
    if status == 200
        && let Some(token) = json
            .as_ref()
            .and_then(|v| v.get("access_token")?.as_str())
            .filter(|t| !t.trim().is_empty())
    {
        return Ok(Secret::new(token));
    }
    let reason = json
        .as_ref()
        .map(|v| {
            let error = v.get("error").and_then(|e| e.as_str()).unwrap_or("");
            let description = v
                .get("error_description")
                .and_then(|e| e.as_str())
                .unwrap_or("");
            // Entra appends trace and correlation ids and a timestamp: noise here.
            let description = description
                .split(" Trace ID:")
                .next()
                .unwrap_or(description)
                .lines()
                .next()
                .unwrap_or("");
            format!("{error}: {description}")
        })
        .unwrap_or_else(|| "no JSON answer".to_owned());
    Err(Error::CredentialFailed {
        provider: source.describe(),
        path: None,
        url: Some(shown),
        reason: format!(
            "Entra answered {status} ({}); check AZURE_TENANT_ID, AZURE_CLIENT_ID and the federated credential's subject and audience",
            reason.chars().take(400).collect::<String>()
        ),
    })
}

/// `az account get-access-token --scope <ARM>` with `env` as its environment.
fn azure_cli(az: &PathBuf, env: &Env, http: &HttpClient) -> Result<Token> {
    let source = CredentialSource::AzureCli;
    let mut child = Command::new(az)
        .args([
            "account",
            "get-access-token",
            "--scope",
            ARM_SCOPE,
            "--output",
            "json",
        ])
        .env_clear()
        .envs(env.vars())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::io("run", az, e))?;
    let timeout = http.remaining().map_or(AZ_TIMEOUT, |r| r.min(AZ_TIMEOUT));
    // The output is read on threads, so a chatty `az` cannot block on a full pipe.
    let stdout = child.stdout.take().map(capture);
    let stderr = child.stderr.take().map(capture);
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(failed(
                    source,
                    format!(
                        "`az account get-access-token` did not finish within {} s",
                        timeout.as_secs()
                    ),
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(Error::io("run", az, e)),
        }
    };
    let stdout = stdout.and_then(|h| h.join().ok()).unwrap_or_default();
    let stderr = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
    if !status.success() {
        let said = String::from_utf8_lossy(&stderr);
        let said = said
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("")
            .chars()
            .take(300)
            .collect::<String>();
        return Err(failed(
            source,
            format!("`az account get-access-token` failed ({status}): {said}; run `az login`"),
        ));
    }
    let json = serde_json::from_slice::<serde_json::Value>(&stdout).ok();
    let token = json
        .as_ref()
        .and_then(|v| v.get("accessToken")?.as_str())
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| failed(source, "`az` printed no accessToken"))?;
    Ok(Token {
        token: Secret::new(token),
        subscription: json
            .as_ref()
            .and_then(|v| v.get("subscription")?.as_str().map(str::to_owned)),
        source,
    })
}

fn capture(pipe: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = pipe.take(SMALL_CAP).read_to_end(&mut out);
        out
    })
}

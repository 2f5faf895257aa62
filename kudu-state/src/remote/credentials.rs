//! The credential chain: which credentials a run sends to the site, and which token it sends to
//! ARM. First found wins, and a source that is found but fails is an error (never a silent fall
//! through to the next one, which would sign in as someone else):
//!
//! 1. `--publish-profile FILE` (Basic publishing credentials);
//! 2. `KUDU_STATE_USERNAME` + `KUDU_STATE_PASSWORD` (Basic);
//! 3. `KUDU_STATE_TOKEN` (Bearer);
//! 4. Entra ID (Bearer, ARM's audience): workload identity federation (`AZURE_TENANT_ID`,
//!    `AZURE_CLIENT_ID`, `AZURE_FEDERATED_TOKEN_FILE`); GitHub Actions OIDC
//!    (`ACTIONS_ID_TOKEN_REQUEST_URL`/`_TOKEN` with `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`)
//!    exchanged at `AZURE_AUTHORITY_HOST`; then `az account get-access-token` when `az` is on
//!    `PATH`.
//!
//! Everything is read from an explicit [`Env`], never from `std::env`.

use super::entra::{self, Token};
use super::env::Env;
use super::http::HttpClient;
use super::publish_profile::PublishProfile;
use super::secret::{CredentialSource, Credentials, Secret};
use crate::error::{Error, Result};

/// How to provide credentials, for [`Error::NoCredentials`].
const HOW: &str = "pass --publish-profile FILE, or set KUDU_STATE_USERNAME and KUDU_STATE_PASSWORD (publishing credentials), or KUDU_STATE_TOKEN (an Entra token for https://management.core.windows.net/), or AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE (workload identity), or run in GitHub Actions with `permissions: id-token: write` and AZURE_TENANT_ID, AZURE_CLIENT_ID, or sign in with `az login`";

/// Credentials for the site: the first source found in `env` (the publish profile, already read,
/// comes first).
///
/// # Errors
/// `NO_CREDENTIALS` when no source is configured; `CREDENTIAL_FAILED` (or `IO_ERROR` for an
/// unreadable token file) when the first one found fails; `INVALID_INPUT` for a user name without a
/// password.
pub fn site_credentials(
    http: &HttpClient,
    env: &Env,
    profile: Option<&PublishProfile>,
) -> Result<Credentials> {
    if let Some(profile) = profile {
        return Ok(profile.credentials());
    }
    match (
        env.get("KUDU_STATE_USERNAME"),
        env.get("KUDU_STATE_PASSWORD"),
    ) {
        (Some(user), Some(password)) => {
            return Ok(Credentials::basic(
                user,
                Secret::new(password),
                CredentialSource::UsernamePassword,
            ));
        }
        (Some(_), None) => {
            return Err(Error::invalid(
                "argument",
                "KUDU_STATE_USERNAME is set but KUDU_STATE_PASSWORD is not",
            ));
        }
        (None, Some(_)) => {
            return Err(Error::invalid(
                "argument",
                "KUDU_STATE_PASSWORD is set but KUDU_STATE_USERNAME is not",
            ));
        }
        (None, None) => {}
    }
    arm_credentials(http, env).map(|(c, _)| c)
}

/// A bearer token for ARM (and Kudu): `KUDU_STATE_TOKEN`, else the Entra sources. Also gives the
/// subscription `az` is set to, when the token came from `az`.
///
/// # Errors
/// As [`site_credentials`].
pub fn arm_credentials(http: &HttpClient, env: &Env) -> Result<(Credentials, Option<String>)> {
    if let Some(token) = env.get("KUDU_STATE_TOKEN") {
        let token = token.trim();
        let token = token
            .strip_prefix("Bearer ")
            .or_else(|| token.strip_prefix("bearer "))
            .unwrap_or(token);
        return Ok((
            Credentials::bearer(Secret::new(token), CredentialSource::Token),
            None,
        ));
    }
    match entra::entra_token(http, env)? {
        Some(Token {
            token,
            subscription,
            source,
        }) => Ok((Credentials::bearer(token, source), subscription)),
        None => Err(Error::NoCredentials {
            hint: HOW.to_owned(),
        }),
    }
}

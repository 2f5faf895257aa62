//! Secrets and the credentials that carry them: types whose `Debug`, `Display` and `Serialize`
//! cannot show a password or a token.

use std::fmt;

use crate::error::{Error, Result};
use base64::Engine as _;
use serde::Serialize;

/// A password, token, client assertion or `Authorization` value. It has no `Display` and no
/// `Serialize`; its `Debug` is `Secret(<redacted>)`. Only the HTTP layer reads it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that sends it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty (or only whitespace).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Where a site's credentials came from (first found wins, in this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialSource {
    /// `--publish-profile FILE`: the publishing credentials of a `.PublishSettings` file (Basic).
    PublishProfile,
    /// `KUDU_STATE_USERNAME` and `KUDU_STATE_PASSWORD` (Basic).
    UsernamePassword,
    /// `KUDU_STATE_TOKEN` (Bearer).
    Token,
    /// Entra workload identity federation: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
    /// `AZURE_FEDERATED_TOKEN_FILE` (Bearer).
    WorkloadIdentity,
    /// GitHub Actions OIDC (`ACTIONS_ID_TOKEN_REQUEST_URL`/`_TOKEN`) exchanged at Entra (Bearer).
    GithubOidc,
    /// `az account get-access-token` (Bearer).
    AzureCli,
    /// Given in code: the Python and Node packages' `credentials` (Basic or Bearer).
    Given,
}

impl CredentialSource {
    /// How the source is named in messages.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            CredentialSource::PublishProfile => "the publish profile",
            CredentialSource::UsernamePassword => "KUDU_STATE_USERNAME/KUDU_STATE_PASSWORD",
            CredentialSource::Token => "KUDU_STATE_TOKEN",
            CredentialSource::WorkloadIdentity => "workload identity (AZURE_FEDERATED_TOKEN_FILE)",
            CredentialSource::GithubOidc => "GitHub Actions OIDC",
            CredentialSource::AzureCli => "az (Azure CLI)",
            CredentialSource::Given => "the `credentials` given in code",
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
enum Scheme {
    Basic { user: String, password: Secret },
    Bearer { token: Secret },
}

/// Credentials for a site (or for ARM): Basic publishing credentials or an Entra bearer token
/// with ARM's audience, and where they came from.
///
/// `Debug`, `Display` and `Serialize` show the scheme, the source and a Basic user name, never the
/// password or token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    scheme: Scheme,
    source: CredentialSource,
}

impl Credentials {
    /// Basic credentials (publishing credentials: user `$app`, the site's password).
    pub fn basic(user: impl Into<String>, password: Secret, source: CredentialSource) -> Self {
        Credentials {
            scheme: Scheme::Basic {
                user: user.into(),
                password,
            },
            source,
        }
    }

    /// A bearer token (an Entra access token for `https://management.core.windows.net/`).
    #[must_use]
    pub fn bearer(token: Secret, source: CredentialSource) -> Self {
        Credentials {
            scheme: Scheme::Bearer { token },
            source,
        }
    }

    /// Basic credentials given in code ([`CredentialSource::Given`]).
    ///
    /// # Errors
    /// `INVALID_INPUT` for an empty user or password, or a user with `:` or a control character
    /// (a Basic header cannot carry them).
    pub fn given_basic(user: &str, password: Secret) -> Result<Credentials> {
        if user.trim().is_empty() {
            Err(Error::invalid("argument", "the Basic user name is empty"))
        } else if user.contains(':') || user.chars().any(char::is_control) {
            Err(Error::invalid(
                "argument",
                "the Basic user name must not contain `:` or control characters",
            ))
        } else if password.is_empty() {
            Err(Error::invalid("argument", "the password is empty"))
        } else {
            Ok(Credentials::basic(user, password, CredentialSource::Given))
        }
    }

    /// A bearer token given in code ([`CredentialSource::Given`]); a leading `Bearer ` is removed.
    ///
    /// # Errors
    /// `INVALID_INPUT` for an empty token, or one with spaces or control characters (a header
    /// cannot carry them).
    pub fn given_token(token: &str) -> Result<Credentials> {
        let token = token.trim();
        let token = match token.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ if token.eq_ignore_ascii_case("bearer") => "",
            _ => token,
        };
        if token.is_empty() {
            Err(Error::invalid("argument", "the token is empty"))
        } else if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            Err(Error::invalid(
                "argument",
                "the token has spaces or control characters, which a header cannot carry",
            ))
        } else {
            Ok(Credentials::bearer(
                Secret::new(token),
                CredentialSource::Given,
            ))
        }
    }

    /// Where they came from.
    #[must_use]
    pub fn source(&self) -> CredentialSource {
        self.source
    }

    /// `"Basic"` or `"Bearer"`.
    #[must_use]
    pub fn scheme(&self) -> &'static str {
        match self.scheme {
            Scheme::Basic { .. } => "Basic",
            Scheme::Bearer { .. } => "Bearer",
        }
    }

    /// The Basic user name (not a secret: `$<app>` for publishing credentials).
    #[must_use]
    pub fn user(&self) -> Option<&str> {
        match &self.scheme {
            Scheme::Basic { user, .. } => Some(user),
            Scheme::Bearer { .. } => None,
        }
    }

    /// Whether these are a bearer token (which ARM also accepts).
    #[must_use]
    pub fn is_bearer(&self) -> bool {
        matches!(self.scheme, Scheme::Bearer { .. })
    }

    /// The `Authorization` header value.
    pub(crate) fn authorization(&self) -> Secret {
        match &self.scheme {
            Scheme::Basic { user, password } => {
                let pair = format!("{user}:{}", password.expose());
                Secret(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                ))
            }
            Scheme::Bearer { token } => Secret(format!("Bearer {}", token.expose())),
        }
    }

    /// Every secret these credentials hold (for scrubbing texts that could echo them).
    pub(crate) fn secrets(&self) -> Vec<&str> {
        match &self.scheme {
            Scheme::Basic { password, .. } => vec![password.expose()],
            Scheme::Bearer { token } => vec![token.expose()],
        }
    }

    /// What to check when a site refuses these credentials (401/403).
    pub(crate) fn refusal_hint(&self) -> String {
        let what = match self.scheme {
            Scheme::Basic { .. } => {
                "the publishing user name and password, and that the site allows basic authentication for publishing credentials (`basicPublishingCredentialsPolicies/scm` must be enabled; it is off on many sites: use an Entra token instead)"
            }
            Scheme::Bearer { .. } => {
                "that the identity has `Microsoft.Web/sites/publish/Action` on the site (e.g. the Website Contributor role) and that the token is for ARM (`https://management.core.windows.net//.default`) and not expired"
            }
        };
        format!(
            "{what}; the credentials came from {}; a 403 can also be the site's SCM access restrictions",
            self.source.describe()
        )
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Credentials");
        s.field("scheme", &self.scheme());
        if let Some(user) = self.user() {
            s.field("user", &user);
        }
        s.field("source", &self.source).finish_non_exhaustive()
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.user() {
            Some(user) => write!(
                f,
                "Basic credentials of `{user}` from {}",
                self.source.describe()
            ),
            None => write!(f, "a bearer token from {}", self.source.describe()),
        }
    }
}

impl Serialize for Credentials {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut s = serializer.serialize_struct("Credentials", 3)?;
        s.serialize_field("scheme", self.scheme())?;
        s.serialize_field("user", &self.user())?;
        s.serialize_field("source", &self.source)?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_shows_the_secret() {
        let basic = Credentials::basic(
            "$app",
            Secret::new("hunter2-pw"),
            CredentialSource::PublishProfile,
        );
        let bearer = Credentials::bearer(Secret::new("eyJ-token"), CredentialSource::Token);
        for c in [&basic, &bearer] {
            let shown = format!(
                "{c:?} {c} {} {}",
                serde_json::to_string(c).unwrap(),
                c.refusal_hint()
            );
            assert!(
                !shown.contains("hunter2") && !shown.contains("eyJ"),
                "{shown}"
            );
        }
        // "$app:hunter2-pw"
        assert_eq!(basic.authorization().expose(), "Basic JGFwcDpodW50ZXIyLXB3");
        assert_eq!(format!("{:?}", Secret::new("x")), "Secret(<redacted>)");
    }
}

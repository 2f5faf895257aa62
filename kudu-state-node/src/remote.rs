//! Remote mode: the options that name a site read over Kudu's REST API (`remote`, `app`, …,
//! `credentials`), the `Credentials` class, and the connection they make through the core's
//! `kudu_state::remote::connect_as`. As the command's `--remote`: read-only, except for `apply` and
//! `undo` (the core's guarded repair of a site).

use std::time::Duration;

use kudu_state::Error;
use kudu_state::remote::{
    ConnectOptions, CredentialSource, Env, HttpOptions, MAX_IN_FLIGHT_LIMIT, RemoteStore, Secret,
};
use napi::bindgen_prelude::Either;
use napi_derive::napi;

use crate::error::{invalid, js_error};
use crate::options::whole;

/// Credentials for a remote site, given in code instead of the environment:
/// `Credentials.basic(user, password)` (publishing credentials) or `Credentials.token(token)` (an
/// Entra access token for `https://management.core.windows.net/`).
///
/// The secret stays in native memory: no property, `toString()`, `toJSON()` (so `JSON.stringify`),
/// `util.inspect` or error message shows it.
#[napi]
pub struct Credentials {
    core: kudu_state::remote::Credentials,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The core's `Debug` shows no secret.
        self.core.fmt(f)
    }
}

impl Credentials {
    pub(crate) fn core(&self) -> &kudu_state::remote::Credentials {
        &self.core
    }
}

/// True when `text` has a character an HTTP header (or a Basic user name) cannot carry.
fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

#[napi]
impl Credentials {
    /// Basic credentials: the site's publishing user (`$app`) and password. Throws `INVALID_INPUT`
    /// for an empty user or password, a user with `:` or a control character.
    #[napi(factory)]
    pub fn basic(env: napi::Env, user: String, password: String) -> napi::Result<Credentials> {
        let checked = if user.trim().is_empty() {
            Err(invalid("the Basic user name is empty"))
        } else if user.contains(':') || has_control(&user) {
            Err(invalid(
                "the Basic user name must not contain `:` or control characters",
            ))
        } else if Secret::new(password.as_str()).is_empty() {
            Err(invalid("the password is empty"))
        } else {
            Ok(Credentials {
                core: kudu_state::remote::Credentials::basic(
                    user,
                    Secret::new(password),
                    CredentialSource::UsernamePassword,
                ),
            })
        };
        checked.map_err(|e| js_error(&env, &e))
    }

    /// A bearer token (an Entra access token for ARM's audience; a leading `Bearer ` is removed).
    /// Throws `INVALID_INPUT` for an empty token or one with spaces or control characters.
    #[napi(factory)]
    pub fn token(env: napi::Env, token: String) -> napi::Result<Credentials> {
        let token = token.trim();
        let token = match token.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ if token.eq_ignore_ascii_case("bearer") => "",
            _ => token,
        };
        let checked = if token.is_empty() {
            Err(invalid("the token is empty"))
        } else if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            Err(invalid(
                "the token has spaces or control characters, which a header cannot carry",
            ))
        } else {
            Ok(Credentials {
                core: kudu_state::remote::Credentials::bearer(
                    Secret::new(token),
                    CredentialSource::Token,
                ),
            })
        };
        checked.map_err(|e| js_error(&env, &e))
    }

    /// `'Basic'` or `'Bearer'`.
    #[napi(getter, ts_return_type = "'Basic' | 'Bearer'")]
    pub fn scheme(&self) -> &'static str {
        self.core.scheme()
    }

    /// The Basic user name (not a secret), or null for a token.
    #[napi(getter)]
    pub fn user(&self) -> Option<String> {
        self.core.user().map(str::to_owned)
    }

    /// For a person: "Basic credentials of `$app`" or "a bearer token".
    #[napi(js_name = "toString")]
    pub fn to_text(&self) -> String {
        match self.core.user() {
            Some(user) => format!("Basic credentials of `{user}`"),
            None => "a bearer token".to_owned(),
        }
    }

    /// `{ scheme, user }`: what can be shown (what `JSON.stringify` writes), never the secret.
    #[napi(
        js_name = "toJSON",
        ts_return_type = "{ scheme: 'Basic' | 'Bearer'; user: string | null }"
    )]
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "scheme": self.core.scheme(), "user": self.core.user() })
    }
}

/// The options that name a remote site, as given (every options object that can name a site has
/// them all, with the command's meaning).
#[derive(Debug, Default)]
pub(crate) struct SiteArgs {
    pub remote: Option<String>,
    pub app: Option<String>,
    pub resource_group: Option<String>,
    pub subscription: Option<String>,
    pub slot: Option<String>,
    pub instance: Option<String>,
    pub publish_profile: Option<String>,
    pub credentials: Option<kudu_state::remote::Credentials>,
    pub max_in_flight: Option<f64>,
    pub arm_endpoint: Option<String>,
}

/// [`SiteArgs`] from an options object that has the site fields.
macro_rules! site_args {
    ($o:expr) => {{
        let o = &$o;
        $crate::remote::SiteArgs {
            remote: o.remote.clone(),
            app: o.app.clone(),
            resource_group: o.resource_group.clone(),
            subscription: o.subscription.clone(),
            slot: o.slot.clone(),
            instance: o.instance.clone(),
            publish_profile: o.publish_profile.clone(),
            credentials: o.credentials.as_ref().map(|c| c.core().clone()),
            max_in_flight: o.max_in_flight,
            arm_endpoint: o.arm_endpoint.clone(),
        }
    }};
}
pub(crate) use site_args;

/// A site to read over Kudu's REST API: the core's options and the caller's credentials, if any.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    options: ConnectOptions,
    credentials: Option<kudu_state::remote::Credentials>,
}

/// What a function reads: a home on disk or a site.
#[derive(Debug)]
pub(crate) enum Target {
    Home(String),
    Site(Box<Site>),
}

impl SiteArgs {
    fn names_site(&self) -> bool {
        self.remote.is_some() || self.app.is_some() || self.publish_profile.is_some()
    }

    /// The site these options name, or `None` when they name none (then none of the site-only
    /// options may be given either).
    ///
    /// # Errors
    /// `INVALID_INPUT` for options that conflict or lack their companion.
    pub(crate) fn site(self) -> kudu_state::Result<Option<Site>> {
        if !self.names_site() {
            let given = [
                ("resourceGroup", self.resource_group.is_some()),
                ("subscription", self.subscription.is_some()),
                ("slot", self.slot.is_some()),
                ("instance", self.instance.is_some()),
                ("credentials", self.credentials.is_some()),
                ("maxInFlight", self.max_in_flight.is_some()),
                ("armEndpoint", self.arm_endpoint.is_some()),
            ];
            if let Some((name, _)) = given.iter().find(|(_, set)| *set) {
                return Err(invalid(format!(
                    "`{name}` is for a remote site: also give `remote`, `app` (with `resourceGroup`) or `publishProfile`"
                )));
            }
            return Ok(None);
        }
        if self.remote.is_some() && self.app.is_some() {
            return Err(invalid("give either `remote` or `app`, not both"));
        }
        if self.app.is_none() {
            for (name, set) in [
                ("resourceGroup", self.resource_group.is_some()),
                ("subscription", self.subscription.is_some()),
                ("slot", self.slot.is_some()),
            ] {
                if set {
                    return Err(invalid(format!("`{name}` is only for `app`")));
                }
            }
        } else if self.resource_group.is_none() {
            return Err(invalid("`app` needs `resourceGroup`"));
        }
        let max_in_flight = match self.max_in_flight {
            None => HttpOptions::default().max_in_flight,
            Some(n) => {
                let limit = MAX_IN_FLIGHT_LIMIT as u64;
                match whole("maxInFlight", n, limit) {
                    Ok(n) if n >= 1 => usize::try_from(n).unwrap_or(MAX_IN_FLIGHT_LIMIT),
                    _ => {
                        return Err(invalid(format!(
                            "`maxInFlight` must be 1 to {MAX_IN_FLIGHT_LIMIT}, not {n}"
                        )));
                    }
                }
            }
        };
        Ok(Some(Site {
            options: ConnectOptions {
                remote: self.remote,
                app: self.app,
                resource_group: self.resource_group,
                subscription: self.subscription,
                slot: self.slot,
                publish_profile: self.publish_profile.map(Into::into),
                instance: self.instance,
                arm_endpoint: self.arm_endpoint,
                http: HttpOptions {
                    max_in_flight,
                    ..HttpOptions::default()
                },
            },
            credentials: self.credentials,
        }))
    }

    /// A home or a site: exactly one of them.
    ///
    /// # Errors
    /// `INVALID_INPUT` for both or neither, and as [`SiteArgs::site`].
    pub(crate) fn target(self, home: Option<String>) -> kudu_state::Result<Target> {
        match (home, self.site()?) {
            (Some(home), None) => Ok(Target::Home(home)),
            (None, Some(site)) => Ok(Target::Site(Box::new(site))),
            (Some(home), Some(_)) => Err(invalid(format!(
                "`{home}` is a home on disk, but `remote`/`app`/`publishProfile` name a site; give one or the other"
            ))),
            (None, None) => Err(invalid(
                "give a home (the folder that contains `site/`) or, in the options, a remote site (`remote`, `app` with `resourceGroup`, or `publishProfile`)",
            )),
        }
    }
}

impl Site {
    /// For a wait or a track: no limit on the whole run (the wait's own timeout, or the track's
    /// inactivity window, bounds it), where a single diagnosis keeps the core's 15 minutes.
    pub(crate) fn unbounded(mut self: Box<Site>) -> Box<Site> {
        self.options.http.run_timeout = None;
        self
    }

    /// Opens the store (nothing is read yet; `app` asks ARM for the SCM host). Credentials are the
    /// caller's, else the first found in this process's environment.
    ///
    /// # Errors
    /// As `kudu_state::remote::connect_as`.
    pub(crate) fn connect(&self) -> kudu_state::Result<RemoteStore> {
        kudu_state::remote::connect_as(
            &self.options,
            self.credentials.as_ref(),
            &Env::from_process(),
        )
        .map_err(|e| self.own(e))
    }

    /// An error of a call on this site, saying where given credentials came from: the core names
    /// the environment variable of the source kind the bindings use for them.
    pub(crate) fn own(&self, e: Error) -> Error {
        let Some(given) = &self.credentials else {
            return e;
        };
        match e {
            Error::AuthFailed { url, status, check } => {
                let from = format!("the credentials came from {}", given.source().describe());
                let check =
                    check.replace(&from, "the credentials came from the `credentials` option");
                Error::AuthFailed { url, status, check }
            }
            e => e,
        }
    }
}

/// The default time between polls: 5 s on a disk, 10 s over the REST API (gentle on the site), as
/// the command.
pub(crate) fn default_poll(target: &Target) -> Duration {
    Duration::from_secs(match target {
        Target::Home(_) => 5,
        Target::Site(_) => 10,
    })
}

/// The home and the options of a call written `f(home, options?)` or `f(options)` (the options then
/// name a site).
///
/// # Errors
/// `INVALID_INPUT` for `f(options, options)`.
pub(crate) fn home_and_options<T>(
    call: &str,
    first: Either<String, T>,
    second: Option<T>,
) -> kudu_state::Result<(Option<String>, Option<T>)> {
    match (first, second) {
        (Either::A(home), options) => Ok((Some(home), options)),
        (Either::B(options), None) => Ok((None, Some(options))),
        (Either::B(_), Some(_)) => Err(invalid(format!(
            "give the options once: `{call}(home, options)` for a home, `{call}(options)` for a site"
        ))),
    }
}

/// As [`home_and_options`] for a call that also takes a callback: `f(home, options?, callback?)` or
/// `f(options, callback?)`.
///
/// # Errors
/// `INVALID_INPUT` for options given twice, or a callback where the options go.
pub(crate) fn home_options_callback<T, F>(
    call: &str,
    first: Either<String, T>,
    second: Option<Either<T, F>>,
    third: Option<F>,
) -> kudu_state::Result<(Option<String>, Option<T>, Option<F>)> {
    match (first, second) {
        (Either::A(home), None) => Ok((Some(home), None, third)),
        (Either::A(home), Some(Either::A(options))) => Ok((Some(home), Some(options), third)),
        (Either::B(options), None) => Ok((None, Some(options), third)),
        (Either::B(options), Some(Either::B(callback))) if third.is_none() => {
            Ok((None, Some(options), Some(callback)))
        }
        (Either::A(_), Some(Either::B(_))) => Err(invalid(format!(
            "`{call}(home, callback)`: the options go between them, `{call}(home, options, callback)`"
        ))),
        _ => Err(invalid(format!(
            "give the options once: `{call}(home, options, callback)` for a home, `{call}(options, callback)` for a site"
        ))),
    }
}

//! Remote mode: the `Credentials` class, and the options that name a site read over Kudu's REST API
//! (`remote`, `app`, …, `credentials`) handed to the core's `kudu_state::remote::SiteArgs`, which
//! checks them. As the command's `--remote`: read-only, except for `apply` and `undo` (the core's
//! guarded repair of a site).

use kudu_state::remote::Secret;
use napi::bindgen_prelude::Either;
use napi_derive::napi;

use crate::error::{invalid, js_error};

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

#[napi]
impl Credentials {
    /// Basic credentials: the site's publishing user (`$app`) and password. Throws `INVALID_INPUT`
    /// for an empty user or password, a user with `:` or a control character.
    #[napi(factory)]
    pub fn basic(env: napi::Env, user: String, password: String) -> napi::Result<Credentials> {
        kudu_state::remote::Credentials::given_basic(&user, Secret::new(password))
            .map(|core| Credentials { core })
            .map_err(|e| js_error(&env, &e))
    }

    /// A bearer token (an Entra access token for ARM's audience; a leading `Bearer ` is removed).
    /// Throws `INVALID_INPUT` for an empty token or one with spaces or control characters.
    #[napi(factory)]
    pub fn token(env: napi::Env, token: String) -> napi::Result<Credentials> {
        kudu_state::remote::Credentials::given_token(&token)
            .map(|core| Credentials { core })
            .map_err(|e| js_error(&env, &e))
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

/// The core's [`SiteArgs`](kudu_state::remote::SiteArgs) from an options object that has the site
/// fields (napi objects cannot share a flattened struct), spelled as Node's options; the core checks
/// them.
macro_rules! site_args {
    ($o:expr) => {{
        let o = &$o;
        kudu_state::remote::SiteArgs {
            spelling: kudu_state::remote::Spelling::Option,
            remote: o.remote.clone(),
            app: o.app.clone(),
            resource_group: o.resource_group.clone(),
            subscription: o.subscription.clone(),
            slot: o.slot.clone(),
            instance: o.instance.clone(),
            publish_profile: o.publish_profile.clone().map(Into::into),
            credentials: o.credentials.as_ref().map(|c| c.core().clone()),
            max_in_flight: o.max_in_flight,
            arm_endpoint: o.arm_endpoint.clone(),
        }
    }};
}
pub(crate) use site_args;

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

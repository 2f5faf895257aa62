//! Remote mode: reading a live site's home over Kudu's REST API, strictly read-only.
//!
//! [`RemoteStore`] is a second [`crate::store::Store`]: the scan, the model and the diagnosis use it
//! as they use the local one. It only ever sends `GET`/`HEAD /api/vfs/...` (and `GET
//! /api/processes/0` when asked for Kudu's open handles); nothing it can express calls
//! `/api/deployments*`, `/api/isdeploying` or any ARM deployments route, which verify, purge and
//! delete state.
//!
//! # From the top
//!
//! ```no_run
//! use kudu_state::remote::{connect, ConnectOptions, Env};
//! use kudu_state::store::{RelPath, Store};
//!
//! # fn main() -> kudu_state::Result<()> {
//! let options = ConnectOptions {
//!     remote: Some("https://my-app.scm.azurewebsites.net".to_owned()),
//!     ..ConnectOptions::default()
//! };
//! // Credentials come from the environment: KUDU_STATE_USERNAME/PASSWORD, KUDU_STATE_TOKEN,
//! // workload identity, GitHub OIDC or `az`.
//! let store = connect(&options, &Env::from_process())?;
//! let records = store.list(&RelPath::new("site/deployments")?)?;
//! println!("{} entries, {} requests", records.len(), store.stats().requests);
//! # Ok(()) }
//! ```
//!
//! # Pieces
//!
//! - [`SiteUrl`]: the SCM origin (`https://`, or `http://` to loopback only).
//! - [`HttpClient`], [`HttpOptions`]: one run's connections, timeouts, retries, caps and counters.
//! - [`Env`]: the environment, explicit (tests pass a map; the CLI [`Env::from_process`]).
//! - [`site_credentials`], [`arm_credentials`], [`PublishProfile`]: the credential chain;
//!   [`Credentials`] and [`Secret`] never show a secret.
//! - [`Arm`]: the SCM host and instances of `--app`/`--resource-group`/`--subscription`/`--slot`.
//! - [`connect`]: all of it from command-line shaped [`ConnectOptions`]; [`connect_as`] with
//!   credentials the caller holds instead of the chain (the Python and Node packages).
//!
//! # Using it from a scan
//!
//! - **Threads**: [`crate::store::Store::parallelism`] is the number of requests the store runs at
//!   once (8 by default, never more than 16); reading records on that many threads keeps the
//!   connections busy. Each call blocks its thread for about one round trip, so parallel reads pay
//!   off from a handful of records, not only from many.
//! - **Metadata**: a listing keeps each entry's kind, size and mtime, so list a folder before
//!   `meta` of its entries; a `meta` of a path that was not listed costs a `HEAD`. Before a new pass
//!   over the same site (a wait's next poll), call [`RemoteStore::forget`].
//! - **Time**: judge a Linux lock's expiry with [`RemoteStore::server_now`] (the site's clock), not
//!   the local clock.
//! - **Evidence**: on Windows, [`RemoteStore::kudu_process`] on the lock holder's instance
//!   ([`RemoteStore::pinned_to`]) lists the files Kudu holds open, which proves a lock held.
//! - **Cost**: [`RemoteStore::stats`] gives the requests made and the wall time.

mod arm;
mod credentials;
mod entra;
mod env;
mod http;
mod publish_profile;
mod repair;
mod scm;
mod secret;
mod site_args;
mod store;
mod url;
mod writer;

use std::path::PathBuf;

pub use arm::{ARM_API_VERSION, Arm, DEFAULT_ARM_ENDPOINT, SiteRef};
pub use credentials::{arm_credentials, site_credentials};
pub use entra::{ARM_SCOPE, AZURE_AUDIENCE, DEFAULT_AUTHORITY};
pub use env::Env;
pub use http::{
    DEFAULT_MAX_IN_FLIGHT, HttpClient, HttpOptions, MAX_IN_FLIGHT_LIMIT, RequestStats, USER_AGENT,
};
pub use publish_profile::PublishProfile;
#[cfg(feature = "fixture")]
pub use repair::apply_site_crashing_after;
pub use repair::{SiteApplyOptions, apply_site, default_backup_root, plan_site_repair, undo_site};
pub use secret::{CredentialSource, Credentials, Secret};
pub use site_args::{HOME_POLL, SITE_POLL, Site, SiteArgs, Spelling, Target};
pub use store::{KuduProcess, RemoteStore};
pub use url::SiteUrl;
pub use writer::RemotePlace;

use crate::error::{Error, Result};

/// The site to read and how, shaped like the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectOptions {
    /// `--remote URL`: the SCM site.
    pub remote: Option<String>,
    /// `--app NAME`: find the SCM site through ARM (with `resource_group`).
    pub app: Option<String>,
    /// `--resource-group RG`.
    pub resource_group: Option<String>,
    /// `--subscription ID`; else `AZURE_SUBSCRIPTION_ID`, else the one `az` is set to.
    pub subscription: Option<String>,
    /// `--slot NAME`.
    pub slot: Option<String>,
    /// `--publish-profile FILE`: credentials first, and the site when nothing else names it.
    pub publish_profile: Option<PathBuf>,
    /// `--instance NAME`: pin every request to this instance.
    pub instance: Option<String>,
    /// ARM's endpoint (tests point it at an emulator); default [`DEFAULT_ARM_ENDPOINT`].
    pub arm_endpoint: Option<String>,
    /// How the caller writes these options' names, for the errors about them (default: flags).
    pub spelling: Spelling,
    /// Concurrency, timeouts, retries, caps.
    pub http: HttpOptions,
}

/// Opens a [`RemoteStore`] on the site the options name, with the first credentials found.
///
/// The site is `remote`, else the one ARM gives for `app` (which needs a token: `KUDU_STATE_TOKEN`
/// or an Entra source), else the publish profile's. Nothing is read from the site yet.
///
/// # Errors
/// `INVALID_INPUT` for options that conflict or name no site; `URL_REFUSED`; the credential
/// errors (`NO_CREDENTIALS`, `CREDENTIAL_FAILED`); ARM's (`AUTH_FAILED`, `SITE_NOT_FOUND`) and the
/// network errors.
pub fn connect(options: &ConnectOptions, env: &Env) -> Result<RemoteStore> {
    connect_as(options, None, env)
}

/// [`connect`] with credentials the caller already holds (the Python and Node packages'
/// `credentials`, [`CredentialSource::Given`]), or `None` for the credential chain of `env`.
///
/// Given credentials are the site's, whatever the environment or a publish profile holds (a
/// profile then only names the site, and is still refused if it is for another site). For
/// `app`, a given bearer token is also ARM's; with given Basic credentials ARM's token comes from
/// `env`'s chain (`KUDU_STATE_TOKEN`, Entra). They are never renewed: a token that expires during
/// a long wait is refused (`AUTH_FAILED`), as the caller is the only one who can renew it.
///
/// # Errors
/// As [`connect`]; `NO_CREDENTIALS` only when ARM needs a token and none is found.
pub fn connect_as(
    options: &ConnectOptions,
    credentials: Option<&Credentials>,
    env: &Env,
) -> Result<RemoteStore> {
    let http = HttpClient::new(&options.http, env)?;
    let resolved = resolve_site(&http, options, credentials, env)?;
    let mut store = RemoteStore::new(
        &http,
        resolved.site,
        resolved.credentials,
        options.instance.clone(),
    );
    if let Some((arm, site)) = resolved.arm {
        store = store.with_arm(arm, site);
    }
    if credentials.is_none() {
        store.renew_tokens_from(env.clone());
    }
    Ok(store)
}

/// The site and the credentials for it.
///
/// # Errors
/// As [`connect`].
pub fn resolve(
    http: &HttpClient,
    options: &ConnectOptions,
    env: &Env,
) -> Result<(SiteUrl, Credentials)> {
    resolve_as(http, options, None, env)
}

/// [`resolve`] with the caller's credentials, if any (see [`connect_as`]).
///
/// # Errors
/// As [`connect_as`].
pub fn resolve_as(
    http: &HttpClient,
    options: &ConnectOptions,
    given: Option<&Credentials>,
    env: &Env,
) -> Result<(SiteUrl, Credentials)> {
    resolve_site(http, options, given, env).map(|r| (r.site, r.credentials))
}

/// A site resolved: where, with which credentials, and (for `app`) ARM, which names its instances.
struct Resolved {
    site: SiteUrl,
    credentials: Credentials,
    arm: Option<(Arm, SiteRef)>,
}

fn resolve_site(
    http: &HttpClient,
    options: &ConnectOptions,
    given: Option<&Credentials>,
    env: &Env,
) -> Result<Resolved> {
    let spelling = options.spelling;
    if options.remote.is_some() && options.app.is_some() {
        return Err(site_args::invalid(site_args::either_remote_or_app(
            spelling,
        )));
    }
    let remote = options.remote.as_deref().map(SiteUrl::parse).transpose()?;
    let profile = options
        .publish_profile
        .as_deref()
        .map(|path| PublishProfile::read(path, remote.as_ref()))
        .transpose()?;
    let mut arm_token = None;
    let mut arm_site = None;
    let site = match (remote, &options.app) {
        (Some(site), _) => site,
        (None, Some(app)) => {
            let Some(resource_group) = options.resource_group.clone() else {
                return Err(site_args::invalid(site_args::app_needs_resource_group(
                    spelling,
                )));
            };
            let (token, az_subscription) = match given.filter(|c| c.is_bearer()) {
                Some(token) => (token.clone(), None),
                None => arm_credentials(http, env)?,
            };
            let Some(subscription) = options
                .subscription
                .clone()
                .or_else(|| env.get("AZURE_SUBSCRIPTION_ID").map(str::to_owned))
                .or(az_subscription)
            else {
                return Err(site_args::invalid(format!(
                    "{} needs {} (or AZURE_SUBSCRIPTION_ID)",
                    spelling.name("app"),
                    spelling.name("subscription")
                )));
            };
            let endpoint = options
                .arm_endpoint
                .as_deref()
                .unwrap_or(DEFAULT_ARM_ENDPOINT);
            let arm = Arm::new(http, endpoint, token.clone())?;
            let site_ref = SiteRef {
                subscription,
                resource_group,
                app: app.clone(),
                slot: options.slot.clone(),
            };
            let site = arm.scm_site(&site_ref)?;
            arm_token = Some(token);
            arm_site = Some((arm, site_ref));
            site
        }
        (None, None) => match &profile {
            Some(profile) => profile.site.clone(),
            None => {
                return Err(site_args::invalid(format!(
                    "name the site: {}",
                    site_args::name_the_site(spelling)
                )));
            }
        },
    };
    // A profile for another site than ARM's is refused, as one for another --remote is.
    let profile = match profile {
        Some(p) if p.site.host() != site.host() => {
            return Err(Error::CredentialFailed {
                provider: CredentialSource::PublishProfile.describe(),
                path: options.publish_profile.clone(),
                url: None,
                reason: format!(
                    "it is for `{}`, not `{}`; its credentials are not sent to another site",
                    p.site.host(),
                    site.host()
                ),
            });
        }
        other => other,
    };
    if let Some(given) = given {
        return Ok(Resolved {
            site,
            credentials: given.clone(),
            arm: arm_site,
        });
    }
    let credentials = match (profile.as_ref(), arm_token) {
        // The token ARM accepted is the site's too, unless a higher source is set.
        (None, Some(token))
            if env.get("KUDU_STATE_USERNAME").is_none()
                && env.get("KUDU_STATE_PASSWORD").is_none() =>
        {
            token
        }
        _ => site_credentials(http, env, profile.as_ref())?,
    };
    Ok(Resolved {
        site,
        credentials,
        arm: arm_site,
    })
}

/// Which clock a remote diagnosis is judged by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Clock {
    /// The caller gave the time (`--now`).
    Given,
    /// The site's clock: its last `Date` header (a Linux lock expires by the server's clock).
    Site,
    /// This machine's clock: the site sent no `Date` header.
    Local,
}

/// A remote diagnosis: what the command prints, and how it was made.
#[derive(Debug, Clone)]
pub struct SiteDiagnosis {
    /// What was read.
    pub snapshot: crate::Snapshot,
    /// The verdict.
    pub diagnosis: crate::Diagnosis,
    /// Which clock `diagnosis.now` comes from.
    pub clock: Clock,
    /// The requests it took.
    pub stats: RequestStats,
}

/// Reads the site `store` reaches and diagnoses it: as of `now` when given, else by the site's own
/// clock (the `Date` of its answers). Read-only: only VFS `GET`s (and, on Windows with a lock file,
/// `GET /api/processes/0`). The store's cached listings are dropped first, so a store can be reused
/// for every poll of a wait.
///
/// # Errors
/// `INVALID_INPUT` for bad options; the store's errors when `site` cannot be listed.
pub fn diagnose_site(
    store: &RemoteStore,
    options: &crate::HomeOptions,
    now: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<SiteDiagnosis> {
    let (scan_options, diagnose_options) = options.split()?;
    store.forget();
    let snapshot = crate::scan::scan_store(
        store,
        PathBuf::from(store.site().as_str()),
        crate::snapshot::Given::Home,
        &scan_options,
    )?;
    let (now, clock) = match (now, store.server_now()) {
        (Some(t), _) => (t, Clock::Given),
        (None, Some(t)) => (t, Clock::Site),
        (None, None) => (chrono::Utc::now(), Clock::Local),
    };
    let diagnosis = crate::diagnose(&snapshot, now, diagnose_options);
    Ok(SiteDiagnosis {
        snapshot,
        diagnosis,
        clock,
        stats: store.stats(),
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use kudu_emulator::{Auth, AzureOptions, Emulator, Options, Platform};

    use super::*;
    use crate::store::{RelPath, Store};

    const USER: &str = "$emulated-app";
    const PASSWORD: &str = "SECRET-given-pw";
    const TOKEN: &str = "SECRET-given-token";

    /// An emulator over an empty Linux home that takes Basic USER/PASSWORD or Bearer TOKEN (also
    /// ARM's token).
    fn site() -> (tempfile::TempDir, Emulator) {
        let home = tempfile::tempdir().expect("tempdir");
        fs_err::create_dir_all(home.path().join("site/deployments")).expect("site");
        let emu = Emulator::start(
            home.path(),
            Options {
                auth: Auth::AnyOf(vec![Auth::basic(USER, PASSWORD), Auth::bearer(TOKEN)]),
                azure: AzureOptions {
                    access_token: TOKEN.to_owned(),
                    ..AzureOptions::default()
                },
                ..Options::new(Platform::Linux)
            },
        )
        .expect("emulator");
        (home, emu)
    }

    fn quick() -> HttpOptions {
        HttpOptions {
            request_timeout: Duration::from_secs(5),
            retries: 0,
            ..HttpOptions::default()
        }
    }

    fn basic(password: &str) -> Credentials {
        Credentials::basic(
            USER,
            Secret::new(password),
            CredentialSource::UsernamePassword,
        )
    }

    fn list_site(store: &RemoteStore) {
        store
            .list(&RelPath::new("site").expect("rel"))
            .expect("list");
    }

    /// The `Authorization` schemes the site saw for VFS reads.
    fn schemes(emu: &Emulator) -> Vec<Option<String>> {
        emu.requests()
            .into_iter()
            .filter(|r| r.path.starts_with("/api/vfs/"))
            .map(|r| r.auth_scheme)
            .collect()
    }

    #[test]
    fn given_credentials_win_over_the_chain_and_never_fall_back() {
        let (_home, emu) = site();
        let options = ConnectOptions {
            remote: Some(emu.url()),
            http: quick(),
            ..ConnectOptions::default()
        };
        // The environment holds a good token; the given Basic credentials are sent instead.
        let env = Env::from_vars([("KUDU_STATE_TOKEN", TOKEN)]);
        let store = connect_as(&options, Some(&basic(PASSWORD)), &env).expect("connect");
        list_site(&store);
        assert_eq!(schemes(&emu), [Some("Basic".to_owned())]);
        assert_eq!(store.credentials(), basic(PASSWORD));

        // Wrong given credentials are refused, not replaced by the environment's.
        emu.clear_requests();
        let store = connect_as(&options, Some(&basic("SECRET-wrong")), &env).expect("connect");
        let e = store
            .list(&RelPath::new("site").expect("rel"))
            .expect_err("refused");
        assert_eq!(e.code(), "AUTH_FAILED");
        assert_eq!(
            e.url(),
            Some(format!("{}/api/vfs/site/", emu.url()).as_str())
        );
        assert!(!crate::error_chain(&e).contains("SECRET"), "{e}");
        assert_eq!(schemes(&emu), [Some("Basic".to_owned())]);

        // None is the chain, as `connect`.
        emu.clear_requests();
        let store = connect_as(&options, None, &env).expect("connect");
        list_site(&store);
        assert_eq!(schemes(&emu), [Some("Bearer".to_owned())]);
    }

    #[test]
    fn a_given_token_is_also_arms_and_given_basic_needs_a_token_for_arm() {
        let (_home, emu) = site();
        let az = AzureOptions::default();
        let options = ConnectOptions {
            app: Some(az.app.clone()),
            resource_group: Some(az.resource_group.clone()),
            subscription: Some(az.subscription.clone()),
            arm_endpoint: Some(emu.url()),
            http: quick(),
            ..ConnectOptions::default()
        };
        let token = Credentials::bearer(Secret::new(TOKEN), CredentialSource::Token);
        let store = connect_as(&options, Some(&token), &Env::default()).expect("connect");
        assert_eq!(store.site().as_str(), emu.url());
        list_site(&store);
        assert_eq!(schemes(&emu), [Some("Bearer".to_owned())]);

        // Basic credentials are not ARM's: with nothing else, there is no token for ARM.
        let e = connect_as(&options, Some(&basic(PASSWORD)), &Env::default())
            .expect_err("no token for ARM");
        assert_eq!(e.code(), "NO_CREDENTIALS");
        // With one in the environment, ARM gets it and the site the given Basic credentials.
        emu.clear_requests();
        let env = Env::from_vars([("KUDU_STATE_TOKEN", TOKEN)]);
        let store = connect_as(&options, Some(&basic(PASSWORD)), &env).expect("connect");
        list_site(&store);
        assert_eq!(schemes(&emu), [Some("Basic".to_owned())]);
    }
}

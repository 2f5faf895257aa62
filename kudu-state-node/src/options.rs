//! JavaScript option objects to the core's options (and, for a remote site, the fields
//! `crate::remote::SiteArgs` reads). Only the JavaScript types are checked here (a
//! `number` that must be a whole number); every range (stall window, log tail, HTTP status) is the
//! core's to check, as for the command and the Python package.

use std::time::Duration;

use napi_derive::napi;

use crate::enums::Platform;
use crate::error::invalid;
use crate::remote::Credentials;
use napi::bindgen_prelude::ClassInstance;

/// Largest whole number a JavaScript `number` holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A JavaScript number that must be a whole number from 0 to `max`.
pub(crate) fn whole(name: &str, n: f64, max: u64) -> kudu_state::Result<u64> {
    #[allow(clippy::cast_precision_loss)]
    let ok = n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= max.min(MAX_SAFE_INTEGER) as f64;
    if ok {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(n as u64)
    } else {
        Err(invalid(format!(
            "{name} must be a whole number from 0 to {}, not {n}",
            max.min(MAX_SAFE_INTEGER)
        )))
    }
}

/// A duration given in milliseconds.
pub(crate) fn millis(name: &str, ms: f64) -> kudu_state::Result<Duration> {
    whole(name, ms, MAX_SAFE_INTEGER).map(Duration::from_millis)
}

/// An HTTP status as the core takes it (the core checks it is 100 to 599).
pub(crate) fn status(status: Option<f64>) -> kudu_state::Result<Option<u16>> {
    status
        .map(|s| {
            whole("status", s, u64::from(u16::MAX)).map(|s| u16::try_from(s).unwrap_or(u16::MAX))
        })
        .transpose()
}

/// How to scan a home.
#[napi(object)]
#[derive(Debug, Default)]
pub struct ScanOptions {
    /// Read the home as this platform instead of detecting it.
    pub platform: Option<Platform>,
    /// Bytes read from the end of each unsettled record's `log.log` (1024 to 16 MiB, default 65536).
    pub log_tail_bytes: Option<f64>,
}

impl ScanOptions {
    pub(crate) fn to_core(&self) -> kudu_state::Result<kudu_state::ScanOptions> {
        let home = home(self.platform, None, self.log_tail_bytes)?;
        kudu_state::ScanOptions::new(home.platform, home.log_tail_bytes)
    }
}

/// How to diagnose a home, or which site to diagnose over Kudu's REST API (`remote`, `app` or
/// `publishProfile`; then the options are the only argument: `diagnose({ remote, credentials })`).
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct DiagnoseOptions<'a> {
    /// Diagnose as of this time instead of now: makes expiry and stall decisions reproducible. A
    /// site is otherwise judged by its own clock (its `Date` header), by which a Linux lock expires.
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    /// A deployment under a live lock with no activity for this many minutes is stalled (1–1440,
    /// default 10).
    pub stall_minutes: Option<f64>,
    /// Read the home as this platform instead of detecting it.
    pub platform: Option<Platform>,
    /// As in `scan`.
    pub log_tail_bytes: Option<f64>,
    /// The site's SCM (Kudu) URL, e.g. `https://<app>.scm.azurewebsites.net` (`http://` only to
    /// loopback): read the site over Kudu's REST API (read-only) instead of a home on disk.
    pub remote: Option<String>,
    /// The App Service app, whose SCM site is found through Azure Resource Manager (needs a token;
    /// with `resourceGroup`).
    pub app: Option<String>,
    /// The app's resource group (with `app`).
    pub resource_group: Option<String>,
    /// The app's subscription (with `app`; default `AZURE_SUBSCRIPTION_ID`, else `az`'s current one).
    pub subscription: Option<String>,
    /// A deployment slot of the app (with `app`).
    pub slot: Option<String>,
    /// Send every request to this instance (its `ARRAffinity` name).
    pub instance: Option<String>,
    /// A `.PublishSettings` file: Basic credentials (and the site, without `remote`/`app`).
    pub publish_profile: Option<String>,
    /// Credentials for the site; without them, the environment's (`KUDU_STATE_USERNAME` and
    /// `KUDU_STATE_PASSWORD`, `KUDU_STATE_TOKEN`, workload identity, GitHub OIDC, `az`).
    pub credentials: Option<ClassInstance<'a, Credentials>>,
    /// At most this many requests in flight (1–16, default 8).
    pub max_in_flight: Option<f64>,
    /// Azure Resource Manager's endpoint (sovereign clouds; default the public cloud's).
    pub arm_endpoint: Option<String>,
}

impl DiagnoseOptions<'_> {
    pub(crate) fn to_core(&self) -> kudu_state::Result<kudu_state::HomeOptions> {
        home(self.platform, self.stall_minutes, self.log_tail_bytes)
    }
}

/// What a plan may include, and how to read the home for it; or which site to plan for over Kudu's
/// REST API (as in `diagnose`: then the options are the only argument, `plan({ remote, credentials })`).
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct PlanOptions<'a> {
    /// Plan as of this time instead of now (for a site: instead of the site's own clock).
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    /// Allow moving away a *live* Linux deployment lock once its deployment has stalled. A concurrent
    /// deployment becomes possible; the step says so and has risk `high`.
    pub allow_live_lock: Option<bool>,
    /// Over Kudu's REST API, on Windows: end Kudu's process on the instance that holds
    /// `deployments.lock` open for a deployment proven stalled (`DELETE /api/processes/0` pinned
    /// there; ends a build running there, never the app; cannot be undone), instead of only advising it.
    pub allow_scm_restart: Option<bool>,
    /// As in `diagnose`.
    pub stall_minutes: Option<f64>,
    /// As in `diagnose`.
    pub platform: Option<Platform>,
    /// As in `scan`.
    pub log_tail_bytes: Option<f64>,
    /// As in `diagnose`: the site's SCM URL.
    pub remote: Option<String>,
    /// As in `diagnose`.
    pub app: Option<String>,
    /// As in `diagnose`.
    pub resource_group: Option<String>,
    /// As in `diagnose`.
    pub subscription: Option<String>,
    /// As in `diagnose`.
    pub slot: Option<String>,
    /// As in `diagnose`.
    pub instance: Option<String>,
    /// As in `diagnose`.
    pub publish_profile: Option<String>,
    /// As in `diagnose`.
    pub credentials: Option<ClassInstance<'a, Credentials>>,
    /// As in `diagnose`.
    pub max_in_flight: Option<f64>,
    /// As in `diagnose`.
    pub arm_endpoint: Option<String>,
}

impl PlanOptions<'_> {
    pub(crate) fn to_core(&self) -> kudu_state::Result<kudu_state::HomeOptions> {
        home(self.platform, self.stall_minutes, self.log_tail_bytes)
    }

    pub(crate) fn plan_options(&self) -> kudu_state::PlanOptions {
        kudu_state::PlanOptions {
            allow_live_lock: self.allow_live_lock.unwrap_or(false),
            allow_scm_restart: self.allow_scm_restart.unwrap_or(false),
        }
    }
}

/// How to apply a plan; for a plan made for a site, the site (as in `diagnose`; without it the core
/// refuses a site's plan, `HOME_MISMATCH`).
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct ApplyOptions<'a> {
    /// Folder that receives one backup folder per apply (default `HOME/data/kudu-state/backups`, on
    /// the same file system as the home; for a site, `./kudu-state-backups/<host>` under the current
    /// directory).
    pub backup_dir: Option<String>,
    /// Must be `true`: nothing is changed otherwise (the call rejects with `INVALID_INPUT`).
    pub yes: Option<bool>,
    /// As in `diagnose`: the site's SCM URL.
    pub remote: Option<String>,
    /// As in `diagnose`.
    pub app: Option<String>,
    /// As in `diagnose`.
    pub resource_group: Option<String>,
    /// As in `diagnose`.
    pub subscription: Option<String>,
    /// As in `diagnose`.
    pub slot: Option<String>,
    /// As in `diagnose`.
    pub instance: Option<String>,
    /// As in `diagnose`.
    pub publish_profile: Option<String>,
    /// As in `diagnose`.
    pub credentials: Option<ClassInstance<'a, Credentials>>,
    /// As in `diagnose`.
    pub max_in_flight: Option<f64>,
    /// As in `diagnose`.
    pub arm_endpoint: Option<String>,
}

/// The site whose backup `undo` puts back (as in `diagnose`); none for a home on disk.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct UndoOptions<'a> {
    /// As in `diagnose`: the site's SCM URL.
    pub remote: Option<String>,
    /// As in `diagnose`.
    pub app: Option<String>,
    /// As in `diagnose`.
    pub resource_group: Option<String>,
    /// As in `diagnose`.
    pub subscription: Option<String>,
    /// As in `diagnose`.
    pub slot: Option<String>,
    /// As in `diagnose`.
    pub instance: Option<String>,
    /// As in `diagnose`.
    pub publish_profile: Option<String>,
    /// As in `diagnose`.
    pub credentials: Option<ClassInstance<'a, Credentials>>,
    /// As in `diagnose`.
    pub max_in_flight: Option<f64>,
    /// As in `diagnose`.
    pub arm_endpoint: Option<String>,
}

/// How to wait for a home, or a site (as in `diagnose`), to become safe to deploy to.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct WaitOptions<'a> {
    /// Give up after this many milliseconds (the outcome then has `idle: false`).
    pub timeout_ms: f64,
    /// Milliseconds between checks (default 5000 on a disk, 10000 over the REST API).
    pub poll_ms: Option<f64>,
    /// As in `diagnose`.
    pub stall_minutes: Option<f64>,
    /// As in `diagnose`.
    pub platform: Option<Platform>,
    /// As in `scan`.
    pub log_tail_bytes: Option<f64>,
    /// As in `diagnose`: the site's SCM URL.
    pub remote: Option<String>,
    /// As in `diagnose`.
    pub app: Option<String>,
    /// As in `diagnose`.
    pub resource_group: Option<String>,
    /// As in `diagnose`.
    pub subscription: Option<String>,
    /// As in `diagnose`.
    pub slot: Option<String>,
    /// As in `diagnose`.
    pub instance: Option<String>,
    /// As in `diagnose`.
    pub publish_profile: Option<String>,
    /// As in `diagnose`.
    pub credentials: Option<ClassInstance<'a, Credentials>>,
    /// As in `diagnose`.
    pub max_in_flight: Option<f64>,
    /// As in `diagnose`.
    pub arm_endpoint: Option<String>,
}

impl WaitOptions<'_> {
    pub(crate) fn to_core(&self) -> kudu_state::Result<kudu_state::HomeOptions> {
        home(self.platform, self.stall_minutes, self.log_tail_bytes)
    }
}

/// How to follow a deployment on a home, or on a site (as in `diagnose`).
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct TrackOptions<'a> {
    /// Give up when nothing in the record changed for this many milliseconds (default 600000: 10
    /// minutes).
    pub timeout_ms: Option<f64>,
    /// Milliseconds between reads (default 5000 on a disk, 10000 over the REST API).
    pub poll_ms: Option<f64>,
    /// As in `diagnose`: the site's SCM URL.
    pub remote: Option<String>,
    /// As in `diagnose`.
    pub app: Option<String>,
    /// As in `diagnose`.
    pub resource_group: Option<String>,
    /// As in `diagnose`.
    pub subscription: Option<String>,
    /// As in `diagnose`.
    pub slot: Option<String>,
    /// As in `diagnose`.
    pub instance: Option<String>,
    /// As in `diagnose`.
    pub publish_profile: Option<String>,
    /// As in `diagnose`.
    pub credentials: Option<ClassInstance<'a, Credentials>>,
    /// As in `diagnose`.
    pub max_in_flight: Option<f64>,
    /// As in `diagnose`.
    pub arm_endpoint: Option<String>,
}

/// The site to diagnose with an explanation (as in `diagnose`), to say whether the holder a body
/// names is alive.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct ExplainOptions<'a> {
    /// As in `diagnose`: the site's SCM URL.
    pub remote: Option<String>,
    /// As in `diagnose`.
    pub app: Option<String>,
    /// As in `diagnose`.
    pub resource_group: Option<String>,
    /// As in `diagnose`.
    pub subscription: Option<String>,
    /// As in `diagnose`.
    pub slot: Option<String>,
    /// As in `diagnose`.
    pub instance: Option<String>,
    /// As in `diagnose`.
    pub publish_profile: Option<String>,
    /// As in `diagnose`.
    pub credentials: Option<ClassInstance<'a, Credentials>>,
    /// As in `diagnose`.
    pub max_in_flight: Option<f64>,
    /// As in `diagnose`.
    pub arm_endpoint: Option<String>,
}

/// The core's `HomeOptions`, the core's defaults for what is not given.
fn home(
    platform: Option<Platform>,
    stall_minutes: Option<f64>,
    log_tail_bytes: Option<f64>,
) -> kudu_state::Result<kudu_state::HomeOptions> {
    let defaults = kudu_state::HomeOptions::default();
    Ok(kudu_state::HomeOptions {
        platform: platform.map(Into::into),
        stall_minutes: match stall_minutes {
            None => defaults.stall_minutes,
            Some(m) => {
                u32::try_from(whole("stallMinutes", m, u64::from(u32::MAX))?).unwrap_or(u32::MAX)
            }
        },
        log_tail_bytes: match log_tail_bytes {
            None => defaults.log_tail_bytes,
            Some(b) => whole("logTailBytes", b, MAX_SAFE_INTEGER)?,
        },
    })
}

/// `Debug` of the options that can name a site: `ClassInstance` (the credentials) has none, and the
/// credentials show as their scheme only.
macro_rules! debug_site_options {
    ($($name:ident { $($field:ident),* }),+ $(,)?) => {$(
        impl std::fmt::Debug for $name<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    $(.field(stringify!($field), &self.$field))*
                    .field("remote", &self.remote)
                    .field("app", &self.app)
                    .field("resource_group", &self.resource_group)
                    .field("subscription", &self.subscription)
                    .field("slot", &self.slot)
                    .field("instance", &self.instance)
                    .field("publish_profile", &self.publish_profile)
                    .field("credentials", &self.credentials.as_ref().map(|c| c.core().scheme()))
                    .field("max_in_flight", &self.max_in_flight)
                    .field("arm_endpoint", &self.arm_endpoint)
                    .finish()
            }
        }
    )+};
}

debug_site_options!(
    DiagnoseOptions {
        now,
        stall_minutes,
        platform,
        log_tail_bytes
    },
    WaitOptions {
        timeout_ms,
        poll_ms,
        stall_minutes,
        platform,
        log_tail_bytes
    },
    TrackOptions {
        timeout_ms,
        poll_ms
    },
    ExplainOptions {},
    PlanOptions {
        now,
        allow_live_lock,
        allow_scm_restart,
        stall_minutes,
        platform,
        log_tail_bytes
    },
    ApplyOptions { backup_dir, yes },
    UndoOptions {},
);

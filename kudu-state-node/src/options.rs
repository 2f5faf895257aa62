//! JavaScript option objects to the core's options. Only the JavaScript types are checked here (a
//! `number` that must be a whole number); every range (stall window, log tail, HTTP status) is the
//! core's to check, as for the command and the Python package.

use std::time::Duration;

use napi_derive::napi;

use crate::enums::Platform;
use crate::error::invalid;

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

/// How to diagnose a home.
#[napi(object)]
#[derive(Debug, Default)]
pub struct DiagnoseOptions {
    /// Diagnose as of this time instead of now: makes expiry and stall decisions reproducible.
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    /// A deployment under a live lock with no activity for this many minutes is stalled (1–1440,
    /// default 10).
    pub stall_minutes: Option<f64>,
    /// Read the home as this platform instead of detecting it.
    pub platform: Option<Platform>,
    /// As in `scan`.
    pub log_tail_bytes: Option<f64>,
}

impl DiagnoseOptions {
    pub(crate) fn to_core(&self) -> kudu_state::Result<kudu_state::HomeOptions> {
        home(self.platform, self.stall_minutes, self.log_tail_bytes)
    }
}

/// What a plan may include, and how to read the home for it.
#[napi(object)]
#[derive(Debug, Default)]
pub struct PlanOptions {
    /// Plan as of this time instead of now.
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    /// Allow moving away a *live* Linux deployment lock once its deployment has stalled. A concurrent
    /// deployment becomes possible; the step says so and has risk `high`.
    pub allow_live_lock: Option<bool>,
    /// As in `diagnose`.
    pub stall_minutes: Option<f64>,
    /// As in `diagnose`.
    pub platform: Option<Platform>,
    /// As in `scan`.
    pub log_tail_bytes: Option<f64>,
}

impl PlanOptions {
    pub(crate) fn to_core(&self) -> kudu_state::Result<kudu_state::HomeOptions> {
        home(self.platform, self.stall_minutes, self.log_tail_bytes)
    }
}

/// How to wait for a home to become safe to deploy to.
#[napi(object)]
#[derive(Debug, Default)]
pub struct WaitOptions {
    /// Give up after this many milliseconds (the outcome then has `idle: false`).
    pub timeout_ms: f64,
    /// Milliseconds between checks (default 5000).
    pub poll_ms: Option<f64>,
    /// As in `diagnose`.
    pub stall_minutes: Option<f64>,
    /// As in `diagnose`.
    pub platform: Option<Platform>,
    /// As in `scan`.
    pub log_tail_bytes: Option<f64>,
}

impl WaitOptions {
    pub(crate) fn to_core(&self) -> kudu_state::Result<kudu_state::HomeOptions> {
        home(self.platform, self.stall_minutes, self.log_tail_bytes)
    }
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

//! [`wait_idle`]: poll a home until a deployment would be accepted, for CI steps before a deploy.
//!
//! This is the one place kudu-state reads the clock itself: waiting is about real time. Each poll's
//! diagnosis still gets that time passed in, so it is the same decision a test makes with a fixed `now`.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde::Serialize;

use crate::diagnose::{Diagnosis, HomeOptions, Verdict, diagnose};
use crate::error::Result;
use crate::scan::scan;

/// How a wait ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaitOutcome {
    /// True when the home became safe to deploy to; false on timeout.
    pub idle: bool,
    /// How long it waited (seconds, in JSON).
    #[serde(serialize_with = "seconds")]
    pub waited: Duration,
    /// The last diagnosis made.
    pub diagnosis: Diagnosis,
}

/// A duration as seconds (a JSON number with the milliseconds), the form people and scripts read.
pub(crate) fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

/// True when a CI step may deploy now: Kudu would accept it and it would not overlap a running one.
#[must_use]
pub fn is_clear(d: &Diagnosis) -> bool {
    d.safe_to_deploy && d.verdict != Verdict::Deploying
}

/// Polls `home` every `poll` until [`is_clear`] or `timeout`. `on_progress` sees each diagnosis that is
/// not clear and how long the wait has lasted; returning `false` stops the wait early (as a timeout).
///
/// # Errors
/// `INVALID_INPUT` for bad options; whatever [`scan`] returns for the home (it is re-scanned on every
/// poll).
pub fn wait_idle(
    home: &Path,
    options: &HomeOptions,
    timeout: Duration,
    poll: Duration,
    on_progress: impl FnMut(&Diagnosis, Duration) -> bool,
) -> Result<WaitOutcome> {
    let (scan_options, options) = options.split()?;
    wait_until_clear(
        timeout,
        poll,
        || Ok(diagnose(&scan(home, &scan_options)?, Utc::now(), options)),
        on_progress,
    )
}

/// The loop of [`wait_idle`] around any way of diagnosing (a remote site re-read over Kudu's API,
/// judged by the site's clock): calls `diagnose_once` every `poll` until [`is_clear`] or `timeout`.
///
/// # Errors
/// The first error `diagnose_once` returns.
pub fn wait_until_clear(
    timeout: Duration,
    poll: Duration,
    mut diagnose_once: impl FnMut() -> Result<Diagnosis>,
    mut on_progress: impl FnMut(&Diagnosis, Duration) -> bool,
) -> Result<WaitOutcome> {
    let start = Instant::now();
    loop {
        let diagnosis = diagnose_once()?;
        let waited = start.elapsed();
        if is_clear(&diagnosis) {
            return Ok(WaitOutcome {
                idle: true,
                waited,
                diagnosis,
            });
        }
        if waited >= timeout || !on_progress(&diagnosis, waited) {
            return Ok(WaitOutcome {
                idle: false,
                waited,
                diagnosis,
            });
        }
        std::thread::sleep(poll.min(timeout.saturating_sub(waited)));
    }
}

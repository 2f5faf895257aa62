//! `scan`, `diagnose` and `waitIdle`: reading a home.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use napi::Env;
use napi::Status;
use napi::bindgen_prelude::AsyncTask;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use crate::error::{finish, invalid, job, run};
use crate::types::{Diagnosis, Platform, Snapshot, WaitOutcome, WaitProgress};

/// How to scan a home.
#[napi(object)]
#[derive(Debug, Default)]
pub struct ScanOptions {
    /// Read the home as this platform instead of detecting it.
    pub platform: Option<Platform>,
    /// Bytes read from the end of each `log.log` (default 65536).
    pub log_tail_bytes: Option<f64>,
}

/// How to diagnose a home.
#[napi(object)]
#[derive(Debug, Default)]
pub struct DiagnoseOptions {
    /// Diagnose as of this time instead of now: makes expiry and stall decisions reproducible.
    pub now: Option<DateTime<Utc>>,
    /// A deployment under a live lock with no activity for this many minutes is stalled (1–1440,
    /// default 10).
    pub stall_minutes: Option<f64>,
    /// Read the home as this platform instead of detecting it.
    pub platform: Option<Platform>,
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
}

fn scan_options(platform: Option<Platform>) -> kudu_state::ScanOptions {
    kudu_state::ScanOptions {
        platform: platform.map(Into::into),
        ..kudu_state::ScanOptions::default()
    }
}

/// A JavaScript number that must be a whole number >= 0 (and a safe integer).
fn whole(name: &str, n: f64) -> kudu_state::Result<u64> {
    if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(n as u64)
    } else {
        Err(invalid(format!(
            "{name} must be a whole number >= 0, not {n}"
        )))
    }
}

/// A duration given in milliseconds.
fn millis(name: &str, ms: f64) -> kudu_state::Result<Duration> {
    whole(name, ms).map(Duration::from_millis)
}

/// The stall window, as the command's `--stall-minutes` (1–1440, default 10).
pub(crate) fn stall(minutes: Option<f64>) -> kudu_state::Result<kudu_state::DiagnoseOptions> {
    match minutes {
        None => Ok(kudu_state::DiagnoseOptions::default()),
        Some(m) if m.is_finite() && m.fract() == 0.0 && (1.0..=1440.0).contains(&m) =>
        {
            #[allow(clippy::cast_possible_truncation)]
            Ok(kudu_state::DiagnoseOptions {
                stall_window: TimeDelta::minutes(m as i64),
            })
        }
        Some(m) => Err(invalid(format!(
            "stallMinutes must be a whole number from 1 to 1440, not {m}"
        ))),
    }
}

/// What a diagnose or plan call reads: the home, how, and as of when.
#[derive(Debug)]
pub(crate) struct Read {
    home: PathBuf,
    scan: kudu_state::ScanOptions,
    options: kudu_state::Result<kudu_state::DiagnoseOptions>,
    now: Option<DateTime<Utc>>,
}

impl Read {
    pub(crate) fn new(
        home: String,
        platform: Option<Platform>,
        stall_minutes: Option<f64>,
        now: Option<DateTime<Utc>>,
    ) -> Self {
        Read {
            home: PathBuf::from(home),
            scan: scan_options(platform),
            options: stall(stall_minutes),
            now,
        }
    }

    /// Scans and diagnoses (as of `now`, else the current time).
    pub(crate) fn run(self) -> kudu_state::Result<(kudu_state::Snapshot, kudu_state::Diagnosis)> {
        let options = self.options?;
        let snapshot = kudu_state::scan(&self.home, &self.scan)?;
        let diagnosis = kudu_state::diagnose(&snapshot, self.now.unwrap_or_else(Utc::now), options);
        Ok((snapshot, diagnosis))
    }
}

fn scan_work(
    home: String,
    options: Option<ScanOptions>,
) -> impl FnOnce() -> kudu_state::Result<Snapshot> {
    let options = options.unwrap_or_default();
    let mut scan = scan_options(options.platform);
    let tail = options.log_tail_bytes.map(|b| whole("logTailBytes", b));
    move || {
        if let Some(tail) = tail {
            scan.log_tail_bytes = tail?;
        }
        Snapshot::from_core(&kudu_state::scan(std::path::Path::new(&home), &scan)?)
    }
}

fn diagnose_work(
    home: String,
    options: Option<DiagnoseOptions>,
) -> impl FnOnce() -> kudu_state::Result<Diagnosis> {
    let o = options.unwrap_or_default();
    let read = Read::new(home, o.platform, o.stall_minutes, o.now);
    move || Diagnosis::from_core(&read.run()?.1)
}

fn wait_work(
    home: String,
    options: WaitOptions,
    mut on_progress: impl FnMut(&kudu_state::Diagnosis, Duration) + Send,
) -> impl FnOnce() -> kudu_state::Result<WaitOutcome> {
    let minutes = options
        .stall_minutes
        .map_or(Ok(10), |m| whole("stallMinutes", m))
        .map(|m| u32::try_from(m).unwrap_or(u32::MAX));
    let platform = options.platform.map(Into::into);
    let timeout = millis("timeoutMs", options.timeout_ms);
    let poll = millis("pollMs", options.poll_ms.unwrap_or(5000.0));
    move || {
        let home_options = kudu_state::HomeOptions {
            platform,
            stall_minutes: minutes?,
            ..kudu_state::HomeOptions::default()
        };
        let outcome = kudu_state::wait_idle(
            std::path::Path::new(&home),
            &home_options,
            timeout?,
            poll?,
            |d, waited| {
                on_progress(d, waited);
                true
            },
        )?;
        WaitOutcome::from_core(&outcome)
    }
}

job!(
    /// Resolves to `Snapshot`.
    ScanTask => Snapshot
);
job!(
    /// Resolves to `Diagnosis`.
    DiagnoseTask => Diagnosis
);
job!(
    /// Resolves to `WaitOutcome`.
    WaitTask => WaitOutcome
);

/// Reads the home at `home` (the folder that contains `site/`, or `site` itself) in one pass.
///
/// Rejects with `HOME_NOT_FOUND`, `NOT_A_HOME` or `IO_ERROR`; a damaged state inside the home is never
/// an error.
#[napi(catch_unwind)]
pub fn scan(home: String, options: Option<ScanOptions>) -> AsyncTask<ScanTask> {
    AsyncTask::new(ScanTask::new(scan_work(home, options)))
}

/// `scan`, blocking.
#[napi(catch_unwind)]
pub fn scan_sync(env: Env, home: String, options: Option<ScanOptions>) -> napi::Result<Snapshot> {
    finish(&env, run(scan_work(home, options)))
}

/// Says whether a deployment is running, stuck or blocked, and why.
///
/// Rejects with `HOME_NOT_FOUND`, `NOT_A_HOME`, `IO_ERROR`, or `INVALID_INPUT` for a bad option.
#[napi(catch_unwind)]
pub fn diagnose(home: String, options: Option<DiagnoseOptions>) -> AsyncTask<DiagnoseTask> {
    AsyncTask::new(DiagnoseTask::new(diagnose_work(home, options)))
}

/// `diagnose`, blocking.
#[napi(catch_unwind)]
pub fn diagnose_sync(
    env: Env,
    home: String,
    options: Option<DiagnoseOptions>,
) -> napi::Result<Diagnosis> {
    finish(&env, run(diagnose_work(home, options)))
}

/// Polls `home` until a deployment would be accepted and would not overlap a running one, or until
/// `timeoutMs` has passed. Resolves either way: check `idle`. Runs off the main thread; `onProgress`,
/// if given, is called (on the main thread) with each poll that was not yet clear.
#[napi(catch_unwind)]
pub fn wait_idle(
    home: String,
    options: WaitOptions,
    on_progress: Option<ThreadsafeFunction<WaitProgress, (), WaitProgress, Status, false>>,
) -> AsyncTask<WaitTask> {
    AsyncTask::new(WaitTask::new(wait_work(home, options, move |d, waited| {
        if let (Some(callback), Ok(diagnosis)) = (&on_progress, Diagnosis::from_core(d)) {
            let progress = WaitProgress {
                waited_ms: waited.as_secs_f64() * 1000.0,
                diagnosis,
            };
            callback.call(progress, ThreadsafeFunctionCallMode::NonBlocking);
        }
    })))
}

/// `waitIdle`, blocking the JavaScript thread for up to `timeoutMs`.
#[napi(catch_unwind)]
pub fn wait_idle_sync(env: Env, home: String, options: WaitOptions) -> napi::Result<WaitOutcome> {
    finish(&env, run(wait_work(home, options, |_, _| {})))
}

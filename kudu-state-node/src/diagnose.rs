//! `scan`, `diagnose` and `waitIdle`: reading a home, through the core's one entry point
//! (`kudu_state::diagnose_home`, `kudu_state::wait_idle`) with the core's validated options.

use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;
use napi::Env;
use napi::Status;
use napi::bindgen_prelude::AsyncTask;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use crate::error::{finish, job, run};
use crate::options::{DiagnoseOptions, ScanOptions, WaitOptions, millis};
use crate::types::{Diagnosis, Snapshot, WaitOutcome, WaitProgress};

fn scan_work(
    home: String,
    options: Option<ScanOptions>,
) -> impl FnOnce() -> kudu_state::Result<Snapshot> {
    let options = options.unwrap_or_default().to_core();
    move || Snapshot::from_core(&kudu_state::scan(&PathBuf::from(home), &options?)?)
}

fn diagnose_work(
    home: String,
    options: Option<DiagnoseOptions>,
) -> impl FnOnce() -> kudu_state::Result<Diagnosis> {
    let o = options.unwrap_or_default();
    let (now, options) = (o.now, o.to_core());
    move || {
        let now = now.unwrap_or_else(Utc::now);
        let (_, d) = kudu_state::diagnose_home(&PathBuf::from(home), now, &options?)?;
        Diagnosis::from_core(&d)
    }
}

fn wait_work(
    home: String,
    options: WaitOptions,
    mut on_progress: impl FnMut(&kudu_state::Diagnosis, Duration) + Send,
) -> impl FnOnce() -> kudu_state::Result<WaitOutcome> {
    let home_options = options.to_core();
    let timeout = millis("timeoutMs", options.timeout_ms);
    let poll = millis("pollMs", options.poll_ms.unwrap_or(5000.0));
    move || {
        let outcome = kudu_state::wait_idle(
            &PathBuf::from(home),
            &home_options?,
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
/// Rejects with `HOME_NOT_FOUND`, `NOT_A_HOME`, `IO_ERROR`, or `INVALID_INPUT` for a bad option; a
/// damaged state inside the home is never an error.
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

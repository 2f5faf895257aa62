//! `scan`, `diagnose` and `waitIdle`: reading a home, through the core's one entry point
//! (`kudu_state::diagnose_home`, `kudu_state::wait_idle`) with the core's validated options, or a site
//! over Kudu's REST API (`kudu_state::remote::diagnose_site`, `kudu_state::wait_until_clear`).

use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;
use napi::Env;
use napi::bindgen_prelude::{AsyncTask, Either};
use napi_derive::napi;

use crate::callback::{Answers, Callback, ask};
use crate::error::{finish, invalid, job, run};
use crate::options::{DiagnoseOptions, ScanOptions, WaitOptions, millis};
use crate::remote::{home_and_options, home_options_callback, site_args};
use crate::types::{Diagnosis, Snapshot, WaitOutcome, WaitProgress};
use kudu_state::remote::Target;

fn scan_work(
    home: String,
    options: Option<ScanOptions>,
) -> impl FnOnce() -> kudu_state::Result<Snapshot> {
    let options = options.unwrap_or_default().to_core();
    move || Snapshot::from_core(&kudu_state::scan(&PathBuf::from(home), &options?)?)
}

type ProgressFn = Callback<WaitProgress>;

fn diagnose_work(
    first: Either<String, DiagnoseOptions<'_>>,
    second: Option<DiagnoseOptions<'_>>,
) -> impl FnOnce() -> kudu_state::Result<Diagnosis> + use<> {
    let prepared = home_and_options("diagnose", first, second).and_then(|(home, o)| {
        let o = o.unwrap_or_default();
        Ok((
            o.now,
            o.to_core()?,
            site_args!(o).target(home.map(Into::into))?,
        ))
    });
    move || {
        let (now, options, target) = prepared?;
        match target {
            Target::Home(home) => {
                let now = now.unwrap_or_else(Utc::now);
                let (_, d) = kudu_state::diagnose_home(&home, now, &options)?;
                Diagnosis::from_core(&d)
            }
            Target::Site(site) => {
                let store = site.connect()?;
                let d = kudu_state::remote::diagnose_site(&store, &options, now)?;
                Diagnosis::from_core(&d.diagnosis)
            }
        }
    }
}

/// What a wait needs, read from the arguments on the JavaScript thread.
struct Wait {
    target: Target,
    options: kudu_state::HomeOptions,
    timeout: Duration,
    poll: Duration,
}

fn prepare_wait(
    home: Option<String>,
    options: Option<WaitOptions<'_>>,
) -> kudu_state::Result<Wait> {
    let Some(o) = options else {
        return Err(invalid(
            "waitIdle needs options with `timeoutMs`: `waitIdle(home, { timeoutMs })` or `waitIdle({ remote, timeoutMs })`",
        ));
    };
    let target = site_args!(o).target(home.map(Into::into))?;
    let poll = match o.poll_ms {
        Some(ms) => millis("pollMs", ms)?,
        None => target.default_poll(),
    };
    Ok(Wait {
        options: o.to_core()?,
        timeout: millis("timeoutMs", o.timeout_ms)?,
        poll,
        target,
    })
}

fn wait_work(
    wait: kudu_state::Result<Wait>,
    mut on_progress: impl FnMut(&kudu_state::Diagnosis, Duration) -> bool + Send,
) -> impl FnOnce() -> kudu_state::Result<WaitOutcome> {
    move || {
        let Wait {
            target,
            options,
            timeout,
            poll,
        } = wait?;
        let progress = |d: &kudu_state::Diagnosis, waited| on_progress(d, waited);
        let outcome = match target {
            Target::Home(home) => kudu_state::wait_idle(&home, &options, timeout, poll, progress)?,
            Target::Site(site) => {
                let site = site.unbounded();
                let store = site.connect()?;
                kudu_state::wait_until_clear(
                    timeout,
                    poll,
                    || Ok(kudu_state::remote::diagnose_site(&store, &options, None)?.diagnosis),
                    progress,
                )?
            }
        };
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

/// Says whether a deployment is running, stuck or blocked, and why: `diagnose(home, options?)` for a
/// home on disk, `diagnose({ remote, credentials, … })` for a site over Kudu's REST API (read-only;
/// judged by the site's clock unless `now` is given).
///
/// Rejects with `HOME_NOT_FOUND`, `NOT_A_HOME`, `IO_ERROR`, or `INVALID_INPUT` for a bad option; for a
/// site, with the remote codes (`AUTH_FAILED`, `NETWORK_ERROR`, …; `.url` says which URL).
#[napi(
    catch_unwind,
    ts_args_type = "...args: [home: string, options?: DiagnoseOptions | undefined | null] | [options: DiagnoseOptions]"
)]
pub fn diagnose(
    home_or_options: Either<String, DiagnoseOptions<'_>>,
    options: Option<DiagnoseOptions<'_>>,
) -> AsyncTask<DiagnoseTask> {
    AsyncTask::new(DiagnoseTask::new(diagnose_work(home_or_options, options)))
}

/// `diagnose`, blocking.
#[napi(
    catch_unwind,
    ts_args_type = "...args: [home: string, options?: DiagnoseOptions | undefined | null] | [options: DiagnoseOptions]"
)]
pub fn diagnose_sync(
    env: Env,
    home_or_options: Either<String, DiagnoseOptions<'_>>,
    options: Option<DiagnoseOptions<'_>>,
) -> napi::Result<Diagnosis> {
    finish(&env, run(diagnose_work(home_or_options, options)))
}

/// Polls `home` (or a site over Kudu's REST API: `waitIdle({ remote, timeoutMs, … }, onProgress?)`)
/// until a deployment would be accepted and would not overlap a running one, or until `timeoutMs` has
/// passed. Resolves either way: check `idle`. Runs off the main thread; `onProgress`, if given, is
/// called (on the main thread) with each poll that was not yet clear, synchronously (a Promise it
/// returns is not awaited): returning `false` stops the wait (as a timeout), and what it throws
/// stops it and rejects the promise.
#[napi(
    catch_unwind,
    ts_args_type = "...args: [home: string, options: WaitOptions, onProgress?: ((arg: WaitProgress) => unknown) | undefined | null] | [options: WaitOptions, onProgress?: ((arg: WaitProgress) => unknown) | undefined | null]"
)]
pub fn wait_idle(
    home_or_options: Either<String, WaitOptions<'_>>,
    options_or_progress: Option<Either<WaitOptions<'_>, ProgressFn>>,
    on_progress: Option<ProgressFn>,
) -> AsyncTask<WaitTask> {
    let (wait, on_progress) = match home_options_callback(
        "waitIdle",
        home_or_options,
        options_or_progress,
        on_progress,
    ) {
        Ok((home, options, callback)) => (prepare_wait(home, options), callback),
        Err(e) => (Err(e), None),
    };
    let answers = Answers::default();
    let said = answers.clone();
    let mut task = WaitTask::new(wait_work(wait, move |d, waited| {
        // Converted (with its JSON) only when someone is called with it.
        let Some(callback) = &on_progress else {
            return true;
        };
        match Diagnosis::from_core(d) {
            Ok(diagnosis) => {
                let progress = WaitProgress {
                    waited_ms: waited.as_secs_f64() * 1000.0,
                    diagnosis,
                };
                ask(callback, &said, progress)
            }
            Err(_) => true,
        }
    }));
    task.1 = answers;
    AsyncTask::new(task)
}

/// `waitIdle`, blocking the JavaScript thread for up to `timeoutMs`.
#[napi(
    catch_unwind,
    ts_args_type = "...args: [home: string, options: WaitOptions] | [options: WaitOptions]"
)]
pub fn wait_idle_sync(
    env: Env,
    home_or_options: Either<String, WaitOptions<'_>>,
    options: Option<WaitOptions<'_>>,
) -> napi::Result<WaitOutcome> {
    let wait = home_and_options("waitIdleSync", home_or_options, options)
        .and_then(|(home, options)| prepare_wait(home, options));
    finish(&env, run(wait_work(wait, |_, _| true)))
}

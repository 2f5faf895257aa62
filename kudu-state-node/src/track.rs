//! `track` and `trackSync`: follow one deployment by its id until it ends, on a home or on a site over
//! Kudu's REST API, through the core's `kudu_state::track` (which reads only that record's files).

use std::time::Duration;

use napi::Env;
use napi::bindgen_prelude::{AsyncTask, Either};
use napi_derive::napi;

use crate::callback::{Answers, Callback, ask};
use crate::error::{finish, job, run};
use crate::options::{TrackOptions, millis};
use crate::remote::{home_and_options, home_options_callback, site_args};
use crate::types::{TrackOutcome, TrackProgress, TrackState};
use kudu_state::remote::Target;

type ChangeFn = Callback<TrackProgress>;

/// What a track needs, read from the arguments on the JavaScript thread.
struct Track {
    target: Target,
    options: kudu_state::TrackOptions,
}

fn prepare(home: Option<String>, options: Option<TrackOptions<'_>>) -> kudu_state::Result<Track> {
    let o = options.unwrap_or_default();
    let target = site_args!(o).target(home.map(Into::into))?;
    let poll = match o.poll_ms {
        Some(ms) => millis("pollMs", ms)?,
        None => target.default_poll(),
    };
    let inactivity = match o.timeout_ms {
        Some(ms) => millis("timeoutMs", ms)?,
        None => Duration::from_secs(600),
    };
    Ok(Track {
        target,
        options: kudu_state::TrackOptions { inactivity, poll },
    })
}

fn track_work(
    id: String,
    track: kudu_state::Result<Track>,
    mut on_change: impl FnMut(&kudu_state::TrackState, Duration) -> bool + Send,
) -> impl FnOnce() -> kudu_state::Result<TrackOutcome> {
    move || {
        let Track { target, options } = track?;
        let outcome = match target {
            Target::Home(home) => {
                let (root, _) = kudu_state::scan::resolve_home(&home)?;
                let store = kudu_state::store::LocalStore::new(root);
                kudu_state::track(&store, &id, options, &mut on_change)?
            }
            Target::Site(site) => {
                let site = site.unbounded();
                let store = site.connect()?;
                kudu_state::track(&store, &id, options, &mut on_change)?
            }
        };
        TrackOutcome::from_core(&outcome)
    }
}

job!(
    /// Resolves to `TrackOutcome`.
    TrackTask => TrackOutcome
);

/// Follows deployment `id` (the `SCM-DEPLOYMENT-ID` a deploy returned) on `home`, or on a site over
/// Kudu's REST API (`track(id, { remote, credentials, … }, onChange?)`), until it succeeds or fails, or
/// nothing in its record changed for `timeoutMs` (default 10 minutes). Reads only that record, every
/// `pollMs` (default 5 s on a disk, 10 s over the API), never `/api/deployments`. Resolves either way:
/// check `end`. `onChange`, if given, is called (on the main thread) with the first state and each
/// change, synchronously (a Promise it returns is not awaited): returning `false` stops the track
/// (`end` is `stopped`), and what it throws stops it and rejects the promise.
#[napi(
    catch_unwind,
    ts_args_type = "id: string, ...args: [home: string, options?: TrackOptions | undefined | null, onChange?: ((arg: TrackProgress) => unknown) | undefined | null] | [options: TrackOptions, onChange?: ((arg: TrackProgress) => unknown) | undefined | null]"
)]
pub fn track(
    id: String,
    home_or_options: Either<String, TrackOptions<'_>>,
    options_or_change: Option<Either<TrackOptions<'_>, ChangeFn>>,
    on_change: Option<ChangeFn>,
) -> AsyncTask<TrackTask> {
    let (prepared, on_change) =
        match home_options_callback("track", home_or_options, options_or_change, on_change) {
            Ok((home, options, callback)) => (prepare(home, options), callback),
            Err(e) => (Err(e), None),
        };
    let answers = Answers::default();
    let said = answers.clone();
    let mut task = TrackTask::new(track_work(id, prepared, move |state, waited| {
        on_change.as_ref().is_none_or(|callback| {
            let change = TrackProgress {
                waited_ms: waited.as_secs_f64() * 1000.0,
                state: TrackState::from(state),
            };
            ask(callback, &said, change)
        })
    }));
    task.1 = answers;
    AsyncTask::new(task)
}

/// `track`, blocking the JavaScript thread until the deployment ends or `timeoutMs` passes without a
/// change.
#[napi(
    catch_unwind,
    ts_args_type = "id: string, ...args: [home: string, options?: TrackOptions | undefined | null] | [options: TrackOptions]"
)]
pub fn track_sync(
    env: Env,
    id: String,
    home_or_options: Either<String, TrackOptions<'_>>,
    options: Option<TrackOptions<'_>>,
) -> napi::Result<TrackOutcome> {
    let prepared = home_and_options("trackSync", home_or_options, options)
        .and_then(|(home, options)| prepare(home, options));
    finish(&env, run(track_work(id, prepared, |_, _| true)))
}

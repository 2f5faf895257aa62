//! Reaching a site over Kudu's REST API from the command line: the options become the core's
//! [`ConnectOptions`], credentials come from this process's environment, and every remote run ends
//! with one line on standard error saying what it cost and which clock judged it.

use std::io::Write;

use kudu_state::Result;
use kudu_state::remote::{Clock, ConnectOptions, Env, HttpOptions, RemoteStore, connect};

use crate::args::{HomeArgs, RemoteArgs};

/// Opens the store the options name; refuses a home path given with them. The whole run is
/// bounded by the client's default limit.
pub(crate) fn open(remote: &RemoteArgs, home: &HomeArgs) -> Result<RemoteStore> {
    open_with(remote, home, HttpOptions::default().run_timeout)
}

/// [`open`] for `wait-idle` and `track`, which end by their own `--timeout`: no limit on the whole
/// run (each request keeps its own), so a 30-minute wait is not cut at the client's default.
pub(crate) fn open_for_waiting(remote: &RemoteArgs, home: &HomeArgs) -> Result<RemoteStore> {
    open_with(remote, home, None)
}

fn open_with(
    remote: &RemoteArgs,
    home: &HomeArgs,
    run_timeout: Option<std::time::Duration>,
) -> Result<RemoteStore> {
    if let Some(path) = &home.home {
        return Err(kudu_state::Error::Invalid {
            what: "argument",
            reason: format!(
                "`{}` is a home on disk, but --remote/--app/--publish-profile name a site; give one or the other",
                path.display()
            ),
        });
    }
    let options = ConnectOptions {
        remote: remote.remote.clone(),
        app: remote.app.clone(),
        resource_group: remote.resource_group.clone(),
        subscription: remote.subscription.clone(),
        slot: remote.slot.clone(),
        publish_profile: remote.publish_profile.clone(),
        instance: remote.instance.clone(),
        arm_endpoint: remote.arm_endpoint.clone(),
        http: HttpOptions {
            max_in_flight: usize::try_from(remote.max_in_flight).unwrap_or(8),
            run_timeout,
            ..HttpOptions::default()
        },
    };
    connect(&options, &Env::from_process())
}

/// `kudu-state: https://…: 17 requests (0 retries), 0.41 s; time: the site's clock (Date header)`.
pub(crate) fn report(err: &mut dyn Write, store: &RemoteStore, clock: Option<Clock>) {
    let stats = store.stats();
    let clock = match clock {
        Some(Clock::Given) => "; time: --now",
        Some(Clock::Site) => "; time: the site's clock (its Date header)",
        Some(Clock::Local) => "; time: this machine's clock (the site sent no Date)",
        None => "",
    };
    let _ = writeln!(
        err,
        "kudu-state: {}: {} requests ({} retries), {:.2} s{clock}",
        store.site().as_str(),
        stats.requests,
        stats.retries,
        std::time::Duration::from_millis(stats.elapsed_ms).as_secs_f64()
    );
}

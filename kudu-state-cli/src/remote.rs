//! Reaching a site over Kudu's REST API from the command line: the options become the core's
//! [`SiteArgs`], credentials come from this process's environment, and every remote run ends
//! with one line on standard error saying what it cost and which clock judged it.

use std::io::Write;

use kudu_state::Result;
use kudu_state::remote::{Clock, RemoteStore, SiteArgs, Spelling};

use crate::args::{HomeArgs, RemoteArgs};

/// Opens the store of the site the options name, or `None` when they name none (a home on disk).
/// The core checks which options go together, as for the packages, and refuses a home path given
/// with a site. The whole run is bounded by the client's default limit.
pub(crate) fn open(remote: &RemoteArgs, home: &HomeArgs) -> Result<Option<RemoteStore>> {
    open_with(remote, home, false)
}

/// [`open`] for `wait-idle` and `track`, which end by their own `--timeout`: no limit on the whole
/// run (each request keeps its own), so a 30-minute wait is not cut at the client's default.
pub(crate) fn open_for_waiting(
    remote: &RemoteArgs,
    home: &HomeArgs,
) -> Result<Option<RemoteStore>> {
    open_with(remote, home, true)
}

fn open_with(remote: &RemoteArgs, home: &HomeArgs, waiting: bool) -> Result<Option<RemoteStore>> {
    let args = SiteArgs {
        spelling: Spelling::Flag,
        remote: remote.remote.clone(),
        app: remote.app.clone(),
        resource_group: remote.resource_group.clone(),
        subscription: remote.subscription.clone(),
        slot: remote.slot.clone(),
        instance: remote.instance.clone(),
        publish_profile: remote.publish_profile.clone(),
        credentials: None,
        max_in_flight: remote.max_in_flight.map(f64::from),
        arm_endpoint: remote.arm_endpoint.clone(),
    };
    let site = match &home.home {
        None => args.site()?.map(Box::new),
        // A home on disk: `target` refuses it when the options also name a site.
        Some(path) => {
            args.target(Some(path.clone()))?;
            None
        }
    };
    site.map(|site| if waiting { site.unbounded() } else { site }.connect())
        .transpose()
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

//! What each subcommand does, on top of the core library.

use std::io::{BufRead, Read, Write};
use std::path::PathBuf;

use chrono::{TimeDelta, Utc};
use kudu_state::remote::RemoteStore;
use kudu_state::{ApplyOptions, Diagnosis, Error, Plan, PlanOptions, Result, Verdict};

use crate::args::{
    ApplyArgs, Cli, Command, DiagnoseArgs, ExplainArgs, HomeArgs, PlanArgs, TrackArgs, UndoArgs,
    WaitArgs,
};
use crate::remote;
use crate::render;
use crate::{EXIT_BROKEN, EXIT_DEPLOYING, EXIT_OK, EXIT_STUCK};

/// The streams a command talks to.
pub(crate) struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub input: &'a mut dyn BufRead,
    /// Colour the human output (a terminal, and `NO_COLOR` unset).
    pub color: bool,
    /// Standard input is a terminal, so a person can confirm `apply`.
    pub interactive: bool,
}

pub(crate) fn dispatch(cli: Cli, io: &mut Io<'_>) -> Result<i32> {
    match cli.command {
        Command::Diagnose(a) => diagnose(&a, io),
        Command::Explain(a) => explain(&a, io),
        Command::WaitIdle(a) => wait_idle(&a, io),
        Command::Plan(a) => plan(&a, io),
        Command::Apply(a) => apply(&a, io),
        Command::Undo(a) => undo(&a, io),
        Command::Track(a) => track(&a, io),
        Command::Completions(a) => crate::generate::completions(&a, io),
        Command::Man(a) => crate::generate::man(&a, io),
    }
}

/// The verdict's exit status.
pub(crate) fn verdict_exit(v: Verdict) -> i32 {
    match v {
        Verdict::Idle => EXIT_OK,
        Verdict::Deploying => EXIT_DEPLOYING,
        Verdict::Stuck => EXIT_STUCK,
        Verdict::Broken => EXIT_BROKEN,
    }
}

/// The home to read: the argument, else `$HOME` when it holds a `site` folder.
pub(crate) fn home_path(arg: Option<&PathBuf>) -> Result<PathBuf> {
    if let Some(p) = arg {
        return Ok(p.clone());
    }
    match std::env::var_os("HOME").map(PathBuf::from) {
        Some(h) if h.join("site").is_dir() => Ok(h),
        Some(h) => Err(Error::Invalid {
            what: "argument",
            reason: format!(
                "no HOME argument given and $HOME (`{}`) has no `site` folder; pass the App Service home, e.g. `kudu-state diagnose /home`",
                h.display()
            ),
        }),
        None => Err(Error::Invalid {
            what: "argument",
            reason: "no HOME argument given and $HOME is not set; pass the App Service home"
                .to_owned(),
        }),
    }
}

pub(crate) fn scan_and_diagnose(home: &HomeArgs, now: chrono::DateTime<Utc>) -> Result<Diagnosis> {
    Ok(scan_diagnose(home, now)?.1)
}

fn scan_diagnose(
    home: &HomeArgs,
    now: chrono::DateTime<Utc>,
) -> Result<(kudu_state::Snapshot, Diagnosis)> {
    kudu_state::diagnose_home(&home_path(home.home.as_ref())?, now, &home.options())
}

/// The plan for the home on disk, or for the site `store` reads (then with it).
fn make_plan(
    home: &HomeArgs,
    store: Option<RemoteStore>,
    now: Option<chrono::DateTime<Utc>>,
    options: PlanOptions,
    io: &mut Io<'_>,
) -> Result<(Plan, Option<RemoteStore>)> {
    if let Some(store) = store {
        let (site, plan) =
            kudu_state::remote::plan_site_repair(&store, &home.options(), options, now)?;
        remote::report(io.err, &store, Some(site.clock));
        return Ok((plan, Some(store)));
    }
    let (snapshot, diagnosis) = scan_diagnose(home, now.unwrap_or_else(Utc::now))?;
    Ok((kudu_state::plan(&snapshot, &diagnosis, options)?, None))
}

fn plan(a: &PlanArgs, io: &mut Io<'_>) -> Result<i32> {
    let store = remote::open(&a.remote, &a.home)?;
    let (plan, _) = make_plan(&a.home, store, a.now, a.allow.options(), io)?;
    if a.json {
        print_json(io, &plan)?;
    } else {
        render::plan(io.out, &plan, io.color).map_err(|e| stdout_error(&e))?;
    }
    Ok(if plan.is_empty() {
        EXIT_OK
    } else {
        EXIT_DEPLOYING
    })
}

/// Largest plan file read.
const MAX_PLAN: u64 = 16 * 1024 * 1024;

fn apply(a: &ApplyArgs, io: &mut Io<'_>) -> Result<i32> {
    let store = remote::open(&a.remote, &a.home)?;
    let (plan, store) = match (&a.plan, store) {
        (Some(file), store) => {
            let plan = Plan::from_json(&read_plan(file)?)?;
            // (With a site, `remote::open` has already refused a home path.)
            if let Some(home) = &a.home.home
                && home.canonicalize().ok() != plan.home.canonicalize().ok()
            {
                return Err(Error::Invalid {
                    what: "plan",
                    reason: format!(
                        "it was made for `{}`, not `{}`",
                        plan.home.display(),
                        home.display()
                    ),
                });
            }
            (plan, store)
        }
        (None, store) => make_plan(&a.home, store, None, a.allow.options(), io)?,
    };
    render::plan(io.out, &plan, io.color).map_err(|e| stdout_error(&e))?;
    if !plan.changes_files() {
        let _ = writeln!(io.out, "\nnothing to apply.");
        return Ok(EXIT_OK);
    }
    if !a.yes {
        if !io.interactive {
            return Err(Error::Invalid {
                what: "argument",
                reason: "standard input is not a terminal, so nobody can confirm; review the plan and pass --yes".to_owned(),
            });
        }
        let _ = write!(io.out, "\napply these steps? [y/N] ");
        let _ = io.out.flush();
        let mut answer = String::new();
        let _ = io.input.read_line(&mut answer);
        if !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            let _ = writeln!(io.out, "nothing was changed.");
            return Ok(EXIT_OK);
        }
    }
    let out = &mut *io.out;
    let progress = |step: &kudu_state::remediate::StepReport| {
        let _ = render::step_line(out, step);
    };
    let report = match &store {
        Some(store) => {
            let options = kudu_state::remote::SiteApplyOptions {
                backup_root: a.backup_dir.clone(),
            };
            let report = kudu_state::remote::apply_site(&plan, store, &options, progress);
            remote::report(io.err, store, None);
            report?
        }
        None => {
            let options = ApplyOptions {
                backup_root: a.backup_dir.clone(),
            };
            kudu_state::remediate::apply_with_progress(&plan, &options, progress)?
        }
    };
    match &report.backup {
        Some(b) => {
            let site = store.as_ref().map_or(String::new(), |s| {
                format!(
                    " --remote {} (with the same credentials)",
                    s.site().as_str()
                )
            });
            let _ = writeln!(
                io.out,
                "\nbackup: {}\nundo with: kudu-state undo {}{site}",
                b.display(),
                b.display()
            );
        }
        None => {
            let _ = writeln!(io.out, "\nnothing needed changing; no backup was made.");
        }
    }
    Ok(EXIT_OK)
}

fn read_plan(path: &std::path::Path) -> Result<String> {
    let io_err = |op, e| Error::Io {
        op,
        path: path.to_path_buf(),
        source: e,
    };
    let file = fs_err::File::open(path).map_err(|e| io_err("open", e))?;
    let mut text = String::new();
    file.take(MAX_PLAN)
        .read_to_string(&mut text)
        .map_err(|e| io_err("read", e))?;
    Ok(text)
}

fn undo(a: &UndoArgs, io: &mut Io<'_>) -> Result<i32> {
    let report = if let Some(store) = remote::open(&a.remote, &HomeArgs::none())? {
        let report = kudu_state::remote::undo_site(&a.backup_dir, &store);
        remote::report(io.err, &store, None);
        report?
    } else {
        kudu_state::undo(&a.backup_dir)?
    };
    if report.already_undone {
        let _ = writeln!(
            io.out,
            "{} was already undone; nothing changed.",
            a.backup_dir.display()
        );
    } else {
        for path in &report.restored {
            let _ = writeln!(io.out, "restored {path}");
        }
        let _ = writeln!(
            io.out,
            "undone: {} change(s) reversed.",
            report.restored.len()
        );
        if !report.times_not_restored.is_empty() {
            let _ = writeln!(
                io.out,
                "file times not restored (Kudu's API cannot set them; the content is back): {}",
                report.times_not_restored.join(", ")
            );
        }
        for line in &report.irreversible {
            let _ = writeln!(io.out, "cannot be undone: {line}");
        }
    }
    Ok(EXIT_OK)
}

fn diagnose(a: &DiagnoseArgs, io: &mut Io<'_>) -> Result<i32> {
    let d = if let Some(store) = remote::open(&a.remote, &a.home)? {
        let site = kudu_state::remote::diagnose_site(&store, &a.home.options(), a.now)?;
        remote::report(io.err, &store, Some(site.clock));
        site.diagnosis
    } else {
        scan_and_diagnose(&a.home, a.now.unwrap_or_else(Utc::now))?
    };
    if a.json {
        print_json(io, &d)?;
    } else {
        render::diagnosis(io.out, &d, io.color).map_err(|e| stdout_error(&e))?;
    }
    Ok(verdict_exit(d.verdict))
}

fn print_json(io: &mut Io<'_>, value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::Invalid {
        what: "output",
        reason: e.to_string(),
    })?;
    writeln!(io.out, "{text}").map_err(|e| stdout_error(&e))
}

pub(crate) fn stdout_error(e: &std::io::Error) -> Error {
    Error::Io {
        op: "write to",
        path: PathBuf::from("<stdout>"),
        source: std::io::Error::new(e.kind(), e.to_string()),
    }
}

/// `--poll`, else the core's default for a home or a site.
fn poll_or_default(poll: Option<TimeDelta>, remote: bool) -> std::time::Duration {
    let default = if remote {
        kudu_state::remote::SITE_POLL
    } else {
        kudu_state::remote::HOME_POLL
    };
    poll.map_or(default, |p| p.to_std().unwrap_or_default())
}

fn track(a: &TrackArgs, io: &mut Io<'_>) -> Result<i32> {
    let remote_store = remote::open_for_waiting(&a.remote, &a.home)?;
    let local_store;
    let store: &dyn kudu_state::store::Store = match &remote_store {
        Some(s) => s,
        None => {
            local_store = kudu_state::store::LocalStore::new(
                kudu_state::scan::resolve_home(&home_path(a.home.home.as_ref())?)?.0,
            );
            &local_store
        }
    };
    let options = kudu_state::TrackOptions {
        inactivity: a.timeout.to_std().unwrap_or_default(),
        poll: poll_or_default(a.poll, remote_store.is_some()),
    };
    let err = &mut *io.err;
    let outcome = kudu_state::track(store, &a.id, options, |state, waited| {
        let _ = writeln!(
            err,
            "kudu-state: {} [{}] {}",
            render::duration(TimeDelta::from_std(waited).unwrap_or_default()),
            render::track_state(state),
            state
                .last_log_message
                .as_deref()
                .or(state.progress.as_deref())
                .unwrap_or("")
        );
        true
    })?;
    if let Some(s) = &remote_store {
        remote::report(io.err, s, None);
    }
    if a.json {
        print_json(io, &outcome)?;
    }
    let waited = render::duration(TimeDelta::from_std(outcome.waited).unwrap_or_default());
    let (code, what) = match outcome.end {
        kudu_state::TrackEnd::Succeeded => (EXIT_OK, "succeeded"),
        kudu_state::TrackEnd::Failed => (EXIT_BROKEN, "failed"),
        kudu_state::TrackEnd::TimedOut | kudu_state::TrackEnd::Stopped => (
            EXIT_STUCK,
            "timed out: nothing changed for the --timeout window",
        ),
    };
    let _ = writeln!(
        io.err,
        "kudu-state: deployment '{}' {what} (after {waited})",
        a.id
    );
    Ok(code)
}

/// Largest body `explain` reads from standard input.
const MAX_BODY: u64 = 4 * 1024 * 1024;

fn explain(a: &ExplainArgs, io: &mut Io<'_>) -> Result<i32> {
    let body = match a.body.as_deref() {
        Some(b) if b != "-" => b.to_owned(),
        _ => {
            let mut buf = Vec::new();
            io.input
                .take(MAX_BODY)
                .read_to_end(&mut buf)
                .map_err(|e| Error::Io {
                    op: "read",
                    path: PathBuf::from("<stdin>"),
                    source: e,
                })?;
            String::from_utf8_lossy(&buf).into_owned()
        }
    };
    let x = kudu_state::explain::explain_response(&body, Some(a.status))?;
    let Some(store) = remote::open(&a.remote, &HomeArgs::none())? else {
        if a.json {
            print_json(io, &x)?;
        } else {
            render::explanation(io.out, &x, io.color).map_err(|e| stdout_error(&e))?;
        }
        return Ok(EXIT_OK);
    };
    // With the site at hand, say whether the holder the body names is alive.
    let site =
        kudu_state::remote::diagnose_site(&store, &kudu_state::HomeOptions::default(), None)?;
    remote::report(io.err, &store, Some(site.clock));
    let d = &site.diagnosis;
    if a.json {
        print_json(
            io,
            &serde_json::json!({ "explanation": &x, "diagnosis": d }),
        )?;
    } else {
        render::explanation(io.out, &x, io.color).map_err(|e| stdout_error(&e))?;
        let _ = writeln!(io.out, "\nthe site now:");
        render::diagnosis(io.out, d, io.color).map_err(|e| stdout_error(&e))?;
    }
    Ok(verdict_exit(d.verdict))
}

fn wait_idle(a: &WaitArgs, io: &mut Io<'_>) -> Result<i32> {
    let options = a.home.options();
    let timeout = a.timeout.to_std().unwrap_or_default();
    let store = remote::open_for_waiting(&a.remote, &a.home)?;
    let poll = poll_or_default(a.poll, store.is_some());
    let path = match store {
        Some(_) => PathBuf::new(),
        None => home_path(a.home.home.as_ref())?,
    };
    let diagnose_once = || match &store {
        Some(store) => Ok(kudu_state::remote::diagnose_site(store, &options, None)?.diagnosis),
        None => Ok(kudu_state::diagnose_home(&path, Utc::now(), &options)?.1),
    };
    let err = &mut *io.err;
    let outcome = kudu_state::wait_until_clear(timeout, poll, diagnose_once, |d, waited| {
        let _ = writeln!(
            err,
            "kudu-state: waiting for {} (waited {} of {})",
            render::waiting_for(d),
            render::duration(TimeDelta::from_std(waited).unwrap_or_default()),
            render::duration(a.timeout)
        );
        true
    })?;
    let waited = render::duration(TimeDelta::from_std(outcome.waited).unwrap_or_default());
    let d = &outcome.diagnosis;
    if outcome.idle {
        let _ = writeln!(
            io.err,
            "kudu-state: {} — safe to deploy (waited {waited})",
            d.verdict.as_str()
        );
        return Ok(EXIT_OK);
    }
    let _ = writeln!(
        io.err,
        "kudu-state: timed out after {waited} — still {}",
        d.verdict.as_str()
    );
    if a.json {
        print_json(io, d)?;
    } else {
        render::diagnosis(io.out, d, io.color).map_err(|e| stdout_error(&e))?;
    }
    Ok(EXIT_STUCK)
}

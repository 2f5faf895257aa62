//! Human output: the verdict first, then findings by severity, then what to do.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use chrono::TimeDelta;
use kudu_state::Plan;
use kudu_state::explain::Explanation;
use kudu_state::remediate::{StepOutcome, StepReport};
use kudu_state::{Diagnosis, Severity, Verdict};

/// Whether to colour what goes to standard output, decided as every well-behaved command decides it
/// (anstream's rules): never when `NO_COLOR` is set or `CLICOLOR=0`, always with `CLICOLOR_FORCE`,
/// otherwise only on a terminal that is not `TERM=dumb`.
pub(crate) fn color_wanted() -> bool {
    anstream::AutoStream::choice(&io::stdout()) != anstream::ColorChoice::Never
}

const BOLD: Style = Style::new().bold();
const RED: Style = AnsiColor::Red.on_default();
const YELLOW: Style = AnsiColor::Yellow.on_default();
const DIM: Style = Style::new().dimmed();

/// Styles text when colour is wanted.
struct Paint(bool);

impl Paint {
    fn wrap(&self, style: Style, text: &str) -> String {
        if self.0 {
            format!("{style}{text}{style:#}")
        } else {
            text.to_owned()
        }
    }
}

fn verdict_line(v: Verdict) -> (Style, &'static str) {
    match v {
        Verdict::Idle => (
            AnsiColor::Green.on_default().bold(),
            "IDLE — nothing is running or blocking; a deployment started now will be accepted",
        ),
        Verdict::Deploying => (
            AnsiColor::Cyan.on_default().bold(),
            "DEPLOYING — a deployment is running; wait for it and touch nothing",
        ),
        Verdict::Stuck => (
            AnsiColor::Yellow.on_default().bold(),
            "STUCK — something keeps deployments from completing and will not clear soon by itself",
        ),
        Verdict::Broken => (
            AnsiColor::Red.on_default().bold(),
            "BROKEN — Kudu will error on, or destroy, part of this state",
        ),
    }
}

pub(crate) fn diagnosis(out: &mut dyn Write, d: &Diagnosis, color: bool) -> io::Result<()> {
    let p = Paint(color);
    let (code, line) = verdict_line(d.verdict);
    writeln!(out, "{}", p.wrap(code, line))?;
    writeln!(
        out,
        "home: {}  platform: {}  at: {}",
        d.home.display(),
        d.platform,
        d.now.to_rfc3339()
    )?;
    match (d.safe_to_deploy, d.safe_after) {
        (true, _) => writeln!(out, "safe to deploy: yes")?,
        (false, Some(t)) => writeln!(
            out,
            "safe to deploy: no — may clear by itself at {}",
            t.to_rfc3339()
        )?,
        (false, None) => writeln!(out, "safe to deploy: no — will not clear by itself")?,
    }
    for (severity, title, mark, col) in [
        (Severity::Error, "errors", "x", RED),
        (Severity::Warning, "warnings", "!", YELLOW),
        (Severity::Info, "info", "-", DIM),
    ] {
        let group: Vec<_> = d
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .collect();
        if group.is_empty() {
            continue;
        }
        writeln!(out, "\n{title}:")?;
        for f in group {
            writeln!(
                out,
                "  {} {}  {}",
                p.wrap(col, mark),
                p.wrap(BOLD, f.code.as_str()),
                f.path
            )?;
            writeln!(out, "    {}", f.message)?;
        }
    }
    let next = match d.verdict {
        Verdict::Idle => "nothing to do.",
        Verdict::Deploying => {
            "wait: `kudu-state wait-idle --timeout 30m` returns when a deployment would be accepted."
        }
        Verdict::Stuck | Verdict::Broken => {
            "run `kudu-state plan` to see the least disruptive fix, then `kudu-state apply`."
        }
    };
    writeln!(out, "\nnext: {next}")
}

pub(crate) fn explanation(out: &mut dyn Write, x: &Explanation, color: bool) -> io::Result<()> {
    let p = Paint(color);
    writeln!(
        out,
        "{}  ({})",
        p.wrap(BOLD, x.kind.as_str()),
        if x.retryable {
            "retryable"
        } else {
            "do not retry"
        }
    )?;
    if let Some(r) = &x.requested_operation {
        writeln!(out, "requested: {r}")?;
    }
    if let Some(h) = &x.holder_operation {
        writeln!(out, "held by:   {h}")?;
    }
    if let Some(t) = &x.started_at {
        writeln!(out, "since:     {}", t.to_rfc3339())?;
    } else if let Some(t) = &x.started_at_text {
        writeln!(out, "since:     {t}")?;
    }
    if let Some(id) = &x.deployment_id {
        writeln!(out, "deployment: {id}")?;
    }
    writeln!(out, "{}", x.advice)
}

pub(crate) fn duration(d: TimeDelta) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// The blocking findings, for the wait-idle progress line.
/// One deployment's state for the track progress line: `Building`, `Success, complete`, `not there yet`.
pub(crate) fn track_state(s: &kudu_state::TrackState) -> String {
    match (s.found, s.status) {
        (false, _) => "not there yet".to_owned(),
        (true, None) => format!(
            "unreadable status.xml: {}",
            s.problem.as_deref().unwrap_or("?")
        ),
        (true, Some(status)) if s.complete => format!("{status}, complete"),
        (true, Some(status)) => status.to_string(),
    }
}

pub(crate) fn waiting_for(d: &Diagnosis) -> String {
    let blocking: Vec<String> = d
        .findings
        .iter()
        .filter(|f| {
            f.severity >= Severity::Warning
                || f.code == kudu_state::FindingCode::DeploymentInProgress
        })
        .take(3)
        .map(|f| format!("{} ({})", f.code.as_str(), f.path))
        .collect();
    let mut s = if blocking.is_empty() {
        d.verdict.as_str().to_owned()
    } else {
        blocking.join(", ")
    };
    if let Some(t) = d.safe_after {
        s.push_str(&format!("; may clear at {}", t.to_rfc3339()));
    }
    s
}

pub(crate) fn plan(out: &mut dyn Write, plan: &Plan, color: bool) -> io::Result<()> {
    let p = Paint(color);
    writeln!(
        out,
        "{} for {} ({}), verdict {}, as of {}",
        p.wrap(BOLD, "plan"),
        plan.home.display(),
        plan.platform,
        plan.verdict.as_str(),
        plan.created.to_rfc3339()
    )?;
    if plan.steps.is_empty() {
        writeln!(out, "no steps: nothing to fix.")?;
    }
    for (i, step) in plan.steps.iter().enumerate() {
        let risk = format!("{:?}", step.risk).to_lowercase();
        let target = step
            .target
            .as_ref()
            .map_or_else(String::new, |t| format!("  {t}"));
        writeln!(
            out,
            "  {}. {} [risk {risk}]{target}",
            i + 1,
            p.wrap(BOLD, step.action.as_str())
        )?;
        writeln!(out, "     {}", step.reason)?;
        if step.is_advisory() {
            writeln!(out, "     (advice only: kudu-state does not do this)")?;
        }
    }
    if !plan.notes.is_empty() {
        writeln!(out, "notes:")?;
        for n in &plan.notes {
            writeln!(out, "  - {n}")?;
        }
    }
    Ok(())
}

pub(crate) fn step_line(out: &mut dyn Write, s: &StepReport) -> io::Result<()> {
    let what = match s.outcome {
        StepOutcome::Applied => "done",
        StepOutcome::AlreadyDone => "already done",
        StepOutcome::Advisory => "advice only, skipped",
    };
    let target = s
        .target
        .as_ref()
        .map_or_else(String::new, |t| format!(" {t}"));
    writeln!(
        out,
        "step {}: {}{target} ... {what}",
        s.index + 1,
        s.action.as_str()
    )
}

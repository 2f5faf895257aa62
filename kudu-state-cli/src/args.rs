//! Command-line arguments (clap derive).

use std::path::PathBuf;

use chrono::{DateTime, TimeDelta, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Diagnose and safely repair the deployment state of an Azure App Service site (Kudu / KuduLite)
/// when deployments fail with HTTP 409 "Conflict".
#[derive(Debug, Parser)]
#[command(name = "kudu-state", version = crate::generate::VERSION, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Say whether a deployment is running, stuck or blocked, and why (exit 0 idle, 10 deploying, 11 stuck, 12 broken).
    Diagnose(DiagnoseArgs),
    /// Classify a 409 response body from any Kudu deploy client (text or JSON), from an argument or stdin.
    Explain(ExplainArgs),
    /// Wait until a deployment would be accepted (exit 0), or time out (exit 11).
    WaitIdle(WaitArgs),
    /// Show the least disruptive fix, step by step, without changing anything (exit 0 empty, 10 with steps).
    Plan(PlanArgs),
    /// Carry out a plan: every step re-checked first, everything replaced kept in a backup folder.
    Apply(ApplyArgs),
    /// Put back exactly what one apply changed.
    Undo(UndoArgs),
    /// Print the completion script for a shell (bash, zsh, fish, powershell, elvish).
    Completions(crate::generate::CompletionsArgs),
    /// Print the man page (roff), or write one page per command into a folder with --dir.
    Man(crate::generate::ManArgs),
}

#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    #[command(flatten)]
    pub home: HomeArgs,
    /// Plan as of this time (RFC 3339) instead of now.
    #[arg(long, value_parser = parse_time)]
    pub now: Option<DateTime<Utc>>,
    /// Allow moving away a live Linux lock once its deployment has stalled (a concurrent deployment becomes possible).
    #[arg(long)]
    pub allow_live_lock: bool,
    /// Print the plan as JSON (the input of `apply --plan`).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ApplyArgs {
    #[command(flatten)]
    pub home: HomeArgs,
    /// Apply this plan (from `plan --json`) instead of planning now.
    #[arg(long)]
    pub plan: Option<PathBuf>,
    /// Do not ask for confirmation (required when standard input is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Where to keep the backup (default HOME/data/kudu-state/backups; same file system as the home).
    #[arg(long)]
    pub backup_dir: Option<PathBuf>,
    /// When planning now: allow moving away a stalled live Linux lock.
    #[arg(long)]
    pub allow_live_lock: bool,
}

#[derive(Debug, Args)]
pub(crate) struct UndoArgs {
    /// The backup folder an apply printed.
    pub backup_dir: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PlatformArg {
    Auto,
    Linux,
    Windows,
}

impl PlatformArg {
    pub fn platform(self) -> Option<kudu_state::Platform> {
        match self {
            PlatformArg::Auto => None,
            PlatformArg::Linux => Some(kudu_state::Platform::Linux),
            PlatformArg::Windows => Some(kudu_state::Platform::Windows),
        }
    }
}

/// Where and how to read a home; shared by every command that reads one.
#[derive(Debug, Args)]
pub(crate) struct HomeArgs {
    /// The App Service home (the folder containing `site/`, `/home` on Linux) or its `site` folder.
    /// Defaults to $HOME when it contains `site/`.
    pub home: Option<PathBuf>,
    /// Interpret the home as this platform instead of detecting it.
    #[arg(long, value_enum, default_value_t = PlatformArg::Auto)]
    pub platform: PlatformArg,
    /// A deployment under a live lock with no activity for this many minutes is stalled.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1440))]
    pub stall_minutes: u32,
}

#[derive(Debug, Args)]
pub(crate) struct DiagnoseArgs {
    #[command(flatten)]
    pub home: HomeArgs,
    /// Diagnose as of this time (RFC 3339) instead of now: makes expiry and stall decisions reproducible.
    #[arg(long, value_parser = parse_time)]
    pub now: Option<DateTime<Utc>>,
    /// Print one JSON object (schema in the README) instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ExplainArgs {
    /// The HTTP status the body came with.
    #[arg(long, default_value_t = 409)]
    pub status: u16,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// The response body; `-` or nothing reads standard input.
    pub body: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct WaitArgs {
    #[command(flatten)]
    pub home: HomeArgs,
    /// Give up after this long (e.g. `90s`, `15m`, `1h`).
    #[arg(long, value_parser = parse_duration)]
    pub timeout: TimeDelta,
    /// Time between checks.
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    pub poll: TimeDelta,
    /// On timeout print the last diagnosis as JSON.
    #[arg(long)]
    pub json: bool,
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("not an RFC 3339 time such as 2024-09-04T10:33:18Z ({e})"))
}

/// Parses `90`, `90s`, `15m`, `2h`, `500ms` into a duration.
///
/// # Errors
/// A message for a person when the text is not such a duration.
pub fn parse_duration(s: &str) -> Result<TimeDelta, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: i64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration such as 90s, 15m or 1h"))?;
    let d = match unit {
        "ms" => TimeDelta::try_milliseconds(n),
        "" | "s" => TimeDelta::try_seconds(n),
        "m" => TimeDelta::try_minutes(n),
        "h" => TimeDelta::try_hours(n),
        _ => None,
    };
    d.ok_or_else(|| format!("`{s}` is not a duration such as 90s, 15m or 1h"))
}

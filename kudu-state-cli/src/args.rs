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
    /// Follow one deployment by its id until it ends (exit 0 success, 12 failure, 11 nothing changed
    /// for --timeout); reads only that record, never /api/deployments.
    Track(TrackArgs),
    /// Print the completion script for a shell (bash, zsh, fish, powershell, elvish).
    Completions(crate::generate::CompletionsArgs),
    /// Print the man page (roff), or write one page per command into a folder with --dir.
    Man(crate::generate::ManArgs),
}

/// Where the site is when it is read over Kudu's REST API instead of from a disk.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Remote site (Kudu's REST API)")]
pub(crate) struct RemoteArgs {
    /// The site's SCM (Kudu) URL, e.g. https://<app>.scm.azurewebsites.net (http:// only to loopback).
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
    /// The App Service app: its SCM site is found through Azure Resource Manager (needs a token).
    #[arg(
        long,
        value_name = "NAME",
        requires = "resource_group",
        conflicts_with = "remote"
    )]
    pub app: Option<String>,
    /// The app's resource group (with --app).
    #[arg(long, value_name = "RG", requires = "app")]
    pub resource_group: Option<String>,
    /// The app's subscription (with --app; default AZURE_SUBSCRIPTION_ID, else az's current one).
    #[arg(long, value_name = "ID", requires = "app")]
    pub subscription: Option<String>,
    /// A deployment slot of the app (with --app).
    #[arg(long, value_name = "NAME", requires = "app")]
    pub slot: Option<String>,
    /// Send every request to this instance (its ARRAffinity name).
    #[arg(long, value_name = "NAME")]
    pub instance: Option<String>,
    /// A .PublishSettings file: Basic credentials (and the site, without --remote/--app).
    #[arg(long, value_name = "FILE")]
    pub publish_profile: Option<PathBuf>,
    /// At most this many requests in flight (1-16; default 8).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=16))]
    pub max_in_flight: Option<u32>,
    /// Azure Resource Manager's endpoint (sovereign clouds; default the public cloud's).
    #[arg(long, value_name = "URL")]
    pub arm_endpoint: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct TrackArgs {
    /// The deployment id (the SCM-DEPLOYMENT-ID a deploy returned, or the id `az webapp deploy` printed).
    pub id: String,
    #[command(flatten)]
    pub home: HomeArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Give up when nothing in the record changed for this long (e.g. `10m`).
    #[arg(long, value_parser = parse_duration, default_value = "10m")]
    pub timeout: TimeDelta,
    /// Time between reads (default 5s, 10s over the REST API).
    #[arg(long, value_parser = parse_duration)]
    pub poll: Option<TimeDelta>,
    /// Print the last state as JSON at the end.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    #[command(flatten)]
    pub home: HomeArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Plan as of this time (RFC 3339) instead of now (the site's clock over its API).
    #[arg(long, value_parser = parse_time)]
    pub now: Option<DateTime<Utc>>,
    #[command(flatten)]
    pub allow: AllowArgs,
    /// Print the plan as JSON (the input of `apply --plan`).
    #[arg(long)]
    pub json: bool,
}

/// The riskier steps a plan leaves out unless asked.
#[derive(Debug, Args)]
pub(crate) struct AllowArgs {
    /// Allow moving away a live Linux lock once its deployment has stalled (a concurrent deployment becomes possible).
    #[arg(long)]
    pub allow_live_lock: bool,
    /// Over Kudu's API, on Windows: end Kudu's process on the instance holding deployments.lock for a
    /// deployment proven stalled (DELETE /api/processes/0 pinned there; ends a build running there,
    /// never the app; cannot be undone).
    #[arg(long)]
    pub allow_scm_restart: bool,
}

impl AllowArgs {
    pub fn options(&self) -> kudu_state::PlanOptions {
        kudu_state::PlanOptions {
            allow_live_lock: self.allow_live_lock,
            allow_scm_restart: self.allow_scm_restart,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct ApplyArgs {
    #[command(flatten)]
    pub home: HomeArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Apply this plan (from `plan --json`) instead of planning now.
    #[arg(long)]
    pub plan: Option<PathBuf>,
    /// Do not ask for confirmation (required when standard input is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Where to keep the backup (default HOME/data/kudu-state/backups, same file system as the home;
    /// over Kudu's API ./kudu-state-backups/<host> on this machine).
    #[arg(long)]
    pub backup_dir: Option<PathBuf>,
    /// When planning now: as `plan`.
    #[command(flatten)]
    pub allow: AllowArgs,
}

#[derive(Debug, Args)]
pub(crate) struct UndoArgs {
    /// The backup folder an apply printed.
    pub backup_dir: PathBuf,
    /// The site, when the apply was made over Kudu's API (with the same credentials).
    #[command(flatten)]
    pub remote: RemoteArgs,
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

impl HomeArgs {
    /// No home given: the defaults (for commands that read a remote site only).
    pub fn none() -> HomeArgs {
        HomeArgs {
            home: None,
            platform: PlatformArg::Auto,
            stall_minutes: 10,
        }
    }

    /// The core's options (validated again by the core, as for every front end).
    pub fn options(&self) -> kudu_state::HomeOptions {
        kudu_state::HomeOptions {
            platform: self.platform.platform(),
            stall_minutes: self.stall_minutes,
            ..kudu_state::HomeOptions::default()
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct DiagnoseArgs {
    #[command(flatten)]
    pub home: HomeArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
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
    /// With a remote site: diagnose it too, to say whether the holder is alive (exit as `diagnose`).
    #[command(flatten)]
    pub remote: RemoteArgs,
}

#[derive(Debug, Args)]
pub(crate) struct WaitArgs {
    #[command(flatten)]
    pub home: HomeArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Give up after this long (e.g. `90s`, `15m`, `1h`).
    #[arg(long, value_parser = parse_duration)]
    pub timeout: TimeDelta,
    /// Time between checks (default 5s, 10s over the REST API).
    #[arg(long, value_parser = parse_duration)]
    pub poll: Option<TimeDelta>,
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

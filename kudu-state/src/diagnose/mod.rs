//! [`diagnose`]: a verdict with reasons for a [`Snapshot`] at a given time — the orchestrator.
//!
//! Every rule is what Kudu itself does with the same files (spec §2, §3, §7, §10): a lock is live when
//! Kudu would answer 409, a record is orphaned when Kudu would fail it on its next read, a `status.xml`
//! is corrupt when Kudu would delete its folder. The rules live with their concept and are called from
//! here in order: the deployment lock ([`crate::lock`]), then the records ([`crate::record`]), which need
//! the lock's state, then `active` and the other root files ([`crate::deployments`]), then Kudu's purge.
//! Time comes in as `now`, so the same tree gives the same verdict in a test as on the site.

mod finding;

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

pub use finding::{Evidence, Finding, FindingCode, RecordRef, Subject};

use crate::error::{Error, Result};
use crate::names::named_enum;
use crate::platform::Platform;
use crate::scan::{ScanOptions, scan};
use crate::snapshot::{NoteKind, Snapshot};

/// Version of the diagnosis JSON (`"schema"`).
pub const SCHEMA: u32 = 1;

named_enum! {
    /// The overall state of a home, most severe last so that `max` gives the precedence
    /// broken > stuck > deploying > idle.
    #[derive(PartialOrd, Ord)]
    pub enum Verdict {
        /// Nothing running, nothing blocking: deploying now works.
        Idle => "idle",
        /// A live deployment or a fresh auto-swap: wait, touch nothing.
        Deploying => "deploying",
        /// Something makes deployments fail and will not clear soon by itself, or a tracker would hang.
        Stuck => "stuck",
        /// A state on which Kudu itself errors or will destroy data.
        Broken => "broken",
    }
}

named_enum! {
    /// How much a finding matters.
    #[derive(PartialOrd, Ord)]
    pub enum Severity {
        /// Normal state worth knowing.
        Info => "info",
        /// Not blocking now, but wrong or about to matter.
        Warning => "warning",
        /// Blocking deployments or losing data.
        Error => "error",
    }
}

/// The severity and verdict of a finding that is normal state worth knowing.
pub(crate) const INFO: (Severity, Verdict) = (Severity::Info, Verdict::Idle);

impl Finding {
    /// A finding; `level` is its severity and the verdict it alone implies.
    pub(crate) fn new(
        code: FindingCode,
        level: (Severity, Verdict),
        subject: Subject,
        path: impl Into<String>,
        message: impl Into<String>,
        evidence: Evidence,
    ) -> Finding {
        Finding {
            code,
            severity: level.0,
            path: path.into(),
            message: message.into(),
            evidence,
            subject,
            verdict: level.1,
        }
    }
}

/// Largest stall window accepted: a day.
const MAX_STALL_MINUTES: u32 = 24 * 60;

/// How to diagnose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DiagnoseOptions {
    /// A deployment under a live lock with no activity for longer than this is stalled, not running.
    pub stall_window: TimeDelta,
}

impl Default for DiagnoseOptions {
    fn default() -> Self {
        DiagnoseOptions {
            stall_window: TimeDelta::minutes(10),
        }
    }
}

impl DiagnoseOptions {
    /// Options with a stall window of `minutes`, which must be 1 to 1440 (a day): the one check every
    /// front end (the command, Python, Node) goes through.
    ///
    /// # Errors
    /// `INVALID_INPUT` outside that range.
    pub fn with_stall_minutes(minutes: u32) -> Result<DiagnoseOptions> {
        if !(1..=MAX_STALL_MINUTES).contains(&minutes) {
            return Err(Error::invalid(
                "argument",
                format!("the stall window must be 1 to {MAX_STALL_MINUTES} minutes, not {minutes}"),
            ));
        }
        Ok(DiagnoseOptions {
            stall_window: TimeDelta::minutes(i64::from(minutes)),
        })
    }
}

/// How to read and judge a home: the options the command and both packages take, validated in one
/// place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomeOptions {
    /// Interpret the home as this platform instead of detecting it.
    pub platform: Option<Platform>,
    /// The stall window in minutes (1 to 1440).
    pub stall_minutes: u32,
    /// Bytes read from the end of an unsettled record's `log.log` (see [`ScanOptions`]).
    pub log_tail_bytes: u64,
}

impl Default for HomeOptions {
    fn default() -> Self {
        HomeOptions {
            platform: None,
            stall_minutes: 10,
            log_tail_bytes: crate::scan::DEFAULT_LOG_TAIL,
        }
    }
}

impl HomeOptions {
    /// The validated scan and diagnose options.
    ///
    /// # Errors
    /// `INVALID_INPUT` for a stall window or log tail out of range.
    pub fn split(&self) -> Result<(ScanOptions, DiagnoseOptions)> {
        let scan = ScanOptions::new(self.platform, self.log_tail_bytes)?;
        Ok((
            scan,
            DiagnoseOptions::with_stall_minutes(self.stall_minutes)?,
        ))
    }
}

/// Scans the home at `path` and diagnoses it as of `now`: the one entry point the command and both
/// packages call, so the same input gives the same [`Diagnosis`] (and the same JSON) everywhere.
///
/// # Errors
/// `INVALID_INPUT` for bad options; whatever [`scan`] returns.
pub fn diagnose_home(
    path: &Path,
    now: DateTime<Utc>,
    options: &HomeOptions,
) -> Result<(Snapshot, Diagnosis)> {
    let (scan_options, diagnose_options) = options.split()?;
    let snapshot = scan(path, &scan_options)?;
    let diagnosis = diagnose(&snapshot, now, diagnose_options);
    Ok((snapshot, diagnosis))
}

/// Scans the home `store` reads and diagnoses it as of `now`; `label` names it in the results (the
/// site's URL for a remote store). The same rules as [`diagnose_home`], whatever the store.
///
/// # Errors
/// `INVALID_INPUT` for bad options; what the store returns when `site` cannot be listed.
pub fn diagnose_store(
    store: &dyn crate::store::Store,
    label: std::path::PathBuf,
    now: DateTime<Utc>,
    options: &HomeOptions,
) -> Result<(Snapshot, Diagnosis)> {
    let (scan_options, diagnose_options) = options.split()?;
    let snapshot =
        crate::scan::scan_store(store, label, crate::snapshot::Given::Home, &scan_options)?;
    let diagnosis = diagnose(&snapshot, now, diagnose_options);
    Ok((snapshot, diagnosis))
}

/// The verdict on a home at a time, with every reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnosis {
    /// Version of this JSON shape; bumped only on an incompatible change.
    pub schema: u32,
    /// The home that was diagnosed.
    pub home: std::path::PathBuf,
    /// The platform the home was read as.
    pub platform: Platform,
    /// The time the verdict is for.
    pub now: DateTime<Utc>,
    /// The overall verdict.
    pub verdict: Verdict,
    /// True when a deployment started now would be accepted (not refused with 409, not failed by a
    /// corrupt lock), whatever else is wrong.
    pub safe_to_deploy: bool,
    /// When `safe_to_deploy` is false: the earliest time it may become true on its own, if there is one.
    pub safe_after: Option<DateTime<Utc>>,
    /// The findings, most severe first.
    pub findings: Vec<Finding>,
}

impl Diagnosis {
    /// The findings with this code.
    pub fn with_code(&self, code: FindingCode) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.code == code)
    }

    /// True when some finding has this code.
    #[must_use]
    pub fn has(&self, code: FindingCode) -> bool {
        self.with_code(code).next().is_some()
    }

    /// The distinct codes found, sorted.
    #[must_use]
    pub fn codes(&self) -> BTreeSet<FindingCode> {
        self.findings.iter().map(|f| f.code).collect()
    }
}

/// What the rules of every concept share while a diagnosis is made: the snapshot, the time, the
/// options, and what has been found so far.
pub(crate) struct Ctx<'a> {
    pub s: &'a Snapshot,
    pub now: DateTime<Utc>,
    pub opts: DiagnoseOptions,
    pub findings: Vec<Finding>,
    /// What stops a deployment from being accepted now: when each lifts by itself, if it does.
    blockers: Vec<Option<DateTime<Utc>>>,
}

impl Ctx<'_> {
    pub fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// Records that a deployment started now would not be accepted, until `until` if that is known.
    pub fn block(&mut self, until: Option<DateTime<Utc>>) {
        self.blockers.push(until);
    }

    /// Seconds from `t` to now.
    pub fn age(&self, t: Option<DateTime<Utc>>) -> Option<i64> {
        t.map(|t| (self.now - t).num_seconds())
    }

    pub fn platform(&self) -> Platform {
        self.s.platform()
    }

    pub fn has(&self, code: FindingCode) -> bool {
        self.findings.iter().any(|f| f.code == code)
    }
}

/// Diagnoses `snapshot` as of `now`.
#[must_use]
pub fn diagnose(snapshot: &Snapshot, now: DateTime<Utc>, options: DiagnoseOptions) -> Diagnosis {
    let mut cx = Ctx {
        s: snapshot,
        now,
        opts: options,
        findings: Vec::new(),
        blockers: Vec::new(),
    };
    let lock = crate::lock::rules::deployment_lock(&mut cx);
    crate::lock::rules::autoswap(&mut cx);
    crate::lock::rules::idle_locks(&mut cx);
    if let Some(d) = &snapshot.deployments {
        crate::record::rules::records(&mut cx, d, lock);
        crate::lock::rules::idle_live_lock(&mut cx);
        crate::deployments::rules::active(&mut cx, d);
        crate::deployments::rules::root_files(&mut cx, d);
        crate::record::purge::purge(&mut cx, d, lock);
    }
    notes(&mut cx);

    let verdict = cx
        .findings
        .iter()
        .map(|f| f.verdict)
        .max()
        .unwrap_or(Verdict::Idle);
    let safe_to_deploy = cx.blockers.is_empty();
    let safe_after = if safe_to_deploy {
        None
    } else {
        cx.blockers
            .iter()
            .copied()
            .collect::<Option<Vec<_>>>()
            .and_then(|v| v.into_iter().max())
    };
    let mut findings = cx.findings;
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.path.cmp(&b.path)));
    Diagnosis {
        schema: SCHEMA,
        home: snapshot.home.clone(),
        platform: snapshot.platform(),
        now,
        verdict,
        safe_to_deploy,
        safe_after,
        findings,
    }
}

/// What the scan met and did not read: links and unreadable entries that no concept reported already.
fn notes(cx: &mut Ctx<'_>) {
    for n in &cx.s.notes {
        let code = match n.kind {
            NoteKind::Symlink => FindingCode::SymlinkNotFollowed,
            NoteKind::Unreadable | NoteKind::NonUtf8Name | NoteKind::WrongKind => {
                FindingCode::FileUnreadable
            }
        };
        // Lock files and status.xml already have their own finding.
        if cx.findings.iter().any(|f| f.path == n.path) {
            continue;
        }
        cx.push(Finding::new(
            code,
            (Severity::Warning, Verdict::Idle),
            Subject::Note,
            n.path.clone(),
            n.detail.clone(),
            Evidence::Note { kind: n.kind },
        ));
    }
}

/// A duration in seconds for a person: `45 s`, `12 min`, `3 h`.
pub(crate) fn human_secs(s: Option<i64>) -> String {
    match s {
        None => "an unknown time".to_owned(),
        Some(s) if s < 120 => format!("{s} s"),
        Some(s) if s < 7200 => format!("{} min", s / 60),
        Some(s) => format!("{} h", s / 3600),
    }
}

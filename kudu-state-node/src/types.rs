//! The records and string enums that cross into JavaScript, each a plain copy of a core value.
//!
//! Every result also carries `json`: the core's serde JSON of the value (for a diagnosis, exactly what
//! `kudu-state diagnose --json` prints), so scripts can store or compare it without a second schema.

use chrono::{DateTime, Utc};
use napi_derive::napi;

/// Which Kudu wrote a home: Windows Kudu or Linux KuduLite.
#[napi(string_enum = "lowercase")]
#[derive(Debug, PartialEq, Eq)]
pub enum Platform {
    /// Windows Kudu: CRLF files, `site/locks/deployments.lock`.
    Windows,
    /// Linux KuduLite: LF files, `site/locks/deployment/info.lock`.
    Linux,
}

impl From<kudu_state::Platform> for Platform {
    fn from(p: kudu_state::Platform) -> Self {
        match p {
            kudu_state::Platform::Windows => Platform::Windows,
            kudu_state::Platform::Linux => Platform::Linux,
        }
    }
}

impl From<Platform> for kudu_state::Platform {
    fn from(p: Platform) -> Self {
        match p {
            Platform::Windows => kudu_state::Platform::Windows,
            Platform::Linux => kudu_state::Platform::Linux,
        }
    }
}

/// The overall state of a home; the most severe finding wins: broken > stuck > deploying > idle.
#[napi(string_enum = "lowercase")]
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing running, nothing blocking: deploying now works.
    Idle,
    /// A live deployment or a fresh auto-swap: wait, touch nothing.
    Deploying,
    /// Deployments fail and it will not clear soon by itself, or a tracker would hang.
    Stuck,
    /// Kudu itself errors on, or will destroy part of, this state.
    Broken,
}

impl From<kudu_state::Verdict> for Verdict {
    fn from(v: kudu_state::Verdict) -> Self {
        match v {
            kudu_state::Verdict::Idle => Verdict::Idle,
            kudu_state::Verdict::Deploying => Verdict::Deploying,
            kudu_state::Verdict::Stuck => Verdict::Stuck,
            kudu_state::Verdict::Broken => Verdict::Broken,
        }
    }
}

/// How much a finding matters.
#[napi(string_enum = "lowercase")]
#[derive(Debug, PartialEq, Eq)]
pub enum Severity {
    /// Normal state worth knowing.
    Info,
    /// Not blocking now, but wrong or about to matter.
    Warning,
    /// Blocking deployments or losing data.
    Error,
}

impl From<kudu_state::Severity> for Severity {
    fn from(s: kudu_state::Severity) -> Self {
        match s {
            kudu_state::Severity::Info => Severity::Info,
            kudu_state::Severity::Warning => Severity::Warning,
            kudu_state::Severity::Error => Severity::Error,
        }
    }
}

/// How much a plan step can hurt if the diagnosis behind it were wrong.
#[napi(string_enum = "lowercase")]
#[derive(Debug, PartialEq, Eq)]
pub enum Risk {
    /// Touches nothing.
    None,
    /// Does what Kudu itself would do next.
    Low,
    /// Changes what Kudu reads, reversibly.
    Medium,
    /// Can let two deployments run at once.
    High,
}

impl From<kudu_state::remediate::Risk> for Risk {
    fn from(r: kudu_state::remediate::Risk) -> Self {
        use kudu_state::remediate::Risk as R;
        match r {
            R::None => Risk::None,
            R::Low => Risk::Low,
            R::Medium => Risk::Medium,
            R::High => Risk::High,
        }
    }
}

/// What happened to one plan step during `apply`.
#[napi(string_enum)]
#[derive(Debug, PartialEq, Eq)]
pub enum StepOutcome {
    /// Its changes were made now.
    #[napi(value = "applied")]
    Applied,
    /// The disk already showed its result (a second apply of the same plan changes nothing).
    #[napi(value = "already-done")]
    AlreadyDone,
    /// Advice or waiting: nothing to execute.
    #[napi(value = "advisory")]
    Advisory,
}

impl From<kudu_state::remediate::StepOutcome> for StepOutcome {
    fn from(o: kudu_state::remediate::StepOutcome) -> Self {
        use kudu_state::remediate::StepOutcome as O;
        match o {
            O::Applied => StepOutcome::Applied,
            O::AlreadyDone => StepOutcome::AlreadyDone,
            O::Advisory => StepOutcome::Advisory,
        }
    }
}

/// Which path the caller gave: the home itself or its `site` folder.
#[napi(string_enum = "lowercase")]
#[derive(Debug, PartialEq, Eq)]
pub enum Given {
    /// The folder that contains `site/`.
    Home,
    /// `HOME/site` itself.
    Site,
}

/// The core's serde JSON of a value, pretty-printed as the command prints it.
macro_rules! to_json {
    ($value:expr) => {
        serde_json::to_string_pretty($value).map_err(|e| kudu_state::Error::Invalid {
            what: "output",
            reason: e.to_string(),
        })
    };
}
pub(crate) use to_json;

/// One reason behind a verdict.
#[napi(object, use_nullable = true)]
#[derive(Debug)]
pub struct Finding {
    /// Stable kebab-case code, e.g. `linux-lock-live` (the list is in the README; it may grow).
    pub code: String,
    /// How much it matters.
    pub severity: Severity,
    /// Path relative to the home, `/`-separated.
    pub path: String,
    /// One line for a person: what it means and what to do.
    pub message: String,
    /// The values it was decided from (operation, times, ages, sizes), as in the JSON.
    pub evidence: serde_json::Map<String, serde_json::Value>,
}

/// The verdict on a home at a time, with every reason.
#[napi(object, use_nullable = true)]
#[derive(Debug)]
pub struct Diagnosis {
    /// Version of the JSON shape (`json`).
    pub schema: u32,
    /// The home that was diagnosed (the folder that contains `site/`).
    pub home: String,
    /// The platform the home was read as.
    pub platform: Platform,
    /// The time the verdict is for.
    pub now: DateTime<Utc>,
    /// The overall verdict.
    pub verdict: Verdict,
    /// True when a deployment started now would be accepted and would not overlap a running one's lock.
    pub safe_to_deploy: bool,
    /// When `safeToDeploy` is false: the earliest time it may become true by itself, if known.
    pub safe_after: Option<DateTime<Utc>>,
    /// The findings, most severe first.
    pub findings: Vec<Finding>,
    /// The core's JSON of this diagnosis: byte for byte what `kudu-state diagnose --json` prints
    /// (without the final newline).
    pub json: String,
}

impl Diagnosis {
    pub(crate) fn from_core(d: &kudu_state::Diagnosis) -> kudu_state::Result<Self> {
        Ok(Diagnosis {
            schema: d.schema,
            home: d.home.to_string_lossy().into_owned(),
            platform: d.platform.into(),
            now: d.now,
            verdict: d.verdict.into(),
            safe_to_deploy: d.safe_to_deploy,
            safe_after: d.safe_after,
            findings: d
                .findings
                .iter()
                .map(|f| Finding {
                    code: f.code.as_str().to_owned(),
                    severity: f.severity.into(),
                    path: f.path.clone(),
                    message: f.message.clone(),
                    evidence: match serde_json::to_value(&f.evidence) {
                        Ok(serde_json::Value::Object(map)) => map,
                        _ => serde_json::Map::new(),
                    },
                })
                .collect(),
            json: to_json!(d)?,
        })
    }
}

/// Something the scanner met and did not (or could not) read.
#[napi(object, use_nullable = true)]
#[derive(Debug)]
pub struct ScanNote {
    /// Where, relative to the home.
    pub path: String,
    /// `symlink`, `non-utf8-name`, `unreadable` or `wrong-kind`.
    pub kind: String,
    /// Details for a person.
    pub detail: String,
}

/// The state of one home, read in one pass. The typed fields are a summary; `json` is the whole
/// snapshot (locks, deployment records, `active`, `pending`, …) as the core serializes it.
#[napi(object, use_nullable = true)]
#[derive(Debug)]
pub struct Snapshot {
    /// The home directory (the folder containing `site/`).
    pub home: String,
    /// Whether the caller gave the home or its `site` folder.
    pub given: Given,
    /// The platform the snapshot is interpreted for.
    pub platform: Platform,
    /// True when the caller chose the platform rather than the tree.
    pub platform_overridden: bool,
    /// Links, odd names and unreadable entries met on the way.
    pub notes: Vec<ScanNote>,
    /// The core's JSON of the whole snapshot.
    pub json: String,
}

impl Snapshot {
    pub(crate) fn from_core(s: &kudu_state::Snapshot) -> kudu_state::Result<Self> {
        use kudu_state::snapshot::Given as G;
        Ok(Snapshot {
            home: s.home.to_string_lossy().into_owned(),
            given: match s.given {
                G::Home => Given::Home,
                G::Site => Given::Site,
            },
            platform: s.platform().into(),
            platform_overridden: s.platform.overridden,
            notes: s
                .notes
                .iter()
                .map(|n| ScanNote {
                    path: n.path.clone(),
                    kind: serde_json::to_value(n.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    detail: n.detail.clone(),
                })
                .collect(),
            json: to_json!(s)?,
        })
    }
}

/// What a 409 (or any deploy client's error) body means.
#[napi(object, use_nullable = true)]
#[derive(Debug)]
pub struct Explanation {
    /// `deployment-in-progress`, `lock-conflict`, `autoswap-in-progress`, `run-from-remote-package`,
    /// `deployment-active`, `deployment-exists`, `lock-acquire-failed`, `directory-not-empty`,
    /// `arm-site-lock` or `unknown` (the list may grow).
    pub kind: String,
    /// Whether waiting and sending the same request again can succeed.
    pub retryable: bool,
    /// For a lock conflict: the operation that was refused.
    pub requested_operation: Option<String>,
    /// For a lock conflict: the operation holding the lock.
    pub holder_operation: Option<String>,
    /// For a lock conflict: when the holder took the lock, when the text could be read as a time.
    pub started_at: Option<DateTime<Utc>>,
    /// The start time exactly as written in the body.
    pub started_at_text: Option<String>,
    /// For deployment-active / deployment-exists: the deployment id named in the text.
    pub deployment_id: Option<String>,
    /// One or two sentences for a person: what it means and what to do.
    pub advice: String,
    /// The HTTP status given, if any.
    pub status: Option<u16>,
    /// The whole body, verbatim.
    pub body: String,
    /// The core's JSON of this explanation.
    pub json: String,
}

impl Explanation {
    pub(crate) fn from_core(x: &kudu_state::explain::Explanation) -> kudu_state::Result<Self> {
        Ok(Explanation {
            kind: x.kind.as_str().to_owned(),
            retryable: x.retryable,
            requested_operation: x.requested_operation.clone(),
            holder_operation: x.holder_operation.clone(),
            started_at: x.started_at,
            started_at_text: x.started_at_text.clone(),
            deployment_id: x.deployment_id.clone(),
            advice: x.advice.clone(),
            status: x.status,
            body: x.body.clone(),
            json: to_json!(x)?,
        })
    }
}

/// One step of a plan.
#[napi(object, use_nullable = true)]
#[derive(Debug)]
pub struct PlanStep {
    /// What it does: `wait`, `fail-orphaned-record`, `remove-expired-lock`, `remove-corrupt-lock`,
    /// `remove-stalled-lock`, `remove-folder-without-status`,
    /// `repair-status-xml`, `repair-active` or `restart-scm` (the list may grow).
    pub action: String,
    /// True for steps that touch nothing (`wait`, `restart-scm`).
    pub advisory: bool,
    /// The main path it acts on, relative to the home.
    pub target: Option<String>,
    /// The finding code it answers.
    pub finding: String,
    /// How much it can hurt.
    pub risk: Risk,
    /// One line for a person: why, and what it costs.
    pub reason: String,
    /// For `wait`: until when, if known.
    pub until: Option<DateTime<Utc>>,
}

impl PlanStep {
    pub(crate) fn from_core(s: &kudu_state::remediate::Step) -> Self {
        PlanStep {
            action: s.action.as_str().to_owned(),
            advisory: s.action.is_advisory(),
            target: s.target.as_ref().map(|t| t.as_str().to_owned()),
            finding: s.finding.as_str().to_owned(),
            risk: s.risk.into(),
            reason: s.reason.clone(),
            until: s.until,
        }
    }
}

/// One line of an apply report.
#[napi(object, use_nullable = true)]
#[derive(Debug)]
pub struct StepReport {
    /// Position in the plan.
    pub index: u32,
    /// The step's action.
    pub action: String,
    /// Its target, relative to the home.
    pub target: Option<String>,
    /// What happened.
    pub outcome: StepOutcome,
}

/// The result of `apply`.
#[napi(object, use_nullable = true)]
#[derive(Debug)]
pub struct ApplyReport {
    /// The backup folder to pass to `undo`, or null when nothing was changed.
    pub backup: Option<String>,
    /// True when an interrupted apply of the same plan was finished.
    pub resumed: bool,
    /// One per plan step.
    pub steps: Vec<StepReport>,
    /// The core's JSON of this report.
    pub json: String,
}

impl ApplyReport {
    pub(crate) fn from_core(r: &kudu_state::ApplyReport) -> kudu_state::Result<Self> {
        Ok(ApplyReport {
            backup: r.backup.as_ref().map(|b| b.to_string_lossy().into_owned()),
            resumed: r.resumed,
            steps: r
                .steps
                .iter()
                .map(|s| StepReport {
                    index: u32::try_from(s.index).unwrap_or(u32::MAX),
                    action: s.action.as_str().to_owned(),
                    target: s.target.as_ref().map(|t| t.as_str().to_owned()),
                    outcome: s.outcome.into(),
                })
                .collect(),
            json: to_json!(r)?,
        })
    }
}

/// The result of `undo`.
#[napi(object, use_nullable = true)]
#[derive(Debug)]
pub struct UndoReport {
    /// The backup folder undone.
    pub backup: String,
    /// Paths restored, relative to the home.
    pub restored: Vec<String>,
    /// True when the backup had already been undone (nothing was done).
    pub already_undone: bool,
    /// The core's JSON of this report.
    pub json: String,
}

impl UndoReport {
    pub(crate) fn from_core(r: &kudu_state::UndoReport) -> kudu_state::Result<Self> {
        Ok(UndoReport {
            backup: r.backup.to_string_lossy().into_owned(),
            restored: r.restored.clone(),
            already_undone: r.already_undone,
            json: to_json!(r)?,
        })
    }
}

/// How a `waitIdle` ended.
#[napi(object, use_nullable = true)]
#[derive(Debug)]
pub struct WaitOutcome {
    /// True when the home became safe to deploy to; false on timeout.
    pub idle: bool,
    /// How long it waited, in milliseconds.
    pub waited_ms: f64,
    /// The last diagnosis made.
    pub diagnosis: Diagnosis,
}

impl WaitOutcome {
    pub(crate) fn from_core(w: &kudu_state::WaitOutcome) -> kudu_state::Result<Self> {
        Ok(WaitOutcome {
            idle: w.idle,
            waited_ms: w.waited.as_secs_f64() * 1000.0,
            diagnosis: Diagnosis::from_core(&w.diagnosis)?,
        })
    }
}

/// One poll of `waitIdle` that was not yet clear.
#[napi(object, use_nullable = true)]
#[derive(Debug)]
pub struct WaitProgress {
    /// How long the wait has lasted, in milliseconds.
    pub waited_ms: f64,
    /// This poll's diagnosis.
    pub diagnosis: Diagnosis,
}

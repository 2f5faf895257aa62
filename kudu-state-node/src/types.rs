//! The records that cross into JavaScript: plain `#[napi(object)]` copies of core values, each made by one
//! conversion. Enums are the generated string enums of [`crate::enums`].
//!
//! Every result also carries `json`: the core's serde JSON of the value (for a diagnosis, exactly what
//! `kudu-state diagnose --json` prints, without the final newline), so scripts can store or compare it
//! without a second schema.

use chrono::{DateTime, Utc};
use napi_derive::napi;

use crate::enums::{
    Action, ConflictKind, Given, NoteKind, Platform, Risk, Severity, StepOutcome, TargetKind,
    TrackEnd, Verdict,
};

/// The core's serde JSON of a value, pretty-printed exactly as the command prints it (without the final
/// newline).
pub(crate) fn json(value: &impl serde::Serialize) -> kudu_state::Result<String> {
    serde_json::to_string_pretty(value).map_err(|e| kudu_state::Error::Invalid {
        what: "output",
        reason: e.to_string(),
    })
}

fn path(p: &std::path::Path) -> String {
    p.to_string_lossy().into_owned()
}

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

impl From<&kudu_state::Finding> for Finding {
    fn from(f: &kudu_state::Finding) -> Self {
        Finding {
            code: f.code.as_str().to_owned(),
            severity: f.severity.into(),
            path: f.path.clone(),
            message: f.message.clone(),
            evidence: match serde_json::to_value(&f.evidence) {
                Ok(serde_json::Value::Object(map)) => map,
                _ => serde_json::Map::new(),
            },
        }
    }
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
            home: path(&d.home),
            platform: d.platform.into(),
            now: d.now,
            verdict: d.verdict.into(),
            safe_to_deploy: d.safe_to_deploy,
            safe_after: d.safe_after,
            findings: d.findings.iter().map(Finding::from).collect(),
            json: json(d)?,
        })
    }
}

/// Something the scanner met and did not (or could not) read.
#[napi(object, use_nullable = true)]
#[derive(Debug)]
pub struct ScanNote {
    /// Where, relative to the home.
    pub path: String,
    /// What kind of thing.
    pub kind: NoteKind,
    /// Details for a person.
    pub detail: String,
}

impl From<&kudu_state::snapshot::ScanNote> for ScanNote {
    fn from(n: &kudu_state::snapshot::ScanNote) -> Self {
        ScanNote {
            path: n.path.clone(),
            kind: n.kind.into(),
            detail: n.detail.clone(),
        }
    }
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
        Ok(Snapshot {
            home: path(&s.home),
            given: s.given.into(),
            platform: s.platform().into(),
            platform_overridden: s.platform.overridden,
            notes: s.notes.iter().map(ScanNote::from).collect(),
            json: json(s)?,
        })
    }
}

/// What a 409 (or any deploy client's error) body means.
#[napi(object, use_nullable = true)]
#[derive(Debug)]
pub struct Explanation {
    /// The kind of conflict found.
    pub kind: ConflictKind,
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
    /// The core's JSON of this explanation: byte for byte what `kudu-state explain --json` prints
    /// (without the final newline).
    pub json: String,
    /// With a site in the options: the site's diagnosis now, which says whether the holder the body
    /// names is still alive; null otherwise. Not part of `json` (it has its own).
    pub diagnosis: Option<Diagnosis>,
}

impl Explanation {
    pub(crate) fn from_core(x: &kudu_state::explain::Explanation) -> kudu_state::Result<Self> {
        Ok(Explanation {
            kind: x.kind.into(),
            retryable: x.retryable,
            requested_operation: x.requested_operation.clone(),
            holder_operation: x.holder_operation.clone(),
            started_at: x.started_at,
            started_at_text: x.started_at_text.clone(),
            deployment_id: x.deployment_id.clone(),
            advice: x.advice.clone(),
            status: x.status,
            body: x.body.clone(),
            json: json(x)?,
            diagnosis: None,
        })
    }
}

/// What a step's target was when the plan was made; apply refuses the step (`PRECONDITION_FAILED`) if
/// it differs.
#[napi(object, use_nullable = true)]
#[derive(Debug)]
pub struct Precondition {
    /// What was there.
    pub kind: TargetKind,
    /// Size in bytes (0 for a folder).
    pub size: f64,
    /// Last write time, if known.
    pub mtime: Option<DateTime<Utc>>,
    /// `fnv1a64:<16 hex>` of a file's bytes or a folder's entries, if any.
    pub digest: Option<String>,
    /// The site's ETag of the file read (a plan made over Kudu's REST API), if any.
    pub etag: Option<String>,
}

impl From<&kudu_state::remediate::Precondition> for Precondition {
    // A size is far below 2^53 bytes, which a JavaScript number holds exactly.
    #[allow(clippy::cast_precision_loss)]
    fn from(p: &kudu_state::remediate::Precondition) -> Self {
        Precondition {
            kind: p.kind.into(),
            size: p.size as f64,
            mtime: p.mtime,
            digest: p.digest.clone(),
            etag: p.etag.clone(),
        }
    }
}

/// Where a plan made over Kudu's REST API applies.
#[napi(object, use_nullable = true)]
#[derive(Debug)]
pub struct PlanSite {
    /// The SCM site's URL.
    pub url: String,
    /// The instance (its `ARRAffinity` name) the plan was pinned to with `instance`, if any.
    pub instance: Option<String>,
}

impl From<&kudu_state::remediate::PlanSite> for PlanSite {
    fn from(s: &kudu_state::remediate::PlanSite) -> Self {
        PlanSite {
            url: s.url.clone(),
            instance: s.instance.clone(),
        }
    }
}

/// One step of a plan.
#[napi(object, use_nullable = true)]
#[derive(Debug)]
pub struct PlanStep {
    /// What it does.
    pub action: Action,
    /// True for steps that touch nothing (`wait`, and `restart-scm` as advice).
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
    /// The target's state when the plan was made, if it has one.
    pub precondition: Option<Precondition>,
    /// The changes, in order, as in the plan JSON (empty for an advisory step). `restart-kudu` ends
    /// Kudu's process on one instance (over Kudu's REST API only; cannot be undone), unless a
    /// `stalled` record folder changed since the plan.
    #[napi(
        ts_type = "Array<{ op: 'move'; path: string } | { op: 'write'; path: string; content: string; expect?: string } | { op: 'create'; path: string; content: string } | { op: 'append'; path: string; text: string } | { op: 'touch-active' } | { op: 'restart-kudu'; instance: string; lock: string; stalled: Array<{ path: string; precondition: { kind: TargetKind; size: number; mtime: string | null; digest: string | null; etag?: string } }> }>"
    )]
    pub ops: Vec<serde_json::Value>,
}

impl From<&kudu_state::remediate::Step> for PlanStep {
    fn from(s: &kudu_state::remediate::Step) -> Self {
        PlanStep {
            action: s.action.into(),
            advisory: s.is_advisory(),
            target: s.target.as_ref().map(|t| t.as_str().to_owned()),
            finding: s.finding.as_str().to_owned(),
            risk: s.risk.into(),
            reason: s.reason.clone(),
            until: s.until,
            precondition: s.precondition.as_ref().map(Precondition::from),
            ops: s
                .ops
                .iter()
                .map(|op| serde_json::to_value(op).unwrap_or(serde_json::Value::Null))
                .collect(),
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
    pub action: Action,
    /// Its target, relative to the home.
    pub target: Option<String>,
    /// What happened.
    pub outcome: StepOutcome,
}

impl From<&kudu_state::remediate::StepReport> for StepReport {
    fn from(s: &kudu_state::remediate::StepReport) -> Self {
        StepReport {
            index: u32::try_from(s.index).unwrap_or(u32::MAX),
            action: s.action.into(),
            target: s.target.as_ref().map(|t| t.as_str().to_owned()),
            outcome: s.outcome.into(),
        }
    }
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
            backup: r.backup.as_deref().map(path),
            resumed: r.resumed,
            steps: r.steps.iter().map(StepReport::from).collect(),
            json: json(r)?,
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
    /// Paths restored whose last write time could not be put back (Kudu's REST API cannot set it;
    /// the content is back). Empty for a home on disk.
    pub times_not_restored: Vec<String>,
    /// What apply did that nothing can reverse, one line each (Kudu's process ended on an instance).
    pub irreversible: Vec<String>,
    /// The core's JSON of this report.
    pub json: String,
}

impl UndoReport {
    pub(crate) fn from_core(r: &kudu_state::UndoReport) -> kudu_state::Result<Self> {
        Ok(UndoReport {
            backup: path(&r.backup),
            restored: r.restored.clone(),
            already_undone: r.already_undone,
            times_not_restored: r.times_not_restored.clone(),
            irreversible: r.irreversible.clone(),
            json: json(r)?,
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
    /// The core's JSON of this outcome.
    pub json: String,
}

impl WaitOutcome {
    pub(crate) fn from_core(w: &kudu_state::WaitOutcome) -> kudu_state::Result<Self> {
        Ok(WaitOutcome {
            idle: w.idle,
            waited_ms: w.waited.as_secs_f64() * 1000.0,
            diagnosis: Diagnosis::from_core(&w.diagnosis)?,
            json: json(w)?,
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

/// What a deployment's record says at one poll of `track`.
#[napi(object, use_nullable = true)]
#[derive(Debug)]
pub struct TrackState {
    /// The deployment id.
    pub id: String,
    /// False until `status.xml` exists (a deployment that just started may not have it yet).
    pub found: bool,
    /// The status as Kudu names it (`'Building'`, `'Success'`, …), a number for a value outside Kudu's
    /// enum, or null when unreadable.
    #[napi(ts_type = "string | number | null")]
    pub status: serde_json::Value,
    /// Kudu's `complete`.
    pub complete: bool,
    /// Kudu's `statusText`.
    pub status_text: Option<String>,
    /// Kudu's `progress`.
    pub progress: Option<String>,
    /// The newest top-level message of `log.log`.
    pub last_log_message: Option<String>,
    /// Why `status.xml` could not be understood, when it could not.
    pub problem: Option<String>,
}

impl From<&kudu_state::TrackState> for TrackState {
    fn from(s: &kudu_state::TrackState) -> Self {
        TrackState {
            id: s.id.clone(),
            found: s.found,
            status: serde_json::to_value(s.status).unwrap_or(serde_json::Value::Null),
            complete: s.complete,
            status_text: s.status_text.clone(),
            progress: s.progress.clone(),
            last_log_message: s.last_log_message.clone(),
            problem: s.problem.clone(),
        }
    }
}

/// How a `track` ended.
#[napi(object, use_nullable = true)]
#[derive(Debug)]
pub struct TrackOutcome {
    /// How it ended.
    pub end: TrackEnd,
    /// The last state read.
    pub last: TrackState,
    /// How long it tracked, in milliseconds.
    pub waited_ms: f64,
    /// The core's JSON of this outcome: byte for byte what `kudu-state track --json` prints (without
    /// the final newline).
    pub json: String,
}

impl TrackOutcome {
    pub(crate) fn from_core(t: &kudu_state::TrackOutcome) -> kudu_state::Result<Self> {
        Ok(TrackOutcome {
            end: t.end.into(),
            last: TrackState::from(&t.last),
            waited_ms: t.waited.as_secs_f64() * 1000.0,
            json: json(t)?,
        })
    }
}

/// A change `track` saw: the record's new state.
#[napi(object, use_nullable = true)]
#[derive(Debug)]
pub struct TrackProgress {
    /// How long the track has lasted, in milliseconds.
    pub waited_ms: f64,
    /// The record's state.
    pub state: TrackState,
}

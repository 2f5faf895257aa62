//! `plan`, `apply` and `undo`: repairing a home, reversibly.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use napi::Env;
use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;

use crate::enums::{Platform, Verdict};
use crate::error::{finish, invalid, job, js_error, run};
use crate::options::PlanOptions;
use crate::types::{ApplyReport, PlanStep, UndoReport, json};

/// How to apply a plan.
#[napi(object)]
#[derive(Debug, Default)]
pub struct ApplyOptions {
    /// Folder that receives one backup folder per apply (default `HOME/data/kudu-state/backups`); it
    /// must be on the same file system as the home.
    pub backup_dir: Option<String>,
    /// Must be `true`: nothing is changed otherwise (the call rejects with `INVALID_INPUT`).
    pub yes: Option<bool>,
}

/// An ordered list of steps for one home, made at one time: what `plan` returns and `apply` takes.
///
/// It keeps the core's plan unchanged: `toJSON()` gives the plan JSON (the format of
/// `kudu-state plan --json`), and `Plan.fromJSON` reads it back, so a plan can be reviewed, stored and
/// applied later. Every step is re-checked against the disk when it is applied.
// napi generates the getters of the `readonly` fields; `created` and `steps` have hand-written ones
// because napi cannot generate one for a `Date` or an array of objects (no `ToNapiValue` for `&mut`).
#[napi]
#[derive(Debug, Clone)]
pub struct Plan {
    /// Version of the plan JSON.
    #[napi(readonly)]
    pub schema: u32,
    /// The home it was made for.
    #[napi(readonly)]
    pub home: String,
    /// The platform the home was read as.
    #[napi(readonly)]
    pub platform: Platform,
    /// The verdict it starts from.
    #[napi(readonly)]
    pub verdict: Verdict,
    /// What was deliberately not planned, and why.
    #[napi(readonly)]
    pub notes: Vec<String>,
    /// True when there is nothing to do or wait for.
    #[napi(readonly)]
    pub is_empty: bool,
    /// True when some step changes files.
    #[napi(readonly)]
    pub changes_files: bool,
    /// A digest of the plan's steps and time; an interrupted apply of the same plan is resumed.
    #[napi(readonly)]
    pub id: String,
    /// The plan JSON, pretty-printed: byte for byte what `kudu-state plan --json` prints (without the
    /// final newline).
    #[napi(readonly)]
    pub json: String,
    inner: kudu_state::Plan,
}

impl Plan {
    fn from_core(inner: kudu_state::Plan) -> kudu_state::Result<Self> {
        Ok(Plan {
            schema: inner.schema,
            home: inner.home.to_string_lossy().into_owned(),
            platform: inner.platform.into(),
            verdict: inner.verdict.into(),
            notes: inner.notes.clone(),
            is_empty: inner.is_empty(),
            changes_files: inner.changes_files(),
            id: inner.id(),
            json: json(&inner)?,
            inner,
        })
    }
}

#[napi]
impl Plan {
    /// Reads a plan from its JSON: a string (e.g. a file written by `kudu-state plan --json`) or the
    /// parsed object (e.g. `JSON.parse(JSON.stringify(plan))`). Throws `INVALID_INPUT` when it is not a
    /// plan.
    #[napi(factory, js_name = "fromJSON", ts_args_type = "json: string | object")]
    pub fn from_json(env: Env, json: serde_json::Value) -> napi::Result<Plan> {
        let parsed = match json {
            serde_json::Value::String(text) => kudu_state::Plan::from_json(&text),
            value => kudu_state::Plan::from_json(&value.to_string()),
        };
        parsed
            .and_then(Plan::from_core)
            .map_err(|e| js_error(&env, &e))
    }

    /// When it was made (every time a step writes is this time).
    #[napi(getter)]
    pub fn created(&self) -> DateTime<Utc> {
        self.inner.created
    }

    /// The steps, least disruptive first.
    #[napi(getter)]
    pub fn steps(&self) -> Vec<PlanStep> {
        self.inner.steps.iter().map(PlanStep::from).collect()
    }

    /// The plan JSON as an object (so `JSON.stringify(plan)` writes the plan file format).
    #[napi(js_name = "toJSON", ts_return_type = "Record<string, any>")]
    pub fn to_json(&self) -> napi::Result<serde_json::Value> {
        serde_json::to_value(&self.inner).map_err(|e| napi::Error::from_reason(e.to_string()))
    }
}

fn plan_work(
    home: String,
    options: Option<PlanOptions>,
) -> impl FnOnce() -> kudu_state::Result<Plan> {
    let o = options.unwrap_or_default();
    let (now, home_options) = (o.now, o.to_core());
    let plan_options = kudu_state::PlanOptions {
        allow_live_lock: o.allow_live_lock.unwrap_or(false),
        ..kudu_state::PlanOptions::default()
    };
    move || {
        let now = now.unwrap_or_else(Utc::now);
        let (snapshot, diagnosis) =
            kudu_state::diagnose_home(&PathBuf::from(home), now, &home_options?)?;
        Plan::from_core(kudu_state::plan(&snapshot, &diagnosis, plan_options)?)
    }
}

fn apply_work(
    plan: &Plan,
    options: Option<ApplyOptions>,
) -> impl FnOnce() -> kudu_state::Result<ApplyReport> + use<> {
    let plan = plan.inner.clone();
    let options = options.unwrap_or_default();
    move || {
        if options.yes != Some(true) {
            return Err(invalid(
                "apply changes files only with { yes: true }; nothing was changed (review the plan's steps first)",
            ));
        }
        let core_options = kudu_state::ApplyOptions {
            backup_root: options.backup_dir.map(PathBuf::from),
        };
        ApplyReport::from_core(&kudu_state::apply(&plan, &core_options)?)
    }
}

fn undo_work(backup_dir: String) -> impl FnOnce() -> kudu_state::Result<UndoReport> {
    move || UndoReport::from_core(&kudu_state::undo(std::path::Path::new(&backup_dir))?)
}

job!(
    /// Resolves to `Plan`.
    PlanTask => Plan
);
job!(
    /// Resolves to `ApplyReport`.
    ApplyTask => ApplyReport
);
job!(
    /// Resolves to `UndoReport`.
    UndoTask => UndoReport
);

/// Diagnoses `home` and builds the plan that fixes it: the least disruptive steps first, only waiting
/// while a deployment runs. Reads (never changes) the files it would touch, to capture preconditions.
#[napi(catch_unwind)]
pub fn plan(home: String, options: Option<PlanOptions>) -> AsyncTask<PlanTask> {
    AsyncTask::new(PlanTask::new(plan_work(home, options)))
}

/// `plan`, blocking.
#[napi(catch_unwind)]
pub fn plan_sync(env: Env, home: String, options: Option<PlanOptions>) -> napi::Result<Plan> {
    finish(&env, run(plan_work(home, options)))
}

/// Applies `plan` (only with `{ yes: true }`): each step only if its target is unchanged since the
/// plan, everything replaced kept in a backup folder (`report.backup`, for `undo`).
///
/// Rejects with `INVALID_INPUT` (no `yes: true`), `PRECONDITION_FAILED` (the disk changed since the
/// plan: nothing more was touched), `APPLY_LOCKED`, `PROTECTED_PATH` or `IO_ERROR`.
#[napi(
    catch_unwind,
    ts_args_type = "plan: Plan, options: ApplyOptions & { yes: boolean }"
)]
pub fn apply(plan: &Plan, options: Option<ApplyOptions>) -> AsyncTask<ApplyTask> {
    AsyncTask::new(ApplyTask::new(apply_work(plan, options)))
}

/// `apply`, blocking.
#[napi(
    catch_unwind,
    ts_args_type = "plan: Plan, options: ApplyOptions & { yes: boolean }"
)]
pub fn apply_sync(
    env: Env,
    plan: &Plan,
    options: Option<ApplyOptions>,
) -> napi::Result<ApplyReport> {
    finish(&env, run(apply_work(plan, options)))
}

/// Puts back exactly what one apply moved or rewrote, given its backup folder (`report.backup`).
///
/// Rejects with `UNDO_CONFLICT` when a file changed since the apply (nothing is restored then),
/// `INVALID_INPUT` for a folder without a readable journal, `APPLY_LOCKED` or `IO_ERROR`.
#[napi(catch_unwind)]
pub fn undo(backup_dir: String) -> AsyncTask<UndoTask> {
    AsyncTask::new(UndoTask::new(undo_work(backup_dir)))
}

/// `undo`, blocking.
#[napi(catch_unwind)]
pub fn undo_sync(env: Env, backup_dir: String) -> napi::Result<UndoReport> {
    finish(&env, run(undo_work(backup_dir)))
}

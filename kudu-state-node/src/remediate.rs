//! `plan`, `apply` and `undo`: repairing a home, reversibly; or a site over Kudu's REST API when the
//! options name one (the core's `plan_site_repair`, `apply_site`, `undo_site`).

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use napi::Env;
use napi::bindgen_prelude::{AsyncTask, Either};
use napi_derive::napi;

use crate::enums::{Platform, Verdict};
use crate::error::{finish, invalid, job, js_error, run};
use crate::options::{ApplyOptions, PlanOptions, UndoOptions};
use crate::remote::{home_and_options, site_args};
use crate::types::{ApplyReport, PlanSite, PlanStep, UndoReport, json};
use kudu_state::remote::Target;

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
    /// The home it was made for, or the site's SCM URL for a plan made over Kudu's REST API.
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

    /// For a plan made over Kudu's REST API, the site (and instance) it applies to; else null.
    #[napi(getter)]
    pub fn site(&self) -> Option<PlanSite> {
        self.inner.site.as_ref().map(PlanSite::from)
    }

    /// The plan JSON as an object (so `JSON.stringify(plan)` writes the plan file format).
    #[napi(js_name = "toJSON", ts_return_type = "Record<string, any>")]
    pub fn to_json(&self) -> napi::Result<serde_json::Value> {
        serde_json::to_value(&self.inner).map_err(|e| napi::Error::from_reason(e.to_string()))
    }
}

fn plan_work(
    first: Either<String, PlanOptions<'_>>,
    second: Option<PlanOptions<'_>>,
) -> impl FnOnce() -> kudu_state::Result<Plan> + use<> {
    let prepared = home_and_options("plan", first, second).and_then(|(home, o)| {
        let o = o.unwrap_or_default();
        Ok((
            o.now,
            o.to_core()?,
            o.plan_options(),
            site_args!(o).target(home.map(Into::into))?,
        ))
    });
    move || {
        let (now, options, plan_options, target) = prepared?;
        let plan = match target {
            Target::Home(home) => {
                let now = now.unwrap_or_else(Utc::now);
                let (snapshot, diagnosis) = kudu_state::diagnose_home(&home, now, &options)?;
                kudu_state::plan(&snapshot, &diagnosis, plan_options)?
            }
            Target::Site(site) => {
                let store = site.connect()?;
                kudu_state::remote::plan_site_repair(&store, &options, plan_options, now)?.1
            }
        };
        Plan::from_core(plan)
    }
}

fn apply_work(
    plan: &Plan,
    options: Option<ApplyOptions<'_>>,
) -> impl FnOnce() -> kudu_state::Result<ApplyReport> + use<> {
    let plan = plan.inner.clone();
    let options = options.unwrap_or_default();
    let (yes, backup_root) = (options.yes, options.backup_dir.clone().map(PathBuf::from));
    let site = site_args!(options).site();
    move || {
        if yes != Some(true) {
            return Err(invalid(
                "apply changes files only with { yes: true }; nothing was changed (review the plan's steps first)",
            ));
        }
        let report = match site? {
            None => kudu_state::apply(&plan, &kudu_state::ApplyOptions { backup_root })?,
            Some(site) => {
                let store = site.connect()?;
                let options = kudu_state::remote::SiteApplyOptions { backup_root };
                kudu_state::remote::apply_site(&plan, &store, &options, |_| {})?
            }
        };
        ApplyReport::from_core(&report)
    }
}

fn undo_work(
    backup_dir: String,
    options: Option<UndoOptions<'_>>,
) -> impl FnOnce() -> kudu_state::Result<UndoReport> + use<> {
    let site = site_args!(options.unwrap_or_default()).site();
    move || {
        let backup_dir = std::path::Path::new(&backup_dir);
        let report = match site? {
            None => kudu_state::undo(backup_dir)?,
            Some(site) => {
                let store = site.connect()?;
                kudu_state::remote::undo_site(backup_dir, &store)?
            }
        };
        UndoReport::from_core(&report)
    }
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
/// `plan({ remote, credentials, … })` plans for a site over Kudu's REST API (read-only; judged by the
/// site's clock unless `now` is given); the plan then names the site and applies only there.
#[napi(
    catch_unwind,
    ts_args_type = "...args: [home: string, options?: PlanOptions | undefined | null] | [options: PlanOptions]"
)]
pub fn plan(
    home_or_options: Either<String, PlanOptions<'_>>,
    options: Option<PlanOptions<'_>>,
) -> AsyncTask<PlanTask> {
    AsyncTask::new(PlanTask::new(plan_work(home_or_options, options)))
}

/// `plan`, blocking.
#[napi(
    catch_unwind,
    ts_args_type = "...args: [home: string, options?: PlanOptions | undefined | null] | [options: PlanOptions]"
)]
pub fn plan_sync(
    env: Env,
    home_or_options: Either<String, PlanOptions<'_>>,
    options: Option<PlanOptions<'_>>,
) -> napi::Result<Plan> {
    finish(&env, run(plan_work(home_or_options, options)))
}

/// Applies `plan` (only with `{ yes: true }`): each step only if its target is unchanged since the
/// plan, everything replaced kept in a backup folder (`report.backup`, for `undo`). A plan made for a
/// site is applied to it when the options name the site (`remote`, `credentials`, … as in `diagnose`),
/// with guarded requests and the backup on this machine.
///
/// Rejects with `INVALID_INPUT` (no `yes: true`), `HOME_MISMATCH` (a site's plan without its site), `PRECONDITION_FAILED`
/// (the disk or site changed since the plan: nothing more was touched), `HOME_MISMATCH` (another
/// site's plan, or a home's plan on a site), `HELD_OPEN` (Kudu holds a file open), `APPLY_LOCKED`,
/// `PROTECTED_PATH`, `IO_ERROR` or the remote codes.
#[napi(
    catch_unwind,
    ts_args_type = "plan: Plan, options: ApplyOptions & { yes: boolean }"
)]
pub fn apply(plan: &Plan, options: Option<ApplyOptions<'_>>) -> AsyncTask<ApplyTask> {
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
    options: Option<ApplyOptions<'_>>,
) -> napi::Result<ApplyReport> {
    finish(&env, run(apply_work(plan, options)))
}

/// Puts back exactly what one apply moved or rewrote, given its backup folder (`report.backup`); for
/// an apply to a site, on that site, named by the options (as in `diagnose`).
///
/// Rejects with `UNDO_CONFLICT` when a file changed since the apply (nothing is restored then),
/// `INVALID_INPUT` for a folder without a readable journal, `HOME_MISMATCH` for a site's backup without its site,
/// `HOME_MISMATCH` (another site's backup, or a home's on a site), `APPLY_LOCKED`, `IO_ERROR` or the
/// remote codes.
#[napi(catch_unwind)]
pub fn undo(backup_dir: String, options: Option<UndoOptions<'_>>) -> AsyncTask<UndoTask> {
    AsyncTask::new(UndoTask::new(undo_work(backup_dir, options)))
}

/// `undo`, blocking.
#[napi(catch_unwind)]
pub fn undo_sync(
    env: Env,
    backup_dir: String,
    options: Option<UndoOptions<'_>>,
) -> napi::Result<UndoReport> {
    finish(&env, run(undo_work(backup_dir, options)))
}

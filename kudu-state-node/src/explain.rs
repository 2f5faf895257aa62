//! `explain`: what a 409 body means, through the core's `explain_response` (which checks the status);
//! with a site (`{ remote, … }`), the site's diagnosis too.

use napi::Env;
use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;

use crate::error::{finish, job, run};
use crate::options::ExplainOptions;
use crate::remote::site_args;
use crate::types::{Diagnosis, Explanation};

fn explain_work(
    body: String,
    status: Option<f64>,
    options: Option<ExplainOptions<'_>>,
) -> impl FnOnce() -> kudu_state::Result<Explanation> + use<> {
    let status = crate::options::status(status);
    let site = site_args!(options.unwrap_or_default()).site();
    move || {
        let mut x =
            Explanation::from_core(&kudu_state::explain::explain_response(&body, status?)?)?;
        if let Some(site) = site? {
            let store = site.connect()?;
            let d = kudu_state::remote::diagnose_site(
                &store,
                &kudu_state::HomeOptions::default(),
                None,
            )?;
            x.diagnosis = Some(Diagnosis::from_core(&d.diagnosis)?);
        }
        Ok(x)
    }
}

job!(
    /// Resolves to `Explanation`.
    ExplainTask => Explanation
);

/// Classifies a response body from any Kudu deploy client (`az webapp deploy`, the Azure Pipelines
/// task, a GitHub Action, curl), as text or JSON, and says what to do. `status` is the HTTP status, if
/// known (100 to 599, else `INVALID_INPUT`). Never fails on any body. With a site in `options`
/// (`{ remote, credentials, … }`), the site is diagnosed too (by its clock): `diagnosis` says whether
/// the holder the body names is alive.
#[napi(catch_unwind)]
pub fn explain(
    body: String,
    status: Option<f64>,
    options: Option<ExplainOptions<'_>>,
) -> AsyncTask<ExplainTask> {
    AsyncTask::new(ExplainTask::new(explain_work(body, status, options)))
}

/// `explain`, blocking (without a site it only reads the string).
#[napi(catch_unwind)]
pub fn explain_sync(
    env: Env,
    body: String,
    status: Option<f64>,
    options: Option<ExplainOptions<'_>>,
) -> napi::Result<Explanation> {
    finish(&env, run(explain_work(body, status, options)))
}

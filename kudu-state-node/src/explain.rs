//! `explain`: what a 409 body means, through the core's `explain_response` (which checks the status).

use napi::Env;
use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;

use crate::error::{finish, job, run};
use crate::types::Explanation;

fn explain_work(
    body: String,
    status: Option<f64>,
) -> impl FnOnce() -> kudu_state::Result<Explanation> {
    let status = crate::options::status(status);
    move || Explanation::from_core(&kudu_state::explain::explain_response(&body, status?)?)
}

job!(
    /// Resolves to `Explanation`.
    ExplainTask => Explanation
);

/// Classifies a response body from any Kudu deploy client (`az webapp deploy`, the Azure Pipelines
/// task, a GitHub Action, curl), as text or JSON, and says what to do. `status` is the HTTP status, if
/// known (100 to 599, else `INVALID_INPUT`). Never fails on any body.
#[napi(catch_unwind)]
pub fn explain(body: String, status: Option<f64>) -> AsyncTask<ExplainTask> {
    AsyncTask::new(ExplainTask::new(explain_work(body, status)))
}

/// `explain`, blocking (it only reads the string).
#[napi(catch_unwind)]
pub fn explain_sync(env: Env, body: String, status: Option<f64>) -> napi::Result<Explanation> {
    finish(&env, run(explain_work(body, status)))
}

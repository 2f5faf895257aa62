//! `explain`: what a 409 body means.

use napi::Env;
use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;

use crate::error::{finish, invalid, job, run};
use crate::types::Explanation;

fn explain_work(
    body: String,
    status: Option<f64>,
) -> impl FnOnce() -> kudu_state::Result<Explanation> {
    move || {
        let status = match status {
            None => None,
            Some(s) if s.fract() == 0.0 && (0.0..=999.0).contains(&s) =>
            {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                Some(s as u16)
            }
            Some(s) => {
                return Err(invalid(format!(
                    "status must be an HTTP status code, not {s}"
                )));
            }
        };
        Explanation::from_core(&kudu_state::explain::explain(&body, status))
    }
}

job!(
    /// Resolves to `Explanation`.
    ExplainTask => Explanation
);

/// Classifies a response body from any Kudu deploy client (`az webapp deploy`, the Azure Pipelines
/// task, a GitHub Action, curl), as text or JSON, and says what to do. `status` is the HTTP status, if
/// known. Never fails on any body.
#[napi(catch_unwind)]
pub fn explain(body: String, status: Option<f64>) -> AsyncTask<ExplainTask> {
    AsyncTask::new(ExplainTask::new(explain_work(body, status)))
}

/// `explain`, blocking (it only reads the string).
#[napi(catch_unwind)]
pub fn explain_sync(env: Env, body: String, status: Option<f64>) -> napi::Result<Explanation> {
    finish(&env, run(explain_work(body, status)))
}

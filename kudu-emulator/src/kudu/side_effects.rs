//! Kudu routes a read-only client must never call (they verify, purge or deploy on the real
//! thing). The emulator changes nothing on disk for them: it answers what an idle site with no
//! deployment records would, and logs them like every request, so tests can prove they were
//! never called.

use serde_json::json;

use super::Ctx;
use crate::Platform;
use crate::http::{self, HttpResponse};

/// `None` when `name` is not one of these routes.
pub(crate) fn handle(ctx: &Ctx<'_>, name: &str, tail: &str, api: bool) -> Option<HttpResponse> {
    let method = ctx.request.method.as_str();
    let id = tail.trim_matches('/');
    let answer = match (name, method) {
        ("deployments", "GET") => match id.split('/').collect::<Vec<_>>().as_slice() {
            [""] => HttpResponse::json(200, &json!([])),
            [id] => ctx.error(404, &format!("Deployment '{id}' not found.")),
            [id, "log", ..] => ctx.error(404, &format!("No log found for '{id}'.")),
            _ => ctx.no_route(),
        },
        ("deployments", "PUT") if !id.is_empty() => {
            ctx.error(404, &format!("Deployment '{id}' not found."))
        }
        ("deployments", "DELETE") if !id.is_empty() => ctx.error(
            404,
            &format!("Unable to delete '{id}'. No deployment found."),
        ),
        ("deploymentscript", "GET") => ctx.error(404, "No deployment script found."),
        // KuduLite only, `api/` only.
        ("isdeploying", "GET") if api && ctx.platform == Platform::Linux => {
            HttpResponse::json(200, &json!({ "value": "False", "msg": "" }))
        }
        ("scm", "DELETE") => HttpResponse::new(200),
        ("settings", "GET") => HttpResponse::json(200, &json!({})),
        ("settings", "POST" | "DELETE") => HttpResponse::new(204),
        ("zipdeploy" | "publish" | "wardeploy" | "deploy", "POST") => {
            let time = crate::dotnet::json_date(crate::dotnet::ticks(std::time::SystemTime::now()));
            HttpResponse::new(202).header(
                "Location",
                format!(
                    "{}/api/deployments/latest?deployer={name}&time={}",
                    ctx.origin,
                    http::encode_component(&time)
                ),
            )
        }
        _ => return None,
    };
    Some(answer)
}

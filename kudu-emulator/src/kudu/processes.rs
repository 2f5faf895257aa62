//! `/api/processes[/{id}]`: Kudu's own process on the instance a request reaches. On Windows,
//! `DELETE /api/processes/0` kills it, which closes its handles: that instance's holds go.
//! KuduLite answers "Not supported on Linux" (400) for all of it (no dotnet-monitor).

use serde_json::json;

use super::Ctx;
use crate::Platform;
use crate::dotnet;
use crate::http::HttpResponse;
use crate::server::lock;

const NOT_SUPPORTED: &str = "Not supported on Linux";

pub(crate) fn handle(ctx: &Ctx<'_>, tail: &str) -> HttpResponse {
    let id = tail.trim_matches('/');
    if ctx.platform == Platform::Linux {
        return match ctx.request.method.as_str() {
            // LinuxProcessController.KillProcess: `new JsonResult(ERRORMSG)` with status 400.
            "DELETE" => HttpResponse::json(400, &NOT_SUPPORTED),
            // ExecuteIfDotnetMonitorEnabled, dotnet-monitor off: raw text, 400.
            "GET" => HttpResponse::with_body(400, "text/plain", NOT_SUPPORTED),
            _ => ctx.no_route(),
        };
    }
    let Some(index) = ctx
        .shared
        .options
        .instances
        .iter()
        .position(|name| name == ctx.instance)
    else {
        return ctx.no_route();
    };
    let pid = kudu_pid(ctx, index);
    let base = format!("{}{}", ctx.origin, ctx.request.path);
    let known = id == "0" || id == pid.to_string();
    match (ctx.request.method.as_str(), id) {
        ("GET", "") => HttpResponse::json(
            200,
            &json!([{
                "id": pid,
                "name": "w3wp",
                "href": format!("{}/{pid}", base.trim_end_matches('/')),
                "user_name": "IIS APPPOOL\\~1site",
                "is_scm_site": true,
            }]),
        ),
        ("GET", _) if known => process(ctx, pid),
        ("DELETE", _) if known => {
            lock(&ctx.shared.holds).retain(|(_, holder)| holder != ctx.instance);
            if let Some(count) = lock(&ctx.shared.restarts).get_mut(index) {
                *count += 1;
            }
            HttpResponse::new(204)
        }
        ("GET" | "DELETE", _) => ctx.error(404, &format!("Cannot find process {id}.")),
        _ => ctx.method_not_allowed(),
    }
}

/// A stable fake pid per instance that changes with every Kudu restart.
fn kudu_pid(ctx: &Ctx<'_>, index: usize) -> u32 {
    let restarts = lock(&ctx.shared.restarts).get(index).copied().unwrap_or(0);
    4000 + 100 * index as u32 + restarts
}

/// The details `GET /api/processes/0` gives (a subset of Kudu's `ProcessInfo`), with the held
/// files of this instance as `open_file_handles` (local paths).
fn process(ctx: &Ctx<'_>, pid: u32) -> HttpResponse {
    let handles: Vec<String> = lock(&ctx.shared.holds)
        .iter()
        .filter(|(_, holder)| holder == ctx.instance)
        .map(|(rel, _)| {
            let segments: Vec<String> = rel.split('/').map(str::to_owned).collect();
            ctx.platform.local_path(&segments, false)
        })
        .collect();
    let self_link = format!("{}/api/processes/{pid}", ctx.origin);
    let now = dotnet::json_date(dotnet::ticks(std::time::SystemTime::now()));
    HttpResponse::json(
        200,
        &json!({
            "id": pid,
            "name": "w3wp",
            "href": self_link,
            "minidump": format!("{self_link}/dump"),
            "user_name": "IIS APPPOOL\\~1site",
            "file_name": r"D:\Windows\SysWOW64\inetsrv\w3wp.exe",
            "open_file_handles": handles,
            "is_scm_site": true,
            "time_stamp": now,
            "environment_variables": { "WEBSITE_INSTANCE_ID": ctx.instance },
        }),
    )
}

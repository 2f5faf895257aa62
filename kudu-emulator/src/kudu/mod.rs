//! The SCM site: instance routing (ARRAffinity), authentication, Kudu's routes and its error
//! bodies, and KuduLite's response compression.

mod processes;
mod side_effects;
mod vfs;
mod zip;

use std::io::{self, Cursor, Read, Write};

use flate2::Compression;
use flate2::write::GzEncoder;
use serde::Serialize;

use crate::Platform;
use crate::http::{Body, HttpRequest, HttpResponse};
use crate::log::{Request, affinity_cookie};
use crate::server::Shared;

/// What a route needs to answer.
pub(crate) struct Ctx<'a> {
    pub shared: &'a Shared,
    pub request: &'a HttpRequest,
    pub platform: Platform,
    /// The instance the front end routed the request to.
    pub instance: &'a str,
    /// `http://host[:port]` as the client named the server (`Host`), for absolute URLs.
    pub origin: String,
}

impl Ctx<'_> {
    /// The absolute URL of the request, query included.
    pub fn request_url(&self) -> String {
        let mut url = format!("{}{}", self.origin, self.request.path);
        if let Some(query) = &self.request.query {
            url.push('?');
            url.push_str(query);
        }
        url
    }

    /// An error with a message, as each platform writes it.
    pub fn error(&self, status: u16, message: &str) -> HttpResponse {
        error(self.platform, status, message)
    }

    /// An error built from a .NET exception.
    pub fn exception(
        &self,
        status: u16,
        message: Option<&str>,
        exception_message: &str,
        exception_type: &str,
    ) -> HttpResponse {
        match self.platform {
            Platform::Windows => HttpResponse::json(
                status,
                &WebApiError {
                    message: message.unwrap_or("An error has occurred."),
                    exception_message: Some(exception_message),
                    exception_type: Some(exception_type),
                    stack_trace: Some(None),
                },
            ),
            Platform::Linux => HttpResponse::text(status, message.unwrap_or(exception_message)),
        }
    }

    /// The 404 of Kudu's router for a path no route matches.
    pub fn no_route(&self) -> HttpResponse {
        match self.platform {
            Platform::Windows => self.error(
                404,
                &format!(
                    "No HTTP resource was found that matches the request URI '{}'.",
                    self.request_url()
                ),
            ),
            Platform::Linux => HttpResponse::new(404),
        }
    }

    /// The answer to a verb a route does not take.
    pub fn method_not_allowed(&self) -> HttpResponse {
        match self.platform {
            Platform::Windows => self.error(
                405,
                &format!(
                    "The requested resource does not support http method '{}'.",
                    self.request.method
                ),
            ),
            Platform::Linux => HttpResponse::new(404),
        }
    }
}

/// Web API's `HttpError`: `{"Message": ...}`, plus the exception members when built from one
/// (error detail is always on in Kudu).
#[derive(Serialize)]
struct WebApiError<'a> {
    #[serde(rename = "Message")]
    message: &'a str,
    #[serde(rename = "ExceptionMessage", skip_serializing_if = "Option::is_none")]
    exception_message: Option<&'a str>,
    #[serde(rename = "ExceptionType", skip_serializing_if = "Option::is_none")]
    exception_type: Option<&'a str>,
    #[serde(rename = "StackTrace", skip_serializing_if = "Option::is_none")]
    stack_trace: Option<Option<&'a str>>,
}

/// An error with a message: Web API JSON on Windows, plain text on Linux (ASP.NET Core writes a
/// string result as `text/plain`).
pub(crate) fn error(platform: Platform, status: u16, message: &str) -> HttpResponse {
    match platform {
        Platform::Windows => HttpResponse::json(
            status,
            &WebApiError {
                message,
                exception_message: None,
                exception_type: None,
                stack_trace: None,
            },
        ),
        Platform::Linux => HttpResponse::text(status, message),
    }
}

/// The instance a request goes to: its `ARRAffinity` cookie when that names an instance, else
/// the first one (the front end picks one; the emulator picks the first, so tests are stable).
fn pick_instance<'a>(shared: &'a Shared, request: &HttpRequest) -> &'a str {
    let instances = &shared.options.instances;
    let wanted = affinity_cookie(request);
    instances
        .iter()
        .find(|name| Some(name.as_str()) == wanted)
        .or_else(|| instances.first())
        .map_or("", String::as_str)
}

/// Answers a request for the SCM site.
pub(crate) fn handle(shared: &Shared, request: &HttpRequest, entry: &mut Request) -> HttpResponse {
    let instance = pick_instance(shared, request);
    entry.instance = Some(instance.to_owned());
    let ctx = Ctx {
        shared,
        request,
        platform: shared.options.platform,
        instance,
        origin: format!(
            "http://{}",
            request
                .header("host")
                .map_or_else(|| shared.host(), str::to_owned)
        ),
    };
    let auth = &shared.options.auth;
    let mut response = if auth.accepts(request.header("authorization")) {
        route(&ctx)
    } else {
        let mut denied = HttpResponse::text(
            401,
            "401 - Unauthorized: Access is denied due to invalid credentials.",
        );
        for challenge in auth.challenges() {
            denied = denied.header("WWW-Authenticate", challenge);
        }
        denied
    };
    // The App Service front end pins the client to the instance that answered.
    response.headers.push((
        "Set-Cookie".to_owned(),
        format!("ARRAffinity={instance};Path=/;HttpOnly"),
    ));
    if ctx.platform == Platform::Linux {
        response = compress(request, response);
    }
    response
}

fn route(ctx: &Ctx<'_>) -> HttpResponse {
    let path = ctx.request.path.as_str();
    let lower = path.to_ascii_lowercase();
    // Every route is registered with and without `api/` (MapHttpRouteDual); routing ignores case.
    let api = lower == "/api" || lower.starts_with("/api/");
    let skip = if api { 4 } else { 0 };
    let rest = &path[skip..];
    let rest_lower = &lower[skip..];
    let name_end = rest_lower[1.min(rest_lower.len())..]
        .find('/')
        .map_or(rest_lower.len(), |i| i + 1);
    let name = rest_lower.get(1..name_end).unwrap_or("");
    let tail = &rest[name_end..];
    match name {
        "vfs" => vfs::handle(ctx, tail),
        "zip" => zip::handle(ctx, tail),
        "processes" => processes::handle(ctx, tail),
        "" if !api && ctx.request.method == "GET" => HttpResponse::with_body(
            200,
            "text/html; charset=utf-8",
            "<!DOCTYPE html><html><head><title>Kudu</title></head><body>kudu-emulator</body></html>",
        ),
        _ => side_effects::handle(ctx, name, tail, api).unwrap_or_else(|| ctx.no_route()),
    }
}

/// KuduLite's `services.AddResponseCompression()` with its defaults: gzip for the default MIME
/// types when the client accepts it. \[inferred\] The front end and Kestrel add nothing else.
fn compress(request: &HttpRequest, mut response: HttpResponse) -> HttpResponse {
    const COMPRESSIBLE: [&str; 8] = [
        "text/plain",
        "text/css",
        "application/javascript",
        "text/html",
        "application/xml",
        "text/xml",
        "application/json",
        "text/json",
    ];
    let accepts_gzip = request.header_values("accept-encoding").any(|v| {
        v.split(',').any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    == Some(0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
    });
    let content_type = response
        .get_header("content-type")
        .and_then(|t| t.split(';').next())
        .map(|t| t.trim().to_ascii_lowercase());
    let compressible = content_type.is_some_and(|t| COMPRESSIBLE.contains(&t.as_str()));
    let has_body = match &response.body {
        Body::Bytes(bytes) => !bytes.is_empty(),
        Body::Sized(len, _) => *len > 0,
        Body::Empty | Body::Stream(_) => false,
    };
    if !(accepts_gzip && compressible && has_body)
        || response.get_header("content-encoding").is_some()
    {
        return response;
    }
    let mut source: Box<dyn Read + Send> = match std::mem::replace(&mut response.body, Body::Empty)
    {
        Body::Bytes(bytes) => Box::new(Cursor::new(bytes)),
        Body::Sized(len, reader) => Box::new(reader.take(len)),
        Body::Empty | Body::Stream(_) => return response,
    };
    response.body = Body::Stream(Box::new(move |out: &mut dyn Write| {
        let mut gzip = GzEncoder::new(out, Compression::default());
        io::copy(&mut source, &mut gzip)?;
        gzip.finish()?;
        Ok(())
    }));
    response
        .header("Content-Encoding", "gzip")
        .header("Vary", "Accept-Encoding")
}

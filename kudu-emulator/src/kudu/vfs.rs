//! `/api/vfs/{*path}`: Kudu's `VfsControllerBase` + `VfsController` (Windows, Web API) and their
//! KuduLite ports (Linux, ASP.NET Core 2.2), over the home directory.

use std::fs::{File, Metadata};
use std::io::{self, Read, Seek, SeekFrom};
use std::time::SystemTime;

use serde::Serialize;

use super::Ctx;
use crate::Platform;
use crate::dotnet;
use crate::fs::{self, Node};
use crate::http::{self, HttpResponse};

pub(crate) const MISSING_IF_MATCH: &str =
    "Updating an existing resource requires an If-Match header carrying a single, strong ETag.";
pub(crate) const ETAG_MISMATCH: &str = "ETag does not represent the latest state of the resource.";
pub(crate) const CANNOT_UPDATE_DIRECTORY: &str =
    "The resource represents a directory which can not be updated.";
pub(crate) const CANNOT_DELETE_DIRECTORY: &str =
    "Cannot delete directory. It is either not empty or access is not allowed.";
const IO_EXCEPTION: &str = "System.IO.IOException";

/// A path under `HOME`, decoded from the route.
#[derive(Debug)]
pub(crate) struct Target {
    pub segments: Vec<String>,
    /// The URL ended with `/`.
    pub trailing_slash: bool,
}

impl Target {
    /// Decodes the part of the URL path after `/api/vfs` (empty or starting with `/`). `..` and
    /// `.` segments are refused (`None`): .NET would resolve them, possibly above `HOME`.
    pub fn parse(platform: Platform, raw: &str) -> Option<Target> {
        let decoded = http::percent_decode(raw, false)?;
        let is_separator = |c: char| c == '/' || (platform == Platform::Windows && c == '\\');
        let trailing_slash = decoded.ends_with(is_separator);
        let mut segments = Vec::new();
        for segment in decoded.split(is_separator).filter(|s| !s.is_empty()) {
            if segment == "." || segment == ".." || segment.contains('\0') {
                return None;
            }
            segments.push(segment.to_owned());
        }
        Some(Target {
            segments,
            trailing_slash,
        })
    }

    /// The path relative to home, `/`-separated (the key of holds).
    pub fn rel(&self) -> String {
        self.segments.join("/")
    }
}

impl Ctx<'_> {
    /// What `FileSystemInfo.FullName` shows for the target.
    pub(crate) fn local_path(&self, target: &Target) -> String {
        self.platform
            .local_path(&target.segments, target.trailing_slash)
    }

    pub(crate) fn not_found(&self, target: &Target) -> HttpResponse {
        self.error(404, &format!("'{}' not found.", self.local_path(target)))
    }

    /// The emulator's refusal to go through a symbolic link (not Kudu's: .NET would follow it).
    pub(crate) fn link_refused(&self, target: &Target) -> HttpResponse {
        self.error(
            404,
            &format!(
                "'{}' is or goes through a symbolic link; the emulator does not follow links.",
                self.local_path(target)
            ),
        )
    }

    /// 307 to the same URL with `/` added to (`add`) or all trailing `/` removed from its path.
    pub(crate) fn redirect(&self, add: bool) -> HttpResponse {
        let path = &self.request.path;
        let mut location = if add {
            format!("{}{path}/", self.origin)
        } else {
            format!("{}{}", self.origin, path.trim_end_matches('/'))
        };
        if let Some(query) = &self.request.query {
            location.push('?');
            location.push_str(query);
        }
        HttpResponse::new(307).header("Location", location)
    }

    /// The .NET text of a sharing violation on a file held open by Kudu.
    pub(crate) fn in_use_text(&self, target: &Target) -> String {
        format!(
            "The process cannot access the file '{}' because it is being used by another process.",
            self.local_path(target)
        )
    }

    /// Whether a Windows lock handle blocks writing or deleting this file (Linux has no
    /// share-mode locks: holds change nothing there).
    pub(crate) fn held(&self, rel: &str) -> bool {
        self.platform == Platform::Windows && self.shared.is_held(rel)
    }
}

pub(crate) fn handle(ctx: &Ctx<'_>, raw: &str) -> HttpResponse {
    let target = match Target::of_route(ctx, raw) {
        Ok(target) => target,
        Err(refusal) => return refusal,
    };
    match ctx.request.method.as_str() {
        "GET" | "HEAD" => get_item(ctx, &target, listing, file),
        "PUT" => put(ctx, &target),
        "DELETE" => delete(ctx, &target),
        _ => ctx.method_not_allowed(),
    }
}

impl Target {
    /// The target of a `{*path}` route (the URL path after `/api/vfs` or `/api/zip`), or the 400
    /// the emulator answers for `.` and `..` segments.
    pub(crate) fn of_route(ctx: &Ctx<'_>, raw: &str) -> Result<Target, HttpResponse> {
        Target::parse(ctx.platform, raw).ok_or_else(|| {
            ctx.error(
                400,
                "The request path is not valid for the emulator (. or .. segment).",
            )
        })
    }
}

fn modified(meta: &Metadata) -> i64 {
    dotnet::ticks(meta.modified().unwrap_or(SystemTime::UNIX_EPOCH))
}

/// `VfsControllerBase.GetItem`, which the VFS and zip controllers share: 404 when missing, 307
/// between file and directory URLs, then the controller's answer for a directory or a file.
pub(crate) fn get_item(
    ctx: &Ctx<'_>,
    target: &Target,
    directory: impl FnOnce(&Ctx<'_>, &Target) -> HttpResponse,
    file: impl FnOnce(&Ctx<'_>, &Target, &Metadata) -> HttpResponse,
) -> HttpResponse {
    match fs::lookup(&ctx.shared.home, &target.segments) {
        Node::Missing => ctx.not_found(target),
        Node::Link | Node::ThroughLink => ctx.link_refused(target),
        Node::Dir if !target.trailing_slash => ctx.redirect(true),
        Node::Dir => directory(ctx, target),
        Node::File(_) if target.trailing_slash => ctx.redirect(false),
        Node::File(meta) => file(ctx, target, &meta),
    }
}

/// `VfsStatEntry`, in its declaration order.
#[derive(Serialize)]
struct StatEntry {
    name: String,
    size: u64,
    mtime: String,
    crtime: String,
    mime: String,
    href: String,
    path: String,
}

/// The listing of a directory.
///
/// A symbolic link is listed as a file (its own size and times, media type by extension): the
/// emulator never looks at what it points to. .NET would show a link to a directory as a
/// directory; reading through any link is refused (`link_refused`).
fn listing(ctx: &Ctx<'_>, target: &Target) -> HttpResponse {
    let dir = fs::join(&ctx.shared.home, &target.segments);
    let entries = match fs::list(&dir, ctx.platform == Platform::Windows) {
        Ok(entries) => entries,
        Err(e) => return ctx.error(500, &e.to_string()),
    };
    let base = format!("{}{}", ctx.origin, ctx.request.path);
    let query = ctx
        .request
        .query
        .as_ref()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let mut listed = Vec::with_capacity(entries.len());
    for (name, meta) in entries {
        let is_dir = meta.is_dir();
        let mtime = modified(&meta);
        let crtime = meta.created().map_or(mtime, dotnet::ticks);
        let mut segments = target.segments.clone();
        segments.push(name.clone());
        let href_name = if is_dir {
            format!("{name}/")
        } else {
            name.clone()
        };
        listed.push(StatEntry {
            size: if is_dir { 0 } else { meta.len() },
            mtime: dotnet::json_date(mtime),
            crtime: dotnet::json_date(crtime),
            mime: if is_dir {
                "inode/directory".to_owned()
            } else {
                dotnet::mime(ctx.platform, &name).to_owned()
            },
            href: format!("{base}{}{query}", http::escape_uri_string(&href_name)),
            path: ctx.platform.local_path(&segments, false),
            name,
        });
    }
    HttpResponse::json(200, &listed)
}

/// Splits an `If-Match` / `If-None-Match` list into its tags.
fn tags<'a>(values: impl Iterator<Item = &'a str>) -> Vec<String> {
    values
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

/// `EntityTagHeaderValue.Equals`: same tag, same weakness.
fn strong_eq(a: &str, b: &str) -> bool {
    a == b
}

/// ASP.NET Core's `EntityTagHeaderValue.Compare(other, useStrongComparison: false)`.
fn weak_eq(a: &str, b: &str) -> bool {
    a.trim_start_matches("W/") == b.trim_start_matches("W/")
}

fn file(ctx: &Ctx<'_>, target: &Target, meta: &Metadata) -> HttpResponse {
    let ticks = modified(meta);
    let etag = dotnet::etag(ticks);
    let last_modified = dotnet::http_date(ticks);
    let request = ctx.request;
    let if_none_match = tags(request.header_values("if-none-match"));
    let ranges = match ctx.platform {
        Platform::Windows => request.header("range").and_then(parse_range),
        // [inferred] ASP.NET Core 2.x `File(...)` without EnableRangeProcessing: Range ignored.
        Platform::Linux => None,
    };
    // Web API: a Range is honoured unless an If-Range names another ETag. An If-Range holding a
    // date has no entity tag and `IfRange.EntityTag.Equals` throws (kudu `IsRangeRequest`).
    let mut is_range = ranges.is_some();
    if let (true, Some(if_range)) = (is_range, request.header("if-range")) {
        if !(if_range.starts_with('"') || if_range.starts_with("W/")) {
            return ctx.exception(
                500,
                None,
                "Object reference not set to an instance of an object.",
                "System.NullReferenceException",
            );
        }
        is_range = strong_eq(if_range.trim(), &etag);
    }
    let matches_none = if_none_match.iter().any(|t| match ctx.platform {
        Platform::Windows => strong_eq(t, &etag),
        Platform::Linux => t == "*" || weak_eq(t, &etag),
    });
    if !is_range && matches_none {
        return HttpResponse::new(304)
            .header("ETag", etag)
            .header("Last-Modified", last_modified);
    }
    let path = fs::join(&ctx.shared.home, &target.segments);
    // Opened for reading, shared (Kudu's GetFileReadStream): a held lock file reads fine.
    let opened = fs::open_file(&path).and_then(|file| Ok((file.metadata()?.len(), file)));
    let (len, file) = match opened {
        Ok(opened) => opened,
        Err(e) => return ctx.exception(404, None, &e.to_string(), IO_EXCEPTION),
    };
    let mime = dotnet::mime(
        ctx.platform,
        target.segments.last().map_or("", String::as_str),
    );
    let response = match (is_range, ranges) {
        (true, Some(ranges)) => ranged(ctx, file, len, &ranges, mime, request.header("range")),
        _ => HttpResponse::sized(200, mime, len, file),
    };
    response
        .header("ETag", etag)
        .header("Last-Modified", last_modified)
}

/// One `Range` spec: `a-b`, `a-` or `-n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RangeSpec {
    From(u64, Option<u64>),
    Suffix(u64),
}

/// Parses `bytes=...`; `None` for anything .NET's header parser rejects (then no range applies).
fn parse_range(header: &str) -> Option<Vec<RangeSpec>> {
    let (unit, specs) = header.split_once('=')?;
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return None;
    }
    let mut out = Vec::new();
    for spec in specs.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (from, to) = spec.split_once('-')?;
        let (from, to) = (from.trim(), to.trim());
        out.push(if from.is_empty() {
            RangeSpec::Suffix(to.parse().ok()?)
        } else {
            let from: u64 = from.parse().ok()?;
            let to: Option<u64> = if to.is_empty() {
                None
            } else {
                Some(to.parse().ok()?)
            };
            if to.is_some_and(|to| to < from) {
                return None;
            }
            RangeSpec::From(from, to)
        });
    }
    (!out.is_empty()).then_some(out)
}

/// The inclusive byte span of a spec within `len` bytes, if it overlaps them.
fn span(spec: RangeSpec, len: u64) -> Option<(u64, u64)> {
    match spec {
        _ if len == 0 => None,
        RangeSpec::From(from, _) if from >= len => None,
        RangeSpec::From(from, to) => Some((from, to.map_or(len - 1, |to| to.min(len - 1)))),
        RangeSpec::Suffix(0) => None,
        RangeSpec::Suffix(n) => Some((len.saturating_sub(n), len - 1)),
    }
}

/// Web API's `ByteRangeStreamContent`: 206 with one part, `multipart/byteranges` with several,
/// 416 (`InvalidByteRangeException`, `Content-Range: bytes */len`) when none overlaps.
fn ranged(
    ctx: &Ctx<'_>,
    mut file: File,
    len: u64,
    ranges: &[RangeSpec],
    mime: &str,
    header: Option<&str>,
) -> HttpResponse {
    let spans: Vec<(u64, u64)> = ranges.iter().filter_map(|r| span(*r, len)).collect();
    let mut part = |(from, to): (u64, u64)| -> io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(from))?;
        (&mut file).take(to - from + 1).read_to_end(&mut bytes)?;
        Ok(bytes)
    };
    match spans.as_slice() {
        [] => ctx
            .exception(
                416,
                None,
                &format!(
                    "None of the requested ranges (Range: {}) overlap with the current extent of the selected resource.",
                    header.unwrap_or("")
                ),
                "System.Net.Http.InvalidByteRangeException",
            )
            .header("Content-Range", format!("bytes */{len}")),
        [(from, to)] => match file.seek(SeekFrom::Start(*from)) {
            Ok(_) => HttpResponse::sized(206, mime, to - from + 1, file)
                .header("Content-Range", format!("bytes {from}-{to}/{len}")),
            Err(e) => ctx.exception(404, None, &e.to_string(), IO_EXCEPTION),
        },
        several => {
            const BOUNDARY: &str = "kudu-emulator-byteranges";
            let mut body = Vec::new();
            for &(from, to) in several {
                let bytes = match part((from, to)) {
                    Ok(bytes) => bytes,
                    Err(e) => return ctx.exception(404, None, &e.to_string(), IO_EXCEPTION),
                };
                body.extend_from_slice(
                    format!(
                        "--{BOUNDARY}\r\nContent-Type: {mime}\r\nContent-Range: bytes {from}-{to}/{len}\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(&bytes);
                body.extend_from_slice(b"\r\n");
            }
            body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
            HttpResponse::with_body(
                206,
                &format!("multipart/byteranges; boundary=\"{BOUNDARY}\""),
                body,
            )
        }
    }
}

/// Checks `If-Match` before a write; `Some` is the refusal.
///
/// - Windows (Web API): `Request.Headers.IfMatch` is a collection that is never null, so the
///   "missing If-Match" branch of `VfsController` is dead for PUT and DELETE alike: a missing
///   header is a mismatch (412, mismatch text, current ETag). Kudu's own functional test
///   `VfsControllerBaseTest` ("Check that 2nd create attempt fails": a plain `PutAsync` over an
///   existing file gets 412 *with* the current ETag) shows it for PUT.
/// - Linux: missing → 412 with the "requires an If-Match" text [inferred: ASP.NET Core 2.2
///   typed headers give null]; mismatch → 412 for PUT (weak comparison), 409 for DELETE (strong).
fn precondition(ctx: &Ctx<'_>, etag: &str, delete: bool) -> Option<HttpResponse> {
    let header: Vec<&str> = ctx.request.header_values("if-match").collect();
    if header.is_empty() && ctx.platform == Platform::Linux {
        return Some(ctx.error(412, MISSING_IF_MATCH));
    }
    let matched = tags(header.into_iter()).iter().any(|t| {
        t == "*"
            || match (ctx.platform, delete) {
                (Platform::Linux, false) => weak_eq(t, etag),
                _ => strong_eq(t, etag),
            }
    });
    if matched {
        return None;
    }
    let status = if ctx.platform == Platform::Linux && delete {
        409
    } else {
        412
    };
    Some(ctx.error(status, ETAG_MISMATCH).header("ETag", etag))
}

/// `Could not write to local resource '{path}' due to error '{message}'.` (409).
fn write_conflict(ctx: &Ctx<'_>, target: &Target, message: &str) -> HttpResponse {
    let text = format!(
        "Could not write to local resource '{}' due to error '{message}'.",
        ctx.local_path(target)
    );
    ctx.exception(409, Some(&text), message, IO_EXCEPTION)
}

fn put(ctx: &Ctx<'_>, target: &Target) -> HttpResponse {
    let home = &ctx.shared.home;
    let node = fs::lookup(home, &target.segments);
    let existing = match node {
        Node::Link | Node::ThroughLink => {
            return write_conflict(
                ctx,
                target,
                "The emulator does not write through symbolic links.",
            );
        }
        Node::Dir => return ctx.error(409, CANNOT_UPDATE_DIRECTORY),
        // `DirectoryInfo.Create()` over an existing file throws: Kudu answers with the text
        // of the failed directory delete.
        Node::File(_) if target.trailing_slash => return ctx.error(409, CANNOT_DELETE_DIRECTORY),
        Node::Missing if target.trailing_slash => {
            return match fs::create_dirs(home, &target.segments) {
                Ok(_) => HttpResponse::new(201),
                Err(_) => ctx.error(409, CANNOT_DELETE_DIRECTORY),
            };
        }
        Node::File(meta) => Some(meta),
        Node::Missing => None,
    };
    if let Some(meta) = &existing {
        if let Some(refusal) = precondition(ctx, &dotnet::etag(modified(meta)), false) {
            return refusal;
        }
        if ctx.held(&target.rel()) {
            return write_conflict(ctx, target, &ctx.in_use_text(target));
        }
    }
    let Some((_, parent)) = target.segments.split_last() else {
        return ctx.error(409, CANNOT_UPDATE_DIRECTORY);
    };
    let path = match fs::create_dirs(home, parent) {
        Ok(dir) => dir.join(target.segments.last().map_or("", String::as_str)),
        Err(e) => return write_conflict(ctx, target, &e.to_string()),
    };
    let previous = existing.as_ref().and_then(|meta| meta.modified().ok());
    if let Err(e) = fs::write_atomic(&path, &ctx.request.body, previous) {
        return write_conflict(ctx, target, &e.to_string());
    }
    let ticks = match std::fs::symlink_metadata(&path) {
        Ok(meta) => modified(&meta),
        Err(e) => return write_conflict(ctx, target, &e.to_string()),
    };
    HttpResponse::new(if existing.is_some() { 204 } else { 201 })
        .header("ETag", dotnet::etag(ticks))
        .header("Last-Modified", dotnet::http_date(ticks))
}

fn delete(ctx: &Ctx<'_>, target: &Target) -> HttpResponse {
    let home = &ctx.shared.home;
    match fs::lookup(home, &target.segments) {
        Node::Missing => ctx.not_found(target),
        Node::Link | Node::ThroughLink => ctx.link_refused(target),
        Node::Dir => delete_dir(ctx, target),
        Node::File(_) if target.trailing_slash => ctx.redirect(false),
        Node::File(meta) => {
            if let Some(refusal) = precondition(ctx, &dotnet::etag(modified(&meta)), true) {
                return refusal;
            }
            // Kudu opens the file with delete sharing first: a held lock file fails there, and
            // the failure is answered as 404 with the exception.
            if ctx.held(&target.rel()) {
                return ctx.exception(404, None, &ctx.in_use_text(target), IO_EXCEPTION);
            }
            match std::fs::remove_file(fs::join(home, &target.segments)) {
                Ok(()) => HttpResponse::new(200),
                Err(e) => ctx.exception(404, None, &e.to_string(), IO_EXCEPTION),
            }
        }
    }
}

/// `DirectoryInfo.Delete(recursive)`: no ETag; 409 on any failure, after deleting what could be.
/// The home itself is never removed (a real `D:\home` cannot be either).
fn delete_dir(ctx: &Ctx<'_>, target: &Target) -> HttpResponse {
    let recursive = ctx
        .request
        .query_param("recursive")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let dir = fs::join(&ctx.shared.home, &target.segments);
    let rel = target.rel();
    let held = |path: &str| ctx.held(path);
    let deleted = match (recursive, target.segments.is_empty()) {
        (true, true) => {
            fs::remove_contents(&dir, &rel, &held);
            false
        }
        (true, false) => fs::remove_tree(&dir, &rel, &held),
        (false, true) => false,
        (false, false) => std::fs::remove_dir(&dir).is_ok(),
    };
    if deleted {
        HttpResponse::new(200)
    } else {
        ctx.error(409, CANNOT_DELETE_DIRECTORY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = Target::parse(Platform::Windows, "/site/a%20b\\c/").unwrap();
        assert_eq!(t.segments, vec!["site", "a b", "c"]);
        assert!(t.trailing_slash);
        let t = Target::parse(Platform::Linux, "/site/a\\b").unwrap();
        assert_eq!(t.segments, vec!["site", "a\\b"]);
        assert!(!t.trailing_slash);
        let root = Target::parse(Platform::Linux, "").unwrap();
        assert!(root.segments.is_empty() && !root.trailing_slash);
        assert!(Target::parse(Platform::Linux, "/site/../x").is_none());
        assert!(Target::parse(Platform::Linux, "/site/%2e%2e/x").is_none());
    }

    #[test]
    fn ranges() {
        use RangeSpec::*;
        assert_eq!(parse_range("bytes=0-4"), Some(vec![From(0, Some(4))]));
        assert_eq!(
            parse_range("bytes=-3, 5-"),
            Some(vec![Suffix(3), From(5, None)])
        );
        assert_eq!(parse_range("bytes=5-2"), None);
        assert_eq!(parse_range("items=0-1"), None);
        assert_eq!(span(From(2, Some(100)), 10), Some((2, 9)));
        assert_eq!(span(From(10, None), 10), None);
        assert_eq!(span(Suffix(20), 10), Some((0, 9)));
        assert_eq!(span(Suffix(0), 10), None);
        assert_eq!(span(Suffix(1), 0), None);
    }
}

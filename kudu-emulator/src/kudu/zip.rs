//! `GET|HEAD /api/zip/{path}/`: Kudu's `ZipController` streams a folder as a zip.
//!
//! Like Kudu (`ZipArchiveExtensions.AddDirectory`/`AddFile`): recursive, top-level files at the
//! root of the archive, an entry `name/` for each empty directory, files it cannot open silently
//! skipped (a held Windows lock file, and here also a symbolic link, which the emulator never
//! follows), deflate at the fastest level, entry times at the zip format's 2 s precision. Kudu
//! writes local times; the emulator writes UTC. Chunked, no `Content-Length`.

use std::collections::HashSet;
use std::io::{self, Write};
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use super::Ctx;
use super::vfs::{Target, get_item};
use crate::Platform;
use crate::dotnet;
use crate::fs;
use crate::http::{Body, HttpResponse};
use crate::server::lock;

pub(crate) fn handle(ctx: &Ctx<'_>, raw: &str) -> HttpResponse {
    let target = match Target::of_route(ctx, raw) {
        Ok(target) => target,
        Err(refusal) => return refusal,
    };
    match ctx.request.method.as_str() {
        // "We don't support getting a file from the zip controller": an empty 404.
        "GET" | "HEAD" => get_item(ctx, &target, stream, |_, _, _| HttpResponse::new(404)),
        "PUT" => ctx.error(
            501,
            "PUT /api/zip/ (extract over a folder) is not emulated by kudu-emulator.",
        ),
        _ => ctx.method_not_allowed(),
    }
}

fn stream(ctx: &Ctx<'_>, target: &Target) -> HttpResponse {
    let file_name = ctx.request.query_param("fileName").unwrap_or_else(|| {
        let last = target
            .segments
            .last()
            .map_or_else(|| dotnet_home_name(ctx.platform), String::clone);
        format!("{last}.zip")
    });
    // Held files at the time of the request (Windows only: Linux has no share-mode locks).
    let held: HashSet<String> = if ctx.platform == Platform::Windows {
        lock(&ctx.shared.holds)
            .iter()
            .map(|(rel, _)| rel.clone())
            .collect()
    } else {
        HashSet::new()
    };
    let dir = fs::join(&ctx.shared.home, &target.segments);
    let rel = target.rel();
    let mut response = HttpResponse::new(200)
        .header("Content-Type", "application/zip")
        .header(
            "Content-Disposition",
            format!("attachment; filename={}", quote_if_needed(&file_name)),
        );
    response.body = Body::Stream(Box::new(move |out: &mut dyn Write| {
        let mut zip = ZipWriter::new_stream(out);
        add_contents(&mut zip, &dir, "", &rel, &held)?;
        zip.finish().map_err(io::Error::other)?;
        Ok(())
    }));
    response
}

/// The last component of `HOME` (`Path.GetFileName` of `D:\home` or `/home`).
fn dotnet_home_name(platform: Platform) -> String {
    platform
        .home_path()
        .rsplit(['\\', '/'])
        .next()
        .unwrap_or("home")
        .to_owned()
}

/// `ContentDispositionHeaderValue.FileName` quotes names with separators or spaces.
fn quote_if_needed(name: &str) -> String {
    if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._~!#$&+^`|".contains(c))
    {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\\\""))
    }
}

fn zip_time(meta: &std::fs::Metadata) -> DateTime {
    let ticks = dotnet::ticks(meta.modified().unwrap_or(std::time::SystemTime::UNIX_EPOCH));
    let c = dotnet::civil(ticks);
    u16::try_from(c.year)
        .ok()
        .and_then(|year| {
            DateTime::from_date_and_time(
                year,
                c.month as u8,
                c.day as u8,
                c.hour as u8,
                c.minute as u8,
                c.second as u8,
            )
            .ok()
        })
        .unwrap_or_default()
}

fn add_contents<W: Write>(
    zip: &mut ZipWriter<zip::write::StreamWriter<W>>,
    dir: &Path,
    prefix: &str,
    rel: &str,
    held: &HashSet<String>,
) -> io::Result<()> {
    for (name, meta) in fs::list(dir, false)? {
        let entry_name = format!("{prefix}{name}");
        let entry_rel = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let path = dir.join(&name);
        if meta.is_dir() {
            if fs::list(&path, false)?.is_empty() {
                let options = SimpleFileOptions::default().last_modified_time(zip_time(&meta));
                zip.add_directory(format!("{entry_name}/"), options)
                    .map_err(io::Error::other)?;
            } else {
                add_contents(zip, &path, &format!("{entry_name}/"), &entry_rel, held)?;
            }
            continue;
        }
        if held.contains(&entry_rel) {
            continue;
        }
        // A link fails here (O_NOFOLLOW) and is skipped like any file that cannot be opened.
        let Ok(mut file) = fs::open_file(&path) else {
            continue;
        };
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(1))
            .last_modified_time(zip_time(&meta));
        zip.start_file(entry_name, options)
            .map_err(io::Error::other)?;
        io::copy(&mut file, zip)?;
    }
    Ok(())
}

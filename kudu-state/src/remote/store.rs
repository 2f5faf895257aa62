//! [`RemoteStore`]: the [`Store`] of a live site, over Kudu's VFS (`GET`/`HEAD /api/vfs/...`).

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::env::Env;
use super::http::{HttpClient, RequestStats};
use super::scm::{Affinity, ReadMethod, Route, ScmReader};
use super::secret::{CredentialSource, Credentials};
use super::url::SiteUrl;
use crate::error::{Error, Result};
use crate::platform::Platform;
use crate::store::{Bytes, DirEntry, EntryKind, HeldProof, Meta, RelPath, Store};

/// .NET ticks (100 ns since 0001-01-01) of the Unix epoch.
const UNIX_EPOCH_TICKS: i64 = 621_355_968_000_000_000;

/// A [`Store`] over a live site's VFS API, read-only.
///
/// - **Requests**: only `GET` and `HEAD` of `/api/vfs/...`, and `GET /api/processes/0` for
///   [`RemoteStore::kudu_process`]; nothing else can be expressed (see `remote::scm`). Never
///   `/api/deployments*` or `/api/isdeploying`, which verify, purge and delete state.
/// - **Listings** give each entry's kind, size and mtime; they are kept, so [`Store::meta`] of a
///   listed entry costs no request (a new listing of the folder replaces them; see
///   [`RemoteStore::forget`]). A `meta` of a path not listed is one `HEAD` (plus a listing of its
///   parent when it is a folder, for the folder's mtime).
/// - **Links**: VFS cannot tell a link from what it points to (Kudu follows links, as .NET does),
///   so this store never reports [`EntryKind::Symlink`]: an entry is what Kudu itself sees, which
///   is what a diagnosis of Kudu's behaviour needs. A link Kudu cannot read shows as a read error.
/// - **Reads**: [`Store::read_head`] and [`Store::read_tail`] send a `Range`. Windows Kudu answers
///   206 with only those bytes; KuduLite ignores `Range` and sends the whole file (gzipped), which
///   is streamed keeping only the bytes asked for, within [`super::HttpOptions::max_body_bytes`].
/// - **ETags**: every read and `HEAD` keeps the file's ETag ([`Bytes::etag`],
///   [`RemoteStore::etag`]), for writes guarded with `If-Match`. Kudu's ETag is the file's
///   last-write time in .NET ticks, which also gives the exact mtime of what was read.
/// - **Time**: [`RemoteStore::server_now`] is the site's clock (its `Date` header), by which a
///   Linux lock expires.
/// - **Concurrency**: `Send + Sync`; calls from several threads run at once, at most
///   [`Store::parallelism`] requests in flight, on kept-alive connections.
/// - **Instances**: requests go to one instance: the one `--instance` names
///   ([`RemoteStore::pinned_to`]), else the one that answered the first request (its
///   `ARRAffinity` cookie is kept for the rest of the run).
#[derive(Clone)]
pub struct RemoteStore {
    shared: Arc<Shared>,
    affinity: Arc<Affinity>,
}

impl std::fmt::Debug for RemoteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteStore")
            .field("site", self.site())
            .field("credentials", &self.credentials())
            .field("instance", &self.instance())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

struct Shared {
    scm: ScmReader,
    /// What listings (and reads) said about each entry, by parent folder (`None`: the home).
    entries: RwLock<HashMap<Option<RelPath>, HashMap<String, Meta>>>,
    etags: RwLock<HashMap<RelPath, String>>,
    platform: OnceLock<Platform>,
    /// ARM and the site it resolved (`--app`): it names the instances, so the holder of a Windows
    /// lock can be asked even when another instance answered first.
    arm: Option<(super::arm::Arm, super::arm::SiteRef)>,
}

/// Kudu's own process on one instance, as `GET /api/processes/0` shows it (Windows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KuduProcess {
    /// The process id.
    pub id: u64,
    /// The process name (`w3wp`).
    pub name: String,
    /// The instance that answered (its `ARRAffinity` name), when known.
    pub instance: Option<String>,
    /// `WEBSITE_INSTANCE_ID` of that instance, when the answer has it (a Windows lock file's
    /// `InstanceId` is its first 6 characters).
    pub website_instance_id: Option<String>,
    /// The files Kudu holds open there (local paths, e.g. `D:\home\site\locks\deployments.lock`).
    pub open_file_handles: Vec<String>,
}

impl KuduProcess {
    /// Whether Kudu holds `path` (relative to the home) open: proof that a Windows lock file is
    /// held, which its bytes alone cannot give.
    #[must_use]
    pub fn holds(&self, path: &RelPath) -> bool {
        let wanted = format!("/home/{}", path.as_str().to_ascii_lowercase());
        self.open_file_handles.iter().any(|h| {
            let h = h.replace('\\', "/").to_ascii_lowercase();
            h.ends_with(&wanted)
        })
    }
}

impl RemoteStore {
    /// A store reading `site` with `credentials`, through `http` (whose options set the
    /// concurrency, timeouts, retries and caps). `instance` pins every request to that instance.
    /// Nothing is sent until the first call.
    #[must_use]
    pub fn new(
        http: &HttpClient,
        site: SiteUrl,
        credentials: Credentials,
        instance: Option<String>,
    ) -> RemoteStore {
        RemoteStore {
            shared: Arc::new(Shared {
                scm: ScmReader::new(http.clone(), site, credentials),
                entries: RwLock::new(HashMap::new()),
                etags: RwLock::new(HashMap::new()),
                platform: OnceLock::new(),
                arm: None,
            }),
            affinity: Arc::new(Affinity::new(instance)),
        }
    }

    /// The store, able to find the instance that holds a Windows lock through `arm`'s list of
    /// `site`'s instances (read-only: `GET .../instances`). Call it first, before the store is cloned.
    #[must_use]
    pub fn with_arm(mut self, arm: super::arm::Arm, site: super::arm::SiteRef) -> RemoteStore {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.arm = Some((arm, site));
        }
        self
    }

    /// The same store (client, counters, metadata and ETags) with every request pinned to
    /// `instance`: for reading Kudu's process on the instance that holds a lock.
    #[must_use]
    pub fn pinned_to(&self, instance: &str) -> RemoteStore {
        RemoteStore {
            shared: Arc::clone(&self.shared),
            affinity: Arc::new(Affinity::new(Some(instance.to_owned()))),
        }
    }

    /// The SCM site read.
    #[must_use]
    pub fn site(&self) -> &SiteUrl {
        self.shared.scm.site()
    }

    /// The credentials sent (they show no secret).
    #[must_use]
    pub fn credentials(&self) -> Credentials {
        self.shared.scm.credentials()
    }

    /// Renews an Entra token that the site refuses (401) once it has expired, from the same
    /// source in `env` (workload identity, GitHub OIDC or `az`), and sends the read again: a long
    /// wait outlives a token. Other credentials are never renewed. Set it once, before reading.
    pub fn renew_tokens_from(&self, env: Env) {
        let source = self.credentials().source();
        if !matches!(
            source,
            CredentialSource::WorkloadIdentity
                | CredentialSource::GithubOidc
                | CredentialSource::AzureCli
        ) {
            return;
        }
        let http = self.shared.scm.http().clone();
        self.shared.scm.set_refresh(Box::new(move || {
            let (fresh, _) = super::credentials::arm_credentials(&http, &env)?;
            if fresh.source() == source {
                Ok(fresh)
            } else {
                Err(Error::CredentialFailed {
                    provider: source.describe(),
                    path: None,
                    url: None,
                    reason: "the token expired and its source is no longer configured".to_owned(),
                })
            }
        }));
    }

    /// The instance requests go to: the pinned one, or the one learned from the first answer.
    #[must_use]
    pub fn instance(&self) -> Option<String> {
        self.affinity.current()
    }

    /// Requests made (retries included; ARM and token requests of the same client too), bytes
    /// received and wall time.
    #[must_use]
    pub fn stats(&self) -> RequestStats {
        self.shared.scm.http().stats()
    }

    /// The number of HTTP requests made so far.
    #[must_use]
    pub fn requests_made(&self) -> u64 {
        self.stats().requests
    }

    /// The last `Date` the site sent.
    #[must_use]
    pub fn server_date(&self) -> Option<DateTime<Utc>> {
        self.shared.scm.last_date().map(|(date, _)| date)
    }

    /// The site's clock now: its last `Date` plus the time since it was received (`None` before
    /// any answer). A Linux lock expires by this clock, not the local one.
    #[must_use]
    pub fn server_now(&self) -> Option<DateTime<Utc>> {
        let (date, at) = self.shared.scm.last_date()?;
        let since = chrono::Duration::from_std(at.elapsed()).ok()?;
        Some(date + since)
    }

    /// The ETag of the version of `path` last read (or `HEAD`ed), if any.
    #[must_use]
    pub fn etag(&self, path: &RelPath) -> Option<String> {
        self.shared
            .etags
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(path)
            .cloned()
    }

    /// The metadata kept for `path` from a listing or a read, without a request.
    #[must_use]
    pub fn cached_meta(&self, path: &RelPath) -> Option<Meta> {
        let (parent, name) = split(path);
        self.shared
            .entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&parent)?
            .get(name)
            .cloned()
    }

    /// Forgets the metadata kept from listings and reads (ETags stay): call it before scanning
    /// again (a wait's next poll), so `meta` asks the site again.
    pub fn forget(&self) {
        self.shared
            .entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Forgets everything known of `path` and below it (metadata and ETags) after a write changed
    /// it, so the next question about it asks the site.
    pub(crate) fn invalidate(&self, path: &RelPath) {
        self.forget();
        let below = format!("{path}/");
        self.shared
            .etags
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|p, _| p != path && !p.as_str().starts_with(&below));
    }

    /// The connection to the SCM site and the instance affinity this store sends with: a repair's
    /// writes (`super::writer`) reach the same instance with the same credentials.
    pub(crate) fn channel(&self) -> (&ScmReader, &Affinity) {
        (&self.shared.scm, &self.affinity)
    }

    /// The platform the site runs on, as the local paths of its listings show (`D:\home\...` or
    /// `/home/...`); `None` before a listing.
    #[must_use]
    pub fn platform(&self) -> Option<Platform> {
        self.shared.platform.get().copied()
    }

    /// Kudu's process on this store's instance (`GET /api/processes/0`), with the files it holds
    /// open. `Ok(None)` on Linux, where KuduLite does not support it.
    ///
    /// # Errors
    /// `AUTH_FAILED`, `HTTP_ERROR`, `BAD_RESPONSE`, `INSTANCE_UNAVAILABLE` (pinned to an instance
    /// that did not answer) and the network errors.
    pub fn kudu_process(&self) -> Result<Option<KuduProcess>> {
        let scm = &self.shared.scm;
        let read = |answer: super::http::Answer| match answer.status {
            200 => Ok(Some((
                answer.url.clone(),
                answer.read_all(4 * 1024 * 1024)?,
            ))),
            400 => Ok(None),
            _ => Err(scm.status_error(answer)),
        };
        let Some((url, body)) = scm.read_with(
            ReadMethod::Get,
            Route::KuduProcess,
            None,
            &self.affinity,
            read,
        )?
        else {
            return Ok(None);
        };
        #[derive(Deserialize)]
        struct Raw {
            id: u64,
            #[serde(default)]
            name: String,
            #[serde(default)]
            open_file_handles: Vec<String>,
            #[serde(default)]
            environment_variables: HashMap<String, serde_json::Value>,
        }
        let raw: Raw = serde_json::from_slice(&body).map_err(|_| Error::BadResponse {
            url,
            reason: "not Kudu's process JSON".to_owned(),
        })?;
        Ok(Some(KuduProcess {
            id: raw.id,
            name: raw.name,
            instance: self.instance(),
            website_instance_id: raw
                .environment_variables
                .get("WEBSITE_INSTANCE_ID")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            open_file_handles: raw.open_file_handles,
        }))
    }

    fn remember(&self, path: &RelPath, meta: &Meta, etag: Option<&str>) {
        let (parent, name) = split(path);
        self.shared
            .entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(parent)
            .or_default()
            .insert(name.to_owned(), meta.clone());
        if let Some(etag) = etag {
            self.shared
                .etags
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(path.clone(), etag.to_owned());
        }
    }

    /// Lists a folder (`None`: the home) and keeps what it says.
    fn list_dir(&self, path: Option<&RelPath>) -> Result<Vec<DirEntry>> {
        let scm = &self.shared.scm;
        let (url, body) = scm.read_with(
            ReadMethod::Get,
            Route::VfsDir(path),
            None,
            &self.affinity,
            |answer| {
                match answer.status {
                    200 => {}
                    404 => return Err(not_found("list", path)),
                    307 | 301 | 302 | 308
                        if path.is_some_and(|p| is_toggle(&answer, scm, p, false)) =>
                    {
                        return Err(wrong_kind("list", path, "not a directory"));
                    }
                    _ => return Err(scm.status_error(answer)),
                }
                let url = answer.url.clone();
                Ok((url, answer.read_all(u64::MAX)?))
            },
        )?;
        let listed: Vec<VfsEntry> =
            serde_json::from_slice(&body).map_err(|e| Error::BadResponse {
                url: url.clone(),
                reason: format!("the listing is not VFS JSON ({e})"),
            })?;
        let mut entries = Vec::with_capacity(listed.len());
        let mut metas = HashMap::with_capacity(listed.len());
        for item in listed {
            if self.shared.platform.get().is_none()
                && let Some(platform) = platform_of(item.path.as_deref())
            {
                let _ = self.shared.platform.set(platform);
            }
            let is_dir = item.mime.as_deref() == Some("inode/directory")
                || item.href.as_deref().is_some_and(|h| h.ends_with('/'));
            let kind = if is_dir {
                EntryKind::Dir
            } else {
                EntryKind::File
            };
            let meta = Meta {
                kind: kind.clone(),
                size: if is_dir { 0 } else { item.size.unwrap_or(0) },
                modified: item.mtime.as_deref().and_then(parse_time),
            };
            metas.insert(item.name.clone(), meta);
            entries.push(DirEntry {
                name: item.name,
                utf8: true,
                kind,
            });
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        self.shared
            .entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(path.cloned(), metas);
        Ok(entries)
    }

    /// Metadata of a file from an answer's headers (size given by the caller).
    fn file_meta(
        &self,
        answer_etag: Option<&str>,
        last_modified: Option<&str>,
        size: u64,
        path: &RelPath,
    ) -> Meta {
        let modified = answer_etag
            .and_then(etag_time)
            .or_else(|| {
                last_modified
                    .and_then(|d| DateTime::parse_from_rfc2822(d.trim()).ok())
                    .map(|d| d.with_timezone(&Utc))
            })
            .or_else(|| self.cached_meta(path).and_then(|m| m.modified));
        Meta {
            kind: EntryKind::File,
            size,
            modified,
        }
    }

    /// `HEAD` of a file: its metadata and ETag; `Ok(None)` when missing; `Err` with the answer's
    /// status when it is a folder (the caller lists its parent).
    fn head(&self, path: &RelPath) -> Result<HeadOutcome> {
        let scm = &self.shared.scm;
        let answer = scm.read(ReadMethod::Head, Route::VfsFile(path), None, &self.affinity)?;
        match answer.status {
            200 => {
                let etag = answer.header("etag").map(str::to_owned);
                let Some(size) = answer.content_length() else {
                    return Ok(HeadOutcome::NoSize);
                };
                let meta =
                    self.file_meta(etag.as_deref(), answer.header("last-modified"), size, path);
                self.remember(path, &meta, etag.as_deref());
                Ok(HeadOutcome::File(meta))
            }
            404 => Ok(HeadOutcome::Missing),
            307 | 301 | 302 | 308 if is_toggle(&answer, scm, path, true) => Ok(HeadOutcome::Dir),
            _ => Err(scm.status_error(answer)),
        }
    }

    /// A folder's metadata, from its parent's listing.
    fn dir_meta(&self, path: &RelPath) -> Result<Option<Meta>> {
        let parent = path.parent();
        match self.list_dir(parent.as_ref()) {
            Ok(_) => Ok(self.cached_meta(path)),
            // The parent cannot be listed (access): the folder is there, its mtime unknown.
            Err(_) => Ok(Some(Meta {
                kind: EntryKind::Dir,
                size: 0,
                modified: None,
            })),
        }
    }

    /// One read of at most `cap` bytes from the start or (`tail`) the end of a file.
    fn read(&self, path: &RelPath, cap: u64, tail: bool) -> Result<Bytes> {
        let scm = &self.shared.scm;
        if cap == 0 {
            return match self.head(path)? {
                HeadOutcome::File(meta) => Ok(Bytes {
                    data: Vec::new(),
                    offset: meta.size,
                    etag: self.etag(path),
                    meta,
                }),
                HeadOutcome::Missing => Err(not_found("read", Some(path))),
                HeadOutcome::Dir => Err(wrong_kind("read", Some(path), "not a regular file")),
                HeadOutcome::NoSize => Err(Error::BadResponse {
                    url: scm.url(Route::VfsFile(path)),
                    reason: "HEAD gave no Content-Length".to_owned(),
                }),
            };
        }
        let range = if tail {
            format!("bytes=-{cap}")
        } else {
            format!("bytes=0-{}", cap - 1)
        };
        let read = |answer: super::http::Answer| {
            let etag = answer.header("etag").map(str::to_owned);
            let last_modified = answer.header("last-modified").map(str::to_owned);
            let url = answer.url.clone();
            let (data, offset, size) = match answer.status {
                // Windows: only the bytes asked for.
                206 => {
                    let (from, size) = answer
                        .header("content-range")
                        .and_then(content_range)
                        .ok_or_else(|| Error::BadResponse {
                            url: url.clone(),
                            reason: "a 206 without a usable Content-Range".to_owned(),
                        })?;
                    let data = answer.read_all(cap)?;
                    (data, from, size)
                }
                // KuduLite (or a Range not honoured): the whole file.
                200 if tail => {
                    let (data, size) = answer.read_tail(cap)?;
                    let offset = size.saturating_sub(data.len() as u64);
                    (data, offset, size)
                }
                200 => {
                    let (data, size) = answer.read_head(cap)?;
                    (data, 0, size)
                }
                // Windows, empty file: no range overlaps it.
                416 => {
                    let size = answer
                        .header("content-range")
                        .and_then(|r| r.trim().strip_prefix("bytes */"))
                        .and_then(|n| n.trim().parse::<u64>().ok());
                    match size {
                        Some(0) => (Vec::new(), 0, 0),
                        _ => return Err(scm.status_error(answer)),
                    }
                }
                404 => return Err(not_found("read", Some(path))),
                307 | 301 | 302 | 308 if is_toggle(&answer, scm, path, true) => {
                    return Err(wrong_kind("read", Some(path), "not a regular file"));
                }
                _ => return Err(scm.status_error(answer)),
            };
            Ok((data, offset, size, etag, last_modified))
        };
        let (data, offset, size, etag, last_modified) = scm.read_with(
            ReadMethod::Get,
            Route::VfsFile(path),
            Some(range),
            &self.affinity,
            read,
        )?;
        let meta = self.file_meta(etag.as_deref(), last_modified.as_deref(), size, path);
        self.remember(path, &meta, etag.as_deref());
        Ok(Bytes {
            data,
            offset,
            meta,
            etag,
        })
    }
}

enum HeadOutcome {
    File(Meta),
    Dir,
    Missing,
    /// 200 without `Content-Length` (a proxy that recompresses).
    NoSize,
}

impl Store for RemoteStore {
    fn meta(&self, path: &RelPath) -> Result<Option<Meta>> {
        if let Some(meta) = self.cached_meta(path) {
            return Ok(Some(meta));
        }
        match self.head(path)? {
            HeadOutcome::File(meta) => Ok(Some(meta)),
            HeadOutcome::Missing => Ok(None),
            HeadOutcome::Dir => self.dir_meta(path),
            HeadOutcome::NoSize => {
                self.list_dir(path.parent().as_ref())?;
                Ok(self.cached_meta(path))
            }
        }
    }

    fn list(&self, path: &RelPath) -> Result<Vec<DirEntry>> {
        self.list_dir(Some(path))
    }

    fn read_head(&self, path: &RelPath, cap: u64) -> Result<Bytes> {
        self.read(path, cap, false)
    }

    fn read_tail(&self, path: &RelPath, cap: u64) -> Result<Bytes> {
        self.read(path, cap, true)
    }

    /// Asks Kudu's process on the instance this store reaches which files it holds open. Only the Kudu
    /// of the lock's own instance (`InstanceId`, the first 6 characters of its `WEBSITE_INSTANCE_ID`)
    /// can hold it, so the answer of another instance proves nothing. Then, when the store knows ARM
    /// (`--app`) and is not pinned, the instance whose name starts with the lock's `InstanceId` is
    /// asked instead; else `None` (pin the holder's instance with `--instance` to ask it). `None` on
    /// Linux too.
    fn held_by_kudu(&self, path: &RelPath, instance: Option<&str>) -> Result<Option<HeldProof>> {
        let Some(process) = self.kudu_process()? else {
            return Ok(None);
        };
        let is_holder = |id: &str, want: &str| {
            id.to_ascii_lowercase()
                .starts_with(&want.to_ascii_lowercase())
        };
        if let (Some(want), Some(answering)) = (instance, process.website_instance_id.as_deref())
            && !is_holder(answering, want)
        {
            let Some((arm, site)) = &self.shared.arm else {
                return Ok(None);
            };
            let holder = arm
                .instances(site)?
                .into_iter()
                .find(|name| is_holder(name, want));
            return match holder {
                // `--instance` pins every request of the run: then the holder is not asked.
                Some(name) if !self.affinity.is_pinned() => {
                    // Its answer is judged as this one was; no further ARM round.
                    let pinned = self.pinned_to(&name);
                    let Some(process) = pinned.kudu_process()? else {
                        return Ok(None);
                    };
                    Ok(process
                        .website_instance_id
                        .as_deref()
                        .is_some_and(|id| is_holder(id, want))
                        .then(|| HeldProof {
                            held: process.holds(path),
                            instance: name,
                        }))
                }
                _ => Ok(None),
            };
        }
        let held = process.holds(path);
        Ok(Some(HeldProof {
            held,
            instance: process
                .instance
                .or(process.website_instance_id)
                .unwrap_or_else(|| "?".to_owned()),
        }))
    }

    /// A thread per read, up to four per request the client lets fly: each read waits one round trip,
    /// and the client's limit on requests in flight queues the threads, so the next read leaves the
    /// moment one slot frees (a fixed share of reads per thread would wait for the slowest share).
    fn parallelism(&self, reads: usize) -> usize {
        let slots = self.shared.scm.http().options().max_in_flight;
        reads.clamp(1, 4 * slots)
    }

    fn platform_hint(&self) -> Option<Platform> {
        self.platform()
    }
}

/// One entry of a VFS listing (`VfsStatEntry`).
#[derive(Deserialize)]
struct VfsEntry {
    name: String,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    mtime: Option<String>,
    #[serde(default)]
    mime: Option<String>,
    #[serde(default)]
    href: Option<String>,
    #[serde(default)]
    path: Option<String>,
}

/// The parent folder and name of a path.
fn split(path: &RelPath) -> (Option<RelPath>, &str) {
    (path.parent(), path.file_name())
}

/// Whether a redirect is Kudu's between a file URL and its folder form (`to_dir`: we asked for
/// a file and it is a folder).
fn is_toggle(answer: &super::http::Answer, scm: &ScmReader, path: &RelPath, to_dir: bool) -> bool {
    let Some(location) = answer.header("location") else {
        return false;
    };
    let location = location.split(['?', '#']).next().unwrap_or(location);
    let file = Route::VfsFile(path);
    let dir = Route::VfsDir(Some(path));
    let wanted = if to_dir { scm.url(dir) } else { scm.url(file) };
    let wanted_path = wanted
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_owned()))
        .unwrap_or_default();
    // Kudu writes the absolute URL with the Host it was sent; compare the path part.
    let got_path = match location.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => location,
    };
    got_path.eq_ignore_ascii_case(&wanted_path)
}

fn rel_display(path: Option<&RelPath>) -> PathBuf {
    PathBuf::from(path.map_or("", RelPath::as_str))
}

fn not_found(op: &'static str, path: Option<&RelPath>) -> Error {
    Error::io(
        op,
        rel_display(path),
        io::Error::new(io::ErrorKind::NotFound, "not found on the site"),
    )
}

fn wrong_kind(op: &'static str, path: Option<&RelPath>, what: &str) -> Error {
    Error::io(
        op,
        rel_display(path),
        io::Error::new(io::ErrorKind::InvalidInput, what.to_owned()),
    )
}

/// `bytes a-b/len` → `(a, len)`.
fn content_range(value: &str) -> Option<(u64, u64)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (span, len) = rest.split_once('/')?;
    let (from, _) = span.split_once('-')?;
    Some((from.trim().parse().ok()?, len.trim().parse().ok()?))
}

/// The last-write time in Kudu's ETag: the quoted hex of the 8 little-endian bytes of .NET ticks.
fn etag_time(etag: &str) -> Option<DateTime<Utc>> {
    let hex = etag.trim().strip_prefix("W/").unwrap_or(etag.trim());
    let hex = hex.strip_prefix('"')?.strip_suffix('"')?;
    if hex.len() != 16 {
        return None;
    }
    let mut bytes = [0u8; 8];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    let ticks = i64::from_le_bytes(bytes);
    let since_epoch = ticks.checked_sub(UNIX_EPOCH_TICKS)?;
    // Before 1980 or after 2200: not a file time, not Kudu's ETag.
    if !(315_532_800 * 10_000_000..7_258_118_400 * 10_000_000).contains(&since_epoch) {
        return None;
    }
    Utc.timestamp_opt(
        since_epoch.div_euclid(10_000_000),
        u32::try_from(since_epoch.rem_euclid(10_000_000) * 100).ok()?,
    )
    .single()
}

/// A listing's time: ISO 8601 with an offset (Json.NET's `DateTimeOffset`), or without one (UTC).
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text.trim()) {
        return Some(t.with_timezone(&Utc));
    }
    chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|n| n.and_utc())
}

/// The platform a listing's local path shows.
fn platform_of(path: Option<&str>) -> Option<Platform> {
    let path = path?;
    let b = path.as_bytes();
    if b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'\\' {
        Some(Platform::Windows)
    } else if path.starts_with('/') {
        Some(Platform::Linux)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_give_the_exact_mtime() {
        // 2024-09-04T10:33:19.8815468Z in ticks, little-endian hex.
        let ticks: i64 = 638_610_427_998_815_468;
        let hex: String = ticks
            .to_le_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let t = etag_time(&format!("\"{hex}\"")).unwrap();
        assert_eq!(t.to_rfc3339(), "2024-09-04T10:33:19.881546800+00:00");
        assert_eq!(etag_time("\"abc\""), None);
        assert_eq!(etag_time("\"0000000000000000\""), None);
    }

    #[test]
    fn listing_times_and_ranges() {
        assert_eq!(
            parse_time("2024-09-04T10:33:19.8815468+00:00")
                .unwrap()
                .to_rfc3339(),
            "2024-09-04T10:33:19.881546800+00:00"
        );
        assert!(parse_time("2024-09-04T10:33:19").is_some());
        assert_eq!(content_range("bytes 10-19/20"), Some((10, 20)));
        assert_eq!(content_range("bytes */20"), None);
        assert_eq!(platform_of(Some(r"D:\home\site")), Some(Platform::Windows));
        assert_eq!(platform_of(Some("/home/site")), Some(Platform::Linux));
    }

    #[test]
    fn held_handles_match_home_paths() {
        let p = KuduProcess {
            id: 1,
            name: "w3wp".into(),
            instance: None,
            website_instance_id: None,
            open_file_handles: vec![r"D:\home\site\locks\deployments.lock".into()],
        };
        assert!(p.holds(&RelPath::new("site/locks/deployments.lock").unwrap()));
        assert!(!p.holds(&RelPath::new("site/locks/status.lock").unwrap()));
    }
}

//! Builders that write Kudu homes in the exact bytes Kudu writes (feature `fixture`).
//!
//! Used by the tests, the benchmarks' generator, the fuzzers and the example homes, so that every one of
//! them exercises the same files a real site has. Times are always given by the caller: a fixture built
//! "at" a time is byte-for-byte reproducible.

use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, TimeDelta, Utc};

use crate::dotnet_time::format_round_trip;
use crate::lock::LINUX_LOCK_LIFETIME;
use crate::platform::Platform;
use crate::status_xml::{self, DeployStatus, StatusXml};

/// A Kudu home on disk, in a temporary directory or at a chosen path.
#[derive(Debug)]
pub struct HomeBuilder {
    root: PathBuf,
    platform: Platform,
    _temp: Option<tempfile::TempDir>,
}

/// One line of a `log.log`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Entry time.
    pub time: DateTime<Utc>,
    /// Message (commas are encoded on write, as Kudu does).
    pub message: String,
    /// 0 message, 1 warning, 2 error.
    pub kind: u8,
    /// True for a child (detail) line.
    pub child: bool,
}

impl LogLine {
    /// A top-level message line.
    #[must_use]
    pub fn message(time: DateTime<Utc>, message: &str) -> Self {
        LogLine {
            time,
            message: message.to_owned(),
            kind: 0,
            child: false,
        }
    }
}

/// Where a deployment is in its life, for [`status_doc`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// A `temp-` record receiving changes (`Pending`, incomplete).
    Receiving,
    /// A real record being built (`Building`, incomplete).
    Building,
    /// Finished successfully.
    Success,
    /// Finished with a failure, never having succeeded.
    Failed,
}

/// A `status.xml` document with the values Kudu writes at `stage`, received at `at`.
#[must_use]
pub fn status_doc(id: &str, stage: Stage, at: DateTime<Utc>) -> StatusXml {
    let start = at + TimeDelta::milliseconds(800);
    let end = at + TimeDelta::seconds(95);
    let temp = stage == Stage::Receiving;
    StatusXml {
        id: id.to_owned(),
        author: Some("N/A".to_owned()),
        deployer: Some("Push-Deployer".to_owned()),
        author_email: Some("N/A".to_owned()),
        message: Some(if temp {
            "Deploying from pushed zip file".to_owned()
        } else {
            "Created via a push deployment".to_owned()
        }),
        progress: Some(match stage {
            Stage::Receiving => "Fetching changes.".to_owned(),
            Stage::Building => "Running deployment command...".to_owned(),
            Stage::Success | Stage::Failed => String::new(),
        }),
        status: match stage {
            Stage::Receiving => DeployStatus::Pending,
            Stage::Building => DeployStatus::Building,
            Stage::Success => DeployStatus::Success,
            Stage::Failed => DeployStatus::Failed,
        },
        status_text: Some(match stage {
            Stage::Receiving => "Receiving changes.".to_owned(),
            Stage::Building => format!("Building and Deploying '{id}'."),
            Stage::Success | Stage::Failed => String::new(),
        }),
        last_success_end_time: (stage == Stage::Success).then_some(end),
        received_time: at,
        start_time: start,
        end_time: matches!(stage, Stage::Success | Stage::Failed).then_some(end),
        complete: matches!(stage, Stage::Success | Stage::Failed),
        is_temp: temp,
        is_readonly: !temp,
        project_type: None,
        vsproject_id: None,
        missing: Vec::new(),
        status_unrecognised: None,
    }
}

impl HomeBuilder {
    /// An empty home (with `site/`) in a new temporary directory, removed on drop.
    ///
    /// # Errors
    /// When the directory cannot be created.
    pub fn new(platform: Platform) -> io::Result<Self> {
        let temp = tempfile::tempdir()?;
        let mut b = HomeBuilder::at(temp.path(), platform)?;
        b._temp = Some(temp);
        Ok(b)
    }

    /// A home at `root` (created if missing), kept after the builder is dropped.
    ///
    /// # Errors
    /// When the directory cannot be created.
    pub fn at(root: &Path, platform: Platform) -> io::Result<Self> {
        fs_err::create_dir_all(root.join("site"))?;
        Ok(HomeBuilder {
            root: root.to_path_buf(),
            platform,
            _temp: None,
        })
    }

    /// The home directory.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The platform whose bytes are written.
    #[must_use]
    pub fn platform(&self) -> Platform {
        self.platform
    }

    /// Writes `bytes` to `rel` (a `/`-separated path under the home), creating parent folders.
    ///
    /// # Errors
    /// On any I/O failure.
    pub fn file(&self, rel: &str, bytes: impl AsRef<[u8]>) -> io::Result<&Self> {
        let path = self.full(rel);
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent)?;
        }
        fs_err::write(path, bytes)?;
        Ok(self)
    }

    /// Creates the folder `rel`.
    ///
    /// # Errors
    /// On any I/O failure.
    pub fn dir(&self, rel: &str) -> io::Result<&Self> {
        fs_err::create_dir_all(self.full(rel))?;
        Ok(self)
    }

    /// Sets the last write time of `rel` (file or folder).
    ///
    /// # Errors
    /// On any I/O failure.
    pub fn mtime(&self, rel: &str, t: DateTime<Utc>) -> io::Result<&Self> {
        let f = fs_err::File::open(self.full(rel))?;
        f.file().set_modified(SystemTime::from(t))?;
        Ok(self)
    }

    /// The absolute path of `rel`.
    #[must_use]
    pub fn full(&self, rel: &str) -> PathBuf {
        rel.split('/').fold(self.root.clone(), |p, c| p.join(c))
    }

    /// The common folders of a site: `wwwroot` with Kudu's placeholder page, `deployments`, `locks`, and on
    /// Linux the idle lock files KuduLite never deletes. Everything is dated `at`.
    ///
    /// # Errors
    /// On any I/O failure.
    pub fn site(&self, at: DateTime<Utc>) -> io::Result<&Self> {
        self.file(
            "site/wwwroot/hostingstart.html",
            "<html><body>Your app service is up and running.</body></html>\n",
        )?;
        self.dir("site/deployments")?;
        self.dir("site/locks")?;
        if self.platform == Platform::Linux {
            self.idle_lock("status.lock", "Updating deployment status", at)?;
            self.idle_lock("hooks.lock", "Getting WebHooks", at)?;
            self.idle_lock("sshkey.lock", "Getting SSH key", at)?;
        }
        Ok(self)
    }

    /// A healthy site: [`site`](Self::site), one successful deployment `id` received at `at` that is
    /// `active`, and the `pending` marker.
    ///
    /// # Errors
    /// On any I/O failure.
    pub fn healthy(&self, id: &str, at: DateTime<Utc>) -> io::Result<&Self> {
        self.site(at)?;
        self.record(&status_doc(id, Stage::Success, at), true)?;
        self.active(id.as_bytes(), at + TimeDelta::seconds(96))?;
        self.pending(at)
    }

    /// Writes a record folder for `doc`: `status.xml` in this platform's bytes (and on Windows
    /// `status_complete.xml` when complete), a `log.log` in Kudu's format, and a `manifest` when asked.
    /// Files are dated at the record's last event (its end time, else its start time).
    ///
    /// # Errors
    /// On any I/O failure.
    pub fn record(&self, doc: &StatusXml, manifest: bool) -> io::Result<&Self> {
        let dir = format!("site/deployments/{}", doc.id);
        let last = doc.end_time.unwrap_or(doc.start_time);
        let bytes = status_xml::write(doc, self.platform);
        self.file(&format!("{dir}/status.xml"), &bytes)?;
        self.mtime(&format!("{dir}/status.xml"), last)?;
        if self.platform == Platform::Windows && doc.complete {
            self.file(&format!("{dir}/status_complete.xml"), &bytes)?;
            self.mtime(&format!("{dir}/status_complete.xml"), last)?;
        }
        self.log(&doc.id, &default_log(doc))?;
        self.mtime(&format!("{dir}/log.log"), last)?;
        if manifest {
            self.file(
                &format!("{dir}/manifest"),
                "hostingstart.html\nindex.js\npackage.json\n",
            )?;
            self.mtime(&format!("{dir}/manifest"), last)?;
        }
        self.mtime(&dir, last)
    }

    /// Writes `site/deployments/<id>/log.log` with `lines`, in Kudu's structured-text format.
    ///
    /// # Errors
    /// On any I/O failure.
    pub fn log(&self, id: &str, lines: &[LogLine]) -> io::Result<&Self> {
        self.file(
            &format!("site/deployments/{id}/log.log"),
            log_text(lines, self.platform),
        )
    }

    /// Writes `site/deployments/active` with exactly `bytes`, dated `at`.
    ///
    /// # Errors
    /// On any I/O failure.
    pub fn active(&self, bytes: &[u8], at: DateTime<Utc>) -> io::Result<&Self> {
        self.file("site/deployments/active", bytes)?;
        self.mtime("site/deployments/active", at)
    }

    /// Writes the 0-byte `site/deployments/pending` marker, dated `at`.
    ///
    /// # Errors
    /// On any I/O failure.
    pub fn pending(&self, at: DateTime<Utc>) -> io::Result<&Self> {
        self.file("site/deployments/pending", b"")?;
        self.mtime("site/deployments/pending", at)
    }

    /// KuduLite's deployment lock taken at `acquired` for `op`: `site/locks/deployment/info.lock` with
    /// `lockExpiry` = `acquired` + 1500 s, in the compact camelCase JSON `AllSafeLinuxLock` writes.
    ///
    /// # Errors
    /// On any I/O failure.
    pub fn linux_lock(&self, op: &str, acquired: DateTime<Utc>) -> io::Result<&Self> {
        let expiry = acquired + LINUX_LOCK_LIFETIME;
        let json = format!(
            "{{\"lockExpiry\":\"{}\",\"heldByPID\":57,\"heldByTID\":23,\"heldByOp\":\"{op}\",\"heldByWorker\":\"5f2c0b7e1d3a9c4b8e6f0a2d4c6e8f0a1b3d5f7092a4c6e8f0a1b3d5f7092a4c\"}}",
            json_time(expiry)
        );
        self.file("site/locks/deployment/info.lock", json)?;
        self.mtime("site/locks/deployment/info.lock", acquired)?;
        self.mtime("site/locks/deployment", acquired)
    }

    /// Windows Kudu's deployment lock file `site/locks/deployments.lock` for `op`, acquired at `acquired`
    /// (indented `OperationLockInfo` JSON, CRLF, no BOM).
    ///
    /// # Errors
    /// On any I/O failure.
    pub fn windows_lock(&self, op: &str, acquired: DateTime<Utc>) -> io::Result<&Self> {
        self.file(
            "site/locks/deployments.lock",
            operation_lock_json(op, acquired, "\r\n"),
        )?;
        self.mtime("site/locks/deployments.lock", acquired)
    }

    /// An idle lock file (`status.lock`, `hooks.lock`, `sshkey.lock`) holding the last acquirer's JSON,
    /// with this platform's line endings.
    ///
    /// # Errors
    /// On any I/O failure.
    pub fn idle_lock(&self, name: &str, op: &str, at: DateTime<Utc>) -> io::Result<&Self> {
        let rel = format!("site/locks/{name}");
        self.file(&rel, operation_lock_json(op, at, self.platform.newline()))?;
        self.mtime(&rel, at)
    }
}

/// The text of a `log.log` holding `lines`, in Kudu's structured-text format (spec §6.1) with this
/// platform's newlines: what [`HomeBuilder::log`] writes, and what the benchmarks' generator writes directly.
#[must_use]
pub fn log_text(lines: &[LogLine], platform: Platform) -> String {
    let mut out = String::with_capacity(lines.len() * 128);
    for (i, l) in lines.iter().enumerate() {
        let guid = if l.child { String::new() } else { fake_guid(i) };
        out.push_str(&crate::log::entry_line(
            usize::from(l.child),
            l.time,
            &l.message,
            &guid,
            crate::log::LogEntryType::from_number(i64::from(l.kind)),
            platform.newline(),
        ));
    }
    out
}

/// `OperationLockInfo` JSON as Kudu's `LockFile.WriteLockInfo` writes it.
#[must_use]
pub fn operation_lock_json(op: &str, acquired: DateTime<Utc>, nl: &str) -> String {
    format!(
        "{{{nl}  \"OperationName\": \"{op}\",{nl}  \"AcquiredDateTime\": \"{}\",{nl}  \"StackTrace\": \"   at Kudu.Core.Infrastructure.LockFile.TryLockOperation()\\r\\n   at Kudu.Services.Deployment.PushDeploymentController.PushDeployAsync()\",{nl}  \"InstanceId\": \"a1b2c3\"{nl}}}",
        format_round_trip(acquired)
    )
}

/// Json.NET's form of a UTC time: up to 7 fraction digits with trailing zeros dropped.
fn json_time(t: DateTime<Utc>) -> String {
    crate::dotnet_time::format_xs(t)
}

fn fake_guid(i: usize) -> String {
    let h = format!(
        "{:032x}",
        (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
    );
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The log Kudu writes for a record at its stage.
fn default_log(doc: &StatusXml) -> Vec<LogLine> {
    let t = doc.start_time;
    let short: String = doc.id.chars().take(10).collect();
    let mut lines = vec![LogLine::message(doc.received_time, "Fetching changes.")];
    if doc.is_temp {
        return lines;
    }
    lines.push(LogLine::message(
        t,
        &format!("Preparing deployment for commit id '{short}'."),
    ));
    lines.push(LogLine::message(
        t + TimeDelta::seconds(1),
        "Running deployment command...",
    ));
    lines.push(LogLine {
        time: t + TimeDelta::seconds(2),
        message: "Command: \"/home/site/deployments/tools/deploy.sh\"".to_owned(),
        kind: 0,
        child: true,
    });
    match doc.status {
        DeployStatus::Success => lines.push(LogLine::message(
            doc.end_time.unwrap_or(t),
            "Deployment successful.",
        )),
        DeployStatus::Failed => lines.push(LogLine {
            time: doc.end_time.unwrap_or(t),
            message: "Deployment Failed.".to_owned(),
            kind: 2,
            child: false,
        }),
        _ => {}
    }
    lines
}

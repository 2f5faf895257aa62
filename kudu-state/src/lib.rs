//! kudu-state: the deployment state Kudu keeps under `HOME/site`, as typed values.
//!
//! Azure App Service's deployment engine, Kudu (Windows) or KuduLite (Linux), keeps its locks, markers and
//! one folder per deployment on the site's shared disk. When a deployment is cancelled, crashes, or two
//! pipelines deploy at once, that state can make every later deployment fail with HTTP 409. This crate
//! reads it exactly as Kudu reads it, so a diagnosis says what Kudu will do, not what a file looks like.
//!
//! # From the top
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let home = tempfile::tempdir()?;
//! std::fs::create_dir_all(home.path().join("site/deployments"))?;
//! std::fs::write(home.path().join("site/deployments/pending"), b"")?;
//!
//! let now = chrono::Utc::now();
//! let (snapshot, diagnosis) =
//!     kudu_state::diagnose_home(home.path(), now, &kudu_state::HomeOptions::default())?;
//! assert!(snapshot.deployments.as_ref().is_some_and(|d| d.pending.is_some()));
//! assert_eq!(diagnosis.verdict, kudu_state::Verdict::Idle);
//! # Ok(()) }
//! ```
//!
//! # Where a concept lives
//!
//! Each Kudu concept has one module with its model, how it is read, and the rules that judge it
//! (`rules`); the pipeline stages only call them.
//!
//! | concept | module |
//! |---|---|
//! | the deployment lock, idle locks, `autoswap.lock` | [`lock`] |
//! | a deployment record folder; Kudu's purge | [`record`] |
//! | `status.xml` (reader, writer, compact form) | [`status_xml`] |
//! | `log.log`, the legacy `log.xml`, a log's tail | [`log`] |
//! | `active`, `pending`, `settings.xml`, `latest.json` | [`deployments`] |
//! | Windows or Linux, and how a tree shows which | [`platform`] |
//! | .NET's date-time texts | [`dotnet_time`] |
//! | where the files are: the [`store::Store`] trait, the local file system | [`store`] |
//! | pipeline: scan → diagnose → plan / apply / undo | [`scan`], [`diagnose`], [`remediate`] |
//! | a 409 body | [`explain`] |
//! | following one deployment by id | [`track`] |
#![deny(missing_docs)]
#![forbid(unsafe_code)]
// File I/O goes through fs-err or `store::local` (see clippy.toml).
#![deny(clippy::disallowed_methods)]

mod names;

pub mod deployments;
pub mod diagnose;
pub mod dotnet_time;
pub mod error;
pub mod explain;
#[cfg(feature = "fixture")]
pub mod fixture;
pub mod lock;
pub mod log;
pub mod platform;
pub mod record;
pub mod remediate;
pub mod remote;
pub mod scan;
pub mod snapshot;
pub mod status_xml;
pub mod store;
pub mod track;
pub mod wait;

pub use diagnose::{
    DiagnoseOptions, Diagnosis, Finding, FindingCode, HomeOptions, Severity, Verdict, diagnose,
    diagnose_home, diagnose_store,
};
pub use error::{Error, Result, error_chain};
pub use platform::Platform;
pub use remediate::{ApplyOptions, ApplyReport, Plan, PlanOptions, UndoReport, apply, plan, undo};
pub use scan::{ScanOptions, scan};
pub use snapshot::Snapshot;
pub use track::{TrackEnd, TrackOptions, TrackOutcome, TrackState, track};
pub use wait::{WaitOutcome, wait_idle, wait_until_clear};

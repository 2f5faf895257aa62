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
//! let snapshot = kudu_state::scan(home.path(), &kudu_state::ScanOptions::default())?;
//! assert!(snapshot.deployments.as_ref().is_some_and(|d| d.pending.is_some()));
//! # Ok(()) }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]
// File I/O goes through fs-err or `fs` (see clippy.toml).
#![deny(clippy::disallowed_methods)]

pub mod deployments;
pub mod diagnose;
pub mod dotnet_time;
pub mod error;
pub mod explain;
#[cfg(feature = "fixture")]
pub mod fixture;
mod fs;
pub mod lock;
pub mod log_log;
pub mod platform;
pub mod record;
pub mod remediate;
pub mod remote;
pub mod scan;
pub mod snapshot;
pub mod status_doc;
pub mod status_xml;
pub mod store;
pub mod wait;

pub use diagnose::{DiagnoseOptions, Diagnosis, Finding, FindingCode, Severity, Verdict, diagnose};
pub use error::{Error, Result};
pub use platform::Platform;
pub use remediate::{ApplyOptions, ApplyReport, Plan, PlanOptions, UndoReport, apply, plan, undo};
pub use scan::{ScanOptions, scan};
pub use snapshot::Snapshot;
pub use wait::{WaitOutcome, wait_idle};

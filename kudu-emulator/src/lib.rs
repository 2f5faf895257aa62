//! A Kudu emulator for tests and benchmarks: it serves a real directory (a "home" with
//! `site/...`) over real HTTP on `127.0.0.1`, the way the SCM site of an Azure App Service does
//! over its REST API, with each platform's VFS behaviour; plus fake ARM, Entra and GitHub OIDC
//! token endpoints, latency and fault injection, and a request log.
//!
//! Nothing it does sends traffic anywhere but the loopback connections clients open to it.
//!
//! # From the top
//!
//! ```
//! use kudu_emulator::{Auth, Emulator, Options, Platform};
//!
//! let home = tempfile::tempdir()?;
//! std::fs::create_dir_all(home.path().join("site/deployments"))?;
//! std::fs::write(home.path().join("site/deployments/active"), "abc123")?;
//!
//! let emulator = Emulator::start(
//!     home.path(),
//!     Options {
//!         auth: Auth::basic("$app", "secret"),
//!         ..Options::new(Platform::Windows)
//!     },
//! )?;
//! // Point the client under test at emulator.url(), e.g.
//! // GET {url}/api/vfs/site/deployments/ with Basic credentials lists the folder.
//! assert!(emulator.url().starts_with("http://127.0.0.1:"));
//! assert!(emulator.requests().is_empty());
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # What is emulated
//!
//! - **VFS** (`/api/vfs/...`, also without `api/`): listings, file GET/HEAD with ETag (.NET ticks
//!   of the last write), `If-None-Match`, ranges (Windows) or gzip (Linux), PUT and DELETE with
//!   Kudu's `If-Match` rules per platform, 307 redirects between file and directory URLs, Kudu's
//!   error texts; Web API JSON errors on Windows, plain text on Linux. See the `kudu::vfs`
//!   module docs in the source for each rule and its origin in Kudu's code.
//! - **Windows lock files held by Kudu** ([`Emulator::hold`]): readable, not deletable (404) nor
//!   writable (409), skipped by zip; `DELETE /api/processes/0` on the holding instance (cookie
//!   `ARRAffinity`) releases them, as killing Kudu there closes its handles.
//! - **Zip** (`GET|HEAD /api/zip/<dir>/`), **processes** (`/api/processes[/0]`), and the
//!   **side-effect routes** a read-only client must never call (`/api/deployments*`,
//!   `/api/isdeploying`, `/api/scm`, `/api/settings`, `/api/zipdeploy`, `/deploy`, ...), which
//!   answer like an idle site and change nothing.
//! - **Instances**: the front end's `ARRAffinity` cookie picks one of [`Options::instances`]
//!   (the first without a valid cookie) and every SCM answer sets it.
//! - **Fake Azure** on the same server ([`AzureOptions`], see the `azure` module): ARM site and
//!   instances, the Entra token endpoint, the GitHub Actions OIDC endpoint. One server keeps one
//!   log, so a test sees the whole sign-in sequence in order, and ARM's SCM host defaults to the
//!   emulator itself.
//! - **Faults** ([`Fault`]): a status (503 with `Retry-After`, 429, 403 for RBAC...), a body that
//!   never ends, a server that never answers, a connection dropped mid-response, extra latency;
//!   plus global latency ([`Emulator::set_latency`]), request counting and the most requests in
//!   flight at once.
//!
//! # Why a hand-written server over `httparse`
//!
//! The faults need control a server framework hides: answering nothing while keeping the
//! connection open, sending half a response and cutting the connection, trickling a chunked body
//! forever, and counting a request as in flight for exactly as long as its handler runs. So the
//! emulator parses request heads with `httparse` (small, no dependencies, the parser under hyper)
//! and does the rest over `std::net`: bodies with `Content-Length` or chunked, `Expect:
//! 100-continue`, HTTP/1.1 keep-alive, responses with `Content-Length` or chunked. Each connection
//! has its own thread; requests on one kept-alive connection are handled in turn, requests on
//! different connections at once, so concurrency and in-flight counts are real.
//!
//! # Choices where Kudu could not be copied exactly
//!
//! - **Windows PUT without `If-Match`** on an existing file answers 412 with the *mismatch* text
//!   and the current ETag, not the "requires an If-Match header" text: Web API's `IfMatch` is
//!   never null, and Kudu's functional test `VfsControllerBaseTest` ("Check that 2nd create
//!   attempt fails") expects that ETag. Linux keeps the "requires" text \[inferred\].
//! - **Every write gets a new last-write time** (the precise clock, later than the old one), so
//!   every write changes the ETag; on a real site two writes within one tick of the file
//!   system's clock could share one.
//! - **Symbolic links** are listed as files (their own size and times) and never read, written
//!   or deleted through (404, or 409 for PUT); .NET would follow them.
//! - **Listings** are sorted by name (case-folded on Windows, as NTFS enumerates); Linux's real
//!   order is the directory's. Dates follow Json.NET: up to 7 fraction digits, trailing zeros
//!   dropped.
//! - **`DELETE /api/processes/0`** answers 204 at once; the real Kudu kills itself, so the
//!   answer may be a dropped connection or a front-end error (inject
//!   [`FaultKind::DropMidResponse`] or a status for that), and a restart takes time.
//! - **Front end**: plain HTTP on 127.0.0.1, `Set-Cookie: ARRAffinity=<instance>;Path=/;HttpOnly`
//!   only (no `Secure`, `Domain` or `ARRAffinitySameSite`), a short text body for 401.
//! - **Not emulated**: Kudu's special root entries (`SystemDrive`, `LocalSiteRoot`),
//!   case-insensitive paths on Windows, read-only and access-denied files, `PUT /api/zip/`
//!   (answers 501), the deployment engine behind the side-effect routes. Times are UTC
//!   everywhere (Kudu's zip entries use local time).

mod auth;
pub mod azure;
mod dotnet;
mod fault;
mod fs;
mod http;
mod kudu;
mod log;
mod server;

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub use auth::Auth;
pub use azure::AzureOptions;
pub use dotnet::UNIX_EPOCH_TICKS;
pub use fault::{Fault, FaultKind};
pub use log::Request;

/// The Kudu flavour to emulate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Platform {
    /// Kudu on Windows (.NET Framework, ASP.NET Web API), `HOME` = `D:\home`.
    Windows,
    /// KuduLite on Linux (ASP.NET Core 2.2), `HOME` = `/home`.
    Linux,
}

/// How the emulator behaves. Fields are public: start from [`Options::new`] and override with
/// struct update syntax.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub platform: Platform,
    /// What the SCM site accepts in `Authorization` (the Azure fakes have their own tokens).
    pub auth: Auth,
    /// Added before every request is handled (changeable with [`Emulator::set_latency`]).
    pub latency: Duration,
    /// Instance names (as ARM's `.../instances` lists them and `ARRAffinity` carries them); at
    /// least one.
    pub instances: Vec<String>,
    pub azure: AzureOptions,
}

/// The instance name used when none is given (the shape of a real one: 64 hex digits).
pub const DEFAULT_INSTANCE: &str =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

impl Options {
    /// No authentication, no latency, one instance ([`DEFAULT_INSTANCE`]), default Azure fakes.
    pub fn new(platform: Platform) -> Self {
        Self {
            platform,
            auth: Auth::None,
            latency: Duration::ZERO,
            instances: vec![DEFAULT_INSTANCE.to_owned()],
            azure: AzureOptions::default(),
        }
    }
}

/// A running emulator on `127.0.0.1:<ephemeral port>`. Dropping it closes every connection
/// (ending silent and endless faults), joins every thread and leaves the home as it is.
#[derive(Debug)]
pub struct Emulator {
    shared: Arc<server::Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Serves `home` (an existing directory; its canonical path is used, so a link *to* the home
    /// is fine, links *inside* it are never followed).
    pub fn start(home: &Path, options: Options) -> io::Result<Emulator> {
        if options.instances.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "kudu-emulator needs at least one instance",
            ));
        }
        let home: PathBuf = home.canonicalize()?;
        if !home.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("`{}` is not a directory", home.display()),
            ));
        }
        let (shared, acceptor) = server::start(home, options)?;
        Ok(Emulator {
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// `http://127.0.0.1:PORT` (no trailing slash): the SCM site, and the base of the fake ARM,
    /// Entra and OIDC endpoints.
    pub fn url(&self) -> String {
        format!("http://{}", self.shared.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// `127.0.0.1:PORT`, the SCM host ARM reports unless [`AzureOptions::scm_host`] is set.
    pub fn host(&self) -> String {
        self.shared.host()
    }

    /// The served directory (canonical).
    pub fn home(&self) -> &Path {
        &self.shared.home
    }

    pub fn options(&self) -> &Options {
        &self.shared.options
    }

    /// What a GitHub runner has in `ACTIONS_ID_TOKEN_REQUEST_URL`:
    /// `http://127.0.0.1:PORT/_apis/distributedtask/idtoken?api-version=2.0` (clients append
    /// `&audience=...`).
    pub fn oidc_request_url(&self) -> String {
        format!("{}{}?api-version=2.0", self.url(), azure::OIDC_PATH)
    }

    /// Every request since start (or [`Emulator::clear_requests`]), in the order their answers
    /// were decided.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.requests()
    }

    /// How many requests the log holds.
    pub fn request_count(&self) -> usize {
        self.shared.request_count()
    }

    /// Empties the log and restarts [`Emulator::max_in_flight`] from the requests in flight now.
    pub fn clear_requests(&self) {
        self.shared.clear_requests();
    }

    /// Requests being handled right now (read, not yet fully answered).
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight()
    }

    /// The most requests handled at once since start or [`Emulator::clear_requests`].
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight()
    }

    /// Adds a fault; the first injected fault matching a request applies.
    pub fn inject(&self, fault: Fault) {
        self.shared.inject(fault);
    }

    /// Removes every fault not used up yet.
    pub fn clear_faults(&self) {
        self.shared.clear_faults();
    }

    /// The Kudu process of `instance` now holds `rel_path` (relative to home, e.g.
    /// `site/locks/deployments.lock`) open the way Windows Kudu's `LockFile` does: shared for
    /// reading, not for writing or deleting. Reads still work; DELETE answers 404 and PUT 409
    /// with .NET's sharing-violation text, from every instance (the file server enforces it);
    /// zip skips the file; `GET /api/processes/0` on that instance lists it. `DELETE
    /// /api/processes/0` on that instance releases it. On Linux a hold changes nothing (KuduLite
    /// has no share-mode locks), but it is still recorded.
    ///
    /// # Panics
    ///
    /// If `instance` is not one of [`Options::instances`] (a bug in the test).
    pub fn hold(&self, rel_path: &str, instance: &str) {
        assert!(
            self.shared.options.instances.iter().any(|i| i == instance),
            "kudu-emulator: `{instance}` is not one of the emulated instances {:?}",
            self.shared.options.instances
        );
        let rel = rel_path
            .replace('\\', "/")
            .split('/')
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("/");
        let mut holds = server::lock(&self.shared.holds);
        if !holds.iter().any(|(p, i)| *p == rel && i == instance) {
            holds.push((rel, instance.to_owned()));
        }
    }

    /// The current holds: (path relative to home, instance).
    pub fn holds(&self) -> Vec<(String, String)> {
        server::lock(&self.shared.holds).clone()
    }

    /// Changes the latency added before every request.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.set_latency(latency);
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        server::stop(&self.shared, self.acceptor.take());
    }
}

//! The HTTP client under the remote mode: ureq (blocking, rustls), with the hygiene every request
//! gets here, whoever makes it (the store, ARM, a token endpoint):
//!
//! - our own `User-Agent: kudu-state/<version>` (never `azure-resource-manager` or `VSTS_`, which
//!   change Kudu's answers);
//! - redirects are never followed (the answer is returned, and the caller turns it into an error);
//! - a timeout per request and a deadline for the whole run;
//! - at most [`HttpOptions::max_in_flight`] requests at once, on kept-alive connections;
//! - retries only for GET and HEAD, on 429, 502, 503, 504, timeouts and dropped connections, with
//!   exponential backoff that honours `Retry-After`;
//! - bodies read through caps, gzip accepted and decoded;
//! - TLS through rustls with the platform's roots plus `SSL_CERT_FILE`; `HTTPS_PROXY`/`NO_PROXY`
//!   honoured, loopback never proxied;
//! - nothing but `https://`, or `http://` to a loopback host, is ever called.

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::env::Env;
use super::secret::Secret;
use super::url::{check_url, host_of, is_loopback, redact};
use crate::error::{Error, Result};

/// The `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("kudu-state/", env!("CARGO_PKG_VERSION"));
/// Requests in flight at once by default.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 8;
/// The most requests in flight at once, whatever the options say (be gentle with a live site).
pub const MAX_IN_FLIGHT_LIMIT: usize = 16;

/// How the remote mode talks HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOptions {
    /// Requests in flight at once (clamped to 1..=[`MAX_IN_FLIGHT_LIMIT`]); also the store's
    /// [`crate::store::Store::parallelism`].
    pub max_in_flight: usize,
    /// The longest one request may take, from connecting to the last byte of its body.
    pub request_timeout: Duration,
    /// The longest the whole run may take (every request, retry and wait); `None` for no limit.
    pub run_timeout: Option<Duration>,
    /// Retries of a GET or HEAD after a 429, 502, 503, 504, a timeout or a dropped connection.
    pub retries: u32,
    /// The longest wait before a retry, whatever `Retry-After` asks.
    pub max_retry_wait: Duration,
    /// The most bytes read from any one answer (a listing, a Linux log streamed for its tail).
    pub max_body_bytes: u64,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            request_timeout: Duration::from_secs(30),
            run_timeout: Some(Duration::from_secs(15 * 60)),
            retries: 3,
            max_retry_wait: Duration::from_secs(30),
            max_body_bytes: 256 * 1024 * 1024,
        }
    }
}

/// What a run cost: for "requests made and wall time".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RequestStats {
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Of those, retries.
    pub retries: u64,
    /// Body bytes received (after gzip decoding).
    pub bytes_received: u64,
    /// Wall time since the client was made, in milliseconds.
    pub elapsed_ms: u64,
}

/// The HTTP client of one run: connections, limits, counters. Cheap to clone (shared); `Send` and
/// `Sync`, so several threads can make requests through it at once.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    direct: ureq::Agent,
    /// The agent through the proxy, and the `NO_PROXY` rules.
    proxied: Option<(ureq::Agent, NoProxy)>,
    options: HttpOptions,
    started: Instant,
    deadline: Option<Instant>,
    in_flight: Mutex<usize>,
    slot_freed: Condvar,
    requests: AtomicU64,
    retries: AtomicU64,
    bytes: AtomicU64,
    jitter: AtomicU64,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("options", &self.inner.options)
            .field("proxy", &self.inner.proxied.is_some())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A client for one run. `env` gives `HTTPS_PROXY`/`ALL_PROXY`, `NO_PROXY` and `SSL_CERT_FILE`;
    /// the run's deadline starts now.
    ///
    /// # Errors
    /// `URL_REFUSED` for a proxy URL that cannot be used, `IO_ERROR` when `SSL_CERT_FILE` cannot be
    /// read, `INVALID_INPUT` when it holds no certificate.
    pub fn new(options: &HttpOptions, env: &Env) -> Result<HttpClient> {
        let mut options = options.clone();
        options.max_in_flight = options.max_in_flight.clamp(1, MAX_IN_FLIGHT_LIMIT);
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(root_certs(env)?)
            .build();
        let connect_timeout = options.request_timeout.min(Duration::from_secs(15));
        let agent = |proxy: Option<ureq::Proxy>| -> ureq::Agent {
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .max_redirects_will_error(false)
                .user_agent(USER_AGENT)
                .max_idle_connections(4 * MAX_IN_FLIGHT_LIMIT)
                .max_idle_connections_per_host(options.max_in_flight)
                .timeout_connect(Some(connect_timeout))
                .tls_config(tls.clone())
                .proxy(proxy)
                .build()
                .into()
        };
        let proxied = match env.first(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]) {
            None => None,
            Some(proxy_url) => {
                let proxy = ureq::Proxy::new(proxy_url).map_err(|_| Error::UrlRefused {
                    url: redact(proxy_url),
                    reason: "HTTPS_PROXY is not a proxy URL (`http://host:port`)".to_owned(),
                })?;
                let rules = NoProxy::parse(env.first(&["NO_PROXY", "no_proxy"]).unwrap_or(""));
                Some((agent(Some(proxy)), rules))
            }
        };
        let started = Instant::now();
        Ok(HttpClient {
            inner: Arc::new(Inner {
                direct: agent(None),
                proxied,
                deadline: options.run_timeout.map(|t| started + t),
                options,
                started,
                in_flight: Mutex::new(0),
                slot_freed: Condvar::new(),
                requests: AtomicU64::new(0),
                retries: AtomicU64::new(0),
                bytes: AtomicU64::new(0),
                jitter: AtomicU64::new(0x9E37_79B9_7F4A_7C15),
            }),
        })
    }

    /// The options in force (`max_in_flight` clamped).
    #[must_use]
    pub fn options(&self) -> &HttpOptions {
        &self.inner.options
    }

    /// Requests made, retries, bytes received and wall time so far.
    #[must_use]
    pub fn stats(&self) -> RequestStats {
        RequestStats {
            requests: self.inner.requests.load(Ordering::Relaxed),
            retries: self.inner.retries.load(Ordering::Relaxed),
            bytes_received: self.inner.bytes.load(Ordering::Relaxed),
            elapsed_ms: u64::try_from(self.inner.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// Time left before the run's deadline (`None`: no deadline).
    pub(crate) fn remaining(&self) -> Option<Duration> {
        self.inner
            .deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    fn agent_for(&self, url: &str) -> &ureq::Agent {
        match (&self.inner.proxied, host_of(url)) {
            (Some((agent, rules)), Some(host)) if !is_loopback(&host) && !rules.matches(&host) => {
                agent
            }
            _ => &self.inner.direct,
        }
    }

    /// Sends a request, with retries for GET and HEAD. Any status comes back as an [`Answer`]
    /// (redirects included); only a failure to get one is an error.
    pub(crate) fn execute(&self, call: &Call<'_>) -> Result<Answer> {
        check_url(&call.url)?;
        let shown = redact(&call.url);
        // Only reads are sent again by themselves. A write that broke off may have been made: the
        // repair that sent it reads the file again and decides (an interrupted apply is resumed).
        let idempotent = matches!(call.method, Method::Get | Method::Head);
        let options = &self.inner.options;
        let mut attempt = 0u32;
        loop {
            let (timeout, scope) = match self.remaining() {
                Some(left) if left.is_zero() => {
                    return Err(Error::Timeout {
                        url: shown,
                        timeout: options.run_timeout.unwrap_or_default(),
                        scope: "run",
                    });
                }
                Some(left) if left < options.request_timeout => (left, "run"),
                _ => (options.request_timeout, "request"),
            };
            let permit = self.acquire();
            self.inner.requests.fetch_add(1, Ordering::Relaxed);
            let outcome = self.send_once(call, timeout);
            let can_retry = idempotent && attempt < options.retries;
            let wait = match outcome {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let retryable = matches!(status, 429 | 502 | 503 | 504);
                    let wait = retryable
                        .then(|| self.backoff(attempt, retry_after(response.headers())))
                        .filter(|_| can_retry)
                        .and_then(|wait| self.fits(wait));
                    match wait {
                        Some(wait) => wait,
                        None => {
                            let (parts, body) = response.into_parts();
                            return Ok(Answer {
                                url: shown,
                                status,
                                headers: parts.headers,
                                body,
                                timeout,
                                scope,
                                client: self.clone(),
                                _permit: permit,
                            });
                        }
                    }
                }
                Err(e) => {
                    let transient = is_transient(&e);
                    let error = map_error(e, &shown, timeout, scope);
                    let wait = (transient && can_retry)
                        .then(|| self.backoff(attempt, None))
                        .and_then(|wait| self.fits(wait));
                    match wait {
                        Some(wait) => wait,
                        None => return Err(error),
                    }
                }
            };
            drop(permit);
            std::thread::sleep(wait);
            attempt += 1;
            self.inner.retries.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn send_once(
        &self,
        call: &Call<'_>,
        timeout: Duration,
    ) -> std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        let agent = self.agent_for(&call.url);
        macro_rules! with_headers {
            ($builder:expr) => {{
                let mut builder = $builder;
                for (name, value) in &call.headers {
                    builder = builder.header(*name, value.as_str());
                }
                if let Some(auth) = call.authorization {
                    builder = builder.header("Authorization", auth.expose());
                }
                builder.config().timeout_global(Some(timeout)).build()
            }};
        }
        match &call.method {
            Method::Get => with_headers!(agent.get(&call.url)).call(),
            Method::Head => with_headers!(agent.head(&call.url)).call(),
            Method::Put(body) => with_headers!(agent.put(&call.url)).send(body.as_slice()),
            Method::Delete => with_headers!(agent.delete(&call.url)).call(),
            Method::PostForm(form) => with_headers!(
                agent
                    .post(&call.url)
                    .header("Content-Type", "application/x-www-form-urlencoded")
            )
            .send(form.expose().as_bytes()),
        }
    }

    /// Waits for a free slot among the requests in flight.
    fn acquire(&self) -> Permit {
        let max = self.inner.options.max_in_flight;
        let mut used = self
            .inner
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while *used >= max {
            used = self
                .inner
                .slot_freed
                .wait(used)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *used += 1;
        Permit {
            inner: Arc::clone(&self.inner),
        }
    }

    /// The wait before retry `attempt + 1`: exponential from 250 ms with jitter, or what
    /// `Retry-After` asks when that is longer; at most `max_retry_wait`.
    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let base = Duration::from_millis(250).saturating_mul(1 << attempt.min(6));
        // A cheap xorshift: enough to keep clients from retrying in step.
        let mut x = self.inner.jitter.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.inner.jitter.store(x, Ordering::Relaxed);
        let jittered = base.mul_f64(0.75 + (x % 1000) as f64 / 2000.0);
        jittered
            .max(retry_after.unwrap_or_default())
            .min(self.inner.options.max_retry_wait)
    }

    /// Before retry `attempt + 1` of a GET whose body broke off: the wait, counted as a retry, if
    /// retries are left and the run's deadline leaves time for it.
    pub(crate) fn body_retry(&self, attempt: u32, e: &Error) -> Option<Duration> {
        let broke_off = matches!(e, Error::Network { source, .. } if matches!(
            source.kind(),
            io::ErrorKind::UnexpectedEof
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
        ));
        if !broke_off || attempt >= self.inner.options.retries {
            return None;
        }
        let wait = self.fits(self.backoff(attempt, None))?;
        self.inner.retries.fetch_add(1, Ordering::Relaxed);
        Some(wait)
    }

    /// The wait, if the run's deadline leaves time for it and a request after it.
    fn fits(&self, wait: Duration) -> Option<Duration> {
        match self.remaining() {
            Some(left) if left <= wait => None,
            _ => Some(wait),
        }
    }
}

/// A slot among the requests in flight, held until the answer's body is read or dropped.
struct Permit {
    inner: Arc<Inner>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut used = self
            .inner
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *used = used.saturating_sub(1);
        self.inner.slot_freed.notify_one();
    }
}

/// The methods kudu-state sends. Reads are GET and HEAD (see [`super::scm`]); PUT and DELETE are a
/// repair's guarded writes (see [`super::writer`]); the form POST is for Entra's token endpoint.
#[derive(Clone)]
pub(crate) enum Method {
    Get,
    Head,
    /// A file's new bytes.
    Put(Vec<u8>),
    Delete,
    /// A form body (it holds a client assertion, so it is a secret).
    PostForm(Secret),
}

/// One request.
pub(crate) struct Call<'a> {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    /// The whole `Authorization` value (`Basic ...`, `Bearer ...`).
    pub authorization: Option<&'a Secret>,
}

/// An answer whose body has not been read yet. Holds its slot among the requests in flight.
pub(crate) struct Answer {
    /// The URL asked (as it may be shown).
    pub url: String,
    pub status: u16,
    headers: ureq::http::HeaderMap,
    body: ureq::Body,
    timeout: Duration,
    scope: &'static str,
    client: HttpClient,
    _permit: Permit,
}

impl Answer {
    /// The first value of a header, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every value of a header that is text.
    pub fn headers(&self, name: &str) -> impl Iterator<Item = &str> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
    }

    /// `Content-Length`, when the body is sent as it is (ureq drops the header when it decodes gzip).
    pub fn content_length(&self) -> Option<u64> {
        self.header("content-length")
            .and_then(|v| v.trim().parse().ok())
    }

    fn body_error(&self, e: &io::Error) -> Error {
        let timed_out = e.kind() == io::ErrorKind::TimedOut
            || e.get_ref()
                .and_then(|inner| inner.downcast_ref::<ureq::Error>())
                .is_some_and(|u| matches!(u, ureq::Error::Timeout(_)));
        if timed_out {
            Error::Timeout {
                url: self.url.clone(),
                timeout: self.timeout,
                scope: self.scope,
            }
        } else {
            Error::Network {
                url: self.url.clone(),
                source: io::Error::new(e.kind(), e.to_string()),
            }
        }
    }

    /// Reads chunks of the body, handing each to `sink`, until the end or `sink` says stop
    /// (`false`). Returns the bytes read.
    fn stream(&mut self, mut sink: impl FnMut(&[u8]) -> Result<bool>) -> Result<u64> {
        let mut reader = self.body.as_reader();
        let mut chunk = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        loop {
            let n = match reader.read(&mut chunk) {
                Ok(0) => return Ok(total),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    drop(reader);
                    return Err(self.body_error(&e));
                }
            };
            total += n as u64;
            self.client
                .inner
                .bytes
                .fetch_add(n as u64, Ordering::Relaxed);
            if !sink(&chunk[..n])? {
                return Ok(total);
            }
        }
    }

    /// The whole body; `BODY_TOO_LARGE` past `cap` bytes (and past the client's own cap).
    pub fn read_all(mut self, cap: u64) -> Result<Vec<u8>> {
        let cap = cap.min(self.client.inner.options.max_body_bytes);
        let url = self.url.clone();
        let mut out = Vec::new();
        self.stream(|chunk| {
            if out.len() as u64 + chunk.len() as u64 > cap {
                return Err(Error::BodyTooLarge {
                    url: url.clone(),
                    cap,
                });
            }
            out.extend_from_slice(chunk);
            Ok(true)
        })?;
        Ok(out)
    }

    /// The first `cap` bytes and the body's whole length: from `Content-Length` when the body is
    /// sent as is (then reading stops at the cap), else by reading on to the end (within the
    /// client's byte cap).
    pub fn read_head(mut self, cap: u64) -> Result<(Vec<u8>, u64)> {
        let hard = self.client.inner.options.max_body_bytes;
        let known = self.content_length();
        let url = self.url.clone();
        let mut out = Vec::new();
        let mut seen = 0u64;
        self.stream(|chunk| {
            seen += chunk.len() as u64;
            if seen > hard {
                return Err(Error::BodyTooLarge {
                    url: url.clone(),
                    cap: hard,
                });
            }
            let room = usize::try_from(cap.saturating_sub(out.len() as u64)).unwrap_or(usize::MAX);
            out.extend_from_slice(&chunk[..chunk.len().min(room)]);
            Ok(!(known.is_some() && out.len() as u64 >= cap))
        })?;
        Ok((out, known.unwrap_or(seen)))
    }

    /// The last `cap` bytes of the whole body, and its length: the body is streamed to its end
    /// (KuduLite ignores `Range`), keeping only the tail; `BODY_TOO_LARGE` past the client's cap.
    pub fn read_tail(mut self, cap: u64) -> Result<(Vec<u8>, u64)> {
        let hard = self.client.inner.options.max_body_bytes;
        let keep = usize::try_from(cap).unwrap_or(usize::MAX);
        let url = self.url.clone();
        let mut buf: Vec<u8> = Vec::new();
        let mut seen = 0u64;
        let total = self.stream(|chunk| {
            seen += chunk.len() as u64;
            if seen > hard {
                return Err(Error::BodyTooLarge {
                    url: url.clone(),
                    cap: hard,
                });
            }
            buf.extend_from_slice(chunk);
            // Trim only when twice the tail is held: amortised linear time.
            if buf.len() > keep.saturating_mul(2).max(keep + 64 * 1024) {
                buf.drain(..buf.len() - keep);
            }
            Ok(true)
        });
        let total = total?;
        if buf.len() > keep {
            buf.drain(..buf.len() - keep);
        }
        Ok((buf, total))
    }

    /// A short text of the body for an error message (the server's `Message` when it is Web API
    /// JSON), never more than 300 characters.
    pub fn error_text(self) -> String {
        self.error_body().1
    }

    /// The body as the server sent it (at most 16 KiB, lossy UTF-8), and [`Answer::error_text`]
    /// of it: a Web API error's `Message` can be generic ("An error has occurred.") where its
    /// `ExceptionMessage` says what happened.
    pub fn error_body(self) -> (String, String) {
        let bytes = self.read_all(16 * 1024).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let short = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| {
                ["Message", "message", "ExceptionMessage"]
                    .iter()
                    .find_map(|k| v.get(k).and_then(|m| m.as_str()).map(str::to_owned))
                    .or_else(|| {
                        v.pointer("/error/message")
                            .and_then(|m| m.as_str())
                            .map(str::to_owned)
                    })
            })
            .unwrap_or_else(|| text.clone());
        let one_line = short.split_whitespace().collect::<Vec<_>>().join(" ");
        (text, one_line.chars().take(300).collect())
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &ureq::http::HeaderMap) -> Option<Duration> {
    let value = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    wait.to_std().ok()
}

/// Failures worth another try: timeouts and connections that dropped or were refused.
fn is_transient(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::Timeout(_) | ureq::Error::ConnectionFailed => true,
        ureq::Error::Io(io) => matches!(
            io.kind(),
            io::ErrorKind::TimedOut
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::ConnectionRefused
                | io::ErrorKind::UnexpectedEof
                | io::ErrorKind::BrokenPipe
        ),
        _ => false,
    }
}

fn map_error(e: ureq::Error, url: &str, timeout: Duration, scope: &'static str) -> Error {
    match e {
        ureq::Error::Timeout(_) => Error::Timeout {
            url: url.to_owned(),
            timeout,
            scope,
        },
        ureq::Error::Io(io) if io.kind() == io::ErrorKind::TimedOut => Error::Timeout {
            url: url.to_owned(),
            timeout,
            scope,
        },
        ureq::Error::Io(io) => Error::Network {
            url: url.to_owned(),
            source: io::Error::new(io.kind(), io.to_string()),
        },
        other => Error::Network {
            url: url.to_owned(),
            source: io::Error::other(other.to_string()),
        },
    }
}

/// The roots TLS trusts: the platform's (or, as OpenSSL does, `SSL_CERT_FILE`/`SSL_CERT_DIR` of
/// the process instead), plus the certificates of `SSL_CERT_FILE` in `env`. When the platform has
/// none (a bare container), Mozilla's roots as ureq ships them.
fn root_certs(env: &Env) -> Result<ureq::tls::RootCerts> {
    static PLATFORM: OnceLock<Vec<ureq::tls::Certificate<'static>>> = OnceLock::new();
    let platform = PLATFORM.get_or_init(|| {
        rustls_native_certs::load_native_certs()
            .certs
            .iter()
            .map(|der| ureq::tls::Certificate::from_der(der.as_ref()).to_owned())
            .collect()
    });
    let mut certs = platform.clone();
    if let Some(file) = env.get("SSL_CERT_FILE") {
        let pem = fs_err::read(file).map_err(|e| Error::io("read", file, e))?;
        let before = certs.len();
        for item in ureq::tls::parse_pem(&pem) {
            if let Ok(ureq::tls::PemItem::Certificate(cert)) = item {
                certs.push(cert);
            }
        }
        if certs.len() == before {
            return Err(Error::invalid(
                "argument",
                format!("SSL_CERT_FILE `{file}` holds no PEM certificate"),
            ));
        }
    }
    Ok(if certs.is_empty() {
        ureq::tls::RootCerts::WebPki
    } else {
        ureq::tls::RootCerts::from(certs)
    })
}

/// `NO_PROXY`: `*`, host names, `.suffix` or `*.suffix` domains, IP addresses (ports ignored).
#[derive(Debug, Clone, Default)]
struct NoProxy {
    all: bool,
    entries: Vec<String>,
}

impl NoProxy {
    fn parse(text: &str) -> NoProxy {
        let mut rules = NoProxy::default();
        for entry in text
            .split([',', ' '])
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            if entry == "*" {
                rules.all = true;
                continue;
            }
            let entry = entry.trim_start_matches("*.").trim_start_matches('.');
            // `host:port` → host (IPv6 literals keep their brackets).
            let host = if entry.starts_with('[') {
                entry
                    .split(']')
                    .next()
                    .map_or(entry.to_owned(), |h| format!("{h}]"))
            } else if entry.matches(':').count() == 1 {
                entry.split(':').next().unwrap_or(entry).to_owned()
            } else {
                entry.to_owned()
            };
            rules.entries.push(host.to_ascii_lowercase());
        }
        rules
    }

    fn matches(&self, host: &str) -> bool {
        self.all
            || self.entries.iter().any(|e| {
                host == e
                    || host
                        .strip_suffix(e.as_str())
                        .is_some_and(|rest| rest.ends_with('.'))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_rules() {
        let rules = NoProxy::parse(".azurewebsites.net, example.com:443,*.corp, 10.0.0.1");
        assert!(rules.matches("app.scm.azurewebsites.net"));
        assert!(rules.matches("example.com"));
        assert!(rules.matches("a.example.com"));
        assert!(!rules.matches("badexample.com"));
        assert!(rules.matches("x.corp"));
        assert!(rules.matches("10.0.0.1"));
        assert!(!rules.matches("management.azure.com"));
        assert!(NoProxy::parse("*").matches("anything"));
    }

    #[test]
    fn retry_after_forms() {
        let mut headers = ureq::http::HeaderMap::new();
        headers.insert("retry-after", ureq::http::HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(
            "retry-after",
            ureq::http::HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), None, "a date in the past: no wait");
    }

    #[test]
    fn user_agent_is_ours() {
        assert!(USER_AGENT.starts_with("kudu-state/"));
        assert!(!USER_AGENT.contains("azure-resource-manager") && !USER_AGENT.contains("VSTS_"));
    }
}

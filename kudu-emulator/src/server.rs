//! The server: one accept thread, one thread per connection (requests on a kept-alive connection
//! are sequential, requests on different connections run at once), latency, faults, the request
//! log, in-flight counting and shutdown.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::fault::{Fault, FaultKind, Faults};
use crate::http::{
    self, HttpRequest, HttpResponse, ReadOutcome, RequestReader, render, write_response,
};
use crate::log::Request;
use crate::{Options, azure, kudu};

/// Locks a mutex, carrying on after a panic elsewhere (the data are plain records).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Everything the threads share.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The canonical home directory.
    pub(crate) home: PathBuf,
    pub(crate) options: Options,
    pub(crate) addr: SocketAddr,
    latency: Mutex<Duration>,
    log: Mutex<Vec<Request>>,
    faults: Mutex<Faults>,
    /// Held Windows lock files: (path relative to home, instance holding it).
    pub(crate) holds: Mutex<Vec<(String, String)>>,
    /// Kudu restarts per instance (index as in `options.instances`).
    pub(crate) restarts: Mutex<Vec<u32>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    next_connection: AtomicU64,
    stopping: AtomicBool,
    stop_lock: Mutex<()>,
    stop_signal: Condvar,
    connections: Mutex<HashMap<u64, TcpStream>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
    pub(crate) fn new(home: PathBuf, options: Options, addr: SocketAddr) -> Self {
        let instances = options.instances.len();
        Self {
            home,
            latency: Mutex::new(options.latency),
            options,
            addr,
            log: Mutex::new(Vec::new()),
            faults: Mutex::new(Faults::default()),
            holds: Mutex::new(Vec::new()),
            restarts: Mutex::new(vec![0; instances]),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            next_connection: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
            stop_lock: Mutex::new(()),
            stop_signal: Condvar::new(),
            connections: Mutex::new(HashMap::new()),
            threads: Mutex::new(Vec::new()),
        }
    }

    /// `127.0.0.1:PORT`.
    pub(crate) fn host(&self) -> String {
        self.addr.to_string()
    }

    fn stopped(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Waits `duration`; `false` if the emulator is being dropped (then stop at once).
    pub(crate) fn pause(&self, duration: Duration) -> bool {
        let deadline = Instant::now() + duration;
        let mut guard = lock(&self.stop_lock);
        loop {
            if self.stopped() {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            guard = self
                .stop_signal
                .wait_timeout(guard, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    pub(crate) fn latency(&self) -> Duration {
        *lock(&self.latency)
    }

    pub(crate) fn set_latency(&self, latency: Duration) {
        *lock(&self.latency) = latency;
    }

    pub(crate) fn requests(&self) -> Vec<Request> {
        lock(&self.log).clone()
    }

    pub(crate) fn request_count(&self) -> usize {
        lock(&self.log).len()
    }

    pub(crate) fn clear_requests(&self) {
        lock(&self.log).clear();
        self.max_in_flight
            .store(self.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    pub(crate) fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    pub(crate) fn inject(&self, fault: Fault) {
        lock(&self.faults).push(fault);
    }

    pub(crate) fn clear_faults(&self) {
        lock(&self.faults).clear();
    }

    fn record(&self, entry: Request) {
        lock(&self.log).push(entry);
    }

    /// Whether any instance holds this file (path relative to home, `/`-separated).
    pub(crate) fn is_held(&self, rel: &str) -> bool {
        lock(&self.holds).iter().any(|(path, _)| path == rel)
    }
}

/// Counts a request as in flight while alive.
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> Self {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
        Self(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Binds 127.0.0.1:0 and starts accepting.
pub(crate) fn start(
    home: PathBuf,
    options: Options,
) -> std::io::Result<(Arc<Shared>, JoinHandle<()>)> {
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    let shared = Arc::new(Shared::new(home, options, listener.local_addr()?));
    let acceptor = Arc::clone(&shared);
    let handle = thread::Builder::new()
        .name("kudu-emulator-accept".to_owned())
        .spawn(move || accept_loop(&acceptor, &listener))?;
    Ok((shared, handle))
}

fn accept_loop(shared: &Arc<Shared>, listener: &TcpListener) {
    for stream in listener.incoming() {
        if shared.stopped() {
            break;
        }
        let Ok(stream) = stream else {
            // Out of descriptors or similar: do not spin.
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        // Small answers on kept-alive connections must not wait for delayed ACKs.
        let _ = stream.set_nodelay(true);
        let id = shared.next_connection.fetch_add(1, Ordering::SeqCst) + 1;
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.connections).insert(id, clone);
        }
        let worker = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name(format!("kudu-emulator-conn-{id}"))
            .spawn(move || {
                serve(&worker, &stream, id);
                let _ = stream.shutdown(Shutdown::Both);
                lock(&worker.connections).remove(&id);
            });
        match spawned {
            Ok(handle) => {
                let mut threads = lock(&shared.threads);
                threads.retain(|t| !t.is_finished());
                threads.push(handle);
            }
            Err(_) => {
                lock(&shared.connections).remove(&id);
            }
        }
    }
}

/// Stops the server: wakes every sleeper, closes every connection, joins every thread.
pub(crate) fn stop(shared: &Shared, acceptor: Option<JoinHandle<()>>) {
    shared.stopping.store(true, Ordering::SeqCst);
    {
        let _guard = lock(&shared.stop_lock);
        shared.stop_signal.notify_all();
    }
    // Wake the blocking accept.
    let _ = TcpStream::connect_timeout(&shared.addr, Duration::from_secs(1));
    if let Some(handle) = acceptor {
        let _ = handle.join();
    }
    for (_, stream) in lock(&shared.connections).drain() {
        let _ = stream.shutdown(Shutdown::Both);
    }
    let threads = std::mem::take(&mut *lock(&shared.threads));
    for handle in threads {
        let _ = handle.join();
    }
}

/// Serves the requests of one connection until it closes, breaks or must close.
fn serve(shared: &Shared, stream: &TcpStream, connection: u64) {
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = RequestReader::new(read_half);
    while !shared.stopped() {
        let mut send_continue = || {
            let mut out = stream;
            out.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
        };
        match reader.next_request(&mut send_continue) {
            ReadOutcome::Closed => return,
            ReadOutcome::Bad(status) => {
                let mut out = stream;
                let answer = HttpResponse::text(status, http::reason(status));
                let _ = write_response(&mut out, answer, false, false);
                return;
            }
            ReadOutcome::Request(request) => {
                let _counted = InFlight::enter(shared);
                if !handle(shared, &request, stream, connection) {
                    return;
                }
            }
        }
    }
}

/// Handles one request; `false` when the connection must close afterwards.
fn handle(shared: &Shared, request: &HttpRequest, stream: &TcpStream, connection: u64) -> bool {
    if !shared.pause(shared.latency()) {
        return false;
    }
    let fault = lock(&shared.faults).take(&request.method, &request.path);
    let kind = fault.as_ref().map(|f| f.kind.clone());
    let mut entry = Request::new(request, connection);
    entry.fault.clone_from(&kind);
    let head_only = request.method == "HEAD";
    let keep_alive = request.keep_alive;
    let response = match kind {
        Some(FaultKind::Silent) => {
            shared.record(entry);
            wait_for_close(stream);
            return false;
        }
        Some(FaultKind::EndlessBody { interval }) => {
            entry.status = Some(200);
            shared.record(entry);
            endless_body(shared, stream, interval, head_only);
            return false;
        }
        Some(FaultKind::Status(status)) => {
            let mut answer = HttpResponse::text(status, http::reason(status));
            answer
                .headers
                .extend(fault.iter().flat_map(|f| f.headers.iter().cloned()));
            answer
        }
        Some(FaultKind::Latency(extra)) => {
            if !shared.pause(extra) {
                return false;
            }
            route(shared, request, &mut entry)
        }
        Some(FaultKind::DropMidResponse) | None => route(shared, request, &mut entry),
    };
    entry.status = Some(response.status);
    shared.record(entry);
    let mut out = stream;
    if kind == Some(FaultKind::DropMidResponse) {
        let (bytes, head_len) = render(response, head_only, keep_alive);
        let cut = if bytes.len() > head_len {
            head_len + (bytes.len() - head_len) / 2
        } else {
            head_len / 2
        };
        let _ = out.write_all(&bytes[..cut]).and_then(|()| out.flush());
        return false;
    }
    write_response(&mut out, response, head_only, keep_alive).is_ok() && keep_alive
}

/// The emulated services behind the front end.
fn route(shared: &Shared, request: &HttpRequest, entry: &mut Request) -> HttpResponse {
    if let Some(answer) = azure::handle(shared, request) {
        return answer;
    }
    kudu::handle(shared, request, entry)
}

/// Blocks until the client closes the connection (or the emulator closes it).
fn wait_for_close(stream: &TcpStream) {
    let mut input = stream;
    let mut sink = [0u8; 1024];
    while matches!(input.read(&mut sink), Ok(n) if n > 0) {}
}

/// A 200 whose chunked body never ends.
fn endless_body(shared: &Shared, stream: &TcpStream, interval: Duration, head_only: bool) {
    let mut out = stream;
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n";
    if out.write_all(head.as_bytes()).is_err() {
        return;
    }
    if head_only {
        wait_for_close(stream);
        return;
    }
    let mut line = String::from("endless body (kudu-emulator fault injection) ");
    while line.len() < 63 {
        line.push('.');
    }
    line.push('\n');
    let chunk = format!("{:x}\r\n{line}\r\n", line.len());
    while out.write_all(chunk.as_bytes()).is_ok() && shared.pause(interval) {}
}

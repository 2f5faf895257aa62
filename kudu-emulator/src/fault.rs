//! Faults injected in front of the emulated services, the way a flaky front end, a dying
//! instance or a slow network shows them to a client.

use std::time::Duration;

/// What a fault does to a request it matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer this status at once (the request never reaches Kudu), with a short text body and
    /// the fault's extra headers (for example `Retry-After`).
    Status(u16),
    /// Answer `200` with a chunked `text/plain` body that never ends: 64 bytes every `interval`
    /// (as fast as the client reads when zero) until the client goes away or the emulator is
    /// dropped.
    EndlessBody {
        /// Pause between two 64-byte chunks.
        interval: Duration,
    },
    /// Read the request and never answer; the connection stays open until the client closes it
    /// or the emulator is dropped.
    Silent,
    /// Handle the request, then send only the first half of the response bytes (at least part of
    /// the head) and close the connection.
    DropMidResponse,
    /// Wait this long (on top of the emulator's latency), then handle the request normally.
    Latency(Duration),
}

/// A fault on the requests it matches: method (any when `None`) and a prefix of the path as sent
/// (still percent-encoded, without the query). Applies `times` times, or forever when `None`.
///
/// ```
/// use kudu_emulator::Fault;
/// use std::time::Duration;
///
/// // The next two GETs under /api/vfs/ get a 503 with Retry-After: 1.
/// let busy = Fault::status(503).retry_after(1).on("GET", "/api/vfs/").times(2);
/// // Every request to ARM hangs until `clear_faults`.
/// let hang = Fault::silent().path_prefix("/subscriptions/").forever();
/// # let _ = (busy, hang, Fault::latency(Duration::from_millis(1)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub method: Option<String>,
    pub path_prefix: String,
    pub kind: FaultKind,
    /// Extra response headers of a [`FaultKind::Status`] answer.
    pub headers: Vec<(String, String)>,
    /// How many matching requests it applies to; `None` = forever.
    pub times: Option<usize>,
}

impl Fault {
    /// A fault of this kind on the next request, whatever its method and path.
    pub fn new(kind: FaultKind) -> Self {
        Self {
            method: None,
            path_prefix: "/".to_owned(),
            kind,
            headers: Vec::new(),
            times: Some(1),
        }
    }

    /// [`FaultKind::Status`].
    pub fn status(status: u16) -> Self {
        Self::new(FaultKind::Status(status))
    }

    /// [`FaultKind::EndlessBody`].
    pub fn endless_body(interval: Duration) -> Self {
        Self::new(FaultKind::EndlessBody { interval })
    }

    /// [`FaultKind::Silent`].
    pub fn silent() -> Self {
        Self::new(FaultKind::Silent)
    }

    /// [`FaultKind::DropMidResponse`].
    pub fn drop_mid_response() -> Self {
        Self::new(FaultKind::DropMidResponse)
    }

    /// [`FaultKind::Latency`].
    pub fn latency(extra: Duration) -> Self {
        Self::new(FaultKind::Latency(extra))
    }

    /// Only requests with this method and a path starting with this prefix.
    pub fn on(self, method: &str, path_prefix: &str) -> Self {
        self.method(method).path_prefix(path_prefix)
    }

    /// Only requests with this method (`GET`, `PUT`, ...; compared exactly).
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_owned());
        self
    }

    /// Only requests whose path (as sent) starts with this prefix.
    pub fn path_prefix(mut self, prefix: &str) -> Self {
        prefix.clone_into(&mut self.path_prefix);
        self
    }

    /// Applies to the next `n` matching requests.
    pub fn times(mut self, n: usize) -> Self {
        self.times = Some(n);
        self
    }

    /// Applies to every matching request until [`crate::Emulator::clear_faults`].
    pub fn forever(mut self) -> Self {
        self.times = None;
        self
    }

    /// Adds a header to a status answer.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds `Retry-After: <seconds>` to a status answer.
    pub fn retry_after(self, seconds: u64) -> Self {
        self.header("Retry-After", &seconds.to_string())
    }

    pub(crate) fn matches(&self, method: &str, path: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m == method) && path.starts_with(&self.path_prefix)
    }
}

/// The injected faults, first match wins.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    active: Vec<Fault>,
}

impl Faults {
    pub(crate) fn push(&mut self, fault: Fault) {
        if fault.times != Some(0) {
            self.active.push(fault);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.active.clear();
    }

    /// The first fault matching the request, counted as used once.
    pub(crate) fn take(&mut self, method: &str, path: &str) -> Option<Fault> {
        let index = self.active.iter().position(|f| f.matches(method, path))?;
        let fault = &mut self.active[index];
        let taken = fault.clone();
        match &mut fault.times {
            None => {}
            Some(1) => {
                self.active.remove(index);
            }
            Some(n) => *n -= 1,
        }
        Some(taken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_used_up_in_order() {
        let mut faults = Faults::default();
        faults.push(Fault::status(503).on("GET", "/api/vfs/").times(2));
        faults.push(Fault::silent().path_prefix("/api/"));
        assert_eq!(faults.take("PUT", "/x"), None);
        let kinds: Vec<_> = (0..4)
            .map(|_| faults.take("GET", "/api/vfs/site/").map(|f| f.kind))
            .collect();
        assert_eq!(
            kinds,
            vec![
                Some(FaultKind::Status(503)),
                Some(FaultKind::Status(503)),
                Some(FaultKind::Silent),
                None
            ]
        );
        faults.push(Fault::drop_mid_response().forever());
        for _ in 0..3 {
            assert_eq!(
                faults.take("DELETE", "/").map(|f| f.kind),
                Some(FaultKind::DropMidResponse)
            );
        }
    }
}

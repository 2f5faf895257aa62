//! How kudu-state reaches the SCM site. The store reads only through [`ScmReader::read`]: GET or
//! HEAD of a VFS path, or GET of Kudu's own process; no other route can be expressed, so it cannot
//! call `/api/deployments*`, `/api/isdeploying` (which delete and purge state). A repair's writes
//! (PUT and DELETE of VFS paths, each with its precondition, and Kudu's restart) are built in
//! `super::writer` and sent through [`ScmReader::exchange`].

use std::sync::{Condvar, Mutex, OnceLock, PoisonError, RwLock};
use std::time::Instant;

use chrono::{DateTime, Utc};

use super::http::{Answer, Call, HttpClient, Method};
use super::secret::{Credentials, Secret};
use super::url::{SiteUrl, encode_segment};
use crate::error::{Error, Result};
use crate::store::RelPath;

/// The read-only methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadMethod {
    Get,
    Head,
}

/// The read-only routes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Route<'a> {
    /// `/api/vfs/<path>/` (the home itself for `None`).
    VfsDir(Option<&'a RelPath>),
    /// `/api/vfs/<path>`.
    VfsFile(&'a RelPath),
    /// `/api/processes/0`: Kudu's own process on the instance answering.
    KuduProcess,
}

impl Route<'_> {
    fn path(&self) -> String {
        let mut out = String::from("/api/");
        match self {
            Route::VfsDir(path) => {
                out.push_str("vfs/");
                if let Some(path) = path {
                    push_path(path, &mut out);
                    out.push('/');
                }
            }
            Route::VfsFile(path) => {
                out.push_str("vfs/");
                push_path(path, &mut out);
            }
            Route::KuduProcess => out.push_str("processes/0"),
        }
        out
    }
}

fn push_path(path: &RelPath, out: &mut String) {
    for (i, segment) in path.as_str().split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        encode_segment(segment, out);
    }
}

/// Which instance requests go to (`ARRAffinity`).
#[derive(Debug)]
enum AffinityState {
    /// `--instance`: every request carries this cookie, and an answer from another is an error.
    Pinned(String),
    /// Nothing learned yet; `probing` while the first request is out (the others wait for its
    /// cookie, so they reach the same instance).
    Unknown { probing: bool },
    /// Learned from the first answer (`None`: the front end set no cookie).
    Learned(Option<String>),
}

/// The instance affinity of one store.
#[derive(Debug)]
pub(crate) struct Affinity {
    state: Mutex<AffinityState>,
    settled: Condvar,
}

impl Affinity {
    pub(crate) fn new(pinned: Option<String>) -> Affinity {
        Affinity {
            state: Mutex::new(match pinned {
                Some(name) => AffinityState::Pinned(name),
                None => AffinityState::Unknown { probing: false },
            }),
            settled: Condvar::new(),
        }
    }

    /// The instance requests go to, when known.
    pub(crate) fn current(&self) -> Option<String> {
        match &*self.state.lock().unwrap_or_else(PoisonError::into_inner) {
            AffinityState::Pinned(name) | AffinityState::Learned(Some(name)) => Some(name.clone()),
            _ => None,
        }
    }

    pub(crate) fn is_pinned(&self) -> bool {
        matches!(
            &*self.state.lock().unwrap_or_else(PoisonError::into_inner),
            AffinityState::Pinned(_)
        )
    }

    /// The cookie to send, and whether this request is the probe that learns it.
    fn before(&self) -> (Option<String>, bool) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            match &mut *state {
                AffinityState::Pinned(name) | AffinityState::Learned(Some(name)) => {
                    return (Some(name.clone()), false);
                }
                AffinityState::Learned(None) => return (None, false),
                AffinityState::Unknown { probing } if !*probing => {
                    *probing = true;
                    return (None, true);
                }
                AffinityState::Unknown { .. } => {
                    state = self
                        .settled
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            }
        }
    }

    /// Learns from an answer (`None`: the probe got no answer, let another request probe).
    fn after(&self, probe: bool, answered: Option<Option<String>>) {
        if !probe {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        *state = match answered {
            Some(cookie) => AffinityState::Learned(cookie),
            None => AffinityState::Unknown { probing: false },
        };
        self.settled.notify_all();
    }
}

/// The value of `ARRAffinity` in an answer's `Set-Cookie` headers.
fn affinity_cookie(answer: &Answer) -> Option<String> {
    answer
        .headers("set-cookie")
        .filter_map(|c| c.split(';').next())
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == "ARRAffinity")
        .map(|(_, value)| value.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Gets new credentials from the source the current ones came from (an expired Entra token).
pub(crate) type RefreshFn = Box<dyn Fn() -> Result<Credentials> + Send + Sync>;

/// The SCM site, read-only.
pub(crate) struct ScmReader {
    http: HttpClient,
    site: SiteUrl,
    /// The credentials and their `Authorization` value (replaced when a token is renewed).
    credentials: RwLock<(Credentials, Secret)>,
    refresh: OnceLock<RefreshFn>,
    renewing: Mutex<()>,
    /// The last `Date` the site sent, and when it was received.
    date: Mutex<Option<(DateTime<Utc>, Instant)>>,
}

impl std::fmt::Debug for ScmReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScmReader")
            .field("site", &self.site)
            .field("credentials", &self.credentials())
            .finish_non_exhaustive()
    }
}

impl ScmReader {
    pub(crate) fn new(http: HttpClient, site: SiteUrl, credentials: Credentials) -> ScmReader {
        ScmReader {
            credentials: RwLock::new((credentials.clone(), credentials.authorization())),
            refresh: OnceLock::new(),
            renewing: Mutex::new(()),
            http,
            site,
            date: Mutex::new(None),
        }
    }

    /// Sets how an expired token is renewed (once; later calls are ignored).
    pub(crate) fn set_refresh(&self, refresh: RefreshFn) {
        let _ = self.refresh.set(refresh);
    }

    fn authorization(&self) -> Secret {
        self.credentials
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .1
            .clone()
    }

    /// After a 401 to `used`: whether a request with the current credentials may succeed (another
    /// thread renewed them, or they were renewed now). Renewal happens only for a bearer token
    /// from a source that can give a new one.
    fn renew(&self, used: &Secret) -> Result<bool> {
        let Some(refresh) = self.refresh.get() else {
            return Ok(false);
        };
        let _one_at_a_time = self.renewing.lock().unwrap_or_else(PoisonError::into_inner);
        if self.authorization() != *used {
            return Ok(true);
        }
        let fresh = refresh()?;
        let authorization = fresh.authorization();
        if authorization == *used {
            return Ok(false);
        }
        *self
            .credentials
            .write()
            .unwrap_or_else(PoisonError::into_inner) = (fresh, authorization);
        Ok(true)
    }

    pub(crate) fn http(&self) -> &HttpClient {
        &self.http
    }

    pub(crate) fn site(&self) -> &SiteUrl {
        &self.site
    }

    pub(crate) fn credentials(&self) -> Credentials {
        self.credentials
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .0
            .clone()
    }

    /// The URL of a route (as it may be shown).
    pub(crate) fn url(&self, route: Route<'_>) -> String {
        format!("{}{}", self.site.as_str(), route.path())
    }

    /// The last `Date` the site sent.
    pub(crate) fn last_date(&self) -> Option<(DateTime<Utc>, Instant)> {
        *self.date.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends one read. `range` is a `Range` value; HEAD asks for the body as it is (no gzip), so
    /// `Content-Length` is the file's size.
    pub(crate) fn read(
        &self,
        method: ReadMethod,
        route: Route<'_>,
        range: Option<String>,
        affinity: &Affinity,
    ) -> Result<Answer> {
        let mut headers = Vec::new();
        if let Some(range) = range {
            headers.push(("Range", range));
        }
        let method = match method {
            ReadMethod::Get => Method::Get,
            ReadMethod::Head => {
                headers.push(("Accept-Encoding", "identity".to_owned()));
                Method::Head
            }
        };
        self.exchange(&method, self.url(route), &headers, affinity)
    }

    /// Sends one request to the SCM site with the site's credentials and the store's instance
    /// affinity, keeping the site's clock. A 401 to an Entra token that can be renewed (it expired
    /// during a long wait) renews it and sends the request once more: Kudu refused it unread. The
    /// method is the caller's: the store only ever passes GET and HEAD ([`ScmReader::read`]); the
    /// writes of a repair are built in `super::writer`, each with its precondition.
    pub(crate) fn exchange(
        &self,
        method: &Method,
        url: String,
        headers: &[(&'static str, String)],
        affinity: &Affinity,
    ) -> Result<Answer> {
        let used = self.authorization();
        let answer = self.send(method, url.clone(), headers, affinity, &used)?;
        if answer.status == 401 && self.refresh.get().is_some() {
            // Renewing makes requests of its own: this one's slot is given back first.
            let shown = answer.url.clone();
            drop(answer);
            if self.renew(&used)? {
                return self.send(method, url, headers, affinity, &self.authorization());
            }
            return Err(Error::AuthFailed {
                url: shown,
                status: 401,
                check: self.credentials().refusal_hint(),
            });
        }
        Ok(answer)
    }

    fn send(
        &self,
        method: &Method,
        url: String,
        headers: &[(&'static str, String)],
        affinity: &Affinity,
        authorization: &Secret,
    ) -> Result<Answer> {
        let mut headers = headers.to_vec();
        let (cookie, probe) = affinity.before();
        if let Some(cookie) = &cookie {
            headers.push(("Cookie", format!("ARRAffinity={cookie}")));
        }
        let call = Call {
            method: method.clone(),
            url,
            headers,
            authorization: Some(authorization),
        };
        let answer = match self.http.execute(&call) {
            Ok(answer) => answer,
            Err(e) => {
                affinity.after(probe, None);
                return Err(e);
            }
        };
        let answered = affinity_cookie(&answer);
        affinity.after(probe, Some(answered.clone()));
        if let (Some(wanted), Some(answered)) = (&cookie, &answered)
            && affinity.is_pinned()
            && wanted != answered
        {
            return Err(Error::InstanceUnavailable {
                url: answer.url.clone(),
                wanted: wanted.clone(),
                answered: answered.clone(),
            });
        }
        if let Some(date) = answer
            .header("date")
            .and_then(|d| DateTime::parse_from_rfc2822(d.trim()).ok())
        {
            let mut last = self.date.lock().unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            if last.is_none_or(|(_, at)| at <= now) {
                *last = Some((date.with_timezone(&Utc), now));
            }
        }
        Ok(answer)
    }

    /// [`ScmReader::read`], then `consume` of the answer; a GET whose body broke off (a dropped
    /// connection) is sent again, within the retries.
    pub(crate) fn read_with<T>(
        &self,
        method: ReadMethod,
        route: Route<'_>,
        range: Option<String>,
        affinity: &Affinity,
        mut consume: impl FnMut(Answer) -> Result<T>,
    ) -> Result<T> {
        let mut attempt = 0;
        loop {
            let answer = self.read(method, route, range.clone(), affinity)?;
            match consume(answer) {
                Err(e) => match self.http.body_retry(attempt, &e) {
                    Some(wait) => {
                        std::thread::sleep(wait);
                        attempt += 1;
                    }
                    None => return Err(e),
                },
                done => return done,
            }
        }
    }

    /// `text` (a server's answer) with any secret of ours cut out, should the server echo one.
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in self.credentials().secrets() {
            if !secret.is_empty() {
                text = text.replace(secret, "<redacted>");
            }
        }
        text
    }

    /// The error for an answer the caller cannot use: `AUTH_FAILED`, `REDIRECT_REFUSED` or
    /// `HTTP_ERROR` with the server's text (with any secret of ours cut out, should it echo one).
    pub(crate) fn status_error(&self, answer: Answer) -> Error {
        let url = answer.url.clone();
        let status = answer.status;
        match status {
            401 | 403 => Error::AuthFailed {
                url,
                status,
                check: self.credentials().refusal_hint(),
            },
            300..=399 => Error::Redirected {
                url,
                status,
                location: answer
                    .header("location")
                    .map(super::url::redact)
                    .unwrap_or_default(),
            },
            _ => {
                let mut reason = self.redact(&answer.error_text());
                if reason.is_empty() {
                    reason = "the operation cannot use this answer".to_owned();
                }
                Error::HttpStatus {
                    url,
                    status,
                    reason,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The code of the store's modules (not their docs or tests) names no other Kudu route and no
    /// writing method, and the store sends nothing but reads; the writer names no route with side
    /// effects: what the modules' structure promises, checked on their text.
    #[test]
    fn the_store_code_names_no_side_effect_route_and_no_write() {
        let side_effects = [
            "deployments\"",
            "isdeploying",
            "\"/api/scm",
            "settings",
            "POST",
        ];
        let writes = [
            "PUT",
            "DELETE",
            "PostForm",
            "Method::Put",
            "Method::Delete",
            ".exchange(",
        ];
        for (name, text, banned) in [
            (
                "scm.rs",
                include_str!("scm.rs"),
                &["PUT", "DELETE", "PostForm"][..],
            ),
            ("store.rs", include_str!("store.rs"), &writes[..]),
            ("writer.rs", include_str!("writer.rs"), &[][..]),
        ] {
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            for line in code.lines().map(str::trim).filter(|l| !l.starts_with("//")) {
                for banned in side_effects.iter().chain(banned) {
                    assert!(!line.contains(banned), "{name}: `{line}` has {banned}");
                }
            }
        }
    }

    #[test]
    fn routes_are_vfs_or_kudus_process_only() {
        let p = RelPath::new("site/deployments/a b#1").unwrap();
        assert_eq!(
            Route::VfsFile(&p).path(),
            "/api/vfs/site/deployments/a%20b%231"
        );
        assert_eq!(
            Route::VfsDir(Some(&p)).path(),
            "/api/vfs/site/deployments/a%20b%231/"
        );
        assert_eq!(Route::VfsDir(None).path(), "/api/vfs/");
        assert_eq!(Route::KuduProcess.path(), "/api/processes/0");
    }
}

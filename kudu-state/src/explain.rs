//! Classify the body of an HTTP 409 (or a related error) returned by a Kudu deployment, so that a
//! person whose pipeline failed learns what the conflict is and whether retrying can help.
//!
//! Deploy clients (az cli, Azure Pipelines / GitHub Actions tasks, `curl`, Web Deploy wrappers)
//! print Kudu's answer in many shapes: plain text, a JSON string, the ASP.NET Web API error envelope
//! (Windows Kudu), a serialised .NET exception (KuduLite), an Azure Resource Manager error, or all
//! of these wrapped in the client's own text. [`explain`] looks through all of them for the texts
//! Kudu produces (spec §2.5), the texts deploy clients print in their place (az cli, the VS Code
//! extensions) and the Resource Manager errors met on the same path, and returns an
//! [`Explanation`]: a [`ConflictKind`], whether waiting and retrying can succeed, the fields the
//! text carries (operation names, the holder's start time, a deployment id) and one or two
//! sentences of advice. Each phrase in the table below names the public source it was taken from.
//!
//! Matching is on substrings, ASCII-case-insensitive, with any run of white space in Kudu's text
//! matching any run of white space in the body (Kudu writes two spaces before "Please"; clients
//! often collapse them or wrap lines), and with straight, curly, HTML-escaped and backslash-escaped
//! quotes all accepted. Only the first 64 KiB of a body are examined.
//!
//! Choices where Kudu's sources say nothing:
//! - A body that contains several known texts is classified by the most specific one, in this
//!   order: run-from-remote-package, auto-swap, deployment-active, deployment-exists, generic lock
//!   conflict, deployment-in-progress, ARM scope lock, ARM exclusive lock (429),
//!   directory-not-empty, lock-acquire-failed.
//! - [`ConflictKind::ArmSiteLock`] covers two Resource Manager refusals that must not be confused:
//!   a management lock (`ScopeLocked`, 409), which only removing the lock fixes, and the 429 "Cannot
//!   acquire exclusive lock to create, update or delete this site", which a concurrent change of the
//!   same app or plan causes and which clears by itself. The kind code is the same; only
//!   [`Explanation::retryable`] (false, then true) and the advice tell them apart.
//! - az cli's own 409 text for zip deploys, "There may be an ongoing deployment or your app setting
//!   has WEBSITE_RUN_FROM_PACKAGE", drops Kudu's body and names two causes, one retryable and one
//!   not: it stays [`ConflictKind::Unknown`] (not retryable), with advice on telling them apart.
//! - The VFS write error ("Could not write to local resource …") is not a lock problem: it is
//!   [`ConflictKind::Unknown`], not retryable, with advice about files in use by the running app.
//! - [`ConflictKind::LockAcquireFailed`] (a lock wait that timed out, `LockOperationException`) is
//!   marked retryable: usually another operation held the lock, but a repeat means a lock file is
//!   inaccessible (spec S10), which the advice says.
//! - The "started at" time is read by [`dotnet_time::parse_lenient_or_culture`]: the ISO forms exactly
//!   as every other Kudu date in this crate, then culture-formatted dates; a culture-formatted or
//!   zone-less time is taken as UTC (App Service runs Kudu with a UTC clock unless
//!   `WEBSITE_TIME_ZONE` is set).

use crate::names::named_enum;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::dotnet_time;

/// Only this many bytes of a body are examined, so a huge or hostile body cannot make
/// classification slow; [`Explanation::body`] still keeps the whole body.
const SCAN_LIMIT: usize = 64 * 1024;
/// At most this many `{` positions are tried as the start of an embedded JSON document.
const MAX_JSON_STARTS: usize = 8;
/// At most this many JSON values are visited per parsed document.
const MAX_JSON_NODES: usize = 1024;
/// At most this many strings are collected for matching.
const MAX_CANDIDATES: usize = 64;
/// At most this many bytes of candidate text in all, bounding the matching work.
const MAX_CANDIDATE_BYTES: usize = 6 * SCAN_LIMIT;
/// A "started at" text longer than this is not a time; it is dropped.
const MAX_TIME_TEXT: usize = 64;

named_enum! {
    /// What kind of conflict a response body reports; decides the advice and whether retrying helps.
    pub enum ConflictKind {
        /// "There is a deployment currently in progress…": the deployment lock (or, on synchronous
        /// and Linux paths, the status lock) was busy when the deployment tried to start.
        DeploymentInProgress => "deployment-in-progress",
        /// "The '…' operation conflicts with the pending '…' operation started at …": the generic
        /// lock-conflict text, naming the requested and the holding operation.
        LockConflict => "lock-conflict",
        /// "There is an auto swap deployment currently ongoing…": a fresh `autoswap.lock` marker.
        AutoswapInProgress => "autoswap-in-progress",
        /// "Run-From-Zip is set to a remote URL…": a configuration in which Kudu never deploys.
        RunFromRemotePackage => "run-from-remote-package",
        /// "Unable to delete '…'. The deployment is currently active.": deleting the live deployment.
        DeploymentActive => "deployment-active",
        /// "Deployment with id '…' exists": the requested deployment id is already taken.
        DeploymentExists => "deployment-exists",
        /// A lock could not be acquired in time ("Failed to acquire lock", `LockOperationException`)
        /// without Kudu's generic conflict text.
        LockAcquireFailed => "lock-acquire-failed",
        /// The VFS API refused to delete a directory that is not empty or not accessible.
        DirectoryNotEmpty => "directory-not-empty",
        /// Azure Resource Manager refused the request, not Kudu: either a management lock on the
        /// resource (`ScopeLocked`; not retryable) or, with HTTP 429, the App Service provider's
        /// exclusive lock on the site or plan taken by a concurrent change (retryable).
        ArmSiteLock => "arm-site-lock",
        /// None of the known texts was found.
        Unknown => "unknown",
    }
}

impl ConflictKind {
    /// Whether waiting and sending the same request again can succeed for the usual text of this
    /// kind; false means something must change first (configuration, the request, a management
    /// lock). [`ConflictKind::ArmSiteLock`] answers for its management-lock text; its 429 text is
    /// retryable, which only [`Explanation::retryable`] (decided per matched text) says.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            ConflictKind::DeploymentInProgress
                | ConflictKind::LockConflict
                | ConflictKind::AutoswapInProgress
                | ConflictKind::LockAcquireFailed
        )
    }
}

/// What a 409 body means, with the details it carries, so a person can act on it without
/// knowing Kudu's texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// The kind of conflict found.
    pub kind: ConflictKind,
    /// Whether waiting and retrying the same request can succeed, decided by the text that matched
    /// (the same as [`ConflictKind::retryable`] except for the ARM 429 of
    /// [`ConflictKind::ArmSiteLock`]).
    pub retryable: bool,
    /// For a lock conflict: the operation that was refused (e.g. "Preparing zip package").
    pub requested_operation: Option<String>,
    /// For a lock conflict: the operation holding the lock (e.g. "Performing continuous
    /// deployment"), which tells what to wait for.
    pub holder_operation: Option<String>,
    /// For a lock conflict: when the holder acquired the lock, in UTC, when the text could be read
    /// as a time; tells how stale the lock is.
    pub started_at: Option<DateTime<Utc>>,
    /// The start time exactly as written in the body (Windows "o" format with `Z`, Linux without
    /// `Z`, or a culture-formatted date).
    pub started_at_text: Option<String>,
    /// For deployment-active / deployment-exists: the deployment id named in the text.
    pub deployment_id: Option<String>,
    /// One or two sentences for a person: what it means and what to do.
    pub advice: String,
    /// The HTTP status the caller saw, if given (kept for reports; not used to classify).
    pub status: Option<u16>,
    /// The whole body, verbatim.
    pub body: String,
}

/// [`explain`] with the HTTP status checked first: the entry point of the command and both packages,
/// so a status that is not one (0, 1000) is refused the same way everywhere.
///
/// # Errors
/// `INVALID_INPUT` when `status` is not 100 to 599.
pub fn explain_response(body: &str, status: Option<u16>) -> crate::Result<Explanation> {
    if let Some(s) = status
        && !(100..=599).contains(&s)
    {
        return Err(crate::Error::invalid(
            "argument",
            format!("{s} is not an HTTP status (100 to 599)"),
        ));
    }
    Ok(explain(body, status))
}

/// Classifies a response body from any Kudu deploy client (plain text, JSON, or wrapped in a
/// client's message) and explains it; `status` is the HTTP status if the caller knows it.
///
/// Never panics, whatever the input; only the first 64 KiB of `body` are examined.
pub fn explain(body: &str, status: Option<u16>) -> Explanation {
    let scan = prefix(body, SCAN_LIMIT);
    let candidates = candidates(scan);
    let mut ex = Explanation {
        kind: ConflictKind::Unknown,
        retryable: false,
        requested_operation: None,
        holder_operation: None,
        started_at: None,
        started_at_text: None,
        deployment_id: None,
        advice: String::new(),
        status,
        body: body.to_string(),
    };
    let (kind, retryable) = classify(&candidates);
    ex.kind = kind;
    ex.retryable = retryable;
    match kind {
        ConflictKind::LockConflict => {
            // Take the first candidate from which the most fields can be read (raw text before
            // its quote-normalised copy, so names containing quote-like characters survive).
            let score = |p: &LockConflictFields| {
                usize::from(p.requested.is_some())
                    + usize::from(p.holder.is_some())
                    + usize::from(p.time_text.is_some())
                    + usize::from(p.time.is_some())
            };
            let mut best: Option<LockConflictFields> = None;
            for p in candidates.iter().filter_map(|c| parse_lock_conflict(c)) {
                if best.as_ref().is_none_or(|b| score(&p) > score(b)) {
                    best = Some(p);
                }
            }
            if let Some(p) = best {
                ex.requested_operation = p.requested;
                ex.holder_operation = p.holder;
                ex.started_at_text = p.time_text;
                ex.started_at = p.time;
            }
        }
        ConflictKind::DeploymentActive => {
            ex.deployment_id = candidates
                .iter()
                .find_map(|c| quoted_after(c, "unable to delete '"));
        }
        ConflictKind::DeploymentExists => {
            ex.deployment_id = candidates
                .iter()
                .find_map(|c| quoted_after(c, "deployment with id '"));
        }
        _ => {}
    }
    ex.advice = advice(&ex, &candidates);
    ex
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn prefix(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

/// All strings worth matching, most specific first: strings found in JSON (the exception message
/// before the generic "An error has occurred."), then the raw text, then quote-normalised copies.
fn candidates(scan: &str) -> Vec<String> {
    let mut preferred = Vec::new();
    let mut other = Vec::new();
    let trimmed = scan.trim_start();
    let mut starts: Vec<usize> = Vec::new();
    let lead = scan.len() - trimmed.len();
    if trimmed.starts_with('"') || trimmed.starts_with('[') {
        starts.push(lead);
    }
    starts.extend(
        scan.match_indices('{')
            .map(|(i, _)| i)
            .take(MAX_JSON_STARTS),
    );
    // Embedded JSON found inside JSON strings (double-serialised bodies), one level deep.
    let mut nested: Vec<String> = Vec::new();
    for start in starts {
        let Some(text) = scan.get(start..) else {
            continue;
        };
        if let Some(Ok(value)) = serde_json::Deserializer::from_str(text)
            .into_iter::<serde_json::Value>()
            .next()
        {
            collect_json_strings(&value, &mut preferred, &mut other);
        }
    }
    for s in preferred.iter().chain(other.iter()) {
        let t = s.trim_start();
        if (t.starts_with('{') || t.starts_with('[')) && nested.len() < MAX_JSON_STARTS {
            nested.push(t.to_string());
        }
    }
    for n in nested {
        if let Some(Ok(value)) = serde_json::Deserializer::from_str(&n)
            .into_iter::<serde_json::Value>()
            .next()
        {
            collect_json_strings(&value, &mut preferred, &mut other);
        }
    }

    let mut out: Vec<String> = Vec::new();
    let mut budget = MAX_CANDIDATE_BYTES;
    // The raw text (and its normalised copy) always fit: the budget keeps room for them.
    let mut push = |s: String, out: &mut Vec<String>, reserve: usize| {
        let slots = if reserve > 0 {
            MAX_CANDIDATES - 8
        } else {
            MAX_CANDIDATES
        };
        if out.len() < slots
            && s.len() + reserve <= budget
            && !s.trim().is_empty()
            && !out.contains(&s)
        {
            budget -= s.len();
            out.push(s);
        }
    };
    for s in preferred.into_iter().chain(other) {
        push(s, &mut out, 2 * SCAN_LIMIT);
    }
    push(scan.to_string(), &mut out, 0);
    push(normalise_quotes(scan), &mut out, 0);
    let originals = out.clone();
    for s in originals {
        let n = normalise_quotes(&s);
        if n != s {
            push(n, &mut out, 0);
        }
    }
    out
}

/// Keys whose string values carry the message of an error envelope, in every shape Kudu, KuduLite
/// and ARM produce.
const PREFERRED_KEYS: &[&str] = &["exceptionmessage", "message", "code", "details", "detail"];

/// Collects string values of a JSON document (bounded, iterative): values of message-like keys
/// into `preferred`, every other string (stack traces, exception types) into `other`.
fn collect_json_strings(
    root: &serde_json::Value,
    preferred: &mut Vec<String>,
    other: &mut Vec<String>,
) {
    use serde_json::Value;
    let mut stack: Vec<(&Value, bool)> = vec![(root, true)];
    let mut visited = 0usize;
    while let Some((value, is_preferred)) = stack.pop() {
        visited += 1;
        if visited > MAX_JSON_NODES || preferred.len() + other.len() >= MAX_CANDIDATES {
            break;
        }
        match value {
            Value::String(s) => {
                if is_preferred {
                    preferred.push(s.clone());
                } else {
                    other.push(s.clone());
                }
            }
            Value::Array(items) => {
                for item in items.iter().rev() {
                    stack.push((item, is_preferred));
                }
            }
            Value::Object(map) => {
                // Reverse so that the first key is visited first.
                let entries: Vec<_> = map.iter().collect();
                for (key, v) in entries.into_iter().rev() {
                    let k = key.to_ascii_lowercase();
                    let pref = PREFERRED_KEYS.contains(&k.as_str());
                    stack.push((v, pref));
                }
            }
            _ => {}
        }
    }
}

/// Turns every kind of quote a client may have produced into a straight one: curly quotes,
/// backslash escapes of a JSON-serialised string printed raw, `\u0027`, and HTML entities.
fn normalise_quotes(s: &str) -> String {
    let mut out: String =
        s.chars()
            .map(|c| match c {
                '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '`'
                | '\u{00B4}' => '\'',
                '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{2033}' => '"',
                other => other,
            })
            .collect();
    for (from, to) in [
        ("\\u0027", "'"),
        ("\\u0022", "\""),
        ("\\\\'", "'"),
        ("\\'", "'"),
        ("\\\\\"", "\""),
        ("\\\"", "\""),
        ("&#39;", "'"),
        ("&#x27;", "'"),
        ("&apos;", "'"),
        ("&quot;", "\""),
        ("\\r\\n", " "),
        ("\\n", " "),
    ] {
        if out.contains(from) {
            out = out.replace(from, to);
        }
    }
    out
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Length of a white-space character (ASCII white space or U+00A0) at `i`, or 0.
fn ws_len(hay: &[u8], i: usize) -> usize {
    match hay.get(i) {
        Some(&b) if is_ws(b) => 1,
        Some(0xC2) if hay.get(i + 1) == Some(&0xA0) => 2,
        _ => 0,
    }
}

/// If `needle` (ASCII) matches `hay` at byte `start` — ASCII-case-insensitively, each white-space
/// run in `needle` matching one or more white-space characters — the end of the match.
fn match_at(hay: &[u8], start: usize, needle: &[u8]) -> Option<usize> {
    let mut i = start;
    let mut j = 0usize;
    while j < needle.len() {
        let nb = needle[j];
        if is_ws(nb) {
            while j < needle.len() && is_ws(needle[j]) {
                j += 1;
            }
            let mut n = ws_len(hay, i);
            if n == 0 {
                return None;
            }
            while n > 0 {
                i += n;
                n = ws_len(hay, i);
            }
        } else {
            let hb = *hay.get(i)?;
            if !hb.eq_ignore_ascii_case(&nb) {
                return None;
            }
            i += 1;
            j += 1;
        }
    }
    Some(i)
}

/// Finds `needle` (ASCII, see [`match_at`]) in `hay` at or after byte `from`; returns the byte
/// range of the match. Both ends are character boundaries because `needle` starts and ends with
/// ASCII.
fn find_ws(hay: &str, needle: &str, from: usize) -> Option<(usize, usize)> {
    let h = hay.as_bytes();
    let n = needle.as_bytes();
    let first = *n.first()?;
    let mut i = from;
    while i < h.len() {
        if h[i].eq_ignore_ascii_case(&first)
            && let Some(end) = match_at(h, i, n)
        {
            return Some((i, end));
        }
        i += 1;
    }
    None
}

fn contains(hay: &str, needle: &str) -> bool {
    find_ws(hay, needle, 0).is_some()
}

/// One row of the classification table: any one of `phrases` gives `kind`, and `retryable` says
/// whether waiting and retrying can help when it was one of these phrases that matched.
struct Pattern {
    kind: ConflictKind,
    retryable: bool,
    phrases: &'static [&'static str],
}

/// Kinds in priority order, each with the phrases that identify it. Phrases without a source
/// comment are Kudu's own texts (spec §2.5, `Resources.resx` of both Kudus).
const PATTERNS: &[Pattern] = &[
    Pattern {
        kind: ConflictKind::RunFromRemotePackage,
        retryable: false,
        phrases: &[
            "is set to a remote URL using WEBSITE_",
            "Run-From-Zip is set to a remote URL",
        ],
    },
    Pattern {
        kind: ConflictKind::AutoswapInProgress,
        retryable: true,
        phrases: &["There is an auto swap deployment currently ongoing"],
    },
    Pattern {
        kind: ConflictKind::DeploymentActive,
        retryable: false,
        phrases: &["The deployment is currently active"],
    },
    Pattern {
        kind: ConflictKind::DeploymentExists,
        retryable: false,
        phrases: &["Deployment with id '"],
    },
    Pattern {
        kind: ConflictKind::LockConflict,
        retryable: true,
        phrases: &["operation conflicts with the pending"],
    },
    Pattern {
        kind: ConflictKind::DeploymentInProgress,
        retryable: true,
        phrases: &[
            "There is a deployment currently in progress",
            // az cli, Azure/azure-cli appservice/custom.py: `_check_zip_deployment_status_flex` for
            // status 5 (Conflict), "Deployment was cancelled and another deployment is in
            // progress."; `_make_onedeploy_request` (az webapp deploy) for a 409, "Another deployment
            // is in progress. Please wait until that process is complete before starting a new
            // deployment." The VS Code extensions print the first for status 5 too
            // (microsoft/vscode-azuretools appservice/src/deploy/waitForDeploymentToComplete.ts).
            "another deployment is in progress",
            // az cli, Azure/azure-cli appservice/custom.py `enable_zip_deploy_flex` (Flex
            // Consumption, where run-from-package cannot be the cause): "There may be an ongoing
            // deployment. Please track your deployment in <url>".
            "There may be an ongoing deployment. Please track your deployment",
        ],
    },
    Pattern {
        kind: ConflictKind::ArmSiteLock,
        retryable: false,
        phrases: &[
            "ScopeLocked",
            "cannot perform write operation because following scope",
            "cannot perform delete operation because following scope",
        ],
    },
    Pattern {
        kind: ConflictKind::ArmSiteLock,
        retryable: true,
        phrases: &[
            // Resource Manager's App Service provider, HTTP 429 (ExtendedCode 59206): "Cannot
            // acquire exclusive lock to create, update or delete this site. Retry the request
            // later." (microsoft/vscode-azurefunctions#1907, microsoft/vscode-azureappservice#781,
            // pulumi/pulumi-azure-native#849); for the plan, "Cannot acquire exclusive lock to
            // create or update this server farm. Retry the request later."
            // (hashicorp/terraform-provider-azurerm#600, Azure/azure-functions-host#6244).
            "Cannot acquire exclusive lock to create",
        ],
    },
    Pattern {
        kind: ConflictKind::DirectoryNotEmpty,
        retryable: false,
        phrases: &["Cannot delete directory. It is either not empty or access is not allowed"],
    },
    Pattern {
        kind: ConflictKind::LockAcquireFailed,
        retryable: true,
        phrases: &[
            "Failed to acquire lock",
            "Cannot acquire lock",
            "Could not acquire lock",
            // Also old Windows Kudu's "Unable to acquire lock after 480 seconds.  Please retry
            // operation later." (projectkudu/kudu#1263).
            "Unable to acquire lock",
            "LockOperationException",
            "acquire the deployment lock",
            // Newer KuduLite, as az cli's failure-pattern table matches it (409 + this text ->
            // `DeploymentLockFailed`: Azure/azure-cli
            // src/azure-cli/azure/cli/command_modules/appservice/_deployment_failure_patterns.py).
            "failed to acquire deployment lock",
        ],
    },
];

/// The kind of the first table row one of whose phrases occurs in a candidate, and whether that
/// row's text is retryable; `(Unknown, false)` when none does.
fn classify(candidates: &[String]) -> (ConflictKind, bool) {
    for Pattern {
        kind,
        retryable,
        phrases,
    } in PATTERNS
    {
        let hit = candidates.iter().any(|c| {
            phrases.iter().any(|p| match find_ws(c, p, 0) {
                // "Deployment with id '…' exists" needs the "exists" after the id.
                Some((_, end)) if *kind == ConflictKind::DeploymentExists => c
                    .get(end..)
                    .and_then(|rest| rest.find('\'').map(|q| (rest, q)))
                    .is_some_and(|(rest, q)| {
                        rest.get(q + 1..).is_some_and(|after| {
                            let after = after.trim_start();
                            after
                                .get(..6)
                                .is_some_and(|w| w.eq_ignore_ascii_case("exists"))
                                || after
                                    .get(..14)
                                    .is_some_and(|w| w.eq_ignore_ascii_case("already exists"))
                        })
                    }),
                Some(_) => true,
                None => false,
            })
        });
        if hit {
            return (*kind, *retryable);
        }
    }
    (ConflictKind::Unknown, false)
}

/// The text between the `'` that ends `marker` (ASCII, ends with `'`) and the next `'`.
fn quoted_after(hay: &str, marker: &str) -> Option<String> {
    let (_, end) = find_ws(hay, marker, 0)?;
    let rest = hay.get(end..)?;
    let q = rest.find('\'')?;
    let value = rest.get(..q)?.trim();
    (!value.is_empty()).then(|| value.to_string())
}

/// Trims and turns every white-space run into one space: a client that wrapped or re-spaced the
/// text must not change the operation names read from it (Kudu's names are single-spaced).
fn collapse_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Fields of the generic lock-conflict text.
struct LockConflictFields {
    requested: Option<String>,
    holder: Option<String>,
    time_text: Option<String>,
    time: Option<DateTime<Utc>>,
}

/// Reads `The '{requested}' operation conflicts with the pending '{holder}' operation started at
/// {time}.  Please retry operation later.` out of `hay`, tolerating a truncated tail.
fn parse_lock_conflict(hay: &str) -> Option<LockConflictFields> {
    let (m_start, m_end) = find_ws(hay, "' operation conflicts with the pending '", 0)?;
    let before = hay.get(..m_start)?;
    let requested = before
        .rfind('\'')
        .and_then(|q| before.get(q + 1..))
        .map(collapse_ws)
        .filter(|s| !s.is_empty());
    let rest = hay.get(m_end..)?;
    let (holder, after_holder) = match rest.find('\'') {
        Some(q) => (rest.get(..q).map(collapse_ws), rest.get(q + 1..)),
        None => (None, None),
    };
    let holder = holder.filter(|s| !s.is_empty());
    let mut time_text = None;
    if let Some(after) = after_holder
        && let Some(end) = match_at(after.as_bytes(), 0, b" operation started at ")
        && let Some(t) = after.get(end..)
    {
        let cut = match find_ws(t, "Please retry", 0) {
            Some((p, _)) => p,
            None => t.find(['"', '\n', '\r', '<', '}', ',']).unwrap_or(t.len()),
        };
        let raw = t
            .get(..cut)
            .unwrap_or("")
            .trim_end_matches(|c: char| c.is_whitespace() || c == '\u{00A0}');
        let raw = collapse_ws(raw.strip_suffix('.').unwrap_or(raw));
        if !raw.is_empty() && raw.len() <= MAX_TIME_TEXT {
            time_text = Some(raw);
        }
    }
    let time = time_text
        .as_deref()
        .and_then(dotnet_time::parse_lenient_or_culture);
    Some(LockConflictFields {
        requested,
        holder,
        time_text,
        time,
    })
}

/// Sentences for a person, specific to the kind and the fields read from the text.
fn advice(ex: &Explanation, candidates: &[String]) -> String {
    const DIAGNOSE: &str = "run `kudu-state diagnose` on the site";
    match ex.kind {
        ConflictKind::DeploymentInProgress => {
            let cancelled = candidates.iter().any(|c| {
                contains(
                    c,
                    "Deployment was cancelled and another deployment is in progress",
                )
            });
            let first = if cancelled {
                "Kudu cancelled this deployment because another one was in progress (deployment \
                 status 5, Conflict): nothing of it was applied."
            } else {
                "Kudu found its deployment lock busy."
            };
            format!(
                "{first} Wait for the running deployment to finish (poll GET \
                 /api/deployments/latest) and retry, and serialise pipelines that deploy to this \
                 app. If it keeps happening while nothing is deploying, {DIAGNOSE}: on Linux and \
                 on synchronous deploys the same text also comes from a stale lock or an \
                 inaccessible site/locks/status.lock, not only from a running deployment."
            )
        }
        ConflictKind::LockConflict => {
            let requested = ex.requested_operation.as_deref().unwrap_or("requested");
            let holder = ex.holder_operation.as_deref().unwrap_or("other");
            let since = match (&ex.started_at, &ex.started_at_text) {
                (Some(t), _) => format!(" since {}", t.format("%Y-%m-%d %H:%M:%S UTC")),
                (None, Some(raw)) => format!(" since {raw}"),
                (None, None) => String::new(),
            };
            let first = format!(
                "Kudu refused the '{requested}' operation because its lock is held by the \
                 '{holder}' operation{since}; wait for that to finish and retry."
            );
            let holder_l = holder.to_ascii_lowercase();
            let requested_l = requested.to_ascii_lowercase();
            let second = if holder_l.contains("scan") {
                format!(
                    " The holder is Kudu's malware scan (Linux), which normally ends within \
                     minutes; if it does not, {DIAGNOSE}."
                )
            } else if holder_l == "unknown" {
                format!(
                    " Kudu could not read the lock file's content; if this persists, {DIAGNOSE}."
                )
            } else if [
                "deployment status",
                "active deployment id",
                "deployment modified time",
            ]
            .iter()
            .any(|s| requested_l.contains(s))
            {
                format!(
                    " This is Kudu's status lock; if it persists on Linux, site/locks/status.lock \
                     is probably not accessible (ownership/permissions) — {DIAGNOSE}."
                )
            } else {
                format!(
                    " If it persists while nothing is deploying, {DIAGNOSE} to find a stale lock \
                     (on Linux the deployment lock expires 25 minutes after it was taken)."
                )
            };
            first + &second
        }
        ConflictKind::AutoswapInProgress => "An auto swap triggered by a previous deployment to \
             this slot is still within its 2-minute window; wait a few minutes and retry."
            .to_string(),
        ConflictKind::RunFromRemotePackage => "The app runs from a package at a remote URL \
             (WEBSITE_RUN_FROM_PACKAGE or WEBSITE_USE_ZIP set to a URL), so Kudu refuses every \
             deployment: do not retry. Upload the new package to that URL and restart the app, or \
             set the setting to 1 (or remove it) to deploy through Kudu."
            .to_string(),
        ConflictKind::DeploymentActive => {
            let id = ex
                .deployment_id
                .as_deref()
                .map(|i| format!(" '{i}'"))
                .unwrap_or_default();
            format!(
                "Kudu will not delete deployment{id} because it is the active (live) one; retrying \
                 fails the same way. Deploy a newer version first, or leave it in place."
            )
        }
        ConflictKind::DeploymentExists => {
            let id = ex
                .deployment_id
                .as_deref()
                .map(|i| format!(" '{i}'"))
                .unwrap_or_default();
            format!(
                "A deployment with id{id} already exists, so retrying the same request fails again; \
                 use a new deployment id, or redeploy the existing one."
            )
        }
        ConflictKind::LockAcquireFailed => format!(
            "Kudu timed out waiting for one of its locks; retry once after a minute. If it \
             repeats, {DIAGNOSE}: on Linux a persistent failure usually means a file under \
             site/locks is not accessible (ownership/permissions)."
        ),
        ConflictKind::DirectoryNotEmpty => "Kudu's file API will not delete a directory that is \
             not empty or not accessible; retrying unchanged fails again. Delete its contents \
             first and check for read-only files or files in use by the running app."
            .to_string(),
        ConflictKind::ArmSiteLock if ex.retryable => "Azure Resource Manager (HTTP 429) refused \
             the change because another create, update or delete of this app or its App Service \
             plan held the provider's exclusive lock; this is neither a Kudu lock nor a management \
             lock and clears by itself. Wait a minute and retry, and run changes to apps that share \
             a plan one after another (parallel infrastructure-as-code runs are the usual cause)."
            .to_string(),
        ConflictKind::ArmSiteLock => "Azure Resource Manager refused the change because a \
             management lock (ReadOnly or CanNotDelete) is set on the app, its plan or its \
             resource group; this is not a Kudu lock and retrying will not help. Remove or adjust \
             the lock (portal: Settings > Locks), then deploy again."
            .to_string(),
        ConflictKind::Unknown => {
            // az cli's zip-deploy 409 (Azure/azure-cli appservice/custom.py `enable_zip_deploy`, as
            // quoted in Azure/azure-dev#113) replaces Kudu's body with this guess at two causes.
            if candidates.iter().any(|c| {
                contains(
                    c,
                    "There may be an ongoing deployment or your app setting has WEBSITE_RUN_FROM_PACKAGE",
                )
            }) {
                format!(
                    "az cli got HTTP 409 from Kudu and did not print Kudu's answer; it is one of two \
                     things. If WEBSITE_RUN_FROM_PACKAGE (or WEBSITE_USE_ZIP) is set to a URL, Kudu \
                     refuses every deployment: set it to 1 or remove it, retrying will not help. \
                     Otherwise a deployment was running: check GET /api/deployments/latest and retry \
                     once it has finished; if nothing is deploying, {DIAGNOSE}."
                )
            } else if candidates
                .iter()
                .any(|c| contains(c, "Could not write to local resource"))
            {
                format!(
                    "Kudu's file API could not write that file on the site's disk (usually it is \
                     in use by the running app, read-only, or the disk is full); this is not a \
                     deployment lock. Stop the app or take it offline with app_offline.htm and try \
                     again, and {DIAGNOSE} if deployments also fail."
                )
            } else {
                format!(
                    "This response does not match any known Kudu conflict text; {DIAGNOSE} to see \
                     its deployment state and locks."
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LOCK_W: &str = "The 'Preparing zip package' operation conflicts with the pending 'Performing continuous deployment' operation started at 2024-09-04T10:33:18.1234567Z.  Please retry operation later.";
    const LOCK_L: &str = "The 'Performing deployment' operation conflicts with the pending 'Performing continuous scan' operation started at 2021-09-09T17:27:47.0000000.  Please retry operation later.";
    const LOCK_US: &str = "The 'Handling git receive pack' operation conflicts with the pending 'Performing continuous deployment' operation started at 9/4/2024 10:33:18 AM.  Please retry operation later.";
    const IN_PROGRESS: &str =
        "There is a deployment currently in progress. Please try again when it completes.";
    const AUTOSWAP: &str =
        "There is an auto swap deployment currently ongoing please try again when it completes.";
    const RUN_FROM_W: &str = "Run-From-Zip is set to a remote URL using WEBSITE_USE_ZIP app setting. Deployment is not supported in this configuration.";
    const RUN_FROM_L: &str = "Run-From-Zip is set to a remote URL using WEBSITE_RUN_FROM_PACKAGE or WEBSITE_USE_ZIP app setting. Deployment is not supported in this configuration.";
    const ACTIVE: &str = "Unable to delete '8c1f4e2a9b0d'. The deployment is currently active.";
    const EXISTS: &str = "Deployment with id 'a1b2c3' exists";
    const DIR: &str = "Cannot delete directory. It is either not empty or access is not allowed.";
    const VFS_WRITE: &str = "Could not write to local resource 'D:\\home\\site\\wwwroot\\app.dll' due to error 'The process cannot access the file because it is being used by another process.'.";

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("test value")
            .with_timezone(&Utc)
    }

    fn json_string(s: &str) -> String {
        serde_json::to_string(s).expect("test value")
    }

    /// Every way a client may hand us `text`.
    fn variants(text: &str) -> Vec<String> {
        let escaped = text.replace('\'', "\\'");
        vec![
            text.to_string(),
            format!("{text}\n"),
            format!("{text}\r\n"),
            text.replace("  ", " "),
            text.replace('\'', "\u{2019}"),
            text.replacen('\'', "\u{2018}", 1),
            json_string(text),
            format!("\"{escaped}\""),
            serde_json::json!({
                "Message": "An error has occurred.",
                "ExceptionMessage": text,
                "ExceptionType": "System.InvalidOperationException",
                "StackTrace": "   at Kudu.Services.Deployment.DeploymentController.Delete(String id)"
            })
            .to_string(),
            serde_json::json!({
                "ClassName": "System.InvalidOperationException",
                "Message": text,
                "Data": null,
                "InnerException": null,
                "HResult": -2146233079
            })
            .to_string(),
            serde_json::json!({"message": text}).to_string(),
            format!(
                "##[error]Error: Failed to deploy web package to App Service.\n##[error]Conflict (CODE: 409)\n{text}"
            ),
            format!(
                "ERROR: Status Code: 409, Details: {}",
                json_string(text)
            ),
            format!(
                "ERROR: Status Code: 409, Details: {}",
                serde_json::json!({"Message": text})
            ),
            text.replace(' ', "\n  "),
            text.to_uppercase(),
        ]
    }

    fn assert_kind_all(text: &str, kind: ConflictKind) {
        for v in variants(text) {
            let ex = explain(&v, Some(409));
            assert_eq!(ex.kind, kind, "body: {v:?}");
            assert_eq!(ex.retryable, kind.retryable());
            assert_eq!(ex.body, v);
            assert_eq!(ex.status, Some(409));
            assert!(!ex.advice.is_empty());
        }
    }

    #[test]
    fn every_spec_text_in_every_shape() {
        assert_kind_all(LOCK_W, ConflictKind::LockConflict);
        assert_kind_all(LOCK_L, ConflictKind::LockConflict);
        assert_kind_all(LOCK_US, ConflictKind::LockConflict);
        assert_kind_all(IN_PROGRESS, ConflictKind::DeploymentInProgress);
        assert_kind_all(AUTOSWAP, ConflictKind::AutoswapInProgress);
        assert_kind_all(RUN_FROM_W, ConflictKind::RunFromRemotePackage);
        assert_kind_all(RUN_FROM_L, ConflictKind::RunFromRemotePackage);
        assert_kind_all(ACTIVE, ConflictKind::DeploymentActive);
        assert_kind_all(EXISTS, ConflictKind::DeploymentExists);
        assert_kind_all(DIR, ConflictKind::DirectoryNotEmpty);
        assert_kind_all(
            "Deployment was cancelled and another deployment is in progress.",
            ConflictKind::DeploymentInProgress,
        );
        assert_kind_all(
            "Failed to acquire deployment lock",
            ConflictKind::LockAcquireFailed,
        );
        // The ARM 429 in every shape: its kind, and retryable although the kind's default is not.
        for v in variants(
            "Cannot acquire exclusive lock to create, update or delete this site. Retry the request later.",
        ) {
            let ex = explain(&v, Some(429));
            assert_eq!(
                (ex.kind, ex.retryable),
                (ConflictKind::ArmSiteLock, true),
                "{v:?}"
            );
        }
    }

    #[test]
    fn lock_conflict_fields_windows() {
        // Every shape except the upper-cased one keeps the names' case.
        for v in variants(LOCK_W)
            .into_iter()
            .filter(|v| !v.contains("PREPARING"))
        {
            let ex = explain(&v, Some(409));
            assert_eq!(
                ex.requested_operation.as_deref(),
                Some("Preparing zip package"),
                "{v:?}"
            );
            assert_eq!(
                ex.holder_operation.as_deref(),
                Some("Performing continuous deployment"),
                "{v:?}"
            );
            if v.contains("2024-09-04T10:33:18.1234567Z") {
                assert_eq!(
                    ex.started_at_text.as_deref(),
                    Some("2024-09-04T10:33:18.1234567Z"),
                    "{v:?}"
                );
                assert_eq!(ex.started_at, Some(utc("2024-09-04T10:33:18.1234567Z")));
            }
        }
        let ex = explain(LOCK_W, None);
        assert!(ex.retryable);
        assert!(ex.advice.contains("Performing continuous deployment"));
        assert!(ex.advice.contains("2024-09-04 10:33:18 UTC"));
    }

    #[test]
    fn lock_conflict_fields_linux_without_z() {
        let ex = explain(LOCK_L, Some(409));
        assert_eq!(
            ex.requested_operation.as_deref(),
            Some("Performing deployment")
        );
        assert_eq!(
            ex.holder_operation.as_deref(),
            Some("Performing continuous scan")
        );
        assert_eq!(
            ex.started_at_text.as_deref(),
            Some("2021-09-09T17:27:47.0000000")
        );
        assert_eq!(ex.started_at, Some(utc("2021-09-09T17:27:47Z")));
        assert!(ex.advice.contains("malware scan"));
    }

    #[test]
    fn lock_conflict_fields_culture_date() {
        let ex = explain(LOCK_US, Some(409));
        assert_eq!(
            ex.requested_operation.as_deref(),
            Some("Handling git receive pack")
        );
        assert_eq!(ex.started_at_text.as_deref(), Some("9/4/2024 10:33:18 AM"));
        assert_eq!(ex.started_at, Some(utc("2024-09-04T10:33:18Z")));
        let pm = LOCK_US.replace("10:33:18 AM", "10:33:18\u{202F}PM");
        assert_eq!(
            explain(&pm, None).started_at,
            Some(utc("2024-09-04T22:33:18Z"))
        );
        let gb = LOCK_US.replace("9/4/2024 10:33:18 AM", "25/12/2024 08:00:01");
        assert_eq!(
            explain(&gb, None).started_at,
            Some(utc("2024-12-25T08:00:01Z"))
        );
        let de = LOCK_US.replace("9/4/2024 10:33:18 AM", "04.09.2024 10:33:18");
        assert_eq!(
            explain(&de, None).started_at,
            Some(utc("2024-09-04T10:33:18Z"))
        );
        let bad = LOCK_US.replace("9/4/2024 10:33:18 AM", "sometime");
        let ex = explain(&bad, None);
        assert_eq!(ex.kind, ConflictKind::LockConflict);
        assert_eq!(ex.started_at_text.as_deref(), Some("sometime"));
        assert_eq!(ex.started_at, None);
    }

    #[test]
    fn lock_conflict_status_lock_and_truncated() {
        let s10 = "The 'Updating deployment status' operation conflicts with the pending 'Getting deployment status' operation started at 2024-07-31T09:51:24.2810000Z.  Please retry operation later.";
        let ex = explain(s10, Some(409));
        assert!(ex.advice.contains("status.lock"));
        let truncated = "The 'Deleting deployment' operation conflicts with the pending 'Perfor";
        let ex = explain(truncated, Some(409));
        assert_eq!(ex.kind, ConflictKind::LockConflict);
        assert_eq!(
            ex.requested_operation.as_deref(),
            Some("Deleting deployment")
        );
        assert_eq!(ex.holder_operation, None);
        assert_eq!(ex.started_at_text, None);
        let no_please = "Conflict: \"The 'Deleting repository' operation conflicts with the pending 'unknown' operation started at 2024-09-04T10:33:18.1234567Z\"";
        let ex = explain(no_please, None);
        assert_eq!(ex.holder_operation.as_deref(), Some("unknown"));
        assert_eq!(
            ex.started_at_text.as_deref(),
            Some("2024-09-04T10:33:18.1234567Z")
        );
    }

    #[test]
    fn deployment_in_progress_mentions_status_lock() {
        let ex = explain(IN_PROGRESS, Some(409));
        assert!(ex.retryable);
        assert!(ex.advice.contains("kudu-state diagnose"));
        assert!(ex.advice.contains("status.lock"));
    }

    #[test]
    fn not_retryable_kinds_and_ids() {
        let ex = explain(RUN_FROM_L, Some(409));
        assert!(!ex.retryable);
        assert!(ex.advice.contains("do not retry"));
        for v in variants(ACTIVE) {
            let ex = explain(&v, Some(409));
            assert_eq!(
                ex.deployment_id.map(|i| i.to_ascii_lowercase()).as_deref(),
                Some("8c1f4e2a9b0d"),
                "{v:?}"
            );
            assert!(!ex.retryable);
        }
        for v in variants(EXISTS) {
            let ex = explain(&v, Some(409));
            assert_eq!(
                ex.deployment_id
                    .as_deref()
                    .map(str::to_ascii_lowercase)
                    .as_deref(),
                Some("a1b2c3"),
                "{v:?}"
            );
        }
        assert_eq!(
            explain("Deployment with id 'x' not found", None).kind,
            ConflictKind::Unknown
        );
        assert!(!explain(DIR, None).retryable);
    }

    #[test]
    fn arm_scope_lock() {
        let body = r#"{"error":{"code":"ScopeLocked","message":"The scope '/subscriptions/0000/resourcegroups/rg/providers/Microsoft.Web/sites/app' cannot perform write operation because following scope(s) are locked: '/subscriptions/0000/resourceGroups/rg'. Please remove the lock and try again."}}"#;
        let ex = explain(body, Some(409));
        assert_eq!(ex.kind, ConflictKind::ArmSiteLock);
        assert!(!ex.retryable);
        assert!(ex.advice.contains("management lock"));
        let text_only = "ERROR: (ScopeLocked) The scope 'x' cannot perform write operation because following scope(s) are locked: 'y'.";
        assert_eq!(
            explain(text_only, Some(409)).kind,
            ConflictKind::ArmSiteLock
        );
        let msg_only = r#"{"error":{"code":"Conflict","message":"The scope 'x' cannot perform delete operation because following scope(s) are locked: 'y'."}}"#;
        assert_eq!(explain(msg_only, None).kind, ConflictKind::ArmSiteLock);
    }

    /// Every row answers as its kind does, except the one ARM 429 row: the only place where the
    /// matched text, not the kind, decides retryability.
    #[test]
    fn pattern_rows_agree_with_their_kind_but_one() {
        let exceptions: Vec<_> = PATTERNS
            .iter()
            .filter(|p| p.retryable != p.kind.retryable())
            .map(|p| (p.kind, p.retryable, p.phrases))
            .collect();
        assert_eq!(
            exceptions,
            vec![(
                ConflictKind::ArmSiteLock,
                true,
                &["Cannot acquire exclusive lock to create"][..]
            )]
        );
        // Every phrase classifies as its own row (no earlier row shadows it).
        for p in PATTERNS {
            for phrase in p.phrases {
                let body = if p.kind == ConflictKind::DeploymentExists {
                    format!("{phrase}x' exists")
                } else {
                    (*phrase).to_string()
                };
                assert_eq!(
                    classify(&candidates(&body)),
                    (p.kind, p.retryable),
                    "{phrase}"
                );
            }
        }
    }

    #[test]
    fn lock_acquire_failed_and_vfs_write() {
        for body in [
            "Failed to acquire lock",
            "Kudu.Contracts.Infrastructure.LockOperationException: Cannot acquire lock",
            r#"{"ClassName":"Kudu.Contracts.Infrastructure.LockOperationException","Message":"Unable to acquire the deployment lock"}"#,
        ] {
            let ex = explain(body, Some(409));
            assert_eq!(ex.kind, ConflictKind::LockAcquireFailed, "{body}");
            assert!(ex.retryable);
        }
        // A LockOperationException carrying the generic text is a lock conflict.
        let wrapped = serde_json::json!({"ClassName": "Kudu.Contracts.Infrastructure.LockOperationException", "Message": LOCK_L}).to_string();
        assert_eq!(explain(&wrapped, None).kind, ConflictKind::LockConflict);

        let ex = explain(VFS_WRITE, Some(409));
        assert_eq!(ex.kind, ConflictKind::Unknown);
        assert!(!ex.retryable);
        assert!(ex.advice.contains("in use"));
    }

    #[test]
    fn unknown_bodies() {
        for body in [
            "",
            "   ",
            "Conflict",
            "{}",
            "[1,2",
            "{\"Message\":null}",
            "\"\"",
        ] {
            let ex = explain(body, None);
            assert_eq!(ex.kind, ConflictKind::Unknown, "{body:?}");
            assert!(!ex.retryable);
            assert!(ex.advice.contains("kudu-state diagnose"));
            assert_eq!(ex.status, None);
        }
    }

    #[test]
    fn double_serialised_json() {
        let inner =
            serde_json::json!({"Message": "An error has occurred.", "ExceptionMessage": ACTIVE})
                .to_string();
        let outer =
            serde_json::json!({"error": {"code": "BadRequest", "message": inner}}).to_string();
        let ex = explain(&outer, Some(409));
        assert_eq!(ex.kind, ConflictKind::DeploymentActive);
        assert_eq!(ex.deployment_id.as_deref(), Some("8c1f4e2a9b0d"));
    }

    #[test]
    fn only_first_64k_examined_but_body_kept() {
        let body = format!("{}{}", "x".repeat(SCAN_LIMIT), IN_PROGRESS);
        let ex = explain(&body, Some(409));
        assert_eq!(ex.kind, ConflictKind::Unknown);
        assert_eq!(ex.body.len(), body.len());
        let body = format!("{}é{}", "x".repeat(SCAN_LIMIT - 1), IN_PROGRESS);
        assert_eq!(explain(&body, None).kind, ConflictKind::Unknown);
    }

    #[test]
    fn names_are_the_serde_names() {
        for k in ConflictKind::ALL {
            assert_eq!(
                serde_json::to_value(k).ok(),
                Some(serde_json::Value::String(k.as_str().to_string()))
            );
        }
        let v = serde_json::to_value(explain(LOCK_W, Some(409))).expect("test value");
        assert_eq!(v["kind"], "lock-conflict");
        assert_eq!(v["started_at"], "2024-09-04T10:33:18.123456700Z");
    }

    fn op_name() -> impl Strategy<Value = String> {
        "[A-Za-z0-9 ._()/:-]{1,40}".prop_filter_map("trimmed non-empty", |s| {
            let t = s.trim().to_string();
            (!t.is_empty()).then_some(t)
        })
    }

    proptest! {
        #[test]
        fn never_panics(body in any::<String>(), status in any::<Option<u16>>()) {
            let ex = explain(&body, status);
            prop_assert_eq!(ex.body, body);
        }

        #[test]
        fn never_panics_on_near_miss(body in "[\\\\'\"{}\\[\\]: ,.a-zA-Z0-9\u{2019}\u{a0}]{0,200}") {
            let _ = explain(&body, None);
            let _ = explain(&format!("The '{body}' operation conflicts with the pending '{body}"), None);
        }

        #[test]
        fn recovers_operation_names(
            requested in op_name(),
            holder in op_name(),
            any_names in "[^']{1,30}",
            json in any::<bool>(),
        ) {
            let text = format!("The '{requested}' operation conflicts with the pending '{holder}' operation started at 2024-09-04T10:33:18.1234567Z.  Please retry operation later.");
            let body = if json { serde_json::json!({"Message": text}).to_string() } else { text };
            let ex = explain(&body, Some(409));
            prop_assert_eq!(ex.kind, ConflictKind::LockConflict);
            prop_assert_eq!(ex.requested_operation, Some(collapse_ws(&requested)));
            prop_assert_eq!(ex.holder_operation, Some(collapse_ws(&holder)));
            prop_assert_eq!(ex.started_at, Some(utc("2024-09-04T10:33:18.1234567Z")));

            // Any names without a straight quote, raw text: both recovered (trimmed).
            let text = format!("The '{any_names}' operation conflicts with the pending '{any_names}' operation started at x.  Please retry operation later.");
            let ex = explain(&text, None);
            let want = collapse_ws(&any_names);
            if !want.is_empty() {
                prop_assert_eq!(ex.requested_operation.as_deref(), Some(want.as_str()));
                prop_assert_eq!(ex.holder_operation.as_deref(), Some(want.as_str()));
            }
        }
    }
}

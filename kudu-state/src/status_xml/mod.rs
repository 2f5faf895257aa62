//! `site/deployments/<id>/status.xml`: read exactly as Kudu reads it, write exactly as Kudu writes it.
//!
//! Kudu deletes a whole deployment folder when it cannot load that folder's `status.xml` (spec §5.2).
//! So the reader's job is to say, for any bytes, whether Kudu would accept them and what it would
//! then hold in memory. The writer reproduces Kudu's `Save` byte for byte (spec §5.1), so a
//! repaired file cannot be told apart from one Kudu wrote.
//!
//! Reading follows `XDocument.Load(stream)` (default `LoadOptions.None`) followed by
//! `DeploymentStatusFile.Initialize`:
//! - the XML must be well-formed UTF-8 (a BOM is optional); the root element's name is not checked;
//! - only direct children of the root whose name has no prefix and no non-empty default namespace
//!   count (`XElement.Element("id")` matches the no-namespace name only); the first of several wins;
//! - an element's value is the concatenation of all descendant text and CDATA, like `XElement.Value`;
//!   whitespace-only text nodes are dropped (`XmlReaderSettings.IgnoreWhitespace`, which `LoadOptions.None`
//!   sets) unless `xml:space="preserve"` is in scope;
//! - line ends in text are normalised (`\r\n` and lone `\r` → `\n`) once, by quick-xml's
//!   `xml10_content`; character references such as `&#13;` are not normalised, as in XML 1.0.
//!
//! Two things this module deliberately refuses instead of modelling: a `<!DOCTYPE>` (.NET would parse
//! it and expand its entities) and an XML declaration naming an encoding other than UTF-8 (.NET would
//! switch decoders). Both are reported as [`StatusXmlError::Unsupported`] / [`StatusXmlError::UnsupportedEncoding`],
//! which mean "cannot tell", not "Kudu rejects".
//!
//! The rules above are implemented once, on quick-xml's events. A scan reads up to 100,000 of these
//! files, nearly all in the exact shape Kudu's `Save` writes, so that shape is first read by a one-pass
//! byte reader (`shape`) that gives up on anything else; it gives exactly what the general reader
//! gives (checked on every debug-build parse, by proptests and by the fuzzer).

mod doc;
mod shape;

pub use doc::StatusDoc;

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::dotnet_time;
use crate::platform::Platform;

/// Deployment status as Kudu's `DeployStatus` enum.
///
/// `status.xml` stores the name; Kudu's JSON API the number (declaration order). Kudu parses the
/// element with `Enum.TryParse`, which accepts any 32-bit integer, so values outside the enum survive a
/// read and are written back as numbers.
///
/// # The newer values -1, 5 and 6
///
/// Kudu's public sources (Windows Kudu 2024-09, KuduLite `dev` 2021-09 and every branch of both) declare
/// only `Pending`..`Success` (0..=4). Newer Kudu builds report three more values through
/// `/api/deployments`, which deploy clients handle by number:
/// - `-1` **Cancelled**: az cli raises "Deployment was cancelled." (`_check_zip_deployment_status_flex` in
///   Azure/azure-cli `appservice/custom.py`); the VS Code App Service tools throw the same
///   (microsoft/vscode-azuretools `appservice/src/deploy/waitForDeploymentToComplete.ts`).
/// - `5` **Conflict**: both print "Deployment was cancelled and another deployment is in progress".
/// - `6` **PartialSuccess**: "Deployment was partially successful."; VS Code reports it and carries on
///   as after a success, az cli raises it.
///
/// The names are those of the .NET SDK's OneDeploy client enum, which mirrors the server's numbering
/// (dotnet/sdk `src/WebSdk/Publish/Tasks/Tasks/OneDeploy/DeploymentStatus.cs`: `Cancelled = -1`,
/// `Conflict = 5`, `PartialSuccess = 6`; it counts `PartialSuccess` as successful, the other two as
/// failed, and all three as terminal). No public Kudu source shows how a build that has them writes
/// them into `status.xml`; a .NET enum that declares a value writes its *name* (`ToString()`), so the
/// writer writes the name, and the reader accepts the name and the number alike, as `Enum.TryParse`
/// of such an enum does. (A 2021/2024 Kudu reading one of these *names* would fail `TryParse` and take
/// `Pending`; it reads the numbers.)
///
/// For Kudu's own logic in the public sources, only `Success` and `Failed` are terminal: purge and
/// `/api/deployments/latest` treat every other value as in progress ([`DeployStatus::is_terminal`]).
/// For the builds that write the newer values and for every client, they are over
/// ([`DeployStatus::is_finished`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeployStatus {
    /// 0: received, not started yet (also what Kudu reads for an unparsable value).
    Pending,
    /// 1: the build step is running.
    Building,
    /// 2: files are being copied to `wwwroot`.
    Deploying,
    /// 3: ended in failure.
    Failed,
    /// 4: ended successfully.
    Success,
    /// -1 (newer Kudu builds): the deployment was cancelled and did not finish.
    Cancelled,
    /// 5 (newer Kudu builds): the deployment was cancelled because another deployment was in
    /// progress; retrying after that one ends can succeed.
    Conflict,
    /// 6 (newer Kudu builds): the deployment ended with some of its steps or files failed.
    PartialSuccess,
    /// Any other integer, which Kudu keeps as-is (never -1..=6).
    Other(i64),
}

impl DeployStatus {
    /// The number Kudu's JSON API uses for this status (-1..=6, or the kept out-of-range value).
    #[must_use]
    pub fn as_number(&self) -> i64 {
        match self {
            DeployStatus::Pending => 0,
            DeployStatus::Building => 1,
            DeployStatus::Deploying => 2,
            DeployStatus::Failed => 3,
            DeployStatus::Success => 4,
            DeployStatus::Cancelled => -1,
            DeployStatus::Conflict => 5,
            DeployStatus::PartialSuccess => 6,
            DeployStatus::Other(n) => *n,
        }
    }

    /// The enum name written to `status.xml`, or `None` for [`DeployStatus::Other`].
    #[must_use]
    pub fn name(&self) -> Option<&'static str> {
        match self {
            DeployStatus::Pending => Some("Pending"),
            DeployStatus::Building => Some("Building"),
            DeployStatus::Deploying => Some("Deploying"),
            DeployStatus::Failed => Some("Failed"),
            DeployStatus::Success => Some("Success"),
            DeployStatus::Cancelled => Some("Cancelled"),
            DeployStatus::Conflict => Some("Conflict"),
            DeployStatus::PartialSuccess => Some("PartialSuccess"),
            DeployStatus::Other(_) => None,
        }
    }

    /// Whether Kudu's public sources consider the deployment ended (`Failed` or `Success`): their purge
    /// and `/api/deployments/latest` treat anything else, the newer values included, as in progress.
    #[must_use]
    pub fn is_terminal(&self) -> bool {
        matches!(self, DeployStatus::Failed | DeployStatus::Success)
    }

    /// Whether the deployment is over for the Kudu builds that write this value and for the clients
    /// that poll it: [`is_terminal`](Self::is_terminal) plus `Cancelled`, `Conflict` and
    /// `PartialSuccess`. Such a record is not a stuck deployment, whatever else it says.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.is_terminal()
            || matches!(
                self,
                DeployStatus::Cancelled | DeployStatus::Conflict | DeployStatus::PartialSuccess
            )
    }

    /// The status for a number, mapping -1..=6 to the names (as `Enum.ToObject` does).
    #[must_use]
    pub fn from_number(n: i64) -> DeployStatus {
        match n {
            0 => DeployStatus::Pending,
            1 => DeployStatus::Building,
            2 => DeployStatus::Deploying,
            3 => DeployStatus::Failed,
            4 => DeployStatus::Success,
            -1 => DeployStatus::Cancelled,
            5 => DeployStatus::Conflict,
            6 => DeployStatus::PartialSuccess,
            n => DeployStatus::Other(n),
        }
    }

    /// The status for an exact (case-sensitive) enum name.
    fn from_name(s: &str) -> Option<DeployStatus> {
        Some(match s {
            "Pending" => DeployStatus::Pending,
            "Building" => DeployStatus::Building,
            "Deploying" => DeployStatus::Deploying,
            "Failed" => DeployStatus::Failed,
            "Success" => DeployStatus::Success,
            "Cancelled" => DeployStatus::Cancelled,
            "Conflict" => DeployStatus::Conflict,
            "PartialSuccess" => DeployStatus::PartialSuccess,
            _ => return None,
        })
    }

    /// `Enum.TryParse<DeployStatus>(value)` (.NET, case-sensitive): trims whitespace; a value starting
    /// with a digit, `+` or `-` must be an `Int32`; otherwise a comma-separated list of names whose
    /// values are OR-ed (a .NET quirk: `"Building, Deploying"` is `Failed`). `None` = TryParse fails.
    fn try_parse(value: &str) -> Option<DeployStatus> {
        let v = value.trim();
        let first = v.chars().next()?;
        if first.is_ascii_digit() || first == '+' || first == '-' {
            return v
                .parse::<i32>()
                .ok()
                .map(|n| Self::from_number(i64::from(n)));
        }
        let mut acc: i64 = 0;
        for part in v.split(',') {
            acc |= Self::from_name(part.trim())?.as_number();
        }
        Some(Self::from_number(acc))
    }
}

impl std::fmt::Display for DeployStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "{}", self.as_number()),
        }
    }
}

impl Serialize for DeployStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.name() {
            Some(name) => serializer.serialize_str(name),
            None => serializer.serialize_i64(self.as_number()),
        }
    }
}

impl<'de> Deserialize<'de> for DeployStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Num(i64),
            Name(String),
        }
        match Repr::deserialize(deserializer)? {
            Repr::Num(n) => Ok(DeployStatus::from_number(n)),
            Repr::Name(s) => DeployStatus::from_name(&s)
                .ok_or_else(|| serde::de::Error::custom(format!("unknown deploy status {s:?}"))),
        }
    }
}

/// One status.xml document as Kudu would hold it in memory after reading, plus what is needed to
/// write it back byte for byte.
///
/// For text fields `None` is the self-closing element (`<x />`, what Kudu writes for a null string)
/// and `Some("")` the open/close pair (`<x></x>`, an empty string); Kudu itself reads both as `""`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusXml {
    /// `<id>`: the deployment id; required on read (an empty id reads but cannot be re-saved).
    pub id: String,
    /// `<author>`: commit author or `N/A`; sanitised on write.
    pub author: Option<String>,
    /// `<deployer>`: who deployed, e.g. `ZipDeploy`, `GitHub`.
    pub deployer: Option<String>,
    /// `<authorEmail>`.
    pub author_email: Option<String>,
    /// `<message>`: commit or deployment message; sanitised on write.
    pub message: Option<String>,
    /// `<progress>`: last top-level log message while in progress.
    pub progress: Option<String>,
    /// `<status>`: where the deployment is in its lifecycle.
    pub status: DeployStatus,
    /// `<statusText>`: required on read; e.g. "Receiving changes.".
    pub status_text: Option<String>,
    /// `<lastSuccessEndTime>`; `None` = `<lastSuccessEndTime />` (or empty/absent on read).
    pub last_success_end_time: Option<DateTime<Utc>>,
    /// `<receivedTime>`: required and non-empty on read; the list's sort key.
    pub received_time: DateTime<Utc>,
    /// `<startTime>`: required and non-empty on read.
    pub start_time: DateTime<Utc>,
    /// `<endTime>`; `None` while in progress.
    pub end_time: Option<DateTime<Utc>>,
    /// `<complete>`: whether Kudu considers the deployment finished.
    pub complete: bool,
    /// `<is_temp>`: a placeholder record of an async deployment.
    pub is_temp: bool,
    /// `<is_readonly>`: zip-type and external records cannot be redeployed.
    pub is_readonly: bool,
    /// `<project_type>`: Windows only; written only for [`Platform::Windows`].
    pub project_type: Option<String>,
    /// `<vsproject_id>`: Windows only; written only for [`Platform::Windows`].
    pub vsproject_id: Option<String>,
    /// Optional elements that were absent from the file (element local names, e.g. "author"). Kudu
    /// reads such a record but its next save throws when `author` or `message` is absent.
    /// Only elements both platforms write are recorded (never `project_type` / `vsproject_id`).
    pub missing: Vec<String>,
    /// Status text as it appeared when it was not a known name/integer (Kudu silently read it as
    /// Pending), for diagnostics. None otherwise.
    pub status_unrecognised: Option<String>,
}

impl StatusXml {
    /// Why Kudu's next `Save` of this record would throw, if it would.
    ///
    /// Matters because Kudu re-saves records during listings (e.g. marking a stuck one failed), so an
    /// unsavable record can make `GET /api/deployments` fail repeatedly (spec §5.2).
    #[must_use]
    pub fn unsavable_reason(&self) -> Option<String> {
        unsavable_reason(&self.id, &self.missing)
    }
}

/// [`StatusXml::unsavable_reason`] from the two things it depends on (shared with
/// [`StatusDoc`](crate::status_doc::StatusDoc)).
pub(crate) fn unsavable_reason(id: &str, missing: &[String]) -> Option<String> {
    let mut reasons = Vec::new();
    if id.is_empty() {
        reasons.push("empty <id>".to_owned());
    }
    for name in ["author", "message"] {
        if missing.iter().any(|m| m == name) {
            reasons.push(format!("missing <{name}>"));
        }
    }
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

/// Why Kudu would reject a status.xml (and then DELETE the whole deployment folder).
///
/// The two `Unsupported*` variants are the exception: they mark inputs this reader does not model, for
/// which Kudu's verdict is unknown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusXmlError {
    /// The bytes (after an optional BOM) are not UTF-8; .NET's decoder would throw.
    #[error("file is not valid utf-8 (first bad byte at offset {offset})")]
    NotUtf8 {
        /// Byte offset of the first invalid sequence, counted after any BOM.
        offset: usize,
    },
    /// Zero bytes, or only a BOM and whitespace: "Root element is missing" (typical after a crash mid-write).
    #[error("file is empty")]
    Empty,
    /// Not well-formed XML (truncated, mismatched tags, bad characters, undefined entities, …).
    #[error("malformed xml: {reason}")]
    Malformed {
        /// What is wrong and where.
        reason: String,
    },
    /// The XML declaration names an encoding other than UTF-8; how .NET decodes it is not modelled.
    #[error("unsupported encoding declaration {declared:?}")]
    UnsupportedEncoding {
        /// The declared encoding name.
        declared: String,
    },
    /// XML that .NET accepts but this reader does not model (a DTD).
    #[error("unsupported xml: {reason}")]
    Unsupported {
        /// What was found.
        reason: String,
    },
    /// A required element (`id`, `status`, `statusText`, `startTime`, `receivedTime`) is absent.
    #[error("missing <{element}> element")]
    MissingElement {
        /// The element's local name.
        element: &'static str,
    },
    /// `startTime` or `receivedTime` is present but empty.
    #[error("empty <{element}> element")]
    EmptyRequired {
        /// The element's local name.
        element: &'static str,
    },
    /// A date element holds text `DateTime.Parse` rejects.
    #[error("unparsable date in <{element}>: {value:?}")]
    BadDate {
        /// The element's local name.
        element: &'static str,
        /// The text found.
        value: String,
    },
}

impl StatusXmlError {
    /// A stable kebab-case code for JSON output and tests.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            StatusXmlError::NotUtf8 { .. } => "not-utf8",
            StatusXmlError::Empty => "empty-file",
            StatusXmlError::Malformed { .. } => "malformed-xml",
            StatusXmlError::UnsupportedEncoding { .. } => "unsupported-encoding",
            StatusXmlError::Unsupported { .. } => "unsupported-xml",
            StatusXmlError::MissingElement { .. } => "missing-element",
            StatusXmlError::EmptyRequired { .. } => "empty-element",
            StatusXmlError::BadDate { .. } => "bad-date",
        }
    }
}

/// The UTF-8 byte order mark .NET writes first.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Every element Kudu reads or writes, in write order. Indices are used by the reader.
const ELEMENTS: [&str; 17] = [
    "id",
    "author",
    "deployer",
    "authorEmail",
    "message",
    "progress",
    "status",
    "statusText",
    "lastSuccessEndTime",
    "receivedTime",
    "startTime",
    "endTime",
    "complete",
    "is_temp",
    "is_readonly",
    "project_type",
    "vsproject_id",
];

/// Elements whose absence is recorded in [`StatusXml::missing`].
const RECORDED_OPTIONAL: [&str; 10] = [
    "author",
    "deployer",
    "authorEmail",
    "message",
    "progress",
    "lastSuccessEndTime",
    "endTime",
    "complete",
    "is_temp",
    "is_readonly",
];

/// XML 1.0 `Char` production (Rust chars are never surrogates).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// True when `s` is only XML whitespace (the `S` production). Byte by byte: its four characters are
/// ASCII.
fn is_all_xml_ws(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// The first character of `s` outside the XML `Char` production. Kudu's text is printable ASCII, so
/// that is checked byte by byte first; only text with other bytes is decoded.
fn first_illegal_char(s: &str) -> Option<char> {
    let plain = |b: u8| (0x20..0x7F).contains(&b) || matches!(b, b'\t' | b'\n' | b'\r');
    if s.bytes().all(plain) {
        return None;
    }
    s.chars().find(|c| !is_xml_char(*c))
}

/// The characters `XmlUtility.Sanitize` keeps for `author` and `message` (spec §5.1 footnote).
fn is_sanitiser_char(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n'
            | '\r'
            | '\u{20}'..='\u{7E}'
            | '\u{85}'
            | '\u{100}'..='\u{D7FF}'
            | '\u{E000}'..='\u{FFFD}'
            | '\u{10000}'..
    )
}

/// An approximation of the XML `Name` production: ASCII is exact, every non-ASCII char is allowed.
fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let start = |c: char| c.is_ascii_alphabetic() || c == '_' || c == ':' || !c.is_ascii();
    start(first) && chars.all(|c| start(c) || c.is_ascii_digit() || c == '-' || c == '.')
}

fn malformed(reason: impl Into<String>) -> StatusXmlError {
    StatusXmlError::Malformed {
        reason: reason.into(),
    }
}

/// What the reader found for one known element. The value borrows from the file when it is the
/// file's text as is (no reference, no `\r`), which is almost always.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Found<'a> {
    self_closing: bool,
    value: Cow<'a, str>,
}

/// The first occurrence of each known direct child of the root, in [`ELEMENTS`] order.
type Children<'a> = [Option<Found<'a>>; 17];

/// Per-open-element state that XML scoping rules need.
#[derive(Debug, Clone, Copy)]
struct Scope {
    /// `xml:space="preserve"` in scope: whitespace-only text is kept.
    preserve: bool,
    /// A non-empty default namespace is in scope, so unprefixed names are not Kudu's no-namespace names.
    default_ns: bool,
}

/// Applies an element's attributes to the inherited scope, checking them as .NET would.
fn scope_for(e: &BytesStart<'_>, parent: Scope) -> Result<Scope, StatusXmlError> {
    let mut scope = parent;
    for attr in e.attributes() {
        let attr = attr.map_err(|err| malformed(format!("bad attribute: {err}")))?;
        let key: &str = attr.key.as_ref();
        if !is_valid_name(key) {
            return Err(malformed(format!("invalid attribute name {key:?}")));
        }
        if attr.value.contains('<') {
            return Err(malformed(format!("'<' in value of attribute {key:?}")));
        }
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|err| malformed(format!("bad value of attribute {key:?}: {err}")))?;
        if let Some(c) = first_illegal_char(&value) {
            return Err(malformed(format!(
                "illegal character U+{:04X} in attribute {key:?}",
                u32::from(c)
            )));
        }
        match key {
            "xmlns" => scope.default_ns = !value.is_empty(),
            "xml:space" => match value.as_ref() {
                "preserve" => scope.preserve = true,
                "default" => scope.preserve = false,
                other => return Err(malformed(format!("invalid xml:space value {other:?}"))),
            },
            _ => {}
        }
    }
    Ok(scope)
}

/// Checks a start/empty tag's name and returns it.
fn element_name<'a>(e: &'a BytesStart<'_>) -> Result<&'a str, StatusXmlError> {
    let name: &str = e.name().into_inner();
    if is_valid_name(name) {
        Ok(name)
    } else {
        Err(malformed(format!("invalid element name {name:?}")))
    }
}

/// Checks an element's name and attributes in the scope of its parent (the last of `scopes`), and gives
/// the scope it opens and, for a direct child of the root that Kudu looks up, its index in [`ELEMENTS`].
fn open_element(
    e: &BytesStart<'_>,
    scopes: &[Scope],
) -> Result<(Scope, Option<usize>), StatusXmlError> {
    let name = element_name(e)?;
    let parent = scopes.last().copied().unwrap_or(Scope {
        preserve: false,
        default_ns: false,
    });
    let scope = scope_for(e, parent)?;
    let known = if scopes.len() == 1 {
        known_index(name, scope)
    } else {
        None
    };
    Ok((scope, known))
}

/// Index into [`ELEMENTS`] when a direct child of the root is one Kudu looks up.
fn known_index(name: &str, scope: Scope) -> Option<usize> {
    if scope.default_ns {
        return None;
    }
    ELEMENTS.iter().position(|k| *k == name)
}

/// Resolves `&name;` / `&#n;` in text content.
fn resolve_ref(r: &quick_xml::events::BytesRef<'_>) -> Result<char, StatusXmlError> {
    match r.resolve_char_ref() {
        Ok(Some(c)) if is_xml_char(c) => Ok(c),
        Ok(Some(c)) => Err(malformed(format!(
            "character reference to illegal character U+{:04X}",
            u32::from(c)
        ))),
        Ok(None) => match r.as_ref() {
            "lt" => Ok('<'),
            "gt" => Ok('>'),
            "amp" => Ok('&'),
            "apos" => Ok('\''),
            "quot" => Ok('"'),
            other => Err(malformed(format!(
                "reference to undeclared entity {other:?}"
            ))),
        },
        Err(err) => Err(malformed(format!("bad character reference: {err}"))),
    }
}

/// Walks the document once with quick-xml and returns the first occurrence of each known direct child
/// of the root: the general reader, for any document (the common shape has a faster one, [`shape`]).
///
/// Iterative (no recursion), so arbitrarily deep nesting is safe.
fn read_children(text: &str) -> Result<Children<'_>, StatusXmlError> {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_comments = true;
    reader.config_mut().check_end_names = true;

    let mut found: Children<'_> = Default::default();
    let mut scopes: Vec<Scope> = Vec::new();
    let mut root_seen = false;
    let mut first_event = true;
    // The known element being captured (index into ELEMENTS) and its value so far.
    let mut capture: Option<(usize, String)> = None;
    // The current run of character data (text and references), one XML text node.
    let mut run = String::new();

    let flush = |run: &mut String, capture: &mut Option<(usize, String)>, scopes: &[Scope]| {
        if let Some((_, value)) = capture.as_mut() {
            let preserve = scopes.last().is_some_and(|s| s.preserve);
            if preserve || !is_all_xml_ws(run) {
                value.push_str(run);
            }
        }
        run.clear();
    };

    loop {
        let event = reader
            .read_event()
            .map_err(|err| malformed(format!("{err} (at byte {})", reader.error_position())))?;
        let was_first = std::mem::replace(&mut first_event, false);
        let depth = scopes.len();
        if !matches!(event, Event::Text(_) | Event::GeneralRef(_)) {
            flush(&mut run, &mut capture, &scopes);
        }
        match event {
            Event::Decl(decl) => {
                if !was_first {
                    return Err(malformed(
                        "xml declaration is not at the start of the document",
                    ));
                }
                let version = decl
                    .version()
                    .map_err(|err| malformed(format!("bad xml declaration: {err}")))?;
                if version.as_ref() != "1.0" {
                    return Err(malformed(format!("unsupported xml version {version:?}")));
                }
                if let Some(enc) = decl.encoding() {
                    let enc =
                        enc.map_err(|err| malformed(format!("bad xml declaration: {err}")))?;
                    let enc = enc.into_owned();
                    if !enc.eq_ignore_ascii_case("utf-8") {
                        return Err(StatusXmlError::UnsupportedEncoding { declared: enc });
                    }
                }
            }
            Event::DocType(_) => {
                return Err(StatusXmlError::Unsupported {
                    reason: "document type declaration (<!DOCTYPE>)".to_owned(),
                });
            }
            Event::PI(_) | Event::Comment(_) => {}
            Event::Start(_) | Event::Empty(_) if depth == 0 && root_seen => {
                return Err(malformed("more than one root element"));
            }
            Event::Start(e) => {
                let (scope, known) = open_element(&e, &scopes)?;
                root_seen = true;
                if let Some(i) = known.filter(|i| found[*i].is_none()) {
                    capture = Some((i, String::new()));
                }
                scopes.push(scope);
            }
            Event::Empty(e) => {
                let (_, known) = open_element(&e, &scopes)?;
                root_seen = true;
                if let Some(i) = known.filter(|i| found[*i].is_none()) {
                    found[i] = Some(Found {
                        self_closing: true,
                        value: Cow::Borrowed(""),
                    });
                }
            }
            Event::End(_) => {
                scopes.pop();
                if scopes.len() == 1
                    && let Some((i, value)) = capture.take()
                    && let Some(slot) = found.get_mut(i)
                {
                    *slot = Some(Found {
                        self_closing: false,
                        value: Cow::Owned(value),
                    });
                }
            }
            Event::Text(t) => {
                if t.contains("]]>") {
                    return Err(malformed("']]>' in text"));
                }
                let content = t.xml10_content();
                if let Some(c) = first_illegal_char(&content) {
                    return Err(malformed(format!(
                        "illegal character U+{:04X} in text",
                        u32::from(c)
                    )));
                }
                if depth == 0 {
                    if !is_all_xml_ws(&content) {
                        return Err(malformed("text outside the root element"));
                    }
                } else {
                    run.push_str(&content);
                }
            }
            Event::GeneralRef(r) => {
                if depth == 0 {
                    return Err(malformed("reference outside the root element"));
                }
                run.push(resolve_ref(&r)?);
            }
            Event::CData(c) => {
                if depth == 0 {
                    return Err(malformed("cdata outside the root element"));
                }
                let content = c.xml10_content();
                if let Some(ch) = first_illegal_char(&content) {
                    return Err(malformed(format!(
                        "illegal character U+{:04X} in cdata",
                        u32::from(ch)
                    )));
                }
                if let Some((_, value)) = capture.as_mut() {
                    value.push_str(&content);
                }
            }
            Event::Eof => {
                if !root_seen {
                    return Err(malformed("root element is missing"));
                }
                if depth != 0 {
                    return Err(malformed("unexpected end of file inside an element"));
                }
                return Ok(found);
            }
        }
    }
}

/// Parses `status.xml` bytes as Kudu's `DeploymentStatusFile.Open` would.
///
/// `Err` means Kudu would throw while loading, and therefore delete the deployment folder (except for
/// the `Unsupported*` errors, see [`StatusXmlError`]). Errors that Kudu's `Initialize` raises are
/// reported in the order it would hit them: `status`, `id`, `statusText`, `startTime`,
/// `receivedTime`, `endTime`, `lastSuccessEndTime`. Never panics.
pub fn parse(bytes: &[u8]) -> Result<StatusXml, StatusXmlError> {
    read(bytes, Reader::Fastest).map(StatusXml::from)
}

/// [`parse`] straight into the compact form a snapshot keeps, without the [`StatusXml`] in between:
/// the text is copied once, from the file into the [`StatusDoc`]. Equal to
/// `parse(bytes).map(StatusDoc::from)`.
pub(crate) fn parse_doc(bytes: &[u8]) -> Result<StatusDoc, StatusXmlError> {
    read(bytes, Reader::Fastest).map(StatusDoc::from)
}

/// Test support (feature `fixture`): the ways into a document that must agree with [`parse`], for the
/// fuzzer and the tests outside this crate.
#[cfg(feature = "fixture")]
pub mod cross_check {
    use super::{Reader, StatusDoc, StatusXml, StatusXmlError, read};

    /// [`parse`](super::parse) through the general (quick-xml) reader alone, never the shape reader.
    ///
    /// # Errors
    /// As [`parse`](super::parse).
    pub fn parse_general(bytes: &[u8]) -> Result<StatusXml, StatusXmlError> {
        read(bytes, Reader::General).map(StatusXml::from)
    }

    /// What a scan keeps of `bytes`: `parse(bytes).map(StatusDoc::from)`, built without the
    /// [`StatusXml`].
    ///
    /// # Errors
    /// As [`parse`](super::parse).
    pub fn parse_doc(bytes: &[u8]) -> Result<StatusDoc, StatusXmlError> {
        super::parse_doc(bytes)
    }
}

/// Which reader walks the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    /// [`shape::read_children`] when the document has the shape Kudu writes, else the general one.
    Fastest,
    /// [`read_children`] always (test support).
    #[cfg_attr(not(feature = "fixture"), allow(dead_code))]
    General,
}

/// A document as read, before it is stored as a [`StatusXml`] or a [`StatusDoc`]: the fields of
/// [`StatusXml`], with text that borrows from the file where it can.
#[derive(Debug)]
struct Parsed<'a> {
    id: Cow<'a, str>,
    author: Option<Cow<'a, str>>,
    deployer: Option<Cow<'a, str>>,
    author_email: Option<Cow<'a, str>>,
    message: Option<Cow<'a, str>>,
    progress: Option<Cow<'a, str>>,
    status: DeployStatus,
    status_text: Option<Cow<'a, str>>,
    last_success_end_time: Option<DateTime<Utc>>,
    received_time: DateTime<Utc>,
    start_time: DateTime<Utc>,
    end_time: Option<DateTime<Utc>>,
    complete: bool,
    is_temp: bool,
    is_readonly: bool,
    project_type: Option<Cow<'a, str>>,
    vsproject_id: Option<Cow<'a, str>>,
    missing: Vec<String>,
    status_unrecognised: Option<Cow<'a, str>>,
}

impl From<Parsed<'_>> for StatusXml {
    fn from(p: Parsed<'_>) -> StatusXml {
        let owned = |t: Option<Cow<'_, str>>| t.map(Cow::into_owned);
        StatusXml {
            id: p.id.into_owned(),
            author: owned(p.author),
            deployer: owned(p.deployer),
            author_email: owned(p.author_email),
            message: owned(p.message),
            progress: owned(p.progress),
            status: p.status,
            status_text: owned(p.status_text),
            last_success_end_time: p.last_success_end_time,
            received_time: p.received_time,
            start_time: p.start_time,
            end_time: p.end_time,
            complete: p.complete,
            is_temp: p.is_temp,
            is_readonly: p.is_readonly,
            project_type: owned(p.project_type),
            vsproject_id: owned(p.vsproject_id),
            missing: p.missing,
            status_unrecognised: owned(p.status_unrecognised),
        }
    }
}

/// The whole reader: bytes to fields, UTF-8 validated once for the document (the readers then work
/// on the `str`).
fn read(bytes: &[u8], reader: Reader) -> Result<Parsed<'_>, StatusXmlError> {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| StatusXmlError::NotUtf8 {
        offset: e.valid_up_to(),
    })?;
    if is_all_xml_ws(text) {
        return Err(StatusXmlError::Empty);
    }
    let mut children = Children::default();
    let in_shape = reader == Reader::Fastest && shape::read_children(text, &mut children).is_some();
    if in_shape {
        // The shape reader must give what the general reader gives; every debug-build parse (the
        // whole test suite) checks it.
        debug_assert_eq!(
            read_children(text).as_ref(),
            Ok(&children),
            "the shape reader disagrees with the general reader on {text:?}"
        );
    } else {
        children = read_children(text)?;
    }
    settle(children)
}

/// What Kudu's `Initialize` makes of the elements found, with its errors in its order.
fn settle(children: Children<'_>) -> Result<Parsed<'_>, StatusXmlError> {
    // In `ELEMENTS` order.
    let [
        id,
        author,
        deployer,
        author_email,
        message,
        progress,
        status,
        status_text,
        last_success,
        received,
        start,
        end,
        complete,
        is_temp,
        is_readonly,
        project_type,
        vsproject_id,
    ] = children;

    let mut missing = Vec::new();
    for (name, present) in RECORDED_OPTIONAL.iter().zip([
        author.is_some(),
        deployer.is_some(),
        author_email.is_some(),
        message.is_some(),
        progress.is_some(),
        last_success.is_some(),
        end.is_some(),
        complete.is_some(),
        is_temp.is_some(),
        is_readonly.is_some(),
    ]) {
        if !present {
            missing.push((*name).to_owned());
        }
    }

    // `let … else` rather than `ok_or`: an error value built for nothing still has to be dropped.
    let Some(status) = status else {
        return Err(StatusXmlError::MissingElement { element: "status" });
    };
    // An exact name is what Kudu writes, and `try_parse` gives it the same value (it trims, splits
    // on commas and ORs the one name's value, which maps back to the name); checked first because
    // it is one comparison.
    let (status, status_unrecognised) = match DeployStatus::from_name(&status.value)
        .or_else(|| DeployStatus::try_parse(&status.value))
    {
        Some(s) => (s, None),
        None => (DeployStatus::Pending, Some(status.value)),
    };
    let Some(id) = id else {
        return Err(StatusXmlError::MissingElement { element: "id" });
    };
    let Some(status_text) = status_text else {
        return Err(StatusXmlError::MissingElement {
            element: "statusText",
        });
    };
    let start_time = required_date("startTime", start)?;
    let received_time = required_date("receivedTime", received)?;
    // After a success Kudu writes `lastSuccessEndTime` equal to `endTime`: the same text has the
    // same value (or the same error, which `endTime` reports first), so it is read once.
    let same_text = matches!((&end, &last_success), (Some(e), Some(l)) if e.value == l.value);
    let end_time = optional_date("endTime", end)?;
    let last_success_end_time = if same_text {
        end_time
    } else {
        optional_date("lastSuccessEndTime", last_success)?
    };

    Ok(Parsed {
        id: id.value,
        author: text_value(author),
        deployer: text_value(deployer),
        author_email: text_value(author_email),
        message: text_value(message),
        progress: text_value(progress),
        status,
        status_text: text_value(Some(status_text)),
        last_success_end_time,
        received_time,
        start_time,
        end_time,
        complete: bool_value(complete),
        is_temp: bool_value(is_temp),
        is_readonly: bool_value(is_readonly),
        project_type: text_value(project_type),
        vsproject_id: text_value(vsproject_id),
        missing,
        status_unrecognised,
    })
}

/// `None` for absent or self-closing, otherwise the text.
fn text_value(f: Option<Found<'_>>) -> Option<Cow<'_, str>> {
    f.filter(|f| !f.self_closing).map(|f| f.value)
}

/// `Boolean.TryParse` after Kudu's `IsNullOrEmpty` guard: anything but true/false is false.
/// (`True` and `False`, what Kudu writes, are decided without trimming.)
fn bool_value(f: Option<Found<'_>>) -> bool {
    f.is_some_and(|f| match &*f.value {
        "True" => true,
        "False" => false,
        v => v.trim().eq_ignore_ascii_case("true"),
    })
}

/// `ParseDateTime(value).Value`: absent or empty throws.
fn required_date(
    element: &'static str,
    f: Option<Found<'_>>,
) -> Result<DateTime<Utc>, StatusXmlError> {
    let Some(f) = f else {
        return Err(StatusXmlError::MissingElement { element });
    };
    match optional_date(element, Some(f))? {
        Some(date) => Ok(date),
        None => Err(StatusXmlError::EmptyRequired { element }),
    }
}

/// `ParseDateTime(value)`: absent or empty is null, anything else must parse. The form Kudu writes
/// is read by [`shape::kudu_date`], anything else by [`dotnet_time::parse_lenient`].
fn optional_date(
    element: &'static str,
    f: Option<Found<'_>>,
) -> Result<Option<DateTime<Utc>>, StatusXmlError> {
    match f {
        Some(f) if !f.value.is_empty() => shape::kudu_date(&f.value)
            .or_else(|| dotnet_time::parse_lenient(&f.value))
            .map(Some)
            .ok_or_else(|| StatusXmlError::BadDate {
                element,
                value: f.value.into_owned(),
            }),
        _ => Ok(None),
    }
}

/// Writes `s` as .NET's `XmlWriter` writes element text: `&`, `<`, `>` escaped, every line end
/// (`\r\n`, `\r`, `\n`) replaced by the platform newline (`NewLineHandling.Replace`), characters
/// `keep` rejects dropped.
fn push_escaped(out: &mut String, s: &str, newline: &str, keep: fn(char) -> bool) {
    let mut chars = s.chars().filter(|c| keep(*c)).peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' => out.push_str(newline),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str(newline);
            }
            c => out.push(c),
        }
    }
}

/// Writes `doc` byte for byte as Kudu's `DeploymentStatusFile.Save` would on `platform`.
///
/// Infallible, unlike Kudu: where .NET would throw on characters that XML 1.0 cannot hold, they are
/// dropped instead; `author` and `message` go through Kudu's own sanitiser first (which also drops
/// Latin-1 0x7F–0xFF except 0x85). `project_type` and `vsproject_id` are written only on Windows, and
/// always as an open/close pair (Kudu interpolates them into a string, so a null is written empty).
/// `missing` and `status_unrecognised` are not written: Kudu's `Save` writes every element.
///
/// What does not survive a write/read round trip, exactly as with Kudu: `\r` (read back as `\n`),
/// whitespace-only text (read back as empty), dropped characters, and sub-tick time precision.
#[must_use]
pub fn write(doc: &StatusXml, platform: Platform) -> Vec<u8> {
    let nl = platform.newline();
    let mut out = String::with_capacity(1024);
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    out.push_str(nl);
    out.push_str("<deployment>");
    out.push_str(nl);

    let mut element = |name: &str, value: Option<&str>, keep: fn(char) -> bool| {
        out.push_str("  <");
        out.push_str(name);
        match value {
            None => out.push_str(" />"),
            Some(v) => {
                out.push('>');
                push_escaped(&mut out, v, nl, keep);
                out.push_str("</");
                out.push_str(name);
                out.push('>');
            }
        }
        out.push_str(nl);
    };
    let date = |t: Option<DateTime<Utc>>| t.map(dotnet_time::format_xs);
    let boolean = |b: bool| if b { "True" } else { "False" };

    element("id", Some(&doc.id), is_xml_char);
    element("author", doc.author.as_deref(), is_sanitiser_char);
    element("deployer", doc.deployer.as_deref(), is_xml_char);
    element("authorEmail", doc.author_email.as_deref(), is_xml_char);
    element("message", doc.message.as_deref(), is_sanitiser_char);
    element("progress", doc.progress.as_deref(), is_xml_char);
    element("status", Some(&doc.status.to_string()), is_xml_char);
    element("statusText", doc.status_text.as_deref(), is_xml_char);
    element(
        "lastSuccessEndTime",
        date(doc.last_success_end_time).as_deref(),
        is_xml_char,
    );
    element(
        "receivedTime",
        date(Some(doc.received_time)).as_deref(),
        is_xml_char,
    );
    element(
        "startTime",
        date(Some(doc.start_time)).as_deref(),
        is_xml_char,
    );
    element("endTime", date(doc.end_time).as_deref(), is_xml_char);
    element("complete", Some(boolean(doc.complete)), is_xml_char);
    element("is_temp", Some(boolean(doc.is_temp)), is_xml_char);
    element("is_readonly", Some(boolean(doc.is_readonly)), is_xml_char);
    if platform == Platform::Windows {
        // Kudu writes these as `$"{ProjectType}"`: a null is an empty string, never `<project_type />`.
        element(
            "project_type",
            Some(doc.project_type.as_deref().unwrap_or("")),
            is_xml_char,
        );
        element(
            "vsproject_id",
            Some(doc.vsproject_id.as_deref().unwrap_or("")),
            is_xml_char,
        );
    }
    out.push_str("</deployment>");

    let mut bytes = Vec::with_capacity(BOM.len() + out.len());
    bytes.extend_from_slice(BOM);
    bytes.extend_from_slice(out.as_bytes());
    bytes
}

/// Checks that `bytes` is one well-formed XML document with a root element, as `XDocument.Load` requires
/// (Kudu deletes a `settings.xml` that fails this at start-up).
///
/// # Errors
/// Why it is not, for a person.
pub fn check_well_formed(bytes: &[u8]) -> std::result::Result<(), String> {
    use quick_xml::events::Event;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = quick_xml::Reader::from_reader(bytes);
    reader.config_mut().check_end_names = true;
    let mut depth = 0usize;
    let mut roots = 0usize;
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(_)) => {
                if depth == 0 {
                    roots += 1;
                }
                depth += 1;
            }
            Ok(Event::Empty(_)) if depth == 0 => roots += 1,
            Ok(Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(Event::Text(t))
                if depth == 0
                    && !AsRef::<[u8]>::as_ref(&*t)
                        .iter()
                        .copied()
                        .all(|b: u8| b.is_ascii_whitespace()) =>
            {
                return Err("text outside the root element".to_owned());
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("not well-formed XML ({e})")),
        }
        buf.clear();
    }
    match (roots, depth) {
        (0, _) => Err("no root element".to_owned()),
        (1, 0) => Ok(()),
        (1, _) => Err("the document ends inside an element".to_owned()),
        _ => Err("more than one root element".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    /// Spec §5.3 (a), Windows, written with CRLF.
    const EXAMPLE_A: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<deployment>
  <id>8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b</id>
  <author>N/A</author>
  <deployer>ZipDeploy</deployer>
  <authorEmail>N/A</authorEmail>
  <message>Created via a push deployment</message>
  <progress></progress>
  <status>Success</status>
  <statusText></statusText>
  <lastSuccessEndTime>2024-09-04T10:35:02.5120931Z</lastSuccessEndTime>
  <receivedTime>2024-09-04T10:33:19.0456123Z</receivedTime>
  <startTime>2024-09-04T10:33:19.8815Z</startTime>
  <endTime>2024-09-04T10:35:02.5120931Z</endTime>
  <complete>True</complete>
  <is_temp>False</is_temp>
  <is_readonly>True</is_readonly>
  <project_type>BASIC</project_type>
  <vsproject_id></vsproject_id>
</deployment>"#;

    /// Spec §5.3 (b), Linux, LF.
    const EXAMPLE_B: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<deployment>
  <id>3f786850e387550fdab836ed7e6dc881de23001b</id>
  <author>Jane Doe</author>
  <deployer>GitHub</deployer>
  <authorEmail>jane@example.com</authorEmail>
  <message>Fix startup script</message>
  <progress></progress>
  <status>Failed</status>
  <statusText></statusText>
  <lastSuccessEndTime />
  <receivedTime>2021-09-09T17:20:01.441Z</receivedTime>
  <startTime>2021-09-09T17:20:03.0012345Z</startTime>
  <endTime>2021-09-09T17:21:45.9876543Z</endTime>
  <complete>True</complete>
  <is_temp>False</is_temp>
  <is_readonly>False</is_readonly>
</deployment>"#;

    /// Spec §5.3 (c), Linux, LF.
    const EXAMPLE_C: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<deployment>
  <id>temp-3fa9c0d1</id>
  <author>N/A</author>
  <deployer>Push-Deployer</deployer>
  <authorEmail>N/A</authorEmail>
  <message>Deploying from pushed zip file</message>
  <progress>Fetching changes.</progress>
  <status>Pending</status>
  <statusText>Receiving changes.</statusText>
  <lastSuccessEndTime />
  <receivedTime>2021-09-09T17:27:47.1234567Z</receivedTime>
  <startTime>2021-09-09T17:27:47.1234567Z</startTime>
  <endTime />
  <complete>False</complete>
  <is_temp>True</is_temp>
  <is_readonly>False</is_readonly>
</deployment>"#;

    /// The file bytes: BOM, then the text with the platform's newlines.
    fn file(text: &str, platform: Platform) -> Vec<u8> {
        let mut b = BOM.to_vec();
        b.extend_from_slice(text.replace('\n', platform.newline()).as_bytes());
        b
    }

    fn ts(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    /// A minimal valid document around extra children.
    fn doc_with(children: &str) -> Vec<u8> {
        format!("<d>{children}</d>").into_bytes()
    }

    const MIN: &str = "<id>x</id><status>Success</status><statusText/>\
        <receivedTime>2024-01-01T00:00:00Z</receivedTime><startTime>2024-01-01T00:00:00Z</startTime>";

    fn parse_min(extra: &str) -> Result<StatusXml, StatusXmlError> {
        parse(&doc_with(&format!("{MIN}{extra}")))
    }

    fn err_kind(bytes: &[u8]) -> &'static str {
        parse(bytes).unwrap_err().kind()
    }

    #[test]
    fn example_a_windows_round_trips() {
        let bytes = file(EXAMPLE_A, Platform::Windows);
        assert!(bytes.windows(2).any(|w| w == b"\r\n"));
        let doc = parse(&bytes).unwrap();
        assert_eq!(
            doc,
            StatusXml {
                id: "8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b".into(),
                author: some("N/A"),
                deployer: some("ZipDeploy"),
                author_email: some("N/A"),
                message: some("Created via a push deployment"),
                progress: some(""),
                status: DeployStatus::Success,
                status_text: some(""),
                last_success_end_time: Some(ts("2024-09-04T10:35:02.5120931Z")),
                received_time: ts("2024-09-04T10:33:19.0456123Z"),
                start_time: ts("2024-09-04T10:33:19.8815Z"),
                end_time: Some(ts("2024-09-04T10:35:02.5120931Z")),
                complete: true,
                is_temp: false,
                is_readonly: true,
                project_type: some("BASIC"),
                vsproject_id: some(""),
                missing: vec![],
                status_unrecognised: None,
            }
        );
        assert_eq!(doc.unsavable_reason(), None);
        assert_eq!(write(&doc, Platform::Windows), bytes);
    }

    #[test]
    fn example_b_linux_round_trips() {
        let bytes = file(EXAMPLE_B, Platform::Linux);
        let doc = parse(&bytes).unwrap();
        assert_eq!(
            doc,
            StatusXml {
                id: "3f786850e387550fdab836ed7e6dc881de23001b".into(),
                author: some("Jane Doe"),
                deployer: some("GitHub"),
                author_email: some("jane@example.com"),
                message: some("Fix startup script"),
                progress: some(""),
                status: DeployStatus::Failed,
                status_text: some(""),
                last_success_end_time: None,
                received_time: ts("2021-09-09T17:20:01.441Z"),
                start_time: ts("2021-09-09T17:20:03.0012345Z"),
                end_time: Some(ts("2021-09-09T17:21:45.9876543Z")),
                complete: true,
                is_temp: false,
                is_readonly: false,
                project_type: None,
                vsproject_id: None,
                missing: vec![],
                status_unrecognised: None,
            }
        );
        assert_eq!(write(&doc, Platform::Linux), bytes);
    }

    #[test]
    fn example_c_linux_round_trips() {
        let bytes = file(EXAMPLE_C, Platform::Linux);
        let doc = parse(&bytes).unwrap();
        assert_eq!(
            doc,
            StatusXml {
                id: "temp-3fa9c0d1".into(),
                author: some("N/A"),
                deployer: some("Push-Deployer"),
                author_email: some("N/A"),
                message: some("Deploying from pushed zip file"),
                progress: some("Fetching changes."),
                status: DeployStatus::Pending,
                status_text: some("Receiving changes."),
                last_success_end_time: None,
                received_time: ts("2021-09-09T17:27:47.1234567Z"),
                start_time: ts("2021-09-09T17:27:47.1234567Z"),
                end_time: None,
                complete: false,
                is_temp: true,
                is_readonly: false,
                project_type: None,
                vsproject_id: None,
                missing: vec![],
                status_unrecognised: None,
            }
        );
        assert!(!doc.status.is_terminal());
        assert_eq!(write(&doc, Platform::Linux), bytes);
    }

    #[test]
    fn bom_is_optional_and_windows_elements_only_written_on_windows() {
        let with = file(EXAMPLE_A, Platform::Windows);
        let doc = parse(&with).unwrap();
        assert_eq!(parse(&with[3..]).unwrap(), doc);
        let linux = write(&doc, Platform::Linux);
        assert!(!String::from_utf8_lossy(&linux).contains("project_type"));
        assert!(linux.ends_with(b"</is_readonly>\n</deployment>"));
    }

    #[test]
    fn status_accepts_names_and_integers() {
        let st = |v: &str| {
            let d = parse(&doc_with(&format!(
                "<id>x</id><status>{v}</status><statusText/>\
                 <receivedTime>2024-01-01T00:00:00Z</receivedTime><startTime>2024-01-01T00:00:00Z</startTime>"
            )))
            .unwrap();
            (d.status, d.status_unrecognised)
        };
        assert_eq!(st("Building"), (DeployStatus::Building, None));
        assert_eq!(st(" Deploying \n"), (DeployStatus::Deploying, None));
        assert_eq!(st("3"), (DeployStatus::Failed, None));
        assert_eq!(st(" +4 "), (DeployStatus::Success, None));
        assert_eq!(st("42"), (DeployStatus::Other(42), None));
        assert_eq!(st("-7"), (DeployStatus::Other(-7), None));
        assert_eq!(st("Building, Deploying"), (DeployStatus::Failed, None));
        assert_eq!(st("success"), (DeployStatus::Pending, some("success")));
        assert_eq!(st("Done"), (DeployStatus::Pending, some("Done")));
        assert_eq!(st(""), (DeployStatus::Pending, some("")));
        // beyond Int32: Enum.TryParse fails
        assert_eq!(
            st("4294967296"),
            (DeployStatus::Pending, some("4294967296"))
        );
    }

    #[test]
    fn out_of_range_status_is_kept_and_written_as_number() {
        let mut d = parse_min("").unwrap();
        d.status = DeployStatus::Other(17);
        let out = write(&d, Platform::Linux);
        assert!(String::from_utf8_lossy(&out).contains("<status>17</status>"));
        assert_eq!(parse(&out).unwrap().status, DeployStatus::Other(17));
        assert_eq!(DeployStatus::Other(17).name(), None);
        assert_eq!(DeployStatus::Other(17).as_number(), 17);
    }

    #[test]
    fn newer_status_values_read_by_name_and_number_written_by_name() {
        let st = |v: &str| {
            parse(&doc_with(&format!(
                "<id>x</id><status>{v}</status><statusText/>\
                 <receivedTime>2024-01-01T00:00:00Z</receivedTime><startTime>2024-01-01T00:00:00Z</startTime>"
            )))
            .unwrap()
        };
        for (name, number, status) in [
            ("Cancelled", "-1", DeployStatus::Cancelled),
            ("Conflict", "5", DeployStatus::Conflict),
            ("PartialSuccess", "6", DeployStatus::PartialSuccess),
        ] {
            for text in [name, number, &format!(" {name}\n"), &format!("+{number}")] {
                if text.starts_with("+-") {
                    continue;
                }
                let d = st(text);
                assert_eq!(
                    (d.status, d.status_unrecognised.as_deref()),
                    (status, None),
                    "{text:?}"
                );
                // Written as the name, whichever form was read; and read back the same.
                let out = write(&d, Platform::Linux);
                assert!(
                    String::from_utf8_lossy(&out).contains(&format!("<status>{name}</status>")),
                    "{text:?}"
                );
                assert_eq!(parse(&out).unwrap().status, status);
            }
            assert_eq!(status.name(), Some(name));
            assert_eq!(status.as_number().to_string(), number);
            assert_eq!(DeployStatus::from_number(status.as_number()), status);
            assert_eq!(status.to_string(), name);
            // Kudu's public sources count them as in progress; the builds that write them, as over.
            assert!(!status.is_terminal() && status.is_finished(), "{name}");
        }
        // Names stay case-sensitive, and take part in TryParse's OR of a name list (1 | 5 = 5).
        let d = st("conflict");
        assert_eq!(
            (d.status, d.status_unrecognised.as_deref()),
            (DeployStatus::Pending, Some("conflict"))
        );
        assert_eq!(st("Building, Conflict").status, DeployStatus::Conflict);
        assert_eq!(st("7").status, DeployStatus::Other(7));
        assert_eq!(st("-2").status, DeployStatus::Other(-2));
        for s in [
            DeployStatus::Pending,
            DeployStatus::Building,
            DeployStatus::Deploying,
        ] {
            assert!(!s.is_terminal() && !s.is_finished());
        }
        for s in [DeployStatus::Failed, DeployStatus::Success] {
            assert!(s.is_terminal() && s.is_finished());
        }
        assert!(!DeployStatus::Other(7).is_finished());
    }

    /// The reader looks an exact name up before `try_parse`'s general rules: same value.
    #[test]
    fn an_exact_name_is_what_try_parse_gives() {
        for n in -1..=6 {
            let status = DeployStatus::from_number(n);
            let name = status.name().unwrap();
            assert_eq!(DeployStatus::from_name(name), Some(status));
            assert_eq!(DeployStatus::try_parse(name), Some(status));
        }
    }

    /// The five names of Kudu's public sources keep their JSON and `status.xml` spellings and numbers.
    #[test]
    fn existing_status_names_are_stable() {
        for (status, name, number) in [
            (DeployStatus::Pending, "Pending", 0),
            (DeployStatus::Building, "Building", 1),
            (DeployStatus::Deploying, "Deploying", 2),
            (DeployStatus::Failed, "Failed", 3),
            (DeployStatus::Success, "Success", 4),
        ] {
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(name)
            );
            assert_eq!(status.as_number(), number);
            let mut d = parse_min("").unwrap();
            d.status = status;
            let out = write(&d, Platform::Windows);
            assert!(String::from_utf8_lossy(&out).contains(&format!("<status>{name}</status>")));
        }
        assert_eq!(
            serde_json::to_value(DeployStatus::Conflict).unwrap(),
            serde_json::json!("Conflict")
        );
        let back: DeployStatus = serde_json::from_str("\"PartialSuccess\"").unwrap();
        assert_eq!(back, DeployStatus::PartialSuccess);
        let back: DeployStatus = serde_json::from_str("-1").unwrap();
        assert_eq!(back, DeployStatus::Cancelled);
    }

    #[test]
    fn deploy_status_serde() {
        assert_eq!(
            serde_json::to_string(&DeployStatus::Success).unwrap(),
            "\"Success\""
        );
        assert_eq!(serde_json::to_string(&DeployStatus::Other(9)).unwrap(), "9");
        let back: DeployStatus = serde_json::from_str("9").unwrap();
        assert_eq!(back, DeployStatus::Other(9));
        let back: DeployStatus = serde_json::from_str("\"Building\"").unwrap();
        assert_eq!(back, DeployStatus::Building);
        assert!(serde_json::from_str::<DeployStatus>("\"nope\"").is_err());
    }

    #[test]
    fn booleans_are_lenient() {
        let b = |v: &str| {
            parse_min(&format!("<complete>{v}</complete>"))
                .unwrap()
                .complete
        };
        assert!(b("True"));
        assert!(b("true"));
        assert!(b(" TRUE\n"));
        assert!(!b("False"));
        assert!(!b("yes"));
        assert!(!b("1"));
        assert!(!b(""));
        assert!(!parse_min("<complete/>").unwrap().complete);
        assert!(!parse_min("").unwrap().complete);
    }

    #[test]
    fn missing_optional_elements_are_recorded() {
        let d = parse_min("<message>m</message>").unwrap();
        assert_eq!(
            d.missing,
            [
                "author",
                "deployer",
                "authorEmail",
                "progress",
                "lastSuccessEndTime",
                "endTime",
                "complete",
                "is_temp",
                "is_readonly"
            ]
        );
        assert_eq!(d.unsavable_reason(), some("missing <author>"));
        let d = parse_min("").unwrap();
        assert_eq!(
            d.unsavable_reason(),
            some("missing <author>; missing <message>")
        );
        // self-closing is present (Kudu reads ""), so savable
        let d = parse_min("<author/><message />").unwrap();
        assert_eq!(d.author, None);
        assert_eq!(d.unsavable_reason(), None);
        let d = parse(&doc_with(&MIN.replace("<id>x</id>", "<id/>"))).unwrap();
        assert_eq!(d.id, "");
        assert!(d.unsavable_reason().unwrap().contains("empty <id>"));
    }

    #[test]
    fn required_elements() {
        for (el, drop) in [
            ("status", "<status>Success</status>"),
            ("id", "<id>x</id>"),
            ("statusText", "<statusText/>"),
            ("startTime", "<startTime>2024-01-01T00:00:00Z</startTime>"),
            (
                "receivedTime",
                "<receivedTime>2024-01-01T00:00:00Z</receivedTime>",
            ),
        ] {
            let e = parse(&doc_with(&MIN.replace(drop, ""))).unwrap_err();
            assert_eq!(e, StatusXmlError::MissingElement { element: el });
            assert_eq!(e.kind(), "missing-element");
        }
        // Kudu's Initialize order: status before id
        let e = parse(b"<d><statusText/></d>").unwrap_err();
        assert_eq!(e, StatusXmlError::MissingElement { element: "status" });
    }

    #[test]
    fn empty_required_dates_are_errors() {
        for replacement in [
            "<startTime></startTime>",
            "<startTime />",
            "<startTime>  </startTime>",
        ] {
            let e = parse(&doc_with(
                &MIN.replace("<startTime>2024-01-01T00:00:00Z</startTime>", replacement),
            ))
            .unwrap_err();
            assert_eq!(
                e,
                StatusXmlError::EmptyRequired {
                    element: "startTime"
                }
            );
            assert_eq!(e.kind(), "empty-element");
        }
    }

    #[test]
    fn bad_dates_are_errors() {
        let e = parse_min("<endTime>yesterday</endTime>").unwrap_err();
        assert_eq!(
            e,
            StatusXmlError::BadDate {
                element: "endTime",
                value: "yesterday".into()
            }
        );
        assert_eq!(e.kind(), "bad-date");
        assert_eq!(e.to_string(), "unparsable date in <endTime>: \"yesterday\"");
        let e = parse(&doc_with(&MIN.replace(
            "<receivedTime>2024-01-01T00:00:00Z</receivedTime>",
            "<receivedTime>2024-02-30T00:00:00Z</receivedTime>",
        )))
        .unwrap_err();
        assert_eq!(e.kind(), "bad-date");
        // whitespace inside CDATA is not dropped, and " " is not a date
        assert_eq!(
            parse_min("<endTime><![CDATA[ ]]></endTime>")
                .unwrap_err()
                .kind(),
            "bad-date"
        );
        // empty optional dates are null; offsets convert to UTC
        let d = parse_min(
            "<endTime></endTime><lastSuccessEndTime>2024-01-01T02:00:00+02:00</lastSuccessEndTime>",
        )
        .unwrap();
        assert_eq!(d.end_time, None);
        assert_eq!(
            d.last_success_end_time,
            Some(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap())
        );
    }

    #[test]
    fn unknown_elements_ignored_any_root_first_duplicate_wins() {
        let d = parse(
            b"<?xml version=\"1.0\"?><!-- c --><whatever a=\"1\"><extra><id>nested</id></extra>\
              <id>first</id><id>second</id><status>Failed</status><status>Success</status>\
              <statusText>t</statusText><receivedTime>2024-01-01T00:00:00Z</receivedTime>\
              <startTime>2024-01-01T00:00:00Z</startTime><?pi x?><foo/></whatever>\n<!-- tail -->\n",
        )
        .unwrap();
        assert_eq!(d.id, "first");
        assert_eq!(d.status, DeployStatus::Failed);
        assert_eq!(d.status_text, some("t"));
    }

    #[test]
    fn namespaced_and_prefixed_children_do_not_match() {
        let e = parse(&doc_with(
            &MIN.replace("<id>x</id>", "<id xmlns=\"urn:x\">x</id>"),
        ))
        .unwrap_err();
        assert_eq!(e, StatusXmlError::MissingElement { element: "id" });
        let e = parse(&doc_with(
            &MIN.replace("<id>x</id>", "<p:id xmlns:p=\"urn:x\">x</p:id>"),
        ))
        .unwrap_err();
        assert_eq!(e, StatusXmlError::MissingElement { element: "id" });
        let d = parse(format!("<d xmlns=\"urn:x\"><a>{MIN}</a></d>").as_bytes());
        assert!(d.is_err());
    }

    #[test]
    fn line_ends_are_normalised_once() {
        let d = parse_min("<message>a\r\nb\rc\nd&#13;e&#10;f</message>").unwrap();
        assert_eq!(d.message, some("a\nb\nc\nd\re\nf"));
        let d = parse_min("<message><![CDATA[x\r\ny]]></message>").unwrap();
        assert_eq!(d.message, some("x\ny"));
    }

    #[test]
    fn entities_and_char_refs_are_unescaped() {
        let d = parse_min(
            "<message>&lt;b&gt; &amp; &quot;q&quot; &apos;a&apos; &#233;&#x263A;</message>\
             <author>a<![CDATA[<raw>&amp;]]>b</author>",
        )
        .unwrap();
        assert_eq!(d.message, some("<b> & \"q\" 'a' é☺"));
        assert_eq!(d.author, some("a<raw>&amp;b"));
        assert_eq!(
            parse_min("<message>&nbsp;</message>").unwrap_err().kind(),
            "malformed-xml"
        );
        assert_eq!(
            parse_min("<message>&#1;</message>").unwrap_err().kind(),
            "malformed-xml"
        );
        assert_eq!(
            parse_min("<message>a & b</message>").unwrap_err().kind(),
            "malformed-xml"
        );
    }

    #[test]
    fn element_value_is_descendant_text_and_whitespace_nodes_drop() {
        let d = parse_min(
            "<message>a<b>b<c>c</c></b><!-- x -->d</message><author>  </author>\
             <deployer xml:space=\"preserve\">  </deployer><progress> x </progress>",
        )
        .unwrap();
        assert_eq!(d.message, some("abcd"));
        assert_eq!(d.author, some(""));
        assert_eq!(d.deployer, some("  "));
        assert_eq!(d.progress, some(" x "));
    }

    #[test]
    fn malformed_documents_are_errors() {
        assert_eq!(err_kind(b""), "empty-file");
        assert_eq!(err_kind(b"\xEF\xBB\xBF"), "empty-file");
        assert_eq!(err_kind(b"  \r\n"), "empty-file");
        assert_eq!(err_kind(b"\xEF\xBB\xBF<d>\xFF</d>"), "not-utf8");
        let full = file(EXAMPLE_C, Platform::Linux);
        assert_eq!(err_kind(&full[..full.len() - 5]), "malformed-xml");
        for bad in [
            "hello",
            "<d>",
            "<d></e>",
            "<d/><e/>",
            "<d/>text",
            "x<d/>",
            " <?xml version=\"1.0\"?><d/>",
            "<?xml version=\"1.1\"?><d/>",
            "<d a=\"1\" a=\"2\"/>",
            "<d a=1/>",
            "<1d/>",
            "<d><!-- a -- b --></d>",
            "<d>\u{1}</d>",
            "<d xml:space=\"keep\"/>",
            "<d>]]></d>",
            "<?xml version=\"1.0\"?>",
        ] {
            assert_eq!(err_kind(bad.as_bytes()), "malformed-xml", "{bad:?}");
        }
        assert_eq!(
            err_kind(b"<!DOCTYPE d [<!ENTITY e \"x\">]><d>&e;</d>"),
            "unsupported-xml"
        );
        assert_eq!(
            err_kind(b"<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><d/>"),
            "unsupported-encoding"
        );
        assert_eq!(parse(b"<d>").unwrap_err().to_string().lines().count(), 1);
    }

    #[test]
    fn writer_escapes_sanitises_and_replaces_newlines() {
        let mut d = parse_min("").unwrap();
        d.author = some("Zoë <a&b> \"q\" 'x'\u{1}\t");
        d.message = some("line1\nline2\r\nline3\rend\u{FFFE}");
        d.deployer = some("é\u{B}ok");
        let out = String::from_utf8(write(&d, Platform::Windows)).unwrap();
        assert!(
            out.contains("<author>Zo &lt;a&amp;b&gt; \"q\" 'x'\t</author>"),
            "{out}"
        );
        assert!(out.contains("<message>line1\r\nline2\r\nline3\r\nend</message>"));
        assert!(out.contains("<deployer>éok</deployer>"));
        assert!(out.contains("  <progress />\r\n"));
        let back = parse(out.as_bytes()).unwrap();
        assert_eq!(back.message, some("line1\nline2\nline3\nend"));
    }

    /// Strings the writer preserves: XML chars without `\r`, and not whitespace-only.
    fn text(keep: fn(char) -> bool) -> impl Strategy<Value = String> {
        proptest::collection::vec(any::<char>(), 0..12).prop_map(move |cs| {
            let s: String = cs.into_iter().filter(|c| keep(*c) && *c != '\r').collect();
            if is_all_xml_ws(&s) { String::new() } else { s }
        })
    }

    fn opt_text(keep: fn(char) -> bool) -> impl Strategy<Value = Option<String>> {
        proptest::option::of(prop_oneof![
            text(keep),
            "[ -~\n\t]{0,8}".prop_map(|s| { if is_all_xml_ws(&s) { String::new() } else { s } })
        ])
    }

    fn time() -> impl Strategy<Value = DateTime<Utc>> {
        // 1900-01-01 ..= 2200-12-31T23:59:59.9999999
        (-2_208_988_800i64..=7_289_654_399i64, 0u32..10_000_000)
            .prop_map(|(s, t)| DateTime::from_timestamp(s, t * 100).unwrap())
    }

    fn status() -> impl Strategy<Value = DeployStatus> {
        prop_oneof![
            (0i64..=4).prop_map(DeployStatus::from_number),
            (i64::from(i32::MIN)..=i64::from(i32::MAX)).prop_map(DeployStatus::from_number),
        ]
    }

    pub(super) fn doc_and_platform() -> impl Strategy<Value = (StatusXml, Platform)> {
        let strings = (
            text(is_xml_char),
            opt_text(is_sanitiser_char),
            opt_text(is_xml_char),
            opt_text(is_xml_char),
            opt_text(is_sanitiser_char),
            opt_text(is_xml_char),
            opt_text(is_xml_char),
            opt_text(is_xml_char),
            opt_text(is_xml_char),
        );
        let rest = (
            status(),
            proptest::option::of(time()),
            time(),
            time(),
            proptest::option::of(time()),
            any::<(bool, bool, bool)>(),
            any::<bool>(),
        );
        (strings, rest).prop_map(
            |(
                (id, author, deployer, author_email, message, progress, status_text, pt, vs),
                (status, last, received, start, end, (complete, is_temp, is_readonly), windows),
            )| {
                let platform = if windows {
                    Platform::Windows
                } else {
                    Platform::Linux
                };
                // Windows Kudu never writes these self-closing (a null is written empty).
                let (project_type, vsproject_id) = if windows {
                    (Some(pt.unwrap_or_default()), Some(vs.unwrap_or_default()))
                } else {
                    (None, None)
                };
                (
                    StatusXml {
                        id,
                        author,
                        deployer,
                        author_email,
                        message,
                        progress,
                        status,
                        status_text,
                        last_success_end_time: last,
                        received_time: received,
                        start_time: start,
                        end_time: end,
                        complete,
                        is_temp,
                        is_readonly,
                        project_type,
                        vsproject_id,
                        missing: vec![],
                        status_unrecognised: None,
                    },
                    platform,
                )
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn write_then_parse_round_trips((doc, platform) in doc_and_platform()) {
            let bytes = write(&doc, platform);
            prop_assert_eq!(parse(&bytes), Ok(doc.clone()));
            // and writing what was read reproduces the bytes
            prop_assert_eq!(write(&doc, platform), bytes);
        }

        #[test]
        fn parse_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn parse_never_panics_on_xmlish_text(s in "[<>/?!a-z =\"'&#;\\[\\]-]{0,200}") {
            let _ = parse(s.as_bytes());
        }

        #[test]
        fn parse_never_panics_on_mutations(
            (doc, platform) in doc_and_platform(),
            cut in any::<proptest::sample::Index>(),
            flips in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 0..6),
        ) {
            let bytes = write(&doc, platform);
            let truncated = &bytes[..cut.index(bytes.len() + 1)];
            let _ = parse(truncated);
            if truncated.len() < bytes.len() {
                prop_assert!(parse(truncated).is_err());
            }
            let mut flipped = bytes.clone();
            for (at, b) in flips {
                let i = at.index(flipped.len());
                flipped[i] ^= b;
            }
            let _ = parse(&flipped);
        }
    }
}

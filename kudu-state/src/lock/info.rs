//! What Kudu's lock files say (spec §2.2, §2.3), parsed into values.
//!
//! Parsing never fails: a lock file that is empty or not the JSON Kudu writes is kept as
//! [`Content::Corrupt`] with the reason, because on Linux that state is itself a finding (spec S5).

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::dotnet_time;
use crate::store::Content;

/// How long KuduLite's deployment lock lasts: `lockExpiry` = acquisition + 1500 s (never renewed).
pub const LINUX_LOCK_LIFETIME: TimeDelta = TimeDelta::seconds(1500);

/// How long `autoswap.lock` counts as "auto swap ongoing" after its last write.
pub const AUTOSWAP_WINDOW: TimeDelta = TimeDelta::minutes(2);

/// `OperationLockInfo`, the JSON Windows Kudu writes into a lock it acquires (and Linux Kudu into its
/// idle lock files). Kudu never trusts it for the "held?" decision; it names the holder in a 409.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperationLockInfo {
    /// `OperationName`, e.g. "Performing continuous deployment".
    pub operation: Option<String>,
    /// `AcquiredDateTime`, parsed.
    pub acquired: Option<DateTime<Utc>>,
    /// `AcquiredDateTime` as written.
    pub acquired_text: Option<String>,
    /// `StackTrace`, verbatim: it tells which Kudu code path took the lock.
    pub stack_trace: Option<String>,
    /// `InstanceId`: the first 6 characters of the holding instance's id.
    pub instance_id: Option<String>,
}

/// `info.lock` of KuduLite's deployment lock (`AllSafeLinuxLock`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinuxLockInfo {
    /// `lockExpiry`; `None` when it is JSON null or empty, which Kudu treats as "not held" and deletes.
    pub expiry: Option<DateTime<Utc>>,
    /// `lockExpiry` as written.
    pub expiry_text: Option<String>,
    /// `heldByPID`: a process id inside the Kudu container; useless for liveness from elsewhere.
    pub pid: Option<i64>,
    /// `heldByTID`: a managed thread id.
    pub tid: Option<i64>,
    /// `heldByOp`: the operation, e.g. "Performing continuous deployment".
    pub operation: Option<String>,
    /// `heldByWorker`: `WEBSITE_INSTANCE_ID` of the holder, or `None` when Kudu wrote null.
    pub worker: Option<String>,
}

impl LinuxLockInfo {
    /// When the lock was taken: `lockExpiry` − 1500 s, as Kudu's own 409 message computes it.
    #[must_use]
    pub fn acquired(&self) -> Option<DateTime<Utc>> {
        self.expiry.map(|e| e - LINUX_LOCK_LIFETIME)
    }

    /// Kudu's "held?" answer at `now` (spec §2.3): held only while `lockExpiry` is in the future.
    #[must_use]
    pub fn is_held_at(&self, now: DateTime<Utc>) -> bool {
        self.expiry.is_some_and(|e| e > now)
    }
}

/// Parses Windows `OperationLockInfo` JSON (also the content of Linux idle lock files).
///
/// Kudu reports "unknown" for a holder it cannot read, so anything that is a JSON object is accepted
/// and unknown or missing properties are simply absent.
#[must_use]
pub fn parse_operation_lock(bytes: &[u8]) -> Content<OperationLockInfo> {
    let obj = match json_object(bytes) {
        Ok(o) => o,
        Err(reason) => return Content::Corrupt { reason },
    };
    let acquired_text = string_prop(&obj, "AcquiredDateTime");
    Content::Parsed {
        value: OperationLockInfo {
            operation: string_prop(&obj, "OperationName"),
            acquired: acquired_text
                .as_deref()
                .and_then(dotnet_time::parse_lenient),
            acquired_text,
            stack_trace: string_prop(&obj, "StackTrace"),
            instance_id: string_prop(&obj, "InstanceId"),
        },
    }
}

/// Parses KuduLite's `info.lock` the way `AllSafeLinuxLock` does: the `heldByWorker` and `lockExpiry`
/// properties must exist (a missing one makes Kudu's check throw, spec S5); a null or empty expiry is valid
/// and means "not held".
#[must_use]
pub fn parse_linux_lock(bytes: &[u8]) -> Content<LinuxLockInfo> {
    let obj = match json_object(bytes) {
        Ok(o) => o,
        Err(reason) => return Content::Corrupt { reason },
    };
    for required in ["heldByWorker", "lockExpiry"] {
        if !obj.contains_key(required) {
            return Content::Corrupt {
                reason: format!("property `{required}` is missing"),
            };
        }
    }
    let expiry_text = string_prop(&obj, "lockExpiry");
    let expiry = match expiry_text.as_deref() {
        None | Some("") => None,
        Some(t) => match dotnet_time::parse_lenient(t) {
            Some(e) => Some(e),
            None => {
                return Content::Corrupt {
                    reason: format!("`lockExpiry` is not a date: `{t}`"),
                };
            }
        },
    };
    Content::Parsed {
        value: LinuxLockInfo {
            expiry,
            expiry_text,
            pid: obj.get("heldByPID").and_then(Value::as_i64),
            tid: obj.get("heldByTID").and_then(Value::as_i64),
            operation: string_prop(&obj, "heldByOp"),
            worker: string_prop(&obj, "heldByWorker"),
        },
    }
}

/// Parses bytes as one JSON object, tolerating a UTF-8 BOM and surrounding whitespace.
fn json_object(bytes: &[u8]) -> Result<serde_json::Map<String, Value>, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("the file is empty".to_owned());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err("the JSON is not an object".to_owned()),
        Err(e) => Err(format!("not valid JSON ({e})")),
    }
}

fn string_prop(obj: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_lock_info_as_kudu_writes_it() {
        let text = "{\r\n  \"OperationName\": \"Performing continuous deployment\",\r\n  \"AcquiredDateTime\": \"2024-09-04T10:33:18.1234567Z\",\r\n  \"StackTrace\": \"   at X\\r\\n   at Y\",\r\n  \"InstanceId\": \"a1b2c3\"\r\n}";
        let v = parse_operation_lock(text.as_bytes());
        let info = v.value().expect("parsed");
        assert_eq!(
            info.operation.as_deref(),
            Some("Performing continuous deployment")
        );
        assert_eq!(info.instance_id.as_deref(), Some("a1b2c3"));
        assert_eq!(info.stack_trace.as_deref(), Some("   at X\r\n   at Y"));
        assert_eq!(
            info.acquired.map(|t| t.to_rfc3339()),
            Some("2024-09-04T10:33:18.123456700+00:00".to_owned())
        );
    }

    #[test]
    fn linux_lock_expiry_decides_held() {
        let v = parse_linux_lock(br#"{"lockExpiry":"2021-09-09T17:52:47.1234567Z","heldByPID":57,"heldByTID":23,"heldByOp":"Performing continuous deployment","heldByWorker":null}"#);
        let info = v.value().expect("parsed");
        let expiry = info.expiry.expect("expiry");
        assert!(info.is_held_at(expiry - TimeDelta::seconds(1)));
        assert!(!info.is_held_at(expiry));
        assert_eq!(info.acquired(), Some(expiry - TimeDelta::seconds(1500)));
        assert_eq!(info.worker, None);
        assert_eq!(info.pid, Some(57));
    }

    #[test]
    fn linux_lock_null_expiry_is_not_held_and_not_corrupt() {
        let v = parse_linux_lock(br#"{"lockExpiry":null,"heldByWorker":"w"}"#);
        assert!(!v.value().expect("parsed").is_held_at(Utc::now()));
    }

    #[test]
    fn linux_lock_missing_required_or_garbage_is_corrupt() {
        for bad in [
            &b""[..],
            b"   ",
            b"{\"lockExpiry\":\"2021-09-09T17:52:47Z\"}",
            b"{\"heldByWorker\":\"w\"}",
            b"{\"lockExpiry\":\"soon\",\"heldByWorker\":\"w\"}",
            b"{\"lockExpiry\":\"2021-09-09T17:5",
            b"[1,2]",
        ] {
            assert!(
                matches!(parse_linux_lock(bad), Content::Corrupt { .. }),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}

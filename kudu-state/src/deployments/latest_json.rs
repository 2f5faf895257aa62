//! Windows Kudu's `site/deployments/latest.json`, which its self-heal rewrites after marking a record
//! failed (`MarkStatusComplete` → `DeploymentCompletedInfo.Persist`, spec §1, §7.2).
//!
//! Kudu serialises with .NET Framework's `JavaScriptSerializer`: properties in declaration order, enums
//! as numbers, `DateTime` as `"\/Date(<ms since 1970>)\/"`, and strings escaped by
//! `HttpUtility.JavaScriptStringEncode` (quotes, backslash, control characters, and `'`, `<`, `>`, `&`,
//! U+0085, U+2028, U+2029 as `\uXXXX`). The object is
//! `{"TimeStamp","SiteName","RequestId","Kind","Status","Details"}` where `Details` is the status record
//! serialised the same way, as a string.
//!
//! Three values come from Kudu's process, not from disk, and kudu-state writes them as follows:
//! `SiteName` is kept from the `latest.json` being replaced (Kudu's is `WEBSITE_SITE_NAME`), or null;
//! `RequestId` and the record's `HostName` are null (there is no HTTP request); `Kind` is the record's
//! deployer, as Kudu writes it when `SCM_DEPLOYMENT_KIND` is not set.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::status_xml::StatusXml;

/// The `latest.json` Kudu writes after a save of `doc`, at `now`.
#[must_use]
pub(crate) fn render(doc: &StatusXml, site_name: Option<&str>, now: DateTime<Utc>) -> String {
    let details = status_record(doc, site_name);
    let mut out = String::from("{");
    let _ = write!(
        out,
        "\"TimeStamp\":{},\"SiteName\":{},\"RequestId\":null,\"Kind\":{},\"Status\":{},\"Details\":{}",
        string(&format!("{}Z", now.format("%Y-%m-%dT%H:%M:%S"))),
        opt(site_name),
        opt(doc.deployer.as_deref()),
        string(&doc.status.to_string()),
        string(&details),
    );
    out.push('}');
    out
}

/// The `SiteName` of an existing `latest.json`, to keep it.
#[must_use]
pub(crate) fn site_name(bytes: &[u8]) -> Option<String> {
    let v: serde_json::Value =
        serde_json::from_slice(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)).ok()?;
    v.get("SiteName")?.as_str().map(str::to_owned)
}

/// `JavaScriptSerializer.Serialize(DeploymentStatusFile)`: its public properties in declaration order.
fn status_record(doc: &StatusXml, site_name: Option<&str>) -> String {
    let mut out = String::from("{");
    let _ = write!(
        out,
        "\"Id\":{},\"Status\":{},\"StatusText\":{},\"AuthorEmail\":{},\"Author\":{},\"Message\":{},\"Progress\":{},\"Deployer\":{},\"ReceivedTime\":{},\"StartTime\":{},\"EndTime\":{},\"LastSuccessEndTime\":{},\"Complete\":{},\"IsTemporary\":{},\"IsReadOnly\":{},\"SiteName\":{},\"HostName\":null,\"ProjectType\":null,\"VsProjectId\":null",
        string(&doc.id),
        doc.status.as_number(),
        opt(doc.status_text.as_deref()),
        opt(doc.author_email.as_deref()),
        opt(doc.author.as_deref()),
        opt(doc.message.as_deref()),
        opt(doc.progress.as_deref()),
        opt(doc.deployer.as_deref()),
        date(doc.received_time),
        date(doc.start_time),
        doc.end_time.map_or_else(|| "null".to_owned(), date),
        doc.last_success_end_time
            .map_or_else(|| "null".to_owned(), date),
        doc.complete,
        doc.is_temp,
        doc.is_readonly,
        opt(site_name),
    );
    // `ProjectType` and `VsProjectId` are null: `MarkStatusComplete` sets both from a null analytics
    // object.
    out.push('}');
    out
}

fn opt(s: Option<&str>) -> String {
    s.map_or_else(|| "null".to_owned(), string)
}

/// `"\/Date(<ms>)\/"`: milliseconds since 1970-01-01 UTC.
fn date(t: DateTime<Utc>) -> String {
    format!("\"\\/Date({})\\/\"", t.timestamp_millis())
}

/// A JSON string as `HttpUtility.JavaScriptStringEncode` escapes it.
fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20
                || matches!(
                    c,
                    '\'' | '<' | '>' | '&' | '\u{85}' | '\u{2028}' | '\u{2029}'
                ) =>
            {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status_xml::DeployStatus;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    /// Bytes written by hand from the format in this module's documentation.
    #[test]
    fn renders_as_javascript_serializer_does() {
        let doc = StatusXml {
            id: "8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b".to_owned(),
            author: Some("N/A".to_owned()),
            deployer: Some("ZipDeploy".to_owned()),
            author_email: Some("N/A".to_owned()),
            message: Some("Jane's <fix> & \"more\"".to_owned()),
            progress: Some(String::new()),
            status: DeployStatus::Failed,
            status_text: Some(String::new()),
            last_success_end_time: None,
            received_time: t("2024-09-04T10:33:19.0456123Z"),
            start_time: t("2024-09-04T10:33:19.8815Z"),
            end_time: Some(t("2024-09-04T11:00:00Z")),
            complete: true,
            is_temp: false,
            is_readonly: true,
            project_type: Some(String::new()),
            vsproject_id: Some(String::new()),
            missing: Vec::new(),
            status_unrecognised: None,
        };
        let got = render(&doc, Some("my-app"), t("2024-09-04T11:00:00.5Z"));
        let want = r#"{"TimeStamp":"2024-09-04T11:00:00Z","SiteName":"my-app","RequestId":null,"Kind":"ZipDeploy","Status":"Failed","Details":"{\"Id\":\"8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b\",\"Status\":3,\"StatusText\":\"\",\"AuthorEmail\":\"N/A\",\"Author\":\"N/A\",\"Message\":\"Jane\\u0027s \\u003cfix\\u003e \\u0026 \\\"more\\\"\",\"Progress\":\"\",\"Deployer\":\"ZipDeploy\",\"ReceivedTime\":\"\\/Date(1725445999045)\\/\",\"StartTime\":\"\\/Date(1725445999881)\\/\",\"EndTime\":\"\\/Date(1725447600000)\\/\",\"LastSuccessEndTime\":null,\"Complete\":true,\"IsTemporary\":false,\"IsReadOnly\":true,\"SiteName\":\"my-app\",\"HostName\":null,\"ProjectType\":null,\"VsProjectId\":null}"}"#;
        assert_eq!(got, want);
        // And it is JSON whose Details is JSON.
        let v: serde_json::Value = serde_json::from_str(&got).expect("json");
        let details: serde_json::Value =
            serde_json::from_str(v["Details"].as_str().expect("string")).expect("details json");
        assert_eq!(details["Status"], 3);
        assert_eq!(site_name(got.as_bytes()).as_deref(), Some("my-app"));
    }
}

//! How Kudu judges the root files of `site/deployments` (spec §3, S6, S11): `active` exactly as Kudu
//! matches it, `pending` (never a cause of 409), a `settings.xml` Kudu will delete at its next start.

use super::{ActiveValue, DeploymentsDir};
use crate::diagnose::{Ctx, Evidence, Finding, FindingCode, INFO, Severity, Subject, Verdict};
use crate::status_xml::DeployStatus;
use crate::store::Content;

const ACTIVE: &str = "site/deployments/active";

/// What losing `active` costs, said by three findings.
const NO_PROTECTION: &str = "no deployment is protected from purge and the next deployment gets no previous manifest (files removed from the project stay in wwwroot)";

/// `active`: empty, missing, malformed, or naming a record Kudu cannot find.
pub(crate) fn active(cx: &mut Ctx<'_>, d: &DeploymentsDir) {
    let has_success = d
        .records
        .iter()
        .filter_map(|r| r.effective(cx.platform()))
        .any(|s| s.status == DeployStatus::Success || s.last_success_end_time.is_some());
    let broken = (Severity::Error, Verdict::Broken);
    let Some(file) = &d.active else {
        if has_success {
            cx.push(Finding::new(
                FindingCode::ActiveEmpty,
                (Severity::Warning, Verdict::Idle),
                Subject::Active,
                ACTIVE,
                format!("active is missing although deployments have succeeded: {NO_PROTECTION}"),
                Evidence::ActiveMissing { exists: false },
            ));
        }
        return;
    };
    let value = match &file.content {
        Content::Parsed { value } => value,
        Content::Corrupt { reason } | Content::Unreadable { error: reason } => {
            cx.push(Finding::new(
                FindingCode::FileUnreadable,
                (Severity::Warning, Verdict::Idle),
                Subject::Active,
                ACTIVE,
                format!("active cannot be read here ({reason})"),
                Evidence::Unreadable {
                    error: reason.clone(),
                },
            ));
            return;
        }
    };
    let finding = match value {
        ActiveValue::Empty => Finding::new(
            FindingCode::ActiveEmpty,
            if has_success {
                (Severity::Warning, Verdict::Idle)
            } else {
                INFO
            },
            Subject::Active,
            ACTIVE,
            if has_success {
                format!("active is empty although deployments have succeeded: {NO_PROTECTION}")
            } else {
                "active is empty: no deployment has succeeded yet (normal on a new site)".to_owned()
            },
            Evidence::ActiveEmpty {
                mtime: file.meta.modified,
                successful_records: has_success,
            },
        ),
        ActiveValue::Malformed {
            raw,
            trimmed,
            problem,
        } => Finding::new(
            FindingCode::ActiveMalformed,
            broken,
            Subject::Active,
            ACTIVE,
            format!(
                "active {problem}: Kudu matches no record with it, so the live deployment loses its purge protection and the next deployment its previous manifest; rewrite it as the exact id (kudu-state plan)"
            ),
            Evidence::ActiveMalformed {
                raw: raw.clone(),
                target_exists: trimmed.as_deref().is_some_and(|t| d.record(t).is_some()),
                trimmed: trimmed.clone(),
            },
        ),
        ActiveValue::Id { id } => match d.record(id) {
            Some(r) if r.status.is_some() => return,
            Some(_) => Finding::new(
                FindingCode::ActiveMissingTarget,
                broken,
                Subject::Active,
                ACTIVE,
                format!(
                    "active names '{id}', whose folder has no status.xml: Kudu sees no active deployment"
                ),
                Evidence::ActiveTarget {
                    folder_exists: true,
                    id: id.clone(),
                },
            ),
            None => match d.records.iter().find(|r| r.id().eq_ignore_ascii_case(id)) {
                Some(r) => Finding::new(
                    FindingCode::ActiveMalformed,
                    broken,
                    Subject::Active,
                    ACTIVE,
                    format!(
                        "active names '{id}' but the folder is '{}': Kudu flags no record active (it compares case-sensitively)",
                        r.id()
                    ),
                    Evidence::ActiveCase {
                        folder: r.id().to_owned(),
                        id: id.clone(),
                    },
                ),
                None => Finding::new(
                    FindingCode::ActiveMissingTarget,
                    broken,
                    Subject::Active,
                    ACTIVE,
                    format!(
                        "active names '{id}', which does not exist: the next deployment gets no previous manifest, so files removed from the project stay in wwwroot"
                    ),
                    Evidence::ActiveTarget {
                        folder_exists: false,
                        id: id.clone(),
                    },
                ),
            },
        },
    };
    cx.push(finding);
}

/// `pending` and `settings.xml`.
pub(crate) fn root_files(cx: &mut Ctx<'_>, d: &DeploymentsDir) {
    if let Some(p) = &d.pending {
        cx.push(Finding::new(
            FindingCode::PendingMarker,
            INFO,
            Subject::Pending,
            "site/deployments/pending",
            "pending is a 0-byte marker Kudu creates on most deployments and never deletes; it never causes a 409 — do not delete it",
            Evidence::Marker {
                mtime: p.modified,
                size: p.size,
            },
        ));
    }
    if let Some(f) = &d.settings_xml
        && let Content::Corrupt { reason } = &f.content
    {
        cx.push(Finding::new(
            FindingCode::SettingsXmlCorrupt,
            (Severity::Error, Verdict::Broken),
            Subject::SettingsXml,
            f.path.as_str(),
            format!("settings.xml is not well-formed XML ({reason}): Kudu deletes it at its next start, losing the deployment settings set through /api/settings; fix or re-create them first"),
            Evidence::CorruptRootFile {
                reason: reason.clone(),
                size: f.meta.size,
            },
        ));
    }
}

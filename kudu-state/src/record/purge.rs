//! Kudu's own purge (spec §7.1): which record folders it removes at its next deployment listing.
//! Nothing kudu-state does; the finding says what will go, so nobody deletes it by hand first.

use chrono::{DateTime, Utc};

use super::NextRead;
use crate::deployments::DeploymentsDir;
use crate::diagnose::{Ctx, Evidence, Finding, FindingCode, INFO, Subject};
use crate::lock::rules::LockState;
use crate::platform::Platform;
use crate::status_xml::{DeployStatus, StatusDoc};

/// How many ever-succeeded records Kudu's purge keeps (spec §7.1).
pub const PURGE_KEEP_SUCCEEDED: usize = 10;

/// How many of the ids Kudu's purge would remove a `purge-backlog` finding lists (a neglected site
/// has tens of thousands; the count is always given).
const PURGE_IDS_SHOWN: usize = 20;

/// Kudu's purge (spec §7.1), computed on the records it can read: the ids it would delete, in the
/// order of `d.records` (name order, as a scan lists them).
pub fn purge_candidates(d: &DeploymentsDir, platform: Platform) -> Vec<&str> {
    // (received, position in `d.records`, document) of what Kudu can read, newest first; ties keep
    // name order. Positions, not ids, are compared and marked: a neglected site has 100,000 records.
    let mut recs: Vec<(DateTime<Utc>, usize, &StatusDoc)> = d
        .records
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            !matches!(
                r.next_read,
                NextRead::DeleteFolder { .. } | NextRead::Invisible
            )
        })
        .filter_map(|(i, r)| r.effective(platform).map(|s| (s.received_time, i, s)))
        .collect();
    recs.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let Some(&(_, newest, _)) = recs.first() else {
        return Vec::new();
    };
    let active = d.active_id();
    let mut purged = vec![false; d.records.len()];
    let in_progress: Vec<_> = recs
        .iter()
        .filter(|(_, _, s)| !s.status.is_terminal())
        .collect();
    if in_progress.len() > 1 {
        let any_real = in_progress.iter().any(|(_, _, s)| !s.is_temp);
        for &&(_, i, s) in &in_progress {
            if (any_real && s.is_temp) || (!any_real && i != newest) {
                purged[i] = true;
            }
        }
    }
    for &(_, i, s) in &recs {
        if s.status == DeployStatus::Failed && s.last_success_end_time.is_none() && i != newest {
            purged[i] = true;
        }
    }
    let succeeded = recs
        .iter()
        .filter(|(_, _, s)| s.last_success_end_time.is_some());
    for &(_, i, s) in succeeded.skip(PURGE_KEEP_SUCCEEDED) {
        if s.status.is_terminal() && Some(d.records[i].id()) != active {
            purged[i] = true;
        }
    }
    // Records are in name order, so the ids come out sorted.
    d.records
        .iter()
        .zip(purged)
        .filter(|(_, purged)| *purged)
        .map(|(r, _)| r.id())
        .collect()
}

/// The `purge-backlog` finding.
pub(crate) fn purge(cx: &mut Ctx<'_>, d: &DeploymentsDir, lock: LockState) {
    let ids = purge_candidates(d, cx.platform());
    if ids.is_empty() {
        return;
    }
    let skipped = cx.platform() == Platform::Linux && lock == LockState::Held;
    cx.push(Finding::new(
        FindingCode::PurgeBacklog,
        INFO,
        Subject::Deployments,
        d.path.as_str(),
        format!(
            "Kudu's own purge will remove {} record folder(s) at its next deployment listing{}; nothing to do",
            ids.len(),
            if skipped {
                " (KuduLite skips purge while the lock is held)"
            } else {
                ""
            }
        ),
        Evidence::Purge {
            count: ids.len(),
            first_ids: ids
                .iter()
                .take(PURGE_IDS_SHOWN)
                .map(|id| (*id).to_owned())
                .collect(),
        },
    ));
}

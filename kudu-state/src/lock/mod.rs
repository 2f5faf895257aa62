//! Kudu's locks under `site/locks` (spec §2): the model, how they are read, and (in [`rules`]) how
//! they are judged.
//!
//! Kudu has two deployment locks with nothing in common but their purpose:
//! - Windows: `site/locks/deployments.lock`, held by an *open handle*. The JSON inside only names the
//!   holder for the 409 message; whether the lock is held can only be decided on the site itself.
//! - Linux: the *directory* `site/locks/deployment/` plus `info.lock`, whose `lockExpiry` decides
//!   everything: held while it is in the future, deleted by the next check once it is past.
//!
//! Besides them: `status.lock`, `hooks.lock`, `sshkey.lock` (always present on Linux, where they exclude
//! nothing) and `autoswap.lock` (only its mtime matters). What the files say is in [`info`].

pub mod info;
pub(crate) mod rules;

use serde::Serialize;

pub use info::{
    AUTOSWAP_WINDOW, LINUX_LOCK_LIFETIME, LinuxLockInfo, OperationLockInfo, parse_linux_lock,
    parse_operation_lock,
};

use crate::names::named_enum;
use crate::scan::{
    LOCK_CAP, list_or_note, note_unreadable, note_wrong_kind, par_map, read_small, stat_or_gone,
};
use crate::snapshot::ScanNote;
use crate::store::{Content, EntryKind, HeldProof, Meta, RelPath, Store};

/// A lock file: where, its metadata, its parsed content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockFile<T> {
    /// Where it is.
    pub path: RelPath,
    /// Its metadata (an mtime is the only age a Windows lock has besides its JSON).
    pub meta: Meta,
    /// Its content.
    pub content: Content<T>,
    /// For Windows `deployments.lock` read over Kudu's API: whether Kudu holds it open right now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held: Option<HeldProof>,
}

/// KuduLite's deployment lock directory `site/locks/deployment/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinuxLockDir {
    /// `site/locks/deployment`.
    pub path: RelPath,
    /// The directory's metadata.
    pub meta: Meta,
    /// `info.lock`; absent means "not held" to Kudu, though the directory stays.
    pub info: Option<LockFile<LinuxLockInfo>>,
}

named_enum! {
    /// Which idle lock a file is (Linux keeps these permanently; Windows deletes them on release).
    /// Declared in file-name order.
    pub enum IdleLockName {
        /// `hooks.lock`: guards web hooks.
        Hooks => "hooks",
        /// `sshkey.lock`: guards the SSH key API.
        Sshkey => "sshkey",
        /// `status.lock`: guards `status.xml` and `active`.
        Status => "status",
    }
}

impl IdleLockName {
    /// The file name under `site/locks`.
    #[must_use]
    pub fn file_name(self) -> &'static str {
        match self {
            IdleLockName::Status => "status.lock",
            IdleLockName::Hooks => "hooks.lock",
            IdleLockName::Sshkey => "sshkey.lock",
        }
    }
}

/// A status, hooks or sshkey lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdleLock {
    /// Which one.
    pub name: IdleLockName,
    /// The file.
    pub file: LockFile<OperationLockInfo>,
}

/// Everything under `site/locks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Locks {
    /// `site/locks` itself, absent on a site that never took a lock.
    pub dir: Option<Meta>,
    /// Windows `deployments.lock`.
    pub windows_deployment: Option<LockFile<OperationLockInfo>>,
    /// Linux `deployment/`.
    pub linux_deployment: Option<LinuxLockDir>,
    /// `status.lock`, `hooks.lock`, `sshkey.lock` that exist.
    pub idle: Vec<IdleLock>,
    /// `autoswap.lock`: only its mtime matters.
    pub autoswap: Option<Meta>,
}

/// One entry of `site/locks` as read.
enum LockPart {
    Windows(Option<LockFile<OperationLockInfo>>),
    Autoswap(Option<Meta>),
    Linux(Option<LinuxLockDir>),
    Idle(IdleLock),
    Other,
}

/// Reads `site/locks` (its entries at once, on a store that wants it). `meta` is the folder's own.
pub(crate) fn read(
    store: &dyn Store,
    dir: &RelPath,
    meta: Option<Meta>,
    notes: &mut Vec<ScanNote>,
) -> Locks {
    let entries = list_or_note(store, dir, notes);
    let parts = par_map(store, entries, notes, |entry, notes| {
        let Ok(path) = dir.join(&entry.name) else {
            return LockPart::Other;
        };
        let lock_file = |notes: &mut Vec<ScanNote>| {
            let (meta, content) = read_small(
                store,
                &path,
                &entry.kind,
                LOCK_CAP,
                notes,
                parse_operation_lock,
            )?;
            Some(LockFile {
                path: path.clone(),
                meta,
                content,
                held: None,
            })
        };
        match entry.name.as_str() {
            "deployments.lock" => LockPart::Windows(lock_file(notes).map(|mut file| {
                let instance = file.content.value().and_then(|i| i.instance_id.clone());
                file.held = match store.held_by_kudu(&file.path, instance.as_deref()) {
                    Ok(proof) => proof,
                    Err(e) => {
                        note_unreadable(notes, &file.path, &e);
                        None
                    }
                };
                file
            })),
            "autoswap.lock" => LockPart::Autoswap(stat_or_gone(store, &path, notes)),
            "deployment" if entry.kind == EntryKind::Dir => {
                LockPart::Linux(read_linux_dir(store, path.clone(), notes))
            }
            "deployment" => {
                note_wrong_kind(notes, path.as_str(), &entry.kind);
                LockPart::Other
            }
            name => match IdleLockName::ALL
                .iter()
                .copied()
                .find(|n| n.file_name() == name)
            {
                Some(name) => lock_file(notes).map_or(LockPart::Other, |file| {
                    LockPart::Idle(IdleLock { name, file })
                }),
                None => LockPart::Other,
            },
        }
    });
    let mut locks = Locks {
        dir: meta,
        ..Locks::default()
    };
    for part in parts {
        match part {
            LockPart::Windows(f) => locks.windows_deployment = f,
            LockPart::Autoswap(m) => locks.autoswap = m,
            LockPart::Linux(d) => locks.linux_deployment = d,
            LockPart::Idle(i) => locks.idle.push(i),
            LockPart::Other => {}
        }
    }
    locks
}

/// KuduLite's lock folder `site/locks/deployment` and its `info.lock`.
fn read_linux_dir(
    store: &dyn Store,
    path: RelPath,
    notes: &mut Vec<ScanNote>,
) -> Option<LinuxLockDir> {
    let meta = stat_or_gone(store, &path, notes)?;
    let info = list_or_note(store, &path, notes)
        .into_iter()
        .find(|e| e.name == "info.lock")
        .and_then(|e| {
            let info_path = path.join("info.lock").ok()?;
            let (meta, content) = read_small(
                store,
                &info_path,
                &e.kind,
                LOCK_CAP,
                notes,
                parse_linux_lock,
            )?;
            Some(LockFile {
                path: info_path,
                meta,
                content,
                held: None,
            })
        });
    Some(LinuxLockDir { path, meta, info })
}

//! The core's enums as Python enums (`#[pyclass(eq, eq_int)]`): `Verdict.STUCK == Verdict.STUCK`,
//! `str(Verdict.STUCK) == "stuck"` (the JSON name), hashable, usable as dict keys.

use pyo3::prelude::*;

/// Declares a Python enum mirroring a core enum variant by variant, with conversions both ways.
macro_rules! py_enum {
    ($(#[$doc:meta])* $py:ident = $name:literal for $core:ty { $($variant:ident => $pyname:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[pyclass(module = "kudu_state", name = $name, eq, eq_int, frozen, hash, from_py_object)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub(crate) enum $py {
            $(#[pyo3(name = $pyname)] $variant,)+
        }

        impl From<$core> for $py {
            fn from(v: $core) -> Self {
                match v {
                    $(<$core>::$variant => $py::$variant,)+
                }
            }
        }

        impl From<$py> for $core {
            fn from(v: $py) -> Self {
                match v {
                    $($py::$variant => <$core>::$variant,)+
                }
            }
        }

        #[pymethods]
        impl $py {
            /// The name used in the JSON output and on the command line (lowercase / kebab-case).
            #[getter]
            fn value(&self) -> String {
                crate::diagnosis::json_str(serde_json::to_value(<$core>::from(*self)))
            }

            fn __str__(&self) -> String {
                self.value()
            }
        }
    };
}

py_enum! {
    /// The overall state of a home; most severe wins: BROKEN > STUCK > DEPLOYING > IDLE.
    Verdict = "Verdict" for kudu_state::Verdict {
        Idle => "IDLE", Deploying => "DEPLOYING", Stuck => "STUCK", Broken => "BROKEN",
    }
}

py_enum! {
    /// How much a finding matters.
    Severity = "Severity" for kudu_state::Severity {
        Info => "INFO", Warning => "WARNING", Error => "ERROR",
    }
}

py_enum! {
    /// The Kudu flavour that owns a home.
    Platform = "Platform" for kudu_state::Platform {
        Windows => "WINDOWS", Linux => "LINUX",
    }
}

py_enum! {
    /// Whether the caller gave the home or its `site` folder.
    Given = "Given" for kudu_state::snapshot::Given {
        Home => "HOME", Site => "SITE",
    }
}

py_enum! {
    /// What a plan step does.
    Action = "Action" for kudu_state::remediate::Action {
        Wait => "WAIT",
        FailOrphanedRecord => "FAIL_ORPHANED_RECORD",
        RemoveExpiredLock => "REMOVE_EXPIRED_LOCK",
        RemoveCorruptLock => "REMOVE_CORRUPT_LOCK",
        RemoveStalledLock => "REMOVE_STALLED_LOCK",
        RemoveFolderWithoutStatus => "REMOVE_FOLDER_WITHOUT_STATUS",
        RepairStatusXml => "REPAIR_STATUS_XML",
        RepairActive => "REPAIR_ACTIVE",
        RestartScm => "RESTART_SCM",
    }
}

py_enum! {
    /// How much a plan step can hurt if the diagnosis behind it were wrong.
    Risk = "Risk" for kudu_state::remediate::Risk {
        None => "NONE", Low => "LOW", Medium => "MEDIUM", High => "HIGH",
    }
}

py_enum! {
    /// What happened to one step of an apply.
    StepOutcome = "StepOutcome" for kudu_state::remediate::StepOutcome {
        Applied => "APPLIED", AlreadyDone => "ALREADY_DONE", Advisory => "ADVISORY",
    }
}

py_enum! {
    /// What kind of conflict a 409 body reports.
    ConflictKind = "ConflictKind" for kudu_state::explain::ConflictKind {
        DeploymentInProgress => "DEPLOYMENT_IN_PROGRESS",
        LockConflict => "LOCK_CONFLICT",
        AutoswapInProgress => "AUTOSWAP_IN_PROGRESS",
        RunFromRemotePackage => "RUN_FROM_REMOTE_PACKAGE",
        DeploymentActive => "DEPLOYMENT_ACTIVE",
        DeploymentExists => "DEPLOYMENT_EXISTS",
        LockAcquireFailed => "LOCK_ACQUIRE_FAILED",
        DirectoryNotEmpty => "DIRECTORY_NOT_EMPTY",
        ArmSiteLock => "ARM_SITE_LOCK",
        Unknown => "UNKNOWN",
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Verdict>()?;
    m.add_class::<Severity>()?;
    m.add_class::<Platform>()?;
    m.add_class::<Given>()?;
    m.add_class::<Action>()?;
    m.add_class::<Risk>()?;
    m.add_class::<StepOutcome>()?;
    m.add_class::<ConflictKind>()?;
    Ok(())
}

//! The core's enums as Python enums (`#[pyclass(eq, eq_int)]`): `Verdict.STUCK == Verdict.STUCK`,
//! `str(Verdict.STUCK) == Verdict.STUCK.value == "stuck"` (the core's `as_str()`, the JSON name), hashable,
//! usable as dict keys. Each is declared by its variants' idents only: the Python names are those idents
//! in SCREAMING_SNAKE_CASE, the values come from the core's name table, and the conversions both ways are
//! exhaustive matches, so a variant added to the core fails to compile here until it is listed.

use pyo3::prelude::*;

/// Declares a Python enum mirroring a core enum variant by variant, with conversions both ways.
macro_rules! py_enum {
    ($(#[$doc:meta])* $py:ident for $core:ty { $($variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[pyclass(
            module = "kudu_state",
            eq,
            eq_int,
            frozen,
            hash,
            from_py_object,
            rename_all = "SCREAMING_SNAKE_CASE"
        )]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub(crate) enum $py {
            $($variant,)+
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
            /// The core's name: the text in the JSON output and on the command line.
            #[getter]
            fn value(&self) -> &'static str {
                <$core>::from(*self).as_str()
            }

            fn __str__(&self) -> &'static str {
                self.value()
            }
        }
    };
}

py_enum! {
    /// The overall state of a home; most severe wins: BROKEN > STUCK > DEPLOYING > IDLE.
    Verdict for kudu_state::Verdict { Idle, Deploying, Stuck, Broken }
}

py_enum! {
    /// How much a finding matters.
    Severity for kudu_state::Severity { Info, Warning, Error }
}

py_enum! {
    /// The Kudu flavour that owns a home.
    Platform for kudu_state::Platform { Windows, Linux }
}

py_enum! {
    /// Whether the caller gave the home or its `site` folder.
    Given for kudu_state::snapshot::Given { Home, Site }
}

py_enum! {
    /// What the scanner met and did not read.
    NoteKind for kudu_state::snapshot::NoteKind { Symlink, NonUtf8Name, Unreadable, WrongKind }
}

py_enum! {
    /// What a plan step does.
    Action for kudu_state::remediate::Action {
        Wait,
        FailOrphanedRecord,
        RemoveExpiredLock,
        RemoveCorruptLock,
        RemoveStalledLock,
        RemoveFolderWithoutStatus,
        RepairStatusXml,
        RepairActive,
        RestartScm,
    }
}

py_enum! {
    /// How much a plan step can hurt if the diagnosis behind it were wrong.
    Risk for kudu_state::remediate::Risk { None, Low, Medium, High }
}

py_enum! {
    /// What a step's target was when the plan was made.
    TargetKind for kudu_state::remediate::TargetKind { Absent, File, Dir, Other }
}

py_enum! {
    /// What happened to one step of an apply.
    StepOutcome for kudu_state::remediate::StepOutcome { Applied, AlreadyDone, Advisory }
}

py_enum! {
    /// What kind of conflict a 409 body reports.
    ConflictKind for kudu_state::explain::ConflictKind {
        DeploymentInProgress,
        LockConflict,
        AutoswapInProgress,
        RunFromRemotePackage,
        DeploymentActive,
        DeploymentExists,
        LockAcquireFailed,
        DirectoryNotEmpty,
        ArmSiteLock,
        Unknown,
    }
}

/// The JSON names of the core's `TrackEnd` (its serde names; the core has no `as_str` for it), for
/// `py_enum!`. Checked against the core's JSON by the tests.
trait TrackEndName {
    fn as_str(&self) -> &'static str;
}

impl TrackEndName for kudu_state::TrackEnd {
    fn as_str(&self) -> &'static str {
        match self {
            kudu_state::TrackEnd::Succeeded => "succeeded",
            kudu_state::TrackEnd::Failed => "failed",
            kudu_state::TrackEnd::TimedOut => "timed-out",
            kudu_state::TrackEnd::Stopped => "stopped",
        }
    }
}

py_enum! {
    /// How a track ended.
    TrackEnd for kudu_state::TrackEnd { Succeeded, Failed, TimedOut, Stopped }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Verdict>()?;
    m.add_class::<Severity>()?;
    m.add_class::<Platform>()?;
    m.add_class::<Given>()?;
    m.add_class::<NoteKind>()?;
    m.add_class::<Action>()?;
    m.add_class::<Risk>()?;
    m.add_class::<TargetKind>()?;
    m.add_class::<StepOutcome>()?;
    m.add_class::<ConflictKind>()?;
    m.add_class::<TrackEnd>()?;
    Ok(())
}

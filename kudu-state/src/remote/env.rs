//! The environment the remote mode reads: variables and a `PATH` lookup, passed explicitly so
//! tests are hermetic (nothing here reads `std::env` but [`Env::from_process`]).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Environment variables (credentials, proxy, certificates) and where programs (`az`) are found.
///
/// `Debug` shows the names only: values hold passwords and tokens.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// The environment of this process (what the CLI and the bindings pass). Variables whose name or
    /// value is not UTF-8 are left out.
    #[must_use]
    pub fn from_process() -> Env {
        Env {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    /// An environment holding exactly these variables (tests; `PATH` among them, if any, is where
    /// programs are looked up).
    pub fn from_vars<K: Into<String>, V: Into<String>>(
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Env {
        Env {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// Sets one variable.
    #[must_use]
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Env {
        self.vars.insert(name.to_owned(), value.into());
        self
    }

    /// A variable's value; an empty value counts as unset.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// The first of these variables that is set (`HTTPS_PROXY`, then `https_proxy`, ...).
    pub(crate) fn first(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|n| self.get(n))
    }

    /// Every variable, for a child process's environment.
    pub(crate) fn vars(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Where `program` is found on this environment's `PATH` (with `PATHEXT` on Windows), if it is.
    #[must_use]
    pub fn find_program(&self, program: &str) -> Option<PathBuf> {
        let path = self.vars.get("PATH")?;
        let extensions: Vec<String> = if cfg!(windows) {
            self.get("PATHEXT")
                .unwrap_or(".COM;.EXE;.BAT;.CMD")
                .split(';')
                .filter(|e| !e.is_empty())
                .map(str::to_owned)
                .collect()
        } else {
            vec![String::new()]
        };
        std::env::split_paths(path)
            .filter(|dir| !dir.as_os_str().is_empty())
            .flat_map(|dir| {
                extensions
                    .iter()
                    .map(move |ext| dir.join(format!("{program}{ext}")))
            })
            .find(|candidate| is_executable(candidate))
    }
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env")
            .field("names", &self.vars.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs_err::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    fs_err::metadata(path).is_ok_and(|m| m.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_not_in_debug_and_empty_is_unset() {
        let env = Env::from_vars([("KUDU_STATE_PASSWORD", "hunter2"), ("EMPTY", " ")]);
        assert_eq!(env.get("KUDU_STATE_PASSWORD"), Some("hunter2"));
        assert_eq!(env.get("EMPTY"), None);
        assert!(!format!("{env:?}").contains("hunter2"));
        assert_eq!(env.find_program("sh"), None, "no PATH, no program");
    }
}

//! The credentials the emulated SCM site accepts.

use base64::Engine as _;

/// What the SCM site accepts in `Authorization`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Auth {
    /// Anything, including no header.
    #[default]
    None,
    /// Publishing credentials (`Authorization: Basic base64(user:password)`).
    Basic { user: String, password: String },
    /// An Entra token with the ARM audience (`Authorization: Bearer <token>`).
    Bearer { token: String },
    /// Any one of these.
    AnyOf(Vec<Auth>),
}

impl Auth {
    /// [`Auth::Basic`].
    pub fn basic(user: &str, password: &str) -> Self {
        Auth::Basic {
            user: user.to_owned(),
            password: password.to_owned(),
        }
    }

    /// [`Auth::Bearer`].
    pub fn bearer(token: &str) -> Self {
        Auth::Bearer {
            token: token.to_owned(),
        }
    }

    /// Whether an `Authorization` header value (or its absence) passes.
    pub(crate) fn accepts(&self, authorization: Option<&str>) -> bool {
        match self {
            Auth::None => true,
            Auth::Basic { user, password } => credentials(authorization, "Basic")
                .and_then(|encoded| {
                    base64::engine::general_purpose::STANDARD
                        .decode(encoded)
                        .ok()
                })
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .is_some_and(|pair| pair.split_once(':') == Some((user, password))),
            Auth::Bearer { token } => credentials(authorization, "Bearer") == Some(token),
            Auth::AnyOf(options) => options.iter().any(|a| a.accepts(authorization)),
        }
    }

    /// The `WWW-Authenticate` challenges of a 401.
    pub(crate) fn challenges(&self) -> Vec<String> {
        match self {
            Auth::None => Vec::new(),
            Auth::Basic { .. } => vec!["Basic realm=\"site\"".to_owned()],
            Auth::Bearer { .. } => vec!["Bearer realm=\"site\"".to_owned()],
            Auth::AnyOf(options) => {
                let mut all: Vec<String> = Vec::new();
                for challenge in options.iter().flat_map(Auth::challenges) {
                    if !all.contains(&challenge) {
                        all.push(challenge);
                    }
                }
                all
            }
        }
    }
}

/// The credentials of an `Authorization` header with this scheme (compared case-insensitively).
pub(crate) fn credentials<'a>(authorization: Option<&'a str>, scheme: &str) -> Option<&'a str> {
    let (given, rest) = authorization?.trim().split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then_some(rest.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_and_credentials() {
        let basic = Auth::basic("$site", "p:w");
        // "$site:p:w"
        assert!(basic.accepts(Some("Basic JHNpdGU6cDp3")));
        assert!(basic.accepts(Some("basic  JHNpdGU6cDp3 ")));
        assert!(!basic.accepts(Some("Basic JHNpdGU6cDp4")));
        assert!(!basic.accepts(None));
        let either = Auth::AnyOf(vec![basic, Auth::bearer("t0k")]);
        assert!(either.accepts(Some("Bearer t0k")));
        assert!(!either.accepts(Some("Bearer t0")));
        assert_eq!(either.challenges().len(), 2);
        assert!(Auth::None.accepts(None));
    }
}

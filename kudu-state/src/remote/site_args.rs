//! The arguments that name a site, as every front end takes them (the command's flags, Python's
//! keyword arguments, Node's options): which of them go together is checked here once, with
//! messages in the front end's own spelling ([`Spelling`]), and they name either a home on a disk
//! or a [`Site`] ([`Target`]).

use std::path::PathBuf;
use std::time::Duration;

use super::http::{HttpOptions, MAX_IN_FLIGHT_LIMIT};
use super::{ConnectOptions, Credentials, Env, RemoteStore};
use crate::error::{Error, Result};

/// How a front end writes an argument's name, so that an error about it reads as the caller wrote
/// it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Spelling {
    /// The command's flags: `--resource-group`.
    #[default]
    Flag,
    /// Python's keyword arguments: `resource_group=`.
    Keyword,
    /// Node's options: `` `resourceGroup` ``.
    Option,
}

impl Spelling {
    /// `field`, a snake_case argument name, as the front end writes it.
    #[must_use]
    pub fn name(self, field: &str) -> String {
        match self {
            Spelling::Flag => format!("--{}", field.replace('_', "-")),
            Spelling::Keyword => format!("{field}="),
            Spelling::Option => {
                let mut camel = String::with_capacity(field.len());
                let mut upper = false;
                for c in field.chars() {
                    if c == '_' {
                        upper = true;
                    } else if upper {
                        camel.push(c.to_ascii_uppercase());
                        upper = false;
                    } else {
                        camel.push(c);
                    }
                }
                format!("`{camel}`")
            }
        }
    }
}

/// An `INVALID_INPUT` about the arguments.
pub(crate) fn invalid(reason: String) -> Error {
    Error::invalid("argument", reason)
}

/// A number as a message shows it: JavaScript's names for what is not finite, an exponent for what
/// would print as hundreds of digits.
fn shown(n: f64) -> String {
    if n.is_nan() {
        "NaN".to_owned()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else if n != 0.0 && !(1e-6..1e16).contains(&n.abs()) {
        format!("{n:e}")
    } else {
        n.to_string()
    }
}

/// The arguments that name a site, as given.
#[derive(Debug, Clone, Default)]
pub struct SiteArgs {
    /// How the caller writes these names (for the messages).
    pub spelling: Spelling,
    /// The SCM site's URL.
    pub remote: Option<String>,
    /// The app, found through ARM (with `resource_group`).
    pub app: Option<String>,
    /// The app's resource group.
    pub resource_group: Option<String>,
    /// The app's subscription.
    pub subscription: Option<String>,
    /// The app's deployment slot.
    pub slot: Option<String>,
    /// Pin every request to this instance.
    pub instance: Option<String>,
    /// A `.PublishSettings` file: credentials, and the site when nothing else names it.
    pub publish_profile: Option<PathBuf>,
    /// Credentials the caller holds (the packages' `credentials`), used before any other source.
    pub credentials: Option<Credentials>,
    /// Requests in flight at once, a whole number from 1 to [`MAX_IN_FLIGHT_LIMIT`]; a number as
    /// every front end can pass it (JavaScript has no integers), checked here.
    pub max_in_flight: Option<f64>,
    /// ARM's endpoint (tests point it at an emulator).
    pub arm_endpoint: Option<String>,
}

/// A site to read over Kudu's REST API: how to reach it, and the caller's credentials, if any.
#[derive(Debug, Clone)]
pub struct Site {
    /// How to reach it.
    pub options: ConnectOptions,
    /// The caller's credentials; `None`: the first found in the environment.
    pub credentials: Option<Credentials>,
}

/// What a call reads: a home on a disk, or a site.
#[derive(Debug)]
pub enum Target {
    /// The folder that contains `site/`.
    Home(PathBuf),
    /// A site over Kudu's REST API.
    Site(Box<Site>),
}

impl SiteArgs {
    /// True when an argument names a site.
    fn names_site(&self) -> bool {
        self.remote.is_some() || self.app.is_some() || self.publish_profile.is_some()
    }

    /// The site these arguments name, or `None` when they name none (then none of the site-only
    /// arguments may be given either).
    ///
    /// # Errors
    /// `INVALID_INPUT` for arguments that conflict or lack their companion.
    pub fn site(self) -> Result<Option<Site>> {
        let s = self.spelling;
        let n = |field: &str| s.name(field);
        if !self.names_site() {
            let given = [
                ("resource_group", self.resource_group.is_some()),
                ("subscription", self.subscription.is_some()),
                ("slot", self.slot.is_some()),
                ("instance", self.instance.is_some()),
                ("credentials", self.credentials.is_some()),
                ("max_in_flight", self.max_in_flight.is_some()),
                ("arm_endpoint", self.arm_endpoint.is_some()),
            ];
            if let Some((name, _)) = given.iter().find(|(_, set)| *set) {
                return Err(invalid(format!(
                    "{} is for a remote site: also give {}, {} (with {}) or {}",
                    n(name),
                    n("remote"),
                    n("app"),
                    n("resource_group"),
                    n("publish_profile")
                )));
            }
            return Ok(None);
        }
        if self.remote.is_some() && self.app.is_some() {
            return Err(invalid(either_remote_or_app(s)));
        }
        if self.app.is_none() {
            for (name, set) in [
                ("resource_group", self.resource_group.is_some()),
                ("subscription", self.subscription.is_some()),
                ("slot", self.slot.is_some()),
            ] {
                if set {
                    return Err(invalid(format!("{} is only for {}", n(name), n("app"))));
                }
            }
        } else if self.resource_group.is_none() {
            return Err(invalid(app_needs_resource_group(s)));
        }
        let max_in_flight = match self.max_in_flight {
            None => HttpOptions::default().max_in_flight,
            Some(given) => (1..=MAX_IN_FLIGHT_LIMIT)
                .find(|&m| m as f64 == given)
                .ok_or_else(|| {
                    invalid(format!(
                        "{} must be a whole number from 1 to {MAX_IN_FLIGHT_LIMIT}, not {}",
                        n("max_in_flight"),
                        shown(given)
                    ))
                })?,
        };
        Ok(Some(Site {
            options: ConnectOptions {
                remote: self.remote,
                app: self.app,
                resource_group: self.resource_group,
                subscription: self.subscription,
                slot: self.slot,
                publish_profile: self.publish_profile,
                instance: self.instance,
                arm_endpoint: self.arm_endpoint,
                spelling: s,
                http: HttpOptions {
                    max_in_flight,
                    ..HttpOptions::default()
                },
            },
            credentials: self.credentials,
        }))
    }

    /// A home or a site: exactly one of them.
    ///
    /// # Errors
    /// `INVALID_INPUT` for both or neither, and as [`SiteArgs::site`].
    pub fn target(self, home: Option<PathBuf>) -> Result<Target> {
        let s = self.spelling;
        match (home, self.site()?) {
            (Some(home), None) => Ok(Target::Home(home)),
            (None, Some(site)) => Ok(Target::Site(Box::new(site))),
            (Some(home), Some(_)) => Err(invalid(format!(
                "`{}` is a home on disk, but {}/{}/{} name a site; give one or the other",
                home.display(),
                s.name("remote"),
                s.name("app"),
                s.name("publish_profile")
            ))),
            (None, None) => Err(invalid(format!(
                "give a home (the folder that contains `site/`) or a remote site: {}",
                name_the_site(s)
            ))),
        }
    }
}

/// "give either --remote or --app, not both".
pub(crate) fn either_remote_or_app(s: Spelling) -> String {
    format!(
        "give either {} or {}, not both",
        s.name("remote"),
        s.name("app")
    )
}

/// "--app needs --resource-group".
pub(crate) fn app_needs_resource_group(s: Spelling) -> String {
    format!("{} needs {}", s.name("app"), s.name("resource_group"))
}

/// The ways to name a site.
pub(crate) fn name_the_site(s: Spelling) -> String {
    format!(
        "{} https://<app>.scm.azurewebsites.net, {} NAME with {} RG, or {} FILE",
        s.name("remote"),
        s.name("app"),
        s.name("resource_group"),
        s.name("publish_profile")
    )
}

impl Site {
    /// For a wait or a track: no limit on the whole run (the wait's own timeout, or the track's
    /// inactivity window, bounds it), where a single diagnosis keeps the client's default.
    #[must_use]
    pub fn unbounded(mut self: Box<Site>) -> Box<Site> {
        self.options.http.run_timeout = None;
        self
    }

    /// Opens the store (nothing is read yet; `app` asks ARM for the SCM host). Credentials are the
    /// caller's, else the first found in this process's environment.
    ///
    /// # Errors
    /// As [`connect_as`](super::connect_as).
    pub fn connect(&self) -> Result<RemoteStore> {
        super::connect_as(
            &self.options,
            self.credentials.as_ref(),
            &Env::from_process(),
        )
    }
}

/// The time between polls of a wait or a track on a home on disk, when the caller names none.
pub const HOME_POLL: Duration = Duration::from_secs(5);

/// The same over Kudu's REST API: gentle on the site.
pub const SITE_POLL: Duration = Duration::from_secs(10);

impl Target {
    /// [`HOME_POLL`] or [`SITE_POLL`].
    #[must_use]
    pub fn default_poll(&self) -> Duration {
        match self {
            Target::Home(_) => HOME_POLL,
            Target::Site(_) => SITE_POLL,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(spelling: Spelling) -> SiteArgs {
        SiteArgs {
            spelling,
            ..SiteArgs::default()
        }
    }

    #[test]
    fn each_front_end_reads_its_own_names() {
        assert_eq!(Spelling::Flag.name("resource_group"), "--resource-group");
        assert_eq!(Spelling::Keyword.name("resource_group"), "resource_group=");
        assert_eq!(Spelling::Option.name("max_in_flight"), "`maxInFlight`");
        let e = SiteArgs {
            app: Some("web".into()),
            ..args(Spelling::Option)
        }
        .site()
        .unwrap_err();
        assert_eq!(e.code(), "INVALID_INPUT");
        assert!(e.to_string().contains("`app` needs `resourceGroup`"), "{e}");
    }

    #[test]
    fn arguments_that_do_not_go_together_are_refused() {
        let site = |a: SiteArgs| a.site().map_err(|e| e.to_string());
        let kw = || args(Spelling::Keyword);
        let cases = [
            (
                SiteArgs {
                    slot: Some("s".into()),
                    ..kw()
                },
                "slot= is for a remote site",
            ),
            (
                SiteArgs {
                    remote: Some("https://a".into()),
                    app: Some("a".into()),
                    ..kw()
                },
                "give either remote= or app=, not both",
            ),
            (
                SiteArgs {
                    remote: Some("https://a".into()),
                    subscription: Some("x".into()),
                    ..kw()
                },
                "subscription= is only for app=",
            ),
            (
                SiteArgs {
                    remote: Some("https://a".into()),
                    max_in_flight: Some(0.0),
                    ..kw()
                },
                "max_in_flight= must be a whole number from 1 to 16, not 0",
            ),
            (
                SiteArgs {
                    remote: Some("https://a".into()),
                    max_in_flight: Some(-3.0),
                    ..kw()
                },
                "not -3",
            ),
            (
                SiteArgs {
                    remote: Some("https://a".into()),
                    max_in_flight: Some(2.5),
                    ..kw()
                },
                "not 2.5",
            ),
        ];
        for (a, want) in cases {
            let got = site(a).unwrap_err();
            assert!(got.contains(want), "{got} lacks {want}");
        }
        let ok = site(SiteArgs {
            app: Some("web".into()),
            resource_group: Some("rg".into()),
            slot: Some("staging".into()),
            max_in_flight: Some(16.0),
            ..kw()
        })
        .unwrap()
        .unwrap();
        assert_eq!(ok.options.http.max_in_flight, 16);
        assert_eq!(ok.options.slot.as_deref(), Some("staging"));
        assert!(site(kw()).unwrap().is_none());
    }

    #[test]
    fn numbers_in_messages_read_as_the_caller_wrote_them() {
        assert_eq!(shown(f64::NAN), "NaN");
        assert_eq!(shown(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(shown(1e300), "1e300");
        assert_eq!(shown(5e-324), "5e-324");
        assert_eq!(shown(17.0), "17");
        assert_eq!(shown(-0.0), "-0");
        assert_eq!(shown(2.5), "2.5");
    }

    #[test]
    fn a_home_or_a_site_never_both_or_neither() {
        let home = Some(PathBuf::from("/h"));
        assert!(matches!(
            args(Spelling::Flag).target(home.clone()),
            Ok(Target::Home(_))
        ));
        let both = SiteArgs {
            remote: Some("https://a".into()),
            ..args(Spelling::Flag)
        }
        .target(home)
        .unwrap_err();
        assert!(
            both.to_string()
                .contains("--remote/--app/--publish-profile name a site")
        );
        let neither = args(Spelling::Option).target(None).unwrap_err();
        assert!(neither.to_string().contains("give a home"), "{neither}");
    }
}

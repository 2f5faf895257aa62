//! `.PublishSettings` files (publish profiles): the site's SCM host and its publishing
//! credentials.
//!
//! ```xml
//! <publishData>
//!   <publishProfile profileName="app - Web Deploy" publishMethod="MSDeploy"
//!     publishUrl="app.scm.azurewebsites.net:443" userName="$app" userPWD="..." ... />
//!   <publishProfile profileName="app - FTP" publishMethod="FTP"
//!     publishUrl="ftp://waws-prod-xxx.ftp.azurewebsites.windows.net/site/wwwroot" ... />
//!   <publishProfile profileName="app - Zip Deploy" publishMethod="ZipDeploy"
//!     publishUrl="app.scm.azurewebsites.net:443" userName="$app" userPWD="..." ... />
//! </publishData>
//! ```
//!
//! The MSDeploy or ZipDeploy profile whose `publishUrl` is an SCM host is used. Errors never quote
//! the file's content (it holds the password).

use std::fmt;
use std::path::{Path, PathBuf};

use quick_xml::XmlVersion;
use quick_xml::events::Event;

use super::secret::{CredentialSource, Credentials, Secret};
use super::url::SiteUrl;
use crate::error::{Error, Result};

/// The largest publish profile read (real ones are about 2 KiB).
const PROFILE_CAP: u64 = 1024 * 1024;

/// The publishing credentials and SCM site of a publish profile. `Debug` never shows the password.
#[derive(Clone)]
pub struct PublishProfile {
    /// The SCM site (`publishUrl`).
    pub site: SiteUrl,
    /// `userName` (`$<app>`).
    pub user: String,
    password: Secret,
    /// `profileName`, e.g. `app - Web Deploy`.
    pub profile_name: String,
    /// `publishMethod`: `MSDeploy` or `ZipDeploy`.
    pub method: String,
}

impl fmt::Debug for PublishProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublishProfile")
            .field("site", &self.site)
            .field("user", &self.user)
            .field("profile_name", &self.profile_name)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

impl PublishProfile {
    /// Reads a `.PublishSettings` file. With `site`, the profile for that SCM host is chosen (and
    /// one for another host is an error: its credentials are not sent elsewhere).
    ///
    /// # Errors
    /// `IO_ERROR` when the file cannot be read; `CREDENTIAL_FAILED` when it is not a publish profile,
    /// has no MSDeploy/ZipDeploy profile for an SCM host, or none for `site`.
    pub fn read(path: &Path, site: Option<&SiteUrl>) -> Result<PublishProfile> {
        let bytes = read_capped(path)?;
        PublishProfile::parse(&bytes, site).map_err(|reason| Error::CredentialFailed {
            provider: CredentialSource::PublishProfile.describe(),
            path: Some(path.to_path_buf()),
            url: None,
            reason,
        })
    }

    /// Parses the bytes of a publish profile; the error is a reason that quotes nothing from them.
    pub(crate) fn parse(
        bytes: &[u8],
        site: Option<&SiteUrl>,
    ) -> std::result::Result<PublishProfile, String> {
        let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
            .map_err(|_| "the file is not UTF-8 text".to_owned())?;
        let mut reader = quick_xml::Reader::from_str(text);
        let mut candidates = Vec::new();
        let mut saw_root = false;
        loop {
            let event = reader.read_event().map_err(|_| {
                format!(
                    "not well-formed XML (near byte {}); download the publish profile again",
                    reader.buffer_position()
                )
            })?;
            match event {
                Event::Start(e) | Event::Empty(e) => {
                    let name = e.name();
                    let name: &str = name.as_ref();
                    if name == "publishData" {
                        saw_root = true;
                    }
                    if name != "publishProfile" {
                        continue;
                    }
                    let mut profile = Attributes::default();
                    for attr in e.attributes() {
                        let attr = attr.map_err(|_| {
                            "a publishProfile element has a malformed attribute".to_owned()
                        })?;
                        let key: &str = attr.key.as_ref();
                        let value =
                            attr.normalized_value(XmlVersion::Implicit1_0)
                                .map_err(|_| {
                                    format!(
                                        "the `{key}` attribute of a publishProfile cannot be read"
                                    )
                                })?;
                        let slot = match key {
                            "publishMethod" => &mut profile.method,
                            "publishUrl" => &mut profile.url,
                            "userName" => &mut profile.user,
                            "userPWD" => &mut profile.password,
                            "profileName" => &mut profile.name,
                            _ => continue,
                        };
                        *slot = Some(value.into_owned());
                    }
                    candidates.push(profile);
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if !saw_root {
            return Err("not a publish profile (no `publishData` element)".to_owned());
        }
        let mut usable = Vec::new();
        for p in candidates {
            let method = p.method.clone().unwrap_or_default();
            if !(method.eq_ignore_ascii_case("MSDeploy")
                || method.eq_ignore_ascii_case("ZipDeploy"))
            {
                continue;
            }
            let Some(url) = p.url.as_deref() else {
                continue;
            };
            let Ok(profile_site) = site_of(url) else {
                continue;
            };
            let (Some(user), Some(password)) = (p.user.clone(), p.password.clone()) else {
                return Err(format!(
                    "the {method} profile has no userName or userPWD (publishing credentials may be disabled for the site)"
                ));
            };
            usable.push(PublishProfile {
                site: profile_site,
                user,
                password: Secret::new(password),
                profile_name: p.name.clone().unwrap_or_default(),
                method,
            });
        }
        // MSDeploy first: the same credentials, the profile every download has.
        usable.sort_by_key(|p| !p.method.eq_ignore_ascii_case("MSDeploy"));
        let is_scm = |p: &PublishProfile| p.site.host().contains(".scm.") || is_local(&p.site);
        match site {
            Some(wanted) => usable
                .into_iter()
                .find(|p| p.site.host() == wanted.host())
                .ok_or_else(|| {
                    format!(
                        "it has no MSDeploy or ZipDeploy profile for `{}`; its credentials are not sent to another site",
                        wanted.host()
                    )
                }),
            None => usable.into_iter().find(is_scm).ok_or_else(|| {
                "it has no MSDeploy or ZipDeploy profile whose publishUrl is an SCM host (`<app>.scm.azurewebsites.net`)".to_owned()
            }),
        }
    }

    /// The publishing credentials (Basic).
    #[must_use]
    pub fn credentials(&self) -> Credentials {
        Credentials::basic(
            self.user.clone(),
            self.password.clone(),
            CredentialSource::PublishProfile,
        )
    }
}

#[derive(Default)]
struct Attributes {
    method: Option<String>,
    url: Option<String>,
    user: Option<String>,
    password: Option<String>,
    name: Option<String>,
}

/// The site of a `publishUrl`: `host:443`, `https://host`, or a loopback `http://` (an emulator).
fn site_of(url: &str) -> Result<SiteUrl> {
    if url.contains("://") {
        SiteUrl::parse(url.trim_end_matches('/'))
    } else {
        SiteUrl::from_host(url.trim_end_matches('/'), true)
    }
}

fn is_local(site: &SiteUrl) -> bool {
    super::url::is_loopback(site.host())
}

fn read_capped(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read as _;
    let file = fs_err::File::open(path).map_err(|e| Error::io("read", path, e))?;
    let mut bytes = Vec::new();
    file.take(PROFILE_CAP + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("read", path, e))?;
    if bytes.len() as u64 > PROFILE_CAP {
        return Err(Error::CredentialFailed {
            provider: CredentialSource::PublishProfile.describe(),
            path: Some(PathBuf::from(path)),
            url: None,
            reason: "the file is larger than 1 MiB: not a publish profile".to_owned(),
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROFILE: &str = r#"<publishData><publishProfile profileName="app - Web Deploy" publishMethod="MSDeploy" publishUrl="app.scm.azurewebsites.net:443" msdeploySite="app" userName="$app" userPWD="s3cr&amp;t-pw" destinationAppUrl="http://app.azurewebsites.net" SQLServerDBConnectionString="" mySQLDBConnectionString="" hostingProviderForumLink="" controlPanelLink="https://portal.azure.com" webSystem="WebSites"><databases /></publishProfile><publishProfile profileName="app - FTP" publishMethod="FTP" publishUrl="ftp://waws-prod-am2-001.ftp.azurewebsites.windows.net/site/wwwroot" ftpPassiveMode="True" userName="app\$app" userPWD="s3cr&amp;t-pw" destinationAppUrl="http://app.azurewebsites.net"><databases /></publishProfile><publishProfile profileName="app - Zip Deploy" publishMethod="ZipDeploy" publishUrl="app.scm.azurewebsites.net:443" userName="$app" userPWD="s3cr&amp;t-pw" destinationAppUrl="http://app.azurewebsites.net"><databases /></publishProfile></publishData>"#;

    #[test]
    fn picks_the_msdeploy_profile_of_the_scm_host() {
        let p = PublishProfile::parse(PROFILE.as_bytes(), None).unwrap();
        assert_eq!(p.site.as_str(), "https://app.scm.azurewebsites.net");
        assert_eq!(p.user, "$app");
        assert_eq!(p.method, "MSDeploy");
        assert_eq!(p.password.expose(), "s3cr&t-pw");
        assert!(!format!("{p:?}").contains("s3cr"));
        let c = p.credentials();
        assert_eq!(c.user(), Some("$app"));
    }

    #[test]
    fn another_sites_profile_is_refused_and_errors_quote_nothing() {
        let other = SiteUrl::parse("https://other.scm.azurewebsites.net").unwrap();
        let e = PublishProfile::parse(PROFILE.as_bytes(), Some(&other)).unwrap_err();
        assert!(e.contains("other.scm.azurewebsites.net"), "{e}");
        let broken = PROFILE.replace("</publishData>", "<x userPWD=\"s3cr");
        let e = PublishProfile::parse(broken.as_bytes(), None).unwrap_err();
        assert!(!e.contains("s3cr"), "{e}");
        let e = PublishProfile::parse(b"<other/>", None).unwrap_err();
        assert!(e.contains("publishData"), "{e}");
    }
}

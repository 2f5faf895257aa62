//! URLs kudu-state calls: the SCM site's origin, the routes it may read there, and the rule every
//! URL passes before a request (`https://`, or `http://` to a loopback host only).

use std::fmt;
use std::net::IpAddr;

use crate::error::{Error, Result};

/// The origin of a site's SCM (Kudu) endpoint: `https://<app>.scm.azurewebsites.net`, a regional
/// `https://<app>-<hash>.scm.<region>.azurewebsites.net`, an App Service Environment's host, or
/// `http://127.0.0.1:PORT` for a local emulator.
///
/// Only an origin: a path other than `/`, a query, a fragment or user information is refused
/// (credentials never travel in a URL), and plain `http://` only for a loopback host.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SiteUrl {
    /// `https://host[:port]` without a trailing slash.
    origin: String,
    host: String,
}

impl SiteUrl {
    /// Parses and checks a site URL.
    ///
    /// # Errors
    /// `URL_REFUSED` for anything but an `https://` origin, or an `http://` one on a loopback host.
    pub fn parse(url: &str) -> Result<SiteUrl> {
        let parts = Parts::parse(url)?;
        if !(parts.path.is_empty() || parts.path == "/") || parts.query {
            return Err(refused(
                url,
                "give the site's origin only, e.g. `https://<app>.scm.azurewebsites.net`, without a path or query",
            ));
        }
        Ok(SiteUrl {
            origin: parts.origin(),
            host: parts.host,
        })
    }

    /// A site URL from a host name (and port) as ARM or a publish profile give it. The scheme is
    /// `https`, except for a loopback host when `plain_for_loopback` (a local emulator standing in
    /// for Azure in tests).
    pub(crate) fn from_host(host_port: &str, plain_for_loopback: bool) -> Result<SiteUrl> {
        let (host, _) = split_host_port(host_port);
        let scheme = if plain_for_loopback && is_loopback(host) {
            "http"
        } else {
            "https"
        };
        // `:443` is the default; publish profiles spell it out.
        let host_port = host_port.strip_suffix(":443").unwrap_or(host_port);
        SiteUrl::parse(&format!("{scheme}://{host_port}"))
    }

    /// `https://host[:port]`, without a trailing slash.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.origin
    }

    /// The host name (without the port), lowercase.
    #[must_use]
    pub fn host(&self) -> &str {
        &self.host
    }
}

impl fmt::Display for SiteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)
    }
}

/// The pieces of an absolute URL this crate needs to check.
#[derive(Debug)]
pub(crate) struct Parts {
    pub scheme: &'static str,
    /// Lowercase host, IPv6 literals with their brackets.
    pub host: String,
    /// `:port` or empty.
    pub port: String,
    /// The path (`/...`) or empty.
    pub path: String,
    /// Whether there is a query or fragment.
    pub query: bool,
}

impl Parts {
    /// Parses `scheme://host[:port][/path][?query]`, refusing user information and any scheme but
    /// `https`, or `http` to a loopback host.
    pub(crate) fn parse(url: &str) -> Result<Parts> {
        let trimmed = url.trim();
        let Some((scheme, rest)) = trimmed.split_once("://") else {
            return Err(refused(url, "not an absolute URL; give `https://<host>`"));
        };
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "https" => "https",
            "http" => "http",
            _ => return Err(refused(url, "only https:// URLs are called")),
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if authority.contains('@') {
            return Err(refused(
                url,
                "credentials in a URL are refused; pass them as a publish profile or in the environment",
            ));
        }
        let (host, port) = split_host_port(authority);
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err(refused(url, "the URL has no host"));
        }
        if !port.is_empty() && port.parse::<u16>().is_err() {
            return Err(refused(url, "the port is not a number"));
        }
        let (path, query) = match tail.find(['?', '#']) {
            Some(i) => (&tail[..i], true),
            None => (tail, false),
        };
        let host = host.to_ascii_lowercase();
        if scheme == "http" && !is_loopback(&host) {
            return Err(refused(
                url,
                "plain http:// is only accepted for a loopback host (127.0.0.1, ::1, localhost); use https://",
            ));
        }
        Ok(Parts {
            scheme,
            port: if port.is_empty() {
                String::new()
            } else {
                format!(":{port}")
            },
            host,
            path: path.to_owned(),
            query,
        })
    }

    pub(crate) fn origin(&self) -> String {
        format!("{}://{}{}", self.scheme, self.host, self.port)
    }
}

/// Checks a URL kudu-state is about to call (ARM, a token endpoint, an OIDC endpoint): `https`, or
/// `http` to a loopback host.
pub(crate) fn check_url(url: &str) -> Result<()> {
    Parts::parse(url).map(|_| ())
}

/// Splits `host[:port]`, keeping an IPv6 literal's brackets on the host.
fn split_host_port(authority: &str) -> (&str, &str) {
    if authority.starts_with('[') {
        return match authority.find(']') {
            Some(i) => {
                let (host, rest) = authority.split_at(i + 1);
                (host, rest.strip_prefix(':').unwrap_or(rest))
            }
            None => (authority, ""),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => (host, port),
        None => (authority, ""),
    }
}

/// `localhost`, `127.0.0.0/8`, `::1`: hosts whose traffic never leaves the machine.
pub(crate) fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The host of an absolute URL (lowercase, without port), if it has one.
pub(crate) fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    Some(split_host_port(authority).0.to_ascii_lowercase())
}

/// A URL as it may be shown: user information removed.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.chars().take(200).collect();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let shown = format!("{scheme}://{authority}{tail}");
    shown.chars().take(500).collect()
}

fn refused(url: &str, reason: &str) -> Error {
    Error::UrlRefused {
        url: redact(url),
        reason: reason.to_owned(),
    }
}

/// Percent-encodes one path segment (RFC 3986 unreserved characters and a few safe sub-delims
/// kept), so a name with a space, `#`, `%` or `?` reaches the file it names.
pub(crate) fn encode_segment(segment: &str, out: &mut String) {
    percent_encode(segment, b"-._~!$&'()*+,;=@", out);
}

/// Percent-encodes a query or form value (unreserved characters kept).
pub(crate) fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    percent_encode(text, b"-._~", &mut out);
    out
}

/// Appends `text` to `out`, keeping ASCII letters, digits and the bytes of `keep`.
fn percent_encode(text: &str, keep: &[u8], out: &mut String) {
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_urls() {
        let u = SiteUrl::parse("https://App.scm.azurewebsites.net/").unwrap();
        assert_eq!(u.as_str(), "https://app.scm.azurewebsites.net");
        assert_eq!(u.host(), "app.scm.azurewebsites.net");
        let u = SiteUrl::parse("https://app-abc.scm.westeurope-01.azurewebsites.net:443").unwrap();
        assert_eq!(
            u.as_str(),
            "https://app-abc.scm.westeurope-01.azurewebsites.net:443"
        );
        assert!(SiteUrl::parse("http://127.0.0.1:8080").is_ok());
        assert!(SiteUrl::parse("http://[::1]:8080").is_ok());
        assert!(SiteUrl::parse("http://localhost").is_ok());
        for bad in [
            "http://app.scm.azurewebsites.net",
            "http://127.0.0.1.example.com",
            "ftp://x",
            "app.scm.azurewebsites.net",
            "https://app.scm.azurewebsites.net/api/vfs/",
            "https://app.scm.azurewebsites.net?x=1",
            "https://:443",
            "https://host:port",
        ] {
            let e = SiteUrl::parse(bad).unwrap_err();
            assert_eq!(e.code(), "URL_REFUSED", "{bad}");
        }
        let e = SiteUrl::parse("https://$app:hunter2@app.scm.azurewebsites.net").unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(!format!("{e:?}").contains("hunter2"));
    }

    #[test]
    fn hosts_from_arm_and_profiles() {
        assert_eq!(
            SiteUrl::from_host("app.scm.azurewebsites.net:443", true)
                .unwrap()
                .as_str(),
            "https://app.scm.azurewebsites.net"
        );
        assert_eq!(
            SiteUrl::from_host("127.0.0.1:5000", true).unwrap().as_str(),
            "http://127.0.0.1:5000"
        );
        assert_eq!(
            SiteUrl::from_host("127.0.0.1:5000", false)
                .unwrap()
                .as_str(),
            "https://127.0.0.1:5000"
        );
    }

    #[test]
    fn encoding_and_redaction() {
        let mut s = String::new();
        encode_segment("a b#c%?é", &mut s);
        assert_eq!(s, "a%20b%23c%25%3F%C3%A9");
        assert_eq!(encode_component("api://x y"), "api%3A%2F%2Fx%20y");
        assert_eq!(redact("https://u:p@h/x?y"), "https://h/x?y");
        assert_eq!(
            host_of("https://u:p@H.example:1/x").as_deref(),
            Some("h.example")
        );
    }
}

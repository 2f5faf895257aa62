//! Finding a site's SCM host, and its instances, through Azure Resource Manager (read-only GETs
//! of the site resource; never a deployments route).
//!
//! The SCM host is `properties.hostNameSslStates[hostType == "Repository"].name`, which covers
//! regional unique host names and App Service Environments.

use serde::Serialize;

use super::http::{Call, HttpClient, Method};
use super::secret::Credentials;
use super::url::{Parts, SiteUrl, encode_segment, is_loopback};
use crate::error::{Error, Result};

/// ARM in the public cloud.
pub const DEFAULT_ARM_ENDPOINT: &str = "https://management.azure.com";
/// The `api-version` of the site reads.
pub const ARM_API_VERSION: &str = "2024-04-01";
/// The most bytes read from an ARM answer.
const ARM_CAP: u64 = 8 * 1024 * 1024;

/// A site (or slot) as ARM names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SiteRef {
    /// The subscription id.
    pub subscription: String,
    /// The resource group.
    pub resource_group: String,
    /// The app's name.
    pub app: String,
    /// A deployment slot, if not the production site.
    pub slot: Option<String>,
}

/// ARM at one endpoint, with a bearer token.
#[derive(Debug, Clone)]
pub struct Arm {
    http: HttpClient,
    endpoint: String,
    token: Credentials,
}

impl Arm {
    /// ARM at `endpoint` (`https://management.azure.com`, or a loopback `http://` emulator in
    /// tests).
    ///
    /// # Errors
    /// `URL_REFUSED` for an endpoint that is not https (or loopback http) or has a path or query;
    /// `INVALID_INPUT` when `token` is not a bearer token.
    pub fn new(http: &HttpClient, endpoint: &str, token: Credentials) -> Result<Arm> {
        let endpoint = SiteUrl::parse(endpoint.trim_end_matches('/'))?;
        if !token.is_bearer() {
            return Err(Error::invalid(
                "argument",
                "ARM needs an Entra token (KUDU_STATE_TOKEN, workload identity, GitHub OIDC or az), not publishing credentials",
            ));
        }
        Ok(Arm {
            http: http.clone(),
            endpoint: endpoint.as_str().to_owned(),
            token,
        })
    }

    fn site_path(&self, site: &SiteRef) -> String {
        let mut path = format!("{}/subscriptions/", self.endpoint);
        encode_segment(&site.subscription, &mut path);
        path.push_str("/resourceGroups/");
        encode_segment(&site.resource_group, &mut path);
        path.push_str("/providers/Microsoft.Web/sites/");
        encode_segment(&site.app, &mut path);
        if let Some(slot) = &site.slot {
            path.push_str("/slots/");
            encode_segment(slot, &mut path);
        }
        path
    }

    fn get(&self, url: String) -> Result<serde_json::Value> {
        let authorization = self.token.authorization();
        let answer = self.http.execute(&Call {
            method: Method::Get,
            url,
            headers: vec![("Accept", "application/json".to_owned())],
            authorization: Some(&authorization),
        })?;
        let url = answer.url.clone();
        match answer.status {
            200 => {
                let body = answer.read_all(ARM_CAP)?;
                serde_json::from_slice(&body).map_err(|_| Error::BadResponse {
                    url,
                    reason: "ARM's answer is not JSON".to_owned(),
                })
            }
            status @ (401 | 403) => {
                let said = answer.error_text();
                Err(Error::AuthFailed {
                    url,
                    status,
                    check: format!(
                        "that the identity may read the site (e.g. the Reader role on it) and that the token is for ARM and not expired; the credentials came from {} (ARM said: {said})",
                        self.token.source().describe()
                    ),
                })
            }
            404 => {
                let reason = answer.error_text();
                Err(Error::SiteNotFound { url, reason })
            }
            status @ 300..=399 => {
                let location = answer
                    .header("location")
                    .map(super::url::redact)
                    .unwrap_or_default();
                Err(Error::Redirected {
                    url,
                    status,
                    location,
                })
            }
            status => {
                let reason = answer.error_text();
                Err(Error::HttpStatus {
                    url,
                    status,
                    reason,
                })
            }
        }
    }

    /// The SCM site of `site`.
    ///
    /// # Errors
    /// `AUTH_FAILED`, `SITE_NOT_FOUND`, `BAD_RESPONSE` when the site has no `Repository` host,
    /// and the network errors.
    pub fn scm_site(&self, site: &SiteRef) -> Result<SiteUrl> {
        let url = format!("{}?api-version={ARM_API_VERSION}", self.site_path(site));
        let json = self.get(url.clone())?;
        let host = json
            .pointer("/properties/hostNameSslStates")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .find(|s| {
                s.get("hostType")
                    .and_then(|t| t.as_str())
                    .is_some_and(|t| t.eq_ignore_ascii_case("Repository"))
            })
            .and_then(|s| s.get("name")?.as_str())
            .ok_or_else(|| Error::BadResponse {
                url: url.clone(),
                reason: "the site has no SCM (`Repository`) host name".to_owned(),
            })?;
        // A loopback SCM host from a loopback ARM is an emulator: plain http, as ARM is.
        let arm_is_local = Parts::parse(&self.endpoint).is_ok_and(|p| is_loopback(&p.host));
        SiteUrl::from_host(host, arm_is_local && self.endpoint.starts_with("http://"))
    }

    /// The names of the site's instances (what `--instance` and the `ARRAffinity` cookie take).
    ///
    /// # Errors
    /// As [`Arm::scm_site`].
    pub fn instances(&self, site: &SiteRef) -> Result<Vec<String>> {
        let url = format!(
            "{}/instances?api-version={ARM_API_VERSION}",
            self.site_path(site)
        );
        let json = self.get(url)?;
        Ok(json
            .get("value")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .filter_map(|i| i.get("name")?.as_str().map(str::to_owned))
            .collect())
    }
}

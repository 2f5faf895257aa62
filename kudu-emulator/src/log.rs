//! The request log.

use crate::fault::FaultKind;
use crate::http::HttpRequest;

/// One request as the emulator saw it, logged when its answer was decided (before the body is
/// sent), so a client that got an answer always finds its request in the log.
///
/// Only the headers a Kudu client's behaviour shows in are kept; the `Authorization` header is
/// reduced to its scheme.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The path as sent (percent-encoded), without the query.
    pub path: String,
    /// The query as sent, without the `?`.
    pub query: Option<String>,
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    pub if_range: Option<String>,
    pub range: Option<String>,
    pub accept_encoding: Option<String>,
    pub user_agent: Option<String>,
    /// `Basic`, `Bearer`, ... as sent; never the credentials.
    pub auth_scheme: Option<String>,
    /// The value of the `ARRAffinity` cookie the client sent.
    pub affinity: Option<String>,
    /// The status answered; `None` when nothing was answered ([`FaultKind::Silent`]).
    pub status: Option<u16>,
    /// The instance the front end routed the request to (Kudu routes only; `None` for the fake
    /// ARM, Entra and OIDC endpoints, which are other hosts in Azure).
    pub instance: Option<String>,
    /// Which TCP connection carried it (numbered from 1 in accept order): requests with the same
    /// number came over one kept-alive connection.
    pub connection: u64,
    /// The injected fault that applied to it, if any.
    pub fault: Option<FaultKind>,
}

impl Request {
    pub(crate) fn new(request: &HttpRequest, connection: u64) -> Self {
        let header = |name: &str| request.header(name).map(str::to_owned);
        Self {
            method: request.method.clone(),
            path: request.path.clone(),
            query: request.query.clone(),
            if_match: header("if-match"),
            if_none_match: header("if-none-match"),
            if_range: header("if-range"),
            range: header("range"),
            accept_encoding: header("accept-encoding"),
            user_agent: header("user-agent"),
            auth_scheme: request
                .header("authorization")
                .and_then(|v| v.split_whitespace().next())
                .map(str::to_owned),
            affinity: affinity_cookie(request).map(str::to_owned),
            status: None,
            instance: None,
            connection,
            fault: None,
        }
    }
}

/// The value of the `ARRAffinity` cookie (not `ARRAffinitySameSite`).
pub(crate) fn affinity_cookie(request: &HttpRequest) -> Option<&str> {
    request
        .header_values("cookie")
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == "ARRAffinity")
        .map(|(_, value)| value.trim())
}

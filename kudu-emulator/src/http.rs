//! HTTP/1.1 over a `std::net::TcpStream`: reading requests (httparse for the head, our own
//! Content-Length and chunked body reading), writing responses (Content-Length or chunked), and
//! the percent-encoding helpers the routes need.

use std::io::{self, BufWriter, Read, Write};
use std::net::TcpStream;
use std::time::SystemTime;

use crate::dotnet;

/// Largest request head we accept (431 beyond).
const MAX_HEAD: usize = 64 * 1024;
/// Largest request body we accept (413 beyond); bodies are held in memory.
const MAX_BODY: usize = 512 * 1024 * 1024;
const MAX_HEADERS: usize = 128;
/// Chunks of a streamed body are at most this big.
const CHUNK: usize = 16 * 1024;

/// One parsed request.
#[derive(Debug)]
pub struct HttpRequest {
    pub method: String,
    /// The path as sent (still percent-encoded), without the query.
    pub path: String,
    /// The query as sent, without the `?`.
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Whether the connection may serve another request after this one.
    pub keep_alive: bool,
}

impl HttpRequest {
    /// The first value of a header (names compare case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Every value of a header, in order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The value of a query parameter, percent-decoded (first occurrence, name case-insensitive
    /// as ASP.NET binds it).
    pub fn query_param(&self, name: &str) -> Option<String> {
        let query = self.query.as_deref()?;
        form_pairs(query)
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

/// The first value of a header in a list (names compare case-insensitively).
fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// What reading the next request gave.
#[derive(Debug)]
pub enum ReadOutcome {
    Request(HttpRequest),
    /// The peer closed the connection (or it broke) between requests.
    Closed,
    /// The request cannot be read: answer this status and close.
    Bad(u16),
}

/// Reads requests from one connection, keeping bytes read past a request for the next one.
#[derive(Debug)]
pub struct RequestReader {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl RequestReader {
    pub fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    /// Reads more bytes into the buffer; `Ok(false)` at end of stream.
    fn fill(&mut self) -> io::Result<bool> {
        let mut chunk = [0u8; 8192];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads the next request. `send_continue` is called before the body is read when the client
    /// sent `Expect: 100-continue`.
    pub fn next_request(
        &mut self,
        send_continue: &mut dyn FnMut() -> io::Result<()>,
    ) -> ReadOutcome {
        match self.read_request(send_continue) {
            Ok(outcome) => outcome,
            Err(_) => ReadOutcome::Closed,
        }
    }

    fn read_request(
        &mut self,
        send_continue: &mut dyn FnMut() -> io::Result<()>,
    ) -> io::Result<ReadOutcome> {
        let (mut request, head_len, body_framing) = loop {
            if !self.buf.is_empty() {
                let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                let mut parsed = httparse::Request::new(&mut headers);
                match parsed.parse(&self.buf) {
                    Ok(httparse::Status::Complete(len)) => {
                        let built = build_request(&parsed);
                        break (built.0, len, built.1);
                    }
                    Ok(httparse::Status::Partial) => {
                        if self.buf.len() > MAX_HEAD {
                            return Ok(ReadOutcome::Bad(431));
                        }
                    }
                    Err(httparse::Error::TooManyHeaders) => return Ok(ReadOutcome::Bad(431)),
                    Err(_) => return Ok(ReadOutcome::Bad(400)),
                }
            }
            if !self.fill()? {
                return Ok(ReadOutcome::Closed);
            }
        };
        self.buf.drain(..head_len);
        let framing = match body_framing {
            Ok(framing) => framing,
            Err(status) => return Ok(ReadOutcome::Bad(status)),
        };
        if !matches!(framing, Framing::None)
            && request
                .header("expect")
                .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
        {
            send_continue()?;
        }
        request.body = match framing {
            Framing::None => Vec::new(),
            Framing::Length(len) => {
                if len > MAX_BODY {
                    return Ok(ReadOutcome::Bad(413));
                }
                while self.buf.len() < len {
                    if !self.fill()? {
                        return Ok(ReadOutcome::Closed);
                    }
                }
                self.buf.drain(..len).collect()
            }
            Framing::Chunked => match self.read_chunked()? {
                Some(body) => body,
                None => return Ok(ReadOutcome::Bad(400)),
            },
        };
        Ok(ReadOutcome::Request(request))
    }

    /// Reads one CRLF-terminated line (without the CRLF).
    fn read_line(&mut self) -> io::Result<Option<String>> {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..pos + 2).take(pos).collect();
                return Ok(String::from_utf8(line).ok());
            }
            if self.buf.len() > MAX_HEAD {
                return Ok(None);
            }
            if !self.fill()? {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// Decodes a chunked body; `None` when it is malformed or too big.
    fn read_chunked(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut body = Vec::new();
        loop {
            let Some(line) = self.read_line()? else {
                return Ok(None);
            };
            let size_text = line.split(';').next().unwrap_or("").trim();
            let Ok(size) = usize::from_str_radix(size_text, 16) else {
                return Ok(None);
            };
            if body.len() + size > MAX_BODY {
                return Ok(None);
            }
            if size == 0 {
                // Trailers until an empty line.
                loop {
                    match self.read_line()? {
                        Some(l) if l.is_empty() => return Ok(Some(body)),
                        Some(_) => {}
                        None => return Ok(None),
                    }
                }
            }
            while self.buf.len() < size + 2 {
                if !self.fill()? {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
            }
            body.extend(self.buf.drain(..size));
            if self.buf.drain(..2).as_slice() != b"\r\n" {
                return Ok(None);
            }
        }
    }
}

enum Framing {
    None,
    Length(usize),
    Chunked,
}

fn build_request(parsed: &httparse::Request<'_, '_>) -> (HttpRequest, Result<Framing, u16>) {
    let target = parsed.path.unwrap_or("/");
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (target.to_owned(), None),
    };
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_owned(),
                String::from_utf8_lossy(h.value).trim().to_owned(),
            )
        })
        .collect();
    let mut request = HttpRequest {
        method: parsed.method.unwrap_or("GET").to_owned(),
        path,
        query,
        headers,
        body: Vec::new(),
        keep_alive: true,
    };
    let connection_has = |token: &str| {
        request
            .header_values("connection")
            .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    request.keep_alive = if parsed.version == Some(0) {
        connection_has("keep-alive")
    } else {
        !connection_has("close")
    };
    let chunked = request.header_values("transfer-encoding").any(|v| {
        v.split(',')
            .any(|t| t.trim().eq_ignore_ascii_case("chunked"))
    });
    let framing = if chunked {
        Ok(Framing::Chunked)
    } else if let Some(len) = request.header("content-length") {
        len.parse::<usize>().map(Framing::Length).map_err(|_| 400)
    } else {
        Ok(Framing::None)
    };
    (request, framing)
}

/// A body producer for chunked responses (zip streams, gzip).
pub type StreamFn = Box<dyn FnOnce(&mut dyn Write) -> io::Result<()> + Send>;

/// A response body.
pub enum Body {
    Empty,
    Bytes(Vec<u8>),
    /// Exactly this many bytes from a reader (a file), sent with `Content-Length`; a reader that
    /// ends early breaks the connection rather than send a short body.
    Sized(u64, Box<dyn Read + Send>),
    /// Sent with `Transfer-Encoding: chunked`, no `Content-Length`.
    Stream(StreamFn),
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::Empty => f.write_str("Empty"),
            Body::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Body::Sized(len, _) => write!(f, "Sized({len} bytes)"),
            Body::Stream(_) => f.write_str("Stream"),
        }
    }
}

/// A response to write.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

impl HttpResponse {
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Body::Empty,
        }
    }

    /// A response with a body and its content type.
    pub fn with_body(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self::new(status)
            .header("Content-Type", content_type)
            .body(body)
    }

    /// `application/json; charset=utf-8`.
    pub fn json(status: u16, value: &impl serde::Serialize) -> Self {
        let body = serde_json::to_vec(value).unwrap_or_default();
        Self::with_body(status, "application/json; charset=utf-8", body)
    }

    /// `text/plain; charset=utf-8`.
    pub fn text(status: u16, text: &str) -> Self {
        Self::with_body(status, "text/plain; charset=utf-8", text)
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// A response of `len` bytes read from `reader`.
    pub fn sized(
        status: u16,
        content_type: &str,
        len: u64,
        reader: impl Read + Send + 'static,
    ) -> Self {
        let mut response = Self::new(status).header("Content-Type", content_type);
        response.body = Body::Sized(len, Box::new(reader));
        response
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Body::Bytes(body.into());
        self
    }

    pub fn get_header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// Whether a status never carries a body.
fn bodyless(status: u16) -> bool {
    status < 200 || status == 204 || status == 304
}

/// The head of a response (status line and headers, framing included, blank line).
fn head_bytes(response: &HttpResponse, keep_alive: bool) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    let now = dotnet::http_date(dotnet::ticks(SystemTime::now()));
    head.push_str(&format!("Date: {now}\r\n"));
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !bodyless(response.status) {
        match &response.body {
            Body::Empty => head.push_str("Content-Length: 0\r\n"),
            Body::Bytes(bytes) => head.push_str(&format!("Content-Length: {}\r\n", bytes.len())),
            Body::Sized(len, _) => head.push_str(&format!("Content-Length: {len}\r\n")),
            Body::Stream(_) => head.push_str("Transfer-Encoding: chunked\r\n"),
        }
    }
    if !keep_alive {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// Writes a whole response. `head_only` answers a HEAD: the headers a GET would get, no body.
pub fn write_response(
    out: &mut dyn Write,
    response: HttpResponse,
    head_only: bool,
    keep_alive: bool,
) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(CHUNK + 64, out);
    out.write_all(&head_bytes(&response, keep_alive))?;
    if !head_only && !bodyless(response.status) {
        match response.body {
            Body::Empty => {}
            Body::Bytes(bytes) => out.write_all(&bytes)?,
            Body::Sized(len, reader) => {
                if io::copy(&mut reader.take(len), &mut out)? != len {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
            }
            Body::Stream(produce) => {
                let mut chunked = ChunkedWriter::new(&mut out);
                produce(&mut chunked)?;
                chunked.finish()?;
            }
        }
    }
    out.flush()
}

/// The response as bytes on the wire, and where its head ends (for a connection cut mid-way).
pub fn render(response: HttpResponse, head_only: bool, keep_alive: bool) -> (Vec<u8>, usize) {
    let head_len = head_bytes(&response, keep_alive).len();
    let mut bytes = Vec::new();
    // Writing into a Vec only fails if a stream producer fails; then the body is cut there,
    // which is what the caller does with it anyway.
    let _ = write_response(&mut bytes, response, head_only, keep_alive);
    (bytes, head_len)
}

/// `Transfer-Encoding: chunked` framing over a writer.
pub struct ChunkedWriter<W: Write> {
    inner: W,
    buf: Vec<u8>,
}

impl<W: Write> ChunkedWriter<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            buf: Vec::with_capacity(CHUNK),
        }
    }

    fn emit(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            write!(self.inner, "{:x}\r\n", self.buf.len())?;
            self.inner.write_all(&self.buf)?;
            self.inner.write_all(b"\r\n")?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Writes the last chunk.
    pub fn finish(mut self) -> io::Result<()> {
        self.emit()?;
        self.inner.write_all(b"0\r\n\r\n")?;
        self.inner.flush()
    }
}

impl<W: Write> Write for ChunkedWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = CHUNK - self.buf.len();
        let n = data.len().min(room);
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.emit()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.emit()?;
        self.inner.flush()
    }
}

impl<W: Write> std::fmt::Debug for ChunkedWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkedWriter")
            .field("buffered", &self.buf.len())
            .finish()
    }
}

/// The reason phrase of a status.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        416 => "Requested Range Not Satisfiable",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// Percent-decodes a URL path or query component; `plus_is_space` for form bodies and queries.
/// `None` if the result is not UTF-8.
pub fn percent_decode(text: &str, plus_is_space: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Splits `a=1&b=2` into decoded pairs (`application/x-www-form-urlencoded`).
pub fn form_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode(k, true).unwrap_or_default(),
                percent_decode(v, true).unwrap_or_default(),
            )
        })
        .collect()
}

/// .NET's `Uri.EscapeUriString` followed by Kudu's `EscapeHashCharacter`: escapes everything but
/// unreserved and reserved characters, then `#`.
pub fn escape_uri_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-._~;/?:@&=+$,!*'()[]".contains(&b);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b+c", false).as_deref(), Some("a b+c"));
        assert_eq!(percent_decode("a%20b+c", true).as_deref(), Some("a b c"));
        assert_eq!(percent_decode("100%", false).as_deref(), Some("100%"));
        assert_eq!(percent_decode("%4", false).as_deref(), Some("%4"));
        assert_eq!(percent_decode("%zz", false).as_deref(), Some("%zz"));
        assert_eq!(percent_decode("%ff", false), None);
        assert_eq!(
            form_pairs("a=api%3A%2F%2Fx&b=&c"),
            vec![
                ("a".into(), "api://x".into()),
                ("b".into(), String::new()),
                ("c".into(), String::new())
            ]
        );
    }

    #[test]
    fn escaping_like_dotnet() {
        assert_eq!(escape_uri_string("a b#c%/"), "a%20b%23c%25/");
        assert_eq!(escape_uri_string("é"), "%C3%A9");
        assert_eq!(
            encode_component("api://AzureADTokenExchange"),
            "api%3A%2F%2FAzureADTokenExchange"
        );
    }

    #[test]
    fn chunked_writer_frames_and_finishes() {
        let mut out = Vec::new();
        let mut w = ChunkedWriter::new(&mut out);
        w.write_all(b"hello").unwrap();
        w.flush().unwrap();
        w.write_all(b" world").unwrap();
        w.finish().unwrap();
        assert_eq!(out, b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    }
}

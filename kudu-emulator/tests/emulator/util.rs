//! Test helpers: a temporary home, an HTTP client (ureq, one pooled agent per `Client`) and a raw
//! TCP client for what ureq hides (framing, kept-alive connections, broken answers). Every read
//! has a timeout, so no test can hang.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use kudu_emulator::{Emulator, Options};

/// The longest any single client operation may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A temporary home directory.
pub struct Home(tempfile::TempDir);

impl Home {
    pub fn new() -> Self {
        Home(tempfile::tempdir().unwrap())
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.path().join(rel)
    }

    /// Writes a file, creating its parents.
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> &Self {
        let path = self.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
        self
    }

    pub fn mkdir(&self, rel: &str) -> &Self {
        fs::create_dir_all(self.join(rel)).unwrap();
        self
    }

    pub fn set_mtime(&self, rel: &str, time: SystemTime) {
        fs::File::options()
            .write(true)
            .open(self.join(rel))
            .unwrap()
            .set_modified(time)
            .unwrap();
    }

    pub fn read(&self, rel: &str) -> Option<Vec<u8>> {
        fs::read(self.join(rel)).ok()
    }

    pub fn exists(&self, rel: &str) -> bool {
        fs::symlink_metadata(self.join(rel)).is_ok()
    }
}

pub fn start(home: &Home, options: Options) -> Emulator {
    Emulator::start(home.path(), options).unwrap()
}

/// `Basic base64(user:password)`.
pub fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

/// A response read in full.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }
}

/// A ureq client for one emulator: statuses are answers (not errors), redirects are not
/// followed, connections are pooled (kept alive).
pub struct Client {
    agent: ureq::Agent,
    base: String,
    /// Sent with every request.
    pub headers: Vec<(String, String)>,
}

impl Client {
    pub fn new(base: &str) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(TIMEOUT))
            .build()
            .into();
        Client {
            agent,
            base: base.to_owned(),
            headers: Vec::new(),
        }
    }

    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sends a request; `path` is appended to the base URL as is.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Resp, ureq::Error> {
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let mut response = match body {
            Some(bytes) => self.agent.run(builder.body(bytes).unwrap())?,
            None => self
                .agent
                .run(builder.body(ureq::SendBody::none()).unwrap())?,
        };
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let body = if method == "HEAD" {
            Vec::new()
        } else {
            response
                .body_mut()
                .with_config()
                .limit(64 * 1024 * 1024)
                .read_to_vec()?
        };
        Ok(Resp {
            status,
            headers,
            body,
        })
    }

    pub fn get(&self, path: &str) -> Resp {
        self.send("GET", path, &[], None).unwrap()
    }

    /// A GET whose body comes back as sent, over a raw connection: ureq decodes gzip (and drops
    /// `Content-Encoding`) whenever a crate in the build enables its `gzip` feature, as the core does.
    pub fn get_encoded(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        let mut raw = Raw::connect_to(self.base.trim_start_matches("http://"));
        let lines: Vec<String> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .chain(headers.iter().copied())
            .map(|(n, v)| format!("{n}: {v}"))
            .chain(["Connection: close".to_owned()])
            .collect();
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        raw.send("GET", path, &lines);
        raw.read_response(false).unwrap()
    }

    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        self.send("GET", path, headers, None).unwrap()
    }

    pub fn put(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        self.send("PUT", path, headers, Some(body)).unwrap()
    }

    pub fn delete(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        self.send("DELETE", path, headers, None).unwrap()
    }
}

/// A raw HTTP/1.1 connection: write request text, read responses one by one.
pub struct Raw {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Raw {
    pub fn connect(emulator: &Emulator) -> Self {
        Raw::connect_to(&emulator.addr().to_string())
    }

    pub fn connect_to(addr: &str) -> Self {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(TIMEOUT)).unwrap();
        Raw {
            writer: stream.try_clone().unwrap(),
            reader: BufReader::new(stream),
        }
    }

    pub fn set_read_timeout(&self, timeout: Duration) {
        self.writer.set_read_timeout(Some(timeout)).unwrap();
    }

    /// Sends `METHOD path HTTP/1.1` with these extra header lines (each `Name: value`).
    pub fn send(&mut self, method: &str, path: &str, headers: &[&str]) {
        let mut text = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for header in headers {
            text.push_str(header);
            text.push_str("\r\n");
        }
        text.push_str("\r\n");
        self.write(text.as_bytes());
    }

    pub fn write(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
    }

    fn line(&mut self) -> std::io::Result<String> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }

    /// Reads the status line and headers.
    pub fn read_head(&mut self) -> std::io::Result<(u16, Vec<(String, String)>)> {
        let status_line = self.line()?;
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {status_line:?}")))?;
        let mut headers = Vec::new();
        loop {
            let line = self.line()?;
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
        Ok((status, headers))
    }

    /// Reads one whole response (`head_only` for a HEAD request); an error when the body ends
    /// early or the connection breaks.
    pub fn read_response(&mut self, head_only: bool) -> std::io::Result<Resp> {
        let (status, headers) = self.read_head()?;
        let resp_header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let mut body = Vec::new();
        if !(head_only || status == 204 || status == 304 || status < 200) {
            if resp_header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
                loop {
                    let size =
                        usize::from_str_radix(&self.line()?, 16).map_err(std::io::Error::other)?;
                    if size == 0 {
                        self.line()?;
                        break;
                    }
                    let mut chunk = vec![0; size + 2];
                    self.reader.read_exact(&mut chunk)?;
                    body.extend_from_slice(&chunk[..size]);
                }
            } else if let Some(len) = resp_header("content-length") {
                body.resize(len.parse().unwrap(), 0);
                self.reader.read_exact(&mut body)?;
            } else {
                self.reader.read_to_end(&mut body)?;
            }
        }
        Ok(Resp {
            status,
            headers,
            body,
        })
    }

    /// Reads whatever comes until `limit` bytes or an error (timeout, end of stream).
    pub fn read_some(&mut self, limit: usize) -> (Vec<u8>, Option<std::io::Error>) {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while out.len() < limit {
            match self.reader.read(&mut buf) {
                Ok(0) => return (out, None),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return (out, Some(e)),
            }
        }
        (out, None)
    }
}

/// Polls `condition` until it holds or `TIMEOUT` passes.
pub fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Decompresses a gzip body.
pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

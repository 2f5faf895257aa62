//! `remote-bench N_BIG N_TYPICAL LATENCY_MS`: the remote store against the Kudu emulator with injected
//! latency, printed as one markdown table (`scripts/bench.sh` calls it).
//!
//! For a generated home of `N_BIG` records it times, in the same run:
//! - kudu-state's remote diagnosis (`kudu_state::remote::diagnose_site`, 8 requests in flight);
//! - a sequential client, what a script would do: one listing of `site/deployments` and one `GET` of
//!   every `status.xml`, one after the other on a kept-alive connection;
//! - the zip API: `GET /api/zip/site/deployments/`, one streamed response (bytes counted, not parsed);
//!
//! and, for a typical site of `N_TYPICAL` records, how many round trips of latency the diagnosis
//! waits: its time at 5× the latency minus its time at the latency, over 4× the latency (the local
//! overhead of both runs cancels out).
//! Also the requests made and the most the emulator saw in flight at once.

use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use kudu_emulator::{Auth, Emulator, Options, Platform as EmuPlatform};
use kudu_state::remote::{
    CredentialSource, Credentials, HttpClient, HttpOptions, RemoteStore, Secret, SiteUrl,
};

const USER: &str = "$bench";
const PASSWORD: &str = "bench-password";

fn main() -> ExitCode {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let [big, typical, latency_ms] = args[..] else {
        let _ = writeln!(
            std::io::stderr(),
            "usage: remote-bench N_BIG N_TYPICAL LATENCY_MS"
        );
        return ExitCode::from(2);
    };
    match run(big, typical, Duration::from_millis(latency_ms)) {
        Ok(table) => {
            let _ = write!(std::io::stdout(), "{table}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "remote-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Served {
    _dir: tempfile::TempDir,
    emulator: Emulator,
}

fn serve(n: u64, latency: Duration) -> Result<Served, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let n = usize::try_from(n)?;
    kudu_state_benches::generate(dir.path(), n, kudu_state::Platform::Linux, 2)?;
    let emulator = Emulator::start(
        dir.path(),
        Options {
            auth: Auth::basic(USER, PASSWORD),
            latency,
            ..Options::new(EmuPlatform::Linux)
        },
    )?;
    Ok(Served {
        _dir: dir,
        emulator,
    })
}

fn store(emulator: &Emulator) -> Result<RemoteStore, Box<dyn std::error::Error>> {
    let http = HttpClient::new(
        &HttpOptions::default(),
        &kudu_state::remote::Env::from_vars(Vec::<(String, String)>::new()),
    )?;
    let credentials = Credentials::basic(
        USER,
        Secret::new(PASSWORD),
        CredentialSource::UsernamePassword,
    );
    Ok(RemoteStore::new(
        &http,
        SiteUrl::parse(&emulator.url())?,
        credentials,
        None,
    ))
}

/// One diagnosis: wall time, requests, most in flight.
fn diagnose(served: &Served) -> Result<(Duration, u64, usize), Box<dyn std::error::Error>> {
    served.emulator.clear_requests();
    let store = store(&served.emulator)?;
    let start = Instant::now();
    let site =
        kudu_state::remote::diagnose_site(&store, &kudu_state::HomeOptions::default(), None)?;
    Ok((
        start.elapsed(),
        site.stats.requests,
        served.emulator.max_in_flight(),
    ))
}

fn basic_header() -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
    )
}

/// The script a user would write: list, then GET every status.xml in turn.
fn sequential(served: &Served) -> Result<(Duration, u64), Box<dyn std::error::Error>> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let auth = basic_header();
    let base = served.emulator.url();
    let start = Instant::now();
    let listing: serde_json::Value = serde_json::from_reader(
        agent
            .get(&format!("{base}/api/vfs/site/deployments/"))
            .header("Authorization", &auth)
            .call()?
            .into_body()
            .into_reader(),
    )?;
    let mut requests = 1;
    for entry in listing.as_array().into_iter().flatten() {
        let Some(name) = entry["name"]
            .as_str()
            .filter(|_| entry["mime"] == "inode/directory")
        else {
            continue;
        };
        let mut body = Vec::new();
        agent
            .get(&format!(
                "{base}/api/vfs/site/deployments/{name}/status.xml"
            ))
            .header("Authorization", &auth)
            .call()?
            .into_body()
            .into_reader()
            .read_to_end(&mut body)?;
        requests += 1;
    }
    Ok((start.elapsed(), requests))
}

/// The zip API: one streamed response for the whole folder.
fn zip(served: &Served) -> Result<(Duration, u64), Box<dyn std::error::Error>> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let start = Instant::now();
    let mut bytes = 0u64;
    let mut reader = agent
        .get(&format!(
            "{}/api/zip/site/deployments/",
            served.emulator.url()
        ))
        .header("Authorization", &basic_header())
        .call()?
        .into_body()
        .into_with_config()
        .limit(u64::MAX)
        .reader();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
    }
    Ok((start.elapsed(), bytes))
}

fn median<T: Copy + Ord>(mut v: Vec<T>) -> T {
    v.sort_unstable();
    v[v.len() / 2]
}

fn run(big: u64, typical: u64, latency: Duration) -> Result<String, Box<dyn std::error::Error>> {
    let served = serve(big, latency)?;
    let runs = 3;
    let mut ours = Vec::new();
    let mut seq = Vec::new();
    let mut zips = Vec::new();
    let (mut requests, mut in_flight, mut seq_requests, mut zip_bytes) = (0, 0, 0, 0);
    for _ in 0..runs {
        let (t, r, f) = diagnose(&served)?;
        ours.push(t);
        requests = r;
        in_flight = in_flight.max(f);
        let (t, r) = sequential(&served)?;
        seq.push(t);
        seq_requests = r;
        let (t, b) = zip(&served)?;
        zips.push(t);
        zip_bytes = b;
    }
    let (ours, seq, zips) = (median(ours), median(seq), median(zips));
    // The typical site at the latency and at five times it: the difference, over the difference in
    // latency, is the number of round trips the diagnosis waits, whatever the local overhead.
    let small_at = |l: Duration| -> Result<(Duration, u64), Box<dyn std::error::Error>> {
        let small = serve(typical, l)?;
        let mut times = Vec::new();
        let mut requests = 0;
        for _ in 0..runs {
            let (t, r, _) = diagnose(&small)?;
            times.push(t);
            requests = r;
        }
        Ok((median(times), requests))
    };
    let (small_time, small_requests) = small_at(latency)?;
    let (slow_time, _) = small_at(latency * 5)?;
    let round_trips =
        (slow_time.as_secs_f64() - small_time.as_secs_f64()) / (4.0 * latency.as_secs_f64());
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
    let mut out = String::new();
    out.push_str(&format!(
        "| remote, {} ms latency | wall time | requests | most in flight | vs sequential |\n|---|---:|---:|---:|---:|\n",
        latency.as_millis()
    ));
    out.push_str(&format!(
        "| {big} records: kudu-state diagnose (8 in flight) | {} | {requests} | {in_flight} | {:.1}× faster |\n",
        ms(ours),
        seq.as_secs_f64() / ours.as_secs_f64()
    ));
    out.push_str(&format!(
        "| {big} records: sequential client (listing + every status.xml) | {} | {seq_requests} | 1 | 1.0× |\n",
        ms(seq)
    ));
    out.push_str(&format!(
        "| {big} records: zip API, one streamed GET of site/deployments ({:.1} MiB, not parsed) | {} | 1 | 1 | {:.1}× faster |\n",
        zip_bytes as f64 / 1_048_576.0,
        ms(zips),
        seq.as_secs_f64() / zips.as_secs_f64()
    ));
    out.push_str(&format!(
        "| typical site, {typical} records: kudu-state diagnose | {} ({} at {} ms): {round_trips:.1} round trips | {small_requests} | | |\n",
        ms(small_time),
        ms(slow_time),
        5 * latency.as_millis()
    ));
    out.push_str(&format!(
        "\nMedians of {runs} runs against the Kudu emulator (Linux, {} ms injected before each answer) on loopback.\n",
        latency.as_millis()
    ));
    Ok(out)
}

//! `kudu-emulator`: the emulator as a process, for the Python and Node test suites.
//!
//! ```text
//! kudu-emulator --home DIR --platform linux|windows [--user U --password P] [--token T]
//!               [--latency-ms N] [--instances NAME,NAME...] [--hold REL_PATH[@INSTANCE]]...
//! ```
//!
//! Binds 127.0.0.1:0, prints the base URL as the first line of stdout, then one line of JSON with
//! what a test needs to sign in through the fake Azure endpoints (tenant, client id, tokens,
//! subscription, resource group, app, instances, OIDC request URL), and serves until stdin
//! reaches end of file (or the process is killed).
//!
//! `--token T` makes the SCM site accept `Bearer T` and is also the access token the fake Entra
//! endpoint hands out and fake ARM requires; with both credentials, either is accepted.
//! `--hold` makes a Windows lock file held by Kudu on an instance (the first by default), as
//! `Emulator::hold` does; repeat it for several.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use kudu_emulator::{Auth, Emulator, Options, Platform};

const USAGE: &str = "usage: kudu-emulator --home DIR --platform linux|windows [--user U --password P] [--token T] [--latency-ms N] [--instances A,B] [--hold REL_PATH[@INSTANCE]]...";

#[derive(Debug, Default)]
struct Args {
    home: Option<PathBuf>,
    platform: Option<Platform>,
    user: Option<String>,
    password: Option<String>,
    token: Option<String>,
    latency_ms: u64,
    instances: Option<Vec<String>>,
    /// (path relative to home, instance or the first one)
    holds: Vec<(String, Option<String>)>,
}

fn parse(mut argv: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args::default();
    while let Some(flag) = argv.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.to_owned());
        }
        let value = argv
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--home" => args.home = Some(PathBuf::from(value)),
            "--platform" => {
                args.platform = Some(match value.to_ascii_lowercase().as_str() {
                    "linux" => Platform::Linux,
                    "windows" => Platform::Windows,
                    other => return Err(format!("unknown platform `{other}`\n{USAGE}")),
                });
            }
            "--user" => args.user = Some(value),
            "--password" => args.password = Some(value),
            "--token" => args.token = Some(value),
            "--latency-ms" => {
                args.latency_ms = value
                    .parse()
                    .map_err(|_| format!("--latency-ms needs a number, not `{value}`"))?;
            }
            "--instances" => {
                args.instances = Some(
                    value
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect(),
                );
            }
            "--hold" => args.holds.push(match value.rsplit_once('@') {
                Some((path, instance)) => (path.to_owned(), Some(instance.to_owned())),
                None => (value, None),
            }),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    Ok(args)
}

fn options(args: &Args) -> Result<Options, String> {
    let platform = args
        .platform
        .ok_or_else(|| format!("--platform is required\n{USAGE}"))?;
    let mut options = Options::new(platform);
    let mut accepted = Vec::new();
    match (&args.user, &args.password) {
        (Some(user), Some(password)) => accepted.push(Auth::basic(user, password)),
        (None, None) => {}
        _ => return Err(format!("--user and --password go together\n{USAGE}")),
    }
    if let Some(token) = &args.token {
        accepted.push(Auth::bearer(token));
        options.azure.access_token.clone_from(token);
    }
    options.auth = match accepted.len() {
        0 => Auth::None,
        1 => accepted.remove(0),
        _ => Auth::AnyOf(accepted),
    };
    options.latency = Duration::from_millis(args.latency_ms);
    if let Some(instances) = &args.instances {
        options.instances.clone_from(instances);
    }
    Ok(options)
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let (Some(home), Ok(options)) = (&args.home, options(&args)) else {
        eprintln!(
            "{}",
            options(&args)
                .err()
                .unwrap_or_else(|| format!("--home is required\n{USAGE}"))
        );
        return ExitCode::from(2);
    };
    let emulator = match Emulator::start(home, options) {
        Ok(emulator) => emulator,
        Err(e) => {
            eprintln!("kudu-emulator: cannot serve `{}`: {e}", home.display());
            return ExitCode::FAILURE;
        }
    };
    let instances = &emulator.options().instances;
    for (path, instance) in &args.holds {
        let instance = instance.as_ref().unwrap_or(&instances[0]);
        if !instances.contains(instance) {
            eprintln!("kudu-emulator: --hold names `{instance}`, not one of {instances:?}");
            return ExitCode::from(2);
        }
        emulator.hold(path, instance);
    }
    let az = &emulator.options().azure;
    let info = serde_json::json!({
        "url": emulator.url(),
        "platform": if emulator.options().platform == Platform::Linux { "linux" } else { "windows" },
        "instances": instances,
        "scm_host": emulator.host(),
        "oidc_request_url": emulator.oidc_request_url(),
        "oidc_request_token": az.oidc_request_token,
        "federated_token": az.federated_token,
        "tenant": az.tenant,
        "client_id": az.client_id,
        "access_token": az.access_token,
        "subscription": az.subscription,
        "resource_group": az.resource_group,
        "app": az.app,
    });
    // A parent that reads the URL and closes the pipe must not stop the server: only the end of
    // stdin does, so a failed write is ignored.
    let mut stdout = io::stdout().lock();
    let _ = write!(stdout, "{}\n{info}\n", emulator.url()).and_then(|()| stdout.flush());
    drop(stdout);
    // Serve until stdin closes.
    let mut sink = [0u8; 256];
    let mut stdin = io::stdin().lock();
    while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
    drop(emulator);
    ExitCode::SUCCESS
}

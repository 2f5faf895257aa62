//! Helpers: emulators over fixture homes, and stores on them with short timeouts.

use std::time::Duration;

use chrono::{DateTime, Utc};
use kudu_emulator::{Auth, Emulator, Options};
use kudu_state::Platform;
use kudu_state::fixture::HomeBuilder;
use kudu_state::remote::{
    CredentialSource, Credentials, HttpClient, HttpOptions, RemoteStore, Secret, SiteUrl,
};
use kudu_state::store::RelPath;

pub const USER: &str = "$emulated-app";
/// Every secret the tests use starts with this, so one grep finds any leak.
pub const PASSWORD: &str = "SECRET-pw-4c7e1f";

pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-09-04T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

pub fn emu_platform(p: Platform) -> kudu_emulator::Platform {
    match p {
        Platform::Windows => kudu_emulator::Platform::Windows,
        Platform::Linux => kudu_emulator::Platform::Linux,
    }
}

/// Short timeouts: a test that meets a fault ends within seconds.
pub fn quick() -> HttpOptions {
    HttpOptions {
        request_timeout: Duration::from_secs(5),
        run_timeout: Some(Duration::from_secs(20)),
        retries: 2,
        max_retry_wait: Duration::from_millis(200),
        ..HttpOptions::default()
    }
}

/// An emulator over `home` that takes Basic [`USER`]/[`PASSWORD`].
pub fn emulator(home: &HomeBuilder) -> Emulator {
    emulator_with(home, |o| o)
}

pub fn emulator_with(home: &HomeBuilder, tweak: impl FnOnce(Options) -> Options) -> Emulator {
    let options = Options {
        auth: Auth::basic(USER, PASSWORD),
        ..Options::new(emu_platform(home.platform()))
    };
    Emulator::start(home.path(), tweak(options)).unwrap()
}

pub fn basic() -> Credentials {
    Credentials::basic(
        USER,
        Secret::new(PASSWORD),
        CredentialSource::UsernamePassword,
    )
}

pub fn store(emulator: &Emulator) -> RemoteStore {
    store_with(emulator, &quick(), None)
}

pub fn store_with(
    emulator: &Emulator,
    options: &HttpOptions,
    instance: Option<&str>,
) -> RemoteStore {
    let http = HttpClient::new(options, &kudu_state::remote::Env::default()).unwrap();
    RemoteStore::new(
        &http,
        SiteUrl::parse(&emulator.url()).unwrap(),
        basic(),
        instance.map(str::to_owned),
    )
}

pub fn rel(path: &str) -> RelPath {
    RelPath::new(path).unwrap()
}

/// Every text a failure can show: Display, Debug and the source chain.
pub fn shown(e: &kudu_state::Error) -> String {
    format!("{e} | {e:?} | {}", kudu_state::error_chain(e))
}

pub fn assert_no_secret(text: &str) {
    assert!(!text.contains("SECRET"), "a secret leaked: {text}");
}

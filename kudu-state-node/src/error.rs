//! Core errors as JavaScript `Error` objects with the core's stable `.code` and, where the error is about
//! a path, `.path` (a URL: `.url`, and `.status`); and the one runner every function (async or `*Sync`)
//! goes through.

use std::panic::{AssertUnwindSafe, catch_unwind};

use napi::bindgen_prelude::{JsObjectValue, JsValue};
use napi::{Env, Status};

/// An `INVALID_INPUT` error for a bad argument, built by the core so its code comes from the core.
pub(crate) fn invalid(reason: impl Into<String>) -> kudu_state::Error {
    kudu_state::Error::Invalid {
        what: "argument",
        reason: reason.into(),
    }
}

/// What a call produced off the JavaScript thread: the core's value or error, or a panic's message.
pub(crate) type Outcome<T> = Result<kudu_state::Result<T>, String>;

/// Runs `work`, turning a panic into a message so no unwind crosses into JavaScript (async tasks run on
/// libuv's threads, outside `#[napi(catch_unwind)]`).
pub(crate) fn run<T>(work: impl FnOnce() -> kudu_state::Result<T>) -> Outcome<T> {
    catch_unwind(AssertUnwindSafe(work)).map_err(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        format!("kudu-state panicked: {what}; please report this")
    })
}

/// Finishes an [`Outcome`] on the JavaScript thread: the value, or a thrown/rejected `Error`.
pub(crate) fn finish<T>(env: &Env, outcome: Outcome<T>) -> napi::Result<T> {
    match outcome {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(js_error(env, &e)),
        Err(panic) => Err(napi::Error::new(Status::GenericFailure, panic)),
    }
}

/// Builds the JavaScript `Error` for a core error: `message` is the error and its causes on one line (as
/// the command prints it), `code` is [`kudu_state::Error::code`], `path` is [`kudu_state::Error::path`],
/// `url` [`kudu_state::Error::url`] (never with credentials) and `status` the HTTP status, when there
/// is one.
pub(crate) fn js_error(env: &Env, e: &kudu_state::Error) -> napi::Error {
    let message = kudu_state::error_chain(e);
    let build = || -> napi::Result<napi::Error> {
        let mut obj = env.create_error(napi::Error::new(Status::GenericFailure, &message))?;
        obj.set_named_property("code", e.code())?;
        if let Some(path) = e.path() {
            obj.set_named_property("path", path.to_string_lossy().as_ref())?;
        }
        if let Some(url) = e.url() {
            obj.set_named_property("url", url)?;
        }
        if let Some(status) = e.status() {
            obj.set_named_property("status", u32::from(status))?;
        }
        // An error made from a JavaScript value is thrown (or rejected with) as that very object.
        Ok(napi::Error::from(obj.to_unknown()))
    };
    build().unwrap_or_else(|_| {
        napi::Error::new(Status::GenericFailure, format!("{}: {message}", e.code()))
    })
}

/// Defines an `AsyncTask` type that runs a boxed closure on libuv's thread pool and resolves to `$out`.
macro_rules! job {
    ($(#[$doc:meta])* $name:ident => $out:ty) => {
        $(#[$doc])*
        /// (The work, and the answers of a JavaScript callback it calls: the task rejects with what
        /// that threw.)
        pub struct $name(
            Option<Box<dyn FnOnce() -> kudu_state::Result<$out> + Send>>,
            pub(crate) $crate::callback::Answers,
        );

        impl $name {
            pub(crate) fn new(work: impl FnOnce() -> kudu_state::Result<$out> + Send + 'static) -> Self {
                $name(Some(Box::new(work)), $crate::callback::Answers::default())
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(stringify!($name))
            }
        }

        #[napi_derive::napi]
        impl napi::Task for $name {
            type Output = $crate::error::Outcome<$out>;
            type JsValue = $out;

            fn compute(&mut self) -> napi::Result<Self::Output> {
                let work = self.0.take().ok_or_else(|| {
                    napi::Error::new(napi::Status::GenericFailure, "task already ran")
                })?;
                Ok($crate::error::run(work))
            }

            fn resolve(&mut self, env: napi::Env, output: Self::Output) -> napi::Result<$out> {
                match self.1.thrown() {
                    Some(thrown) => Err(thrown),
                    None => $crate::error::finish(&env, output),
                }
            }
        }
    };
}
pub(crate) use job;

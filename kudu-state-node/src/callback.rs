//! A JavaScript callback that a wait or a track calls from libuv's thread pool, answered as Python's
//! callbacks are: `false` stops (as the core's `false`), a throw stops and the promise rejects with
//! what was thrown, anything else (`undefined`, `true`, a number, a Promise: it is not awaited) goes
//! on.
//!
//! The worker waits for the answer, but never long: the JavaScript thread may be busy, or gone
//! (`process.exit` runs no queued callback and waits for the pool's threads). An answer that comes
//! later still counts, at the next call.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use napi::Status;
use napi::bindgen_prelude::{Either, JsValuesTupleIntoVec, Unknown};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};

/// The callback as napi hands it over: its answer is a boolean or anything else.
pub type Callback<T> = ThreadsafeFunction<T, Either<bool, Unknown<'static>>, T, Status, false>;

/// How long the worker waits for an answer before it goes on without it.
const PATIENCE: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
struct Said {
    stop: bool,
    thrown: Option<napi::Error>,
}

/// What a task's callback answered: whether it asked to stop, and what it threw (the task rejects
/// with that once the work has stopped).
#[derive(Debug, Clone, Default)]
pub(crate) struct Answers(Arc<Mutex<Said>>);

impl Answers {
    /// The error thrown, if any (taken: a task rejects once).
    pub(crate) fn thrown(&self) -> Option<napi::Error> {
        self.0.lock().ok().and_then(|mut said| said.thrown.take())
    }

    fn stopped(&self) -> bool {
        self.0.lock().is_ok_and(|said| said.stop)
    }

    fn record(&self, returned: napi::Result<Either<bool, Unknown<'static>>>) {
        let Ok(mut said) = self.0.lock() else {
            return;
        };
        match returned {
            Ok(Either::A(false)) => said.stop = true,
            Ok(_) => {}
            Err(e) => {
                said.stop = true;
                said.thrown.get_or_insert(e);
            }
        }
    }
}

/// Calls `callback` with `value` on the JavaScript thread and waits (at most [`PATIENCE`]) for its
/// answer: `true` to go on. When it cannot be called any more (the environment is closing) the work
/// goes on, as it does without a callback.
pub(crate) fn ask<T: 'static + JsValuesTupleIntoVec>(
    callback: &Callback<T>,
    answers: &Answers,
    value: T,
) -> bool {
    if answers.stopped() {
        return false;
    }
    let (done, answered) = mpsc::channel();
    let said = answers.clone();
    let status = callback.call_with_return_value(
        value,
        ThreadsafeFunctionCallMode::NonBlocking,
        move |returned, _env| {
            said.record(returned);
            // The worker may have stopped waiting: nothing to tell then.
            let _ = done.send(());
            Ok(())
        },
    );
    if status == Status::Ok {
        let _ = answered.recv_timeout(PATIENCE);
    }
    !answers.stopped()
}

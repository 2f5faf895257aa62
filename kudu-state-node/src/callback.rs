//! A JavaScript callback that a wait or a track calls from libuv's thread pool and whose answer it
//! waits for, as Python's callbacks: `false` stops (as the core's `false`), a throw stops and the
//! promise rejects with what was thrown, anything else (`undefined`, `true`, …) goes on.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use napi::Status;
use napi::bindgen_prelude::{Either, Unknown};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};

/// The callback as napi hands it over: its answer is a boolean or anything else.
pub type Callback<T> = ThreadsafeFunction<T, Either<bool, Unknown<'static>>, T, Status, false>;

/// What a callback threw, kept for the task to reject with once the work has stopped.
#[derive(Debug, Clone, Default)]
pub(crate) struct Thrown(Arc<Mutex<Option<napi::Error>>>);

impl Thrown {
    /// The error thrown, if any (taken: a task rejects once).
    pub(crate) fn take(&self) -> Option<napi::Error> {
        self.0.lock().ok().and_then(|mut e| e.take())
    }
}

/// Calls `callback` with `value` on the JavaScript thread and waits for it to return: `true` to go
/// on. When it cannot be called any more (the environment is closing) the work goes on, as it does
/// without a callback.
pub(crate) fn ask<T: 'static + napi::bindgen_prelude::JsValuesTupleIntoVec>(
    callback: &Callback<T>,
    thrown: &Thrown,
    value: T,
) -> bool {
    let (answer, answered) = mpsc::channel();
    let slot = thrown.clone();
    let status = callback.call_with_return_value(
        value,
        ThreadsafeFunctionCallMode::Blocking,
        move |returned, _env| {
            let go_on = match returned {
                Ok(Either::A(stop_unless)) => stop_unless,
                Ok(Either::B(_)) => true,
                Err(e) => {
                    if let Ok(mut slot) = slot.0.lock() {
                        slot.get_or_insert(e);
                    }
                    false
                }
            };
            // The worker may have gone (nothing waits any more): nothing to tell.
            let _ = answer.send(go_on);
            Ok(())
        },
    );
    // Never called (the queue is closing) or dropped unanswered: go on.
    status != Status::Ok || answered.recv().unwrap_or(true)
}

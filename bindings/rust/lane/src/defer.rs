//! Destroying a liblane object from inside one of liblane's callbacks.
//!
//! lane_destroy and lane_registry_destroy wait until every job has ended;
//! called from inside a job's run or on_done (which is where the last
//! clone of a `Lane` captured by a job's closure is dropped) they would wait
//! for themselves. So the trampolines mark the thread while they run, and a
//! handle dropped on a marked thread is destroyed on a thread of its own.

use std::cell::Cell;

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Marks this thread as inside a liblane callback while alive.
pub(crate) struct InCallback(());

impl InCallback {
    pub(crate) fn enter() -> InCallback {
        DEPTH.with(|d| d.set(d.get() + 1));
        InCallback(())
    }
}

impl Drop for InCallback {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get() - 1));
    }
}

pub(crate) fn in_callback() -> bool {
    DEPTH.with(|d| d.get() > 0)
}

/// A C handle moved to the thread that destroys it.
pub(crate) struct SendPtr<T>(pub(crate) *mut T);

// SAFETY: liblane's lanes, registries and sessions may be destroyed from any
// thread (lane.h: every function may be called from any thread); the
// pointer is moved, not shared: the one thread that gets it destroys it.
unsafe impl<T> Send for SendPtr<T> {}

/// Runs `destroy` now, or on a new thread when called inside a callback.
pub(crate) fn run_outside_callbacks(what: &str, destroy: impl FnOnce() + Send + 'static) {
    if !in_callback() {
        destroy();
        return;
    }
    if std::thread::Builder::new()
        .name("lane-destroy".into())
        .spawn(destroy)
        .is_err()
    {
        // No thread: leaking beats waiting for ourselves forever.
        eprintln!("lane: could not start a thread to destroy a {what} dropped inside a callback; leaked");
    }
}

//! Injected clocks (`lane_clock_fn`): a closure that says what time it is,
//! for lanes, registries and samplers (tests use a fake one).

use crate::error::time_ns;
use crate::job::panic_message;
use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::SystemTime;

/// A clock closure; called from any thread, never under a library lock.
pub type ClockFn = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// `lane_clock_fn`: the closure's time, or the real time if it panicked.
pub(crate) unsafe extern "C" fn clock_trampoline(ud: *mut c_void) -> i64 {
    // SAFETY: ud points to the ClockFn that the owning handle keeps alive
    // until its C object is destroyed.
    let f = unsafe { &*(ud as *const ClockFn) };
    match catch_unwind(AssertUnwindSafe(|| f())) {
        Ok(t) => time_ns(t),
        Err(p) => {
            eprintln!("lane: clock closure {}; using the real time", panic_message(&*p));
            time_ns(SystemTime::now())
        }
    }
}

/// Boxes a clock so that its address is stable for the C side.
pub(crate) fn boxed(f: ClockFn) -> Box<ClockFn> {
    Box::new(f)
}

pub(crate) fn user_data(b: &ClockFn) -> *mut c_void {
    b as *const ClockFn as *mut c_void
}

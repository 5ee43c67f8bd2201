//! Session queues: a per-conversation front queue in front of a lane.

use crate::error::{Error, Result, Status, c_string, check, cstr_to_string, dur_ns};
use crate::job::{Ctx, Job, JobBox, Runner, SharedRunFn, done_trampoline, panic_message, run_trampoline};
use crate::lane::Lane;
use lane_sys as sys;
use std::ffi::{c_char, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::Duration;

/// What a session does with a new message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// FIFO, up to max_concurrent runs at once.
    #[default]
    Queue,
    /// One after another.
    Followup,
    /// Everything queued is merged into the next run ([`Ctx::batch`]).
    Collect,
    /// A new message cancels the active runs and ends the queued ones (Cancelled).
    Interrupt,
    /// A new message goes into an active steerable run's mailbox ([`Ctx::next_message`]).
    Steer,
}

/// What a full session queue does with one more message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DropPolicy {
    /// The oldest queued message ends Dropped.
    #[default]
    Old,
    /// The new message is refused with QueueFull.
    New,
    /// Like Old, and the next run gets the dropped ids ([`Ctx::dropped_ids`]).
    Summarize,
}

type TokenFn = dyn Fn(&str) -> Option<(i64, i64)> + Send + Sync;

/// A session's options (`lane_session_options_t`).
#[derive(Default)]
pub struct SessionOptions {
    mode: Mode,
    cap: u32,
    drop: DropPolicy,
    debounce_ns: i64,
    max_concurrent: u32,
    token_estimate: Option<Box<TokenFn>>,
    throttle_ratio: f64,
}

impl SessionOptions {
    pub fn new() -> SessionOptions {
        SessionOptions::default()
    }
    pub fn mode(mut self, m: Mode) -> Self {
        self.mode = m;
        self
    }
    /// Queued messages (default 10).
    pub fn cap(mut self, n: u32) -> Self {
        self.cap = n;
        self
    }
    pub fn drop_policy(mut self, d: DropPolicy) -> Self {
        self.drop = d;
        self
    }
    /// A run starts only after this long without a new message (default
    /// 800 ms); `Duration::ZERO` turns debouncing off.
    pub fn debounce(mut self, d: Duration) -> Self {
        self.debounce_ns = if d.is_zero() { -1 } else { dur_ns(d) };
        self
    }
    pub fn max_concurrent(mut self, n: u32) -> Self {
        self.max_concurrent = n;
        self
    }
    /// The session's token use: `f(key)` gives `(tokens, context_window)` or
    /// None (no throttle). Called on the thread about to start a run.
    pub fn token_estimate(mut self, f: impl Fn(&str) -> Option<(i64, i64)> + Send + Sync + 'static) -> Self {
        self.token_estimate = Some(Box::new(f));
        self
    }
    /// tokens >= ratio * window: one run at a time (default 0.6).
    pub fn throttle_ratio(mut self, r: f64) -> Self {
        self.throttle_ratio = r;
        self
    }
}

unsafe extern "C" fn token_trampoline(key: *const c_char, tokens: *mut i64, window: *mut i64, ud: *mut c_void) -> i32 {
    let _mark = crate::defer::InCallback::enter();
    // SAFETY: ud is the session's boxed closure, alive until after
    // lane_session_destroy; key, tokens and window are valid for the call.
    let f = unsafe { &*(ud as *const Box<TokenFn>) };
    // SAFETY: a valid C string (or NULL) for the duration of the call.
    let key = unsafe { cstr_to_string(key) };
    match catch_unwind(AssertUnwindSafe(|| f(&key))) {
        Ok(Some((t, w))) => {
            // SAFETY: valid out pointers (see above).
            unsafe {
                *tokens = t;
                *window = w;
            }
            0
        }
        Ok(None) => 1,
        Err(p) => {
            eprintln!("lane: token estimate of session {key:?} {}", panic_message(&*p));
            1
        }
    }
}

/// A session queue. Messages run through `handler`; every accepted
/// message gets exactly one outcome (its [`Job::on_done`]).
pub struct Session {
    pub(crate) raw: NonNull<sys::lane_session_t>,
    pub(crate) handler: Handler,
    // Kept alive until lane_session_destroy has returned.
    token: Option<Box<Box<TokenFn>>>,
    // The lane must outlive its sessions.
    pub(crate) lane: Lane,
}

/// What runs a session's runs: a closure on a library worker, or (feature
/// `tokio`) a future on a tokio task spawned by the lane's draining task.
pub(crate) enum Handler {
    Sync(SharedRunFn),
    #[cfg(feature = "tokio")]
    Async(crate::asyncio::AsyncHandler, Arc<crate::asyncio::Driver>),
}

// SAFETY: lane.h: a session is thread-safe; the handler and token closure
// are Send + Sync.
unsafe impl Send for Session {}
// SAFETY: as above; every method takes &self.
unsafe impl Sync for Session {}

impl Drop for Session {
    fn drop(&mut self) {
        // The token closure must outlive the session, wherever it is destroyed.
        let token = self.token.take();
        let lane = self.lane.clone(); // the lane outlives its session
        let raw = crate::defer::SendPtr(self.raw.as_ptr());
        let destroy = move || {
            let raw = raw;
            // SAFETY: the session's own handle; this ends its queued
            // messages, cancels and waits for its runs.
            unsafe { sys::lane_session_destroy(raw.0) };
            drop(token);
            drop(lane);
        };
        #[cfg(feature = "tokio")]
        if matches!(self.handler, Handler::Async(..)) {
            // Its runs are tokio tasks that this thread (perhaps a runtime
            // worker) may be needed for: destroy it on a thread of its own.
            if std::thread::Builder::new()
                .name("lane-destroy".into())
                .spawn(destroy)
                .is_err()
            {
                eprintln!("lane: could not start a thread to destroy a session; leaked");
            }
            return;
        }
        crate::defer::run_outside_callbacks("session", destroy);
    }
}

impl Session {
    /// A session keyed `key` (non-empty, at most 256 bytes; the runs'
    /// fair-share tenant) in front of `lane`.
    ///
    /// Dropping a Session from inside its own handler is refused by liblane
    /// (it would wait for itself) and leaks the session.
    pub fn new<F, E>(lane: &Lane, key: &str, opts: SessionOptions, handler: F) -> Result<Session>
    where
        F: Fn(&Ctx<'_>) -> std::result::Result<(), E> + Send + Sync + 'static,
        E: std::fmt::Display,
    {
        let h = Handler::Sync(Arc::new(move |c: &Ctx<'_>| handler(c).map_err(|e| e.to_string())));
        Session::create(lane, key, opts, h)
    }

    pub(crate) fn create(lane: &Lane, key: &str, opts: SessionOptions, handler: Handler) -> Result<Session> {
        let ckey = c_string("session key", key)?;
        let mut o = sys::lane_session_options_t::init();
        o.mode = match opts.mode {
            Mode::Queue => sys::LANE_SESSION_QUEUE,
            Mode::Followup => sys::LANE_SESSION_FOLLOWUP,
            Mode::Collect => sys::LANE_SESSION_COLLECT,
            Mode::Interrupt => sys::LANE_SESSION_INTERRUPT,
            Mode::Steer => sys::LANE_SESSION_STEER,
        };
        o.cap = opts.cap;
        o.drop = match opts.drop {
            DropPolicy::Old => sys::LANE_DROP_OLD,
            DropPolicy::New => sys::LANE_DROP_NEW,
            DropPolicy::Summarize => sys::LANE_DROP_SUMMARIZE,
        };
        o.debounce_ns = opts.debounce_ns;
        o.max_concurrent = opts.max_concurrent;
        o.throttle_ratio = opts.throttle_ratio;
        let token = opts.token_estimate.map(Box::new);
        if let Some(t) = &token {
            o.token_estimate = Some(token_trampoline);
            o.token_ud = &**t as *const Box<TokenFn> as *mut c_void;
        }
        let mut out = std::ptr::null_mut();
        // SAFETY: valid lane, key and options; token_ud outlives the session.
        check(unsafe { sys::lane_session_create(lane.raw(), ckey.as_ptr(), &o, &mut out) })?;
        let raw = NonNull::new(out).ok_or_else(|| Error::new(Status::Internal, "session_create gave NULL"))?;
        Ok(Session {
            raw,
            handler,
            token,
            lane: lane.clone(),
        })
    }

    /// Enqueues a message: `job` gives its id (unique among the session's
    /// live messages), priority, flags and on_done; `text` is what the
    /// handler sees in [`Ctx::batch`] / [`Ctx::next_message`].
    pub fn enqueue(&self, job: Job, text: impl Into<String>) -> Result<()> {
        let h = match &self.handler {
            Handler::Sync(h) => h.clone(),
            #[cfg(feature = "tokio")]
            Handler::Async(..) => {
                return Err(Error::new(
                    Status::Invalid,
                    "this session runs async handlers: use Session::enqueue_async",
                ));
            }
        };
        let parts = job.c_parts()?;
        let mut raw = job.raw(&parts);
        let jb = JobBox::new(Runner::Shared(h), text.into(), job.on_done.clone());
        let ud = Box::into_raw(Box::new(jb));
        raw.run = Some(run_trampoline);
        raw.on_done = Some(done_trampoline);
        raw.user_data = ud as *mut c_void;
        // SAFETY: strings valid for the call (copied); ud lives until on_done.
        let rc = unsafe { sys::lane_session_enqueue(self.raw.as_ptr(), &raw) };
        if rc != sys::LANE_OK {
            let e = Error::last(rc);
            // SAFETY: refused: no outcome will come; the box is ours again.
            drop(unsafe { Box::from_raw(ud) });
            return Err(e);
        }
        Ok(())
    }

    /// Cancels the oldest active run; true if there was one.
    pub fn cancel_one(&self) -> bool {
        // SAFETY: a live session.
        unsafe { sys::lane_session_cancel_one(self.raw.as_ptr()) == 1 }
    }
    /// Cancels every active run and drains the queue (Stale); returns the runs cancelled.
    pub fn cancel_all(&self) -> u32 {
        // SAFETY: a live session.
        unsafe { sys::lane_session_cancel_all(self.raw.as_ptr()).max(0) as u32 }
    }
    /// A new generation: queued and mailbox messages end Cleared.
    pub fn reset(&self) -> Result<()> {
        // SAFETY: a live session.
        check(unsafe { sys::lane_session_reset(self.raw.as_ptr()) })
    }
    pub fn active(&self) -> u32 {
        // SAFETY: a live session.
        unsafe { sys::lane_session_active(self.raw.as_ptr()) }
    }
    pub fn queued(&self) -> u32 {
        // SAFETY: a live session.
        unsafe { sys::lane_session_queued(self.raw.as_ptr()) }
    }
    pub fn set_max_concurrent(&self, n: u32) -> Result<()> {
        // SAFETY: a live session.
        check(unsafe { sys::lane_session_set_max_concurrent(self.raw.as_ptr(), n) })
    }
    pub fn key(&self) -> String {
        // SAFETY: the key lives as long as the session.
        unsafe { cstr_to_string(sys::lane_session_key(self.raw.as_ptr())) }
    }
    pub fn lane(&self) -> &Lane {
        &self.lane
    }
}

//! The occupancy sampler and its SQLite history.

use crate::error::{Error, Result, Status, c_string, check, cstr_to_string, dur_ns, ns_time, time_ns};
use crate::job::panic_message;
use crate::registry::{Registry, RegistryInner};
use lane_sys as sys;
use std::ffi::{CString, c_char, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

type SinkFn = dyn Fn(&str, u32, u32, SystemTime) -> std::result::Result<(), String> + Send + Sync;
type PurgeFn = dyn Fn(SystemTime) -> std::result::Result<u64, String> + Send + Sync;

struct Sinks {
    sink: Option<Box<SinkFn>>,
    purger: Option<Box<PurgeFn>>,
}

/// A sampler's options: the SQLite history at a path, or a Rust sink.
#[derive(Default)]
pub struct SamplerOptions {
    interval: Duration,
    retention: Duration,
    purge_interval: Duration,
    sqlite_path: Option<String>,
    sinks: Option<Sinks>,
    clock: Option<crate::clock::ClockFn>,
}

impl SamplerOptions {
    /// Stamps samples and purge cutoffs (default: the real time).
    pub fn clock(mut self, f: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(f));
        self
    }
    /// Samples into the SQLite history at `path` (created if missing).
    pub fn sqlite(path: impl AsRef<Path>) -> SamplerOptions {
        SamplerOptions {
            sqlite_path: Some(path.as_ref().to_string_lossy().into_owned()),
            ..SamplerOptions::default()
        }
    }
    /// Samples into `sink(lane, running, queued, sampled_at)`; an `Err` is
    /// logged and the sampler goes on.
    pub fn sink(
        sink: impl Fn(&str, u32, u32, SystemTime) -> std::result::Result<(), String> + Send + Sync + 'static,
    ) -> SamplerOptions {
        SamplerOptions {
            sinks: Some(Sinks {
                sink: Some(Box::new(sink)),
                purger: None,
            }),
            ..SamplerOptions::default()
        }
    }
    /// With a sink: deletes rows sampled before the time given; returns how many.
    pub fn purger(
        mut self,
        f: impl Fn(SystemTime) -> std::result::Result<u64, String> + Send + Sync + 'static,
    ) -> Self {
        if let Some(s) = &mut self.sinks {
            s.purger = Some(Box::new(f));
        }
        self
    }
    /// Default 30 s.
    pub fn interval(mut self, d: Duration) -> Self {
        self.interval = d;
        self
    }
    /// Default 7 days.
    pub fn retention(mut self, d: Duration) -> Self {
        self.retention = d;
        self
    }
    /// Default 24 h.
    pub fn purge_interval(mut self, d: Duration) -> Self {
        self.purge_interval = d;
        self
    }
}

unsafe extern "C" fn sink_trampoline(lane: *const c_char, running: u32, queued: u32, at: i64, ud: *mut c_void) -> i32 {
    let _mark = crate::defer::InCallback::enter();
    // SAFETY: ud is the sampler's Sinks box, alive until lane_sampler_destroy
    // returned; lane is a valid C string during the call.
    let s = unsafe { &*(ud as *const Sinks) };
    // SAFETY: a valid C string (or NULL) for the duration of the call.
    let lane = unsafe { cstr_to_string(lane) };
    let Some(f) = &s.sink else { return 0 };
    let t = ns_time(at).unwrap_or(std::time::UNIX_EPOCH);
    match catch_unwind(AssertUnwindSafe(|| f(&lane, running, queued, t))) {
        Ok(Ok(())) => 0,
        Ok(Err(_)) => 1,
        Err(p) => {
            eprintln!("lane: sampler sink {}", panic_message(&*p));
            1
        }
    }
}

unsafe extern "C" fn purge_trampoline(older_than: i64, ud: *mut c_void) -> i64 {
    let _mark = crate::defer::InCallback::enter();
    // SAFETY: as in sink_trampoline.
    let s = unsafe { &*(ud as *const Sinks) };
    let Some(f) = &s.purger else { return 0 };
    let t = ns_time(older_than).unwrap_or(std::time::UNIX_EPOCH);
    match catch_unwind(AssertUnwindSafe(|| f(t))) {
        Ok(Ok(n)) => i64::try_from(n).unwrap_or(i64::MAX),
        Ok(Err(_)) => -1,
        Err(p) => {
            eprintln!("lane: sampler purger {}", panic_message(&*p));
            -1
        }
    }
}

/// Writes every lane's occupancy of a registry, on its own thread once started.
pub struct Sampler {
    raw: NonNull<sys::lane_sampler_t>,
    _sinks: Option<Box<Sinks>>,
    _clock: Option<Box<crate::clock::ClockFn>>,
    _registry: Arc<RegistryInner>,
}

// SAFETY: lane.h: a sampler is thread-safe; its closures are Send + Sync.
unsafe impl Send for Sampler {}
// SAFETY: as above; every method takes &self.
unsafe impl Sync for Sampler {}

impl Drop for Sampler {
    fn drop(&mut self) {
        // SAFETY: our handle; destroy stops and joins the thread, after
        // which no sink call can use the boxed closures.
        unsafe { sys::lane_sampler_destroy(self.raw.as_ptr()) };
    }
}

impl Sampler {
    /// A sampler of `reg`'s lanes, not yet started.
    pub fn new(reg: &Registry, opts: SamplerOptions) -> Result<Sampler> {
        let mut o = sys::lane_sampler_options_t::init();
        o.interval_ns = dur_ns(opts.interval);
        o.retention_ns = dur_ns(opts.retention);
        o.purge_interval_ns = dur_ns(opts.purge_interval);
        let path: Option<CString> = match &opts.sqlite_path {
            Some(p) => Some(c_string("sqlite path", p)?),
            None => None,
        };
        if let Some(p) = &path {
            o.sqlite_path = p.as_ptr();
        }
        let sinks = opts.sinks.map(Box::new);
        if let Some(s) = &sinks {
            o.sink = Some(sink_trampoline);
            if s.purger.is_some() {
                o.purger = Some(purge_trampoline);
            }
            o.sink_ud = &**s as *const Sinks as *mut c_void;
        }
        let clock = opts.clock.map(crate::clock::boxed);
        if let Some(c) = &clock {
            o.clock = Some(crate::clock::clock_trampoline);
            o.clock_ud = crate::clock::user_data(c);
        }
        let mut out = std::ptr::null_mut();
        // SAFETY: valid registry and options; the path is copied; sink_ud
        // and clock_ud outlive the sampler.
        check(unsafe { sys::lane_sampler_create(reg.inner.raw.as_ptr(), &o, &mut out) })?;
        let raw = NonNull::new(out).ok_or_else(|| Error::new(Status::Internal, "sampler_create gave NULL"))?;
        Ok(Sampler {
            raw,
            _sinks: sinks,
            _clock: clock,
            _registry: reg.inner.clone(),
        })
    }
    /// Starts the background thread (idempotent).
    pub fn start(&self) -> Result<()> {
        // SAFETY: a live sampler.
        check(unsafe { sys::lane_sampler_start(self.raw.as_ptr()) })
    }
    /// Stops and joins the thread (idempotent).
    pub fn stop(&self) -> Result<()> {
        // SAFETY: a live sampler.
        check(unsafe { sys::lane_sampler_stop(self.raw.as_ptr()) })
    }
    /// One sample of every lane, now, on this thread.
    pub fn sample_once(&self) -> Result<()> {
        // SAFETY: a live sampler.
        check(unsafe { sys::lane_sampler_sample_once(self.raw.as_ptr()) })
    }
    /// Purges rows older than now - retention, on this thread.
    pub fn purge_once(&self) -> Result<()> {
        // SAFETY: a live sampler.
        check(unsafe { sys::lane_sampler_purge_once(self.raw.as_ptr()) })
    }
}

/// One row of the SQLite history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub running: u32,
    pub queued: u32,
    pub sampled_at: SystemTime,
}

/// The rows of `lane` with `from <= sampled_at < to` in the SQLite history
/// at `path`, oldest first.
pub fn sqlite_query(path: impl AsRef<Path>, lane: &str, from: SystemTime, to: SystemTime) -> Result<Vec<Sample>> {
    crate::error::ensure_loaded()?;
    let cpath = c_string("sqlite path", &path.as_ref().to_string_lossy())?;
    let clane = c_string("lane name", lane)?;
    let (f, t) = (time_ns(from), time_ns(to));
    let mut cap = 0usize;
    loop {
        let mut rows = vec![sys::lane_sample_t::init(); cap.max(1)];
        let mut total = 0usize;
        // SAFETY: rows has cap (>= 1) initialised elements with struct_size set.
        let rc =
            unsafe { sys::lane_sqlite_query(cpath.as_ptr(), clane.as_ptr(), f, t, rows.as_mut_ptr(), cap, &mut total) };
        check(rc)?;
        if total <= cap {
            rows.truncate(total);
            return Ok(rows
                .iter()
                .map(|r| Sample {
                    running: r.running,
                    queued: r.queued,
                    sampled_at: ns_time(r.sampled_at_ns).unwrap_or(std::time::UNIX_EPOCH),
                })
                .collect());
        }
        cap = total + 16; // rows may be added between the calls
    }
}

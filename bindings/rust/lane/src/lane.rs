//! Lanes: options, the handle, submission, control and statistics.

use crate::error::{Error, Result, Status, c_string, check, cstr_to_string, dur_ns, ensure_loaded, ns_dur, ns_time};
use crate::job::{
    BlockedBy, Ctx, Job, JobBox, Outcome, Runner, Slot, Ticket, boxed_run, done_trampoline, run_trampoline,
};
use crate::registry::RegistryInner;
use lane_sys as sys;
use std::ffi::c_void;
use std::ptr::NonNull;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime};

/// The order a lane dispatches in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    /// FIFO for standalone lanes, fair share for registry lanes.
    #[default]
    Default,
    /// Arrival order.
    Fifo,
    /// Priority, then least slot-time per weight, FIFO per tenant.
    FairShare,
}

impl Policy {
    pub(crate) fn raw(self) -> sys::lane_policy_t {
        match self {
            Policy::Default => sys::LANE_POLICY_DEFAULT,
            Policy::Fifo => sys::LANE_POLICY_FIFO,
            Policy::FairShare => sys::LANE_POLICY_FAIR_SHARE,
        }
    }
}

/// A standalone lane's options (`lane_options_t`); unset fields keep the
/// header's defaults.
#[derive(Clone, Default)]
pub struct Options {
    raw: OptionsRaw,
    clock: Option<crate::clock::ClockFn>,
    cluster: Option<crate::Cluster>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("raw", &self.raw)
            .field("clock", &self.clock.is_some())
            .field("cluster", &self.cluster.is_some())
            .finish()
    }
}

#[derive(Debug, Clone, Default)]
struct OptionsRaw {
    max_concurrent: u32,
    policy: Policy,
    eta_window: u32,
    preemption_off: bool,
    preempt_min_runtime_ns: i64,
    preempt_overcommit: bool,
    max_queued: u32,
    eta_default_runtime_ns: i64,
    aging_ns: i64,
    fair_half_life_ns: i64,
    adaptive_min: u32,
    adaptive_max: u32,
    adaptive_cooldown_ns: i64,
}

impl Options {
    pub fn new() -> Options {
        Options::default()
    }
    /// Slots (default 1).
    pub fn max_concurrent(mut self, n: u32) -> Options {
        self.raw.max_concurrent = n;
        self
    }
    pub fn policy(mut self, p: Policy) -> Options {
        self.raw.policy = p;
        self
    }
    /// Completions kept for the ETA (default 16).
    pub fn eta_window(mut self, n: u32) -> Options {
        self.raw.eta_window = n;
        self
    }
    /// No preemption (it is on by default).
    pub fn no_preemption(mut self) -> Options {
        self.raw.preemption_off = true;
        self
    }
    /// A job runs at least this long before it may be preempted (default
    /// 30 s); `Duration::ZERO` = no guard.
    pub fn preempt_min_runtime(mut self, d: Duration) -> Options {
        self.raw.preempt_min_runtime_ns = if d.is_zero() { -1 } else { dur_ns(d) };
        self
    }
    /// A preempting job starts at once, above the cap, while its victim stops.
    pub fn preempt_overcommit(mut self) -> Options {
        self.raw.preempt_overcommit = true;
        self
    }
    /// At most n queued; more are refused with [`Status::QueueFull`].
    pub fn max_queued(mut self, n: u32) -> Options {
        self.raw.max_queued = n;
        self
    }
    /// The runtime the ETA assumes before any job finished (default 1 s).
    pub fn eta_default_runtime(mut self, d: Duration) -> Options {
        self.raw.eta_default_runtime_ns = dur_ns(d);
        self
    }
    /// The lane's clock (default: the real time), e.g. a fake one in tests.
    pub fn clock(mut self, f: impl Fn() -> SystemTime + Send + Sync + 'static) -> Options {
        self.clock = Some(Arc::new(f));
        self
    }
    /// +1 priority per `d` queued (off by default).
    pub fn aging(mut self, d: Duration) -> Options {
        self.raw.aging_ns = dur_ns(d);
        self
    }

    /// FAIR_SHARE usage memory: a tenant's past slot-time decays with this
    /// half-life, so a tenant that just used the lane heavily waits behind
    /// one that did not, for a while (default: forget a tenant once it has
    /// no live job).
    pub fn fair_half_life(mut self, d: Duration) -> Options {
        self.raw.fair_half_life_ns = dur_ns(d);
        self
    }

    /// Adaptive width (AIMD) between `min` and `max` slots (1 <= min <= max):
    /// an overloaded finish ([`Ctx::overloaded`](crate::Ctx::overloaded), or
    /// job code [`OVERLOADED`]) halves it, each width's worth of successes adds
    /// one. Out of range: [`Status::Invalid`] at create.
    pub fn adaptive(mut self, min: u32, max: u32) -> Options {
        self.raw.adaptive_min = min;
        self.raw.adaptive_max = max;
        self
    }
    /// With [`Options::adaptive`]: an overloaded finish also closes the lane
    /// to new grants this long.
    pub fn adaptive_cooldown(mut self, d: Duration) -> Options {
        self.raw.adaptive_cooldown_ns = dur_ns(d);
        self
    }
    /// Makes the lane a member of the lane of its name on the cluster's
    /// Redis (docs/cluster.md): it runs a job only on a slot granted there.
    /// The lane keeps the cluster connected until it is destroyed.
    pub fn cluster(mut self, c: &crate::Cluster) -> Options {
        self.cluster = Some(c.clone());
        self
    }

    fn to_raw(&self) -> sys::lane_options_t {
        let r = &self.raw;
        let mut o = sys::lane_options_t::init();
        o.max_concurrent = r.max_concurrent;
        o.policy = r.policy.raw();
        o.eta_window = r.eta_window;
        o.preemption_off = r.preemption_off as i32;
        o.preempt_min_runtime_ns = r.preempt_min_runtime_ns;
        o.preempt_overcommit = r.preempt_overcommit as i32;
        o.max_queued = r.max_queued;
        o.eta_default_runtime_ns = r.eta_default_runtime_ns;
        o.aging_ns = r.aging_ns;
        o.fair_half_life_ns = r.fair_half_life_ns;
        o.adaptive_min = r.adaptive_min;
        o.adaptive_max = r.adaptive_max;
        o.adaptive_cooldown_ns = r.adaptive_cooldown_ns;
        o
    }
}

/// How [`Lane::close`] treats what is queued and running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseMode {
    /// Refuse new jobs, run what is queued.
    Drain,
    /// Also end the queue (Closed) and cancel running jobs (cause Closed).
    Cancel,
}

/// Which jobs [`Lane::cancel`] may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelScope {
    /// Only a queued job (else [`Status::NotQueued`]).
    Queued,
    /// A queued job, or a running one's context (its outcome says Cancelled).
    QueuedOrRunning,
}

impl CancelScope {
    fn raw(self) -> u32 {
        match self {
            CancelScope::Queued => sys::LANE_CANCEL_QUEUED,
            CancelScope::QueuedOrRunning => sys::LANE_CANCEL_QUEUED | sys::LANE_CANCEL_RUNNING,
        }
    }
}

/// A lane's counters and recent timings (`lane_stats_t`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    pub name: String,
    pub max_concurrent: u32,
    pub running: u32,
    pub queued: u32,
    pub oldest_queued_at: Option<SystemTime>,
    pub throughput_1m: u32,
    pub submitted: u64,
    pub completed: u64,
    pub failed: u64,
    pub cancelled: u64,
    pub preempted: u64,
    pub timed_out: u64,
    pub closed: u64,
    pub refused: u64,
    pub wait_p50: Duration,
    pub wait_p99: Duration,
    pub run_p50: Duration,
    pub run_p99: Duration,
    pub paused: bool,
    pub cooldown_until: Option<SystemTime>,
    pub blocked_by: BlockedBy,
    pub preemptions: u64,
    pub eta_window: u32,
    pub mean_runtime: Duration,
    /// The cap in slots now: the adaptive width, else `max_concurrent`.
    pub width: u32,
    /// Slots held by running jobs (a job may hold several).
    pub slots_in_use: u32,
    /// Running jobs that gave their slots back and do not want them yet.
    pub released: u32,
    /// Running jobs waiting to get their slots back.
    pub reacquiring: u32,
    /// Jobs whose grant a rate limit delayed.
    pub rate_waits: u64,
    /// When the rate limits let the queue's front go (None: not held by them).
    pub rate_ready_at: Option<SystemTime>,
    /// Finished runs' cost: reported, else the estimate.
    pub cost_used: i64,
    /// Overloaded finishes (adaptive lanes).
    pub overloads: u64,
    /// Shared lanes ([`Options::cluster`]); all zero/false for a lane of one process.
    /// A member of the lane of its name on a cluster.
    pub shared: bool,
    /// Its Redis answered the last time it was asked.
    pub available: bool,
    /// Slots granted across every member, as of the last answer.
    pub global_running: u32,
    /// Slots the members wait for, as of the last answer.
    pub global_queued: u32,
    /// Grants whose lease ran out under this member.
    pub leases_lost: u64,
    /// Late releases the arbiter refused.
    pub releases_refused: u64,
}

/// What a rate limit counts ([`Lane::set_rate_limit`]); `REQUESTS | COST`
/// sets both alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateKinds(pub u32);

impl RateKinds {
    /// Grants: every start, and every reacquire.
    pub const REQUESTS: RateKinds = RateKinds(sys::LANE_RATE_REQUESTS);
    /// The jobs' cost ([`Job::cost`](crate::Job::cost), corrected by the real cost).
    pub const COST: RateKinds = RateKinds(sys::LANE_RATE_COST);
}

impl std::ops::BitOr for RateKinds {
    type Output = RateKinds;
    fn bitor(self, rhs: RateKinds) -> RateKinds {
        RateKinds(self.0 | rhs.0)
    }
}

/// The job code of a run whose provider said it is overloaded (HTTP 429).
pub const OVERLOADED: i32 = sys::LANE_JOB_OVERLOADED;

pub(crate) struct LaneInner {
    pub(crate) raw: NonNull<sys::lane_t>,
    /// Some: a registry's lane (the registry destroys it, and must outlive it).
    pub(crate) registry: Option<Arc<RegistryInner>>,
    /// The injected clock, kept alive until the lane is destroyed.
    pub(crate) clock: Option<Box<crate::clock::ClockFn>>,
    /// The cluster of a shared lane, kept connected until the lane is destroyed.
    pub(crate) cluster: Option<crate::Cluster>,
    #[cfg(feature = "tokio")]
    pub(crate) driver: Mutex<Option<Arc<crate::asyncio::Driver>>>,
}

// SAFETY: lane.h: a lane is thread-safe ("every function may be called from
// any thread at any time"); the pointer is only destroyed in Drop, when no
// other handle can use it.
unsafe impl Send for LaneInner {}
// SAFETY: as above; every method takes &self and calls thread-safe functions.
unsafe impl Sync for LaneInner {}

impl Drop for LaneInner {
    fn drop(&mut self) {
        if self.registry.is_none() {
            let raw = crate::defer::SendPtr(self.raw.as_ptr());
            // The clock must outlive the lane, wherever it is destroyed.
            let clock = self.clock.take();
            let cluster = self.cluster.take();
            crate::defer::run_outside_callbacks("lane", move || {
                let raw = raw;
                // SAFETY: a standalone lane this crate created; the last
                // handle is gone. Sessions hold a Lane, so none is left.
                unsafe { sys::lane_destroy(raw.0) };
                drop(clock);
                drop(cluster); // after the lane has left it
            });
        }
        #[cfg(feature = "tokio")]
        if let Some(d) = self.driver.get_mut().unwrap_or_else(|p| p.into_inner()).take() {
            d.stop();
        }
    }
}

/// A lane: a bounded, fair, priority-aware, preemptible job queue.
///
/// Cloning is cheap and gives another handle to the same lane; a standalone
/// lane is destroyed (close(Cancel), then waiting for every job) when its
/// last handle, session or async run is dropped. A registry's lane keeps
/// its registry alive instead.
#[derive(Clone)]
pub struct Lane {
    pub(crate) inner: Arc<LaneInner>,
}

impl std::fmt::Debug for Lane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lane").field("name", &self.name()).finish()
    }
}

impl Lane {
    /// A standalone lane called `name` (non-empty).
    pub fn new(name: &str, opts: Options) -> Result<Lane> {
        ensure_loaded()?;
        let cname = c_string("lane name", name)?;
        let mut raw_opts = opts.to_raw();
        let clock = opts.clock.clone().map(crate::clock::boxed);
        if let Some(c) = &clock {
            raw_opts.clock = Some(crate::clock::clock_trampoline);
            raw_opts.clock_ud = crate::clock::user_data(c);
        }
        if let Some(c) = &opts.cluster {
            raw_opts.cluster = c.inner.raw();
        }
        let mut out = std::ptr::null_mut();
        // SAFETY: valid C string, options struct and out pointer; lane_create copies them.
        check(unsafe { sys::lane_create(cname.as_ptr(), &raw_opts, &mut out) })?;
        let raw = NonNull::new(out).ok_or_else(|| Error::new(Status::Internal, "lane_create gave NULL"))?;
        let mut lane = Lane::with_clock(Lane::from_inner(raw, None), clock);
        if let Some(inner) = Arc::get_mut(&mut lane.inner) {
            inner.cluster = opts.cluster.clone();
        }
        Ok(lane)
    }

    fn with_clock(lane: Lane, clock: Option<Box<crate::clock::ClockFn>>) -> Lane {
        let mut lane = lane;
        // Just made: this is the only reference.
        if let Some(inner) = Arc::get_mut(&mut lane.inner) {
            inner.clock = clock;
        }
        lane
    }

    pub(crate) fn from_inner(raw: NonNull<sys::lane_t>, registry: Option<Arc<RegistryInner>>) -> Lane {
        Lane {
            inner: Arc::new(LaneInner {
                raw,
                registry,
                clock: None,
                cluster: None,
                #[cfg(feature = "tokio")]
                driver: Mutex::new(None),
            }),
        }
    }

    pub(crate) fn raw(&self) -> *mut sys::lane_t {
        self.inner.raw.as_ptr()
    }

    pub fn name(&self) -> String {
        // SAFETY: a live lane; its name lives as long as the lane.
        unsafe { cstr_to_string(sys::lane_name(self.raw())) }
    }

    fn submit_box(&self, job: &Job, jb: JobBox) -> Result<Ticket> {
        let parts = job.c_parts()?;
        let mut raw = job.raw(&parts);
        let ud = Box::into_raw(Box::new(jb));
        raw.run = Some(run_trampoline);
        raw.on_done = Some(done_trampoline);
        raw.user_data = ud as *mut c_void;
        let mut t = sys::lane_ticket_t::init();
        // SAFETY: the job's strings live until the call returns (liblane
        // copies them); ud stays valid until done_trampoline frees it.
        let rc = unsafe { sys::lane_submit(self.raw(), &raw, &mut t) };
        if rc != sys::LANE_OK {
            let err = Error::last(rc);
            // SAFETY: refused: no outcome will come, the box is still ours.
            drop(unsafe { Box::from_raw(ud) });
            return Err(if rc == sys::LANE_ERR_BUSY {
                err.with_ticket(Ticket::from_raw(&t))
            } else {
                err
            });
        }
        Ok(Ticket::from_raw(&t))
    }

    /// Submits a callback job: `f` runs on a library worker thread once the
    /// job gets a slot. `Err(e)` ends it JobFailed with `e.to_string()` in the
    /// outcome; a panic is caught and ends it JobFailed with its message.
    /// The outcome goes to [`Job::on_done`] if set.
    pub fn submit<F, E>(&self, job: Job, f: F) -> Result<Ticket>
    where
        F: FnMut(&Ctx<'_>) -> std::result::Result<(), E> + Send + 'static,
        E: std::fmt::Display,
    {
        let jb = JobBox::new(
            Runner::Own(Mutex::new(boxed_run(f))),
            String::new(),
            job.on_done.clone(),
        );
        self.submit_box(&job, jb)
    }

    /// Submits and waits for the outcome (`timeout` None = forever). With a
    /// free slot `f` runs inline on this thread. `Err` only when the job was
    /// refused (busy, duplicate, queue full, closed, deadlock, bad input);
    /// an accepted job's failure is in the outcome ([`Outcome::result`]).
    pub fn submit_wait<F, E>(&self, job: Job, timeout: Option<Duration>, f: F) -> Result<Outcome>
    where
        F: FnMut(&Ctx<'_>) -> std::result::Result<(), E> + Send + 'static,
        E: std::fmt::Display,
    {
        let parts = job.c_parts()?;
        let mut raw = job.raw(&parts);
        let slot: Slot = Arc::new((Mutex::new(None), Condvar::new()));
        let mut jb = JobBox::new(
            Runner::Own(Mutex::new(boxed_run(f))),
            String::new(),
            job.on_done.clone(),
        );
        jb.slot = Some(slot.clone());
        let ud = Box::into_raw(Box::new(jb));
        raw.run = Some(run_trampoline);
        raw.on_done = Some(done_trampoline);
        raw.user_data = ud as *mut c_void;
        let mut o = sys::lane_outcome_t::init();
        // SAFETY: as in submit; the outcome struct is ours and sized.
        let rc = unsafe { sys::lane_submit_wait(self.raw(), &raw, timeout.map_or(-1, dur_ns), &mut o) };
        let msg = crate::error::last_error_message();
        let mut got = slot.0.lock().unwrap_or_else(|p| p.into_inner());
        if got.is_none() && o.job_token == 0 {
            // Refused: on_done never ran and never will; the box is ours.
            drop(got);
            // SAFETY: see above.
            drop(unsafe { Box::from_raw(ud) });
            return Err(Error::new(Status::from_raw(rc), msg));
        }
        // Accepted: the one outcome is delivered through on_done.
        while got.is_none() {
            got = slot.1.wait(got).unwrap_or_else(|p| p.into_inner());
        }
        Ok(got.take().expect("outcome present"))
    }

    /// Removes a queued job by id (outcome Cancelled), or with
    /// `QueuedOrRunning` also cancels a running one's context.
    pub fn cancel(&self, id: &str, scope: CancelScope) -> Result<()> {
        let cid = c_string("job id", id)?;
        // SAFETY: valid lane and C string.
        check(unsafe { sys::lane_cancel(self.raw(), cid.as_ptr(), scope.raw()) })
    }

    /// [`Lane::cancel`] by a ticket's token: never reaches a later job reusing the id.
    pub fn cancel_token(&self, token: u64, scope: CancelScope) -> Result<()> {
        // SAFETY: valid lane.
        check(unsafe { sys::lane_cancel_token(self.raw(), token, scope.raw()) })
    }

    pub fn stats(&self) -> Result<Stats> {
        let mut s = sys::lane_stats_t::init();
        // SAFETY: valid lane and sized out struct.
        check(unsafe { sys::lane_stats(self.raw(), &mut s) })?;
        Ok(Stats {
            // SAFETY: the name lives as long as the lane.
            name: unsafe { cstr_to_string(s.name) },
            max_concurrent: s.max_concurrent,
            running: s.running,
            queued: s.queued,
            oldest_queued_at: ns_time(s.oldest_queued_at_ns),
            throughput_1m: s.throughput_1m,
            submitted: s.submitted,
            completed: s.completed,
            failed: s.failed,
            cancelled: s.cancelled,
            preempted: s.preempted,
            timed_out: s.timed_out,
            closed: s.closed,
            refused: s.refused,
            wait_p50: ns_dur(s.wait_p50_ns),
            wait_p99: ns_dur(s.wait_p99_ns),
            run_p50: ns_dur(s.run_p50_ns),
            run_p99: ns_dur(s.run_p99_ns),
            paused: s.paused != 0,
            cooldown_until: ns_time(s.cooldown_until_ns),
            blocked_by: BlockedBy::from_raw(s.blocked_by),
            preemptions: s.preemptions,
            eta_window: s.eta_window,
            mean_runtime: ns_dur(s.mean_runtime_ns),
            width: s.width,
            slots_in_use: s.slots_in_use,
            released: s.released,
            reacquiring: s.reacquiring,
            rate_waits: s.rate_waits,
            rate_ready_at: ns_time(s.rate_ready_at_ns),
            cost_used: s.cost_used,
            overloads: s.overloads,
            shared: s.shared != 0,
            available: s.available != 0,
            global_running: s.global_running,
            global_queued: s.global_queued,
            leases_lost: s.leases_lost,
            releases_refused: s.releases_refused,
        })
    }

    /// n >= 1. Raising dispatches queued work now; lowering lets in-flight jobs finish.
    pub fn set_max_concurrent(&self, n: u32) -> Result<()> {
        // SAFETY: valid lane.
        check(unsafe { sys::lane_set_max_concurrent(self.raw(), n) })
    }
    /// Preemption on or off; `min_runtime` before a job may be preempted (ZERO = none).
    pub fn set_preemption(&self, enabled: bool, min_runtime: Duration) -> Result<()> {
        // SAFETY: valid lane.
        check(unsafe { sys::lane_set_preemption(self.raw(), enabled as i32, dur_ns(min_runtime)) })
    }
    pub fn set_eta_window(&self, n: u32) -> Result<()> {
        // SAFETY: valid lane.
        check(unsafe { sys::lane_set_eta_window(self.raw(), n) })
    }
    /// FAIR_SHARE: a tenant's share is proportional to its weight (>= 1).
    pub fn set_tenant_weight(&self, tenant: &str, weight: u32) -> Result<()> {
        let t = c_string("tenant", tenant)?;
        // SAFETY: valid lane and C string.
        check(unsafe { sys::lane_set_tenant_weight(self.raw(), t.as_ptr(), weight) })
    }
    /// A GCRA rate limit: `amount` units per `per`, up to `burst` at once
    /// (< 1 -> 1); `amount` 0 turns the kinds off. A job the limits hold back
    /// waits at the front ([`BlockedBy::Rate`]) with an ETA that includes the
    /// wait. Setting a limit again starts a fresh bucket.
    pub fn set_rate_limit(&self, kinds: RateKinds, amount: i64, per: Duration, burst: i64) -> Result<()> {
        // SAFETY: valid lane.
        check(unsafe { sys::lane_set_rate_limit(self.raw(), kinds.0, amount, dur_ns(per), burst) })
    }
    /// At most `max_running` of the tenant's jobs run at once (0 removes the
    /// limit); its other jobs wait ([`BlockedBy::TenantLimit`]) without
    /// holding up other tenants.
    pub fn set_tenant_limit(&self, tenant: &str, max_running: u32) -> Result<()> {
        let t = c_string("tenant", tenant)?;
        // SAFETY: valid lane and C string.
        check(unsafe { sys::lane_set_tenant_limit(self.raw(), t.as_ptr(), max_running) })
    }
    /// The tenant's running jobs, counted for a tenant with a limit (else 0).
    pub fn tenant_running(&self, tenant: &str) -> Result<u32> {
        let t = c_string("tenant", tenant)?;
        let mut n = 0u32;
        // SAFETY: valid lane, C string and out pointer.
        check(unsafe { sys::lane_tenant_running(self.raw(), t.as_ptr(), &mut n) })?;
        Ok(n)
    }
    pub fn pause(&self) -> Result<()> {
        // SAFETY: valid lane.
        check(unsafe { sys::lane_pause(self.raw()) })
    }
    pub fn resume(&self) -> Result<()> {
        // SAFETY: valid lane.
        check(unsafe { sys::lane_resume(self.raw()) })
    }
    /// Dispatch nothing new for `d` (ZERO ends a cooldown).
    pub fn cooldown(&self, d: Duration) -> Result<()> {
        // SAFETY: valid lane.
        check(unsafe { sys::lane_cooldown(self.raw(), dur_ns(d)) })
    }
    pub fn close(&self, mode: CloseMode) -> Result<()> {
        let m = match mode {
            CloseMode::Drain => sys::LANE_CLOSE_DRAIN,
            CloseMode::Cancel => sys::LANE_CLOSE_CANCEL,
        };
        // SAFETY: valid lane.
        check(unsafe { sys::lane_close(self.raw(), m) })
    }
    /// Waits until nothing runs or waits (None = forever); Timeout if not.
    /// Blocks the thread: in async code call it from `spawn_blocking`.
    pub fn wait_idle(&self, timeout: Option<Duration>) -> Result<()> {
        // SAFETY: valid lane.
        check(unsafe { sys::lane_wait_idle(self.raw(), timeout.map_or(-1, dur_ns)) })
    }
}

//! Jobs: the builder, what a submission returns (Ticket), what a job ends
//! with (Outcome), the context a running callback job sees (Ctx), and the
//! `extern "C"` trampolines that carry Rust closures through liblane.

use crate::error::{Error, Result, Status, c_string, cstr_to_string, dur_ns, ns_dur, ns_time};
use lane_sys as sys;
use std::ffi::{CString, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime};

/// A job's outcome hook ([`Job::on_done`]).
pub(crate) type OnDone = Arc<dyn Fn(&Outcome) + Send + Sync>;

/// What a callback job's `Err` returns to liblane as its job code.
pub const JOB_CODE_ERROR: i32 = 1;
/// What a callback job that panicked returns to liblane as its job code.
pub const JOB_CODE_PANIC: i32 = 101;

/// A job's description: id, tenant, priority, flags and time limits.
///
/// ```
/// use std::time::Duration;
/// let job = lane::Job::new("alice-1").tenant("alice").priority(5).preemptible()
///     .max_wait(Duration::from_secs(2));
/// assert_eq!(job.id(), "alice-1");
/// ```
#[derive(Clone, Default)]
pub struct Job {
    pub(crate) id: String,
    pub(crate) tenant: Option<String>,
    pub(crate) priority: i32,
    pub(crate) flags: u32,
    pub(crate) max_wait: Option<Duration>,
    pub(crate) queue_timeout: Option<Duration>,
    pub(crate) cost: i64,
    pub(crate) slots: u32,
    pub(crate) run_timeout: Option<Duration>,
    pub(crate) on_done: Option<OnDone>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("id", &self.id)
            .field("tenant", &self.tenant)
            .field("priority", &self.priority)
            .field("flags", &self.flags)
            .field("max_wait", &self.max_wait)
            .field("queue_timeout", &self.queue_timeout)
            .field("cost", &self.cost)
            .field("slots", &self.slots)
            .field("run_timeout", &self.run_timeout)
            .finish()
    }
}

impl Job {
    /// A job called `id` (required, non-empty, unique among the lane's live jobs).
    pub fn new(id: impl Into<String>) -> Job {
        Job {
            id: id.into(),
            ..Job::default()
        }
    }
    /// The fair-share key (default "").
    pub fn tenant(mut self, tenant: impl Into<String>) -> Job {
        self.tenant = Some(tenant.into());
        self
    }
    /// Higher is more important (default 0).
    pub fn priority(mut self, p: i32) -> Job {
        self.priority = p;
        self
    }
    /// A higher-priority job may preempt this one (its cause: [`Status::Preempted`]).
    pub fn preemptible(mut self) -> Job {
        self.flags |= sys::LANE_JOB_PREEMPTIBLE;
        self
    }
    /// Preempted, the job goes back to the queue instead of ending (and
    /// runs again: its closure is `FnMut`).
    pub fn requeue_on_preempt(mut self) -> Job {
        self.flags |= sys::LANE_JOB_PREEMPTIBLE | sys::LANE_JOB_REQUEUE_ON_PREEMPT;
        self
    }
    /// Sessions: the run may receive STEER messages.
    pub fn steerable(mut self) -> Job {
        self.flags |= sys::LANE_JOB_STEERABLE;
        self
    }
    /// Refuse with [`Status::Busy`] (and the ticket) if the ETA exceeds `d`.
    pub fn max_wait(mut self, d: Duration) -> Job {
        self.max_wait = Some(d);
        self
    }
    /// Still queued after `d`: the job ends [`Status::Timeout`].
    /// What the job is expected to cost, in the unit of the lane's cost rate
    /// limit (tokens, cents); 0 -> 1. The run may report the real cost
    /// ([`Ctx::set_cost`]). Negative: [`Status::Invalid`] at submit.
    pub fn cost(mut self, cost: i64) -> Job {
        self.cost = cost;
        self
    }
    /// Slots the job holds while it runs (0 -> 1); a lane's cap counts slots.
    pub fn slots(mut self, n: u32) -> Job {
        self.slots = n;
        self
    }
    /// A run still going after `d` is cancelled with [`Status::Timeout`] and
    /// ends with it when it returns.
    pub fn run_timeout(mut self, d: Duration) -> Job {
        self.run_timeout = Some(d);
        self
    }
    pub fn queue_timeout(mut self, d: Duration) -> Job {
        self.queue_timeout = Some(d);
        self
    }
    /// Called once with the job's outcome, on whichever thread ended it.
    /// A panic in it is caught and printed, never passed to liblane.
    pub fn on_done(mut self, f: impl Fn(&Outcome) + Send + Sync + 'static) -> Job {
        self.on_done = Some(Arc::new(f));
        self
    }
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The C strings, checked: an id or tenant with a NUL byte is refused.
    pub(crate) fn c_parts(&self) -> Result<(CString, Option<CString>)> {
        let id = c_string("job id", &self.id)?;
        let tenant = match &self.tenant {
            Some(t) => Some(c_string("tenant", t)?),
            None => None,
        };
        Ok((id, tenant))
    }

    /// The C description; the pointers borrow `parts`.
    pub(crate) fn raw(&self, parts: &(CString, Option<CString>)) -> sys::lane_job_t {
        let mut j = sys::lane_job_t::init();
        j.id = parts.0.as_ptr();
        j.tenant = parts.1.as_ref().map_or(std::ptr::null(), |t| t.as_ptr());
        j.priority = self.priority;
        j.flags = self.flags;
        j.max_wait_ns = self.max_wait.map_or(0, |d| dur_ns(d).max(1));
        j.queue_timeout_ns = self.queue_timeout.map_or(0, |d| dur_ns(d).max(1));
        j.cost = self.cost;
        j.slots = self.slots;
        j.run_timeout_ns = self.run_timeout.map_or(0, |d| dur_ns(d).max(1));
        j
    }
}

/// Why a job (or the head of the queue) waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockedBy {
    None,
    Full,
    Paused,
    Cooldown,
    Priority,
    Tenant,
    /// The lane's request or cost rate limit.
    Rate,
    /// Its tenant already runs its limit of jobs.
    TenantLimit,
    Unknown(i32),
}

impl BlockedBy {
    pub(crate) fn from_raw(v: sys::lane_blocked_by_t) -> BlockedBy {
        match v {
            sys::LANE_BLOCKED_NONE => BlockedBy::None,
            sys::LANE_BLOCKED_FULL => BlockedBy::Full,
            sys::LANE_BLOCKED_PAUSED => BlockedBy::Paused,
            sys::LANE_BLOCKED_COOLDOWN => BlockedBy::Cooldown,
            sys::LANE_BLOCKED_PRIORITY => BlockedBy::Priority,
            sys::LANE_BLOCKED_TENANT => BlockedBy::Tenant,
            sys::LANE_BLOCKED_RATE => BlockedBy::Rate,
            sys::LANE_BLOCKED_TENANT_LIMIT => BlockedBy::TenantLimit,
            v => BlockedBy::Unknown(v),
        }
    }
}

/// What an accepted submission got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    /// 0 = dispatched now; else the 1-based place in the policy's order.
    pub position: u32,
    /// Estimated wait until dispatch.
    pub eta: Duration,
    /// The job's token: cancel by it ([`crate::Lane::cancel_token`]) to never
    /// reach a later job that reuses the id.
    pub token: u64,
    pub blocked_by: BlockedBy,
}

impl Ticket {
    pub(crate) fn from_raw(t: &sys::lane_ticket_t) -> Ticket {
        Ticket {
            position: t.position.max(0) as u32,
            eta: ns_dur(t.eta_ns),
            token: t.job_token,
            blocked_by: BlockedBy::from_raw(t.blocked_by),
        }
    }
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Ok, JobFailed, Cancelled, Preempted, Closed or Timeout.
    pub status: Status,
    /// What the job returned (0, [`JOB_CODE_ERROR`], [`JOB_CODE_PANIC`], or a host-run job's code).
    pub job_code: i32,
    /// The job's `Err` or panic message, when it was a Rust closure that failed.
    pub error: Option<String>,
    pub job_id: String,
    pub lane: String,
    pub token: u64,
    pub enqueued_at: Option<SystemTime>,
    pub started_at: Option<SystemTime>,
    pub finished_at: Option<SystemTime>,
}

impl Outcome {
    /// # Safety
    /// `o` points to a valid outcome whose strings are valid (inside on_done).
    pub(crate) unsafe fn from_raw(o: &sys::lane_outcome_t, error: Option<String>) -> Outcome {
        Outcome {
            status: Status::from_raw(o.status),
            job_code: o.job_code,
            error,
            // SAFETY: the caller guarantees the outcome's strings are valid now.
            job_id: unsafe { cstr_to_string(o.job_id) },
            // SAFETY: as above.
            lane: unsafe { cstr_to_string(o.lane) },
            token: o.job_token,
            enqueued_at: ns_time(o.enqueued_at_ns),
            started_at: ns_time(o.started_at_ns),
            finished_at: ns_time(o.finished_at_ns),
        }
    }

    pub fn is_ok(&self) -> bool {
        self.status == Status::Ok
    }

    /// `Ok(())` for a success, else the status with the job's message.
    pub fn result(&self) -> Result<()> {
        if self.is_ok() {
            return Ok(());
        }
        let msg = match &self.error {
            Some(e) => format!("job {:?}: {e}", self.job_id),
            None => format!("job {:?} ended {} (code {})", self.job_id, self.status, self.job_code),
        };
        Err(Error::new(self.status, msg))
    }

    /// How long it waited in the queue, if it started.
    pub fn waited(&self) -> Option<Duration> {
        Some(self.started_at?.duration_since(self.enqueued_at?).unwrap_or_default())
    }
}

/// One message merged into a session run (or the job itself outside sessions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchItem {
    pub id: String,
    /// The message's text (the `text` of [`crate::Session::enqueue`]); empty for a plain job.
    pub text: String,
}

/// A running callback job's view of itself. Valid only inside the closure.
pub struct Ctx<'a> {
    raw: *mut sys::lane_ctx_t,
    _life: std::marker::PhantomData<&'a mut sys::lane_ctx_t>,
}

impl Ctx<'_> {
    /// True once cancel, preemption, close or timeout was requested.
    pub fn is_cancelled(&self) -> bool {
        // SAFETY: raw is the live context of the run this Ctx was made for.
        unsafe { sys::lane_ctx_cancelled(self.raw) != 0 }
    }
    /// None while running on, else why it should stop
    /// (Cancelled, Preempted, Closed or Timeout).
    pub fn cause(&self) -> Option<Status> {
        // SAFETY: as above.
        match unsafe { sys::lane_ctx_cause(self.raw) } {
            sys::LANE_OK => None,
            s => Some(Status::from_raw(s)),
        }
    }
    /// Sleeps until cancelled (Some(cause)) or `timeout` passes (None);
    /// `None` for timeout waits until cancelled.
    pub fn wait(&self, timeout: Option<Duration>) -> Option<Status> {
        let ns = timeout.map_or(-1, dur_ns);
        // SAFETY: as above.
        match unsafe { sys::lane_ctx_wait(self.raw, ns) } {
            sys::LANE_ERR_TIMEOUT if !self.is_cancelled() => None,
            s => Some(Status::from_raw(s)),
        }
    }
    /// Reports the run's real cost so far (> 0): it corrects the lane's cost
    /// rate limit and is what [`Stats::cost_used`](crate::Stats) counts.
    pub fn set_cost(&self, cost: i64) -> Result<(), crate::Error> {
        // SAFETY: as above.
        crate::error::check(unsafe { sys::lane_ctx_set_cost(self.raw, cost) })
    }
    /// A shared lane's run: the fencing number of its grant, which grows
    /// with every grant of the lane in every process (0 on a lane of one
    /// process, or on a fallback slot). Pass it to what the job writes.
    pub fn fence(&self) -> u64 {
        // SAFETY: as above.
        unsafe { sys::lane_ctx_fence(self.raw) }
    }
    /// Marks the run as having met an overloaded provider (HTTP 429): when
    /// it ends, an adaptive lane halves its width. The outcome is unchanged.
    pub fn overloaded(&self) -> Result<(), crate::Error> {
        // SAFETY: as above.
        crate::error::check(unsafe { sys::lane_ctx_overloaded(self.raw) })
    }
    /// Gives the run's slots back while it waits for something outside the
    /// lane (a tool, a human); it keeps running and gets one outcome as usual.
    pub fn release(&self) -> Result<(), crate::Error> {
        // SAFETY: as above.
        crate::error::check(unsafe { sys::lane_ctx_release(self.raw) })
    }
    /// Takes the released slots again: Ok once granted; the cancel cause if
    /// the run was asked to stop meanwhile; [`Status::Timeout`] after
    /// `timeout` (None: no limit), the run then released again.
    pub fn reacquire(&self, timeout: Option<Duration>) -> Result<(), crate::Error> {
        let ns = timeout.map_or(-1, dur_ns);
        // SAFETY: as above.
        crate::error::check(unsafe { sys::lane_ctx_reacquire(self.raw, ns) })
    }
    /// The lane's job id (a session run's is `"<key>#<n>"`).
    pub fn job_id(&self) -> String {
        // SAFETY: the id lives as long as the run.
        unsafe { cstr_to_string(sys::lane_ctx_job_id(self.raw)) }
    }
    /// The name of the lane it runs in.
    pub fn lane_name(&self) -> String {
        // SAFETY: the ctx's lane outlives the run; its name lives as long as the lane.
        unsafe { cstr_to_string(sys::lane_name(sys::lane_ctx_lane(self.raw))) }
    }
    /// The messages merged into this run, oldest first (a plain job: itself).
    pub fn batch(&self) -> Vec<BatchItem> {
        // SAFETY: as above.
        let n = unsafe { sys::lane_ctx_batch_count(self.raw) };
        (0..n)
            .filter_map(|i| {
                let mut id = std::ptr::null();
                let mut ud = std::ptr::null_mut();
                // SAFETY: i < count; id lives until the run ends and is copied.
                let rc = unsafe { sys::lane_ctx_batch_item(self.raw, i, &mut id, &mut ud) };
                (rc == sys::LANE_OK).then(|| BatchItem {
                    // SAFETY: the id is NULL or lives until the run ends.
                    id: unsafe { cstr_to_string(id) },
                    // SAFETY: every job this crate submits carries a JobBox.
                    text: unsafe { JobBox::text_of(ud) },
                })
            })
            .collect()
    }
    /// STEER: the next message delivered into this run's mailbox, if any.
    /// A message taken gets this run's outcome.
    pub fn next_message(&self) -> Option<BatchItem> {
        let mut id = std::ptr::null();
        let mut ud = std::ptr::null_mut();
        // SAFETY: as above; the id is copied at once.
        let got = unsafe { sys::lane_ctx_next_message(self.raw, &mut id, &mut ud) };
        (got == 1).then(|| BatchItem {
            // SAFETY: the id is NULL or lives until the run ends.
            id: unsafe { cstr_to_string(id) },
            // SAFETY: the message is one of this crate's JobBoxes.
            text: unsafe { JobBox::text_of(ud) },
        })
    }
    /// SUMMARIZE: ids of the messages dropped since the previous run started.
    pub fn dropped_ids(&self) -> Vec<String> {
        // SAFETY: as above.
        let n = unsafe { sys::lane_ctx_dropped_count(self.raw) };
        (0..n)
            .map(|i| {
                // SAFETY: a live ctx; i < count; the id (or NULL) is copied at once.
                unsafe { cstr_to_string(sys::lane_ctx_dropped_id(self.raw, i)) }
            })
            .collect()
    }
}

pub(crate) type RunFn = Box<dyn FnMut(&Ctx<'_>) -> std::result::Result<(), String> + Send>;
pub(crate) type SharedRunFn = Arc<dyn Fn(&Ctx<'_>) -> std::result::Result<(), String> + Send + Sync>;

pub(crate) enum Runner {
    Own(Mutex<RunFn>),
    Shared(SharedRunFn),
    /// A host-run job: liblane never calls run.
    Host,
}

/// The outcome slot of submit_wait: filled by on_done, read by the waiter.
pub(crate) type Slot = Arc<(Mutex<Option<Outcome>>, Condvar)>;

/// What a job's user_data points to: the closure, its error message, the
/// on_done hook. Owned by liblane from acceptance to on_done, which frees it.
pub(crate) struct JobBox {
    pub(crate) run: Runner,
    pub(crate) text: String,
    pub(crate) error: Mutex<Option<String>>,
    pub(crate) on_done: Option<OnDone>,
    pub(crate) slot: Option<Slot>,
}

impl JobBox {
    pub(crate) fn new(run: Runner, text: String, on_done: Option<OnDone>) -> JobBox {
        JobBox {
            run,
            text,
            error: Mutex::new(None),
            on_done,
            slot: None,
        }
    }

    /// # Safety
    /// `ud` is NULL or a live JobBox of this crate.
    unsafe fn text_of(ud: *mut c_void) -> String {
        if ud.is_null() {
            return String::new();
        }
        // SAFETY: the caller guarantees a live JobBox (freed only in on_done,
        // after the run that sees it has returned).
        unsafe { &*(ud as *const JobBox) }.text.clone()
    }
}

pub(crate) fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        format!("panicked: {s}")
    } else if let Some(s) = p.downcast_ref::<String>() {
        format!("panicked: {s}")
    } else {
        "panicked".to_string()
    }
}

/// Wraps a user closure: its Err becomes a message.
pub(crate) fn boxed_run<F, E>(mut f: F) -> RunFn
where
    F: FnMut(&Ctx<'_>) -> std::result::Result<(), E> + Send + 'static,
    E: std::fmt::Display,
{
    Box::new(move |ctx| f(ctx).map_err(|e| e.to_string()))
}

/// `lane_run_fn`: runs the closure, catching a panic (it never unwinds into C).
pub(crate) unsafe extern "C" fn run_trampoline(ctx: *mut sys::lane_ctx_t, ud: *mut c_void) -> i32 {
    let _mark = crate::defer::InCallback::enter();
    // SAFETY: ud is the JobBox this crate gave the job; liblane keeps it
    // alive (it frees it only in on_done, after run has returned).
    let jb = unsafe { &*(ud as *const JobBox) };
    let c = Ctx {
        raw: ctx,
        _life: std::marker::PhantomData,
    };
    let result = catch_unwind(AssertUnwindSafe(|| match &jb.run {
        Runner::Own(f) => {
            let mut f = f.lock().unwrap_or_else(|p| p.into_inner());
            f(&c)
        }
        Runner::Shared(f) => f(&c),
        Runner::Host => Err("a host-run job has no run closure".to_string()),
    }));
    let (code, msg) = match result {
        Ok(Ok(())) => (0, None),
        Ok(Err(m)) => (JOB_CODE_ERROR, Some(m)),
        Err(p) => (JOB_CODE_PANIC, Some(panic_message(&*p))),
    };
    *jb.error.lock().unwrap_or_else(|p| p.into_inner()) = msg;
    code
}

/// `lane_done_fn`: frees the JobBox and hands the outcome on.
pub(crate) unsafe extern "C" fn done_trampoline(o: *const sys::lane_outcome_t, ud: *mut c_void) {
    let _mark = crate::defer::InCallback::enter();
    // SAFETY: on_done is called exactly once per accepted job; the JobBox was
    // leaked with Box::into_raw at submission and is reclaimed only here.
    let jb = unsafe { Box::from_raw(ud as *mut JobBox) };
    let err = jb.error.lock().unwrap_or_else(|p| p.into_inner()).take();
    // SAFETY: o and its strings are valid during this callback.
    let outcome = unsafe { Outcome::from_raw(&*o, err) };
    deliver(&jb, outcome);
}

pub(crate) fn deliver(jb: &JobBox, outcome: Outcome) {
    if let Some(f) = &jb.on_done {
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| f(&outcome))) {
            eprintln!("lane: on_done of job {:?} {}", outcome.job_id, panic_message(&*p));
        }
    }
    if let Some(slot) = &jb.slot {
        *slot.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome);
        slot.1.notify_all();
    }
}

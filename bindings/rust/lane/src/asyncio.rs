//! Host-run jobs as Rust futures (feature `tokio`).
//!
//! Each [`Lane`] that runs async jobs owns one port and one tokio task that
//! drains it: the port's eventfd is registered with [`AsyncFd`], and the
//! task only records what the events say (GRANT: the job may start; CANCEL:
//! its cause; DONE: free the job's state) and wakes the job's future. The
//! job's own future is polled only by whoever awaits the [`RunHandle`]; no
//! library thread ever polls a Rust future (on_done, called on a library
//! thread, only stores the outcome and wakes a waker).

use crate::error::{Error, Result, Status, check, cstr_to_string};
use crate::job::{BatchItem, JOB_CODE_ERROR, JOB_CODE_PANIC, Job, OnDone, Outcome, Ticket, panic_message};
use crate::lane::Lane;
use lane_sys as sys;
use std::ffi::c_void;
use std::future::Future;
use std::os::fd::{AsRawFd, RawFd};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::sync::Notify;

/// The job code of an async job whose [`RunHandle`] was dropped while it ran.
pub const JOB_CODE_ABANDONED: i32 = 2;

const POLL_BATCH: usize = 64;

#[derive(Default)]
struct JobState {
    granted: bool,
    // A shared lane's grant: its fencing number, read at the GRANT (0: none).
    fence: u64,
    handle_gone: bool,
    finished: bool,
    error: Option<String>,
    outcome: Option<Outcome>,
    waker: Option<Waker>,
}

/// One async job's shared state. One reference belongs to liblane (the
/// job's user_data) from acceptance to its DONE event.
struct AsyncJob {
    st: Mutex<JobState>,
    cause: AtomicI32,
    cancelled: Notify,
    hook: Option<OnDone>,
    /// A session message: its text, and the handler that runs a run it
    /// heads (spawned by the draining task at GRANT).
    session: Option<SessionPart>,
}

pub(crate) type AsyncHandler =
    Arc<dyn Fn(AsyncCtx) -> Pin<Box<dyn Future<Output = std::result::Result<(), String>> + Send>> + Send + Sync>;

struct SessionPart {
    text: String,
    handler: AsyncHandler,
}

/// A GRANT's ctx, valid until its job is finished (checked under the job's lock).
#[derive(Clone, Copy)]
struct CtxPtr(*mut sys::lane_ctx_t);
// SAFETY: lane.h allows lane_ctx_* from any thread while the ctx is valid;
// every use checks, under the job's lock, that the job is not finished.
unsafe impl Send for CtxPtr {}
// SAFETY: as above.
unsafe impl Sync for CtxPtr {}

impl AsyncJob {
    fn lock(&self) -> std::sync::MutexGuard<'_, JobState> {
        self.st.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn wake(st: &mut JobState) {
        if let Some(w) = st.waker.take() {
            w.wake();
        }
    }
}

/// The port and what the draining task and the lane share.
pub(crate) struct Port {
    raw: NonNull<sys::lane_port_t>,
    alive: AtomicBool,
    stop: Notify,
}

// SAFETY: lane.h: a port is thread-safe; it is destroyed only in Drop.
unsafe impl Send for Port {}
// SAFETY: as above.
unsafe impl Sync for Port {}

impl Port {
    fn poll(&self, buf: &mut [sys::lane_event_t]) -> usize {
        // SAFETY: buf holds buf.len() initialised events with struct_size set.
        let n = unsafe { sys::lane_port_poll(self.raw.as_ptr(), buf.as_mut_ptr(), buf.len() as i32, 0) };
        n.max(0) as usize
    }

    /// `in_task`: called by the draining task (a session run may be spawned);
    /// else from Drop, where a granted session run is given back at once.
    fn handle(ev: &sys::lane_event_t, in_task: bool) {
        if ev.user_data.is_null() {
            return;
        }
        // SAFETY: every job naming this port carries an Arc<AsyncJob> as
        // user_data, released only by its DONE event, the job's last.
        let job = unsafe { &*(ev.user_data as *const AsyncJob) };
        match ev.kind {
            sys::LANE_EVENT_GRANT => {
                let mut st = job.lock();
                st.granted = true;
                // SAFETY: the ctx of a GRANT is valid until the job finishes,
                // which cannot happen before this event is handled.
                st.fence = unsafe { sys::lane_ctx_fence(ev.ctx) };
                if let Some(sp) = &job.session {
                    drop(st);
                    if in_task {
                        // SAFETY: the ctx of a GRANT is valid until finish;
                        // the batch's user_data are this crate's AsyncJobs.
                        let (batch, dropped) = unsafe { read_batch(ev.ctx) };
                        // SAFETY: ev.user_data is a live AsyncJob (see above);
                        // this Arc is the run's own reference.
                        let me = unsafe {
                            Arc::increment_strong_count(ev.user_data as *const AsyncJob);
                            Arc::from_raw(ev.user_data as *const AsyncJob)
                        };
                        let ctx = AsyncCtx {
                            token: CancelToken { job: me.clone() },
                            job_id: batch.first().map(|b| b.id.clone()).unwrap_or_default(),
                            batch,
                            dropped,
                            ctx: Some(CtxPtr(ev.ctx)),
                        };
                        let fut = (sp.handler)(ctx);
                        let run = SessionRun {
                            job: me,
                            lane: crate::defer::SendPtr(ev.lane),
                            token: ev.job_token,
                        };
                        tokio::spawn(async move {
                            let r = AssertUnwindSafeFut(fut).await;
                            let (code, msg) = match r {
                                Ok(Ok(())) => (0, None),
                                Ok(Err(e)) => (JOB_CODE_ERROR, Some(e)),
                                Err(p) => (JOB_CODE_PANIC, Some(p)),
                            };
                            run.finish(code, msg);
                        });
                    } else {
                        job.lock().finished = true;
                        // SAFETY: the event's lane is alive while its job is.
                        unsafe { sys::lane_job_finish(ev.lane, ev.job_token, JOB_CODE_ABANDONED) };
                    }
                    return;
                }
                if st.handle_gone && !st.finished {
                    // Nobody will run it: give the slot back.
                    st.finished = true;
                    drop(st);
                    // SAFETY: the event's lane is alive while its job is.
                    unsafe { sys::lane_job_finish(ev.lane, ev.job_token, JOB_CODE_ABANDONED) };
                } else {
                    AsyncJob::wake(&mut st);
                }
            }
            sys::LANE_EVENT_CANCEL => {
                let cause = if ev.status == sys::LANE_OK {
                    sys::LANE_ERR_CANCELLED
                } else {
                    ev.status
                };
                let _ = job
                    .cause
                    .compare_exchange(0, cause, Ordering::AcqRel, Ordering::Acquire);
                job.cancelled.notify_waiters();
            }
            sys::LANE_EVENT_DONE => {
                // SAFETY: the reference handed to liblane at submission.
                drop(unsafe { Arc::from_raw(ev.user_data as *const AsyncJob) });
            }
            _ => {}
        }
    }
}

impl Drop for Port {
    fn drop(&mut self) {
        // Events still waiting: free the jobs whose DONE came, give back
        // slots granted to abandoned jobs.
        let mut buf = vec![sys::lane_event_t::init(); POLL_BATCH];
        loop {
            let n = self.poll(&mut buf);
            if n == 0 {
                break;
            }
            buf[..n].iter().for_each(|e| Port::handle(e, false));
        }
        // SAFETY: our port; later events for it are discarded by liblane.
        unsafe { sys::lane_port_destroy(self.raw.as_ptr()) };
    }
}

/// The drain task's event buffer.
struct EventBuf(Vec<sys::lane_event_t>);
// SAFETY: the events are plain data copied out of the port; their pointers
// (lane, user_data, ctx) are only used while an event is handled, within
// one poll of the task, never across an await.
unsafe impl Send for EventBuf {}

struct PortFd(RawFd);
impl AsRawFd for PortFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

pub(crate) struct Driver {
    port: Arc<Port>,
}

impl Driver {
    fn start() -> Result<Arc<Driver>> {
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::new(Status::Invalid, "Lane::run needs a tokio runtime: call it inside one"))?;
        let mut raw = std::ptr::null_mut();
        // SAFETY: valid out pointer.
        check(unsafe { sys::lane_port_create(&mut raw) })?;
        let port = Arc::new(Port {
            raw: NonNull::new(raw).ok_or_else(|| Error::new(Status::Internal, "lane_port_create gave NULL"))?,
            alive: AtomicBool::new(true),
            stop: Notify::new(),
        });
        // SAFETY: a live port; the fd lives as long as the port, which the
        // task's Arc keeps until after the AsyncFd is dropped.
        let fd = unsafe { sys::lane_port_fd(port.raw.as_ptr()) };
        let afd = {
            let _g = handle.enter();
            catch_unwind(|| {
                // SAFETY: I/O safety: the fd stays open while registered:
                // the task owns the AsyncFd and drops it before its Arc of
                // the port, whose Drop is what closes the fd.
                unsafe { AsyncFd::register_with_interest(PortFd(fd), Interest::READABLE) }
            })
            .map_err(|_| Error::new(Status::Invalid, "Lane::run needs a tokio runtime with IO enabled"))?
            .map_err(|e| Error::new(Status::Io, format!("registering the port's fd with tokio: {e}")))?
        };
        let task_port = port.clone();
        struct Alive(Arc<Port>);
        impl Drop for Alive {
            fn drop(&mut self) {
                self.0.alive.store(false, Ordering::Release);
                // Stopped, or its runtime shut down: events may still
                // come for jobs in flight. A plain thread takes them
                // (never polling a future: it gives back slots granted
                // to runs nobody will drive) until the port's last
                // other owner is gone, then the port's Drop drains it.
                let port = self.0.clone();
                let orphan = std::thread::Builder::new().name("lane-port".into()).spawn(move || {
                    let mut buf = vec![sys::lane_event_t::init(); POLL_BATCH];
                    while Arc::strong_count(&port) > 1 {
                        // SAFETY: buf holds POLL_BATCH initialised events.
                        let n = unsafe {
                            sys::lane_port_poll(port.raw.as_ptr(), buf.as_mut_ptr(), POLL_BATCH as i32, 20_000_000)
                        };
                        buf[..n.max(0) as usize].iter().for_each(|e| Port::handle(e, false));
                    }
                });
                if orphan.is_err() {
                    eprintln!("lane: no thread for a stopped port's late events");
                }
            }
        }
        // Made before the task so that a task dropped unpolled (its
        // runtime shut down at once) still hands the port on. Fields drop
        // in order: the fd is deregistered before the port can go.
        struct TaskState {
            afd: AsyncFd<PortFd>,
            alive: Alive,
        }
        let state = TaskState {
            afd,
            alive: Alive(task_port),
        };
        handle.spawn(async move {
            let state = state;
            let (afd, port) = (&state.afd, &state.alive.0);
            let mut buf = EventBuf(vec![sys::lane_event_t::init(); POLL_BATCH]);
            loop {
                tokio::select! {
                    biased;
                    _ = port.stop.notified() => break,
                    r = afd.readable() => {
                        let Ok(mut guard) = r else { break };
                        loop {
                            let n = port.poll(&mut buf.0);
                            if n == 0 {
                                // Edge-triggered: an event posted after this
                                // empty poll makes the fd readable again.
                                guard.clear_ready();
                                break;
                            }
                            buf.0[..n].iter().for_each(|e| Port::handle(e, true));
                        }
                    }
                }
            }
        });
        Ok(Arc::new(Driver { port }))
    }

    pub(crate) fn stop(&self) {
        self.port.stop.notify_one();
    }
}

unsafe extern "C" fn async_done_trampoline(o: *const sys::lane_outcome_t, ud: *mut c_void) {
    let _mark = crate::defer::InCallback::enter();
    // SAFETY: ud is the job's Arc<AsyncJob> (liblane's reference, released
    // later by the DONE event); o is valid during this call.
    let job = unsafe { &*(ud as *const AsyncJob) };
    let err = job.lock().error.take();
    // SAFETY: o and its strings are valid during this callback.
    let outcome = unsafe { Outcome::from_raw(&*o, err) };
    // The host's hook runs without the job's lock held.
    if let Some(h) = &job.hook {
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| h(&outcome))) {
            eprintln!("lane: on_done of job {:?} {}", outcome.job_id, panic_message(&*p));
        }
    }
    let mut st = job.lock();
    st.outcome = Some(outcome);
    AsyncJob::wake(&mut st);
}

/// What a running async job sees: its cancellation, like a cancellation
/// token that also says why (Cancelled, Preempted, Closed, Timeout).
#[derive(Clone)]
pub struct CancelToken {
    job: Arc<AsyncJob>,
}

impl CancelToken {
    pub fn is_cancelled(&self) -> bool {
        self.cause().is_some()
    }
    /// None while the job may run on, else why it should stop.
    pub fn cause(&self) -> Option<Status> {
        match self.job.cause.load(Ordering::Acquire) {
            0 => None,
            s => Some(Status::from_raw(s)),
        }
    }
    /// Completes with the cause once the job is asked to stop.
    pub async fn cancelled(&self) -> Status {
        loop {
            let n = self.job.cancelled.notified();
            tokio::pin!(n);
            n.as_mut().enable();
            if let Some(c) = self.cause() {
                return c;
            }
            n.await;
        }
    }
}

/// A granted session run on its tokio task: finished exactly once, by the
/// task when the future ends, or by Drop when the task is dropped unfinished
/// (its runtime shut down).
struct SessionRun {
    job: Arc<AsyncJob>,
    lane: crate::defer::SendPtr<sys::lane_t>,
    token: u64,
}

impl SessionRun {
    fn finish(&self, code: i32, error: Option<String>) {
        let mut st = self.job.lock();
        if st.finished {
            return;
        }
        st.finished = true;
        st.error = error;
        drop(st);
        // SAFETY: the session's lane outlives its runs, and the run is
        // finished once (the flag above).
        unsafe { sys::lane_job_finish(self.lane.0, self.token, code) };
    }
}

impl Drop for SessionRun {
    fn drop(&mut self) {
        self.finish(JOB_CODE_ABANDONED, None);
    }
}

/// Polls a boxed future, turning a panic into its message.
struct AssertUnwindSafeFut(Pin<Box<dyn Future<Output = std::result::Result<(), String>> + Send>>);

impl Future for AssertUnwindSafeFut {
    type Output = std::result::Result<std::result::Result<(), String>, String>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match catch_unwind(AssertUnwindSafe(|| self.0.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(r)) => Poll::Ready(Ok(r)),
            Err(p) => Poll::Ready(Err(panic_message(&*p))),
        }
    }
}

/// The batch and dropped ids of a GRANT's ctx.
///
/// # Safety
/// `ctx` is a valid GRANT ctx whose batch items' user_data are AsyncJobs.
unsafe fn read_batch(ctx: *mut sys::lane_ctx_t) -> (Vec<BatchItem>, Vec<String>) {
    if ctx.is_null() {
        return (Vec::new(), Vec::new());
    }
    // SAFETY: the caller guarantees a valid ctx.
    let n = unsafe { sys::lane_ctx_batch_count(ctx) };
    let mut batch = Vec::new();
    for i in 0..n {
        let mut id = std::ptr::null();
        let mut ud = std::ptr::null_mut();
        // SAFETY: i < count; id lives until the run ends and is copied.
        if unsafe { sys::lane_ctx_batch_item(ctx, i, &mut id, &mut ud) } == sys::LANE_OK {
            batch.push(BatchItem {
                // SAFETY: as above.
                id: unsafe { cstr_to_string(id) },
                // SAFETY: the caller guarantees AsyncJob user_data.
                text: unsafe { text_of(ud) },
            });
        }
    }
    // SAFETY: as above.
    let d = unsafe { sys::lane_ctx_dropped_count(ctx) };
    // SAFETY: as above; i < count.
    let dropped = (0..d)
        .map(|i| unsafe { cstr_to_string(sys::lane_ctx_dropped_id(ctx, i)) })
        .collect();
    (batch, dropped)
}

/// # Safety
/// `ud` is NULL or a live AsyncJob.
unsafe fn text_of(ud: *mut c_void) -> String {
    if ud.is_null() {
        return String::new();
    }
    // SAFETY: the caller guarantees a live AsyncJob (freed only at its DONE,
    // after the run that sees it has been finished).
    let j = unsafe { &*(ud as *const AsyncJob) };
    j.session.as_ref().map(|s| s.text.clone()).unwrap_or_default()
}

/// The context an async job's closure gets.
#[derive(Clone)]
pub struct AsyncCtx {
    token: CancelToken,
    job_id: String,
    batch: Vec<BatchItem>,
    dropped: Vec<String>,
    ctx: Option<CtxPtr>,
}

impl AsyncCtx {
    /// Session runs: the messages merged into this run, oldest first (a
    /// plain job: empty).
    pub fn batch(&self) -> &[BatchItem] {
        &self.batch
    }
    /// Session runs with SUMMARIZE: ids dropped since the previous run.
    pub fn dropped_ids(&self) -> &[String] {
        &self.dropped
    }
    /// Session runs with STEER: the next message delivered into this run's
    /// mailbox, if any (None too once the run has ended).
    pub fn next_message(&self) -> Option<BatchItem> {
        let ctx = self.ctx?;
        let st = self.token.job.lock();
        if st.finished {
            return None;
        }
        let mut id = std::ptr::null();
        let mut ud = std::ptr::null_mut();
        // SAFETY: not finished (checked under the lock that finish takes
        // first), so the GRANT ctx is valid.
        let got = unsafe { sys::lane_ctx_next_message(ctx.0, &mut id, &mut ud) };
        drop(st);
        (got == 1).then(|| BatchItem {
            // SAFETY: the id lives until the run ends; copied now.
            id: unsafe { cstr_to_string(id) },
            // SAFETY: mailbox messages of an async session are AsyncJobs.
            text: unsafe { text_of(ud) },
        })
    }
    pub fn job_id(&self) -> &str {
        &self.job_id
    }
    /// A shared lane's run: the fencing number of its grant (0 on a lane of
    /// one process, or on a fallback slot), as [`Ctx::fence`](crate::Ctx::fence).
    pub fn fence(&self) -> u64 {
        self.token.job.lock().fence
    }
    pub fn cancel_token(&self) -> CancelToken {
        self.token.clone()
    }
    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }
    pub fn cause(&self) -> Option<Status> {
        self.token.cause()
    }
    pub async fn cancelled(&self) -> Status {
        self.token.cancelled().await
    }
}

enum Stage<F, Fut> {
    Waiting(Option<F>),
    Running(Pin<Box<Fut>>),
    Finishing,
    Done,
}

/// The future of an async job's [`Outcome`], from [`Lane::run`].
///
/// The job's closure runs inside this future (it makes progress only while
/// the handle is awaited or polled). Dropping the handle before the job got
/// a slot withdraws it (outcome Cancelled); after, it drops the job's future
/// and ends the job Cancelled.
#[must_use = "the job runs only while its RunHandle is awaited"]
pub struct RunHandle<F, Fut> {
    lane: Lane,
    job: Arc<AsyncJob>,
    ticket: Ticket,
    id: String,
    stage: Stage<F, Fut>,
}

// The closure is moved out by value and never pinned; the job's future is
// pinned inside its own Box. So the handle itself may move freely.
impl<F, Fut> Unpin for RunHandle<F, Fut> {}

impl<F, Fut> RunHandle<F, Fut> {
    pub fn ticket(&self) -> &Ticket {
        &self.ticket
    }

    fn finish(&self, code: i32, error: Option<String>) {
        let mut st = self.job.lock();
        if st.finished {
            return;
        }
        st.finished = true;
        st.error = error;
        drop(st);
        // SAFETY: a live lane (we hold it) and our job's token.
        unsafe { sys::lane_job_finish(self.lane.raw(), self.ticket.token, code) };
    }
}

impl<F, Fut, E> Future for RunHandle<F, Fut>
where
    F: FnOnce(AsyncCtx) -> Fut,
    Fut: Future<Output = std::result::Result<(), E>>,
    E: std::fmt::Display,
{
    type Output = Outcome;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        let this = &mut *self;
        loop {
            match &mut this.stage {
                Stage::Waiting(f) => {
                    let mut st = this.job.lock();
                    if let Some(o) = st.outcome.take() {
                        drop(st);
                        this.stage = Stage::Done;
                        return Poll::Ready(o);
                    }
                    if !st.granted {
                        st.waker = Some(cx.waker().clone());
                        return Poll::Pending;
                    }
                    drop(st);
                    let f = f.take().expect("closure present until started");
                    let ctx = AsyncCtx {
                        token: CancelToken { job: this.job.clone() },
                        job_id: this.id.clone(),
                        batch: Vec::new(),
                        dropped: Vec::new(),
                        ctx: None,
                    };
                    match catch_unwind(AssertUnwindSafe(|| Box::pin(f(ctx)))) {
                        Ok(fut) => this.stage = Stage::Running(fut),
                        Err(p) => {
                            this.stage = Stage::Finishing;
                            this.finish(JOB_CODE_PANIC, Some(panic_message(&*p)));
                        }
                    }
                }
                Stage::Running(fut) => {
                    let r = catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx)));
                    let (code, msg) = match r {
                        Ok(Poll::Pending) => return Poll::Pending,
                        Ok(Poll::Ready(Ok(()))) => (0, None),
                        Ok(Poll::Ready(Err(e))) => (JOB_CODE_ERROR, Some(e.to_string())),
                        Err(p) => (JOB_CODE_PANIC, Some(panic_message(&*p))),
                    };
                    this.stage = Stage::Finishing; // drops the job's future first
                    this.finish(code, msg);
                }
                Stage::Finishing => {
                    let mut st = this.job.lock();
                    if let Some(o) = st.outcome.take() {
                        drop(st);
                        this.stage = Stage::Done;
                        return Poll::Ready(o);
                    }
                    st.waker = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                Stage::Done => panic!("RunHandle polled after it completed"),
            }
        }
    }
}

impl<F, Fut> Drop for RunHandle<F, Fut> {
    fn drop(&mut self) {
        let stage = std::mem::replace(&mut self.stage, Stage::Done);
        match stage {
            Stage::Done | Stage::Finishing => {}
            Stage::Waiting(_) => {
                let granted = {
                    let mut st = self.job.lock();
                    st.handle_gone = true;
                    if st.outcome.is_some() || st.finished {
                        return;
                    }
                    st.granted
                };
                if !granted {
                    // SAFETY: a live lane and our token.
                    let rc =
                        unsafe { sys::lane_cancel_token(self.lane.raw(), self.ticket.token, sys::LANE_CANCEL_QUEUED) };
                    if rc == sys::LANE_OK {
                        return; // withdrawn; its DONE frees the state
                    }
                }
                // Granted (perhaps not yet seen): stop and give back the slot.
                // SAFETY: as above.
                unsafe { sys::lane_cancel_token(self.lane.raw(), self.ticket.token, sys::LANE_CANCEL_RUNNING) };
                self.finish(JOB_CODE_ABANDONED, None);
            }
            Stage::Running(fut) => {
                drop(fut);
                // SAFETY: as above.
                unsafe { sys::lane_cancel_token(self.lane.raw(), self.ticket.token, sys::LANE_CANCEL_RUNNING) };
                self.finish(JOB_CODE_ABANDONED, None);
            }
        }
    }
}

impl Lane {
    fn driver(&self) -> Result<Arc<Driver>> {
        let mut d = self.inner.driver.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(x) = &*d {
            if x.port.alive.load(Ordering::Acquire) {
                return Ok(x.clone());
            }
        }
        let nd = Driver::start()?;
        if let Some(old) = d.replace(nd.clone()) {
            old.stop();
        }
        Ok(nd)
    }

    /// Submits a host-run job whose body is the future `f(ctx)`; returns its
    /// [`RunHandle`], a future of the outcome. Must be called inside a
    /// tokio runtime (with IO enabled). Refusals (busy with the ticket,
    /// duplicate, closed, bad id) are returned at once.
    ///
    /// `f` may be `async move |ctx| { ... }` or `|ctx| async move { ... }`;
    /// `ctx` says when the job is cancelled or preempted, and why.
    pub fn run<F, Fut, E>(&self, job: Job, f: F) -> Result<RunHandle<F, Fut>>
    where
        F: FnOnce(AsyncCtx) -> Fut,
        Fut: Future<Output = std::result::Result<(), E>>,
        E: std::fmt::Display,
    {
        let parts = job.c_parts()?;
        let driver = self.driver()?;
        let state = Arc::new(AsyncJob {
            st: Mutex::new(JobState::default()),
            cause: AtomicI32::new(0),
            cancelled: Notify::new(),
            hook: job.on_done.clone(),
            session: None,
        });
        let mut raw = job.raw(&parts);
        raw.port = driver.port.raw.as_ptr();
        raw.on_done = Some(async_done_trampoline);
        let ud = Arc::into_raw(state.clone());
        raw.user_data = ud as *mut c_void;
        let mut t = sys::lane_ticket_t::init();
        // SAFETY: valid lane, job and port; ud is liblane's reference until DONE.
        let rc = unsafe { sys::lane_submit(self.raw(), &raw, &mut t) };
        if rc != sys::LANE_OK {
            let e = Error::last(rc);
            // SAFETY: refused: no event will come; the reference is ours again.
            drop(unsafe { Arc::from_raw(ud) });
            return Err(if rc == sys::LANE_ERR_BUSY {
                e.with_ticket(Ticket::from_raw(&t))
            } else {
                e
            });
        }
        Ok(RunHandle {
            lane: self.clone(),
            job: state,
            ticket: Ticket::from_raw(&t),
            id: job.id.clone(),
            stage: Stage::Waiting(Some(f)),
        })
    }

    /// [`Lane::run`] on a tokio task of its own: the job makes progress
    /// without being awaited. Dropping the JoinHandle detaches (the job runs
    /// on); abort the task to cancel it.
    pub fn spawn<F, Fut, E>(&self, job: Job, f: F) -> Result<tokio::task::JoinHandle<Outcome>>
    where
        F: FnOnce(AsyncCtx) -> Fut + Send + 'static,
        Fut: Future<Output = std::result::Result<(), E>> + Send + 'static,
        E: std::fmt::Display + 'static,
    {
        let h = self.run(job, f)?;
        Ok(tokio::spawn(h))
    }
}

/// The future of a session message's [`Outcome`], from
/// [`crate::Session::enqueue_async`]. Dropping it does not withdraw the message
/// (use the session's cancel or reset for that).
#[must_use = "await it for the message's outcome"]
pub struct MessageHandle {
    job: Arc<AsyncJob>,
}

impl Future for MessageHandle {
    type Output = Outcome;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        let mut st = self.job.lock();
        match st.outcome.take() {
            Some(o) => Poll::Ready(o),
            None => {
                st.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl crate::Session {
    /// A session whose runs are futures: each run's `handler(ctx)` is
    /// spawned on a tokio task when the lane grants the run; `ctx` gives
    /// the batch, the STEER mailbox, the dropped ids and the cancel cause.
    /// Must be called inside a tokio runtime (with IO enabled). Dropping the
    /// session destroys it on a thread of its own (its runs may need this one).
    pub fn new_async<F, Fut, E>(
        lane: &Lane,
        key: &str,
        opts: crate::SessionOptions,
        handler: F,
    ) -> Result<crate::Session>
    where
        F: Fn(AsyncCtx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<(), E>> + Send + 'static,
        E: std::fmt::Display + 'static,
    {
        let driver = lane.driver()?;
        let h: AsyncHandler = Arc::new(move |ctx| {
            let fut = handler(ctx);
            Box::pin(async move { fut.await.map_err(|e| e.to_string()) })
        });
        crate::Session::create(lane, key, opts, crate::session::Handler::Async(h, driver))
    }

    /// Enqueues a message of an async session ([`crate::Session::new_async`]);
    /// returns the future of its outcome.
    pub fn enqueue_async(&self, job: Job, text: impl Into<String>) -> Result<MessageHandle> {
        let crate::session::Handler::Async(handler, driver) = &self.handler else {
            return Err(Error::new(
                Status::Invalid,
                "this session runs closures: use Session::enqueue",
            ));
        };
        let parts = job.c_parts()?;
        let state = Arc::new(AsyncJob {
            st: Mutex::new(JobState::default()),
            cause: AtomicI32::new(0),
            cancelled: Notify::new(),
            hook: job.on_done.clone(),
            session: Some(SessionPart {
                text: text.into(),
                handler: handler.clone(),
            }),
        });
        let mut raw = job.raw(&parts);
        raw.port = driver.port.raw.as_ptr();
        raw.on_done = Some(async_done_trampoline);
        let ud = Arc::into_raw(state.clone());
        raw.user_data = ud as *mut c_void;
        // SAFETY: a live session, job and port; ud is liblane's reference until DONE.
        let rc = unsafe { sys::lane_session_enqueue(self.raw.as_ptr(), &raw) };
        if rc != sys::LANE_OK {
            let e = Error::last(rc);
            // SAFETY: refused: no event will come; the reference is ours again.
            drop(unsafe { Arc::from_raw(ud) });
            return Err(e);
        }
        Ok(MessageHandle { job: state })
    }
}

//! Ports for host-run jobs driven by hand (without the `tokio` feature's
//! driver): the host polls events, runs a granted job itself, and ends it
//! with [`Lane::finish`].

use crate::error::{Error, Result, Status, check, dur_ns, ensure_loaded, ns_time};
use crate::job::{Job, JobBox, Runner, Ticket, done_trampoline};
use crate::lane::Lane;
use lane_sys as sys;
use std::ffi::c_void;
use std::os::fd::RawFd;
use std::ptr::NonNull;
use std::time::{Duration, SystemTime};

/// What a port event says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// The host-run job holds a slot now: run it, then [`Lane::finish`] it.
    Grant,
    /// Stop the job (`status` says why); its slot is held until it is finished.
    Cancel,
    /// The job's outcome (`status`, `job_code`); its last event.
    Done,
    Unknown(i32),
}

/// One event of a [`Port`]. The job is named by its ticket's token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    pub status: Status,
    pub job_code: i32,
    pub token: u64,
    pub at: Option<SystemTime>,
}

/// An event queue for host-run jobs ([`Lane::submit_host`]).
pub struct Port {
    raw: NonNull<sys::lane_port_t>,
}

// SAFETY: lane.h: a port is thread-safe; it is destroyed only in Drop.
unsafe impl Send for Port {}
// SAFETY: as above; every method takes &self.
unsafe impl Sync for Port {}

impl Drop for Port {
    fn drop(&mut self) {
        // SAFETY: our port. Jobs that still name it end anyway; their later
        // events are discarded.
        unsafe { sys::lane_port_destroy(self.raw.as_ptr()) };
    }
}

impl Port {
    pub fn new() -> Result<Port> {
        ensure_loaded()?;
        let mut raw = std::ptr::null_mut();
        // SAFETY: valid out pointer.
        check(unsafe { sys::lane_port_create(&mut raw) })?;
        Ok(Port {
            raw: NonNull::new(raw).ok_or_else(|| Error::new(Status::Internal, "lane_port_create gave NULL"))?,
        })
    }

    /// An eventfd readable while events wait (for epoll); read events only
    /// through [`Port::poll`]. Owned by the port.
    pub fn fd(&self) -> RawFd {
        // SAFETY: a live port.
        unsafe { sys::lane_port_fd(self.raw.as_ptr()) }
    }

    /// Up to `max` events, waiting up to `timeout` for the first (None =
    /// forever, ZERO = no wait). Empty on timeout or [`Port::wake`].
    pub fn poll(&self, max: usize, timeout: Option<Duration>) -> Result<Vec<Event>> {
        let mut buf = vec![sys::lane_event_t::init(); max.clamp(1, 1024)];
        let n = buf.len() as i32;
        // SAFETY: buf has n initialised events with struct_size set.
        let got = unsafe { sys::lane_port_poll(self.raw.as_ptr(), buf.as_mut_ptr(), n, timeout.map_or(-1, dur_ns)) };
        if got < 0 {
            return Err(Error::last(got));
        }
        buf.truncate(got as usize);
        Ok(buf
            .iter()
            .map(|e| Event {
                kind: match e.kind {
                    sys::LANE_EVENT_GRANT => EventKind::Grant,
                    sys::LANE_EVENT_CANCEL => EventKind::Cancel,
                    sys::LANE_EVENT_DONE => EventKind::Done,
                    k => EventKind::Unknown(k),
                },
                status: Status::from_raw(e.status),
                job_code: e.job_code,
                token: e.job_token,
                at: ns_time(e.at_ns),
            })
            .collect())
    }

    /// Makes a blocked (or the next) poll return at once.
    pub fn wake(&self) -> Result<()> {
        // SAFETY: a live port.
        check(unsafe { sys::lane_port_wake(self.raw.as_ptr()) })
    }
}

impl Lane {
    /// Submits a host-run job: its GRANT, CANCEL and DONE events go to
    /// `port`, and the host ends it with [`Lane::finish`]. The outcome also
    /// goes to [`Job::on_done`] if set.
    pub fn submit_host(&self, job: Job, port: &Port) -> Result<Ticket> {
        let parts = job.c_parts()?;
        let mut raw = job.raw(&parts);
        let jb = JobBox::new(Runner::Host, String::new(), job.on_done.clone());
        let ud = Box::into_raw(Box::new(jb));
        raw.port = port.raw.as_ptr();
        raw.on_done = Some(done_trampoline);
        raw.user_data = ud as *mut c_void;
        let mut t = sys::lane_ticket_t::init();
        // SAFETY: valid lane, job and port; ud lives until done_trampoline.
        let rc = unsafe { sys::lane_submit(self.raw(), &raw, &mut t) };
        if rc != sys::LANE_OK {
            let e = Error::last(rc);
            // SAFETY: refused: no outcome will come; the box is ours again.
            drop(unsafe { Box::from_raw(ud) });
            return Err(if rc == sys::LANE_ERR_BUSY {
                e.with_ticket(Ticket::from_raw(&t))
            } else {
                e
            });
        }
        Ok(Ticket::from_raw(&t))
    }

    /// Ends a granted host-run job (code 0 = success): frees its slot.
    pub fn finish(&self, token: u64, job_code: i32) -> Result<()> {
        // SAFETY: a live lane; liblane checks the token.
        check(unsafe { sys::lane_job_finish(self.raw(), token, job_code) })
    }
}

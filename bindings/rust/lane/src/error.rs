//! Statuses and the error type: a status from lane.h plus the message that
//! `lane_last_error()` gave on the failing thread.

use crate::job::Ticket;
use lane_sys as sys;
use std::ffi::{CStr, CString};
use std::fmt;

/// A `lane_status_t`. Values are stable; one this binding does not know is
/// kept as `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Ok,
    Invalid,
    Closed,
    Busy,
    NotQueued,
    Cancelled,
    Preempted,
    Duplicate,
    QueueFull,
    Dropped,
    Stale,
    Cleared,
    Timeout,
    NoMem,
    JobFailed,
    Internal,
    Deadlock,
    Io,
    /// This build of liblane lacks the feature (the SQLite history).
    Unsupported,
    /// A shared lane's Redis cannot be reached (ABI 0.4).
    Unavailable,
    /// Binding only: liblane could not be loaded (feature `dynamic`).
    NotLoaded,
    Unknown(i32),
}

impl Status {
    pub fn from_raw(s: sys::lane_status_t) -> Status {
        match s {
            sys::LANE_OK => Status::Ok,
            sys::LANE_ERR_INVALID => Status::Invalid,
            sys::LANE_ERR_CLOSED => Status::Closed,
            sys::LANE_ERR_BUSY => Status::Busy,
            sys::LANE_ERR_NOT_QUEUED => Status::NotQueued,
            sys::LANE_ERR_CANCELLED => Status::Cancelled,
            sys::LANE_ERR_PREEMPTED => Status::Preempted,
            sys::LANE_ERR_DUPLICATE => Status::Duplicate,
            sys::LANE_ERR_QUEUE_FULL => Status::QueueFull,
            sys::LANE_ERR_DROPPED => Status::Dropped,
            sys::LANE_ERR_STALE => Status::Stale,
            sys::LANE_ERR_CLEARED => Status::Cleared,
            sys::LANE_ERR_TIMEOUT => Status::Timeout,
            sys::LANE_ERR_NOMEM => Status::NoMem,
            sys::LANE_ERR_JOB_FAILED => Status::JobFailed,
            sys::LANE_ERR_INTERNAL => Status::Internal,
            sys::LANE_ERR_DEADLOCK => Status::Deadlock,
            sys::LANE_ERR_IO => Status::Io,
            sys::LANE_ERR_UNSUPPORTED => Status::Unsupported,
            sys::LANE_ERR_UNAVAILABLE => Status::Unavailable,
            other => Status::Unknown(other),
        }
    }

    /// The C value (`NotLoaded` has none and maps to `LANE_ERR_INTERNAL`).
    pub fn raw(self) -> sys::lane_status_t {
        match self {
            Status::Ok => sys::LANE_OK,
            Status::Invalid => sys::LANE_ERR_INVALID,
            Status::Closed => sys::LANE_ERR_CLOSED,
            Status::Busy => sys::LANE_ERR_BUSY,
            Status::NotQueued => sys::LANE_ERR_NOT_QUEUED,
            Status::Cancelled => sys::LANE_ERR_CANCELLED,
            Status::Preempted => sys::LANE_ERR_PREEMPTED,
            Status::Duplicate => sys::LANE_ERR_DUPLICATE,
            Status::QueueFull => sys::LANE_ERR_QUEUE_FULL,
            Status::Dropped => sys::LANE_ERR_DROPPED,
            Status::Stale => sys::LANE_ERR_STALE,
            Status::Cleared => sys::LANE_ERR_CLEARED,
            Status::Timeout => sys::LANE_ERR_TIMEOUT,
            Status::NoMem => sys::LANE_ERR_NOMEM,
            Status::JobFailed => sys::LANE_ERR_JOB_FAILED,
            Status::Internal | Status::NotLoaded => sys::LANE_ERR_INTERNAL,
            Status::Deadlock => sys::LANE_ERR_DEADLOCK,
            Status::Io => sys::LANE_ERR_IO,
            Status::Unsupported => sys::LANE_ERR_UNSUPPORTED,
            Status::Unavailable => sys::LANE_ERR_UNAVAILABLE,
            Status::Unknown(v) => v,
        }
    }

    /// The static name liblane gives the status, e.g. `"LANE_ERR_BUSY"`.
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "LANE_OK",
            Status::Invalid => "LANE_ERR_INVALID",
            Status::Closed => "LANE_ERR_CLOSED",
            Status::Busy => "LANE_ERR_BUSY",
            Status::NotQueued => "LANE_ERR_NOT_QUEUED",
            Status::Cancelled => "LANE_ERR_CANCELLED",
            Status::Preempted => "LANE_ERR_PREEMPTED",
            Status::Duplicate => "LANE_ERR_DUPLICATE",
            Status::QueueFull => "LANE_ERR_QUEUE_FULL",
            Status::Dropped => "LANE_ERR_DROPPED",
            Status::Stale => "LANE_ERR_STALE",
            Status::Cleared => "LANE_ERR_CLEARED",
            Status::Timeout => "LANE_ERR_TIMEOUT",
            Status::NoMem => "LANE_ERR_NOMEM",
            Status::JobFailed => "LANE_ERR_JOB_FAILED",
            Status::Internal => "LANE_ERR_INTERNAL",
            Status::Deadlock => "LANE_ERR_DEADLOCK",
            Status::Io => "LANE_ERR_IO",
            Status::Unsupported => "LANE_ERR_UNSUPPORTED",
            Status::Unavailable => "LANE_ERR_UNAVAILABLE",
            Status::NotLoaded => "LANE_NOT_LOADED",
            Status::Unknown(_) => "LANE_ERR_UNKNOWN",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed call: the status and liblane's message for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    status: Status,
    message: String,
    ticket: Option<Ticket>,
}

impl Error {
    pub(crate) fn new(status: Status, message: impl Into<String>) -> Error {
        Error {
            status,
            message: message.into(),
            ticket: None,
        }
    }

    /// The status with `lane_last_error()`'s message (read right after the
    /// failing call, on the same thread).
    pub(crate) fn last(status: sys::lane_status_t) -> Error {
        Error::new(Status::from_raw(status), last_error_message())
    }

    pub(crate) fn with_ticket(mut self, t: Ticket) -> Error {
        self.ticket = Some(t);
        self
    }

    pub fn status(&self) -> Status {
        self.status
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// With [`Status::Busy`] at submit: the ticket liblane filled anyway
    /// (its `eta` is why the job was refused).
    pub fn ticket(&self) -> Option<&Ticket> {
        self.ticket.as_ref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            write!(f, "{}", self.status)
        } else if self.message.starts_with(self.status.name()) {
            f.write_str(&self.message) // liblane's messages name the status already
        } else {
            write!(f, "{}: {}", self.status, self.message)
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `lane_last_error()` of this thread, copied.
pub fn last_error_message() -> String {
    // SAFETY: lane_last_error returns a NUL-terminated string that stays
    // valid until the next liblane call on this thread; it is copied here
    // before any other call.
    unsafe { cstr_to_string(sys::lane_last_error()) }
}

pub(crate) fn check(rc: sys::lane_status_t) -> Result<()> {
    if rc == sys::LANE_OK {
        Ok(())
    } else {
        Err(Error::last(rc))
    }
}

/// Copies a C string (NULL gives "").
///
/// # Safety
/// `p` is NULL or a valid NUL-terminated string.
pub(crate) unsafe fn cstr_to_string(p: *const std::ffi::c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        // SAFETY: the caller guarantees a valid C string.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

/// A C copy of a Rust string; an interior NUL byte is refused (never cut).
pub(crate) fn c_string(what: &str, s: &str) -> Result<CString> {
    CString::new(s).map_err(|e| {
        Error::new(
            Status::Invalid,
            format!("{what} {s:?} contains a NUL byte at {}", e.nul_position()),
        )
    })
}

/// With the feature `dynamic`: liblane is loaded (once), or the loader's
/// message as an error. Linked builds: always fine.
pub(crate) fn ensure_loaded() -> Result<()> {
    #[cfg(feature = "dynamic")]
    {
        sys::dynamic::load()
            .map(|_| ())
            .map_err(|e| Error::new(Status::NotLoaded, e.message()))
    }
    #[cfg(not(feature = "dynamic"))]
    {
        Ok(())
    }
}

/// Durations to the header's int64 nanoseconds (saturating).
pub(crate) fn dur_ns(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

pub(crate) fn ns_dur(ns: i64) -> std::time::Duration {
    std::time::Duration::from_nanos(ns.max(0) as u64)
}

/// Unix-epoch nanoseconds to a time; 0 (the header's "never") is None.
pub(crate) fn ns_time(ns: i64) -> Option<std::time::SystemTime> {
    if ns == 0 {
        None
    } else if ns > 0 {
        Some(std::time::UNIX_EPOCH + std::time::Duration::from_nanos(ns as u64))
    } else {
        Some(std::time::UNIX_EPOCH - std::time::Duration::from_nanos(ns.unsigned_abs()))
    }
}

pub(crate) fn time_ns(t: std::time::SystemTime) -> i64 {
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => dur_ns(d),
        Err(e) => -dur_ns(e.duration()),
    }
}

/// # Safety
/// As [`cstr_to_string`].
pub(crate) unsafe fn cstr_to_string_pub(p: *const std::ffi::c_char) -> String {
    // SAFETY: forwarded.
    unsafe { cstr_to_string(p) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values_agree_with_the_library() {
        for raw in -20..=1 {
            let s = Status::from_raw(raw);
            assert_eq!(s.raw(), raw, "{s:?}");
            // SAFETY: lane_status_name takes any value and returns a static string.
            let c = unsafe { cstr_to_string(sys::lane_status_name(raw)) };
            assert_eq!(s.name(), c, "status {raw}");
        }
    }

    #[test]
    fn times_and_durations_round_trip() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(1_700_000_000_123_456_789);
        assert_eq!(ns_time(time_ns(t)), Some(t));
        assert_eq!(ns_time(0), None);
        assert_eq!(dur_ns(std::time::Duration::MAX), i64::MAX);
        assert_eq!(ns_dur(-5), std::time::Duration::ZERO);
    }
}

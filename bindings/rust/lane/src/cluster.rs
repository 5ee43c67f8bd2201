//! Lanes shared across processes on Redis (`lane_cluster_t`, docs/cluster.md).

use crate::error::{Error, Result, Status, c_string, check, dur_ns, ensure_loaded};
use lane_sys as sys;
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::Duration;

/// Where the Redis is that member lanes share; unset fields keep the
/// header's defaults (redis://127.0.0.1:6379/0, prefix "lane", a 10 s
/// lease, a 1 s timeout, no fallback share).
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    url: Option<String>,
    key_prefix: Option<String>,
    lease: Option<Duration>,
    timeout: Option<Duration>,
    fallback_slots: u32,
}

impl ClusterOptions {
    pub fn new() -> ClusterOptions {
        ClusterOptions::default()
    }
    /// `redis://host:port/db`.
    pub fn url(mut self, url: &str) -> ClusterOptions {
        self.url = Some(url.to_string());
        self
    }
    /// Every key is `{prefix:lane}:...`.
    pub fn key_prefix(mut self, prefix: &str) -> ClusterOptions {
        self.key_prefix = Some(prefix.to_string());
        self
    }
    /// How long a member keeps a slot without renewing it (at least 100 ms).
    pub fn lease(mut self, d: Duration) -> ClusterOptions {
        self.lease = Some(d);
        self
    }
    /// Connect and command timeout.
    pub fn timeout(mut self, d: Duration) -> ClusterOptions {
        self.timeout = Some(d);
        self
    }
    /// While Redis cannot be reached: 0 refuses new jobs
    /// ([`Status::Unavailable`]), n runs up to n per lane locally.
    pub fn fallback_slots(mut self, n: u32) -> ClusterOptions {
        self.fallback_slots = n;
        self
    }
}

pub(crate) struct ClusterInner {
    raw: NonNull<sys::lane_cluster_t>,
}

// SAFETY: lane.h: a cluster is thread-safe; it is destroyed only in Drop,
// once no lane holds it.
unsafe impl Send for ClusterInner {}
// SAFETY: as above.
unsafe impl Sync for ClusterInner {}

impl ClusterInner {
    pub(crate) fn raw(&self) -> *mut sys::lane_cluster_t {
        self.raw.as_ptr()
    }
}

impl Drop for ClusterInner {
    fn drop(&mut self) {
        // SAFETY: a cluster this crate created; every lane made with it held
        // this Arc and has been destroyed. A refusal (a lane made through
        // the C API still uses it) leaves it connected: nothing safe to do.
        unsafe { sys::lane_cluster_destroy(self.raw.as_ptr()) };
    }
}

/// A connection to a Redis on which lanes of one name, in any process on
/// any host, share one cap: a lane made with
/// [`Options::cluster`](crate::Options::cluster) runs a job only on a slot
/// granted there, and [`Ctx::fence`](crate::Ctx::fence) gives the grant's
/// fencing number. Slots are leases: a process that dies or stalls loses
/// them when the lease ends. Cloning is cheap; the connection closes when
/// the last handle and the last lane made with it are gone.
#[derive(Clone)]
pub struct Cluster {
    pub(crate) inner: Arc<ClusterInner>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster").finish_non_exhaustive()
    }
}

impl Cluster {
    /// Connects: [`Status::Unavailable`] if Redis does not answer within the
    /// timeout, [`Status::Unsupported`] for a liblane built without hiredis.
    pub fn new(opts: ClusterOptions) -> Result<Cluster> {
        ensure_loaded()?;
        let url = opts.url.as_deref().map(|u| c_string("url", u)).transpose()?;
        let prefix = opts
            .key_prefix
            .as_deref()
            .map(|p| c_string("key_prefix", p))
            .transpose()?;
        let mut o = sys::lane_cluster_options_t::init();
        o.url = url.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
        o.key_prefix = prefix.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
        o.lease_ns = opts.lease.map_or(0, |d| dur_ns(d).max(1));
        o.timeout_ns = opts.timeout.map_or(0, |d| dur_ns(d).max(1));
        o.fallback_slots = opts.fallback_slots;
        let mut out = std::ptr::null_mut();
        // SAFETY: valid options (strings live until the call returns; the
        // library copies them) and out pointer.
        check(unsafe { sys::lane_cluster_create(&o, &mut out) })?;
        let raw = NonNull::new(out).ok_or_else(|| Error::new(Status::Internal, "lane_cluster_create gave NULL"))?;
        Ok(Cluster {
            inner: Arc::new(ClusterInner { raw }),
        })
    }
}

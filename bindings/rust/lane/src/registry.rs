//! Registries: named lanes created on first use, sized from a config source
//! (a closure, or the environment), reloaded in place, with metrics text.

use crate::error::{Error, Result, Status, c_string, check, cstr_to_string, dur_ns, ensure_loaded};
use crate::job::panic_message;
use crate::lane::{Lane, LaneInner, Policy};
use lane_sys as sys;
use std::collections::HashMap;
use std::ffi::{c_char, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// A registry log line's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
}

type ConfigFn = dyn Fn(&str, i64) -> i64 + Send + Sync;
type LogFn = dyn Fn(LogLevel, &str) + Send + Sync;

struct Callbacks {
    config: Option<Box<ConfigFn>>,
    log: Option<Box<LogFn>>,
    clock: Option<crate::clock::ClockFn>,
}

pub(crate) struct RegistryInner {
    pub(crate) raw: NonNull<sys::lane_registry_t>,
    // Freed after lane_registry_destroy (field order: Drop runs first).
    callbacks: Box<Callbacks>,
    // Kept connected until after lane_registry_destroy, which its lanes need.
    cluster: Option<crate::Cluster>,
    /// The Rust handles given out, by lane name: a lane with a live handle
    /// is never removed, so no handle ever dangles.
    lanes: Mutex<HashMap<String, Weak<LaneInner>>>,
}

// SAFETY: lane.h: a registry is thread-safe; the callbacks are Send + Sync;
// the map is behind a Mutex.
unsafe impl Send for RegistryInner {}
// SAFETY: as above.
unsafe impl Sync for RegistryInner {}

impl Drop for RegistryInner {
    fn drop(&mut self) {
        // The callbacks must outlive the registry, wherever it is destroyed.
        let callbacks = std::mem::replace(
            &mut self.callbacks,
            Box::new(Callbacks {
                config: None,
                log: None,
                clock: None,
            }),
        );
        let cluster = self.cluster.take();
        let raw = crate::defer::SendPtr(self.raw.as_ptr());
        let destroy = move || {
            let raw = raw;
            // SAFETY: the last handle is gone: no Lane, Session or Sampler
            // of this registry is alive (each holds an Arc of this).
            unsafe { sys::lane_registry_destroy(raw.0) };
            drop(callbacks);
            drop(cluster);
        };
        crate::defer::run_outside_callbacks("registry", destroy);
    }
}

unsafe extern "C" fn config_trampoline(key: *const c_char, def: i64, ud: *mut c_void) -> i64 {
    let _mark = crate::defer::InCallback::enter();
    // SAFETY: ud is the registry's Callbacks box, alive until after
    // lane_registry_destroy; key is a valid C string during the call.
    let cb = unsafe { &*(ud as *const Callbacks) };
    // SAFETY: a valid C string (or NULL) for the duration of the call.
    let key = unsafe { cstr_to_string(key) };
    match &cb.config {
        Some(f) => catch_unwind(AssertUnwindSafe(|| f(&key, def))).unwrap_or_else(|p| {
            eprintln!("lane: registry config closure {} for {key:?}", panic_message(&*p));
            def
        }),
        None => def,
    }
}

unsafe extern "C" fn log_trampoline(level: i32, msg: *const c_char, ud: *mut c_void) {
    let _mark = crate::defer::InCallback::enter();
    // SAFETY: as in config_trampoline.
    let cb = unsafe { &*(ud as *const Callbacks) };
    // SAFETY: a valid C string (or NULL) for the duration of the call.
    let msg = unsafe { cstr_to_string(msg) };
    let level = match level {
        sys::LANE_LOG_ERROR => LogLevel::Error,
        sys::LANE_LOG_WARN => LogLevel::Warn,
        _ => LogLevel::Info,
    };
    if let Some(f) = &cb.log {
        if catch_unwind(AssertUnwindSafe(|| f(level, &msg))).is_err() {
            eprintln!("lane: registry log closure panicked on: {msg}");
        }
    }
}

/// Builds a [`Registry`].
#[derive(Default)]
pub struct RegistryBuilder {
    config: Option<Box<ConfigFn>>,
    log: Option<Box<LogFn>>,
    default_policy: Policy,
    default_max_concurrent: u32,
    idle_retire: Option<Duration>,
    clock: Option<crate::clock::ClockFn>,
    cluster: Option<crate::Cluster>,
}

impl RegistryBuilder {
    /// Makes every lane of the registry a member of the lane of its name on
    /// the cluster's Redis, as [`Options::cluster`](crate::Options::cluster)
    /// does for a lane of its own (preempt_overcommit is then off). The
    /// registry keeps the cluster connected until it is destroyed.
    pub fn cluster(mut self, c: &crate::Cluster) -> Self {
        self.cluster = Some(c.clone());
        self
    }
    /// The clock of the registry and its lanes (default: the real time).
    pub fn clock(mut self, f: impl Fn() -> std::time::SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(f));
        self
    }
    /// The config source: `f(key, default)` for keys such as
    /// `"lanes.llm.max_concurrent"`. Without it: the environment
    /// (`LANE_LLM_MAX_CONCURRENT`). Called on the thread of
    /// get_or_create / reload; it must not call this registry.
    pub fn config(mut self, f: impl Fn(&str, i64) -> i64 + Send + Sync + 'static) -> Self {
        self.config = Some(Box::new(f));
        self
    }
    /// Where log lines go (default: stderr).
    pub fn log(mut self, f: impl Fn(LogLevel, &str) + Send + Sync + 'static) -> Self {
        self.log = Some(Box::new(f));
        self
    }
    /// Policy of new lanes (default fair share).
    pub fn default_policy(mut self, p: Policy) -> Self {
        self.default_policy = p;
        self
    }
    /// Slots of a lane the config does not size (default 1).
    pub fn default_max_concurrent(mut self, n: u32) -> Self {
        self.default_max_concurrent = n;
        self
    }
    /// Removes lanes idle and unborrowed this long.
    ///
    /// # Safety
    /// liblane then destroys such a lane on a later registry call, even
    /// while this crate still holds a [`Lane`] for it: the caller must drop
    /// every Lane of this registry within `d` of its last use.
    pub unsafe fn idle_retire(mut self, d: Duration) -> Self {
        self.idle_retire = Some(d);
        self
    }

    pub fn build(self) -> Result<Registry> {
        ensure_loaded()?;
        let has_config = self.config.is_some();
        let has_log = self.log.is_some();
        let callbacks = Box::new(Callbacks {
            config: self.config,
            log: self.log,
            clock: self.clock,
        });
        let ud = &*callbacks as *const Callbacks as *mut c_void;
        let mut o = sys::lane_registry_options_t::init();
        if has_config {
            o.config_int = Some(config_trampoline);
            o.config_ud = ud;
        }
        if has_log {
            o.log = Some(log_trampoline);
            o.log_ud = ud;
        }
        if let Some(c) = &callbacks.clock {
            o.clock = Some(crate::clock::clock_trampoline);
            o.clock_ud = crate::clock::user_data(c);
        }
        o.default_policy = self.default_policy.raw();
        o.default_max_concurrent = self.default_max_concurrent;
        o.idle_retire_ns = self.idle_retire.map_or(0, |d| dur_ns(d).max(1));
        if let Some(c) = &self.cluster {
            o.cluster = c.inner.raw();
        }
        let mut out = std::ptr::null_mut();
        // SAFETY: valid options; ud (the boxed callbacks) outlives the registry.
        check(unsafe { sys::lane_registry_create(&o, &mut out) })?;
        let raw = NonNull::new(out).ok_or_else(|| Error::new(Status::Internal, "lane_registry_create gave NULL"))?;
        Ok(Registry {
            inner: Arc::new(RegistryInner {
                raw,
                callbacks,
                cluster: self.cluster,
                lanes: Mutex::new(HashMap::new()),
            }),
        })
    }
}

/// Named lanes. Cloning gives another handle; the registry (and all its
/// lanes) is destroyed when the last handle, lane, session or sampler goes.
#[derive(Clone)]
pub struct Registry {
    pub(crate) inner: Arc<RegistryInner>,
}

impl Registry {
    pub fn builder() -> RegistryBuilder {
        RegistryBuilder::default()
    }

    /// A registry configured from the environment.
    pub fn from_env() -> Result<Registry> {
        RegistryBuilder::default().build()
    }

    fn raw(&self) -> *mut sys::lane_registry_t {
        self.inner.raw.as_ptr()
    }

    /// The lane called `name` (1-128 of `[A-Za-z0-9_.:-]`), created on first use.
    pub fn get_or_create(&self, name: &str) -> Result<Lane> {
        let cname = c_string("lane name", name)?;
        let mut lanes = self.inner.lanes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(inner) = lanes.get(name).and_then(Weak::upgrade) {
            return Ok(Lane { inner });
        }
        let mut out = std::ptr::null_mut();
        // SAFETY: valid registry and C string.
        check(unsafe { sys::lane_registry_get_or_create(self.raw(), cname.as_ptr(), &mut out) })?;
        let raw = NonNull::new(out).ok_or_else(|| Error::new(Status::Internal, "get_or_create gave NULL"))?;
        let lane = Lane::from_inner(raw, Some(self.inner.clone()));
        lanes.insert(name.to_string(), Arc::downgrade(&lane.inner));
        Ok(lane)
    }

    /// The lane called `name` if it exists; never creates.
    pub fn get(&self, name: &str) -> Option<Lane> {
        let cname = c_string("lane name", name).ok()?;
        let mut lanes = self.inner.lanes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(inner) = lanes.get(name).and_then(Weak::upgrade) {
            return Some(Lane { inner });
        }
        // SAFETY: valid registry and C string.
        let raw = NonNull::new(unsafe { sys::lane_registry_get(self.raw(), cname.as_ptr()) })?;
        let lane = Lane::from_inner(raw, Some(self.inner.clone()));
        lanes.insert(name.to_string(), Arc::downgrade(&lane.inner));
        Some(lane)
    }

    /// Every lane's name, sorted.
    pub fn names(&self) -> Vec<String> {
        // Held so that no remove runs while the names are copied.
        let _lanes = self.inner.lanes.lock().unwrap_or_else(|p| p.into_inner());
        // SAFETY: cap 0 with NULL is allowed.
        let n = unsafe { sys::lane_registry_names(self.raw(), std::ptr::null_mut(), 0) };
        let mut buf = vec![std::ptr::null::<c_char>(); n];
        // SAFETY: buf has room for n pointers.
        let got = unsafe { sys::lane_registry_names(self.raw(), buf.as_mut_ptr(), n) };
        buf.truncate(got.min(n));
        // SAFETY: the strings live as long as their lanes, which the lock keeps.
        buf.into_iter().map(|p| unsafe { cstr_to_string(p) }).collect()
    }

    /// Re-reads every lane's size from the config source and resizes in place.
    pub fn reload(&self) -> Result<()> {
        // SAFETY: valid registry.
        check(unsafe { sys::lane_registry_reload(self.raw()) })
    }

    /// Removes an idle lane. Refused with Busy while it has work or sessions,
    /// or while this process still holds a [`Lane`] for it.
    pub fn remove(&self, name: &str) -> Result<()> {
        let cname = c_string("lane name", name)?;
        let mut lanes = self.inner.lanes.lock().unwrap_or_else(|p| p.into_inner());
        if lanes.get(name).is_some_and(|w| w.strong_count() > 0) {
            return Err(Error::new(
                Status::Busy,
                format!("lane {name:?} is still held by a Lane handle; drop it first"),
            ));
        }
        // SAFETY: valid registry and C string; no Rust handle of the lane is alive.
        check(unsafe { sys::lane_registry_remove(self.raw(), cname.as_ptr()) })?;
        lanes.remove(name);
        Ok(())
    }

    /// Every lane's metrics in Prometheus text format 0.0.4.
    pub fn metrics(&self) -> Result<String> {
        let mut cap = 4096usize;
        loop {
            let mut buf = vec![0u8; cap];
            let mut len = 0usize;
            // SAFETY: buf has cap bytes.
            let rc = unsafe { sys::lane_registry_metrics(self.raw(), buf.as_mut_ptr() as *mut c_char, cap, &mut len) };
            if rc == sys::LANE_OK {
                buf.truncate(len);
                return Ok(String::from_utf8_lossy(&buf).into_owned());
            }
            if rc == sys::LANE_ERR_INVALID && len > cap {
                cap = len + 1024;
                continue;
            }
            return Err(Error::last(rc));
        }
    }
}

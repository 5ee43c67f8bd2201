//! The types, constants and struct layouts of `lane.h`, in header order.
//!
//! C enums are `int`-sized on every platform liblane supports; they are
//! declared here as `i32` aliases with one constant per value, so that a
//! value this crate does not know yet (a newer library) is never undefined
//! behaviour. Callback fields are `Option<fn>` because the header allows NULL.

use core::ffi::{c_char, c_int, c_void};

pub const LANE_VERSION_MAJOR: u32 = 0;
pub const LANE_VERSION_MINOR: u32 = 1;
pub const LANE_VERSION_PATCH: u32 = 0;
pub const LANE_VERSION_STRING: &str = "0.1.0";
pub const LANE_ABI_MAJOR: u32 = 0;
pub const LANE_ABI_MINOR: u32 = 4;
pub const LANE_ABI_VERSION: u32 = (LANE_ABI_MAJOR << 16) | LANE_ABI_MINOR;

// ------------------------------------------------------------------ status

pub type lane_status_t = i32;
pub const LANE_OK: lane_status_t = 0;
pub const LANE_ERR_INVALID: lane_status_t = -1;
pub const LANE_ERR_CLOSED: lane_status_t = -2;
pub const LANE_ERR_BUSY: lane_status_t = -3;
pub const LANE_ERR_NOT_QUEUED: lane_status_t = -4;
pub const LANE_ERR_CANCELLED: lane_status_t = -5;
pub const LANE_ERR_PREEMPTED: lane_status_t = -6;
pub const LANE_ERR_DUPLICATE: lane_status_t = -7;
pub const LANE_ERR_QUEUE_FULL: lane_status_t = -8;
pub const LANE_ERR_DROPPED: lane_status_t = -9;
pub const LANE_ERR_STALE: lane_status_t = -10;
pub const LANE_ERR_CLEARED: lane_status_t = -11;
pub const LANE_ERR_TIMEOUT: lane_status_t = -12;
pub const LANE_ERR_NOMEM: lane_status_t = -13;
pub const LANE_ERR_JOB_FAILED: lane_status_t = -14;
pub const LANE_ERR_INTERNAL: lane_status_t = -15;
pub const LANE_ERR_DEADLOCK: lane_status_t = -16;
pub const LANE_ERR_IO: lane_status_t = -17;
pub const LANE_ERR_UNSUPPORTED: lane_status_t = -18;
/// ABI 0.4: a shared lane's Redis cannot be reached.
pub const LANE_ERR_UNAVAILABLE: lane_status_t = -19;

// ------------------------------------------------------------------ handles

/// A lane (`struct lane_s`); thread-safe.
#[repr(C)]
pub struct lane_t {
    _opaque: [u8; 0],
    _not_send_sync: core::marker::PhantomData<(*mut u8, core::marker::PhantomPinned)>,
}
/// A running job's context; valid inside run only (or until lane_job_finish).
#[repr(C)]
pub struct lane_ctx_t {
    _opaque: [u8; 0],
    _not_send_sync: core::marker::PhantomData<(*mut u8, core::marker::PhantomPinned)>,
}
/// An event queue for host-run jobs; thread-safe.
#[repr(C)]
pub struct lane_port_t {
    _opaque: [u8; 0],
    _not_send_sync: core::marker::PhantomData<(*mut u8, core::marker::PhantomPinned)>,
}
/// Named lanes, config, metrics; thread-safe.
#[repr(C)]
pub struct lane_registry_t {
    _opaque: [u8; 0],
    _not_send_sync: core::marker::PhantomData<(*mut u8, core::marker::PhantomPinned)>,
}
/// Occupancy history writer; thread-safe.
#[repr(C)]
pub struct lane_sampler_t {
    _opaque: [u8; 0],
    _not_send_sync: core::marker::PhantomData<(*mut u8, core::marker::PhantomPinned)>,
}
/// ABI 0.4: a connection to a Redis that lanes share; thread-safe.
#[repr(C)]
pub struct lane_cluster_t {
    _opaque: [u8; 0],
    _not_send_sync: core::marker::PhantomData<(*mut u8, core::marker::PhantomPinned)>,
}
/// A session queue; thread-safe.
#[repr(C)]
pub struct lane_session_t {
    _opaque: [u8; 0],
    _not_send_sync: core::marker::PhantomData<(*mut u8, core::marker::PhantomPinned)>,
}

pub type lane_clock_fn = Option<unsafe extern "C" fn(user_data: *mut c_void) -> i64>;

// --------------------------------------------------------------------- jobs

pub type lane_run_fn = Option<unsafe extern "C" fn(ctx: *mut lane_ctx_t, user_data: *mut c_void) -> i32>;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lane_outcome_t {
    pub struct_size: u32,
    pub status: lane_status_t,
    pub job_code: i32,
    pub job_id: *const c_char,
    pub lane: *const c_char,
    pub job_token: u64,
    pub enqueued_at_ns: i64,
    pub started_at_ns: i64,
    pub finished_at_ns: i64,
}

pub type lane_done_fn = Option<unsafe extern "C" fn(outcome: *const lane_outcome_t, user_data: *mut c_void)>;

pub const LANE_JOB_PREEMPTIBLE: u32 = 1 << 0;
pub const LANE_JOB_REQUEUE_ON_PREEMPT: u32 = 1 << 1;
pub const LANE_JOB_STEERABLE: u32 = 1 << 2;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lane_job_t {
    pub struct_size: u32,
    pub id: *const c_char,
    pub tenant: *const c_char,
    pub priority: i32,
    pub flags: u32,
    pub max_wait_ns: i64,
    pub run: lane_run_fn,
    pub on_done: lane_done_fn,
    pub user_data: *mut c_void,
    pub port: *mut lane_port_t,
    pub queue_timeout_ns: i64,
    /// ABI 0.3: expected cost (0 -> 1), run timeout, slots held (0 -> 1).
    pub cost: i64,
    pub run_timeout_ns: i64,
    pub slots: u32,
}

pub type lane_blocked_by_t = i32;
pub const LANE_BLOCKED_NONE: lane_blocked_by_t = 0;
pub const LANE_BLOCKED_FULL: lane_blocked_by_t = 1;
pub const LANE_BLOCKED_PAUSED: lane_blocked_by_t = 2;
pub const LANE_BLOCKED_COOLDOWN: lane_blocked_by_t = 3;
pub const LANE_BLOCKED_PRIORITY: lane_blocked_by_t = 4;
pub const LANE_BLOCKED_TENANT: lane_blocked_by_t = 5;
pub const LANE_BLOCKED_RATE: lane_blocked_by_t = 6;
pub const LANE_BLOCKED_TENANT_LIMIT: lane_blocked_by_t = 7;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lane_ticket_t {
    pub struct_size: u32,
    pub position: i32,
    pub eta_ns: i64,
    pub job_token: u64,
    pub blocked_by: lane_blocked_by_t,
}

// -------------------------------------------------------------------- lanes

pub type lane_policy_t = i32;
pub const LANE_POLICY_DEFAULT: lane_policy_t = 0;
pub const LANE_POLICY_FIFO: lane_policy_t = 1;
pub const LANE_POLICY_FAIR_SHARE: lane_policy_t = 2;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lane_options_t {
    pub struct_size: u32,
    pub max_concurrent: u32,
    pub policy: lane_policy_t,
    pub eta_window: u32,
    pub preemption_off: i32,
    pub preempt_min_runtime_ns: i64,
    pub preempt_overcommit: i32,
    pub max_queued: u32,
    pub eta_default_runtime_ns: i64,
    pub aging_ns: i64,
    pub clock: lane_clock_fn,
    pub clock_ud: *mut c_void,
    pub fair_half_life_ns: i64,
    /// ABI 0.3: adaptive width (AIMD), off while both are 0.
    pub adaptive_min: u32,
    pub adaptive_max: u32,
    pub adaptive_cooldown_ns: i64,
    /// ABI 0.4: non-NULL makes the lane a member of the lane of its name on that cluster.
    pub cluster: *mut lane_cluster_t,
}

/// `lane_set_rate_limit` kinds (flags).
pub const LANE_RATE_REQUESTS: u32 = 1 << 0;
pub const LANE_RATE_COST: u32 = 1 << 1;
/// A job code meaning the provider is overloaded (HTTP 429).
pub const LANE_JOB_OVERLOADED: i32 = 429;

pub const LANE_CANCEL_QUEUED: u32 = 1 << 0;
pub const LANE_CANCEL_RUNNING: u32 = 1 << 1;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lane_stats_t {
    pub struct_size: u32,
    pub name: *const c_char,
    pub max_concurrent: u32,
    pub running: u32,
    pub queued: u32,
    pub oldest_queued_at_ns: i64,
    pub throughput_1m: u32,
    pub submitted: u64,
    pub completed: u64,
    pub failed: u64,
    pub cancelled: u64,
    pub preempted: u64,
    pub timed_out: u64,
    pub closed: u64,
    pub refused: u64,
    pub wait_p50_ns: i64,
    pub wait_p99_ns: i64,
    pub run_p50_ns: i64,
    pub run_p99_ns: i64,
    pub paused: i32,
    pub cooldown_until_ns: i64,
    pub blocked_by: lane_blocked_by_t,
    pub preemptions: u64,
    pub eta_window: u32,
    pub mean_runtime_ns: i64,
    /// ABI 0.3: budgets.
    pub width: u32,
    pub slots_in_use: u32,
    pub released: u32,
    pub reacquiring: u32,
    pub rate_waits: u64,
    pub rate_ready_at_ns: i64,
    pub cost_used: i64,
    pub overloads: u64,
    /// ABI 0.4: shared lanes.
    pub shared: i32,
    pub available: i32,
    pub global_running: u32,
    pub global_queued: u32,
    pub leases_lost: u64,
    pub releases_refused: u64,
}

pub type lane_close_mode_t = i32;
pub const LANE_CLOSE_DRAIN: lane_close_mode_t = 0;
pub const LANE_CLOSE_CANCEL: lane_close_mode_t = 1;

// -------------------------------------------------------------------- ports

pub type lane_event_kind_t = i32;
pub const LANE_EVENT_GRANT: lane_event_kind_t = 1;
pub const LANE_EVENT_CANCEL: lane_event_kind_t = 2;
pub const LANE_EVENT_DONE: lane_event_kind_t = 3;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lane_event_t {
    pub struct_size: u32,
    pub kind: lane_event_kind_t,
    pub status: lane_status_t,
    pub job_code: i32,
    pub lane: *mut lane_t,
    pub job_token: u64,
    pub user_data: *mut c_void,
    pub at_ns: i64,
    pub ctx: *mut lane_ctx_t,
}

// ----------------------------------------------------------------- registry

pub const LANE_REGISTRY_NAME_MAX: usize = 128;

pub const LANE_LOG_ERROR: i32 = 0;
pub const LANE_LOG_WARN: i32 = 1;
pub const LANE_LOG_INFO: i32 = 2;

pub type lane_config_int_fn = Option<unsafe extern "C" fn(key: *const c_char, def: i64, user_data: *mut c_void) -> i64>;
pub type lane_log_fn = Option<unsafe extern "C" fn(level: i32, message: *const c_char, user_data: *mut c_void)>;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lane_registry_options_t {
    pub struct_size: u32,
    pub config_int: lane_config_int_fn,
    pub config_ud: *mut c_void,
    pub log: lane_log_fn,
    pub log_ud: *mut c_void,
    pub default_policy: lane_policy_t,
    pub default_max_concurrent: u32,
    pub idle_retire_ns: i64,
    pub clock: lane_clock_fn,
    pub clock_ud: *mut c_void,
    /// ABI 0.4: every lane of the registry is a member of the lane of its name on that cluster.
    pub cluster: *mut lane_cluster_t,
}

// ------------------------------------------------------------------ sampler

pub type lane_sample_fn = Option<
    unsafe extern "C" fn(
        lane: *const c_char,
        running: u32,
        queued: u32,
        sampled_at_ns: i64,
        user_data: *mut c_void,
    ) -> i32,
>;
pub type lane_purge_fn = Option<unsafe extern "C" fn(older_than_ns: i64, user_data: *mut c_void) -> i64>;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lane_sampler_options_t {
    pub struct_size: u32,
    pub interval_ns: i64,
    pub retention_ns: i64,
    pub purge_interval_ns: i64,
    pub sink: lane_sample_fn,
    pub purger: lane_purge_fn,
    pub sink_ud: *mut c_void,
    pub sqlite_path: *const c_char,
    pub clock: lane_clock_fn,
    pub clock_ud: *mut c_void,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lane_sample_t {
    pub struct_size: u32,
    pub running: u32,
    pub queued: u32,
    pub sampled_at_ns: i64,
}

// ----------------------------------------------------------------- sessions

pub type lane_session_mode_t = i32;
pub const LANE_SESSION_QUEUE: lane_session_mode_t = 0;
pub const LANE_SESSION_FOLLOWUP: lane_session_mode_t = 1;
pub const LANE_SESSION_COLLECT: lane_session_mode_t = 2;
pub const LANE_SESSION_INTERRUPT: lane_session_mode_t = 3;
pub const LANE_SESSION_STEER: lane_session_mode_t = 4;

pub type lane_drop_t = i32;
pub const LANE_DROP_OLD: lane_drop_t = 0;
pub const LANE_DROP_NEW: lane_drop_t = 1;
pub const LANE_DROP_SUMMARIZE: lane_drop_t = 2;

pub type lane_token_estimate_fn = Option<
    unsafe extern "C" fn(
        session_key: *const c_char,
        tokens: *mut i64,
        context_window: *mut i64,
        user_data: *mut c_void,
    ) -> i32,
>;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lane_session_options_t {
    pub struct_size: u32,
    pub mode: lane_session_mode_t,
    pub cap: u32,
    pub drop: lane_drop_t,
    pub debounce_ns: i64,
    pub max_concurrent: u32,
    pub token_estimate: lane_token_estimate_fn,
    pub token_ud: *mut c_void,
    pub throttle_ratio: f64,
}

// ---------------------------------------------------------------- api table

/// Every exported function (`lane_get_api`). Append-only in C; the pointers
/// are not `Option` because a library that hands out the table fills all of
/// them (the dynamic loader checks `struct_size` before trusting it).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lane_api_t {
    pub struct_size: u32,
    pub abi_version: u32,
    pub status_name: unsafe extern "C" fn(lane_status_t) -> *const c_char,
    pub last_error: unsafe extern "C" fn() -> *const c_char,
    pub abi_version_fn: unsafe extern "C" fn() -> u32,
    pub version_string: unsafe extern "C" fn() -> *const c_char,
    pub create: unsafe extern "C" fn(*const c_char, *const lane_options_t, *mut *mut lane_t) -> lane_status_t,
    pub destroy: unsafe extern "C" fn(*mut lane_t) -> lane_status_t,
    pub submit: unsafe extern "C" fn(*mut lane_t, *const lane_job_t, *mut lane_ticket_t) -> lane_status_t,
    pub submit_wait: unsafe extern "C" fn(*mut lane_t, *const lane_job_t, i64, *mut lane_outcome_t) -> lane_status_t,
    pub cancel: unsafe extern "C" fn(*mut lane_t, *const c_char, u32) -> lane_status_t,
    pub stats: unsafe extern "C" fn(*mut lane_t, *mut lane_stats_t) -> lane_status_t,
    pub set_max_concurrent: unsafe extern "C" fn(*mut lane_t, u32) -> lane_status_t,
    pub set_preemption: unsafe extern "C" fn(*mut lane_t, i32, i64) -> lane_status_t,
    pub set_eta_window: unsafe extern "C" fn(*mut lane_t, u32) -> lane_status_t,
    pub set_tenant_weight: unsafe extern "C" fn(*mut lane_t, *const c_char, u32) -> lane_status_t,
    pub pause: unsafe extern "C" fn(*mut lane_t) -> lane_status_t,
    pub resume: unsafe extern "C" fn(*mut lane_t) -> lane_status_t,
    pub cooldown: unsafe extern "C" fn(*mut lane_t, i64) -> lane_status_t,
    pub close: unsafe extern "C" fn(*mut lane_t, lane_close_mode_t) -> lane_status_t,
    pub wait_idle: unsafe extern "C" fn(*mut lane_t, i64) -> lane_status_t,
    pub name: unsafe extern "C" fn(*const lane_t) -> *const c_char,
    pub ctx_cancelled: unsafe extern "C" fn(*const lane_ctx_t) -> c_int,
    pub ctx_cause: unsafe extern "C" fn(*const lane_ctx_t) -> lane_status_t,
    pub ctx_wait: unsafe extern "C" fn(*mut lane_ctx_t, i64) -> lane_status_t,
    pub ctx_job_id: unsafe extern "C" fn(*const lane_ctx_t) -> *const c_char,
    pub ctx_user_data: unsafe extern "C" fn(*const lane_ctx_t) -> *mut c_void,
    pub ctx_lane: unsafe extern "C" fn(*const lane_ctx_t) -> *mut lane_t,
    pub port_create: unsafe extern "C" fn(*mut *mut lane_port_t) -> lane_status_t,
    pub port_destroy: unsafe extern "C" fn(*mut lane_port_t) -> lane_status_t,
    pub port_fd: unsafe extern "C" fn(*const lane_port_t) -> c_int,
    pub port_poll: unsafe extern "C" fn(*mut lane_port_t, *mut lane_event_t, i32, i64) -> i32,
    pub port_wake: unsafe extern "C" fn(*mut lane_port_t) -> lane_status_t,
    pub job_finish: unsafe extern "C" fn(*mut lane_t, u64, i32) -> lane_status_t,
    pub get_api: unsafe extern "C" fn(u32) -> *const lane_api_t,
    pub registry_create:
        unsafe extern "C" fn(*const lane_registry_options_t, *mut *mut lane_registry_t) -> lane_status_t,
    pub registry_destroy: unsafe extern "C" fn(*mut lane_registry_t) -> lane_status_t,
    pub registry_get_or_create:
        unsafe extern "C" fn(*mut lane_registry_t, *const c_char, *mut *mut lane_t) -> lane_status_t,
    pub registry_get: unsafe extern "C" fn(*mut lane_registry_t, *const c_char) -> *mut lane_t,
    pub registry_names: unsafe extern "C" fn(*mut lane_registry_t, *mut *const c_char, usize) -> usize,
    pub registry_reload: unsafe extern "C" fn(*mut lane_registry_t) -> lane_status_t,
    pub registry_remove: unsafe extern "C" fn(*mut lane_registry_t, *const c_char) -> lane_status_t,
    pub registry_metrics: unsafe extern "C" fn(*mut lane_registry_t, *mut c_char, usize, *mut usize) -> lane_status_t,
    pub sampler_create: unsafe extern "C" fn(
        *mut lane_registry_t,
        *const lane_sampler_options_t,
        *mut *mut lane_sampler_t,
    ) -> lane_status_t,
    pub sampler_destroy: unsafe extern "C" fn(*mut lane_sampler_t) -> lane_status_t,
    pub sampler_start: unsafe extern "C" fn(*mut lane_sampler_t) -> lane_status_t,
    pub sampler_stop: unsafe extern "C" fn(*mut lane_sampler_t) -> lane_status_t,
    pub sampler_sample_once: unsafe extern "C" fn(*mut lane_sampler_t) -> lane_status_t,
    pub sampler_purge_once: unsafe extern "C" fn(*mut lane_sampler_t) -> lane_status_t,
    pub sqlite_query: unsafe extern "C" fn(
        *const c_char,
        *const c_char,
        i64,
        i64,
        *mut lane_sample_t,
        usize,
        *mut usize,
    ) -> lane_status_t,
    pub cancel_token: unsafe extern "C" fn(*mut lane_t, u64, u32) -> lane_status_t,
    pub session_create: unsafe extern "C" fn(
        *mut lane_t,
        *const c_char,
        *const lane_session_options_t,
        *mut *mut lane_session_t,
    ) -> lane_status_t,
    pub session_destroy: unsafe extern "C" fn(*mut lane_session_t) -> lane_status_t,
    pub session_enqueue: unsafe extern "C" fn(*mut lane_session_t, *const lane_job_t) -> lane_status_t,
    pub session_cancel_one: unsafe extern "C" fn(*mut lane_session_t) -> c_int,
    pub session_cancel_all: unsafe extern "C" fn(*mut lane_session_t) -> c_int,
    pub session_reset: unsafe extern "C" fn(*mut lane_session_t) -> lane_status_t,
    pub session_active: unsafe extern "C" fn(*mut lane_session_t) -> u32,
    pub session_queued: unsafe extern "C" fn(*mut lane_session_t) -> u32,
    pub session_set_max_concurrent: unsafe extern "C" fn(*mut lane_session_t, u32) -> lane_status_t,
    pub session_key: unsafe extern "C" fn(*const lane_session_t) -> *const c_char,
    pub ctx_batch_count: unsafe extern "C" fn(*const lane_ctx_t) -> u32,
    pub ctx_batch_item:
        unsafe extern "C" fn(*const lane_ctx_t, u32, *mut *const c_char, *mut *mut c_void) -> lane_status_t,
    pub ctx_next_message: unsafe extern "C" fn(*mut lane_ctx_t, *mut *const c_char, *mut *mut c_void) -> c_int,
    pub ctx_dropped_count: unsafe extern "C" fn(*const lane_ctx_t) -> u32,
    pub ctx_dropped_id: unsafe extern "C" fn(*const lane_ctx_t, u32) -> *const c_char,
    /// ABI 0.2.
    pub port_handle: unsafe extern "C" fn(*const lane_port_t) -> *mut c_void,
    /// ABI 0.3.
    pub set_rate_limit: unsafe extern "C" fn(*mut lane_t, u32, i64, i64, i64) -> lane_status_t,
    pub set_tenant_limit: unsafe extern "C" fn(*mut lane_t, *const c_char, u32) -> lane_status_t,
    pub tenant_running: unsafe extern "C" fn(*mut lane_t, *const c_char, *mut u32) -> lane_status_t,
    pub ctx_set_cost: unsafe extern "C" fn(*mut lane_ctx_t, i64) -> lane_status_t,
    pub ctx_overloaded: unsafe extern "C" fn(*mut lane_ctx_t) -> lane_status_t,
    pub ctx_release: unsafe extern "C" fn(*mut lane_ctx_t) -> lane_status_t,
    pub ctx_reacquire: unsafe extern "C" fn(*mut lane_ctx_t, i64) -> lane_status_t,
    pub job_release: unsafe extern "C" fn(*mut lane_t, u64) -> lane_status_t,
    pub job_reacquire: unsafe extern "C" fn(*mut lane_t, u64) -> lane_status_t,
    pub job_finish_cost: unsafe extern "C" fn(*mut lane_t, u64, i32, i64) -> lane_status_t,
    /// ABI 0.4.
    pub cluster_create: unsafe extern "C" fn(*const lane_cluster_options_t, *mut *mut lane_cluster_t) -> lane_status_t,
    pub cluster_destroy: unsafe extern "C" fn(*mut lane_cluster_t) -> lane_status_t,
    pub ctx_fence: unsafe extern "C" fn(*const lane_ctx_t) -> u64,
}

// ------------------------------------------------ lanes shared on Redis (0.4)

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lane_cluster_options_t {
    pub struct_size: u32,
    pub url: *const c_char,
    pub key_prefix: *const c_char,
    pub lease_ns: i64,
    pub fallback_slots: u32,
    pub timeout_ns: i64,
}

/// `LANE_*_INIT`: every public struct starts with `struct_size` and is
/// otherwise all zeros / NULL by default.
macro_rules! init_impls {
    ($($t:ty),*) => {$(
        impl $t {
            /// The header's `*_INIT`: `struct_size` set, every other field zero.
            pub fn init() -> Self {
                // SAFETY: every field of this struct is an integer, a float, a
                // raw pointer or an `Option` of a function pointer, for all of
                // which the all-zero bit pattern is valid (0, 0.0, NULL, None).
                let mut v: Self = unsafe { core::mem::zeroed() };
                v.struct_size = core::mem::size_of::<Self>() as u32;
                v
            }
        }
        impl Default for $t {
            fn default() -> Self {
                Self::init()
            }
        }
    )*};
}
init_impls!(
    lane_outcome_t,
    lane_job_t,
    lane_ticket_t,
    lane_options_t,
    lane_stats_t,
    lane_event_t,
    lane_registry_options_t,
    lane_sampler_options_t,
    lane_sample_t,
    lane_session_options_t,
    lane_cluster_options_t
);

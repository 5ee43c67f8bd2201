//! Every function of `lane.h`. Linked (the default) they are plain
//! `extern "C"` declarations; with the feature `dynamic` each is a
//! same-signature `unsafe fn` that calls through the `lane_api_t` table the
//! loaded library handed out, so code above this crate is the same either way.
//!
//! `tests/functions.rs` parses `lane.h` and checks that every `LANE_API`
//! function has a line `fn lane_...(` here.

use crate::types::*;
use core::ffi::{c_char, c_int, c_void};

macro_rules! lane_functions {
    ($( fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? => $field:ident; )*) => {
        #[cfg(not(feature = "dynamic"))]
        unsafe extern "C" {
            $( pub fn $name($($arg: $ty),*) $(-> $ret)?; )*
        }

        $(
            #[cfg(feature = "dynamic")]
            #[inline]
            #[doc = concat!("Calls `", stringify!($name), "` through the loaded library's `lane_api_t`.")]
            ///
            /// # Safety
            /// As for the C function. Panics if liblane cannot be loaded
            /// (call [`crate::dynamic::load`] first to get that as an error).
            pub unsafe fn $name($($arg: $ty),*) $(-> $ret)? {
                // SAFETY: the table comes from the loaded library's
                // lane_get_api and its struct_size covers this field; the
                // caller upholds the C function's own contract.
                unsafe { (crate::dynamic::api().$field)($($arg),*) }
            }
        )*
    };
}

lane_functions! {
    fn lane_status_name(s: lane_status_t) -> *const c_char => status_name;
    fn lane_last_error() -> *const c_char => last_error;
    fn lane_abi_version() -> u32 => abi_version_fn;
    fn lane_version_string() -> *const c_char => version_string;
    fn lane_create(name: *const c_char, opts: *const lane_options_t, out: *mut *mut lane_t) -> lane_status_t => create;
    fn lane_destroy(lane: *mut lane_t) -> lane_status_t => destroy;
    fn lane_submit(lane: *mut lane_t, job: *const lane_job_t, ticket: *mut lane_ticket_t) -> lane_status_t => submit;
    fn lane_submit_wait(lane: *mut lane_t, job: *const lane_job_t, timeout_ns: i64, outcome: *mut lane_outcome_t) -> lane_status_t => submit_wait;
    fn lane_cancel(lane: *mut lane_t, job_id: *const c_char, flags: u32) -> lane_status_t => cancel;
    fn lane_cancel_token(lane: *mut lane_t, job_token: u64, flags: u32) -> lane_status_t => cancel_token;
    fn lane_stats(lane: *mut lane_t, out: *mut lane_stats_t) -> lane_status_t => stats;
    fn lane_set_max_concurrent(lane: *mut lane_t, n: u32) -> lane_status_t => set_max_concurrent;
    fn lane_set_preemption(lane: *mut lane_t, enabled: i32, min_runtime_ns: i64) -> lane_status_t => set_preemption;
    fn lane_set_eta_window(lane: *mut lane_t, n: u32) -> lane_status_t => set_eta_window;
    fn lane_set_tenant_weight(lane: *mut lane_t, tenant: *const c_char, weight: u32) -> lane_status_t => set_tenant_weight;
    fn lane_pause(lane: *mut lane_t) -> lane_status_t => pause;
    fn lane_resume(lane: *mut lane_t) -> lane_status_t => resume;
    fn lane_cooldown(lane: *mut lane_t, duration_ns: i64) -> lane_status_t => cooldown;
    fn lane_close(lane: *mut lane_t, mode: lane_close_mode_t) -> lane_status_t => close;
    fn lane_wait_idle(lane: *mut lane_t, timeout_ns: i64) -> lane_status_t => wait_idle;
    fn lane_name(lane: *const lane_t) -> *const c_char => name;
    fn lane_ctx_cancelled(ctx: *const lane_ctx_t) -> c_int => ctx_cancelled;
    fn lane_ctx_cause(ctx: *const lane_ctx_t) -> lane_status_t => ctx_cause;
    fn lane_ctx_wait(ctx: *mut lane_ctx_t, timeout_ns: i64) -> lane_status_t => ctx_wait;
    fn lane_ctx_job_id(ctx: *const lane_ctx_t) -> *const c_char => ctx_job_id;
    fn lane_ctx_user_data(ctx: *const lane_ctx_t) -> *mut c_void => ctx_user_data;
    fn lane_ctx_lane(ctx: *const lane_ctx_t) -> *mut lane_t => ctx_lane;
    fn lane_port_create(out: *mut *mut lane_port_t) -> lane_status_t => port_create;
    fn lane_port_destroy(port: *mut lane_port_t) -> lane_status_t => port_destroy;
    fn lane_port_fd(port: *const lane_port_t) -> c_int => port_fd;
    fn lane_port_poll(port: *mut lane_port_t, events: *mut lane_event_t, max: i32, timeout_ns: i64) -> i32 => port_poll;
    fn lane_port_wake(port: *mut lane_port_t) -> lane_status_t => port_wake;
    fn lane_job_finish(lane: *mut lane_t, job_token: u64, job_code: i32) -> lane_status_t => job_finish;
    fn lane_registry_create(opts: *const lane_registry_options_t, out: *mut *mut lane_registry_t) -> lane_status_t => registry_create;
    fn lane_registry_destroy(reg: *mut lane_registry_t) -> lane_status_t => registry_destroy;
    fn lane_registry_get_or_create(reg: *mut lane_registry_t, name: *const c_char, out: *mut *mut lane_t) -> lane_status_t => registry_get_or_create;
    fn lane_registry_get(reg: *mut lane_registry_t, name: *const c_char) -> *mut lane_t => registry_get;
    fn lane_registry_names(reg: *mut lane_registry_t, names: *mut *const c_char, cap: usize) -> usize => registry_names;
    fn lane_registry_reload(reg: *mut lane_registry_t) -> lane_status_t => registry_reload;
    fn lane_registry_remove(reg: *mut lane_registry_t, name: *const c_char) -> lane_status_t => registry_remove;
    fn lane_registry_metrics(reg: *mut lane_registry_t, buf: *mut c_char, cap: usize, len: *mut usize) -> lane_status_t => registry_metrics;
    fn lane_sampler_create(reg: *mut lane_registry_t, opts: *const lane_sampler_options_t, out: *mut *mut lane_sampler_t) -> lane_status_t => sampler_create;
    fn lane_sampler_destroy(s: *mut lane_sampler_t) -> lane_status_t => sampler_destroy;
    fn lane_sampler_start(s: *mut lane_sampler_t) -> lane_status_t => sampler_start;
    fn lane_sampler_stop(s: *mut lane_sampler_t) -> lane_status_t => sampler_stop;
    fn lane_sampler_sample_once(s: *mut lane_sampler_t) -> lane_status_t => sampler_sample_once;
    fn lane_sampler_purge_once(s: *mut lane_sampler_t) -> lane_status_t => sampler_purge_once;
    fn lane_sqlite_query(path: *const c_char, lane: *const c_char, from_ns: i64, to_ns: i64, out: *mut lane_sample_t, cap: usize, total: *mut usize) -> lane_status_t => sqlite_query;
    fn lane_session_create(lane: *mut lane_t, key: *const c_char, opts: *const lane_session_options_t, out: *mut *mut lane_session_t) -> lane_status_t => session_create;
    fn lane_session_destroy(s: *mut lane_session_t) -> lane_status_t => session_destroy;
    fn lane_session_enqueue(s: *mut lane_session_t, job: *const lane_job_t) -> lane_status_t => session_enqueue;
    fn lane_session_cancel_one(s: *mut lane_session_t) -> c_int => session_cancel_one;
    fn lane_session_cancel_all(s: *mut lane_session_t) -> c_int => session_cancel_all;
    fn lane_session_reset(s: *mut lane_session_t) -> lane_status_t => session_reset;
    fn lane_session_active(s: *mut lane_session_t) -> u32 => session_active;
    fn lane_session_queued(s: *mut lane_session_t) -> u32 => session_queued;
    fn lane_session_set_max_concurrent(s: *mut lane_session_t, n: u32) -> lane_status_t => session_set_max_concurrent;
    fn lane_session_key(s: *const lane_session_t) -> *const c_char => session_key;
    fn lane_ctx_batch_count(ctx: *const lane_ctx_t) -> u32 => ctx_batch_count;
    fn lane_ctx_batch_item(ctx: *const lane_ctx_t, i: u32, id: *mut *const c_char, user_data: *mut *mut c_void) -> lane_status_t => ctx_batch_item;
    fn lane_ctx_next_message(ctx: *mut lane_ctx_t, id: *mut *const c_char, user_data: *mut *mut c_void) -> c_int => ctx_next_message;
    fn lane_ctx_dropped_count(ctx: *const lane_ctx_t) -> u32 => ctx_dropped_count;
    fn lane_ctx_dropped_id(ctx: *const lane_ctx_t, i: u32) -> *const c_char => ctx_dropped_id;
    fn lane_get_api(abi_version: u32) -> *const lane_api_t => get_api;
    fn lane_port_handle(port: *const lane_port_t) -> *mut c_void => port_handle;
    fn lane_set_rate_limit(lane: *mut lane_t, kinds: u32, amount: i64, per_ns: i64, burst: i64) -> lane_status_t => set_rate_limit;
    fn lane_set_tenant_limit(lane: *mut lane_t, tenant: *const c_char, max_running: u32) -> lane_status_t => set_tenant_limit;
    fn lane_tenant_running(lane: *mut lane_t, tenant: *const c_char, out: *mut u32) -> lane_status_t => tenant_running;
    fn lane_ctx_set_cost(ctx: *mut lane_ctx_t, cost: i64) -> lane_status_t => ctx_set_cost;
    fn lane_ctx_overloaded(ctx: *mut lane_ctx_t) -> lane_status_t => ctx_overloaded;
    fn lane_ctx_release(ctx: *mut lane_ctx_t) -> lane_status_t => ctx_release;
    fn lane_ctx_reacquire(ctx: *mut lane_ctx_t, timeout_ns: i64) -> lane_status_t => ctx_reacquire;
    fn lane_job_release(lane: *mut lane_t, job_token: u64) -> lane_status_t => job_release;
    fn lane_job_reacquire(lane: *mut lane_t, job_token: u64) -> lane_status_t => job_reacquire;
    fn lane_job_finish_cost(lane: *mut lane_t, job_token: u64, job_code: i32, cost: i64) -> lane_status_t => job_finish_cost;
    fn lane_ctx_fence(ctx: *const lane_ctx_t) -> u64 => ctx_fence;
    fn lane_cluster_create(opts: *const lane_cluster_options_t, out: *mut *mut lane_cluster_t) -> lane_status_t => cluster_create;
    fn lane_cluster_destroy(cluster: *mut lane_cluster_t) -> lane_status_t => cluster_destroy;
}

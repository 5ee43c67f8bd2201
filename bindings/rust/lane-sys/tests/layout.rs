//! Every struct of lane.h has the same size, alignment and field offsets in
//! Rust as in C, and every constant the same value. The C side is
//! csrc/layout.c compiled against the lane.h the build found. When the
//! header grows (a field appended at the end of a struct), the size check
//! fails first and says which struct to extend.

use core::ffi::CStr;
use lane_sys::*;
use std::collections::BTreeMap;
use std::mem::{align_of, offset_of, size_of};

fn size_of_field<T, F>(_: fn(&T) -> &F) -> usize {
    size_of::<F>()
}

/// (type, field) -> (a, b): field "" = (size, align); else (offset, size).
fn rust_layout() -> BTreeMap<(String, String), (i64, i64)> {
    let mut m = BTreeMap::new();
    macro_rules! ty {
        ($t:ident $(, $f:ident)*) => {{
            m.insert((stringify!($t).to_string(), String::new()), (size_of::<$t>() as i64, align_of::<$t>() as i64));
            $( m.insert(
                (stringify!($t).to_string(), stringify!($f).to_string()),
                (offset_of!($t, $f) as i64, size_of_field(|s: &$t| &s.$f) as i64),
            ); )*
        }};
    }
    ty!(lane_status_t);
    ty!(lane_blocked_by_t);
    ty!(lane_policy_t);
    ty!(lane_close_mode_t);
    ty!(lane_event_kind_t);
    ty!(lane_session_mode_t);
    ty!(lane_drop_t);
    ty!(
        lane_outcome_t,
        struct_size,
        status,
        job_code,
        job_id,
        lane,
        job_token,
        enqueued_at_ns,
        started_at_ns,
        finished_at_ns
    );
    ty!(
        lane_job_t,
        struct_size,
        id,
        tenant,
        priority,
        flags,
        max_wait_ns,
        run,
        on_done,
        user_data,
        port,
        queue_timeout_ns,
        cost,
        run_timeout_ns,
        slots
    );
    ty!(lane_ticket_t, struct_size, position, eta_ns, job_token, blocked_by);
    ty!(
        lane_options_t,
        struct_size,
        max_concurrent,
        policy,
        eta_window,
        preemption_off,
        preempt_min_runtime_ns,
        preempt_overcommit,
        max_queued,
        eta_default_runtime_ns,
        aging_ns,
        clock,
        clock_ud,
        fair_half_life_ns,
        adaptive_min,
        adaptive_max,
        adaptive_cooldown_ns,
        cluster
    );
    ty!(
        lane_stats_t,
        struct_size,
        name,
        max_concurrent,
        running,
        queued,
        oldest_queued_at_ns,
        throughput_1m,
        submitted,
        completed,
        failed,
        cancelled,
        preempted,
        timed_out,
        closed,
        refused,
        wait_p50_ns,
        wait_p99_ns,
        run_p50_ns,
        run_p99_ns,
        paused,
        cooldown_until_ns,
        blocked_by,
        preemptions,
        eta_window,
        mean_runtime_ns,
        width,
        slots_in_use,
        released,
        reacquiring,
        rate_waits,
        rate_ready_at_ns,
        cost_used,
        overloads,
        shared,
        available,
        global_running,
        global_queued,
        leases_lost,
        releases_refused
    );
    ty!(
        lane_cluster_options_t,
        struct_size,
        url,
        key_prefix,
        lease_ns,
        fallback_slots,
        timeout_ns
    );
    ty!(
        lane_event_t,
        struct_size,
        kind,
        status,
        job_code,
        lane,
        job_token,
        user_data,
        at_ns,
        ctx
    );
    ty!(
        lane_registry_options_t,
        struct_size,
        config_int,
        config_ud,
        log,
        log_ud,
        default_policy,
        default_max_concurrent,
        idle_retire_ns,
        clock,
        clock_ud,
        cluster
    );
    ty!(
        lane_sampler_options_t,
        struct_size,
        interval_ns,
        retention_ns,
        purge_interval_ns,
        sink,
        purger,
        sink_ud,
        sqlite_path,
        clock,
        clock_ud
    );
    ty!(lane_sample_t, struct_size, running, queued, sampled_at_ns);
    ty!(
        lane_session_options_t,
        struct_size,
        mode,
        cap,
        drop,
        debounce_ns,
        max_concurrent,
        token_estimate,
        token_ud,
        throttle_ratio
    );
    ty!(
        lane_api_t,
        struct_size,
        abi_version,
        status_name,
        last_error,
        abi_version_fn,
        version_string,
        create,
        destroy,
        submit,
        submit_wait,
        cancel,
        stats,
        set_max_concurrent,
        set_preemption,
        set_eta_window,
        set_tenant_weight,
        pause,
        resume,
        cooldown,
        close,
        wait_idle,
        name,
        ctx_cancelled,
        ctx_cause,
        ctx_wait,
        ctx_job_id,
        ctx_user_data,
        ctx_lane,
        port_create,
        port_destroy,
        port_fd,
        port_poll,
        port_wake,
        job_finish,
        get_api,
        registry_create,
        registry_destroy,
        registry_get_or_create,
        registry_get,
        registry_names,
        registry_reload,
        registry_remove,
        registry_metrics,
        sampler_create,
        sampler_destroy,
        sampler_start,
        sampler_stop,
        sampler_sample_once,
        sampler_purge_once,
        sqlite_query,
        cancel_token,
        session_create,
        session_destroy,
        session_enqueue,
        session_cancel_one,
        session_cancel_all,
        session_reset,
        session_active,
        session_queued,
        session_set_max_concurrent,
        session_key,
        ctx_batch_count,
        ctx_batch_item,
        ctx_next_message,
        ctx_dropped_count,
        ctx_dropped_id,
        port_handle,
        set_rate_limit,
        set_tenant_limit,
        tenant_running,
        ctx_set_cost,
        ctx_overloaded,
        ctx_release,
        ctx_reacquire,
        job_release,
        job_reacquire,
        job_finish_cost,
        cluster_create,
        cluster_destroy,
        ctx_fence
    );

    macro_rules! consts {
        ($($c:ident),* $(,)?) => {$(
            m.insert(("const".to_string(), stringify!($c).to_string()), ($c as i64, 0));
        )*};
    }
    consts!(
        LANE_VERSION_MAJOR,
        LANE_VERSION_MINOR,
        LANE_VERSION_PATCH,
        LANE_ABI_MAJOR,
        LANE_ABI_MINOR,
        LANE_ABI_VERSION,
        LANE_OK,
        LANE_ERR_INVALID,
        LANE_ERR_CLOSED,
        LANE_ERR_BUSY,
        LANE_ERR_NOT_QUEUED,
        LANE_ERR_CANCELLED,
        LANE_ERR_PREEMPTED,
        LANE_ERR_DUPLICATE,
        LANE_ERR_QUEUE_FULL,
        LANE_ERR_DROPPED,
        LANE_ERR_STALE,
        LANE_ERR_CLEARED,
        LANE_ERR_TIMEOUT,
        LANE_ERR_NOMEM,
        LANE_ERR_JOB_FAILED,
        LANE_ERR_INTERNAL,
        LANE_ERR_DEADLOCK,
        LANE_ERR_IO,
        LANE_ERR_UNSUPPORTED,
        LANE_ERR_UNAVAILABLE,
        LANE_JOB_PREEMPTIBLE,
        LANE_JOB_REQUEUE_ON_PREEMPT,
        LANE_JOB_STEERABLE,
        LANE_BLOCKED_NONE,
        LANE_BLOCKED_FULL,
        LANE_BLOCKED_PAUSED,
        LANE_BLOCKED_COOLDOWN,
        LANE_BLOCKED_PRIORITY,
        LANE_BLOCKED_RATE,
        LANE_BLOCKED_TENANT_LIMIT,
        LANE_BLOCKED_TENANT,
        LANE_RATE_REQUESTS,
        LANE_RATE_COST,
        LANE_JOB_OVERLOADED,
        LANE_POLICY_DEFAULT,
        LANE_POLICY_FIFO,
        LANE_POLICY_FAIR_SHARE,
        LANE_CANCEL_QUEUED,
        LANE_CANCEL_RUNNING,
        LANE_CLOSE_DRAIN,
        LANE_CLOSE_CANCEL,
        LANE_EVENT_GRANT,
        LANE_EVENT_CANCEL,
        LANE_EVENT_DONE,
        LANE_REGISTRY_NAME_MAX,
        LANE_LOG_ERROR,
        LANE_LOG_WARN,
        LANE_LOG_INFO,
        LANE_SESSION_QUEUE,
        LANE_SESSION_FOLLOWUP,
        LANE_SESSION_COLLECT,
        LANE_SESSION_INTERRUPT,
        LANE_SESSION_STEER,
        LANE_DROP_OLD,
        LANE_DROP_NEW,
        LANE_DROP_SUMMARIZE,
    );
    m
}

fn c_layout() -> BTreeMap<(String, String), (i64, i64)> {
    let mut n = 0usize;
    // SAFETY: lanesys_layout (csrc/layout.c) returns a static table of n
    // entries whose strings are static literals.
    let table = unsafe { std::slice::from_raw_parts(lane_sys::c_layout::lanesys_layout(&mut n), n) };
    table
        .iter()
        .map(|e| {
            // SAFETY: see above: static NUL-terminated literals.
            let (t, f) = unsafe { (CStr::from_ptr(e.type_), CStr::from_ptr(e.field)) };
            (
                (t.to_string_lossy().into_owned(), f.to_string_lossy().into_owned()),
                (e.a, e.b),
            )
        })
        .collect()
}

#[test]
fn every_struct_and_constant_matches_the_c_header() {
    let c = c_layout();
    let r = rust_layout();
    let mut problems = Vec::new();
    for ((t, f), cv) in &c {
        match r.get(&(t.clone(), f.clone())) {
            None if t == "const" => problems.push(format!("constant {f} = {} in C has no Rust twin", cv.0)),
            None => problems.push(format!("{t}.{f}: in C (offset {}), not declared in lane-sys", cv.0)),
            Some(rv) if rv == cv => {}
            Some(rv) if t == "const" => problems.push(format!("constant {f}: C says {}, Rust says {}", cv.0, rv.0)),
            Some(rv) if f.is_empty() => problems.push(format!(
                "{t}: C has size {} align {}, Rust has size {} align {}{}",
                cv.0,
                cv.1,
                rv.0,
                rv.1,
                if cv.0 > rv.0 {
                    " -- lane.h grew this struct (a field appended at its end?): add the field to lane-sys/src/types.rs and csrc/layout.c"
                } else {
                    " -- lane.h shrank or reordered this struct"
                }
            )),
            Some(rv) => problems.push(format!(
                "{t}.{f}: C has offset {} size {}, Rust has offset {} size {}",
                cv.0, cv.1, rv.0, rv.1
            )),
        }
    }
    for (t, f) in r.keys() {
        if !c.contains_key(&(t.clone(), f.clone())) {
            problems.push(format!("{t}.{f}: declared in Rust, missing from csrc/layout.c"));
        }
    }
    assert!(
        problems.is_empty(),
        "lane-sys does not match lane.h:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn init_sets_struct_size_and_zeroes_the_rest() {
    let j = lane_job_t::init();
    assert_eq!(j.struct_size as usize, size_of::<lane_job_t>());
    assert!(j.id.is_null() && j.run.is_none() && j.port.is_null() && j.priority == 0);
    let o = lane_session_options_t::default();
    assert_eq!(o.struct_size as usize, size_of::<lane_session_options_t>());
    assert_eq!(o.throttle_ratio, 0.0);
}

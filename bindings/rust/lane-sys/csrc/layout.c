/* The C compiler's view of lane.h, for lane-sys's layout tests: the size and
 * alignment of every public struct, the offset and size of every field, and
 * the value of every constant. Keep in step with src/types.rs: a field listed
 * here and missing there (or the reverse) fails the test, and so does a size
 * that differs, which is how a field appended to a struct in lane.h shows. */
#include <lane/lane.h>
#include <stddef.h>
#include <stdint.h>

struct lanesys_entry {
  const char *type;
  const char *field;
  int64_t a, b;
};

#define T(t) {#t, "", (int64_t)sizeof(t), (int64_t)_Alignof(t)},
#define F(t, f) {#t, #f, (int64_t)offsetof(t, f), (int64_t)sizeof(((t *)0)->f)},
#define C(c) {"const", #c, (int64_t)(c), 0},

static const struct lanesys_entry table[] = {
    T(lane_status_t) T(lane_blocked_by_t) T(lane_policy_t) T(lane_close_mode_t) T(lane_event_kind_t)
    T(lane_session_mode_t) T(lane_drop_t)

    T(lane_outcome_t) F(lane_outcome_t, struct_size) F(lane_outcome_t, status) F(lane_outcome_t, job_code)
    F(lane_outcome_t, job_id) F(lane_outcome_t, lane) F(lane_outcome_t, job_token)
    F(lane_outcome_t, enqueued_at_ns) F(lane_outcome_t, started_at_ns) F(lane_outcome_t, finished_at_ns)

    T(lane_job_t) F(lane_job_t, struct_size) F(lane_job_t, id) F(lane_job_t, tenant) F(lane_job_t, priority)
    F(lane_job_t, flags) F(lane_job_t, max_wait_ns) F(lane_job_t, run) F(lane_job_t, on_done)
    F(lane_job_t, user_data) F(lane_job_t, port) F(lane_job_t, queue_timeout_ns)
    F(lane_job_t, cost) F(lane_job_t, run_timeout_ns) F(lane_job_t, slots)

    T(lane_ticket_t) F(lane_ticket_t, struct_size) F(lane_ticket_t, position) F(lane_ticket_t, eta_ns)
    F(lane_ticket_t, job_token) F(lane_ticket_t, blocked_by)

    T(lane_options_t) F(lane_options_t, struct_size) F(lane_options_t, max_concurrent) F(lane_options_t, policy)
    F(lane_options_t, eta_window) F(lane_options_t, preemption_off) F(lane_options_t, preempt_min_runtime_ns)
    F(lane_options_t, preempt_overcommit) F(lane_options_t, max_queued) F(lane_options_t, eta_default_runtime_ns)
    F(lane_options_t, aging_ns) F(lane_options_t, clock) F(lane_options_t, clock_ud) F(lane_options_t, fair_half_life_ns)
    F(lane_options_t, adaptive_min) F(lane_options_t, adaptive_max) F(lane_options_t, adaptive_cooldown_ns)
    F(lane_options_t, cluster)

    T(lane_stats_t) F(lane_stats_t, struct_size) F(lane_stats_t, name) F(lane_stats_t, max_concurrent)
    F(lane_stats_t, running) F(lane_stats_t, queued) F(lane_stats_t, oldest_queued_at_ns)
    F(lane_stats_t, throughput_1m) F(lane_stats_t, submitted) F(lane_stats_t, completed) F(lane_stats_t, failed)
    F(lane_stats_t, cancelled) F(lane_stats_t, preempted) F(lane_stats_t, timed_out) F(lane_stats_t, closed)
    F(lane_stats_t, refused) F(lane_stats_t, wait_p50_ns) F(lane_stats_t, wait_p99_ns) F(lane_stats_t, run_p50_ns)
    F(lane_stats_t, run_p99_ns) F(lane_stats_t, paused) F(lane_stats_t, cooldown_until_ns)
    F(lane_stats_t, blocked_by) F(lane_stats_t, preemptions) F(lane_stats_t, eta_window)
    F(lane_stats_t, mean_runtime_ns)
    F(lane_stats_t, width) F(lane_stats_t, slots_in_use) F(lane_stats_t, released) F(lane_stats_t, reacquiring)
    F(lane_stats_t, rate_waits) F(lane_stats_t, rate_ready_at_ns) F(lane_stats_t, cost_used) F(lane_stats_t, overloads)
    F(lane_stats_t, shared) F(lane_stats_t, available) F(lane_stats_t, global_running) F(lane_stats_t, global_queued)
    F(lane_stats_t, leases_lost) F(lane_stats_t, releases_refused)

    T(lane_cluster_options_t) F(lane_cluster_options_t, struct_size) F(lane_cluster_options_t, url)
    F(lane_cluster_options_t, key_prefix) F(lane_cluster_options_t, lease_ns) F(lane_cluster_options_t, fallback_slots)
    F(lane_cluster_options_t, timeout_ns)

    T(lane_event_t) F(lane_event_t, struct_size) F(lane_event_t, kind) F(lane_event_t, status)
    F(lane_event_t, job_code) F(lane_event_t, lane) F(lane_event_t, job_token) F(lane_event_t, user_data)
    F(lane_event_t, at_ns) F(lane_event_t, ctx)

    T(lane_registry_options_t) F(lane_registry_options_t, struct_size) F(lane_registry_options_t, config_int)
    F(lane_registry_options_t, config_ud) F(lane_registry_options_t, log) F(lane_registry_options_t, log_ud)
    F(lane_registry_options_t, default_policy) F(lane_registry_options_t, default_max_concurrent)
    F(lane_registry_options_t, idle_retire_ns) F(lane_registry_options_t, clock)
    F(lane_registry_options_t, clock_ud) F(lane_registry_options_t, cluster)

    T(lane_sampler_options_t) F(lane_sampler_options_t, struct_size) F(lane_sampler_options_t, interval_ns)
    F(lane_sampler_options_t, retention_ns) F(lane_sampler_options_t, purge_interval_ns)
    F(lane_sampler_options_t, sink) F(lane_sampler_options_t, purger) F(lane_sampler_options_t, sink_ud)
    F(lane_sampler_options_t, sqlite_path) F(lane_sampler_options_t, clock) F(lane_sampler_options_t, clock_ud)

    T(lane_sample_t) F(lane_sample_t, struct_size) F(lane_sample_t, running) F(lane_sample_t, queued)
    F(lane_sample_t, sampled_at_ns)

    T(lane_session_options_t) F(lane_session_options_t, struct_size) F(lane_session_options_t, mode)
    F(lane_session_options_t, cap) F(lane_session_options_t, drop) F(lane_session_options_t, debounce_ns)
    F(lane_session_options_t, max_concurrent) F(lane_session_options_t, token_estimate)
    F(lane_session_options_t, token_ud) F(lane_session_options_t, throttle_ratio)

    T(lane_api_t) F(lane_api_t, struct_size) F(lane_api_t, abi_version) F(lane_api_t, status_name)
    F(lane_api_t, last_error) F(lane_api_t, abi_version_fn) F(lane_api_t, version_string) F(lane_api_t, create)
    F(lane_api_t, destroy) F(lane_api_t, submit) F(lane_api_t, submit_wait) F(lane_api_t, cancel)
    F(lane_api_t, stats) F(lane_api_t, set_max_concurrent) F(lane_api_t, set_preemption)
    F(lane_api_t, set_eta_window) F(lane_api_t, set_tenant_weight) F(lane_api_t, pause) F(lane_api_t, resume)
    F(lane_api_t, cooldown) F(lane_api_t, close) F(lane_api_t, wait_idle) F(lane_api_t, name)
    F(lane_api_t, ctx_cancelled) F(lane_api_t, ctx_cause) F(lane_api_t, ctx_wait) F(lane_api_t, ctx_job_id)
    F(lane_api_t, ctx_user_data) F(lane_api_t, ctx_lane) F(lane_api_t, port_create) F(lane_api_t, port_destroy)
    F(lane_api_t, port_fd) F(lane_api_t, port_poll) F(lane_api_t, port_wake) F(lane_api_t, job_finish)
    F(lane_api_t, get_api) F(lane_api_t, registry_create) F(lane_api_t, registry_destroy)
    F(lane_api_t, registry_get_or_create) F(lane_api_t, registry_get) F(lane_api_t, registry_names)
    F(lane_api_t, registry_reload) F(lane_api_t, registry_remove) F(lane_api_t, registry_metrics)
    F(lane_api_t, sampler_create) F(lane_api_t, sampler_destroy) F(lane_api_t, sampler_start)
    F(lane_api_t, sampler_stop) F(lane_api_t, sampler_sample_once) F(lane_api_t, sampler_purge_once)
    F(lane_api_t, sqlite_query) F(lane_api_t, cancel_token) F(lane_api_t, session_create)
    F(lane_api_t, session_destroy) F(lane_api_t, session_enqueue) F(lane_api_t, session_cancel_one)
    F(lane_api_t, session_cancel_all) F(lane_api_t, session_reset) F(lane_api_t, session_active)
    F(lane_api_t, session_queued) F(lane_api_t, session_set_max_concurrent) F(lane_api_t, session_key)
    F(lane_api_t, ctx_batch_count) F(lane_api_t, ctx_batch_item) F(lane_api_t, ctx_next_message)
    F(lane_api_t, ctx_dropped_count) F(lane_api_t, ctx_dropped_id) F(lane_api_t, port_handle)
    F(lane_api_t, set_rate_limit) F(lane_api_t, set_tenant_limit) F(lane_api_t, tenant_running)
    F(lane_api_t, ctx_set_cost) F(lane_api_t, ctx_overloaded) F(lane_api_t, ctx_release) F(lane_api_t, ctx_reacquire)
    F(lane_api_t, job_release) F(lane_api_t, job_reacquire) F(lane_api_t, job_finish_cost)
    F(lane_api_t, cluster_create) F(lane_api_t, cluster_destroy) F(lane_api_t, ctx_fence)

    C(LANE_VERSION_MAJOR) C(LANE_VERSION_MINOR) C(LANE_VERSION_PATCH) C(LANE_ABI_MAJOR) C(LANE_ABI_MINOR)
    C(LANE_ABI_VERSION)
    C(LANE_OK) C(LANE_ERR_INVALID) C(LANE_ERR_CLOSED) C(LANE_ERR_BUSY) C(LANE_ERR_NOT_QUEUED)
    C(LANE_ERR_CANCELLED) C(LANE_ERR_PREEMPTED) C(LANE_ERR_DUPLICATE) C(LANE_ERR_QUEUE_FULL)
    C(LANE_ERR_DROPPED) C(LANE_ERR_STALE) C(LANE_ERR_CLEARED) C(LANE_ERR_TIMEOUT) C(LANE_ERR_NOMEM)
    C(LANE_ERR_JOB_FAILED) C(LANE_ERR_INTERNAL) C(LANE_ERR_DEADLOCK) C(LANE_ERR_IO) C(LANE_ERR_UNSUPPORTED)
    C(LANE_ERR_UNAVAILABLE)
    C(LANE_JOB_PREEMPTIBLE) C(LANE_JOB_REQUEUE_ON_PREEMPT) C(LANE_JOB_STEERABLE)
    C(LANE_BLOCKED_NONE) C(LANE_BLOCKED_FULL) C(LANE_BLOCKED_PAUSED) C(LANE_BLOCKED_COOLDOWN)
    C(LANE_BLOCKED_PRIORITY) C(LANE_BLOCKED_TENANT) C(LANE_BLOCKED_RATE) C(LANE_BLOCKED_TENANT_LIMIT)
    C(LANE_RATE_REQUESTS) C(LANE_RATE_COST) C(LANE_JOB_OVERLOADED)
    C(LANE_POLICY_DEFAULT) C(LANE_POLICY_FIFO) C(LANE_POLICY_FAIR_SHARE)
    C(LANE_CANCEL_QUEUED) C(LANE_CANCEL_RUNNING) C(LANE_CLOSE_DRAIN) C(LANE_CLOSE_CANCEL)
    C(LANE_EVENT_GRANT) C(LANE_EVENT_CANCEL) C(LANE_EVENT_DONE)
    C(LANE_REGISTRY_NAME_MAX) C(LANE_LOG_ERROR) C(LANE_LOG_WARN) C(LANE_LOG_INFO)
    C(LANE_SESSION_QUEUE) C(LANE_SESSION_FOLLOWUP) C(LANE_SESSION_COLLECT) C(LANE_SESSION_INTERRUPT)
    C(LANE_SESSION_STEER) C(LANE_DROP_OLD) C(LANE_DROP_NEW) C(LANE_DROP_SUMMARIZE)
};

const struct lanesys_entry *lanesys_layout(size_t *n) {
  *n = sizeof table / sizeof table[0];
  return table;
}

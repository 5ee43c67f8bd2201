// The C side of capi.go, compiled by cgo with the package (see golane.h).
#include <lane/lane.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "golane.h"

// A ManualClock: 8 bytes of C memory the lane reads as its clock, so no
// library thread ever calls Go for the time.
static int64_t golane_manual_now(void *ud) { return __atomic_load_n((int64_t *)ud, __ATOMIC_SEQ_CST); }
int64_t *golane_clock_new(int64_t t) {
  int64_t *p = (int64_t *)malloc(sizeof *p);
  if (p) __atomic_store_n(p, t, __ATOMIC_SEQ_CST);
  return p;
}
void golane_clock_set(int64_t *p, int64_t t) { __atomic_store_n(p, t, __ATOMIC_SEQ_CST); }
int64_t golane_clock_get(int64_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }

golane_result golane_create(const char *name, golane_options o, lane_t **out_lane, lane_port_t **out_port) {
  lane_options_t opts = LANE_OPTIONS_INIT;
  opts.max_concurrent = o.max_concurrent;
  opts.policy = (lane_policy_t)o.policy;
  opts.eta_window = o.eta_window;
  opts.preemption_off = o.preemption_off;
  opts.preempt_min_runtime_ns = o.preempt_min_runtime_ns;
  opts.preempt_overcommit = o.preempt_overcommit;
  opts.max_queued = o.max_queued;
  opts.eta_default_runtime_ns = o.eta_default_runtime_ns;
  opts.aging_ns = o.aging_ns;
  opts.fair_half_life_ns = o.fair_half_life_ns;
  opts.adaptive_min = o.adaptive_min;
  opts.adaptive_max = o.adaptive_max;
  opts.adaptive_cooldown_ns = o.adaptive_cooldown_ns;
  opts.cluster = o.cluster;
  if (o.manual_clock) {
    opts.clock = golane_manual_now;
    opts.clock_ud = o.manual_clock;
  }
  lane_status_t s = lane_create(name, &opts, out_lane);
  if (s != LANE_OK) return golane_res(s);
  s = lane_port_create(out_port);
  if (s != LANE_OK) {
    golane_result r = golane_res(s);
    lane_destroy(*out_lane);
    *out_lane = NULL;
    return r;
  }
  return golane_res(LANE_OK);
}

// id and tenant point into one Go byte slice (NUL-terminated strings, no Go
// pointers inside); the library copies them before returning.
golane_submitted golane_submit(lane_t *lane, lane_port_t *port, const char *id, const char *tenant,
                                      int32_t priority, uint32_t flags, int64_t max_wait_ns,
                                      int64_t queue_timeout_ns, int64_t cost, uint32_t slots,
                                      int64_t run_timeout_ns, uintptr_t handle) {
  lane_job_t job = LANE_JOB_INIT;
  job.cost = cost;
  job.slots = slots;
  job.run_timeout_ns = run_timeout_ns;
  job.id = id;
  job.tenant = tenant;
  job.priority = priority;
  job.flags = flags;
  job.max_wait_ns = max_wait_ns;
  job.queue_timeout_ns = queue_timeout_ns;
  job.run = NULL;  // host-run: granted through the port, run by a goroutine
  job.user_data = (void *)handle;
  job.port = port;
  lane_ticket_t t = LANE_TICKET_INIT;
  lane_status_t s = lane_submit(lane, &job, &t);
  golane_submitted r = {(int32_t)s, t.position, t.eta_ns, t.job_token, (int32_t)t.blocked_by, NULL};
  if (s != LANE_OK) r.msg = strdup(lane_last_error());
  return r;
}

golane_result golane_cancel(lane_t *lane, const char *id, uint32_t flags) {
  return golane_res(lane_cancel(lane, id, flags));
}
golane_result golane_cancel_token(lane_t *lane, uint64_t token, uint32_t flags) {
  return golane_res(lane_cancel_token(lane, token, flags));
}
golane_result golane_stats(lane_t *lane, lane_stats_t *out) {
  out->struct_size = sizeof *out;
  return golane_res(lane_stats(lane, out));
}
golane_result golane_set_max_concurrent(lane_t *lane, uint32_t n) {
  return golane_res(lane_set_max_concurrent(lane, n));
}
golane_result golane_set_preemption(lane_t *lane, int32_t enabled, int64_t min_runtime_ns) {
  return golane_res(lane_set_preemption(lane, enabled, min_runtime_ns));
}
golane_result golane_set_eta_window(lane_t *lane, uint32_t n) {
  return golane_res(lane_set_eta_window(lane, n));
}
golane_result golane_set_tenant_weight(lane_t *lane, const char *tenant, uint32_t w) {
  return golane_res(lane_set_tenant_weight(lane, tenant, w));
}
golane_result golane_pause(lane_t *lane) { return golane_res(lane_pause(lane)); }
golane_result golane_resume(lane_t *lane) { return golane_res(lane_resume(lane)); }
golane_result golane_cooldown(lane_t *lane, int64_t d) { return golane_res(lane_cooldown(lane, d)); }
golane_result golane_close(lane_t *lane, int32_t mode) {
  return golane_res(lane_close(lane, (lane_close_mode_t)mode));
}
golane_result golane_job_finish(lane_t *lane, uint64_t token, int32_t code) {
  return golane_res(lane_job_finish(lane, token, code));
}
golane_result golane_set_rate_limit(lane_t *lane, uint32_t kinds, int64_t amount, int64_t per_ns, int64_t burst) {
  return golane_res(lane_set_rate_limit(lane, kinds, amount, per_ns, burst));
}
golane_result golane_set_tenant_limit(lane_t *lane, const char *tenant, uint32_t max_running) {
  return golane_res(lane_set_tenant_limit(lane, tenant, max_running));
}
golane_result golane_tenant_running(lane_t *lane, const char *tenant, uint32_t *out) {
  return golane_res(lane_tenant_running(lane, tenant, out));
}
golane_result golane_ctx_set_cost(lane_ctx_t *ctx, int64_t cost) { return golane_res(lane_ctx_set_cost(ctx, cost)); }
golane_result golane_ctx_overloaded(lane_ctx_t *ctx) { return golane_res(lane_ctx_overloaded(ctx)); }

golane_result golane_cluster_create(const char *url, const char *prefix, int64_t lease_ns, int64_t timeout_ns,
                                    uint32_t fallback_slots, lane_cluster_t **out) {
  lane_cluster_options_t o = LANE_CLUSTER_OPTIONS_INIT;
  o.url = url;
  o.key_prefix = prefix;
  o.lease_ns = lease_ns;
  o.timeout_ns = timeout_ns;
  o.fallback_slots = fallback_slots;
  return golane_res(lane_cluster_create(&o, out));
}

golane_result golane_cluster_destroy(lane_cluster_t *c) { return golane_res(lane_cluster_destroy(c)); }
golane_result golane_job_release(lane_t *lane, uint64_t token) { return golane_res(lane_job_release(lane, token)); }
golane_result golane_job_reacquire(lane_t *lane, uint64_t token) {
  return golane_res(lane_job_reacquire(lane, token));
}

// Polls into raw (C memory, max elements) and converts into out (C memory).
int32_t golane_poll(lane_port_t *port, lane_event_t *raw, golane_event *out, int32_t max, int64_t timeout_ns) {
  raw[0].struct_size = sizeof(lane_event_t);
  int32_t n = lane_port_poll(port, raw, max, timeout_ns);
  for (int32_t i = 0; i < n; i++) {
    out[i].kind = (int32_t)raw[i].kind;
    out[i].status = (int32_t)raw[i].status;
    out[i].job_code = raw[i].job_code;
    out[i].pad = 0;
    out[i].token = raw[i].job_token;
    out[i].handle = (uintptr_t)raw[i].user_data;
    out[i].ctx = raw[i].kind == LANE_EVENT_GRANT ? raw[i].ctx : NULL;
  }
  return n;
}

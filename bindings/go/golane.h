// The C helpers of the binding (golane_*.c), declared for the cgo preambles
// of capi*.go. All C lives in those .c files, compiled with warnings on.
#ifndef GOLANE_H
#define GOLANE_H

#include <lane/lane.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// A status and, on failure, a malloc'd copy of lane_last_error() taken on the
// thread that failed (the caller frees it).
typedef struct golane_result {
  int32_t status;
  char *msg;
} golane_result;

static inline golane_result golane_res(lane_status_t s) {
  golane_result r = {(int32_t)s, NULL};
  if (s != LANE_OK) r.msg = strdup(lane_last_error());
  return r;
}

// Types Go reads (integers and C pointers only).
typedef struct golane_options {
  uint32_t max_concurrent;
  int32_t policy;
  uint32_t eta_window;
  int32_t preemption_off;
  int64_t preempt_min_runtime_ns;
  int32_t preempt_overcommit;
  uint32_t max_queued;
  int64_t eta_default_runtime_ns;
  int64_t aging_ns;
  int64_t fair_half_life_ns;
  uint32_t adaptive_min;
  uint32_t adaptive_max;
  int64_t adaptive_cooldown_ns;
  int64_t *manual_clock;  // NULL: real time; else C memory read by golane_manual_now
  lane_cluster_t *cluster;  // NULL: a lane of this process only
} golane_options;

typedef struct golane_submitted {
  int32_t status;
  int32_t position;
  int64_t eta_ns;
  uint64_t token;
  int32_t blocked_by;
  char *msg;
} golane_submitted;

// One event as Go sees it: integers only.
typedef struct golane_event {
  int32_t kind;
  int32_t status;
  int32_t job_code;
  int32_t pad;
  uint64_t token;
  uintptr_t handle;
  lane_ctx_t *ctx;  // GRANT only: the run's context until lane_job_finish
} golane_event;

// A static config table: n keys (pointers into one blob) and their values.
typedef struct golane_cfg {
  pthread_mutex_t mu;
  size_t n;
  char *blob;
  char **keys;
  int64_t *vals;
  int env_fallback;  // keys not in the table come from the environment
  uintptr_t log;     // where golane_env_lookup reports a bad value (golane_log's ud)
} golane_cfg;

// A throttled session's token use, as last set by Session.SetTokens.
typedef struct golane_tokens {
  pthread_mutex_t mu;
  int64_t tokens;
  int64_t window;  // <= 0: unknown, no throttle
} golane_tokens;

typedef struct golane_session_options {
  int32_t mode;
  uint32_t cap;
  int32_t drop;
  int32_t pad;
  int64_t debounce_ns;
  uint32_t max_concurrent;
  uint32_t pad2;
  double throttle_ratio;
} golane_session_options;

// golane_lane.c
golane_result golane_create(const char *name, golane_options o, lane_t **out_lane, lane_port_t **out_port);
int64_t *golane_clock_new(int64_t t);
void golane_clock_set(int64_t *p, int64_t t);
int64_t golane_clock_get(int64_t *p);
golane_submitted golane_submit(lane_t *lane, lane_port_t *port, const char *id, const char *tenant,
                                      int32_t priority, uint32_t flags, int64_t max_wait_ns,
                                      int64_t queue_timeout_ns, int64_t cost, uint32_t slots, int64_t run_timeout_ns,
                               uintptr_t handle);
golane_result golane_cancel(lane_t *lane, const char *id, uint32_t flags);
golane_result golane_cancel_token(lane_t *lane, uint64_t token, uint32_t flags);
golane_result golane_stats(lane_t *lane, lane_stats_t *out);
golane_result golane_set_max_concurrent(lane_t *lane, uint32_t n);
golane_result golane_set_preemption(lane_t *lane, int32_t enabled, int64_t min_runtime_ns);
golane_result golane_set_eta_window(lane_t *lane, uint32_t n);
golane_result golane_set_tenant_weight(lane_t *lane, const char *tenant, uint32_t w);
golane_result golane_pause(lane_t *lane);
golane_result golane_resume(lane_t *lane);
golane_result golane_cooldown(lane_t *lane, int64_t d);
golane_result golane_close(lane_t *lane, int32_t mode);
golane_result golane_job_finish(lane_t *lane, uint64_t token, int32_t code);
golane_result golane_set_rate_limit(lane_t *lane, uint32_t kinds, int64_t amount, int64_t per_ns, int64_t burst);
golane_result golane_set_tenant_limit(lane_t *lane, const char *tenant, uint32_t max_running);
golane_result golane_tenant_running(lane_t *lane, const char *tenant, uint32_t *out);
golane_result golane_ctx_set_cost(lane_ctx_t *ctx, int64_t cost);
golane_result golane_ctx_overloaded(lane_ctx_t *ctx);
golane_result golane_cluster_create(const char *url, const char *prefix, int64_t lease_ns, int64_t timeout_ns,
                                    uint32_t fallback_slots, lane_cluster_t **out);
golane_result golane_cluster_destroy(lane_cluster_t *c);
golane_result golane_job_release(lane_t *lane, uint64_t token);
golane_result golane_job_reacquire(lane_t *lane, uint64_t token);
int32_t golane_poll(lane_port_t *port, lane_event_t *raw, golane_event *out, int32_t max, int64_t timeout_ns);

// The registry's log sink, golane_log's ud: POSIX (golane_log_unix.c) a pipe's
// write end, Windows (golane_log_windows.c) a golane_logq *; GOLANE_NO_LOG:
// stderr.
#define GOLANE_NO_LOG UINTPTR_MAX
void golane_log(int32_t level, const char *message, void *ud);
#ifdef _WIN32
typedef struct golane_logq golane_logq;
golane_logq *golane_logq_new(void);
size_t golane_logq_read(golane_logq *q, char *out, size_t cap);
void golane_logq_close(golane_logq *q);
void golane_logq_free(golane_logq *q);
#endif

// golane_registry.c
golane_cfg *golane_cfg_new(int env_fallback, uintptr_t log);
int golane_cfg_set(golane_cfg *c, const char *blob, size_t blob_len, const int64_t *vals, size_t n);
int64_t golane_cfg_lookup(const char *key, int64_t def, void *ud);
void golane_cfg_free(golane_cfg *c);
golane_result golane_registry_create(golane_cfg *cfg, int32_t policy, uint32_t def_max, int64_t retire_ns,
                                     uintptr_t log, lane_cluster_t *cluster, lane_registry_t **out);
golane_result golane_registry_lane(lane_registry_t *r, const char *name, lane_t **out_lane,
                                        lane_port_t **out_port);
lane_t *golane_registry_borrow(lane_registry_t *r, const char *name);
char *golane_registry_names(lane_registry_t *r, size_t *count, size_t *len);
golane_result golane_registry_reload(lane_registry_t *r);
golane_result golane_registry_remove(lane_registry_t *r, const char *name);
golane_result golane_registry_metrics(lane_registry_t *r, char **out, size_t *len);
golane_result golane_sampler_create(lane_registry_t *r, int64_t interval, int64_t retention, int64_t purge,
                                         const char *path, lane_sampler_t **out);
golane_result golane_sampler_start(lane_sampler_t *s);
golane_result golane_sampler_stop(lane_sampler_t *s);
golane_result golane_sampler_sample_once(lane_sampler_t *s);
golane_result golane_sampler_purge_once(lane_sampler_t *s);
golane_result golane_sqlite_query(const char *path, const char *lane, int64_t from, int64_t to,
                                       lane_sample_t **out, size_t *n);

// golane_session.c
golane_tokens *golane_tokens_new(void);
void golane_tokens_set(golane_tokens *t, int64_t tokens, int64_t window);
void golane_tokens_free(golane_tokens *t);
int32_t golane_tokens_estimate(const char *key, int64_t *tokens, int64_t *window, void *ud);
golane_result golane_session_create(lane_t *lane, const char *key, golane_session_options o,
                                           golane_tokens *tokens, lane_session_t **out);
golane_result golane_session_enqueue(lane_session_t *s, lane_port_t *port, const char *id,
                                            const char *tenant, int32_t priority, uint32_t flags,
                                            int64_t max_wait_ns, int64_t queue_timeout_ns, int64_t cost,
                                            uint32_t slots, int64_t run_timeout_ns, uintptr_t handle);
golane_result golane_session_reset(lane_session_t *s);
golane_result golane_session_set_max_concurrent(lane_session_t *s, uint32_t n);
int32_t golane_batch_item(const lane_ctx_t *ctx, uint32_t i, const char **id, uintptr_t *handle);
int golane_next_message(lane_ctx_t *ctx, const char **id, uintptr_t *handle);

#endif

// The C side of capi_session.go, compiled by cgo with the package (see golane.h).
#include <lane/lane.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "golane.h"

golane_tokens *golane_tokens_new(void) {
  golane_tokens *t = (golane_tokens *)calloc(1, sizeof *t);
  if (t != NULL) pthread_mutex_init(&t->mu, NULL);
  return t;
}

void golane_tokens_set(golane_tokens *t, int64_t tokens, int64_t window) {
  pthread_mutex_lock(&t->mu);
  t->tokens = tokens;
  t->window = window;
  pthread_mutex_unlock(&t->mu);
}

void golane_tokens_free(golane_tokens *t) {
  if (t == NULL) return;
  pthread_mutex_destroy(&t->mu);
  free(t);
}

// The session's lane_token_estimate_fn: runs on whichever thread is about to
// start a run (a library thread, possibly), pure C.
int32_t golane_tokens_estimate(const char *key, int64_t *tokens, int64_t *window, void *ud) {
  (void)key;
  golane_tokens *t = (golane_tokens *)ud;
  pthread_mutex_lock(&t->mu);
  int64_t tk = t->tokens, w = t->window;
  pthread_mutex_unlock(&t->mu);
  if (w <= 0) return 1;  // unknown: no throttle
  *tokens = tk;
  *window = w;
  return 0;
}

golane_result golane_session_create(lane_t *lane, const char *key, golane_session_options o,
                                           golane_tokens *tokens, lane_session_t **out) {
  lane_session_options_t opts = LANE_SESSION_OPTIONS_INIT;
  opts.mode = (lane_session_mode_t)o.mode;
  opts.cap = o.cap;
  opts.drop = (lane_drop_t)o.drop;
  opts.debounce_ns = o.debounce_ns;
  opts.max_concurrent = o.max_concurrent;
  if (tokens != NULL) {
    opts.token_estimate = golane_tokens_estimate;
    opts.token_ud = tokens;
  }
  opts.throttle_ratio = o.throttle_ratio;
  return golane_res(lane_session_create(lane, key, &opts, out));
}

// id and tenant point into one Go byte slice (no Go pointers inside); the
// library copies them before returning.
golane_result golane_session_enqueue(lane_session_t *s, lane_port_t *port, const char *id,
                                            const char *tenant, int32_t priority, uint32_t flags,
                                            int64_t max_wait_ns, int64_t queue_timeout_ns, int64_t cost,
                                            uint32_t slots, int64_t run_timeout_ns, uintptr_t handle) {
  lane_job_t job = LANE_JOB_INIT;
  job.id = id;
  job.tenant = tenant[0] != '\0' ? tenant : NULL;  // NULL: the session key is the tenant
  job.priority = priority;
  job.flags = flags;
  job.max_wait_ns = max_wait_ns;
  job.queue_timeout_ns = queue_timeout_ns;
  job.cost = cost;
  job.slots = slots;
  job.run_timeout_ns = run_timeout_ns;
  job.run = NULL;  // host-run: granted through the port, run by a goroutine
  job.user_data = (void *)handle;
  job.port = port;
  return golane_res(lane_session_enqueue(s, &job));
}

golane_result golane_session_reset(lane_session_t *s) { return golane_res(lane_session_reset(s)); }

golane_result golane_session_set_max_concurrent(lane_session_t *s, uint32_t n) {
  return golane_res(lane_session_set_max_concurrent(s, n));
}

// The i-th message of a run's batch: its id (lives until the run ends) and
// its handle.
int32_t golane_batch_item(const lane_ctx_t *ctx, uint32_t i, const char **id, uintptr_t *handle) {
  void *ud = NULL;
  lane_status_t s = lane_ctx_batch_item(ctx, i, id, &ud);
  *handle = (uintptr_t)ud;
  return (int32_t)s;
}

int golane_next_message(lane_ctx_t *ctx, const char **id, uintptr_t *handle) {
  void *ud = NULL;
  int got = lane_ctx_next_message(ctx, id, &ud);
  *handle = (uintptr_t)ud;
  return got;
}

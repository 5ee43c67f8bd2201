/* Struct versioning, seen from hosts built against other releases:
 *  - an older host passes its smaller structs (frozen copies of the 0.1.0
 *    layouts in frozen_v1.h): every call takes them, fields it does not have
 *    read as their defaults, and nothing is written past its struct_size;
 *  - a newer host passes larger structs with garbage after the fields this
 *    library knows: inputs are read up to what the library knows, outputs
 *    zero the unknown tail and keep the host's struct_size;
 *  - a struct_size below the first release's is refused with a message.
 * Also proves, at compile time, that today's structs only grew at the end
 * and that nothing was appended into a 0.1.0 struct's tail padding. */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frozen_v1.h"

static int failures;
#define CHECK(cond)                                                  \
  do {                                                               \
    if (!(cond)) {                                                   \
      fprintf(stderr, "%s:%d: CHECK(%s) failed: %s\n", __FILE__,    \
              __LINE__, #cond, lane_last_error());                   \
      failures++;                                                    \
    }                                                                \
  } while (0)

/* Same offset in the frozen and the current struct. */
#define SAME(T, f) _Static_assert(offsetof(v1_##T, f) == offsetof(T, f), #T "." #f " moved")
/* The current struct is at least as large as 0.1.0's. */
#define GREW_ONLY(T) _Static_assert(sizeof(T) >= sizeof(v1_##T), #T " shrank")
/* Every field appended after 0.1.0 must be named here: it starts at or after
 * 0.1.0's sizeof, never in the tail padding an older host leaves as garbage. */
#define APPENDED(T, f) _Static_assert(offsetof(T, f) >= sizeof(v1_##T), #T "." #f " sits in 0.1.0's padding")

SAME(lane_outcome_t, status); SAME(lane_outcome_t, job_code); SAME(lane_outcome_t, job_id);
SAME(lane_outcome_t, lane); SAME(lane_outcome_t, job_token); SAME(lane_outcome_t, enqueued_at_ns);
SAME(lane_outcome_t, started_at_ns); SAME(lane_outcome_t, finished_at_ns); GREW_ONLY(lane_outcome_t);
SAME(lane_job_t, id); SAME(lane_job_t, tenant); SAME(lane_job_t, priority); SAME(lane_job_t, flags);
SAME(lane_job_t, max_wait_ns); SAME(lane_job_t, run); SAME(lane_job_t, on_done); SAME(lane_job_t, user_data);
SAME(lane_job_t, port); SAME(lane_job_t, queue_timeout_ns); GREW_ONLY(lane_job_t);
SAME(lane_ticket_t, position); SAME(lane_ticket_t, eta_ns); SAME(lane_ticket_t, job_token);
SAME(lane_ticket_t, blocked_by); GREW_ONLY(lane_ticket_t);
SAME(lane_options_t, max_concurrent); SAME(lane_options_t, policy); SAME(lane_options_t, eta_window);
SAME(lane_options_t, preemption_off); SAME(lane_options_t, preempt_min_runtime_ns);
SAME(lane_options_t, preempt_overcommit); SAME(lane_options_t, max_queued);
SAME(lane_options_t, eta_default_runtime_ns); SAME(lane_options_t, aging_ns); SAME(lane_options_t, clock);
SAME(lane_options_t, clock_ud); GREW_ONLY(lane_options_t);
APPENDED(lane_options_t, fair_half_life_ns);
APPENDED(lane_options_t, adaptive_min); APPENDED(lane_options_t, adaptive_max);
APPENDED(lane_options_t, adaptive_cooldown_ns);
APPENDED(lane_job_t, cost); APPENDED(lane_job_t, run_timeout_ns); APPENDED(lane_job_t, slots);
SAME(lane_stats_t, name); SAME(lane_stats_t, max_concurrent); SAME(lane_stats_t, running);
SAME(lane_stats_t, queued); SAME(lane_stats_t, oldest_queued_at_ns); SAME(lane_stats_t, throughput_1m);
SAME(lane_stats_t, submitted); SAME(lane_stats_t, completed); SAME(lane_stats_t, failed);
SAME(lane_stats_t, cancelled); SAME(lane_stats_t, preempted); SAME(lane_stats_t, timed_out);
SAME(lane_stats_t, closed); SAME(lane_stats_t, refused); SAME(lane_stats_t, wait_p50_ns);
SAME(lane_stats_t, wait_p99_ns); SAME(lane_stats_t, run_p50_ns); SAME(lane_stats_t, run_p99_ns);
SAME(lane_stats_t, paused); SAME(lane_stats_t, cooldown_until_ns); SAME(lane_stats_t, blocked_by);
SAME(lane_stats_t, preemptions); SAME(lane_stats_t, eta_window); SAME(lane_stats_t, mean_runtime_ns);
GREW_ONLY(lane_stats_t);
APPENDED(lane_stats_t, width); APPENDED(lane_stats_t, slots_in_use); APPENDED(lane_stats_t, released);
APPENDED(lane_stats_t, reacquiring); APPENDED(lane_stats_t, rate_waits); APPENDED(lane_stats_t, rate_ready_at_ns);
APPENDED(lane_stats_t, cost_used); APPENDED(lane_stats_t, overloads);
/* 0.4 appended after 0.3's last fields, whose sizeof ended there (both 0.3
 * structs end with an 8-byte field, so they had no tail padding). */
#define APPENDED_AFTER(T, f, last) \
  _Static_assert(offsetof(T, f) >= offsetof(T, last) + sizeof(((T *)0)->last), #T "." #f " sits in 0.3's padding")
APPENDED(lane_options_t, cluster); APPENDED_AFTER(lane_options_t, cluster, adaptive_cooldown_ns);
APPENDED(lane_stats_t, shared); APPENDED_AFTER(lane_stats_t, shared, overloads);
APPENDED(lane_registry_options_t, cluster);
SAME(lane_event_t, kind); SAME(lane_event_t, status); SAME(lane_event_t, job_code); SAME(lane_event_t, lane);
SAME(lane_event_t, job_token); SAME(lane_event_t, user_data); SAME(lane_event_t, at_ns); SAME(lane_event_t, ctx);
GREW_ONLY(lane_event_t);
SAME(lane_registry_options_t, config_int); SAME(lane_registry_options_t, config_ud);
SAME(lane_registry_options_t, log); SAME(lane_registry_options_t, log_ud);
SAME(lane_registry_options_t, default_policy); SAME(lane_registry_options_t, default_max_concurrent);
SAME(lane_registry_options_t, idle_retire_ns); SAME(lane_registry_options_t, clock);
SAME(lane_registry_options_t, clock_ud); GREW_ONLY(lane_registry_options_t);
SAME(lane_sampler_options_t, interval_ns); SAME(lane_sampler_options_t, retention_ns);
SAME(lane_sampler_options_t, purge_interval_ns); SAME(lane_sampler_options_t, sink);
SAME(lane_sampler_options_t, purger); SAME(lane_sampler_options_t, sink_ud);
SAME(lane_sampler_options_t, sqlite_path); SAME(lane_sampler_options_t, clock);
SAME(lane_sampler_options_t, clock_ud); GREW_ONLY(lane_sampler_options_t);
SAME(lane_sample_t, running); SAME(lane_sample_t, queued); SAME(lane_sample_t, sampled_at_ns);
GREW_ONLY(lane_sample_t);
SAME(lane_session_options_t, mode); SAME(lane_session_options_t, cap); SAME(lane_session_options_t, drop);
SAME(lane_session_options_t, debounce_ns); SAME(lane_session_options_t, max_concurrent);
SAME(lane_session_options_t, token_estimate); SAME(lane_session_options_t, token_ud);
SAME(lane_session_options_t, throttle_ratio); GREW_ONLY(lane_session_options_t);

/* A newer host's struct: the known struct, then fields this library has
 * never heard of, filled with garbage. */
#define NEWER(T) \
  struct {       \
    T known;     \
    unsigned char future[40]; \
  }
#define GARBAGE 0xA5

static int all_bytes(const unsigned char *p, size_t n, unsigned char v) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != v) return 0;
  return 1;
}

static int32_t noop(lane_ctx_t *ctx, void *ud) {
  (void)ctx;
  (void)ud;
  return 0;
}

static int64_t fixed_clock(void *ud) {
  (void)ud;
  return 5000000000;
}

static void older_host_options_and_jobs(void) {
  /* An older host's options: a lane of 2 slots. */
  v1_lane_options_t o;
  memset(&o, 0, sizeof o);
  o.struct_size = sizeof o;
  o.max_concurrent = 2;
  lane_t *l = NULL;
  CHECK(lane_create("older", (const lane_options_t *)&o, &l) == LANE_OK);
  if (!l) return;

  v1_lane_job_t j;
  memset(&j, 0, sizeof j);
  j.struct_size = sizeof j;
  j.id = "a";
  j.run = noop;
  v1_lane_ticket_t t;
  memset(&t, 0x5A, sizeof t);
  t.struct_size = sizeof t;
  CHECK(lane_pause(l) == LANE_OK);
  CHECK(lane_submit(l, (const lane_job_t *)&j, (lane_ticket_t *)&t) == LANE_OK);
  CHECK(t.struct_size == sizeof t);
  CHECK(t.position == 1);
  CHECK(t.blocked_by == LANE_BLOCKED_PAUSED);
  CHECK(lane_resume(l) == LANE_OK);
  CHECK(lane_wait_idle(l, -1) == LANE_OK);

  v1_lane_outcome_t out;
  memset(&out, 0, sizeof out);
  out.struct_size = sizeof out;
  j.id = "b";
  CHECK(lane_submit_wait(l, (const lane_job_t *)&j, -1, (lane_outcome_t *)&out) == LANE_OK);
  CHECK(out.struct_size == sizeof out);
  CHECK(out.status == LANE_OK);
  CHECK(out.finished_at_ns >= out.started_at_ns && out.started_at_ns > 0);

  v1_lane_stats_t s;
  memset(&s, 0, sizeof s);
  s.struct_size = sizeof s;
  CHECK(lane_stats(l, (lane_stats_t *)&s) == LANE_OK);
  CHECK(s.max_concurrent == 2);
  CHECK(s.submitted == 2 && s.completed == 2);
  lane_destroy(l);
}

static void newer_host_options_and_jobs(void) {
  NEWER(lane_options_t) o;
  memset(&o, GARBAGE, sizeof o);
  memset(&o.known, 0, sizeof o.known);
  o.known.struct_size = sizeof o;
  o.known.max_concurrent = 3;
  lane_t *l = NULL;
  CHECK(lane_create("newer", &o.known, &l) == LANE_OK);
  if (!l) return;

  NEWER(lane_job_t) j;
  memset(&j, GARBAGE, sizeof j);
  memset(&j.known, 0, sizeof j.known);
  j.known.struct_size = sizeof j;
  j.known.id = "a";
  j.known.run = noop;
  NEWER(lane_ticket_t) t;
  memset(&t, GARBAGE, sizeof t);
  t.known.struct_size = sizeof t;
  CHECK(lane_submit(l, &j.known, &t.known) == LANE_OK);
  CHECK(t.known.struct_size == sizeof t);
  CHECK(t.known.position == 0); /* a free slot: dispatched at once */
  CHECK(all_bytes(t.future, sizeof t.future, 0)); /* unknown fields: not reported */
  CHECK(lane_wait_idle(l, -1) == LANE_OK);

  NEWER(lane_outcome_t) out;
  memset(&out, GARBAGE, sizeof out);
  out.known.struct_size = sizeof out;
  j.known.id = "b";
  CHECK(lane_submit_wait(l, &j.known, -1, &out.known) == LANE_OK);
  CHECK(out.known.struct_size == sizeof out);
  CHECK(out.known.status == LANE_OK && out.known.job_code == 0);
  CHECK(all_bytes(out.future, sizeof out.future, 0));

  NEWER(lane_stats_t) s;
  memset(&s, GARBAGE, sizeof s);
  s.known.struct_size = sizeof s;
  CHECK(lane_stats(l, &s.known) == LANE_OK);
  CHECK(s.known.max_concurrent == 3 && s.known.completed == 2);
  CHECK(all_bytes(s.future, sizeof s.future, 0));
  lane_destroy(l);
}

static void too_small_is_refused(void) {
  lane_options_t o = LANE_OPTIONS_INIT;
  o.struct_size = offsetof(lane_options_t, clock_ud); /* clock_ud is missing */
  lane_t *l = NULL;
  CHECK(lane_create("small", &o, &l) == LANE_ERR_INVALID);
  CHECK(l == NULL);
  CHECK(strstr(lane_last_error(), "struct_size") != NULL);

  CHECK(lane_create("ok", NULL, &l) == LANE_OK);
  lane_job_t j = LANE_JOB_INIT;
  j.id = "x";
  j.run = noop;
  j.struct_size = offsetof(lane_job_t, queue_timeout_ns);
  CHECK(lane_submit(l, &j, NULL) == LANE_ERR_INVALID);
  j.struct_size = sizeof j;
  lane_ticket_t t = LANE_TICKET_INIT;
  t.struct_size = 8;
  CHECK(lane_submit(l, &j, &t) == LANE_ERR_INVALID);
  lane_stats_t s;
  s.struct_size = 4;
  CHECK(lane_stats(l, &s) == LANE_ERR_INVALID);
  lane_outcome_t out;
  out.struct_size = 12;
  CHECK(lane_submit_wait(l, &j, -1, &out) == LANE_ERR_INVALID);
  lane_event_t ev[1];
  lane_port_t *p = NULL;
  CHECK(lane_port_create(&p) == LANE_OK);
  ev[0].struct_size = 16;
  CHECK(lane_port_poll(p, ev, 1, 0) == LANE_ERR_INVALID);
  lane_port_destroy(p);
  lane_destroy(l);
}

/* Port events: an array whose element size is the host's struct_size. */
static void events_in_both_sizes(void) {
  lane_t *l = NULL;
  lane_port_t *p = NULL;
  CHECK(lane_create("events", NULL, &l) == LANE_OK);
  CHECK(lane_port_create(&p) == LANE_OK);
  if (!l || !p) return;
  lane_job_t j = LANE_JOB_INIT;
  j.port = p;
  j.id = "h1";
  CHECK(lane_submit(l, &j, NULL) == LANE_OK); /* GRANT */

  typedef NEWER(lane_event_t) newer_event;
  newer_event big[2];
  memset(big, GARBAGE, sizeof big);
  big[0].known.struct_size = sizeof big[0];
  CHECK(lane_port_poll(p, &big[0].known, 2, -1) == 1);
  CHECK(big[0].known.kind == LANE_EVENT_GRANT);
  CHECK(big[0].known.struct_size == sizeof big[0]);
  CHECK(all_bytes(big[0].future, sizeof big[0].future, 0));
  CHECK(all_bytes(big[1].future, sizeof big[1].future, GARBAGE)); /* not written: one event only */
  CHECK(lane_job_finish(l, big[0].known.job_token, 0) == LANE_OK); /* DONE */

  v1_lane_event_t small[2];
  memset(small, 0, sizeof small);
  small[0].struct_size = sizeof small[0];
  CHECK(lane_port_poll(p, (lane_event_t *)small, 2, -1) == 1);
  CHECK(small[0].kind == LANE_EVENT_DONE && small[0].status == LANE_OK);
  lane_port_destroy(p);
  lane_destroy(l);
}

static void registry_sampler_session_and_samples(void) {
  NEWER(lane_registry_options_t) ro;
  memset(&ro, GARBAGE, sizeof ro);
  memset(&ro.known, 0, sizeof ro.known);
  ro.known.struct_size = sizeof ro;
  ro.known.default_max_concurrent = 4;
  ro.known.clock = fixed_clock;
  lane_registry_t *reg = NULL;
  CHECK(lane_registry_create(&ro.known, &reg) == LANE_OK);
  if (!reg) return;
  lane_t *l = NULL;
  CHECK(lane_registry_get_or_create(reg, "hist", &l) == LANE_OK);

  v1_lane_session_options_t so;
  memset(&so, 0, sizeof so);
  so.struct_size = sizeof so;
  so.mode = LANE_SESSION_FOLLOWUP;
  lane_session_t *sess = NULL;
  CHECK(lane_session_create(l, "chat", (const lane_session_options_t *)&so, &sess) == LANE_OK);
  lane_session_destroy(sess);

#ifndef LANE_TEST_NO_SQLITE  /* history rows need the SQLite history */
  char path[] = "/tmp/lane-struct-versions-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  if (fd >= 0) close(fd);
  unlink(path);
  v1_lane_sampler_options_t sopt;
  memset(&sopt, 0, sizeof sopt);
  sopt.struct_size = sizeof sopt;
  sopt.sqlite_path = path;
  sopt.clock = fixed_clock;
  lane_sampler_t *smp = NULL;
  CHECK(lane_sampler_create(reg, (const lane_sampler_options_t *)&sopt, &smp) == LANE_OK);
  CHECK(lane_sampler_sample_once(smp) == LANE_OK);
  lane_sampler_destroy(smp);

  typedef NEWER(lane_sample_t) newer_sample;
  newer_sample rows[2];
  memset(rows, GARBAGE, sizeof rows);
  rows[0].known.struct_size = sizeof rows[0];
  size_t total = 0;
  CHECK(lane_sqlite_query(path, "hist", 0, 10000000000, &rows[0].known, 2, &total) == LANE_OK);
  CHECK(total == 1);
  CHECK(rows[0].known.sampled_at_ns == 5000000000 && rows[0].known.running == 0);
  CHECK(all_bytes(rows[0].future, sizeof rows[0].future, 0));

  v1_lane_sample_t old_rows[1];
  old_rows[0].struct_size = sizeof old_rows[0];
  CHECK(lane_sqlite_query(path, "hist", 0, 10000000000, (lane_sample_t *)old_rows, 1, &total) == LANE_OK);
  CHECK(old_rows[0].sampled_at_ns == 5000000000);
  unlink(path);
#endif
  lane_registry_destroy(reg);
}

int main(void) {
  older_host_options_and_jobs();
  newer_host_options_and_jobs();
  too_small_is_refused();
  events_in_both_sizes();
  registry_sampler_session_and_samples();
  if (failures) {
    fprintf(stderr, "struct_versions: %d check(s) failed\n", failures);
    return 1;
  }
  printf("struct_versions: ok\n");
  return 0;
}

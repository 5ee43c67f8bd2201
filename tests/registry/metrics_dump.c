/* Builds a registry with a few lanes in known states (fake clock), then
 * prints lane_registry_metrics' text, a line "#STATS", and one JSON object
 * per lane with its lane_stats. metrics_test.py parses both and compares. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lane/lane.h"

static int64_t fake_now = INT64_C(1700000000000000000);
static int64_t fake_clock(void *ud) {
  (void)ud;
  return __atomic_load_n(&fake_now, __ATOMIC_SEQ_CST);
}

static int32_t until_cancelled(lane_ctx_t *ctx, void *ud) {
  (void)ud;
  lane_ctx_wait(ctx, -1);
  return 0;
}
static int32_t ok_job(lane_ctx_t *ctx, void *ud) {
  (void)ctx;
  (void)ud;
  return 0;
}
/* Holds its slot for 250 ms of the fake clock. */
static int32_t quarter_second_job(lane_ctx_t *ctx, void *ud) {
  (void)ctx;
  (void)ud;
  __atomic_add_fetch(&fake_now, INT64_C(250000000), __ATOMIC_SEQ_CST);
  return 0;
}
static int32_t failing_job(lane_ctx_t *ctx, void *ud) {
  (void)ctx;
  (void)ud;
  return 3;
}

static int64_t config(const char *key, int64_t def, void *ud) {
  (void)ud;
  if (strcmp(key, "lanes.llm.max_concurrent") == 0 || strcmp(key, "lanes.pre.max_concurrent") == 0) {
    return strcmp(key, "lanes.llm.max_concurrent") == 0 ? 2 : 1;
  }
  return strcmp(key, "lanes.pre.preempt_min_runtime_ns") == 0 ? -1 : def;  /* no guard */
}

static void must(lane_status_t s, const char *what) {
  if (s != LANE_OK) {
    fprintf(stderr, "%s: %s\n", what, lane_last_error());
    exit(1);
  }
}

static void submit(lane_t *lane, const char *id, lane_run_fn run) {
  lane_job_t j = LANE_JOB_INIT;
  j.id = id;
  j.tenant = "alice";
  j.run = run;
  must(lane_submit(lane, &j, NULL), id);
}

static unsigned alice_running(lane_t *lane) {
  uint32_t n = 0;
  must(lane_tenant_running(lane, "alice", &n), "tenant running");
  return n;
}

int main(void) {
  lane_registry_options_t o = LANE_REGISTRY_OPTIONS_INIT;
  o.config_int = config;
  o.clock = fake_clock;
  lane_registry_t *reg;
  must(lane_registry_create(&o, &reg), "registry");
  lane_t *llm, *tools, *idle;
  must(lane_registry_get_or_create(reg, "llm", &llm), "llm");
  must(lane_registry_get_or_create(reg, "tools", &tools), "tools");
  must(lane_registry_get_or_create(reg, "idle.lane:x-1", &idle), "idle");
  lane_t *timed;
  must(lane_registry_get_or_create(reg, "timed", &timed), "timed");

  /* llm: 2 running forever (of tenant alice, limited to 5), 3 queued, one
   * refused duplicate. */
  must(lane_set_tenant_limit(llm, "alice", 5), "tenant limit");
  must(lane_set_tenant_limit(llm, "bob", 1), "tenant limit");
  submit(llm, "r1", until_cancelled);
  submit(llm, "r2", until_cancelled);
  submit(llm, "q1", until_cancelled);
  __atomic_add_fetch(&fake_now, INT64_C(1500000000), __ATOMIC_SEQ_CST);
  submit(llm, "q2", until_cancelled);
  submit(llm, "q3", until_cancelled);
  lane_job_t dup = LANE_JOB_INIT;
  dup.id = "q3";
  dup.run = until_cancelled;
  if (lane_submit(llm, &dup, NULL) != LANE_ERR_DUPLICATE) return fprintf(stderr, "duplicate accepted\n"), 1;
  must(lane_cancel(llm, "q2", 0), "cancel q2");
  __atomic_add_fetch(&fake_now, INT64_C(2000000000), __ATOMIC_SEQ_CST);

  /* tools: some ok, some failed, all finished. */
  char id[32];
  for (int i = 0; i < 5; i++) {
    snprintf(id, sizeof id, "ok-%d", i);
    lane_job_t j = LANE_JOB_INIT;
    j.id = id;
    j.run = ok_job;
    j.cost = 10;
    must(lane_submit_wait(tools, &j, -1, NULL), id);
  }
  for (int i = 0; i < 2; i++) {
    snprintf(id, sizeof id, "fail-%d", i);
    lane_job_t j = LANE_JOB_INIT;
    j.id = id;
    j.run = failing_job;
    if (lane_submit_wait(tools, &j, -1, NULL) != LANE_ERR_JOB_FAILED) return 1;
  }

  /* timed (1 slot): two jobs wait 1 s while paused; each runs 250 ms, so
   * the second waits 1.25 s: wait sum 2.25 s, run sum 0.5 s, counts 2. */
  must(lane_pause(timed), "pause");
  submit(timed, "t1", quarter_second_job);
  submit(timed, "t2", quarter_second_job);
  __atomic_add_fetch(&fake_now, INT64_C(1000000000), __ATOMIC_SEQ_CST);
  must(lane_resume(timed), "resume");
  must(lane_wait_idle(timed, -1), "wait idle");

  /* The clock stands still from here on. */
  /* cool: one job held back by a 3 s cooldown. */
  lane_t *cool, *paced, *pre;
  must(lane_registry_get_or_create(reg, "cool", &cool), "cool");
  must(lane_cooldown(cool, INT64_C(3000000000)), "cooldown");
  submit(cool, "c1", ok_job);
  /* paced: 1 request per 10 s; p1 took it, so p2 waits 10 s for the rate. */
  must(lane_registry_get_or_create(reg, "paced", &paced), "paced");
  must(lane_set_rate_limit(paced, LANE_RATE_REQUESTS, 1, INT64_C(10000000000), 1), "rate limit");
  {
    lane_job_t j = LANE_JOB_INIT;
    j.id = "p1";
    j.run = ok_job;
    must(lane_submit_wait(paced, &j, -1, NULL), "p1");
  }
  submit(paced, "p2", ok_job);
  /* pre (1 slot, no min-runtime guard): h1 preempts the preemptible v1. */
  must(lane_registry_get_or_create(reg, "pre", &pre), "pre");
  {
    lane_job_t v = LANE_JOB_INIT;
    v.id = "v1";
    v.run = until_cancelled;
    v.flags = LANE_JOB_PREEMPTIBLE;
    must(lane_submit(pre, &v, NULL), "v1");
    lane_job_t h = LANE_JOB_INIT;
    h.id = "h1";
    h.run = ok_job;
    h.priority = 5;
    must(lane_submit(pre, &h, NULL), "h1");
    must(lane_wait_idle(pre, -1), "wait idle pre");
  }

  size_t len = 0;
  if (lane_registry_metrics(reg, NULL, 0, &len) != LANE_ERR_INVALID || len == 0) return fprintf(stderr, "size query\n"), 1;
  const size_t need = len;
  char *buf = malloc(need);
  if (lane_registry_metrics(reg, buf, need - 1, &len) != LANE_ERR_INVALID || len != need) return fprintf(stderr, "one short\n"), 1;
  must(lane_registry_metrics(reg, buf, need, &len), "metrics");
  if (len != need - 1 || strlen(buf) != len) return fprintf(stderr, "length\n"), 1;
  fputs(buf, stdout);
  free(buf);
  printf("#STATS\n");

  const char *names[8];
  size_t n = lane_registry_names(reg, names, 8);
  for (size_t i = 0; i < n; i++) {
    lane_stats_t s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    must(lane_stats(lane_registry_get(reg, names[i]), &s), "stats");
    printf("{\"lane\": \"%s\", \"max_concurrent\": %u, \"running\": %u, \"queued\": %u, "
           "\"oldest_queued_at_ns\": %" PRId64 ", \"now_ns\": %" PRId64 ", \"throughput_1m\": %u, "
           "\"submitted\": %" PRIu64 ", \"completed\": %" PRIu64 ", \"failed\": %" PRIu64 ", \"cancelled\": %" PRIu64
           ", \"preempted\": %" PRIu64 ", \"timed_out\": %" PRIu64 ", \"closed\": %" PRIu64 ", \"refused\": %" PRIu64
           ", \"wait_p50_ns\": %" PRId64 ", \"wait_p99_ns\": %" PRId64 ", \"run_p50_ns\": %" PRId64
           ", \"run_p99_ns\": %" PRId64 ", \"paused\": %d, \"width\": %u, \"slots_in_use\": %u, \"released\": %u"
           ", \"reacquiring\": %u, \"rate_waits\": %" PRIu64 ", \"cost_used\": %" PRId64 ", \"overloads\": %" PRIu64
           ", \"preemptions\": %" PRIu64 ", \"blocked_by\": %d, \"cooldown_until_ns\": %" PRId64
           ", \"rate_ready_at_ns\": %" PRId64 ", \"alice_running\": %u}\n",
           s.name, s.max_concurrent, s.running, s.queued, s.oldest_queued_at_ns, fake_clock(NULL), s.throughput_1m,
           s.submitted, s.completed, s.failed, s.cancelled, s.preempted, s.timed_out, s.closed, s.refused,
           s.wait_p50_ns, s.wait_p99_ns, s.run_p50_ns, s.run_p99_ns, s.paused, s.width, s.slots_in_use, s.released,
           s.reacquiring, s.rate_waits, s.cost_used, s.overloads, s.preemptions, (int)s.blocked_by,
           s.cooldown_until_ns, s.rate_ready_at_ns, alice_running(lane_registry_get(reg, names[i])));
  }
  lane_registry_destroy(reg);
  return 0;
}

#include <lane/lane.h>
#include <stdio.h>
#include <string.h>

#define MIN (60LL * 1000000000)

/* A stand-in for the provider: each call takes ~20 ms, the 5th answers 429,
 * and the real token count (prompt + completion) is known at the end. */
static int32_t call_llm(lane_ctx_t *ctx, void *n) {
  lane_ctx_wait(ctx, 20 * 1000000);
  if ((size_t)n == 5) return LANE_JOB_OVERLOADED;
  lane_ctx_set_cost(ctx, 600 + 50 * (int64_t)(size_t)n);
  return 0;
}

static void done(const lane_outcome_t *o, void *n) {
  (void)n;
  printf("%s: %s (job_code %d)\n", o->job_id, lane_status_name(o->status), o->job_code);
}

int main(void) {
  lane_options_t opts = LANE_OPTIONS_INIT;
  opts.policy = LANE_POLICY_FAIR_SHARE;
  opts.max_concurrent = 3;                      /* 3 calls at once to start with, */
  opts.adaptive_min = 1, opts.adaptive_max = 8; /* then AIMD between 1 and 8 on 429s */
  lane_t *llm;
  if (lane_create("openai", &opts, &llm) != LANE_OK) return fprintf(stderr, "%s\n", lane_last_error()), 1;
  lane_set_rate_limit(llm, LANE_RATE_REQUESTS, 500, MIN, 50);     /* 500 requests/min, 50 at once */
  lane_set_rate_limit(llm, LANE_RATE_COST, 90000, MIN, 20000);     /* 90 000 tokens/min */
  const char *users[] = {"alice", "bob"};
  for (int u = 0; u < 2; u++) lane_set_tenant_limit(llm, users[u], 2); /* 2 running per user */

  for (size_t i = 0; i < 10; i++) {
    char id[32];
    snprintf(id, sizeof id, "%s-%zu", users[i % 2], i);
    lane_job_t job = LANE_JOB_INIT;
    job.id = id, job.tenant = users[i % 2], job.run = call_llm, job.on_done = done, job.user_data = (void *)i;
    job.cost = 1000;                      /* the estimate: max_tokens + the prompt's */
    job.run_timeout_ns = 30LL * 1000000000; /* a call that hangs is cancelled */
    if (lane_submit(llm, &job, NULL) != LANE_OK) fprintf(stderr, "%s: %s\n", id, lane_last_error());
  }
  lane_wait_idle(llm, -1);
  lane_stats_t s = {.struct_size = sizeof s};
  lane_stats(llm, &s);
  printf("completed %llu, failed %llu, width now %u, %lld tokens used\n", (unsigned long long)s.completed,
         (unsigned long long)s.failed, s.width, (long long)s.cost_used);
  lane_destroy(llm);
  return s.completed == 9 && s.failed == 1 ? 0 : 1;
}

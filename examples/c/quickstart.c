#include <lane/lane.h>
#include <stdio.h>

static int32_t call_llm(lane_ctx_t *ctx, void *prompt) {
  (void)prompt; /* ... your request; stop early when lane_ctx_cancelled(ctx) ... */
  return lane_ctx_wait(ctx, 50 * 1000000) == LANE_ERR_TIMEOUT ? 0 : 1;
}

static void done(const lane_outcome_t *o, void *prompt) {
  (void)prompt;
  printf("%s: %s after %lld ms in the queue\n", o->job_id, lane_status_name(o->status),
         (long long)(o->started_at_ns - o->enqueued_at_ns) / 1000000);
}

int main(void) {
  lane_options_t opts = LANE_OPTIONS_INIT;
  opts.max_concurrent = 1;
  opts.policy = LANE_POLICY_FAIR_SHARE;
  lane_t *llm;
  if (lane_create("llm", &opts, &llm) != LANE_OK) return fprintf(stderr, "%s\n", lane_last_error()), 1;

  const char *ids[] = {"alice-1", "alice-2", "bob-1"}, *tenants[] = {"alice", "alice", "bob"};
  for (int i = 0; i < 3; i++) {
    lane_job_t job = LANE_JOB_INIT;
    job.id = ids[i]; job.tenant = tenants[i]; job.run = call_llm; job.on_done = done;
    lane_ticket_t t = LANE_TICKET_INIT;
    if (lane_submit(llm, &job, &t) != LANE_OK) fprintf(stderr, "%s\n", lane_last_error());
    else printf("%s: position %d, eta %lld ms\n", ids[i], t.position, (long long)t.eta_ns / 1000000);
  }
  lane_wait_idle(llm, -1);
  lane_destroy(llm);
  return 0;
}

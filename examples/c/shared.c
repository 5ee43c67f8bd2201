/* Run it in two terminals (or two hosts) against one Redis: the lane
 * "llm" has 2 slots in all, however many processes share it.
 *   LANE_REDIS=redis://127.0.0.1:6379/0 ./shared-c worker-a */
#include <lane/lane.h>
#include <stdio.h>
#include <stdlib.h>

static int32_t call_llm(lane_ctx_t *ctx, void *user_data) {
  (void)user_data;
  /* The fence grows with every grant of "llm" in every process: pass it to
   * whatever the call writes, so a stalled holder's late write is refused. */
  printf("%s runs with fence %llu\n", lane_ctx_job_id(ctx), (unsigned long long)lane_ctx_fence(ctx));
  fflush(stdout);
  lane_ctx_wait(ctx, 200 * 1000000); /* the call */
  return 0;
}

int main(int argc, char **argv) {
  const char *me = argc > 1 ? argv[1] : "worker";
  lane_cluster_options_t co = LANE_CLUSTER_OPTIONS_INIT;
  co.url = getenv("LANE_REDIS"); /* NULL: redis://127.0.0.1:6379/0 */
  co.lease_ns = 3LL * 1000000000; /* a crashed worker's slots come back within 3 s */
  lane_cluster_t *cluster;
  if (lane_cluster_create(&co, &cluster) != LANE_OK) return fprintf(stderr, "%s\n", lane_last_error()), 1;

  lane_options_t opts = LANE_OPTIONS_INIT;
  opts.max_concurrent = 2; /* for every process together */
  opts.policy = LANE_POLICY_FAIR_SHARE;
  opts.cluster = cluster;
  lane_t *llm;
  if (lane_create("llm", &opts, &llm) != LANE_OK) return fprintf(stderr, "%s\n", lane_last_error()), 1;

  for (int i = 0; i < 4; i++) {
    char id[64];
    snprintf(id, sizeof id, "%s-%d", me, i);
    lane_job_t job = LANE_JOB_INIT;
    job.id = id, job.tenant = me, job.run = call_llm;
    if (lane_submit(llm, &job, NULL) != LANE_OK) fprintf(stderr, "%s: %s\n", id, lane_last_error());
  }
  lane_wait_idle(llm, -1);
  lane_stats_t s = {.struct_size = sizeof s};
  lane_stats(llm, &s);
  printf("%s: %llu completed; %u running and %u waiting across all workers\n", me,
         (unsigned long long)s.completed, s.global_running, s.global_queued);
  lane_destroy(llm); /* gives its slots back */
  lane_cluster_destroy(cluster);
  return s.completed == 4 ? 0 : 1;
}

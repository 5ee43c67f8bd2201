/* The shared-lane C API against a live Redis (URL in argv[1]) and a port
 * where nothing listens (argv[2]): bad inputs get a status and a message,
 * and the good paths (callback, submit_wait, host-run through a port,
 * release/reacquire, a cap change, stats) work on a member lane.
 * Run by cluster_test.py (scenario api). Exit status 0 = pass. */
#define _POSIX_C_SOURCE 200809L
#include <lane/lane.h>

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static int failures = 0;
#define EXPECT(cond)                                                                                     \
  do {                                                                                                   \
    if (!(cond)) {                                                                                       \
      fprintf(stderr, "%s:%d: failed: %s (last error: %s)\n", __FILE__, __LINE__, #cond, lane_last_error()); \
      ++failures;                                                                                        \
    }                                                                                                    \
  } while (0)

static atomic_ullong seen_fence;

static int32_t run_fence(lane_ctx_t *ctx, void *ud) {
  (void)ud;
  atomic_store(&seen_fence, lane_ctx_fence(ctx));
  return 0;
}

static int32_t run_release(lane_ctx_t *ctx, void *ud) {
  (void)ud;
  uint64_t before = lane_ctx_fence(ctx);
  if (lane_ctx_release(ctx) != LANE_OK) return 1;
  if (lane_ctx_reacquire(ctx, 5LL * 1000000000) != LANE_OK) return 2;
  /* The slot came back through Redis: a new grant, a larger fence. */
  return lane_ctx_fence(ctx) > before ? 0 : 3;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  const char *url = argv[1], *dead = argv[2];
  lane_cluster_t *c = NULL;

  /* Bad inputs. */
  EXPECT(lane_cluster_create(NULL, NULL) == LANE_ERR_INVALID);
  lane_cluster_options_t co = LANE_CLUSTER_OPTIONS_INIT;
  co.url = "http://127.0.0.1:1";
  EXPECT(lane_cluster_create(&co, &c) == LANE_ERR_INVALID && c == NULL);
  EXPECT(strstr(lane_last_error(), "redis://") != NULL);
  co.url = "redis://127.0.0.1:99999/0";
  EXPECT(lane_cluster_create(&co, &c) == LANE_ERR_INVALID);
  co.url = url;
  co.lease_ns = 1000;
  EXPECT(lane_cluster_create(&co, &c) == LANE_ERR_INVALID);
  co.lease_ns = 0;
  co.key_prefix = "a{b}";
  EXPECT(lane_cluster_create(&co, &c) == LANE_ERR_INVALID);
  co.key_prefix = "api";
  co.timeout_ns = -1;
  EXPECT(lane_cluster_create(&co, &c) == LANE_ERR_INVALID);
  co.timeout_ns = 0;
  co.struct_size = 4;
  EXPECT(lane_cluster_create(&co, &c) == LANE_ERR_INVALID);
  co.struct_size = sizeof co;
  co.url = dead;
  EXPECT(lane_cluster_create(&co, &c) == LANE_ERR_UNAVAILABLE && c == NULL);
  EXPECT(strstr(lane_last_error(), "cannot connect") != NULL);
  EXPECT(lane_cluster_destroy(NULL) == LANE_OK);
  EXPECT(lane_ctx_fence(NULL) == 0);

  co.url = url;
  co.lease_ns = 1000000000;
  EXPECT(lane_cluster_create(&co, &c) == LANE_OK && c != NULL);
  if (!c) return 1;

  lane_options_t lo = LANE_OPTIONS_INIT;
  lo.max_concurrent = 2;
  lo.cluster = c;
  lo.preempt_overcommit = 1;
  lane_t *lane = NULL;
  EXPECT(lane_create("api", &lo, &lane) == LANE_ERR_INVALID && lane == NULL);
  lo.preempt_overcommit = 0;
  lane_t *plain = NULL;
  EXPECT(lane_create("plain", NULL, &plain) == LANE_OK);
  lo.cluster = (lane_cluster_t *)plain; /* a handle of the wrong kind */
  EXPECT(lane_create("api", &lo, &lane) == LANE_ERR_INVALID);
  EXPECT(lane_cluster_destroy((lane_cluster_t *)plain) == LANE_ERR_INVALID);
  lo.cluster = c;
  EXPECT(lane_create("api", &lo, &lane) == LANE_OK);
  if (!lane) return 1;
  EXPECT(lane_cluster_destroy(c) == LANE_ERR_INVALID); /* a lane still uses it */
  EXPECT(strstr(lane_last_error(), "destroy them first") != NULL);

  /* A callback job runs on a granted slot and sees its fence. */
  lane_job_t j = LANE_JOB_INIT;
  j.id = "cb";
  j.run = run_fence;
  lane_outcome_t o = {.struct_size = sizeof o};
  EXPECT(lane_submit_wait(lane, &j, 5LL * 1000000000, &o) == LANE_OK);
  EXPECT(atomic_load(&seen_fence) > 0);

  /* Release and reacquire go back through Redis. */
  j.id = "rr";
  j.run = run_release;
  EXPECT(lane_submit_wait(lane, &j, 10LL * 1000000000, &o) == LANE_OK);
  EXPECT(o.job_code == 0);

  /* A host-run job through a port: its GRANT's ctx has a fence. */
  lane_port_t *port = NULL;
  EXPECT(lane_port_create(&port) == LANE_OK);
  lane_job_t h = LANE_JOB_INIT;
  h.id = "host";
  h.port = port;
  lane_ticket_t t = LANE_TICKET_INIT;
  EXPECT(lane_submit(lane, &h, &t) == LANE_OK);
  lane_event_t ev[4];
  for (int i = 0; i < 4; i++) ev[i].struct_size = sizeof ev[i];
  int32_t n = lane_port_poll(port, ev, 4, 5LL * 1000000000);
  EXPECT(n == 1 && ev[0].kind == LANE_EVENT_GRANT && lane_ctx_fence(ev[0].ctx) > 0);
  if (n == 1) EXPECT(lane_job_finish(lane, t.job_token, 0) == LANE_OK);
  n = lane_port_poll(port, ev, 4, 5LL * 1000000000);
  EXPECT(n == 1 && ev[0].kind == LANE_EVENT_DONE && ev[0].status == LANE_OK);

  /* Stats say it is shared; the cap can change. */
  EXPECT(lane_set_max_concurrent(lane, 3) == LANE_OK);
  lane_stats_t s = {.struct_size = sizeof s};
  EXPECT(lane_stats(lane, &s) == LANE_OK);
  EXPECT(s.shared == 1 && s.available == 1 && s.completed == 3);

  /* A plain lane reports nothing shared, and its jobs' fence is 0. */
  lane_stats_t ps = {.struct_size = sizeof ps};
  EXPECT(lane_stats(plain, &ps) == LANE_OK && ps.shared == 0);
  j.id = "plain";
  j.run = run_fence;
  EXPECT(lane_submit_wait(plain, &j, -1, &o) == LANE_OK);
  EXPECT(atomic_load(&seen_fence) == 0);

  /* A registry whose lanes are members: same sharing, destroyed with the registry. */
  lane_registry_options_t ro = LANE_REGISTRY_OPTIONS_INIT;
  ro.cluster = (lane_cluster_t *)plain; /* wrong kind */
  lane_registry_t *reg = NULL;
  EXPECT(lane_registry_create(&ro, &reg) == LANE_ERR_INVALID && reg == NULL);
  ro.cluster = c;
  EXPECT(lane_registry_create(&ro, &reg) == LANE_OK);
  lane_t *rl = NULL;
  EXPECT(lane_registry_get_or_create(reg, "api", &rl) == LANE_OK); /* the same shared lane as `lane` */
  atomic_store(&seen_fence, 0);
  j.id = "reg";
  j.run = run_fence;
  EXPECT(lane_submit_wait(rl, &j, 5LL * 1000000000, &o) == LANE_OK);
  EXPECT(atomic_load(&seen_fence) > 0);
  lane_stats_t rs = {.struct_size = sizeof rs};
  EXPECT(lane_stats(rl, &rs) == LANE_OK && rs.shared == 1);
  char text[65536];
  size_t len = 0;
  EXPECT(lane_registry_metrics(reg, text, sizeof text, &len) == LANE_OK);
  EXPECT(strstr(text, "lane_shared_available{lane=\"api\"} 1") != NULL);
  EXPECT(strstr(text, "lane_global_running{lane=\"api\"}") != NULL);
  EXPECT(strstr(text, "lane_releases_refused_total{lane=\"api\"} 0") != NULL);
  EXPECT(lane_destroy(lane) == LANE_OK);
  EXPECT(lane_cluster_destroy(c) == LANE_ERR_INVALID); /* the registry's lane still uses it */
  EXPECT(lane_registry_destroy(reg) == LANE_OK);
  EXPECT(lane_destroy(plain) == LANE_OK);
  EXPECT(lane_port_destroy(port) == LANE_OK);
  EXPECT(lane_cluster_destroy(c) == LANE_OK);
  if (failures == 0) printf("api: all checks passed\n");
  return failures == 0 ? 0 : 1;
}

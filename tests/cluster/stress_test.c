/* Randomized stress of shared lanes in one process: two members of the
 * lane "stress" on one Redis (URL in argv[1]), through two clusters, or
 * through one cluster with argv[2] "one" (two lanes of one name on one
 * connection are still two members), four threads
 * submitting callback jobs with random tenants, priorities, queue timeouts,
 * cancels, release/reacquire, costs (a shared cost limit, estimates,
 * costs reported while running) and a shared tenant limit. Checks that the jobs holding a slot never
 * exceed the shared cap (nor tenant a's its limit) across both members, and that every accepted job
 * gets exactly one outcome (and a refused one none). Run under ASan and
 * TSan by cluster_test.py (scenario stress). Meanwhile another thread makes
 * and destroys member lanes on the first cluster, 40 times, each with a few
 * jobs: every one of those ends once too. Exit status 0 = pass. */
#define _POSIX_C_SOURCE 200809L
#include <lane/lane.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAP 3
#define THREADS 4
#define PER_THREAD 400
#define JOBS (THREADS * PER_THREAD)

static lane_t *lanes[2];
static atomic_int holding, over, outcomes[JOBS], accepted[JOBS];
/* Tenant "a" has a shared limit of A_LIMIT on both members. */
#define A_LIMIT 1
static atomic_int holding_a, over_a;
static atomic_bool is_a[JOBS];

static unsigned rnd(unsigned *s) {
  *s = *s * 1103515245u + 12345u;
  return (*s >> 16) & 0x7fff;
}

static void hold(size_t n, int d) {
  int now = atomic_fetch_add(&holding, d) + d;
  if (now > CAP) atomic_fetch_add(&over, 1);
  if (atomic_load(&is_a[n]) && atomic_fetch_add(&holding_a, d) + d > A_LIMIT) atomic_fetch_add(&over_a, 1);
}

static int32_t run(lane_ctx_t *ctx, void *ud) {
  size_t n = (size_t)ud;
  hold(n, 1);
  if (n % 3 == 0 && lane_ctx_set_cost(ctx, (int64_t)(n % 7) + 1) != LANE_OK) return 8; /* a refund or more */
  lane_ctx_wait(ctx, (int64_t)(n % 4) * 500000);
  if (n % 5 == 0 && lane_ctx_fence(ctx) > 0) {
    hold(n, -1);
    if (lane_ctx_release(ctx) != LANE_OK) return 7;
    lane_status_t s = lane_ctx_reacquire(ctx, 200 * 1000000LL);
    if (s == LANE_OK) hold(n, 1);
    else return 0; /* cancelled or timed out: it holds no slot */
  }
  hold(n, -1);
  return 0;
}

static void done(const lane_outcome_t *o, void *ud) {
  (void)o;
  atomic_fetch_add(&outcomes[(size_t)ud], 1);
}

/* Lanes joining and leaving the cluster while the others run: each one
 * takes a few jobs and is destroyed (which waits for them and gives its
 * grants back). */
static lane_cluster_t *churn_cluster;
static atomic_int churn_outcomes, churn_accepted;

static void churn_done(const lane_outcome_t *o, void *ud) {
  (void)o;
  (void)ud;
  atomic_fetch_add(&churn_outcomes, 1);
}

static int32_t churn_run(lane_ctx_t *ctx, void *ud) {
  (void)ud;
  return lane_ctx_fence(ctx) > 0 ? 0 : 1;
}

static void *churner(void *arg) {
  (void)arg;
  for (int i = 0; i < 40; i++) {
    lane_options_t lo = LANE_OPTIONS_INIT;
    lo.max_concurrent = 2;
    lo.cluster = churn_cluster;
    lane_t *l = NULL;
    if (lane_create(i % 2 ? "churn-a" : "churn-b", &lo, &l) != LANE_OK) {
      fprintf(stderr, "churn create: %s\n", lane_last_error());
      continue;
    }
    for (int k = 0; k < 3; k++) {
      char id[32];
      snprintf(id, sizeof id, "c%d-%d", i, k);
      lane_job_t j = LANE_JOB_INIT;
      j.id = id;
      j.run = churn_run;
      j.on_done = churn_done;
      if (lane_submit(l, &j, NULL) == LANE_OK) atomic_fetch_add(&churn_accepted, 1);
    }
    if (i % 3 == 0) lane_wait_idle(l, -1);
    if (lane_destroy(l) != LANE_OK) fprintf(stderr, "churn destroy: %s\n", lane_last_error());
  }
  return NULL;
}

static void *submitter(void *arg) {
  unsigned seed = (unsigned)(size_t)arg * 7919u + 1;
  for (int i = 0; i < PER_THREAD; i++) {
    size_t n = (size_t)arg * PER_THREAD + (size_t)i;
    char id[32];
    snprintf(id, sizeof id, "j%zu", n);
    const char *tenants[] = {"a", "b", "c"};
    lane_job_t j = LANE_JOB_INIT;
    j.id = id;
    j.tenant = tenants[rnd(&seed) % 3];
    atomic_store(&is_a[n], j.tenant[0] == 'a');
    j.priority = (int32_t)(rnd(&seed) % 3);
    j.run = run;
    j.on_done = done;
    j.user_data = (void *)n;
    j.cost = (int64_t)(rnd(&seed) % 20) + 1;
    if (rnd(&seed) % 4 == 0) j.queue_timeout_ns = (int64_t)(rnd(&seed) % 20) * 1000000;
    lane_t *lane = lanes[rnd(&seed) % 2];
    lane_status_t s = lane_submit(lane, &j, NULL);
    if (s == LANE_OK) atomic_store(&accepted[n], 1);
    else fprintf(stderr, "submit %s: %s\n", id, lane_last_error());
    if (rnd(&seed) % 6 == 0 && n > 3) {
      char other[32];
      snprintf(other, sizeof other, "j%zu", n - rnd(&seed) % 3);
      (void)lane_cancel(lanes[rnd(&seed) % 2], other, LANE_CANCEL_QUEUED | LANE_CANCEL_RUNNING);
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const int one = argc > 2 && strcmp(argv[2], "one") == 0;
  lane_cluster_t *clusters[2] = {NULL, NULL};
  for (int i = 0; i < 2; i++) {
    lane_cluster_options_t co = LANE_CLUSTER_OPTIONS_INIT;
    co.url = argv[1];
    co.lease_ns = 2LL * 1000000000;
    if (one && i == 1) {
      clusters[1] = clusters[0];
    } else if (lane_cluster_create(&co, &clusters[i]) != LANE_OK) {
      return fprintf(stderr, "%s\n", lane_last_error()), 1;
    }
    lane_options_t lo = LANE_OPTIONS_INIT;
    lo.max_concurrent = CAP;
    lo.policy = LANE_POLICY_FAIR_SHARE;
    lo.cluster = clusters[i];
    if (lane_create("stress", &lo, &lanes[i]) != LANE_OK) return fprintf(stderr, "%s\n", lane_last_error()), 1;
  }
  /* A shared cost limit, set by one member only (the other is charged all
     the same): loose enough that it rarely holds a grant back, so the cost
     corrections (estimates, reported costs, unused grants) run on every
     path the jobs take. */
  if (lane_set_rate_limit(lanes[0], LANE_RATE_COST, 200000, 1000000000, 100) != LANE_OK)
    return fprintf(stderr, "%s\n", lane_last_error()), 1;
  for (int i = 0; i < 2; i++)
    if (lane_set_tenant_limit(lanes[i], "a", A_LIMIT) != LANE_OK) return fprintf(stderr, "%s\n", lane_last_error()), 1;
  pthread_t t[THREADS], churn;
  churn_cluster = clusters[0];
  pthread_create(&churn, NULL, churner, NULL);
  for (size_t i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, submitter, (void *)i);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  pthread_join(churn, NULL);
  int rc = 0;
  for (int i = 0; i < 2; i++) {
    if (lane_wait_idle(lanes[i], 60LL * 1000000000) != LANE_OK) {
      fprintf(stderr, "lane %d did not become idle\n", i);
      rc = 1;
    }
  }
  int acc = 0, bad = 0;
  for (int n = 0; n < JOBS; n++) {
    acc += atomic_load(&accepted[n]);
    if (atomic_load(&outcomes[n]) != atomic_load(&accepted[n])) {
      if (bad++ < 5) fprintf(stderr, "job %d: accepted %d, outcomes %d\n", n, accepted[n], outcomes[n]);
    }
  }
  if (bad) rc = 1;
  if (atomic_load(&churn_outcomes) != atomic_load(&churn_accepted)) {
    fprintf(stderr, "churn lanes: %d accepted, %d outcomes\n", atomic_load(&churn_accepted), atomic_load(&churn_outcomes));
    rc = 1;
  }
  if (atomic_load(&over_a)) {
    fprintf(stderr, "%d times more than %d jobs of tenant a held a slot across both members\n", atomic_load(&over_a),
            A_LIMIT);
    rc = 1;
  }
  if (atomic_load(&over)) {
    fprintf(stderr, "%d times more than %d jobs held a slot across both members\n", atomic_load(&over), CAP);
    rc = 1;
  }
  for (int i = 0; i < 2; i++)
    if (lane_destroy(lanes[i]) != LANE_OK) rc = 1;
  for (int i = 0; i < (one ? 1 : 2); i++)
    if (lane_cluster_destroy(clusters[i]) != LANE_OK) rc = 1;
  printf("stress (%s): %d accepted of %d, %d without exactly one outcome, cap exceeded %d times\n", one ? "one cluster" : "two clusters", acc, JOBS, bad,
         atomic_load(&over));
  return rc;
}

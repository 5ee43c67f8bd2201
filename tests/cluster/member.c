/* One member process of a shared lane, for the multi-process tests
 * (cluster_test.py): joins the lane on a Redis, submits callback jobs, logs
 * each job's start and end (CLOCK_REALTIME ns, the grant's fence) and each
 * submission refused LANE_ERR_UNAVAILABLE (U), waits for
 * every outcome and prints one line of counters.
 *
 *   member --url U --lane L [--cap N] [--tenant T] [--priority P] [--jobs N]
 *          [--job-ms M] [--every-ms E] [--lease-ms L] [--prefix P]
 *          [--fallback K] [--linger-ms M] [--rate R] [--cost C]
 *          [--real-cost X] [--cost-rate U] [--cost-burst B]
 *          [--tenant-limit N] --log FILE
 *
 * --every-ms 0 submits every job at once; > 0 one job each E ms. --rate: a
 * requests rate limit of R a second (burst 1); --cost-rate: a cost rate limit
 * of U units a second (burst B, default C); --cost: each job's estimate;
 * --real-cost: each job reports that cost as it starts; --tenant-limit: at
 * most N jobs of --tenant run at once (shared by the members). */
#define _POSIX_C_SOURCE 200809L
#include <lane/lane.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_fd = -1;
static int job_ms = 50;
static int real_cost = 0;
static atomic_int outcomes, ok_outcomes;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void log_line(char kind, const lane_ctx_t *ctx) {
  char buf[256];
  int n = snprintf(buf, sizeof buf, "%c %lld %llu %s\n", kind, (long long)now_ns(),
                   (unsigned long long)lane_ctx_fence(ctx), lane_ctx_job_id(ctx));
  if (write(log_fd, buf, (size_t)n) != n) abort();
}

static int32_t run(lane_ctx_t *ctx, void *ud) {
  (void)ud;
  log_line('S', ctx);
  if (real_cost > 0 && lane_ctx_set_cost(ctx, real_cost) != LANE_OK) abort();
  struct timespec ts = {job_ms / 1000, (long)(job_ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  log_line('E', ctx);
  return 0;
}

static void done(const lane_outcome_t *o, void *ud) {
  (void)ud;
  atomic_fetch_add(&outcomes, 1);
  if (o->status == LANE_OK) atomic_fetch_add(&ok_outcomes, 1);
}

int main(int argc, char **argv) {
  const char *url = NULL, *lane_name = NULL, *tenant = "", *prefix = NULL, *log_path = NULL;
  int cap = 1, jobs = 10, every_ms = 0, lease_ms = 0, fallback = 0, priority = 0, linger_ms = 0, rate = 0;
  int cost = 0, cost_rate = 0, cost_burst = 0, tenant_limit = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--url")) url = v;
    else if (!strcmp(k, "--lane")) lane_name = v;
    else if (!strcmp(k, "--cap")) cap = atoi(v);
    else if (!strcmp(k, "--tenant")) tenant = v;
    else if (!strcmp(k, "--priority")) priority = atoi(v);
    else if (!strcmp(k, "--jobs")) jobs = atoi(v);
    else if (!strcmp(k, "--job-ms")) job_ms = atoi(v);
    else if (!strcmp(k, "--every-ms")) every_ms = atoi(v);
    else if (!strcmp(k, "--lease-ms")) lease_ms = atoi(v);
    else if (!strcmp(k, "--prefix")) prefix = v;
    else if (!strcmp(k, "--fallback")) fallback = atoi(v);
    else if (!strcmp(k, "--log")) log_path = v;
    else if (!strcmp(k, "--linger-ms")) linger_ms = atoi(v);
    else if (!strcmp(k, "--rate")) rate = atoi(v);
    else if (!strcmp(k, "--cost")) cost = atoi(v);
    else if (!strcmp(k, "--real-cost")) real_cost = atoi(v);
    else if (!strcmp(k, "--cost-rate")) cost_rate = atoi(v);
    else if (!strcmp(k, "--cost-burst")) cost_burst = atoi(v);
    else if (!strcmp(k, "--tenant-limit")) tenant_limit = atoi(v);
    else {
      fprintf(stderr, "member: unknown option %s\n", k);
      return 2;
    }
  }
  if (!url || !lane_name || !log_path) {
    fprintf(stderr, "member: --url, --lane and --log are required\n");
    return 2;
  }
  log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return 2;

  lane_cluster_options_t co = LANE_CLUSTER_OPTIONS_INIT;
  co.url = url;
  co.key_prefix = prefix;
  co.lease_ns = (int64_t)lease_ms * 1000000;
  co.fallback_slots = (uint32_t)fallback;
  lane_cluster_t *cluster = NULL;
  if (lane_cluster_create(&co, &cluster) != LANE_OK) {
    fprintf(stderr, "member: lane_cluster_create: %s\n", lane_last_error());
    return 3;
  }
  lane_options_t lo = LANE_OPTIONS_INIT;
  lo.max_concurrent = (uint32_t)cap;
  lo.policy = LANE_POLICY_FAIR_SHARE;
  lo.cluster = cluster;
  lane_t *lane = NULL;
  if (lane_create(lane_name, &lo, &lane) != LANE_OK) {
    fprintf(stderr, "member: lane_create: %s\n", lane_last_error());
    return 3;
  }
  /* Rate limits (shared by the members). */
  if (rate > 0 && lane_set_rate_limit(lane, LANE_RATE_REQUESTS, rate, 1000000000, 1) != LANE_OK) {
    fprintf(stderr, "member: lane_set_rate_limit: %s\n", lane_last_error());
    return 3;
  }
  if (cost_rate > 0 &&
      lane_set_rate_limit(lane, LANE_RATE_COST, cost_rate, 1000000000, cost_burst > 0 ? cost_burst : cost) != LANE_OK) {
    fprintf(stderr, "member: lane_set_rate_limit: %s\n", lane_last_error());
    return 3;
  }
  if (tenant_limit > 0 && lane_set_tenant_limit(lane, tenant, (uint32_t)tenant_limit) != LANE_OK) {
    fprintf(stderr, "member: lane_set_tenant_limit: %s\n", lane_last_error());
    return 3;
  }
  int accepted = 0, unavailable = 0, other = 0;
  for (int i = 0; i < jobs; ++i) {
    char id[64];
    snprintf(id, sizeof id, "%s-%d-%d", tenant[0] ? tenant : "job", (int)getpid(), i);
    lane_job_t j = LANE_JOB_INIT;
    j.id = id;
    j.tenant = tenant;
    j.priority = priority;
    j.cost = cost;
    j.run = run;
    j.on_done = done;
    lane_status_t s = lane_submit(lane, &j, NULL);
    if (s == LANE_OK) ++accepted;
    else if (s == LANE_ERR_UNAVAILABLE) {
      ++unavailable;
      char buf[96];
      int n = snprintf(buf, sizeof buf, "U %lld 0 %s\n", (long long)now_ns(), id);
      if (write(log_fd, buf, (size_t)n) != n) abort();
    }
    else {
      ++other;
      fprintf(stderr, "member: submit: %s\n", lane_last_error());
    }
    if (every_ms > 0) {
      struct timespec ts = {every_ms / 1000, (long)(every_ms % 1000) * 1000000L};
      nanosleep(&ts, NULL);
    }
  }
  if (lane_wait_idle(lane, -1) != LANE_OK) return 4;
  if (linger_ms > 0) { /* the last releases reach Redis after the outcomes */
    struct timespec ts = {linger_ms / 1000, (long)(linger_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  lane_stats_t st;
  st.struct_size = sizeof st;
  lane_stats(lane, &st);
  printf("{\"accepted\": %d, \"unavailable\": %d, \"other\": %d, \"outcomes\": %d, \"ok\": %d, \"leases_lost\": %llu, "
         "\"releases_refused\": %llu, \"shared\": %d}\n",
         accepted, unavailable, other, atomic_load(&outcomes), atomic_load(&ok_outcomes),
         (unsigned long long)st.leases_lost, (unsigned long long)st.releases_refused, st.shared);
  fflush(stdout);
  if (lane_destroy(lane) != LANE_OK) return 5;
  if (lane_cluster_destroy(cluster) != LANE_OK) return 5;
  return 0;
}

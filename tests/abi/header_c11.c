/* lane.h from plain C11 (-std=c11 -pedantic -Werror): the INIT macros, the
 * types and a small lane run end to end. Exit status 0 = pass. */
#include <lane/lane.h>

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

_Static_assert(offsetof(lane_job_t, struct_size) == 0, "struct_size first");
_Static_assert(offsetof(lane_options_t, struct_size) == 0, "struct_size first");
_Static_assert(offsetof(lane_ticket_t, struct_size) == 0, "struct_size first");
_Static_assert(offsetof(lane_stats_t, struct_size) == 0, "struct_size first");
_Static_assert(offsetof(lane_event_t, struct_size) == 0, "struct_size first");
_Static_assert(offsetof(lane_outcome_t, struct_size) == 0, "struct_size first");
_Static_assert(offsetof(lane_api_t, struct_size) == 0, "struct_size first");
/* Fields only grow at the end: fair_half_life_ns came after clock_ud. */
_Static_assert(offsetof(lane_options_t, fair_half_life_ns) > offsetof(lane_options_t, clock_ud), "appended last");
_Static_assert(offsetof(lane_options_t, adaptive_min) > offsetof(lane_options_t, fair_half_life_ns), "appended last");
_Static_assert(offsetof(lane_options_t, cluster) > offsetof(lane_options_t, adaptive_cooldown_ns), "appended last");
_Static_assert(offsetof(lane_options_t, cluster) + sizeof(void *) == sizeof(lane_options_t), "cluster is the last field");
_Static_assert(offsetof(lane_stats_t, shared) > offsetof(lane_stats_t, overloads), "appended last");
_Static_assert(offsetof(lane_cluster_options_t, struct_size) == 0, "struct_size first");
_Static_assert(offsetof(lane_job_t, cost) > offsetof(lane_job_t, queue_timeout_ns), "appended last");
_Static_assert(offsetof(lane_stats_t, width) > offsetof(lane_stats_t, mean_runtime_ns), "appended last");

static int failures = 0;

#define EXPECT(cond)                                                     \
  do {                                                                   \
    if (!(cond)) {                                                       \
      fprintf(stderr, "%s:%d: failed: %s (last error: %s)\n", __FILE__, \
              __LINE__, #cond, lane_last_error());                       \
      ++failures;                                                        \
    }                                                                    \
  } while (0)

static atomic_int runs;
static atomic_int dones;
static atomic_int last_status = 1;
static atomic_int last_code = -1;

static int32_t run_job(lane_ctx_t *ctx, void *user_data) {
  int *seen = (int *)user_data;
  *seen = lane_ctx_cancelled(ctx) == 0 && lane_ctx_cause(ctx) == LANE_OK;
  atomic_fetch_add(&runs, 1);
  return 3;
}

static void job_done(const lane_outcome_t *o, void *user_data) {
  (void)user_data;
  atomic_store(&last_status, (int)o->status);
  atomic_store(&last_code, (int)o->job_code);
  atomic_fetch_add(&dones, 1);
}

int main(void) {
  lane_options_t opts = LANE_OPTIONS_INIT;
  lane_job_t job = LANE_JOB_INIT;
  lane_ticket_t ticket = LANE_TICKET_INIT;
  lane_stats_t stats;
  lane_t *lane = NULL;
  lane_port_t *port = NULL;
  lane_event_t events[4];
  const lane_api_t *api;
  int seen = 0;
  int32_t n;
  int granted = 0, done = 0, i, round;

  EXPECT(opts.struct_size == sizeof(lane_options_t));
  EXPECT(opts.fair_half_life_ns == 0);
  EXPECT(job.struct_size == sizeof(lane_job_t));
  EXPECT(ticket.struct_size == sizeof(lane_ticket_t));
  EXPECT(lane_abi_version() == LANE_ABI_VERSION);
  EXPECT(strcmp(lane_version_string(), LANE_VERSION_STRING) == 0);
  EXPECT(strcmp(lane_status_name(LANE_ERR_DEADLOCK), "LANE_ERR_DEADLOCK") == 0);
  EXPECT(strcmp(lane_status_name(LANE_ERR_IO), "LANE_ERR_IO") == 0);
  EXPECT(strcmp(lane_status_name(LANE_ERR_UNSUPPORTED), "LANE_ERR_UNSUPPORTED") == 0);

  opts.max_concurrent = 2;
  EXPECT(lane_create("c11", &opts, &lane) == LANE_OK);
  if (!lane) return 1;
  EXPECT(strcmp(lane_name(lane), "c11") == 0);

  /* A callback job that fails with code 3. */
  job.id = "c-job";
  job.run = run_job;
  job.on_done = job_done;
  job.user_data = &seen;
  EXPECT(lane_submit(lane, &job, &ticket) == LANE_OK);
  EXPECT(ticket.position == 0);
  EXPECT(ticket.job_token != 0);
  EXPECT(lane_wait_idle(lane, -1) == LANE_OK);
  EXPECT(atomic_load(&runs) == 1);
  EXPECT(atomic_load(&dones) == 1);
  EXPECT(atomic_load(&last_status) == LANE_ERR_JOB_FAILED);
  EXPECT(atomic_load(&last_code) == 3);
  EXPECT(seen == 1);

  /* A host-run job through a port. */
  EXPECT(lane_port_create(&port) == LANE_OK);
  if (!port) return 1;
#ifdef _WIN32 /* an event handle to wait on, and no fd */
  EXPECT(lane_port_fd(port) == -1);
  EXPECT(lane_port_handle(port) != NULL);
#else /* an eventfd, and no handle */
  EXPECT(lane_port_fd(port) >= 0);
  EXPECT(lane_port_handle(port) == NULL);
#endif
  {
    lane_job_t host = LANE_JOB_INIT;
    lane_ticket_t ht = LANE_TICKET_INIT;
    host.id = "c-host";
    host.port = port;
    EXPECT(lane_submit(lane, &host, &ht) == LANE_OK);
    for (round = 0; round < 500 && !done; ++round) {
      memset(events, 0, sizeof events);
      events[0].struct_size = sizeof(lane_event_t);
      n = lane_port_poll(port, events, 4, 20000000);
      EXPECT(n >= 0);
      for (i = 0; i < n; ++i) {
        EXPECT(events[i].job_token == ht.job_token);
        EXPECT(events[i].lane == lane);
        if (events[i].kind == LANE_EVENT_GRANT) {
          granted = 1;
          EXPECT(lane_job_finish(lane, ht.job_token, 0) == LANE_OK);
        } else if (events[i].kind == LANE_EVENT_DONE) {
          done = 1;
          EXPECT(events[i].status == LANE_OK);
        }
      }
    }
    EXPECT(granted);
    EXPECT(done);
  }

  /* Bad input from C: a status and a message. In C any int is a valid value
   * of an enum type, so a host may pass values the library does not know. */
  {
    lane_job_t bad = LANE_JOB_INIT;
    lane_options_t bad_opts = LANE_OPTIONS_INIT;
    lane_t *never = NULL;
    EXPECT(lane_submit(lane, &bad, NULL) == LANE_ERR_INVALID);
    EXPECT(lane_last_error()[0] != '\0');
    bad_opts.policy = (lane_policy_t)99;
    EXPECT(lane_create("bad-policy", &bad_opts, &never) == LANE_ERR_INVALID);
    EXPECT(lane_last_error()[0] != '\0');
    EXPECT(never == NULL);
    EXPECT(lane_close(lane, (lane_close_mode_t)7) == LANE_ERR_INVALID);
    EXPECT(lane_last_error()[0] != '\0');
  }

  memset(&stats, 0, sizeof stats);
  stats.struct_size = sizeof stats;
  EXPECT(lane_stats(lane, &stats) == LANE_OK);
  EXPECT(stats.submitted == 2);
  EXPECT(stats.failed == 1);
  EXPECT(stats.completed == 1);
  EXPECT(stats.running == 0 && stats.queued == 0);
  EXPECT(stats.max_concurrent == 2);

  {
    /* A session from C: the INIT macro, an enum field, a refused mode. */
    lane_session_options_t so = LANE_SESSION_OPTIONS_INIT;
    lane_session_t *sess = NULL;
    so.mode = LANE_SESSION_COLLECT;
    so.debounce_ns = -1;
    EXPECT(lane_session_create(lane, "c11", &so, &sess) == LANE_OK);
    EXPECT(sess != NULL && strcmp(lane_session_key(sess), "c11") == 0);
    EXPECT(lane_session_queued(sess) == 0 && lane_session_active(sess) == 0);
    lane_session_destroy(sess);
    so.mode = (lane_session_mode_t)9;
    sess = NULL;
    EXPECT(lane_session_create(lane, "c11", &so, &sess) == LANE_ERR_INVALID);
    EXPECT(sess == NULL);
  }

  api = lane_get_api(LANE_ABI_VERSION);
  EXPECT(api != NULL);
  if (api) {
    EXPECT(api->struct_size == sizeof(lane_api_t));
    EXPECT(api->stats == lane_stats);
  }

  lane_destroy(lane);
  lane_port_destroy(port);
  lane_destroy(NULL);
  lane_port_destroy(NULL);
  if (failures) fprintf(stderr, "header_c11: %d failure(s)\n", failures);
  return failures ? 1 : 0;
}

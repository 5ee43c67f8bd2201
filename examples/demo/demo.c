/*
 * lane-demo: two contended lanes driven for a few seconds, through lane.h only.
 *
 * "llm" (FAIR_SHARE, 3 slots): alice sends many short jobs, bob a few long
 * ones, carol medium ones. Fair share counts slot-time, so alice's short jobs
 * are not stuck behind bob's long ones. Jobs sleep in lane_ctx_wait, so a
 * cancel (carol withdraws one queued job) or a close ends them at once.
 * "gpu" (1 slot, strict cap): a long checkpointed batch job (PREEMPTIBLE |
 * REQUEUE_ON_PREEMPT) is preempted by a priority-10 interactive job after a
 * 200 ms guard, requeued, and later resumes from its checkpoint; a second
 * batch job without REQUEUE is preempted by the next one and ends PREEMPTED.
 * Every ~500 ms: a stats table. At the end: per-tenant waits, preemptions and
 * ETA error (ticket.eta_ns vs the real wait). Then "chat": three session
 * queues (COLLECT with debounce, INTERRUPT, QUEUE with cap 2 and SUMMARIZE)
 * in front of a 2-slot lane, fed bursts of messages. All numbers are measured.
 */
#define _POSIX_C_SOURCE 200809L

#include <lane/lane.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MS 1000000LL
#define SUBMIT_FOR_NS (2800 * MS) /* producers stop after this */
#define DRAIN_LIMIT_NS (5000 * MS) /* then the lanes get this long to drain */
#define MAX_JOBS 1024

enum { ALICE, BOB, CAROL, GPU_INTERACTIVE, GPU_BATCH, N_TENANTS };
static const char *const tenant_names[N_TENANTS] = {"alice", "bob", "carol", "gpu-interactive", "gpu-batch"};

/* ------------------------------------------------------------- bookkeeping */

typedef struct tenant_tally {
  unsigned submitted, refused, ok, failed, cancelled, preempted, timed_out, closed;
  double wait_sum_ms, wait_max_ms, slot_ms;
  unsigned waits;
} tenant_tally_t;

/* One job's user_data. Kept in g_jobs until the end, so that the summary can
 * pair each ticket with its outcome whatever order they arrived in. */
typedef struct demo_job {
  int tenant;
  int64_t work_ns; /* total work */
  int64_t done_ns; /* checkpointed progress (a requeued batch job resumes from it) */
  int runs;        /* > 1: requeued after a preemption */
  int queued;      /* ticket position > 0 */
  int64_t eta_ns;  /* the ticket's estimate */
  int accepted;    /* lane_submit said LANE_OK */
  int ended;       /* on_done calls (exactly one per accepted job) */
  lane_status_t status;
  int64_t enqueued_at_ns, started_at_ns, finished_at_ns;
  char id[32];
} demo_job_t;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static demo_job_t *g_jobs[MAX_JOBS];
static size_t g_njobs;
static int g_errors;
static int64_t g_t0;

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double since_start_s(void) { return (double)(mono_ns() - g_t0) / 1e9; }

static void sleep_ns(int64_t ns) {
  struct timespec ts;
  if (ns <= 0) return;
  ts.tv_sec = (time_t)(ns / 1000000000LL);
  ts.tv_nsec = (long)(ns % 1000000000LL);
  nanosleep(&ts, NULL);
}

static void fail(const char *what, lane_status_t st) {
  pthread_mutex_lock(&g_mu);
  ++g_errors;
  pthread_mutex_unlock(&g_mu);
  fprintf(stderr, "lane-demo: %s failed: %s (%s)\n", what, lane_status_name(st), lane_last_error());
}

/* A small deterministic generator per producer. */
static uint32_t rnd(uint64_t *s) {
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(*s >> 33);
}
static int64_t rnd_between(uint64_t *s, int64_t lo, int64_t hi) {
  return lo + (int64_t)(rnd(s) % (uint64_t)(hi - lo + 1));
}

/* ------------------------------------------------------------------- jobs */

/* Works in 20 ms steps, checkpointing progress, until done or cancelled. */
static int32_t run_job(lane_ctx_t *ctx, void *ud) {
  demo_job_t *j = (demo_job_t *)ud;
  const int64_t step = 20 * MS;
  j->runs++;
  while (j->done_ns < j->work_ns) {
    int64_t left = j->work_ns - j->done_ns;
    int64_t t = left < step ? left : step;
    int64_t before = mono_ns();
    lane_status_t st = lane_ctx_wait(ctx, t);
    j->done_ns += mono_ns() - before;
    if (st != LANE_ERR_TIMEOUT) return 0; /* cancelled/preempted/closed: the outcome says which */
  }
  return 0;
}

static void on_done(const lane_outcome_t *o, void *ud) {
  demo_job_t *j = (demo_job_t *)ud;
  pthread_mutex_lock(&g_mu);
  j->ended++;
  j->status = o->status;
  j->enqueued_at_ns = o->enqueued_at_ns;
  j->started_at_ns = o->started_at_ns;
  j->finished_at_ns = o->finished_at_ns;
  pthread_mutex_unlock(&g_mu);
}

/* Submits one job; returns its ticket position, or -1 if refused. */
static int submit(lane_t *lane, int tenant, const char *id, int32_t priority, uint32_t flags, int64_t work_ns) {
  demo_job_t *j = (demo_job_t *)calloc(1, sizeof *j);
  lane_job_t job = LANE_JOB_INIT;
  lane_ticket_t ticket = LANE_TICKET_INIT;
  lane_status_t st;
  if (j == NULL) {
    fail("calloc", LANE_ERR_NOMEM);
    return -1;
  }
  pthread_mutex_lock(&g_mu);
  if (g_njobs == MAX_JOBS) {
    pthread_mutex_unlock(&g_mu);
    free(j);
    return -1;
  }
  g_jobs[g_njobs++] = j;
  pthread_mutex_unlock(&g_mu);
  j->tenant = tenant;
  j->work_ns = work_ns;
  snprintf(j->id, sizeof j->id, "%s", id);
  job.id = j->id;
  job.tenant = tenant_names[tenant];
  job.priority = priority;
  job.flags = flags;
  job.run = run_job;
  job.on_done = on_done;
  job.user_data = j;
  st = lane_submit(lane, &job, &ticket);
  pthread_mutex_lock(&g_mu);
  j->accepted = st == LANE_OK;
  j->queued = st == LANE_OK && ticket.position > 0;
  j->eta_ns = ticket.eta_ns;
  if (st != LANE_OK) j->status = st; /* refused: never ends */
  pthread_mutex_unlock(&g_mu);
  if (st != LANE_OK) {
    fail("lane_submit", st);
    return -1;
  }
  return ticket.position;
}

/* --------------------------------------------------------------- producers */

typedef struct producer {
  lane_t *lane;
  int tenant;
  int64_t every_lo, every_hi; /* gap between submissions */
  int64_t work_lo, work_hi;   /* job length */
  uint64_t seed;
} producer_t;

static void *produce(void *arg) {
  producer_t *p = (producer_t *)arg;
  char id[32];
  int n = 0;
  while (mono_ns() - g_t0 < SUBMIT_FOR_NS) {
    snprintf(id, sizeof id, "%s-%d", tenant_names[p->tenant], ++n);
    int pos = submit(p->lane, p->tenant, id, 0, 0, rnd_between(&p->seed, p->work_lo, p->work_hi));
    /* carol withdraws every fifth request while it still waits */
    if (p->tenant == CAROL && n % 5 == 0 && pos > 0) {
      lane_status_t st = lane_cancel(p->lane, id, LANE_CANCEL_QUEUED);
      if (st != LANE_OK && st != LANE_ERR_NOT_QUEUED) fail("lane_cancel", st);
    }
    sleep_ns(rnd_between(&p->seed, p->every_lo, p->every_hi));
  }
  return NULL;
}

static uint64_t gpu_preemptions(lane_t *gpu) {
  lane_stats_t s;
  memset(&s, 0, sizeof s);
  s.struct_size = sizeof s;
  return lane_stats(gpu, &s) == LANE_OK ? s.preemptions : 0;
}

static void interactive(lane_t *gpu, const char *id) {
  uint64_t before = gpu_preemptions(gpu);
  int pos = submit(gpu, GPU_INTERACTIVE, id, 10, 0, 250 * MS);
  printf("%5.2fs gpu: %s (priority 10) submitted: queue position %d, preemptions %llu -> %llu\n", since_start_s(),
         id, pos, (unsigned long long)before, (unsigned long long)gpu_preemptions(gpu));
}

/* The gpu timeline: batch jobs in the background, interactive jobs on top.
 * train-epoch (priority 0) requeues when preempted and resumes from its
 * checkpoint; eval-sweep (priority 1, runs before it) does not requeue. */
static void *gpu_script(void *arg) {
  lane_t *gpu = (lane_t *)arg;
  submit(gpu, GPU_BATCH, "train-epoch", 0, LANE_JOB_PREEMPTIBLE | LANE_JOB_REQUEUE_ON_PREEMPT, 1400 * MS);
  sleep_ns(500 * MS);
  interactive(gpu, "render-preview-1");
  sleep_ns(100 * MS);
  submit(gpu, GPU_BATCH, "eval-sweep", 1, LANE_JOB_PREEMPTIBLE, 900 * MS);
  sleep_ns(600 * MS);
  interactive(gpu, "render-preview-2");
  return NULL;
}

/* ------------------------------------------------------------------- stats */

static const char *blocked_name(lane_blocked_by_t b) {
  switch (b) {
    case LANE_BLOCKED_NONE: return "-";
    case LANE_BLOCKED_FULL: return "full";
    case LANE_BLOCKED_PAUSED: return "paused";
    case LANE_BLOCKED_COOLDOWN: return "cooldown";
    case LANE_BLOCKED_PRIORITY: return "priority";
    case LANE_BLOCKED_TENANT: return "tenant";
    case LANE_BLOCKED_RATE: return "rate";
    case LANE_BLOCKED_TENANT_LIMIT: return "tenant-limit";
  }
  return "?";
}

static int read_stats(lane_t *lane, lane_stats_t *s) {
  lane_status_t st;
  memset(s, 0, sizeof *s);
  s->struct_size = sizeof *s;
  st = lane_stats(lane, s);
  if (st != LANE_OK) fail("lane_stats", st);
  return st == LANE_OK;
}

static void print_row(lane_t *lane, uint32_t *last_ended, double dt_s) {
  lane_stats_t s;
  if (!read_stats(lane, &s)) return;
  double rate = dt_s > 0 ? (double)(s.throughput_1m - *last_ended) / dt_s : 0;
  *last_ended = s.throughput_1m;
  printf("%5.2fs %-4s %3u/%-3u %6u %7u %7.1f/s %9.1f %9.1f  %-8s %5llu\n", since_start_s(), s.name, s.running,
         s.max_concurrent, s.queued, s.throughput_1m, rate, (double)s.wait_p50_ns / 1e6, (double)s.wait_p99_ns / 1e6,
         blocked_name(s.blocked_by), (unsigned long long)s.preemptions);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, size_t n) {
  if (n == 0) return 0;
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void summary(lane_t *llm, lane_t *gpu) {
  static double abs_err[MAX_JOBS], rel_err[MAX_JOBS];
  tenant_tally_t tally[N_TENANTS];
  lane_stats_t ls, gs;
  size_t i, n = 0;
  unsigned requeued_runs = 0, preempted_outcomes = 0;
  int t;
  read_stats(llm, &ls);
  read_stats(gpu, &gs);
  memset(tally, 0, sizeof tally);
  pthread_mutex_lock(&g_mu);
  for (i = 0; i < g_njobs; ++i) {
    const demo_job_t *j = g_jobs[i];
    tenant_tally_t *x = &tally[j->tenant];
    if (!j->accepted) {
      x->refused++;
      continue;
    }
    x->submitted++;
    if (j->ended != 1) {
      ++g_errors;
      fprintf(stderr, "lane-demo: job %s got %d outcomes\n", j->id, j->ended);
      continue;
    }
    switch (j->status) {
      case LANE_OK: x->ok++; break;
      case LANE_ERR_JOB_FAILED: x->failed++; break;
      case LANE_ERR_CANCELLED: x->cancelled++; break;
      case LANE_ERR_PREEMPTED: x->preempted++; preempted_outcomes++; break;
      case LANE_ERR_TIMEOUT: x->timed_out++; break;
      case LANE_ERR_CLOSED: x->closed++; break;
      default:
        ++g_errors;
        fprintf(stderr, "lane-demo: job %s ended with %s\n", j->id, lane_status_name(j->status));
        break;
    }
    x->slot_ms += (double)j->done_ns / 1e6;
    if (j->runs > 1) requeued_runs += (unsigned)(j->runs - 1);
    /* started_at is the last dispatch: for a requeued job it includes its
     * earlier runs, so only jobs that ran once count as waits and ETA samples. */
    if (j->started_at_ns == 0 || j->runs > 1) continue;
    double wait_ms = (double)(j->started_at_ns - j->enqueued_at_ns) / 1e6;
    x->wait_sum_ms += wait_ms;
    x->waits++;
    if (wait_ms > x->wait_max_ms) x->wait_max_ms = wait_ms;
    if (j->queued) {
      double err = (double)j->eta_ns / 1e6 - wait_ms;
      abs_err[n] = err < 0 ? -err : err;
      rel_err[n] = wait_ms > 0 ? abs_err[n] / wait_ms : 0;
      n++;
    }
  }
  pthread_mutex_unlock(&g_mu);

  printf("\nper tenant (wait = started_at - enqueued_at, over jobs that ran once)\n");
  printf("%-16s %5s %5s %5s %7s %5s %6s %9s %9s %8s\n", "tenant", "jobs", "ok", "canc", "preempt", "other", "waits",
         "mean ms", "max ms", "slot s");
  for (t = 0; t < N_TENANTS; ++t) {
    const tenant_tally_t *x = &tally[t];
    printf("%-16s %5u %5u %5u %7u %5u %6u %9.1f %9.1f %8.2f\n", tenant_names[t], x->submitted, x->ok, x->cancelled,
           x->preempted, x->failed + x->timed_out + x->closed + x->refused, x->waits,
           x->waits ? x->wait_sum_ms / x->waits : 0.0, x->wait_max_ms, x->slot_ms / 1e3);
  }
  printf("\npreemptions: gpu lane_stats.preemptions %llu (stats.preempted %llu, preempted outcomes %u, "
         "requeued runs %u); llm %llu\n",
         (unsigned long long)gs.preemptions, (unsigned long long)gs.preempted, preempted_outcomes, requeued_runs,
         (unsigned long long)ls.preemptions);
  printf("ETA: %zu queued submissions: median |eta - actual wait| %.1f ms, median relative error %.0f%%\n", n,
         median(abs_err, n), 100.0 * median(rel_err, n));
  printf("llm: submitted %llu completed %llu cancelled %llu closed %llu refused %llu; run p50 %.1f ms, p99 %.1f ms\n",
         (unsigned long long)ls.submitted, (unsigned long long)ls.completed, (unsigned long long)ls.cancelled,
         (unsigned long long)ls.closed, (unsigned long long)ls.refused, (double)ls.run_p50_ns / 1e6,
         (double)ls.run_p99_ns / 1e6);
}

static void free_jobs(void) {
  size_t i;
  for (i = 0; i < g_njobs; ++i) free(g_jobs[i]);
  g_njobs = 0;
}

static lane_t *make_lane(const char *name, lane_policy_t policy, uint32_t cap, int64_t preempt_guard_ns);

/* -------------------------------------------------------------------- chat */

/* Three chat sessions in front of one "chat" lane of 2 slots. Each user
 * sends bursts of messages faster than a reply takes; the session decides
 * what each message becomes. Every number printed is counted from outcomes
 * and from what the runs saw. */
enum { CHAT_COLLECT, CHAT_INTERRUPT, CHAT_SUMMARIZE, N_CHATS };
static const char *const chat_names[N_CHATS] = {"dana (COLLECT)", "eli (INTERRUPT)", "fay (QUEUE, cap 2, SUMMARIZE)"};

typedef struct chat_tally {
  pthread_mutex_t mu;
  unsigned sent, runs, batched, dropped_seen, ok, cancelled, dropped, other;
} chat_tally_t;
static chat_tally_t g_chat[N_CHATS];

static int32_t chat_reply(lane_ctx_t *ctx, void *ud) {
  chat_tally_t *t = &g_chat[(intptr_t)ud];
  pthread_mutex_lock(&t->mu);
  t->runs++;
  t->batched += lane_ctx_batch_count(ctx);
  t->dropped_seen += lane_ctx_dropped_count(ctx);
  pthread_mutex_unlock(&t->mu);
  /* The model call: 120 ms, cut short if the session cancels it. */
  return lane_ctx_wait(ctx, 120 * MS) == LANE_ERR_TIMEOUT ? 0 : 1;
}

static void chat_done(const lane_outcome_t *o, void *ud) {
  chat_tally_t *t = &g_chat[(intptr_t)ud];
  pthread_mutex_lock(&t->mu);
  if (o->status == LANE_OK) t->ok++;
  else if (o->status == LANE_ERR_CANCELLED) t->cancelled++;
  else if (o->status == LANE_ERR_DROPPED) t->dropped++;
  else t->other++;
  pthread_mutex_unlock(&t->mu);
}

static void chat_demo(void) {
  lane_t *chat = make_lane("chat", LANE_POLICY_FAIR_SHARE, 2, 0);
  lane_session_t *sessions[N_CHATS];
  const char *keys[N_CHATS] = {"dana", "eli", "fay"};
  lane_session_mode_t modes[N_CHATS] = {LANE_SESSION_COLLECT, LANE_SESSION_INTERRUPT, LANE_SESSION_QUEUE};
  char ids[N_CHATS][16][16];
  int64_t t0 = mono_ns();
  int c, burst, m;
  lane_status_t st;

  printf("\nchat: three sessions in front of a 2-slot lane; 4 bursts of 4 messages each, 30 ms apart\n");
  for (c = 0; c < N_CHATS; ++c) {
    lane_session_options_t o = LANE_SESSION_OPTIONS_INIT;
    o.mode = modes[c];
    o.debounce_ns = c == CHAT_COLLECT ? 50 * MS : -1; /* dana: wait for 50 ms of quiet */
    if (c == CHAT_SUMMARIZE) {
      o.cap = 2;
      o.drop = LANE_DROP_SUMMARIZE;
    }
    pthread_mutex_init(&g_chat[c].mu, NULL);
    if ((st = lane_session_create(chat, keys[c], &o, &sessions[c])) != LANE_OK) {
      fail("lane_session_create", st);
      return;
    }
  }
  for (burst = 0; burst < 4; ++burst) {
    for (m = 0; m < 4; ++m) {
      for (c = 0; c < N_CHATS; ++c) {
        lane_job_t msg = LANE_JOB_INIT;
        snprintf(ids[c][burst * 4 + m], sizeof ids[c][0], "%s-%d", keys[c], burst * 4 + m);
        msg.id = ids[c][burst * 4 + m];
        msg.run = chat_reply;
        msg.on_done = chat_done;
        msg.user_data = (void *)(intptr_t)c;
        if ((st = lane_session_enqueue(sessions[c], &msg)) != LANE_OK) fail("lane_session_enqueue", st);
        else g_chat[c].sent++;
      }
      sleep_ns(30 * MS);
    }
    sleep_ns(300 * MS);
  }
  /* Wait until every session is empty, then destroy them before the lane. */
  for (c = 0; c < N_CHATS; ++c) {
    while (lane_session_queued(sessions[c]) + lane_session_active(sessions[c]) > 0 && mono_ns() - t0 < 10000 * MS) {
      sleep_ns(5 * MS);
    }
    lane_session_destroy(sessions[c]);
  }
  printf("%-30s %5s %5s %8s %5s %9s %8s %6s\n", "session", "sent", "runs", "msgs/run", "ok", "cancelled", "dropped",
         "other");
  for (c = 0; c < N_CHATS; ++c) {
    chat_tally_t *t = &g_chat[c];
    printf("%-30s %5u %5u %8.1f %5u %9u %8u %6u\n", chat_names[c], t->sent, t->runs,
           t->runs ? (double)t->batched / t->runs : 0.0, t->ok, t->cancelled, t->dropped, t->other);
    if (t->ok + t->cancelled + t->dropped + t->other != t->sent) {
      printf("  %s: %u outcomes for %u accepted messages\n", keys[c], t->ok + t->cancelled + t->dropped + t->other,
             t->sent);
      ++g_errors;
    }
  }
  printf("fay's runs were told of %u dropped message(s) (SUMMARIZE); chat took %.2f s\n",
         g_chat[CHAT_SUMMARIZE].dropped_seen, (double)(mono_ns() - t0) / 1e9);
  lane_destroy(chat);
}

/* -------------------------------------------------------------------- main */

static lane_t *make_lane(const char *name, lane_policy_t policy, uint32_t cap, int64_t preempt_guard_ns) {
  lane_options_t o = LANE_OPTIONS_INIT;
  lane_t *lane = NULL;
  lane_status_t st;
  o.max_concurrent = cap;
  o.policy = policy;
  o.preempt_min_runtime_ns = preempt_guard_ns;
  st = lane_create(name, &o, &lane);
  if (st != LANE_OK) {
    fail("lane_create", st);
    exit(1);
  }
  return lane;
}

int main(void) {
  lane_t *llm, *gpu;
  pthread_t threads[4];
  producer_t producers[3];
  uint32_t ended_llm = 0, ended_gpu = 0;
  int64_t last = 0, next_row;
  int i, idle = 0;
  lane_status_t st;

  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("liblane %s demo: llm lane (fair share, 3 slots) and gpu lane (1 slot, preemption)\n",
         lane_version_string());
  llm = make_lane("llm", LANE_POLICY_FAIR_SHARE, 3, 0);
  gpu = make_lane("gpu", LANE_POLICY_FAIR_SHARE, 1, 0);
  st = lane_set_preemption(gpu, 1, 200 * MS);
  if (st != LANE_OK) fail("lane_set_preemption", st);

  g_t0 = mono_ns();
  /* alice: many short; bob: few long; carol: medium. Together > 3 slots. */
  producers[0] = (producer_t){llm, ALICE, 30 * MS, 60 * MS, 40 * MS, 90 * MS, 1};
  producers[1] = (producer_t){llm, BOB, 350 * MS, 500 * MS, 700 * MS, 1000 * MS, 2};
  producers[2] = (producer_t){llm, CAROL, 120 * MS, 200 * MS, 180 * MS, 320 * MS, 3};
  for (i = 0; i < 3; ++i) pthread_create(&threads[i], NULL, produce, &producers[i]);
  pthread_create(&threads[3], NULL, gpu_script, gpu);

  printf("%6s %-4s %7s %6s %7s %9s %9s %9s  %-8s %5s\n", "time", "lane", "run/max", "queued", "ended", "rate",
         "wait p50", "wait p99", "blocked", "preem");
  printf("%6s %-4s %7s %6s %7s %9s %9s %9s  %-8s %5s\n", "", "", "", "", "", "", "ms", "ms", "", "");
  next_row = g_t0 + 500 * MS;
  while (!idle) {
    sleep_ns(next_row - mono_ns());
    int64_t now = mono_ns();
    double dt = (double)(now - (last ? last : g_t0)) / 1e9;
    last = now;
    next_row += 500 * MS;
    print_row(llm, &ended_llm, dt);
    print_row(gpu, &ended_gpu, dt);
    if (now - g_t0 > SUBMIT_FOR_NS) {
      lane_stats_t a, b;
      if (read_stats(llm, &a) && read_stats(gpu, &b) && a.running + a.queued + b.running + b.queued == 0) idle = 1;
      if (now - g_t0 > SUBMIT_FOR_NS + DRAIN_LIMIT_NS) {
        printf("%5.2fs drain limit reached: closing both lanes (remaining jobs end CLOSED)\n", since_start_s());
        idle = 1;
      }
    }
  }
  for (i = 0; i < 4; ++i) pthread_join(threads[i], NULL);

  /* Close: the work is done (or its time is up); wait_idle returns once
   * every outcome has been delivered. */
  if ((st = lane_close(llm, LANE_CLOSE_CANCEL)) != LANE_OK) fail("lane_close(llm)", st);
  if ((st = lane_close(gpu, LANE_CLOSE_CANCEL)) != LANE_OK) fail("lane_close(gpu)", st);
  if ((st = lane_wait_idle(llm, 5000 * MS)) != LANE_OK) fail("lane_wait_idle(llm)", st);
  if ((st = lane_wait_idle(gpu, 5000 * MS)) != LANE_OK) fail("lane_wait_idle(gpu)", st);
  summary(llm, gpu);
  lane_destroy(llm);
  lane_destroy(gpu);
  free_jobs();
  chat_demo();
  printf("total %.2f s, %d unexpected lane errors\n", since_start_s(), g_errors);
  return g_errors == 0 ? 0 : 1;
}

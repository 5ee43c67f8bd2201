/*
 * liblane: named concurrency lanes for agent harnesses.
 *
 * One C ABI for every host language. Conventions:
 *  - every function, type and macro has the prefix lane_ / lane_*_t / LANE_;
 *  - fallible calls return lane_status_t (0 = LANE_OK, negative = error) and
 *    leave a message for this thread in lane_last_error();
 *  - every public struct starts with `uint32_t struct_size` (the caller sets
 *    sizeof) and only grows at its end; a zero field means its documented
 *    default. The library takes any struct_size from the struct's first
 *    release up: fields an older host's struct lacks read as their defaults,
 *    and a newer host's fields the library does not know are ignored on the
 *    way in and zeroed on the way out (struct_size is left as the host set
 *    it). Below the first release's size: LANE_ERR_INVALID;
 *  - strings passed in are copied; strings handed out in an outcome or event
 *    are valid only during the callback / until the next poll;
 *  - durations are int64_t nanoseconds, timestamps Unix-epoch nanoseconds;
 *  - no host callback is ever called while a library lock is held, so a
 *    callback may call back into the library.
 *
 * Thread safety: every function may be called from any thread at any time,
 * including from inside callbacks, except *_destroy of an object that another
 * thread is still using.
 */
#ifndef LANE_LANE_H
#define LANE_LANE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* LANE_API marks the exported functions. On Windows a host linking the
 * import library (liblane.dll.a) gets __declspec(dllimport); a host
 * that links liblane's objects statically defines LANE_STATIC first. */
#if defined(_WIN32) || defined(__CYGWIN__)
#if defined(LANE_BUILDING_LIBRARY)
#define LANE_API __declspec(dllexport)
#elif defined(LANE_STATIC)
#define LANE_API
#else
#define LANE_API __declspec(dllimport)
#endif
#elif defined(LANE_BUILDING_LIBRARY) && defined(__GNUC__)
#define LANE_API __attribute__((visibility("default")))
#else
#define LANE_API
#endif

#define LANE_VERSION_MAJOR 0
#define LANE_VERSION_MINOR 1
#define LANE_VERSION_PATCH 0
#define LANE_VERSION_STRING "0.1.0"
/* ABI version: major in the high 16 bits (bumped with the SONAME), minor in
 * the low 16 bits (bumped when functions are appended to lane_api_t). */
#define LANE_ABI_MAJOR 0
#define LANE_ABI_MINOR 4
#define LANE_ABI_VERSION ((uint32_t)((LANE_ABI_MAJOR << 16) | LANE_ABI_MINOR))

/* ------------------------------------------------------------------ status */

/* Values are stable forever and never reused. */
typedef enum lane_status {
  LANE_OK = 0,
  LANE_ERR_INVALID = -1,    /* bad argument, NULL handle, wrong struct_size */
  LANE_ERR_CLOSED = -2,     /* lane closed (at submit, or as an outcome) */
  LANE_ERR_BUSY = -3,       /* ETA exceeds max_wait_ns: refused, not queued */
  LANE_ERR_NOT_QUEUED = -4, /* cancel: no such queued job */
  LANE_ERR_CANCELLED = -5,
  LANE_ERR_PREEMPTED = -6,
  LANE_ERR_DUPLICATE = -7, /* job id already live in this lane */
  LANE_ERR_QUEUE_FULL = -8,
  LANE_ERR_DROPPED = -9,
  LANE_ERR_STALE = -10,
  LANE_ERR_CLEARED = -11,
  LANE_ERR_TIMEOUT = -12,
  LANE_ERR_NOMEM = -13,
  LANE_ERR_JOB_FAILED = -14, /* the job's run returned non-zero */
  LANE_ERR_INTERNAL = -15,
  LANE_ERR_DEADLOCK = -16, /* submit_wait from inside a job of the same full lane */
  LANE_ERR_IO = -17,        /* a sampler sink or the SQLite history failed */
  LANE_ERR_UNSUPPORTED = -18, /* this build lacks the feature (e.g. the SQLite history) */
  LANE_ERR_UNAVAILABLE = -19  /* a shared lane's Redis cannot be reached (0.4) */
} lane_status_t;

/* A static name such as "LANE_ERR_BUSY"; "LANE_ERR_UNKNOWN" for other values. */
LANE_API const char *lane_status_name(lane_status_t s);
/* The message of the last failed call on this thread ("" if none). Valid
 * until the next liblane call on this thread. */
LANE_API const char *lane_last_error(void);
/* LANE_ABI_VERSION of the library that is loaded (which may be newer than
 * the header a host was built with). */
LANE_API uint32_t lane_abi_version(void);
/* LANE_VERSION_STRING of the library that is loaded; static storage. */
LANE_API const char *lane_version_string(void);

/* ------------------------------------------------------------------ handles */

/* One convention for struct tags: an opaque handle lane_X_t is struct
 * lane_X_s (so the lane is struct lane_s, which leaves C++ a namespace named
 * lane); a struct the host fills or reads, lane_X_t, is struct lane_X. */
typedef struct lane_s lane_t;             /* a lane; thread-safe */
typedef struct lane_ctx_s lane_ctx_t;     /* a running job's context; valid inside run only */
typedef struct lane_port_s lane_port_t;   /* an event queue for host-run jobs; thread-safe */
typedef struct lane_registry_s lane_registry_t; /* named lanes, config, metrics; thread-safe */
typedef struct lane_sampler_s lane_sampler_t;   /* occupancy history writer; thread-safe */
typedef struct lane_cluster_s lane_cluster_t;   /* a connection to a Redis that lanes share (0.4); thread-safe */

/* Returns the current time as Unix-epoch nanoseconds. Called from any thread,
 * never under a library lock. Tests inject a fake clock. */
typedef int64_t (*lane_clock_fn)(void *user_data);

/* --------------------------------------------------------------------- jobs */

/* Runs a callback job on a library worker thread (or inline on the caller of
 * lane_submit_wait). No library lock is held. Returns 0 for success; any other
 * value ends the job LANE_ERR_JOB_FAILED with that job_code. */
typedef int32_t (*lane_run_fn)(lane_ctx_t *ctx, void *user_data);

typedef struct lane_outcome {
  uint32_t struct_size;
  lane_status_t status; /* LANE_OK, LANE_ERR_JOB_FAILED, _CANCELLED, _PREEMPTED, _CLOSED, _TIMEOUT */
  int32_t job_code;     /* what run returned (or what lane_job_finish was given) */
  const char *job_id;   /* valid during the callback only */
  const char *lane;     /* valid during the callback only */
  uint64_t job_token;
  int64_t enqueued_at_ns, started_at_ns, finished_at_ns; /* 0 = never */
} lane_outcome_t;

/* Called exactly once for every accepted job, from whichever thread ended it
 * (a worker, the thread that cancelled, closed or finished it, or, for a
 * queue timeout, the library's one timer thread, which every lane and session
 * shares: keep on_done short), with no library lock held. */
typedef void (*lane_done_fn)(const lane_outcome_t *outcome, void *user_data);

enum {
  LANE_JOB_PREEMPTIBLE = 1u << 0,        /* a higher-priority job may preempt it */
  LANE_JOB_REQUEUE_ON_PREEMPT = 1u << 1, /* preempted: back to the queue, not ended */
  LANE_JOB_STEERABLE = 1u << 2           /* sessions: may receive STEER messages */
};

typedef struct lane_job {
  uint32_t struct_size;
  const char *id;           /* required, non-empty, unique among the lane's live jobs */
  const char *tenant;       /* fair-share key; NULL = "" */
  int32_t priority;         /* higher = more important */
  uint32_t flags;           /* LANE_JOB_* */
  int64_t max_wait_ns;      /* > 0: refuse with LANE_ERR_BUSY if the ETA exceeds it */
  lane_run_fn run;          /* NULL: host-run job, granted through `port` */
  lane_done_fn on_done;     /* called exactly once for an accepted job; may be NULL */
  void *user_data;          /* passed to run and on_done, and in port events */
  lane_port_t *port;        /* events for this job (required when run == NULL) */
  int64_t queue_timeout_ns; /* > 0: still queued after this long -> LANE_ERR_TIMEOUT */
  /* appended in 0.3: provider budgets (see lane_set_rate_limit) */
  /* What the job is expected to cost, in any unit the host picks (tokens,
     cents); 0 -> 1. A COST rate limit is charged this at the grant and
     corrected by the real cost when it is reported (lane_ctx_set_cost,
     lane_job_finish_cost). While a COST limit is on, a cost above its burst
     is refused LANE_ERR_INVALID. < 0 is invalid. */
  int64_t cost;
  /* > 0: a job still running this long after its grant is cancelled with
     cause LANE_ERR_TIMEOUT and ends LANE_ERR_TIMEOUT when it returns (apart
     from queue_timeout_ns, which only counts queued time). < 0 is invalid. */
  int64_t run_timeout_ns;
  /* Slots the job holds while it runs (0 -> 1). A strict cap counts slots:
     no grant makes the slots in use exceed it. More slots than the lane can
     ever give is refused LANE_ERR_INVALID. */
  uint32_t slots;
} lane_job_t;
#define LANE_JOB_INIT {sizeof(lane_job_t), NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0, 0, 0, 0}

/* Why a job (or the head of the queue) waits. */
typedef enum lane_blocked_by {
  LANE_BLOCKED_NONE = 0,
  LANE_BLOCKED_FULL = 1,     /* every slot is taken */
  LANE_BLOCKED_PAUSED = 2,   /* lane_pause */
  LANE_BLOCKED_COOLDOWN = 3, /* lane_cooldown */
  LANE_BLOCKED_PRIORITY = 4, /* behind higher-priority work */
  LANE_BLOCKED_TENANT = 5,   /* behind its own tenant's earlier jobs */
  LANE_BLOCKED_RATE = 6,     /* the lane's request or cost rate limit */
  LANE_BLOCKED_TENANT_LIMIT = 7 /* its tenant already runs its limit of jobs */
} lane_blocked_by_t;

typedef struct lane_ticket {
  uint32_t struct_size;
  int32_t position; /* 0 = dispatched now; else 1-based place in the policy's order */
  int64_t eta_ns;   /* estimated wait until dispatch */
  uint64_t job_token;
  lane_blocked_by_t blocked_by;
} lane_ticket_t;
#define LANE_TICKET_INIT {sizeof(lane_ticket_t), 0, 0, 0, LANE_BLOCKED_NONE}

/* -------------------------------------------------------------------- lanes */

/* DEFAULT: FIFO for lane_create, FAIR_SHARE for registry lanes. */
typedef enum lane_policy {
  LANE_POLICY_DEFAULT = 0,
  LANE_POLICY_FIFO = 1,      /* arrival order */
  LANE_POLICY_FAIR_SHARE = 2 /* priority, then least slot-time per weight, FIFO per tenant */
} lane_policy_t;

/* FAIR_SHARE is start-time fair queuing on delivered service
   (docs/fair-share.md). Within one priority level the next job is the oldest
   of the tenant with the least slot-time received per unit of weight, where
   slot-time is what runs actually held: a run's estimate only orders its
   tenant while it is in flight and is replaced by the real runtime when it
   ends. A tenant that starts waiting (new, or back from idle) starts at the
   least service of the tenants waiting then: no credit for time away, no
   debt for others' estimates. Bound: for two tenants i and j that wait
   continuously through an interval at one priority, on m slots, with L the
   longest run and w_min the least weight among the tenants waiting,
     | W_i / w_i - W_j / w_j | <= m * L * (3 / w_i + 3 / w_j + 1 / w_min)
   (W = slot-time received in the interval, partial runs included; with
   fair_half_life_ns 0; proof sketch in docs/fair-share.md). So shares
   converge to the weights: 1:2:4 gives 1/7, 2/7, 4/7 of the slot-time. */

typedef struct lane_options {
  uint32_t struct_size;
  uint32_t max_concurrent;        /* 0 -> 1 */
  lane_policy_t policy;           /* 0 -> FIFO */
  uint32_t eta_window;            /* 0 -> 16 completions */
  int32_t preemption_off;         /* 0: preemption on (default) */
  int64_t preempt_min_runtime_ns; /* 0 -> 30 s; < 0 = no guard */
  int32_t preempt_overcommit;     /* 0: strict cap (default) */
  uint32_t max_queued;            /* 0 = unbounded; else LANE_ERR_QUEUE_FULL */
  int64_t eta_default_runtime_ns; /* 0 -> 1 s */
  int64_t aging_ns;               /* > 0: +1 priority per aging_ns queued; 0 = off */
  lane_clock_fn clock;            /* NULL -> real time */
  void *clock_ud;
  /* FAIR_SHARE usage memory. 0: a tenant is forgotten once it has no live
     job. > 0: a tenant's past slot-time decays with this half-life and a
     returning tenant keeps its decayed usage, so one that just used the lane
     heavily waits behind one that did not, for a while. < 0 is invalid. */
  int64_t fair_half_life_ns;
  /* appended in 0.3: adaptive width (AIMD), off while both are 0. With
     1 <= adaptive_min <= adaptive_max the lane's cap is a width between
     them, starting at max_concurrent (clamped into the range; so is every
     lane_set_max_concurrent): an overloaded finish (lane_ctx_overloaded, or
     job_code LANE_JOB_OVERLOADED) halves it, not below adaptive_min, and
     each width's worth of successes adds one, up to adaptive_max. A job
     granted before the last decrease cannot halve it again. The width is in
     lane_stats_t.width. */
  uint32_t adaptive_min;
  uint32_t adaptive_max;
  /* > 0: an overloaded finish also closes the lane to new grants this long
     (as lane_cooldown). < 0 is invalid. */
  int64_t adaptive_cooldown_ns;
  /* appended in 0.4: non-NULL makes the lane a member of the lane of the
     same name on that cluster's Redis (see lane_cluster_create): it runs a
     job only on a slot granted there. The cluster must outlive the lane. */
  lane_cluster_t *cluster;
} lane_options_t;
#define LANE_OPTIONS_INIT {sizeof(lane_options_t), 0, LANE_POLICY_DEFAULT, 0, 0, 0, 0, 0, 0, 0, NULL, NULL, 0, 0, 0, 0, NULL}

/* Creates a standalone lane. `name` is copied; must be non-empty. */
LANE_API lane_status_t lane_create(const char *name, const lane_options_t *opts, lane_t **out);
/* Standalone lanes only: close(CANCEL), then waits until every job has ended
 * (host-run jobs end when the host calls lane_job_finish); the handle is dead
 * afterwards. Sessions still in front of the lane keep it alive: their queued
 * messages end LANE_ERR_CLOSED, they refuse new ones with LANE_ERR_CLOSED, and
 * the lane's memory goes with the last of them. NULL is a no-op (LANE_OK).
 * Refused, nothing destroyed: LANE_ERR_INVALID for a registry's lane (its
 * registry destroys it) or a handle that is not a live lane;
 * LANE_ERR_DEADLOCK from inside one of the lane's own runs or on_done, where
 * it would wait for itself. */
LANE_API lane_status_t lane_destroy(lane_t *lane);

/* Accepts the job (dispatched now, or queued) or refuses it. Accepted: the
 * job gets exactly one outcome. Refused (any error status): no outcome, the
 * caller keeps its user_data; with LANE_ERR_BUSY the ticket is still filled. */
LANE_API lane_status_t lane_submit(lane_t *lane, const lane_job_t *job, lane_ticket_t *ticket /* nullable */);
/* Submits and waits for the outcome. With a free slot a callback job runs
 * inline on the calling thread. timeout_ns < 0 waits forever; on timeout a
 * queued job is removed (outcome LANE_ERR_TIMEOUT) and a running job is
 * cancelled with cause LANE_ERR_TIMEOUT and waited for. Returns the outcome's
 * status (or the refusal). From inside a job of the same lane when the job
 * cannot get a slot at once: LANE_ERR_DEADLOCK, not queued. */
LANE_API lane_status_t lane_submit_wait(lane_t *lane, const lane_job_t *job, int64_t timeout_ns,
                                        lane_outcome_t *outcome /* nullable */);

enum { LANE_CANCEL_QUEUED = 1u << 0, LANE_CANCEL_RUNNING = 1u << 1 };
/* flags 0 = LANE_CANCEL_QUEUED: remove a queued job (outcome LANE_ERR_CANCELLED),
 * else LANE_ERR_NOT_QUEUED. With LANE_CANCEL_RUNNING a running job's context
 * is cancelled too (its outcome says CANCELLED when it returns). O(1). */
LANE_API lane_status_t lane_cancel(lane_t *lane, const char *job_id, uint32_t flags);
/* lane_cancel by the job_token of the job's ticket (or its events): it can
 * never reach a later job that reuses the id. Same flags and statuses. */
LANE_API lane_status_t lane_cancel_token(lane_t *lane, uint64_t job_token, uint32_t flags);

typedef struct lane_stats {
  uint32_t struct_size;
  const char *name; /* lives as long as the lane */
  uint32_t max_concurrent, running, queued;
  int64_t oldest_queued_at_ns; /* 0 = nothing queued */
  uint32_t throughput_1m;      /* jobs ended in the last 60 s */
  uint64_t submitted;          /* accepted submissions */
  uint64_t completed, failed, cancelled, preempted, timed_out, closed; /* by outcome */
  uint64_t refused;                                                    /* busy, duplicate, full, closed, deadlock at submit */
  int64_t wait_p50_ns, wait_p99_ns, run_p50_ns, run_p99_ns;            /* recent window (last 1024) */
  int32_t paused;
  int64_t cooldown_until_ns;
  lane_blocked_by_t blocked_by; /* why the head of the queue waits; NONE if nothing queued */
  uint64_t preemptions;         /* preemption requests (requeued victims included) */
  uint32_t eta_window;          /* runtimes kept for the ETA */
  int64_t mean_runtime_ns;      /* mean of that window (0 = no history) */
  /* appended in 0.3: budgets */
  uint32_t width;          /* the cap in slots now: the adaptive width, else max_concurrent */
  uint32_t slots_in_use;   /* slots held by running jobs (a job may hold several) */
  uint32_t released;       /* running jobs that gave their slots back and do not want them yet */
  uint32_t reacquiring;    /* running jobs waiting to get their slots back (they count as running) */
  uint64_t rate_waits;     /* jobs whose grant a rate limit delayed */
  int64_t rate_ready_at_ns; /* when the rate limits let the queue's front go; 0 = not held by them */
  int64_t cost_used;       /* finished runs' cost: reported, else the estimate */
  uint64_t overloads;      /* overloaded finishes (adaptive lanes) */
  /* appended in 0.4: shared lanes (all 0 for a lane of one process) */
  int32_t shared;           /* 1: a member of a lane on a cluster */
  int32_t available;        /* 1: its Redis answered the last time it was asked */
  uint32_t global_running;  /* slots granted across every member, as of the last answer */
  uint32_t global_queued;   /* slots the members wait for, as of the last answer */
  uint64_t leases_lost;     /* grants whose lease ran out before this member gave them back */
  uint64_t releases_refused; /* late releases the arbiter refused (the slot had gone to another holder) */
} lane_stats_t;
/* At any quiet moment: submitted == completed + failed + cancelled + preempted
 * + timed_out + closed + running + queued. */
LANE_API lane_status_t lane_stats(lane_t *lane, lane_stats_t *out);

/* n >= 1. Raising dispatches queued work now; lowering lets in-flight jobs
 * finish. Like every call, it first carries out what fell due (an ended
 * cooldown), which may still start jobs under the old cap. */
LANE_API lane_status_t lane_set_max_concurrent(lane_t *lane, uint32_t n);
/* Taken literally: min_runtime_ns 0 = no guard; < 0 is invalid. */
LANE_API lane_status_t lane_set_preemption(lane_t *lane, int32_t enabled, int64_t min_runtime_ns);
/* n >= 1 completions. */
LANE_API lane_status_t lane_set_eta_window(lane_t *lane, uint32_t n);
/* FAIR_SHARE: a tenant's share is proportional to its weight (>= 1; default 1). */
LANE_API lane_status_t lane_set_tenant_weight(lane_t *lane, const char *tenant, uint32_t weight);
/* Dispatch nothing new until lane_resume (running jobs go on; submissions
 * still queue, with blocked_by LANE_BLOCKED_PAUSED). Idempotent. */
LANE_API lane_status_t lane_pause(lane_t *lane);
/* Ends a pause and dispatches what the free slots allow. Idempotent. */
LANE_API lane_status_t lane_resume(lane_t *lane);
/* Dispatch nothing new until now + duration_ns (>= 0; 0 ends a cooldown). */
LANE_API lane_status_t lane_cooldown(lane_t *lane, int64_t duration_ns);

typedef enum lane_close_mode { LANE_CLOSE_DRAIN = 0, LANE_CLOSE_CANCEL = 1 } lane_close_mode_t;
/* DRAIN: refuse new jobs, run what is queued. CANCEL: also end the queue
 * (LANE_ERR_CLOSED) and cancel running jobs (cause LANE_ERR_CLOSED). A second
 * close may escalate DRAIN to CANCEL. Either way the lane's sessions end the
 * messages they still queue (LANE_ERR_CLOSED) before lane_close returns. */
LANE_API lane_status_t lane_close(lane_t *lane, lane_close_mode_t mode);
/* Waits until nothing runs or waits. timeout_ns < 0 = forever; LANE_ERR_TIMEOUT. */
LANE_API lane_status_t lane_wait_idle(lane_t *lane, int64_t timeout_ns);
/* The lane's name (lives as long as the lane); NULL for a NULL lane. */
LANE_API const char *lane_name(const lane_t *lane);

/* ---------------------------------------------------------------- budgets */

/* What a rate limit counts (flags: both may be passed to set them alike). */
enum {
  LANE_RATE_REQUESTS = 1u << 0, /* grants: every grant of slots, a regrant after reacquire too */
  LANE_RATE_COST = 1u << 1      /* the jobs' cost (lane_job_t.cost, corrected by the real cost) */
};
/* A job_code (run's return value, or lane_job_finish's) that says the
 * provider is overloaded (HTTP 429): on an adaptive lane it halves the width.
 * The outcome is still LANE_ERR_JOB_FAILED with this job_code. */
#define LANE_JOB_OVERLOADED 429

/* A GCRA rate limit on the lane: `amount` units per `per_ns`, with up to
 * `burst` (< 1 -> 1) at once; e.g. 500 requests per minute is
 * (LANE_RATE_REQUESTS, 500, 60e9, 500). Requests and cost are separate
 * limits and both may be on. A job the limits hold back waits at the front
 * (blocked_by LANE_BLOCKED_RATE) and its ETA includes that wait, so
 * max_wait_ns refuses what would wait too long. For any interval [t0, t1]
 * with the limit unchanged, units granted <= burst + amount * (t1 - t0) /
 * per_ns + refunds (real costs below their estimate) in the interval.
 * amount 0 turns the kinds off; setting a limit again starts a fresh
 * bucket. Negative values, no kind or unknown kind bits: LANE_ERR_INVALID. */
LANE_API lane_status_t lane_set_rate_limit(lane_t *lane, uint32_t kinds, int64_t amount, int64_t per_ns,
                                           int64_t burst);
/* At most max_running jobs of the tenant (NULL = "") run at once (0 removes
 * the limit). Its other jobs wait (blocked_by LANE_BLOCKED_TENANT_LIMIT)
 * without holding up other tenants. It counts the jobs accepted while a
 * limit is set for that tenant. */
LANE_API lane_status_t lane_set_tenant_limit(lane_t *lane, const char *tenant, uint32_t max_running);
/* The tenant's running jobs, counted for a tenant with a limit (else 0). */
LANE_API lane_status_t lane_tenant_running(lane_t *lane, const char *tenant, uint32_t *out);

/* Inside a run (callback, or a host-run job's GRANT ctx): the run's real
 * cost so far (> 0), which corrects the COST rate limit's charge (more at
 * once, or a refund) and is what lane_stats_t.cost_used counts. */
LANE_API lane_status_t lane_ctx_set_cost(lane_ctx_t *ctx, int64_t cost);
/* Marks the run as overloaded: when it ends, an adaptive lane halves its
 * width (as job_code LANE_JOB_OVERLOADED does). The outcome is unchanged. */
LANE_API lane_status_t lane_ctx_overloaded(lane_ctx_t *ctx);
/* Gives the run's slots back while it waits for something outside the lane
 * (a tool, a human); it keeps running and gets its one outcome as usual.
 * LANE_ERR_INVALID if it holds no slots. */
LANE_API lane_status_t lane_ctx_release(lane_ctx_t *ctx);
/* A released callback run takes its slots again: waits until they are
 * granted (LANE_OK), the run is cancelled (its cause: return soon), or
 * timeout_ns passes (< 0 = forever; LANE_ERR_TIMEOUT, and it is released
 * again). A reacquirer goes ahead of queued jobs of its priority accepted
 * after it, never ahead of older ones. A host-run job uses lane_job_reacquire. */
LANE_API lane_status_t lane_ctx_reacquire(lane_ctx_t *ctx, int64_t timeout_ns);
/* Host-run jobs, by token: lane_job_release gives the slots back (or, while
 * reacquiring, leaves the line); lane_job_reacquire asks for them again and
 * a new GRANT event (same token and user_data, a ctx) says when it holds
 * them. Returns the job's cancel cause instead if it was asked to stop. A
 * job may be finished in any of these states. */
LANE_API lane_status_t lane_job_release(lane_t *lane, uint64_t job_token);
/* Inside a run of a shared lane's job: the fencing number of the grant the
 * run holds (the newest, for a job of several slots), which grows with every
 * grant of the lane in every process; a resource the job writes to can
 * refuse a writer whose number is older than one it has seen. 0 outside a
 * shared lane, for a slot of the local fallback share, or for a NULL or
 * dead ctx. */
LANE_API uint64_t lane_ctx_fence(const lane_ctx_t *ctx);
LANE_API lane_status_t lane_job_reacquire(lane_t *lane, uint64_t job_token);
/* lane_job_finish with the run's real cost (> 0, or 0 = none reported). */
LANE_API lane_status_t lane_job_finish_cost(lane_t *lane, uint64_t job_token, int32_t job_code, int64_t cost);

/* ------------------------------------------------------- inside a running job */

/* 1 once cancel, preempt, close or timeout was requested for this run. */
LANE_API int lane_ctx_cancelled(const lane_ctx_t *ctx);
/* LANE_OK while not cancelled, else the cause. */
LANE_API lane_status_t lane_ctx_cause(const lane_ctx_t *ctx);
/* Sleeps until cancelled (returns the cause) or timeout_ns passes
 * (LANE_ERR_TIMEOUT; < 0 = no timeout). */
LANE_API lane_status_t lane_ctx_wait(lane_ctx_t *ctx, int64_t timeout_ns);
/* The job's id (a session run's "<key>#<n>"); valid while the job runs.
 * NULL, with a message, for a handle that is not a live job context. */
LANE_API const char *lane_ctx_job_id(const lane_ctx_t *ctx);
/* The job's user_data as submitted (NULL for a bad handle, with a message). */
LANE_API void *lane_ctx_user_data(const lane_ctx_t *ctx);
/* The lane the job runs in (borrowed; NULL for a bad handle, with a message). */
LANE_API lane_t *lane_ctx_lane(const lane_ctx_t *ctx);

/* -------------------------------------------------------------------- ports */

/* A port carries events for jobs that name it. One host thread (or goroutine,
 * or task) drains it. Destroying a port while jobs still name it is allowed:
 * their later events are discarded, the jobs still end. */
LANE_API lane_status_t lane_port_create(lane_port_t **out);
/* NULL is a no-op (LANE_OK); LANE_ERR_INVALID for a handle that is not a
 * live port (a second destroy included). */
LANE_API lane_status_t lane_port_destroy(lane_port_t *port);
/* Linux: an eventfd that is readable while events wait (for epoll, asyncio,
 * tokio); read it only through lane_port_poll. Windows has no such
 * descriptor: -1 there (wait on lane_port_handle instead). -1 on a NULL or
 * dead port, with a message. */
LANE_API int lane_port_fd(const lane_port_t *port);
/* Windows: an event HANDLE (as void *) that is signalled while events wait,
 * for WaitForSingleObject / WaitForMultipleObjects next to the host's own
 * handles; drain it only through lane_port_poll, never ResetEvent or
 * CloseHandle it. Owned by the port, valid until lane_port_destroy. NULL on
 * other platforms (use lane_port_fd) and on a NULL or dead port, with a
 * message. (ABI 0.2) */
LANE_API void *lane_port_handle(const lane_port_t *port);

typedef enum lane_event_kind {
  LANE_EVENT_GRANT = 1,  /* host-run job holds a slot now: run it */
  LANE_EVENT_CANCEL = 2, /* stop the host-run job (status says why); its slot is held until lane_job_finish */
  LANE_EVENT_DONE = 3    /* the job's outcome; exactly one per job that names the port, after on_done returned */
} lane_event_kind_t;

typedef struct lane_event {
  uint32_t struct_size;
  lane_event_kind_t kind;
  lane_status_t status; /* DONE: the outcome; CANCEL: the cause */
  int32_t job_code;
  lane_t *lane; /* borrowed; valid while the lane lives */
  uint64_t job_token;
  void *user_data;
  int64_t at_ns;
  /* appended in 0.1: GRANT only, the job's context until lane_job_finish, so
   * a host-run job can use lane_ctx_* (cancelled, wait, and a session run's
   * batch, mailbox and dropped ids); NULL for other kinds. */
  lane_ctx_t *ctx;
} lane_event_t;

/* Fills up to max events (element size = events[0].struct_size, set by the
 * caller). Waits up to timeout_ns (< 0 = forever, 0 = no wait) for the first.
 * Returns the count (0 on timeout or lane_port_wake), or a negative status. */
LANE_API int32_t lane_port_poll(lane_port_t *port, lane_event_t *events, int32_t max, int64_t timeout_ns);
/* Makes a blocked (or the next) lane_port_poll return at once. */
LANE_API lane_status_t lane_port_wake(lane_port_t *port);
/* A granted host-run job is done: frees its slot. job_code 0 = success. */
LANE_API lane_status_t lane_job_finish(lane_t *lane, uint64_t job_token, int32_t job_code);

/* ----------------------------------------------------------------- registry */

/* Lane names in a registry: 1 to 128 characters from [A-Za-z0-9_.:-], so a
 * name is always a valid Prometheus label value and maps to an environment
 * variable (see lane_registry_options_t). Anything else is LANE_ERR_INVALID. */
#define LANE_REGISTRY_NAME_MAX 128

/* Log levels passed to lane_log_fn. */
enum { LANE_LOG_ERROR = 0, LANE_LOG_WARN = 1, LANE_LOG_INFO = 2 };

/* Registry lane options. A registry lane is configured by the keys
 * lanes.<name>.<option>, each named like its lane_options_t field and taking
 * the same values (integers; 0 and booleans as there):
 *   max_concurrent          1 .. 4294967295  (default: default_max_concurrent)
 *   policy                  1 FIFO, 2 FAIR_SHARE; 0 -> default_policy
 *   eta_window              0 .. 4294967295; 0 -> 16
 *   preemption_off          0 or 1           (0: preemption on)
 *   preempt_min_runtime_ns  any; 0 -> 30 s, < 0 = no guard
 *   preempt_overcommit      0 or 1
 *   max_queued              0 .. 4294967295  (0 = unbounded)
 *   eta_default_runtime_ns  >= 0; 0 -> 1 s
 *   aging_ns                >= 0; 0 = off
 *   adaptive_min, adaptive_max  0 .. 4294967295 (both 0 = off; else
 *                           1 <= min <= max, or it is logged and off)
 *   adaptive_cooldown_ns    >= 0
 * and, as lane_set_rate_limit would set them (kind REQUESTS or COST):
 *   rate_requests, rate_cost            >= 0 units; 0 = off
 *   rate_requests_per_ns, rate_cost_per_ns  >= 1; default 60 s (per minute)
 *   rate_requests_burst, rate_cost_burst    >= 0; 0 -> the amount
 * All are read when the lane is created. lane_registry_reload re-reads them
 * and applies max_concurrent (absent = the default again), and preemption_off
 * with preempt_min_runtime_ns, eta_window and the rate limits when the source
 * sets them (so a lane_set_preemption or lane_set_rate_limit of the host
 * stays otherwise; a rate limit the reload finds unchanged keeps its bucket);
 * the others keep their creation-time values. A value out of range falls back to the default and is
 * logged once per key and value. From the environment: LANE_<NAME>_<OPTION>,
 * e.g. LANE_GPU_PREEMPT_MIN_RUNTIME_NS=-1 (an optional '-' and digits).
 *
 * Returns the configured value for key (e.g. "lanes.llm.max_concurrent"), or
 * def when the host has none (a returned def counts as "not set"). Called from whichever thread called
 * get_or_create or reload, with no library lock held. */
typedef int64_t (*lane_config_int_fn)(const char *key, int64_t def, void *user_data);
/* Receives one line (no trailing newline) from the registry or its samplers,
 * from any thread, with no library lock held. */
typedef void (*lane_log_fn)(int32_t level, const char *message, void *user_data);

typedef struct lane_registry_options {
  uint32_t struct_size;
  /* NULL: the environment. Key lanes.<name>.max_concurrent is variable
   * LANE_<NAME>_MAX_CONCURRENT: upper case, '.', '-' and ':' become '_'
   * (so "llm-transport" and "llm.transport" share one variable). A value that
   * is not a positive integer (<= 4294967295) falls back to the default and is
   * logged once per key and value. */
  lane_config_int_fn config_int;
  void *config_ud;
  lane_log_fn log; /* NULL -> one line on stderr */
  void *log_ud;
  lane_policy_t default_policy;    /* 0 -> FAIR_SHARE */
  uint32_t default_max_concurrent; /* 0 -> 1 */
  /* > 0: a lane with nothing running or queued and no sessions that nobody has borrowed
   * (get_or_create / get) for this long is removed, as lane_registry_remove
   * does, when the next registry call or sampler pass looks (there is no
   * timer). A host using this must borrow the lane again for each use rather
   * than keep its lane_t longer than idle_retire_ns. 0 = never. */
  int64_t idle_retire_ns;
  lane_clock_fn clock; /* NULL -> real time; also the registry lanes' clock */
  void *clock_ud;
  /* appended in 0.4: non-NULL makes every lane of the registry a member of
     the lane of its name on that cluster (preempt_overcommit is then off);
     destroy the registry before the cluster. */
  lane_cluster_t *cluster;
} lane_registry_options_t;
#define LANE_REGISTRY_OPTIONS_INIT {sizeof(lane_registry_options_t), NULL, NULL, NULL, NULL, LANE_POLICY_DEFAULT, 0, 0, NULL, NULL, NULL}

/* A registry with no lanes yet. opts may be NULL (every default). */
LANE_API lane_status_t lane_registry_create(const lane_registry_options_t *opts, lane_registry_t **out);
/* Stops and detaches the registry's samplers (their handles stay valid for
 * lane_sampler_destroy; every other call on them returns LANE_ERR_CLOSED),
 * then destroys every lane: close(CANCEL) and wait for its jobs (host-run
 * jobs end when the host calls lane_job_finish). A lane with sessions lives
 * on, closed, until its last session is destroyed (as with lane_destroy).
 * NULL is a no-op (LANE_OK). Refused, nothing destroyed: LANE_ERR_DEADLOCK
 * from inside the registry's own callbacks (config_int, log, a sink of one of
 * its samplers, a run or on_done of one of its lanes), where it would wait
 * for itself or free what the caller runs; LANE_ERR_INVALID for a handle that
 * is not a live registry. */
LANE_API lane_status_t lane_registry_destroy(lane_registry_t *reg);
/* The lane called name, created on first use with max_concurrent from the
 * config source (lanes.<name>.max_concurrent) and the default policy. The
 * lane is borrowed: it lives until lane_registry_remove, retirement or
 * lane_registry_destroy; lane_destroy refuses it. Racing callers get the
 * same lane. */
LANE_API lane_status_t lane_registry_get_or_create(lane_registry_t *reg, const char *name, lane_t **out);
/* The lane called name, or NULL (with a message) if there is none; never creates. */
LANE_API lane_t *lane_registry_get(lane_registry_t *reg, const char *name);
/* Fills up to cap names in sorted order and returns how many lanes there are.
 * The strings live as long as their lanes. names may be NULL when cap is 0. */
LANE_API size_t lane_registry_names(lane_registry_t *reg, const char **names, size_t cap);
/* Re-reads every lane's key and resizes the lane in place: raising dispatches
 * queued work, lowering lets in-flight jobs finish; no job is lost. */
LANE_API lane_status_t lane_registry_reload(lane_registry_t *reg);
/* Removes and destroys an idle lane (nothing running or queued, no sessions);
 * a lane with work or sessions is refused with LANE_ERR_BUSY and stays. LANE_ERR_INVALID if absent.
 * The host must not use its lane_t for that lane afterwards. */
LANE_API lane_status_t lane_registry_remove(lane_registry_t *reg, const char *name);
/* Writes every lane's metrics as Prometheus text exposition format 0.0.4,
 * NUL-terminated. The summaries lane_wait_seconds and lane_run_seconds give
 * quantiles 0.5 and 0.99, _sum and _count over the same window (the last
 * 1024 jobs): their mean, not lifetime totals (use lane_jobs_total for rates). LANE_OK when it fit: *len = the text's length (without
 * the NUL). Too small a buffer (buf may be NULL with cap 0): LANE_ERR_INVALID
 * with *len = the size needed including the NUL (lanes may change before the
 * next call, so allow some room). */
LANE_API lane_status_t lane_registry_metrics(lane_registry_t *reg, char *buf, size_t cap, size_t *len);

/* ------------------------------------------------------------------ sampler */

/* Receives one occupancy row; returns 0, or non-zero for a failure (logged,
 * the sampler goes on). Called on the sampler's thread (or the caller of
 * lane_sampler_sample_once), once per lane per sample, no library lock held. */
typedef int32_t (*lane_sample_fn)(const char *lane, uint32_t running, uint32_t queued, int64_t sampled_at_ns,
                                  void *user_data);
/* Deletes rows sampled before older_than_ns; returns how many, or < 0 for a
 * failure (logged). Same threads and locking as lane_sample_fn. */
typedef int64_t (*lane_purge_fn)(int64_t older_than_ns, void *user_data);

typedef struct lane_sampler_options {
  uint32_t struct_size;
  int64_t interval_ns;       /* 0 -> 30 s */
  int64_t retention_ns;      /* 0 -> 7 days */
  int64_t purge_interval_ns; /* 0 -> 24 h */
  lane_sample_fn sink;       /* NULL: the built-in SQLite sink at sqlite_path */
  lane_purge_fn purger;      /* with a sink: NULL = no purging */
  void *sink_ud;
  /* The SQLite history (used when sink == NULL): created if missing, WAL
   * mode, a busy timeout so that several samplers and processes can share
   * one file. Table lane_samples(lane, running, queued, sampled_at_ns) with
   * an index on (lane, sampled_at_ns). */
  const char *sqlite_path;
  lane_clock_fn clock; /* NULL -> real time; stamps samples and purge cutoffs */
  void *clock_ud;
} lane_sampler_options_t;
#define LANE_SAMPLER_OPTIONS_INIT {sizeof(lane_sampler_options_t), 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL}

/* A sampler of reg's lanes, not yet started. Destroy it before its registry
 * if you can; if the registry goes first the sampler is stopped and detached. */
LANE_API lane_status_t lane_sampler_create(lane_registry_t *reg, const lane_sampler_options_t *opts,
                                           lane_sampler_t **out);
/* Stops the thread (waits for a pass in progress) and frees. NULL is a no-op
 * (LANE_OK). From inside the sampler's own sink or purger: LANE_ERR_DEADLOCK,
 * nothing destroyed (lane_sampler_stop works there). */
LANE_API lane_status_t lane_sampler_destroy(lane_sampler_t *s);
/* Starts the background thread: a purge now, a sample every interval, a purge
 * every purge interval. Idempotent; a stopped sampler may start again. */
LANE_API lane_status_t lane_sampler_start(lane_sampler_t *s);
/* Stops and joins the thread (from inside a sink: stops without joining). Idempotent. */
LANE_API lane_status_t lane_sampler_stop(lane_sampler_t *s);
/* One sample of every lane, now, on this thread. LANE_ERR_IO if the sink failed. */
LANE_API lane_status_t lane_sampler_sample_once(lane_sampler_t *s);
/* Purges rows older than now - retention, on this thread. LANE_ERR_IO on failure. */
LANE_API lane_status_t lane_sampler_purge_once(lane_sampler_t *s);

/* One row of the SQLite history. */
typedef struct lane_sample {
  uint32_t struct_size;
  uint32_t running;
  uint32_t queued;
  int64_t sampled_at_ns;
} lane_sample_t;

/* Reads lane's rows with from_ns <= sampled_at_ns < to_ns from the SQLite
 * history at path, oldest first: fills up to cap rows (element size =
 * out[0].struct_size, set by the caller; out may be NULL when cap is 0) and
 * sets *total to the number of matching rows. Opens the file read-only for
 * this call; safe while samplers write it. */
LANE_API lane_status_t lane_sqlite_query(const char *path, const char *lane, int64_t from_ns, int64_t to_ns,
                                         lane_sample_t *out, size_t cap, size_t *total);

/* ----------------------------------------------------------------- sessions */

/* A session queue is a per-conversation front queue in front of a lane: it
 * decides per session what runs now, what waits, what is merged, dropped or
 * cancelled, while the lane behind caps the whole process. A message is a
 * lane_job_t given to lane_session_enqueue; the session turns messages into
 * runs (lane jobs) and every accepted message gets exactly one outcome
 * through its own on_done and/or port (DONE event with its user_data).
 * A run's lane job is named "<key>#<n>" (n process-wide; if the host has a
 * job of that name in the lane, the next n is taken), which is what
 * lane_ctx_job_id sees; each message keeps its own id in its outcome and in
 * the run's batch. */
typedef enum lane_session_mode {
  LANE_SESSION_QUEUE = 0,     /* FIFO, up to max_concurrent runs at once */
  LANE_SESSION_FOLLOWUP = 1,  /* one after another, whatever max_concurrent says */
  LANE_SESSION_COLLECT = 2,   /* everything queued is merged into the next run */
  LANE_SESSION_INTERRUPT = 3, /* a new message cancels the active runs, ends the queued ones
                                 (both LANE_ERR_CANCELLED), and runs once they have returned */
  LANE_SESSION_STEER = 4      /* a new message goes into an active steerable run's mailbox */
} lane_session_mode_t;

/* What a full session queue (cap queued messages) does with one more. */
typedef enum lane_drop {
  LANE_DROP_OLD = 0,      /* the oldest queued message ends LANE_ERR_DROPPED */
  LANE_DROP_NEW = 1,      /* the new message is refused with LANE_ERR_QUEUE_FULL */
  LANE_DROP_SUMMARIZE = 2 /* like OLD, and the next run gets the dropped ids */
} lane_drop_t;

/* The session's token use: fills *tokens and *context_window, returns 0 (any
 * other value: unknown, no throttle). Called with no library lock held, on
 * the thread that is about to start a run: when a message arrives, a run
 * ends, max_concurrent is set (even to its current value), and every 50 ms
 * (on the session timer thread) while the throttle holds runs back. */
typedef int32_t (*lane_token_estimate_fn)(const char *session_key, int64_t *tokens, int64_t *context_window,
                                          void *user_data);

typedef struct lane_session_options {
  uint32_t struct_size;
  lane_session_mode_t mode; /* 0 -> QUEUE */
  uint32_t cap;             /* queued messages; 0 -> 10 */
  lane_drop_t drop;         /* 0 -> OLD */
  int64_t debounce_ns;      /* 0 -> 800 ms; < 0 = off. A run starts only after this long without a new message */
  uint32_t max_concurrent;  /* 0 -> 1 */
  lane_token_estimate_fn token_estimate; /* NULL: no throttle */
  void *token_ud;
  double throttle_ratio; /* 0 -> 0.6; tokens >= ratio * window: one run at a time */
} lane_session_options_t;
#define LANE_SESSION_OPTIONS_INIT {sizeof(lane_session_options_t), LANE_SESSION_QUEUE, 0, LANE_DROP_OLD, 0, 0, NULL, NULL, 0.0}

typedef struct lane_session_s lane_session_t; /* thread-safe */

/* key: non-empty, at most 256 bytes, copied; the fair-share tenant of the
 * session's runs unless a message names another. Several sessions may share a
 * lane. A session holds a reference on its lane: destroying the lane (or its
 * registry) first closes the lane, and the session then ends its messages
 * LANE_ERR_CLOSED; a registry never retires or removes a lane that has
 * sessions (lane_registry_remove answers LANE_ERR_BUSY). */
LANE_API lane_status_t lane_session_create(lane_t *lane, const char *key, const lane_session_options_t *opts,
                                           lane_session_t **out);
/* Ends every queued message (LANE_ERR_CANCELLED), cancels the active runs
 * (cause LANE_ERR_CANCELLED) and waits until they have returned and every
 * outcome is delivered. From inside one of this session's callback runs,
 * on_done or token estimate it would wait for itself: refused, nothing
 * destroyed (LANE_ERR_DEADLOCK in lane_last_error()); a host-run run must be
 * finished first. NULL is a no-op (LANE_OK). */
LANE_API lane_status_t lane_session_destroy(lane_session_t *s);
/* Accepts a message (id unique among the session's live messages; run, or
 * port for a host-run message, as for lane_submit) or refuses it (no outcome,
 * the caller keeps user_data): LANE_ERR_QUEUE_FULL (cap with DROP_NEW),
 * LANE_ERR_DUPLICATE, LANE_ERR_CLOSED (lane closed), LANE_ERR_INVALID.
 * A run uses its first message's run (or port), user_data, tenant, flags,
 * max_wait_ns, queue_timeout_ns and run_timeout_ns, the highest priority and
 * the most slots of its messages, and the sum of their costs (0 if none gave
 * one; a merged run's at most the lane's cost burst, so merging never makes
 * a run the lane must refuse).
 * Outcomes: the run's outcome for every message it carried (its batch and the
 * mailbox messages it took); LANE_ERR_DROPPED, _STALE, _CLEARED, _CANCELLED
 * (interrupted, or session destroyed), _CLOSED (lane closed) for messages that
 * never ran; a run the lane refuses ends its messages with that status. */
LANE_API lane_status_t lane_session_enqueue(lane_session_t *s, const lane_job_t *job);
/* Cancels the oldest active run (cause LANE_ERR_CANCELLED). 1 if one was
 * cancelled, 0 if none (or s is NULL). */
LANE_API int lane_session_cancel_one(lane_session_t *s);
/* Cancels every active run and drains the queue: messages enqueued before
 * this call that have not started end LANE_ERR_STALE (queued, in a mailbox,
 * or in a run still waiting in the lane). Returns the number of runs it
 * cancelled (0 if s is NULL). */
LANE_API int lane_session_cancel_all(lane_session_t *s);
/* Starts a new generation: queued and mailbox messages end LANE_ERR_CLEARED,
 * the dropped ids are forgotten, and runs of the old generation are no longer
 * counted (they run on, their messages get their outcomes, but their ends do
 * not affect the new generation). */
LANE_API lane_status_t lane_session_reset(lane_session_t *s);
/* Runs of the current generation handed to the lane and not yet ended. */
LANE_API uint32_t lane_session_active(lane_session_t *s);
/* Messages waiting in the session (not yet in a run). */
LANE_API uint32_t lane_session_queued(lane_session_t *s);
/* n >= 1; raising starts queued runs now. */
LANE_API lane_status_t lane_session_set_max_concurrent(lane_session_t *s, uint32_t n);
/* The session's key (lives as long as the session); NULL for NULL. */
LANE_API const char *lane_session_key(const lane_session_t *s);

/* Inside a run (callback, or a host-run job's GRANT ctx). For a job that is
 * not a session run the batch is the job itself and the rest is empty. */
LANE_API uint32_t lane_ctx_batch_count(const lane_ctx_t *ctx); /* >= 1; 0 for NULL */
/* The i-th message merged into this run, oldest first. LANE_ERR_INVALID when
 * i >= count. id and user_data may be NULL; id lives until the run ends. */
LANE_API lane_status_t lane_ctx_batch_item(const lane_ctx_t *ctx, uint32_t i, const char **id, void **user_data);
/* STEER: takes the next message delivered into this run's mailbox: 1 and its
 * id / user_data, or 0 when the mailbox is empty. A taken message gets this
 * run's outcome; messages left in the mailbox when the run ends are queued
 * again for the next run (beyond cap, the drop policy ends some DROPPED:
 * the oldest, or with DROP_NEW the newest). */
LANE_API int lane_ctx_next_message(lane_ctx_t *ctx, const char **id, void **user_data);
/* SUMMARIZE: ids of the messages dropped since the previous run started. */
LANE_API uint32_t lane_ctx_dropped_count(const lane_ctx_t *ctx);
LANE_API const char *lane_ctx_dropped_id(const lane_ctx_t *ctx, uint32_t i); /* NULL when out of range */

/* ------------------------------------------------ lanes shared on Redis (0.4) */

/* Lanes of the same name on one Redis, in any process on any host, share one
 * cap (max_concurrent, in slots) and one order across processes: a freed
 * slot goes to the member whose next job has the highest priority, then
 * whose tenant holds the fewest slots across the members, then that waited
 * longest, as far as the lane's rate limits (shared as well, on Redis's
 * clock; a COST limit charges each grant the next job's estimate, then the
 * cost of the job that took it) let grants go; tenant limits are shared
 * too (a member runs a tenant's jobs only on the quota of its limit that it
 * holds in Redis). Slots
 * are leases: a member renews them about every third of
 * lease_ns, and one that dies or stalls loses them when the lease ends (its
 * late release is refused). Time is Redis's clock. docs/cluster.md has the
 * keys, the scripts and the limits. A build without hiredis returns
 * LANE_ERR_UNSUPPORTED from lane_cluster_create. */
typedef struct lane_cluster_options {
  uint32_t struct_size;
  const char *url;        /* "redis://host:port/db" (db optional); NULL -> "redis://127.0.0.1:6379/0" */
  const char *key_prefix; /* NULL or "" -> "lane"; every key is {prefix:name}:... */
  int64_t lease_ns;       /* 0 -> 10 s; else >= 100 ms */
  /* While Redis cannot be reached: 0 (default) refuses new jobs of member
     lanes with LANE_ERR_UNAVAILABLE (queued ones wait; running ones go on);
     n > 0 lets each member lane run up to n jobs on slots of its own
     meanwhile (fence 0), and accept new jobs. */
  uint32_t fallback_slots;
  int64_t timeout_ns;     /* connect and command timeout; 0 -> 1 s */
} lane_cluster_options_t;
#define LANE_CLUSTER_OPTIONS_INIT {sizeof(lane_cluster_options_t), NULL, NULL, 0, 0, 0}

/* Connects (LANE_ERR_UNAVAILABLE if Redis does not answer within the
 * timeout) and starts the member's one thread. */
LANE_API lane_status_t lane_cluster_create(const lane_cluster_options_t *opts, lane_cluster_t **out);
/* Disconnects. Its lanes must be destroyed first (LANE_ERR_INVALID
 * otherwise, nothing destroyed); each gives its slots back as it goes. NULL
 * is a no-op. */
LANE_API lane_status_t lane_cluster_destroy(lane_cluster_t *cluster);

/* ---------------------------------------------------------------- api table */

/* Every exported function, for hosts that dlopen liblane and dlsym one name.
 * Append-only: new functions go at the end with a minor ABI bump. */
typedef struct lane_api {
  uint32_t struct_size;
  uint32_t abi_version;
  const char *(*status_name)(lane_status_t);
  const char *(*last_error)(void);
  uint32_t (*abi_version_fn)(void);
  const char *(*version_string)(void);
  lane_status_t (*create)(const char *, const lane_options_t *, lane_t **);
  lane_status_t (*destroy)(lane_t *);
  lane_status_t (*submit)(lane_t *, const lane_job_t *, lane_ticket_t *);
  lane_status_t (*submit_wait)(lane_t *, const lane_job_t *, int64_t, lane_outcome_t *);
  lane_status_t (*cancel)(lane_t *, const char *, uint32_t);
  lane_status_t (*stats)(lane_t *, lane_stats_t *);
  lane_status_t (*set_max_concurrent)(lane_t *, uint32_t);
  lane_status_t (*set_preemption)(lane_t *, int32_t, int64_t);
  lane_status_t (*set_eta_window)(lane_t *, uint32_t);
  lane_status_t (*set_tenant_weight)(lane_t *, const char *, uint32_t);
  lane_status_t (*pause)(lane_t *);
  lane_status_t (*resume)(lane_t *);
  lane_status_t (*cooldown)(lane_t *, int64_t);
  lane_status_t (*close)(lane_t *, lane_close_mode_t);
  lane_status_t (*wait_idle)(lane_t *, int64_t);
  const char *(*name)(const lane_t *);
  int (*ctx_cancelled)(const lane_ctx_t *);
  lane_status_t (*ctx_cause)(const lane_ctx_t *);
  lane_status_t (*ctx_wait)(lane_ctx_t *, int64_t);
  const char *(*ctx_job_id)(const lane_ctx_t *);
  void *(*ctx_user_data)(const lane_ctx_t *);
  lane_t *(*ctx_lane)(const lane_ctx_t *);
  lane_status_t (*port_create)(lane_port_t **);
  lane_status_t (*port_destroy)(lane_port_t *);
  int (*port_fd)(const lane_port_t *);
  int32_t (*port_poll)(lane_port_t *, lane_event_t *, int32_t, int64_t);
  lane_status_t (*port_wake)(lane_port_t *);
  lane_status_t (*job_finish)(lane_t *, uint64_t, int32_t);
  const struct lane_api *(*get_api)(uint32_t);
  lane_status_t (*registry_create)(const lane_registry_options_t *, lane_registry_t **);
  lane_status_t (*registry_destroy)(lane_registry_t *);
  lane_status_t (*registry_get_or_create)(lane_registry_t *, const char *, lane_t **);
  lane_t *(*registry_get)(lane_registry_t *, const char *);
  size_t (*registry_names)(lane_registry_t *, const char **, size_t);
  lane_status_t (*registry_reload)(lane_registry_t *);
  lane_status_t (*registry_remove)(lane_registry_t *, const char *);
  lane_status_t (*registry_metrics)(lane_registry_t *, char *, size_t, size_t *);
  lane_status_t (*sampler_create)(lane_registry_t *, const lane_sampler_options_t *, lane_sampler_t **);
  lane_status_t (*sampler_destroy)(lane_sampler_t *);
  lane_status_t (*sampler_start)(lane_sampler_t *);
  lane_status_t (*sampler_stop)(lane_sampler_t *);
  lane_status_t (*sampler_sample_once)(lane_sampler_t *);
  lane_status_t (*sampler_purge_once)(lane_sampler_t *);
  lane_status_t (*sqlite_query)(const char *, const char *, int64_t, int64_t, lane_sample_t *, size_t, size_t *);
  lane_status_t (*cancel_token)(lane_t *, uint64_t, uint32_t);
  lane_status_t (*session_create)(lane_t *, const char *, const lane_session_options_t *, lane_session_t **);
  lane_status_t (*session_destroy)(lane_session_t *);
  lane_status_t (*session_enqueue)(lane_session_t *, const lane_job_t *);
  int (*session_cancel_one)(lane_session_t *);
  int (*session_cancel_all)(lane_session_t *);
  lane_status_t (*session_reset)(lane_session_t *);
  uint32_t (*session_active)(lane_session_t *);
  uint32_t (*session_queued)(lane_session_t *);
  lane_status_t (*session_set_max_concurrent)(lane_session_t *, uint32_t);
  const char *(*session_key)(const lane_session_t *);
  uint32_t (*ctx_batch_count)(const lane_ctx_t *);
  lane_status_t (*ctx_batch_item)(const lane_ctx_t *, uint32_t, const char **, void **);
  int (*ctx_next_message)(lane_ctx_t *, const char **, void **);
  uint32_t (*ctx_dropped_count)(const lane_ctx_t *);
  const char *(*ctx_dropped_id)(const lane_ctx_t *, uint32_t);
  /* ABI 0.2 */
  void *(*port_handle)(const lane_port_t *);
  /* ABI 0.3 */
  lane_status_t (*set_rate_limit)(lane_t *, uint32_t, int64_t, int64_t, int64_t);
  lane_status_t (*set_tenant_limit)(lane_t *, const char *, uint32_t);
  lane_status_t (*tenant_running)(lane_t *, const char *, uint32_t *);
  lane_status_t (*ctx_set_cost)(lane_ctx_t *, int64_t);
  lane_status_t (*ctx_overloaded)(lane_ctx_t *);
  lane_status_t (*ctx_release)(lane_ctx_t *);
  lane_status_t (*ctx_reacquire)(lane_ctx_t *, int64_t);
  lane_status_t (*job_release)(lane_t *, uint64_t);
  lane_status_t (*job_reacquire)(lane_t *, uint64_t);
  lane_status_t (*job_finish_cost)(lane_t *, uint64_t, int32_t, int64_t);
  /* ABI 0.4 */
  lane_status_t (*cluster_create)(const lane_cluster_options_t *, lane_cluster_t **);
  lane_status_t (*cluster_destroy)(lane_cluster_t *);
  uint64_t (*ctx_fence)(const lane_ctx_t *);
} lane_api_t;

/* The table for abi_version (pass LANE_ABI_VERSION): NULL, with a message in
 * lane_last_error(), when its major differs or its minor is newer than this
 * library's. An older minor gets the same table: its struct_size covers at
 * least the slots that minor knows. */
LANE_API const lane_api_t *lane_get_api(uint32_t abi_version);

#ifdef __cplusplus
}
#endif
#endif /* LANE_LANE_H */

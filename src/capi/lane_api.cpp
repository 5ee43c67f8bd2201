// extern "C" entry points for lanes, jobs and job contexts: validate,
// translate "zero means default", call into src/exec, map to a status.
#include <chrono>
#include <string>

#include "errors.hpp"
#include "exec/callback_scope.hpp"
#include "exec/ctx_wait.hpp"
#include "cluster/cluster.hpp"
#include "exec/lane.hpp"
#include "exec/port.hpp"
#include "exec/wait.hpp"

using lane::capi::check_job;
using lane::capi::fail;
using lane::capi::guarded;
using lane::capi::quoted;
using lane::capi::raw_enum;
using lane::core::kSecond;

namespace {
constexpr std::uint32_t kKnownJobFlags = LANE_JOB_PREEMPTIBLE | LANE_JOB_REQUEUE_ON_PREEMPT | LANE_JOB_STEERABLE;
}

namespace lane::capi {

lane_status_t check_job(const lane_job_t *job, lane::exec::JobSpec &spec) {
  lane_job_t j;
  if (!job) return fail(LANE_ERR_INVALID, "job is NULL");
  if (!lane::capi::read_struct(job, j)) {
    return lane::capi::bad_struct_size("job", job);
  }
  if (!j.id || !*j.id) return fail(LANE_ERR_INVALID, "job id is NULL or empty");
  if (j.flags & ~kKnownJobFlags) return fail(LANE_ERR_INVALID, "job flags has unknown bits");
  if (j.max_wait_ns < 0) return fail(LANE_ERR_INVALID, "max_wait_ns is negative");
  if (j.queue_timeout_ns < 0) return fail(LANE_ERR_INVALID, "queue_timeout_ns is negative");
  if (!j.run && !j.port) return fail(LANE_ERR_INVALID, "a host-run job (run == NULL) needs a port");
  if (j.port && !j.port->valid()) return fail(LANE_ERR_INVALID, "job port is not a live port handle");
  if (j.cost < 0) return fail(LANE_ERR_INVALID, "cost is negative");
  if (j.run_timeout_ns < 0) return fail(LANE_ERR_INVALID, "run_timeout_ns is negative");
  spec = {.id = j.id,
          .tenant = j.tenant ? j.tenant : "",
          .priority = j.priority,
          .flags = j.flags,
          .max_wait_ns = j.max_wait_ns,
          .queue_timeout_ns = j.queue_timeout_ns,
          .run = j.run,
          .on_done = j.on_done,
          .user_data = j.user_data,
          .port = j.port,
          .cost = j.cost,
          .run_timeout_ns = j.run_timeout_ns,
          .slots = j.slots};
  return LANE_OK;
}

}  // namespace lane::capi

namespace {

constexpr std::uint32_t kKnownCancelFlags = LANE_CANCEL_QUEUED | LANE_CANCEL_RUNNING;

bool ok(const lane_t *lane) { return lane != nullptr && lane->valid(); }

lane_status_t bad_lane(const lane_t *lane) {
  return fail(LANE_ERR_INVALID, lane ? "not a live lane handle" : "lane is NULL");
}

lane_status_t refused(lane_status_t s, const lane_t *lane, std::string_view id) {
  switch (s) {
    case LANE_ERR_CLOSED: return fail(s, "lane " + quoted(lane->name.c_str()) + " is closed");
    case LANE_ERR_DUPLICATE:
      return fail(s, "job id " + quoted(id) + " is already live in lane " + quoted(lane->name.c_str()));
    case LANE_ERR_QUEUE_FULL: return fail(s, "lane " + quoted(lane->name.c_str()) + " has max_queued jobs waiting");
    case LANE_ERR_BUSY: return fail(s, "estimated wait exceeds max_wait_ns; job not queued");
    case LANE_ERR_UNAVAILABLE:
      return fail(s, "lane " + quoted(lane->name.c_str()) +
                         " is shared on a Redis that cannot be reached now (and its cluster has no fallback_slots); job not accepted");
    case LANE_ERR_DEADLOCK:
      return fail(s, "lane_submit_wait from inside a job of lane " + quoted(lane->name.c_str()) +
                         " while it has no free slot would wait on itself");
    case LANE_ERR_INVALID:
      // The scheduler's own refusals: what no state of this lane could grant.
      return fail(s, "lane " + quoted(lane->name.c_str()) +
                         " can never grant this job: it wants more slots than the lane has, or costs more than"
                         " the cost rate limit's burst");
    default: return fail(s, "submission refused");
  }
}

}  // namespace

extern "C" {

LANE_API lane_status_t lane_create(const char *name, const lane_options_t *opts, lane_t **out) {
  return guarded([&] {
    if (!out) return fail(LANE_ERR_INVALID, "out is NULL");
    *out = nullptr;
    if (!name || !*name) return fail(LANE_ERR_INVALID, "lane name is NULL or empty");
    lane_options_t o{};
    if (opts && !lane::capi::read_struct(opts, o)) {
      return lane::capi::bad_struct_size("options", opts);
    }
    lane::core::Config c;
    c.max_concurrent = o.max_concurrent ? o.max_concurrent : 1;
    switch (raw_enum(o.policy)) {
      case LANE_POLICY_DEFAULT:
      case LANE_POLICY_FIFO: c.policy = LANE_POLICY_FIFO; break;
      case LANE_POLICY_FAIR_SHARE: c.policy = LANE_POLICY_FAIR_SHARE; break;
      default: return fail(LANE_ERR_INVALID, "unknown policy " + std::to_string(raw_enum(o.policy)));
    }
    c.eta_window = o.eta_window ? o.eta_window : 16;
    c.preemption = o.preemption_off == 0;
    c.preempt_min_runtime_ns = o.preempt_min_runtime_ns == 0 ? 30 * kSecond
                               : o.preempt_min_runtime_ns < 0 ? 0
                                                              : o.preempt_min_runtime_ns;
    c.preempt_overcommit = o.preempt_overcommit != 0;
    c.max_queued = o.max_queued;
    if (o.eta_default_runtime_ns < 0) return fail(LANE_ERR_INVALID, "eta_default_runtime_ns is negative");
    c.eta_default_runtime_ns = o.eta_default_runtime_ns ? o.eta_default_runtime_ns : kSecond;
    if (o.aging_ns < 0) return fail(LANE_ERR_INVALID, "aging_ns is negative");
    c.aging_ns = o.aging_ns;
    if (o.fair_half_life_ns < 0) return fail(LANE_ERR_INVALID, "fair_half_life_ns is negative");
    c.fair_half_life_ns = o.fair_half_life_ns;
    if (o.adaptive_min != 0 || o.adaptive_max != 0) {
      if (o.adaptive_min == 0 || o.adaptive_max < o.adaptive_min) {
        return fail(LANE_ERR_INVALID, "adaptive width needs 1 <= adaptive_min <= adaptive_max (got " +
                                          std::to_string(o.adaptive_min) + ".." + std::to_string(o.adaptive_max) + ")");
      }
      c.adaptive_min = o.adaptive_min;
      c.adaptive_max = o.adaptive_max;
    }
    if (o.adaptive_cooldown_ns < 0) return fail(LANE_ERR_INVALID, "adaptive_cooldown_ns is negative");
    c.adaptive_cooldown_ns = o.adaptive_cooldown_ns;
    if (o.cluster) {
      if (!o.cluster->valid()) return fail(LANE_ERR_INVALID, "options.cluster is not a live cluster handle");
      if (c.preempt_overcommit) {
        return fail(LANE_ERR_INVALID, "preempt_overcommit cannot be used on a shared lane: its cap is shared");
      }
    }
    auto *lane = new lane_s(name, c, o.clock, o.clock_ud);
    if (o.cluster) {
      try {
        lane->join(o.cluster);
      } catch (...) {
        lane->release();
        throw;
      }
    }
    *out = lane;
    return LANE_OK;
  });
}

LANE_API lane_status_t lane_destroy(lane_t *lane) {
  if (!lane) return LANE_OK;
  if (!lane->valid()) return fail(LANE_ERR_INVALID, "lane_destroy: not a live lane handle");
  if (lane->registry) {
    return fail(LANE_ERR_INVALID, "lane_destroy: lane " + quoted(lane->name) + " belongs to a registry, which destroys it");
  }
  if (lane::exec::CallbackScope::inside(lane)) {
    return fail(LANE_ERR_DEADLOCK, "lane_destroy from inside a run or on_done of lane " + quoted(lane->name) +
                                       " would wait for itself; refused");
  }
  if (!lane->begin_destroy()) return fail(LANE_ERR_INVALID, "lane_destroy: the lane is already being destroyed");
  return guarded([&] {
    lane->shutdown();    // its sessions end their queued messages CLOSED and stay usable (closed)
    lane->invalidate();  // the host's handle is dead from here on
    lane->release();     // freed now, or by its last session
    return LANE_OK;
  });
}

LANE_API lane_status_t lane_submit(lane_t *lane, const lane_job_t *job, lane_ticket_t *ticket) {
  return guarded([&] {
    if (!ok(lane)) return bad_lane(lane);
    lane::exec::JobSpec j;
    if (lane_status_t s = check_job(job, j); s != LANE_OK) return s;
    if (ticket && !lane::capi::writable(ticket)) return lane::capi::bad_struct_size("ticket", ticket);
    lane::exec::SubmitOptions opts;
    opts.estimate = ticket != nullptr;
    lane::exec::SubmitOutput r = lane->submit(j, opts);
    if (ticket) {
      lane_ticket_t t{};
      t.position = r.result.position;
      t.eta_ns = r.result.eta_ns;
      t.job_token = r.result.token;
      t.blocked_by = r.result.blocked_by;
      lane::capi::write_struct(ticket, t);
    }
    return r.result.status == LANE_OK ? LANE_OK : refused(r.result.status, lane, j.id);
  });
}

LANE_API lane_status_t lane_submit_wait(lane_t *lane, const lane_job_t *job, int64_t timeout_ns,
                                        lane_outcome_t *outcome) {
  return guarded([&] {
    if (!ok(lane)) return bad_lane(lane);
    lane::exec::JobSpec j;
    if (lane_status_t s = check_job(job, j); s != LANE_OK) return s;
    if (outcome && !lane::capi::writable(outcome)) return lane::capi::bad_struct_size("outcome", outcome);
    // on_done may free the caller's id before we return: keep a copy for messages.
    const std::string id(j.id);
    const char *const host_id = job->id;  // the outcome names the caller's own string
    lane_outcome_t got{};
    lane_status_t s = lane->submit_wait(j, timeout_ns, outcome ? &got : nullptr);
    if (outcome) {
      got.job_id = host_id;
      lane::capi::write_struct(outcome, got);
    }
    switch (s) {
      case LANE_OK: return LANE_OK;
      case LANE_ERR_JOB_FAILED: return fail(s, "job " + quoted(id.c_str()) + " returned non-zero");
      case LANE_ERR_CANCELLED: return fail(s, "job " + quoted(id.c_str()) + " was cancelled");
      case LANE_ERR_PREEMPTED: return fail(s, "job " + quoted(id.c_str()) + " was preempted");
      case LANE_ERR_TIMEOUT: return fail(s, "job " + quoted(id.c_str()) + " timed out");
      case LANE_ERR_CLOSED:
        // Either refused at submit or ended by close: both mean the lane closed.
        return fail(s, "lane " + quoted(lane->name.c_str()) + " is closed");
      default: return refused(s, lane, id);
    }
  });
}

LANE_API lane_status_t lane_cancel(lane_t *lane, const char *job_id, uint32_t flags) {
  return guarded([&] {
    if (!ok(lane)) return bad_lane(lane);
    if (!job_id || !*job_id) return fail(LANE_ERR_INVALID, "job id is NULL or empty");
    if (flags & ~kKnownCancelFlags) return fail(LANE_ERR_INVALID, "cancel flags has unknown bits");
    if (flags == 0) flags = LANE_CANCEL_QUEUED;
    lane_status_t s = lane->cancel(job_id, flags);
    if (s == LANE_ERR_NOT_QUEUED) {
      return fail(s, "no " + std::string(flags & LANE_CANCEL_RUNNING ? "live" : "queued") + " job " + quoted(job_id) +
                         " in lane " + quoted(lane->name.c_str()));
    }
    return s;
  });
}

LANE_API lane_status_t lane_cancel_token(lane_t *lane, uint64_t job_token, uint32_t flags) {
  return guarded([&] {
    if (!ok(lane)) return bad_lane(lane);
    if (flags & ~kKnownCancelFlags) return fail(LANE_ERR_INVALID, "cancel flags has unknown bits");
    if (flags == 0) flags = LANE_CANCEL_QUEUED;
    lane_status_t s = lane->cancel_token(job_token, flags);
    if (s == LANE_ERR_NOT_QUEUED) {
      return fail(s, "no " + std::string(flags & LANE_CANCEL_RUNNING ? "live" : "queued") + " job with token " +
                         std::to_string(job_token) + " in lane " + quoted(lane->name.c_str()));
    }
    return s;
  });
}

LANE_API lane_status_t lane_stats(lane_t *lane, lane_stats_t *out) {
  return guarded([&] {
    if (!ok(lane)) return bad_lane(lane);
    if (!out) return fail(LANE_ERR_INVALID, "out is NULL");
    if (!lane::capi::writable(out)) return lane::capi::bad_struct_size("stats", out);
    lane::capi::write_struct(out, lane->stats());
    return LANE_OK;
  });
}

LANE_API lane_status_t lane_set_max_concurrent(lane_t *lane, uint32_t n) {
  return guarded([&] {
    if (!ok(lane)) return bad_lane(lane);
    if (n == 0) return fail(LANE_ERR_INVALID, "max_concurrent must be at least 1");
    lane->change({.max_concurrent = n});
    return LANE_OK;
  });
}

LANE_API lane_status_t lane_set_preemption(lane_t *lane, int32_t enabled, int64_t min_runtime_ns) {
  return guarded([&] {
    if (!ok(lane)) return bad_lane(lane);
    if (min_runtime_ns < 0) return fail(LANE_ERR_INVALID, "min_runtime_ns is negative");
    lane->change({.preemption = enabled != 0, .preempt_min_runtime_ns = min_runtime_ns});
    return LANE_OK;
  });
}

LANE_API lane_status_t lane_set_eta_window(lane_t *lane, uint32_t n) {
  return guarded([&] {
    if (!ok(lane)) return bad_lane(lane);
    if (n == 0) return fail(LANE_ERR_INVALID, "eta window must be at least 1");
    lane->change({.eta_window = n});
    return LANE_OK;
  });
}

LANE_API lane_status_t lane_set_tenant_weight(lane_t *lane, const char *tenant, uint32_t weight) {
  return guarded([&] {
    if (!ok(lane)) return bad_lane(lane);
    if (weight == 0) return fail(LANE_ERR_INVALID, "tenant weight must be at least 1");
    if (!lane->set_tenant_weight(tenant ? tenant : "", weight)) {
      return fail(LANE_ERR_INVALID, "lane " + quoted(lane->name.c_str()) + " is FIFO; tenant weights need FAIR_SHARE");
    }
    return LANE_OK;
  });
}

LANE_API lane_status_t lane_pause(lane_t *lane) {
  return guarded([&] {
    if (!ok(lane)) return bad_lane(lane);
    lane->pause();
    return LANE_OK;
  });
}

LANE_API lane_status_t lane_resume(lane_t *lane) {
  return guarded([&] {
    if (!ok(lane)) return bad_lane(lane);
    lane->resume();
    return LANE_OK;
  });
}

LANE_API lane_status_t lane_cooldown(lane_t *lane, int64_t duration_ns) {
  return guarded([&] {
    if (!ok(lane)) return bad_lane(lane);
    if (duration_ns < 0) return fail(LANE_ERR_INVALID, "cooldown duration is negative");
    lane->cooldown(duration_ns);
    return LANE_OK;
  });
}

LANE_API lane_status_t lane_close(lane_t *lane, lane_close_mode_t mode) {
  return guarded([&] {
    if (!ok(lane)) return bad_lane(lane);
    const int m = raw_enum(mode);
    if (m != LANE_CLOSE_DRAIN && m != LANE_CLOSE_CANCEL) {
      return fail(LANE_ERR_INVALID, "unknown close mode " + std::to_string(m));
    }
    lane->close(mode);
    return LANE_OK;
  });
}

LANE_API lane_status_t lane_wait_idle(lane_t *lane, int64_t timeout_ns) {
  return guarded([&] {
    if (!ok(lane)) return bad_lane(lane);
    lane_status_t s = lane->wait_idle(timeout_ns);
    if (s != LANE_OK) return fail(s, "lane " + quoted(lane->name.c_str()) + " still has jobs");
    return s;
  });
}

LANE_API const char *lane_name(const lane_t *lane) {
  if (!ok(lane)) {
    bad_lane(lane);
    return nullptr;
  }
  return lane->name.c_str();
}

LANE_API lane_status_t lane_job_finish(lane_t *lane, uint64_t job_token, int32_t job_code) {
  return guarded([&] {
    if (!ok(lane)) return bad_lane(lane);
    std::string why;
    lane_status_t s = lane->finish_host_job(job_token, job_code, 0, &why);
    if (s != LANE_OK) return fail(s, "lane_job_finish(token " + std::to_string(job_token) + "): " + why);
    return s;
  });
}

LANE_API lane_status_t lane_job_finish_cost(lane_t *lane, uint64_t job_token, int32_t job_code, int64_t cost) {
  return guarded([&] {
    if (!ok(lane)) return bad_lane(lane);
    if (cost < 0) return fail(LANE_ERR_INVALID, "lane_job_finish_cost: cost is negative");
    std::string why;
    lane_status_t s = lane->finish_host_job(job_token, job_code, cost, &why);
    if (s != LANE_OK) return fail(s, "lane_job_finish_cost(token " + std::to_string(job_token) + "): " + why);
    return s;
  });
}

// ------------------------------------------------------------------ budgets

LANE_API lane_status_t lane_set_rate_limit(lane_t *lane, uint32_t kinds, int64_t amount, int64_t per_ns,
                                           int64_t burst) {
  return guarded([&] {
    if (!ok(lane)) return bad_lane(lane);
    constexpr std::uint32_t kKnown = LANE_RATE_REQUESTS | LANE_RATE_COST;
    if (kinds == 0) return fail(LANE_ERR_INVALID, "lane_set_rate_limit: no kind (LANE_RATE_REQUESTS, LANE_RATE_COST)");
    if (kinds & ~kKnown) return fail(LANE_ERR_INVALID, "lane_set_rate_limit: kinds has unknown bits");
    if (amount < 0 || per_ns < 0 || burst < 0) {
      return fail(LANE_ERR_INVALID, "lane_set_rate_limit: amount, per_ns and burst must not be negative");
    }
    if (amount > 0 && per_ns == 0) return fail(LANE_ERR_INVALID, "lane_set_rate_limit: per_ns is 0");
    for (const auto &[bit, kind] : {std::pair{LANE_RATE_REQUESTS, lane::core::RateKind::Requests},
                                   std::pair{LANE_RATE_COST, lane::core::RateKind::Cost}}) {
      if (!(kinds & bit)) continue;
      if (lane_status_t s = lane->set_rate_limit(kind, amount, per_ns, burst); s != LANE_OK) {
        return fail(s, "lane_set_rate_limit: refused");
      }
    }
    return LANE_OK;
  });
}

LANE_API lane_status_t lane_set_tenant_limit(lane_t *lane, const char *tenant, uint32_t max_running) {
  return guarded([&] {
    if (!ok(lane)) return bad_lane(lane);
    lane->set_tenant_limit(tenant ? tenant : "", max_running);
    return LANE_OK;
  });
}

LANE_API lane_status_t lane_tenant_running(lane_t *lane, const char *tenant, uint32_t *out) {
  return guarded([&] {
    if (!ok(lane)) return bad_lane(lane);
    if (!out) return fail(LANE_ERR_INVALID, "out is NULL");
    *out = lane->tenant_running(tenant ? tenant : "");
    return LANE_OK;
  });
}

LANE_API lane_status_t lane_job_release(lane_t *lane, uint64_t job_token) {
  return guarded([&] {
    if (!ok(lane)) return bad_lane(lane);
    std::string why;
    lane_status_t s = lane->release_token(job_token, &why);
    if (s != LANE_OK) return fail(s, "lane_job_release(token " + std::to_string(job_token) + "): " + why);
    return s;
  });
}

LANE_API lane_status_t lane_job_reacquire(lane_t *lane, uint64_t job_token) {
  return guarded([&] {
    if (!ok(lane)) return bad_lane(lane);
    std::string why;
    lane_status_t s = lane->reacquire_token(job_token, &why);
    if (s == LANE_ERR_INVALID) return fail(s, "lane_job_reacquire(token " + std::to_string(job_token) + "): " + why);
    if (s != LANE_OK) {
      return fail(s, "lane_job_reacquire(token " + std::to_string(job_token) + "): the job was asked to stop (" +
                         lane_status_name(s) + "); it should finish");
    }
    return s;
  });
}

// --------------------------------------------------------------- job context

LANE_API int lane_ctx_cancelled(const lane_ctx_t *ctx) {
  if (!ctx || !ctx->valid()) return fail(LANE_ERR_INVALID, "not a live job context"), 0;
  return ctx->cause.load(std::memory_order_acquire) != LANE_OK ? 1 : 0;
}

LANE_API lane_status_t lane_ctx_cause(const lane_ctx_t *ctx) {
  if (!ctx || !ctx->valid()) return fail(LANE_ERR_INVALID, "not a live job context");
  return static_cast<lane_status_t>(ctx->cause.load(std::memory_order_acquire));
}

LANE_API lane_status_t lane_ctx_wait(lane_ctx_t *ctx, int64_t timeout_ns) {
  return guarded([&] {
    if (!ctx || !ctx->valid()) return fail(LANE_ERR_INVALID, "not a live job context");
    lane::exec::WaitStripe &w = lane::exec::wait_stripe(ctx);
    std::unique_lock lk(w.mu);
    auto cancelled = [ctx] { return ctx->cause.load(std::memory_order_acquire) != LANE_OK; };
    if (!lane::exec::wait_ns(w.cv, lk, timeout_ns, cancelled)) return LANE_ERR_TIMEOUT;
    return static_cast<lane_status_t>(ctx->cause.load(std::memory_order_acquire));
  });
}

LANE_API const char *lane_ctx_job_id(const lane_ctx_t *ctx) {
  if (!ctx || !ctx->valid()) return fail(LANE_ERR_INVALID, "not a live job context"), nullptr;
  return ctx->id.c_str();
}

LANE_API void *lane_ctx_user_data(const lane_ctx_t *ctx) {
  if (!ctx || !ctx->valid()) return fail(LANE_ERR_INVALID, "not a live job context"), nullptr;
  return ctx->user_data;
}

LANE_API lane_status_t lane_ctx_set_cost(lane_ctx_t *ctx, int64_t cost) {
  return guarded([&] {
    if (!ctx || !ctx->valid()) return fail(LANE_ERR_INVALID, "not a live job context");
    if (cost <= 0) return fail(LANE_ERR_INVALID, "lane_ctx_set_cost: cost must be positive");
    lane_status_t s = ctx->owner->set_cost(ctx, cost);
    if (s != LANE_OK) return fail(s, "lane_ctx_set_cost: the job is not running");
    return s;
  });
}

LANE_API uint64_t lane_ctx_fence(const lane_ctx_t *ctx) {
  if (!ctx || !ctx->valid()) {
    fail(LANE_ERR_INVALID, "lane_ctx_fence: not a live job context");
    return 0;
  }
  return ctx->shared_grants ? ctx->shared_grants->fence.load(std::memory_order_relaxed) : 0;
}

LANE_API lane_status_t lane_ctx_overloaded(lane_ctx_t *ctx) {
  if (!ctx || !ctx->valid()) return fail(LANE_ERR_INVALID, "not a live job context");
  ctx->overloaded.store(true, std::memory_order_relaxed);
  return LANE_OK;
}

LANE_API lane_status_t lane_ctx_release(lane_ctx_t *ctx) {
  return guarded([&] {
    if (!ctx || !ctx->valid()) return fail(LANE_ERR_INVALID, "not a live job context");
    lane_status_t s = ctx->owner->release_slots(ctx);
    if (s != LANE_OK) return fail(s, "lane_ctx_release: the run holds no slots (already released)");
    return s;
  });
}

LANE_API lane_status_t lane_ctx_reacquire(lane_ctx_t *ctx, int64_t timeout_ns) {
  return guarded([&] {
    if (!ctx || !ctx->valid()) return fail(LANE_ERR_INVALID, "not a live job context");
    if (ctx->host_run()) {
      return fail(LANE_ERR_INVALID,
                  "lane_ctx_reacquire: a host-run job reacquires with lane_job_reacquire (a GRANT event follows)");
    }
    lane_status_t s = ctx->owner->reacquire_wait(ctx, timeout_ns);
    switch (s) {
      case LANE_OK: return s;
      case LANE_ERR_INVALID: return fail(s, "lane_ctx_reacquire: the run is not released");
      case LANE_ERR_TIMEOUT: return fail(s, "lane_ctx_reacquire: timed out; the run is released again");
      default:
        return fail(s, std::string("lane_ctx_reacquire: the run was asked to stop (") + lane_status_name(s) +
                           "); it should return");
    }
  });
}

LANE_API lane_t *lane_ctx_lane(const lane_ctx_t *ctx) {
  if (!ctx || !ctx->valid()) return fail(LANE_ERR_INVALID, "not a live job context"), nullptr;
  return ctx->owner;
}

}  // extern "C"

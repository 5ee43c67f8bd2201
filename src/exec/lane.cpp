#include "lane.hpp"

#include <exception>

#include <chrono>
#include <cstring>
#include <algorithm>

#include "callback_scope.hpp"
#include "clock.hpp"
#include "core/saturate.hpp"
#include "ctx_wait.hpp"
#include "outcome.hpp"
#include "pool.hpp"
#include "port.hpp"
#include "timer.hpp"
#include "wait.hpp"

using lane::core::Effect;
using lane::core::Effects;
using lane::core::JobState;

namespace lane::exec {

namespace {

thread_local lane_ctx_s *tls_current = nullptr;

// Runs the host's callback; an exception must not escape into a worker.
std::int32_t invoke(lane_ctx_s *job) {
  lane_ctx_s *outer = tls_current;
  tls_current = job;
  std::int32_t code;
  try {
    CallbackScope scope(job->owner, job->owner->registry);
    code = job->run(job, job->user_data);
  } catch (...) {
    code = LANE_ERR_INTERNAL;
  }
  tls_current = outer;
  return code;
}

lane_event_t make_event(lane_event_kind_t kind, const lane_ctx_s *job, lane_status_t status, std::int64_t at) {
  lane_event_t ev{};
  ev.struct_size = sizeof ev;
  ev.kind = kind;
  ev.status = status;
  ev.job_code = job->job_code;
  ev.lane = job->owner;
  ev.job_token = job->token;
  ev.user_data = job->user_data;
  ev.at_ns = at;
  if (kind == LANE_EVENT_GRANT) ev.ctx = const_cast<lane_ctx_s *>(job);
  return ev;
}

}  // namespace

lane_ctx_s *current_job() { return tls_current; }

void run_chain(lane_ctx_s *job) {
  while (job) {
    std::int32_t code = invoke(job);
    job = job->owner->finish_run(job, code, true);
    if (job) job = Pool::instance().rotate(job);
  }
}

}  // namespace lane::exec

using namespace lane::exec;

lane_s::lane_s(std::string n, const lane::core::Config &cfg, lane_clock_fn clock, void *clock_ud)
    : name(std::move(n)), sched(cfg), clock_(clock), clock_ud_(clock_ud) {
  // What a dispatch or a deadline needs later, had now (this may throw: the
  // lane is not made): the worker pool, the cancel wait stripes and room in
  // the timer, so that none can fail for memory once a job is accepted.
  (void)Pool::instance();
  (void)wait_stripe(this);
  Timer::instance().reserve(this);
}

lane_s::~lane_s() {
  magic.store(0, std::memory_order_relaxed);
  Timer::instance().forget(this);
}

void lane_s::release() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

std::int64_t lane_s::now() const { return clock_ ? clock_(clock_ud_) : real_now_ns(); }

// Effects whose order matters across threads happen under the lane lock:
// a context's cancel flag and a port's GRANT/CANCEL events. Both take only
// leaf locks.
void lane_s::apply_locked(Effects &eff) {
  for (std::size_t i = 0; i < eff.size(); ++i) {
    auto *job = static_cast<lane_ctx_s *>(eff[i].job);
    switch (eff[i].kind) {
      case Effect::Kind::Dispatch:
        if (job->shared_grants) bind_tokens_locked(job);
        if (job->regrant) {
          // A reacquire was granted: the run is live already, on its own
          // thread or the host's; it learns that it holds its slots again.
          if (job->host_run()) {
            job->port->post(make_event(LANE_EVENT_GRANT, job, LANE_OK, sched.current_time()), false);
          } else {
            WaitStripe &w = wait_stripe(job);
            {
              std::lock_guard lk(w.mu);
              job->grants.fetch_add(1, std::memory_order_release);
            }
            w.cv.notify_all();
          }
          eff.done(i);  // never run again, and the host may finish it before we unlock
          break;
        }
        job->cause.store(LANE_OK, std::memory_order_relaxed);
        if (job->host_run()) {
          const bool room = job->port_room == 2;
          if (room) job->port_room = 1;
          job->port->post(make_event(LANE_EVENT_GRANT, job, LANE_OK, job->started_at), room);
          // Granted: the host may finish and free it before we unlock, so
          // nothing after the lock may touch it.
          eff.done(i);
        } else if (job->run_inline) {
          eff.done(i);  // the submitting thread runs it
        }
        break;
      case Effect::Kind::Cancel: {
        WaitStripe &w = wait_stripe(job);
        {
          std::lock_guard lk(w.mu);
          job->cause.store(job->cancel_cause, std::memory_order_release);
        }
        w.cv.notify_all();
        if (job->host_run() && job->port) {
          job->port->post(make_event(LANE_EVENT_CANCEL, job, job->cancel_cause, sched.current_time()));
        }
        break;
      }
      case Effect::Kind::Outcome:
        break;
    }
  }
  arm_timer_locked();
  if (link_) poke_locked();
}

// ---- shared lanes

namespace {
constexpr std::uint64_t kLocalGrant = 1ull << 63;  // a fallback slot: never the arbiter's
}

void lane_s::join(Membership *m) {
  m->join(this);
  membership_ = m;
}

void lane_s::link_slots(SlotLink *link, std::uint32_t fallback_slots) {
  std::lock_guard lk(mu);
  link_.store(link, std::memory_order_relaxed);
  fallback_slots_ = fallback_slots;
  sched.set_external(true);
}

void lane_s::bind_tokens_locked(lane_ctx_s *job) {
  // The core never lets slots in use exceed the slots granted, so there are
  // enough free grants; room in job->shared_grants was reserved at submit.
  std::uint64_t fence = 0;
  for (std::uint32_t i = 0; i < job->held && !free_tokens_.empty(); ++i) {
    const std::uint64_t t = free_tokens_.back();
    free_tokens_.pop_back();
    job->shared_grants->tokens.push_back(t);
    if (t & kLocalGrant) {
      ++bound_local_;
    } else {
      bound_tokens_.insert(t);
      fence = std::max(fence, t);
      forget_token_cost_locked(t);  // what the grant was charged gives way to the run's own charge
    }
  }
  job->shared_grants->fence.store(fence, std::memory_order_relaxed);
  settle_cost_locked(job, false);
}

namespace {
// What a shared cost limit is to hold for a run: its real cost once
// reported, else its estimate (as the core's own COST limit charges it).
std::int64_t run_cost(const lane_ctx_s *job) {
  return job->reported_cost > 0 ? job->reported_cost : job->cost_estimate();
}
}  // namespace

void lane_s::settle_cost_locked(lane_ctx_s *job, bool ended) {
  auto &g = *job->shared_grants;
  if (!cost_limited_ && !sched.rate_limit(lane::core::RateKind::Cost).on) {
    g.charged = 0;
    return;
  }
  if (g.charged == 0 && ended) return;  // never charged (ran on no shared grant)
  const std::int64_t c = run_cost(job);
  cost_delta_ += c - g.charged;
  g.charged = ended ? 0 : c;
}

void lane_s::forget_token_cost_locked(std::uint64_t token) {
  if (const auto it = token_cost_.find(token); it != token_cost_.end()) {
    cost_delta_ -= it->second;
    token_cost_.erase(it);
  }
}

void lane_s::return_tokens_locked(lane_ctx_s *job) {
  if (!job->shared_grants || job->held != 0 || job->shared_grants->tokens.empty()) return;
  for (const std::uint64_t t : job->shared_grants->tokens) {
    if (t & kLocalGrant) {
      --bound_local_;  // a fallback slot just ends
      continue;
    }
    bound_tokens_.erase(t);
    lost_tokens_.erase(t);
    returning_.push_back(t);
  }
  job->shared_grants->tokens.clear();
}

void lane_s::poke_locked() {
  SlotLink *l = link_.load(std::memory_order_relaxed);
  if (l && (!returning_.empty() || cost_delta_ != 0 || sched.external_demand() != asked_demand_ ||
            sched.quota_epoch() != asked_quota_epoch_)) {
    l->poke();
  }
}

void lane_s::drop_free_local_locked() {
  std::erase_if(free_tokens_, [&](std::uint64_t t) {
    if (!(t & kLocalGrant)) return false;
    return sched.revoke_external(1) == 1;
  });
}

SlotAsk lane_s::slots_ask() {
  SlotAsk a;
  std::lock_guard lk(mu);
  a.demand = sched.external_demand();
  a.cap = sched.cap();
  if (const auto &r = sched.rate_limit(lane::core::RateKind::Requests); r.on) {
    a.rate_amount = r.amount;
    a.rate_per_ns = r.per_ns;
    a.rate_burst = r.burst;
  }
  if (const auto &r = sched.rate_limit(lane::core::RateKind::Cost); r.on) {
    a.cost_amount = r.amount;
    a.cost_per_ns = r.per_ns;
    a.cost_burst = r.burst;
  }
  asked_demand_ = a.demand;
  // Grants nobody will use now go back (the core lets go of them first).
  std::uint32_t held = static_cast<std::uint32_t>(free_tokens_.size() + bound_tokens_.size()) + bound_local_;
  while (held > a.demand && !free_tokens_.empty() && sched.revoke_external(1) == 1) {
    const std::uint64_t t = free_tokens_.back();
    free_tokens_.pop_back();
    if (!(t & kLocalGrant)) {
      returning_.push_back(t);
      forget_token_cost_locked(t);
    }
    --held;
  }
  // Fallback slots count as held only while they run.
  a.held = held - static_cast<std::uint32_t>(std::count_if(free_tokens_.begin(), free_tokens_.end(),
                                                           [](std::uint64_t t) { return (t & kLocalGrant) != 0; }));
  a.releases = std::move(returning_);
  returning_.clear();
  a.cost_delta = cost_delta_;
  cost_delta_ = 0;
  // Shared tenant limits, and one last word (need 0) for any no longer limited here.
  asked_quota_epoch_ = sched.quota_epoch();
  std::vector<std::string> sent;
  for (auto &q : sched.tenant_quotas()) {
    if (q.quota > q.need) {
      // What it sends back is the arbiter's at once: it never holds here
      // more than the arbiter counts for it (a lower quota has no effects).
      Effects none;
      sched.set_tenant_quota(q.name, q.need, sched.current_time(), none);
    }
    sent.push_back(q.name);
    a.tenants.push_back({std::move(q.name), q.limit, q.need});
  }
  for (auto &name : quota_sent_) {
    if (std::find(sent.begin(), sent.end(), name) == sent.end()) a.tenants.push_back({std::move(name), 0, 0});
  }
  quota_sent_ = std::move(sent);
  if (const auto *next = sched.next_waiting()) {
    a.priority = next->priority;
    a.next_cost = next->state == lane::core::JobState::Reacquiring ? 0 : next->cost_estimate();
    if (next->tenant) {
      a.tenant = next->tenant->name;
    } else if (next->budget) {
      a.tenant = next->budget->name;
    }
  }
  return a;
}

void lane_s::slots_answer(const SlotAnswer &ans) {
  const std::int64_t t = now();
  Effects eff;
  {
    std::lock_guard lk(mu);
    refusing_.store(false, std::memory_order_relaxed);
    cost_limited_ = ans.cost_limited;
    slot_stats_.available = true;
    slot_stats_.global_running = ans.global_running;
    slot_stats_.global_queued = ans.global_queued;
    slot_stats_.releases_refused += ans.refused;
    drop_free_local_locked();  // the arbiter is back: no more fallback grants
    const std::unordered_set<std::uint64_t> mine(ans.mine.begin(), ans.mine.end());
    // Free grants the arbiter no longer knows: their lease ran out.
    std::erase_if(free_tokens_, [&](std::uint64_t tok) {
      if ((tok & kLocalGrant) || mine.contains(tok)) return false;
      if (sched.revoke_external(1) != 1) return false;
      ++slot_stats_.leases_lost;
      forget_token_cost_locked(tok);
      return true;
    });
    // Grants held by running jobs that it no longer knows: the jobs run on
    // (nothing can stop a host's call), their fence tells the resource.
    for (const std::uint64_t tok : bound_tokens_) {
      if (!mine.contains(tok) && lost_tokens_.insert(tok).second) ++slot_stats_.leases_lost;
    }
    std::uint32_t fresh = 0;
    for (std::size_t i = 0; i < ans.mine.size(); ++i) {
      const std::uint64_t tok = ans.mine[i];
      if (bound_tokens_.contains(tok) || std::find(free_tokens_.begin(), free_tokens_.end(), tok) != free_tokens_.end() ||
          std::find(returning_.begin(), returning_.end(), tok) != returning_.end()) {
        continue;
      }
      free_tokens_.push_back(tok);
      if (i < ans.costs.size() && ans.costs[i] != 0) token_cost_[tok] = ans.costs[i];
      ++fresh;
    }
    if (fresh > 0) sched.grant_external(fresh, t, eff);
    for (const auto &[name, held] : ans.quotas) sched.set_tenant_quota(name, held, t, eff);
    apply_locked(eff);
  }
  apply_unlocked(eff, false);
}

void lane_s::slots_unreachable(std::vector<std::uint64_t> releases, std::int64_t cost_delta,
                               const std::vector<SlotAsk::Tenant> &tenants) {
  const std::int64_t t = now();
  Effects eff;
  {
    std::lock_guard lk(mu);
    returning_.insert(returning_.end(), releases.begin(), releases.end());  // tried again later
    cost_delta_ += cost_delta;                                                // likewise
    for (const auto &q : tenants) {
      if (q.limit == 0 && std::find(quota_sent_.begin(), quota_sent_.end(), q.name) == quota_sent_.end()) {
        quota_sent_.push_back(q.name);  // its release is said again
      }
    }
    asked_quota_epoch_ = UINT64_MAX;
    slot_stats_.available = false;
    // Nor can tenant quotas: keep only what runs (others may get the rest).
    for (const auto &q : sched.tenant_quotas()) sched.set_tenant_quota(q.name, std::min(q.quota, q.running), t, eff);
    // Free grants cannot be renewed now: they are not used.
    std::erase_if(free_tokens_, [&](std::uint64_t tok) {
      if ((tok & kLocalGrant) || sched.revoke_external(1) != 1) return false;
      forget_token_cost_locked(tok);
      return true;
    });
    if (fallback_slots_ == 0) {
      refusing_.store(true, std::memory_order_relaxed);
    } else {
      std::uint32_t local = bound_local_;
      for (const std::uint64_t tok : free_tokens_) local += (tok & kLocalGrant) ? 1 : 0;
      std::uint32_t fresh = 0;
      for (; local < fallback_slots_; ++local, ++fresh) free_tokens_.push_back(kLocalGrant | ++next_local_);
      if (fresh > 0) sched.grant_external(fresh, t, eff);
    }
    apply_locked(eff);
  }
  apply_unlocked(eff, false);
}

SlotStats lane_s::slot_stats() {
  std::lock_guard lk(mu);
  return slot_stats_;
}

// Runs after the lock is released: hands callback jobs to threads and
// delivers outcomes (host callbacks). Returns one dispatched job for the
// calling worker to run itself when keep_one is set, which is the hand-off
// from a finished job to the next without waking another thread.
lane_ctx_s *lane_s::apply_unlocked(const Effects &eff, bool keep_one) {
  lane_ctx_s *kept = nullptr;
  for (std::size_t i = 0; i < eff.size(); ++i) {
    auto *job = static_cast<lane_ctx_s *>(eff[i].job);
    if (eff[i].kind != Effect::Kind::Dispatch || !job) continue;
    if (keep_one && !kept) {
      kept = job;
    } else {
      Pool::instance().post(job);
    }
  }
  // Outcomes last: the final delivery may let lane_destroy free this lane.
  for (std::size_t i = 0; i < eff.size(); ++i) {
    if (eff[i].kind == Effect::Kind::Outcome) deliver(static_cast<lane_ctx_s *>(eff[i].job));
  }
  return kept;
}

void lane_s::deliver(lane_ctx_s *job) {
  const lane_outcome_t o = make_outcome({.status = job->status,
                                         .job_code = job->job_code,
                                         .job_id = job->id.c_str(),
                                         .lane_name = name.c_str(),
                                         .job_token = job->token,
                                         .enqueued_at_ns = job->enqueued_at,
                                         .started_at_ns = job->started_at,
                                         .finished_at_ns = job->finished_at});
  {
    CallbackScope scope(this, registry);
    if (job->observer) {
      job->observer->job_ended(o);  // the layer above delivers
      if (job->port) {
        if (job->port_room > 0) job->port->unreserve(job->port_room);
        job->port->release();
      }
    } else {
      hand_over(o, job->on_done, job->user_data, job->port, this, job->port_room);
    }
  }
  if (Waiter *w = job->waiter) {
    std::lock_guard lk(w->mu);
    w->outcome = o;
    w->outcome.job_id = nullptr;  // the caller fills in its own id pointer
    w->outcome.lane = name.c_str();
    w->done = true;
    w->cv.notify_all();
  }
  job->magic.store(0, std::memory_order_relaxed);
  delete job;
  std::uint64_t n = inflight_.load(std::memory_order_relaxed);
  while (n > 1) {
    if (inflight_.compare_exchange_weak(n, n - 1, std::memory_order_release, std::memory_order_relaxed)) return;
  }
  std::lock_guard lk(mu);
  if (inflight_.fetch_sub(1, std::memory_order_acq_rel) == 1) idle_cv_.notify_all();
}

SubmitOutput lane_s::submit(const JobSpec &spec, const SubmitOptions &opts) {
  auto job = std::make_unique<lane_ctx_s>();
  job->id.assign(spec.id);
  job->priority = spec.priority;
  job->flags = spec.flags;
  job->max_wait_ns = spec.max_wait_ns;
  job->queue_timeout_ns = spec.queue_timeout_ns;
  job->owner = this;
  job->run = spec.run;
  job->on_done = spec.on_done;
  job->user_data = spec.user_data;
  job->port = spec.port;
  job->waiter = opts.waiter;
  job->outcome_timeout_ns = opts.outcome_timeout_ns;
  job->observer = opts.observer;
  job->cost = spec.cost;
  job->run_timeout_ns = spec.run_timeout_ns;
  job->slots = spec.slots;
  const std::string_view tenant = spec.tenant;
  if (link_) {
    if (refusing_.load(std::memory_order_relaxed)) {
      SubmitOutput refused;
      refused.result.status = LANE_ERR_UNAVAILABLE;
      return refused;
    }
    job->shared_grants = std::make_unique<lane_ctx_s::Grants>();
    job->shared_grants->tokens.reserve(job->slots_wanted());
  }
  if (job->port) {
    job->port->reserve(2);  // may throw: nothing is accepted yet
    job->port_room = 2;
  }

  SubmitOutput out;
  const std::int64_t t = now();
  Effects eff;
  // Out of memory inside the scheduler, the job is not accepted (the
  // scheduler undoes its part) but what fell due before it (timeouts,
  // stops) has happened: those effects are carried out, then the failure
  // goes to the caller as LANE_ERR_NOMEM.
  std::exception_ptr failed;
  {
    std::lock_guard lk(mu);
    try {
      out.result = sched.submit(job.get(), tenant, t, eff, opts.must_dispatch, opts.estimate);
    } catch (...) {
      failed = std::current_exception();
      out.result.status = LANE_ERR_NOMEM;
    }
    if (out.result.status == LANE_OK) {
      inflight_.fetch_add(1, std::memory_order_relaxed);
      if (job->port) job->port->retain();
      if (opts.inline_ok && !job->host_run() && job->state == JobState::Running) {
        job->run_inline = true;
        out.job = job.get();
      }
      job.release();  // the lane owns it until its outcome is delivered
    }
    apply_locked(eff);
  }
  if (job && job->port_room > 0) job->port->unreserve(job->port_room);  // not accepted
  apply_unlocked(eff, false);
  if (failed) std::rethrow_exception(failed);
  return out;
}

lane_status_t lane_s::submit_wait(const JobSpec &spec, std::int64_t timeout_ns, lane_outcome_t *out) {
  Waiter w;
  SubmitOptions opts;
  opts.inline_ok = true;
  opts.waiter = &w;
  opts.estimate = false;  // no ticket to fill
  // A job of this lane that waits for another job of this lane can only be
  // served by a free slot now; queueing could wait on itself forever.
  lane_ctx_s *cur = current_job();
  opts.must_dispatch = cur != nullptr && cur->owner == this;
  // The timeout is the scheduler's: queued, the job leaves the queue; running
  // (on a worker or inline on this thread), its context is cancelled. Either
  // way this thread waits for the one outcome.
  if (timeout_ns >= 0) opts.outcome_timeout_ns = timeout_ns > 0 ? timeout_ns : 1;
  SubmitOutput s = submit(spec, opts);
  if (s.result.status != LANE_OK) return s.result.status;

  if (s.job) {
    std::int32_t code = invoke(s.job);
    finish_run(s.job, code, false);
  }
  std::unique_lock lk(w.mu);
  w.cv.wait(lk, [&] { return w.done; });
  if (out) *out = w.outcome;  // job_id is the caller's to fill in
  return w.outcome.status;
}

namespace {

lane::core::FinishInfo finish_info(const lane_ctx_s *job, std::int32_t code, std::int64_t cost) {
  return {.cost = cost,
          .overloaded = code == LANE_JOB_OVERLOADED || job->overloaded.load(std::memory_order_relaxed)};
}

// Its run has begun and not ended: holding slots, or released, or waiting
// to reacquire them (parked behind its tenant's limit included).
bool started(const lane_ctx_s *job) {
  return job->state == JobState::Running || job->state == JobState::Released ||
         job->state == JobState::Reacquiring || (job->state == JobState::Parked && job->parked_reacquire);
}

}  // namespace

lane_ctx_s *lane_s::finish_run(lane_ctx_s *job, std::int32_t code, bool keep_next) {
  const std::int64_t t = now();
  Effects eff;
  {
    std::lock_guard lk(mu);
    job->run_inline = false;
    sched.finish(job, code, finish_info(job, code, 0), t, eff);
    if (job->shared_grants) settle_cost_locked(job, true);
    return_tokens_locked(job);
    apply_locked(eff);
  }
  return apply_unlocked(eff, keep_next);
}

// The host-run job with that token, under mu; nullptr with *why if none.
static lane_ctx_s *host_job(lane::core::Scheduler &sched, std::uint64_t token, const char *verb, std::string *why) {
  auto *job = static_cast<lane_ctx_s *>(sched.find_token(token));
  if (!job) {
    *why = "no live job with that token in this lane";
    return nullptr;
  }
  if (!job->host_run()) {
    *why = std::string("the job runs a callback; only host-run jobs are ") + verb + " by token";
    return nullptr;
  }
  if (!started(job)) {
    *why = "the job has not been granted a slot yet";
    return nullptr;
  }
  return job;
}

lane_status_t lane_s::finish_host_job(std::uint64_t token, std::int32_t code, std::int64_t cost, std::string *why) {
  const std::int64_t t = now();
  Effects eff;
  {
    std::lock_guard lk(mu);
    lane_ctx_s *job = host_job(sched, token, "finished", why);
    if (!job) return LANE_ERR_INVALID;
    sched.finish(job, code, finish_info(job, code, cost), t, eff);
    if (job->shared_grants) settle_cost_locked(job, true);
    return_tokens_locked(job);
    apply_locked(eff);
  }
  apply_unlocked(eff, false);
  return LANE_OK;
}

lane_status_t lane_s::set_rate_limit(lane::core::RateKind kind, std::int64_t amount, std::int64_t per_ns,
                                     std::int64_t burst) {
  return with_effects(
      [&](std::int64_t t, Effects &eff) { return sched.set_rate_limit(kind, amount, per_ns, burst, t, eff); });
}

lane::core::RateLimit lane_s::rate_limit(lane::core::RateKind kind) {
  std::lock_guard lk(mu);
  return sched.rate_limit(kind);
}

void lane_s::set_tenant_limit(std::string_view tenant, std::uint32_t max_running) {
  with_effects([&](std::int64_t t, Effects &eff) {
    sched.set_tenant_limit(tenant, max_running, t, eff);
    return 0;
  });
}

std::uint32_t lane_s::tenant_running(std::string_view tenant) {
  std::lock_guard lk(mu);
  return sched.tenant_running(tenant);
}

std::vector<lane::core::Scheduler::TenantRow> lane_s::tenant_limits() {
  std::lock_guard lk(mu);
  return sched.tenant_limits();
}

lane_status_t lane_s::set_cost(lane_ctx_s *job, std::int64_t cost) {
  return with_effects([&](std::int64_t t, Effects &eff) {
    const lane_status_t s = sched.set_cost(job, cost, t, eff);
    if (s == LANE_OK && job->shared_grants && job->shared_grants->charged != 0) {
      settle_cost_locked(job, false);  // more charged at once, or a refund
    }
    return s;
  });
}

lane_status_t lane_s::release_slots(lane_ctx_s *job) {
  return with_effects([&](std::int64_t t, Effects &eff) {
    const lane_status_t s = sched.release(job, t, eff);
    return_tokens_locked(job);
    return s;
  });
}

lane_status_t lane_s::reacquire_wait(lane_ctx_s *job, std::int64_t timeout_ns) {
  const std::uint32_t before = job->grants.load(std::memory_order_acquire);
  const lane_status_t s =
      with_effects([&](std::int64_t t, Effects &eff) { return sched.reacquire(job, t, eff); });
  if (s != LANE_OK) return s;
  {
    WaitStripe &w = wait_stripe(job);
    std::unique_lock lk(w.mu);
    auto settled = [&] {
      return job->grants.load(std::memory_order_acquire) != before ||
             job->cause.load(std::memory_order_acquire) != LANE_OK;
    };
    if (wait_ns(w.cv, lk, timeout_ns, settled)) {
      if (job->grants.load(std::memory_order_acquire) != before) return LANE_OK;
      return static_cast<lane_status_t>(job->cause.load(std::memory_order_acquire));
    }
  }
  // Timed out: leave the line, unless the grant came meanwhile.
  return with_effects([&](std::int64_t t, Effects &eff) {
    if (job->state == JobState::Running) return LANE_OK;
    if (job->state == JobState::Released) return job->cancel_cause != LANE_OK ? job->cancel_cause : LANE_ERR_TIMEOUT;
    (void)sched.release(job, t, eff);
    return LANE_ERR_TIMEOUT;
  });
}

lane_status_t lane_s::release_token(std::uint64_t token, std::string *why) {
  return with_effects([&](std::int64_t t, Effects &eff) {
    lane_ctx_s *job = host_job(sched, token, "released", why);
    if (!job) return LANE_ERR_INVALID;
    const lane_status_t s = sched.release(job, t, eff);
    return_tokens_locked(job);
    if (s != LANE_OK) *why = "the job holds no slots (already released)";
    return s;
  });
}

lane_status_t lane_s::reacquire_token(std::uint64_t token, std::string *why) {
  return with_effects([&](std::int64_t t, Effects &eff) {
    lane_ctx_s *job = host_job(sched, token, "reacquired", why);
    if (!job) return LANE_ERR_INVALID;
    const lane_status_t s = sched.reacquire(job, t, eff);
    if (s == LANE_ERR_INVALID) *why = "the job is not released (it holds its slots, or already waits for them)";
    return s;
  });
}

lane_status_t lane_s::wait_idle(std::int64_t timeout_ns) {
  std::unique_lock lk(mu);
  auto idle = [this] { return inflight_.load(std::memory_order_acquire) == 0; };
  return wait_ns(idle_cv_, lk, timeout_ns, idle) ? LANE_OK : LANE_ERR_TIMEOUT;
}

lane_status_t lane_s::cancel(std::string_view id, std::uint32_t flags) {
  return with_effects([&](std::int64_t t, Effects &eff) { return sched.cancel(id, flags, t, eff); });
}

lane_status_t lane_s::cancel_token(std::uint64_t token, std::uint32_t flags) {
  return with_effects([&](std::int64_t t, Effects &eff) { return sched.cancel_token(token, flags, t, eff); });
}

void lane_s::cancel_tokens(std::span<const std::uint64_t> tokens) {
  with_effects([&](std::int64_t t, Effects &eff) {
    for (const std::uint64_t token : tokens) sched.cancel_token(token, LANE_CANCEL_QUEUED | LANE_CANCEL_RUNNING, t, eff);
    return 0;
  });
}

lane_stats_t lane_s::stats(std::int64_t *now_ns, lane::core::Scheduler::Samples *samples) {
  lane_stats_t s{};
  s.struct_size = sizeof s;
  s.name = name.c_str();
  const std::int64_t t = now();
  lane::core::Scheduler::Samples copied;
  {
    std::lock_guard lk(mu);
    sched.stats(t, s, &copied);  // copies only: submits wait for nothing more
  }
  lane::core::Scheduler::fill_quantiles(s, copied);
  if (membership_) {
    const SlotStats ss = slot_stats();
    s.shared = 1;
    s.available = ss.available ? 1 : 0;
    s.global_running = ss.global_running;
    s.global_queued = ss.global_queued;
    s.leases_lost = ss.leases_lost;
    s.releases_refused = ss.releases_refused;
  }
  if (samples) *samples = std::move(copied);
  if (now_ns) *now_ns = t;
  return s;
}

void lane_s::change(const LaneChanges &c) {
  with_effects([&](std::int64_t t, Effects &eff) {
    if (c.max_concurrent) sched.set_max_concurrent(*c.max_concurrent, t, eff);
    if (c.preemption) sched.set_preemption(*c.preemption, c.preempt_min_runtime_ns, t, eff);
    if (c.eta_window) sched.set_eta_window(*c.eta_window);
    return 0;
  });
}

bool lane_s::set_tenant_weight(std::string_view tenant, std::uint32_t weight) {
  std::lock_guard lk(mu);
  return sched.set_tenant_weight(tenant, weight);
}

void lane_s::pause() {
  std::lock_guard lk(mu);
  sched.pause();
}

void lane_s::resume() {
  with_effects([&](std::int64_t t, Effects &eff) {
    sched.resume(t, eff);
    return 0;
  });
}

void lane_s::cooldown(std::int64_t duration_ns) {
  with_effects([&](std::int64_t t, Effects &eff) {
    sched.cooldown(lane::core::sat_add(t, duration_ns), t, eff);
    return 0;
  });
}

void lane_s::close(lane_close_mode_t mode) {
  with_effects([&](std::int64_t t, Effects &eff) {
    sched.close(mode, t, eff);
    return 0;
  });
  notify_closed();  // sessions end what they still queue
}

void lane_s::shutdown() {
  close(LANE_CLOSE_CANCEL);
  wait_idle(-1);
  {
    std::lock_guard lk(mu);
    timer_stop_ = true;  // nothing arms it again
    link_.store(nullptr, std::memory_order_relaxed);  // a closed lane pokes nobody
  }
  Timer::instance().disarm(this);  // and it is not inside this lane when we return
  if (membership_) membership_->leave(this);  // gives back what it still holds
}

void lane_s::add_close_listener(const CloseListener &l) {
  std::lock_guard lk(listeners_mu_);
  listeners_.push_back(l);
}

void lane_s::remove_close_listener(void *arg) {
  std::lock_guard lk(listeners_mu_);
  std::erase_if(listeners_, [&](const CloseListener &l) { return l.arg == arg; });
}

void lane_s::notify_closed() {
  std::vector<CloseListener> pinned;
  {
    std::lock_guard lk(listeners_mu_);
    for (const CloseListener &l : listeners_) {
      if (l.pin(l.arg)) pinned.push_back(l);
    }
  }
  for (const CloseListener &l : pinned) l.closed(l.arg);
}

bool lane_s::closed() {
  std::lock_guard lk(mu);
  return sched.closed();
}

bool lane_s::close_if_idle(std::int64_t now_ns) {
  Effects eff;
  {
    std::lock_guard lk(mu);
    if (inflight_.load(std::memory_order_acquire) != 0 || refs_.load(std::memory_order_acquire) != 1) return false;
    sched.close(LANE_CLOSE_CANCEL, now_ns, eff);
    apply_locked(eff);
  }
  apply_unlocked(eff, false);  // nothing is live: no outcome, no host call
  return true;
}

// The process's timer thread fires the lane at its next deadline (real
// clock), or every few milliseconds while it has one (injected clock: the
// host's time may jump). Called under mu, after every operation.
void lane_s::arm_timer_locked() {
  const std::int64_t d = sched.next_deadline();
  if (d == lane::core::kNoDeadline || timer_stop_) return;
  if (clock_ ? timer_at_ != lane::core::kNoDeadline : d >= timer_at_) return;  // armed soon enough
  timer_at_ = d;
  Timer::instance().arm(this, [](void *l) { static_cast<lane_s *>(l)->on_timer(); }, d, clock_ != nullptr);
}

void lane_s::on_timer() {
  const std::int64_t t = now();  // the host clock, never under the lock
  Effects eff;
  {
    std::lock_guard lk(mu);
    if (timer_stop_) return;
    timer_at_ = lane::core::kNoDeadline;  // fired: arm_timer_locked arms the next one
    sched.tick(t, eff);
    apply_locked(eff);
  }
  apply_unlocked(eff, false);
}

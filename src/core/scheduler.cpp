#include "scheduler.hpp"

#include <new>

#include "saturate.hpp"

#include <algorithm>
#include <vector>

namespace lane::core {

// --------------------------------------------------------------- RateLimit

std::int64_t RateLimit::ready_after(std::int64_t units, std::int64_t now) const {
  if (!on) return now;
  const i128 nowa = static_cast<i128>(now) * amount;
  // `units` go by t when max(tat, now) + units * per <= t * amount + burst * per.
  const i128 need = std::max(tat, nowa) + (static_cast<i128>(units) - burst) * per_ns;
  if (need <= nowa) return now;
  i128 t = need / amount;
  if (t * amount < need) ++t;
  return t >= INT64_MAX ? INT64_MAX : static_cast<std::int64_t>(t);
}

void RateLimit::charge(std::int64_t units, std::int64_t now) {
  const i128 nowa = static_cast<i128>(now) * amount;
  tat = std::max(tat, nowa) + static_cast<i128>(units) * per_ns;
}

void RateLimit::correct(std::int64_t delta, std::int64_t now) {
  const i128 nowa = static_cast<i128>(now) * amount;
  if (delta >= 0) {
    tat = std::max(tat, nowa) + static_cast<i128>(delta) * per_ns;
  } else {
    tat = std::max(tat + static_cast<i128>(delta) * per_ns, std::min(tat, nowa));
  }
}

// --------------------------------------------------------------- Scheduler

Scheduler::Scheduler(const Config &cfg) : cfg_(cfg), runtimes_(cfg.eta_window) {
  if (adaptive()) width_ = std::clamp(cfg_.max_concurrent, cfg_.adaptive_min, cfg_.adaptive_max);
  if (cfg_.policy == LANE_POLICY_FAIR_SHARE) {
    queue_ = std::make_unique<FairQueue>(cfg_.aging_ns, cfg_.fair_half_life_ns);
  } else {
    queue_ = std::make_unique<FifoQueue>();
  }
}

// ------------------------------------------------------------------ helpers

void Scheduler::advance(std::int64_t now, Effects &out) {
  // Hosts read the clock before taking the lane lock, so calls may arrive
  // slightly out of order: time never goes backwards here.
  now_ = std::max(now_, now);
  while (!timeouts_.empty() && timeouts_.begin()->first <= now_) {
    Job *job = timeouts_.begin()->second;
    out.reserve(kEffectsPerStep);  // may throw: nothing of this job has changed yet
    unqueue(job);
    end(job, LANE_ERR_TIMEOUT, out);
  }
  while (!stop_at_.empty() && stop_at_.begin()->first <= now_) {
    out.reserve(kEffectsPerStep);
    const auto [at, job] = *stop_at_.begin();
    stop_at_.erase(stop_at_.begin());
    // One entry may stand for both deadlines when they are equal.
    if (job->stop_at == at) job->stop_at = 0;
    if (job->run_stop_at == at) job->run_stop_at = 0;
    stop(job, LANE_ERR_TIMEOUT, out);
  }
  if (cooldown_until_ != 0 && now_ >= cooldown_until_) {
    cooldown_until_ = 0;
    fill(out);
  }
  if (rate_ready_at_ != 0 && now_ >= rate_ready_at_) fill(out);
  if (refill_at_ != 0 && now_ >= refill_at_) fill(out);
}

std::int64_t Scheduler::runtime_estimate() const {
  std::int64_t m = runtimes_.mean();
  return m > 0 ? m : cfg_.eta_default_runtime_ns;
}

// Wait until the job at `position` (1-based) gets a slot: every slot frees
// up when its running job reaches the mean runtime (or the cooldown ends),
// and then takes queued jobs round-robin, each lasting the mean runtime.
std::int64_t Scheduler::eta_for(std::size_t position) const {
  const std::int64_t mean = runtime_estimate();
  const std::size_t slots = std::max<std::size_t>(cap(), 1);
  const std::int64_t gate = cooling() ? sat_sub(cooldown_until_, now_) : 0;
  std::vector<std::int64_t> free_at;
  free_at.reserve(std::max(slots, running_.size()));
  for (const Job *j = running_.front(); j; j = JobList::next(j)) {
    free_at.push_back(std::max<std::int64_t>(0, mean - (now_ - j->started_at)));
  }
  while (free_at.size() < slots) free_at.push_back(0);
  for (auto &t : free_at) t = std::max(t, gate);
  std::sort(free_at.begin(), free_at.end());
  // More running than slots (cap lowered, or overcommit): a slot opens only
  // when the running count drops below the cap, so the earliest returns free
  // nothing; the slots open at the `slots` latest returns.
  if (free_at.size() > slots) free_at.erase(free_at.begin(), free_at.end() - static_cast<std::ptrdiff_t>(slots));
  const std::size_t ahead = position - 1;
  return sat_add(free_at[ahead % slots], sat_mul(static_cast<std::int64_t>(ahead / slots), mean));
}

Job *Scheduler::find_victim(std::int32_t priority, std::uint32_t need) const {
  if (!cfg_.preemption || preemptible_running_ == 0) return nullptr;
  const std::uint32_t free = slots_used_ < limit() ? limit() - slots_used_ : 0;
  Job *best = nullptr;
  for (Job *j = running_.front(); j; j = JobList::next(j)) {
    if (!j->preemptible() || j->cancel_cause != LANE_OK || j->priority >= priority) continue;
    if (free + j->held < need) continue;  // one victim must free enough for the preemptor
    if (now_ - j->started_at < cfg_.preempt_min_runtime_ns) continue;
    if (!best || j->priority < best->priority ||
        (j->priority == best->priority && j->started_at < best->started_at)) {
      best = j;
    }
  }
  return best;
}

void Scheduler::accept(Job *job) {
  // All or nothing: the two steps that allocate come first, the second
  // undoes the first if it throws.
  job->token = index_.add(job);
  if (job->outcome_timeout_ns > 0) {
    job->stop_at = sat_add(now_, job->outcome_timeout_ns);
    try {
      stop_at_.emplace(job->stop_at, job);
    } catch (...) {
      job->stop_at = 0;
      index_.remove(job);
      job->token = 0;
      throw;
    }
  }
  job->seq = ++next_seq_;
  ++submitted_;
  if (job->slots_wanted() > 1) ++multi_slot_live_;
  if (job->budget) {
    ++job->budget->live;
    if (job->budget->quota != kNoQuota) ++quota_epoch_;
  }
}

void Scheduler::unaccept(Job *job) {
  if (job->budget) {
    --job->budget->live;
    if (job->budget->quota != kNoQuota) ++quota_epoch_;
  }
  if (job->slots_wanted() > 1) --multi_slot_live_;
  --submitted_;
  if (job->stop_at != 0) stop_at_.erase({job->stop_at, job});
  job->stop_at = 0;
  index_.remove(job);
  job->token = 0;
}

// The queued part of a submit, after accept: all or nothing, undoing accept
// too if it throws.
void Scheduler::enqueue_accepted(Job *job, bool park_it) {
  try {
    if (job->queue_timeout_ns > 0) {
      job->deadline = sat_add(now_, job->queue_timeout_ns);
      timeouts_.emplace(job->deadline, job);
    }
    job->state = JobState::Queued;
    if (park_it) {
      park(job);
    } else {
      q_push(job);
    }
  } catch (...) {
    job->state = JobState{};
    if (job->queue_timeout_ns > 0) timeouts_.erase({job->deadline, job});
    job->deadline = 0;
    unaccept(job);
    throw;
  }
}

void Scheduler::dispatch(Job *job, Effects &out) {
  const bool regrant = job->state == JobState::Reacquiring;
  job->state = JobState::Running;
  job->regrant = regrant;
  job->held = need(job);
  job->held_since = now_;
  slots_used_ += job->held;
  running_.push_back(job);
  if (job->preemptible()) ++preemptible_running_;
  if (job->budget) {
    ++job->budget->running;
    job->counted = true;
    if (job->budget->quota != kNoQuota) ++quota_epoch_;
  }
  if (rate_[0].on) rate_[0].charge(1, now_);  // every grant is a request, a regrant too
  if (!regrant) {
    job->started_at = now_;
    job->slot_time = 0;
    job->adapt_epoch = adapt_epoch_;
    job->charged_cost = 0;
    job->reported_cost = 0;
    if (rate_[1].on) {
      job->charged_cost = job->cost_estimate();
      rate_[1].charge(job->charged_cost, now_);
    }
    if (job->run_timeout_ns > 0) {
      job->run_stop_at = sat_add(now_, job->run_timeout_ns);
      try {
        stop_at_.emplace(job->run_stop_at, job);
      } catch (const std::bad_alloc &) {
        job->run_stop_at = 0;  // out of memory: it runs without its run timeout rather than be lost
      }
    }
    waits_.add(job->started_at - job->enqueued_at);
    queue_->on_dispatch(job, runtime_estimate(), now_);
  }
  out.push(Effect::Kind::Dispatch, job);
}

void Scheduler::give_back(Job *job) {
  running_.remove(job);
  if (job->preemptible()) --preemptible_running_;
  slots_used_ -= job->held;
  if (external_) ext_held_ -= job->held;  // it goes back out (grant_external)
  job->slot_time = sat_add(job->slot_time, sat_mul(now_ - job->held_since, job->held));
  job->held = 0;
  if (job->counted) uncount(job);
}

void Scheduler::uncount(Job *job) {
  if (!job->counted) return;
  job->counted = false;
  --job->budget->running;
  if (job->budget->quota != kNoQuota) ++quota_epoch_;
  unpark(job->budget);
}

// The tenant has room again: its oldest parked jobs go back to where they
// wait, as many as it has room for (the rest stay parked, so a tenant at
// its limit costs nothing per finish however many jobs it has queued).
void Scheduler::unpark(TenantBudget *b) {
  std::uint32_t room = b->room();
  while (room > 0 && !b->parked.empty()) {
    Job *job = b->parked.front();
    b->parked.remove(job);
    --(job->parked_reacquire ? parked_runs_ : parked_);
    --room;
    if (job->parked_reacquire) {
      job->parked_reacquire = false;
      job->state = JobState::Reacquiring;
      insert_reacquirer(job);
    } else {
      job->state = JobState::Queued;
      q_requeue(job);  // by its enqueue time: it keeps its place
    }
  }
}

void Scheduler::park(Job *job) {
  job->parked_reacquire = job->state == JobState::Reacquiring;
  job->state = JobState::Parked;
  JobList &list = job->budget->parked;
  Job *pos = list.front();
  while (pos && (pos->enqueued_at < job->enqueued_at || (pos->enqueued_at == job->enqueued_at && pos->seq < job->seq))) {
    pos = JobList::next(pos);
  }
  list.insert_before(pos, job);
  ++(job->parked_reacquire ? parked_runs_ : parked_);
}

namespace {
bool older(const Job *a, const Job *b) {
  return a->enqueued_at != b->enqueued_at ? a->enqueued_at < b->enqueued_at : a->seq < b->seq;
}
}  // namespace

// Reacquirers: by priority (fair share; FIFO lanes ignore priority), then
// oldest first.
void Scheduler::insert_reacquirer(Job *job) {
  const bool by_prio = cfg_.policy == LANE_POLICY_FAIR_SHARE;
  Job *pos = reacquirers_.front();
  while (pos && ((by_prio && pos->priority > job->priority) ||
                 ((!by_prio || pos->priority == job->priority) && older(pos, job)))) {
    pos = JobList::next(pos);
  }
  reacquirers_.insert_before(pos, job);
}

// Preemptors first (they own a victim's slot), then whichever of the first
// reacquirer and the queue's head ranks first: a reacquirer goes ahead of
// queued jobs of its priority accepted after it, and behind older ones.
Job *Scheduler::next_candidate() const {
  if (Job *p = preemptors_.front()) return p;
  Job *r = reacquirers_.front();
  Job *q = queue_->peek(now_);
  if (!r) return q;
  if (!q) return r;
  if (cfg_.policy == LANE_POLICY_FAIR_SHARE && r->priority != q->priority) return r->priority > q->priority ? r : q;
  return older(q, r) ? q : r;
}

void Scheduler::q_push(Job *job) {
  queue_->push(job);
  queued_cost_ += job->cost_estimate();
}

void Scheduler::q_requeue(Job *job) {
  queue_->requeue(job);
  queued_cost_ += job->cost_estimate();
}

void Scheduler::q_remove(Job *job) {
  queue_->remove(job);
  queued_cost_ -= job->cost_estimate();
}

void Scheduler::disarm_run_timeout_slow(Job *job) {
  if (job->run_stop_at != job->stop_at) stop_at_.erase({job->run_stop_at, job});
  job->run_stop_at = 0;
}

std::int64_t Scheduler::rate_at(const Job *job, std::int64_t ahead, std::int64_t cost_ahead) const {
  std::int64_t at = now_;
  if (rate_[0].on) at = std::max(at, rate_[0].ready_after(sat_add(ahead, 1), now_));
  if (rate_[1].on && job->state != JobState::Reacquiring) {
    const std::int64_t own = std::min(job->cost_estimate(), rate_[1].burst);
    at = std::max(at, rate_[1].ready_after(sat_add(cost_ahead, own), now_));
  }
  return at;
}

void Scheduler::on_adaptive_finish(Job *job, bool success, bool overloaded, Effects &out) {
  if (!adaptive()) return;
  if (overloaded) {
    // One decrease per width: a signal from a job dispatched before the
    // last decrease speaks of the old width and is not counted again.
    if (job->adapt_epoch != adapt_epoch_) return;
    ++adapt_epoch_;
    width_ = std::max(cfg_.adaptive_min, width_ / 2);
    successes_ = 0;
    if (cfg_.adaptive_cooldown_ns > 0) {
      cooldown_until_ = std::max(cooldown_until_, sat_add(now_, cfg_.adaptive_cooldown_ns));
    }
    (void)out;
    return;
  }
  if (success && ++successes_ >= width_) {
    successes_ = 0;
    if (width_ < cfg_.adaptive_max) ++width_;
  }
}

void Scheduler::preempt(Job *victim, Job *preemptor, Effects &out) {
  victim->cancel_cause = LANE_ERR_PREEMPTED;
  ++preemptions_;
  out.push(Effect::Kind::Cancel, victim);
  if (cfg_.preempt_overcommit) {
    dispatch(preemptor, out);
  } else {
    preemptor->state = JobState::Preemptor;
    preemptors_.push_back(preemptor);
  }
}

// A queued job whose victim was protected by the min-runtime guard at submit
// time gets its chance once the guard has passed.
void Scheduler::preempt_for_head(Effects &out) {
  while (cfg_.preemption && !paused_ && !cooling() && preemptible_running_ > 0) {
    Job *head = queue_->preempt_candidate(now_);
    if (!head || fits(head)) return;
    if (head->budget && head->budget->at_limit()) return;
    Job *victim = find_victim(head->priority, need(head));
    if (!victim) return;
    if (!room_for_step(out)) return;
    unqueue(head);  // also disarms its queue timeout: it is next in line now
    preempt(victim, head, out);
  }
}

// Room for one more step's effects. Out of memory, the step is left for a
// retry shortly (next_deadline): fill never fails halfway and never throws,
// so whatever called it keeps its answer and loses nothing.
bool Scheduler::room_for_step(Effects &out) {
  try {
    out.reserve(kEffectsPerStep);
    return true;
  } catch (const std::bad_alloc &) {
    refill_at_ = sat_add(now_, kRefillRetryNs);
    return false;
  }
}

// Head of line: the next candidate waits for enough slots and for the rate
// limits, and nobody behind it passes (a job of several slots cannot be
// starved by smaller ones). Only a candidate whose tenant is at its limit is
// set aside (parked), so other tenants go on.
void Scheduler::fill(Effects &out) {
  rate_ready_at_ = 0;
  refill_at_ = 0;
  if (preemptors_.empty() && reacquirers_.empty() && queue_->size() == 0) return;  // nothing waits
  while (!paused_ && !cooling()) {
    Job *next = next_candidate();
    if (!next) break;
    if (next->budget && next->budget->at_limit()) {
      take(next);
      park(next);
      continue;
    }
    if (!fits(next)) break;
    if (rate_[0].on || rate_[1].on) {
      const std::int64_t at = rate_at(next, 0, 0);
      if (at > now_) {
        rate_ready_at_ = at;
        if (!next->rate_waited) {
          next->rate_waited = true;
          ++rate_waits_;
        }
        break;
      }
    }
    if (!room_for_step(out)) break;  // before the job leaves its list
    unqueue(next);
    dispatch(next, out);
  }
  preempt_for_head(out);
}

void Scheduler::grant_external(std::uint32_t n, std::int64_t now, Effects &out) {
  // Only dispatches: what fell due meanwhile (timeouts and their outcomes)
  // is left to the next tick, so a grant never delivers an outcome on the
  // granting thread.
  now_ = std::max(now_, now);
  ext_held_ += n;
  fill(out);
}

std::uint32_t Scheduler::revoke_external(std::uint32_t n) {
  const std::uint32_t unused = ext_held_ - std::min(ext_held_, slots_used_);
  const std::uint32_t k = std::min(n, unused);
  ext_held_ -= k;
  return k;
}

std::uint32_t Scheduler::external_demand() const {
  if (paused_ || cooling()) return slots_used_;
  std::uint64_t waiting = queue_->size() + preemptors_.size() + reacquirers_.size();
  if (waiting == 0) return slots_used_;
  if (const Job *head = next_candidate()) waiting += need(head) - 1;  // a wide job at the front
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(cap(), slots_used_ + waiting));
}

void Scheduler::take(Job *job) {
  switch (job->state) {
    case JobState::Preemptor: preemptors_.remove(job); break;
    case JobState::Reacquiring: reacquirers_.remove(job); break;
    case JobState::Parked:
      job->budget->parked.remove(job);
      --(job->parked_reacquire ? parked_runs_ : parked_);
      break;
    default: q_remove(job); break;
  }
}

void Scheduler::unqueue(Job *job) {
  take(job);
  if (job->deadline != 0) {
    timeouts_.erase({job->deadline, job});
    job->deadline = 0;
  }
}

void Scheduler::end(Job *job, lane_status_t status, Effects &out) {
  job->state = JobState::Ended;
  job->status = status;
  job->finished_at = now_;
  disarm_run_timeout(job);
  if (job->stop_at != 0) {
    stop_at_.erase({job->stop_at, job});
    job->stop_at = 0;
  }
  if (job->slots_wanted() > 1) --multi_slot_live_;
  if (TenantBudget *b = job->budget) {
    job->budget = nullptr;
    if (b->quota != kNoQuota) ++quota_epoch_;
    if (--b->live == 0 && b->limit == 0) budgets_.erase(budgets_.find(b->name));
  }
  index_.remove(job);
  queue_->detach(job);
  throughput_.record(now_);
  switch (status) {
    case LANE_OK: ++completed_; break;
    case LANE_ERR_JOB_FAILED: ++failed_; break;
    case LANE_ERR_CANCELLED: ++cancelled_; break;
    case LANE_ERR_PREEMPTED: ++preempted_; break;
    case LANE_ERR_TIMEOUT: ++timed_out_; break;
    default: ++closed_count_; break;  // LANE_ERR_CLOSED
  }
  out.push(Effect::Kind::Outcome, job);
}

// --------------------------------------------------------------- operations

// A submitted job that preempts victim: it starts now (overcommit) or waits
// for the victim's slots as a preemptor, ahead of the queue.
SubmitResult Scheduler::accept_preempting(Job *job, Job *victim, SubmitResult r, Effects &out) {
  accept(job);
  preempt(victim, job, out);
  r.token = job->token;
  if (job->state == JobState::Preemptor) {
    r.position = static_cast<std::int32_t>(preemptors_.size());
    r.blocked_by = LANE_BLOCKED_FULL;
  }
  return r;
}

SubmitResult Scheduler::submit(Job *job, std::string_view tenant, std::int64_t now, Effects &out,
                               bool dispatch_or_refuse, bool estimate) {
  advance(now, out);
  SubmitResult r;
  if (closed_) {
    ++refused_;
    r.status = LANE_ERR_CLOSED;
    return r;
  }
  if (index_.by_id(job->id) != nullptr) {
    ++refused_;
    r.status = LANE_ERR_DUPLICATE;
    return r;
  }
  const bool plain = !budgets_on() && job->slots <= 1 && job->cost >= 0;
  if (!plain) {
    // Budgets: a job that could never run is refused now rather than queued forever.
    const std::uint32_t widest = adaptive() ? cfg_.adaptive_max : cfg_.max_concurrent;
    if (job->cost < 0 || job->slots_wanted() > std::max<std::uint32_t>(widest, 1) ||
        (rate_[1].on && job->cost_estimate() > rate_[1].burst)) {
      ++refused_;
      r.status = LANE_ERR_INVALID;
      return r;
    }
  }
  // From here on a thrown allocation failure leaves nothing of this job
  // behind: the effects have room, attach and accept are all or nothing,
  // enqueue_accepted undoes both, and nothing else allocates.
  out.reserve(kEffectsPerStep);
  job->enqueued_at = now_;
  queue_->attach(job, tenant);
  try {
    return place(job, tenant, out, plain, dispatch_or_refuse, estimate);
  } catch (...) {
    queue_->detach(job);
    throw;
  }
}

SubmitResult Scheduler::place(Job *job, std::string_view tenant, Effects &out, bool plain, bool dispatch_or_refuse,
                              bool estimate) {
  SubmitResult r;
  if (plain) {
    // No budget in play: the one-slot fast path.
    if (can_dispatch()) {
      accept(job);
      dispatch(job, out);
      r.token = job->token;
      return r;
    }
  } else {
    return submit_budgeted(job, tenant, out, dispatch_or_refuse, estimate);
  }
  auto refuse = [&](lane_status_t s) {
    queue_->detach(job);
    ++refused_;
    r.status = s;
    r.token = 0;
    return r;
  };
  if (dispatch_or_refuse) return refuse(LANE_ERR_DEADLOCK);

  if (!paused_ && !cooling()) {
    if (Job *victim = find_victim(job->priority)) return accept_preempting(job, victim, r, out);
  }

  if (cfg_.max_queued != 0 && queue_->size() >= cfg_.max_queued) return refuse(LANE_ERR_QUEUE_FULL);
  if (estimate || job->max_wait_ns > 0) {
    // The policy's order and the ETA cost more than the rest of a queued
    // submit together: only when someone reads them.
    Ahead ahead = queue_->ahead_of(job, runtime_estimate());
    std::size_t position = preemptors_.size() + ahead.jobs + 1;
    r.position = static_cast<std::int32_t>(std::min<std::size_t>(position, INT32_MAX));
    r.eta_ns = eta_for(position);
    // Next in line with a victim that is only guarded: it will preempt when
    // the earliest such victim has run preempt_min_runtime_ns, if that
    // comes before a slot frees up by itself.
    if (position == 1 && cfg_.preemption && preemptible_running_ > 0 && !paused_ && !cooling()) {
      for (const Job *j = running_.front(); j; j = JobList::next(j)) {
        if (!j->preemptible() || j->cancel_cause != LANE_OK || j->priority >= job->priority) continue;
        const std::int64_t at = j->started_at + cfg_.preempt_min_runtime_ns - now_;
        r.eta_ns = std::min(r.eta_ns, std::max<std::int64_t>(0, at));
      }
    }
    r.blocked_by = paused_ ? LANE_BLOCKED_PAUSED
                   : cooling() ? LANE_BLOCKED_COOLDOWN
                   : !preemptors_.empty() && ahead.reason == LANE_BLOCKED_FULL ? LANE_BLOCKED_PRIORITY
                                                                               : ahead.reason;
    if (job->max_wait_ns > 0 && r.eta_ns > job->max_wait_ns) return refuse(LANE_ERR_BUSY);
  } else {
    r.position = -1;
    r.blocked_by = paused_ ? LANE_BLOCKED_PAUSED : cooling() ? LANE_BLOCKED_COOLDOWN : LANE_BLOCKED_FULL;
  }

  accept(job);
  enqueue_accepted(job, false);
  r.token = job->token;
  return r;
}

// Submit with a budget in play (rate limits, tenant limits, jobs of several
// slots, reacquirers): the job goes at once only if it would be the next
// candidate of fill() and passes every gate; else it waits, parked if its
// tenant is at its limit.
SubmitResult Scheduler::submit_budgeted(Job *job, std::string_view tenant, Effects &out, bool dispatch_or_refuse,
                                        bool estimate) {
  SubmitResult r;
  job->budget = nullptr;
  if (!budgets_.empty()) {
    auto it = budgets_.find(tenant);
    if (it != budgets_.end()) job->budget = it->second.get();
  }
  auto refuse = [&](lane_status_t s) {
    queue_->detach(job);
    job->budget = nullptr;
    ++refused_;
    r.status = s;
    r.token = 0;
    return r;
  };
  const bool gate_open = !paused_ && !cooling();
  const bool tenant_full = job->budget && job->budget->at_limit();
  // Whether it would be fill()'s next candidate: asked only when it could
  // go now (the policy's order is the dearest part of a queued submit).
  const bool could_go = gate_open && !tenant_full && fits(job);
  bool first = could_go && preemptors_.empty();
  if (first && queue_->size() != 0) {
    first = cfg_.policy == LANE_POLICY_FAIR_SHARE && queue_->ahead_of(job, runtime_estimate()).jobs == 0;
  }
  if (first && !reacquirers_.empty()) {
    const Job *ra = reacquirers_.front();
    first = cfg_.policy == LANE_POLICY_FAIR_SHARE && ra->priority < job->priority;
  }
  std::int64_t rate_wait_now = 0;
  if (first) {
    rate_wait_now = rate_at(job, 0, 0) - now_;
    if (rate_wait_now <= 0) {
      accept(job);
      dispatch(job, out);
      r.token = job->token;
      return r;
    }
  }
  if (dispatch_or_refuse) return refuse(LANE_ERR_DEADLOCK);

  if (gate_open && !tenant_full && !fits(job)) {
    if (Job *victim = find_victim(job->priority, need(job))) return accept_preempting(job, victim, r, out);
  }
  if (cfg_.max_queued != 0 && queue_->size() + parked_ >= cfg_.max_queued) return refuse(LANE_ERR_QUEUE_FULL);

  const lane_blocked_by_t gate = paused_ ? LANE_BLOCKED_PAUSED : cooling() ? LANE_BLOCKED_COOLDOWN : LANE_BLOCKED_NONE;
  if (estimate || job->max_wait_ns > 0) {
    const std::int64_t mean = runtime_estimate();
    if (tenant_full) {
      // It waits for its own tenant: one of the tenant's runs ends every
      // mean / limit on average, and the tenant's jobs that hold no slot
      // (parked, queued, or released runs: at most that many) go first.
      const TenantBudget *b = job->budget;
      const std::size_t position = static_cast<std::size_t>(b->live - std::min(b->live, b->running)) + 1;
      r.position = static_cast<std::int32_t>(std::min<std::size_t>(position, INT32_MAX));
      r.eta_ns = sat_mul(mean, static_cast<std::int64_t>((position + b->limit - 1) / b->limit));
      r.blocked_by = gate != LANE_BLOCKED_NONE ? gate : LANE_BLOCKED_TENANT_LIMIT;
    } else {
      Ahead ahead = queue_->ahead_of(job, mean);
      const std::size_t position = preemptors_.size() + reacquirers_.size() + ahead.jobs + 1;
      r.position = static_cast<std::int32_t>(std::min<std::size_t>(position, INT32_MAX));
      r.eta_ns = eta_for(position);
      r.blocked_by = ahead.reason;
      if (rate_[0].on || rate_[1].on) {
        // The jobs ahead pass the limits first: FIFO knows their cost
        // exactly; fair share counts the queue's mean cost for each.
        const std::size_t q = queue_->size();
        std::int64_t cost_ahead = 0;
        if (q != 0) {
          cost_ahead = cfg_.policy == LANE_POLICY_FAIR_SHARE
                           ? sat_mul(queued_cost_ / static_cast<std::int64_t>(q), static_cast<std::int64_t>(ahead.jobs))
                           : queued_cost_;
        }
        for (const Job *p = preemptors_.front(); p; p = JobList::next(p)) cost_ahead = sat_add(cost_ahead, p->cost_estimate());
        const std::int64_t wait = sat_sub(rate_at(job, static_cast<std::int64_t>(position - 1), cost_ahead), now_);
        if (wait > r.eta_ns) {
          r.eta_ns = wait;
          r.blocked_by = LANE_BLOCKED_RATE;
        }
      }
      if (gate != LANE_BLOCKED_NONE) r.blocked_by = gate;
    }
    if (job->max_wait_ns > 0 && r.eta_ns > job->max_wait_ns) return refuse(LANE_ERR_BUSY);
  } else {
    r.position = -1;
    r.blocked_by = gate != LANE_BLOCKED_NONE ? gate
                   : tenant_full            ? LANE_BLOCKED_TENANT_LIMIT
                   : rate_wait_now > 0      ? LANE_BLOCKED_RATE
                                            : LANE_BLOCKED_FULL;
  }

  // Into the queue even when its tenant is at its limit: fill() parks it
  // only when it reaches the front. A job parked at submit would later
  // have to find its place by age among every job queued meanwhile; one
  // parked from the front is older than all of them but a few.
  accept(job);
  enqueue_accepted(job, false);
  r.token = job->token;
  // Its arrival may be what a rate wait or a free slot was waiting for
  // (and sets when the rate limit lets the front go).
  fill(out);
  if (job->state == JobState::Running) {
    r.position = 0;
    r.eta_ns = 0;
    r.blocked_by = LANE_BLOCKED_NONE;
  }
  return r;
}

void Scheduler::finish(Job *job, std::int32_t job_code, std::int64_t now, Effects &out) {
  finish(job, job_code, FinishInfo{}, now, out);
}

void Scheduler::finish(Job *job, std::int32_t job_code, const FinishInfo &info, std::int64_t now, Effects &out) {
  // The job leaves the running set before anything else happens at this
  // time (an ended cooldown, an expired timeout), so nothing can pick it as
  // a victim while it is finishing.
  now_ = std::max(now_, now);
  switch (job->state) {
    case JobState::Running: give_back(job); break;
    case JobState::Released: released_.remove(job); break;
    case JobState::Reacquiring: reacquirers_.remove(job); break;
    case JobState::Parked:
      if (!job->parked_reacquire) return;  // queued: it cannot return
      take(job);
      job->parked_reacquire = false;
      break;
    default: return;  // not running: nothing to finish
  }
  disarm_run_timeout(job);
  const std::int64_t runtime = now_ - job->started_at;
  const bool complete = job->cancel_cause == LANE_OK;
  // Fair share is charged the slot-time the run held: runtime * slots,
  // without the time it spent released.
  queue_->on_run_end(job, job->slot_time, complete, now_);
  runs_.add(runtime);
  if (complete) runtimes_.add(runtime);
  job->job_code = job_code;
  if (info.cost > 0) job->reported_cost = info.cost;
  cost_used_ = sat_add(cost_used_, job->reported_cost > 0 ? job->reported_cost : job->cost_estimate());
  if (info.overloaded) ++overloads_;
  if (info.cost > 0 && job->charged_cost > 0) {
    if (rate_[1].on) rate_[1].correct(info.cost - job->charged_cost, now_);
    job->charged_cost = info.cost;
  }
  if (adaptive()) on_adaptive_finish(job, complete && job_code == 0, info.overloaded, out);

  // A preempted job that asked to be requeued goes back to the queue, unless
  // the lane is closing with CANCEL (a DRAIN close still runs the queue).
  const bool requeue = job->cancel_cause == LANE_ERR_PREEMPTED && (job->flags & LANE_JOB_REQUEUE_ON_PREEMPT);
  if (requeue && !cancelling_) {
    job->cancel_cause = LANE_OK;
    job->requeued = true;
    job->state = JobState::Queued;
    q_requeue(job);
  } else {
    end(job,
        requeue                          ? LANE_ERR_CLOSED
        : job->cancel_cause != LANE_OK   ? job->cancel_cause
        : job_code == 0                  ? LANE_OK
                                         : LANE_ERR_JOB_FAILED,
        out);
  }
  advance(now_, out);
  fill(out);
}

bool Scheduler::cancel_job(Job *job, lane_status_t cause, std::int64_t now, Effects &out) {
  advance(now, out);
  return stop(job, cause, out);
}

bool Scheduler::stop(Job *job, lane_status_t cause, Effects &out) {
  switch (job->state) {
    case JobState::Queued:
    case JobState::Preemptor:
      unqueue(job);
      end(job, cause, out);
      return true;
    case JobState::Parked:
      if (!job->parked_reacquire) {
        unqueue(job);
        end(job, cause, out);
        return true;
      }
      [[fallthrough]];
    case JobState::Reacquiring:
      // It waits no longer for its slots: it is told to stop and ends when
      // it returns.
      take(job);
      job->parked_reacquire = false;
      job->state = JobState::Released;
      released_.push_back(job);
      [[fallthrough]];
    case JobState::Released:
    case JobState::Running:
      if (job->cancel_cause == LANE_OK) {
        job->cancel_cause = cause;
        disarm_run_timeout(job);  // it has been told to stop: the run timeout is moot
        out.push(Effect::Kind::Cancel, job);
        return true;
      }
      if (job->cancel_cause == LANE_ERR_PREEMPTED && (job->flags & LANE_JOB_REQUEUE_ON_PREEMPT)) {
        // Already stopping to be requeued: now it must not come back. The run
        // was asked to stop already, so no second Cancel effect.
        job->cancel_cause = cause;
        return true;
      }
      return false;
    default:
      return false;
  }
}

lane_status_t Scheduler::cancel(std::string_view id, std::uint32_t flags, std::int64_t now, Effects &out) {
  advance(now, out);
  return cancel_found(find_id(id), flags, out);
}

lane_status_t Scheduler::cancel_token(std::uint64_t token, std::uint32_t flags, std::int64_t now, Effects &out) {
  advance(now, out);
  return cancel_found(find_token(token), flags, out);
}

lane_status_t Scheduler::cancel_found(Job *job, std::uint32_t flags, Effects &out) {
  if (!job) return LANE_ERR_NOT_QUEUED;
  out.reserve(kEffectsPerStep);  // may throw: nothing is cancelled yet
  const bool parked_run = job->state == JobState::Parked && job->parked_reacquire;
  const bool queued = job->state == JobState::Queued || job->state == JobState::Preemptor ||
                      (job->state == JobState::Parked && !parked_run);
  if (queued && (flags & LANE_CANCEL_QUEUED)) {
    stop(job, LANE_ERR_CANCELLED, out);
    return LANE_OK;
  }
  const bool running = job->state == JobState::Running || job->state == JobState::Released ||
                       job->state == JobState::Reacquiring || parked_run;
  if (running && (flags & LANE_CANCEL_RUNNING)) {
    stop(job, LANE_ERR_CANCELLED, out);  // a second request keeps the first cause
    return LANE_OK;
  }
  return LANE_ERR_NOT_QUEUED;
}

void Scheduler::set_max_concurrent(std::uint32_t n, std::int64_t now, Effects &out) {
  advance(now, out);
  cfg_.max_concurrent = n;
  if (adaptive()) width_ = std::clamp(n, cfg_.adaptive_min, cfg_.adaptive_max);
  fill(out);
}

void Scheduler::set_preemption(bool enabled, std::int64_t min_runtime_ns, std::int64_t now, Effects &out) {
  advance(now, out);
  cfg_.preemption = enabled;
  cfg_.preempt_min_runtime_ns = min_runtime_ns;
  fill(out);
}

void Scheduler::resume(std::int64_t now, Effects &out) {
  advance(now, out);
  paused_ = false;
  fill(out);
}

void Scheduler::cooldown(std::int64_t until_ns, std::int64_t now, Effects &out) {
  advance(now, out);
  cooldown_until_ = until_ns > now_ ? until_ns : 0;
  fill(out);
}

void Scheduler::close(lane_close_mode_t mode, std::int64_t now, Effects &out) {
  advance(now, out);
  // Room for every effect of the close first (may throw: then nothing is
  // closed), so that it cannot stop halfway for memory.
  std::vector<Job *> parked;
  if (mode == LANE_CLOSE_CANCEL) {
    out.reserve(preemptors_.size() + queue_->size() + parked_ + parked_runs_ + reacquirers_.size() +
                released_.size() + running_.size());
    // end() may drop a tenant's budget entry: collect first.
    if (parked_ + parked_runs_ != 0) {
      parked.reserve(parked_ + parked_runs_);
      for (auto &[name, b] : budgets_) {
        for (Job *j = b->parked.front(); j; j = JobList::next(j)) parked.push_back(j);
      }
    }
  }
  closed_ = true;
  if (mode != LANE_CLOSE_CANCEL) return;
  cancelling_ = true;
  while (Job *j = preemptors_.front()) {
    unqueue(j);
    end(j, LANE_ERR_CLOSED, out);
  }
  while (Job *j = queue_->peek(now_)) {
    unqueue(j);
    end(j, LANE_ERR_CLOSED, out);
  }
  for (Job *j : parked) stop(j, LANE_ERR_CLOSED, out);  // a parked reacquirer is asked to stop
  while (Job *j = reacquirers_.front()) stop(j, LANE_ERR_CLOSED, out);
  for (Job *j = released_.front(); j; j = JobList::next(j)) {
    if (j->cancel_cause == LANE_OK) {
      j->cancel_cause = LANE_ERR_CLOSED;
      out.push(Effect::Kind::Cancel, j);
    }
  }
  for (Job *j = running_.front(); j; j = JobList::next(j)) {
    if (j->cancel_cause == LANE_OK) {
      j->cancel_cause = LANE_ERR_CLOSED;
      out.push(Effect::Kind::Cancel, j);
    }
  }
}

// ------------------------------------------------------------------ budgets

lane_status_t Scheduler::set_cost(Job *job, std::int64_t cost, std::int64_t now, Effects &out) {
  advance(now, out);
  if (cost <= 0) return LANE_ERR_INVALID;
  if (job->state != JobState::Running && job->state != JobState::Released && job->state != JobState::Reacquiring &&
      !(job->state == JobState::Parked && job->parked_reacquire)) {
    return LANE_ERR_INVALID;
  }
  job->reported_cost = cost;
  if (job->charged_cost > 0) {
    if (rate_[1].on) rate_[1].correct(cost - job->charged_cost, now_);
    job->charged_cost = cost;
  }
  fill(out);  // a refund may let the front go now
  return LANE_OK;
}

lane_status_t Scheduler::release(Job *job, std::int64_t now, Effects &out) {
  advance(now, out);
  if (job->state == JobState::Reacquiring || (job->state == JobState::Parked && job->parked_reacquire)) {
    // It stops waiting for its slots (a reacquire that timed out).
    take(job);
    job->parked_reacquire = false;
    job->state = JobState::Released;
    released_.push_back(job);
    fill(out);  // it may have held up the line
    return LANE_OK;
  }
  if (job->state != JobState::Running) return LANE_ERR_INVALID;
  give_back(job);
  job->state = JobState::Released;
  released_.push_back(job);
  fill(out);
  return LANE_OK;
}

lane_status_t Scheduler::reacquire(Job *job, std::int64_t now, Effects &out) {
  advance(now, out);
  if (job->state != JobState::Released) return LANE_ERR_INVALID;
  if (job->cancel_cause != LANE_OK) return job->cancel_cause;  // it was asked to stop: it should return
  released_.remove(job);
  job->state = JobState::Reacquiring;
  insert_reacquirer(job);
  fill(out);
  return LANE_OK;
}

lane_status_t Scheduler::set_rate_limit(RateKind kind, std::int64_t amount, std::int64_t per_ns, std::int64_t burst,
                                        std::int64_t now, Effects &out) {
  advance(now, out);
  if (amount < 0 || per_ns < 0 || burst < 0) return LANE_ERR_INVALID;
  RateLimit &rl = rate_[static_cast<int>(kind)];
  if (amount == 0 || per_ns == 0) {
    rl = RateLimit{};
  } else {
    rl.on = true;
    rl.amount = amount;
    rl.per_ns = per_ns;
    rl.burst = std::max<std::int64_t>(burst, 1);
    rl.tat = static_cast<i128>(now_) * amount;  // a fresh, full bucket
  }
  fill(out);
  return LANE_OK;
}

void Scheduler::set_tenant_limit(std::string_view tenant, std::uint32_t max_running, std::int64_t now, Effects &out) {
  advance(now, out);
  auto it = budgets_.find(tenant);
  if (it == budgets_.end()) {
    if (max_running == 0) return;
    auto b = std::make_unique<TenantBudget>();
    b->name = std::string(tenant);
    it = budgets_.emplace(b->name, std::move(b)).first;
  }
  TenantBudget *b = it->second.get();
  b->limit = max_running;
  if (max_running == 0) {
    b->quota = kNoQuota;
  } else if (external_ && b->quota == kNoQuota) {
    b->quota = 0;  // shared: nothing of it is held until the owner grants some
  }
  ++quota_epoch_;
  unpark(b);
  if (b->limit == 0 && b->live == 0) budgets_.erase(it);
  fill(out);
}

void Scheduler::set_external(bool on) {
  external_ = on;
  for (auto &[name, b] : budgets_) {
    if (b->limit != 0) b->quota = on ? std::min(b->quota, b->running) : kNoQuota;
  }
  ++quota_epoch_;
}

void Scheduler::set_tenant_quota(std::string_view tenant, std::uint32_t quota, std::int64_t now, Effects &out) {
  auto it = budgets_.find(tenant);
  if (it == budgets_.end() || it->second->limit == 0 || !external_) return;
  now_ = std::max(now_, now);
  TenantBudget *b = it->second.get();
  if (b->quota == quota) return;
  const bool more = quota > b->quota;
  b->quota = quota;
  ++quota_epoch_;
  if (!more) return;  // less room: nothing can go that could not before
  unpark(b);
  fill(out);
}

std::vector<TenantQuota> Scheduler::tenant_quotas() const {
  std::vector<TenantQuota> rows;
  for (const auto &[name, b] : budgets_) {
    if (b->limit == 0 || b->quota == kNoQuota) continue;
    rows.push_back({name, b->limit, b->running, std::min(b->live, b->limit), b->quota});
  }
  return rows;
}

std::uint32_t Scheduler::tenant_running(std::string_view tenant) const {
  auto it = budgets_.find(tenant);
  return it == budgets_.end() ? 0 : it->second->running;
}

std::vector<Scheduler::TenantRow> Scheduler::tenant_limits() const {
  std::vector<TenantRow> rows;
  rows.reserve(budgets_.size());
  for (const auto &[name, b] : budgets_) rows.push_back({name, b->limit, b->running});
  std::sort(rows.begin(), rows.end(), [](const TenantRow &a, const TenantRow &b) { return a.name < b.name; });
  return rows;
}

void Scheduler::tick(std::int64_t now, Effects &out) {
  advance(now, out);
  fill(out);
}

std::int64_t Scheduler::next_deadline() const {
  std::int64_t d = kNoDeadline;
  if (!timeouts_.empty()) d = timeouts_.begin()->first;
  if (!stop_at_.empty()) d = std::min(d, stop_at_.begin()->first);
  // Reacquirers wait for the gate and the request limit too.
  if (queue_->size() + preemptors_.size() + reacquirers_.size() == 0) return d;
  if (cooldown_until_ != 0) d = std::min(d, cooldown_until_);
  if (rate_ready_at_ != 0 && !paused_) d = std::min(d, rate_ready_at_);
  if (refill_at_ != 0) d = std::min(d, refill_at_);
  if (cfg_.preemption && preemptible_running_ > 0 && !paused_ && !cooling()) {
    const Job *head = queue_->preempt_candidate(now_);
    if (head && !fits(head)) {
      for (const Job *j = running_.front(); j; j = JobList::next(j)) {
        if (j->preemptible() && j->cancel_cause == LANE_OK && j->priority < head->priority) {
          d = std::min(d, std::max(now_, sat_add(j->started_at, cfg_.preempt_min_runtime_ns)));
        }
      }
    }
  }
  return d;
}

Job *Scheduler::find_token(std::uint64_t token) const { return index_.by_token(token); }

Job *Scheduler::find_id(std::string_view id) const { return index_.by_id(id); }

void Scheduler::stats(std::int64_t now, lane_stats_t &s) const {
  Samples samples;
  stats(now, s, &samples);
  fill_quantiles(s, samples);
}

void Scheduler::fill_quantiles(lane_stats_t &s, Samples &samples) {
  s.wait_p50_ns = SampleRing::quantile_of(samples.waits, 0.50);
  s.wait_p99_ns = SampleRing::quantile_of(samples.waits, 0.99);
  s.run_p50_ns = SampleRing::quantile_of(samples.runs, 0.50);
  s.run_p99_ns = SampleRing::quantile_of(samples.runs, 0.99);
}

void Scheduler::stats(std::int64_t now, lane_stats_t &s, Samples *samples) const {
  const std::int64_t t = std::max(now, now_);
  s.max_concurrent = cfg_.max_concurrent;
  s.running = running();
  s.queued = static_cast<std::uint32_t>(queued());
  std::int64_t oldest = queue_->oldest_enqueued_at();
  for (const Job *j = preemptors_.front(); j; j = JobList::next(j)) {
    if (oldest == 0 || j->enqueued_at < oldest) oldest = j->enqueued_at;
  }
  if (parked_ + parked_runs_ != 0) {
    for (const auto &[name, b] : budgets_) {
      for (const Job *j = b->parked.front(); j; j = JobList::next(j)) {
        if (!j->parked_reacquire && (oldest == 0 || j->enqueued_at < oldest)) oldest = j->enqueued_at;
      }
    }
  }
  s.oldest_queued_at_ns = oldest;
  s.throughput_1m = throughput_.last_minute(t);
  s.submitted = submitted_;
  s.completed = completed_;
  s.failed = failed_;
  s.cancelled = cancelled_;
  s.preempted = preempted_;
  s.timed_out = timed_out_;
  s.closed = closed_count_;
  s.refused = refused_;
  waits_.copy_to(samples->waits);
  runs_.copy_to(samples->runs);
  s.paused = paused_ ? 1 : 0;
  s.cooldown_until_ns = cooling() ? cooldown_until_ : 0;
  s.blocked_by = queued() == 0 ? LANE_BLOCKED_NONE
                 : paused_     ? LANE_BLOCKED_PAUSED
                 : cooling()   ? LANE_BLOCKED_COOLDOWN
                 : rate_ready_at_ > t ? LANE_BLOCKED_RATE
                               : LANE_BLOCKED_FULL;
  s.preemptions = preemptions_;
  s.eta_window = runtimes_.capacity();
  s.mean_runtime_ns = runtimes_.mean();
  s.width = cap();
  s.slots_in_use = slots_used_;
  s.released = static_cast<std::uint32_t>(released_.size());
  s.reacquiring = static_cast<std::uint32_t>(reacquirers_.size() + parked_runs_);
  s.rate_waits = rate_waits_;
  s.rate_ready_at_ns = rate_ready_at_ > t ? rate_ready_at_ : 0;
  s.cost_used = cost_used_;
  s.overloads = overloads_;
}

}  // namespace lane::core

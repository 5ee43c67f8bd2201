#include "scheduler.hpp"

#include "saturate.hpp"

#include <algorithm>
#include <vector>

namespace lane::core {

Scheduler::Scheduler(const Config &cfg) : cfg_(cfg), runtimes_(cfg.eta_window) {
  if (cfg_.policy == LANE_POLICY_FAIR_SHARE) {
    queue_ = std::make_unique<FairQueue>(cfg_.aging_ns);
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
    unqueue(job);
    end(job, LANE_ERR_TIMEOUT, out);
  }
  while (!stop_at_.empty() && stop_at_.begin()->first <= now_) {
    Job *job = stop_at_.begin()->second;
    stop_at_.erase(stop_at_.begin());
    job->stop_at = 0;
    stop(job, LANE_ERR_TIMEOUT, out);
  }
  if (cooldown_until_ != 0 && now_ >= cooldown_until_) {
    cooldown_until_ = 0;
    fill(out);
  }
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
  const std::size_t slots = std::max<std::size_t>(cfg_.max_concurrent, 1);
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

Job *Scheduler::find_victim(std::int32_t priority) const {
  if (!cfg_.preemption || preemptible_running_ == 0) return nullptr;
  Job *best = nullptr;
  for (Job *j = running_.front(); j; j = JobList::next(j)) {
    if (!j->preemptible() || j->cancel_cause != LANE_OK || j->priority >= priority) continue;
    if (now_ - j->started_at < cfg_.preempt_min_runtime_ns) continue;
    if (!best || j->priority < best->priority ||
        (j->priority == best->priority && j->started_at < best->started_at)) {
      best = j;
    }
  }
  return best;
}

void Scheduler::accept(Job *job) {
  job->token = index_.add(job);
  job->seq = ++next_seq_;
  ++submitted_;
  if (job->outcome_timeout_ns > 0) {
    job->stop_at = sat_add(now_, job->outcome_timeout_ns);
    stop_at_.emplace(job->stop_at, job);
  }
}

void Scheduler::dispatch(Job *job, Effects &out) {
  job->state = JobState::Running;
  job->started_at = now_;
  running_.push_back(job);
  if (job->preemptible()) ++preemptible_running_;
  waits_.add(job->started_at - job->enqueued_at);
  queue_->on_dispatch(job, runtime_estimate());
  out.push(Effect::Kind::Dispatch, job);
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
  while (cfg_.preemption && !paused_ && !cooling() && running_.size() >= cfg_.max_concurrent) {
    Job *head = queue_->preempt_candidate(now_);
    if (!head) return;
    Job *victim = find_victim(head->priority);
    if (!victim) return;
    unqueue(head);  // also disarms its queue timeout: it is next in line now
    preempt(victim, head, out);
  }
}

void Scheduler::fill(Effects &out) {
  while (can_dispatch()) {
    Job *next = preemptors_.front();
    if (!next) next = queue_->peek(now_);
    if (!next) break;
    unqueue(next);
    dispatch(next, out);
  }
  preempt_for_head(out);
}

void Scheduler::unqueue(Job *job) {
  if (job->state == JobState::Preemptor) {
    preemptors_.remove(job);
  } else {
    queue_->remove(job);
  }
  if (job->deadline != 0) {
    timeouts_.erase({job->deadline, job});
    job->deadline = 0;
  }
}

void Scheduler::end(Job *job, lane_status_t status, Effects &out) {
  job->state = JobState::Ended;
  job->status = status;
  job->finished_at = now_;
  if (job->stop_at != 0) {
    stop_at_.erase({job->stop_at, job});
    job->stop_at = 0;
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
  job->enqueued_at = now_;
  queue_->attach(job, tenant);

  if (can_dispatch()) {
    accept(job);
    dispatch(job, out);
    r.token = job->token;
    return r;
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
    if (Job *victim = find_victim(job->priority)) {
      accept(job);
      preempt(victim, job, out);
      r.token = job->token;
      if (job->state == JobState::Preemptor) {
        r.position = static_cast<std::int32_t>(preemptors_.size());
        r.blocked_by = LANE_BLOCKED_FULL;
      }
      return r;
    }
  }

  if (cfg_.max_queued != 0 && queue_->size() >= cfg_.max_queued) return refuse(LANE_ERR_QUEUE_FULL);
  if (estimate || job->max_wait_ns > 0) {
    // The policy's order and the ETA cost more than the rest of a queued
    // submit together: only when someone reads them.
    Ahead ahead = queue_->ahead_of(job, runtime_estimate());
    std::size_t position = preemptors_.size() + ahead.jobs + 1;
    r.position = static_cast<std::int32_t>(std::min<std::size_t>(position, INT32_MAX));
    r.eta_ns = eta_for(position);
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
  job->state = JobState::Queued;
  queue_->push(job);
  if (job->queue_timeout_ns > 0) {
    job->deadline = sat_add(now_, job->queue_timeout_ns);
    timeouts_.emplace(job->deadline, job);
  }
  r.token = job->token;
  return r;
}

void Scheduler::finish(Job *job, std::int32_t job_code, std::int64_t now, Effects &out) {
  // The job leaves the running set before anything else happens at this
  // time (an ended cooldown, an expired timeout), so nothing can pick it as
  // a victim while it is finishing.
  now_ = std::max(now_, now);
  running_.remove(job);
  if (job->preemptible()) --preemptible_running_;
  const std::int64_t runtime = now_ - job->started_at;
  const bool complete = job->cancel_cause == LANE_OK;
  queue_->on_run_end(job, runtime, complete);
  runs_.add(runtime);
  if (complete) runtimes_.add(runtime);
  job->job_code = job_code;

  // A preempted job that asked to be requeued goes back to the queue, unless
  // the lane is closing with CANCEL (a DRAIN close still runs the queue).
  const bool requeue = job->cancel_cause == LANE_ERR_PREEMPTED && (job->flags & LANE_JOB_REQUEUE_ON_PREEMPT);
  if (requeue && !cancelling_) {
    job->cancel_cause = LANE_OK;
    job->requeued = true;
    job->state = JobState::Queued;
    queue_->requeue(job);
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
    case JobState::Running:
      if (job->cancel_cause == LANE_OK) {
        job->cancel_cause = cause;
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
  const bool queued = job->state == JobState::Queued || job->state == JobState::Preemptor;
  if (queued && (flags & LANE_CANCEL_QUEUED)) {
    stop(job, LANE_ERR_CANCELLED, out);
    return LANE_OK;
  }
  if (job->state == JobState::Running && (flags & LANE_CANCEL_RUNNING)) {
    stop(job, LANE_ERR_CANCELLED, out);  // a second request keeps the first cause
    return LANE_OK;
  }
  return LANE_ERR_NOT_QUEUED;
}

void Scheduler::set_max_concurrent(std::uint32_t n, std::int64_t now, Effects &out) {
  advance(now, out);
  cfg_.max_concurrent = n;
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
  for (Job *j = running_.front(); j; j = JobList::next(j)) {
    if (j->cancel_cause == LANE_OK) {
      j->cancel_cause = LANE_ERR_CLOSED;
      out.push(Effect::Kind::Cancel, j);
    }
  }
}

void Scheduler::tick(std::int64_t now, Effects &out) {
  advance(now, out);
  fill(out);
}

std::int64_t Scheduler::next_deadline() const {
  std::int64_t d = kNoDeadline;
  if (!timeouts_.empty()) d = timeouts_.begin()->first;
  if (!stop_at_.empty()) d = std::min(d, stop_at_.begin()->first);
  if (queue_->size() + preemptors_.size() == 0) return d;
  if (cooldown_until_ != 0) d = std::min(d, cooldown_until_);
  if (cfg_.preemption && preemptible_running_ > 0 && !paused_ && !cooling() &&
      running_.size() >= cfg_.max_concurrent) {
    if (const Job *head = queue_->preempt_candidate(now_)) {
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
  s.running = static_cast<std::uint32_t>(running_.size());
  s.queued = static_cast<std::uint32_t>(queued());
  std::int64_t oldest = queue_->oldest_enqueued_at();
  for (const Job *j = preemptors_.front(); j; j = JobList::next(j)) {
    if (oldest == 0 || j->enqueued_at < oldest) oldest = j->enqueued_at;
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
                               : LANE_BLOCKED_FULL;
  s.preemptions = preemptions_;
  s.eta_window = runtimes_.capacity();
  s.mean_runtime_ns = runtimes_.mean();
}

}  // namespace lane::core

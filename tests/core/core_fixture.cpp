#include "core_fixture.hpp"

#include <algorithm>

namespace lane_test {

Config fifo(std::uint32_t max_concurrent) {
  Config c;
  c.max_concurrent = max_concurrent;
  return c;
}

Config fair(std::uint32_t max_concurrent) {
  Config c = fifo(max_concurrent);
  c.policy = LANE_POLICY_FAIR_SHARE;
  return c;
}

Config preempting(std::uint32_t max_concurrent, std::int64_t min_runtime_ns) {
  Config c = fifo(max_concurrent);
  c.preemption = true;
  c.preempt_min_runtime_ns = min_runtime_ns;
  return c;
}

const char *short_status(lane_status_t s) {
  switch (s) {
    case LANE_OK: return "OK";
    case LANE_ERR_JOB_FAILED: return "FAILED";
    case LANE_ERR_CANCELLED: return "CANCELLED";
    case LANE_ERR_PREEMPTED: return "PREEMPTED";
    case LANE_ERR_TIMEOUT: return "TIMEOUT";
    case LANE_ERR_CLOSED: return "CLOSED";
    default: return "OTHER";
  }
}

CoreLane::CoreLane(const Config &cfg) : sched(cfg) {}

Job &CoreLane::submit(const std::string &id, std::int64_t now, const JobSpec &spec, bool dispatch_or_refuse) {
  Job &j = jobs_.emplace_back();
  j.id = id;
  j.priority = spec.priority;
  j.flags = spec.flags;
  j.max_wait_ns = spec.max_wait_ns;
  j.queue_timeout_ns = spec.queue_timeout_ns;
  j.outcome_timeout_ns = spec.outcome_timeout_ns;
  j.cost = spec.cost;
  j.slots = spec.slots;
  j.run_timeout_ns = spec.run_timeout_ns;
  tenant_of_[&j] = spec.tenant;
  now_ = std::max(now_, now);
  Effects out;
  last = sched.submit(&j, spec.tenant, now, out, dispatch_or_refuse);
  if (last.status == LANE_OK) {
    CHECK_MESSAGE(last.token != 0, "accepted job ", id, " has no token");
    CHECK(last.token == j.token);
    accepted_.insert(&j);
  } else {
    CHECK_MESSAGE(last.token == 0, "refused job ", id, " has a token");
    refused_.insert(&j);
    ++refused_count_;
  }
  record(out);
  return j;
}

void CoreLane::finish(std::string_view id, std::int64_t now, std::int32_t job_code) {
  finish(id, now, job_code, FinishInfo{});
}

namespace {
// Running in the host's sense: holding slots, released, or waiting to get them back.
bool executing(const Job &j) {
  return j.state == JobState::Running || j.state == JobState::Released || j.state == JobState::Reacquiring ||
         (j.state == JobState::Parked && j.parked_reacquire);
}
}  // namespace

void CoreLane::finish(std::string_view id, std::int64_t now, std::int32_t job_code, const FinishInfo &info) {
  Job *j = sched.find_id(id);
  REQUIRE_MESSAGE(j != nullptr, "no live job ", std::string(id));
  REQUIRE_MESSAGE(executing(*j), "job ", std::string(id), " is not running");
  now_ = std::max(now_, now);
  Effects out;
  if (info.cost == 0 && !info.overloaded) {
    sched.finish(j, job_code, now, out);  // the old signature still works
  } else {
    sched.finish(j, job_code, info, now, out);
  }
  record(out);
}

// release and reacquire: find the live job, move the clock, record the effects.
lane_status_t CoreLane::on_live(std::string_view id, std::int64_t now,
                                lane_status_t (lane::core::Scheduler::*op)(lane::core::Job *, std::int64_t,
                                                                        lane::core::Effects &)) {
  Job *j = sched.find_id(id);
  REQUIRE_MESSAGE(j != nullptr, "no live job ", std::string(id));
  now_ = std::max(now_, now);
  Effects out;
  lane_status_t s = (sched.*op)(j, now, out);
  record(out);
  return s;
}

lane_status_t CoreLane::release(std::string_view id, std::int64_t now) { return on_live(id, now, &lane::core::Scheduler::release); }

lane_status_t CoreLane::reacquire(std::string_view id, std::int64_t now) {
  return on_live(id, now, &lane::core::Scheduler::reacquire);
}

lane_status_t CoreLane::set_cost(std::string_view id, std::int64_t cost, std::int64_t now) {
  Job *j = sched.find_id(id);
  REQUIRE_MESSAGE(j != nullptr, "no live job ", std::string(id));
  now_ = std::max(now_, now);
  Effects out;
  lane_status_t s = sched.set_cost(j, cost, now, out);
  record(out);
  return s;
}

lane_status_t CoreLane::set_rate_limit(RateKind kind, std::int64_t amount, std::int64_t per_ns, std::int64_t burst,
                                       std::int64_t now) {
  now_ = std::max(now_, now);
  Effects out;
  lane_status_t s = sched.set_rate_limit(kind, amount, per_ns, burst, now, out);
  record(out);
  return s;
}

void CoreLane::set_tenant_limit(std::string_view tenant, std::uint32_t max_running, std::int64_t now) {
  now_ = std::max(now_, now);
  Effects out;
  sched.set_tenant_limit(tenant, max_running, now, out);
  record(out);
}

lane_status_t CoreLane::cancel(std::string_view id, std::uint32_t flags, std::int64_t now) {
  now_ = std::max(now_, now);
  Effects out;
  lane_status_t s = sched.cancel(id, flags, now, out);
  record(out);
  return s;
}

void CoreLane::tick(std::int64_t now) {
  now_ = std::max(now_, now);
  Effects out;
  sched.tick(now, out);
  record(out);
}

void CoreLane::resize(std::uint32_t n, std::int64_t now) {
  now_ = std::max(now_, now);
  Effects out;
  sched.set_max_concurrent(n, now, out);
  record(out);
}

void CoreLane::grant_external(std::uint32_t n, std::int64_t now) {
  now_ = std::max(now_, now);
  Effects out;
  sched.grant_external(n, now, out);
  record(out);
}

void CoreLane::set_tenant_quota(std::string_view tenant, std::uint32_t quota, std::int64_t now) {
  now_ = std::max(now_, now);
  Effects out;
  sched.set_tenant_quota(tenant, quota, now, out);
  record(out);
}

void CoreLane::set_preemption(bool enabled, std::int64_t min_runtime_ns, std::int64_t now) {
  now_ = std::max(now_, now);
  Effects out;
  sched.set_preemption(enabled, min_runtime_ns, now, out);
  record(out);
}

void CoreLane::pause() {
  sched.pause();
  last_effects_.clear();
  check_counters();
}

void CoreLane::resume(std::int64_t now) {
  now_ = std::max(now_, now);
  Effects out;
  sched.resume(now, out);
  record(out);
}

void CoreLane::cooldown(std::int64_t until_ns, std::int64_t now) {
  now_ = std::max(now_, now);
  Effects out;
  sched.cooldown(until_ns, now, out);
  record(out);
}

void CoreLane::close(lane_close_mode_t mode, std::int64_t now) {
  now_ = std::max(now_, now);
  Effects out;
  sched.close(mode, now, out);
  record(out);
}

void CoreLane::finish_all(std::int64_t now) {
  for (int round = 0; round < 10'000 && (sched.running() > 0 || sched.queued() > 0); ++round) {
    std::vector<std::string> running;
    for (const Job &j : jobs_) {
      if (executing(j)) running.push_back(j.id);
    }
    REQUIRE_MESSAGE(!running.empty(), "jobs wait but none runs");
    for (const std::string &id : running) finish(id, now);
  }
  REQUIRE(sched.running() == 0);
  REQUIRE(sched.queued() == 0);
}

void CoreLane::simulate(std::int64_t until, const std::function<std::int64_t(const Job &)> &runtime) {
  for (;;) {
    const Job *next = nullptr;
    std::int64_t next_end = 0;
    for (const Job &j : jobs_) {
      if (j.state != JobState::Running) continue;
      std::int64_t end = j.started_at + runtime(j);
      if (!next || end < next_end) {
        next = &j;
        next_end = end;
      }
    }
    if (!next || next_end > until) return;
    finish(next->id, next_end);
  }
}

std::string CoreLane::trace() const {
  std::string s;
  for (const Effect &e : last_effects_) {
    if (!s.empty()) s += ' ';
    switch (e.kind) {
      case Effect::Kind::Dispatch: s += "D:" + e.job->id; break;
      case Effect::Kind::Cancel: s += "C:" + e.job->id + "/" + short_status(e.job->cancel_cause); break;
      case Effect::Kind::Outcome: s += "O:" + e.job->id + "/" + short_status(e.job->status); break;
    }
  }
  return s;
}

std::size_t CoreLane::dispatch_count(std::string_view tenant) const {
  std::size_t n = 0;
  for (const auto &[job, count] : dispatches_) {
    if (tenant_of_.at(job) == tenant) n += static_cast<std::size_t>(count);
  }
  return n;
}

Job &CoreLane::job(std::string_view id) {
  for (auto it = jobs_.rbegin(); it != jobs_.rend(); ++it) {
    if (it->id == id) return *it;
  }
  FAIL("no job made with id " << std::string(id));
  return jobs_.front();  // not reached: FAIL throws
}

int CoreLane::outcomes(const Job &job) const {
  auto it = outcomes_.find(&job);
  return it == outcomes_.end() ? 0 : it->second;
}

int CoreLane::dispatches(const Job &job) const {
  auto it = dispatches_.find(&job);
  return it == dispatches_.end() ? 0 : it->second;
}

lane_stats_t CoreLane::stats(std::int64_t now) const {
  lane_stats_t s{};
  s.struct_size = sizeof s;
  sched.stats(now, s);
  return s;
}

void CoreLane::expect_one_outcome_each() const {
  for (const Job *j : accepted_) {
    CHECK_MESSAGE(outcomes(*j) == 1, "accepted job ", j->id, " got ", outcomes(*j), " outcomes");
    CHECK_MESSAGE(j->state == JobState::Ended, "accepted job ", j->id, " has not ended");
  }
  for (const Job *j : refused_) {
    CHECK_MESSAGE(outcomes(*j) == 0, "refused job ", j->id, " got an outcome");
    CHECK_MESSAGE(dispatches(*j) == 0, "refused job ", j->id, " was dispatched");
  }
}

void CoreLane::record(const Effects &out) {
  last_effects_.clear();
  for (std::size_t i = 0; i < out.size(); ++i) {
    const Effect &e = out[i];
    last_effects_.push_back(e);
    REQUIRE(e.job != nullptr);
    CHECK_MESSAGE(accepted_.contains(e.job), "effect for a job that was never accepted: ", e.job->id);
    CHECK_MESSAGE(outcomes(*e.job) == 0, "effect for job ", e.job->id, " after its outcome");
    switch (e.kind) {
      case Effect::Kind::Dispatch:
        ++dispatches_[e.job];
        dispatched_.push_back(e.job->id);
        CHECK(e.job->state == JobState::Running);
        break;
      case Effect::Kind::Cancel:
        CHECK(executing(*e.job));
        CHECK(e.job->cancel_cause != LANE_OK);
        break;
      case Effect::Kind::Outcome:
        ++outcomes_[e.job];
        CHECK(e.job->state == JobState::Ended);
        CHECK(e.job->finished_at == now_);
        break;
    }
  }
  check_counters();
}

void CoreLane::check_counters() const {
  lane_stats_t s = stats(now_);
  const std::uint64_t accounted = s.completed + s.failed + s.cancelled + s.preempted + s.timed_out + s.closed +
                                  s.running + s.queued;
  CHECK_MESSAGE(s.submitted == accounted, "submitted ", s.submitted, " != accounted ", accounted);
  CHECK(s.submitted == accepted_.size());
  CHECK(s.refused == refused_count_);
  CHECK(s.running == sched.running());
}

}  // namespace lane_test

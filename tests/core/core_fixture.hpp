// A scheduler plus everything a deterministic test needs around it: it owns
// the jobs, submits them by id, records every effect, and checks after every
// operation that no job got a second outcome and that the stats counters add
// up. Times are plain integers the test passes in; nothing here reads a clock.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/scheduler.hpp"

namespace lane_test {

using lane::core::Config;
using lane::core::Effect;
using lane::core::Effects;
using lane::core::FinishInfo;
using lane::core::RateKind;
using lane::core::Job;
using lane::core::JobState;
using lane::core::kNoDeadline;
using lane::core::kSecond;
using lane::core::Scheduler;
using lane::core::SubmitResult;

constexpr std::int64_t sec(std::int64_t n) { return n * kSecond; }
constexpr std::int64_t ms(std::int64_t n) { return n * 1'000'000; }

Config fifo(std::uint32_t max_concurrent);
Config fair(std::uint32_t max_concurrent);
// Preemption on with the given guard (0 = no guard).
Config preempting(std::uint32_t max_concurrent, std::int64_t min_runtime_ns);

struct JobSpec {
  std::int32_t priority = 0;
  std::uint32_t flags = 0;
  std::string tenant = "";
  std::int64_t max_wait_ns = 0;
  std::int64_t queue_timeout_ns = 0;
  std::int64_t outcome_timeout_ns = 0;
  std::int64_t cost = 0;
  std::uint32_t slots = 0;
  std::int64_t run_timeout_ns = 0;
};

inline constexpr std::uint32_t kPreemptible = LANE_JOB_PREEMPTIBLE;
inline constexpr std::uint32_t kRequeue = LANE_JOB_PREEMPTIBLE | LANE_JOB_REQUEUE_ON_PREEMPT;

// "OK", "FAILED", "CANCELLED", ... as used in traces.
const char *short_status(lane_status_t s);

class CoreLane {
 public:
  explicit CoreLane(const Config &cfg = Config{});

  // Makes a job and submits it; `last` holds the SubmitResult.
  Job &submit(const std::string &id, std::int64_t now, const JobSpec &spec = {}, bool dispatch_or_refuse = false);
  // Finishes the live job with this id (it must be running).
  void finish(std::string_view id, std::int64_t now, std::int32_t job_code = 0);
  // The same with what the job reports at its end (real cost, overloaded).
  void finish(std::string_view id, std::int64_t now, std::int32_t job_code, const FinishInfo &info);
  lane_status_t release(std::string_view id, std::int64_t now);
  lane_status_t reacquire(std::string_view id, std::int64_t now);
  lane_status_t on_live(std::string_view id, std::int64_t now,
                        lane_status_t (lane::core::Scheduler::*op)(lane::core::Job *, std::int64_t,
                                                                   lane::core::Effects &));
  lane_status_t set_cost(std::string_view id, std::int64_t cost, std::int64_t now);
  lane_status_t set_rate_limit(RateKind kind, std::int64_t amount, std::int64_t per_ns, std::int64_t burst,
                               std::int64_t now);
  void set_tenant_limit(std::string_view tenant, std::uint32_t max_running, std::int64_t now);
  lane_status_t cancel(std::string_view id, std::uint32_t flags, std::int64_t now);
  void tick(std::int64_t now);
  void resize(std::uint32_t n, std::int64_t now);
  void grant_external(std::uint32_t n, std::int64_t now);
  void set_tenant_quota(std::string_view tenant, std::uint32_t quota, std::int64_t now);
  void set_preemption(bool enabled, std::int64_t min_runtime_ns, std::int64_t now);
  void pause();
  void resume(std::int64_t now);
  void cooldown(std::int64_t until_ns, std::int64_t now);
  void close(lane_close_mode_t mode, std::int64_t now);

  // Finishes every running job at `now` (code 0), again and again, until the
  // lane is idle. Fails the test if work remains that cannot run.
  void finish_all(std::int64_t now);
  // Runs the lane on a simulated clock: whenever a job is running it ends at
  // started_at + runtime(job); the earliest end is processed first. Stops
  // before the first end later than `until`.
  void simulate(std::int64_t until, const std::function<std::int64_t(const Job &)> &runtime);

  // The effects of the last operation, e.g. "O:a/OK D:b C:c/PREEMPTED".
  [[nodiscard]] std::string trace() const;
  // The effects of the last operation.
  [[nodiscard]] const std::vector<Effect> &last_effects() const { return last_effects_; }
  // Every job id dispatched so far, in order.
  [[nodiscard]] const std::vector<std::string> &dispatch_order() const { return dispatched_; }
  [[nodiscard]] std::size_t dispatch_count(std::string_view tenant) const;

  // The most recent job made with this id.
  [[nodiscard]] Job &job(std::string_view id);
  [[nodiscard]] int outcomes(const Job &job) const;
  [[nodiscard]] int dispatches(const Job &job) const;
  [[nodiscard]] lane_stats_t stats(std::int64_t now) const;

  // Every accepted job has ended with exactly one Outcome; refused ones got none.
  void expect_one_outcome_each() const;

  Scheduler sched;
  SubmitResult last;

 private:
  void record(const Effects &out);
  void check_counters() const;

  std::deque<Job> jobs_;  // stable addresses: the scheduler links them intrusively
  std::map<const Job *, std::string> tenant_of_;
  std::vector<Effect> last_effects_;
  std::vector<std::string> dispatched_;
  std::map<const Job *, int> outcomes_, dispatches_;
  std::set<const Job *> accepted_, refused_;
  std::uint64_t refused_count_ = 0;
  std::int64_t now_ = 0;
};

}  // namespace lane_test

// The lane state machine. No threads, no I/O, no calls into the host: each
// operation takes the current time, changes state and appends the effects
// the layer above must carry out (dispatch, cancel, deliver an outcome).
// Not thread-safe: the owner serialises calls (one lock per lane).
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string_view>
#include <vector>

#include "effects.hpp"
#include "job.hpp"
#include "job_index.hpp"
#include "queue.hpp"
#include "windows.hpp"

namespace lane::core {

inline constexpr std::int64_t kNoDeadline = INT64_MAX;
inline constexpr std::int64_t kSecond = 1'000'000'000;

// Literal values: the C API maps "zero means default" before building this.
struct Config {
  std::uint32_t max_concurrent = 1;
  lane_policy_t policy = LANE_POLICY_FIFO;
  std::uint32_t eta_window = 16;
  bool preemption = true;
  std::int64_t preempt_min_runtime_ns = 30 * kSecond;  // 0 = no guard
  bool preempt_overcommit = false;
  std::uint32_t max_queued = 0;  // 0 = unbounded
  std::int64_t eta_default_runtime_ns = kSecond;
  std::int64_t aging_ns = 0;
  std::int64_t fair_half_life_ns = 0;  // 0 = forget a tenant once it has no live job
};

struct SubmitResult {
  lane_status_t status = LANE_OK;
  std::int32_t position = 0;  // 0 = dispatched now
  std::int64_t eta_ns = 0;
  lane_blocked_by_t blocked_by = LANE_BLOCKED_NONE;
  std::uint64_t token = 0;  // 0 when refused
};

class Scheduler {
 public:
  explicit Scheduler(const Config &cfg);
  Scheduler(const Scheduler &) = delete;
  Scheduler &operator=(const Scheduler &) = delete;

  // Accepts (dispatches or queues) or refuses the job. With dispatch_or_refuse
  // a job that cannot take a slot at once is refused LANE_ERR_DEADLOCK.
  // Without `estimate` (nobody reads the ticket) a queued job's position and
  // ETA are computed only if its max_wait_ns needs them; else position is -1.
  SubmitResult submit(Job *job, std::string_view tenant, std::int64_t now, Effects &out,
                      bool dispatch_or_refuse = false, bool estimate = true);
  // A running job returned with job_code.
  void finish(Job *job, std::int32_t job_code, std::int64_t now, Effects &out);
  // flags: LANE_CANCEL_QUEUED and/or LANE_CANCEL_RUNNING.
  lane_status_t cancel(std::string_view id, std::uint32_t flags, std::int64_t now, Effects &out);
  lane_status_t cancel_token(std::uint64_t token, std::uint32_t flags, std::int64_t now, Effects &out);
  // Ends a queued job with `cause`, or asks a running one to stop with it.
  // false if the job has already ended or was already asked to stop.
  bool cancel_job(Job *job, lane_status_t cause, std::int64_t now, Effects &out);

  void set_max_concurrent(std::uint32_t n, std::int64_t now, Effects &out);
  void set_preemption(bool enabled, std::int64_t min_runtime_ns, std::int64_t now, Effects &out);
  void set_eta_window(std::uint32_t n) { runtimes_.resize(n); }
  bool set_tenant_weight(std::string_view tenant, std::uint32_t weight) { return queue_->set_weight(tenant, weight); }
  void pause() { paused_ = true; }
  void resume(std::int64_t now, Effects &out);
  void cooldown(std::int64_t until_ns, std::int64_t now, Effects &out);
  void close(lane_close_mode_t mode, std::int64_t now, Effects &out);
  // Expires queue timeouts and cooldowns, retries preemption whose guard has
  // passed, fills free slots.
  void tick(std::int64_t now, Effects &out);
  // When tick has something to do next (kNoDeadline if nothing).
  [[nodiscard]] std::int64_t next_deadline() const;

  [[nodiscard]] Job *find_token(std::uint64_t token) const;
  [[nodiscard]] Job *find_id(std::string_view id) const;
  void stats(std::int64_t now, lane_stats_t &out) const;
  // The same, in two steps, so that the owner's lock covers only copying:
  // stats() with `samples` copies the recent waits and runs and leaves the
  // quantile fields; fill_quantiles() computes them from the copies.
  struct Samples {
    std::vector<std::int64_t> waits, runs;
  };
  void stats(std::int64_t now, lane_stats_t &out, Samples *samples) const;
  static void fill_quantiles(lane_stats_t &out, Samples &samples);
  [[nodiscard]] std::uint32_t running() const { return static_cast<std::uint32_t>(running_.size()); }
  [[nodiscard]] std::size_t queued() const { return queue_->size() + preemptors_.size(); }
  [[nodiscard]] bool closed() const { return closed_; }
  // The latest time any operation has seen.
  [[nodiscard]] std::int64_t current_time() const { return now_; }
  [[nodiscard]] const Config &config() const { return cfg_; }
  [[nodiscard]] const Queue &queue() const { return *queue_; }

 private:
  void advance(std::int64_t now, Effects &out);
  [[nodiscard]] bool cooling() const { return cooldown_until_ != 0 && now_ < cooldown_until_; }
  [[nodiscard]] bool can_dispatch() const {
    return !paused_ && !cooling() && running_.size() < cfg_.max_concurrent;
  }
  [[nodiscard]] std::int64_t runtime_estimate() const;
  [[nodiscard]] std::int64_t eta_for(std::size_t position) const;
  [[nodiscard]] Job *find_victim(std::int32_t priority) const;
  void accept(Job *job);
  void dispatch(Job *job, Effects &out);
  void preempt(Job *victim, Job *preemptor, Effects &out);
  void preempt_for_head(Effects &out);
  void fill(Effects &out);
  void unqueue(Job *job);
  void end(Job *job, lane_status_t status, Effects &out);
  bool stop(Job *job, lane_status_t cause, Effects &out);
  lane_status_t cancel_found(Job *job, std::uint32_t flags, Effects &out);

  Config cfg_;
  std::unique_ptr<Queue> queue_;
  JobList preemptors_;  // strict cap: waiting for their victims' slots, ahead of the queue
  JobList running_;
  std::uint32_t preemptible_running_ = 0;
  JobIndex index_;  // live jobs by token and by id
  // Deadlines, earliest first; equal deadlines in acceptance order.
  struct ByDeadline {
    bool operator()(const std::pair<std::int64_t, Job *> &a, const std::pair<std::int64_t, Job *> &b) const {
      return a.first != b.first ? a.first < b.first : a.second->seq < b.second->seq;
    }
  };
  std::set<std::pair<std::int64_t, Job *>, ByDeadline> timeouts_;  // queue timeouts: (deadline, job)
  std::set<std::pair<std::int64_t, Job *>, ByDeadline> stop_at_;   // outcome timeouts: (deadline, job)

  std::int64_t now_ = 0;
  std::uint64_t next_seq_ = 0;
  bool paused_ = false;
  bool closed_ = false;
  bool cancelling_ = false;  // closed with LANE_CLOSE_CANCEL
  std::int64_t cooldown_until_ = 0;

  RuntimeWindow runtimes_;
  ThroughputWindow throughput_;
  SampleRing waits_, runs_;
  std::uint64_t submitted_ = 0, completed_ = 0, failed_ = 0, cancelled_ = 0, preempted_ = 0, timed_out_ = 0,
                closed_count_ = 0, refused_ = 0, preemptions_ = 0;
};

}  // namespace lane::core

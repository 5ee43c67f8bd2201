// The worker threads that run callback jobs, shared by every lane.
//
// Wake-ups are the cost that matters for short jobs, threads for long ones:
// - a posted job wakes a sleeping worker only when no worker is already
//   awake and looking for work ("searching"); a worker that finishes a job
//   takes the next queued one before it sleeps;
// - up to kMinThreads (at least the CPU count) workers are started as soon
//   as work waits with every worker busy;
// - beyond that, a job never waits for a thread while other jobs block: a
//   monitor thread, awake only while work waits with every worker busy,
//   starts more workers when no queued job was taken for kStallTick (jobs
//   may block for seconds: LLM calls, tool runs);
// - a thread idle for kIdleRetire leaves.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>

struct lane_ctx_s;

namespace lane::exec {

class Pool {
 public:
  static constexpr std::chrono::seconds kIdleRetire{5};
  static constexpr std::chrono::microseconds kStallTick{1000};
  static constexpr std::chrono::microseconds kSpin{20};

  static Pool &instance();
  void post(lane_ctx_s *job);
  // A worker that finished a job and got `next` handed over by its lane:
  // while other jobs wait here, `next` queues behind them and the oldest
  // waiting job is returned instead, so a lane that keeps its worker busy
  // cannot starve jobs posted by other lanes (or by its own free slots).
  lane_ctx_s *rotate(lane_ctx_s *next);

 private:
  // What to do after unlocking: threads to start (already counted in
  // threads_ and searching_), and whether the monitor thread must start.
  struct Todo {
    std::size_t spawn = 0;
    bool start_monitor = false;
  };

  // The queued jobs, oldest first, linked through lane_ctx_s::pool_next: a
  // post never allocates, so a job the lane has dispatched cannot be lost to
  // an out-of-memory failure on its way to a thread.
  class Tasks {
   public:
    void push_back(lane_ctx_s *job);
    lane_ctx_s *pop_front();
    [[nodiscard]] bool empty() const { return n_ == 0; }
    [[nodiscard]] std::size_t size() const { return n_; }

   private:
    lane_ctx_s *head_ = nullptr;
    lane_ctx_s *tail_ = nullptr;
    std::size_t n_ = 0;
  };

  Pool();
  void worker();
  void spin_for_work();
  void monitor();
  // Called under mu_ whenever a job is queued or taken: makes sure a queued
  // job has someone coming for it.
  Todo ensure_progress_locked();
  void carry_out(const Todo &todo);
  void start_threads(std::size_t n);

  std::mutex mu_;
  std::condition_variable cv_;  // sleeping workers
  Tasks tasks_;
  std::atomic<std::size_t> queued_{0};  // tasks_.size(), for rotate's lock-free look
  std::size_t min_threads_;
  std::size_t threads_ = 0;    // workers alive
  std::size_t searching_ = 0;  // awake and not running a job (or woken and about to be)
  std::size_t idle_ = 0;       // sleeping in cv_
  std::size_t wakes_ = 0;      // notifications sent and not yet consumed by a sleeper
  std::uint64_t taken_ = 0;    // jobs taken off tasks_, ever: the monitor's progress mark

  std::condition_variable monitor_cv_;
  bool spinning_ = false;      // one searching worker spins before it sleeps
  bool monitor_started_ = false;
  bool monitor_armed_ = false;
};

}  // namespace lane::exec

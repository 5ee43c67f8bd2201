// The worker threads that run callback jobs, shared by every lane. A job
// never waits for a thread: the pool grows with the number of jobs running
// at once, and a thread idle for kIdleRetire leaves.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>

struct lane_ctx;

namespace lane::exec {

class Pool {
 public:
  static constexpr std::chrono::seconds kIdleRetire{5};

  static Pool &instance();
  void post(lane_ctx *job);

 private:
  void worker();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<lane_ctx *> tasks_;
  std::size_t idle_ = 0;
  std::size_t threads_ = 0;
};

}  // namespace lane::exec

#include "pool.hpp"

#include <thread>

#include "lane.hpp"

namespace lane::exec {

Pool &Pool::instance() {
  // Never destroyed: detached workers may outlive static destruction.
  static Pool *pool = new Pool();
  return *pool;
}

void Pool::post(lane_ctx *job) {
  bool spawn = false;
  {
    std::lock_guard lk(mu_);
    tasks_.push_back(job);
    if (tasks_.size() > idle_) {
      spawn = true;
      ++threads_;
    } else {
      cv_.notify_one();
    }
  }
  if (!spawn) return;
  try {
    std::thread(&Pool::worker, this).detach();
  } catch (...) {
    // No new thread now: the task stays queued for the next free worker, or,
    // with no worker at all, runs here rather than never.
    lane_ctx *orphan = nullptr;
    {
      std::lock_guard lk(mu_);
      --threads_;
      if (threads_ == 0 && !tasks_.empty()) {
        orphan = tasks_.front();
        tasks_.pop_front();
      }
    }
    if (orphan) run_chain(orphan);
  }
}

void Pool::worker() {
  std::unique_lock lk(mu_);
  for (;;) {
    if (!tasks_.empty()) {
      lane_ctx *job = tasks_.front();
      tasks_.pop_front();
      lk.unlock();
      run_chain(job);
      lk.lock();
      continue;
    }
    ++idle_;
    bool got = cv_.wait_for(lk, kIdleRetire, [this] { return !tasks_.empty(); });
    --idle_;
    if (!got) {
      --threads_;
      return;
    }
  }
}

}  // namespace lane::exec

#include "pool.hpp"

#include <algorithm>
#include <thread>

#include "lane.hpp"

namespace lane::exec {

void Pool::Tasks::push_back(lane_ctx_s *job) {
  job->pool_next = nullptr;
  if (tail_) {
    tail_->pool_next = job;
  } else {
    head_ = job;
  }
  tail_ = job;
  ++n_;
}

lane_ctx_s *Pool::Tasks::pop_front() {
  lane_ctx_s *job = head_;
  head_ = job->pool_next;
  if (!head_) tail_ = nullptr;
  job->pool_next = nullptr;
  --n_;
  return job;
}

// Why no queued job is ever stranded: every change that can leave a job in
// tasks_ with nobody searching (a post, a worker taking a job while more
// wait, a failed thread start) runs ensure_progress_locked under mu_, which
// wakes a sleeper, starts a worker, or arms the monitor. A searching worker
// looks at tasks_ under mu_ before it sleeps, so it cannot miss a job posted
// while it was searching. The monitor stays armed while jobs wait with
// nobody searching, and every kStallTick either sees a job taken (the busy
// workers are making progress) or starts a worker for every waiting job.

Pool &Pool::instance() {
  // Never destroyed: detached workers may outlive static destruction.
  static Pool *pool = new Pool();
  return *pool;
}

Pool::Pool() : min_threads_(std::max<std::size_t>(2, std::thread::hardware_concurrency())) {}

Pool::Todo Pool::ensure_progress_locked() {
  Todo todo;
  if (tasks_.empty() || searching_ > 0) return todo;
  if (idle_ > wakes_) {
    ++wakes_;
    ++searching_;
    cv_.notify_one();
    return todo;
  }
  if (threads_ < min_threads_) {
    ++threads_;
    ++searching_;
    todo.spawn = 1;
    return todo;
  }
  if (!monitor_armed_) {
    monitor_armed_ = true;
    if (monitor_started_) {
      monitor_cv_.notify_one();
    } else {
      monitor_started_ = true;
      todo.start_monitor = true;
    }
  }
  return todo;
}

void Pool::carry_out(const Todo &todo) {
  if (todo.start_monitor) {
    try {
      std::thread(&Pool::monitor, this).detach();
    } catch (...) {
      // The next job that waits with every worker busy tries again; until
      // then the busy workers take it when they are done.
      std::lock_guard lk(mu_);
      monitor_started_ = false;
      monitor_armed_ = false;
    }
  }
  if (todo.spawn > 0) start_threads(todo.spawn);
}

// n threads are already counted in threads_ and searching_.
void Pool::start_threads(std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    try {
      std::thread(&Pool::worker, this).detach();
    } catch (...) {
      // No new thread now: the job stays queued for the next free worker
      // (the monitor retries), or, with no worker at all, runs here rather
      // than never.
      lane_ctx_s *orphan = nullptr;
      Todo todo;
      {
        std::lock_guard lk(mu_);
        threads_ -= n - i;
        searching_ -= n - i;
        if (threads_ == 0 && !tasks_.empty()) {
          orphan = tasks_.pop_front();
          queued_.store(tasks_.size(), std::memory_order_relaxed);
          ++taken_;
        } else if (!tasks_.empty() && searching_ == 0 && idle_ <= wakes_ && !monitor_armed_) {
          monitor_armed_ = true;
          if (monitor_started_) {
            monitor_cv_.notify_one();
          } else {
            monitor_started_ = true;
            todo.start_monitor = true;
          }
        }
      }
      carry_out(todo);
      if (orphan) run_chain(orphan);
      return;
    }
  }
}

void Pool::post(lane_ctx_s *job) {
  Todo todo;
  {
    std::lock_guard lk(mu_);
    tasks_.push_back(job);
    queued_.store(tasks_.size(), std::memory_order_relaxed);
    todo = ensure_progress_locked();
  }
  carry_out(todo);
}

lane_ctx_s *Pool::rotate(lane_ctx_s *next) {
  if (queued_.load(std::memory_order_relaxed) == 0) return next;
  std::lock_guard lk(mu_);
  if (tasks_.empty()) return next;
  tasks_.push_back(next);
  lane_ctx_s *job = tasks_.pop_front();
  ++taken_;
  return job;
}

void Pool::spin_for_work() {
  const auto until = std::chrono::steady_clock::now() + kSpin;
  for (int i = 0;; ++i) {
    if (queued_.load(std::memory_order_relaxed) > 0) return;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    if ((i & 63) == 63) {
      if (std::chrono::steady_clock::now() >= until) return;
      std::this_thread::yield();  // the poster may need this CPU
    }
  }
}

void Pool::worker() {
  std::unique_lock lk(mu_);
  // Whoever started this thread counted it as searching.
  for (;;) {
    if (!tasks_.empty()) {
      lane_ctx_s *job = tasks_.pop_front();
      queued_.store(tasks_.size(), std::memory_order_relaxed);
      ++taken_;
      --searching_;
      Todo todo = ensure_progress_locked();  // more waiting: someone else comes for it
      lk.unlock();
      carry_out(todo);
      run_chain(job);
      lk.lock();
      ++searching_;
      continue;
    }
    if (!spinning_) {
      // One worker at a time spins a moment before it sleeps, still counted
      // as searching, so that a job posted meanwhile costs no wake-up (a
      // futex wake and two context switches are most of a short job's cost).
      spinning_ = true;
      lk.unlock();
      spin_for_work();
      lk.lock();
      spinning_ = false;
      if (!tasks_.empty()) continue;
    }
    --searching_;
    ++idle_;
    const bool woken = cv_.wait_for(lk, kIdleRetire, [this] { return wakes_ > 0; });
    --idle_;
    if (!woken) {
      --threads_;
      return;
    }
    --wakes_;  // the waker counted this thread as searching
  }
}

void Pool::monitor() {
  std::unique_lock lk(mu_);
  for (;;) {
    monitor_cv_.wait(lk, [this] { return monitor_armed_; });
    const std::uint64_t mark = taken_;
    const auto until = std::chrono::steady_clock::now() + kStallTick;
    monitor_cv_.wait_until(lk, until, [] { return false; });
    if (tasks_.empty() || searching_ > 0) {
      // Someone is coming for what waits; whoever leaves a job waiting with
      // nobody searching arms the monitor again.
      monitor_armed_ = false;
      continue;
    }
    if (taken_ != mark) continue;  // the busy workers are making progress
    // Stalled: every worker has been inside a job for a whole tick (they
    // block: I/O, LLM calls). One more thread for every waiting job.
    const std::size_t n = tasks_.size();
    threads_ += n;
    searching_ += n;
    lk.unlock();
    start_threads(n);
    lk.lock();
  }
}

}  // namespace lane::exec

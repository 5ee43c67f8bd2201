#include "baselines.hpp"

#include "common.hpp"

namespace bench {

NaivePool::NaivePool(int workers) {
  for (int i = 0; i < workers; ++i) threads_.emplace_back(&NaivePool::worker, this);
}

NaivePool::~NaivePool() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto &t : threads_) t.join();
}

void NaivePool::submit(Fn fn, void *arg) {
  bool wake = false;
  {
    std::lock_guard lk(mu_);
    tasks_.push_back({fn, arg});
    ++pending_;
    // A wake only for a worker that sleeps: busy workers find the task
    // when they come back for the next one (no futex call per task).
    wake = sleeping_ > 0;
  }
  if (wake) cv_.notify_one();
}

void NaivePool::wait_idle() {
  std::unique_lock lk(mu_);
  idle_waiting_ = true;
  idle_cv_.wait(lk, [this] { return pending_ == 0; });
  idle_waiting_ = false;
}

void NaivePool::worker() {
  std::unique_lock lk(mu_);
  for (;;) {
    while (!stop_ && tasks_.empty()) {
      ++sleeping_;
      cv_.wait(lk);
      --sleeping_;
    }
    if (tasks_.empty()) return;
    Task t = tasks_.front();
    tasks_.pop_front();
    lk.unlock();
    t.fn(t.arg);
    lk.lock();
    if (--pending_ == 0 && idle_waiting_) idle_cv_.notify_all();
  }
}

std::vector<std::int64_t> ping_pong(int n) {
  std::mutex mu;
  std::condition_variable cv;
  int turn = 0;  // whose move: 0 or 1
  int moves = 0;
  std::int64_t sent_at = 0;
  std::vector<std::int64_t> lat;
  lat.reserve(static_cast<std::size_t>(n));
  auto player = [&](int me) {
    std::unique_lock lk(mu);
    for (;;) {
      cv.wait(lk, [&] { return turn == me || moves >= n; });
      if (moves >= n) return;
      if (sent_at != 0) lat.push_back(now_ns() - sent_at);
      ++moves;
      sent_at = now_ns();
      turn = 1 - me;
      lk.unlock();
      cv.notify_one();
      lk.lock();
    }
  };
  std::thread other(player, 1);
  player(0);
  {
    std::lock_guard lk(mu);
    moves = n;
  }
  cv.notify_all();
  other.join();
  return lat;
}

}  // namespace bench

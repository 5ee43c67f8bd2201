#include "timer.hpp"

#include <chrono>
#include <thread>

#include "core/saturate.hpp"
#include "exec/clock.hpp"
#include "session.hpp"

namespace lane::session {

namespace {
constexpr std::int64_t kInjectedClockPollNs = 5'000'000;
}

Timer &Timer::instance() {
  // Never destroyed: the detached thread may outlive static destruction.
  static Timer *t = new Timer();
  return *t;
}

void Timer::arm(lane_session *s, std::int64_t at_ns, bool injected_clock) {
  const std::int64_t due = injected_clock ? exec::real_now_ns() + kInjectedClockPollNs : at_ns;
  std::lock_guard lk(mu_);
  if (auto it = where_.find(s); it != where_.end()) {
    if (it->second->first == due) return;
    due_.erase(it->second);
    where_.erase(it);
  }
  const auto pos = due_.emplace(due, s);
  where_.emplace(s, pos);
  if (!started_) {
    started_ = true;
    std::thread(&Timer::main, this).detach();
  } else if (pos == due_.begin()) {
    cv_.notify_all();
  }
}

void Timer::disarm(lane_session *s) {
  std::unique_lock lk(mu_);
  cv_.wait(lk, [&] { return firing_ != s; });
  if (auto it = where_.find(s); it != where_.end()) {
    due_.erase(it->second);
    where_.erase(it);
  }
}

void Timer::main() {
  std::unique_lock lk(mu_);
  for (;;) {
    if (due_.empty()) {
      cv_.wait(lk);
      continue;
    }
    const auto first = due_.begin();
    const std::int64_t now = exec::real_now_ns();
    if (first->first > now) {
      cv_.wait_for(lk, std::chrono::nanoseconds(std::min(core::sat_sub(first->first, now), std::int64_t{3600} * 1'000'000'000)));
      continue;
    }
    lane_session *s = first->second;
    where_.erase(s);
    due_.erase(first);
    firing_ = s;
    lk.unlock();
    s->on_timer();  // may arm again
    lk.lock();
    firing_ = nullptr;
    cv_.notify_all();
  }
}

}  // namespace lane::session

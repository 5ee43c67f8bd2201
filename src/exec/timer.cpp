#include "timer.hpp"

#include <algorithm>
#include <chrono>

#include "clock.hpp"
#include "core/saturate.hpp"

namespace lane::exec {

namespace {
constexpr std::int64_t kInjectedClockPollNs = 5'000'000;
constexpr std::int64_t kLongestWaitNs = std::int64_t{3600} * 1'000'000'000;
}  // namespace

Timer &Timer::instance() {
  // Never destroyed: the detached thread may outlive static destruction.
  static Timer *t = new Timer();
  return *t;
}

void Timer::arm(void *client, FireFn fire, std::int64_t at_ns, bool injected_clock) {
  const std::int64_t due = injected_clock ? core::sat_add(real_now_ns(), kInjectedClockPollNs) : at_ns;
  std::lock_guard lk(mu_);
  if (auto it = where_.find(client); it != where_.end()) {
    if (it->second->first == due) return;
    due_.erase(it->second);
    where_.erase(it);
  }
  const auto pos = due_.emplace(due, Entry{client, fire});
  where_.emplace(client, pos);
  if (!started_) {
    started_ = true;
    std::thread t(&Timer::main, this);
    thread_id_ = t.get_id();
    t.detach();
  } else if (pos == due_.begin()) {
    cv_.notify_all();
  }
}

void Timer::disarm(void *client) {
  std::unique_lock lk(mu_);
  if (std::this_thread::get_id() != thread_id_) cv_.wait(lk, [&] { return firing_ != client; });
  if (auto it = where_.find(client); it != where_.end()) {
    due_.erase(it->second);
    where_.erase(it);
  }
}

int Timer::threads_started() {
  std::lock_guard lk(mu_);
  return started_ ? 1 : 0;
}

void Timer::main() {
  std::unique_lock lk(mu_);
  for (;;) {
    if (due_.empty()) {
      cv_.wait(lk);
      continue;
    }
    const auto first = due_.begin();
    const std::int64_t now = real_now_ns();
    if (first->first > now) {
      cv_.wait_for(lk, std::chrono::nanoseconds(std::min(core::sat_sub(first->first, now), kLongestWaitNs)));
      continue;
    }
    const Entry e = first->second;
    where_.erase(e.client);
    due_.erase(first);
    firing_ = e.client;
    lk.unlock();
    e.fire(e.client);  // may arm again
    lk.lock();
    firing_ = nullptr;
    cv_.notify_all();
  }
}

}  // namespace lane::exec

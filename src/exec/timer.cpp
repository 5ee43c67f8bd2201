#include "timer.hpp"

#include <algorithm>
#include <chrono>

#include "clock.hpp"
#include "core/saturate.hpp"

namespace lane::exec {

namespace {
constexpr std::int64_t kInjectedClockPollNs = 5'000'000;
// The longest the thread sleeps, armed or not. On Windows a second: a guard
// against a lost condition-variable wakeup, which would otherwise leave a
// rate-limited queue waiting for the next arm (the stress test saw one such
// stall, once, under wine). Linux's futex-based condition variables need no
// guard: an idle process wakes once an hour there.
#ifdef _WIN32
constexpr std::int64_t kLongestWaitNs = 1'000'000'000;
#else
constexpr std::int64_t kLongestWaitNs = std::int64_t{3600} * 1'000'000'000;
#endif
}  // namespace

Timer &Timer::instance() {
  // Never destroyed: the detached thread may outlive static destruction.
  static Timer *t = new Timer();
  return *t;
}

void Timer::start_locked() {
  if (started_) return;
  std::thread t(&Timer::main, this);
  started_ = true;
  thread_id_ = t.get_id();
  t.detach();
}

// A detached node for client's entry (allocates: may throw).
Timer::Due::node_type Timer::spare_node(void *client, FireFn fire) {
  Due tmp;
  tmp.emplace(0, Entry{client, fire});
  return tmp.extract(tmp.begin());
}

void Timer::reserve(void *client) {
  std::lock_guard lk(mu_);
  start_locked();
  auto [it, fresh] = where_.try_emplace(client);
  Slot &s = it->second;
  if (s.spare.empty() && !s.armed) {
    try {
      s.spare = spare_node(client, nullptr);
    } catch (...) {
      if (fresh) where_.erase(it);
      throw;
    }
  }
  s.reserved = true;
}

// Takes a slot's entry out of due_, keeping the node when the slot stays.
void Timer::unlink_locked(std::unordered_map<void *, Slot>::iterator it) {
  Slot &s = it->second;
  if (s.armed) {
    s.spare = due_.extract(s.at);
    s.armed = false;
  }
  if (!s.reserved) where_.erase(it);
}

void Timer::forget(void *client) {
  disarm(client);
  std::lock_guard lk(mu_);
  if (auto it = where_.find(client); it != where_.end()) where_.erase(it);
}

void Timer::arm(void *client, FireFn fire, std::int64_t at_ns, bool injected_clock) {
  const std::int64_t due = injected_clock ? core::sat_add(real_now_ns(), kInjectedClockPollNs) : at_ns;
  std::lock_guard lk(mu_);
  auto it = where_.find(client);
  if (it == where_.end()) it = where_.try_emplace(client).first;  // not reserved: may throw
  Slot &s = it->second;
  if (s.armed) {
    if (s.at->first == due) return;
    s.spare = due_.extract(s.at);
    s.armed = false;
  }
  if (s.spare.empty()) {
    try {
      s.spare = spare_node(client, fire);
      start_locked();
    } catch (...) {
      if (!s.reserved) where_.erase(it);
      throw;
    }
  }
  s.spare.key() = due;
  s.spare.mapped() = Entry{client, fire};
  s.at = due_.insert(std::move(s.spare));
  s.armed = true;
  if (s.at == due_.begin()) cv_.notify_all();
}

void Timer::disarm(void *client) {
  std::unique_lock lk(mu_);
  if (std::this_thread::get_id() != thread_id_) cv_.wait(lk, [&] { return firing_ != client; });
  if (auto it = where_.find(client); it != where_.end()) unlink_locked(it);
}

int Timer::threads_started() {
  std::lock_guard lk(mu_);
  return started_ ? 1 : 0;
}

void Timer::main() {
  std::unique_lock lk(mu_);
  for (;;) {
    if (due_.empty()) {
      cv_.wait_for(lk, std::chrono::nanoseconds(kLongestWaitNs));
      continue;
    }
    const auto first = due_.begin();
    const std::int64_t now = real_now_ns();
    if (first->first > now) {
      cv_.wait_for(lk, std::chrono::nanoseconds(std::min(core::sat_sub(first->first, now), kLongestWaitNs)));
      continue;
    }
    const Entry e = first->second;
    unlink_locked(where_.find(e.client));
    firing_ = e.client;
    lk.unlock();
    e.fire(e.client);  // may arm again
    lk.lock();
    firing_ = nullptr;
    cv_.notify_all();
  }
}

}  // namespace lane::exec

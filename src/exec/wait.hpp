// Waiting on a condition variable for a host-given number of nanoseconds.
// std::condition_variable::wait_for adds the duration to the clock's now and
// overflows for huge values (it then returns at once); here a timeout past
// the end of the steady clock waits forever, and long waits go in steps.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "core/saturate.hpp"

namespace lane::exec {

// timeout_ns < 0: wait until pred(). Otherwise up to timeout_ns; returns
// pred() at the end either way.
template <class Pred>
bool wait_ns(std::condition_variable &cv, std::unique_lock<std::mutex> &lk, std::int64_t timeout_ns, Pred pred) {
  using clock = std::chrono::steady_clock;
  if (timeout_ns < 0) {
    cv.wait(lk, pred);
    return true;
  }
  const std::int64_t start = std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch()).count();
  const std::int64_t deadline = core::sat_add(start, timeout_ns);
  constexpr std::int64_t kStep = std::int64_t{3600} * 1'000'000'000;  // one hour
  while (!pred()) {
    const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch()).count();
    if (deadline != INT64_MAX && now >= deadline) return false;
    const std::int64_t left = deadline == INT64_MAX ? kStep : std::min(deadline - now, kStep);
    cv.wait_for(lk, std::chrono::nanoseconds(left));
  }
  return true;
}

}  // namespace lane::exec

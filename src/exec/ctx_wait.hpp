// Where lane_ctx_wait sleeps: a fixed set of mutex + condition variable
// stripes shared by every job context (picked by the context's address),
// instead of a pair in each context (88 bytes per queued job). A cancel
// wakes every waiter of its stripe; each re-checks its own context's cause,
// so sharing costs at most a spurious wake-up.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace lane::exec {

struct WaitStripe {
  std::mutex mu;
  std::condition_variable cv;
};

inline WaitStripe &wait_stripe(const void *ctx) {
  // Never destroyed, like the worker pool and the timer: threads that outlive
  // static destruction (the detached timer, workers a host never joined) may
  // still be on a stripe at exit. On Windows ExitProcess ends them first, and
  // destroying a condition variable that a killed thread held spun forever.
  static WaitStripe *const stripes = new WaitStripe[64];
  // Contexts are heap objects of a few hundred bytes: skip the low bits.
  const auto a = reinterpret_cast<std::uintptr_t>(ctx);
  return stripes[(a >> 8 ^ a >> 14) % 64];
}

}  // namespace lane::exec

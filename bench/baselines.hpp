// The floors liblane is measured against, in the same run: a naive thread
// pool (one mutex, one condition variable, a std::deque of function pointer
// + argument, N workers) and a two-thread hand-off ping-pong over a mutex and
// a condition variable.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace bench {

class NaivePool {
 public:
  using Fn = void (*)(void *);
  explicit NaivePool(int workers);
  ~NaivePool();
  NaivePool(const NaivePool &) = delete;
  NaivePool &operator=(const NaivePool &) = delete;

  void submit(Fn fn, void *arg);
  void wait_idle();  // every submitted task has run

 private:
  struct Task {
    Fn fn;
    void *arg;
  };
  void worker();

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<Task> tasks_;
  std::uint64_t pending_ = 0;  // submitted, not yet finished
  int sleeping_ = 0;           // workers waiting on cv_
  bool idle_waiting_ = false;  // someone is in wait_idle()
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

// One-way wake-up latency between two threads: each hand-off stores a
// timestamp, flips a turn flag under the mutex and notifies; the other
// thread reads the clock as soon as it wakes. Returns `n` latencies (ns).
std::vector<std::int64_t> ping_pong(int n);

}  // namespace bench

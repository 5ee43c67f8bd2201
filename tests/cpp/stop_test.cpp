// Context::stop_token(): a std::stop_token view of a job's cancellation, and
// job bodies that take a stop_token or nothing.
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "lane/lane.hpp"

using namespace std::chrono_literals;

TEST_CASE("a job taking std::stop_token is stopped by cancel, and its outcome says CANCELLED") {
  auto l = lane::Lane::create("stop-cancel");
  REQUIRE(l.has_value());
  std::atomic<bool> started{false}, saw_stop{false};
  std::mutex mu;
  std::condition_variable_any cv;
  lane::Outcome got;
  std::atomic<bool> done{false};
  auto t = l->submit({.id = "long", .on_done = [&](const lane::Outcome &o) {
                        got = o;
                        done = true;
                      }},
                     [&](std::stop_token st) {
                       started = true;
                       std::unique_lock lk(mu);
                       saw_stop = cv.wait_for(lk, st, 10s, [] { return false; }) == false && st.stop_requested();
                     });
  REQUIRE(t.has_value());
  while (!started) std::this_thread::sleep_for(1ms);
  REQUIRE(l->cancel("long", LANE_CANCEL_RUNNING).has_value());
  for (int i = 0; i < 10000 && !done; ++i) std::this_thread::sleep_for(1ms);  // on_done may trail wait_idle
  REQUIRE(done);
  CHECK(saw_stop);
  CHECK(got.status == LANE_ERR_CANCELLED);
}

TEST_CASE("a stop_callback fires when a higher-priority job preempts the job") {
  auto gpu = lane::Lane::create("stop-preempt", {.max_concurrent = 1, .policy = LANE_POLICY_FAIR_SHARE});
  REQUIRE(gpu.has_value());
  REQUIRE(gpu->set_preemption(true, 0ns).has_value());
  std::atomic<bool> running{false}, fired{false};
  std::atomic<int> cause{LANE_OK};
  auto low = gpu->submit({.id = "train", .priority = 0, .flags = LANE_JOB_PREEMPTIBLE}, [&](lane::Context &ctx) {
    std::mutex mu;
    std::condition_variable cv;
    std::stop_callback on_stop(ctx.stop_token(), [&] {
      std::lock_guard lk(mu);
      fired = true;
      cv.notify_all();
    });
    running = true;
    std::unique_lock lk(mu);
    cv.wait_for(lk, 10s, [&] { return fired.load(); });
    cause = ctx.cause();
  });
  REQUIRE(low.has_value());
  while (!running) std::this_thread::sleep_for(1ms);
  auto high = gpu->submit_wait({.id = "infer", .priority = 10}, [] { return 0; });
  REQUIRE(high.has_value());
  CHECK(high->ok());
  REQUIRE(gpu->wait_idle(10s).has_value());
  CHECK(fired);
  CHECK(cause == LANE_ERR_PREEMPTED);
  CHECK(gpu->stats()->preempted == 1);
}

TEST_CASE("a stop_token asked for after the cancel is already stopped; one never cancelled stays unstopped") {
  auto l = lane::Lane::create("stop-late");
  REQUIRE(l.has_value());
  std::atomic<bool> started{false}, go{false};
  bool late_stopped = false;
  auto t = l->submit({.id = "j"}, [&](lane::Context &ctx) {
    started = true;
    while (!go) std::this_thread::sleep_for(1ms);
    late_stopped = ctx.stop_token().stop_requested();
  });
  REQUIRE(t.has_value());
  while (!started) std::this_thread::sleep_for(1ms);
  REQUIRE(l->cancel("j", LANE_CANCEL_RUNNING).has_value());
  go = true;
  REQUIRE(l->wait_idle(10s).has_value());
  CHECK(late_stopped);

  bool stopped = true;
  auto out = l->submit_wait({.id = "calm"}, [&](lane::Context &ctx) {
    auto st = ctx.stop_token();
    std::this_thread::sleep_for(5ms);  // several watcher passes
    stopped = st.stop_requested();
  });
  REQUIRE(out.has_value());
  CHECK(out->ok());
  CHECK_FALSE(stopped);
}

// Randomized: two threads submit and cancel; a job chosen for cancelling
// waits on its stop_token only (a 10 s limit counts as a failure), the others
// end by themselves and must never see a stop. Each job: one outcome.
TEST_CASE("stress: stop tokens fire for exactly the cancelled jobs") {
  constexpr int kJobs = 300;
  auto l = lane::Lane::create("stop-stress", {.max_concurrent = 4});
  REQUIRE(l.has_value());
  std::mt19937 rng(std::random_device{}());
  std::vector<int> doomed(kJobs);
  for (auto &d : doomed) d = static_cast<int>(rng() % 3 == 0);
  std::vector<std::atomic<int>> outcomes(kJobs), saw_stop(kJobs), timed_out(kJobs);
  std::vector<std::atomic<lane_status_t>> status(kJobs);
  std::atomic<int> submitted{0};
  std::thread submitter([&] {
    for (int i = 0; i < kJobs; ++i) {
      const bool d = doomed[static_cast<std::size_t>(i)] != 0;
      auto t = l->submit({.id = "j" + std::to_string(i),
                          .on_done =
                              [&, i](const lane::Outcome &o) {
                                status[static_cast<std::size_t>(i)] = o.status;
                                outcomes[static_cast<std::size_t>(i)]++;
                              }},
                         [&, i, d](std::stop_token st) {
                           std::mutex mu;
                           std::condition_variable_any cv;
                           std::unique_lock lk(mu);
                           const auto limit = d ? std::chrono::milliseconds(10000) : std::chrono::milliseconds(i % 3);
                           cv.wait_for(lk, st, limit, [] { return false; });
                           if (st.stop_requested()) saw_stop[static_cast<std::size_t>(i)] = 1;
                           else if (d) timed_out[static_cast<std::size_t>(i)] = 1;
                         });
      REQUIRE(t.has_value());
      submitted = i + 1;
    }
  });
  std::thread canceller([&] {
    std::mt19937 r2(rng());
    for (int i = 0; i < kJobs; ++i) {
      if (!doomed[static_cast<std::size_t>(i)]) continue;
      while (submitted.load() <= i) std::this_thread::yield();
      if (r2() % 2) std::this_thread::sleep_for(std::chrono::microseconds(r2() % 500));
      auto r = l->cancel("j" + std::to_string(i), LANE_CANCEL_QUEUED | LANE_CANCEL_RUNNING);
      CHECK(r.has_value());
    }
  });
  submitter.join();
  canceller.join();
  REQUIRE(l->wait_idle(60s).has_value());
  auto delivered = [&] {
    int n = 0;
    for (const auto &o : outcomes) n += o.load();
    return n;
  };
  for (int i = 0; i < 10000 && delivered() < kJobs; ++i) std::this_thread::sleep_for(1ms);
  for (int i = 0; i < kJobs; ++i) {
    const auto k = static_cast<std::size_t>(i);
    CAPTURE(i);
    CHECK(outcomes[k] == 1);
    CHECK(timed_out[k] == 0);
    if (doomed[k]) {
      CHECK(status[k] == LANE_ERR_CANCELLED);
    } else {
      CHECK(saw_stop[k] == 0);
      CHECK(status[k] == LANE_OK);
    }
  }
}

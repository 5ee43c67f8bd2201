// bench_ops: per-operation costs with Google Benchmark. "Core" benchmarks
// drive src/core's Scheduler alone; the others go through lane.h.
#include <benchmark/benchmark.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "baselines.hpp"
#include "common.hpp"
#include "core/scheduler.hpp"
#include "lane/lane.h"

namespace {

using bench::numbered;

std::int32_t noop_run(lane_ctx_t *, void *) { return 0; }
std::int32_t hold_slot(lane_ctx_t *ctx, void *) {
  lane_ctx_wait(ctx, -1);
  return 0;
}

constexpr int kBatch = 1024;

std::vector<std::string> ids(const char *prefix, int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back(numbered(prefix, static_cast<std::size_t>(i)));
  return v;
}

// A cap-1 lane whose slot is held, with `depth` queued jobs.
lane_t *held_lane(lane_policy_t policy, const std::vector<std::string> &fill) {
  lane_options_t o = LANE_OPTIONS_INIT;
  o.policy = policy;
  lane_t *lane = nullptr;
  lane_create("ops", &o, &lane);
  lane_job_t b = LANE_JOB_INIT;
  b.id = "blocker";
  b.run = hold_slot;
  lane_submit(lane, &b, nullptr);
  for (const auto &id : fill) {
    lane_job_t j = LANE_JOB_INIT;
    j.id = id.c_str();
    j.tenant = "t";
    j.run = noop_run;
    lane_submit(lane, &j, nullptr);
  }
  return lane;
}

void submit_id(lane_t *lane, const std::string &id) {
  lane_job_t j = LANE_JOB_INIT;
  j.id = id.c_str();
  j.tenant = "t";
  j.run = noop_run;
  benchmark::DoNotOptimize(lane_submit(lane, &j, nullptr));
}

// W2: submit-and-wait, slot free: the job runs inline on the caller.
void BM_SubmitWait(benchmark::State &st) {
  lane_t *lane = nullptr;
  lane_create("ops", nullptr, &lane);
  lane_job_t j = LANE_JOB_INIT;
  j.id = "w";
  j.run = noop_run;
  for (auto _ : st) benchmark::DoNotOptimize(lane_submit_wait(lane, &j, -1, nullptr));
  lane_destroy(lane);
}
BENCHMARK(BM_SubmitWait);

// A queued lane_submit at depth range(1); the batch is cancelled untimed.
void BM_SubmitQueued(benchmark::State &st) {
  const auto policy = static_cast<lane_policy_t>(st.range(0));
  lane_t *lane = held_lane(policy, ids("f", static_cast<int>(st.range(1))));
  auto batch = ids("b", kBatch);
  int k = 0;
  for (auto _ : st) {
    submit_id(lane, batch[static_cast<std::size_t>(k++)]);
    if (k == kBatch) {
      st.PauseTiming();
      for (const auto &id : batch) lane_cancel(lane, id.c_str(), LANE_CANCEL_QUEUED);
      k = 0;
      st.ResumeTiming();
    }
  }
  lane_destroy(lane);
}
BENCHMARK(BM_SubmitQueued)->ArgNames({"policy", "depth"})->Args({1, 1000})->Args({2, 1000})->Args({1, 100000})->Args({2, 100000});

// lane_cancel of a queued job at depth range(1); the batch is resubmitted untimed.
void BM_CancelQueued(benchmark::State &st) {
  const auto policy = static_cast<lane_policy_t>(st.range(0));
  lane_t *lane = held_lane(policy, ids("f", static_cast<int>(st.range(1))));
  auto batch = ids("b", kBatch);
  for (const auto &id : batch) submit_id(lane, id);
  int k = 0;
  for (auto _ : st) {
    benchmark::DoNotOptimize(lane_cancel(lane, batch[static_cast<std::size_t>(k++)].c_str(), LANE_CANCEL_QUEUED));
    if (k == kBatch) {
      st.PauseTiming();
      for (const auto &id : batch) submit_id(lane, id);
      k = 0;
      st.ResumeTiming();
    }
  }
  lane_destroy(lane);
}
BENCHMARK(BM_CancelQueued)->ArgNames({"policy", "depth"})->Args({1, 1000})->Args({2, 1000})->Args({1, 100000})->Args({2, 100000});

// lane_stats on a lane with empty windows (range 0) or full sample rings (1).
void BM_Stats(benchmark::State &st) {
  lane_t *lane = nullptr;
  lane_create("ops", nullptr, &lane);
  if (st.range(0)) {
    lane_job_t j = LANE_JOB_INIT;
    j.id = "s";
    j.run = noop_run;
    for (int i = 0; i < 1100; ++i) lane_submit_wait(lane, &j, -1, nullptr);
  }
  lane_stats_t s{};
  s.struct_size = sizeof s;
  for (auto _ : st) benchmark::DoNotOptimize(lane_stats(lane, &s));
  lane_destroy(lane);
}
BENCHMARK(BM_Stats)->ArgName("history")->Arg(0)->Arg(1);

// Core only: a queued submit plus its cancel, on the Scheduler alone.
void BM_CoreSubmitCancel(benchmark::State &st) {
  using namespace lane::core;
  Config cfg;
  cfg.policy = static_cast<lane_policy_t>(st.range(0));
  Scheduler sched(cfg);
  Effects eff;
  std::int64_t now = 1;
  Job blocker;
  blocker.id = "blocker";
  sched.submit(&blocker, "h", now++, eff);
  std::vector<Job> fill(static_cast<std::size_t>(st.range(1)));
  for (std::size_t i = 0; i < fill.size(); ++i) {
    fill[i].id = numbered("f", static_cast<std::size_t>(i));
    eff.clear();
    sched.submit(&fill[i], "t", now++, eff);
  }
  Job j;
  j.id = "x";
  for (auto _ : st) {
    eff.clear();
    j.state = JobState::New;
    sched.submit(&j, "t", now++, eff);
    benchmark::DoNotOptimize(sched.cancel("x", LANE_CANCEL_QUEUED, now++, eff));
  }
}
BENCHMARK(BM_CoreSubmitCancel)->ArgNames({"policy", "depth"})->Args({1, 1000})->Args({2, 1000});

// Baseline: naive pool submit (2 workers drain it).
void noop(void *) {}
void BM_BaselineNaivePoolSubmit(benchmark::State &st) {
  bench::NaivePool pool(2);
  for (auto _ : st) pool.submit(noop, nullptr);
  pool.wait_idle();
}
BENCHMARK(BM_BaselineNaivePoolSubmit);

// Baseline: a two-thread round trip over a mutex + condition variable.
void BM_BaselinePingPongRoundTrip(benchmark::State &st) {
  std::mutex mu;
  std::condition_variable cv;
  std::uint64_t ball = 0;  // odd: with the partner
  bool stop = false;
  std::thread partner([&] {
    std::unique_lock lk(mu);
    for (;;) {
      cv.wait(lk, [&] { return stop || (ball & 1); });
      if (stop) return;
      ++ball;
      cv.notify_all();
    }
  });
  for (auto _ : st) {
    std::unique_lock lk(mu);
    ++ball;
    cv.notify_all();
    cv.wait(lk, [&] { return (ball & 1) == 0; });
  }
  {
    std::lock_guard lk(mu);
    stop = true;
  }
  cv.notify_all();
  partner.join();
}
BENCHMARK(BM_BaselinePingPongRoundTrip);

}  // namespace

BENCHMARK_MAIN();

// W1: N no-op jobs through a lane (callback jobs, and host-run jobs granted
// through a port), cap 2 and 64, from 1 and 8 submitting threads, against the
// naive 2-worker pool fed by the same submitters. End to end, through lane.h.
#include <array>
#include <atomic>
#include <barrier>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "baselines.hpp"
#include "common.hpp"
#include "lane/lane.h"

#if BENCH_HAVE_TBB
#include <oneapi/tbb/task_arena.h>
#endif

namespace bench {

namespace {

using Id = std::string;

std::vector<std::vector<Id>> make_ids(int submitters, int n) {
  std::vector<std::vector<Id>> ids(static_cast<std::size_t>(submitters));
  for (int s = 0; s < submitters; ++s) {
    auto &v = ids[static_cast<std::size_t>(s)];
    v.resize(static_cast<std::size_t>(n / submitters));
    const std::string prefix = numbered("s", static_cast<std::size_t>(s)) + "-";
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = numbered(prefix.c_str(), i);
  }
  return ids;
}

std::int32_t noop_run(lane_ctx_t *, void *) { return 0; }
std::atomic<std::int64_t> g_naive_done{0};
void naive_noop(void *) { g_naive_done.fetch_add(1, std::memory_order_relaxed); }

// Starts `submitters` threads that call submit_one(thread, index) together;
// returns once all have submitted.
template <class F>
void submit_from(int submitters, std::size_t per, F &&submit_one) {
  std::barrier go(submitters);
  std::vector<std::thread> th;
  for (int s = 0; s < submitters; ++s) {
    th.emplace_back([&, s] {
      go.arrive_and_wait();
      for (std::size_t i = 0; i < per; ++i) submit_one(s, i);
    });
  }
  for (auto &t : th) t.join();
}

double lane_callback_rate(int cap, int submitters, const std::vector<std::vector<Id>> &ids) {
  lane_options_t o = LANE_OPTIONS_INIT;
  o.max_concurrent = static_cast<std::uint32_t>(cap);
  lane_t *lane = nullptr;
  if (lane_create("w1", &o, &lane) != LANE_OK) return 0;
  const std::size_t per = ids[0].size();
  const std::int64_t t0 = now_ns();
  submit_from(submitters, per, [&](int s, std::size_t i) {
    lane_job_t j = LANE_JOB_INIT;
    j.id = ids[static_cast<std::size_t>(s)][i].c_str();
    j.run = noop_run;
    if (lane_submit(lane, &j, nullptr) != LANE_OK) std::fprintf(stderr, "w1 submit: %s\n", lane_last_error());
  });
  lane_wait_idle(lane, -1);
  const std::int64_t t1 = now_ns();
  lane_destroy(lane);
  return static_cast<double>(per * static_cast<std::size_t>(submitters)) * 1e9 / static_cast<double>(t1 - t0);
}

double lane_port_rate(int cap, int submitters, const std::vector<std::vector<Id>> &ids) {
  lane_options_t o = LANE_OPTIONS_INIT;
  o.max_concurrent = static_cast<std::uint32_t>(cap);
  lane_t *lane = nullptr;
  lane_port_t *port = nullptr;
  if (lane_create("w1p", &o, &lane) != LANE_OK || lane_port_create(&port) != LANE_OK) return 0;
  const std::size_t per = ids[0].size();
  const std::size_t total = per * static_cast<std::size_t>(submitters);
  // The host: one thread drains the port, "runs" each granted job (a no-op)
  // and finishes it, until every job's DONE has arrived.
  std::thread host([&] {
    std::vector<lane_event_t> ev(64);
    ev[0].struct_size = sizeof(lane_event_t);
    std::size_t done = 0;
    while (done < total) {
      int32_t n = lane_port_poll(port, ev.data(), 64, 100'000'000);
      for (int32_t k = 0; k < n; ++k) {
        if (ev[static_cast<std::size_t>(k)].kind == LANE_EVENT_GRANT) {
          lane_job_finish(lane, ev[static_cast<std::size_t>(k)].job_token, 0);
        } else if (ev[static_cast<std::size_t>(k)].kind == LANE_EVENT_DONE) {
          ++done;
        }
      }
    }
  });
  const std::int64_t t0 = now_ns();
  submit_from(submitters, per, [&](int s, std::size_t i) {
    lane_job_t j = LANE_JOB_INIT;
    j.id = ids[static_cast<std::size_t>(s)][i].c_str();
    j.port = port;
    if (lane_submit(lane, &j, nullptr) != LANE_OK) std::fprintf(stderr, "w1 submit: %s\n", lane_last_error());
  });
  host.join();
  const std::int64_t t1 = now_ns();
  lane_destroy(lane);
  lane_port_destroy(port);
  return static_cast<double>(total) * 1e9 / static_cast<double>(t1 - t0);
}

double naive_rate(int submitters, std::size_t per) {
  NaivePool pool(2);
  g_naive_done = 0;
  const std::int64_t t0 = now_ns();
  submit_from(submitters, per, [&](int, std::size_t) { pool.submit(naive_noop, nullptr); });
  pool.wait_idle();
  const std::int64_t t1 = now_ns();
  return static_cast<double>(per * static_cast<std::size_t>(submitters)) * 1e9 / static_cast<double>(t1 - t0);
}

#if BENCH_HAVE_TBB
// The pool a C++ user would pick: oneTBB's task_arena with 2 worker threads
// (no slot kept for the submitters), each task enqueued fire-and-forget and
// counted; the end is the last task's count.
double tbb_rate(int submitters, std::size_t per) {
  tbb::task_arena arena(2, 0);
  arena.initialize();
  std::atomic<std::size_t> done{0};
  const std::size_t total = per * static_cast<std::size_t>(submitters);
  const std::int64_t t0 = now_ns();
  submit_from(submitters, per, [&](int, std::size_t) {
    arena.enqueue([&done] { done.fetch_add(1, std::memory_order_relaxed); });
  });
  while (done.load(std::memory_order_relaxed) < total) std::this_thread::yield();
  const std::int64_t t1 = now_ns();
  return static_cast<double>(total) * 1e9 / static_cast<double>(t1 - t0);
}
#endif

}  // namespace

double w1_probe(const std::string &kind, int cap, int submitters) {
  auto ids = make_ids(submitters, 200'000);
  if (kind == "naive") return naive_rate(submitters, ids[0].size());
  return kind == "port" ? lane_port_rate(cap, submitters, ids) : lane_callback_rate(cap, submitters, ids);
}

void w1_throughput(const Options &o, Report &r) {
  const int n = o.quick ? 4'000 : 200'000;
  r.section("W1: throughput of no-op jobs (end to end, lane.h)",
            std::to_string(n) + " no-op jobs per run; jobs/s from the first submit to the last outcome; median of " +
                std::to_string(o.runs) +
                " runs. Baseline: a naive mutex + condition-variable pool with a std::deque and 2 workers that "
                "wakes a worker only when one sleeps, fed by the same submitting threads, interleaved with the "
                "lane runs.");
  r.table({"submitters", "naive pool jobs/s", "oneTBB arena jobs/s", "lane cap 2 callback", "lane cap 64 callback",
           "lane cap 2 port", "lane cap 64 port"});
  double worst = 1e9;
  std::string worst_cfg;
  for (int submitters : {1, 8}) {
    auto ids = make_ids(submitters, n);
    const std::size_t per = ids[0].size();
    std::vector<double> naive, tbb, cb2, cb64, p2, p64;
    for (int run = 0; run < o.runs; ++run) {
      naive.push_back(naive_rate(submitters, per));
#if BENCH_HAVE_TBB
      tbb.push_back(tbb_rate(submitters, per));
#endif
      cb2.push_back(lane_callback_rate(2, submitters, ids));
      cb64.push_back(lane_callback_rate(64, submitters, ids));
      p2.push_back(lane_port_rate(2, submitters, ids));
      p64.push_back(lane_port_rate(64, submitters, ids));
    }
    const double nv = median(naive);
    auto cell = [&](const std::vector<double> &v) {
      const double m = median(v);
      return fmt(m) + " (" + fmt_ratio(m / nv) + ")";
    };
    const std::string tbb_cell = tbb.empty() ? "(not built)" : fmt(median(tbb)) + " (" + fmt_ratio(median(tbb) / nv) + ")";
    r.row({std::to_string(submitters), fmt(nv), tbb_cell, cell(cb2), cell(cb64), cell(p2), cell(p64)});
    for (auto [v, name] : {std::pair{&cb2, "cap 2"}, std::pair{&cb64, "cap 64"}}) {
      const double ratio = median(*v) / nv;
      if (ratio < worst) {
        worst = ratio;
        worst_cfg = std::string(name) + ", " + std::to_string(submitters) + " submitter(s)";
      }
    }
  }
  r.text("Ratios in parentheses are against the naive pool with the same submitters in the same run. The "
         "oneTBB column is the pool a C++ user would pick (Debian's libtbb-dev: a task_arena of 2 worker threads, "
         "each job enqueued and counted).");
  r.verdict("W1", "callback jobs >= 0.7x the naive pool's jobs/s", "worst " + fmt_ratio(worst) + " (" + worst_cfg + ")",
            worst >= 0.7);
}

}  // namespace bench

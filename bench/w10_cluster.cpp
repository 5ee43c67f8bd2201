// W10: a lane shared across processes, through Redis on loopback. Needs a
// redis-server: LANE_BENCH_REDIS names it (bench/run.sh starts a private
// one on 127.0.0.1 when redis-server is installed); without it the section
// says so and nothing is measured.
//
// Figures, each against the same lane without a cluster in the same run:
//  - grant latency: one job at a time on a lane of 1 slot; the time from
//    lane_submit to the start of its run (through Redis: one script run to
//    ask, whose answer carries the grant). p50 and p99 over the jobs.
//  - throughput: no-op callback jobs submitted at once to a lane of 4;
//    first submit to last outcome. Every job's slot goes back through Redis.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common.hpp"
#include "lane/lane.h"

namespace bench {

namespace {

struct Start {
  std::atomic<std::int64_t> at{0};
};

std::int32_t mark_start(lane_ctx_t *, void *ud) {
  static_cast<Start *>(ud)->at.store(now_ns(), std::memory_order_relaxed);
  return 0;
}

std::int32_t noop_run(lane_ctx_t *, void *) { return 0; }

lane_t *make_lane(const char *name, std::uint32_t cap, lane_cluster_t *cluster) {
  lane_options_t o = LANE_OPTIONS_INIT;
  o.max_concurrent = cap;
  o.cluster = cluster;
  lane_t *lane = nullptr;
  if (lane_create(name, &o, &lane) != LANE_OK) std::fprintf(stderr, "w10 create: %s\n", lane_last_error());
  return lane;
}

// Submit-to-start latencies (ns) of n jobs, one at a time.
std::vector<std::int64_t> latencies(lane_t *lane, int n) {
  std::vector<std::int64_t> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    Start s;
    const std::string id = numbered("g", static_cast<std::size_t>(i));
    lane_job_t j = LANE_JOB_INIT;
    j.id = id.c_str();
    j.run = mark_start;
    j.user_data = &s;
    const std::int64_t t0 = now_ns();
    if (lane_submit(lane, &j, nullptr) != LANE_OK) {
      std::fprintf(stderr, "w10 submit: %s\n", lane_last_error());
      continue;
    }
    lane_wait_idle(lane, -1);
    out.push_back(s.at.load(std::memory_order_relaxed) - t0);
  }
  return out;
}

double rate(lane_t *lane, int n) {
  std::vector<std::string> ids;
  ids.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) ids.push_back(numbered("r", static_cast<std::size_t>(i)));
  const std::int64_t t0 = now_ns();
  for (int i = 0; i < n; ++i) {
    lane_job_t j = LANE_JOB_INIT;
    j.id = ids[static_cast<std::size_t>(i)].c_str();
    j.run = noop_run;
    if (lane_submit(lane, &j, nullptr) != LANE_OK) std::fprintf(stderr, "w10 submit: %s\n", lane_last_error());
  }
  lane_wait_idle(lane, -1);
  return static_cast<double>(n) * 1e9 / static_cast<double>(now_ns() - t0);
}

}  // namespace

void w10_cluster(const Options &o, Report &r) {
  const char *url = std::getenv("LANE_BENCH_REDIS");
  const int lat_n = o.quick ? 200 : 2'000, rate_n = o.quick ? 2'000 : 20'000;
  r.section("W10: a lane shared through Redis (loopback)",
            "Grant latency: one job at a time on a lane of 1 slot, lane_submit to the start of its run, " +
                std::to_string(lat_n) + " jobs per run. Throughput: " + std::to_string(rate_n) +
                " no-op callback jobs submitted at once to a lane of 4, first submit to last outcome. "
                "Each against the same lane without a cluster in the same run; medians of " +
                std::to_string(o.runs) + " runs. Redis: " + (url ? url : "none"));
  if (!url) {
    r.text("Not run: set LANE_BENCH_REDIS (bash bench/run.sh starts a private redis-server when one is installed).");
    return;
  }
  lane_cluster_options_t co = LANE_CLUSTER_OPTIONS_INIT;
  co.url = url;
  co.key_prefix = "bench";
  lane_cluster_t *cluster = nullptr;
  if (lane_cluster_create(&co, &cluster) != LANE_OK) {
    r.text(std::string("Not run: ") + lane_last_error());
    return;
  }
  std::vector<double> p50s, p99s, lp50s, lp99s, rates, lrates;
  for (int run = 0; run < o.runs; ++run) {
    for (const bool shared : {false, true}) {
      const std::string suffix = std::to_string(run);
      lane_t *g = make_lane(("w10-grant-" + suffix).c_str(), 1, shared ? cluster : nullptr);
      std::vector<std::int64_t> lat = latencies(g, lat_n);
      lane_destroy(g);
      lane_t *t = make_lane(("w10-rate-" + suffix).c_str(), 4, shared ? cluster : nullptr);
      const double jr = rate(t, rate_n);
      lane_destroy(t);
      (shared ? p50s : lp50s).push_back(quantile_i(lat, 0.50));
      (shared ? p99s : lp99s).push_back(quantile_i(lat, 0.99));
      (shared ? rates : lrates).push_back(jr);
    }
  }
  lane_cluster_destroy(cluster);
  const double p50 = median(p50s), p99 = median(p99s), rs = median(rates), rl = median(lrates);
  r.table({"figure", "local lane", "shared lane (Redis)", "shared / local"});
  r.row({"grant latency p50", fmt_ns(median(lp50s)), fmt_ns(p50), fmt_ratio(p50 / median(lp50s))});
  r.row({"grant latency p99", fmt_ns(median(lp99s)), fmt_ns(p99), fmt_ratio(p99 / median(lp99s))});
  r.row({"callback jobs/s, cap 4", fmt(rl), fmt(rs), fmt_ratio(rs / rl)});
  r.verdict("W10", "grant latency through Redis on loopback: p99 < 1 ms", "p50 " + fmt_ns(p50) + ", p99 " + fmt_ns(p99),
            p99 < 1e6);
}

}  // namespace bench

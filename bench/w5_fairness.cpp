// W5: fairness of FAIR_SHARE between 10 tenants while all are backlogged,
// (a) tenant 0 submits 10x the jobs of the others, (b) tenant 0's jobs run
// 10x longer. Jain's index over the slot-time each tenant received. A FIFO
// lane fed the same jobs is the contrast. End to end, through lane.h.
#include <algorithm>
#include <string>
#include <vector>

#include "common.hpp"
#include "lane/lane.h"

namespace bench {

namespace {

constexpr int kTenants = 10;

struct Rec {
  int tenant = 0;
  std::int64_t runtime = 0;
  std::int64_t start = 0, end = 0;
};

std::int32_t timed_run(lane_ctx_t *, void *ud) {
  auto *rec = static_cast<Rec *>(ud);
  rec->start = now_ns();
  work_for(rec->runtime);
  rec->end = now_ns();
  return 0;
}

double jain(const std::vector<double> &x) {
  double s = 0, s2 = 0;
  for (double v : x) {
    s += v;
    s2 += v * v;
  }
  return s2 > 0 ? s * s / (static_cast<double>(x.size()) * s2) : 0;
}

// Runs the jobs (lane paused while they are submitted, so nobody starts
// early) and returns Jain's index of slot-time per tenant up to the moment
// the first tenant's queue ran dry.
double run_once(lane_policy_t policy, std::vector<Rec> &recs) {
  lane_options_t o = LANE_OPTIONS_INIT;
  o.max_concurrent = 2;
  o.policy = policy;
  lane_t *lane = nullptr;
  lane_create("w5", &o, &lane);
  lane_pause(lane);
  std::vector<std::string> ids(recs.size()), tenants;
  for (int t = 0; t < kTenants; ++t) tenants.push_back(numbered("tenant-", static_cast<std::size_t>(t)));
  for (std::size_t i = 0; i < recs.size(); ++i) {
    ids[i] = numbered("w5-", static_cast<std::size_t>(i));
    lane_job_t j = LANE_JOB_INIT;
    j.id = ids[i].c_str();
    j.tenant = tenants[static_cast<std::size_t>(recs[i].tenant)].c_str();
    j.run = timed_run;
    j.user_data = &recs[i];
    lane_submit(lane, &j, nullptr);
  }
  lane_resume(lane);
  lane_wait_idle(lane, -1);
  lane_destroy(lane);
  std::int64_t t0 = INT64_MAX;
  std::vector<std::int64_t> last_start(kTenants, 0);
  for (const Rec &r : recs) {
    t0 = std::min(t0, r.start);
    last_start[static_cast<std::size_t>(r.tenant)] = std::max(last_start[static_cast<std::size_t>(r.tenant)], r.start);
  }
  const std::int64_t t_end = *std::min_element(last_start.begin(), last_start.end());
  std::vector<double> share(kTenants, 0);
  for (const Rec &r : recs) {
    const std::int64_t a = std::max(r.start, t0), b = std::min(r.end, t_end);
    if (b > a) share[static_cast<std::size_t>(r.tenant)] += static_cast<double>(b - a);
  }
  return jain(share);
}

// Interleaved submissions: per round, tenant 0 submits `t0_jobs`, the others 1.
std::vector<Rec> workload(int rounds, int t0_jobs, std::int64_t base_ns, std::int64_t t0_ns) {
  std::vector<Rec> recs;
  for (int r = 0; r < rounds; ++r) {
    for (int t = 0; t < kTenants; ++t) {
      const int n = t == 0 ? t0_jobs : 1;
      for (int k = 0; k < n; ++k) recs.push_back({t, t == 0 ? t0_ns : base_ns, 0, 0});
    }
  }
  return recs;
}

}  // namespace

void w5_fairness(const Options &o, Report &r) {
  const int rounds = o.quick ? 20 : 200;
  const std::int64_t base = 200'000;  // 200 µs
  std::vector<double> a_fair, a_fifo, b_fair, b_fifo;
  for (int run = 0; run < o.runs; ++run) {
    auto a = workload(rounds, 10, base, base);
    a_fair.push_back(run_once(LANE_POLICY_FAIR_SHARE, a));
    a = workload(rounds, 10, base, base);
    a_fifo.push_back(run_once(LANE_POLICY_FIFO, a));
    auto b = workload(rounds, 1, base, 10 * base);
    b_fair.push_back(run_once(LANE_POLICY_FAIR_SHARE, b));
    b = workload(rounds, 1, base, 10 * base);
    b_fifo.push_back(run_once(LANE_POLICY_FIFO, b));
  }
  r.section("W5: fairness between 10 tenants (end to end, lane.h)",
            "Lane of cap 2; jobs of 200 µs (wall time: sleep, then spin the last 150 µs); submissions interleaved, "
            "the lane paused while they are submitted. (a) tenant 0 submits 10 jobs per round, the others 1, " +
                std::to_string(rounds) + " rounds. (b) every tenant 1 job per round, tenant 0's jobs last 2 ms. "
                "Jain's index of the slot-time each tenant received from the first start until the first tenant's "
                "queue ran dry (all backlogged); 1.0 = equal shares. Median of " +
                std::to_string(o.runs) + " runs.");
  r.table({"scenario", "FAIR_SHARE lane", "FIFO lane (contrast)"});
  r.row({"(a) tenant 0 submits 10x", fmt(median(a_fair), 4), fmt(median(a_fifo), 4)});
  r.row({"(b) tenant 0's jobs 10x longer", fmt(median(b_fair), 4), fmt(median(b_fifo), 4)});
  const double worst = std::min(median(a_fair), median(b_fair));
  r.verdict("W5", "Jain's index >= 0.99 in both scenarios",
            "(a) " + fmt(median(a_fair), 4) + ", (b) " + fmt(median(b_fair), 4), worst >= 0.99);
}

}  // namespace bench

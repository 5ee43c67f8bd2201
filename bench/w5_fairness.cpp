// W5: fairness of FAIR_SHARE while tenants are backlogged. Part 1: 10
// tenants, (a) tenant 0 submits 10x the jobs of the others, (b) tenant 0's
// jobs run 10x longer. Part 2: the scenarios of docs/fair-share.md
// (newcomers behind a busy tenant, long against short jobs on 1, 2 and 8
// slots, weights 1:2:4), reporting Jain's index of slot-time per unit of
// weight and the worst service gap between two backlogged tenants divided by
// the stated bound. A FIFO lane fed the same jobs is the contrast. End to
// end, through lane.h, in real time.
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

// ------------------------------------------------------------- part 2

struct Scenario {
  std::string name;
  std::uint32_t slots = 1;
  std::vector<std::uint32_t> weights;  // per tenant
  std::vector<std::pair<int, std::int64_t>> jobs;  // (tenant, runtime ns) in submission order
  // Paused while submitting (everyone waits from the start), or submitted
  // into a running lane, so the first jobs take free slots at once.
  bool paused = true;
};

struct Measured {
  double jain = 0;
  double gap_over_bound = 0;
};

// The bound of docs/fair-share.md, with w_min the least weight of any tenant
// of the scenario (never smaller than the least weight of those waiting).
double fair_bound(std::uint32_t m, double L, double wi, double wj, double wmin) {
  return m * L * (3.0 / wi + 3.0 / wj + 1.0 / wmin);
}

Measured run_scenario(lane_policy_t policy, const Scenario &sc) {
  std::vector<Rec> recs;
  for (const auto &[t, ns] : sc.jobs) recs.push_back({t, ns, 0, 0});
  const std::size_t n = sc.weights.size();
  lane_options_t o = LANE_OPTIONS_INIT;
  o.max_concurrent = sc.slots;
  o.policy = policy;
  lane_t *lane = nullptr;
  lane_create("w5s", &o, &lane);
  std::vector<std::string> tenants;
  for (std::size_t t = 0; t < n; ++t) {
    tenants.push_back(numbered("tenant-", t));
    if (policy == LANE_POLICY_FAIR_SHARE && sc.weights[t] != 1) {
      lane_set_tenant_weight(lane, tenants[t].c_str(), sc.weights[t]);
    }
  }
  if (sc.paused) lane_pause(lane);
  std::vector<std::string> ids(recs.size());
  for (std::size_t i = 0; i < recs.size(); ++i) {
    ids[i] = numbered("w5s-", i);
    lane_job_t j = LANE_JOB_INIT;
    j.id = ids[i].c_str();
    j.tenant = tenants[static_cast<std::size_t>(recs[i].tenant)].c_str();
    j.run = timed_run;
    j.user_data = &recs[i];
    lane_submit(lane, &j, nullptr);
  }
  if (sc.paused) lane_resume(lane);
  lane_wait_idle(lane, -1);
  lane_destroy(lane);

  // Everyone waits from the first start until its own last start.
  std::int64_t t0 = INT64_MAX, L = 0;
  std::vector<std::int64_t> last_start(n, 0);
  for (const Rec &r : recs) {
    t0 = std::min(t0, r.start);
    L = std::max(L, r.end - r.start);
    auto &ls = last_start[static_cast<std::size_t>(r.tenant)];
    ls = std::max(ls, r.start);
  }
  const std::int64_t t_end = *std::min_element(last_start.begin(), last_start.end());
  // Sweep the starts and ends: slot-time so far per tenant at every event.
  struct Ev {
    std::int64_t at;
    int tenant;
    bool start;
  };
  std::vector<Ev> evs;
  for (const Rec &r : recs) {
    evs.push_back({r.start, r.tenant, true});
    evs.push_back({r.end, r.tenant, false});
  }
  std::sort(evs.begin(), evs.end(), [](const Ev &a, const Ev &b) { return a.at < b.at; });
  std::vector<double> done(n, 0), start_sum(n, 0), running(n, 0);
  auto served = [&](std::size_t t, std::int64_t at) {
    return done[t] + running[t] * static_cast<double>(at) - start_sum[t];
  };
  // D(t) = W_i/w_i - W_j/w_j from t0; a sub-interval's gap is a difference of two D values.
  std::vector<double> dmax(n * n, 0), dmin(n * n, 0);
  const double wmin = *std::min_element(sc.weights.begin(), sc.weights.end());
  for (const Ev &e : evs) {
    if (e.at > t_end) break;
    const auto t = static_cast<std::size_t>(e.tenant);
    if (e.start) {
      running[t] += 1;
      start_sum[t] += static_cast<double>(e.at);
    } else {
      // The run's slot-time moves from running into done: served() is unchanged.
      running[t] -= 1;
      done[t] += static_cast<double>(e.at);
    }
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = i + 1; j < n; ++j) {
        const double d = served(i, e.at) / sc.weights[i] - served(j, e.at) / sc.weights[j];
        dmax[i * n + j] = std::max(dmax[i * n + j], d);
        dmin[i * n + j] = std::min(dmin[i * n + j], d);
      }
    }
  }
  Measured m;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      const double gap = dmax[i * n + j] - dmin[i * n + j];
      const double b = fair_bound(sc.slots, static_cast<double>(L), sc.weights[i], sc.weights[j], wmin);
      m.gap_over_bound = std::max(m.gap_over_bound, gap / b);
    }
  }
  std::vector<double> share(n, 0);
  for (const Rec &r : recs) {
    const std::int64_t a = std::max(r.start, t0), b = std::min(r.end, t_end);
    if (b > a) share[static_cast<std::size_t>(r.tenant)] += static_cast<double>(b - a) / sc.weights[static_cast<std::size_t>(r.tenant)];
  }
  m.jain = jain(share);
  return m;
}

std::vector<Scenario> scenarios(bool quick) {
  const std::int64_t ms = 1'000'000;
  std::vector<Scenario> out;
  {
    Scenario s{"newcomers: 3 slots, 12 x 30 ms then 3 + 3", 3, {1, 1, 1}, {}, false};
    for (int i = 0; i < 12; ++i) s.jobs.push_back({0, 30 * ms});
    for (int t = 1; t <= 2; ++t)
      for (int i = 0; i < 3; ++i) s.jobs.push_back({t, 30 * ms});
    out.push_back(s);
  }
  {
    Scenario s{"2 slots, 10 x 80 ms then 40 x 20 ms", 2, {1, 1}, {}, false};
    for (int i = 0; i < 10; ++i) s.jobs.push_back({0, 80 * ms});
    for (int i = 0; i < 40; ++i) s.jobs.push_back({1, 20 * ms});
    out.push_back(s);
  }
  for (std::uint32_t m : {1u, 2u, 8u}) {
    Scenario s{"long 10 ms against short 1 ms, " + std::to_string(m) + " slot(s)", m, {1, 1}, {}};
    const int k = quick ? 4 : 20;
    for (int i = 0; i < k * static_cast<int>(m); ++i) s.jobs.push_back({0, 10 * ms});
    for (int i = 0; i < 10 * k * static_cast<int>(m); ++i) s.jobs.push_back({1, 1 * ms});
    out.push_back(s);
  }
  {
    Scenario s{"weights 1:2:4, 3 slots, 2 ms jobs", 3, {1, 2, 4}, {}};
    const int k = quick ? 30 : 300;
    for (int i = 0; i < k; ++i)
      for (int t = 0; t < 3; ++t) s.jobs.push_back({t, 2 * ms});
    out.push_back(s);
  }
  return out;
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

  const auto list = scenarios(o.quick);
  r.text("Scenarios of docs/fair-share.md, default options (the estimate starts at 1 s). The first two are "
         "submitted into a running lane in the order given (the first tenant's first jobs take the free slots), "
         "the others with the lane paused while they are submitted. Jain's index of the "
         "slot-time per unit of weight each tenant received while all were backlogged (first start until the "
         "first tenant's last start); worst gap = the largest |W_i/w_i - W_j/w_j| over any sub-interval of that "
         "time and any two tenants, divided by the bound m L (3/w_i + 3/w_j + 1/w_min) with L the longest "
         "measured run (<= 1 keeps the bound). Medians of " + std::to_string(o.runs) + " runs; FIFO in the same run.");
  r.table({"scenario", "Jain FAIR_SHARE", "Jain FIFO", "gap/bound FAIR_SHARE", "gap/bound FIFO"});
  double worst_ratio = 0, worst_jain = 1;
  for (const Scenario &sc : list) {
    std::vector<double> jf, jo, gf, go;
    for (int run = 0; run < o.runs; ++run) {
      Measured f = run_scenario(LANE_POLICY_FAIR_SHARE, sc);
      Measured q = run_scenario(LANE_POLICY_FIFO, sc);
      jf.push_back(f.jain);
      gf.push_back(f.gap_over_bound);
      jo.push_back(q.jain);
      go.push_back(q.gap_over_bound);
    }
    worst_ratio = std::max(worst_ratio, median(gf));
    worst_jain = std::min(worst_jain, median(jf));
    r.row({sc.name, fmt(median(jf), 4), fmt(median(jo), 4), fmt(median(gf), 3), fmt(median(go), 3)});
  }
  r.verdict("W5b", "every scenario keeps the fair-share bound (gap/bound <= 1)", "worst median " + fmt(worst_ratio, 3),
            worst_ratio <= 1.0);
}

}  // namespace bench

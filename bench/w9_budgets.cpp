// W9: what provider budgets cost. The same lane twice in one run, plain and
// with every budget on that does not bind: a requests and a cost rate limit
// far above the offered load, a per-tenant cap on each of the tenants, and
// jobs that carry a cost. Two figures: a queued lane_submit (paused lane, so
// the figure is the submit alone), and the end-to-end rate of no-op callback
// jobs (cap 2, one submitting thread), where each job is also granted and
// finished under the limits. Runs interleave plain and budgeted lanes.
#include <cstdio>
#include <string>
#include <vector>

#include "common.hpp"
#include "lane/lane.h"

namespace bench {

namespace {

constexpr int kTenants = 100;

std::int32_t noop_run(lane_ctx_t *, void *) { return 0; }

struct Names {
  std::vector<std::string> ids, tenants;
};

Names make_names(int n) {
  Names s;
  s.ids.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) s.ids.push_back(numbered("j", static_cast<std::size_t>(i)));
  for (int t = 0; t < kTenants; ++t) s.tenants.push_back(numbered("user", static_cast<std::size_t>(t)));
  return s;
}

lane_t *make_lane(bool budgets, std::uint32_t cap) {
  lane_options_t o = LANE_OPTIONS_INIT;
  o.max_concurrent = cap;
  o.policy = LANE_POLICY_FAIR_SHARE;
  lane_t *lane = nullptr;
  if (lane_create(budgets ? "w9-budgets" : "w9-plain", &o, &lane) != LANE_OK) {
    std::fprintf(stderr, "w9 create: %s\n", lane_last_error());
    return nullptr;
  }
  if (!budgets) return lane;
  // 10^9 requests and 10^12 cost units a second: on, charged at every grant,
  // never the reason a job waits.
  if (lane_set_rate_limit(lane, LANE_RATE_REQUESTS, 1'000'000'000, 1'000'000'000, 1'000'000'000) != LANE_OK ||
      lane_set_rate_limit(lane, LANE_RATE_COST, 1'000'000'000'000, 1'000'000'000, 1'000'000'000'000) != LANE_OK)
    std::fprintf(stderr, "w9 rate: %s\n", lane_last_error());
  for (int t = 0; t < kTenants; ++t) {
    const std::string tenant = numbered("user", static_cast<std::size_t>(t));
    if (lane_set_tenant_limit(lane, tenant.c_str(), cap) != LANE_OK)
      std::fprintf(stderr, "w9 tenant limit: %s\n", lane_last_error());
  }
  return lane;
}

lane_job_t job_of(const Names &s, int i, bool budgets) {
  lane_job_t j = LANE_JOB_INIT;
  j.id = s.ids[static_cast<std::size_t>(i)].c_str();
  j.tenant = s.tenants[static_cast<std::size_t>(i % kTenants)].c_str();
  j.run = noop_run;
  if (budgets) j.cost = 1000;
  return j;
}

// ns per queued submit at depths 0..n on a paused lane.
double queued_submit_ns(const Names &s, int n, bool budgets) {
  lane_t *lane = make_lane(budgets, 2);
  if (lane == nullptr) return 0;
  lane_pause(lane);
  const std::int64_t t0 = now_ns();
  for (int i = 0; i < n; ++i) {
    lane_job_t j = job_of(s, i, budgets);
    if (lane_submit(lane, &j, nullptr) != LANE_OK) std::fprintf(stderr, "w9 submit: %s\n", lane_last_error());
  }
  const std::int64_t t1 = now_ns();
  lane_close(lane, LANE_CLOSE_CANCEL);
  lane_destroy(lane);
  return static_cast<double>(t1 - t0) / n;
}

// jobs/s from the first submit to the last outcome.
double callback_rate(const Names &s, int n, bool budgets) {
  lane_t *lane = make_lane(budgets, 2);
  if (lane == nullptr) return 0;
  const std::int64_t t0 = now_ns();
  for (int i = 0; i < n; ++i) {
    lane_job_t j = job_of(s, i, budgets);
    if (lane_submit(lane, &j, nullptr) != LANE_OK) std::fprintf(stderr, "w9 submit: %s\n", lane_last_error());
  }
  lane_wait_idle(lane, -1);
  const std::int64_t t1 = now_ns();
  lane_stats_t st{};
  st.struct_size = sizeof st;
  lane_stats(lane, &st);
  if (st.completed != static_cast<std::uint64_t>(n) || (budgets && st.rate_waits != 0))
    std::fprintf(stderr, "w9: %llu of %d completed, %llu rate waits\n", static_cast<unsigned long long>(st.completed), n,
                 static_cast<unsigned long long>(st.rate_waits));
  lane_destroy(lane);
  return static_cast<double>(n) * 1e9 / static_cast<double>(t1 - t0);
}

}  // namespace

void w9_budgets(const Options &o, Report &r) {
  const int n = o.quick ? 4'000 : 200'000;
  const Names s = make_names(n);
  r.section("W9: the cost of provider budgets (end to end, lane.h)",
            std::to_string(n) + " jobs over " + std::to_string(kTenants) +
                " tenants, FAIR_SHARE, cap 2, one submitting thread; median of " + std::to_string(o.runs) +
                " runs, plain and budgeted lanes interleaved. Budgeted: a requests and a cost rate limit that "
                "never bind (10^9 requests/s, 10^12 units/s), a cap of 2 running on each tenant, cost 1000 per "
                "job. Queued submit: the lane paused, ns per lane_submit up to that depth. Throughput: no-op "
                "callback jobs, first submit to last outcome.");
  std::vector<double> sub_plain, sub_budget, rate_plain, rate_budget;
  for (int run = 0; run < o.runs; ++run) {
    sub_plain.push_back(queued_submit_ns(s, n, false));
    sub_budget.push_back(queued_submit_ns(s, n, true));
    rate_plain.push_back(callback_rate(s, n, false));
    rate_budget.push_back(callback_rate(s, n, true));
  }
  const double sp = median(sub_plain), sb = median(sub_budget);
  const double rp = median(rate_plain), rb = median(rate_budget);
  r.table({"figure", "plain lane", "budgets on", "budgets / plain"});
  r.row({"queued submit", fmt_ns(sp), fmt_ns(sb), fmt_ratio(sb / sp)});
  r.row({"callback jobs/s", fmt(rp), fmt(rb), fmt_ratio(rp / rb) + " (time per job)"});
  const double worst = std::max(sb / sp, rp / rb);
  r.verdict("W9", "a job with rate limits and tenant caps on costs < 1.3x the plain lane's (submit; time per job)",
            "submit " + fmt_ratio(sb / sp) + ", time per job " + fmt_ratio(rp / rb), worst < 1.3);
}

}  // namespace bench

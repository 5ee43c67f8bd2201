#include "depth.hpp"

#include <random>
#include <string>
#include <vector>

#include "common.hpp"
#include "core/scheduler.hpp"

namespace bench {

namespace {

struct Names {
  std::vector<std::string> ids, tenants;
  Names(int tenants_n, int depth) {
    ids.reserve(static_cast<std::size_t>(depth));
    for (int i = 0; i < depth; ++i) ids.push_back(numbered("q", static_cast<std::size_t>(i)));
    for (int t = 0; t < tenants_n; ++t) tenants.push_back(numbered("tenant-", static_cast<std::size_t>(t)));
  }
  [[nodiscard]] const std::string &tenant_of(std::size_t i) const { return tenants[i % tenants.size()]; }
};

// Runs the rounds: op(i, cancel_out, submit_out) times one cancel and one
// resubmit of job i.
template <class Op>
DepthCost measure(int depth, int rounds, int ops, Op &&op) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::size_t> pick(0, static_cast<std::size_t>(depth) - 1);
  const auto overhead = static_cast<double>(clock_overhead_ns());
  std::vector<double> s50, c50, s99, c99;
  for (int r = 0; r < rounds; ++r) {
    std::vector<std::int64_t> s, c;
    s.reserve(static_cast<std::size_t>(ops));
    c.reserve(static_cast<std::size_t>(ops));
    for (int k = 0; k < ops; ++k) {
      std::int64_t tc = 0, ts = 0;
      op(pick(rng), tc, ts);
      c.push_back(tc);
      s.push_back(ts);
    }
    s50.push_back(quantile_i(s, 0.5) - overhead);
    c50.push_back(quantile_i(c, 0.5) - overhead);
    s99.push_back(quantile_i(s, 0.99) - overhead);
    c99.push_back(quantile_i(c, 0.99) - overhead);
  }
  DepthCost d;
  d.submit_ns = median(s50);
  d.cancel_ns = median(c50);
  d.submit_p99_ns = median(s99);
  d.cancel_p99_ns = median(c99);
  return d;
}

std::int32_t hold_slot(lane_ctx_t *ctx, void *) {
  lane_ctx_wait(ctx, -1);  // until the lane is destroyed
  return 0;
}
std::int32_t noop_run(lane_ctx_t *, void *) { return 0; }

}  // namespace

DepthCost depth_cost_core(lane_policy_t policy, int tenants, int depth, int rounds, int ops) {
  using namespace lane::core;
  Names names(tenants, depth);
  Config cfg;
  cfg.policy = policy;
  cfg.max_concurrent = 1;
  std::vector<Job> jobs(static_cast<std::size_t>(depth) + 1);
  for (int i = 0; i < depth; ++i) jobs[static_cast<std::size_t>(i)].id = names.ids[static_cast<std::size_t>(i)];
  Job &blocker = jobs.back();
  blocker.id = "blocker";
  std::int64_t now = 1;
  Effects eff;
  DepthCost d;
  {
    const std::int64_t heap0 = heap_bytes();
    counting(true);
    auto sched = std::make_unique<Scheduler>(cfg);
    sched->submit(&blocker, "holder", now++, eff);
    eff.clear();
    for (std::size_t i = 0; i < static_cast<std::size_t>(depth); ++i) {
      sched->submit(&jobs[i], names.tenant_of(i), now++, eff);
      eff.clear();
    }
    d.counted_per_job = static_cast<double>(counted_bytes()) / depth;
    d.heap_per_job = static_cast<double>(heap_bytes() - heap0) / depth;
    counting(false);
    DepthCost m = measure(depth, rounds, ops, [&](std::size_t i, std::int64_t &tc, std::int64_t &ts) {
      Job &j = jobs[i];
      std::int64_t t0 = now_ns();
      sched->cancel(j.id, LANE_CANCEL_QUEUED, now++, eff);
      std::int64_t t1 = now_ns();
      eff.clear();
      j.state = JobState::New;
      std::int64_t t2 = now_ns();
      sched->submit(&j, names.tenant_of(i), now++, eff);
      std::int64_t t3 = now_ns();
      eff.clear();
      tc = t1 - t0;
      ts = t3 - t2;
    });
    m.counted_per_job = d.counted_per_job;
    m.heap_per_job = d.heap_per_job;
    d = m;
  }
  return d;
}

DepthCost depth_cost_e2e(lane_policy_t policy, int tenants, int depth, int rounds, int ops) {
  Names names(tenants, depth);
  lane_options_t o = LANE_OPTIONS_INIT;
  o.max_concurrent = 1;
  o.policy = policy;
  lane_t *lane = nullptr;
  lane_create("depth", &o, &lane);
  lane_job_t b = LANE_JOB_INIT;
  b.id = "blocker";
  b.tenant = "holder";
  b.run = hold_slot;
  lane_submit(lane, &b, nullptr);
  auto submit = [&](std::size_t i) {
    lane_job_t j = LANE_JOB_INIT;
    j.id = names.ids[i].c_str();
    j.tenant = names.tenant_of(i).c_str();
    j.run = noop_run;
    lane_submit(lane, &j, nullptr);
  };
  DepthCost d;
  const std::int64_t heap0 = heap_bytes();
  counting(true);
  for (std::size_t i = 0; i < static_cast<std::size_t>(depth); ++i) submit(i);
  d.counted_per_job = static_cast<double>(counted_bytes()) / depth;
  d.heap_per_job = static_cast<double>(heap_bytes() - heap0) / depth;
  counting(false);
  DepthCost m = measure(depth, rounds, ops, [&](std::size_t i, std::int64_t &tc, std::int64_t &ts) {
    std::int64_t t0 = now_ns();
    lane_cancel(lane, names.ids[i].c_str(), LANE_CANCEL_QUEUED);
    std::int64_t t1 = now_ns();
    submit(i);
    std::int64_t t2 = now_ns();
    tc = t1 - t0;
    ts = t2 - t1;
  });
  m.counted_per_job = d.counted_per_job;
  m.heap_per_job = d.heap_per_job;
  lane_destroy(lane);
  return m;
}

}  // namespace bench

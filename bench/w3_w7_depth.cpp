// W3: cancel a random queued job at depth 1k..1M, and bytes per queued job.
// W7: queued-submit cost against queue depth and number of tenants.
// "core" = src/core's Scheduler alone; "e2e" = through lane.h.
#include <string>
#include <vector>

#include "common.hpp"
#include "depth.hpp"
#include "exec/lane.hpp"  // sizeof only: where the bytes per job go

namespace bench {

namespace {

const char *policy_name(lane_policy_t p) { return p == LANE_POLICY_FAIR_SHARE ? "FAIR_SHARE" : "FIFO"; }

}  // namespace

void w3_cancel_memory(const Options &o, Report &r) {
  std::vector<int> depths = o.quick ? std::vector<int>{1'000, 10'000} : std::vector<int>{1'000, 10'000, 100'000, 1'000'000};
  const int rounds = o.quick ? 1 : std::max(o.runs, 5), ops = o.quick ? 200 : 2'000;
  r.section("W3: cancel a random queued job; memory per queued job",
            "A lane of cap 1 whose slot is held; `depth` queued no-op jobs (FAIR_SHARE: spread over 100 tenants). "
            "Each op cancels a random queued job and resubmits it (the depth stays put); single ops are timed "
            "(clock cost subtracted), median per round, median of " + std::to_string(rounds) +
                " rounds of " + std::to_string(ops) + " ops. core = src/core Scheduler alone (fake clock, "
                "jobs owned by the bench); e2e = lane.h (validation, allocation, lock, outcome delivery). "
                "Bytes: counted = operator new usable bytes live after filling the queue (the library's "
                "allocations: job object, id string, index nodes, queue nodes, bucket arrays), per job; "
                "heap = mallinfo2 in-use delta (includes malloc's chunk headers), per job.");
  r.table({"policy", "depth", "cancel core p50", "cancel e2e p50", "cancel e2e p99", "e2e bytes/job counted",
           "e2e bytes/job heap", "core-only bytes/job (excl. the Job itself)"});
  double worst_ratio = 0, worst_cancel = 0, worst_bytes = 0;
  for (lane_policy_t p : {LANE_POLICY_FIFO, LANE_POLICY_FAIR_SHARE}) {
    const int tenants = p == LANE_POLICY_FAIR_SHARE ? 100 : 1;
    double first = 0;
    for (int depth : depths) {
      DepthCost c = depth_cost_core(p, tenants, depth, rounds, ops);
      DepthCost e = depth_cost_e2e(p, tenants, depth, rounds, ops);
      r.row({policy_name(p), std::to_string(depth), fmt_ns(c.cancel_ns), fmt_ns(e.cancel_ns), fmt_ns(e.cancel_p99_ns),
             fmt(e.counted_per_job), fmt(e.heap_per_job), fmt(c.counted_per_job)});
      if (first == 0) first = e.cancel_ns;
      worst_ratio = std::max(worst_ratio, e.cancel_ns / first);
      worst_cancel = std::max(worst_cancel, e.cancel_ns);
      if (depth >= 100'000 || o.quick) worst_bytes = std::max(worst_bytes, e.heap_per_job);
    }
  }
  r.text("Where a queued job's bytes go (sizeof, this build): lane_ctx_s (the job object, the one allocation per "
         "job) " +
         std::to_string(sizeof(lane_ctx_s)) + " B, of which core::Job " + std::to_string(sizeof(lane::core::Job)) +
         " B (std::string id " + std::to_string(sizeof(std::string)) +
         " B inside), plus malloc's 8 B chunk header and rounding to 16 B; the job index: a slab slot (Job*, "
         "generation, free-list link: 16 B) and an open-addressing id table entry (Job*, hash: 16 B) at a load factor between "
         "3/8 and 3/4.");
  r.verdict("W3 cancel", "cancel flat across depths (largest within 2x of 1k) and < 1 µs (e2e)",
            "worst e2e p50 " + fmt_ns(worst_cancel) + ", largest/1k " + fmt_ratio(worst_ratio),
            worst_ratio <= 2 && worst_cancel < 1000);
  r.verdict("W3 memory", "<= 128 bytes per queued job (library-owned, measured)",
            fmt(worst_bytes) + " bytes/job (heap, depth >= 100k)", worst_bytes <= 128);
}

void w7_submit_scaling(const Options &o, Report &r) {
  const int rounds = o.quick ? 1 : std::max(o.runs, 5);
  std::vector<int> depths = o.quick ? std::vector<int>{1, 1'000} : std::vector<int>{1, 1'000, 10'000, 100'000, 1'000'000};
  r.section("W7: queued-submit cost against queue depth and tenants",
            "Same method as W3 (random cancel + resubmit keeps the depth); the figure is the resubmit, a queued "
            "lane_submit. core = src/core Scheduler alone; e2e = lane.h. Median of " + std::to_string(rounds) +
                " rounds.");
  r.table({"queued jobs (1 tenant)", "FIFO core", "FIFO e2e", "FAIR_SHARE core", "FAIR_SHARE e2e"});
  double d_small = 0, d_large = 0;
  for (int depth : depths) {
    const int ops = o.quick ? 100 : 2'000;
    DepthCost fc = depth_cost_core(LANE_POLICY_FIFO, 1, depth, rounds, ops);
    DepthCost fe = depth_cost_e2e(LANE_POLICY_FIFO, 1, depth, rounds, ops);
    DepthCost sc = depth_cost_core(LANE_POLICY_FAIR_SHARE, 1, depth, rounds, ops);
    DepthCost se = depth_cost_e2e(LANE_POLICY_FAIR_SHARE, 1, depth, rounds, ops);
    r.row({std::to_string(depth), fmt_ns(fc.submit_ns), fmt_ns(fe.submit_ns), fmt_ns(sc.submit_ns), fmt_ns(se.submit_ns)});
    if (depth == 1'000) d_small = std::max(fe.submit_ns, se.submit_ns);
    d_large = std::max(fe.submit_ns, se.submit_ns);
  }
  // Tenants: `depth` jobs spread round-robin over T tenants (T = depth: one
  // job each). Filling is itself O(T^2) when ahead_of scans, so the depth is
  // the tenant count, at least 1,000.
  std::vector<int> tenant_counts =
      o.quick ? std::vector<int>{1, 100} : std::vector<int>{1, 10, 100, 1'000, 10'000, 100'000};
  r.table({"tenants (FAIR_SHARE)", "queued jobs", "submit core p50", "submit e2e p50", "submit e2e p99",
           "cancel e2e p50"});
  double t_small = 0, t_large = 0;
  for (int t : tenant_counts) {
    const int depth = std::max(t, o.quick ? 200 : 1'000);
    const int ops = t >= 10'000 ? 100 : (o.quick ? 100 : 2'000);
    // At 100k tenants one fill takes over a minute (O(T^2)): e2e only.
    const bool core_too = t < 100'000;
    DepthCost c = core_too ? depth_cost_core(LANE_POLICY_FAIR_SHARE, t, depth, rounds, ops) : DepthCost{};
    DepthCost e = depth_cost_e2e(LANE_POLICY_FAIR_SHARE, t, depth, rounds, ops);
    r.row({std::to_string(t), std::to_string(depth), core_too ? fmt_ns(c.submit_ns) : "(not run)", fmt_ns(e.submit_ns),
           fmt_ns(e.submit_p99_ns), fmt_ns(e.cancel_ns)});
    if (t == (o.quick ? 1 : 10)) t_small = e.submit_ns;
    t_large = e.submit_ns;
  }
  r.text("Logarithmic growth allows the cost at 1M queued jobs to be at most 2x the cost at 1k (log 1M / log 1k = "
         "2), and the cost at 100k tenants at most 5x the cost at 10 tenants (log 100k / log 10 = 5).");
  const double dr = d_large / d_small, tr = t_large / t_small;
  r.verdict("W7", "submit cost grows at most logarithmically (depth 1k->1M <= 2x; tenants 10->100k <= 5x)",
            "depth " + fmt_ratio(dr) + "; tenants " + fmt_ratio(tr) + " (" + fmt_ns(t_small) + " -> " +
                fmt_ns(t_large) + ")",
            dr <= 2 && tr <= 5);
}

}  // namespace bench

// Per-operation submit and cancel costs at a given queue depth and tenant
// count, measured two ways: "core" drives src/core's Scheduler directly
// (pure scheduler data-structure cost, fake clock, jobs owned by the bench)
// and "e2e" goes through lane.h (validation, allocation, locking, outcome
// delivery included). Shared by W3 and W7.
#pragma once

#include <cstdint>

#include "lane/lane.h"

namespace bench {

struct DepthCost {
  double submit_ns = 0;           // median single-op time, a queued submit
  double cancel_ns = 0;           // median single-op time, cancel of a random queued job
  double submit_p99_ns = 0;
  double cancel_p99_ns = 0;
  double counted_per_job = 0;     // bytes through operator new per queued job
  double heap_per_job = 0;        // malloc's in-use delta per queued job
};

// Fills a cap-1 lane (slot held) with `depth` queued jobs spread round-robin
// over `tenants` tenants, then runs `rounds` rounds of `ops` (cancel a random
// queued job, resubmit it), so the depth stays put. Figures are medians of the
// per-round medians.
DepthCost depth_cost_core(lane_policy_t policy, int tenants, int depth, int rounds, int ops);
DepthCost depth_cost_e2e(lane_policy_t policy, int tenants, int depth, int rounds, int ops);

}  // namespace bench

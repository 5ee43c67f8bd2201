// A fast discrete-event driver for the scheduler core (no fixture checks per
// step), for fair-share workloads of thousands of jobs: arrivals at given
// times, each job runs for its given length, and after every operation the
// service each tenant has had (slot-time, partial runs included) is known.
// It checks the fair-share bound between every two tenants that have been
// waiting continuously since some instant (docs/fair-share.md).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "core/scheduler.hpp"

namespace lane_test {

struct SimJob {
  std::int64_t arrive = 0;
  std::int64_t length = 0;
  std::uint32_t tenant = 0;
  std::int32_t priority = 0;
};

struct SimResult {
  std::vector<std::uint32_t> start_order;  // tenant of each start
  std::vector<double> slot_time;           // per tenant, ns, at the end
  std::size_t outcomes = 0;
  std::size_t accepted = 0;
  // Worst |dW_i/w_i - dW_j/w_j| over jointly waiting intervals, and the same
  // divided by that pair's bound; where it was worst.
  double worst_gap_ns = 0;
  double worst_ratio = 0;
  std::string worst_where;
  std::int64_t max_length = 0;
};

struct SimSpec {
  lane::core::Config cfg;
  std::vector<std::uint32_t> weights;  // per tenant (index = tenant)
  std::vector<SimJob> jobs;            // any order: sorted by arrival inside
  bool check_bound = true;
  std::int64_t check_from = 0;         // ignore intervals that start earlier
};

// The stated bound for tenants i and j on m slots, with L the longest job and
// wmin the least weight among the tenants waiting (docs/fair-share.md).
double fair_bound(std::uint32_t m, double L, double wi, double wj, double wmin);

SimResult run_sim(const SimSpec &spec);

// Jain's index of x[i] / w[i].
double jain(const std::vector<double> &x, const std::vector<std::uint32_t> &w);

}  // namespace lane_test

// The fair-share bound, checked at every operation on random workloads:
// random tenants, weights, job lengths, arrival times and slot counts.
#include <cstdlib>
#include <random>

#include "core_fixture.hpp"
#include "fair_sim.hpp"

using namespace lane_test;

namespace {

SimSpec random_workload(std::mt19937_64 &rng) {
  SimSpec s;
  s.cfg = fair(static_cast<std::uint32_t>(std::uniform_int_distribution<int>(1, 8)(rng)));
  const int tenants = std::uniform_int_distribution<int>(2, 8)(rng);
  for (int t = 0; t < tenants; ++t) s.weights.push_back(std::uniform_int_distribution<std::uint32_t>(1, 4)(rng));
  // Some workloads keep the default 1 s estimate, others set one.
  if (rng() % 2) s.cfg.eta_default_runtime_ns = ms(std::uniform_int_distribution<int>(1, 1000)(rng));
  const int jobs = std::uniform_int_distribution<int>(20, 400)(rng);
  const std::int64_t horizon = ms(std::uniform_int_distribution<int>(10, 5000)(rng));
  // Half the workloads run jobs far shorter than the 1 s default estimate.
  const int longest = rng() % 2 ? 100 : 10;
  std::vector<std::int64_t> base_len(tenants);
  for (auto &l : base_len) l = ms(std::uniform_int_distribution<int>(1, longest)(rng));
  // A third of the workloads are newcomers: each tenant brings all its jobs
  // at once, at its own instant.
  const bool newcomers = rng() % 3 == 0;
  std::vector<std::int64_t> arrives(tenants);
  for (auto &a : arrives) a = std::uniform_int_distribution<std::int64_t>(0, horizon / 4)(rng);
  for (int i = 0; i < jobs; ++i) {
    SimJob j;
    j.tenant = std::uniform_int_distribution<std::uint32_t>(0, tenants - 1)(rng);
    // Bursts: half the jobs arrive at a few instants.
    j.arrive = newcomers  ? arrives[j.tenant]
               : rng() % 2 ? horizon * static_cast<std::int64_t>(rng() % 4) / 4
                           : std::uniform_int_distribution<std::int64_t>(0, horizon)(rng);
    j.length = rng() % 4 == 0 ? ms(std::uniform_int_distribution<int>(1, 2 * longest)(rng)) : base_len[j.tenant];
    s.jobs.push_back(j);
  }
  return s;
}

}  // namespace

TEST_SUITE("fair_share_bound") {

TEST_CASE("random workloads never break the stated bound between two waiting tenants") {
  std::mt19937_64 rng(20261201);
  double worst = 0;
  std::string where;
  for (int round = 0; round < (getenv("FAIR_ROUNDS") ? atoi(getenv("FAIR_ROUNDS")) : 400); ++round) {
    SimSpec s = random_workload(rng);
    SimResult r = run_sim(s);
    CHECK(r.outcomes == r.accepted);
    CHECK(r.accepted == s.jobs.size());
    if (r.worst_ratio > worst) {
      worst = r.worst_ratio;
      where = "round " + std::to_string(round) + ", " + std::to_string(s.cfg.max_concurrent) + " slots: " + r.worst_where;
    }
    CHECK_MESSAGE(r.worst_ratio <= 1.0, "round ", round, ": gap ", r.worst_gap_ns, " ns, ", r.worst_where);
  }
  MESSAGE("worst gap / bound: ", worst, " (", where, ")");
}

}  // TEST_SUITE

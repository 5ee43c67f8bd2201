// --probe: one configuration alone, repeated, for perf stat / perf record /
// callgrind. Prints its figure on stderr.
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "common.hpp"
#include "depth.hpp"

namespace bench {

double w1_probe(const std::string &kind, int cap, int submitters);

int probe(const Options &o) {
  std::vector<std::string> f;
  std::stringstream ss(o.probe);
  for (std::string x; std::getline(ss, x, ':');) f.push_back(x);
  if (f.size() == 4 && f[0] == "w1") {
    for (int run = 0; run < o.runs; ++run) {
      std::fprintf(stderr, "w1 %s cap %s, %s submitters: %.0f jobs/s\n", f[1].c_str(), f[2].c_str(), f[3].c_str(),
                   w1_probe(f[1], std::stoi(f[2]), std::stoi(f[3])));
    }
    return 0;
  }
  if (f.size() == 5 && f[0] == "depth") {
    const auto policy = static_cast<lane_policy_t>(std::stoi(f[2]));
    const int depth = std::stoi(f[3]), ops = std::stoi(f[4]);
    DepthCost d = f[1] == "core" ? depth_cost_core(policy, 1, depth, 1, ops) : depth_cost_e2e(policy, 1, depth, 1, ops);
    std::fprintf(stderr, "%s policy %d depth %d: submit %.0f ns, cancel %.0f ns, %.0f bytes/job\n", f[1].c_str(),
                 static_cast<int>(policy), depth, d.submit_ns, d.cancel_ns, d.heap_per_job);
    return 0;
  }
  std::fprintf(stderr, "unknown probe '%s'\n", o.probe.c_str());
  return 2;
}

}  // namespace bench

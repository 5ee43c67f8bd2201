// lane_bench: the throughput, latency, memory, fairness and ETA workloads
// (W1-W10) with their baselines, printed as markdown for
// bench/RESULTS.md. --quick runs every workload at a tiny size (CI).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common.hpp"

int main(int argc, char **argv) {
  bench::Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") {
      o.quick = true;
      o.runs = 1;
    } else if (a == "--runs" && i + 1 < argc) {
      o.runs = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--w6-seconds" && i + 1 < argc) {
      o.w6_seconds = std::max(2.0, std::atof(argv[++i]));
    } else if (a == "--probe" && i + 1 < argc) {
      o.probe = argv[++i];
    } else if (a == "--only" && i + 1 < argc) {
      o.only = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--quick] [--runs N] [--w6-seconds S] [--only W3] [--probe SPEC]\n", argv[0]);
      return 2;
    }
  }
  if (!o.probe.empty()) return bench::probe(o);
  bench::Report r;
  struct W {
    const char *id;
    void (*fn)(const bench::Options &, bench::Report &);
  } ws[] = {{"W1", bench::w1_throughput}, {"W2", bench::w2_submit_wait}, {"W3", bench::w3_cancel_memory},
            {"W4", bench::w4_handoff},    {"W5", bench::w5_fairness},    {"W6", bench::w6_sustained},
            {"W7", bench::w7_submit_scaling}, {"W8", bench::w8_eta},
            {"W9", bench::w9_budgets},        {"W10", bench::w10_cluster}};
  for (const W &w : ws) {
    // --only takes ids separated by commas or spaces ("W1,W10"): whole ids, so W1 is not W10.
    std::string only = "," + o.only + ",";
    for (char &ch : only) ch = ch == ' ' ? ',' : ch;
    if (!o.only.empty() && only.find("," + std::string(w.id) + ",") == std::string::npos) continue;
    std::fprintf(stderr, "== %s\n", w.id);
    const std::int64_t t0 = bench::now_ns();
    w.fn(o, r);
    std::fprintf(stderr, "   (%.1f s)\n", static_cast<double>(bench::now_ns() - t0) / 1e9);
  }
  std::fputs(r.markdown().c_str(), stdout);
  // A missed target is a finding for RESULTS.md, not a failure of the run.
  return 0;
}

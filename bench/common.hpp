// Shared pieces of the benchmark harness: clocks, a busy-or-sleep wait, order
// statistics, heap accounting, and the report that becomes RESULTS.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

// Monotonic nanoseconds (vDSO clock_gettime, ~20 ns).
std::int64_t now_ns();
// What two back-to-back now_ns() calls cost; subtracted from single-op timings.
std::int64_t clock_overhead_ns();
// Waits `ns` of wall time: sleeps the bulk, spins the last stretch, so a job
// lasts what it says without burning a core for long waits.
void work_for(std::int64_t ns);

double median(std::vector<double> v);
// q in [0, 1], nearest rank.
double quantile(std::vector<double> v, double q);
double quantile_i(std::vector<std::int64_t> &v, double q);  // sorts v in place

// Heap accounting. counted_bytes(): bytes live through operator new (usable
// sizes, so allocator rounding counts) while counting is on; heap_bytes():
// glibc's view of everything malloc handed out (mallinfo2), all threads.
void counting(bool on);
std::int64_t counted_bytes();
std::int64_t heap_bytes();
std::int64_t rss_bytes();

struct Options {
  bool quick = false;      // tiny sizes, one run: the CI smoke test
  int runs = 5;            // repetitions per figure; medians are reported
  double w6_seconds = 20;  // W6 sustained-load duration (the issue asks 120)
  std::string only;        // run only workloads whose id contains this
  // For perf/callgrind: one configuration alone, e.g. "w1:cb:64:1" (kind,
  // cap, submitters) or "depth:e2e:1:1000000:100000" (core|e2e, policy,
  // depth, ops; ops 0 = fill only).
  std::string probe;
};

// The report: markdown sections with tables, plus one verdict per target.
class Report {
 public:
  void section(const std::string &title, const std::string &intro);
  void table(const std::vector<std::string> &header);
  void row(const std::vector<std::string> &cells);
  void text(const std::string &t);
  void verdict(const std::string &id, const std::string &target, const std::string &measured, bool met);
  [[nodiscard]] std::string markdown() const;
  [[nodiscard]] bool all_met() const;

 private:
  struct Verdict {
    std::string id, target, measured;
    bool met;
  };
  std::string body_;
  std::vector<Verdict> verdicts_;
};

std::string fmt(double v, int decimals = 0);
std::string fmt_ns(double ns);  // "812 ns", "3.4 µs", "12.1 ms"
std::string fmt_ratio(double r);
// prefix + decimal i (GCC 12 warns falsely on "literal" + std::string at -O3).
std::string numbered(const char *prefix, std::size_t i);

// Workloads (one file each).
void w1_throughput(const Options &o, Report &r);
void w2_submit_wait(const Options &o, Report &r);
void w3_cancel_memory(const Options &o, Report &r);
void w4_handoff(const Options &o, Report &r);
void w5_fairness(const Options &o, Report &r);
void w6_sustained(const Options &o, Report &r);
void w7_submit_scaling(const Options &o, Report &r);
void w8_eta(const Options &o, Report &r);
void w9_budgets(const Options &o, Report &r);
void w10_cluster(const Options &o, Report &r);  // needs LANE_BENCH_REDIS
int probe(const Options &o);

}  // namespace bench

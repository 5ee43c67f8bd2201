#include "common.hpp"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <new>
#include <thread>

namespace bench {

std::int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t clock_overhead_ns() {
  std::vector<std::int64_t> d(2001);
  for (auto &x : d) {
    std::int64_t a = now_ns();
    x = now_ns() - a;
  }
  return static_cast<std::int64_t>(quantile_i(d, 0.5));
}

void work_for(std::int64_t ns) {
  const std::int64_t end = now_ns() + ns;
  constexpr std::int64_t kSpin = 150'000;
  if (ns > 2 * kSpin) {
    timespec ts{};
    const std::int64_t s = ns - kSpin;
    ts.tv_sec = s / 1'000'000'000;
    ts.tv_nsec = s % 1'000'000'000;
    nanosleep(&ts, nullptr);
  }
  while (now_ns() < end) {
  }
}

double median(std::vector<double> v) { return quantile(std::move(v), 0.5); }

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto k = static_cast<std::size_t>(std::lround(q * static_cast<double>(v.size() - 1)));
  return v[std::min(k, v.size() - 1)];
}

double quantile_i(std::vector<std::int64_t> &v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto k = static_cast<std::size_t>(std::lround(q * static_cast<double>(v.size() - 1)));
  return static_cast<double>(v[std::min(k, v.size() - 1)]);
}

// ------------------------------------------------------------ heap accounting

namespace {
std::atomic<bool> g_counting{false};
std::atomic<std::int64_t> g_live{0};

void *counted_alloc(std::size_t n) {
  void *p = std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  if (g_counting.load(std::memory_order_relaxed)) {
    g_live.fetch_add(static_cast<std::int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  }
  return p;
}

void counted_free(void *p) {
  if (!p) return;
  if (g_counting.load(std::memory_order_relaxed)) {
    g_live.fetch_sub(static_cast<std::int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  }
  std::free(p);
}
}  // namespace

void counting(bool on) {
  if (on) g_live.store(0);
  g_counting.store(on);
}
std::int64_t counted_bytes() { return g_live.load(); }

std::int64_t heap_bytes() {
  struct mallinfo2 mi = mallinfo2();
  return static_cast<std::int64_t>(mi.uordblks + mi.hblkhd);
}

std::int64_t rss_bytes() {
  long pages = 0, resident = 0;
  if (FILE *f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<std::int64_t>(resident) * sysconf(_SC_PAGESIZE);
}

// ------------------------------------------------------------------- report

void Report::section(const std::string &title, const std::string &intro) {
  body_ += "\n### " + title + "\n\n";
  if (!intro.empty()) body_ += intro + "\n";
}

void Report::table(const std::vector<std::string> &header) {
  body_ += "\n|";
  for (const auto &h : header) body_ += " " + h + " |";
  body_ += "\n|";
  for (std::size_t i = 0; i < header.size(); ++i) body_ += "---|";
  body_ += "\n";
}

void Report::row(const std::vector<std::string> &cells) {
  body_ += "|";
  for (const auto &c : cells) body_ += " " + c + " |";
  body_ += "\n";
  std::fflush(stdout);
}

void Report::text(const std::string &t) { body_ += "\n" + t + "\n"; }

void Report::verdict(const std::string &id, const std::string &target, const std::string &measured, bool met) {
  verdicts_.push_back({id, target, measured, met});
  std::fprintf(stderr, "  %s: %s -> %s (%s)\n", id.c_str(), target.c_str(), measured.c_str(), met ? "met" : "MISSED");
}

std::string Report::markdown() const {
  std::string s = "## Targets\n\n| | target | measured (median of runs) | verdict |\n|---|---|---|---|\n";
  for (const auto &v : verdicts_) {
    s += "| " + v.id + " | " + v.target + " | " + v.measured + " | " + (v.met ? "met" : "**missed**") + " |\n";
  }
  return s + "\n## Figures\n" + body_;
}

bool Report::all_met() const {
  return std::all_of(verdicts_.begin(), verdicts_.end(), [](const Verdict &v) { return v.met; });
}

std::string fmt(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string fmt_ns(double ns) {
  if (ns < 10'000) return fmt(ns, 0) + " ns";
  if (ns < 10'000'000) return fmt(ns / 1e3, 1) + " µs";
  return fmt(ns / 1e6, 1) + " ms";
}

std::string fmt_ratio(double r) { return fmt(r, 2) + "x"; }

std::string numbered(const char *prefix, std::size_t i) {
  std::string s(prefix);
  s.append(std::to_string(i));
  return s;
}

}  // namespace bench

// Every operator new of the process (liblane's included: the executable's
// definitions interpose) goes through the counter.
void *operator new(std::size_t n) { return bench::counted_alloc(n); }
void *operator new[](std::size_t n) { return bench::counted_alloc(n); }
void operator delete(void *p) noexcept { bench::counted_free(p); }
void operator delete[](void *p) noexcept { bench::counted_free(p); }
void operator delete(void *p, std::size_t) noexcept { bench::counted_free(p); }
void operator delete[](void *p, std::size_t) noexcept { bench::counted_free(p); }

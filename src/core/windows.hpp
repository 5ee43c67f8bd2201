// Fixed-memory windows over recent history: the rolling runtime mean for the
// ETA, per-second completion buckets for throughput, and a sample ring for
// quantiles. Each costs O(1) per record, whatever the load or uptime.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

namespace lane::core {

// Mean of the last n runtimes.
class RuntimeWindow {
 public:
  explicit RuntimeWindow(std::uint32_t n) { resize(n); }

  void resize(std::uint32_t n) {
    std::vector<std::int64_t> recent;
    recent.reserve(count_);
    for (std::size_t i = 0; i < count_; ++i) {
      recent.push_back(ring_[(next_ + ring_.size() - count_ + i) % ring_.size()]);
    }
    ring_.assign(n, 0);
    next_ = 0;
    count_ = 0;
    sum_ = 0;
    std::size_t skip = recent.size() > n ? recent.size() - n : 0;
    for (std::size_t i = skip; i < recent.size(); ++i) add(recent[i]);
  }

  void add(std::int64_t v) {
    if (count_ == ring_.size()) {
      sum_ -= ring_[next_];
    } else {
      ++count_;
    }
    ring_[next_] = v;
    sum_ += v;
    next_ = (next_ + 1) % ring_.size();
  }

  [[nodiscard]] std::uint32_t capacity() const { return static_cast<std::uint32_t>(ring_.size()); }
  [[nodiscard]] std::size_t count() const { return count_; }
  // 0 when there is no history.
  [[nodiscard]] std::int64_t mean() const { return count_ ? sum_ / static_cast<std::int64_t>(count_) : 0; }

 private:
  std::vector<std::int64_t> ring_;
  std::size_t next_ = 0;
  std::size_t count_ = 0;
  std::int64_t sum_ = 0;
};

// Events in the last 60 seconds, one bucket per second.
class ThroughputWindow {
 public:
  static constexpr std::int64_t kSeconds = 60;

  void record(std::int64_t now_ns) {
    std::int64_t sec = second_of(now_ns);
    Bucket &b = buckets_[static_cast<std::size_t>(sec % kSeconds)];
    if (b.second != sec) {
      b.second = sec;
      b.count = 0;
    }
    ++b.count;
  }

  [[nodiscard]] std::uint32_t last_minute(std::int64_t now_ns) const {
    std::int64_t sec = second_of(now_ns);
    std::uint32_t total = 0;
    for (const Bucket &b : buckets_) {
      if (b.second > sec - kSeconds && b.second <= sec) total += b.count;
    }
    return total;
  }

 private:
  struct Bucket {
    std::int64_t second = -1;
    std::uint32_t count = 0;
  };
  static std::int64_t second_of(std::int64_t ns) { return ns >= 0 ? ns / 1'000'000'000 : 0; }
  std::array<Bucket, kSeconds> buckets_{};
};

// The last kSize samples, for p50/p99 on demand.
class SampleRing {
 public:
  static constexpr std::size_t kSize = 1024;

  void add(std::int64_t v) {
    ring_[next_] = v;
    next_ = (next_ + 1) % kSize;
    if (count_ < kSize) ++count_;
  }

  // q in [0, 1]; 0 with no samples.
  [[nodiscard]] std::int64_t quantile(double q) const {
    std::vector<std::int64_t> v;
    copy_to(v);
    return quantile_of(v, q);
  }
  // The samples, in no particular order (to compute quantiles elsewhere).
  void copy_to(std::vector<std::int64_t> &v) const {
    v.assign(ring_.begin(), ring_.begin() + static_cast<std::ptrdiff_t>(count_));
  }
  // q in [0, 1] of v (reordered); 0 for an empty v.
  static std::int64_t quantile_of(std::vector<std::int64_t> &v, double q) {
    if (v.empty()) return 0;
    auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
    if (k >= v.size()) k = v.size() - 1;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
  }

 private:
  std::array<std::int64_t, kSize> ring_{};
  std::size_t next_ = 0;
  std::size_t count_ = 0;
};

}  // namespace lane::core

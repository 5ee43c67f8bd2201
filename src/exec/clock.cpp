#include "clock.hpp"

#include <ctime>

namespace lane::exec {

namespace {

std::int64_t read(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

std::int64_t real_now_ns() {
  static const std::int64_t offset = read(CLOCK_REALTIME) - read(CLOCK_MONOTONIC);
  return read(CLOCK_MONOTONIC) + offset;
}

}  // namespace lane::exec

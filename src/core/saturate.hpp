// Time arithmetic that saturates instead of overflowing: a deadline past the
// end of int64 nanoseconds is "never" (INT64_MAX, which is kNoDeadline), one
// before its start is INT64_MIN. Every deadline the library computes from a
// host-given duration or clock goes through these.
#pragma once

#include <cstdint>

namespace lane::core {

inline std::int64_t sat_add(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
  return r;
}

inline std::int64_t sat_sub(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) return b < 0 ? INT64_MAX : INT64_MIN;
  return r;
}

inline std::int64_t sat_mul(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return (a < 0) == (b < 0) ? INT64_MAX : INT64_MIN;
  return r;
}

}  // namespace lane::core

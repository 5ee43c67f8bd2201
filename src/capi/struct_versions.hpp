// Versioned public structs. Every public struct starts with struct_size and
// only ever grows at its end. What the library accepts:
//  - in (options, jobs): any struct_size from the end of the struct's last
//    first-release field up; fields beyond struct_size read as zero (their
//    documented defaults); bytes beyond the fields this library knows are
//    ignored, so a newer host's larger struct is fine.
//  - out (tickets, stats, outcomes, events, samples): the same lower bound;
//    the library writes the fields it knows that fit in struct_size, zeroes
//    the rest of the host's struct (a newer host's fields read as "not
//    reported") and leaves struct_size as the host set it.
// A field appended later must start at or beyond the previous release's
// sizeof (never in its tail padding, where an older host may leave garbage):
// tests/abi/struct_versions.c checks that against frozen copies.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lane/lane.h"

namespace lane::capi {

template <class T>
struct FirstRelease;  // ::end = the end of the struct's last field in 0.1.0

#define LANE_FIRST_RELEASE(T, last_field)                                                \
  template <>                                                                            \
  struct FirstRelease<T> {                                                               \
    static constexpr std::size_t end = offsetof(T, last_field) + sizeof(T::last_field); \
  }

LANE_FIRST_RELEASE(lane_outcome_t, finished_at_ns);
LANE_FIRST_RELEASE(lane_job_t, queue_timeout_ns);
LANE_FIRST_RELEASE(lane_ticket_t, blocked_by);
LANE_FIRST_RELEASE(lane_options_t, clock_ud);
LANE_FIRST_RELEASE(lane_stats_t, mean_runtime_ns);
LANE_FIRST_RELEASE(lane_event_t, ctx);
LANE_FIRST_RELEASE(lane_registry_options_t, clock_ud);
LANE_FIRST_RELEASE(lane_sampler_options_t, clock_ud);
LANE_FIRST_RELEASE(lane_sample_t, sampled_at_ns);
LANE_FIRST_RELEASE(lane_session_options_t, throttle_ratio);
LANE_FIRST_RELEASE(lane_api_t, ctx_dropped_id);
LANE_FIRST_RELEASE(lane_cluster_options_t, timeout_ns);  // first released in 0.4

#undef LANE_FIRST_RELEASE

template <class T>
constexpr std::size_t min_size() {
  return FirstRelease<T>::end;
}

// Reads a host's struct into out (zeroed first). False if struct_size is
// below the first release's.
template <class T>
bool read_struct(const T *in, T &out) {
  out = T{};
  const std::uint32_t n = in->struct_size;
  if (n < min_size<T>()) return false;
  std::memcpy(&out, in, std::min<std::size_t>(n, sizeof(T)));
  out.struct_size = sizeof(T);
  return true;
}

template <class T>
bool writable(const T *out) {
  return out->struct_size >= min_size<T>();
}

// Writes value into host memory of `size` bytes (size >= min_size<T>()).
template <class T>
void write_sized(void *dst, std::uint32_t size, T value) {
  value.struct_size = size;
  const std::size_t n = std::min<std::size_t>(size, sizeof(T));
  std::memcpy(dst, &value, n);
  if (size > n) std::memset(static_cast<unsigned char *>(dst) + n, 0, size - n);
}

template <class T>
void write_struct(T *out, const T &value) {
  write_sized(out, out->struct_size, value);
}

}  // namespace lane::capi

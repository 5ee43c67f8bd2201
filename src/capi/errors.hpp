// The C API's error discipline: every failure sets a message for this thread
// and returns a status; no exception crosses into the host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>

#include "lane/lane.h"

namespace lane::capi {

lane_status_t fail(lane_status_t status, std::string message);

// Validates a job (struct_size, id, flags, durations, run or port) into j.
lane_status_t check_job(const lane_job_t *job, lane_job_t &j);

// Runs f, mapping any exception to a status and a message.
template <class F>
auto guarded(F &&f) noexcept -> decltype(f()) {
  using R = decltype(f());
  try {
    return f();
  } catch (const std::bad_alloc &) {
    return static_cast<R>(fail(LANE_ERR_NOMEM, "out of memory"));
  } catch (const std::exception &e) {
    return static_cast<R>(fail(LANE_ERR_INTERNAL, std::string("internal error: ") + e.what()));
  } catch (...) {
    return static_cast<R>(fail(LANE_ERR_INTERNAL, "internal error: unknown exception"));
  }
}

// A C host may pass any int as an enum; in C++ an out-of-range enum value is
// undefined, so look at the bytes as an int before trusting it.
template <class E>
int raw_enum(const E &e) {
  static_assert(sizeof(E) == sizeof(int));
  int v;
  std::memcpy(&v, &e, sizeof v);
  return v;
}

// Versioned structs: the first release's size is the minimum a caller may
// pass; later releases only append, and fields beyond struct_size read as 0.
template <class T>
bool read_struct(const T *in, T &out) {
  out = T{};
  if (in->struct_size < sizeof(T)) return false;
  std::memcpy(&out, in, sizeof(T));
  return true;
}

template <class T>
bool writable(const T *out) {
  return out->struct_size >= sizeof(T);
}

template <class T>
void write_struct(T *out, T value) {
  value.struct_size = out->struct_size;
  std::memcpy(out, &value, sizeof(T));
}

}  // namespace lane::capi

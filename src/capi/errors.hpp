// The C API's error discipline: every failure sets a message for this thread
// and returns a status; no exception crosses into the host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

#include "exec/job_spec.hpp"
#include "lane/lane.h"
#include "struct_versions.hpp"

namespace lane::capi {

// Sets this thread's message (at most kMaxMessage bytes: a longer one is cut
// and says so) and returns status. Never allocates.
inline constexpr std::size_t kMaxMessage = 1024;
lane_status_t fail(lane_status_t status, std::string_view message);

// A host string (id, name, key) in quotes, cut to 64 bytes: a message never
// grows with what the host passed.
std::string quoted(std::string_view s);

// A struct whose struct_size is below its first release's.
lane_status_t bad_struct_size(const char *what, std::uint32_t got, std::size_t min);
template <class T>
lane_status_t bad_struct_size(const char *what, const T *p) {
  return bad_struct_size(what, p->struct_size, min_size<T>());
}

// Validates a job (struct_size, id, flags, durations, run or port) into the
// one JobSpec every layer takes; its strings are the host's, valid for the call.
lane_status_t check_job(const lane_job_t *job, lane::exec::JobSpec &spec);

// Runs f, mapping any exception to a status and a message.
template <class F>
auto guarded(F &&f) noexcept -> decltype(f()) {
  using R = decltype(f());
  try {
    return f();
  } catch (const std::bad_alloc &) {
    return static_cast<R>(fail(LANE_ERR_NOMEM, "out of memory"));
  } catch (const std::exception &e) {
    return static_cast<R>(fail(LANE_ERR_INTERNAL, e.what()));  // nothing here may allocate
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

}  // namespace lane::capi

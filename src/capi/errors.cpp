#include "errors.hpp"

#include <algorithm>
#include <cstring>

namespace lane::capi {

namespace {
// A fixed buffer, not a std::string: storing a message never allocates, so
// an out-of-memory refusal still says what it is (never a stale message).
thread_local char last_error[kMaxMessage + 1];

std::size_t put(std::size_t at, std::string_view s) {
  const std::size_t n = std::min(s.size(), kMaxMessage - at);
  std::memcpy(last_error + at, s.data(), n);
  return at + n;
}
}  // namespace

lane_status_t fail(lane_status_t status, std::string_view message) {
  static constexpr std::string_view kCut = "... (message cut)";
  const std::string_view name = lane_status_name(status);
  std::size_t at = put(0, name);
  at = put(at, ": ");
  if (at + message.size() > kMaxMessage) {
    at = put(at, message.substr(0, kMaxMessage - kCut.size() - at));
    at = put(at, kCut);
  } else {
    at = put(at, message);
  }
  last_error[at] = '\0';
  return status;
}

std::string quoted(std::string_view s) {
  // Built by appending: GCC 12 at -O3 reports a false -Wrestrict for
  // "literal" + std::string (GCC bug 105329).
  constexpr std::size_t kMax = 64;
  std::string q;
  q.reserve(std::min(s.size(), kMax) + 32);
  q += '\'';
  q.append(s.substr(0, kMax));
  q += '\'';
  if (s.size() > kMax) {
    q.insert(q.size() - 1, "...");
    q.append(" (").append(std::to_string(s.size())).append(" bytes)");
  }
  return q;
}

lane_status_t bad_struct_size(const char *what, std::uint32_t got, std::size_t min) {
  return fail(LANE_ERR_INVALID, std::string(what) + "->struct_size is " + std::to_string(got) + ", expected at least " +
                                    std::to_string(min));
}

}  // namespace lane::capi

extern "C" {

LANE_API const char *lane_last_error(void) { return lane::capi::last_error; }

LANE_API const char *lane_status_name(lane_status_t status) {
  switch (lane::capi::raw_enum(status)) {
    case LANE_OK: return "LANE_OK";
    case LANE_ERR_INVALID: return "LANE_ERR_INVALID";
    case LANE_ERR_CLOSED: return "LANE_ERR_CLOSED";
    case LANE_ERR_BUSY: return "LANE_ERR_BUSY";
    case LANE_ERR_NOT_QUEUED: return "LANE_ERR_NOT_QUEUED";
    case LANE_ERR_CANCELLED: return "LANE_ERR_CANCELLED";
    case LANE_ERR_PREEMPTED: return "LANE_ERR_PREEMPTED";
    case LANE_ERR_DUPLICATE: return "LANE_ERR_DUPLICATE";
    case LANE_ERR_QUEUE_FULL: return "LANE_ERR_QUEUE_FULL";
    case LANE_ERR_DROPPED: return "LANE_ERR_DROPPED";
    case LANE_ERR_STALE: return "LANE_ERR_STALE";
    case LANE_ERR_CLEARED: return "LANE_ERR_CLEARED";
    case LANE_ERR_TIMEOUT: return "LANE_ERR_TIMEOUT";
    case LANE_ERR_NOMEM: return "LANE_ERR_NOMEM";
    case LANE_ERR_JOB_FAILED: return "LANE_ERR_JOB_FAILED";
    case LANE_ERR_INTERNAL: return "LANE_ERR_INTERNAL";
    case LANE_ERR_DEADLOCK: return "LANE_ERR_DEADLOCK";
    case LANE_ERR_IO: return "LANE_ERR_IO";
    case LANE_ERR_UNSUPPORTED: return "LANE_ERR_UNSUPPORTED";
    case LANE_ERR_UNAVAILABLE: return "LANE_ERR_UNAVAILABLE";
  }
  return "LANE_ERR_UNKNOWN";
}

LANE_API uint32_t lane_abi_version(void) { return LANE_ABI_VERSION; }

LANE_API const char *lane_version_string(void) { return LANE_VERSION_STRING; }

}  // extern "C"

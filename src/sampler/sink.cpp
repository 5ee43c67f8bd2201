#include "sampler/sink.hpp"

namespace lane::sampler {

bool CallbackSink::write(const std::vector<registry::Occupancy> &rows, std::int64_t at_ns, std::string *why) {
  std::size_t failed = 0;
  for (const auto &r : rows) {
    const std::int32_t rc = sink_(r.lane.c_str(), r.running, r.queued, at_ns, ud_);
    if (rc != 0 && failed++ == 0) *why = "sink returned " + std::to_string(rc) + " for lane '" + r.lane + "'";
  }
  if (failed > 1) *why += " (and failed for " + std::to_string(failed - 1) + " more lanes)";
  return failed == 0;
}

std::int64_t CallbackSink::purge(std::int64_t older_than_ns, std::string *why) {
  if (!purger_) return 0;
  const std::int64_t n = purger_(older_than_ns, ud_);
  if (n < 0) {
    *why = "purge callback returned " + std::to_string(n);
    return -1;
  }
  return n;
}

}  // namespace lane::sampler

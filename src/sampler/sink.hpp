// Where occupancy samples go: the host's callbacks or the SQLite history.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "registry/registry.hpp"

namespace lane::sampler {

class Sink {
 public:
  virtual ~Sink() = default;
  // One row per lane, all stamped at_ns. false (with *why) if any row failed.
  virtual bool write(const std::vector<registry::Occupancy> &rows, std::int64_t at_ns, std::string *why) = 0;
  // Rows before older_than_ns; -1 (with *why) on failure.
  virtual std::int64_t purge(std::int64_t older_than_ns, std::string *why) = 0;
};

// The host's lane_sample_fn / lane_purge_fn, called with no lock held.
class CallbackSink final : public Sink {
 public:
  CallbackSink(lane_sample_fn sink, lane_purge_fn purger, void *ud) : sink_(sink), purger_(purger), ud_(ud) {}
  bool write(const std::vector<registry::Occupancy> &rows, std::int64_t at_ns, std::string *why) override;
  std::int64_t purge(std::int64_t older_than_ns, std::string *why) override;

 private:
  lane_sample_fn sink_;
  lane_purge_fn purger_;
  void *ud_;
};

}  // namespace lane::sampler

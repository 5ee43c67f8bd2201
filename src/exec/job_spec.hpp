// What a host says about one job, in the one form every layer passes on:
// the C API builds it from a checked lane_job_t, a session keeps it (with its
// own copies of the strings) for each queued message, and the exec lane
// turns it into the job's record when it accepts the job.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lane/lane.h"

struct lane_port_s;

namespace lane::exec {

struct JobSpec {
  // Views: whoever holds the JobSpec keeps the strings alive while it is used.
  std::string_view id;
  std::string_view tenant;
  std::int32_t priority = 0;
  std::uint32_t flags = 0;
  std::int64_t max_wait_ns = 0;
  std::int64_t queue_timeout_ns = 0;
  lane_run_fn run = nullptr;  // nullptr: a host-run job, granted through port
  lane_done_fn on_done = nullptr;
  void *user_data = nullptr;
  lane_port_s *port = nullptr;
  // Budgets (lane_job_t's 0.3 fields): literal values, checked by the C API.
  std::int64_t cost = 0;
  std::int64_t run_timeout_ns = 0;
  std::uint32_t slots = 0;

  [[nodiscard]] bool host_run() const { return run == nullptr; }
};

// A JobSpec that owns its id and tenant (a session's queued message).
class OwnedJobSpec {
 public:
  explicit OwnedJobSpec(const JobSpec &s) : id_(s.id), tenant_(s.tenant), spec_(s) { point(); }
  OwnedJobSpec(const OwnedJobSpec &o) : id_(o.id_), tenant_(o.tenant_), spec_(o.spec_) { point(); }
  OwnedJobSpec &operator=(const OwnedJobSpec &) = delete;

  [[nodiscard]] const JobSpec &spec() const { return spec_; }
  [[nodiscard]] const std::string &id() const { return id_; }
  [[nodiscard]] const std::string &tenant() const { return tenant_; }

 private:
  void point() {
    spec_.id = id_;
    spec_.tenant = tenant_;
  }
  std::string id_, tenant_;
  JobSpec spec_;
};

}  // namespace lane::exec

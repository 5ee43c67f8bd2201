// The one place an outcome is built and handed to the host: the on_done
// callback and a port's DONE event. The exec lane delivers its jobs' outcomes
// through it, and a session its messages' (a run's outcome fans out to every
// message it carried). Called with no library lock held.
#pragma once

#include <cstdint>

#include "lane/lane.h"

struct lane_port_s;

namespace lane::exec {

struct OutcomeFields {
  lane_status_t status = LANE_OK;
  std::int32_t job_code = 0;
  const char *job_id = nullptr;
  const char *lane_name = nullptr;
  std::uint64_t job_token = 0;
  std::int64_t enqueued_at_ns = 0;
  std::int64_t started_at_ns = 0;   // 0: it never ran
  std::int64_t finished_at_ns = 0;
};

[[nodiscard]] lane_outcome_t make_outcome(const OutcomeFields &f);

// Calls on_done (a host exception stops there), then posts DONE to port and
// gives back the job's reference on it. Either may be null. port_room: the
// events the job holds reserved in port (lane_port_s::reserve); DONE uses
// one, the rest is given back.
void hand_over(const lane_outcome_t &o, lane_done_fn on_done, void *user_data, lane_port_s *port, lane_t *lane,
               std::uint8_t port_room = 0);

}  // namespace lane::exec

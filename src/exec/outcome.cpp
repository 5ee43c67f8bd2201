#include "outcome.hpp"

#include "port.hpp"

namespace lane::exec {

lane_outcome_t make_outcome(const OutcomeFields &f) {
  lane_outcome_t o{};
  o.struct_size = sizeof o;
  o.status = f.status;
  o.job_code = f.job_code;
  o.job_id = f.job_id;
  o.lane = f.lane_name;
  o.job_token = f.job_token;
  o.enqueued_at_ns = f.enqueued_at_ns;
  o.started_at_ns = f.started_at_ns;
  o.finished_at_ns = f.finished_at_ns;
  return o;
}

void hand_over(const lane_outcome_t &o, lane_done_fn on_done, void *user_data, lane_port_s *port, lane_t *lane,
               std::uint8_t port_room) {
  if (on_done) {
    try {
      on_done(&o, user_data);
    } catch (...) {
      // A host exception must not unwind through the library.
    }
  }
  if (port) {
    lane_event_t ev{};
    ev.struct_size = sizeof ev;
    ev.kind = LANE_EVENT_DONE;
    ev.status = o.status;
    ev.job_code = o.job_code;
    ev.lane = lane;
    ev.job_token = o.job_token;
    ev.user_data = user_data;
    ev.at_ns = o.finished_at_ns;
    port->post(ev, port_room > 0);
    if (port_room > 1) port->unreserve(port_room - 1);
    port->release();
  }
}

}  // namespace lane::exec

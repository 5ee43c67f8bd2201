// extern "C" entry points for ports.
#include "errors.hpp"
#include "exec/port.hpp"

using lane::capi::fail;
using lane::capi::guarded;

namespace {
bool ok(const lane_port_t *port) { return port != nullptr && port->valid(); }
lane_status_t bad_port(const lane_port_t *port) {
  return fail(LANE_ERR_INVALID, port ? "not a live port handle" : "port is NULL");
}
}  // namespace

extern "C" {

LANE_API lane_status_t lane_port_create(lane_port_t **out) {
  return guarded([&] {
    if (!out) return fail(LANE_ERR_INVALID, "out is NULL");
    *out = nullptr;
    *out = new lane_port_s();
    return LANE_OK;
  });
}

LANE_API lane_status_t lane_port_destroy(lane_port_t *port) {
  if (!port) return LANE_OK;
  if (!port->valid()) return bad_port(port);
  if (!port->close_by_host()) return fail(LANE_ERR_INVALID, "lane_port_destroy: the port is already destroyed");
  return LANE_OK;
}

LANE_API int lane_port_fd(const lane_port_t *port) {
  if (!ok(port)) return bad_port(port), -1;
  return port->wakeup().fd();
}

LANE_API void *lane_port_handle(const lane_port_t *port) {
  if (!ok(port)) return bad_port(port), nullptr;
  void *h = port->wakeup().handle();
  if (h == nullptr) fail(LANE_ERR_UNSUPPORTED, "lane_port_handle: no port handle on this platform (use lane_port_fd)");
  return h;
}

LANE_API int32_t lane_port_poll(lane_port_t *port, lane_event_t *events, int32_t max, int64_t timeout_ns) {
  return guarded([&]() -> std::int32_t {
    if (!ok(port)) return bad_port(port);
    if (!events) return fail(LANE_ERR_INVALID, "events is NULL");
    if (max <= 0) return fail(LANE_ERR_INVALID, "max must be at least 1");
    const std::uint32_t stride = events[0].struct_size;
    if (stride < lane::capi::min_size<lane_event_t>()) {
      return lane::capi::bad_struct_size("events[0]", stride, lane::capi::min_size<lane_event_t>());
    }
    auto *bytes = reinterpret_cast<unsigned char *>(events);
    return port->poll(bytes, max, stride, std::min<std::size_t>(stride, sizeof(lane_event_t)), timeout_ns);
  });
}

LANE_API lane_status_t lane_port_wake(lane_port_t *port) {
  if (!ok(port)) return bad_port(port);
  port->wake();
  return LANE_OK;
}

}  // extern "C"

// Waiting on a port's wake-up object the way a host of each platform does:
// poll(2) on lane_port_fd on Linux, WaitForSingleObject on lane_port_handle on
// Windows. The tests above it are the same on both.
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "lane/lane.h"

#ifdef _WIN32
#include <windows.h>
#else
#include <poll.h>
#endif

namespace port_signal {

#ifdef _WIN32

inline bool available(lane_port_t *port) { return lane_port_handle(port) != nullptr; }

inline bool wait(lane_port_t *port, int timeout_ms) {
  return WaitForSingleObject(static_cast<HANDLE>(lane_port_handle(port)), static_cast<DWORD>(timeout_ms)) ==
         WAIT_OBJECT_0;
}

// Windows: a HANDLE, stable for the port's life, and no file descriptor.
inline void check_platform_contract(lane_port_t *port) {
  void *h = lane_port_handle(port);
  REQUIRE(h != nullptr);
  CHECK(lane_port_handle(port) == h);
  CHECK(lane_port_fd(port) == -1);
}

#else

inline bool available(lane_port_t *port) { return lane_port_fd(port) >= 0; }

inline bool wait(lane_port_t *port, int timeout_ms) {
  pollfd p{lane_port_fd(port), POLLIN, 0};
  int n = ::poll(&p, 1, timeout_ms);
  return n == 1 && (p.revents & POLLIN) != 0;
}

// Linux: an eventfd, and no handle (NULL, with a message naming lane_port_fd).
inline void check_platform_contract(lane_port_t *port) {
  int fd = lane_port_fd(port);
  CHECK(fd >= 0);
  CHECK(lane_port_fd(port) == fd);
  CHECK(lane_port_handle(port) == nullptr);
  CHECK(std::string(lane_last_error()).find("lane_port_fd") != std::string::npos);
}

#endif

}  // namespace port_signal

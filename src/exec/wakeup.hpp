// A port's wake-up signal: an OS object that is "set" while the port has
// events (or a lane_port_wake) waiting, so a host can wait on it with its own
// event loop. One interface, one implementation per platform, chosen by the
// build: wakeup_linux.cpp (an eventfd) and wakeup_windows.cpp (a manual-reset
// event). The port calls set() and clear() under its own lock, at most once
// per transition, so neither needs to be idempotent.
#pragma once

namespace lane::exec {

class Wakeup {
 public:
  Wakeup();  // throws std::system_error when the OS refuses the object
  ~Wakeup();
  Wakeup(const Wakeup &) = delete;
  Wakeup &operator=(const Wakeup &) = delete;

  void set();    // readable / signalled
  void clear();  // not readable / not signalled

  // What a host waits on: a file descriptor (Linux: the eventfd; -1 where
  // there is none) and an OS handle (Windows: the event HANDLE; nullptr
  // elsewhere). Valid for the object's lifetime.
  int fd() const { return fd_; }
  void *handle() const { return handle_; }

 private:
  int fd_ = -1;
  void *handle_ = nullptr;
};

}  // namespace lane::exec

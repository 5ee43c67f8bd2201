// A port: the event queue through which host-run jobs are granted, cancelled
// and finished. Its lock is a leaf (nothing else is locked under it), so the
// lane may post events while it holds its own lock, which keeps GRANT, CANCEL
// and DONE of one job in order.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <vector>
#include <mutex>

#include "lane/lane.h"

#include "handle.hpp"
#include "wakeup.hpp"

struct lane_port_s : lane::exec::Tagged<lane::exec::kPortTag> {

  lane_port_s();
  ~lane_port_s();
  lane_port_s(const lane_port_s &) = delete;
  lane_port_s &operator=(const lane_port_s &) = delete;

  // Room for n more events, taken before a job is accepted (may throw
  // std::bad_alloc): a post that uses it never allocates, so a job's GRANT
  // and DONE cannot be lost to an allocation failure. Every reservation is
  // used by post(ev, true) or given back with unreserve.
  void reserve(std::size_t n);
  void unreserve(std::size_t n);
  // Queues ev (dropped once the host has closed the port). Without a
  // reservation it may have to grow the queue, which may throw.
  void post(const lane_event_t &ev, bool reserved = false);
  // Copies up to max events into `out`, `stride` bytes apart, each
  // `copy` bytes long. Waits up to timeout_ns (< 0 = forever).
  std::int32_t poll(unsigned char *out, std::int32_t max, std::size_t stride, std::size_t copy,
                    std::int64_t timeout_ns);
  void wake();
  // The host's destroy: later events are dropped; freed with the last job's reference.
  bool close_by_host();  // false if already closed
  void retain() { refs.fetch_add(1, std::memory_order_relaxed); }
  void release();

  // Readable / signalled while events (or a wake) wait; the OS object behind
  // lane_port_fd and lane_port_handle.
  const lane::exec::Wakeup &wakeup() const { return wakeup_; }

 private:
  void signal_locked();
  void drain_locked();
  void grow_locked(std::size_t need);  // room for `need` events in ring_

  std::atomic<std::uint32_t> refs{1};
  std::mutex mu_;
  std::condition_variable cv_;
  // The events: a ring of ring_.size() with count_ from head_; always room
  // for count_ + reserved_.
  std::vector<lane_event_t> ring_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::size_t reserved_ = 0;
  lane::exec::Wakeup wakeup_;
  bool signalled_ = false;  // wakeup_ is set
  bool woken_ = false;
  bool closed_ = false;
};

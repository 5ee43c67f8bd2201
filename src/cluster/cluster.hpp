// Lanes shared across processes: a connection to one Redis (hiredis) and
// one thread that keeps every member lane's slots there (docs/cluster.md).
//
// A member lane runs only on slots granted by the arbiter, a Lua script that
// Redis runs atomically under the lane's hash tag (script.hpp). The thread
// asks the lane what it needs (SlotAsk), runs the script once per lane that
// has news or whose lease is due, and tells the lane what it holds
// (SlotAnswer). Grants to another member reach it by a PUBLISH on its own
// channel, which wakes its thread to ask again; the lease renewal (every
// third of a lease) catches anything a lost message missed.
//
// Threads and locks: lanes poke the thread through an eventfd, without a
// lock; the thread takes a lane's lock only inside slots_ask/slots_answer
// (lane layer) and its own member-list lock otherwise, never both at once.
// No host code runs on this thread but what a granted dispatch delivers
// (none: callbacks run on workers, ports only get events).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "exec/handle.hpp"
#include "exec/lane.hpp"
#include "lane/lane.h"

namespace lane::cluster {

struct Options {
  std::string url = "redis://127.0.0.1:6379/0";
  std::string prefix = "lane";
  std::int64_t lease_ns = 10'000'000'000;
  std::int64_t timeout_ns = 1'000'000'000;
  std::uint32_t fallback_slots = 0;
};

// True when this build has the Redis client (hiredis).
bool available();

}  // namespace lane::cluster

struct lane_cluster_s final : lane::exec::Tagged<lane::exec::kClusterTag>, lane::exec::Membership {
  // Connects and starts the thread. LANE_ERR_UNAVAILABLE (Redis does not
  // answer), LANE_ERR_INVALID (a bad url), LANE_ERR_UNSUPPORTED (no hiredis
  // in this build); *why says more.
  static lane_status_t create(const lane::cluster::Options &opts, lane_cluster_s **out, std::string *why);
  ~lane_cluster_s();
  lane_cluster_s(const lane_cluster_s &) = delete;
  lane_cluster_s &operator=(const lane_cluster_s &) = delete;

  // Makes the lane (new, nothing submitted yet) a member (lane_s::join).
  void join(lane_s *lane) override;
  // After the lane's shutdown: gives back what it still holds, and forgets it.
  void leave(lane_s *lane) noexcept override;
  // Member lanes now.
  [[nodiscard]] std::size_t members();

  const lane::cluster::Options options;

  struct Impl;

 private:
  explicit lane_cluster_s(const lane::cluster::Options &opts);
  std::unique_ptr<Impl> impl_;
};

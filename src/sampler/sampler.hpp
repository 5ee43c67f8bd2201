// The occupancy sampler: every interval one row per registry lane to a sink,
// every purge interval a purge of rows older than the retention.
//
// Locking: mu_ guards the thread's state and the registry pointer; ctl_mu_
// serialises start, stop and detach (which join the thread). Neither is held
// while the sink, the purge callback, the clock or the log run; a pass in
// progress is counted in active_ so that detach can wait for it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "registry/registry.hpp"
#include "sampler/sink.hpp"

namespace lane::sampler {

struct Options {
  std::int64_t interval_ns;
  std::int64_t retention_ns;
  std::int64_t purge_interval_ns;
  lane_clock_fn clock;
  void *clock_ud;
};

class Sampler final : public registry::Attachment {
 public:
  Sampler(lane_registry_s *reg, const Options &o, std::unique_ptr<Sink> sink)
      : reg_(reg), opts_(o), sink_(std::move(sink)) {}
  ~Sampler() override;

  lane_status_t start(std::string *why);
  lane_status_t stop(std::string *why);
  lane_status_t sample_once(std::string *why);
  lane_status_t purge_once(std::string *why);
  void detach() override;
  // lane_sampler_destroy: stop, then leave the registry's list.
  void close();
  // Is this thread inside one of this sampler's sink or purge calls?
  [[nodiscard]] bool in_own_callback() const;

 private:
  // Marks a pass in progress; nullptr if the registry is gone.
  lane_registry_s *enter();
  void leave();
  [[nodiscard]] std::int64_t now() const;
  lane_status_t sample(lane_registry_s *reg, std::string *why);
  lane_status_t purge(lane_registry_s *reg, std::string *why);
  void thread_main();
  // Under ctl_mu_: stops the thread and joins it (unless called on it).
  void stop_locked();

  std::mutex ctl_mu_;
  std::mutex mu_;
  std::condition_variable cv_;
  lane_registry_s *reg_;
  int active_ = 0;
  bool running_ = false;  // the thread should keep going
  std::thread thread_;
  std::thread::id thread_id_;

  const Options opts_;
  const std::unique_ptr<Sink> sink_;
};

}  // namespace lane::sampler

struct lane_sampler_s : lane::exec::Tagged<lane::exec::kSamplerTag> {
  std::shared_ptr<lane::sampler::Sampler> impl;
};

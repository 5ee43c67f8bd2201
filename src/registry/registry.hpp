// A registry of named lanes: created lazily with their concurrency from a
// config source, resized in place by reload, removed when idle (by the host,
// or retired after idle_retire_ns), destroyed with the registry.
//
// Locking: lane_registry_s::mu_ guards the map, the set of logged bad config
// values and the attached samplers. Under it we take only lane mutexes (leaf
// locks). The config callback, the log callback and the clock are always
// called with no library lock held; lanes leave the map under the lock but
// are shut down after it is released.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "exec/lane.hpp"
#include "registry/config.hpp"

namespace lane::registry {

// One lane of the registry. Shared so that a metrics or sampler pass can read
// a lane after releasing the registry lock while a remove drops it: the last
// holder shuts the lane down.
struct Entry {
  explicit Entry(lane_s *l, std::int64_t t) : lane(l), last_used_ns(t) {}
  ~Entry();
  Entry(const Entry &) = delete;
  Entry &operator=(const Entry &) = delete;

  lane_s *const lane;
  std::int64_t last_used_ns;  // last borrow, or last time a sweep saw it busy (under the registry lock)
};
using EntryRef = std::shared_ptr<Entry>;

// Something that uses the registry from outside (a sampler) and must be
// stopped and cut loose before the registry goes away.
class Attachment {
 public:
  virtual ~Attachment() = default;
  virtual void detach() = 0;
};

struct Occupancy {
  std::string lane;
  std::uint32_t running = 0, queued = 0;
};

// The sum and count of the recent waits and runs that the quantiles of
// lane_stats_t are computed over (the same window).
struct WindowSums {
  std::int64_t wait_sum_ns = 0, run_sum_ns = 0;
  std::uint64_t wait_count = 0, run_count = 0;
};

// Reads a lane's stats without the registry lock (the lane's clock is a host
// callback); fills *sums when given.
lane_stats_t read_stats(lane_s *lane, std::int64_t *now_ns, WindowSums *sums = nullptr);

}  // namespace lane::registry

struct lane_registry_s : lane::exec::Tagged<lane::exec::kRegistryTag> {

  // membership: what every lane of the registry joins (a cluster), or nullptr.
  explicit lane_registry_s(const lane_registry_options_t &o, lane::exec::Membership *membership = nullptr);
  ~lane_registry_s();
  lane_registry_s(const lane_registry_s &) = delete;
  lane_registry_s &operator=(const lane_registry_s &) = delete;

  [[nodiscard]] std::int64_t now() const;

  lane_status_t get_or_create(const char *name, lane_t **out, std::string *why);
  lane_t *get(const char *name);
  // Every lane, sorted by name (after retiring stale idle lanes).
  std::vector<std::pair<std::string, lane::registry::EntryRef>> snapshot();
  void reload();
  lane_status_t remove(const char *name, std::string *why);
  std::string metrics();
  std::vector<lane::registry::Occupancy> occupancy();

  // One line to the host's log callback (or stderr); never under a lock.
  void log(std::int32_t level, const std::string &message) const;

  void attach(std::shared_ptr<lane::registry::Attachment> a);
  void forget(const lane::registry::Attachment *a);
  // Detaches every attachment and destroys every lane (lane_registry_destroy).
  void shutdown();


 private:
  using Retired = std::vector<lane::registry::EntryRef>;
  // Under mu_: takes stale idle lanes out of the map into *retired.
  void sweep_locked(std::int64_t t, Retired *retired);
  // Reads lanes.<name>.<option> in [lo, hi] (def when unset or rejected) and
  // adds a message for a rejected value to *notes (once per key and value).
  // Takes mu_ briefly; call it with no lock held (it calls the host).
  // *set (if given) becomes true when the source set the key.
  std::int64_t config_int(const std::string &name, const char *option, std::int64_t def, std::int64_t lo,
                          std::int64_t hi, std::vector<std::string> *notes, bool *set = nullptr);
  // Which of the options that reload may change in place the source set.
  struct LiveSet {
    bool preemption = false;  // preemption_off or preempt_min_runtime_ns
    bool eta_window = false;
  };
  // Every lanes.<name>.* option, over lane_create's defaults.
  lane::core::Config lane_config(const std::string &name, std::vector<std::string> *notes, LiveSet *live);
  // lanes.<name>.rate_requests[_per_ns|_burst] and rate_cost[...]: a limit
  // per kind, amount 0 = off.
  struct Rate {
    std::int64_t amount = 0, per_ns = 0, burst = 0;
    bool set = false;  // the source names rate_<kind>
  };
  // Adds text to notes unless it was logged before.
  void note_once(std::vector<std::string> *notes, std::string text);
  Rate rate_config(const std::string &name, const char *kind, std::vector<std::string> *notes);
  // Applies both rate limits where they differ from the lane's (setting a
  // limit again would start a fresh bucket).
  void apply_rates(const std::string &name, lane_t *lane, std::vector<std::string> *notes);

  lane::registry::ConfigSource config_;
  lane_log_fn log_;
  void *log_ud_;
  lane_policy_t policy_;
  std::uint32_t default_max_;
  std::int64_t idle_retire_ns_;
  lane_clock_fn clock_;
  void *clock_ud_;
  lane::exec::Membership *membership_ = nullptr;

  std::mutex mu_;
  std::map<std::string, lane::registry::EntryRef, std::less<>> lanes_;
  std::set<std::string> logged_;
  std::vector<std::shared_ptr<lane::registry::Attachment>> attached_;
};

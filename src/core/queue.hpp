// Queue orders for a lane's waiting jobs. FIFO is arrival order. Fair share
// is strict priority first, then the tenant with the least slot-time per unit
// of weight, then FIFO within a tenant; slot-time is charged at dispatch with
// the tenant's own runtime estimate and corrected with the real runtime when
// the run ends, so keys move only at dispatch and end, never in between.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <functional>
#include <unordered_map>

#include "job.hpp"

namespace lane::core {

// How many queued jobs would be dispatched before a job that is about to be
// queued, and the main reason it waits.
struct Ahead {
  std::size_t jobs = 0;
  lane_blocked_by_t reason = LANE_BLOCKED_FULL;
};

class Queue {
 public:
  virtual ~Queue() = default;

  // A job joins the lane (before it is queued or dispatched) / leaves it.
  virtual void attach(Job *job, std::string_view tenant) = 0;
  virtual void detach(Job *job) = 0;

  virtual void push(Job *job) = 0;     // at the back of its order
  virtual void requeue(Job *job) = 0;  // a preempted job, ordered by its original enqueue time
  virtual void remove(Job *job) = 0;
  // The job to dispatch next; nullptr when empty.
  [[nodiscard]] virtual Job *peek(std::int64_t now) const = 0;
  // The queued job with the best claim to preempt a running one once a
  // min-runtime guard has passed: the highest priority, oldest first.
  [[nodiscard]] virtual Job *preempt_candidate(std::int64_t now) const { return peek(now); }
  [[nodiscard]] virtual std::size_t size() const = 0;
  [[nodiscard]] virtual std::int64_t oldest_enqueued_at() const = 0;  // 0 when empty
  // For a job attached but not yet pushed. `cost` is the lane's runtime estimate.
  [[nodiscard]] virtual Ahead ahead_of(const Job *job, std::int64_t cost) const = 0;

  // Running jobs: charge at dispatch, correct at the end of the run.
  virtual void on_dispatch(Job * /*job*/, std::int64_t /*cost*/) {}
  virtual void on_run_end(Job * /*job*/, std::int64_t /*runtime*/, bool /*complete*/) {}
  // false when the policy has no tenants.
  virtual bool set_weight(std::string_view /*tenant*/, std::uint32_t /*weight*/) { return false; }
};

class FifoQueue final : public Queue {
 public:
  void attach(Job *, std::string_view) override {}
  void detach(Job *) override {}
  void push(Job *job) override;
  void requeue(Job *job) override;
  void remove(Job *job) override;
  [[nodiscard]] Job *peek(std::int64_t) const override { return list_.front(); }
  // Arrival order ignores priority, so the best claimant may sit anywhere.
  [[nodiscard]] Job *preempt_candidate(std::int64_t) const override;
  [[nodiscard]] std::size_t size() const override { return list_.size(); }
  [[nodiscard]] std::int64_t oldest_enqueued_at() const override;
  [[nodiscard]] Ahead ahead_of(const Job *, std::int64_t) const override { return {list_.size(), LANE_BLOCKED_FULL}; }

 private:
  JobList list_;
  std::map<std::int32_t, LevelList> by_priority_;  // the same jobs per priority, oldest first
};

struct Level;

struct TenantLevel {
  Tenant *tenant = nullptr;
  Level *level = nullptr;
  JobList jobs;
  double key = 0;  // the tenant's virtual time when last keyed into level->tenants
};

struct Tenant {
  std::string name;
  std::uint64_t seq = 0;  // tie-break: first seen first
  std::uint32_t weight = 1;
  double vtime = 0;        // slot-time received / weight (ns)
  double estimate = 0;     // mean runtime of this tenant's jobs (ns), 0 = unknown
  std::uint32_t live = 0;  // jobs attached
  std::uint32_t queued = 0;
  std::uint32_t running = 0;
  std::map<std::int32_t, TenantLevel> levels;  // priority -> this tenant's queued jobs there
};

struct TenantOrder {
  bool operator()(const TenantLevel *a, const TenantLevel *b) const {
    if (a->key != b->key) return a->key < b->key;
    return a->tenant->seq < b->tenant->seq;
  }
};

// Lets tenants_ be searched with a string_view, without building a string.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct Level {
  std::int32_t priority = 0;
  LevelList all;                               // every queued job of this priority, oldest first
  std::set<TenantLevel *, TenantOrder> tenants;  // tenants with jobs here, least served first
};

class FairQueue final : public Queue {
 public:
  explicit FairQueue(std::int64_t aging_ns) : aging_ns_(aging_ns) {}

  void attach(Job *job, std::string_view tenant) override;
  void detach(Job *job) override;
  void push(Job *job) override;
  void requeue(Job *job) override;
  void remove(Job *job) override;
  [[nodiscard]] Job *peek(std::int64_t now) const override;
  [[nodiscard]] std::size_t size() const override { return size_; }
  [[nodiscard]] std::int64_t oldest_enqueued_at() const override;
  [[nodiscard]] Ahead ahead_of(const Job *job, std::int64_t cost) const override;
  void on_dispatch(Job *job, std::int64_t cost) override;
  void on_run_end(Job *job, std::int64_t runtime, bool complete) override;
  bool set_weight(std::string_view tenant, std::uint32_t weight) override;

  // For tests and stats.
  [[nodiscard]] double vtime(std::string_view tenant) const;
  [[nodiscard]] std::size_t tenant_count() const { return tenants_.size(); }

 private:
  Tenant *tenant(std::string_view name);
  void link(Job *job, bool at_time);
  void set_vtime(Tenant *t, double v);
  void maybe_forget(Tenant *t);
  [[nodiscard]] double cost_of(const Tenant *t, std::int64_t lane_cost) const;

  std::int64_t aging_ns_;
  std::size_t size_ = 0;
  std::uint64_t next_seq_ = 0;
  double vclock_ = 0;  // start key of the last dispatch: newly active tenants start here
  std::unordered_map<std::string, std::unique_ptr<Tenant>, StringHash, std::equal_to<>> tenants_;
  std::map<std::int32_t, Level> levels_;
};

}  // namespace lane::core

// Queue orders for a lane's waiting jobs. FIFO is arrival order. Fair share
// is strict priority first, then start-time fair queuing between tenants on
// delivered service, then FIFO within a tenant (docs/fair-share.md):
// - a tenant's virtual time `served` is the slot-time its runs actually held,
//   divided by its weight; it moves only when a run ends;
// - while a run is in flight its tenant is ordered as if it had already had
//   the run's estimate (`pending`), so one free slot after another does not
//   all go to the same tenant; the estimate is taken back when the run ends
//   and never reaches the system virtual time;
// - the system virtual time V is the least `served` among the tenants that
//   are waiting now; a tenant that starts waiting is lifted to V, so it gets
//   no credit for time away and no debt for estimates of others' runs;
// - with a half-life, served decays (stored scaled by 2^(t/h), so decay
//   touches nobody) and a tenant is remembered while its usage matters.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <string>
#include <string_view>
#include <functional>
#include <unordered_map>

#include <ext/pb_ds/assoc_container.hpp>
#include <ext/pb_ds/tree_policy.hpp>

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
  virtual void on_dispatch(Job * /*job*/, std::int64_t /*cost*/, std::int64_t /*now*/) {}
  virtual void on_run_end(Job * /*job*/, std::int64_t /*runtime*/, bool /*complete*/, std::int64_t /*now*/) {}
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
  double key = 0;  // the tenant's order key when last keyed into level->tenants
};

struct Tenant {
  std::string name;
  std::uint64_t seq = 0;  // tie-break: first seen first
  std::uint32_t weight = 1;
  // Both in scaled units (see FairQueue::scale_): slot-time / weight.
  double served = 0;       // delivered by runs that have ended
  double pending = 0;      // estimates of the runs in flight, for ordering only
  double estimate = 0;     // mean runtime of this tenant's jobs (ns), 0 = unknown
  std::int64_t start_sum = 0;  // sum of (started_at - origin) of its runs in flight (ns)
  std::uint32_t live = 0;  // jobs attached
  std::uint32_t queued = 0;
  std::uint32_t running = 0;
  bool idle_listed = false;  // in FairQueue::idle_ (remembered with no live job)
  std::map<std::int32_t, TenantLevel> levels;  // priority -> this tenant's queued jobs there
  [[nodiscard]] double key() const { return served + pending; }
};

struct TenantOrder {
  bool operator()(const TenantLevel *a, const TenantLevel *b) const {
    if (a->key != b->key) return a->key < b->key;
    return a->tenant->seq < b->tenant->seq;
  }
};

struct ServedOrder {
  bool operator()(const Tenant *a, const Tenant *b) const {
    if (a->served != b->served) return a->served < b->served;
    return a->seq < b->seq;
  }
};

// Lets tenants_ be searched with a string_view, without building a string.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

// Re-sorting a tenant in a ranked tree erases its node and inserts it again
// (these trees have no node handles). While a RekeyScope is open on this
// thread, the tree's allocator keeps the node the erase frees and hands it
// to the insert, so a re-sort never needs memory and cannot fail halfway.
// (The pointer is per thread because the trees' allocator is shared by all
// of them; a scope is open only under the owning lane's lock.)
struct RekeyCache {
  void *node = nullptr;
  std::size_t size = 0;
};
inline thread_local RekeyCache *tls_rekey_cache = nullptr;

class RekeyScope {
 public:
  RekeyScope() : outer_(tls_rekey_cache) { tls_rekey_cache = &cache_; }
  ~RekeyScope() {
    tls_rekey_cache = outer_;
    if (cache_.node) ::operator delete(cache_.node);  // freed and not taken again
  }
  RekeyScope(const RekeyScope &) = delete;
  RekeyScope &operator=(const RekeyScope &) = delete;

 private:
  RekeyCache cache_;
  RekeyCache *outer_;
};

template <class T>
struct RekeyAllocator {
  using value_type = T;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  template <class U>
  struct rebind {
    using other = RekeyAllocator<U>;
  };
  RekeyAllocator() = default;
  template <class U>
  RekeyAllocator(const RekeyAllocator<U> &) noexcept {}
  T *allocate(std::size_t n) {
    RekeyCache *c = tls_rekey_cache;
    if (c && c->node && n == 1 && c->size == sizeof(T)) {
      void *p = c->node;
      c->node = nullptr;
      return static_cast<T *>(p);
    }
    return static_cast<T *>(::operator new(n * sizeof(T)));
  }
  void deallocate(T *p, std::size_t n) noexcept {
    RekeyCache *c = tls_rekey_cache;
    if (c && !c->node && n == 1) {
      c->node = p;
      c->size = sizeof(T);
      return;
    }
    ::operator delete(p);
  }
  friend bool operator==(const RekeyAllocator &, const RekeyAllocator &) { return true; }
};

// An ordered set that also answers "how many are below x" in O(log n).
using RankedTenants = __gnu_pbds::tree<TenantLevel *, __gnu_pbds::null_type, TenantOrder, __gnu_pbds::rb_tree_tag,
                                       __gnu_pbds::tree_order_statistics_node_update,
                                       RekeyAllocator<char>>;

struct Level {
  std::int32_t priority = 0;
  // The queued jobs of this priority in two lists, each oldest first: `all`
  // takes new jobs at its back (they are the newest); `requeued` takes the
  // jobs that come back with their old age (requeued after preemption,
  // unparked), placed by age among themselves only. Those are few and leave
  // soon, so a requeue never walks the whole level.
  LevelList all;
  LevelList requeued;
  [[nodiscard]] std::size_t size() const { return all.size() + requeued.size(); }
  [[nodiscard]] bool empty() const { return all.empty() && requeued.empty(); }
  [[nodiscard]] const Job *oldest() const;
  RankedTenants tenants;    // tenants with jobs here, least served first
};

class FairQueue final : public Queue {
 public:
  // half_life_ns 0: a tenant is forgotten once it has no live job.
  explicit FairQueue(std::int64_t aging_ns, std::int64_t half_life_ns = 0)
      : aging_ns_(aging_ns), half_life_ns_(half_life_ns) {}

  void attach(Job *job, std::string_view tenant) override;
  void detach(Job *job) override;
  void push(Job *job) override;
  void requeue(Job *job) override;
  void remove(Job *job) override;
  [[nodiscard]] Job *peek(std::int64_t now) const override;
  [[nodiscard]] std::size_t size() const override { return size_; }
  [[nodiscard]] std::int64_t oldest_enqueued_at() const override;
  [[nodiscard]] Ahead ahead_of(const Job *job, std::int64_t cost) const override;
  void on_dispatch(Job *job, std::int64_t cost, std::int64_t now) override;
  void on_run_end(Job *job, std::int64_t runtime, bool complete, std::int64_t now) override;
  bool set_weight(std::string_view tenant, std::uint32_t weight) override;

  // How many other tenants ahead_of walks one by one; past that it counts
  // one job for each further tenant ahead (docs/fair-share.md).
  static constexpr std::size_t kExactTenants = 64;

  // For tests and stats, in ns of slot-time per unit of weight, decayed to
  // the last time the queue saw.
  [[nodiscard]] double served(std::string_view tenant) const;
  // The same, decayed to `now` (>= the last time the queue saw).
  [[nodiscard]] double served(std::string_view tenant, std::int64_t now) const;
  [[nodiscard]] double system_vtime() const { return v_floor() / scale_; }
  [[nodiscard]] std::size_t tenant_count() const { return tenants_.size(); }

 private:
  Tenant *tenant(std::string_view name);
  void link(Job *job, bool at_time);
  void rekey(Tenant *t);
  void set_served(Tenant *t, double v);
  void maybe_forget(Tenant *t);
  void advance(std::int64_t now);
  void prune_idle();
  [[nodiscard]] double v_floor() const;
  // Half-life 0: where a tenant that starts waiting at `now` is lifted to.
  [[nodiscard]] double lift_to(const Tenant *t, std::int64_t now) const;
  [[nodiscard]] double cost_of(const Tenant *t, std::int64_t lane_cost) const;

  std::int64_t aging_ns_;
  std::int64_t half_life_ns_;
  std::size_t size_ = 0;
  std::uint64_t next_seq_ = 0;
  // Decay without touching anyone: a real amount x added at time t is stored
  // as x * scale_, scale_ = 2^((t - epoch_) / h). Renormalised by an exact
  // power of two so no order changes.
  double scale_ = 1.0;
  std::int64_t epoch_ = 0;
  std::int64_t origin_ = 0;  // the first time seen: run start times are kept relative to it
  bool started_ = false;
  std::int64_t now_ = 0;
  std::uint32_t rescales_ = 0;
  double last_v_ = 0;  // V when nobody waits: the served of the last tenant dispatched then
  std::unordered_map<std::string, std::unique_ptr<Tenant>, StringHash, std::equal_to<>> tenants_;
  std::map<std::int32_t, Level> levels_;
  std::set<Tenant *, ServedOrder> waiting_;  // tenants with a queued job, least served first
  std::set<Tenant *, ServedOrder> idle_;     // half-life only: remembered tenants with no live job
};

}  // namespace lane::core

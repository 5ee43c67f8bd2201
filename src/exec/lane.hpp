// A lane with threads: the core scheduler behind one mutex, plus what the
// core leaves to its owner: running callback jobs on worker threads, granting
// host-run jobs through ports, delivering outcomes, and deadlines (queue
// timeouts, cooldowns, preemption guards) on the process's one timer thread.
//
// The lane is an object with operations: the layers above (the C API, the
// registry, sessions) call them and never see its lock or its scheduler.
// Every operation follows one rule, kept in this file and lane.cpp: read the
// clock, take the lock, let the scheduler decide (it appends effects), carry
// out under the lock only what must be ordered there (a context's cancel
// flag, a port's GRANT and CANCEL events: leaf locks only), unlock, then do
// the rest (hand callback jobs to workers, deliver outcomes). Run callbacks,
// on_done and the host clock are never called with a library lock held.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/scheduler.hpp"
#include "handle.hpp"
#include "job_spec.hpp"
#include "lane/lane.h"

struct lane_port_s;

namespace lane::exec {
struct Waiter;

// A layer above that takes over a job's end (a session run): told the
// outcome instead of the job's on_done and port, with no lock held.
class JobObserver {
 public:
  virtual void job_ended(const lane_outcome_t &outcome) noexcept = 0;

 protected:
  ~JobObserver() = default;
};
}

// One accepted job: the scheduler's record plus what the library needs to
// run it. Handed to run() as its lane_ctx_t.
// The tag comes first: it must sit at offset 0 (handle.hpp).
struct lane_ctx_s : lane::exec::Tagged<lane::exec::kCtxTag>, lane::core::Job {
  lane_s *owner = nullptr;
  lane_run_fn run = nullptr;
  lane_done_fn on_done = nullptr;
  void *user_data = nullptr;
  lane_port_s *port = nullptr;  // holds a reference while the job lives
  lane::exec::Waiter *waiter = nullptr;
  bool run_inline = false;  // lane_submit_wait runs it on the caller's thread
  lane_ctx_s *pool_next = nullptr;  // the worker pool's queue (pool.hpp)
  // Events reserved for it in port: 2 from submit (its first GRANT and its
  // DONE), 1 once granted.
  std::uint8_t port_room = 0;
  // Set by a layer above (a session run): told the outcome instead of
  // on_done and the port's DONE event.
  lane::exec::JobObserver *observer = nullptr;

  // Mirrors cancel_cause for lock-free reads in run(); lane_ctx_wait sleeps
  // on the context's wait_stripe (ctx_wait.hpp).
  std::atomic<std::int32_t> cause{LANE_OK};
  // Regrants after a reacquire, raised under the wait stripe's lock, where
  // lane_ctx_reacquire waits for it (or for a cause).
  std::atomic<std::uint32_t> grants{0};
  // lane_ctx_overloaded was called: the finish says so to the scheduler.
  std::atomic<bool> overloaded{false};
  // A shared lane's job (SlotLink), made at submit, so other lanes' jobs
  // pay one pointer: the grants whose slots it holds (under the lane's lock;
  // room reserved at submit) and the newest of them, which lane_ctx_fence
  // reports (0: none, or a local fallback slot).
  // charged: what the arbiter's cost limit holds for this run (the core's
  // charged_cost as last passed on).
  struct Grants {
    std::vector<std::uint64_t> tokens;
    std::atomic<std::uint64_t> fence{0};
    std::int64_t charged = 0;
  };
  std::unique_ptr<Grants> shared_grants;

  [[nodiscard]] bool host_run() const { return run == nullptr; }
};

namespace lane::exec {

// The owner of a shared lane's slots (a membership of a cluster, a layer
// above): a lane linked to one runs only on slots granted from outside. It
// is poked, under the lane's lock, when the lane has something for it
// (slots to give back, a changed demand): it must only take note and return.
class SlotLink {
 public:
  virtual void poke() noexcept = 0;

 protected:
  ~SlotLink() = default;
};

// What a lane joins to share its slots (a cluster, a layer above): join
// links the new lane (SlotLink) before anyone can submit to it; leave, once
// the lane has shut down, gives back what it holds and forgets it.
class Membership {
 public:
  virtual void join(lane_s *lane) = 0;
  virtual void leave(lane_s *lane) noexcept = 0;

 protected:
  ~Membership() = default;
};

// What a shared lane asks of its slot owner, taken in one lock hold.
struct SlotAsk {
  std::uint32_t demand = 0;             // slots it would use now
  std::uint32_t held = 0;               // granted slots it keeps (free or held by jobs)
  std::vector<std::uint64_t> releases;  // grants it gives back
  std::int32_t priority = 0;            // of the job the next slot would go to
  std::string tenant;                   // of that job
  std::uint32_t cap = 0;                // the lane's cap now
  // The lane's rate limits now (amount 0 = off), shared by the members.
  std::int64_t rate_amount = 0, rate_per_ns = 0, rate_burst = 0;  // requests
  std::int64_t cost_amount = 0, cost_per_ns = 0, cost_burst = 0;  // cost
  // With a cost limit: what a grant for the next job is to be charged (its
  // estimate; 0 for a regrant), and the correction of earlier charges since
  // the last ask (the costs of the runs that took the grants, less what the
  // grants were charged).
  std::int64_t next_cost = 0, cost_delta = 0;
  // Its tenant limits, shared (limit 0: no longer limited here; need 0).
  struct Tenant {
    std::string name;
    std::uint32_t limit = 0, need = 0;
  };
  std::vector<Tenant> tenants;
};

// What the slot owner found out (one round trip to the arbiter).
struct SlotAnswer {
  std::vector<std::uint64_t> mine;  // every grant the arbiter says this member holds
  std::vector<std::int64_t> costs;  // what the cost limit charged each of them
  bool cost_limited = false;        // the lane has a shared cost limit
  std::vector<std::pair<std::string, std::uint32_t>> quotas;  // what it holds of each tenant limit it sent
  std::uint32_t refused = 0;        // releases refused (the lease had already run out)
  std::uint32_t global_running = 0, global_queued = 0;
};

// A lane's view of its slot owner, for lane_stats.
struct SlotStats {
  bool available = true;
  std::uint32_t global_running = 0, global_queued = 0;
  std::uint64_t leases_lost = 0, releases_refused = 0;
};

// lane_submit_wait's rendezvous with the job's outcome.
struct Waiter {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  lane_outcome_t outcome{};
};

struct SubmitOptions {
  bool inline_ok = false;      // a callback job that gets a slot at once runs on the caller
  bool must_dispatch = false;  // refuse LANE_ERR_DEADLOCK rather than queue
  bool estimate = true;        // compute a queued job's position and ETA (someone reads the ticket)
  Waiter *waiter = nullptr;
  std::int64_t outcome_timeout_ns = 0;  // > 0: stop the job with LANE_ERR_TIMEOUT after this long
  JobObserver *observer = nullptr;      // see lane_ctx_s::observer
};

// What lane_s::change sets in one step; an empty field is left as it is.
struct LaneChanges {
  std::optional<std::uint32_t> max_concurrent{};  // >= 1
  std::optional<bool> preemption{};
  std::int64_t preempt_min_runtime_ns = 0;  // with preemption
  std::optional<std::uint32_t> eta_window{};  // >= 1
};

struct SubmitOutput {
  core::SubmitResult result;
  lane_ctx_s *job = nullptr;  // set only when it must run inline
};

// The job running on this thread (worker or inline caller), if any.
lane_ctx_s *current_job();
// Runs a callback job on this thread, then any job its end hands over.
void run_chain(lane_ctx_s *job);

}  // namespace lane::exec

struct lane_s : lane::exec::Tagged<lane::exec::kLaneTag> {

  lane_s(std::string name, const lane::core::Config &cfg, lane_clock_fn clock, void *clock_ud);
  lane_s(const lane_s &) = delete;
  lane_s &operator=(const lane_s &) = delete;

  [[nodiscard]] std::int64_t now() const;

  lane::exec::SubmitOutput submit(const lane::exec::JobSpec &spec, const lane::exec::SubmitOptions &opts);
  lane_status_t submit_wait(const lane::exec::JobSpec &spec, std::int64_t timeout_ns, lane_outcome_t *out);
  // A callback job's run returned; returns a job this thread should run next.
  lane_ctx_s *finish_run(lane_ctx_s *job, std::int32_t code, bool keep_next);
  lane_status_t finish_host_job(std::uint64_t token, std::int32_t code, std::int64_t cost, std::string *why);

  // Budgets (docs/budgets.md). kind: one rate limit; values as the core takes them.
  lane_status_t set_rate_limit(lane::core::RateKind kind, std::int64_t amount, std::int64_t per_ns, std::int64_t burst);
  // The limit as set now (amount 0 = off).
  lane::core::RateLimit rate_limit(lane::core::RateKind kind);
  void set_tenant_limit(std::string_view tenant, std::uint32_t max_running);
  std::uint32_t tenant_running(std::string_view tenant);
  std::vector<lane::core::Scheduler::TenantRow> tenant_limits();
  // On a live job of this lane (the caller holds its context).
  lane_status_t set_cost(lane_ctx_s *job, std::int64_t cost);
  lane_status_t release_slots(lane_ctx_s *job);
  // A callback job: asks for its slots again and waits for them, for a
  // cause, or for timeout_ns (then it is released again).
  lane_status_t reacquire_wait(lane_ctx_s *job, std::int64_t timeout_ns);
  // Host-run jobs by token: why says what was wrong when not LANE_OK.
  lane_status_t release_token(std::uint64_t token, std::string *why);
  lane_status_t reacquire_token(std::uint64_t token, std::string *why);
  lane_status_t wait_idle(std::int64_t timeout_ns);

  // ---- shared lanes (docs/cluster.md)
  // Makes the new lane (nothing submitted yet) a member; shutdown leaves.
  void join(lane::exec::Membership *m);
  [[nodiscard]] lane::exec::Membership *membership() const { return membership_; }
  // Links the lane to the owner of its slots, before any job is submitted.
  // fallback_slots: how many slots it may use on its own while the owner
  // cannot reach the arbiter (0: it refuses new jobs LANE_ERR_UNAVAILABLE).
  void link_slots(lane::exec::SlotLink *link, std::uint32_t fallback_slots);
  // The owner's side: what to ask for, then what it got (or that the
  // arbiter could not be reached: the releases are kept for the next try).
  lane::exec::SlotAsk slots_ask();
  void slots_answer(const lane::exec::SlotAnswer &a);
  // What the failed ask carried (releases, a cost correction, tenants no
  // longer limited) is sent again with the next.
  void slots_unreachable(std::vector<std::uint64_t> releases, std::int64_t cost_delta,
                         const std::vector<lane::exec::SlotAsk::Tenant> &tenants);
  lane::exec::SlotStats slot_stats();

  // flags: LANE_CANCEL_QUEUED and/or LANE_CANCEL_RUNNING (not 0).
  lane_status_t cancel(std::string_view id, std::uint32_t flags);
  lane_status_t cancel_token(std::uint64_t token, std::uint32_t flags);
  // Queued or running, in one lock hold (a freed slot cannot start one of
  // the others in between); tokens no longer live are skipped.
  void cancel_tokens(std::span<const std::uint64_t> tokens);
  // Counters and quantiles at now (*now_ns); the raw recent waits and runs
  // too, when asked for. The lock covers only the copying.
  lane_stats_t stats(std::int64_t *now_ns = nullptr, lane::core::Scheduler::Samples *samples = nullptr);
  void change(const lane::exec::LaneChanges &c);
  bool set_tenant_weight(std::string_view tenant, std::uint32_t weight);  // false: a FIFO lane
  void pause();
  void resume();
  void cooldown(std::int64_t duration_ns);  // 0 ends one
  // lane_close: the scheduler's close, then the close listeners (sessions).
  void close(lane_close_mode_t mode);
  // close(CANCEL), wait for every job, stop the timer.
  void shutdown();
  // Closes the lane if no job is live (accepted and not yet delivered), as
  // one step under the lock (now_ns: the caller reads the clock, never
  // under a lock), so a remove cannot race a submit into losing it.
  bool close_if_idle(std::int64_t now_ns);
  [[nodiscard]] bool closed();
  [[nodiscard]] bool has_clock() const { return clock_ != nullptr; }

  // A layer above that must hear when the lane closes (a session ends its
  // queued messages at once). pin(arg) is called under the listener list's
  // lock and returns false once the listener is going away; closed(arg) is
  // called after every lock is released and must undo the pin.
  struct CloseListener {
    bool (*pin)(void *arg);
    void (*closed)(void *arg);
    void *arg;
  };
  void add_close_listener(const CloseListener &l);
  void remove_close_listener(void *arg);
  void notify_closed();

  const std::string name;
  // The registry that owns this lane (set once, before the lane is handed
  // out; lane_destroy refuses such a lane), or nullptr for a standalone lane.
  const void *registry = nullptr;

  // References: the owner's (lane_destroy or the registry) and one per
  // session in front of the lane. The owner shuts the lane down (closes it,
  // waits for its jobs) and releases; the last release frees it, so a
  // session outliving its lane's owner finds a closed lane, not freed memory.
  // A lane with any session is never idle for a registry's retirement.
  void retain() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release();
  // The owner's destroy, once: false if it already ran.
  bool begin_destroy() { return !destroying_.exchange(true, std::memory_order_acq_rel); }

 private:
  // The rule above, for operations that change state: f(now, effects) runs
  // under the lock, then the effects are carried out.
  template <class F>
  auto with_effects(F &&f) {
    const std::int64_t t = now();
    lane::core::Effects eff;
    std::unique_lock lk(mu);
    auto r = [&] {
      try {
        return f(t, eff);
      } catch (...) {
        // What happened before the failure is carried out all the same.
        apply_locked(eff);
        lk.unlock();
        apply_unlocked(eff, false);
        throw;
      }
    }();
    apply_locked(eff);
    lk.unlock();
    apply_unlocked(eff, false);
    return r;
  }

  ~lane_s();  // through release() only
  void apply_locked(lane::core::Effects &eff);
  lane_ctx_s *apply_unlocked(const lane::core::Effects &eff, bool keep_one);
  void deliver(lane_ctx_s *job);
  void arm_timer_locked();
  // Shared lanes, under mu: a dispatched job takes its grants; a job that
  // gave its slots back hands them on for return; the owner hears of it.
  void bind_tokens_locked(lane_ctx_s *job);
  void return_tokens_locked(lane_ctx_s *job);
  // Passes a change of the job's cost charge on to the arbiter; ended: the
  // run is over (what is charged for it stays charged).
  void settle_cost_locked(lane_ctx_s *job, bool ended);
  void forget_token_cost_locked(std::uint64_t token);  // a grant no job used: refund its charge
  void poke_locked();
  void drop_free_local_locked();
  void on_timer();  // the timer thread: what fell due

  std::mutex mu;  // guards sched and the timer fields
  lane::core::Scheduler sched;
  lane_clock_fn clock_;
  void *clock_ud_;
  std::atomic<std::uint32_t> refs_{1};
  std::atomic<bool> destroying_{false};
  // Accepted jobs whose outcome is not yet delivered. Raised under mu; lowered
  // without it, except the last step to zero, which takes mu so that
  // wait_idle cannot miss it (nor return, and let the lane be freed, before
  // the notifier is done with the lane).
  std::atomic<std::uint64_t> inflight_{0};
  std::condition_variable idle_cv_;

  std::mutex listeners_mu_;  // a leaf: nothing else is locked under it but a listener's pin
  std::vector<CloseListener> listeners_;

  // Under mu: the deadline the timer is armed for (kNoDeadline: none), and
  // set once shutdown has disarmed it for good.
  std::int64_t timer_at_ = lane::core::kNoDeadline;
  bool timer_stop_ = false;

  // Shared lanes (link_ set once, before any submit). The rest under mu:
  // grants not held by a job, grants held by jobs (the arbiter's by value,
  // to find lost leases; fallback ones counted), grants to give back, and what the
  // owner last heard. Local fallback grants have kLocalGrant set.
  // Atomic: submit reads it without the lock; shutdown clears it (under the
  // lock) before leaving, so nothing pokes a membership that is gone.
  std::atomic<lane::exec::SlotLink *> link_{nullptr};
  lane::exec::Membership *membership_ = nullptr;
  std::uint32_t fallback_slots_ = 0;
  std::atomic<bool> refusing_{false};  // unreachable and no fallback: submit refuses
  std::vector<std::uint64_t> free_tokens_;
  std::uint32_t bound_local_ = 0;  // fallback grants held by jobs (the arbiter's are bound_tokens_)
  std::unordered_set<std::uint64_t> bound_tokens_, lost_tokens_;
  std::vector<std::uint64_t> returning_;
  std::uint32_t asked_demand_ = UINT32_MAX;
  // With a shared cost limit (the arbiter's or this lane's): what the
  // arbiter charged each grant no job holds yet (nonzero only), and the
  // correction not yet sent.
  bool cost_limited_ = false;  // as the arbiter last said
  // Shared tenant limits: the tenants last sent, and the core's quota epoch then.
  std::vector<std::string> quota_sent_;
  std::uint64_t asked_quota_epoch_ = UINT64_MAX;
  std::unordered_map<std::uint64_t, std::int64_t> token_cost_;
  std::int64_t cost_delta_ = 0;
  std::uint64_t next_local_ = 0;
  lane::exec::SlotStats slot_stats_;
};

// The lane state machine. No threads, no I/O, no calls into the host: each
// operation takes the current time, changes state and appends the effects
// the layer above must carry out (dispatch, cancel, deliver an outcome).
// Not thread-safe: the owner serialises calls (one lock per lane).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "effects.hpp"
#include "job.hpp"
#include "job_index.hpp"
#include "queue.hpp"
#include "windows.hpp"

namespace lane::core {

inline constexpr std::int64_t kNoDeadline = INT64_MAX;
inline constexpr std::int64_t kSecond = 1'000'000'000;

// Literal values: the C API maps "zero means default" before building this.
struct Config {
  std::uint32_t max_concurrent = 1;
  lane_policy_t policy = LANE_POLICY_FIFO;
  std::uint32_t eta_window = 16;
  bool preemption = true;
  std::int64_t preempt_min_runtime_ns = 30 * kSecond;  // 0 = no guard
  bool preempt_overcommit = false;
  std::uint32_t max_queued = 0;  // 0 = unbounded
  std::int64_t eta_default_runtime_ns = kSecond;
  std::int64_t aging_ns = 0;
  std::int64_t fair_half_life_ns = 0;  // 0 = forget a tenant once it has no live job
  // Adaptive width (AIMD), 0 = off (both must be > 0): the lane's cap is a
  // width between them, halved by an overloaded finish and raised by one
  // after a width's worth of successes. max_concurrent is the first width.
  std::uint32_t adaptive_min = 0;
  std::uint32_t adaptive_max = 0;
  std::int64_t adaptive_cooldown_ns = 0;  // > 0: an overloaded finish also closes the gate this long
};

__extension__ using i128 = __int128;  // GCC and Clang: exact GCRA arithmetic

// What a rate limit counts: every grant of slots, or the jobs' cost.
enum class RateKind : std::uint8_t { Requests = 0, Cost = 1 };

// Extra facts a finishing job may report.
struct FinishInfo {
  std::int64_t cost = 0;    // > 0: the run's real cost (corrects the COST rate limit's charge)
  bool overloaded = false;  // the provider said it is overloaded (adaptive width halves)
};

inline constexpr std::uint32_t kNoQuota = UINT32_MAX;

// A tenant with a limit on its running jobs (Scheduler::set_tenant_limit).
struct TenantBudget {
  std::string name;
  std::uint32_t limit = 0;    // 0 = none (the entry stays while jobs submitted under a limit live)
  std::uint32_t running = 0;  // its jobs holding slots now
  std::uint32_t live = 0;     // live jobs that point here
  JobList parked;             // its queued jobs that reached the front while it was at its limit, oldest first
  // With external slots and a limit: how many of the limit, shared with
  // other schedulers, this one holds (Scheduler::set_tenant_quota); else
  // kNoQuota.
  std::uint32_t quota = kNoQuota;
  [[nodiscard]] std::uint32_t room() const {
    const std::uint32_t cap = std::min(limit == 0 ? kNoQuota : limit, quota);
    return cap == kNoQuota ? kNoQuota : cap > running ? cap - running : 0;
  }
  [[nodiscard]] bool at_limit() const { return room() == 0; }
};

// A tenant limit shared with other schedulers (external slots): what this
// one holds of it, and what it could use (its live jobs: running, waiting,
// released; at most the limit).
struct TenantQuota {
  std::string name;
  std::uint32_t limit = 0, running = 0, need = 0, quota = 0;
};

// A GCRA (virtual scheduling) limit of `amount` units per `per_ns`, with
// `burst` units allowed at once. Kept in scaled integers (ns * amount) so
// no rounding ever lets one unit too many through.
struct RateLimit {
  bool on = false;
  std::int64_t amount = 0, per_ns = 0, burst = 1;
  i128 tat = 0;  // theoretical arrival time * amount
  // The earliest time (>= now) by which `units` more units may have gone.
  // One job conforms at ready_after(min(its units, burst), now).
  [[nodiscard]] std::int64_t ready_after(std::int64_t units, std::int64_t now) const;
  void charge(std::int64_t units, std::int64_t now);
  // A signed correction of an earlier charge; a refund never drains the
  // bucket below empty.
  void correct(std::int64_t delta, std::int64_t now);
};

struct SubmitResult {
  lane_status_t status = LANE_OK;
  std::int32_t position = 0;  // 0 = dispatched now
  std::int64_t eta_ns = 0;
  lane_blocked_by_t blocked_by = LANE_BLOCKED_NONE;
  std::uint64_t token = 0;  // 0 when refused
};

class Scheduler {
 public:
  explicit Scheduler(const Config &cfg);
  Scheduler(const Scheduler &) = delete;
  Scheduler &operator=(const Scheduler &) = delete;

  // Accepts (dispatches or queues) or refuses the job. With dispatch_or_refuse
  // a job that cannot take a slot at once is refused LANE_ERR_DEADLOCK.
  // Without `estimate` (nobody reads the ticket) a queued job's position and
  // ETA are computed only if its max_wait_ns needs them; else position is -1.
  SubmitResult submit(Job *job, std::string_view tenant, std::int64_t now, Effects &out,
                      bool dispatch_or_refuse = false, bool estimate = true);
  // A running job returned with job_code. The job may be Running, Released
  // or Reacquiring (it returned without waiting for its slots).
  void finish(Job *job, std::int32_t job_code, std::int64_t now, Effects &out);
  void finish(Job *job, std::int32_t job_code, const FinishInfo &info, std::int64_t now, Effects &out);

  // ---- budgets
  //
  // Slots. A job holds min(slots, cap) slots while Running; the strict cap
  // (preempt_overcommit off) counts slots and no grant ever makes the slots
  // in use exceed it. Head of line: the next candidate (preemptors, then
  // the first reacquirer or the queue's head, see below) waits until enough
  // slots are free and nobody behind it passes, so a job of k slots at the
  // front starts as soon as the jobs running when it got there have freed k
  // slots: its wait at the front is at most the longest remaining run among
  // them (plus the rate wait). The price is idle slots meanwhile; there is
  // no backfill, because backfill needs run lengths the core does not know.
  // Only a candidate whose tenant is at its limit is set aside (parked).
  // A preemptor needs one victim that frees enough slots with the free ones.
  //
  // Rate limits: GCRA per kind. REQUESTS charges 1 per grant of slots (a
  // regrant after reacquire is a new request to the provider); COST charges
  // the job's estimate (Job::cost) at its dispatch, and a real cost reported
  // later (set_cost, finish with FinishInfo::cost) corrects the charge by
  // the difference: more is charged at once, less is refunded (never below
  // an empty bucket). Bound, for any window [t0, t1] with the limit
  // unchanged: units granted <= burst + amount * (t1 - t0) / per_ns +
  // refunds in the window. A job whose cost exceeds the burst is refused
  // while a COST limit is on (one queued before the limit is admitted when
  // the bucket has a full burst). The front waits, the deadline is when it
  // may go (next_deadline), and the ETA adds the rate wait of the jobs ahead.
  //
  // Tenant limits count a tenant's Running jobs (not slots). The front job
  // of a tenant at its limit is parked out of the queue and comes back, by
  // its enqueue time, as the tenant's runs end: others pass it meanwhile.
  //
  // Release / reacquire. States Running -> Released (no slots, still runs)
  // -> Reacquiring (waits) -> Running (Dispatch effect with job->regrant).
  // A reacquirer ranks by (priority on fair share lanes, then enqueue time,
  // then acceptance): it goes ahead of queued jobs of its priority accepted
  // after it and behind those accepted before it, so releasing never lets a
  // job pass an older one. Cancel / close / timeouts while Released or
  // Reacquiring: a Cancel effect (the reacquirer leaves the line), and the
  // outcome when the job returns (finish); reacquire of a job told to stop
  // returns its cause.
  // A running job reports its real cost (> 0) so far: the COST rate limit
  // is corrected by the difference with what it was charged.
  lane_status_t set_cost(Job *job, std::int64_t cost, std::int64_t now, Effects &out);
  // A Running job gives its slots back while it keeps running (waits on
  // something else); its slots go to the next job. LANE_ERR_INVALID if it
  // does not hold slots.
  lane_status_t release(Job *job, std::int64_t now, Effects &out);
  // A Reacquiring job (parked or not) leaves the line and is Released again:
  // LANE_OK. A Running one gives its slots back, as above.
  // A Released job asks for its slots again. It goes ahead of queued jobs of
  // its priority accepted after it; when granted, a Dispatch effect with
  // job->regrant set says so. LANE_ERR_INVALID if it is not Released; its
  // cancel cause if it was asked to stop (it should return).
  lane_status_t reacquire(Job *job, std::int64_t now, Effects &out);
  // amount 0 (or per_ns 0) turns that kind off; burst < 1 -> 1. Negative
  // values are LANE_ERR_INVALID. Setting a limit again starts a fresh bucket.
  lane_status_t set_rate_limit(RateKind kind, std::int64_t amount, std::int64_t per_ns, std::int64_t burst,
                               std::int64_t now, Effects &out);
  // 0 removes the limit. It counts the tenant's jobs accepted while a limit
  // is set for it (jobs already live when the first limit is set are not counted).
  void set_tenant_limit(std::string_view tenant, std::uint32_t max_running, std::int64_t now, Effects &out);
  // The cap in slots now (the adaptive width when adaptive, else max_concurrent).
  [[nodiscard]] std::uint32_t cap() const { return adaptive() ? width_ : cfg_.max_concurrent; }
  [[nodiscard]] std::uint32_t adaptive_width() const { return width_; }

  // ---- external slots (a lane shared across processes, docs/cluster.md)
  //
  // With external slots on, a slot is used only once it has been granted
  // from outside (grant_external) and every slot a job gives back (it
  // finishes or releases) goes back out: the allowance shrinks by the slots
  // the job held, and the owner returns them. So slots in use never exceed
  // min(cap(), the allowance), and a freed slot never passes to a local job
  // without going back to the outside arbiter first. Preemption and the
  // fair-share order work as before within what is granted.
  void set_external(bool on);
  // External slots: a tenant limit is shared too. A tenant with a limit
  // runs at most min(limit, quota) jobs, quota being what the owner of the
  // slots granted of it (0 until it says; set_tenant_limit shares a new
  // limit). Like grant_external, this only dispatches, and a lower quota
  // does nothing else (no effects).
  void set_tenant_quota(std::string_view tenant, std::uint32_t quota, std::int64_t now, Effects &out);
  [[nodiscard]] std::vector<TenantQuota> tenant_quotas() const;
  // Raised whenever what tenant_quotas() reports may have changed.
  [[nodiscard]] std::uint64_t quota_epoch() const { return quota_epoch_; }
  [[nodiscard]] bool external() const { return external_; }
  // n more slots granted from outside: what waits may start now (Dispatch
  // and Cancel effects only, never an Outcome).
  void grant_external(std::uint32_t n, std::int64_t now, Effects &out);
  // Takes back up to n granted slots that no job holds (a lease was lost);
  // returns how many it took.
  std::uint32_t revoke_external(std::uint32_t n);
  // Granted slots (held by jobs or free).
  [[nodiscard]] std::uint32_t external_held() const { return ext_held_; }
  // Slots it would use now if it had them: those in use plus what the
  // waiting jobs (not parked under a tenant limit) want, up to the cap; only
  // those in use while paused or cooling down.
  [[nodiscard]] std::uint32_t external_demand() const;
  // The job the next free slot would go to (nullptr if none waits).
  [[nodiscard]] const Job *next_waiting() const { return next_candidate(); }
  [[nodiscard]] bool adaptive() const { return cfg_.adaptive_min > 0 && cfg_.adaptive_max >= cfg_.adaptive_min; }
  [[nodiscard]] std::uint32_t slots_in_use() const { return slots_used_; }
  // Jobs holding slots (running() also counts released and reacquiring ones).
  [[nodiscard]] std::uint32_t holding() const { return static_cast<std::uint32_t>(running_.size()); }
  [[nodiscard]] std::uint32_t tenant_running(std::string_view tenant) const;
  struct TenantRow {
    std::string name;
    std::uint32_t limit = 0, running = 0;
  };
  // Every tenant with a limit (or with live jobs accepted under one), by name.
  [[nodiscard]] std::vector<TenantRow> tenant_limits() const;
  [[nodiscard]] const RateLimit &rate_limit(RateKind kind) const { return rate_[static_cast<int>(kind)]; }
  // When the queue's front may pass the rate limit (0 = not held by it).
  [[nodiscard]] std::int64_t rate_ready_at() const { return rate_ready_at_; }
  // flags: LANE_CANCEL_QUEUED and/or LANE_CANCEL_RUNNING.
  lane_status_t cancel(std::string_view id, std::uint32_t flags, std::int64_t now, Effects &out);
  lane_status_t cancel_token(std::uint64_t token, std::uint32_t flags, std::int64_t now, Effects &out);
  // Ends a queued job with `cause`, or asks a running one to stop with it.
  // false if the job has already ended or was already asked to stop.
  bool cancel_job(Job *job, lane_status_t cause, std::int64_t now, Effects &out);

  void set_max_concurrent(std::uint32_t n, std::int64_t now, Effects &out);
  void set_preemption(bool enabled, std::int64_t min_runtime_ns, std::int64_t now, Effects &out);
  void set_eta_window(std::uint32_t n) { runtimes_.resize(n); }
  bool set_tenant_weight(std::string_view tenant, std::uint32_t weight) { return queue_->set_weight(tenant, weight); }
  void pause() { paused_ = true; }
  void resume(std::int64_t now, Effects &out);
  void cooldown(std::int64_t until_ns, std::int64_t now, Effects &out);
  void close(lane_close_mode_t mode, std::int64_t now, Effects &out);
  // Expires queue timeouts and cooldowns, retries preemption whose guard has
  // passed, fills free slots.
  void tick(std::int64_t now, Effects &out);
  // When tick has something to do next (kNoDeadline if nothing).
  [[nodiscard]] std::int64_t next_deadline() const;

  [[nodiscard]] Job *find_token(std::uint64_t token) const;
  [[nodiscard]] Job *find_id(std::string_view id) const;
  void stats(std::int64_t now, lane_stats_t &out) const;
  // The same, in two steps, so that the owner's lock covers only copying:
  // stats() with `samples` copies the recent waits and runs and leaves the
  // quantile fields; fill_quantiles() computes them from the copies.
  struct Samples {
    std::vector<std::int64_t> waits, runs;
  };
  void stats(std::int64_t now, lane_stats_t &out, Samples *samples) const;
  static void fill_quantiles(lane_stats_t &out, Samples &samples);
  // Jobs running: holding slots, released or reacquiring.
  [[nodiscard]] std::uint32_t running() const {
    return static_cast<std::uint32_t>(running_.size() + released_.size() + reacquirers_.size() + parked_runs_);
  }
  [[nodiscard]] std::size_t queued() const { return queue_->size() + preemptors_.size() + parked_; }
  [[nodiscard]] bool closed() const { return closed_; }
  // The latest time any operation has seen.
  [[nodiscard]] std::int64_t current_time() const { return now_; }
  [[nodiscard]] const Config &config() const { return cfg_; }
  [[nodiscard]] const Queue &queue() const { return *queue_; }

 private:
  void advance(std::int64_t now, Effects &out);
  [[nodiscard]] bool cooling() const { return cooldown_until_ != 0 && now_ < cooldown_until_; }
  // The slots that may be in use: the cap, and with external slots on, no
  // more than were granted.
  [[nodiscard]] std::uint32_t limit() const { return external_ ? std::min(cap(), ext_held_) : cap(); }
  [[nodiscard]] bool can_dispatch() const { return !paused_ && !cooling() && slots_used_ < limit(); }
  // Anything that the one-slot fast path of submit cannot see is on.
  [[nodiscard]] bool budgets_on() const {
    return rate_[0].on || rate_[1].on || !budgets_.empty() || multi_slot_live_ != 0 || !reacquirers_.empty();
  }
  [[nodiscard]] std::uint32_t need(const Job *job) const {
    return std::min(job->slots_wanted(), std::max<std::uint32_t>(cap(), 1));
  }
  [[nodiscard]] bool fits(const Job *job) const { return slots_used_ + need(job) <= limit(); }
  // The earliest time the rate limits let `job` (with `ahead` requests and
  // `cost_ahead` cost before it) go.
  [[nodiscard]] std::int64_t rate_at(const Job *job, std::int64_t ahead, std::int64_t cost_ahead) const;
  SubmitResult submit_budgeted(Job *job, std::string_view tenant, Effects &out, bool dispatch_or_refuse, bool estimate);
  void take(Job *job);  // out of whatever list it waits in; keeps its queue deadline
  void park(Job *job);
  void unpark(TenantBudget *b);
  void uncount(Job *job);
  void give_back(Job *job);  // a holding job lets go of its slots
  void insert_reacquirer(Job *job);
  [[nodiscard]] Job *next_candidate() const;
  void q_push(Job *job);
  void q_requeue(Job *job);
  void q_remove(Job *job);
  void disarm_run_timeout(Job *job) {
    if (job->run_stop_at != 0) disarm_run_timeout_slow(job);
  }
  void disarm_run_timeout_slow(Job *job);
  void on_adaptive_finish(Job *job, bool success, bool overloaded, Effects &out);
  [[nodiscard]] std::int64_t runtime_estimate() const;
  [[nodiscard]] std::int64_t eta_for(std::size_t position) const;
  [[nodiscard]] Job *find_victim(std::int32_t priority, std::uint32_t need = 1) const;
  // The most effects one step of advance, fill or submit pushes: reserved
  // before the step changes anything.
  static constexpr std::size_t kEffectsPerStep = 4;
  static constexpr std::int64_t kRefillRetryNs = 1'000'000;
  [[nodiscard]] bool room_for_step(Effects &out);
  // submit after the checks and attach: dispatch, preempt or queue.
  SubmitResult place(Job *job, std::string_view tenant, Effects &out, bool plain, bool dispatch_or_refuse,
                     bool estimate);
  void accept(Job *job);                            // all or nothing
  void unaccept(Job *job);                          // undoes accept
  void enqueue_accepted(Job *job, bool park_it);    // all or nothing, unaccepting on failure
  void dispatch(Job *job, Effects &out);
  void preempt(Job *victim, Job *preemptor, Effects &out);
  SubmitResult accept_preempting(Job *job, Job *victim, SubmitResult r, Effects &out);
  void preempt_for_head(Effects &out);
  void fill(Effects &out);
  void unqueue(Job *job);
  void end(Job *job, lane_status_t status, Effects &out);
  bool stop(Job *job, lane_status_t cause, Effects &out);
  lane_status_t cancel_found(Job *job, std::uint32_t flags, Effects &out);

  Config cfg_;
  std::unique_ptr<Queue> queue_;
  JobList preemptors_;  // strict cap: waiting for their victims' slots, ahead of the queue
  JobList running_;
  JobList released_;     // running without slots
  JobList reacquirers_;  // released, waiting for slots: highest priority, then oldest, first
  std::uint32_t preemptible_running_ = 0;
  std::uint32_t slots_used_ = 0;
  std::uint32_t multi_slot_live_ = 0;  // live jobs wanting more than one slot
  std::size_t parked_ = 0;             // queued jobs Parked under tenant limits
  std::size_t parked_runs_ = 0;        // reacquiring jobs Parked under tenant limits (they count as running)
  std::int64_t queued_cost_ = 0;       // cost estimates of the jobs in queue_
  std::unordered_map<std::string, std::unique_ptr<TenantBudget>, StringHash, std::equal_to<>> budgets_;
  RateLimit rate_[2];
  std::int64_t rate_ready_at_ = 0;
  std::int64_t refill_at_ = 0;  // a fill stopped for memory: try again then
  std::uint32_t width_ = 0;
  bool external_ = false;
  std::uint64_t quota_epoch_ = 0;
  std::uint32_t ext_held_ = 0;  // external slots granted and not given back
  std::uint32_t successes_ = 0;
  std::uint64_t adapt_epoch_ = 0;
  JobIndex index_;  // live jobs by token and by id
  // Deadlines, earliest first; equal deadlines in acceptance order.
  struct ByDeadline {
    bool operator()(const std::pair<std::int64_t, Job *> &a, const std::pair<std::int64_t, Job *> &b) const {
      return a.first != b.first ? a.first < b.first : a.second->seq < b.second->seq;
    }
  };
  std::set<std::pair<std::int64_t, Job *>, ByDeadline> timeouts_;  // queue timeouts: (deadline, job)
  std::set<std::pair<std::int64_t, Job *>, ByDeadline> stop_at_;   // outcome timeouts: (deadline, job)

  std::int64_t now_ = 0;
  std::uint64_t next_seq_ = 0;
  bool paused_ = false;
  bool closed_ = false;
  bool cancelling_ = false;  // closed with LANE_CLOSE_CANCEL
  std::int64_t cooldown_until_ = 0;

  RuntimeWindow runtimes_;
  ThroughputWindow throughput_;
  SampleRing waits_, runs_;
  std::uint64_t rate_waits_ = 0, overloads_ = 0;
  std::int64_t cost_used_ = 0;
  std::uint64_t submitted_ = 0, completed_ = 0, failed_ = 0, cancelled_ = 0, preempted_ = 0, timed_out_ = 0,
                closed_count_ = 0, refused_ = 0, preemptions_ = 0;
};

}  // namespace lane::core

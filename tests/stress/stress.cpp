// Randomized stress of the C ABI (lane.h only). Each round creates four lanes
// (FIFO and FAIR_SHARE, small caps, two of them with a cap that never
// changes) and two ports drained by poller threads that run host-run jobs.
// Four threads then submit callback and host-run jobs with random ids (some
// duplicated on purpose), tenants, priorities, preemption flags, queue
// timeouts and max waits, call lane_submit_wait from outside and from inside
// jobs, cancel random ids, resize, pause, resume, cool down and toggle
// preemption; the round ends with lane_close (random mode) and lane_destroy.
//
// Checked: every accepted job gets exactly one on_done and, if it names a
// port, exactly one DONE; refused ones get none; outcomes are valid; on the
// fixed-cap lanes the jobs running at once never exceed the cap; lane_stats
// add up (and match this test's own counts) after lane_wait_idle; each job's
// user_data is a heap record freed exactly once, in on_done (ASan checks).
//
// LANE_STRESS_SEED=<n> replays a seed (thread interleavings still vary);
// LANE_STRESS_SCALE=<n> multiplies the rounds (default 1: a few seconds).
#include <lane/lane.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ledger.hpp"

namespace {

using stress::Acc;
using stress::failures;
using stress::Entry;
using stress::EventKey;
using stress::Kind;

constexpr std::uint64_t kMagic = 0x4c414e454a4f4221ULL;
constexpr std::int64_t kUs = 1'000;
constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kSec = 1'000'000'000;
constexpr int kLanes = 4;
constexpr int kPorts = 2;
constexpr int kWorkers = 4;
constexpr int kInflightCap = 40;  // per lane: keeps every drain short
constexpr int kIdPool = 40;       // "p<n>" ids, shared by every thread: duplicates on purpose
constexpr std::array<const char *, 4> kTenants{"alice", "bob", "carol", ""};

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : g_(seed) {}
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : g_() % n; }
  std::int64_t range(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo + 1)));
  }
  bool chance(int percent) { return below(100) < static_cast<std::uint64_t>(percent); }
  std::uint64_t next() { return g_(); }

 private:
  std::mt19937_64 g_;
};

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  std::uint64_t z = a + 0x9e3779b97f4a7c15ULL * (b + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::int64_t mono_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void sleep_ns(std::int64_t ns) { std::this_thread::sleep_for(std::chrono::nanoseconds(ns)); }

// ------------------------------------------------------------------ state

struct LaneSlot {
  std::atomic<lane_t *> lane{nullptr};
  std::atomic<int> glane{-1};
  std::string name;
  lane_policy_t policy = LANE_POLICY_FIFO;
  std::uint32_t cap = 1;
  bool fixed_cap = false;          // never resized: the running count is checked against cap
  std::atomic<int> running{0};     // fixed_cap lanes: jobs inside run / granted and unfinished
  std::atomic<int> max_running{0};
  std::atomic<int> inflight{0};    // accepted (or being submitted) and not yet ended
  std::atomic<bool> closing{false};  // lane_close or lane_destroy has begun
};

// One job's user_data: owned by the library from acceptance to on_done.
struct JobRec {
  std::uint64_t magic = kMagic;
  std::uint64_t serial = 0;
  int slot = 0;
  int glane = 0;
  std::string id;
  Kind kind = Kind::Callback;
  std::size_t tenant = 0;
  std::int32_t priority = 0;
  std::uint32_t flags = 0;
  std::int64_t max_wait_ns = 0;
  std::int64_t queue_timeout_ns = 0;
  int port = 0;
  bool via_wait = false;
  bool nested = false;        // submitted from inside a job: never nests again
  std::int64_t sleep_ns = 0;  // callback jobs: time spent in lane_ctx_wait
  std::int32_t ret = 0;       // what run returns / what the poller finishes with
  int nest = 0;               // 0 none, 1 submit_wait same lane, 2 submit_wait other lane, 3 lane_submit a child
  std::uint64_t seed = 0;
  int runs = 0;               // > 1 after a requeue
  // Budgets: an estimated cost (<= every cost limit's burst), a run timeout,
  // and for callback jobs a release of the slot with a reacquire mid-run.
  std::int64_t cost = 0;
  std::int64_t run_timeout_ns = 0;
  bool release = false;
};

struct Totals {
  std::atomic<std::uint64_t> submits{0}, accepted{0}, refused{0}, waits{0}, nested_waits{0}, deadlocks{0},
      cancels_ok{0}, cancels{0}, grants{0}, port_cancels{0}, resizes{0}, pauses{0}, budgets{0}, invalid{0}, preemptions{0},
      preempted_at_close{0};
};

struct Harness {
  std::uint64_t seed = 0;
  int rounds = 1;
  std::array<LaneSlot, kLanes> slots;
  std::array<lane_port_t *, kPorts> ports{};
  stress::Ledger ledger;
  Totals totals;
  std::atomic<std::uint64_t> next_serial{1};
  std::atomic<bool> stop_workers{false};
  std::atomic<int> workers_done{0};
  std::atomic<bool> stop_pollers{false};
  std::atomic<int> pending_finishes{0};  // granted, not yet lane_job_finish'ed
  // Jobs may touch another lane only while cross_ok; teardown clears it and
  // waits for cross_inflight to reach 0 before destroying anything.
  std::atomic<bool> cross_ok{false};
  std::atomic<int> cross_inflight{0};
};

Harness *g_h = nullptr;

int slot_of(const lane_t *lane) {
  for (int i = 0; i < kLanes; ++i) {
    if (g_h->slots[static_cast<std::size_t>(i)].lane.load() == lane) return i;
  }
  return -1;
}

LaneSlot &slot(int i) { return g_h->slots[static_cast<std::size_t>(i)]; }

// Counts jobs holding a slot of a fixed-cap lane, from inside the slot's
// lifetime (after dispatch, before the slot is released).
void enter_slot(LaneSlot &s, const char *what) {
  if (!s.fixed_cap) return;
  const int now = s.running.fetch_add(1) + 1;
  int seen = s.max_running.load();
  while (now > seen && !s.max_running.compare_exchange_weak(seen, now)) {
  }
  if (now > static_cast<int>(s.cap)) {
    STRESS_FAIL("lane %s (strict cap %u): %d jobs hold slots at once (%s)", s.name.c_str(), s.cap, now, what);
  }
}
void leave_slot(LaneSlot &s) {
  if (s.fixed_cap) s.running.fetch_sub(1);
}

// ------------------------------------------------------------------ jobs

void on_done(const lane_outcome_t *o, void *ud);
std::int32_t run_job(lane_ctx_t *ctx, void *ud);

JobRec *new_job(Rng &r, int si, bool nested, bool allow_host) {
  auto *j = new JobRec;
  j->serial = g_h->next_serial.fetch_add(1);
  j->slot = si;
  j->glane = slot(si).glane.load();
  j->id = r.chance(30) ? "p" + std::to_string(r.below(kIdPool)) : "u" + std::to_string(j->serial);
  const auto k = r.below(100);
  j->kind = (allow_host && k < 30) ? Kind::HostRun : (k < 50 ? Kind::CallbackPort : Kind::Callback);
  j->tenant = static_cast<std::size_t>(r.below(kTenants.size()));
  j->priority = static_cast<std::int32_t>(r.range(-1, 3));
  if (r.chance(40)) {
    j->flags |= LANE_JOB_PREEMPTIBLE;
    if (r.chance(50)) j->flags |= LANE_JOB_REQUEUE_ON_PREEMPT;
  }
  if (r.chance(12)) j->max_wait_ns = r.range(200 * kUs, 20 * kMs);
  if (r.chance(15)) j->queue_timeout_ns = r.range(1 * kMs, 20 * kMs);
  j->port = static_cast<int>(r.below(kPorts));
  j->nested = nested;
  const auto len = r.below(100);
  j->sleep_ns = len < 85 ? r.range(0, 2 * kMs) : (len < 97 ? r.range(2 * kMs, 6 * kMs) : r.range(10 * kMs, 30 * kMs));
  j->ret = r.chance(8) ? static_cast<std::int32_t>(r.range(1, 9)) : 0;
  if (!nested && j->kind != Kind::HostRun) {
    const auto n = r.below(100);
    j->nest = n < 4 ? 1 : (n < 7 ? 2 : (n < 10 ? 3 : 0));
  }
  j->cost = r.chance(50) ? r.range(0, 5) : 0;
  if (r.chance(8)) j->run_timeout_ns = r.range(1 * kMs, 20 * kMs);
  j->release = j->kind != Kind::HostRun && r.chance(10);
  j->seed = r.next();
  return j;
}

lane_job_t describe(const JobRec *j) {
  lane_job_t d{};
  d.struct_size = sizeof d;
  d.id = j->id.c_str();
  d.tenant = kTenants[j->tenant];
  d.priority = j->priority;
  d.flags = j->flags;
  d.max_wait_ns = j->max_wait_ns;
  d.run = j->kind == Kind::HostRun ? nullptr : run_job;
  d.on_done = on_done;
  d.user_data = const_cast<JobRec *>(j);
  d.port = stress::names_port(j->kind) ? g_h->ports[static_cast<std::size_t>(j->port)] : nullptr;
  d.queue_timeout_ns = j->queue_timeout_ns;
  d.cost = j->cost;
  d.run_timeout_ns = j->run_timeout_ns;
  return d;
}

Entry entry_for(const JobRec *j) {
  Entry e;
  e.glane = j->glane;
  e.kind = j->kind;
  e.via_wait = j->via_wait;
  e.nested = j->nested;
  return e;
}

void check_ticket(const LaneSlot &s, const lane_ticket_t &t, lane_status_t st, std::int64_t max_wait) {
  if (t.position < 0 || t.eta_ns < 0 || t.blocked_by < LANE_BLOCKED_NONE || t.blocked_by > LANE_BLOCKED_TENANT_LIMIT) {
    STRESS_FAIL("lane %s: bad ticket (position %d, eta %lld, blocked_by %d) for %s", s.name.c_str(), t.position,
                static_cast<long long>(t.eta_ns), static_cast<int>(t.blocked_by), lane_status_name(st));
  }
  if (st == LANE_OK && t.job_token == 0) STRESS_FAIL("lane %s: accepted job with token 0", s.name.c_str());
  if (st == LANE_ERR_BUSY && max_wait > 0 && t.eta_ns <= max_wait) {
    STRESS_FAIL("lane %s: refused BUSY with eta %lld <= max_wait %lld", s.name.c_str(),
                static_cast<long long>(t.eta_ns), static_cast<long long>(max_wait));
  }
}

// lane_submit one fresh job to slot si. false if the lane was too full to try.
bool submit_one(Rng &r, int si, bool nested, bool allow_host, std::string *id_out = nullptr) {
  LaneSlot &s = slot(si);
  if (s.inflight.load() >= kInflightCap) return false;
  JobRec *j = new_job(r, si, nested, allow_host);
  if (id_out != nullptr) *id_out = j->id;
  const std::uint64_t serial = j->serial;
  const std::int64_t max_wait = j->max_wait_ns;
  g_h->ledger.add(serial, entry_for(j));
  s.inflight.fetch_add(1);
  const lane_job_t d = describe(j);
  lane_ticket_t t{};
  t.struct_size = sizeof t;
  const lane_status_t st = lane_submit(s.lane.load(), &d, &t);
  // From here on j belongs to the library if st == LANE_OK: do not touch it.
  g_h->totals.submits.fetch_add(1);
  if (st == LANE_OK) {
    g_h->totals.accepted.fetch_add(1);
    g_h->ledger.submitted(serial, st, Acc::Accepted, t.job_token);
    check_ticket(s, t, st, max_wait);
    return true;
  }
  s.inflight.fetch_sub(1);
  g_h->totals.refused.fetch_add(1);
  g_h->ledger.submitted(serial, st, Acc::Refused, 0);
  if (st == LANE_ERR_BUSY) check_ticket(s, t, st, max_wait);
  if (st != LANE_ERR_BUSY && st != LANE_ERR_DUPLICATE && st != LANE_ERR_QUEUE_FULL && st != LANE_ERR_CLOSED) {
    STRESS_FAIL("lane_submit(%s) returned %s (%s)", s.name.c_str(), lane_status_name(st), lane_last_error());
  }
  if (st == LANE_ERR_BUSY && max_wait == 0) STRESS_FAIL("lane_submit(%s): BUSY without max_wait", s.name.c_str());
  delete j;
  return true;
}

// lane_submit_wait one fresh job to slot si.
void submit_wait_one(Rng &r, int si, bool nested, std::int64_t timeout, bool same_lane_as_caller) {
  LaneSlot &s = slot(si);
  if (s.inflight.load() >= kInflightCap) return;
  JobRec *j = new_job(r, si, nested, !nested);
  j->via_wait = true;
  const std::uint64_t serial = j->serial;
  g_h->ledger.add(serial, entry_for(j));
  s.inflight.fetch_add(1);
  // on_done frees j (and j->id) before lane_submit_wait returns; the inputs
  // of a call must outlive the call, so the id travels in a copy.
  const std::string id = j->id;
  lane_job_t d = describe(j);
  d.id = id.c_str();
  lane_outcome_t o{};
  o.struct_size = sizeof o;
  const lane_status_t st = lane_submit_wait(s.lane.load(), &d, timeout, &o);
  g_h->totals.waits.fetch_add(1);
  if (nested) g_h->totals.nested_waits.fetch_add(1);
  switch (st) {
    case LANE_OK:
    case LANE_ERR_JOB_FAILED:
    case LANE_ERR_CANCELLED:
    case LANE_ERR_PREEMPTED:
    case LANE_ERR_TIMEOUT:
      g_h->ledger.submitted(serial, st, Acc::Accepted, o.job_token);
      if (o.status != st) {
        STRESS_FAIL("lane_submit_wait(%s) returned %s but its outcome says %s", s.name.c_str(),
                    lane_status_name(st), lane_status_name(o.status));
      }
      break;
    case LANE_ERR_CLOSED:  // refused at submit, or the outcome: on_done decides
      g_h->ledger.unknown(serial, j);
      break;
    case LANE_ERR_DEADLOCK:
      g_h->totals.deadlocks.fetch_add(1);
      if (!same_lane_as_caller) {
        STRESS_FAIL("lane_submit_wait(%s) returned DEADLOCK %s", s.name.c_str(),
                    nested ? "from a job of another lane" : "from outside any job");
      }
      [[fallthrough]];
    case LANE_ERR_BUSY:
    case LANE_ERR_DUPLICATE:
    case LANE_ERR_QUEUE_FULL:
      s.inflight.fetch_sub(1);
      g_h->ledger.submitted(serial, st, Acc::Refused, 0);
      delete j;
      break;
    default:
      STRESS_FAIL("lane_submit_wait(%s) returned %s (%s)", s.name.c_str(), lane_status_name(st), lane_last_error());
      g_h->ledger.unknown(serial, j);
      break;
  }
}

// Invalid submissions: refused with LANE_ERR_INVALID, never an outcome.
void submit_invalid(Rng &r, int si) {
  LaneSlot &s = slot(si);
  JobRec *j = new_job(r, si, true, true);
  const std::uint64_t serial = j->serial;
  g_h->ledger.add(serial, entry_for(j));
  lane_job_t d = describe(j);
  const auto how = r.below(3);
  if (how == 0) d.id = "";
  if (how == 1) {
    d.run = nullptr;
    d.port = nullptr;
  }
  if (how == 2) d.struct_size = 0;
  const lane_status_t st = lane_submit(s.lane.load(), &d, nullptr);
  g_h->totals.invalid.fetch_add(1);
  if (st == LANE_OK) {
    STRESS_FAIL("lane_submit(%s) accepted an invalid job (case %d)", s.name.c_str(), static_cast<int>(how));
    g_h->ledger.submitted(serial, st, Acc::Accepted, 0);
    return;  // the library owns j now
  }
  if (st != LANE_ERR_INVALID) {
    STRESS_FAIL("lane_submit(%s) of an invalid job (case %d) returned %s", s.name.c_str(), static_cast<int>(how),
                lane_status_name(st));
  }
  g_h->ledger.submitted(serial, st, Acc::Refused, 0);
  delete j;
}

void on_done(const lane_outcome_t *o, void *ud) {
  auto *j = static_cast<JobRec *>(ud);
  if (j == nullptr || j->magic != kMagic) {
    STRESS_FAIL("on_done with a bad user_data %p (freed twice?)", ud);
    return;
  }
  LaneSlot &s = slot(j->slot);
  if (o == nullptr || o->struct_size < sizeof(lane_outcome_t)) {
    STRESS_FAIL("on_done: outcome NULL or too small");
  } else {
    const auto sn = static_cast<unsigned long long>(j->serial);
    if (!stress::is_outcome_status(o->status)) {
      STRESS_FAIL("job %llu: outcome status %d (%s) is not an outcome", sn, o->status, lane_status_name(o->status));
    }
    if (o->job_id == nullptr || j->id != o->job_id) STRESS_FAIL("job %llu: outcome job_id differs", sn);
    if (o->lane == nullptr || s.name != o->lane) STRESS_FAIL("job %llu: outcome lane name differs", sn);
    if (o->enqueued_at_ns <= 0 || o->finished_at_ns <= 0 ||
        (o->started_at_ns != 0 && (o->started_at_ns < o->enqueued_at_ns || o->finished_at_ns < o->started_at_ns))) {
      STRESS_FAIL("job %llu: outcome times out of order (enq %lld start %lld fin %lld)", sn,
                  static_cast<long long>(o->enqueued_at_ns), static_cast<long long>(o->started_at_ns),
                  static_cast<long long>(o->finished_at_ns));
    }
    if (o->status == LANE_OK && (o->job_code != 0 || o->started_at_ns == 0)) {
      STRESS_FAIL("job %llu: OK with job_code %d, started_at %lld", sn, o->job_code,
                  static_cast<long long>(o->started_at_ns));
    }
    if (o->status == LANE_ERR_JOB_FAILED && o->job_code == 0) STRESS_FAIL("job %llu: JOB_FAILED with code 0", sn);
    if (o->status == LANE_ERR_PREEMPTED && (j->flags & LANE_JOB_PREEMPTIBLE) == 0) {
      STRESS_FAIL("job %llu (flags %u): ended PREEMPTED but is not preemptible", sn, j->flags);
    }
    if (o->status == LANE_ERR_PREEMPTED && (j->flags & LANE_JOB_REQUEUE_ON_PREEMPT) != 0) {
      // A closed lane does not requeue (the library ends the victim PREEMPTED
      // instead); anywhere else the job must go back to the queue.
      if (s.closing.load()) {
        g_h->totals.preempted_at_close.fetch_add(1);
      } else {
        STRESS_FAIL("job %llu (flags %u): REQUEUE_ON_PREEMPT job ended PREEMPTED on an open lane", sn, j->flags);
      }
    }
    if (o->status == LANE_ERR_TIMEOUT && j->queue_timeout_ns == 0 && j->run_timeout_ns == 0 && !j->via_wait) {
      STRESS_FAIL("job %llu: TIMEOUT without a queue, run or submit_wait timeout", sn);
    }
    g_h->ledger.outcome(j->serial, o->status, o->job_token);
  }
  s.inflight.fetch_sub(1);
  j->magic = 0;
  delete j;
}

std::int32_t run_job(lane_ctx_t *ctx, void *ud) {
  auto *j = static_cast<JobRec *>(ud);
  if (j == nullptr || j->magic != kMagic) {
    STRESS_FAIL("run with a bad user_data %p", ud);
    return 99;
  }
  LaneSlot &s = slot(j->slot);
  enter_slot(s, "callback");
  if (lane_ctx_user_data(ctx) != ud) STRESS_FAIL("lane_ctx_user_data differs from user_data");
  if (lane_ctx_lane(ctx) != s.lane.load()) STRESS_FAIL("lane_ctx_lane is not the job's lane");
  const char *cid = lane_ctx_job_id(ctx);
  if (cid == nullptr || j->id != cid) STRESS_FAIL("lane_ctx_job_id differs from the job's id");

  Rng r(j->seed + static_cast<std::uint64_t>(j->runs));
  // Only the first run nests: a requeued job that spawned a higher-priority
  // child on every run would be preempted by it forever (a test-made livelock).
  const int nest = j->runs++ == 0 ? j->nest : 0;
  if (nest == 1) {
    submit_wait_one(r, j->slot, true, r.range(0, 5 * kMs), true);
  } else if (nest == 2 || nest == 3) {
    g_h->cross_inflight.fetch_add(1);
    if (g_h->cross_ok.load()) {
      const int other = static_cast<int>((static_cast<std::uint64_t>(j->slot) + 1 + r.below(kLanes - 1)) % kLanes);
      if (nest == 2) {
        submit_wait_one(r, other, true, r.range(0, 5 * kMs), false);
      } else {
        submit_one(r, r.chance(50) ? j->slot : other, true, true);
      }
    }
    g_h->cross_inflight.fetch_sub(1);
  }

  // Give the slot back for a while (a tool call), then ask for it again:
  // granted, timed out (released again) or told to stop.
  bool holding = true;
  if (j->release) {
    leave_slot(s);  // first: the freed slot may start another job before release returns
    const lane_status_t rel = lane_ctx_release(ctx);
    if (rel != LANE_OK) STRESS_FAIL("lane_ctx_release returned %s", lane_status_name(rel));
    holding = false;
    lane_ctx_wait(ctx, r.range(0, 1 * kMs));
    const lane_status_t re = lane_ctx_reacquire(ctx, r.chance(50) ? -1 : r.range(0, 3 * kMs));
    if (re == LANE_OK) {
      enter_slot(s, "reacquired");
      holding = true;
    } else if (re != LANE_ERR_TIMEOUT && re != LANE_ERR_CANCELLED && re != LANE_ERR_PREEMPTED &&
               re != LANE_ERR_CLOSED) {
      STRESS_FAIL("lane_ctx_reacquire returned %s", lane_status_name(re));
    }
  }
  if (r.chance(20)) {
    const lane_status_t c = lane_ctx_set_cost(ctx, r.range(1, 5));
    if (c != LANE_OK) STRESS_FAIL("lane_ctx_set_cost returned %s", lane_status_name(c));
  }
  const lane_status_t w = lane_ctx_wait(ctx, j->sleep_ns);
  std::int32_t ret = j->ret;
  if (w != LANE_ERR_TIMEOUT) {
    if (w != LANE_ERR_CANCELLED && w != LANE_ERR_PREEMPTED && w != LANE_ERR_CLOSED) {
      STRESS_FAIL("lane_ctx_wait returned %s", lane_status_name(w));
    }
    if (lane_ctx_cancelled(ctx) != 1 || lane_ctx_cause(ctx) != w) {
      STRESS_FAIL("lane_ctx_wait said %s but cancelled=%d cause=%s", lane_status_name(w), lane_ctx_cancelled(ctx),
                  lane_status_name(lane_ctx_cause(ctx)));
    }
    ret = r.chance(50) ? 0 : 1;  // a cancelled job may return anything
  }
  if (holding) leave_slot(s);
  return ret;
}

// ------------------------------------------------------------------ pollers

struct Pending {
  std::int64_t due;
  lane_t *lane;
  int si;
  std::uint64_t token;
  std::int32_t code;
};

void finish(Pending &p) {
  leave_slot(slot(p.si));
  const lane_status_t st = lane_job_finish(p.lane, p.token, p.code);
  g_h->pending_finishes.fetch_sub(1);
  if (st != LANE_OK) {
    STRESS_FAIL("lane_job_finish(%s, token %llu) returned %s (%s)", slot(p.si).name.c_str(),
                static_cast<unsigned long long>(p.token), lane_status_name(st), lane_last_error());
  }
}

void poller(int pi) {
  Rng r(mix(g_h->seed, 1000 + static_cast<std::uint64_t>(pi)));
  lane_port_t *port = g_h->ports[static_cast<std::size_t>(pi)];
  std::vector<Pending> pending;
  std::array<lane_event_t, 16> evs{};
  for (auto &e : evs) e.struct_size = sizeof(lane_event_t);
  while (!g_h->stop_pollers.load()) {
    std::int64_t timeout = 20 * kMs;
    const std::int64_t now = mono_ns();
    for (const auto &p : pending) timeout = std::min(timeout, std::max<std::int64_t>(0, p.due - now));
    const std::int32_t n = lane_port_poll(port, evs.data(), static_cast<std::int32_t>(evs.size()), timeout);
    if (n < 0) {
      STRESS_FAIL("lane_port_poll returned %s", lane_status_name(static_cast<lane_status_t>(n)));
      sleep_ns(kMs);
      continue;
    }
    for (std::int32_t i = 0; i < n; ++i) {
      const lane_event_t &e = evs[static_cast<std::size_t>(i)];
      const int si = slot_of(e.lane);
      if (si < 0) {
        STRESS_FAIL("port event (kind %d) for an unknown lane %p", static_cast<int>(e.kind),
                    static_cast<void *>(e.lane));
        continue;
      }
      const EventKey key{slot(si).glane.load(), e.job_token};
      auto mine = std::find_if(pending.begin(), pending.end(),
                               [&](const Pending &p) { return p.lane == e.lane && p.token == e.job_token; });
      switch (e.kind) {
        case LANE_EVENT_GRANT: {
          g_h->ledger.grant(key);
          g_h->totals.grants.fetch_add(1);
          if (mine != pending.end()) {
            STRESS_FAIL("second GRANT for token %llu before lane_job_finish", static_cast<unsigned long long>(e.job_token));
            break;
          }
          const auto *j = static_cast<const JobRec *>(e.user_data);
          if (j == nullptr || j->magic != kMagic || j->kind != Kind::HostRun) {
            STRESS_FAIL("GRANT with a bad user_data %p", e.user_data);
          }
          enter_slot(slot(si), "host-run");
          g_h->pending_finishes.fetch_add(1);
          const std::int32_t code = (j != nullptr && j->magic == kMagic) ? j->ret : 0;
          Pending p{now, e.lane, si, e.job_token, code};
          if (r.chance(50)) {
            finish(p);
          } else {
            p.due = mono_ns() + r.range(100 * kUs, 3 * kMs);
            pending.push_back(p);
          }
          break;
        }
        case LANE_EVENT_CANCEL:
          g_h->ledger.cancel(key);
          g_h->totals.port_cancels.fetch_add(1);
          if (e.status != LANE_ERR_CANCELLED && e.status != LANE_ERR_PREEMPTED && e.status != LANE_ERR_CLOSED &&
              e.status != LANE_ERR_TIMEOUT) {
            STRESS_FAIL("CANCEL event with status %s", lane_status_name(e.status));
          }
          if (mine != pending.end()) {
            Pending p = *mine;
            pending.erase(mine);
            p.code = r.chance(50) ? 0 : 3;
            finish(p);
          }
          break;
        case LANE_EVENT_DONE:
          g_h->ledger.done(key, e.status);
          if (!stress::is_outcome_status(e.status)) STRESS_FAIL("DONE with status %s", lane_status_name(e.status));
          if (mine != pending.end()) STRESS_FAIL("DONE before lane_job_finish for a granted job");
          break;
        default:
          STRESS_FAIL("port event of unknown kind %d", static_cast<int>(e.kind));
      }
    }
    const std::int64_t now2 = mono_ns();
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->due <= now2) {
        finish(*it);
        it = pending.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (!pending.empty()) STRESS_FAIL("poller %d stopped with %zu unfinished grants", pi, pending.size());
}

// ------------------------------------------------------------------ workers

struct RecentIds {
  std::array<std::pair<int, std::string>, 32> ids;
  std::size_t n = 0;
  void push(int si, std::string id) { ids[n++ % ids.size()] = {si, std::move(id)}; }
};

void expect_ok(lane_status_t st, const char *call, const LaneSlot &s) {
  if (st != LANE_OK) STRESS_FAIL("%s(%s) returned %s (%s)", call, s.name.c_str(), lane_status_name(st), lane_last_error());
}

void worker(std::uint64_t wseed) {
  Rng r(wseed);
  RecentIds recent;
  while (!g_h->stop_workers.load()) {
    const int si = static_cast<int>(r.below(kLanes));
    LaneSlot &s = slot(si);
    lane_t *lane = s.lane.load();
    const auto op = r.below(1000);
    if (op < 470) {
      std::string id;
      if (submit_one(r, si, false, true, &id)) {
        recent.push(si, std::move(id));
      } else {
        sleep_ns(200 * kUs);
      }
    } else if (op < 560) {
      const std::int64_t timeout = r.chance(10) ? -1 : r.range(0, 30 * kMs);
      submit_wait_one(r, si, false, timeout, false);
    } else if (op < 720) {
      std::string id;
      int target = si;
      if (recent.n > 0 && r.chance(60)) {
        const auto &[rs, rid] = recent.ids[r.below(std::min(recent.n, recent.ids.size()))];
        target = rs;
        id = rid;
      } else {
        id = "p" + std::to_string(r.below(kIdPool));
      }
      static constexpr std::uint32_t kFlags[] = {0, LANE_CANCEL_QUEUED, LANE_CANCEL_RUNNING,
                                                 LANE_CANCEL_QUEUED | LANE_CANCEL_RUNNING};
      const lane_status_t st = lane_cancel(slot(target).lane.load(), id.c_str(), kFlags[r.below(4)]);
      g_h->totals.cancels.fetch_add(1);
      if (st == LANE_OK) g_h->totals.cancels_ok.fetch_add(1);
      if (st != LANE_OK && st != LANE_ERR_NOT_QUEUED) expect_ok(st, "lane_cancel", slot(target));
    } else if (op < 760) {
      if (!s.fixed_cap) {
        expect_ok(lane_set_max_concurrent(lane, static_cast<std::uint32_t>(r.range(1, 4))), "lane_set_max_concurrent", s);
        g_h->totals.resizes.fetch_add(1);
      }
    } else if (op < 790) {
      expect_ok(lane_set_preemption(lane, r.chance(85) ? 1 : 0, 0), "lane_set_preemption", s);
    } else if (op < 815) {
      expect_ok(lane_pause(lane), "lane_pause", s);
      g_h->totals.pauses.fetch_add(1);
    } else if (op < 860) {
      expect_ok(lane_resume(lane), "lane_resume", s);
    } else if (op < 880) {
      expect_ok(lane_cooldown(lane, r.range(0, 4 * kMs)), "lane_cooldown", s);
    } else if (op < 888) {
      // Budgets: a tenant cap (0 lifts it) or a request / cost rate limit
      // fast enough to keep every drain short (amount 0 turns it off); costs
      // stay within the cost limit's burst.
      if (r.chance(50)) {
        expect_ok(lane_set_tenant_limit(lane, kTenants[r.below(kTenants.size())], static_cast<std::uint32_t>(r.range(0, 3))),
                  "lane_set_tenant_limit", s);
      } else {
        const bool cost = r.chance(50);
        expect_ok(lane_set_rate_limit(lane, cost ? LANE_RATE_COST : LANE_RATE_REQUESTS, r.range(0, 4) * 2000, kSec,
                                      cost ? 8 : r.range(1, 8)),
                  "lane_set_rate_limit", s);
      }
      g_h->totals.budgets.fetch_add(1);
    } else if (op < 895) {
      expect_ok(lane_set_eta_window(lane, static_cast<std::uint32_t>(r.range(1, 32))), "lane_set_eta_window", s);
    } else if (op < 910) {
      if (s.policy == LANE_POLICY_FAIR_SHARE) {
        expect_ok(lane_set_tenant_weight(lane, kTenants[r.below(kTenants.size())],
                                         static_cast<std::uint32_t>(r.range(1, 4))),
                  "lane_set_tenant_weight", s);
      }
    } else if (op < 960) {
      lane_stats_t st{};
      st.struct_size = sizeof st;
      expect_ok(lane_stats(lane, &st), "lane_stats", s);
      if (st.name == nullptr || s.name != st.name) STRESS_FAIL("lane_stats name differs for %s", s.name.c_str());
      // Released runs count as running but hold no slot: the cap bounds slots.
      if (s.fixed_cap && (st.slots_in_use > st.max_concurrent || st.max_concurrent != s.cap ||
                          st.running - st.released - st.reacquiring > st.max_concurrent)) {
        STRESS_FAIL("lane %s: stats slots in use %u, running %u (%u released, %u reacquiring) > max_concurrent %u "
                    "(cap %u)", s.name.c_str(), st.slots_in_use, st.running, st.released, st.reacquiring,
                    st.max_concurrent, s.cap);
      }
    } else if (op < 970) {
      submit_invalid(r, si);
    } else if (op < 975) {
      const lane_status_t st = lane_wait_idle(lane, 0);
      if (st != LANE_OK && st != LANE_ERR_TIMEOUT) expect_ok(st, "lane_wait_idle", s);
    } else {
      sleep_ns(r.range(0, 500 * kUs));
    }
    if (r.chance(30)) sleep_ns(r.range(0, 150 * kUs));
  }
  g_h->workers_done.fetch_add(1);
}

void run_workers(std::uint64_t seed, std::int64_t duration_ns) {
  g_h->stop_workers.store(false);
  g_h->workers_done.store(0);
  std::vector<std::thread> ts;
  for (int i = 0; i < kWorkers; ++i) ts.emplace_back(worker, mix(seed, static_cast<std::uint64_t>(i)));
  sleep_ns(duration_ns);
  g_h->stop_workers.store(true);
  // A worker may sit in lane_submit_wait(-1) on a paused lane: keep opening
  // the gates until every worker has seen the stop.
  while (g_h->workers_done.load() < kWorkers) {
    for (auto &s : g_h->slots) {
      lane_resume(s.lane.load());
      lane_cooldown(s.lane.load(), 0);
    }
    sleep_ns(2 * kMs);
  }
  for (auto &t : ts) t.join();
}

// ------------------------------------------------------------------ rounds

void dump_stats(const LaneSlot &s, const lane_stats_t &st) {
  std::fprintf(stderr,
               "  %s: submitted %llu = completed %llu + failed %llu + cancelled %llu + preempted %llu + timed_out "
               "%llu + closed %llu + running %u + queued %u; refused %llu; paused %d\n",
               s.name.c_str(), static_cast<unsigned long long>(st.submitted),
               static_cast<unsigned long long>(st.completed), static_cast<unsigned long long>(st.failed),
               static_cast<unsigned long long>(st.cancelled), static_cast<unsigned long long>(st.preempted),
               static_cast<unsigned long long>(st.timed_out), static_cast<unsigned long long>(st.closed), st.running,
               st.queued, static_cast<unsigned long long>(st.refused), st.paused);
  // What holds the queue back, for a lane that stopped moving.
  // The library's clock is Unix-epoch ns.
  const long long now = static_cast<long long>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  std::fprintf(stderr,
               "  %s: blocked_by %d, slots in use %u of %u (width %u), released %u, reacquiring %u, rate waits %llu, "
               "rate ready in %lld ns, cooldown until %lld ns from now, cost used %lld\n",
               s.name.c_str(), static_cast<int>(st.blocked_by), st.slots_in_use, st.max_concurrent, st.width,
               st.released, st.reacquiring, static_cast<unsigned long long>(st.rate_waits),
               st.rate_ready_at_ns != 0 ? static_cast<long long>(st.rate_ready_at_ns) - now : 0LL,
               st.cooldown_until_ns != 0 ? static_cast<long long>(st.cooldown_until_ns) - now : 0LL,
               static_cast<long long>(st.cost_used));
  for (const char *tenant : kTenants) {
    std::uint32_t n = 0;
    if (lane_tenant_running(s.lane.load(), tenant, &n) == LANE_OK && n != 0) {
      std::fprintf(stderr, "  %s: tenant \"%s\" counts %u running\n", s.name.c_str(), tenant, n);
    }
  }
}

// After lane_wait_idle: the stats add up and agree with the ledger.
void check_quiet(LaneSlot &s, const char *when, bool closed) {
  lane_stats_t st{};
  st.struct_size = sizeof st;
  const lane_status_t rc = lane_stats(s.lane.load(), &st);
  if (rc != LANE_OK) {
    STRESS_FAIL("lane_stats(%s) returned %s", s.name.c_str(), lane_status_name(rc));
    return;
  }
  const std::uint64_t sum = st.completed + st.failed + st.cancelled + st.preempted + st.timed_out + st.closed +
                            st.running + st.queued;
  const stress::Tally t = g_h->ledger.tally(s.glane.load());
  bool bad = false;
  auto expect = [&](const char *what, std::uint64_t got, std::uint64_t want) {
    if (got != want) {
      STRESS_FAIL("%s %s: stats %s = %llu, want %llu", s.name.c_str(), when, what,
                  static_cast<unsigned long long>(got), static_cast<unsigned long long>(want));
      bad = true;
    }
  };
  expect("running", st.running, 0);
  expect("queued", st.queued, 0);
  expect("submitted (vs sum of outcomes)", st.submitted, sum);
  expect("submitted (vs this test's accepted)", st.submitted, t.accepted);
  expect("outcomes delivered (on_done)", t.outcomes, t.accepted);
  expect("completed", st.completed, t.ok);
  expect("failed", st.failed, t.failed);
  expect("cancelled", st.cancelled, t.cancelled);
  expect("preempted", st.preempted, t.preempted);
  expect("timed_out", st.timed_out, t.timed_out);
  expect("closed", st.closed, t.closed);
  if (st.refused < t.refused || st.refused > t.refused + t.invalid) {
    STRESS_FAIL("%s %s: stats refused = %llu, want %llu (+ up to %llu invalid)", s.name.c_str(), when,
                static_cast<unsigned long long>(st.refused), static_cast<unsigned long long>(t.refused),
                static_cast<unsigned long long>(t.invalid));
    bad = true;
  }
  // Nothing runs, so no tenant counts a running job: a count left behind
  // would hold that tenant's queued jobs back forever under a limit.
  for (const char *tenant : kTenants) {
    std::uint32_t n = 0;
    const lane_status_t tr = lane_tenant_running(s.lane.load(), tenant, &n);
    if (tr != LANE_OK) {
      STRESS_FAIL("lane_tenant_running(%s, \"%s\") returned %s", s.name.c_str(), tenant, lane_status_name(tr));
    } else if (n != 0) {
      STRESS_FAIL("%s %s: tenant \"%s\" still counts %u running jobs", s.name.c_str(), when, tenant, n);
      bad = true;
    }
  }
  if (st.slots_in_use != 0) {
    STRESS_FAIL("%s %s: %u slots still in use", s.name.c_str(), when, st.slots_in_use);
    bad = true;
  }
  if (t.pending != 0) STRESS_FAIL("%s %s: %llu submissions pending", s.name.c_str(), when, static_cast<unsigned long long>(t.pending));
  if (!closed && s.inflight.load() != 0) {
    STRESS_FAIL("%s %s: %d jobs accepted without an outcome yet", s.name.c_str(), when, s.inflight.load());
  }
  if (bad) dump_stats(s, st);
}

bool wait_idle(LaneSlot &s, const char *when) {
  const lane_status_t st = lane_wait_idle(s.lane.load(), 20 * kSec);
  if (st == LANE_OK) return true;
  lane_stats_t ls{};
  ls.struct_size = sizeof ls;
  lane_stats(s.lane.load(), &ls);
  STRESS_FAIL("lane_wait_idle(%s) %s returned %s after 20 s (running %u queued %u paused %d)", s.name.c_str(), when,
              lane_status_name(st), ls.running, ls.queued, ls.paused);
  dump_stats(s, ls);
  return false;
}

void create_lanes(int round, Rng &r) {
  struct Spec {
    const char *base;
    lane_policy_t policy;
    std::uint32_t cap;
    bool fixed;
  };
  static constexpr Spec kSpecs[kLanes] = {
      {"fifo", LANE_POLICY_FIFO, 2, false},
      {"fair", LANE_POLICY_FAIR_SHARE, 3, false},
      {"strict-fair", LANE_POLICY_FAIR_SHARE, 2, true},
      {"gpu", LANE_POLICY_FIFO, 1, true},
  };
  for (int i = 0; i < kLanes; ++i) {
    const Spec &sp = kSpecs[i];
    LaneSlot &s = slot(i);
    s.name = std::string(sp.base) + "-r" + std::to_string(round);
    s.policy = sp.policy;
    s.cap = sp.cap;
    s.fixed_cap = sp.fixed;
    s.running.store(0);
    s.max_running.store(0);
    s.inflight.store(0);
    s.closing.store(false);
    lane_options_t o{};
    o.struct_size = sizeof o;
    o.max_concurrent = sp.cap;
    o.policy = sp.policy;
    o.eta_window = static_cast<std::uint32_t>(r.range(0, 20));
    o.preempt_min_runtime_ns = i == 3 ? -1 : 0;  // 0 = default 30 s here; set literally below
    o.max_queued = i == 0 ? 24 : 0;
    o.eta_default_runtime_ns = r.range(0, 3 * kMs);
    o.aging_ns = i == 1 ? 5 * kMs : 0;
    lane_t *lane = nullptr;
    const lane_status_t st = lane_create(s.name.c_str(), &o, &lane);
    if (st != LANE_OK || lane == nullptr) {
      std::fprintf(stderr, "lane_create(%s) failed: %s (%s)\n", s.name.c_str(), lane_status_name(st), lane_last_error());
      std::exit(2);
    }
    s.glane.store(round * kLanes + i);
    s.lane.store(lane);
    expect_ok(lane_set_preemption(lane, 1, 0), "lane_set_preemption", s);
  }
}

void teardown(int round, Rng &r) {
  g_h->cross_ok.store(false);
  while (g_h->cross_inflight.load() != 0) sleep_ns(100 * kUs);
  std::array<int, kLanes> order{};
  for (int i = 0; i < kLanes; ++i) order[static_cast<std::size_t>(i)] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(r.next()));
  for (const int i : order) {
    LaneSlot &s = slot(i);
    lane_t *lane = s.lane.load();
    const auto how = r.below(3);
    s.closing.store(true);
    if (how > 0) {  // close first, check the closed lane, then destroy
      const auto mode = r.chance(50) ? LANE_CLOSE_DRAIN : LANE_CLOSE_CANCEL;
      expect_ok(lane_resume(lane), "lane_resume", s);
      expect_ok(lane_cooldown(lane, 0), "lane_cooldown", s);
      expect_ok(lane_close(lane, mode), "lane_close", s);
      if (r.chance(30)) expect_ok(lane_close(lane, LANE_CLOSE_CANCEL), "lane_close (again)", s);
      for (int k = 0; k < 3; ++k) {
        JobRec *j = new_job(r, i, true, true);
        const std::uint64_t serial = j->serial;
        g_h->ledger.add(serial, entry_for(j));
        const lane_job_t d = describe(j);
        const lane_status_t st = lane_submit(lane, &d, nullptr);
        if (st == LANE_OK) {
          STRESS_FAIL("lane_submit(%s) after lane_close accepted", s.name.c_str());
          g_h->ledger.submitted(serial, st, Acc::Accepted, 0);
          continue;
        }
        if (st != LANE_ERR_CLOSED) STRESS_FAIL("lane_submit(%s) after close: %s, want CLOSED", s.name.c_str(), lane_status_name(st));
        g_h->ledger.submitted(serial, st, Acc::Refused, 0);
        delete j;
      }
      if (how == 2 && wait_idle(s, "after close")) check_quiet(s, "after close", true);
    }
    lane_stats_t st{};
    st.struct_size = sizeof st;
    if (lane_stats(lane, &st) == LANE_OK) {
      g_h->totals.preemptions.fetch_add(st.preemptions);
      std::printf("    %-14s submitted %5llu ok %5llu failed %4llu cancelled %4llu preempted %4llu timed_out %4llu "
                  "closed %4llu refused %4llu preemptions %5llu%s\n",
                  s.name.c_str(), static_cast<unsigned long long>(st.submitted),
                  static_cast<unsigned long long>(st.completed), static_cast<unsigned long long>(st.failed),
                  static_cast<unsigned long long>(st.cancelled), static_cast<unsigned long long>(st.preempted),
                  static_cast<unsigned long long>(st.timed_out), static_cast<unsigned long long>(st.closed),
                  static_cast<unsigned long long>(st.refused), static_cast<unsigned long long>(st.preemptions),
                  how == 0 ? " (destroyed while busy)" : (how == 1 ? " (closed, destroyed)" : " (closed, idle, destroyed)"));
    }
    lane_destroy(lane);
  }
  // Every outcome is delivered; the DONE events follow on_done and may lag.
  const int lo = round * kLanes, hi = lo + kLanes;
  const std::uint64_t owed = g_h->ledger.done_owed(lo, hi);
  const std::int64_t deadline = mono_ns() + 15 * kSec;
  while (g_h->ledger.done_seen(lo, hi) < owed && mono_ns() < deadline) sleep_ns(kMs);
  sleep_ns(5 * kMs);  // let a stray extra event show up before we settle
  if (g_h->pending_finishes.load() != 0) {
    STRESS_FAIL("round %d: %d grants not finished after lane_destroy", round, g_h->pending_finishes.load());
  }
}

void watchdog(std::mutex &mu, std::condition_variable &cv, bool &done, std::int64_t limit_ns) {
  std::unique_lock<std::mutex> lock(mu);
  if (cv.wait_for(lock, std::chrono::nanoseconds(limit_ns), [&] { return done; })) return;
  std::fprintf(stderr, "stress: WATCHDOG: still running after %lld s (seed %llu); failures so far:\n",
               static_cast<long long>(limit_ns / kSec), static_cast<unsigned long long>(g_h->seed));
  failures().print(stderr);
  for (auto &s : g_h->slots) {
    lane_stats_t st{};
    st.struct_size = sizeof st;
    if (lane_stats(s.lane.load(), &st) == LANE_OK) dump_stats(s, st);
  }
  std::fflush(stderr);
  std::abort();  // a core (or a debugger) shows where every thread waits
}

std::uint64_t env_u64(const char *name, std::uint64_t def) {
  const char *v = std::getenv(name);
  if (v == nullptr || *v == '\0') return def;
  char *end = nullptr;
  const unsigned long long x = std::strtoull(v, &end, 0);
  return (end != nullptr && *end == '\0') ? x : def;
}

}  // namespace

int main() {
  Harness h;
  g_h = &h;
  const std::uint64_t fresh = mix(std::random_device{}(), static_cast<std::uint64_t>(mono_ns()));
  h.seed = env_u64("LANE_STRESS_SEED", fresh % 1'000'000'000ULL);
  const std::uint64_t scale = std::max<std::uint64_t>(1, env_u64("LANE_STRESS_SCALE", 1));
  h.rounds = static_cast<int>(3 * scale);
  const std::int64_t phase_ns = 250 * kMs;
  std::printf("stress: seed %llu (LANE_STRESS_SEED to replay), scale %llu, %d rounds, %d workers, liblane %s\n",
              static_cast<unsigned long long>(h.seed), static_cast<unsigned long long>(scale), h.rounds, kWorkers,
              lane_version_string());
  std::fflush(stdout);

  std::mutex wd_mu;
  std::condition_variable wd_cv;
  bool wd_done = false;
  std::thread wd(watchdog, std::ref(wd_mu), std::ref(wd_cv), std::ref(wd_done),
                 static_cast<std::int64_t>(env_u64("LANE_STRESS_WATCHDOG_S", 150 * scale)) * kSec);

  for (auto &p : h.ports) {
    if (lane_port_create(&p) != LANE_OK) {
      std::fprintf(stderr, "lane_port_create failed: %s\n", lane_last_error());
      return 2;
    }
  }
  std::vector<std::thread> pollers;
  for (int i = 0; i < kPorts; ++i) pollers.emplace_back(poller, i);

  Rng r(h.seed);
  std::uint64_t settled = 0;
  std::array<int, kLanes> max_running{};
  const std::int64_t t0 = mono_ns();
  for (int round = 0; round < h.rounds; ++round) {
    create_lanes(round, r);
    h.cross_ok.store(true);
    // Two phases that end quiet (stats checked), then one that ends in teardown.
    for (int phase = 0; phase < 2; ++phase) {
      run_workers(mix(h.seed, static_cast<std::uint64_t>(round * 16 + phase)), phase_ns);
      for (auto &s : h.slots) {
        lane_resume(s.lane.load());
        lane_cooldown(s.lane.load(), 0);
      }
      // A job still running on one lane may submit into another that has
      // already gone idle, so stop cross-lane submissions and let the ones
      // under way finish before any lane is checked.
      h.cross_ok.store(false);
      while (h.cross_inflight.load() != 0) sleep_ns(100 * kUs);
      for (auto &s : h.slots) wait_idle(s, "at a quiet moment");
      for (auto &s : h.slots) {
        if (wait_idle(s, "at a quiet moment")) check_quiet(s, "at a quiet moment", false);
      }
      h.cross_ok.store(true);
    }
    run_workers(mix(h.seed, static_cast<std::uint64_t>(round * 16 + 2)), phase_ns);
    teardown(round, r);
    for (int i = 0; i < kLanes; ++i) {
      const std::size_t ui = static_cast<std::size_t>(i);
      max_running[ui] = std::max(max_running[ui], h.slots[ui].max_running.load());
    }
    settled += h.ledger.settle(round * kLanes, (round + 1) * kLanes, [](void *p) { delete static_cast<JobRec *>(p); });
    std::printf("  round %d done: %llu submissions checked, %llu failures so far\n", round,
                static_cast<unsigned long long>(settled), static_cast<unsigned long long>(failures().count()));
    std::fflush(stdout);
  }

  h.stop_pollers.store(true);
  for (auto &p : h.ports) lane_port_wake(p);
  for (auto &t : pollers) t.join();
  for (auto &p : h.ports) lane_port_destroy(p);
  {
    std::lock_guard<std::mutex> lock(wd_mu);
    wd_done = true;
  }
  wd_cv.notify_all();
  wd.join();

  const Totals &t = h.totals;
  auto u = [](const std::atomic<std::uint64_t> &a) { return static_cast<unsigned long long>(a.load()); };
  std::printf(
      "stress: %.2f s; lane_submit %llu (accepted %llu, refused %llu), submit_wait %llu (nested %llu, deadlock %llu), "
      "invalid %llu, cancels %llu (ok %llu), grants %llu, port cancels %llu, resizes %llu, pauses %llu, budget changes %llu, preemptions %llu\n",
      static_cast<double>(mono_ns() - t0) / 1e9, u(t.submits), u(t.accepted), u(t.refused), u(t.waits),
      u(t.nested_waits), u(t.deadlocks), u(t.invalid), u(t.cancels), u(t.cancels_ok), u(t.grants), u(t.port_cancels),
      u(t.resizes), u(t.pauses), u(t.budgets), u(t.preemptions));
  std::printf("stress: REQUEUE_ON_PREEMPT jobs preempted while their lane closed (ended PREEMPTED): %llu\n",
              u(t.preempted_at_close));
  std::printf("stress: max jobs holding slots at once: strict-fair %d (cap 2), gpu %d (cap 1)\n", max_running[2],
              max_running[3]);
  const std::uint64_t nf = failures().count();
  if (nf != 0) {
    std::printf("stress: FAILED with %llu failures (seed %llu)\n", static_cast<unsigned long long>(nf),
                static_cast<unsigned long long>(h.seed));
    failures().print(stdout);
    return 1;
  }
  std::printf("stress: PASS (seed %llu)\n", static_cast<unsigned long long>(h.seed));
  return 0;
}

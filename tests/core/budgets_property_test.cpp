// Random workloads through the scheduler with every budget in play: jobs of
// several slots with costs, tenants with limits, priorities, preemption,
// request and cost rate limits, run / queue / outcome timeouts, release and
// reacquire, cancels, resizes, pauses and an adaptive width, on a fake clock.
// After every operation:
//
// 1. Strict cap in slots: the slots in use (the sum of what the Running
//    jobs hold) never grow past the cap; they are above it only after the
//    cap itself was lowered (resize, adaptive decrease), and then only fall.
// 2. Tenant limits: a limited tenant's Running jobs never grow past its
//    limit (the same rule when the limit is lowered).
// 3. Rate limits (GCRA, `amount` units per `per` ns, bucket `burst`): for
//    every window [t0, t1] that starts at a grant,
//        units granted in [t0, t1]  <=  burst + amount * (t1 - t0) / per + refunds in [t0, t1]
//    where a REQUESTS limit counts every grant of slots (a regrant after
//    reacquire too) and a COST limit counts each run's estimated cost at its
//    dispatch; refunds are the part of an estimate given back when a lower
//    real cost is reported (set_cost, finish). Why: the bucket level L
//    (units) is >= 0, each grant adds its units and leaves L <= burst, it
//    drains at amount / per, a higher real cost only adds to it and a refund
//    takes off at most what was refunded; so the units granted in a window
//    are at most burst - L(t0) + drained + refunds. It needs every job's cost
//    <= burst, which submit enforces while a COST limit is on.
// 4. Exactly one outcome per accepted job (the fixture checks each effect;
//    at the end every accepted job has ended exactly once).
//
// BUDGET_ROUNDS sets the number of seeds (default 16, 2500 steps each).
#include <algorithm>
#include <cstdlib>
#include <deque>
#include <map>
#include <random>

#include "core_fixture.hpp"

using namespace lane_test;
using lane::core::i128;

namespace {

// What the workloads went through, summed over the seeds, so that a test
// that no longer reaches a state fails instead of passing vacuously.
struct Seen {
  std::uint64_t regrants = 0, parked = 0, rate_waits = 0, multi_slot = 0, timeouts = 0, released = 0;
  double tightest = 0;  // the largest share of the rate bound a window used
};
Seen seen;

struct RateHistory {
  std::int64_t amount = 0, per = 0, burst = 0;
  bool on = false;
  struct Event {
    std::int64_t at;
    std::int64_t grant;   // units granted
    std::int64_t refund;  // units refunded
  };
  std::vector<Event> events;

  void reset(bool now_on, std::int64_t a, std::int64_t p, std::int64_t b) {
    on = now_on;
    amount = a;
    per = p;
    burst = std::max<std::int64_t>(b, 1);
    events.clear();
  }
  void refund(std::int64_t at, std::int64_t units) {
    if (on && units > 0) events.push_back({at, 0, units});
  }
  // Records a grant and checks every window that starts at a grant and ends at it.
  void grant(std::int64_t at, std::int64_t units) {
    if (!on) return;
    events.push_back({at, units, 0});
    i128 g = 0, r = 0;
    for (std::size_t k = events.size(); k-- > 0;) {
      const Event &e = events[k];
      g += e.grant;
      r += e.refund;
      if (e.grant == 0) continue;
      // Refunds at the same instant but recorded just before belong to the window too.
      i128 r_same = 0;
      for (std::size_t m = k; m-- > 0 && events[m].at == e.at;) r_same += events[m].refund;
      const i128 lhs = g * per;
      const i128 rhs = static_cast<i128>(burst) * per + static_cast<i128>(amount) * (at - e.at) + (r + r_same) * per;
      seen.tightest = std::max(seen.tightest, static_cast<double>(lhs) / static_cast<double>(rhs));
      if (lhs > rhs) {
        FAIL("rate bound broken: ", static_cast<long long>(g), " units in [", e.at, ", ", at, "], burst ", burst,
             ", ", amount, " per ", per, " ns, refunds ", static_cast<long long>(r + r_same));
      }
    }
  }
};

bool executing(const Job &j) {
  return j.state == JobState::Running || j.state == JobState::Released || j.state == JobState::Reacquiring ||
         (j.state == JobState::Parked && j.parked_reacquire);
}

void run_seed(std::uint64_t seed) {
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  auto pick = [&](std::uint64_t n) { return static_cast<std::int64_t>(rng() % n); };
  auto chance = [&](int percent) { return pick(100) < percent; };

  Config cfg = chance(50) ? fair(static_cast<std::uint32_t>(1 + pick(4))) : fifo(static_cast<std::uint32_t>(1 + pick(4)));
  cfg.preemption = chance(60);
  cfg.preempt_min_runtime_ns = chance(50) ? 0 : ms(5);
  if (chance(30)) {
    cfg.adaptive_min = 1;
    cfg.adaptive_max = static_cast<std::uint32_t>(3 + pick(4));
    cfg.adaptive_cooldown_ns = chance(50) ? 0 : ms(3);
  }
  CoreLane lane(cfg);
  std::int64_t now = sec(1);

  const std::vector<std::string> tenants = {"t0", "t1", "t2", "t3"};
  std::map<std::string, std::uint32_t> limits = {{"t0", 1 + static_cast<std::uint32_t>(pick(2))},
                                                 {"t1", 1 + static_cast<std::uint32_t>(pick(3))}};
  for (const auto &[t, n] : limits) lane.set_tenant_limit(t, n, now);

  RateHistory req, cost;
  auto set_rates = [&](bool initial) {
    if (initial || chance(50)) {
      const bool on = chance(70);
      const std::int64_t a = 1 + pick(5), p = ms(10) * (1 + pick(10)), b = 1 + pick(3);
      REQUIRE(lane.set_rate_limit(RateKind::Requests, on ? a : 0, p, b, now) == LANE_OK);
      req.reset(on, a, p, b);
    } else {
      const bool on = chance(70);
      const std::int64_t a = 5 + pick(40), p = ms(10) * (1 + pick(10)), b = 10 + pick(20);
      REQUIRE(lane.set_rate_limit(RateKind::Cost, on ? a : 0, p, b, now) == LANE_OK);
      cost.reset(on, a, p, b);
    }
  };
  set_rates(true);
  set_rates(false);

  std::deque<Job *> live;
  std::map<const Job *, std::string> tenant_of;
  std::uint32_t prev_slots = 0;
  std::map<std::string, std::uint32_t> prev_tenant_running;
  int n = 0;
  bool paused = false;

  // Called after each step; `did` says whether the step called the lane
  // (else last_effects() are the previous step's).
  auto after = [&](std::int64_t at, bool did) {
    // Rate: every grant of slots is a request; a run's first grant charges its cost.
    for (const Effect &e : did ? lane.last_effects() : std::vector<Effect>{}) {
      if (e.kind != Effect::Kind::Dispatch) continue;
      if (e.job->regrant) ++seen.regrants;
      if (e.job->held > 1) ++seen.multi_slot;
      req.grant(at, 1);
      if (!e.job->regrant) cost.grant(at, e.job->cost_estimate());
    }
    // Slots and tenants.
    // Liveness: with nothing holding a slot and the gate not paused, a job
    // that waits can only wait for a rate limit or a cooldown, and the lane
    // must name that time (else the layer above would never tick it).
    if (!paused && lane.sched.holding() == 0) {
      bool waiting = false;
      for (const Job *j : live) waiting |= j->state == JobState::Queued || j->state == JobState::Reacquiring;
      if (waiting) CHECK_MESSAGE(lane.sched.next_deadline() != kNoDeadline, "jobs wait on an idle lane with no deadline");
    }
    std::uint32_t slots = 0;
    std::map<std::string, std::uint32_t> by_tenant;
    if (lane.sched.rate_ready_at() != 0) ++seen.rate_waits;
    for (const Job *j : live) {
      if (j->state == JobState::Parked) ++seen.parked;
      if (j->state == JobState::Released) ++seen.released;
      if (j->state != JobState::Running) continue;
      slots += j->held;
      ++by_tenant[tenant_of[j]];
    }
    CHECK(slots == lane.sched.slots_in_use());
    const std::uint32_t cap = lane.sched.cap();
    if (slots > cap) CHECK_MESSAGE(slots <= prev_slots, "slots grew past the cap: ", slots, " > ", cap);
    prev_slots = slots;
    for (const auto &[t, limit] : limits) {
      const std::uint32_t r = by_tenant[t];
      CHECK(r == lane.sched.tenant_running(t));
      if (r > limit) CHECK_MESSAGE(r <= prev_tenant_running[t], "tenant ", t, " grew past its limit ", limit);
      prev_tenant_running[t] = r;
    }
    live.erase(std::remove_if(live.begin(), live.end(), [](const Job *x) { return x->state == JobState::Ended; }),
               live.end());
  };
  std::vector<Job *> candidates;
  auto random_live = [&](auto pred) -> Job * {
    candidates.clear();
    for (Job *j : live) {
      if (pred(*j)) candidates.push_back(j);
    }
    return candidates.empty() ? nullptr : candidates[static_cast<std::size_t>(pick(candidates.size()))];
  };
  auto charged_before = [&](const Job &j, std::int64_t real) {
    // What a report of `real` gives back to the COST limit.
    return j.charged_cost > real ? j.charged_cost - real : 0;
  };

  for (int step = 0; step < 2500; ++step) {
    const std::int64_t op = pick(100);
    bool did = true;
    if (op < 34) {
      const std::uint32_t widest = lane.sched.adaptive() ? cfg.adaptive_max : lane.sched.config().max_concurrent;
      JobSpec spec;
      spec.tenant = tenants[static_cast<std::size_t>(pick(tenants.size()))];
      spec.priority = static_cast<std::int32_t>(pick(3));
      spec.flags = chance(40) ? (chance(50) ? kRequeue : kPreemptible) : 0;
      spec.slots = chance(75) ? 1 : static_cast<std::uint32_t>(1 + pick(std::min<std::uint32_t>(3, widest)));
      spec.cost = 1 + pick(10);
      if (chance(12)) spec.queue_timeout_ns = ms(1 + pick(50));
      if (chance(12)) spec.run_timeout_ns = ms(1 + pick(50));
      if (chance(5)) spec.outcome_timeout_ns = ms(1 + pick(100));
      if (chance(10)) spec.max_wait_ns = ms(1 + pick(100));
      Job &j = lane.submit("j" + std::to_string(n++), now, spec);
      if (lane.last.status == LANE_OK) {
        live.push_back(&j);
        tenant_of[&j] = spec.tenant;
      }
    } else if (op < 54) {
      if (Job *j = random_live(executing)) {
        FinishInfo info;
        if (chance(30)) info.cost = 1 + pick(15);
        info.overloaded = chance(10);
        const std::int64_t back = info.cost > 0 ? charged_before(*j, info.cost) : 0;
        const std::int32_t code = chance(10) ? 1 : 0;
        cost.refund(now, back);
        lane.finish(j->id, now, code, info);
      } else {
        did = false;
      }
    } else if (op < 62) {
      const bool any = chance(20);  // mostly running jobs; sometimes any, to see the refusals
      if (Job *j = random_live([any](const Job &x) { return any || x.state == JobState::Running; })) {
        const bool was_running = j->state == JobState::Running;
        const lane_status_t s = lane.release(j->id, now);
        CHECK((s == LANE_OK) == was_running);
      } else {
        did = false;
      }
    } else if (op < 70) {
      if (Job *j = random_live([](const Job &x) { return x.state == JobState::Released; })) {
        const lane_status_t s = lane.reacquire(j->id, now);
        // Refused only for a job told to stop, with that cause. (Granted, it
        // may be preempted at once: a FIFO lane hands out slots by age.)
        if (s != LANE_OK) CHECK(s == j->cancel_cause);
      } else {
        did = false;
      }
    } else if (op < 76) {
      if (Job *j = random_live([](const Job &) { return true; })) {
        const std::uint32_t flags = chance(50) ? LANE_CANCEL_QUEUED | LANE_CANCEL_RUNNING
                                    : chance(50) ? LANE_CANCEL_QUEUED
                                                 : LANE_CANCEL_RUNNING;
        lane.cancel(j->id, flags, now);
      } else {
        did = false;
      }
    } else if (op < 79) {
      if (Job *j = random_live(executing)) {
        const std::int64_t real = 1 + pick(15);
        cost.refund(now, charged_before(*j, real));
        CHECK(lane.set_cost(j->id, real, now) == LANE_OK);
      } else {
        did = false;
      }
    } else if (op < 81) {
      set_rates(false);
    } else if (op < 83) {
      const std::string t = chance(50) ? "t0" : "t1";
      limits[t] = 1 + static_cast<std::uint32_t>(pick(3));
      lane.set_tenant_limit(t, limits[t], now);
    } else if (op < 84) {
      lane.resize(static_cast<std::uint32_t>(1 + pick(4)), now);
    } else if (op < 85) {
      if (paused) {
        lane.resume(now);
      } else {
        lane.pause();  // no effects: the fixture keeps the previous ones
        did = false;
      }
      paused = !paused;
    } else {
      const std::int64_t d = lane.sched.next_deadline();
      if (d != kNoDeadline && d <= now + ms(30) && chance(60)) {
        now = std::max(now, d);
      } else {
        now += pick(ms(20));
      }
      lane.tick(now);
    }
    after(now, did);
  }

  // Drain: rate limits off (a fresh history), the gate open, every run
  // returns; queued work then runs to its end.
  lane.set_rate_limit(RateKind::Requests, 0, 0, 0, now);
  lane.set_rate_limit(RateKind::Cost, 0, 0, 0, now);
  req.reset(false, 0, 0, 0);
  cost.reset(false, 0, 0, 0);
  if (paused) lane.resume(now);
  after(now, true);
  for (int round = 0; round < 100'000 && !live.empty(); ++round) {
    Job *j = nullptr;
    for (Job *x : live) {
      if (executing(*x)) {
        j = x;
        break;
      }
    }
    now += ms(1);
    if (j) {
      lane.finish(j->id, now);
    } else {
      const std::int64_t d = lane.sched.next_deadline();
      now = d == kNoDeadline ? now : std::max(now, d);
      lane.tick(now);
      if (d == kNoDeadline && lane.last_effects().empty()) {
        // Nothing runs, nothing is due: only jobs that can never start may be left.
        bool stuck = false;
        for (const Job *x : live) stuck |= x->state != JobState::Ended;
        REQUIRE_MESSAGE(!stuck, "jobs wait but nothing runs and nothing is due");
      }
    }
    after(now, true);
  }
  REQUIRE(live.empty());
  CHECK(lane.sched.running() == 0);
  CHECK(lane.sched.queued() == 0);
  CHECK(lane.sched.slots_in_use() == 0);
  lane.expect_one_outcome_each();
  seen.timeouts += lane.stats(now).timed_out;
}

}  // namespace

TEST_SUITE("budgets.property") {

TEST_CASE("random budget workloads keep the slot cap, the tenant limits, the rate bound and one outcome per job") {
  std::uint64_t rounds = 16;
  if (const char *env = std::getenv("BUDGET_ROUNDS")) rounds = std::strtoull(env, nullptr, 10);
  for (std::uint64_t seed = 1; seed <= rounds; ++seed) run_seed(seed);
  MESSAGE("regrants ", seen.regrants, ", parked ", seen.parked, ", rate waits ", seen.rate_waits, ", multi-slot ",
          seen.multi_slot, ", timeouts ", seen.timeouts, ", released ", seen.released, ", tightest rate window ",
          seen.tightest);
  CHECK(seen.regrants > 0);
  CHECK(seen.parked > 0);
  CHECK(seen.rate_waits > 0);
  CHECK(seen.multi_slot > 0);
  CHECK(seen.timeouts > 0);
  CHECK(seen.released > 0);
  CHECK(seen.tightest > 0.9);  // the limits are reached, not merely respected
}

}  // TEST_SUITE

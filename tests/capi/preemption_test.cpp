// Preemption through the C API: a higher-priority submission to a full lane
// cancels a preemptible lower-priority job with cause LANE_ERR_PREEMPTED.
// Strict cap (default) never runs more than max_concurrent; overcommit
// dispatches the preemptor at once; REQUEUE_ON_PREEMPT puts the victim back.
#include "capi_fixture.hpp"

using namespace capi_test;

namespace {

lane_options_t no_guard_options(std::uint32_t cap) {
  lane_options_t o = LANE_OPTIONS_INIT;
  o.max_concurrent = cap;
  o.preempt_min_runtime_ns = -1;  // no guard: preemptible at once
  return o;
}

lane_ticket_t submit_with(LaneFixture &fx, Probe &p, std::int32_t priority, std::uint32_t flags) {
  lane_job_t j = fx.job_for(p);
  j.priority = priority;
  j.flags = flags;
  lane_ticket_t t = LANE_TICKET_INIT;
  lane_status_t st = lane_submit(fx.lane, &j, &t);
  REQUIRE_MESSAGE(st == LANE_OK, "submit " << p.id << ": " << lane_status_name(st) << " " << lane_last_error());
  return t;
}

// A victim body: blocks until cancelled, records the cause, then stays a
// while to give a wrongly dispatched preemptor the chance to show up.
void victim_body(Probe &p, Gate &g, Recorder &rec, std::atomic<int> &preemptor_started_early,
                 const std::string &preemptor) {
  Probe *pp = &p;
  p.body = [pp, &g, &rec, &preemptor_started_early, preemptor](lane_ctx_t *ctx) -> std::int32_t {
    if (pp->runs > 1) return 0;  // requeued second run
    block(ctx, g);
    pp->observe(ctx);
    std::this_thread::sleep_for(30ms);
    if (rec.starts(preemptor) != 0) preemptor_started_early = 1;
    return 0;
  };
}

}  // namespace

TEST_CASE("strict cap: the preemptor waits in the victim's slot, the victim sees LANE_ERR_PREEMPTED") {
  LaneFixture fx("preempt-strict", no_guard_options(1));
  Gate &g = fx.gate();
  std::atomic<int> early{0};
  Probe &low = fx.probe("low");
  victim_body(low, g, fx.rec, early, "high");
  Probe &high = fx.probe("high");

  lane_ticket_t tl = submit_with(fx, low, 0, LANE_JOB_PREEMPTIBLE);
  CHECK(tl.position == 0);
  REQUIRE(fx.rec.wait_started("low"));
  lane_ticket_t th = submit_with(fx, high, 10, 0);
  CHECK(th.position >= 1);
  CHECK(th.eta_ns == 0);
  CHECK(th.job_token != 0);

  REQUIRE(fx.rec.wait_outcomes(2));
  CHECK(low.seen_cancelled == 1);
  CHECK(low.seen_cause == LANE_ERR_PREEMPTED);
  CHECK(low.seen_wait == LANE_ERR_PREEMPTED);
  CHECK(fx.rec.outcome("low").status == LANE_ERR_PREEMPTED);
  CHECK(fx.rec.outcome("high").status == LANE_OK);
  CHECK(early == 0);
  CHECK(fx.rec.max_running() == 1);
  CHECK(fx.rec.outcome("high").started_at_ns >= fx.rec.outcome("low").finished_at_ns);

  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.preempted == 1);
  CHECK(s.preemptions == 1);
  CHECK(s.completed == 1);
  check_invariant(s);
}

TEST_CASE("strict cap: while the victim is still returning, stats show no more than the cap running") {
  LaneFixture fx("preempt-strict-stats", no_guard_options(1));
  Gate &g = fx.gate();
  Gate &victim_cancelled = fx.gate();
  Gate &victim_may_return = fx.gate();
  Probe &low = fx.probe("low");
  low.body = [&](lane_ctx_t *ctx) -> std::int32_t {
    block(ctx, g);
    victim_cancelled.open();
    victim_may_return.wait();
    return 0;
  };
  Probe &high = fx.probe("high");
  submit_with(fx, low, 0, LANE_JOB_PREEMPTIBLE);
  REQUIRE(fx.rec.wait_started("low"));
  submit_with(fx, high, 1, 0);
  REQUIRE(victim_cancelled.wait());
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.running <= 1);
  CHECK(s.running + s.queued == 2);
  CHECK(high.runs == 0);
  check_invariant(s);
  victim_may_return.open();
  REQUIRE(fx.rec.wait_outcomes(2));
  CHECK(fx.rec.max_running() == 1);
}

TEST_CASE("overcommit: the preemptor is dispatched at once, position 0, beside the returning victim") {
  lane_options_t o = no_guard_options(1);
  o.preempt_overcommit = 1;
  LaneFixture fx("preempt-overcommit", o);
  Gate &g = fx.gate();
  std::atomic<int> saw_high_running{0};
  Probe &low = fx.probe("low");
  Probe *lp = &low;
  low.body = [&, lp](lane_ctx_t *ctx) -> std::int32_t {
    block(ctx, g);
    lp->observe(ctx);
    // The preemptor runs while this victim has not returned yet.
    saw_high_running = fx.rec.wait_started("high") ? 1 : 0;
    return 0;
  };
  Probe &high = fx.probe("high");
  submit_with(fx, low, 0, LANE_JOB_PREEMPTIBLE);
  REQUIRE(fx.rec.wait_started("low"));
  lane_ticket_t th = submit_with(fx, high, 3, 0);
  CHECK(th.position == 0);
  REQUIRE(fx.rec.wait_outcomes(2));
  CHECK(low.seen_cause == LANE_ERR_PREEMPTED);
  CHECK(saw_high_running == 1);
  CHECK(fx.rec.max_running() == 2);
  CHECK(fx.rec.outcome("low").status == LANE_ERR_PREEMPTED);
  CHECK(fx.rec.outcome("high").status == LANE_OK);
}

TEST_CASE("a preempted job with REQUEUE_ON_PREEMPT runs again after the preemptor and ends once") {
  LaneFixture fx("preempt-requeue", no_guard_options(1));
  Gate &g = fx.gate();
  std::atomic<int> early{0};
  Probe &low = fx.probe("low");
  victim_body(low, g, fx.rec, early, "high");
  Probe &high = fx.probe("high");
  submit_with(fx, low, 0, LANE_JOB_PREEMPTIBLE | LANE_JOB_REQUEUE_ON_PREEMPT);
  REQUIRE(fx.rec.wait_started("low"));
  submit_with(fx, high, 5, 0);
  REQUIRE(fx.rec.wait_outcomes(2));
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  CHECK(low.runs == 2);
  CHECK(low.dones == 1);
  CHECK(low.seen_cause == LANE_ERR_PREEMPTED);  // seen in the first run
  CHECK(fx.rec.outcome("low").status == LANE_OK);
  CHECK(fx.rec.outcome("high").status == LANE_OK);
  CHECK(fx.rec.outcome("low").started_at_ns >= fx.rec.outcome("high").started_at_ns);
  CHECK(fx.rec.max_running() == 1);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.preempted == 0);
  CHECK(s.preemptions == 1);
  CHECK(s.completed == 2);
  CHECK(s.submitted == 2);
  check_invariant(s);
}

TEST_CASE("a job that is not preemptible, or not of lower priority, is never preempted") {
  LaneFixture fx("preempt-none", no_guard_options(1));
  Gate &g = fx.gate();
  Probe &a = fx.blocker("not-flagged", g);
  submit_with(fx, a, 0, 0);
  REQUIRE(fx.rec.wait_started("not-flagged"));
  lane_ticket_t t1 = submit_with(fx, fx.probe("high"), 10, 0);
  CHECK(t1.position == 1);
  CHECK(t1.eta_ns > 0);
  g.open();
  REQUIRE(fx.rec.wait_outcomes(2));
  CHECK(a.seen_cancelled == 0);
  CHECK(fx.rec.outcome("not-flagged").status == LANE_OK);

  Gate &g2 = fx.gate();
  Probe &b = fx.blocker("same-priority", g2);
  submit_with(fx, b, 4, LANE_JOB_PREEMPTIBLE);
  REQUIRE(fx.rec.wait_started("same-priority"));
  lane_ticket_t t2 = submit_with(fx, fx.probe("equal"), 4, 0);
  CHECK(t2.position == 1);
  g2.open();
  REQUIRE(fx.rec.wait_outcomes(4));
  CHECK(b.seen_cancelled == 0);
  CHECK(fx.rec.outcome("same-priority").status == LANE_OK);
  CHECK(stats_of(fx.lane).preemptions == 0);
}

TEST_CASE("preemption_off in the options turns preemption off") {
  lane_options_t o = no_guard_options(1);
  o.preemption_off = 1;
  LaneFixture fx("preempt-off", o);
  Gate &g = fx.gate();
  Probe &low = fx.blocker("low", g);
  submit_with(fx, low, 0, LANE_JOB_PREEMPTIBLE);
  REQUIRE(fx.rec.wait_started("low"));
  lane_ticket_t t = submit_with(fx, fx.probe("high"), 10, 0);
  CHECK(t.position == 1);
  g.open();
  REQUIRE(fx.rec.wait_outcomes(2));
  CHECK(low.seen_cancelled == 0);
  CHECK(fx.rec.outcome("low").status == LANE_OK);
}

TEST_CASE("lane_set_preemption turns preemption off and on at run time") {
  LaneFixture fx("preempt-set", no_guard_options(1));
  REQUIRE(lane_set_preemption(fx.lane, 0, 0) == LANE_OK);
  Gate &g = fx.gate();
  Probe &low = fx.blocker("low", g);
  submit_with(fx, low, 0, LANE_JOB_PREEMPTIBLE);
  REQUIRE(fx.rec.wait_started("low"));
  lane_ticket_t t = submit_with(fx, fx.probe("high"), 10, 0);
  CHECK(t.position == 1);
  CHECK(stats_of(fx.lane).preemptions == 0);
  // Cancel the queued one, turn preemption on with no guard, try again.
  REQUIRE(lane_cancel(fx.lane, "high", 0) == LANE_OK);
  REQUIRE(lane_set_preemption(fx.lane, 1, 0) == LANE_OK);
  submit_with(fx, fx.probe("high2"), 10, 0);
  REQUIRE(fx.rec.wait_outcome("high2"));
  CHECK(low.seen_cause == LANE_ERR_PREEMPTED);
  CHECK(fx.rec.outcome("low").status == LANE_ERR_PREEMPTED);
  CHECK(fx.rec.outcome("high").status == LANE_ERR_CANCELLED);
  CHECK(fx.rec.outcome("high2").status == LANE_OK);
}

TEST_CASE("the victim is the lowest-priority preemptible job") {
  LaneFixture fx("preempt-victim-priority", no_guard_options(2));
  Gate &g = fx.gate();
  Probe &p1 = fx.blocker("prio1", g);
  Probe &p0 = fx.blocker("prio0", g);
  submit_with(fx, p1, 1, LANE_JOB_PREEMPTIBLE);
  REQUIRE(fx.rec.wait_started("prio1"));
  submit_with(fx, p0, 0, LANE_JOB_PREEMPTIBLE);
  REQUIRE(fx.rec.wait_started("prio0"));
  submit_with(fx, fx.probe("high"), 9, 0);
  REQUIRE(fx.rec.wait_outcome("prio0"));
  CHECK(fx.rec.outcome("prio0").status == LANE_ERR_PREEMPTED);
  REQUIRE(fx.rec.wait_outcome("high"));
  CHECK(p1.runs == 1);
  CHECK(fx.rec.outcome_count("prio1") == 0);  // still running, untouched
  g.open();
  REQUIRE(fx.rec.wait_outcome("prio1"));
  CHECK(fx.rec.outcome("prio1").status == LANE_OK);
  CHECK(p1.seen_cancelled == 0);
}

TEST_CASE("between victims of equal priority the one that started first is preempted") {
  FakeClock clock;
  lane_options_t o = no_guard_options(2);
  o.clock = fake_clock_fn;
  o.clock_ud = &clock;
  LaneFixture fx("preempt-victim-oldest", o);
  Gate &g = fx.gate();
  Probe &older = fx.blocker("older", g);
  Probe &newer = fx.blocker("newer", g);
  submit_with(fx, older, 0, LANE_JOB_PREEMPTIBLE);
  REQUIRE(fx.rec.wait_started("older"));
  clock.advance(kSec);
  submit_with(fx, newer, 0, LANE_JOB_PREEMPTIBLE);
  REQUIRE(fx.rec.wait_started("newer"));
  clock.advance(kSec);
  submit_with(fx, fx.probe("high"), 9, 0);
  REQUIRE(fx.rec.wait_outcome("older"));
  CHECK(fx.rec.outcome("older").status == LANE_ERR_PREEMPTED);
  REQUIRE(fx.rec.wait_outcome("high"));
  CHECK(fx.rec.outcome_count("newer") == 0);
  g.open();
  REQUIRE(fx.rec.wait_outcome("newer"));
  CHECK(fx.rec.outcome("newer").status == LANE_OK);
}

TEST_CASE("with the fake clock the min-runtime guard protects a young victim and not an old one") {
  FakeClock clock;
  lane_options_t o = LANE_OPTIONS_INIT;  // preempt_min_runtime_ns 0 -> 30 s
  o.max_concurrent = 1;
  o.clock = fake_clock_fn;
  o.clock_ud = &clock;
  LaneFixture fx("preempt-guard", o);
  Gate &g = fx.gate();
  Probe &low = fx.blocker("low", g);
  submit_with(fx, low, 0, LANE_JOB_PREEMPTIBLE);
  REQUIRE(fx.rec.wait_started("low"));

  clock.advance(10 * kSec);  // 10 s < 30 s: protected
  lane_ticket_t t1 = submit_with(fx, fx.probe("early"), 10, 0);
  CHECK(t1.position == 1);
  CHECK(stats_of(fx.lane).preemptions == 0);
  REQUIRE(lane_cancel(fx.lane, "early", 0) == LANE_OK);
  REQUIRE(fx.rec.wait_outcome("early"));
  CHECK(fx.rec.outcome("early").status == LANE_ERR_CANCELLED);
  CHECK(low.seen_cancelled == 0);

  clock.advance(21 * kSec);  // 31 s >= 30 s: fair game
  lane_ticket_t t2 = submit_with(fx, fx.probe("late"), 10, 0);
  CHECK(t2.position >= 1);
  CHECK(t2.eta_ns == 0);
  REQUIRE(fx.rec.wait_outcome("late"));
  CHECK(fx.rec.outcome("low").status == LANE_ERR_PREEMPTED);
  CHECK(low.seen_cause == LANE_ERR_PREEMPTED);
  CHECK(fx.rec.outcome("late").status == LANE_OK);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.preemptions == 1);
  check_invariant(s);
}

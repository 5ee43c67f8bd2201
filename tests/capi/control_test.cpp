// Lane control: pause/resume, cooldown, queue timeouts, close (DRAIN and
// CANCEL), wait_idle and resizing with lane_set_max_concurrent.
#include "capi_fixture.hpp"

using namespace capi_test;

TEST_CASE("a paused lane queues new jobs as PAUSED and runs them after lane_resume") {
  LaneFixture fx(2);
  REQUIRE(lane_pause(fx.lane) == LANE_OK);
  Probe &p = fx.probe("p");
  lane_ticket_t t = fx.submit_ok(p);
  CHECK(t.position == 1);
  CHECK(t.blocked_by == LANE_BLOCKED_PAUSED);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.paused == 1);
  CHECK(s.queued == 1);
  CHECK(s.running == 0);
  CHECK(s.blocked_by == LANE_BLOCKED_PAUSED);
  CHECK(p.runs == 0);
  REQUIRE(lane_resume(fx.lane) == LANE_OK);
  REQUIRE(fx.rec.wait_outcome("p"));
  CHECK(fx.rec.outcome("p").status == LANE_OK);
  CHECK(stats_of(fx.lane).paused == 0);
}

TEST_CASE("pausing does not stop a job that is already running") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  Probe &r = fx.blocker("running", g);
  fx.submit_ok(r);
  REQUIRE(fx.rec.wait_started("running"));
  REQUIRE(lane_pause(fx.lane) == LANE_OK);
  g.open();
  REQUIRE(fx.rec.wait_outcome("running"));
  CHECK(fx.rec.outcome("running").status == LANE_OK);
  CHECK(r.seen_cancelled == 0);
  REQUIRE(lane_resume(fx.lane) == LANE_OK);
}

TEST_CASE("a cooldown holds new jobs as COOLDOWN until lane_cooldown(0) ends it") {
  LaneFixture fx(1);
  REQUIRE(lane_cooldown(fx.lane, 600 * kSec) == LANE_OK);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.cooldown_until_ns > 0);
  Probe &p = fx.probe("p");
  lane_ticket_t t = fx.submit_ok(p);
  CHECK(t.position == 1);
  CHECK(t.blocked_by == LANE_BLOCKED_COOLDOWN);
  CHECK(t.eta_ns > 0);
  s = stats_of(fx.lane);
  CHECK(s.blocked_by == LANE_BLOCKED_COOLDOWN);
  CHECK(p.runs == 0);
  REQUIRE(lane_cooldown(fx.lane, 0) == LANE_OK);
  REQUIRE(fx.rec.wait_outcome("p"));
  CHECK(fx.rec.outcome("p").status == LANE_OK);
  CHECK(stats_of(fx.lane).cooldown_until_ns == 0);
}

TEST_CASE("a short cooldown ends by itself and the held job runs") {
  LaneFixture fx(1);
  REQUIRE(lane_cooldown(fx.lane, 30 * kMs) == LANE_OK);
  Probe &p = fx.probe("p");
  fx.submit_ok(p);
  REQUIRE(fx.rec.wait_outcome("p"));
  CHECK(fx.rec.outcome("p").status == LANE_OK);
}

TEST_CASE("with the fake clock the cooldown ends exactly at now + duration") {
  FakeClock clock;
  lane_options_t o = LANE_OPTIONS_INIT;
  o.clock = fake_clock_fn;
  o.clock_ud = &clock;
  LaneFixture fx("cooldown-fake", o);
  const std::int64_t t0 = clock.now;
  REQUIRE(lane_cooldown(fx.lane, 10 * kSec) == LANE_OK);
  CHECK(stats_of(fx.lane).cooldown_until_ns == t0 + 10 * kSec);
  lane_ticket_t t = fx.submit_ok(fx.probe("p"));
  CHECK(t.blocked_by == LANE_BLOCKED_COOLDOWN);
  CHECK(t.eta_ns == 10 * kSec);
  REQUIRE(lane_cooldown(fx.lane, 0) == LANE_OK);
  REQUIRE(fx.rec.wait_outcome("p"));
}

TEST_CASE("a job still queued after queue_timeout_ns ends LANE_ERR_TIMEOUT without running") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("hold", g));
  REQUIRE(fx.rec.wait_started("hold"));
  Probe &p = fx.probe("short-patience");
  lane_job_t j = fx.job_for(p);
  j.queue_timeout_ns = 30 * kMs;
  lane_ticket_t t = LANE_TICKET_INIT;
  REQUIRE(lane_submit(fx.lane, &j, &t) == LANE_OK);
  CHECK(t.position == 1);
  REQUIRE(fx.rec.wait_outcome("short-patience"));
  Outcome o = fx.rec.outcome("short-patience");
  CHECK(o.status == LANE_ERR_TIMEOUT);
  CHECK(o.started_at_ns == 0);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.timed_out == 1);
  CHECK(s.queued == 0);
  CHECK(s.running == 1);
  check_invariant(s);
  g.open();
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  CHECK(p.runs == 0);
}

TEST_CASE("queue_timeout_ns does not touch a job once it runs") {
  LaneFixture fx(1);
  Probe &p = fx.probe("dispatched");
  Probe *pp = &p;
  p.body = [pp](lane_ctx_t *ctx) -> std::int32_t {
    lane_ctx_wait(ctx, 60 * kMs);  // longer than its queue timeout
    pp->observe(ctx);
    return 0;
  };
  lane_job_t j = fx.job_for(p);
  j.queue_timeout_ns = 5 * kMs;
  REQUIRE(lane_submit(fx.lane, &j, nullptr) == LANE_OK);
  REQUIRE(fx.rec.wait_outcome("dispatched"));
  CHECK(fx.rec.outcome("dispatched").status == LANE_OK);
  CHECK(p.seen_cancelled == 0);
}

TEST_CASE("lane_close DRAIN refuses new jobs and still runs what was queued") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("hold", g));
  REQUIRE(fx.rec.wait_started("hold"));
  fx.submit_ok(fx.probe("q1"));
  fx.submit_ok(fx.probe("q2"));
  REQUIRE(lane_close(fx.lane, LANE_CLOSE_DRAIN) == LANE_OK);

  Probe &late = fx.probe("late");
  lane_ticket_t t = LANE_TICKET_INIT;
  CHECK(fx.submit(late, &t) == LANE_ERR_CLOSED);
  CHECK(has_message());
  g.open();
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  CHECK(fx.rec.outcome("hold").status == LANE_OK);
  CHECK(fx.rec.outcome("q1").status == LANE_OK);
  CHECK(fx.rec.outcome("q2").status == LANE_OK);
  CHECK(late.runs == 0);
  CHECK(late.dones == 0);
  CHECK(fx.rec.outcome_count("late") == 0);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.submitted == 3);
  CHECK(s.completed == 3);
  CHECK(s.refused == 1);
  check_invariant(s);
}

TEST_CASE("lane_close CANCEL ends the queue with LANE_ERR_CLOSED and cancels running jobs with cause CLOSED") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  Probe &r = fx.blocker("running", g);
  fx.submit_ok(r);
  REQUIRE(fx.rec.wait_started("running"));
  Probe &q1 = fx.probe("q1");
  Probe &q2 = fx.probe("q2");
  fx.submit_ok(q1);
  fx.submit_ok(q2);
  REQUIRE(lane_close(fx.lane, LANE_CLOSE_CANCEL) == LANE_OK);
  REQUIRE(fx.rec.wait_outcomes(3));
  CHECK(fx.rec.outcome("q1").status == LANE_ERR_CLOSED);
  CHECK(fx.rec.outcome("q2").status == LANE_ERR_CLOSED);
  CHECK(fx.rec.outcome("running").status == LANE_ERR_CLOSED);
  CHECK(r.seen_cancelled == 1);
  CHECK(r.seen_cause == LANE_ERR_CLOSED);
  CHECK(r.seen_wait == LANE_ERR_CLOSED);
  CHECK(q1.runs == 0);
  CHECK(q2.runs == 0);

  Probe &late = fx.probe("late");
  CHECK(fx.submit(late) == LANE_ERR_CLOSED);
  CHECK(has_message());
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  CHECK(late.dones == 0);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.closed == 3);
  CHECK(s.running == 0);
  CHECK(s.queued == 0);
  check_invariant(s);
}

TEST_CASE("a second lane_close escalates DRAIN to CANCEL") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  Probe &r = fx.blocker("running", g);
  fx.submit_ok(r);
  REQUIRE(fx.rec.wait_started("running"));
  fx.submit_ok(fx.probe("queued"));
  REQUIRE(lane_close(fx.lane, LANE_CLOSE_DRAIN) == LANE_OK);
  CHECK(fx.rec.outcome_count("queued") == 0);
  REQUIRE(lane_close(fx.lane, LANE_CLOSE_CANCEL) == LANE_OK);
  REQUIRE(fx.rec.wait_outcomes(2));
  CHECK(fx.rec.outcome("queued").status == LANE_ERR_CLOSED);
  CHECK(fx.rec.outcome("running").status == LANE_ERR_CLOSED);
  CHECK(r.seen_cause == LANE_ERR_CLOSED);
}

TEST_CASE("closing a closed lane again is harmless") {
  LaneFixture fx;
  CHECK(lane_close(fx.lane, LANE_CLOSE_DRAIN) == LANE_OK);
  CHECK(lane_close(fx.lane, LANE_CLOSE_DRAIN) == LANE_OK);
  CHECK(lane_close(fx.lane, LANE_CLOSE_CANCEL) == LANE_OK);
  CHECK(lane_close(fx.lane, LANE_CLOSE_CANCEL) == LANE_OK);
  CHECK(lane_wait_idle(fx.lane, 0) == LANE_OK);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.submitted == 0);
}

TEST_CASE("lane_wait_idle on an idle lane returns LANE_OK at once, even with timeout 0") {
  LaneFixture fx;
  CHECK(lane_wait_idle(fx.lane, 0) == LANE_OK);
  CHECK(lane_wait_idle(fx.lane, -1) == LANE_OK);
}

TEST_CASE("lane_wait_idle returns only after every on_done has returned") {
  LaneFixture fx(2);
  std::vector<Probe *> ps;
  for (int i = 0; i < 6; ++i) {
    Probe &p = fx.probe("slow-done-" + std::to_string(i));
    p.on_done_extra = [](const lane_outcome_t *) { std::this_thread::sleep_for(15ms); };
    ps.push_back(&p);
  }
  for (Probe *p : ps) fx.submit_ok(*p);
  REQUIRE(lane_wait_idle(fx.lane, -1) == LANE_OK);
  for (Probe *p : ps) CHECK(p->done_returned.load());
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.completed == 6);
  CHECK(s.running == 0);
  CHECK(s.queued == 0);
}

TEST_CASE("lane_wait_idle gives LANE_ERR_TIMEOUT while a job is stuck") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("stuck", g));
  REQUIRE(fx.rec.wait_started("stuck"));
  CHECK(lane_wait_idle(fx.lane, 20 * kMs) == LANE_ERR_TIMEOUT);
  CHECK(has_message());
  CHECK(lane_wait_idle(fx.lane, 0) == LANE_ERR_TIMEOUT);
  g.open();
  CHECK(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
}

TEST_CASE("lane_wait_idle also waits for queued jobs") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("hold", g));
  REQUIRE(fx.rec.wait_started("hold"));
  for (int i = 0; i < 3; ++i) fx.submit_ok(fx.probe("q" + std::to_string(i)));
  std::thread opener([&] {
    std::this_thread::sleep_for(20ms);
    g.open();
  });
  CHECK(lane_wait_idle(fx.lane, -1) == LANE_OK);
  opener.join();
  CHECK(fx.rec.total_outcomes() == 4);
}

TEST_CASE("raising max_concurrent dispatches the backlog at once") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("a", g));
  REQUIRE(fx.rec.wait_started("a"));
  fx.submit_ok(fx.blocker("b", g));
  fx.submit_ok(fx.blocker("c", g));
  CHECK(stats_of(fx.lane).queued == 2);
  REQUIRE(lane_set_max_concurrent(fx.lane, 3) == LANE_OK);
  REQUIRE(fx.rec.wait_started("b"));
  REQUIRE(fx.rec.wait_started("c"));
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.max_concurrent == 3);
  CHECK(s.running == 3);
  CHECK(s.queued == 0);
  g.open();
  REQUIRE(fx.rec.wait_outcomes(3));
}

TEST_CASE("lowering max_concurrent lets in-flight jobs finish and dispatches nothing until under the new cap") {
  LaneFixture fx(3);
  Gate &ga = fx.gate();
  Gate &grest = fx.gate();
  Probe &a = fx.blocker("a", ga);
  Probe &b = fx.blocker("b", grest);
  Probe &c = fx.blocker("c", grest);
  fx.submit_ok(a);
  fx.submit_ok(b);
  fx.submit_ok(c);
  REQUIRE(fx.rec.wait_started("a"));
  REQUIRE(fx.rec.wait_started("b"));
  REQUIRE(fx.rec.wait_started("c"));
  REQUIRE(lane_set_max_concurrent(fx.lane, 1) == LANE_OK);
  std::atomic<int> running_at_start{-1};
  Probe &d = fx.probe("d", [&](lane_ctx_t *) -> std::int32_t {
    running_at_start = fx.rec.running_now();
    return 0;
  });
  lane_ticket_t t = fx.submit_ok(d);
  CHECK(t.position == 1);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.max_concurrent == 1);
  CHECK(s.running == 3);

  ga.open();
  REQUIRE(fx.rec.wait_outcome("a"));
  CHECK(fx.rec.outcome("a").status == LANE_OK);
  CHECK(stats_of(fx.lane).queued == 1);  // 2 running > cap 1: d still waits
  CHECK(d.runs == 0);
  grest.open();
  REQUIRE(fx.rec.wait_outcome("d"));
  CHECK(running_at_start == 1);  // only d itself
  CHECK(b.seen_cancelled == 0);
  CHECK(c.seen_cancelled == 0);
  CHECK(fx.rec.outcome("b").status == LANE_OK);
}

TEST_CASE("lane_set_eta_window changes the window the stats report") {
  LaneFixture fx;
  CHECK(stats_of(fx.lane).eta_window == 16);
  REQUIRE(lane_set_eta_window(fx.lane, 4) == LANE_OK);
  CHECK(stats_of(fx.lane).eta_window == 4);
}

TEST_CASE("lane_destroy cancels running jobs with cause CLOSED, ends queued ones, and returns after every on_done") {
  LaneFixture fx(2);
  Gate &never = fx.gate();  // only the destroy can end these
  Probe &r1 = fx.probe("r1");
  Probe &r2 = fx.probe("r2");
  for (Probe *p : {&r1, &r2}) {
    p->body = [p, &never](lane_ctx_t *ctx) -> std::int32_t {
      block(ctx, never);
      p->observe(ctx);
      return 0;
    };
    p->on_done_extra = [](const lane_outcome_t *) { std::this_thread::sleep_for(10ms); };
    fx.submit_ok(*p);
  }
  REQUIRE(fx.rec.wait_started("r1"));
  REQUIRE(fx.rec.wait_started("r2"));
  Probe &q = fx.probe("queued");
  fx.submit_ok(q);
  fx.destroy_now();
  CHECK(r1.done_returned.load());
  CHECK(r2.done_returned.load());
  CHECK(q.done_returned.load());
  CHECK(r1.seen_cause == LANE_ERR_CLOSED);
  CHECK(r2.seen_cause == LANE_ERR_CLOSED);
  CHECK(fx.rec.outcome("r1").status == LANE_ERR_CLOSED);
  CHECK(fx.rec.outcome("r2").status == LANE_ERR_CLOSED);
  CHECK(fx.rec.outcome("queued").status == LANE_ERR_CLOSED);
  CHECK(q.runs == 0);
}

TEST_CASE("lane_destroy after lane_close DRAIN still ends everything") {
  LaneFixture fx(1);
  Gate &never = fx.gate();
  Probe &r = fx.blocker("r", never);
  fx.submit_ok(r);
  REQUIRE(fx.rec.wait_started("r"));
  fx.submit_ok(fx.probe("q"));
  REQUIRE(lane_close(fx.lane, LANE_CLOSE_DRAIN) == LANE_OK);
  fx.destroy_now();
  CHECK(fx.rec.outcome("r").status == LANE_ERR_CLOSED);
  CHECK(fx.rec.outcome("q").status == LANE_ERR_CLOSED);
}

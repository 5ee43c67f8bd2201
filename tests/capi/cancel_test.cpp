// lane_cancel: queued jobs leave the queue with LANE_ERR_CANCELLED; running
// jobs see the cancellation through their context only with
// LANE_CANCEL_RUNNING, and end CANCELLED whatever run returned.
#include "capi_fixture.hpp"

using namespace capi_test;

TEST_CASE("a queued job cancelled with flags 0 ends LANE_ERR_CANCELLED and never runs") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("hold", g));
  REQUIRE(fx.rec.wait_started("hold"));
  Probe &q = fx.probe("queued");
  lane_ticket_t t = fx.submit_ok(q);
  REQUIRE(t.position == 1);

  CHECK(lane_cancel(fx.lane, "queued", 0) == LANE_OK);
  REQUIRE(fx.rec.wait_outcome("queued"));
  Outcome o = fx.rec.outcome("queued");
  CHECK(o.status == LANE_ERR_CANCELLED);
  CHECK(o.job_token == t.job_token);
  CHECK(o.started_at_ns == 0);
  CHECK(o.enqueued_at_ns > 0);

  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.queued == 0);
  CHECK(s.cancelled == 1);
  g.open();
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  CHECK(q.runs == 0);
  CHECK(q.dones == 1);
  CHECK(fx.rec.outcome("hold").status == LANE_OK);
}

TEST_CASE("a queued job cancelled gets its outcome on the cancelling thread before lane_cancel returns") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("hold", g));
  REQUIRE(fx.rec.wait_started("hold"));
  fx.submit_ok(fx.probe("queued"));
  REQUIRE(lane_cancel(fx.lane, "queued", LANE_CANCEL_QUEUED) == LANE_OK);
  REQUIRE(fx.rec.outcome_count("queued") == 1);
  CHECK(fx.rec.outcome("queued").thread == std::this_thread::get_id());
}

TEST_CASE("cancelling a queued job twice: the second call says LANE_ERR_NOT_QUEUED") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("hold", g));
  REQUIRE(fx.rec.wait_started("hold"));
  fx.submit_ok(fx.probe("q"));
  CHECK(lane_cancel(fx.lane, "q", LANE_CANCEL_QUEUED) == LANE_OK);
  CHECK(lane_cancel(fx.lane, "q", LANE_CANCEL_QUEUED) == LANE_ERR_NOT_QUEUED);
  CHECK(has_message());
  REQUIRE(fx.rec.wait_outcome("q"));
  g.open();
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  CHECK(fx.rec.outcome_count("q") == 1);
}

TEST_CASE("cancelling an unknown id says LANE_ERR_NOT_QUEUED with a message") {
  LaneFixture fx;
  CHECK(lane_cancel(fx.lane, "nobody", 0) == LANE_ERR_NOT_QUEUED);
  CHECK(has_message());
  CHECK(lane_cancel(fx.lane, "nobody", LANE_CANCEL_QUEUED | LANE_CANCEL_RUNNING) == LANE_ERR_NOT_QUEUED);
}

TEST_CASE("a running job is not cancelled without LANE_CANCEL_RUNNING") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  Probe &r = fx.blocker("run", g);
  fx.submit_ok(r);
  REQUIRE(fx.rec.wait_started("run"));
  CHECK(lane_cancel(fx.lane, "run", 0) == LANE_ERR_NOT_QUEUED);
  CHECK(lane_cancel(fx.lane, "run", LANE_CANCEL_QUEUED) == LANE_ERR_NOT_QUEUED);
  g.open();
  REQUIRE(fx.rec.wait_outcome("run"));
  CHECK(fx.rec.outcome("run").status == LANE_OK);
  CHECK(r.seen_cancelled == 0);
  CHECK(r.seen_cause == LANE_OK);
  CHECK(r.seen_wait == LANE_ERR_TIMEOUT);
}

TEST_CASE("a running job cancelled with LANE_CANCEL_RUNNING sees LANE_ERR_CANCELLED in its context") {
  LaneFixture fx(1);
  std::atomic<int> before_cancelled{-1};
  std::atomic<int> before_cause{-100};
  std::atomic<int> before_wait{-100};
  std::atomic<int> woke{-100};
  Gate &started = fx.gate();
  Probe &r = fx.probe("run");
  Probe *rp = &r;
  r.body = [&, rp](lane_ctx_t *ctx) -> std::int32_t {
    before_cancelled = lane_ctx_cancelled(ctx);
    before_cause = lane_ctx_cause(ctx);
    before_wait = lane_ctx_wait(ctx, 1 * kMs);
    started.open();
    woke = lane_ctx_wait(ctx, 20 * kSec);  // woken by the cancel, long before this
    rp->observe(ctx);
    return 0;
  };
  fx.submit_ok(r);
  REQUIRE(started.wait());
  CHECK(lane_cancel(fx.lane, "run", LANE_CANCEL_RUNNING) == LANE_OK);
  REQUIRE(fx.rec.wait_outcome("run"));

  CHECK(before_cancelled == 0);
  CHECK(before_cause == LANE_OK);
  CHECK(before_wait == LANE_ERR_TIMEOUT);
  CHECK(woke == LANE_ERR_CANCELLED);
  CHECK(r.seen_cancelled == 1);
  CHECK(r.seen_cause == LANE_ERR_CANCELLED);
  CHECK(r.seen_wait == LANE_ERR_CANCELLED);
  Outcome o = fx.rec.outcome("run");
  CHECK(o.status == LANE_ERR_CANCELLED);
  CHECK(o.started_at_ns > 0);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.cancelled == 1);
  CHECK(s.completed == 0);
  check_invariant(s);
}

TEST_CASE("a job blocked in lane_ctx_wait forever is woken by the cancel") {
  LaneFixture fx(1);
  Gate &started = fx.gate();
  std::atomic<int> woke{-100};
  Probe &r = fx.probe("forever", [&](lane_ctx_t *ctx) -> std::int32_t {
    started.open();
    woke = lane_ctx_wait(ctx, -1);
    return 0;
  });
  fx.submit_ok(r);
  REQUIRE(started.wait());
  std::thread canceller([&] { CHECK(lane_cancel(fx.lane, "forever", LANE_CANCEL_RUNNING) == LANE_OK); });
  canceller.join();
  REQUIRE(fx.rec.wait_outcome("forever"));
  CHECK(woke == LANE_ERR_CANCELLED);
  CHECK(fx.rec.outcome("forever").status == LANE_ERR_CANCELLED);
}

TEST_CASE("a cancelled running job ends CANCELLED whatever run returned") {
  LaneFixture fx(2);
  Gate &g = fx.gate();
  Probe &ok = fx.blocker("returns-0", g, 0);
  Probe &bad = fx.blocker("returns-9", g, 9);
  fx.submit_ok(ok);
  fx.submit_ok(bad);
  REQUIRE(fx.rec.wait_started("returns-0"));
  REQUIRE(fx.rec.wait_started("returns-9"));
  CHECK(lane_cancel(fx.lane, "returns-0", LANE_CANCEL_RUNNING) == LANE_OK);
  CHECK(lane_cancel(fx.lane, "returns-9", LANE_CANCEL_RUNNING) == LANE_OK);
  REQUIRE(fx.rec.wait_outcomes(2));
  CHECK(fx.rec.outcome("returns-0").status == LANE_ERR_CANCELLED);
  Outcome o = fx.rec.outcome("returns-9");
  CHECK(o.status == LANE_ERR_CANCELLED);
  CHECK(o.job_code == 9);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.cancelled == 2);
  CHECK(s.failed == 0);
}

TEST_CASE("both cancel flags together reach a queued job and a running job") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  Probe &r = fx.blocker("run", g);
  fx.submit_ok(r);
  REQUIRE(fx.rec.wait_started("run"));
  Probe &q = fx.probe("queued");
  fx.submit_ok(q);
  const std::uint32_t both = LANE_CANCEL_QUEUED | LANE_CANCEL_RUNNING;
  CHECK(lane_cancel(fx.lane, "queued", both) == LANE_OK);
  CHECK(lane_cancel(fx.lane, "run", both) == LANE_OK);
  REQUIRE(fx.rec.wait_outcomes(2));
  CHECK(fx.rec.outcome("queued").status == LANE_ERR_CANCELLED);
  CHECK(fx.rec.outcome("run").status == LANE_ERR_CANCELLED);
  CHECK(q.runs == 0);
}

TEST_CASE("cancelling a running job again keeps its first cause and one outcome") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  Gate &cancelled_seen = fx.gate();
  Probe &r = fx.probe("run");
  r.body = [&](lane_ctx_t *ctx) -> std::int32_t {
    block(ctx, g);
    cancelled_seen.open();
    // Stay running a moment so the second cancel hits a running job.
    lane_ctx_wait(ctx, 20 * kMs);
    return 0;
  };
  fx.submit_ok(r);
  REQUIRE(fx.rec.wait_started("run"));
  CHECK(lane_cancel(fx.lane, "run", LANE_CANCEL_RUNNING) == LANE_OK);
  lane_status_t second = lane_cancel(fx.lane, "run", LANE_CANCEL_RUNNING);
  CHECK((second == LANE_OK || second == LANE_ERR_NOT_QUEUED));
  REQUIRE(fx.rec.wait_outcome("run"));
  CHECK(fx.rec.outcome("run").status == LANE_ERR_CANCELLED);
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  CHECK(fx.rec.outcome_count("run") == 1);
}

TEST_CASE("the slot of a cancelled running job goes to the next queued job once it returns") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("run", g));
  REQUIRE(fx.rec.wait_started("run"));
  Probe &next = fx.probe("next");
  fx.submit_ok(next);
  CHECK(lane_cancel(fx.lane, "run", LANE_CANCEL_RUNNING) == LANE_OK);
  REQUIRE(fx.rec.wait_outcome("next"));
  CHECK(fx.rec.outcome("next").status == LANE_OK);
  CHECK(fx.rec.outcome("run").status == LANE_ERR_CANCELLED);
  CHECK(fx.rec.max_running() == 1);
}

TEST_CASE("lane_cancel_token cancels by the ticket's token and never reaches a later job that reuses the id") {
  LaneFixture fx(1);
  Probe &first = fx.probe("reused");
  lane_ticket_t t1 = fx.submit_ok(first);  // a free slot: runs and ends at once
  REQUIRE(fx.rec.wait_outcome("reused"));
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);

  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("hold", g));
  REQUIRE(fx.rec.wait_started("hold"));
  Probe &second = fx.probe("reused");  // same id, a new job
  lane_ticket_t t2 = fx.submit_ok(second);
  REQUIRE(t2.position == 1);
  REQUIRE(t2.job_token != t1.job_token);

  // The old token names a job that has ended: nothing to cancel, and the
  // new job with the same id stays queued.
  CHECK(lane_cancel_token(fx.lane, t1.job_token, LANE_CANCEL_QUEUED) == LANE_ERR_NOT_QUEUED);
  CHECK(has_message());
  CHECK(stats_of(fx.lane).queued == 1);
  CHECK(lane_cancel_token(fx.lane, t2.job_token, 0) == LANE_OK);
  CHECK(fx.rec.outcome_count("reused") == 2);
  CHECK(stats_of(fx.lane).cancelled == 1);
  CHECK(lane_cancel_token(fx.lane, 0, LANE_CANCEL_QUEUED | LANE_CANCEL_RUNNING) == LANE_ERR_NOT_QUEUED);
  CHECK(lane_cancel_token(fx.lane, t2.job_token, 1u << 7) == LANE_ERR_INVALID);
  CHECK(lane_cancel_token(nullptr, t2.job_token, 0) == LANE_ERR_INVALID);
  g.open();
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  CHECK(second.runs == 0);
}

TEST_CASE("lane_cancel_token with LANE_CANCEL_RUNNING reaches a running job's context") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  lane_ticket_t t = fx.submit_ok(fx.blocker("long", g));
  REQUIRE(fx.rec.wait_started("long"));
  CHECK(lane_cancel_token(fx.lane, t.job_token, LANE_CANCEL_QUEUED) == LANE_ERR_NOT_QUEUED);
  CHECK(lane_cancel_token(fx.lane, t.job_token, LANE_CANCEL_RUNNING) == LANE_OK);
  REQUIRE(fx.rec.wait_outcome("long"));
  CHECK(fx.rec.outcome("long").status == LANE_ERR_CANCELLED);
  g.open();
}

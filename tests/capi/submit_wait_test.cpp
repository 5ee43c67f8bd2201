// lane_submit_wait: inline on the caller when a slot is free, waits when the
// lane is full, removes or cancels the job on timeout, and refuses a
// self-deadlock (a job waiting on its own full lane) at once.
#include "capi_fixture.hpp"

using namespace capi_test;

namespace {

lane_outcome_t blank_outcome() {
  lane_outcome_t o{};
  o.struct_size = sizeof o;
  return o;
}

// Polls stats until `pred` holds (or the deadline).
template <class Pred>
bool wait_stats(lane_t *lane, Pred pred) {
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < until) {
    lane_stats_t s{};
    s.struct_size = sizeof s;
    if (lane_stats(lane, &s) == LANE_OK && pred(s)) return true;
    std::this_thread::sleep_for(2ms);
  }
  return false;
}

}  // namespace

TEST_CASE("submit_wait on a lane with a free slot runs the job inline on the calling thread") {
  LaneFixture fx(1, "sw-inline");
  Probe &p = fx.probe("inline", [](lane_ctx_t *) { return 0; });
  lane_job_t j = fx.job_for(p);
  lane_outcome_t out = blank_outcome();
  CHECK(lane_submit_wait(fx.lane, &j, -1, &out) == LANE_OK);
  CHECK(p.runs == 1);
  CHECK(p.run_thread == std::this_thread::get_id());
  CHECK(out.status == LANE_OK);
  CHECK(out.job_code == 0);
  CHECK(out.job_token != 0);
  CHECK(out.started_at_ns > 0);
  CHECK(out.finished_at_ns >= out.started_at_ns);
  REQUIRE(fx.rec.wait_outcome("inline"));
  CHECK(fx.rec.outcome("inline").status == LANE_OK);
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  CHECK(p.dones == 1);
}

TEST_CASE("submit_wait returns LANE_ERR_JOB_FAILED and the job_code of a failing job") {
  LaneFixture fx;
  Probe &p = fx.probe("fails", [](lane_ctx_t *) { return 3; });
  lane_job_t j = fx.job_for(p);
  lane_outcome_t out = blank_outcome();
  CHECK(lane_submit_wait(fx.lane, &j, -1, &out) == LANE_ERR_JOB_FAILED);
  CHECK(out.status == LANE_ERR_JOB_FAILED);
  CHECK(out.job_code == 3);
}

TEST_CASE("submit_wait accepts a NULL outcome pointer") {
  LaneFixture fx;
  Probe &p = fx.probe("no-out");
  lane_job_t j = fx.job_for(p);
  CHECK(lane_submit_wait(fx.lane, &j, 10 * kSec, nullptr) == LANE_OK);
  CHECK(p.runs == 1);
}

TEST_CASE("submit_wait on a full lane waits until its job has run") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("hold", g));
  REQUIRE(fx.rec.wait_started("hold"));
  Probe &p = fx.probe("waiter");
  std::atomic<int> result{1};
  lane_outcome_t out = blank_outcome();
  std::thread t([&] {
    lane_job_t j = fx.job_for(p);
    result = lane_submit_wait(fx.lane, &j, -1, &out);
  });
  REQUIRE(wait_stats(fx.lane, [](const lane_stats_t &s) { return s.queued == 1; }));
  CHECK(result == 1);  // still waiting
  CHECK(p.runs == 0);
  g.open();
  t.join();
  CHECK(result == LANE_OK);
  CHECK(out.status == LANE_OK);
  CHECK(p.runs == 1);
  CHECK(fx.rec.outcome("waiter").status == LANE_OK);
}

TEST_CASE("submit_wait that times out in the queue removes the job with LANE_ERR_TIMEOUT") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("hold", g));
  REQUIRE(fx.rec.wait_started("hold"));
  Probe &p = fx.probe("times-out");
  lane_job_t j = fx.job_for(p);
  lane_outcome_t out = blank_outcome();
  CHECK(lane_submit_wait(fx.lane, &j, 30 * kMs, &out) == LANE_ERR_TIMEOUT);
  CHECK(out.status == LANE_ERR_TIMEOUT);
  CHECK(out.started_at_ns == 0);
  REQUIRE(fx.rec.wait_outcome("times-out"));
  CHECK(fx.rec.outcome("times-out").status == LANE_ERR_TIMEOUT);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.queued == 0);
  CHECK(s.timed_out == 1);
  check_invariant(s);
  g.open();
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  CHECK(p.runs == 0);
  CHECK(p.dones == 1);
}

TEST_CASE("submit_wait that times out while its job runs inline cancels it with cause LANE_ERR_TIMEOUT") {
  LaneFixture fx(1);
  std::atomic<int> woke{-100};
  std::atomic<int> cause{-100};
  Probe &p = fx.probe("slow", [&](lane_ctx_t *ctx) -> std::int32_t {
    woke = lane_ctx_wait(ctx, 5 * kSec);  // far beyond the 50 ms timeout
    cause = lane_ctx_cause(ctx);          // tells a cancel from the wait's own timeout
    return 0;
  });
  lane_job_t j = fx.job_for(p);
  lane_outcome_t out = blank_outcome();
  CHECK(lane_submit_wait(fx.lane, &j, 50 * kMs, &out) == LANE_ERR_TIMEOUT);
  CHECK(woke == LANE_ERR_TIMEOUT);
  CHECK(cause == LANE_ERR_TIMEOUT);
  CHECK(out.status == LANE_ERR_TIMEOUT);
  CHECK(p.run_thread == std::this_thread::get_id());
  REQUIRE(fx.rec.wait_outcome("slow"));
  CHECK(fx.rec.outcome("slow").status == LANE_ERR_TIMEOUT);
  CHECK(stats_of(fx.lane).timed_out == 1);
}

TEST_CASE("submit_wait that times out while its job runs on a worker cancels it and waits for it") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("hold", g));
  REQUIRE(fx.rec.wait_started("hold"));
  std::atomic<int> woke{-100};
  std::atomic<int> cause{-100};
  std::atomic<bool> returned{false};
  Probe &p = fx.probe("slow", [&](lane_ctx_t *ctx) -> std::int32_t {
    woke = lane_ctx_wait(ctx, 20 * kSec);
    cause = lane_ctx_cause(ctx);
    std::this_thread::sleep_for(10ms);
    returned = true;
    return 0;
  });
  std::atomic<int> result{1};
  std::thread t([&] {
    lane_job_t j = fx.job_for(p);
    result = lane_submit_wait(fx.lane, &j, 2 * kSec, nullptr);
  });
  REQUIRE(wait_stats(fx.lane, [](const lane_stats_t &s) { return s.queued == 1; }));
  g.open();
  t.join();
  CHECK(result == LANE_ERR_TIMEOUT);
  if (p.runs == 1) {  // dispatched before the timeout (the usual case)
    CHECK(woke == LANE_ERR_TIMEOUT);
    CHECK(cause == LANE_ERR_TIMEOUT);
    CHECK(returned);  // waited for
  }
  REQUIRE(fx.rec.wait_outcome("slow"));
  CHECK(fx.rec.outcome("slow").status == LANE_ERR_TIMEOUT);
}

TEST_CASE("submit_wait from inside a job of the same full lane fails fast with LANE_ERR_DEADLOCK") {
  LaneFixture fx(1, "sw-deadlock");
  Probe &inner = fx.probe("inner");
  std::atomic<int> inner_status{1};
  std::atomic<bool> inner_message{false};
  Probe &outer = fx.probe("outer", [&](lane_ctx_t *ctx) -> std::int32_t {
    lane_job_t j = fx.job_for(inner);
    inner_status = lane_submit_wait(lane_ctx_lane(ctx), &j, -1, nullptr);
    inner_message = has_message();
    return 0;
  });
  fx.submit_ok(outer);
  REQUIRE(fx.rec.wait_outcome("outer"));
  CHECK(inner_status == LANE_ERR_DEADLOCK);
  CHECK(inner_message);
  CHECK(fx.rec.outcome("outer").status == LANE_OK);
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  CHECK(inner.runs == 0);
  CHECK(inner.dones == 0);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.submitted == 1);
  CHECK(s.refused == 1);
  check_invariant(s);
}

TEST_CASE("submit_wait from inside a job with a finite timeout still fails fast with LANE_ERR_DEADLOCK") {
  LaneFixture fx(1);
  Probe &inner = fx.probe("inner");
  std::atomic<int> inner_status{1};
  Probe &outer = fx.probe("outer", [&](lane_ctx_t *) -> std::int32_t {
    lane_job_t j = fx.job_for(inner);
    inner_status = lane_submit_wait(fx.lane, &j, 60 * kSec, nullptr);
    return 0;
  });
  fx.submit_ok(outer);
  REQUIRE(fx.rec.wait_outcome("outer"));  // 10 s deadline << the 60 s timeout
  CHECK(inner_status == LANE_ERR_DEADLOCK);
  CHECK(inner.runs == 0);
}

TEST_CASE("submit_wait from inside a job of a lane with a free slot runs the inner job inline") {
  LaneFixture fx(2);
  Probe &inner = fx.probe("inner");
  std::atomic<int> inner_status{1};
  std::thread::id outer_thread;
  Probe &outer = fx.probe("outer", [&](lane_ctx_t *) -> std::int32_t {
    outer_thread = std::this_thread::get_id();
    lane_job_t j = fx.job_for(inner);
    inner_status = lane_submit_wait(fx.lane, &j, -1, nullptr);
    return 0;
  });
  fx.submit_ok(outer);
  REQUIRE(fx.rec.wait_outcomes(2));
  CHECK(inner_status == LANE_OK);
  CHECK(inner.runs == 1);
  CHECK(inner.run_thread == outer_thread);
}

TEST_CASE("submit_wait from inside a job onto another full lane is not a deadlock: it times out") {
  LaneFixture a(1, "sw-a");
  LaneFixture b(1, "sw-b");
  Gate &g = b.gate();
  b.submit_ok(b.blocker("hold", g));
  REQUIRE(b.rec.wait_started("hold"));
  Probe &inner = b.probe("inner");
  std::atomic<int> inner_status{1};
  Probe &outer = a.probe("outer", [&](lane_ctx_t *) -> std::int32_t {
    lane_job_t j = b.job_for(inner);
    inner_status = lane_submit_wait(b.lane, &j, 30 * kMs, nullptr);
    return 0;
  });
  a.submit_ok(outer);
  REQUIRE(a.rec.wait_outcome("outer"));
  CHECK(inner_status == LANE_ERR_TIMEOUT);
  REQUIRE(b.rec.wait_outcome("inner"));
  CHECK(b.rec.outcome("inner").status == LANE_ERR_TIMEOUT);
}

TEST_CASE("submit_wait on a closed lane is refused with LANE_ERR_CLOSED and no outcome") {
  LaneFixture fx;
  REQUIRE(lane_close(fx.lane, LANE_CLOSE_DRAIN) == LANE_OK);
  Probe &p = fx.probe("late");
  lane_job_t j = fx.job_for(p);
  CHECK(lane_submit_wait(fx.lane, &j, -1, nullptr) == LANE_ERR_CLOSED);
  CHECK(has_message());
  CHECK(p.runs == 0);
  CHECK(p.dones == 0);
}

// Durations and clocks at the ends of int64: every deadline saturates, so
// INT64_MAX means "practically never" and a clock below zero is just a time.
// These ran into signed overflow before (UBSan stops the sanitizer build on
// any such report, so these cases also prove there is none left).
#include "capi_fixture.hpp"

using namespace capi_test;

TEST_CASE("lane_submit_wait with INT64_MAX waits for the job instead of timing out") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  Probe &p = fx.blocker("long", g);
  std::thread opener([&] {
    std::this_thread::sleep_for(100ms);
    g.open();
  });
  lane_job_t j = fx.job_for(p);
  CHECK(lane_submit_wait(fx.lane, &j, INT64_MAX, nullptr) == LANE_OK);
  opener.join();
}

TEST_CASE("a queued job with queue_timeout_ns = INT64_MAX does not time out") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("hold", g));
  REQUIRE(fx.rec.wait_started("hold"));
  Probe &q = fx.probe("waits");
  lane_job_t j = fx.job_for(q);
  j.queue_timeout_ns = INT64_MAX;
  REQUIRE(lane_submit(fx.lane, &j, nullptr) == LANE_OK);
  std::this_thread::sleep_for(50ms);
  CHECK(fx.rec.outcome_count("waits") == 0);  // still queued, not timed out
  g.open();
  REQUIRE(fx.rec.wait_outcomes(2));
  CHECK(fx.rec.outcome("waits").status == LANE_OK);
}

TEST_CASE("lane_wait_idle, lane_port_poll and lane_ctx_wait with INT64_MAX wait rather than return at once") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("busy", g));
  std::thread opener([&] {
    std::this_thread::sleep_for(100ms);
    g.open();
  });
  CHECK(lane_wait_idle(fx.lane, INT64_MAX) == LANE_OK);
  CHECK(fx.rec.outcome_count("busy") == 1);
  opener.join();

  PortFixture port;
  std::thread submitter([&] {
    std::this_thread::sleep_for(100ms);
    lane_job_t hj = host_job("h", port.port);
    CHECK(lane_submit(fx.lane, &hj, nullptr) == LANE_OK);
  });
  lane_event_t ev[1] = {};
  ev[0].struct_size = sizeof ev[0];
  CHECK(lane_port_poll(port.port, ev, 1, INT64_MAX) == 1);
  CHECK(ev[0].kind == LANE_EVENT_GRANT);
  submitter.join();
  REQUIRE(lane_cancel_token(fx.lane, ev[0].job_token, LANE_CANCEL_RUNNING) == LANE_OK);
  CHECK(lane_ctx_wait(ev[0].ctx, INT64_MAX) == LANE_ERR_CANCELLED);  // already cancelled: returns the cause
  CHECK(lane_job_finish(fx.lane, ev[0].job_token, 0) == LANE_OK);
}

TEST_CASE("a cooldown of INT64_MAX and a cooldown of 0 after it") {
  LaneFixture fx(1);
  REQUIRE(lane_cooldown(fx.lane, INT64_MAX) == LANE_OK);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.cooldown_until_ns == INT64_MAX);
  REQUIRE(lane_cooldown(fx.lane, 0) == LANE_OK);
  CHECK(stats_of(fx.lane).cooldown_until_ns == 0);
  Probe &p = fx.probe("runs");
  fx.submit_ok(p);
  REQUIRE(fx.rec.wait_outcomes(1));
}

namespace {
std::int64_t negative_clock(void *ud) { return static_cast<std::atomic<std::int64_t> *>(ud)->load(); }
}  // namespace

TEST_CASE("a clock below zero: cooldown 0 ends the cooldown, timeouts and ETAs stay finite") {
  std::atomic<std::int64_t> now{-5 * kSec};
  lane_options_t o = LANE_OPTIONS_INIT;
  o.clock = negative_clock;
  o.clock_ud = &now;
  lane_t *lane = nullptr;
  REQUIRE(lane_create("negative", &o, &lane) == LANE_OK);
  REQUIRE(lane_cooldown(lane, 0) == LANE_OK);
  lane_stats_t s{};
  s.struct_size = sizeof s;
  REQUIRE(lane_stats(lane, &s) == LANE_OK);
  CHECK(s.cooldown_until_ns == 0);
  REQUIRE(lane_cooldown(lane, INT64_MAX) == LANE_OK);  // no overflow: -5 s + INT64_MAX
  REQUIRE(lane_stats(lane, &s) == LANE_OK);
  CHECK(s.cooldown_until_ns == INT64_MAX - 5 * kSec);
  REQUIRE(lane_cooldown(lane, 0) == LANE_OK);
  lane_job_t j = LANE_JOB_INIT;
  j.id = "j";
  j.run = [](lane_ctx_t *, void *) -> int32_t { return 0; };
  j.queue_timeout_ns = INT64_MAX;
  lane_outcome_t out{};
  out.struct_size = sizeof out;
  CHECK(lane_submit_wait(lane, &j, INT64_MAX, &out) == LANE_OK);
  CHECK(out.status == LANE_OK);
  CHECK(lane_destroy(lane) == LANE_OK);
}

// No host callback runs under a library lock: run and on_done may call back
// into the library (submit, cancel, stats, resize) without deadlock.
#include "capi_fixture.hpp"

using namespace capi_test;

TEST_CASE("run may submit, cancel and read stats on its own lane") {
  LaneFixture fx(1);
  std::atomic<int> inner_submit{1}, inner_cancel{1}, inner_stats{1};
  Probe &child = fx.probe("child");
  Probe &victim = fx.probe("victim");
  Probe &parent = fx.probe("parent", [&](lane_ctx_t *ctx) -> std::int32_t {
    lane_t *lane = lane_ctx_lane(ctx);
    lane_job_t jv = fx.job_for(victim);
    lane_submit(lane, &jv, nullptr);
    lane_job_t jc = fx.job_for(child);
    inner_submit = lane_submit(lane, &jc, nullptr);
    inner_cancel = lane_cancel(lane, "victim", 0);
    lane_stats_t s{};
    s.struct_size = sizeof s;
    inner_stats = lane_stats(lane, &s);
    return 0;
  });
  fx.submit_ok(parent);
  REQUIRE(fx.rec.wait_outcomes(3));
  CHECK(inner_submit == LANE_OK);
  CHECK(inner_cancel == LANE_OK);
  CHECK(inner_stats == LANE_OK);
  CHECK(fx.rec.outcome("parent").status == LANE_OK);
  CHECK(fx.rec.outcome("child").status == LANE_OK);
  CHECK(fx.rec.outcome("victim").status == LANE_ERR_CANCELLED);
}

TEST_CASE("on_done may submit the next job of a chain") {
  LaneFixture fx(1);
  constexpr int kChain = 8;
  std::vector<Probe *> ps;
  for (int i = 0; i < kChain; ++i) ps.push_back(&fx.probe("link" + std::to_string(i)));
  for (int i = 0; i + 1 < kChain; ++i) {
    Probe *next = ps[static_cast<std::size_t>(i + 1)];
    ps[static_cast<std::size_t>(i)]->on_done_extra = [&fx, next](const lane_outcome_t *) {
      lane_job_t j = fx.job_for(*next);
      CHECK(lane_submit(fx.lane, &j, nullptr) == LANE_OK);
      lane_stats_t s{};
      s.struct_size = sizeof s;
      CHECK(lane_stats(fx.lane, &s) == LANE_OK);
    };
  }
  fx.submit_ok(*ps[0]);
  REQUIRE(fx.rec.wait_outcomes(kChain));
  for (Probe *p : ps) CHECK(fx.rec.outcome(p->id).status == LANE_OK);
}

TEST_CASE("on_done of a job cancelled in the queue may cancel another queued job") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("hold", g));
  REQUIRE(fx.rec.wait_started("hold"));
  Probe &first = fx.probe("first");
  Probe &second = fx.probe("second");
  std::atomic<int> inner{1};
  first.on_done_extra = [&](const lane_outcome_t *) { inner = lane_cancel(fx.lane, "second", 0); };
  fx.submit_ok(first);
  fx.submit_ok(second);
  REQUIRE(lane_cancel(fx.lane, "first", 0) == LANE_OK);
  REQUIRE(fx.rec.wait_outcome("first"));  // recorded after on_done's body returned
  REQUIRE(fx.rec.wait_outcome("second"));
  CHECK(inner == LANE_OK);
  CHECK(fx.rec.outcome("second").status == LANE_ERR_CANCELLED);
  g.open();
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  CHECK(second.runs == 0);
}

TEST_CASE("run may raise its own lane's max_concurrent and see the backlog start") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  Probe &q = fx.probe("queued");
  std::atomic<bool> saw_queued_start{false};
  Probe &r = fx.probe("raiser", [&](lane_ctx_t *ctx) -> std::int32_t {
    lane_job_t j = fx.job_for(q);
    lane_submit(lane_ctx_lane(ctx), &j, nullptr);
    lane_set_max_concurrent(lane_ctx_lane(ctx), 2);
    saw_queued_start = fx.rec.wait_started("queued");
    block(ctx, g);
    return 0;
  });
  fx.submit_ok(r);
  REQUIRE(fx.rec.wait_outcome("queued"));
  g.open();
  REQUIRE(fx.rec.wait_outcome("raiser"));
  CHECK(saw_queued_start);
}

TEST_CASE("on_done may read the stats of the lane it ran on and submit to another lane") {
  LaneFixture a(1, "reent-a");
  LaneFixture b(1, "reent-b");
  Probe &pb = b.probe("on-b");
  Probe &pa = a.probe("on-a");
  std::atomic<int> submitted{1};
  pa.on_done_extra = [&](const lane_outcome_t *o) {
    lane_stats_t s{};
    s.struct_size = sizeof s;
    CHECK(lane_stats(a.lane, &s) == LANE_OK);
    CHECK(std::string(o->lane) == "reent-a");
    lane_job_t j = b.job_for(pb);
    submitted = lane_submit(b.lane, &j, nullptr);
  };
  a.submit_ok(pa);
  REQUIRE(a.rec.wait_outcome("on-a"));  // recorded after on_done's body returned
  REQUIRE(b.rec.wait_outcome("on-b"));
  CHECK(submitted == LANE_OK);
  CHECK(b.rec.outcome("on-b").status == LANE_OK);
}

TEST_CASE("run may use submit_wait on another lane and both complete") {
  LaneFixture a(1, "nest-a");
  LaneFixture b(1, "nest-b");
  Probe &inner = b.probe("inner", [](lane_ctx_t *) { return 6; });
  std::atomic<int> got{1};
  Probe &outer = a.probe("outer", [&](lane_ctx_t *) -> std::int32_t {
    lane_job_t j = b.job_for(inner);
    lane_outcome_t o{};
    o.struct_size = sizeof o;
    got = lane_submit_wait(b.lane, &j, -1, &o);
    return o.job_code;
  });
  a.submit_ok(outer);
  REQUIRE(a.rec.wait_outcome("outer"));
  CHECK(got == LANE_ERR_JOB_FAILED);
  CHECK(a.rec.outcome("outer").job_code == 6);
}

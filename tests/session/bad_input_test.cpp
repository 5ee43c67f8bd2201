// Bad input to the session API: a clear status and message, never a crash,
// never a lost message.
#include <cmath>
#include <limits>

#include "session_fixture.hpp"

using namespace session_test;

TEST_CASE("lane_session_create refuses bad arguments with a message") {
  LaneFixture lf;
  lane_session_t *s = reinterpret_cast<lane_session_t *>(0x1);
  CHECK(lane_session_create(nullptr, "k", nullptr, &s) == LANE_ERR_INVALID);
  CHECK(s == nullptr);
  CHECK(has_message());
  CHECK(lane_session_create(lf.lane, "k", nullptr, nullptr) == LANE_ERR_INVALID);
  CHECK(lane_session_create(lf.lane, nullptr, nullptr, &s) == LANE_ERR_INVALID);
  CHECK(lane_session_create(lf.lane, "", nullptr, &s) == LANE_ERR_INVALID);
  CHECK(lane_session_create(lf.lane, std::string(257, 'k').c_str(), nullptr, &s) == LANE_ERR_INVALID);
  CHECK(std::string(lane_last_error()).find("256") != std::string::npos);

  lane_session_options_t o = LANE_SESSION_OPTIONS_INIT;
  o.struct_size = 8;
  CHECK(lane_session_create(lf.lane, "k", &o, &s) == LANE_ERR_INVALID);
  CHECK(std::string(lane_last_error()).find("struct_size") != std::string::npos);

  o = LANE_SESSION_OPTIONS_INIT;
  int bad_mode = 5;
  std::memcpy(&o.mode, &bad_mode, sizeof bad_mode);
  CHECK(lane_session_create(lf.lane, "k", &o, &s) == LANE_ERR_INVALID);
  CHECK(std::string(lane_last_error()).find("mode") != std::string::npos);

  o = LANE_SESSION_OPTIONS_INIT;
  int bad_drop = -1;
  std::memcpy(&o.drop, &bad_drop, sizeof bad_drop);
  CHECK(lane_session_create(lf.lane, "k", &o, &s) == LANE_ERR_INVALID);

  for (const double r : {std::nan(""), -0.5, 1.5, std::numeric_limits<double>::infinity()}) {
    o = LANE_SESSION_OPTIONS_INIT;
    o.throttle_ratio = r;
    CHECK(lane_session_create(lf.lane, "k", &o, &s) == LANE_ERR_INVALID);
    CHECK(std::string(lane_last_error()).find("throttle_ratio") != std::string::npos);
  }
  CHECK(s == nullptr);

  REQUIRE(lane_close(lf.lane, LANE_CLOSE_DRAIN) == LANE_OK);
  CHECK(lane_session_create(lf.lane, "k", nullptr, &s) == LANE_ERR_CLOSED);
}

TEST_CASE("lane_session_enqueue refuses bad messages and keeps no outcome for them") {
  Sess s(opts(LANE_SESSION_QUEUE));
  CHECK(lane_session_enqueue(nullptr, nullptr) == LANE_ERR_INVALID);
  CHECK(lane_session_enqueue(s.session, nullptr) == LANE_ERR_INVALID);
  lane_job_t j = make_job("");
  j.run = probe_run;
  CHECK(lane_session_enqueue(s.session, &j) == LANE_ERR_INVALID);
  CHECK(std::string(lane_last_error()).find("id") != std::string::npos);
  j = make_job("no-run-no-port");
  CHECK(lane_session_enqueue(s.session, &j) == LANE_ERR_INVALID);
  CHECK(std::string(lane_last_error()).find("port") != std::string::npos);
  Probe &p = s.msg("flags");
  j = s.job(p, 1u << 9);
  CHECK(lane_session_enqueue(s.session, &j) == LANE_ERR_INVALID);

  Gate &g = s.gate();
  s.enqueue_ok(s.msg("dup", &g));
  Probe &again = s.msg("dup");
  CHECK(s.enqueue(again) == LANE_ERR_DUPLICATE);
  CHECK(std::string(lane_last_error()).find("dup") != std::string::npos);
  g.open();
  REQUIRE(s.rec().wait_outcomes(1));
  CHECK(s.rec().outcome_count("dup") == 1);
  CHECK(again.dones == 0);
  CHECK(p.dones == 0);
}

TEST_CASE("NULL and dead handles: statuses, zeros and NULLs, never a crash") {
  CHECK(lane_session_cancel_one(nullptr) == 0);
  CHECK(lane_session_cancel_all(nullptr) == 0);
  CHECK(lane_session_reset(nullptr) == LANE_ERR_INVALID);
  CHECK(lane_session_active(nullptr) == 0);
  CHECK(lane_session_queued(nullptr) == 0);
  CHECK(lane_session_set_max_concurrent(nullptr, 2) == LANE_ERR_INVALID);
  CHECK(lane_session_key(nullptr) == nullptr);
  CHECK(has_message());
  lane_session_destroy(nullptr);
  CHECK(lane_ctx_batch_count(nullptr) == 0);
  CHECK(lane_ctx_batch_item(nullptr, 0, nullptr, nullptr) == LANE_ERR_INVALID);
  CHECK(lane_ctx_next_message(nullptr, nullptr, nullptr) == 0);
  CHECK(lane_ctx_dropped_count(nullptr) == 0);
  CHECK(lane_ctx_dropped_id(nullptr, 0) == nullptr);

  Sess s(opts(LANE_SESSION_QUEUE));
  CHECK(lane_session_set_max_concurrent(s.session, 0) == LANE_ERR_INVALID);
  CHECK(std::string(lane_last_error()).find("max_concurrent") != std::string::npos);
}

TEST_CASE("outside a session the context's batch is the job itself") {
  LaneFixture lf;
  std::string id;
  void *ud = nullptr;
  uint32_t count = 0, dropped = 0;
  lane_status_t out_of_range = LANE_OK;
  int next = -1;
  Probe &p = lf.probe("plain", [&](lane_ctx_t *ctx) {
    count = lane_ctx_batch_count(ctx);
    const char *cid = nullptr;
    lane_ctx_batch_item(ctx, 0, &cid, &ud);
    id = cid ? cid : "";
    out_of_range = lane_ctx_batch_item(ctx, 1, nullptr, nullptr);
    next = lane_ctx_next_message(ctx, nullptr, nullptr);
    dropped = lane_ctx_dropped_count(ctx);
    return 0;
  });
  lf.submit_ok(p);
  REQUIRE(lf.rec.wait_outcome("plain"));
  CHECK(count == 1);
  CHECK(id == "plain");
  CHECK(ud == &p);
  CHECK(out_of_range == LANE_ERR_INVALID);
  CHECK(next == 0);
  CHECK(dropped == 0);
}

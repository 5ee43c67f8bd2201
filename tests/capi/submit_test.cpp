// lane_submit end to end: a free slot dispatches at once on a worker thread,
// a full lane queues with a position, an ETA and a token, and every accepted
// job gets exactly one outcome.
#include "capi_fixture.hpp"

using namespace capi_test;

TEST_CASE("a job submitted to a lane with a free slot is dispatched at once and runs on a worker thread") {
  LaneFixture fx(1, "submit-free");
  Probe &p = fx.probe("j1", [](lane_ctx_t *) { return 0; });
  lane_ticket_t t = fx.submit_ok(p);
  CHECK(t.position == 0);
  CHECK(t.eta_ns == 0);
  CHECK(t.job_token != 0);
  CHECK(t.blocked_by == LANE_BLOCKED_NONE);

  REQUIRE(fx.rec.wait_outcome("j1"));
  Outcome o = fx.rec.outcome("j1");
  CHECK(o.status == LANE_OK);
  CHECK(o.job_code == 0);
  CHECK(o.job_id == "j1");
  CHECK(o.lane == "submit-free");
  CHECK(o.job_token == t.job_token);
  CHECK(o.enqueued_at_ns > 0);
  CHECK(o.started_at_ns >= o.enqueued_at_ns);
  CHECK(o.finished_at_ns >= o.started_at_ns);
  CHECK(p.runs == 1);
  CHECK(p.run_thread != std::this_thread::get_id());
  CHECK(p.ctx_job_id == "j1");
  CHECK(p.ctx_user_data == &p);
  CHECK(p.ctx_lane == fx.lane);
}

TEST_CASE("on_done is called exactly once, after run, with the job's user data") {
  LaneFixture fx(2);
  std::vector<Probe *> ps;
  for (int i = 0; i < 20; ++i) ps.push_back(&fx.probe("j" + std::to_string(i)));
  for (Probe *p : ps) fx.submit_ok(*p);
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  for (Probe *p : ps) {
    CHECK(p->runs == 1);
    CHECK(p->dones == 1);
    CHECK(fx.rec.outcome_count(p->id) == 1);
    CHECK(fx.rec.outcome(p->id).status == LANE_OK);
  }
  // Nothing more arrives later.
  std::this_thread::sleep_for(20ms);
  CHECK(fx.rec.total_outcomes() == 20);
}

TEST_CASE("a job whose run returns non-zero ends LANE_ERR_JOB_FAILED with that job_code") {
  LaneFixture fx;
  Probe &p = fx.probe("fails", [](lane_ctx_t *) { return 42; });
  fx.submit_ok(p);
  REQUIRE(fx.rec.wait_outcome("fails"));
  Outcome o = fx.rec.outcome("fails");
  CHECK(o.status == LANE_ERR_JOB_FAILED);
  CHECK(o.job_code == 42);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.failed == 1);
  CHECK(s.completed == 0);
}

TEST_CASE("a job with a negative job_code also ends LANE_ERR_JOB_FAILED and keeps the code") {
  LaneFixture fx;
  Probe &p = fx.probe("neg", [](lane_ctx_t *) { return -3; });
  fx.submit_ok(p);
  REQUIRE(fx.rec.wait_outcome("neg"));
  Outcome o = fx.rec.outcome("neg");
  CHECK(o.status == LANE_ERR_JOB_FAILED);
  CHECK(o.job_code == -3);
}

TEST_CASE("a full lane queues the next jobs with positions, an ETA and a token") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  Probe &a = fx.blocker("a", g);
  Probe &b = fx.probe("b");
  Probe &c = fx.probe("c");
  lane_ticket_t ta = fx.submit_ok(a);
  REQUIRE(fx.rec.wait_started("a"));
  lane_ticket_t tb = fx.submit_ok(b);
  lane_ticket_t tc = fx.submit_ok(c);
  CHECK(ta.position == 0);
  CHECK(tb.position == 1);
  CHECK(tc.position == 2);
  CHECK(tb.eta_ns > 0);
  CHECK(tc.eta_ns > tb.eta_ns);
  CHECK(tb.blocked_by == LANE_BLOCKED_FULL);
  CHECK(tc.blocked_by == LANE_BLOCKED_FULL);
  CHECK(tb.job_token != 0);
  CHECK(tc.job_token != 0);
  CHECK(tb.job_token != ta.job_token);
  CHECK(tc.job_token != tb.job_token);

  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.running == 1);
  CHECK(s.queued == 2);
  CHECK(s.oldest_queued_at_ns > 0);
  CHECK(s.blocked_by == LANE_BLOCKED_FULL);
  CHECK(b.runs == 0);

  g.open();
  REQUIRE(fx.rec.wait_outcomes(3));
  CHECK(fx.rec.outcome("a").status == LANE_OK);
  CHECK(fx.rec.outcome("b").status == LANE_OK);
  CHECK(fx.rec.outcome("c").status == LANE_OK);
  CHECK(fx.rec.outcome("b").job_token == tb.job_token);
  // FIFO: b started before c.
  CHECK(fx.rec.outcome("b").started_at_ns <= fx.rec.outcome("c").started_at_ns);
}

TEST_CASE("a FIFO lane of one runs queued jobs one at a time in arrival order") {
  LaneFixture fx(1);
  std::mutex m;
  std::vector<std::string> order;
  Gate &g = fx.gate();
  Probe &first = fx.blocker("first", g);
  fx.submit_ok(first);
  REQUIRE(fx.rec.wait_started("first"));
  for (int i = 0; i < 5; ++i) {
    std::string id = "q" + std::to_string(i);
    Probe &p = fx.probe(id, [&m, &order, id](lane_ctx_t *) {
      std::lock_guard lk(m);
      order.push_back(id);
      return 0;
    });
    fx.submit_ok(p);
  }
  g.open();
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  CHECK(fx.rec.max_running() == 1);
  std::lock_guard lk(m);
  CHECK(order == std::vector<std::string>{"q0", "q1", "q2", "q3", "q4"});
}

TEST_CASE("a lane of three runs three jobs at the same time") {
  LaneFixture fx(3);
  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("x", g));
  fx.submit_ok(fx.blocker("y", g));
  lane_ticket_t tz = fx.submit_ok(fx.blocker("z", g));
  CHECK(tz.position == 0);
  REQUIRE(fx.rec.wait_started("x"));
  REQUIRE(fx.rec.wait_started("y"));
  REQUIRE(fx.rec.wait_started("z"));
  CHECK(stats_of(fx.lane).running == 3);
  g.open();
  REQUIRE(fx.rec.wait_outcomes(3));
}

TEST_CASE("an id can be reused once its job has ended") {
  LaneFixture fx;
  Probe &p1 = fx.probe("same");
  fx.submit_ok(p1);
  REQUIRE(fx.rec.wait_outcome("same"));
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  Probe &p2 = fx.probe("same");
  fx.submit_ok(p2);
  REQUIRE(fx.rec.wait_until([&] { return p2.dones.load() == 1; }));
  CHECK(p1.dones == 1);
  CHECK(p2.runs == 1);
}

TEST_CASE("a job without on_done runs and ends without a callback") {
  LaneFixture fx;
  std::atomic<int> ran{0};
  lane_job_t j = make_job("silent");
  j.run = [](lane_ctx_t *, void *ud) -> std::int32_t {
    ++*static_cast<std::atomic<int> *>(ud);
    return 0;
  };
  j.user_data = &ran;
  REQUIRE(lane_submit(fx.lane, &j, nullptr) == LANE_OK);
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  CHECK(ran == 1);
  CHECK(stats_of(fx.lane).completed == 1);
}

TEST_CASE("the job's strings are copied at submit") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("hold", g));
  REQUIRE(fx.rec.wait_started("hold"));
  Probe &p = fx.probe("copied-id");
  {
    std::string id = "copied-id";
    std::string tenant = "tenant-x";
    lane_job_t j = fx.job_for(p);
    j.id = id.c_str();
    j.tenant = tenant.c_str();
    REQUIRE(lane_submit(fx.lane, &j, nullptr) == LANE_OK);
    id.assign(id.size(), 'X');
    tenant.assign(tenant.size(), 'Y');
  }
  g.open();
  REQUIRE(fx.rec.wait_outcome("copied-id"));
  CHECK(fx.rec.outcome("copied-id").status == LANE_OK);
  CHECK(p.ctx_job_id == "copied-id");
}

TEST_CASE("lane_name returns the lane's name and the stats carry it too") {
  LaneFixture fx(1, "named-lane");
  REQUIRE(lane_name(fx.lane) != nullptr);
  CHECK(std::string(lane_name(fx.lane)) == "named-lane");
  lane_stats_t s = stats_of(fx.lane);
  REQUIRE(s.name != nullptr);
  CHECK(std::string(s.name) == "named-lane");
}

TEST_CASE("version functions agree with the header") {
  CHECK(lane_abi_version() == LANE_ABI_VERSION);
  REQUIRE(lane_version_string() != nullptr);
  CHECK(std::string(lane_version_string()) == LANE_VERSION_STRING);
}

// The pool keeps few threads for short jobs, but a job must never wait for a
// thread while other jobs block: these jobs each wait until all of them run.
TEST_CASE("jobs that block until every one of them runs all get a thread, far beyond the CPU count") {
  constexpr int kJobs = 24;
  LaneFixture fx(kJobs, "blocking");
  std::atomic<int> started{0};
  std::atomic<int> saw_all{0};
  std::vector<Probe *> ps;
  for (int i = 0; i < kJobs; ++i) {
    ps.push_back(&fx.probe("b" + std::to_string(i), [&](lane_ctx_t *) {
      started.fetch_add(1);
      const auto until = std::chrono::steady_clock::now() + kDeadline;
      while (started.load() < kJobs && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(1ms);
      if (started.load() == kJobs) saw_all.fetch_add(1);
      return 0;
    }));
  }
  for (Probe *p : ps) fx.submit_ok(*p);
  REQUIRE(lane_wait_idle(fx.lane, 30 * kSec) == LANE_OK);
  CHECK(saw_all.load() == kJobs);
}

TEST_CASE("a job of one lane is not stranded behind blocked jobs of another lane") {
  LaneFixture blocked(4, "blocked");
  LaneFixture other(1, "other");
  Gate gate;
  std::vector<Probe *> ps;
  for (int i = 0; i < 4; ++i) {
    ps.push_back(&blocked.probe("w" + std::to_string(i), [&](lane_ctx_t *) {
      gate.wait();
      return 0;
    }));
  }
  for (Probe *p : ps) blocked.submit_ok(*p);
  for (int i = 0; i < 4; ++i) REQUIRE(blocked.rec.wait_started("w" + std::to_string(i)));
  Probe &quick = other.probe("quick", [&](lane_ctx_t *) {
    gate.open();
    return 0;
  });
  other.submit_ok(quick);
  CHECK(other.rec.wait_outcome("quick"));
  gate.open();
  REQUIRE(lane_wait_idle(blocked.lane, 30 * kSec) == LANE_OK);
}

// Session modes: QUEUE, FOLLOWUP, COLLECT, INTERRUPT, STEER; the session key
// as fair-share tenant; per-session max_concurrent.
#include "session_fixture.hpp"

using namespace session_test;

TEST_CASE("QUEUE runs FIFO up to the session's max_concurrent") {
  Sess s(opts(LANE_SESSION_QUEUE, 2));
  Gate &g = s.gate();
  for (const char *id : {"m1", "m2", "m3", "m4"}) s.enqueue_ok(s.msg(id, &g));
  REQUIRE(s.wait_runs(2));  // m1 and m2 both inside their bodies before m3 can start
  CHECK(lane_session_active(s.session) == 2);
  CHECK(lane_session_queued(s.session) == 2);
  CHECK(s.rec().starts("m3") == 0);
  g.open();
  REQUIRE(s.rec().wait_outcomes(4));
  // Two slots: m1 and m2 start together (either may record first), then m3, m4.
  std::vector<std::string> order = s.run_order();
  REQUIRE(order.size() == 4);
  std::sort(order.begin(), order.begin() + 2);
  std::sort(order.begin() + 2, order.end());
  CHECK(order == std::vector<std::string>{"m1", "m2", "m3", "m4"});
  CHECK(s.rec().max_running() == 2);
  for (const char *id : {"m1", "m2", "m3", "m4"}) CHECK(s.status(id) == LANE_OK);
  CHECK(lane_session_active(s.session) == 0);
  CHECK(lane_session_queued(s.session) == 0);
}

TEST_CASE("a run that fails gives its message JOB_FAILED with the code") {
  Sess s(opts(LANE_SESSION_QUEUE));
  s.enqueue_ok(s.msg("bad", nullptr, 7));
  REQUIRE(s.rec().wait_outcome("bad"));
  const Outcome o = s.rec().outcome("bad");
  CHECK(o.status == LANE_ERR_JOB_FAILED);
  CHECK(o.job_code == 7);
  CHECK(o.job_id == "bad");
  CHECK(o.lane == "sess");
  CHECK(o.started_at_ns > 0);
  CHECK(o.finished_at_ns >= o.started_at_ns);
}

TEST_CASE("FOLLOWUP runs one after another whatever max_concurrent says") {
  Sess s(opts(LANE_SESSION_FOLLOWUP, 3));
  Gate &g = s.gate();
  for (const char *id : {"f1", "f2", "f3"}) s.enqueue_ok(s.msg(id, &g));
  REQUIRE(s.rec().wait_started("f1"));
  CHECK(lane_session_active(s.session) == 1);
  CHECK(lane_session_queued(s.session) == 2);
  g.open();
  REQUIRE(s.rec().wait_outcomes(3));
  CHECK(s.rec().max_running() == 1);
  CHECK(s.run_order() == std::vector<std::string>{"f1", "f2", "f3"});
}

TEST_CASE("COLLECT merges everything queued into one run; every item gets its outcome") {
  Sess s(opts(LANE_SESSION_COLLECT));
  Gate &g = s.gate();
  s.enqueue_ok(s.msg("c1", &g));
  REQUIRE(s.wait_seen("c1"));
  CHECK(s.seen("c1").batch == std::vector<std::string>{"c1"});
  Probe &c2 = s.msg("c2", nullptr, 3);  // the batch runs c2's run: it fails with 3
  s.enqueue_ok(c2);
  s.enqueue_ok(s.msg("c3"));
  s.enqueue_ok(s.msg("c4"));
  CHECK(lane_session_queued(s.session) == 3);
  CHECK(lane_session_active(s.session) == 1);
  g.open();
  REQUIRE(s.rec().wait_outcomes(4));
  CHECK(s.run_order() == std::vector<std::string>{"c1", "c2"});  // two runs
  const Seen b = s.seen("c2");
  CHECK(b.batch == std::vector<std::string>{"c2", "c3", "c4"});
  REQUIRE(b.batch_ud.size() == 3);
  CHECK(b.batch_ud[0] == &c2);  // each item's own user_data
  CHECK(b.batch_ud[1] != b.batch_ud[2]);
  CHECK(s.rec().outcome("c1").status == LANE_OK);
  const Outcome o2 = s.rec().outcome("c2"), o3 = s.rec().outcome("c3"), o4 = s.rec().outcome("c4");
  for (const Outcome &o : {o2, o3, o4}) {
    CHECK(o.status == LANE_ERR_JOB_FAILED);
    CHECK(o.job_code == 3);
    CHECK(o.started_at_ns == o2.started_at_ns);
    CHECK(o.job_token == o2.job_token);
  }
  CHECK(o3.job_id == "c3");
  CHECK(o2.enqueued_at_ns <= o3.enqueued_at_ns);
  // The other items' run callbacks were never called: the batch ran once.
  CHECK(s.rec().starts("c3") == 0);
  CHECK(s.rec().starts("c4") == 0);
}

TEST_CASE("a COLLECT run costs its messages' estimates together and takes the most slots any asked for") {
  for (const bool limited : {false, true}) {
    CAPTURE(limited);
    Sess s(opts(LANE_SESSION_COLLECT), 4);
    // With a cost limit whose burst is 5, the merged 3 + 4 is capped at 5:
    // merging must not make a run the lane refuses (one grant carries 5).
    if (limited) REQUIRE(lane_set_rate_limit(s.lane(), LANE_RATE_COST, 1000, 1'000'000'000, 5) == LANE_OK);
    Gate &g = s.gate();
    s.enqueue_ok(s.msg("c1", &g));  // runs alone, no cost given: counts 1
    REQUIRE(s.wait_seen("c1"));
    std::atomic<std::uint32_t> slots_seen{0};
    Probe &c2 = s.probe("c2", [&](lane_ctx_t *) {
      slots_seen = stats_of(s.lane()).slots_in_use;
      return 0;
    });
    const struct {
      Probe *p;
      std::int64_t cost;
      std::uint32_t slots;
    } items[] = {{&c2, 3, 1}, {&s.probe("c3"), 4, 2}, {&s.probe("c4"), 0, 0}};
    for (const auto &it : items) {
      lane_job_t j = s.job(*it.p);
      j.cost = it.cost;
      j.slots = it.slots;
      REQUIRE(lane_session_enqueue(s.session, &j) == LANE_OK);
    }
    g.open();
    REQUIRE(s.rec().wait_outcomes(4));
    for (const char *id : {"c1", "c2", "c3", "c4"}) CHECK(s.status(id) == LANE_OK);
    CHECK(slots_seen.load() == 2);  // the merged run held c3's 2 slots
    CHECK(stats_of(s.lane()).completed == 2);  // two runs
    CHECK(stats_of(s.lane()).cost_used == 1 + (limited ? 5 : 7));
  }
}

TEST_CASE("INTERRUPT cancels the active run, ends the queued ones, and waits for the cancelled run") {
  Sess s(opts(LANE_SESSION_INTERRUPT));
  // i1 ignores its cancellation until `slow` opens: the new run must not
  // start before i1 has returned (the session never runs more than its cap).
  Gate &slow = s.gate();
  Probe &i1 = s.probe("i1");
  Probe *p1 = &i1;
  i1.body = [&slow, p1](lane_ctx_t *ctx) -> std::int32_t {
    slow.wait();
    p1->observe(ctx);
    return 0;
  };
  s.enqueue_ok(i1);
  REQUIRE(s.rec().wait_started("i1"));
  s.enqueue_ok(s.msg("i2"));
  REQUIRE(s.rec().wait_until([&] { return lane_session_queued(s.session) == 1; }));
  s.enqueue_ok(s.msg("i3"));
  REQUIRE(s.rec().wait_outcome("i2"));
  CHECK(s.status("i2") == LANE_ERR_CANCELLED);  // queued, superseded by i3
  CHECK(s.rec().starts("i3") == 0);
  CHECK(lane_session_active(s.session) == 1);
  slow.open();
  REQUIRE(s.rec().wait_outcomes(3));
  CHECK(i1.seen_cancelled == 1);
  CHECK(i1.seen_cause == LANE_ERR_CANCELLED);
  CHECK(s.status("i1") == LANE_ERR_CANCELLED);
  CHECK(s.status("i3") == LANE_OK);
  CHECK(s.rec().max_running() == 1);
  CHECK(s.run_order() == std::vector<std::string>{"i3"});  // msg() records; i1 is a probe
}

TEST_CASE("STEER delivers into a steerable active run's mailbox; otherwise it queues") {
  Sess s(opts(LANE_SESSION_STEER));
  Gate &g = s.gate();
  std::vector<std::string> steered;
  std::mutex mu;
  Probe &r1 = s.probe("r1");
  r1.body = [&](lane_ctx_t *ctx) -> std::int32_t {
    g.wait();
    const char *id = nullptr;
    void *ud = nullptr;
    while (lane_ctx_next_message(ctx, &id, &ud) == 1) {
      std::lock_guard lk(mu);
      steered.emplace_back(id);
      CHECK(ud != nullptr);
    }
    return 0;
  };
  s.enqueue_ok(r1, LANE_JOB_STEERABLE);
  REQUIRE(s.rec().wait_started("r1"));
  s.enqueue_ok(s.msg("s1"));
  s.enqueue_ok(s.msg("s2"));
  CHECK(lane_session_queued(s.session) == 0);  // in the mailbox, not the queue
  g.open();
  REQUIRE(s.rec().wait_outcomes(3));
  CHECK(steered == std::vector<std::string>{"s1", "s2"});
  // Taken messages get the run's outcome; their own run never runs.
  CHECK(s.status("s1") == LANE_OK);
  CHECK(s.rec().outcome("s1").job_token == s.rec().outcome("r1").job_token);
  CHECK(s.rec().starts("s1") == 0);
}

TEST_CASE("STEER: a run that did not opt in, or never reads its mailbox, leaves messages to the next run") {
  Sess s(opts(LANE_SESSION_STEER));
  Gate &g = s.gate();
  s.enqueue_ok(s.msg("plain", &g));  // not steerable
  REQUIRE(s.rec().wait_started("plain"));
  s.enqueue_ok(s.msg("q1"));
  CHECK(lane_session_queued(s.session) == 1);
  g.open();
  REQUIRE(s.rec().wait_outcomes(2));
  CHECK(s.status("q1") == LANE_OK);

  Gate &g2 = s.gate();
  s.enqueue_ok(s.msg("deaf", &g2), LANE_JOB_STEERABLE);  // steerable, never reads
  REQUIRE(s.rec().wait_started("deaf"));
  s.enqueue_ok(s.msg("later"));
  CHECK(lane_session_queued(s.session) == 0);
  g2.open();
  REQUIRE(s.rec().wait_outcome("later"));
  CHECK(s.status("later") == LANE_OK);
  CHECK(s.rec().starts("later") == 1);  // it ran as its own run
}

TEST_CASE("a session's runs use its key as fair-share tenant unless the message names one") {
  for (const bool shared : {false, true}) {
    CAPTURE(shared);
    Sess s(opts(LANE_SESSION_QUEUE, 3), 1, nullptr, LANE_POLICY_FAIR_SHARE);
    lane_session_t *b = s.add("chat-2", opts(LANE_SESSION_QUEUE, 3));
    // Hold the lane's only slot so every run queues in the lane first.
    Gate &hold = s.gate();
    Probe &h = s.probe("hold", [&](lane_ctx_t *ctx) { return block(ctx, hold) == LANE_OK ? 0 : 1; });
    lane_job_t hj = s.job(h);
    REQUIRE(lane_submit(s.lane(), &hj, nullptr) == LANE_OK);
    REQUIRE(s.rec().wait_started("hold"));
    for (const char *id : {"a1", "a2", "a3"}) {
      Probe &p = s.msg(id);
      lane_job_t j = s.job(p);
      if (shared) j.tenant = "everyone";
      REQUIRE(lane_session_enqueue(s.session, &j) == LANE_OK);
    }
    for (const char *id : {"b1", "b2", "b3"}) {
      Probe &p = s.msg(id);
      lane_job_t j = s.job(p);
      if (shared) j.tenant = "everyone";
      REQUIRE(lane_session_enqueue(b, &j) == LANE_OK);
    }
    REQUIRE(s.rec().wait_until([&] { return stats_of(s.lane()).queued == 6; }));
    hold.open();
    REQUIRE(s.rec().wait_outcomes(7));
    const std::vector<std::string> order = s.run_order();
    auto at = [&](const char *id) { return std::find(order.begin(), order.end(), id) - order.begin(); };
    std::string text;
    for (const auto &id : order) text += id + " ";
    CAPTURE(text);
    REQUIRE(order.size() == 6);
    if (shared) {
      // One tenant: FIFO within it, the sessions' runs in arrival order.
      CHECK(order == std::vector<std::string>{"a1", "a2", "a3", "b1", "b2", "b3"});
    } else {
      // Two tenants: once chat-1 has used slot-time, chat-2 (none yet) goes
      // next, so b1 overtakes a2 although a2 arrived first.
      CHECK(order.front() == "a1");
      CHECK(at("b1") < at("a2"));
      CHECK(at("a1") < at("a2"));
      CHECK(at("a2") < at("a3"));
      CHECK(at("b2") < at("b3"));
    }
  }
}

TEST_CASE("max_concurrent can change at run time; raising starts queued runs now") {
  Sess s(opts(LANE_SESSION_QUEUE, 1));
  Gate &g = s.gate();
  for (const char *id : {"x1", "x2", "x3"}) s.enqueue_ok(s.msg(id, &g));
  REQUIRE(s.rec().wait_started("x1"));
  CHECK(lane_session_active(s.session) == 1);
  REQUIRE(lane_session_set_max_concurrent(s.session, 3) == LANE_OK);
  REQUIRE(s.rec().wait_started("x3"));
  CHECK(lane_session_active(s.session) == 3);
  CHECK(lane_session_queued(s.session) == 0);
  g.open();
  REQUIRE(s.rec().wait_outcomes(3));
}

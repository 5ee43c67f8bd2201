// Session queues: drop policies, debounce, throttle, cancel_one, cancel_all,
// reset, a lane closed underneath, destroy, host-run messages.
#include "session_fixture.hpp"

using namespace session_test;

TEST_CASE("cap with DROP_OLD ends the oldest queued message DROPPED") {
  lane_session_options_t o = opts(LANE_SESSION_QUEUE);
  o.cap = 2;
  Sess s(o);
  Gate &g = s.gate();
  s.enqueue_ok(s.msg("run", &g));
  REQUIRE(s.rec().wait_started("run"));
  for (const char *id : {"q1", "q2", "q3"}) s.enqueue_ok(s.msg(id));
  REQUIRE(s.rec().wait_outcome("q1"));
  CHECK(s.status("q1") == LANE_ERR_DROPPED);
  CHECK(s.rec().outcome("q1").started_at_ns == 0);
  CHECK(lane_session_queued(s.session) == 2);
  g.open();
  REQUIRE(s.rec().wait_outcomes(4));
  CHECK(s.status("q2") == LANE_OK);
  CHECK(s.status("q3") == LANE_OK);
  CHECK(s.seen("q2").dropped.empty());  // only SUMMARIZE hands them on
}

TEST_CASE("cap with DROP_NEW refuses the new message; the caller keeps it") {
  lane_session_options_t o = opts(LANE_SESSION_QUEUE);
  o.cap = 1;
  o.drop = LANE_DROP_NEW;
  Sess s(o);
  Gate &g = s.gate();
  s.enqueue_ok(s.msg("run", &g));
  REQUIRE(s.rec().wait_started("run"));
  s.enqueue_ok(s.msg("q1"));
  Probe &extra = s.msg("q2");
  CHECK(s.enqueue(extra) == LANE_ERR_QUEUE_FULL);
  CHECK(has_message());
  g.open();
  REQUIRE(s.rec().wait_outcomes(2));
  REQUIRE(s.rec().wait_until([&] { return lane_session_active(s.session) == 0; }));
  CHECK(s.rec().outcome_count("q2") == 0);  // refused: no outcome
  CHECK(extra.dones == 0);
  // The same id is free again once the session has room.
  s.enqueue_ok(extra);
  REQUIRE(s.rec().wait_outcome("q2"));
  CHECK(s.status("q2") == LANE_OK);
}

TEST_CASE("cap with DROP_SUMMARIZE hands the dropped ids to the next run") {
  lane_session_options_t o = opts(LANE_SESSION_QUEUE);
  o.cap = 1;
  o.drop = LANE_DROP_SUMMARIZE;
  Sess s(o);
  Gate &g = s.gate();
  s.enqueue_ok(s.msg("run", &g));
  REQUIRE(s.rec().wait_started("run"));
  for (const char *id : {"d1", "d2", "d3"}) s.enqueue_ok(s.msg(id));
  REQUIRE(s.rec().wait_outcome("d2"));
  CHECK(s.status("d1") == LANE_ERR_DROPPED);
  CHECK(s.status("d2") == LANE_ERR_DROPPED);
  g.open();
  REQUIRE(s.rec().wait_outcome("d3"));
  CHECK(s.status("d3") == LANE_OK);
  CHECK(s.seen("d3").dropped == std::vector<std::string>{"d1", "d2"});
  // Handed over once: the next run starts with none.
  s.enqueue_ok(s.msg("d4"));
  REQUIRE(s.rec().wait_outcome("d4"));
  CHECK(s.seen("d4").dropped.empty());
}

TEST_CASE("debounce: runs wait until the session has been quiet (fake clock)") {
  FakeClock clock;
  lane_session_options_t o = opts(LANE_SESSION_COLLECT);
  o.debounce_ns = 100 * kMs;
  Sess s(o, 4, &clock);
  s.enqueue_ok(s.msg("m1"));
  clock.advance(60 * kMs);
  s.enqueue_ok(s.msg("m2"));
  clock.advance(60 * kMs);  // 60 ms since m2: still not quiet long enough
  s.enqueue_ok(s.msg("m3"));
  clock.advance(99 * kMs);
  // The library's timer looks at an injected clock every few ms; give it
  // many chances to start a run too early.
  std::this_thread::sleep_for(60ms);
  CHECK(s.rec().starts("m1") == 0);
  CHECK(lane_session_queued(s.session) == 3);
  clock.advance(1 * kMs);
  REQUIRE(s.rec().wait_outcomes(3));
  CHECK(s.seen("m1").batch == std::vector<std::string>{"m1", "m2", "m3"});
  for (const char *id : {"m1", "m2", "m3"}) CHECK(s.status(id) == LANE_OK);
}

TEST_CASE("debounce: 0 means the default 800 ms, negative turns it off") {
  FakeClock clock;
  SUBCASE("default") {
    lane_session_options_t o = opts(LANE_SESSION_QUEUE);
    o.debounce_ns = 0;
    Sess s(o, 4, &clock);
    s.enqueue_ok(s.msg("m"));
    clock.advance(799 * kMs);
    std::this_thread::sleep_for(40ms);
    CHECK(s.rec().starts("m") == 0);
    clock.advance(1 * kMs);
    REQUIRE(s.rec().wait_outcome("m"));
  }
  SUBCASE("off") {
    lane_session_options_t o = opts(LANE_SESSION_QUEUE);
    o.debounce_ns = -1;
    Sess s(o, 4, &clock);
    s.enqueue_ok(s.msg("m"));
    REQUIRE(s.rec().wait_outcome("m"));  // the fake clock never moved
  }
}

TEST_CASE("debounce: the timer is the library's; the enqueuing thread may be long gone") {
  FakeClock clock;
  lane_session_options_t o = opts(LANE_SESSION_QUEUE);
  o.debounce_ns = 50 * kMs;
  Sess s(o, 4, &clock);
  Probe &p = s.msg("from-thread");
  std::thread t([&] { s.enqueue_ok(p); });
  t.join();
  clock.advance(50 * kMs);
  REQUIRE(s.rec().wait_outcome("from-thread"));
  CHECK(s.status("from-thread") == LANE_OK);
}

TEST_CASE("debounce on the real clock starts the run by itself") {
  lane_session_options_t o = opts(LANE_SESSION_QUEUE);
  o.debounce_ns = 20 * kMs;
  Sess s(o);
  s.enqueue_ok(s.msg("real"));
  REQUIRE(s.rec().wait_outcome("real"));
  const Outcome out = s.rec().outcome("real");
  CHECK(out.started_at_ns - out.enqueued_at_ns >= 20 * kMs);
}

namespace {
struct Tokens {
  std::atomic<std::int64_t> used{0};
  std::atomic<std::int64_t> window{100};
  std::atomic<std::int32_t> rc{0};
  std::atomic<int> calls{0};
};
extern "C" std::int32_t tokens_fn(const char *key, std::int64_t *tokens, std::int64_t *window, void *ud) {
  auto *t = static_cast<Tokens *>(ud);
  ++t->calls;
  CHECK(std::string(key) == "chat-1");
  *tokens = t->used.load();
  *window = t->window.load();
  return t->rc.load();
}
}  // namespace

TEST_CASE("throttle: at or above throttle_ratio of the context window the session runs one at a time") {
  Tokens tk;
  lane_session_options_t o = opts(LANE_SESSION_QUEUE, 3);
  o.token_estimate = tokens_fn;
  o.token_ud = &tk;
  SUBCASE("below the ratio: max_concurrent holds") {
    tk.used = 59;
    Sess s(o);
    Gate &g = s.gate();
    for (const char *id : {"t1", "t2", "t3"}) s.enqueue_ok(s.msg(id, &g));
    REQUIRE(s.rec().wait_started("t3"));
    CHECK(lane_session_active(s.session) == 3);
    g.open();
    REQUIRE(s.rec().wait_outcomes(3));
    CHECK(tk.calls > 0);
  }
  SUBCASE("at the default ratio 0.6: one at a time") {
    tk.used = 60;
    Sess s(o);
    Gate &g = s.gate();
    for (const char *id : {"t1", "t2", "t3"}) s.enqueue_ok(s.msg(id, &g));
    REQUIRE(s.rec().wait_started("t1"));
    CHECK(lane_session_active(s.session) == 1);
    CHECK(lane_session_queued(s.session) == 2);
    g.open();
    REQUIRE(s.rec().wait_outcomes(3));
    CHECK(s.rec().max_running() == 1);
  }
  SUBCASE("a custom ratio, and an estimate that fails, does not throttle") {
    o.throttle_ratio = 0.9;
    tk.used = 80;
    Sess s(o);
    Gate &g = s.gate();
    for (const char *id : {"t1", "t2"}) s.enqueue_ok(s.msg(id, &g));
    REQUIRE(s.rec().wait_started("t2"));
    g.open();
    REQUIRE(s.rec().wait_outcomes(2));
    tk.used = 95;
    tk.rc = -1;  // unknown: no throttle
    Gate &g2 = s.gate();
    for (const char *id : {"t3", "t4"}) s.enqueue_ok(s.msg(id, &g2));
    REQUIRE(s.rec().wait_started("t4"));
    g2.open();
    REQUIRE(s.rec().wait_outcomes(4));
  }
}

TEST_CASE("cancel_one cancels the oldest active run") {
  Sess s(opts(LANE_SESSION_QUEUE, 2));
  Gate &g = s.gate();
  s.enqueue_ok(s.msg("old", &g));
  REQUIRE(s.rec().wait_started("old"));
  s.enqueue_ok(s.msg("new", &g));
  REQUIRE(s.rec().wait_started("new"));
  CHECK(lane_session_cancel_one(s.session) == 1);
  REQUIRE(s.rec().wait_outcome("old"));
  CHECK(s.status("old") == LANE_ERR_CANCELLED);
  CHECK(s.rec().outcome_count("new") == 0);
  CHECK(lane_session_cancel_one(s.session) == 1);
  REQUIRE(s.rec().wait_outcome("new"));
  CHECK(s.status("new") == LANE_ERR_CANCELLED);
  REQUIRE(s.rec().wait_until([&] { return lane_session_active(s.session) == 0; }));
  CHECK(lane_session_cancel_one(s.session) == 0);
}

TEST_CASE("cancel_all cancels active runs; what was enqueued before it and never started ends STALE") {
  // A lane of one slot held by an outside job: the session's second run
  // waits in the lane, its third message waits in the session.
  Sess s(opts(LANE_SESSION_QUEUE, 2), 2);
  Gate &hold = s.gate();
  Probe &h = s.probe("outside", [&](lane_ctx_t *ctx) { return block(ctx, hold) == LANE_OK ? 0 : 1; });
  lane_job_t hj = s.job(h);
  REQUIRE(lane_submit(s.lane(), &hj, nullptr) == LANE_OK);
  Gate &g = s.gate();
  s.enqueue_ok(s.msg("a1", &g));
  REQUIRE(s.rec().wait_started("a1"));
  s.enqueue_ok(s.msg("a2", &g));  // in the lane's queue: the lane is full
  s.enqueue_ok(s.msg("a3", &g));  // in the session's queue: the session is at 2
  REQUIRE(s.rec().wait_until([&] { return stats_of(s.lane()).queued == 1; }));
  CHECK(lane_session_queued(s.session) == 1);
  CHECK(lane_session_cancel_all(s.session) == 2);
  REQUIRE(s.rec().wait_outcomes(3));
  CHECK(s.status("a1") == LANE_ERR_CANCELLED);  // it was running
  CHECK(s.status("a2") == LANE_ERR_STALE);      // never started
  CHECK(s.status("a3") == LANE_ERR_STALE);
  CHECK(lane_session_queued(s.session) == 0);
  CHECK(lane_session_active(s.session) == 0);
  // Messages after the cutoff run normally.
  hold.open();
  s.enqueue_ok(s.msg("after"));
  REQUIRE(s.rec().wait_outcome("after"));
  CHECK(s.status("after") == LANE_OK);
}

TEST_CASE("reset: queued messages end CLEARED; the old generation runs on but no longer counts") {
  Sess s(opts(LANE_SESSION_QUEUE, 1));
  Gate &old_gate = s.gate();
  s.enqueue_ok(s.msg("old", &old_gate));
  REQUIRE(s.rec().wait_started("old"));
  s.enqueue_ok(s.msg("waiting"));
  REQUIRE(lane_session_reset(s.session) == LANE_OK);
  REQUIRE(s.rec().wait_outcome("waiting"));
  CHECK(s.status("waiting") == LANE_ERR_CLEARED);
  CHECK(lane_session_active(s.session) == 0);
  // The new generation has its whole cap although "old" still runs.
  s.enqueue_ok(s.msg("fresh"));
  REQUIRE(s.rec().wait_outcome("fresh"));
  CHECK(s.status("fresh") == LANE_OK);
  CHECK(s.rec().outcome_count("old") == 0);
  old_gate.open();
  REQUIRE(s.rec().wait_outcome("old"));
  CHECK(s.status("old") == LANE_OK);  // its message still gets its outcome
}

TEST_CASE("a lane closed underneath: active runs and queued messages end CLOSED, nothing hangs") {
  for (const lane_close_mode_t mode : {LANE_CLOSE_CANCEL, LANE_CLOSE_DRAIN}) {
    CAPTURE(mode);
    lane_session_options_t o = opts(LANE_SESSION_QUEUE);
    o.debounce_ns = 10 * kMs;  // real clock: queued ones also wait on the timer
    Sess s(o);
    Gate &g = s.gate();
    s.enqueue_ok(s.msg("active", &g));
    REQUIRE(s.rec().wait_started("active"));
    s.enqueue_ok(s.msg("queued1"));
    s.enqueue_ok(s.msg("queued2"));
    REQUIRE(lane_close(s.lane(), mode) == LANE_OK);
    if (mode == LANE_CLOSE_DRAIN) g.open();
    REQUIRE(s.rec().wait_outcomes(3));
    CHECK(s.status("active") == (mode == LANE_CLOSE_CANCEL ? LANE_ERR_CLOSED : LANE_OK));
    CHECK(s.status("queued1") == LANE_ERR_CLOSED);
    CHECK(s.status("queued2") == LANE_ERR_CLOSED);
    Probe &late = s.msg("late");
    CHECK(s.enqueue(late) == LANE_ERR_CLOSED);
    CHECK(has_message());
  }
}

TEST_CASE("a lane closed underneath ends queued messages at once, whatever the debounce") {
  lane_session_options_t o = opts(LANE_SESSION_COLLECT);
  o.debounce_ns = 3600 * kSec;  // an hour: only the close can end them in time
  Sess s(o);
  s.enqueue_ok(s.msg("q1"));
  s.enqueue_ok(s.msg("q2"));
  CHECK(lane_session_queued(s.session) == 2);
  REQUIRE(lane_close(s.lane(), LANE_CLOSE_DRAIN) == LANE_OK);
  // Delivered by the time lane_close returns.
  CHECK(s.rec().outcome_count("q1") == 1);
  CHECK(s.rec().outcome_count("q2") == 1);
  CHECK(s.status("q1") == LANE_ERR_CLOSED);
  CHECK(lane_session_queued(s.session) == 0);
}

TEST_CASE("destroy ends queued messages, cancels active runs and waits for them") {
  Sess s(opts(LANE_SESSION_QUEUE));
  lane_session_t *x = s.add("doomed", opts(LANE_SESSION_QUEUE));
  Gate &g = s.gate();  // never opened by the test: the cancel must end the run
  s.enqueue_ok(s.msg("r", &g), 0, x);
  REQUIRE(s.rec().wait_started("r"));
  s.enqueue_ok(s.msg("q"), 0, x);
  s.destroy(x);
  // Everything delivered by the time destroy returns.
  CHECK(s.rec().outcome_count("r") == 1);
  CHECK(s.rec().outcome_count("q") == 1);
  CHECK(s.status("r") == LANE_ERR_CANCELLED);
  CHECK(s.status("q") == LANE_ERR_CANCELLED);
}

TEST_CASE("lane_destroy with a session alive closes the lane; the session frees it last") {
  lane_t *lane = nullptr;
  REQUIRE(lane_create("owner", nullptr, &lane) == LANE_OK);
  lane_session_t *ss = nullptr;
  REQUIRE(lane_session_create(lane, "k", nullptr, &ss) == LANE_OK);
  CHECK(lane_destroy(lane) == LANE_OK);
  CHECK(lane_name(lane) == nullptr);  // the host's handle is dead
  CHECK(std::string(lane_session_key(ss)) == "k");
  lane_job_t j = LANE_JOB_INIT;
  j.id = "after";
  j.run = [](lane_ctx_t *, void *) -> int32_t { return 0; };
  CHECK(lane_session_enqueue(ss, &j) == LANE_ERR_CLOSED);
  CHECK(lane_session_destroy(ss) == LANE_OK);
}

TEST_CASE("host-run messages: GRANT carries the context, every item gets its DONE event") {
  PortFixture pf;
  Sess s(opts(LANE_SESSION_COLLECT));
  int ud[3] = {1, 2, 3};
  const char *ids[3] = {"h1", "h2", "h3"};
  lane_job_t j0 = host_job(ids[0], pf.port, &ud[0]);
  REQUIRE(lane_session_enqueue(s.session, &j0) == LANE_OK);
  // h1 is granted alone; h2 and h3 queue and are collected into one run.
  lane_event_t ev[4];
  std::memset(ev, 0, sizeof ev);
  ev[0].struct_size = sizeof(lane_event_t);
  REQUIRE(lane_port_poll(pf.port, ev, 1, 10 * kSec) == 1);
  REQUIRE(ev[0].kind == LANE_EVENT_GRANT);
  CHECK(ev[0].user_data == &ud[0]);
  REQUIRE(ev[0].ctx != nullptr);
  CHECK(lane_ctx_batch_count(ev[0].ctx) == 1);
  for (int i = 1; i < 3; ++i) {
    lane_job_t j = host_job(ids[i], pf.port, &ud[i]);
    REQUIRE(lane_session_enqueue(s.session, &j) == LANE_OK);
  }
  REQUIRE(lane_job_finish(s.lane(), ev[0].job_token, 0) == LANE_OK);
  std::map<void *, lane_status_t> done;
  lane_ctx_t *second = nullptr;
  std::uint64_t second_token = 0;
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  while (done.size() < 3 && std::chrono::steady_clock::now() < until) {
    std::memset(ev, 0, sizeof ev);
    ev[0].struct_size = sizeof(lane_event_t);
    const int32_t n = lane_port_poll(pf.port, ev, 4, 20 * kMs);
    for (int32_t i = 0; i < n; ++i) {
      if (ev[i].kind == LANE_EVENT_GRANT) {
        second = ev[i].ctx;
        second_token = ev[i].job_token;
        REQUIRE(second != nullptr);
        CHECK(lane_ctx_batch_count(second) == 2);
        const char *id = nullptr;
        void *u = nullptr;
        CHECK(lane_ctx_batch_item(second, 1, &id, &u) == LANE_OK);
        CHECK(std::string(id) == "h3");
        CHECK(u == &ud[2]);
        CHECK(lane_job_finish(s.lane(), second_token, 5) == LANE_OK);
      } else if (ev[i].kind == LANE_EVENT_DONE) {
        CHECK(done.count(ev[i].user_data) == 0);
        done[ev[i].user_data] = ev[i].status;
      }
    }
  }
  REQUIRE(done.size() == 3);
  CHECK(done[&ud[0]] == LANE_OK);
  CHECK(done[&ud[1]] == LANE_ERR_JOB_FAILED);
  CHECK(done[&ud[2]] == LANE_ERR_JOB_FAILED);
}

TEST_CASE("lane_session_destroy from inside its own run or on_done is refused, not a deadlock") {
  Sess s(opts(LANE_SESSION_QUEUE));
  lane_session_t *x = s.add("self", opts(LANE_SESSION_QUEUE));
  std::atomic<int> in_run{-1};
  std::string run_msg;
  Probe &p = s.probe("selfish", [&](lane_ctx_t *) {
    lane_session_destroy(x);
    run_msg = lane_last_error();
    in_run = lane_session_active(x) == 1 ? 1 : 0;  // still alive
    return 0;
  });
  std::atomic<int> in_done{-1};
  p.on_done_extra = [&](const lane_outcome_t *) {
    lane_session_destroy(x);
    in_done = std::string(lane_last_error()).find("itself") != std::string::npos ? 1 : 0;
  };
  s.enqueue_ok(p, 0, x);
  REQUIRE(s.rec().wait_outcome("selfish"));
  CHECK(in_run == 1);
  CHECK(run_msg.find("itself") != std::string::npos);
  CHECK(in_done == 1);
  CHECK(std::string(lane_session_key(x)) == "self");
  s.destroy(x);  // from outside: fine
}

TEST_CASE("a registry lane with sessions is neither removed nor retired, and outlives its registry closed") {
  lane_registry_options_t ro = LANE_REGISTRY_OPTIONS_INIT;
  FakeClock clock;
  ro.clock = fake_clock_fn;
  ro.clock_ud = &clock;
  ro.idle_retire_ns = 1 * kSec;
  lane_registry_t *reg = nullptr;
  REQUIRE(lane_registry_create(&ro, &reg) == LANE_OK);
  lane_t *llm = nullptr;
  REQUIRE(lane_registry_get_or_create(reg, "llm", &llm) == LANE_OK);
  lane_session_t *ss = nullptr;
  REQUIRE(lane_session_create(llm, "chat", nullptr, &ss) == LANE_OK);
  CHECK(lane_registry_remove(reg, "llm") == LANE_ERR_BUSY);
  CHECK(std::string(lane_last_error()).find("session") != std::string::npos);
  clock.advance(10 * kSec);  // idle far longer than idle_retire_ns
  const char *names[4] = {};
  CHECK(lane_registry_names(reg, names, 4) == 1);  // the sweep kept it
  CHECK(lane_registry_get(reg, "llm") == llm);
  CHECK(lane_session_queued(ss) == 0);  // the session and its lane still work
  CHECK(lane_registry_destroy(reg) == LANE_OK);  // closes the lane; the session keeps it alive
  lane_job_t j = LANE_JOB_INIT;
  j.id = "after";
  j.run = [](lane_ctx_t *, void *) -> int32_t { return 0; };
  CHECK(lane_session_enqueue(ss, &j) == LANE_ERR_CLOSED);
  CHECK(lane_session_destroy(ss) == LANE_OK);  // and frees it
}

TEST_CASE("a host job named like a session run does not make the session's message fail") {
  Sess s(opts(LANE_SESSION_QUEUE), 1);
  REQUIRE(lane_pause(s.lane()) == LANE_OK);
  // "<key>#<n>" for every n this test process can have reached so far.
  std::vector<std::string> ids;
  for (int i = 0; i < 3000; ++i) ids.push_back("chat-1#" + std::to_string(i));
  for (const auto &id : ids) {
    lane_job_t j = make_job(id.c_str());
    j.run = [](lane_ctx_t *, void *) -> int32_t { return 0; };
    REQUIRE(lane_submit(s.lane(), &j, nullptr) == LANE_OK);
  }
  s.enqueue_ok(s.msg("m"));
  CHECK(lane_session_active(s.session) == 1);  // its run is in the lane
  CHECK(s.rec().outcome_count("m") == 0);
  REQUIRE(lane_resume(s.lane()) == LANE_OK);
  REQUIRE(s.rec().wait_outcome("m"));
  CHECK(s.status("m") == LANE_OK);
}

TEST_CASE("throttle: when the token use drops, held-back runs start without a new event") {
  Tokens tk;
  tk.used = 80;
  lane_session_options_t o = opts(LANE_SESSION_QUEUE, 3);
  o.token_estimate = tokens_fn;
  o.token_ud = &tk;
  o.throttle_ratio = 0.5;
  Sess s(o);
  Gate &g = s.gate();
  for (const char *id : {"t1", "t2", "t3"}) s.enqueue_ok(s.msg(id, &g));
  REQUIRE(s.rec().wait_started("t1"));
  CHECK(lane_session_active(s.session) == 1);
  tk.used = 10;  // no enqueue, no run end, no resize: the session asks again by itself
  REQUIRE(s.rec().wait_started("t3"));
  CHECK(lane_session_active(s.session) == 3);
  g.open();
  REQUIRE(s.rec().wait_outcomes(3));
}

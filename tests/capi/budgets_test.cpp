// Provider budgets through the C API: jobs of several slots, rate limits
// (with an ETA that includes the rate wait), per-tenant caps, run timeouts,
// release and reacquire (callback and host-run), adaptive width, real costs,
// and the bad inputs of every new call.
#include "capi_fixture.hpp"

using namespace capi_test;

namespace {

lane_options_t opts(std::uint32_t max_concurrent, lane_policy_t policy = LANE_POLICY_FIFO) {
  lane_options_t o = LANE_OPTIONS_INIT;
  o.max_concurrent = max_concurrent;
  o.policy = policy;
  return o;
}

// Polls pred (stats change without telling the recorder) until it holds.
template <class Pred>
bool eventually(Pred pred) {
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

lane_ticket_t submit_host(LaneFixture &fx, const lane_job_t &j) {
  lane_ticket_t t = LANE_TICKET_INIT;
  lane_status_t st = lane_submit(fx.lane, &j, &t);
  REQUIRE_MESSAGE(st == LANE_OK, "submit " << j.id << ": " << lane_status_name(st) << " " << lane_last_error());
  fx.host_tokens.push_back(t.job_token);
  return t;
}

}  // namespace

TEST_CASE("a job of 2 slots on a lane of 3 with one running starts, and the strict cap counts slots") {
  LaneFixture fx(3, "slots");
  Gate &g = fx.gate();
  Probe &one = fx.blocker("one", g);
  fx.submit_ok(one);
  REQUIRE(fx.rec.wait_started("one"));

  Probe &two = fx.blocker("two", g);
  lane_job_t j = fx.job_for(two);
  j.slots = 2;
  lane_ticket_t t = LANE_TICKET_INIT;
  REQUIRE(lane_submit(fx.lane, &j, &t) == LANE_OK);
  CHECK(t.position == 0);
  REQUIRE(fx.rec.wait_started("two"));
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.slots_in_use == 3);
  CHECK(s.width == 3);
  CHECK(s.running == 2);

  // Every slot is taken: a one-slot job waits.
  Probe &three = fx.blocker("three", g);
  lane_ticket_t t3 = fx.submit_ok(three);
  CHECK(t3.position == 1);
  CHECK(t3.blocked_by == LANE_BLOCKED_FULL);

  // More slots than the lane can ever give: refused, with a message.
  Probe &huge = fx.probe("huge");
  lane_job_t h = fx.job_for(huge);
  h.slots = 4;
  CHECK(lane_submit(fx.lane, &h, nullptr) == LANE_ERR_INVALID);
  CHECK(std::string(lane_last_error()).find("slots") != std::string::npos);

  g.open();
  REQUIRE(fx.rec.wait_outcomes(3));
  CHECK(fx.rec.outcome("two").status == LANE_OK);
  CHECK(fx.rec.outcome("three").status == LANE_OK);
  CHECK(fx.rec.outcome_count("huge") == 0);
  CHECK(fx.rec.max_running() <= 2);  // one + two held all 3 slots
  check_invariant(stats_of(fx.lane));
}

TEST_CASE("a rate-limited lane queues with LANE_BLOCKED_RATE and an ETA within 10% of the rate wait") {
  FakeClock clock;
  lane_options_t o = opts(8);
  o.clock = fake_clock_fn;
  o.clock_ud = &clock;
  LaneFixture fx("rate", o);
  // 2 requests per second, one at a time: one grant every 500 ms.
  REQUIRE(lane_set_rate_limit(fx.lane, LANE_RATE_REQUESTS, 2, kSec, 1) == LANE_OK);

  Probe &a = fx.probe("a");
  CHECK(fx.submit_ok(a).position == 0);
  REQUIRE(fx.rec.wait_outcome("a"));

  Probe &b = fx.probe("b");
  lane_ticket_t tb = fx.submit_ok(b);
  CHECK(tb.position == 1);
  CHECK(tb.blocked_by == LANE_BLOCKED_RATE);
  CHECK(tb.eta_ns >= 450 * kMs);
  CHECK(tb.eta_ns <= 550 * kMs);

  Probe &c = fx.probe("c");
  lane_ticket_t tc = fx.submit_ok(c);
  CHECK(tc.position == 2);
  CHECK(tc.eta_ns >= 900 * kMs);  // behind b: two rate intervals
  CHECK(tc.eta_ns <= 1100 * kMs);

  // Would wait longer than it may: refused BUSY, with the ETA in the ticket.
  Probe &d = fx.probe("d");
  lane_job_t jd = fx.job_for(d);
  jd.max_wait_ns = 200 * kMs;
  lane_ticket_t td = LANE_TICKET_INIT;
  CHECK(lane_submit(fx.lane, &jd, &td) == LANE_ERR_BUSY);
  CHECK(td.eta_ns > 200 * kMs);

  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.blocked_by == LANE_BLOCKED_RATE);
  CHECK(s.rate_ready_at_ns == clock.now.load() + 500 * kMs);
  CHECK(s.rate_waits == 1);  // b waits at the front; c is not at the front yet

  // Nothing moves until the rate allows it.
  std::this_thread::sleep_for(30ms);
  CHECK(fx.rec.outcome_count("b") == 0);
  clock.advance(500 * kMs);
  REQUIRE(fx.rec.wait_outcome("b"));
  std::this_thread::sleep_for(30ms);
  CHECK(fx.rec.outcome_count("c") == 0);
  clock.advance(500 * kMs);
  REQUIRE(fx.rec.wait_outcome("c"));
  s = stats_of(fx.lane);
  CHECK(s.rate_waits == 2);
  CHECK(s.completed == 3);
  CHECK(s.refused == 1);
  check_invariant(s);
}

TEST_CASE("a cost rate limit refuses a cost above its burst and is corrected by the real cost") {
  FakeClock clock;
  lane_options_t o = opts(4);
  o.clock = fake_clock_fn;
  o.clock_ud = &clock;
  LaneFixture fx("cost", o);
  // 1000 tokens per minute, 1000 at once.
  REQUIRE(lane_set_rate_limit(fx.lane, LANE_RATE_COST, 1000, 60 * kSec, 1000) == LANE_OK);

  Probe &big = fx.probe("big");
  lane_job_t jb = fx.job_for(big);
  jb.cost = 1001;
  CHECK(lane_submit(fx.lane, &jb, nullptr) == LANE_ERR_INVALID);
  CHECK(std::string(lane_last_error()).find("burst") != std::string::npos);

  // Estimated 900, really 100: the refund lets the next 800 go at once.
  Probe &first = fx.probe("first", [](lane_ctx_t *ctx) {
    CHECK(lane_ctx_set_cost(ctx, 100) == LANE_OK);
    return 0;
  });
  lane_job_t j1 = fx.job_for(first);
  j1.cost = 900;
  CHECK(lane_submit(fx.lane, &j1, nullptr) == LANE_OK);
  REQUIRE(fx.rec.wait_outcome("first"));

  Probe &second = fx.probe("second");
  lane_job_t j2 = fx.job_for(second);
  j2.cost = 800;
  lane_ticket_t t2 = LANE_TICKET_INIT;
  CHECK(lane_submit(fx.lane, &j2, &t2) == LANE_OK);
  CHECK(t2.position == 0);
  REQUIRE(fx.rec.wait_outcome("second"));

  // Now 900 of 1000 are spent: 500 more must wait for the bucket.
  Probe &third = fx.probe("third");
  lane_job_t j3 = fx.job_for(third);
  j3.cost = 500;
  lane_ticket_t t3 = LANE_TICKET_INIT;
  CHECK(lane_submit(fx.lane, &j3, &t3) == LANE_OK);
  CHECK(t3.blocked_by == LANE_BLOCKED_RATE);
  CHECK(t3.eta_ns >= 23 * kSec);  // 400 more tokens at 1000/min: 24 s
  CHECK(t3.eta_ns <= 25 * kSec);
  clock.advance(24 * kSec);
  REQUIRE(fx.rec.wait_outcome("third"));

  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.cost_used == 100 + 800 + 500);
}

TEST_CASE("a tenant at its cap waits without holding up the others") {
  LaneFixture fx("tenants", opts(3, LANE_POLICY_FAIR_SHARE));
  REQUIRE(lane_set_tenant_limit(fx.lane, "a", 1) == LANE_OK);
  Gate &g = fx.gate();
  Probe &a1 = fx.blocker("a1", g);
  Probe &a2 = fx.blocker("a2", g);
  Probe &b1 = fx.blocker("b1", g);
  lane_job_t j = fx.job_for(a1);
  j.tenant = "a";
  REQUIRE(lane_submit(fx.lane, &j, nullptr) == LANE_OK);
  REQUIRE(fx.rec.wait_started("a1"));
  j = fx.job_for(a2);
  j.tenant = "a";
  lane_ticket_t t = LANE_TICKET_INIT;
  REQUIRE(lane_submit(fx.lane, &j, &t) == LANE_OK);
  CHECK(t.position >= 1);
  CHECK(t.blocked_by == LANE_BLOCKED_TENANT_LIMIT);
  j = fx.job_for(b1);
  j.tenant = "b";
  REQUIRE(lane_submit(fx.lane, &j, &t) == LANE_OK);
  CHECK(t.position == 0);  // a2 waits for its tenant, not for b
  REQUIRE(fx.rec.wait_started("b1"));

  std::uint32_t running = 99;
  REQUIRE(lane_tenant_running(fx.lane, "a", &running) == LANE_OK);
  CHECK(running == 1);
  REQUIRE(lane_tenant_running(fx.lane, "nobody", &running) == LANE_OK);
  CHECK(running == 0);
  CHECK(fx.rec.starts("a2") == 0);
  CHECK(stats_of(fx.lane).slots_in_use == 2);

  // Lifting the cap lets a2 go at once.
  REQUIRE(lane_set_tenant_limit(fx.lane, "a", 0) == LANE_OK);
  REQUIRE(fx.rec.wait_started("a2"));
  g.open();
  REQUIRE(fx.rec.wait_outcomes(3));
  check_invariant(stats_of(fx.lane));
}

TEST_CASE("a run timeout cancels a running job with LANE_ERR_TIMEOUT, and it ends so") {
  LaneFixture fx(1, "run_timeout");
  // lane_ctx_wait answers LANE_ERR_TIMEOUT for its own timeout too: the
  // run looks at lane_ctx_cancelled instead.
  Probe &slow = fx.probe("slow");
  Probe *ps = &slow;
  slow.body = [ps](lane_ctx_t *ctx) {
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    while (!lane_ctx_cancelled(ctx) && std::chrono::steady_clock::now() < until) lane_ctx_wait(ctx, 2 * kMs);
    ps->observe(ctx);
    return 0;
  };
  lane_job_t j = fx.job_for(slow);
  j.run_timeout_ns = 30 * kMs;
  REQUIRE(lane_submit(fx.lane, &j, nullptr) == LANE_OK);
  REQUIRE(fx.rec.wait_outcome("slow"));
  CHECK(fx.rec.outcome("slow").status == LANE_ERR_TIMEOUT);
  CHECK(slow.seen_cause == LANE_ERR_TIMEOUT);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.timed_out == 1);
  check_invariant(s);

  // A quick job with a run timeout is not touched by it.
  Probe &quick = fx.probe("quick");
  j = fx.job_for(quick);
  j.run_timeout_ns = 10 * kSec;
  REQUIRE(lane_submit(fx.lane, &j, nullptr) == LANE_OK);
  REQUIRE(fx.rec.wait_outcome("quick"));
  CHECK(fx.rec.outcome("quick").status == LANE_OK);
}

TEST_CASE("a callback job releases its slot while it waits, then reacquires it ahead of newer jobs") {
  LaneFixture fx(1, "release");
  Gate &outside = fx.gate();  // what the released job waits for
  Gate &g = fx.gate();
  std::atomic<int> reacquired{-1};
  std::vector<std::string> order;
  std::mutex order_mu;
  auto note = [&](const std::string &s) {
    std::lock_guard lk(order_mu);
    order.push_back(s);
  };
  Probe &agent = fx.probe("agent", [&](lane_ctx_t *ctx) {
    CHECK(lane_ctx_release(ctx) == LANE_OK);
    CHECK(lane_ctx_release(ctx) == LANE_ERR_INVALID);  // holds no slot now
    outside.wait();
    reacquired = lane_ctx_reacquire(ctx, -1);
    note("agent");
    return 0;
  });
  fx.submit_ok(agent);
  Probe &tool = fx.probe("tool", [&](lane_ctx_t *ctx) {
    note("tool");
    block(ctx, g);
    return 0;
  });
  fx.submit_ok(tool);
  REQUIRE(fx.rec.wait_started("tool"));  // the released slot went to it
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.running == 2);
  CHECK(s.released == 1);
  CHECK(s.reacquiring == 0);
  CHECK(s.slots_in_use == 1);

  outside.open();
  // The agent now waits for its slot; a job submitted after it stays behind it.
  REQUIRE(eventually([&] { return stats_of(fx.lane).reacquiring == 1; }));
  CHECK(stats_of(fx.lane).released == 0);
  Probe &later = fx.probe("later", [&](lane_ctx_t *) {
    note("later");
    return 0;
  });
  fx.submit_ok(later);
  CHECK(reacquired == -1);
  g.open();
  REQUIRE(fx.rec.wait_outcomes(3));
  CHECK(reacquired == LANE_OK);
  CHECK(order == std::vector<std::string>{"tool", "agent", "later"});
  CHECK(fx.rec.outcome("agent").status == LANE_OK);
  CHECK(fx.rec.max_running() <= 2);  // the released one still runs, without a slot
  check_invariant(stats_of(fx.lane));
}

TEST_CASE("lane_ctx_reacquire times out (released again) and returns the cause when cancelled") {
  LaneFixture fx(1, "reacquire");
  Gate &g = fx.gate();
  Probe &holder = fx.blocker("holder", g);
  std::atomic<int> first{-1}, second{-1}, state_after{-1};
  Gate &go = fx.gate();
  Probe &agent = fx.probe("agent", [&](lane_ctx_t *ctx) {
    REQUIRE(lane_ctx_release(ctx) == LANE_OK);
    go.wait();  // the holder has the slot now
    first = lane_ctx_reacquire(ctx, 20 * kMs);
    state_after = lane_ctx_release(ctx);  // released again after the timeout: nothing to release
    second = lane_ctx_reacquire(ctx, -1);  // until cancelled
    return 0;
  });
  fx.submit_ok(agent);
  fx.submit_ok(holder);
  REQUIRE(fx.rec.wait_started("holder"));
  go.open();
  REQUIRE(fx.rec.wait_until([&] { return first.load() != -1; }));
  CHECK(first == LANE_ERR_TIMEOUT);
  CHECK(state_after == LANE_ERR_INVALID);
  REQUIRE(eventually([&] { return stats_of(fx.lane).reacquiring == 1; }));  // reacquiring again
  REQUIRE(lane_cancel(fx.lane, "agent", LANE_CANCEL_RUNNING) == LANE_OK);
  REQUIRE(fx.rec.wait_outcome("agent"));
  CHECK(second == LANE_ERR_CANCELLED);
  CHECK(fx.rec.outcome("agent").status == LANE_ERR_CANCELLED);
  CHECK(fx.rec.outcome_count("holder") == 0);  // the holder kept its slot throughout
  g.open();
  REQUIRE(fx.rec.wait_outcome("holder"));
  check_invariant(stats_of(fx.lane));
}

TEST_CASE("a host-run job releases and reacquires by token, with a second GRANT and one DONE") {
  LaneFixture fx(1, "host_release");
  PortFixture port;
  lane_ticket_t a = submit_host(fx, host_job("a", port.port));
  REQUIRE(port.wait_event(LANE_EVENT_GRANT, a.job_token));
  lane_ticket_t b = submit_host(fx, host_job("b", port.port));
  CHECK(b.position == 1);

  REQUIRE(lane_job_release(fx.lane, a.job_token) == LANE_OK);
  CHECK(lane_job_release(fx.lane, a.job_token) == LANE_ERR_INVALID);
  CHECK(has_message());
  REQUIRE(port.wait_event(LANE_EVENT_GRANT, b.job_token));
  REQUIRE(lane_job_reacquire(fx.lane, a.job_token) == LANE_OK);
  CHECK(lane_job_reacquire(fx.lane, a.job_token) == LANE_ERR_INVALID);  // already waiting
  port.poll_once(20 * kMs);
  CHECK(port.count(LANE_EVENT_GRANT, a.job_token) == 1);  // b holds the slot

  REQUIRE(lane_job_finish(fx.lane, b.job_token, 0) == LANE_OK);
  REQUIRE(port.poll_until([&] { return port.count(LANE_EVENT_GRANT, a.job_token) == 2; }));
  REQUIRE(lane_job_finish_cost(fx.lane, a.job_token, 0, 42) == LANE_OK);
  REQUIRE(port.wait_event(LANE_EVENT_DONE, a.job_token));
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  CHECK(port.count(LANE_EVENT_DONE, a.job_token) == 1);
  CHECK(port.count(LANE_EVENT_DONE, b.job_token) == 1);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.completed == 2);
  CHECK(s.cost_used == 42 + 1);  // a reported 42; b had no cost: its estimate, 1
  fx.host_tokens.clear();
}

TEST_CASE("a released host-run job may be finished, cancelled or closed; each gets one outcome") {
  LaneFixture fx(1, "host_release_end");
  PortFixture port;
  lane_ticket_t a = submit_host(fx, host_job("a", port.port));
  REQUIRE(port.wait_event(LANE_EVENT_GRANT, a.job_token));
  REQUIRE(lane_job_release(fx.lane, a.job_token) == LANE_OK);
  REQUIRE(lane_job_finish(fx.lane, a.job_token, 3) == LANE_OK);  // finished while released
  REQUIRE(port.wait_event(LANE_EVENT_DONE, a.job_token));
  CHECK(port.find(LANE_EVENT_DONE, a.job_token)->status == LANE_ERR_JOB_FAILED);

  lane_ticket_t b = submit_host(fx, host_job("b", port.port));
  lane_ticket_t c = submit_host(fx, host_job("c", port.port));
  REQUIRE(port.wait_event(LANE_EVENT_GRANT, b.job_token));
  REQUIRE(lane_job_release(fx.lane, b.job_token) == LANE_OK);
  REQUIRE(port.wait_event(LANE_EVENT_GRANT, c.job_token));
  REQUIRE(lane_job_reacquire(fx.lane, b.job_token) == LANE_OK);
  // Cancelled while it waits for its slot: told to stop, then it finishes.
  REQUIRE(lane_cancel_token(fx.lane, b.job_token, LANE_CANCEL_RUNNING) == LANE_OK);
  REQUIRE(port.wait_event(LANE_EVENT_CANCEL, b.job_token));
  CHECK(lane_job_reacquire(fx.lane, b.job_token) == LANE_ERR_CANCELLED);
  REQUIRE(lane_job_finish(fx.lane, b.job_token, 0) == LANE_OK);
  REQUIRE(port.wait_event(LANE_EVENT_DONE, b.job_token));
  CHECK(port.find(LANE_EVENT_DONE, b.job_token)->status == LANE_ERR_CANCELLED);

  REQUIRE(lane_job_release(fx.lane, c.job_token) == LANE_OK);
  REQUIRE(lane_close(fx.lane, LANE_CLOSE_CANCEL) == LANE_OK);
  REQUIRE(port.wait_event(LANE_EVENT_CANCEL, c.job_token));
  REQUIRE(lane_job_finish(fx.lane, c.job_token, 0) == LANE_OK);
  REQUIRE(port.wait_event(LANE_EVENT_DONE, c.job_token));
  CHECK(port.find(LANE_EVENT_DONE, c.job_token)->status == LANE_ERR_CLOSED);
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  for (auto tok : {a.job_token, b.job_token, c.job_token}) CHECK(port.count(LANE_EVENT_DONE, tok) == 1);
  CHECK(port.count(LANE_EVENT_GRANT, c.job_token) == 1);
  fx.host_tokens.clear();
}

TEST_CASE("adaptive width: overloaded finishes halve it, successes grow it, stats report it") {
  lane_options_t o = opts(4);
  o.adaptive_min = 1;
  o.adaptive_max = 8;
  LaneFixture fx("adaptive", o);
  CHECK(stats_of(fx.lane).width == 4);

  Probe &r429 = fx.probe("429", [](lane_ctx_t *) { return LANE_JOB_OVERLOADED; });
  fx.submit_ok(r429);
  REQUIRE(fx.rec.wait_outcome("429"));
  CHECK(fx.rec.outcome("429").status == LANE_ERR_JOB_FAILED);
  CHECK(fx.rec.outcome("429").job_code == LANE_JOB_OVERLOADED);
  CHECK(stats_of(fx.lane).width == 2);

  Probe &marked = fx.probe("marked", [](lane_ctx_t *ctx) {
    CHECK(lane_ctx_overloaded(ctx) == LANE_OK);
    return 0;  // succeeded, but the provider said slow down
  });
  fx.submit_ok(marked);
  REQUIRE(fx.rec.wait_outcome("marked"));
  CHECK(fx.rec.outcome("marked").status == LANE_OK);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.width == 1);
  CHECK(s.overloads == 2);
  CHECK(s.max_concurrent == 4);  // the configured first width

  // One success per width adds one: 1 -> 2 after one, -> 3 after two more.
  for (int i = 0; i < 3; ++i) {
    Probe &p = fx.probe("ok" + std::to_string(i));
    fx.submit_ok(p);
    REQUIRE(fx.rec.wait_outcome(p.id));
  }
  CHECK(stats_of(fx.lane).width == 3);

  // lane_set_max_concurrent sets the width within the range.
  REQUIRE(lane_set_max_concurrent(fx.lane, 100) == LANE_OK);
  CHECK(stats_of(fx.lane).width == 8);

  // On a lane that is not adaptive an overloaded finish only counts.
  LaneFixture plain(2, "plain");
  Probe &p = plain.probe("p", [](lane_ctx_t *) { return LANE_JOB_OVERLOADED; });
  plain.submit_ok(p);
  REQUIRE(plain.rec.wait_outcome("p"));
  s = stats_of(plain.lane);
  CHECK(s.width == 2);
  CHECK(s.overloads == 1);
}

TEST_CASE("budget calls refuse bad input with a status and a message") {
  LaneFixture fx(2, "bad_budgets");
  CHECK(lane_set_rate_limit(nullptr, LANE_RATE_REQUESTS, 1, kSec, 1) == LANE_ERR_INVALID);
  CHECK(lane_set_rate_limit(fx.lane, 0, 1, kSec, 1) == LANE_ERR_INVALID);
  CHECK(has_message());
  CHECK(lane_set_rate_limit(fx.lane, 1u << 7, 1, kSec, 1) == LANE_ERR_INVALID);
  CHECK(lane_set_rate_limit(fx.lane, LANE_RATE_REQUESTS, -1, kSec, 1) == LANE_ERR_INVALID);
  CHECK(lane_set_rate_limit(fx.lane, LANE_RATE_REQUESTS, 1, -kSec, 1) == LANE_ERR_INVALID);
  CHECK(lane_set_rate_limit(fx.lane, LANE_RATE_REQUESTS, 1, kSec, -1) == LANE_ERR_INVALID);
  CHECK(lane_set_rate_limit(fx.lane, LANE_RATE_REQUESTS, 1, 0, 1) == LANE_ERR_INVALID);
  CHECK(lane_set_rate_limit(fx.lane, LANE_RATE_REQUESTS | LANE_RATE_COST, 0, 0, 0) == LANE_OK);  // both off
  // A huge rate does not overflow: it just never waits.
  CHECK(lane_set_rate_limit(fx.lane, LANE_RATE_REQUESTS, INT64_MAX, 1, INT64_MAX) == LANE_OK);
  Probe &quick = fx.probe("quick");
  CHECK(fx.submit_ok(quick).position == 0);
  REQUIRE(fx.rec.wait_outcome("quick"));
  CHECK(lane_set_rate_limit(fx.lane, LANE_RATE_REQUESTS, 1, INT64_MAX, 1) == LANE_OK);
  CHECK(lane_set_rate_limit(fx.lane, LANE_RATE_REQUESTS, 0, 0, 0) == LANE_OK);  // off again

  CHECK(lane_set_tenant_limit(nullptr, "a", 1) == LANE_ERR_INVALID);
  CHECK(lane_set_tenant_limit(fx.lane, nullptr, 1) == LANE_OK);  // the "" tenant
  std::uint32_t n = 0;
  CHECK(lane_tenant_running(fx.lane, "a", nullptr) == LANE_ERR_INVALID);
  CHECK(lane_tenant_running(nullptr, "a", &n) == LANE_ERR_INVALID);

  Probe &neg = fx.probe("neg");
  lane_job_t j = fx.job_for(neg);
  j.cost = -1;
  CHECK(lane_submit(fx.lane, &j, nullptr) == LANE_ERR_INVALID);
  CHECK(std::string(lane_last_error()).find("cost") != std::string::npos);
  j.cost = 0;
  j.run_timeout_ns = -1;
  CHECK(lane_submit(fx.lane, &j, nullptr) == LANE_ERR_INVALID);
  CHECK(std::string(lane_last_error()).find("run_timeout_ns") != std::string::npos);
  CHECK(fx.rec.outcome_count("neg") == 0);

  CHECK(lane_ctx_set_cost(nullptr, 1) == LANE_ERR_INVALID);
  CHECK(lane_ctx_overloaded(nullptr) == LANE_ERR_INVALID);
  CHECK(lane_ctx_release(nullptr) == LANE_ERR_INVALID);
  CHECK(lane_ctx_reacquire(nullptr, 0) == LANE_ERR_INVALID);
  // A lane handle is not a job context.
  CHECK(lane_ctx_release(reinterpret_cast<lane_ctx_t *>(fx.lane)) == LANE_ERR_INVALID);
  CHECK(lane_ctx_set_cost(reinterpret_cast<lane_ctx_t *>(fx.lane), 1) == LANE_ERR_INVALID);
  CHECK(lane_job_release(fx.lane, 12345) == LANE_ERR_INVALID);
  CHECK(lane_job_reacquire(fx.lane, 12345) == LANE_ERR_INVALID);
  CHECK(lane_job_finish_cost(fx.lane, 12345, 0, 1) == LANE_ERR_INVALID);
  CHECK(lane_job_finish_cost(fx.lane, 12345, 0, -1) == LANE_ERR_INVALID);
  CHECK(lane_job_release(nullptr, 1) == LANE_ERR_INVALID);

  // Inside a run: a non-positive cost, and reacquire when not released.
  std::atomic<int> zero{-1}, not_released{-1};
  Probe &inside = fx.probe("inside", [&](lane_ctx_t *ctx) {
    zero = lane_ctx_set_cost(ctx, 0);
    not_released = lane_ctx_reacquire(ctx, 0);
    return 0;
  });
  fx.submit_ok(inside);
  REQUIRE(fx.rec.wait_outcome("inside"));
  CHECK(zero == LANE_ERR_INVALID);
  CHECK(not_released == LANE_ERR_INVALID);

  // A callback job is not released or reacquired by token.
  Gate &g = fx.gate();
  Probe &cb = fx.blocker("cb", g);
  lane_ticket_t t = fx.submit_ok(cb);
  REQUIRE(fx.rec.wait_started("cb"));
  CHECK(lane_job_release(fx.lane, t.job_token) == LANE_ERR_INVALID);
  CHECK(std::string(lane_last_error()).find("callback") != std::string::npos);
  g.open();
  REQUIRE(fx.rec.wait_outcome("cb"));

  // Adaptive options out of range.
  lane_options_t o = opts(1);
  o.adaptive_min = 0;
  o.adaptive_max = 4;
  lane_t *l = nullptr;
  CHECK(lane_create("x", &o, &l) == LANE_ERR_INVALID);
  o.adaptive_min = 5;
  CHECK(lane_create("x", &o, &l) == LANE_ERR_INVALID);
  CHECK(std::string(lane_last_error()).find("adaptive") != std::string::npos);
  o.adaptive_min = 1;
  o.adaptive_cooldown_ns = -1;
  CHECK(lane_create("x", &o, &l) == LANE_ERR_INVALID);
  CHECK(l == nullptr);
}

TEST_CASE("a host-run job reports its cost and overload through its GRANT context") {
  lane_options_t o = opts(2);
  o.adaptive_min = 1;
  o.adaptive_max = 2;
  LaneFixture fx("host_ctx", o);
  PortFixture port;
  lane_job_t j = host_job("h", port.port);
  j.cost = 10;
  lane_ticket_t t = submit_host(fx, j);
  lane_ctx_t *ctx = nullptr;
  REQUIRE(port.poll_until([&] {
    lane_event_t ev[4];
    std::memset(ev, 0, sizeof ev);
    ev[0].struct_size = sizeof(lane_event_t);
    const int32_t n = lane_port_poll(port.port, ev, 4, 20 * kMs);
    for (int32_t i = 0; i < n; ++i) {
      if (ev[i].kind == LANE_EVENT_GRANT && ev[i].job_token == t.job_token) ctx = ev[i].ctx;
    }
    return ctx != nullptr;
  }));
  CHECK(lane_ctx_set_cost(ctx, 7) == LANE_OK);
  CHECK(lane_ctx_overloaded(ctx) == LANE_OK);
  CHECK(lane_ctx_reacquire(ctx, 0) == LANE_ERR_INVALID);  // host-run: by token
  REQUIRE(lane_job_finish(fx.lane, t.job_token, 0) == LANE_OK);
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.cost_used == 7);
  CHECK(s.width == 1);
  CHECK(s.overloads == 1);
  fx.host_tokens.clear();
}

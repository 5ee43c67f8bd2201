// lane_stats fields and the invariant, the ETA in the ticket (with the fake
// clock, so the numbers are exact), and admission: max_wait_ns and max_queued.
#include "capi_fixture.hpp"

using namespace capi_test;

namespace {

lane_options_t fake_options(FakeClock &clock, std::uint32_t cap) {
  lane_options_t o = LANE_OPTIONS_INIT;
  o.max_concurrent = cap;
  o.clock = fake_clock_fn;
  o.clock_ud = &clock;
  return o;
}

}  // namespace

TEST_CASE("a fresh lane reports empty stats with its name and configuration") {
  lane_options_t o = LANE_OPTIONS_INIT;
  o.max_concurrent = 4;
  o.eta_window = 8;
  LaneFixture fx("fresh", o);
  lane_stats_t s = stats_of(fx.lane);
  REQUIRE(s.name != nullptr);
  CHECK(std::string(s.name) == "fresh");
  CHECK(s.max_concurrent == 4);
  CHECK(s.running == 0);
  CHECK(s.queued == 0);
  CHECK(s.oldest_queued_at_ns == 0);
  CHECK(s.throughput_1m == 0);
  CHECK(s.submitted == 0);
  CHECK(s.completed + s.failed + s.cancelled + s.preempted + s.timed_out + s.closed == 0);
  CHECK(s.refused == 0);
  CHECK(s.paused == 0);
  CHECK(s.cooldown_until_ns == 0);
  CHECK(s.blocked_by == LANE_BLOCKED_NONE);
  CHECK(s.preemptions == 0);
  CHECK(s.eta_window == 8);
  CHECK(s.mean_runtime_ns == 0);
}

TEST_CASE("stats count every kind of outcome and keep the invariant") {
  LaneFixture fx(1);
  Gate &g = fx.gate();
  fx.submit_ok(fx.probe("ok"));
  fx.submit_ok(fx.probe("fail", [](lane_ctx_t *) { return 1; }));
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);

  fx.submit_ok(fx.blocker("cancelled-running", g));
  REQUIRE(fx.rec.wait_started("cancelled-running"));
  fx.submit_ok(fx.probe("cancelled-queued"));
  Probe &to = fx.probe("timed-out");
  lane_job_t jt = fx.job_for(to);
  jt.queue_timeout_ns = 10 * kMs;
  REQUIRE(lane_submit(fx.lane, &jt, nullptr) == LANE_OK);
  fx.submit_ok(fx.probe("closed"));
  Probe &dup = fx.probe("closed");
  CHECK(fx.submit(dup) == LANE_ERR_DUPLICATE);

  REQUIRE(fx.rec.wait_outcome("timed-out"));
  lane_stats_t mid = stats_of(fx.lane);
  CHECK(mid.running == 1);
  CHECK(mid.queued == 2);
  CHECK(mid.oldest_queued_at_ns > 0);
  check_invariant(mid);

  REQUIRE(lane_cancel(fx.lane, "cancelled-queued", 0) == LANE_OK);
  REQUIRE(lane_cancel(fx.lane, "cancelled-running", LANE_CANCEL_RUNNING) == LANE_OK);
  REQUIRE(fx.rec.wait_outcome("cancelled-running"));
  // "closed" got the slot; close with CANCEL may catch it running or queued.
  REQUIRE(lane_close(fx.lane, LANE_CLOSE_CANCEL) == LANE_OK);
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);

  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.submitted == 6);
  CHECK(s.completed + s.closed == 2);  // "ok", and "closed" either ran or was closed
  CHECK(s.failed == 1);
  CHECK(s.cancelled == 2);
  CHECK(s.timed_out == 1);
  CHECK(s.preempted == 0);
  CHECK(s.refused == 1);
  CHECK(s.running == 0);
  CHECK(s.queued == 0);
  CHECK(s.oldest_queued_at_ns == 0);
  CHECK(s.throughput_1m == 6);
  CHECK(s.wait_p50_ns >= 0);
  CHECK(s.wait_p99_ns >= s.wait_p50_ns);
  CHECK(s.run_p50_ns >= 0);
  CHECK(s.run_p99_ns >= s.run_p50_ns);
  check_invariant(s);
}

TEST_CASE("with the fake clock, runtimes and waits in the stats are exact") {
  FakeClock clock;
  LaneFixture fx("stats-fake", fake_options(clock, 1));
  for (int i = 0; i < 3; ++i) {
    Probe &p = fx.probe("j" + std::to_string(i), [&clock](lane_ctx_t *) -> std::int32_t {
      clock.advance(2 * kSec);
      return 0;
    });
    lane_job_t j = fx.job_for(p);
    REQUIRE(lane_submit_wait(fx.lane, &j, -1, nullptr) == LANE_OK);
  }
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.completed == 3);
  CHECK(s.mean_runtime_ns == 2 * kSec);
  CHECK(s.run_p50_ns == 2 * kSec);
  CHECK(s.run_p99_ns == 2 * kSec);
  CHECK(s.wait_p50_ns == 0);
  CHECK(s.throughput_1m == 3);
  Outcome o = fx.rec.outcome("j1");
  CHECK(o.finished_at_ns - o.started_at_ns == 2 * kSec);
  CHECK(o.started_at_ns == o.enqueued_at_ns);
}

TEST_CASE("with the fake clock the ticket's ETA follows the queue position and the running job's age") {
  FakeClock clock;
  lane_options_t o = fake_options(clock, 1);
  o.eta_default_runtime_ns = kSec;
  LaneFixture fx("eta", o);
  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("running", g));
  REQUIRE(fx.rec.wait_started("running"));

  lane_ticket_t t1 = fx.submit_ok(fx.probe("q1"));
  lane_ticket_t t2 = fx.submit_ok(fx.probe("q2"));
  CHECK(t1.position == 1);
  CHECK(t1.eta_ns == 1 * kSec);  // the running job is expected to take 1 s
  CHECK(t2.position == 2);
  CHECK(t2.eta_ns == 2 * kSec);  // then q1 takes another
  clock.advance(250 * kMs);
  lane_ticket_t t3 = fx.submit_ok(fx.probe("q3"));
  CHECK(t3.position == 3);
  CHECK(t3.eta_ns == 2 * kSec + 750 * kMs);
  CHECK(stats_of(fx.lane).oldest_queued_at_ns == clock.now - 250 * kMs);

  // max_wait_ns: refused with LANE_ERR_BUSY, the ticket still filled, never queued.
  Probe &impatient = fx.probe("impatient");
  lane_job_t j = fx.job_for(impatient);
  j.max_wait_ns = 1 * kSec;
  lane_ticket_t tb = LANE_TICKET_INIT;
  CHECK(lane_submit(fx.lane, &j, &tb) == LANE_ERR_BUSY);
  CHECK(has_message());
  CHECK(tb.position == 4);
  CHECK(tb.eta_ns == 3 * kSec + 750 * kMs);
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.queued == 3);
  CHECK(s.refused == 1);
  CHECK(s.submitted == 4);

  // A patient one is accepted.
  Probe &patient = fx.probe("patient");
  lane_job_t jp = fx.job_for(patient);
  jp.max_wait_ns = 10 * kSec;
  CHECK(lane_submit(fx.lane, &jp, nullptr) == LANE_OK);

  g.open();
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  CHECK(impatient.runs == 0);
  CHECK(impatient.dones == 0);
  CHECK(patient.dones == 1);
}

TEST_CASE("with runtime history the ETA uses the mean runtime instead of the default") {
  FakeClock clock;
  lane_options_t o = fake_options(clock, 1);
  LaneFixture fx("eta-history", o);
  for (int i = 0; i < 2; ++i) {
    Probe &p = fx.probe("h" + std::to_string(i), [&clock](lane_ctx_t *) -> std::int32_t {
      clock.advance(4 * kSec);
      return 0;
    });
    lane_job_t j = fx.job_for(p);
    REQUIRE(lane_submit_wait(fx.lane, &j, -1, nullptr) == LANE_OK);
  }
  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("running", g));
  REQUIRE(fx.rec.wait_started("running"));
  lane_ticket_t t = fx.submit_ok(fx.probe("q"));
  CHECK(t.position == 1);
  CHECK(t.eta_ns == 4 * kSec);
}

TEST_CASE("max_queued refuses with LANE_ERR_QUEUE_FULL and no outcome") {
  lane_options_t o = LANE_OPTIONS_INIT;
  o.max_queued = 2;
  LaneFixture fx("bounded", o);
  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("running", g));
  REQUIRE(fx.rec.wait_started("running"));
  fx.submit_ok(fx.probe("q1"));
  fx.submit_ok(fx.probe("q2"));
  Probe &over = fx.probe("over");
  CHECK(fx.submit(over) == LANE_ERR_QUEUE_FULL);
  CHECK(has_message());
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.queued == 2);
  CHECK(s.refused == 1);
  g.open();
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  CHECK(over.dones == 0);
  CHECK(stats_of(fx.lane).completed == 3);
}

TEST_CASE("a FAIR_SHARE lane's tickets say PRIORITY and TENANT when a job waits behind those") {
  lane_options_t o = LANE_OPTIONS_INIT;
  o.policy = LANE_POLICY_FAIR_SHARE;
  o.preemption_off = 1;
  LaneFixture fx("fair-blocked", o);
  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("running", g));
  REQUIRE(fx.rec.wait_started("running"));

  auto submit = [&](const char *id, const char *tenant, std::int32_t prio) {
    Probe &p = fx.probe(id);
    lane_job_t j = fx.job_for(p);
    j.tenant = tenant;
    j.priority = prio;
    lane_ticket_t t = LANE_TICKET_INIT;
    REQUIRE(lane_submit(fx.lane, &j, &t) == LANE_OK);
    return t;
  };
  lane_ticket_t high = submit("high", "a", 5);
  lane_ticket_t low = submit("low", "b", 0);
  lane_ticket_t a2 = submit("a2", "a", 5);
  CHECK(high.position == 1);
  CHECK(high.blocked_by == LANE_BLOCKED_FULL);
  CHECK(low.position == 2);
  CHECK(low.blocked_by == LANE_BLOCKED_PRIORITY);
  CHECK(a2.position == 2);  // before "low": higher priority
  CHECK(a2.blocked_by == LANE_BLOCKED_TENANT);
  g.open();
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  CHECK(fx.rec.outcome("a2").started_at_ns <= fx.rec.outcome("low").started_at_ns);
}

TEST_CASE("stats stay consistent while many threads submit and cancel at once") {
  LaneFixture fx(2, "busy");
  constexpr int kThreads = 4;
  constexpr int kPerThread = 40;
  std::atomic<int> accepted{0};
  std::vector<std::thread> ts;
  std::vector<Probe *> probes;
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kPerThread; ++i)
      probes.push_back(&fx.probe("t" + std::to_string(t) + "-" + std::to_string(i), [](lane_ctx_t *ctx) {
        lane_ctx_wait(ctx, 200'000);  // 0.2 ms, or less if cancelled
        return 0;
      }));
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Probe &p = *probes[static_cast<std::size_t>(t * kPerThread + i)];
        if (fx.submit(p) == LANE_OK) ++accepted;
        if (i % 3 == 0) lane_cancel(fx.lane, p.id.c_str(), LANE_CANCEL_QUEUED | LANE_CANCEL_RUNNING);
        if (i % 7 == 0) {
          lane_stats_t s{};
          s.struct_size = sizeof s;
          lane_stats(fx.lane, &s);
        }
      }
    });
  }
  for (auto &t : ts) t.join();
  REQUIRE(lane_wait_idle(fx.lane, 30 * kSec) == LANE_OK);
  CHECK(accepted == kThreads * kPerThread);
  for (Probe *p : probes) CHECK(p->dones == 1);
  CHECK(fx.rec.total_outcomes() == static_cast<std::size_t>(kThreads * kPerThread));
  lane_stats_t s = stats_of(fx.lane);
  CHECK(s.submitted == static_cast<std::uint64_t>(kThreads * kPerThread));
  CHECK(s.running == 0);
  CHECK(s.queued == 0);
  check_invariant(s);
}

// Provider budgets in the scheduler core: jobs of several slots, rate
// limits on requests and cost, per-tenant running limits, run timeouts,
// release / reacquire and the adaptive width, alone and together with fair
// share, priorities, preemption and the strict cap. Fake times throughout.
#include <cmath>
#include <deque>

#include "core_fixture.hpp"

using namespace lane_test;

namespace {

Config with_preemption(Config c, std::int64_t guard) {
  c.preemption = true;
  c.preempt_min_runtime_ns = guard;
  return c;
}

// Steps the lane to each deadline it asks for until `until`, recording when
// each job was dispatched.
void run_deadlines(CoreLane &lane, std::int64_t until) {
  for (int i = 0; i < 100'000; ++i) {
    const std::int64_t d = lane.sched.next_deadline();
    if (d == kNoDeadline || d > until) return;
    lane.tick(d);
  }
  FAIL("deadline loop does not end");
}

}  // namespace

TEST_SUITE("budgets.slots") {

TEST_CASE("a job of 2 slots on a lane of 3 with one running goes at once and fills the lane") {
  CoreLane lane(fifo(3));
  lane.submit("one", 0);
  lane.submit("two", 0, {.slots = 2});
  CHECK(lane.trace() == "D:two");
  CHECK(lane.sched.slots_in_use() == 3);
  CHECK(lane.sched.holding() == 2);
  lane.submit("x", 0);
  CHECK(lane.last.position == 1);
  CHECK(lane.last.blocked_by == LANE_BLOCKED_FULL);
  lane.finish("two", ms(10));
  CHECK(lane.trace() == "O:two/OK D:x");
  CHECK(lane.sched.slots_in_use() == 2);
  lane.finish_all(ms(20));
  lane.expect_one_outcome_each();
}

TEST_CASE("head of line: a 2-slot head with one slot free keeps the 1-slot job behind it waiting") {
  CoreLane lane(fifo(3));
  lane.submit("a", 0);
  lane.submit("b", 0);
  lane.submit("big", 0, {.slots = 2});
  CHECK(lane.last.position == 1);
  CHECK(lane.sched.slots_in_use() == 2);
  lane.submit("small", 0);  // one slot is free, but the big job is first
  CHECK(lane.trace() == "");
  CHECK(lane.last.position == 2);
  lane.tick(ms(1));
  CHECK(lane.sched.slots_in_use() == 2);
  // The big job starts as soon as one of the running jobs returns, not later.
  lane.finish("a", ms(5));
  CHECK(lane.trace() == "O:a/OK D:big");
  CHECK(lane.sched.slots_in_use() == 3);
  lane.finish("b", ms(6));
  CHECK(lane.trace() == "O:b/OK D:small");
  lane.finish_all(ms(10));
  lane.expect_one_outcome_each();
}

TEST_CASE("a job wanting more slots than the lane can ever give is refused, not queued forever") {
  CoreLane lane(fifo(2));
  lane.submit("huge", 0, {.slots = 3});
  CHECK(lane.last.status == LANE_ERR_INVALID);
  lane.submit("neg", 0, {.cost = -1});
  CHECK(lane.last.status == LANE_ERR_INVALID);
  lane.submit("fits", 0, {.slots = 2});
  CHECK(lane.last.status == LANE_OK);
  CHECK(lane.trace() == "D:fits");
  lane.finish_all(ms(1));
  lane.expect_one_outcome_each();
}

TEST_CASE("a lowered cap below a queued job's slots still runs it, alone, holding the whole lane") {
  CoreLane lane(fifo(3));
  lane.submit("a", 0);
  lane.submit("big", 0, {.slots = 3});
  lane.resize(2, ms(1));
  lane.finish("a", ms(2));
  CHECK(lane.trace() == "O:a/OK D:big");
  CHECK(lane.sched.slots_in_use() == 2);
  lane.finish_all(ms(3));
  lane.expect_one_outcome_each();
}

TEST_CASE("strict cap in slots: a 2-slot preemptor waits for its victim to return") {
  CoreLane lane(with_preemption(fifo(3), 0));
  lane.submit("v", 0, {.flags = kPreemptible, .slots = 2});
  lane.submit("w", 0);
  lane.submit("hi", ms(1), {.priority = 5, .slots = 2});
  CHECK(lane.trace() == "C:v/PREEMPTED");
  CHECK(lane.sched.slots_in_use() == 3);
  lane.finish("v", ms(2));
  CHECK(lane.trace() == "O:v/PREEMPTED D:hi");
  CHECK(lane.sched.slots_in_use() == 3);
  lane.finish_all(ms(3));
  lane.expect_one_outcome_each();
}

TEST_CASE("a victim of one slot is not preempted for a job that needs two when only it would be freed") {
  CoreLane lane(with_preemption(fifo(2), 0));
  lane.submit("v", 0, {.flags = kPreemptible});
  lane.submit("keep", 0);
  lane.submit("hi", ms(1), {.priority = 5, .slots = 2});
  CHECK(lane.trace() == "");  // preempting v alone would not make room
  lane.finish("keep", ms(2));
  CHECK(lane.trace() == "O:keep/OK C:v/PREEMPTED");
  lane.finish("v", ms(3));
  CHECK(lane.trace() == "O:v/PREEMPTED D:hi");
  lane.finish_all(ms(4));
  lane.expect_one_outcome_each();
}

TEST_CASE("fair share charges slot-time: a 2-slot run counts twice its runtime") {
  CoreLane lane(fair(3));
  lane.submit("a", 0, {.tenant = "alice", .slots = 2});
  lane.submit("b", 0, {.tenant = "bob"});
  lane.submit("a2", 0, {.tenant = "alice"});  // queued: keeps both tenants known
  lane.submit("b2", 0, {.tenant = "bob"});
  lane.finish("b", sec(1));
  lane.finish("a", sec(1));
  const auto &q = static_cast<const lane::core::FairQueue &>(lane.sched.queue());
  CHECK(q.served("alice") == doctest::Approx(2.0 * sec(1)));
  CHECK(q.served("bob") == doctest::Approx(1.0 * sec(1)));
}

}  // TEST_SUITE

TEST_SUITE("budgets.rate") {

TEST_CASE("a request limit lets the burst through and then one job per interval, with the deadline at each") {
  CoreLane lane(fifo(100));
  REQUIRE(lane.set_rate_limit(RateKind::Requests, 10, sec(1), 2, 0) == LANE_OK);
  for (int i = 0; i < 6; ++i) lane.submit("j" + std::to_string(i), 0);
  CHECK(lane.dispatch_order() == std::vector<std::string>{"j0", "j1"});
  CHECK(lane.last.blocked_by == LANE_BLOCKED_RATE);
  CHECK(lane.sched.next_deadline() == ms(100));
  CHECK(lane.stats(0).blocked_by == LANE_BLOCKED_RATE);
  lane.tick(ms(99));
  CHECK(lane.trace() == "");
  lane.tick(ms(100));
  CHECK(lane.trace() == "D:j2");
  CHECK(lane.sched.next_deadline() == ms(200));
  run_deadlines(lane, sec(10));
  for (int i = 0; i < 6; ++i) CHECK(lane.job("j" + std::to_string(i)).started_at == std::max<std::int64_t>(0, ms(100) * (i - 1)));
  lane.finish_all(sec(1));
  lane.expect_one_outcome_each();
}

TEST_CASE("a rate-limited lane's ETA is right within 10% and max_wait_ns refuses what would wait too long") {
  CoreLane lane(fifo(50));
  REQUIRE(lane.set_rate_limit(RateKind::Requests, 5, sec(1), 1, 0) == LANE_OK);
  std::vector<std::int64_t> eta;
  for (int i = 0; i < 30; ++i) {
    lane.submit("j" + std::to_string(i), ms(3) * i);
    eta.push_back(lane.last.position == 0 ? 0 : lane.last.eta_ns);
  }
  run_deadlines(lane, sec(20));
  for (int i = 1; i < 30; ++i) {
    const Job &j = lane.job("j" + std::to_string(i));
    const double waited = static_cast<double>(j.started_at - j.enqueued_at);
    CHECK_MESSAGE(std::abs(static_cast<double>(eta[i]) - waited) <= 0.1 * waited + 1, "job ", i, " eta ", eta[i],
                  " waited ", waited);
  }
  // 30 jobs queued at 200 ms apart: one more would wait about 6 s.
  CoreLane busy(fifo(50));
  busy.set_rate_limit(RateKind::Requests, 5, sec(1), 1, 0);
  for (int i = 0; i < 30; ++i) busy.submit("j" + std::to_string(i), 0);
  busy.submit("impatient", 0, {.max_wait_ns = sec(5)});
  CHECK(busy.last.status == LANE_ERR_BUSY);
  busy.submit("patient", 0, {.max_wait_ns = sec(7)});
  CHECK(busy.last.status == LANE_OK);
  CHECK(busy.last.eta_ns == doctest::Approx(static_cast<double>(sec(6))).epsilon(0.1));
}

TEST_CASE("a cost limit charges the estimate at dispatch and corrects it with the real cost") {
  CoreLane lane(fifo(10));
  REQUIRE(lane.set_rate_limit(RateKind::Cost, 100, sec(1), 100, 0) == LANE_OK);
  lane.submit("a", 0, {.cost = 60});
  lane.submit("b", 0, {.cost = 60});
  CHECK(lane.trace() == "");  // 60 + 60 > a bucket of 100
  CHECK(lane.last.blocked_by == LANE_BLOCKED_RATE);
  CHECK(lane.sched.next_deadline() == ms(200));  // 20 units drain in 200 ms
  // a used only 10: the 50 it did not use go back, so b may go at once.
  lane.finish("a", ms(50), 0, FinishInfo{.cost = 10});
  CHECK(lane.trace() == "O:a/OK D:b");
  // b used 160: the extra 100 are charged, and the next job waits for them.
  lane.set_cost("b", 160, ms(60));
  lane.submit("c", ms(60), {.cost = 10});
  CHECK(lane.trace() == "");
  const std::int64_t go = lane.sched.next_deadline();
  CHECK(go == ms(800));  // 164 - 90 units drain in 740 ms
  lane.tick(go);
  CHECK(lane.trace() == "D:c");
  lane.submit("too-big", go, {.cost = 101});
  CHECK(lane.last.status == LANE_ERR_INVALID);
  lane.finish_all(sec(5));
  lane.expect_one_outcome_each();
}

TEST_CASE("request and cost limits at once: the later of the two decides") {
  CoreLane lane(fifo(10));
  lane.set_rate_limit(RateKind::Requests, 1, ms(100), 1, 0);
  lane.set_rate_limit(RateKind::Cost, 10, sec(1), 10, 0);
  lane.submit("a", 0, {.cost = 5});
  lane.submit("b", 0, {.cost = 1});   // requests: at 100 ms; cost: now
  lane.submit("c", 0, {.cost = 10});  // requests: 200 ms; cost: 6 units short -> 600 ms
  CHECK(lane.dispatch_order() == std::vector<std::string>{"a"});
  run_deadlines(lane, sec(5));
  CHECK(lane.job("b").started_at == ms(100));
  CHECK(lane.job("c").started_at == ms(600));
  CHECK(lane.set_rate_limit(RateKind::Cost, -1, sec(1), 1, sec(1)) == LANE_ERR_INVALID);
  lane.finish_all(sec(6));
  lane.expect_one_outcome_each();
}

TEST_CASE("turning a rate limit off lets the waiting jobs go") {
  CoreLane lane(fifo(10));
  lane.set_rate_limit(RateKind::Requests, 1, sec(60), 1, 0);
  lane.submit("a", 0);
  lane.submit("b", 0);
  CHECK(lane.sched.next_deadline() == sec(60));
  lane.set_rate_limit(RateKind::Requests, 0, 0, 0, sec(1));
  CHECK(lane.trace() == "D:b");
  CHECK(lane.sched.next_deadline() == kNoDeadline);
  lane.finish_all(sec(2));
  lane.expect_one_outcome_each();
}

}  // TEST_SUITE

TEST_SUITE("budgets.tenant") {

TEST_CASE("a tenant at its limit waits while other tenants run (FIFO)") {
  CoreLane lane(fifo(4));
  lane.set_tenant_limit("alice", 1, 0);
  lane.submit("a1", 0, {.tenant = "alice"});
  lane.submit("a2", 0, {.tenant = "alice"});
  CHECK(lane.last.blocked_by == LANE_BLOCKED_TENANT_LIMIT);
  lane.submit("a3", 0, {.tenant = "alice"});
  lane.submit("b1", 0, {.tenant = "bob"});
  lane.submit("b2", 0, {.tenant = "bob"});
  CHECK(lane.dispatch_order() == std::vector<std::string>{"a1", "b1", "b2"});
  CHECK(lane.sched.tenant_running("alice") == 1);
  CHECK(lane.sched.queued() == 2);
  lane.finish("a1", ms(10));
  CHECK(lane.trace() == "O:a1/OK D:a2");
  lane.finish("b1", ms(11));
  CHECK(lane.trace() == "O:b1/OK");  // a3 still waits for alice
  lane.finish("a2", ms(12));
  CHECK(lane.trace() == "O:a2/OK D:a3");
  lane.finish_all(ms(20));
  lane.expect_one_outcome_each();
}

TEST_CASE("a tenant limit composes with fair share and priorities") {
  CoreLane lane(fair(3));
  lane.set_tenant_limit("alice", 2, 0);
  for (int i = 0; i < 6; ++i) lane.submit("a" + std::to_string(i), 0, {.tenant = "alice"});
  lane.submit("b0", 0, {.tenant = "bob"});
  lane.submit("c0", 0, {.priority = 3, .tenant = "carol"});
  // alice holds 2 slots; bob gets the third; carol's higher priority waits for a slot, not for alice.
  CHECK(lane.dispatch_order() == std::vector<std::string>{"a0", "a1", "b0"});
  lane.finish("b0", ms(10));
  CHECK(lane.trace() == "O:b0/OK D:c0");
  lane.finish("c0", ms(20));
  CHECK(lane.trace() == "O:c0/OK");  // nothing but alice waits, and alice is at her limit
  CHECK(lane.sched.slots_in_use() == 2);
  lane.set_tenant_limit("alice", 3, ms(30));  // raising it lets her take the free slot
  CHECK(lane.trace() == "D:a2");
  lane.set_tenant_limit("alice", 0, ms(40));  // removed: nothing more to hold her
  lane.finish_all(ms(50));
  lane.expect_one_outcome_each();
}

TEST_CASE("a parked job keeps its queue timeout and can be cancelled; a preemptor at its tenant's limit does not preempt") {
  CoreLane lane(with_preemption(fifo(2), 0));
  lane.set_tenant_limit("t", 1, 0);
  lane.submit("t1", 0, {.flags = kPreemptible, .tenant = "t"});
  lane.submit("t2", 0, {.tenant = "t", .queue_timeout_ns = sec(1)});
  lane.submit("t3", 0, {.tenant = "t"});
  CHECK(lane.sched.next_deadline() == sec(1));
  lane.tick(sec(1));
  CHECK(lane.trace() == "O:t2/TIMEOUT");
  CHECK(lane.cancel("t3", LANE_CANCEL_QUEUED, sec(1)) == LANE_OK);
  CHECK(lane.trace() == "O:t3/CANCELLED");
  lane.submit("o", sec(1));
  lane.submit("t-hi", sec(2), {.priority = 9, .tenant = "t"});
  CHECK(lane.trace() == "");  // t1 is preemptible, but t-hi's tenant is at its limit
  CHECK(lane.last.blocked_by == LANE_BLOCKED_TENANT_LIMIT);
  lane.finish_all(sec(3));
  lane.expect_one_outcome_each();
}

}  // TEST_SUITE

TEST_SUITE("budgets.run_timeout") {

TEST_CASE("a job still running after run_timeout_ns is stopped and ends LANE_ERR_TIMEOUT when it returns") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  lane.submit("slow", 0, {.run_timeout_ns = sec(5)});
  CHECK(lane.sched.next_deadline() == kNoDeadline);  // queued time does not count
  lane.finish("a", sec(2));
  CHECK(lane.trace() == "O:a/OK D:slow");
  CHECK(lane.sched.next_deadline() == sec(7));
  lane.tick(sec(7));
  CHECK(lane.trace() == "C:slow/TIMEOUT");
  lane.finish("slow", sec(8));
  CHECK(lane.trace() == "O:slow/TIMEOUT");
  CHECK(lane.stats(sec(8)).timed_out == 1);
  lane.expect_one_outcome_each();
}

TEST_CASE("a run that ends in time leaves no deadline, and the earlier of run and outcome timeout fires") {
  CoreLane lane(fifo(1));
  lane.submit("quick", 0, {.run_timeout_ns = sec(5)});
  lane.finish("quick", sec(1));
  CHECK(lane.sched.next_deadline() == kNoDeadline);
  lane.submit("both", sec(1), {.outcome_timeout_ns = sec(3), .run_timeout_ns = sec(10)});
  CHECK(lane.sched.next_deadline() == sec(4));
  lane.tick(sec(4));
  CHECK(lane.trace() == "C:both/TIMEOUT");
  CHECK(lane.sched.next_deadline() == kNoDeadline);  // the run timeout is moot: it was told to stop
  lane.tick(sec(11));
  CHECK(lane.trace() == "");
  lane.finish("both", sec(12));
  CHECK(lane.trace() == "O:both/TIMEOUT");
  lane.expect_one_outcome_each();
}

TEST_CASE("a preempted job that is requeued gets a fresh run timeout on its next run") {
  CoreLane lane(with_preemption(fifo(1), 0));
  lane.submit("r", 0, {.flags = kRequeue, .run_timeout_ns = sec(5)});
  lane.submit("hi", sec(1), {.priority = 5});
  lane.finish("r", sec(2));
  CHECK(lane.trace() == "D:hi");
  CHECK(lane.sched.next_deadline() == kNoDeadline);  // r is queued: no run timeout
  lane.finish("hi", sec(3));
  CHECK(lane.trace() == "O:hi/OK D:r");
  CHECK(lane.sched.next_deadline() == sec(8));
  lane.finish_all(sec(4));
  lane.expect_one_outcome_each();
}

}  // TEST_SUITE

TEST_SUITE("budgets.release") {

TEST_CASE("a released job's slot goes to the queue, and when it reacquires it goes ahead of newer submissions") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  lane.submit("b", ms(1));
  CHECK(lane.release("a", ms(2)) == LANE_OK);
  CHECK(lane.trace() == "D:b");
  CHECK(lane.sched.running() == 2);
  CHECK(lane.sched.slots_in_use() == 1);
  lane.submit("c", ms(3));
  CHECK(lane.reacquire("a", ms(4)) == LANE_OK);
  CHECK(lane.trace() == "");
  lane.finish("b", ms(5));
  CHECK(lane.trace() == "O:b/OK D:a");
  CHECK(lane.job("a").regrant);
  CHECK(lane.job("a").started_at == 0);  // the run is the same run
  lane.finish("a", ms(6));
  CHECK(lane.trace() == "O:a/OK D:c");
  CHECK_FALSE(lane.job("c").regrant);
  lane.finish_all(ms(7));
  lane.expect_one_outcome_each();
}

TEST_CASE("a reacquirer does not pass a queued job that was accepted before it") {
  CoreLane lane(fifo(2));
  lane.submit("x", 0);
  lane.submit("old", 0);
  lane.submit("queued-first", 0);
  lane.submit("a", ms(1));  // queued, behind queued-first
  lane.finish("x", ms(2));
  CHECK(lane.trace() == "O:x/OK D:queued-first");
  lane.finish("old", ms(3));
  CHECK(lane.trace() == "O:old/OK D:a");
  lane.submit("new", ms(4));
  lane.release("a", ms(5));
  CHECK(lane.trace() == "D:new");
  lane.submit("newer", ms(6));
  lane.reacquire("a", ms(7));
  lane.finish("queued-first", ms(8));
  CHECK(lane.trace() == "O:queued-first/OK D:a");  // ahead of newer, accepted after it
  lane.finish_all(ms(9));
  lane.expect_one_outcome_each();
}

TEST_CASE("release and reacquire refuse jobs in the wrong state") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  lane.submit("q", 0);
  CHECK(lane.release("q", ms(1)) == LANE_ERR_INVALID);
  CHECK(lane.set_cost("q", 5, ms(1)) == LANE_ERR_INVALID);
  CHECK(lane.reacquire("a", ms(1)) == LANE_ERR_INVALID);
  lane.release("a", ms(2));
  CHECK(lane.trace() == "D:q");
  CHECK(lane.release("a", ms(3)) == LANE_ERR_INVALID);
  CHECK(lane.set_cost("a", 0, ms(3)) == LANE_ERR_INVALID);
  CHECK(lane.set_cost("a", 5, ms(3)) == LANE_OK);  // no cost limit: nothing to correct, but allowed
  lane.finish_all(ms(4));
  lane.expect_one_outcome_each();
}

TEST_CASE("cancel while released: the cancel effect now, the outcome when it returns; reacquire is refused") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  lane.release("a", ms(1));
  CHECK(lane.cancel("a", LANE_CANCEL_QUEUED, ms(2)) == LANE_ERR_NOT_QUEUED);
  CHECK(lane.cancel("a", LANE_CANCEL_RUNNING, ms(2)) == LANE_OK);
  CHECK(lane.trace() == "C:a/CANCELLED");
  CHECK(lane.reacquire("a", ms(3)) == LANE_ERR_CANCELLED);
  lane.finish("a", ms(4));
  CHECK(lane.trace() == "O:a/CANCELLED");
  lane.expect_one_outcome_each();
}

TEST_CASE("cancel while reacquiring takes it out of the line: the slot goes to the next job") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  lane.release("a", ms(1));
  lane.submit("b", ms(1));
  lane.submit("c", ms(1));
  lane.reacquire("a", ms(2));
  CHECK(lane.cancel("a", LANE_CANCEL_RUNNING, ms(3)) == LANE_OK);
  CHECK(lane.trace() == "C:a/CANCELLED");
  lane.finish("b", ms(4));
  CHECK(lane.trace() == "O:b/OK D:c");
  CHECK(lane.sched.slots_in_use() == 1);
  lane.finish("a", ms(5));
  CHECK(lane.trace() == "O:a/CANCELLED");
  lane.finish_all(ms(6));
  lane.expect_one_outcome_each();
}

TEST_CASE("close CANCEL while released and while reacquiring asks both to stop; they end CLOSED when they return") {
  CoreLane lane(fifo(1));
  lane.submit("r", 0);
  lane.release("r", ms(1));
  lane.submit("w", ms(1));
  lane.release("w", ms(2));
  lane.submit("holder", ms(2));
  lane.reacquire("w", ms(3));
  lane.submit("q", ms(3));
  lane.close(LANE_CLOSE_CANCEL, ms(4));
  CHECK(lane.trace() == "O:q/CLOSED C:w/CLOSED C:r/CLOSED C:holder/CLOSED");
  lane.finish("holder", ms(5));
  CHECK(lane.trace() == "O:holder/CLOSED");  // w is not granted: it was told to stop
  lane.finish("w", ms(6));
  lane.finish("r", ms(7));
  CHECK(lane.trace() == "O:r/CLOSED");
  lane.expect_one_outcome_each();
}

TEST_CASE("close DRAIN still gives a reacquirer its slot back") {
  CoreLane lane(fifo(1));
  lane.submit("a", 0);
  lane.release("a", ms(1));
  lane.submit("b", ms(1));
  lane.reacquire("a", ms(2));
  lane.close(LANE_CLOSE_DRAIN, ms(3));
  lane.finish("b", ms(4));
  CHECK(lane.trace() == "O:b/OK D:a");
  lane.finish("a", ms(5));
  CHECK(lane.trace() == "O:a/OK");
  lane.expect_one_outcome_each();
}

TEST_CASE("a reacquirer whose tenant is at its limit waits for its tenant and keeps its place") {
  CoreLane lane(fifo(3));
  lane.set_tenant_limit("t", 1, 0);
  lane.submit("a", 0, {.tenant = "t"});
  lane.release("a", ms(1));
  lane.submit("b", ms(1), {.tenant = "t"});
  CHECK(lane.trace() == "D:b");
  lane.reacquire("a", ms(2));
  CHECK(lane.trace() == "");
  CHECK(lane.sched.running() == 2);
  lane.submit("c", ms(3), {.tenant = "t"});
  lane.finish("b", ms(4));
  CHECK(lane.trace() == "O:b/OK D:a");
  lane.finish("a", ms(5));
  CHECK(lane.trace() == "O:a/OK D:c");
  lane.finish_all(ms(6));
  lane.expect_one_outcome_each();
}

TEST_CASE("a released job is never a preemption victim; after reacquiring it is again") {
  CoreLane lane(with_preemption(fifo(1), 0));
  lane.submit("v", 0, {.flags = kPreemptible});
  lane.release("v", ms(1));
  lane.submit("x", ms(1));
  lane.reacquire("v", ms(2));
  lane.finish("x", ms(3));
  CHECK(lane.trace() == "O:x/OK D:v");
  lane.submit("hi", ms(4), {.priority = 2});
  CHECK(lane.trace() == "C:v/PREEMPTED");
  lane.finish("v", ms(5));
  CHECK(lane.trace() == "O:v/PREEMPTED D:hi");
  lane.finish_all(ms(6));
  lane.expect_one_outcome_each();
}

}  // TEST_SUITE

TEST_SUITE("budgets.adaptive") {

TEST_CASE("the width halves on overload (not below min), grows by one per width of successes (not above max)") {
  Config c = fifo(4);
  c.adaptive_min = 2;
  c.adaptive_max = 6;
  CoreLane lane(c);
  CHECK(lane.sched.cap() == 4);
  for (int i = 0; i < 4; ++i) lane.submit("s" + std::to_string(i), 0);
  for (int i = 0; i < 4; ++i) lane.finish("s" + std::to_string(i), ms(1));
  CHECK(lane.sched.adaptive_width() == 5);
  for (int i = 0; i < 5; ++i) lane.submit("t" + std::to_string(i), ms(2));
  lane.finish("t0", ms(3), 0, FinishInfo{.overloaded = true});
  CHECK(lane.sched.adaptive_width() == 2);
  // The others were dispatched at the old width: their signals are not counted again.
  lane.finish("t1", ms(3), 0, FinishInfo{.overloaded = true});
  CHECK(lane.sched.adaptive_width() == 2);
  lane.submit("u", ms(3));
  CHECK(lane.last.position == 1);  // 3 still run on a width of 2
  lane.finish_all(ms(4));
  lane.submit("v", ms(5));
  lane.finish("v", ms(6), 0, FinishInfo{.overloaded = true});
  CHECK(lane.sched.adaptive_width() == 2);  // min
  for (int i = 0; i < 40; ++i) {
    lane.submit("w" + std::to_string(i), ms(7));
    lane.finish("w" + std::to_string(i), ms(7));
  }
  CHECK(lane.sched.adaptive_width() == 6);  // max
  lane.expect_one_outcome_each();
}

TEST_CASE("an overload may close the gate for a cooldown") {
  Config c = fifo(4);
  c.adaptive_min = 1;
  c.adaptive_max = 4;
  c.adaptive_cooldown_ns = sec(2);
  CoreLane lane(c);
  lane.submit("a", 0);
  lane.submit("b", 0);
  lane.finish("a", sec(1), 0, FinishInfo{.overloaded = true});
  lane.submit("c", sec(1));
  CHECK(lane.last.blocked_by == LANE_BLOCKED_COOLDOWN);
  CHECK(lane.sched.next_deadline() == sec(3));
  lane.tick(sec(2));
  CHECK(lane.trace() == "");
  lane.tick(sec(3));
  CHECK(lane.trace() == "D:c");  // the width is 2 now: b and c
  CHECK(lane.sched.adaptive_width() == 2);
  lane.finish_all(sec(4));
  lane.expect_one_outcome_each();
}

TEST_CASE("AIMD converges around the capacity of a synthetic provider") {
  // The provider takes up to 5 requests at once; a request that finds more
  // than 5 in flight reports overloaded. Jobs last 100 ms; the lane always
  // has work waiting.
  Config c = fifo(1);
  c.adaptive_min = 1;
  c.adaptive_max = 32;
  CoreLane lane(c);
  constexpr std::uint32_t kCapacity = 5;
  int next = 0;
  std::deque<const Job *> running;  // every run lasts 100 ms: they end in dispatch order
  auto note = [&] {
    for (const Effect &e : lane.last_effects()) {
      if (e.kind == Effect::Kind::Dispatch) running.push_back(e.job);
    }
  };
  auto top_up = [&](std::int64_t now) {
    while (lane.sched.queued() < 4) {
      lane.submit("j" + std::to_string(next++), now);
      note();
    }
  };
  std::vector<std::uint32_t> widths;
  std::int64_t now = 0;
  top_up(now);
  for (int step = 0; step < 4000; ++step) {
    REQUIRE(!running.empty());
    const Job *first = running.front();
    running.pop_front();
    now = std::max(now, first->started_at + ms(100));
    const bool overloaded = lane.sched.holding() > kCapacity;
    lane.finish(first->id, now, 0, FinishInfo{.overloaded = overloaded});
    note();
    top_up(now);
    if (step >= 1000) widths.push_back(lane.sched.adaptive_width());
  }
  const auto [lo, hi] = std::minmax_element(widths.begin(), widths.end());
  CHECK(*lo >= kCapacity / 2);
  CHECK(*hi <= kCapacity + 2);
  double mean = 0;
  for (auto w : widths) mean += w;
  mean /= static_cast<double>(widths.size());
  CHECK(mean == doctest::Approx(static_cast<double>(kCapacity)).epsilon(0.4));
}

}  // TEST_SUITE

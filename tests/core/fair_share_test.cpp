// FAIR_SHARE order: strict priority, then the tenant with the least slot-time
// per unit of weight, FIFO within a tenant, and priority aging. Dispatch
// orders are checked under a simulated clock where each job ends at
// started_at + its runtime.
#include "core_fixture.hpp"

using namespace lane_test;

namespace {

std::int64_t one_second(const Job &) { return sec(1); }

std::size_t count_prefix(const std::vector<std::string> &ids, std::string_view prefix, std::size_t first_n) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < ids.size() && i < first_n; ++i) {
    if (ids[i].starts_with(prefix)) ++n;
  }
  return n;
}

const lane::core::FairQueue &fair_queue(const CoreLane &lane) {
  return dynamic_cast<const lane::core::FairQueue &>(lane.sched.queue());
}

}  // namespace

TEST_SUITE("fair_share") {

TEST_CASE("strict priority comes first whatever the tenant's share") {
  CoreLane lane(fair(1));
  lane.submit("x", 0, {.tenant = "a"});
  lane.submit("low", 0, {.priority = 0, .tenant = "b"});
  lane.submit("high", 0, {.priority = 5, .tenant = "a"});
  lane.submit("mid", 0, {.priority = 1, .tenant = "a"});
  lane.simulate(sec(100), one_second);
  CHECK(lane.dispatch_order() == std::vector<std::string>{"x", "high", "mid", "low"});
  lane.expect_one_outcome_each();
}

TEST_CASE("jobs of one tenant run in submission order") {
  CoreLane lane(fair(1));
  for (const char *id : {"a1", "a2", "a3", "a4"}) lane.submit(id, 0, {.tenant = "a"});
  lane.simulate(sec(100), one_second);
  CHECK(lane.dispatch_order() == std::vector<std::string>{"a1", "a2", "a3", "a4"});
  lane.expect_one_outcome_each();
}

TEST_CASE("equal short jobs alternate between tenants even when one tenant submitted ten first") {
  CoreLane lane(fair(1));
  for (int i = 1; i <= 10; ++i) lane.submit("a" + std::to_string(i), 0, {.tenant = "a"});
  for (int i = 1; i <= 5; ++i) lane.submit("b" + std::to_string(i), 0, {.tenant = "b"});
  lane.simulate(sec(100), one_second);
  CHECK(lane.dispatch_order() == std::vector<std::string>{"a1", "b1", "a2", "b2", "a3", "b3", "a4", "b4", "a5",
                                                          "b5", "a6", "a7", "a8", "a9", "a10"});
  lane.expect_one_outcome_each();
}

TEST_CASE("the same submissions on a FIFO lane run in arrival order") {
  // The control for the test above: the alternation is the policy's doing.
  CoreLane lane(fifo(1));
  for (int i = 1; i <= 3; ++i) lane.submit("a" + std::to_string(i), 0, {.tenant = "a"});
  lane.submit("b1", 0, {.tenant = "b"});
  lane.simulate(sec(100), one_second);
  CHECK(lane.dispatch_order() == std::vector<std::string>{"a1", "a2", "a3", "b1"});
  lane.expect_one_outcome_each();
}

TEST_CASE("a tenant whose jobs run ten times longer gets about a tenth of the dispatches") {
  CoreLane lane(fair(1));
  for (int i = 0; i < 40; ++i) lane.submit("a" + std::to_string(i), 0, {.tenant = "a"});
  for (int i = 0; i < 400; ++i) lane.submit("b" + std::to_string(i), 0, {.tenant = "b"});
  lane.simulate(sec(400), [](const Job &j) { return j.id.starts_with("a") ? sec(10) : sec(1); });
  const double a = static_cast<double>(lane.dispatch_count("a"));
  const double b = static_cast<double>(lane.dispatch_count("b"));
  INFO("a dispatches: ", a, ", b dispatches: ", b);
  REQUIRE(a >= 10);
  CHECK(b / a >= 8.0);
  CHECK(b / a <= 12.0);
  // Slot-time is what is shared: each tenant held the slot about half the time.
  CHECK(a * 10 / (a * 10 + b) == doctest::Approx(0.5).epsilon(0.15));
  lane.close(LANE_CLOSE_CANCEL, sec(400));
  lane.finish_all(sec(400));
  lane.expect_one_outcome_each();
}

TEST_CASE("set_tenant_weight 2 gives a tenant twice the share of a weight-1 tenant") {
  CoreLane lane(fair(1));
  CHECK(lane.sched.set_tenant_weight("a", 2));
  for (int i = 0; i < 40; ++i) lane.submit("a" + std::to_string(i), 0, {.tenant = "a"});
  for (int i = 0; i < 40; ++i) lane.submit("b" + std::to_string(i), 0, {.tenant = "b"});
  lane.simulate(sec(30), one_second);
  const auto &order = lane.dispatch_order();
  REQUIRE(order.size() >= 30);
  const std::size_t a = count_prefix(order, "a", 30);
  const std::size_t b = count_prefix(order, "b", 30);
  INFO("first 30 dispatches: a ", a, ", b ", b);
  CHECK(a >= 19);
  CHECK(a <= 21);
  CHECK(a + b == 30);
  lane.finish_all(sec(31));
  lane.expect_one_outcome_each();
}

TEST_CASE("set_tenant_weight on a FIFO lane returns false") {
  CoreLane lane(fifo(1));
  CHECK_FALSE(lane.sched.set_tenant_weight("a", 2));
}

TEST_CASE("a tenant that arrives late starts level with the others and is not owed the past") {
  CoreLane lane(fair(1));
  std::int64_t t = 0;
  for (int i = 1; i <= 9; ++i) {
    lane.submit("a" + std::to_string(i), t, {.tenant = "a"});
    t += sec(1);
    lane.finish("a" + std::to_string(i), t);
  }
  lane.submit("a10", t, {.tenant = "a"});
  for (int i = 1; i <= 3; ++i) lane.submit("b" + std::to_string(i), t, {.tenant = "b"});
  for (int i = 11; i <= 13; ++i) lane.submit("a" + std::to_string(i), t, {.tenant = "a"});
  lane.simulate(t + sec(100), one_second);
  const auto &order = lane.dispatch_order();
  REQUIRE(order.size() == 16);
  CHECK(std::vector<std::string>(order.begin() + 9, order.end()) ==
        std::vector<std::string>{"a10", "b1", "a11", "b2", "a12", "b3", "a13"});
  lane.expect_one_outcome_each();
}

TEST_CASE("aging lets a low-priority job compete as priority + k after waiting k * aging_ns") {
  Config cfg = fair(1);
  cfg.aging_ns = sec(10);
  CoreLane lane(cfg);
  lane.submit("x", 0, {.priority = 9});
  lane.submit("low", 0, {.priority = 0});
  // Every queued job ages: high arrives at 29 s so it has not aged yet.
  lane.submit("high", sec(29), {.priority = 2});
  SUBCASE("after 29 s it counts as priority 2: the tie goes to the real priority 2") {
    lane.finish("x", sec(29));
    CHECK(lane.trace() == "O:x/OK D:high");
  }
  SUBCASE("after 30 s it counts as priority 3 and goes first") {
    lane.finish("x", sec(30));
    CHECK(lane.trace() == "O:x/OK D:low");
  }
  lane.finish_all(sec(40));
  lane.expect_one_outcome_each();
}

TEST_CASE("without aging a low-priority job waits behind higher priority however long") {
  CoreLane lane(fair(1));
  lane.submit("x", 0, {.priority = 9});
  lane.submit("low", 0, {.priority = 0});
  lane.submit("high", sec(1), {.priority = 2});
  lane.finish("x", sec(100'000));
  CHECK(lane.trace() == "O:x/OK D:high");
  lane.finish_all(sec(100'001));
  lane.expect_one_outcome_each();
}

TEST_CASE("tickets in FAIR_SHARE say whether a job waits behind priority or behind its own tenant") {
  CoreLane lane(fair(1));
  lane.submit("x", 0, {.tenant = "a"});
  lane.submit("a1", 0, {.tenant = "a"});
  CHECK(lane.last.blocked_by == LANE_BLOCKED_FULL);
  lane.submit("a2", 0, {.tenant = "a"});
  CHECK(lane.last.blocked_by == LANE_BLOCKED_TENANT);
  lane.submit("h", 0, {.priority = 3, .tenant = "b"});
  CHECK(lane.last.blocked_by == LANE_BLOCKED_FULL);
  CHECK(lane.last.position == 1);
  lane.submit("b1", 0, {.tenant = "b"});
  CHECK(lane.last.blocked_by == LANE_BLOCKED_PRIORITY);
  lane.finish_all(sec(1));
  lane.expect_one_outcome_each();
}

TEST_CASE("tenants that have gone idle are forgotten, and a weighted tenant is kept") {
  CoreLane lane(fair(2));
  CHECK(lane.sched.set_tenant_weight("vip", 3));
  std::int64_t t = 0;
  for (int i = 0; i < 500; ++i) {
    const std::string id = "j" + std::to_string(i);
    lane.submit(id, t, {.tenant = "session-" + std::to_string(i)});
    t += ms(10);
    lane.finish(id, t);
  }
  CHECK(fair_queue(lane).tenant_count() == 1);
  lane.submit("v", t, {.tenant = "vip"});
  lane.finish("v", t + ms(10));
  CHECK(fair_queue(lane).tenant_count() == 1);
  CHECK(lane.sched.set_tenant_weight("vip", 1));
  CHECK(fair_queue(lane).tenant_count() == 0);
  lane.expect_one_outcome_each();
}

TEST_CASE("a refused submission leaves no tenant behind") {
  Config cfg = fair(1);
  cfg.max_queued = 2;
  CoreLane lane(cfg);
  lane.submit("x", 0, {.tenant = "a"});
  lane.submit("q", 0, {.tenant = "a"});
  lane.submit("busy", 0, {.tenant = "ghost", .max_wait_ns = 1});
  CHECK(lane.last.status == LANE_ERR_BUSY);
  lane.submit("q2", 0, {.tenant = "a"});
  lane.submit("full", 0, {.tenant = "ghost2"});
  CHECK(lane.last.status == LANE_ERR_QUEUE_FULL);
  lane.submit("deadlock", 0, {.tenant = "ghost3"}, true);
  CHECK(lane.last.status == LANE_ERR_DEADLOCK);
  CHECK(fair_queue(lane).tenant_count() == 1);
  lane.finish_all(sec(1));
  CHECK(fair_queue(lane).tenant_count() == 0);
  lane.expect_one_outcome_each();
}

TEST_CASE("a requeued victim in FAIR_SHARE goes back ahead of its tenant's later jobs") {
  Config cfg = fair(1);
  cfg.preempt_min_runtime_ns = 0;
  CoreLane lane(cfg);
  lane.submit("v", 0, {.priority = 0, .flags = kRequeue, .tenant = "a"});
  lane.submit("a2", sec(1), {.priority = 0, .tenant = "a"});
  lane.submit("h", sec(2), {.priority = 5, .tenant = "b"});
  CHECK(lane.trace() == "C:v/PREEMPTED");
  lane.finish("v", sec(3));
  CHECK(lane.trace() == "D:h");
  lane.finish("h", sec(4));
  CHECK(lane.trace() == "O:h/OK D:v");
  lane.finish_all(sec(5));
  lane.expect_one_outcome_each();
}

}  // TEST_SUITE

TEST_SUITE("requeue order") {

// Jobs accepted at one clock reading share their enqueue time; a requeued
// victim must still go back ahead of the ones accepted after it, and count
// as the queue's oldest.
TEST_CASE("a requeued victim keeps its place among jobs of the same enqueue time") {
  for (Config cfg : {fifo(1), fair(1)}) {
    cfg.preempt_min_runtime_ns = 0;
    CoreLane lane(cfg);
    lane.submit("v", 0, {.priority = 0, .flags = kRequeue, .tenant = "a"});
    lane.submit("a2", 0, {.priority = 0, .tenant = "a"});
    lane.submit("a3", 0, {.priority = 0, .tenant = "a"});
    lane.submit("a4", sec(1), {.priority = 0, .tenant = "a"});
    lane.submit("h", sec(2), {.priority = 5, .tenant = "d"});
    CHECK(lane.trace() == "C:v/PREEMPTED");
    lane.finish("v", sec(3));
    CHECK(lane.trace() == "D:h");
    CHECK(lane.sched.queue().oldest_enqueued_at() == 0);
    lane.finish("h", sec(4));
    CHECK(lane.trace() == "O:h/OK D:v");
    lane.finish("v", sec(5));
    CHECK(lane.trace() == "O:v/OK D:a2");
    lane.finish_all(sec(6));
    lane.expect_one_outcome_each();
  }
}

}  // TEST_SUITE

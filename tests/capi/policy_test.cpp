// Queue order seen from outside: FIFO by arrival; FAIR_SHARE by priority,
// then by the least slot-time per weight between tenants.
#include "capi_fixture.hpp"

using namespace capi_test;

namespace {

struct OrderLog {
  std::mutex m;
  std::vector<std::string> order;
  void add(const std::string &id) {
    std::lock_guard lk(m);
    order.push_back(id);
  }
  std::size_t index(const std::string &id) {
    std::lock_guard lk(m);
    for (std::size_t i = 0; i < order.size(); ++i)
      if (order[i] == id) return i;
    return SIZE_MAX;
  }
};

}  // namespace

TEST_CASE("a FIFO lane ignores priority and runs jobs in arrival order") {
  lane_options_t o = LANE_OPTIONS_INIT;
  o.policy = LANE_POLICY_FIFO;
  LaneFixture fx("fifo-order", o);
  OrderLog log;
  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("hold", g));
  REQUIRE(fx.rec.wait_started("hold"));
  const std::pair<const char *, int> jobs[] = {{"low", 0}, {"high", 9}, {"mid", 5}};
  for (auto [id, prio] : jobs) {
    std::string s = id;
    Probe &p = fx.probe(s, [&log, s](lane_ctx_t *) {
      log.add(s);
      return 0;
    });
    lane_job_t j = fx.job_for(p);
    j.priority = prio;
    lane_ticket_t t = LANE_TICKET_INIT;
    REQUIRE(lane_submit(fx.lane, &j, &t) == LANE_OK);
  }
  g.open();
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  std::lock_guard lk(log.m);
  CHECK(log.order == std::vector<std::string>{"low", "high", "mid"});
}

TEST_CASE("a FAIR_SHARE lane runs higher priority first and alternates tenants by service received") {
  FakeClock clock;
  lane_options_t o = LANE_OPTIONS_INIT;
  o.policy = LANE_POLICY_FAIR_SHARE;
  o.preemption_off = 1;
  o.clock = fake_clock_fn;
  o.clock_ud = &clock;
  LaneFixture fx("fair-order", o);
  OrderLog log;
  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("hold", g));
  REQUIRE(fx.rec.wait_started("hold"));

  auto submit = [&](const char *id, const char *tenant, std::int32_t prio) {
    std::string s = id;
    Probe &p = fx.probe(s, [&log, &clock, s](lane_ctx_t *) {
      log.add(s);
      clock.advance(kSec);  // every job uses one second of slot time
      return 0;
    });
    lane_job_t j = fx.job_for(p);
    j.tenant = tenant;
    j.priority = prio;
    lane_ticket_t t = LANE_TICKET_INIT;
    REQUIRE(lane_submit(fx.lane, &j, &t) == LANE_OK);
    return t;
  };
  submit("a1", "alice", 0);
  submit("a2", "alice", 0);
  submit("a3", "alice", 0);
  submit("b1", "bob", 0);
  lane_ticket_t tu = submit("urgent", "carol", 7);
  CHECK(tu.position == 1);
  g.open();
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  CHECK(log.index("urgent") == 0);
  CHECK(log.index("b1") < log.index("a2"));
  CHECK(log.index("a1") < log.index("a2"));
  CHECK(log.index("a2") < log.index("a3"));
}

TEST_CASE("with aging a long-waiting low-priority job overtakes a newer higher-priority one") {
  FakeClock clock;
  lane_options_t o = LANE_OPTIONS_INIT;
  o.policy = LANE_POLICY_FAIR_SHARE;
  o.preemption_off = 1;
  o.aging_ns = kSec;  // +1 priority per second queued
  o.clock = fake_clock_fn;
  o.clock_ud = &clock;
  LaneFixture fx("aging", o);
  OrderLog log;
  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("hold", g));
  REQUIRE(fx.rec.wait_started("hold"));
  auto submit = [&](const char *id, std::int32_t prio) {
    std::string s = id;
    Probe &p = fx.probe(s, [&log, s](lane_ctx_t *) {
      log.add(s);
      return 0;
    });
    lane_job_t j = fx.job_for(p);
    j.priority = prio;
    j.tenant = "same";
    REQUIRE(lane_submit(fx.lane, &j, nullptr) == LANE_OK);
  };
  submit("old-low", 0);
  clock.advance(10 * kSec);  // old-low has aged to priority 10
  submit("new-high", 3);
  g.open();
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  CHECK(log.index("old-low") < log.index("new-high"));
}

TEST_CASE("a tenant with weight 3 gets about three slots for every one of a weight-1 tenant") {
  FakeClock clock;
  lane_options_t o = LANE_OPTIONS_INIT;
  o.policy = LANE_POLICY_FAIR_SHARE;
  o.preemption_off = 1;
  o.clock = fake_clock_fn;
  o.clock_ud = &clock;
  LaneFixture fx("weights", o);
  REQUIRE(lane_set_tenant_weight(fx.lane, "heavy", 3) == LANE_OK);
  OrderLog log;
  Gate &g = fx.gate();
  fx.submit_ok(fx.blocker("hold", g));
  REQUIRE(fx.rec.wait_started("hold"));
  for (int i = 0; i < 6; ++i) {
    for (const char *tenant : {"heavy", "light"}) {
      std::string s = std::string(tenant) + std::to_string(i);
      Probe &p = fx.probe(s, [&log, &clock, s](lane_ctx_t *) {
        log.add(s);
        clock.advance(kSec);
        return 0;
      });
      lane_job_t j = fx.job_for(p);
      j.tenant = tenant;
      REQUIRE(lane_submit(fx.lane, &j, nullptr) == LANE_OK);
    }
  }
  g.open();
  REQUIRE(lane_wait_idle(fx.lane, 10 * kSec) == LANE_OK);
  std::lock_guard lk(log.m);
  REQUIRE(log.order.size() == 12);
  int heavy_first8 = 0;
  for (std::size_t i = 0; i < 8; ++i) heavy_first8 += log.order[i].rfind("heavy", 0) == 0 ? 1 : 0;
  CHECK(heavy_first8 == 6);  // 3:1 -> all six heavy jobs within the first eight
}

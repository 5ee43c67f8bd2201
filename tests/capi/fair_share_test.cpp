// FAIR_SHARE end to end through lane.h: alice submits twelve jobs to a lane of
// three slots, then bob and carol three each. The jobs are host-run (granted
// through a port, finished by the test) on an injected clock that the test
// moves, so every job lasts exactly 30 ms of lane time however loaded the
// machine is, and the start order is the scheduler's alone.
#include <algorithm>
#include <map>

#include "capi_fixture.hpp"

using namespace capi_test;

namespace {

struct Running {
  std::int64_t ends_at;
  std::size_t index;  // submission order breaks ties between equal ends
  std::uint64_t token;
};

}  // namespace

TEST_CASE("3 slots: bob and carol arriving behind alice's twelve start among the first nine") {
  FakeClock clock;
  lane_options_t o = LANE_OPTIONS_INIT;
  o.max_concurrent = 3;
  o.policy = LANE_POLICY_FAIR_SHARE;
  o.clock = fake_clock_fn;
  o.clock_ud = &clock;
  LaneFixture fx("fair-newcomers", o);
  PortFixture port;

  std::vector<std::string> ids;
  std::vector<std::string> tenants;
  for (int i = 0; i < 12; ++i) ids.push_back("a" + std::to_string(i)), tenants.push_back("alice");
  for (int i = 0; i < 3; ++i) ids.push_back("b" + std::to_string(i)), tenants.push_back("bob");
  for (int i = 0; i < 3; ++i) ids.push_back("c" + std::to_string(i)), tenants.push_back("carol");

  std::map<std::uint64_t, std::size_t> index_of;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    lane_job_t j = host_job(ids[i].c_str(), port.port);
    j.tenant = tenants[i].c_str();
    lane_ticket_t t = LANE_TICKET_INIT;
    REQUIRE_MESSAGE(lane_submit(fx.lane, &j, &t) == LANE_OK, lane_last_error());
    index_of[t.job_token] = i;
    fx.host_tokens.push_back(t.job_token);
  }

  std::string order;
  std::vector<Running> running;
  std::size_t seen = 0;
  // Takes the GRANTs that have arrived: each started job runs 30 ms from now.
  auto take_grants = [&](std::size_t want) {
    REQUIRE(port.poll_until([&] {
      std::size_t g = 0;
      for (const Ev &e : port.events) g += e.kind == LANE_EVENT_GRANT ? 1 : 0;
      return g >= want;
    }));
    for (; seen < port.events.size(); ++seen) {
      const Ev &e = port.events[seen];
      if (e.kind != LANE_EVENT_GRANT) continue;
      const std::size_t i = index_of.at(e.token);
      order += ids[i][0];
      running.push_back({clock.now.load() + 30 * kMs, i, e.token});
    }
  };
  take_grants(3);
  for (std::size_t finished = 0; finished < ids.size(); ++finished) {
    auto first = std::min_element(running.begin(), running.end(), [](const Running &a, const Running &b) {
      return a.ends_at != b.ends_at ? a.ends_at < b.ends_at : a.index < b.index;
    });
    REQUIRE(first != running.end());
    const Running r = *first;
    running.erase(first);
    clock.now = std::max(clock.now.load(), r.ends_at);
    REQUIRE(lane_job_finish(fx.lane, r.token, 0) == LANE_OK);
    take_grants(std::min(ids.size(), finished + 4));
  }
  CHECK(order == "aaabcbcbcaaaaaaaaa");
  // Every job got exactly one DONE.
  REQUIRE(port.poll_until([&] {
    std::size_t d = 0;
    for (const Ev &e : port.events) d += e.kind == LANE_EVENT_DONE ? 1 : 0;
    return d == ids.size();
  }));
  for (const auto &[token, i] : index_of) CHECK(port.count(LANE_EVENT_DONE, token) == 1);
  fx.host_tokens.clear();
}

TEST_CASE("lane_create refuses a negative fair_half_life_ns with a message") {
  lane_options_t o = LANE_OPTIONS_INIT;
  o.policy = LANE_POLICY_FAIR_SHARE;
  o.fair_half_life_ns = -1;
  lane_t *lane = nullptr;
  CHECK(lane_create("bad-half-life", &o, &lane) == LANE_ERR_INVALID);
  CHECK(lane == nullptr);
  CHECK(std::string(lane_last_error()).find("fair_half_life_ns") != std::string::npos);
  o.fair_half_life_ns = 60 * kSec;
  REQUIRE(lane_create("half-life", &o, &lane) == LANE_OK);
  lane_destroy(lane);
}

TEST_CASE("a FAIR_SHARE lane with a 1 ms half-life on the real clock runs its jobs") {
  lane_options_t o = LANE_OPTIONS_INIT;
  o.policy = LANE_POLICY_FAIR_SHARE;
  o.fair_half_life_ns = kMs;
  LaneFixture fx("half-life-real", o);
  for (int i = 0; i < 20; ++i) {
    Probe &p = fx.probe("h" + std::to_string(i));
    lane_job_t j = fx.job_for(p);
    j.tenant = i % 2 ? "alice" : "bob";
    REQUIRE(lane_submit(fx.lane, &j, nullptr) == LANE_OK);
  }
  REQUIRE(fx.rec.wait_outcomes(20));
  for (int i = 0; i < 20; ++i) CHECK(fx.rec.outcome("h" + std::to_string(i)).status == LANE_OK);
}

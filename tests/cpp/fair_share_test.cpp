// FAIR_SHARE through the C++ wrapper: the 3-slot newcomers scenario with
// host-run jobs on an injected clock, so each job lasts exactly 30 ms of lane
// time and the start order is the scheduler's alone, whatever the load.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "lane/lane.hpp"

using namespace std::chrono_literals;

namespace {

std::atomic<std::int64_t> g_now{1'000'000'000};

}  // namespace

TEST_CASE("3 slots through lane::Lane: bob and carol start before alice's fourth round") {
  auto lane = lane::Lane::create("cpp-fair", {.max_concurrent = 3,
                                              .policy = LANE_POLICY_FAIR_SHARE,
                                              .clock = [] { return lane::TimePoint(lane::Nanos(g_now.load())); },
                                              .fair_half_life = 0ns});
  REQUIRE(lane.has_value());
  auto port = lane::Port::create();
  REQUIRE(port.has_value());

  std::vector<std::string> ids, tenants;
  for (int i = 0; i < 12; ++i) ids.push_back("a" + std::to_string(i)), tenants.push_back("alice");
  for (int i = 0; i < 3; ++i) ids.push_back("b" + std::to_string(i)), tenants.push_back("bob");
  for (int i = 0; i < 3; ++i) ids.push_back("c" + std::to_string(i)), tenants.push_back("carol");
  std::map<std::uint64_t, std::size_t> index_of;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto t = lane->submit_host({.id = ids[i], .tenant = tenants[i], .port = &*port});
    REQUIRE(t.has_value());
    index_of[t->job_token] = i;
  }

  struct Running {
    std::int64_t ends_at;
    std::size_t index;
    std::uint64_t token;
  };
  std::vector<Running> running;
  std::string order;
  std::size_t grants = 0, dones = 0;
  auto drain = [&](std::size_t want_grants) {
    for (int tries = 0; tries < 500 && grants < want_grants; ++tries) {
      auto evs = port->poll(16, 20ms);
      REQUIRE(evs.has_value());
      for (const lane::Event &e : *evs) {
        if (e.kind == LANE_EVENT_DONE) ++dones;
        if (e.kind != LANE_EVENT_GRANT) continue;
        ++grants;
        const std::size_t i = index_of.at(e.job_token);
        order += ids[i][0];
        running.push_back({g_now.load() + 30'000'000, i, e.job_token});
      }
    }
    REQUIRE(grants >= want_grants);
  };
  drain(3);
  for (std::size_t finished = 0; finished < ids.size(); ++finished) {
    auto first = std::min_element(running.begin(), running.end(), [](const Running &a, const Running &b) {
      return a.ends_at != b.ends_at ? a.ends_at < b.ends_at : a.index < b.index;
    });
    REQUIRE(first != running.end());
    const Running r = *first;
    running.erase(first);
    g_now = std::max(g_now.load(), r.ends_at);
    REQUIRE(lane->finish(r.token).has_value());
    drain(std::min(ids.size(), finished + 4));
  }
  CHECK(order == "aaabcbcbcaaaaaaaaa");
  for (int tries = 0; tries < 500 && dones < ids.size(); ++tries) {
    auto evs = port->poll(16, 20ms);
    REQUIRE(evs.has_value());
    for (const lane::Event &e : *evs) dones += e.kind == LANE_EVENT_DONE ? 1 : 0;
  }
  CHECK(dones == ids.size());
}
